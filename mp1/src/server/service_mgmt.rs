//! The service management API (`mec_service_mgmt/v1`): the trait a vendor implements and its routes.

use super::context::RequestContext;
use super::{Created, check_id, check_if_match, not_implemented, tagged};
use crate::model::ServiceFilter;
use crate::model::{
    LinkType, SerAvailabilityNotificationSubscription, ServiceInfo, ServiceLinks,
    ServiceLivenessInfo, ServiceLivenessUpdate, ServiceSelfLink, ServiceView, TransportInfo,
    Validate,
};
use axum::Router;
use axum::extract::{FromRef, RawQuery, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mec_core::server::{ApiError, Json, Path, RawBody, parse_json};
use std::future::Future;
use std::sync::Arc;

/// The service management API of ETSI GS MEC 011 (clause 8.2), as a vendor implements it.
///
/// Every method has a default body that answers 501 Not Implemented, so an implementation overrides only what it
/// offers. The router validates path ids and bodies before calling a method, fills in `_links`, `Location` and
/// `ETag`, and checks `If-Match`; methods return plain values or an [`ApiError`].
///
/// ```
/// use mec_mp1::model::{ServiceInfo, TransportInfo};
/// use mec_mp1::server::{RequestContext, ServiceFilter, ServiceManagement};
/// use mec_core::server::ApiError;
/// use std::sync::Mutex;
///
/// #[derive(Default)]
/// struct MyMep { services: Mutex<Vec<ServiceInfo>> }
///
/// impl ServiceManagement for MyMep {
///     async fn list_services(&self, _: RequestContext, filter: ServiceFilter) -> Result<Vec<ServiceInfo>, ApiError> {
///         let services = self.services.lock().map_err(|_| ApiError::internal("lock poisoned"))?;
///         Ok(services.iter().filter(|s| filter.matches(s)).cloned().collect())
///     }
/// }
///
/// let app: axum::Router = mec_mp1::server::service_management_router(MyMep::default());
/// ```
pub trait ServiceManagement: Send + Sync + 'static {
    /// Whether the implementation checks `If-Match` itself (from [`RequestContext::if_match`], with
    /// [`check_if_match`](super::check_if_match) on [`service_representation`] of what it read), atomically with
    /// its write. Otherwise the router reads the resource and checks before calling the update, which leaves a
    /// window in which two updates with the same ETag can both succeed.
    const CHECKS_IF_MATCH: bool = false;

    /// `GET /services`: the services the caller may discover, filtered.
    fn list_services(
        &self,
        ctx: RequestContext,
        filter: ServiceFilter,
    ) -> impl Future<Output = Result<Vec<ServiceInfo>, ApiError>> + Send {
        let _ = (ctx, filter);
        not_implemented("GET /services")
    }

    /// `GET /services/{serviceId}`: one service.
    fn get_service(
        &self,
        ctx: RequestContext,
        service_id: String,
    ) -> impl Future<Output = Result<ServiceInfo, ApiError>> + Send {
        let _ = (ctx, service_id);
        not_implemented("GET /services/{serviceId}")
    }

    /// `GET /applications/{appInstanceId}/services`: the services an app instance registered, filtered.
    fn list_app_services(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        filter: ServiceFilter,
    ) -> impl Future<Output = Result<Vec<ServiceInfo>, ApiError>> + Send {
        let _ = (ctx, app_instance_id, filter);
        not_implemented("GET /applications/{appInstanceId}/services")
    }

    /// What `GET /services` (`owner` `None`) and `GET /applications/{owner}/services` answer, as the router
    /// writes it. The default calls [`list_services`](Self::list_services) or
    /// [`list_app_services`](Self::list_app_services); an implementation that holds its services behind `Arc`s
    /// returns them here without copying them (the router only borrows them to write the answer).
    fn discover_services(
        &self,
        ctx: RequestContext,
        owner: Option<String>,
        filter: ServiceFilter,
    ) -> impl Future<Output = Result<Vec<Arc<ServiceInfo>>, ApiError>> + Send {
        async move {
            let services = match owner {
                None => self.list_services(ctx, filter).await?,
                Some(app) => self.list_app_services(ctx, app, filter).await?,
            };
            Ok(services.into_iter().map(Arc::new).collect())
        }
    }

    /// `POST /applications/{appInstanceId}/services`: registers a service. Return it with its `serInstanceId`
    /// assigned; the router answers 201 with its `Location`.
    fn register_service(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        service: ServiceInfo,
    ) -> impl Future<Output = Result<ServiceInfo, ApiError>> + Send {
        let _ = (ctx, app_instance_id, service);
        not_implemented("POST /applications/{appInstanceId}/services")
    }

    /// `GET /applications/{appInstanceId}/services/{serviceId}`.
    fn get_app_service(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        service_id: String,
    ) -> impl Future<Output = Result<ServiceInfo, ApiError>> + Send {
        let _ = (ctx, app_instance_id, service_id);
        not_implemented("GET /applications/{appInstanceId}/services/{serviceId}")
    }

    /// `PUT /applications/{appInstanceId}/services/{serviceId}`: replaces a service's information.
    fn update_service(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        service_id: String,
        service: ServiceInfo,
    ) -> impl Future<Output = Result<ServiceInfo, ApiError>> + Send {
        let _ = (ctx, app_instance_id, service_id, service);
        not_implemented("PUT /applications/{appInstanceId}/services/{serviceId}")
    }

    /// `DELETE /applications/{appInstanceId}/services/{serviceId}`: deregisters a service.
    fn deregister_service(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        service_id: String,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (ctx, app_instance_id, service_id);
        not_implemented("DELETE /applications/{appInstanceId}/services/{serviceId}")
    }

    /// `GET .../services/{serviceId}/liveness`: the service's liveness (MEC 011 2.2.1+).
    fn get_liveness(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        service_id: String,
    ) -> impl Future<Output = Result<ServiceLivenessInfo, ApiError>> + Send {
        let _ = (ctx, app_instance_id, service_id);
        not_implemented("GET .../services/{serviceId}/liveness")
    }

    /// `PATCH` (ETSI) or `PUT` (EdgeGallery) `.../services/{serviceId}/liveness`: a heartbeat. Return the new
    /// liveness to answer 200 with it, or `None` to answer 204.
    fn update_liveness(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        service_id: String,
        update: ServiceLivenessUpdate,
    ) -> impl Future<Output = Result<Option<ServiceLivenessInfo>, ApiError>> + Send {
        let _ = (ctx, app_instance_id, service_id, update);
        not_implemented("PATCH .../services/{serviceId}/liveness")
    }

    /// `GET /transports`: the transports the platform offers.
    fn list_transports(
        &self,
        ctx: RequestContext,
    ) -> impl Future<Output = Result<Vec<TransportInfo>, ApiError>> + Send {
        let _ = ctx;
        not_implemented("GET /transports")
    }

    /// `GET /applications/{appInstanceId}/subscriptions`: the ids of the app's availability subscriptions.
    fn list_availability_subscriptions(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send {
        let _ = (ctx, app_instance_id);
        not_implemented("GET /applications/{appInstanceId}/subscriptions")
    }

    /// `POST /applications/{appInstanceId}/subscriptions`: stores a subscription and returns its new id; the
    /// router answers 201 with the subscription, its `_links.self` and `Location`.
    fn create_availability_subscription(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        subscription: SerAvailabilityNotificationSubscription,
    ) -> impl Future<Output = Result<String, ApiError>> + Send {
        let _ = (ctx, app_instance_id, subscription);
        not_implemented("POST /applications/{appInstanceId}/subscriptions")
    }

    /// `GET /applications/{appInstanceId}/subscriptions/{subscriptionId}`.
    fn get_availability_subscription(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        subscription_id: String,
    ) -> impl Future<Output = Result<SerAvailabilityNotificationSubscription, ApiError>> + Send
    {
        let _ = (ctx, app_instance_id, subscription_id);
        not_implemented("GET /applications/{appInstanceId}/subscriptions/{subscriptionId}")
    }

    /// `DELETE /applications/{appInstanceId}/subscriptions/{subscriptionId}`.
    fn delete_availability_subscription(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        subscription_id: String,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (ctx, app_instance_id, subscription_id);
        not_implemented("DELETE /applications/{appInstanceId}/subscriptions/{subscriptionId}")
    }
}

use crate::paths::SERVICE_MGMT as ROOT;

/// The routes of the service management API over a state `T` from which the implementation can be had, for
/// merging into a vendor's own stateful router.
pub fn service_management_routes<S, T>() -> Router<T>
where
    S: ServiceManagement,
    Arc<S>: FromRef<T>,
    T: Clone + Send + Sync + 'static,
{
    let router = Router::new()
        .route(&format!("{ROOT}/services"), get(list_services::<S>))
        .route(
            &format!("{ROOT}/services/{{service_id}}"),
            get(get_service::<S>),
        )
        .route(&format!("{ROOT}/transports"), get(list_transports::<S>))
        .route(
            &format!("{ROOT}/applications/{{app}}/services"),
            get(list_app_services::<S>).post(register_service::<S>),
        )
        .route(
            &format!("{ROOT}/applications/{{app}}/services/{{service_id}}"),
            get(get_app_service::<S>)
                .put(update_service::<S>)
                .delete(deregister_service::<S>),
        )
        .route(
            &format!("{ROOT}/applications/{{app}}/services/{{service_id}}/liveness"),
            get(get_liveness::<S>)
                .patch(update_liveness::<S>)
                .put(update_liveness::<S>),
        );
    super::subscriptions::routes::<S, T, SerAvailabilityNotificationSubscription>(router, ROOT)
}

/// A service as the router serves it to `ctx`'s caller: with its links filled in (`_links.self`,
/// `_links.liveness`, and EdgeGallery's `_links.self.liveness` under `/mep`) where the implementation left them
/// out. Its [`etag_of`](super::etag_of) is the service's `ETag`.
pub fn service_representation(ctx: &RequestContext, app: &str, mut s: ServiceInfo) -> ServiceInfo {
    if let Some(links) = links_of(ctx, app, &s) {
        s.links = Some(links);
    }
    s
}

/// The links `s`, registered by `app`, carries in answers to `ctx`'s caller, when the router fills some in.
fn links_of(ctx: &RequestContext, app: &str, s: &ServiceInfo) -> Option<ServiceLinks> {
    let id = s.ser_instance_id.as_deref()?;
    let mut links = s.links.clone().unwrap_or_default();
    if s.liveness_interval.is_some_and(|i| i > 0) {
        let liveness = crate::paths::raw::liveness(app, id);
        // EdgeGallery's mep-agent reads only `_links.self.liveness`, a path it appends to the MEP's address
        // (mep-agent `src/service/heart.go`); it is written next to ETSI's link under EdgeGallery's `/mep` layout.
        if ctx.base_path == EDGEGALLERY_PREFIX {
            let self_link = links.self_.get_or_insert_with(ServiceSelfLink::default);
            if self_link.liveness.is_none() {
                self_link.liveness = Some(ctx.path(&liveness));
            }
        }
        if links.liveness.is_none() {
            links.liveness = Some(LinkType {
                href: ctx.href(&liveness),
            });
        }
    }
    let self_link = links.self_.get_or_insert_with(ServiceSelfLink::default);
    if self_link.href.is_none() {
        self_link.href = Some(ctx.href(&crate::paths::raw::app_service(app, id)));
    }
    Some(links)
}

/// Services as the router writes them to `ctx`'s caller: borrowed, with their links (see
/// [`service_representation`]); `owner` when the path names it, else each service's `_links.appInstanceId`.
fn discovered(
    ctx: &RequestContext,
    owner: Option<&str>,
    services: &[Arc<ServiceInfo>],
) -> Response {
    let links: Vec<Option<ServiceLinks>> = services
        .iter()
        .map(|svc| links_of(ctx, owner.or_else(|| owner_of(svc))?, svc))
        .collect();
    let views: Vec<ServiceView<'_>> = services
        .iter()
        .zip(&links)
        .map(|(svc, links)| match links {
            Some(links) => ServiceView::new(svc).links(Some(links)),
            None => ServiceView::new(svc),
        })
        .collect();
    Json(views).into_response()
}

use crate::paths::EDGEGALLERY_PREFIX;

fn owner_of(s: &ServiceInfo) -> Option<&str> {
    s.links.as_ref()?.app_instance_id.as_deref()
}

async fn list_services<S: ServiceManagement>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let filter = ServiceFilter::parse(q.as_deref())?;
    let services = s.discover_services(ctx.clone(), None, filter).await?;
    Ok(discovered(&ctx, None, &services))
}

async fn get_service<S: ServiceManagement>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path(service_id): Path<String>,
) -> Result<Response, ApiError> {
    check_id("serviceId", &service_id)?;
    let svc = s.get_service(ctx.clone(), service_id).await?;
    let svc = match owner_of(&svc).map(str::to_owned) {
        Some(app) => service_representation(&ctx, &app, svc),
        None => svc,
    };
    tagged(StatusCode::OK, &svc)
}

async fn list_transports<S: ServiceManagement>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
) -> Result<Json<Vec<TransportInfo>>, ApiError> {
    Ok(Json(s.list_transports(ctx).await?))
}

async fn list_app_services<S: ServiceManagement>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path(app): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    check_id("appInstanceId", &app)?;
    ctx.check_owner(&app)?;
    let filter = ServiceFilter::parse(q.as_deref())?;
    let services = s
        .discover_services(ctx.clone(), Some(app.clone()), filter)
        .await?;
    Ok(discovered(&ctx, Some(&app), &services))
}

async fn register_service<S: ServiceManagement>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path(app): Path<String>,
    Json(service): Json<ServiceInfo>,
) -> Result<Response, ApiError> {
    check_id("appInstanceId", &app)?;
    ctx.check_owner(&app)?;
    service
        .validate_for_create()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let created = s
        .register_service(ctx.clone(), app.clone(), service)
        .await?;
    let Some(id) = created.ser_instance_id.clone() else {
        return Err(ApiError::internal(
            "the implementation returned a service without serInstanceId",
        ));
    };
    let location = ctx.href(&crate::paths::raw::app_service(&app, &id));
    Ok(Created::new(location, service_representation(&ctx, &app, created)).into_response())
}

async fn get_app_service<S: ServiceManagement>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path((app, service_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    check_id("appInstanceId", &app)?;
    check_id("serviceId", &service_id)?;
    ctx.check_owner(&app)?;
    let svc = s
        .get_app_service(ctx.clone(), app.clone(), service_id)
        .await?;
    tagged(StatusCode::OK, &service_representation(&ctx, &app, svc))
}

/// `PUT .../services/{serviceId}`. Existence comes before the body: a service that does not exist is 404 whatever
/// the body says (then the body: 400 when invalid or naming another service).
async fn update_service<S: ServiceManagement>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path((app, service_id)): Path<(String, String)>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    check_id("appInstanceId", &app)?;
    check_id("serviceId", &service_id)?;
    ctx.check_owner(&app)?;
    let current = s
        .get_app_service(ctx.clone(), app.clone(), service_id.clone())
        .await?;
    let service: ServiceInfo = parse_json(&headers, &body)?;
    service
        .validate()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if let Some(id) = &service.ser_instance_id
        && id != &service_id
    {
        return Err(ApiError::bad_request(format!(
            "serInstanceId: {id:?} differs from the serviceId in the path"
        )));
    }
    if !S::CHECKS_IF_MATCH
        && let Some(if_match) = &ctx.if_match
    {
        check_if_match(if_match, &service_representation(&ctx, &app, current))?;
    }
    let updated = s
        .update_service(ctx.clone(), app.clone(), service_id, service)
        .await?;
    tagged(StatusCode::OK, &service_representation(&ctx, &app, updated))
}

async fn deregister_service<S: ServiceManagement>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path((app, service_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    check_id("appInstanceId", &app)?;
    check_id("serviceId", &service_id)?;
    ctx.check_owner(&app)?;
    s.deregister_service(ctx, app, service_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_liveness<S: ServiceManagement>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path((app, service_id)): Path<(String, String)>,
) -> Result<Json<ServiceLivenessInfo>, ApiError> {
    check_id("appInstanceId", &app)?;
    check_id("serviceId", &service_id)?;
    ctx.check_owner(&app)?;
    Ok(Json(s.get_liveness(ctx, app, service_id).await?))
}

async fn update_liveness<S: ServiceManagement>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path((app, service_id)): Path<(String, String)>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    check_id("appInstanceId", &app)?;
    check_id("serviceId", &service_id)?;
    ctx.check_owner(&app)?;
    // A liveness resource that does not exist is 404 whatever the body says.
    super::exists(
        s.get_liveness(ctx.clone(), app.clone(), service_id.clone())
            .await,
    )?;
    let update: ServiceLivenessUpdate = parse_json(&headers, &body)?;
    update
        .validate()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(
        match s.update_liveness(ctx, app, service_id, update).await? {
            Some(info) => Json(info).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    )
}
