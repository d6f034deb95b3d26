//! A MEP vendor serves Mp1 from its own storage: implement the operations you offer (the rest answer 501), mount
//! the router under EdgeGallery's `/mep` prefix, and serve it.
//!
//! ```text
//! cargo run -p mec-examples --example vendor_mep
//! curl -s localhost:8081/mep/mec_service_mgmt/v1/services
//! ```

use mec_core::server::ApiError;
use mec_core::{Clock, SystemClock, TimeStamp};
use mec_mp1::model::{CurrentTime, ServiceInfo, TimeSourceStatus};
use mec_mp1::server::{AppSupport, RequestContext, ServiceFilter, ServiceManagement};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Services by id, with their owning app instance.
type ServiceMap = BTreeMap<String, (String, ServiceInfo)>;

/// The vendor's storage: here a map; in real life a database or a service registry.
#[derive(Default)]
struct Registry {
    services: Mutex<ServiceMap>,
}

impl Registry {
    fn services(&self) -> Result<std::sync::MutexGuard<'_, ServiceMap>, ApiError> {
        self.services
            .lock()
            .map_err(|_| ApiError::internal("service registry lock poisoned"))
    }
}

impl ServiceManagement for Registry {
    async fn list_services(
        &self,
        _: RequestContext,
        filter: ServiceFilter,
    ) -> Result<Vec<ServiceInfo>, ApiError> {
        Ok(self
            .services()?
            .values()
            .map(|(_, s)| s)
            .filter(|s| filter.matches(s))
            .cloned()
            .collect())
    }

    async fn get_service(&self, _: RequestContext, id: String) -> Result<ServiceInfo, ApiError> {
        self.services()?
            .get(&id)
            .map(|(_, s)| s.clone())
            .ok_or_else(|| ApiError::not_found(format!("service {id} not found")))
    }

    async fn register_service(
        &self,
        _: RequestContext,
        app: String,
        mut s: ServiceInfo,
    ) -> Result<ServiceInfo, ApiError> {
        let mut services = self.services()?;
        let id = format!("{:032x}", services.len() + 1);
        s.ser_instance_id = Some(id.clone());
        services.insert(id, (app, s.clone()));
        Ok(s)
    }

    async fn get_app_service(
        &self,
        _: RequestContext,
        app: String,
        id: String,
    ) -> Result<ServiceInfo, ApiError> {
        self.services()?
            .get(&id)
            .filter(|(owner, _)| *owner == app)
            .map(|(_, s)| s.clone())
            .ok_or_else(|| ApiError::not_found(format!("service {id} not found")))
    }

    async fn deregister_service(
        &self,
        _: RequestContext,
        app: String,
        id: String,
    ) -> Result<(), ApiError> {
        let mut services = self.services()?;
        match services.get(&id) {
            Some((owner, _)) if *owner == app => {
                services.remove(&id);
                Ok(())
            }
            _ => Err(ApiError::not_found(format!("service {id} not found"))),
        }
    }
}

impl AppSupport for Registry {
    async fn current_time(&self, _: RequestContext) -> Result<CurrentTime, ApiError> {
        let t = TimeStamp::from(SystemClock.now());
        Ok(CurrentTime::new(
            t.seconds,
            t.nano_seconds,
            TimeSourceStatus::Nontraceable,
        ))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = axum::Router::new().nest("/mep", mec_mp1::server::router(Registry::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
    println!(
        "vendor MEP serving Mp1 at http://{}/mep (Ctrl-C to stop)",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
