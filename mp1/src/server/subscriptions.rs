//! The routes of an app's subscriptions, one set for both kinds: service availability (service management,
//! MEC 011 clause 8.2.8/8.2.9) and app termination (application support, clauses 7.2.8/7.2.9).

use super::context::RequestContext;
use super::{AppSupport, Created, ServiceManagement, check_id};
use crate::model::{
    APP_TERMINATION_SUBSCRIPTION_TYPE, AppTerminationNotificationSubscription, LinkType,
    SER_AVAILABILITY_SUBSCRIPTION_TYPE, SerAvailabilityNotificationSubscription, SubscriptionLink,
    SubscriptionLinkList, SubscriptionLinkListLinks, SubscriptionSelfLinks, Validate,
};
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mec_core::server::{ApiError, Json, Path};
use std::future::Future;
use std::sync::Arc;

/// A kind of subscription an app holds: what the handlers need to know of its body and where it lives.
pub(super) trait SubscriptionKind:
    Validate + serde::Serialize + serde::de::DeserializeOwned + Clone + Send + 'static
{
    /// The `subscriptionType` the body must carry.
    const TYPE: &'static str;
    /// The body's `subscriptionType`.
    fn subscription_type(&self) -> &str;
    /// Sets the body's `_links`.
    fn set_links(&mut self, links: Option<SubscriptionSelfLinks>);
    /// Checks what the body says against the app instance of the path.
    fn check_app(&self, app: &str) -> Result<(), ApiError> {
        let _ = app;
        Ok(())
    }
    /// The API root the subscriptions live under, as `ctx`'s request reached it.
    fn root(ctx: &RequestContext) -> String;
}

impl SubscriptionKind for SerAvailabilityNotificationSubscription {
    const TYPE: &'static str = SER_AVAILABILITY_SUBSCRIPTION_TYPE;
    fn subscription_type(&self) -> &str {
        &self.subscription_type
    }
    fn set_links(&mut self, links: Option<SubscriptionSelfLinks>) {
        self.links = links;
    }
    fn root(_: &RequestContext) -> String {
        crate::paths::SERVICE_MGMT.to_owned()
    }
}

impl SubscriptionKind for AppTerminationNotificationSubscription {
    const TYPE: &'static str = APP_TERMINATION_SUBSCRIPTION_TYPE;
    fn subscription_type(&self) -> &str {
        &self.subscription_type
    }
    fn set_links(&mut self, links: Option<SubscriptionSelfLinks>) {
        self.links = links;
    }
    /// An app subscribes to its own termination (MEC 011 AppTerminationNotificationSubscription.appInstanceId).
    fn check_app(&self, app: &str) -> Result<(), ApiError> {
        if self.app_instance_id == app {
            Ok(())
        } else {
            Err(ApiError::bad_request(format!(
                "appInstanceId: {:?} is not the app instance of the path",
                self.app_instance_id
            )))
        }
    }
    fn root(ctx: &RequestContext) -> String {
        ctx.app_support_root()
    }
}

/// The four operations on an app's subscriptions of kind `K`, as the API's trait names them.
pub(super) trait Subscriptions<K>: Send + Sync + 'static {
    fn list(
        &self,
        ctx: RequestContext,
        app: String,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;
    fn create(
        &self,
        ctx: RequestContext,
        app: String,
        subscription: K,
    ) -> impl Future<Output = Result<String, ApiError>> + Send;
    fn get(
        &self,
        ctx: RequestContext,
        app: String,
        id: String,
    ) -> impl Future<Output = Result<K, ApiError>> + Send;
    fn delete(
        &self,
        ctx: RequestContext,
        app: String,
        id: String,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// `impl Subscriptions<$kind>` for every implementation of `$api`, by its four methods.
macro_rules! subscriptions_of {
    ($api:ident, $kind:ty, $list:ident, $create:ident, $get:ident, $delete:ident) => {
        impl<S: $api> Subscriptions<$kind> for S {
            fn list(
                &self,
                ctx: RequestContext,
                app: String,
            ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send {
                self.$list(ctx, app)
            }
            fn create(
                &self,
                ctx: RequestContext,
                app: String,
                subscription: $kind,
            ) -> impl Future<Output = Result<String, ApiError>> + Send {
                self.$create(ctx, app, subscription)
            }
            fn get(
                &self,
                ctx: RequestContext,
                app: String,
                id: String,
            ) -> impl Future<Output = Result<$kind, ApiError>> + Send {
                self.$get(ctx, app, id)
            }
            fn delete(
                &self,
                ctx: RequestContext,
                app: String,
                id: String,
            ) -> impl Future<Output = Result<(), ApiError>> + Send {
                self.$delete(ctx, app, id)
            }
        }
    };
}

subscriptions_of!(
    ServiceManagement,
    SerAvailabilityNotificationSubscription,
    list_availability_subscriptions,
    create_availability_subscription,
    get_availability_subscription,
    delete_availability_subscription
);
subscriptions_of!(
    AppSupport,
    AppTerminationNotificationSubscription,
    list_termination_subscriptions,
    create_termination_subscription,
    get_termination_subscription,
    delete_termination_subscription
);

/// Adds the routes of the subscriptions of kind `K` under `root` (`{root}/applications/{app}/subscriptions`).
pub(super) fn routes<S, T, K>(router: Router<T>, root: &str) -> Router<T>
where
    S: Subscriptions<K>,
    K: SubscriptionKind,
    Arc<S>: FromRef<T>,
    T: Clone + Send + Sync + 'static,
{
    router
        .route(
            &format!("{root}/applications/{{app}}/subscriptions"),
            get(list::<S, K>).post(create::<S, K>),
        )
        .route(
            &format!("{root}/applications/{{app}}/subscriptions/{{subscription_id}}"),
            get(read::<S, K>).delete(delete::<S, K>),
        )
}

/// The href of a subscription of `app` under the API `root` (`/mec_service_mgmt/v1`, `/mec_app_support/v1`).
fn subscription_href(ctx: &RequestContext, root: &str, app: &str, id: &str) -> String {
    ctx.href(&crate::paths::raw::subscription(root, app, id))
}

/// The link list of an app's subscriptions of one type (`rel` for 2.1.1 readers, `subscriptionType` for 3.x).
fn link_list(
    ctx: &RequestContext,
    root: &str,
    app: &str,
    ids: &[String],
    subscription_type: &str,
) -> SubscriptionLinkList {
    SubscriptionLinkList {
        links: SubscriptionLinkListLinks {
            self_: LinkType {
                href: ctx.href(&crate::paths::raw::subscriptions(root, app)),
            },
            subscriptions: ids
                .iter()
                .map(|id| SubscriptionLink {
                    href: subscription_href(ctx, root, app, id),
                    rel: Some(subscription_type.to_owned()),
                    subscription_type: Some(subscription_type.to_owned()),
                })
                .collect(),
        },
    }
}

fn check_app(ctx: &RequestContext, app: &str) -> Result<(), ApiError> {
    check_id("appInstanceId", app)?;
    ctx.check_owner(app)
}

fn self_links(ctx: &RequestContext, root: &str, app: &str, id: &str) -> SubscriptionSelfLinks {
    SubscriptionSelfLinks {
        self_: LinkType {
            href: subscription_href(ctx, root, app, id),
        },
    }
}

async fn list<S: Subscriptions<K>, K: SubscriptionKind>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path(app): Path<String>,
) -> Result<Json<SubscriptionLinkList>, ApiError> {
    check_app(&ctx, &app)?;
    let ids = s.list(ctx.clone(), app.clone()).await?;
    Ok(Json(link_list(&ctx, &K::root(&ctx), &app, &ids, K::TYPE)))
}

async fn create<S: Subscriptions<K>, K: SubscriptionKind>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path(app): Path<String>,
    Json(mut subscription): Json<K>,
) -> Result<Response, ApiError> {
    check_app(&ctx, &app)?;
    subscription
        .validate()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if subscription.subscription_type() != K::TYPE {
        return Err(ApiError::bad_request(format!(
            "subscriptionType: must be {}",
            K::TYPE
        )));
    }
    subscription.check_app(&app)?;
    subscription.set_links(None);
    let id = s
        .create(ctx.clone(), app.clone(), subscription.clone())
        .await?;
    let links = self_links(&ctx, &K::root(&ctx), &app, &id);
    let href = links.self_.href.clone();
    subscription.set_links(Some(links));
    Ok(Created::new(href, subscription).into_response())
}

async fn read<S: Subscriptions<K>, K: SubscriptionKind>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path((app, id)): Path<(String, String)>,
) -> Result<Json<K>, ApiError> {
    check_app(&ctx, &app)?;
    check_id("subscriptionId", &id)?;
    let mut subscription = s.get(ctx.clone(), app.clone(), id.clone()).await?;
    subscription.set_links(Some(self_links(&ctx, &K::root(&ctx), &app, &id)));
    Ok(Json(subscription))
}

async fn delete<S: Subscriptions<K>, K: SubscriptionKind>(
    State(s): State<Arc<S>>,
    ctx: RequestContext,
    Path((app, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    check_app(&ctx, &app)?;
    check_id("subscriptionId", &id)?;
    Subscriptions::<K>::delete(&*s, ctx, app, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
