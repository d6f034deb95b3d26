//! The Mm5 server side: the trait a MEP implements and the router that serves it, with EdgeGallery's paths and
//! status codes (mepserver `mm5/controller.go`; shared/reference/edgegallery-mep.md §2).

use crate::model::{
    AppDConfig, CallStatistics, GovernResponse, PlatformCapability, SubscribeStatistic,
    TaskProgress,
};
use crate::paths;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mec_core::server::{ApiError, Json, Path, RawBody};
use mec_mp1::model::{ServiceInfo, Validate};
use mec_mp1::server::ServiceFilter;
use std::future::Future;
use std::sync::Arc;

/// The largest app-descriptor configuration body accepted (EdgeGallery: 32768 bytes).
pub const MAX_CONFIG_BODY: usize = 32 * 1024;

fn not_implemented<T>(operation: &str) -> std::future::Ready<Result<T, ApiError>> {
    std::future::ready(Err(ApiError::not_implemented(format!(
        "{operation} is not offered by this MEP"
    ))))
}

/// The Mm5 interface a MEP offers its manager. Every method defaults to 501; the router validates ids and bodies
/// before calling (4xx problem+json naming the member at fault).
pub trait Mm5: Send + Sync + 'static {
    /// Checks a configuration body before [`create_app_config`](Self::create_app_config) or
    /// [`update_app_config`](Self::update_app_config) is called (default [`check_app_config`]); override to
    /// check differently (a 4xx problem refuses the request).
    fn check_config(&self, config: &AppDConfig) -> Result<(), ApiError> {
        check_app_config(config)
    }

    /// `POST /mepcfg/app_lcm/v1/applications/{appInstanceId}/appd_configuration`: configures a new app instance;
    /// answers the task that applies it.
    fn create_app_config(
        &self,
        app_instance_id: String,
        config: AppDConfig,
    ) -> impl Future<Output = Result<TaskProgress, ApiError>> + Send {
        let _ = (app_instance_id, config);
        not_implemented("POST .../appd_configuration")
    }

    /// `PUT .../appd_configuration`: replaces the configuration (the full desired set of rules).
    fn update_app_config(
        &self,
        app_instance_id: String,
        config: AppDConfig,
    ) -> impl Future<Output = Result<TaskProgress, ApiError>> + Send {
        let _ = (app_instance_id, config);
        not_implemented("PUT .../appd_configuration")
    }

    /// `GET .../appd_configuration`.
    fn get_app_config(
        &self,
        app_instance_id: String,
    ) -> impl Future<Output = Result<AppDConfig, ApiError>> + Send {
        let _ = app_instance_id;
        not_implemented("GET .../appd_configuration")
    }

    /// `DELETE .../appd_configuration`: removes the configuration and its rules.
    fn delete_app_config(
        &self,
        app_instance_id: String,
    ) -> impl Future<Output = Result<TaskProgress, ApiError>> + Send {
        let _ = app_instance_id;
        not_implemented("DELETE .../appd_configuration")
    }

    /// `GET /mepcfg/app_lcm/v1/tasks/{taskId}/appd_configuration`: a task's progress.
    fn get_task(
        &self,
        task_id: String,
    ) -> impl Future<Output = Result<TaskProgress, ApiError>> + Send {
        let _ = task_id;
        not_implemented("GET /mepcfg/app_lcm/v1/tasks/{taskId}/appd_configuration")
    }

    /// `GET /mepcfg/mec_platform_config/v1/capabilities`: the services the platform offers, filtered as Mp1
    /// discovery is.
    fn list_capabilities(
        &self,
        filter: ServiceFilter,
    ) -> impl Future<Output = Result<Vec<PlatformCapability>, ApiError>> + Send {
        let _ = filter;
        not_implemented("GET /mepcfg/mec_platform_config/v1/capabilities")
    }

    /// `GET /mepcfg/mec_platform_config/v1/capabilities/{capabilityId}`.
    fn get_capability(
        &self,
        capability_id: String,
    ) -> impl Future<Output = Result<PlatformCapability, ApiError>> + Send {
        let _ = capability_id;
        not_implemented("GET /mepcfg/mec_platform_config/v1/capabilities/{capabilityId}")
    }

    /// `DELETE /mep/mec_app_support/v1/applications/{appInstanceId}/AppInstanceTermination`: terminates an app
    /// instance (its subscribers are notified; the MEP waits for the app's confirmation).
    fn terminate_app_instance(
        &self,
        app_instance_id: String,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = app_instance_id;
        not_implemented("DELETE .../AppInstanceTermination")
    }

    /// `POST /mep/service_govern/v1/kong_log`: a record of the API gateway's http-log plugin.
    fn record_api_call(
        &self,
        record: serde_json::Value,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = record;
        not_implemented("POST /mep/service_govern/v1/kong_log")
    }

    /// `GET /mep/service_govern/v1/kong_log`: API call statistics.
    fn call_statistics(&self) -> impl Future<Output = Result<CallStatistics, ApiError>> + Send {
        not_implemented("GET /mep/service_govern/v1/kong_log")
    }

    /// `GET /mep/service_govern/v1/subscribe_statistic`.
    fn subscribe_statistic(
        &self,
    ) -> impl Future<Output = Result<SubscribeStatistic, ApiError>> + Send {
        not_implemented("GET /mep/service_govern/v1/subscribe_statistic")
    }

    /// `GET /mep/service_govern/v1/services`: every registered service.
    fn governed_services(&self) -> impl Future<Output = Result<Vec<ServiceInfo>, ApiError>> + Send {
        not_implemented("GET /mep/service_govern/v1/services")
    }
}

/// The Mm5 routes over an implementation, with fallbacks and the body limit. Mount at the root: the paths carry
/// their own prefixes (`/mepcfg/...`, `/mep/...`).
pub fn router<S: Mm5>(implementation: S) -> Router {
    routes::<S, Arc<S>>()
        .with_state(Arc::new(implementation))
        .method_not_allowed_fallback(mec_core::server::method_not_allowed_fallback)
        .fallback(mec_core::server::not_found_fallback)
        .layer(DefaultBodyLimit::max(MAX_CONFIG_BODY))
}

/// The Mm5 routes over a state `T` from which the implementation can be had, for merging into a larger router.
pub fn routes<S, T>() -> Router<T>
where
    S: Mm5,
    Arc<S>: FromRef<T>,
    T: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(
            &paths::app_config("{app}"),
            get(get_config::<S>)
                .post(create_config::<S>)
                .put(update_config::<S>)
                .delete(delete_config::<S>),
        )
        .route(&paths::task("{task}"), get(get_task::<S>))
        .route(&paths::capabilities(), get(list_capabilities::<S>))
        .route(&paths::capability("{id}"), get(get_capability::<S>))
        .route(
            &mec_mp1::paths::app_instance_termination(&"{app}".into()),
            axum::routing::delete(terminate::<S>),
        )
        .route(
            &paths::call_records(),
            get(call_statistics::<S>).post(record_api_call::<S>),
        )
        .route(&paths::subscribe_statistic(), get(subscribe_statistic::<S>))
        .route(&paths::governed_services(), get(governed_services::<S>))
}

/// App instance ids: EdgeGallery requires UUIDs here; any 1..64-character id of letters, digits, `-`, `_` or `.`
/// is accepted, so non-EdgeGallery managers work too.
fn check_app_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(ApiError::bad_request(
            "appInstanceId: must be 1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(())
}

/// The default check of a configuration body: [`Validate::validate`], refused with EdgeGallery's 400
/// "Invalid value for input on: ..." naming the member at fault.
pub fn check_app_config(config: &AppDConfig) -> Result<(), ApiError> {
    config.validate().map_err(invalid_config)
}

/// EdgeGallery's 400 answer to a configuration member it refuses.
pub fn invalid_config(e: crate::model::InvalidMember) -> ApiError {
    ApiError::bad_request(format!("Invalid value for input on: {e}"))
}

async fn create_config<S: Mm5>(
    State(s): State<Arc<S>>,
    Path(app): Path<String>,
    Json(config): Json<AppDConfig>,
) -> Result<Json<TaskProgress>, ApiError> {
    check_app_id(&app)?;
    s.check_config(&config)?;
    Ok(Json(s.create_app_config(app, config).await?))
}

async fn update_config<S: Mm5>(
    State(s): State<Arc<S>>,
    Path(app): Path<String>,
    Json(config): Json<AppDConfig>,
) -> Result<Json<TaskProgress>, ApiError> {
    check_app_id(&app)?;
    s.check_config(&config)?;
    Ok(Json(s.update_app_config(app, config).await?))
}

async fn get_config<S: Mm5>(
    State(s): State<Arc<S>>,
    Path(app): Path<String>,
) -> Result<Json<AppDConfig>, ApiError> {
    check_app_id(&app)?;
    Ok(Json(s.get_app_config(app).await?))
}

async fn delete_config<S: Mm5>(
    State(s): State<Arc<S>>,
    Path(app): Path<String>,
) -> Result<Json<TaskProgress>, ApiError> {
    check_app_id(&app)?;
    Ok(Json(s.delete_app_config(app).await?))
}

async fn get_task<S: Mm5>(
    State(s): State<Arc<S>>,
    Path(task): Path<String>,
) -> Result<Json<TaskProgress>, ApiError> {
    check_app_id(&task).map_err(|_| ApiError::bad_request("taskId: must be a UUID"))?;
    Ok(Json(s.get_task(task).await?))
}

async fn list_capabilities<S: Mm5>(
    State(s): State<Arc<S>>,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<PlatformCapability>>, ApiError> {
    let filter = ServiceFilter::parse(q.as_deref())?;
    Ok(Json(s.list_capabilities(filter).await?))
}

async fn get_capability<S: Mm5>(
    State(s): State<Arc<S>>,
    Path(id): Path<String>,
) -> Result<Json<PlatformCapability>, ApiError> {
    // mepserver checks for 32 hexadecimal digits (`capability_one_get.go`).
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request(
            "capabilityId: must be 32 hexadecimal digits",
        ));
    }
    Ok(Json(s.get_capability(id).await?))
}

async fn terminate<S: Mm5>(
    State(s): State<Arc<S>>,
    Path(app): Path<String>,
) -> Result<Response, ApiError> {
    check_app_id(&app)?;
    s.terminate_app_instance(app).await?;
    Ok(StatusCode::OK.into_response())
}

async fn record_api_call<S: Mm5>(
    State(s): State<Arc<S>>,
    RawBody(body): RawBody,
) -> Result<Json<GovernResponse<()>>, ApiError> {
    let record: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid log record: {e}")))?;
    if !record.is_object() {
        return Err(ApiError::bad_request(
            "invalid log record: expected a JSON object",
        ));
    }
    s.record_api_call(record).await?;
    Ok(Json(GovernResponse::ok(())))
}

async fn call_statistics<S: Mm5>(
    State(s): State<Arc<S>>,
) -> Result<Json<GovernResponse<CallStatistics>>, ApiError> {
    Ok(Json(GovernResponse::ok(s.call_statistics().await?)))
}

async fn subscribe_statistic<S: Mm5>(
    State(s): State<Arc<S>>,
) -> Result<Json<GovernResponse<SubscribeStatistic>>, ApiError> {
    Ok(Json(GovernResponse::ok(s.subscribe_statistic().await?)))
}

async fn governed_services<S: Mm5>(
    State(s): State<Arc<S>>,
) -> Result<Json<GovernResponse<Vec<ServiceInfo>>>, ApiError> {
    Ok(Json(GovernResponse::ok(s.governed_services().await?)))
}
