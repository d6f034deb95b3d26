//! The application support API (`mec_app_support/v1`, and `v2` for MEC 011 3.x clients): the trait a vendor
//! implements and its routes.

use super::context::RequestContext;
use super::{Created, check_id, check_if_match, not_implemented, tagged};
use crate::model::{
    AppInfo, AppReadyConfirmation, AppTerminationConfirmation,
    AppTerminationNotificationSubscription, CurrentTime, DnsRule, TimingCaps, TrafficRule,
    Validate,
};
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mec_core::server::{ApiError, Json, Path, RawBody, parse_json};
use std::future::Future;
use std::sync::Arc;

/// The application support API of ETSI GS MEC 011 (clause 7.2), as a vendor implements it.
///
/// As with [`ServiceManagement`](super::ServiceManagement), every method defaults to 501 and the router does the
/// checking, links, `Location`, `ETag` and `If-Match`.
pub trait AppSupport: Send + Sync + 'static {
    /// Whether the implementation checks `If-Match` on rule updates itself, atomically with its write (see
    /// [`ServiceManagement::CHECKS_IF_MATCH`](super::ServiceManagement::CHECKS_IF_MATCH)).
    const CHECKS_IF_MATCH: bool = false;

    /// Whether requests about this app instance can be served at all: called before the body of
    /// `confirm_ready` and `confirm_termination` is read, so an unknown app gets 404 whatever its body (those
    /// operations document no 400). Defaults to accepting every app instance.
    fn check_app_instance(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (ctx, app_instance_id);
        std::future::ready(Ok(()))
    }

    /// `GET /applications/{appInstanceId}/traffic_rules`.
    fn list_traffic_rules(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
    ) -> impl Future<Output = Result<Vec<TrafficRule>, ApiError>> + Send {
        let _ = (ctx, app_instance_id);
        not_implemented("GET /applications/{appInstanceId}/traffic_rules")
    }

    /// `GET /applications/{appInstanceId}/traffic_rules/{trafficRuleId}`.
    fn get_traffic_rule(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        traffic_rule_id: String,
    ) -> impl Future<Output = Result<TrafficRule, ApiError>> + Send {
        let _ = (ctx, app_instance_id, traffic_rule_id);
        not_implemented("GET /applications/{appInstanceId}/traffic_rules/{trafficRuleId}")
    }

    /// `PUT /applications/{appInstanceId}/traffic_rules/{trafficRuleId}`: replaces a traffic rule.
    fn update_traffic_rule(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        traffic_rule_id: String,
        rule: TrafficRule,
    ) -> impl Future<Output = Result<TrafficRule, ApiError>> + Send {
        let _ = (ctx, app_instance_id, traffic_rule_id, rule);
        not_implemented("PUT /applications/{appInstanceId}/traffic_rules/{trafficRuleId}")
    }

    /// `GET /applications/{appInstanceId}/dns_rules`.
    fn list_dns_rules(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
    ) -> impl Future<Output = Result<Vec<DnsRule>, ApiError>> + Send {
        let _ = (ctx, app_instance_id);
        not_implemented("GET /applications/{appInstanceId}/dns_rules")
    }

    /// `GET /applications/{appInstanceId}/dns_rules/{dnsRuleId}`.
    fn get_dns_rule(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        dns_rule_id: String,
    ) -> impl Future<Output = Result<DnsRule, ApiError>> + Send {
        let _ = (ctx, app_instance_id, dns_rule_id);
        not_implemented("GET /applications/{appInstanceId}/dns_rules/{dnsRuleId}")
    }

    /// `PUT /applications/{appInstanceId}/dns_rules/{dnsRuleId}`: replaces a DNS rule.
    fn update_dns_rule(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        dns_rule_id: String,
        rule: DnsRule,
    ) -> impl Future<Output = Result<DnsRule, ApiError>> + Send {
        let _ = (ctx, app_instance_id, dns_rule_id, rule);
        not_implemented("PUT /applications/{appInstanceId}/dns_rules/{dnsRuleId}")
    }

    /// `GET /applications/{appInstanceId}/subscriptions`: the ids of the app's termination subscriptions.
    fn list_termination_subscriptions(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send {
        let _ = (ctx, app_instance_id);
        not_implemented("GET /applications/{appInstanceId}/subscriptions")
    }

    /// `POST /applications/{appInstanceId}/subscriptions`: stores a termination subscription, returns its id.
    fn create_termination_subscription(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        subscription: AppTerminationNotificationSubscription,
    ) -> impl Future<Output = Result<String, ApiError>> + Send {
        let _ = (ctx, app_instance_id, subscription);
        not_implemented("POST /applications/{appInstanceId}/subscriptions")
    }

    /// `GET /applications/{appInstanceId}/subscriptions/{subscriptionId}`.
    fn get_termination_subscription(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        subscription_id: String,
    ) -> impl Future<Output = Result<AppTerminationNotificationSubscription, ApiError>> + Send {
        let _ = (ctx, app_instance_id, subscription_id);
        not_implemented("GET /applications/{appInstanceId}/subscriptions/{subscriptionId}")
    }

    /// `DELETE /applications/{appInstanceId}/subscriptions/{subscriptionId}`.
    fn delete_termination_subscription(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        subscription_id: String,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (ctx, app_instance_id, subscription_id);
        not_implemented("DELETE /applications/{appInstanceId}/subscriptions/{subscriptionId}")
    }

    /// `POST /applications/{appInstanceId}/confirm_ready`: the app is up.
    fn confirm_ready(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        confirmation: AppReadyConfirmation,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (ctx, app_instance_id, confirmation);
        not_implemented("POST /applications/{appInstanceId}/confirm_ready")
    }

    /// `POST /applications/{appInstanceId}/confirm_termination`: the app is ready to be terminated.
    fn confirm_termination(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        confirmation: AppTerminationConfirmation,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (ctx, app_instance_id, confirmation);
        not_implemented("POST /applications/{appInstanceId}/confirm_termination")
    }

    /// `GET /timing/timing_caps`.
    fn timing_caps(
        &self,
        ctx: RequestContext,
    ) -> impl Future<Output = Result<TimingCaps, ApiError>> + Send {
        let _ = ctx;
        not_implemented("GET /timing/timing_caps")
    }

    /// `GET /timing/current_time`.
    fn current_time(
        &self,
        ctx: RequestContext,
    ) -> impl Future<Output = Result<CurrentTime, ApiError>> + Send {
        let _ = ctx;
        not_implemented("GET /timing/current_time")
    }

    /// `POST /registrations` (MEC 011 3.x): registers an app; return it with its `appInstanceId`.
    fn register_app(
        &self,
        ctx: RequestContext,
        app: AppInfo,
    ) -> impl Future<Output = Result<AppInfo, ApiError>> + Send {
        let _ = (ctx, app);
        not_implemented("POST /registrations")
    }

    /// `GET /registrations/{appInstanceId}` (MEC 011 3.x).
    fn get_registration(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
    ) -> impl Future<Output = Result<AppInfo, ApiError>> + Send {
        let _ = (ctx, app_instance_id);
        not_implemented("GET /registrations/{appInstanceId}")
    }

    /// `PUT /registrations/{appInstanceId}` (MEC 011 3.x): answered 204.
    fn update_registration(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
        app: AppInfo,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (ctx, app_instance_id, app);
        not_implemented("PUT /registrations/{appInstanceId}")
    }

    /// `DELETE /registrations/{appInstanceId}` (MEC 011 3.x).
    fn deregister_app(
        &self,
        ctx: RequestContext,
        app_instance_id: String,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (ctx, app_instance_id);
        not_implemented("DELETE /registrations/{appInstanceId}")
    }
}

/// The routes of the application support API over a state `T` from which the implementation can be had.
pub fn app_support_routes<S, T>() -> Router<T>
where
    S: AppSupport,
    Arc<S>: FromRef<T>,
    T: Clone + Send + Sync + 'static,
{
    let mut router = Router::new();
    // Served under v1 (MEC 011 2.x, EdgeGallery) and v2 (seen for 3.x deployments; shared/reference/etsi-mec011.md B.1).
    for root in crate::paths::APP_SUPPORT_ROOTS {
        router = rule_routes::<S, T, TrafficRule>(router, root);
        router = rule_routes::<S, T, DnsRule>(router, root);
        router = super::subscriptions::routes::<S, T, AppTerminationNotificationSubscription>(
            router, root,
        );
        router = router
            .route(
                &format!("{root}/applications/{{app}}/confirm_ready"),
                post(confirm_ready::<S>),
            )
            .route(
                &format!("{root}/applications/{{app}}/confirm_termination"),
                post(confirm_termination::<S>),
            )
            .route(&format!("{root}/timing/timing_caps"), get(timing_caps::<S>))
            .route(
                &format!("{root}/timing/current_time"),
                get(current_time::<S>),
            )
            .route(&format!("{root}/registrations"), post(register_app::<S>))
            .route(
                &format!("{root}/registrations/{{app}}"),
                get(get_registration::<S>)
                    .put(update_registration::<S>)
                    .delete(deregister_app::<S>),
            );
    }
    router
}

fn bad(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(e.to_string())
}

fn check_app(ctx: &RequestContext, app: &str) -> Result<(), ApiError> {
    check_id("appInstanceId", app)?;
    ctx.check_owner(app)
}

/// A kind of an app's rules (traffic, DNS): one set of handlers serves both.
trait Rule: Validate + serde::Serialize + serde::de::DeserializeOwned + Send + 'static {
    /// The collection's path segment (`traffic_rules`).
    const SEGMENT: &'static str;
    /// The id member, as named in the body and in problems (`trafficRuleId`).
    const ID_MEMBER: &'static str;
    /// The rule's id.
    fn id(&self) -> &str;
    fn list<S: AppSupport>(
        s: &S,
        ctx: RequestContext,
        app: String,
    ) -> impl Future<Output = Result<Vec<Self>, ApiError>> + Send;
    fn get<S: AppSupport>(
        s: &S,
        ctx: RequestContext,
        app: String,
        id: String,
    ) -> impl Future<Output = Result<Self, ApiError>> + Send;
    fn update<S: AppSupport>(
        s: &S,
        ctx: RequestContext,
        app: String,
        id: String,
        rule: Self,
    ) -> impl Future<Output = Result<Self, ApiError>> + Send;
}

/// `impl Rule` for a rule type: its path segment, id member and field, and the trait's three methods for it.
macro_rules! rule_kind {
    ($rule:ty, $segment:literal, $member:literal, $field:ident, $list:ident, $get:ident, $update:ident) => {
        impl Rule for $rule {
            const SEGMENT: &'static str = $segment;
            const ID_MEMBER: &'static str = $member;
            fn id(&self) -> &str {
                &self.$field
            }
            fn list<S: AppSupport>(
                s: &S,
                ctx: RequestContext,
                app: String,
            ) -> impl Future<Output = Result<Vec<Self>, ApiError>> + Send {
                s.$list(ctx, app)
            }
            fn get<S: AppSupport>(
                s: &S,
                ctx: RequestContext,
                app: String,
                id: String,
            ) -> impl Future<Output = Result<Self, ApiError>> + Send {
                s.$get(ctx, app, id)
            }
            fn update<S: AppSupport>(
                s: &S,
                ctx: RequestContext,
                app: String,
                id: String,
                rule: Self,
            ) -> impl Future<Output = Result<Self, ApiError>> + Send {
                s.$update(ctx, app, id, rule)
            }
        }
    };
}

rule_kind!(
    TrafficRule,
    "traffic_rules",
    "trafficRuleId",
    traffic_rule_id,
    list_traffic_rules,
    get_traffic_rule,
    update_traffic_rule
);
rule_kind!(
    DnsRule,
    "dns_rules",
    "dnsRuleId",
    dns_rule_id,
    list_dns_rules,
    get_dns_rule,
    update_dns_rule
);

/// `GET` of the collection and `GET`/`PUT` of one rule of kind `R`, under `root`.
fn rule_routes<S, T, R>(router: Router<T>, root: &str) -> Router<T>
where
    S: AppSupport,
    Arc<S>: FromRef<T>,
    T: Clone + Send + Sync + 'static,
    R: Rule,
{
    router
        .route(
            &format!("{root}/applications/{{app}}/{}", R::SEGMENT),
            get(list_rules::<S, R>),
        )
        .route(
            &format!("{root}/applications/{{app}}/{}/{{rule}}", R::SEGMENT),
            get(get_rule::<S, R>).put(update_rule::<S, R>),
        )
}

async fn list_rules<S: AppSupport, R: Rule>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path(app): Path<String>,
) -> Result<Json<Vec<R>>, ApiError> {
    check_app(&ctx, &app)?;
    Ok(Json(R::list(&*s, ctx, app).await?))
}

async fn get_rule<S: AppSupport, R: Rule>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path((app, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    check_app(&ctx, &app)?;
    check_id(R::ID_MEMBER, &id)?;
    tagged(StatusCode::OK, &R::get(&*s, ctx, app, id).await?)
}

/// `PUT .../{traffic_rules,dns_rules}/{id}`. Existence comes before the body: a rule that does not exist is 404
/// whatever the body says (then the body: 400 when invalid or naming another rule).
async fn update_rule<S: AppSupport, R: Rule>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path((app, id)): Path<(String, String)>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    check_app(&ctx, &app)?;
    check_id(R::ID_MEMBER, &id)?;
    let current = R::get(&*s, ctx.clone(), app.clone(), id.clone()).await?;
    let rule: R = parse_json(&headers, &body)?;
    rule.validate().map_err(bad)?;
    if rule.id() != id {
        return Err(ApiError::bad_request(format!(
            "{0}: differs from the {0} in the path",
            R::ID_MEMBER
        )));
    }
    if !S::CHECKS_IF_MATCH
        && let Some(if_match) = &ctx.if_match
    {
        check_if_match(if_match, &current)?;
    }
    tagged(StatusCode::OK, &R::update(&*s, ctx, app, id, rule).await?)
}

async fn confirm_ready<S: AppSupport>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path(app): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<StatusCode, ApiError> {
    check_app(&ctx, &app)?;
    s.check_app_instance(ctx.clone(), app.clone()).await?;
    let confirmation: AppReadyConfirmation = parse_json(&headers, &body)?;
    confirmation.validate().map_err(bad)?;
    s.confirm_ready(ctx, app, confirmation).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn confirm_termination<S: AppSupport>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path(app): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<StatusCode, ApiError> {
    check_app(&ctx, &app)?;
    s.check_app_instance(ctx.clone(), app.clone()).await?;
    let confirmation: AppTerminationConfirmation = parse_json(&headers, &body)?;
    confirmation.validate().map_err(bad)?;
    s.confirm_termination(ctx, app, confirmation).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn timing_caps<S: AppSupport>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
) -> Result<Json<TimingCaps>, ApiError> {
    Ok(Json(s.timing_caps(ctx).await?))
}

async fn current_time<S: AppSupport>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
) -> Result<Json<CurrentTime>, ApiError> {
    Ok(Json(s.current_time(ctx).await?))
}

async fn register_app<S: AppSupport>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Json(mut app): Json<AppInfo>,
) -> Result<Response, ApiError> {
    // An authenticated app registers itself only: its token's app instance, given or implied.
    if let Some(caller) = &ctx.caller {
        match &app.app_instance_id {
            Some(id) if id != &caller.app_instance_id => {
                return Err(ApiError::forbidden(format!(
                    "appInstanceId: the token was issued to app instance {}, which may only register itself",
                    caller.app_instance_id
                )));
            }
            Some(_) => {}
            None => app.app_instance_id = Some(caller.app_instance_id.clone()),
        }
    }
    app.validate().map_err(bad)?;
    let created = s.register_app(ctx.clone(), app).await?;
    let Some(id) = created.app_instance_id.clone() else {
        return Err(ApiError::internal(
            "the implementation returned an AppInfo without appInstanceId",
        ));
    };
    let location = ctx.href(&format!("{}/registrations/{id}", ctx.app_support_root()));
    Ok(Created::new(location, created).into_response())
}

async fn get_registration<S: AppSupport>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path(app): Path<String>,
) -> Result<Json<AppInfo>, ApiError> {
    check_app(&ctx, &app)?;
    Ok(Json(s.get_registration(ctx, app).await?))
}

async fn update_registration<S: AppSupport>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path(app): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<StatusCode, ApiError> {
    check_app(&ctx, &app)?;
    // A registration that does not exist is 404 whatever the body says.
    super::exists(s.get_registration(ctx.clone(), app.clone()).await)?;
    let info: AppInfo = parse_json(&headers, &body)?;
    info.validate().map_err(bad)?;
    s.update_registration(ctx, app, info).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn deregister_app<S: AppSupport>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path(app): Path<String>,
) -> Result<StatusCode, ApiError> {
    check_app(&ctx, &app)?;
    s.deregister_app(ctx, app).await?;
    Ok(StatusCode::NO_CONTENT)
}
