//! The Mp1 client: every operation of both MEC 011 APIs, typed, with AK/SK token handling.
//!
//! ```no_run
//! # async fn run() -> Result<(), mec_mp1::Error> {
//! use mec_core::signature::Credentials;
//! use mec_mp1::client::{Client, ServiceQuery};
//! use mec_mp1::model::*;
//!
//! let client = Client::builder("https://mep.example:8443/mep")
//!     .aksk(Credentials::new("QVUJMSUMgS0VZLS0tLS0", "DXPb4sqElKhcHe07Kw5uorayETwId1JOjjOIRomRs5wyszoCR5R7AtVa28KT3lSc"))
//!     .build()?;
//! let app = client.app("5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f");
//!
//! // Register a service (the token is fetched on first use and renewed before it expires).
//! let service = ServiceInfo::new("faces".into(), "1.0".into(), ServiceState::Active, SerializerType::Json)
//!     .with_transport(TransportInfo::rest_http("http://10.0.0.9:9000/faces").with_id("rest"));
//! let created = app.services().register(&service).await?;
//!
//! // Discover another one, subscribe to its availability, and say we are ready.
//! let found = client.services().list(&ServiceQuery::new().ser_name("location")).await?;
//! app.service_subscriptions()
//!     .create(&SerAvailabilityNotificationSubscription::new("http://10.0.0.9:8080/notifications"))
//!     .await?;
//! app.confirm_ready().await?;
//! # Ok(()) }
//! ```

use crate::Error;
use crate::model::{
    AppInfo, AppInstanceId, AppReadyConfirmation, AppTerminationConfirmation,
    AppTerminationNotificationSubscription, CurrentTime, DnsRule, OperationAction, RuleId,
    SerAvailabilityNotificationSubscription, ServiceId, ServiceInfo, ServiceLivenessInfo,
    ServiceLivenessUpdate, SubscriptionId, SubscriptionLinkList, TimingCaps, TrafficRule,
    TransportInfo,
};
use crate::paths;
use mec_core::client::{
    ApiRequest, ApiResponse, Auth, HttpClient, HttpClientBuilder, TokenProvider, path_segment,
};
use mec_core::signature::Credentials;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// A created resource and where it lives (the `Location` header).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Created<T> {
    /// The resource as the MEP answered it.
    pub resource: T,
    /// The `Location` header, when sent.
    pub location: Option<String>,
}

/// A resource and its `ETag`, to send back as `If-Match` when updating it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Tagged<T> {
    /// The resource.
    pub value: T,
    /// The `ETag` header, when sent.
    pub etag: Option<String>,
}

impl<T> Created<T> {
    /// `resource`, created at `location`.
    pub fn new(resource: T, location: Option<String>) -> Self {
        Self { resource, location }
    }
}

impl<T> Tagged<T> {
    /// `value` with its `ETag`.
    pub fn new(value: T, etag: Option<String>) -> Self {
        Self { value, etag }
    }
}

/// How heartbeats are sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LivenessMethod {
    /// `PATCH`, as ETSI GS MEC 011 2.2.1+ specifies.
    #[default]
    Patch,
    /// `PUT`, as EdgeGallery's MEP serves it.
    Put,
}

/// Builds a [`Client`].
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    http: HttpClientBuilder,
    credentials: Option<Credentials>,
    token_path: String,
    app_support_version: String,
    liveness: LivenessMethod,
}

impl ClientBuilder {
    /// Authenticates with MEP-auth's AK/SK exchange: a token from [`token_path`](Self::token_path) (default
    /// `/mep/token`), fetched on first use, renewed before expiry and once after a 401.
    pub fn aksk(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Where tokens are requested: absolute, or relative to the base URL's origin (default `/mep/token`).
    pub fn token_path(mut self, path: impl Into<String>) -> Self {
        self.token_path = path.into();
        self
    }

    /// Sends a fixed bearer token instead.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = None;
        self.http = self.http.auth(Auth::Bearer(token.into()));
        self
    }

    /// Gets tokens from a provider of your own.
    pub fn token_provider(mut self, provider: Arc<dyn TokenProvider>) -> Self {
        self.credentials = None;
        self.http = self.http.auth(Auth::Custom(provider));
        self
    }

    /// Sets the timeout of one request (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http = self.http.timeout(Some(timeout));
        self
    }

    /// Accepts any server certificate (EdgeGallery's MEP uses self-signed ones; prefer
    /// [`add_root_certificate_pem`](Self::add_root_certificate_pem)).
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.http = self.http.danger_accept_invalid_certs(accept);
        self
    }

    /// Trusts the certificates of a PEM bundle.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.http = self.http.add_root_certificate_pem(pem);
        self
    }

    /// Sets the clock token expiry is measured with.
    pub fn clock(mut self, clock: mec_core::SharedClock) -> Self {
        self.http = self.http.clock(clock);
        self
    }

    /// The version segment of the application support API: `v1` (default) or `v2` (seen on MEC 011 3.x MEPs).
    pub fn app_support_version(mut self, version: impl Into<String>) -> Self {
        self.app_support_version = version.into();
        self
    }

    /// How heartbeats are sent (default `PATCH`; EdgeGallery's MEP wants `PUT`).
    pub fn liveness_method(mut self, method: LivenessMethod) -> Self {
        self.liveness = method;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let mut http = self.http;
        if let Some(credentials) = self.credentials {
            http = http.auth(Auth::AkSk {
                credentials,
                token_path: self.token_path,
            });
        }
        Ok(Client {
            inner: Arc::new(Inner {
                http: http.build()?,
                app_support: relative(&paths::app_support(&self.app_support_version)).to_owned(),
                liveness: self.liveness,
            }),
        })
    }
}

#[derive(Debug)]
struct Inner {
    http: HttpClient,
    app_support: String,
    liveness: LivenessMethod,
}

/// A client of a MEP's Mp1 APIs. Cheap to clone; holds no global state and starts no task.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

/// The service management root, relative to the base URL.
const SM: &str = relative(paths::SERVICE_MGMT);

/// A path under the base URL (which may have a prefix such as `/mep`): the paths module's, without its `/`.
const fn relative(path: &str) -> &str {
    match path.as_bytes() {
        [b'/', rest @ ..] => match std::str::from_utf8(rest) {
            Ok(rest) => rest,
            Err(_) => path,
        },
        _ => path,
    }
}

impl Client {
    /// A builder for a client of the MEP whose API root is `base_url`: `http://host:port` for ETSI's layout,
    /// `https://host:port/mep` for EdgeGallery's.
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            http: HttpClient::builder(base_url),
            credentials: None,
            token_path: "/mep/token".to_owned(),
            app_support_version: "v1".to_owned(),
            liveness: LivenessMethod::Patch,
        }
    }

    /// The underlying HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    /// Service discovery across the platform.
    pub fn services(&self) -> Services {
        Services {
            client: self.clone(),
        }
    }

    /// The transports the platform offers.
    pub fn transports(&self) -> Transports {
        Transports {
            client: self.clone(),
        }
    }

    /// The timing API.
    pub fn timing(&self) -> Timing {
        Timing {
            client: self.clone(),
        }
    }

    /// App registration (MEC 011 3.x).
    pub fn registrations(&self) -> Registrations {
        Registrations {
            client: self.clone(),
        }
    }

    /// The resources of one app instance.
    pub fn app(&self, app_instance_id: impl Into<AppInstanceId>) -> AppClient {
        AppClient {
            client: self.clone(),
            id: path_segment(&app_instance_id.into()),
        }
    }

    fn app_support(&self, path: &str) -> String {
        format!("{}/{path}", self.inner.app_support)
    }

    async fn send(&self, request: ApiRequest) -> Result<ApiResponse, Error> {
        Ok(self
            .inner
            .http
            .execute(with_app_instance_header(request))
            .await?)
    }

    async fn get<T: DeserializeOwned>(&self, path: String) -> Result<T, Error> {
        Ok(self.send(ApiRequest::get(path)).await?.json()?)
    }

    async fn get_tagged<T: DeserializeOwned>(&self, path: String) -> Result<Tagged<T>, Error> {
        let r = self.send(ApiRequest::get(path)).await?;
        Ok(Tagged {
            value: r.json()?,
            etag: r.etag(),
        })
    }

    async fn put_tagged<B: Serialize, T: DeserializeOwned>(
        &self,
        path: String,
        body: &B,
        if_match: Option<&str>,
    ) -> Result<Tagged<T>, Error> {
        let mut request = ApiRequest::put(path).json(body)?;
        if let Some(tag) = if_match {
            let value = http::HeaderValue::from_str(tag).map_err(|_| {
                Error::InvalidRequest(format!(
                    "If-Match value {tag:?} is not a valid header value"
                ))
            })?;
            request = request.header(http::header::IF_MATCH, value);
        }
        let r = self.send(request).await?;
        Ok(Tagged {
            value: r.json()?,
            etag: r.etag(),
        })
    }

    async fn create<B: Serialize, T: DeserializeOwned>(
        &self,
        path: String,
        body: &B,
    ) -> Result<Created<T>, Error> {
        let r = self.send(ApiRequest::post(path).json(body)?).await?;
        Ok(Created {
            resource: r.json()?,
            location: r.location(),
        })
    }

    async fn delete(&self, path: String) -> Result<(), Error> {
        self.send(ApiRequest::delete(path)).await.map(drop)
    }
}

/// The discovery filters of `GET /services`: the model's [`ServiceFilter`](crate::model::ServiceFilter), the
/// same type a server parses and matches (ETSI allows at most one of `ser_instance_id`, `ser_name` and
/// `ser_category_id`; the client refuses more before sending).
pub type ServiceQuery = crate::model::ServiceFilter;

/// Puts a filter's query pairs on a request.
trait ApplyQuery {
    fn apply(&self, request: ApiRequest) -> Result<ApiRequest, Error>;
}

impl ApplyQuery for ServiceQuery {
    fn apply(&self, mut request: ApiRequest) -> Result<ApiRequest, Error> {
        for (k, v) in self.to_pairs()? {
            request = request.query(k, v);
        }
        Ok(request)
    }
}

/// Service discovery across the platform (`/services`).
#[derive(Clone, Debug)]
pub struct Services {
    client: Client,
}

impl Services {
    /// `GET /services`: the services matching the query.
    pub async fn list(&self, query: &ServiceQuery) -> Result<Vec<ServiceInfo>, Error> {
        let request = query.apply(ApiRequest::get(format!("{SM}/services")))?;
        let list: Option<Vec<ServiceInfo>> = self.client.send(request).await?.json()?;
        Ok(list.unwrap_or_default())
    }

    /// `GET /services/{serviceId}`.
    pub async fn get(
        &self,
        service_id: impl Into<ServiceId>,
    ) -> Result<Tagged<ServiceInfo>, Error> {
        self.client
            .get_tagged(format!(
                "{SM}/services/{}",
                path_segment(&service_id.into())
            ))
            .await
    }
}

/// The transports the platform offers (`/transports`).
#[derive(Clone, Debug)]
pub struct Transports {
    client: Client,
}

impl Transports {
    /// `GET /transports`.
    pub async fn list(&self) -> Result<Vec<TransportInfo>, Error> {
        let list: Option<Vec<TransportInfo>> = self.client.get(format!("{SM}/transports")).await?;
        Ok(list.unwrap_or_default())
    }
}

/// The timing API (`/timing`).
#[derive(Clone, Debug)]
pub struct Timing {
    client: Client,
}

impl Timing {
    /// `GET /timing/current_time`.
    pub async fn current_time(&self) -> Result<CurrentTime, Error> {
        self.client
            .get(self.client.app_support("timing/current_time"))
            .await
    }

    /// `GET /timing/timing_caps`.
    pub async fn timing_caps(&self) -> Result<TimingCaps, Error> {
        self.client
            .get(self.client.app_support("timing/timing_caps"))
            .await
    }
}

/// App registration (`/registrations`, MEC 011 3.x).
#[derive(Clone, Debug)]
pub struct Registrations {
    client: Client,
}

impl Registrations {
    /// `POST /registrations`: registers an app; the answer carries its `appInstanceId`.
    pub async fn create(&self, app: &AppInfo) -> Result<Created<AppInfo>, Error> {
        self.client
            .create(self.client.app_support("registrations"), app)
            .await
    }

    /// `GET /registrations/{appInstanceId}`.
    pub async fn get(&self, app_instance_id: impl Into<AppInstanceId>) -> Result<AppInfo, Error> {
        self.client
            .get(self.client.app_support(&format!(
                "registrations/{}",
                path_segment(&app_instance_id.into())
            )))
            .await
    }

    /// `PUT /registrations/{appInstanceId}`.
    pub async fn update(
        &self,
        app_instance_id: impl Into<AppInstanceId>,
        app: &AppInfo,
    ) -> Result<(), Error> {
        let path = self.client.app_support(&format!(
            "registrations/{}",
            path_segment(&app_instance_id.into())
        ));
        self.client
            .send(ApiRequest::put(path).json(app)?)
            .await
            .map(drop)
    }

    /// `DELETE /registrations/{appInstanceId}`.
    pub async fn delete(&self, app_instance_id: impl Into<AppInstanceId>) -> Result<(), Error> {
        self.client
            .delete(self.client.app_support(&format!(
                "registrations/{}",
                path_segment(&app_instance_id.into())
            )))
            .await
    }
}

/// The resources of one app instance (`/applications/{appInstanceId}/...`).
#[derive(Clone, Debug)]
pub struct AppClient {
    client: Client,
    id: String,
}

impl AppClient {
    /// The services this app registers.
    pub fn services(&self) -> AppServices {
        AppServices {
            client: self.client.clone(),
            base: format!("{SM}/applications/{}/services", self.id),
        }
    }

    /// Its service availability subscriptions.
    pub fn service_subscriptions(&self) -> Subscriptions<SerAvailabilityNotificationSubscription> {
        Subscriptions {
            client: self.client.clone(),
            base: format!("{SM}/applications/{}/subscriptions", self.id),
            kind: std::marker::PhantomData,
        }
    }

    /// Its app termination subscriptions.
    pub fn termination_subscriptions(
        &self,
    ) -> Subscriptions<AppTerminationNotificationSubscription> {
        Subscriptions {
            client: self.client.clone(),
            base: self
                .client
                .app_support(&format!("applications/{}/subscriptions", self.id)),
            kind: std::marker::PhantomData,
        }
    }

    /// Its DNS rules.
    pub fn dns_rules(&self) -> Rules<DnsRule> {
        Rules {
            client: self.client.clone(),
            base: self
                .client
                .app_support(&format!("applications/{}/dns_rules", self.id)),
            kind: std::marker::PhantomData,
        }
    }

    /// Its traffic rules.
    pub fn traffic_rules(&self) -> Rules<TrafficRule> {
        Rules {
            client: self.client.clone(),
            base: self
                .client
                .app_support(&format!("applications/{}/traffic_rules", self.id)),
            kind: std::marker::PhantomData,
        }
    }

    /// `POST /applications/{appInstanceId}/confirm_ready`: the app is up.
    pub async fn confirm_ready(&self) -> Result<(), Error> {
        let path = self
            .client
            .app_support(&format!("applications/{}/confirm_ready", self.id));
        self.client
            .send(ApiRequest::post(path).json(&AppReadyConfirmation::ready())?)
            .await
            .map(drop)
    }

    /// `POST /applications/{appInstanceId}/confirm_termination`: the app is ready to go.
    pub async fn confirm_termination(
        &self,
        operation_action: OperationAction,
    ) -> Result<(), Error> {
        let path = self
            .client
            .app_support(&format!("applications/{}/confirm_termination", self.id));
        self.client
            .send(ApiRequest::post(path).json(&AppTerminationConfirmation { operation_action })?)
            .await
            .map(drop)
    }
}

/// The services one app registers (`/applications/{appInstanceId}/services`).
#[derive(Clone, Debug)]
pub struct AppServices {
    client: Client,
    base: String,
}

impl AppServices {
    /// `POST`: registers a service; the answer carries its `serInstanceId`.
    pub async fn register(&self, service: &ServiceInfo) -> Result<Created<ServiceInfo>, Error> {
        self.client.create(self.base.clone(), service).await
    }

    /// `GET`: this app's services matching the query.
    pub async fn list(&self, query: &ServiceQuery) -> Result<Vec<ServiceInfo>, Error> {
        let request = query.apply(ApiRequest::get(self.base.clone()))?;
        let list: Option<Vec<ServiceInfo>> = self.client.send(request).await?.json()?;
        Ok(list.unwrap_or_default())
    }

    /// `GET .../{serviceId}`.
    pub async fn get(
        &self,
        service_id: impl Into<ServiceId>,
    ) -> Result<Tagged<ServiceInfo>, Error> {
        self.client
            .get_tagged(format!(
                "{}/{}",
                self.base,
                path_segment(&service_id.into())
            ))
            .await
    }

    /// `PUT .../{serviceId}`: replaces the service's information; `if_match` guards against lost updates (412).
    pub async fn update(
        &self,
        service_id: impl Into<ServiceId>,
        service: &ServiceInfo,
        if_match: Option<&str>,
    ) -> Result<Tagged<ServiceInfo>, Error> {
        self.client
            .put_tagged(
                format!("{}/{}", self.base, path_segment(&service_id.into())),
                service,
                if_match,
            )
            .await
    }

    /// `DELETE .../{serviceId}`: deregisters the service.
    pub async fn delete(&self, service_id: impl Into<ServiceId>) -> Result<(), Error> {
        self.client
            .delete(format!(
                "{}/{}",
                self.base,
                path_segment(&service_id.into())
            ))
            .await
    }

    /// `GET .../{serviceId}/liveness`.
    pub async fn liveness(
        &self,
        service_id: impl Into<ServiceId>,
    ) -> Result<ServiceLivenessInfo, Error> {
        self.client
            .get(format!(
                "{}/{}/liveness",
                self.base,
                path_segment(&service_id.into())
            ))
            .await
    }

    /// Sends a heartbeat for a service to `.../{serviceId}/liveness`. Returns the new liveness when the MEP
    /// answers with one (200), `None` on 204.
    pub async fn heartbeat(
        &self,
        service_id: impl Into<ServiceId>,
    ) -> Result<Option<ServiceLivenessInfo>, Error> {
        self.heartbeat_at(&format!(
            "{}/{}/liveness",
            self.base,
            path_segment(&service_id.into())
        ))
        .await
    }

    /// Sends a heartbeat to a liveness URI taken from [`ServiceInfo::liveness_uri`] (absolute, or a path under
    /// the API root).
    pub async fn heartbeat_at(
        &self,
        liveness_uri: &str,
    ) -> Result<Option<ServiceLivenessInfo>, Error> {
        let path = relative_to_root(self.client.http(), liveness_uri);
        let request = match self.client.inner.liveness {
            LivenessMethod::Patch => ApiRequest::patch(path),
            LivenessMethod::Put => ApiRequest::put(path),
        }
        .json(&ServiceLivenessUpdate::active())?;
        let r = self.client.send(request).await?;
        if r.status() == 204 || r.body().is_empty() {
            Ok(None)
        } else {
            Ok(Some(r.json()?))
        }
    }
}

/// A liveness URI from the MEP is absolute or rooted at the server (`/mep/mec_service_mgmt/...`); requests are
/// relative to the API root, so the root's path is taken off when it leads.
fn relative_to_root(http: &HttpClient, uri: &str) -> String {
    let base = http.base_url();
    if let Ok(absolute) = url::Url::parse(uri) {
        return absolute
            .as_str()
            .strip_prefix(base.as_str())
            .map_or_else(|| absolute.path().to_owned(), str::to_owned);
    }
    let root = base.path();
    uri.strip_prefix(root)
        .or_else(|| uri.strip_prefix(root.trim_end_matches('/')))
        .unwrap_or(uri)
        .trim_start_matches('/')
        .to_owned()
}

/// An app's subscriptions of one kind.
#[derive(Clone, Debug)]
pub struct Subscriptions<T> {
    client: Client,
    base: String,
    kind: std::marker::PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Subscriptions<T> {
    /// `POST`: subscribes; the answer carries `_links.self` and the `Location`.
    pub async fn create(&self, subscription: &T) -> Result<Created<T>, Error> {
        self.client.create(self.base.clone(), subscription).await
    }

    /// `GET`: links to the app's subscriptions.
    pub async fn list(&self) -> Result<SubscriptionLinkList, Error> {
        self.client.get(self.base.clone()).await
    }

    /// `GET .../{subscriptionId}`.
    pub async fn get(&self, subscription_id: impl Into<SubscriptionId>) -> Result<T, Error> {
        self.client
            .get(format!(
                "{}/{}",
                self.base,
                path_segment(&subscription_id.into())
            ))
            .await
    }

    /// `DELETE .../{subscriptionId}`.
    pub async fn delete(&self, subscription_id: impl Into<SubscriptionId>) -> Result<(), Error> {
        self.client
            .delete(format!(
                "{}/{}",
                self.base,
                path_segment(&subscription_id.into())
            ))
            .await
    }
}

/// An app's rules of one kind (DNS or traffic).
#[derive(Clone, Debug)]
pub struct Rules<T> {
    client: Client,
    base: String,
    kind: std::marker::PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Rules<T> {
    /// `GET`: every rule of the app.
    pub async fn list(&self) -> Result<Vec<T>, Error> {
        let list: Option<Vec<T>> = self.client.get(self.base.clone()).await?;
        Ok(list.unwrap_or_default())
    }

    /// `GET .../{ruleId}`, with its ETag.
    pub async fn get(&self, rule_id: impl Into<RuleId>) -> Result<Tagged<T>, Error> {
        self.client
            .get_tagged(format!("{}/{}", self.base, path_segment(&rule_id.into())))
            .await
    }

    /// `PUT .../{ruleId}`: replaces the rule; `if_match` guards against lost updates (412).
    pub async fn update(
        &self,
        rule_id: impl Into<RuleId>,
        rule: &T,
        if_match: Option<&str>,
    ) -> Result<Tagged<T>, Error> {
        self.client
            .put_tagged(
                format!("{}/{}", self.base, path_segment(&rule_id.into())),
                rule,
                if_match,
            )
            .await
    }
}

/// Adds `X-AppinstanceID` with the path's app instance to app-scoped requests (`.../applications/{id}/...`).
/// EdgeGallery's gateway sets this header on every call and its MEP compares it with the path (mepserver
/// `common/util/meputil.go`); a MEP that checks it itself (`mec-mep`'s EdgeGallery profile) refuses calls without
/// it. ETSI servers ignore it, and EdgeGallery's gateway replaces it with the token's app instance.
fn with_app_instance_header(request: ApiRequest) -> ApiRequest {
    match app_instance_of(request.path()) {
        Some(v) => request.header(http::HeaderName::from_static("x-appinstanceid"), v),
        None => request,
    }
}

/// The app instance of an app-scoped path, as a header value.
fn app_instance_of(path: &str) -> Option<http::HeaderValue> {
    path.split_once("/applications/")
        .and_then(|(_, rest)| rest.split('/').next())
        .filter(|id| !id.is_empty() && !id.contains('%'))
        .and_then(|id| http::HeaderValue::from_str(id).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_scoped_requests_carry_the_app_instance_header() {
        let app = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";
        assert_eq!(
            app_instance_of(&format!("mec_app_support/v1/applications/{app}/dns_rules")),
            Some(http::HeaderValue::from_static(app))
        );
        assert_eq!(app_instance_of("mec_service_mgmt/v1/services"), None);
        assert_eq!(app_instance_of("x/applications/a%2Fb/services"), None);
    }
}
