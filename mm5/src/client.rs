//! The Mm5 client, as a MEP manager uses it.

use crate::model::{
    AppDConfig, CallStatistics, GovernResponse, PlatformCapability, SubscribeStatistic,
    TaskProgress,
};
use crate::{Error, paths};
use mec_core::client::{ApiRequest, Auth, HttpClient, HttpClientBuilder, path_segment};
use mec_mp1::model::ServiceInfo;
use std::time::Duration;

/// Builds a [`Client`].
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    http: HttpClientBuilder,
}

impl ClientBuilder {
    /// Sets how requests authenticate (EdgeGallery's Mm5 takes none; default none).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.http = self.http.auth(auth);
        self
    }

    /// Sets the timeout of one request (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http = self.http.timeout(Some(timeout));
        self
    }

    /// Accepts any server certificate (EdgeGallery's MEP uses self-signed ones).
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.http = self.http.danger_accept_invalid_certs(accept);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        Ok(Client {
            http: self.http.build()?,
        })
    }
}

/// How [`Client::wait_for_task`] polls.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WaitOptions {
    /// Give up after this long (default 60 s, as EdgeGallery's MEPM: 30 polls 2 s apart).
    pub timeout: Duration,
    /// The first wait between polls (default 200 ms); doubled after each poll.
    pub initial_interval: Duration,
    /// The longest wait between polls (default 2 s).
    pub max_interval: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            initial_interval: Duration::from_millis(200),
            max_interval: Duration::from_secs(2),
        }
    }
}

impl WaitOptions {
    /// The defaults (see each field).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets when to give up.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the first and the longest wait between polls.
    #[must_use]
    pub fn with_intervals(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_interval = initial;
        self.max_interval = max;
        self
    }
}

/// A client of a MEP's Mm5 interface. Cheap to clone.
///
/// ```no_run
/// # async fn run() -> Result<(), mec_mm5::Error> {
/// use mec_mm5::{AppDConfig, Client, WaitOptions};
///
/// let mepm = Client::builder("http://mep.example:80").build()?;
/// let task = mepm.app_config("5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f").create(&AppDConfig::new("demo")).await?;
/// let done = mepm.wait_for_task(&task.task_id, &WaitOptions::default()).await?;
/// println!("{}", done.config_result);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    http: HttpClient,
}

impl Client {
    /// A builder for a client of the MEP at `base_url` (its root: the paths start with `/mepcfg` and `/mep`).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            http: HttpClient::builder(base_url),
        }
    }

    /// The app-descriptor configuration of one app instance.
    pub fn app_config(&self, app_instance_id: &str) -> AppConfigs {
        AppConfigs {
            http: self.http.clone(),
            path: relative(paths::app_config(&path_segment(app_instance_id))),
        }
    }

    /// A configuration task's progress.
    pub async fn task(&self, task_id: &str) -> Result<TaskProgress, Error> {
        self.http
            .execute(ApiRequest::get(relative(paths::task(&path_segment(
                task_id,
            )))))
            .await?
            .json()
            .map_err(Error::from)
    }

    /// Polls a task until it succeeds or fails, with growing intervals. A task that fails is returned, not an
    /// error: look at its `config_result` and `detailed`. Gives up with [`Error::TaskTimedOut`] after the timeout.
    pub async fn wait_for_task(
        &self,
        task_id: &str,
        options: &WaitOptions,
    ) -> Result<TaskProgress, Error> {
        let deadline = tokio::time::Instant::now() + options.timeout;
        let mut interval = options.initial_interval;
        loop {
            let task = self.task(task_id).await?;
            if task.config_result.is_final() {
                return Ok(task);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(Error::TaskTimedOut {
                    task_id: task_id.to_owned(),
                    waited: options.timeout,
                    last: Box::new(task),
                });
            }
            tokio::time::sleep(interval.min(deadline - now)).await;
            interval = (interval * 2).min(options.max_interval);
        }
    }

    /// The platform's capabilities (the services registered on it, with their consumers).
    pub async fn capabilities(&self) -> Result<Vec<PlatformCapability>, Error> {
        self.http
            .execute(ApiRequest::get(relative(paths::capabilities())))
            .await?
            .json()
            .map_err(Error::from)
    }

    /// The capabilities of one service name. The name is sent as `ser_name`, and the answer is filtered here
    /// too: EdgeGallery's MEP ignores `ser_name` and answers every capability (mepserver
    /// `mm5/plans/capability_all_get.go`), `mec-mep` filters by it (but not in its EdgeGallery profile).
    pub async fn capabilities_named(
        &self,
        ser_name: &str,
    ) -> Result<Vec<PlatformCapability>, Error> {
        let mut all: Vec<PlatformCapability> = self
            .http
            .execute(ApiRequest::get(relative(paths::capabilities())).query("ser_name", ser_name))
            .await?
            .json()?;
        all.retain(|c| c.capability_name == ser_name);
        Ok(all)
    }

    /// One capability by its id (a `serInstanceId`).
    pub async fn capability(&self, capability_id: &str) -> Result<PlatformCapability, Error> {
        self.http
            .execute(ApiRequest::get(relative(paths::capability(&path_segment(
                capability_id,
            )))))
            .await?
            .json()
            .map_err(Error::from)
    }

    /// Terminates an app instance: the MEP notifies the app and waits for its confirmation.
    pub async fn terminate_app_instance(&self, app_instance_id: &str) -> Result<(), Error> {
        let header = http::HeaderValue::from_str(app_instance_id).map_err(|_| {
            Error::InvalidRequest(format!(
                "app instance id {app_instance_id:?} is not a valid header value"
            ))
        })?;
        self.http
            .execute(
                ApiRequest::delete(relative(mec_mp1::paths::app_instance_termination(
                    &path_segment(app_instance_id).into(),
                )))
                .header(http::HeaderName::from_static("x-appinstanceid"), header),
            )
            .await
            .map(drop)
            .map_err(Error::from)
    }

    /// API call statistics of the last seven days.
    pub async fn call_statistics(&self) -> Result<CallStatistics, Error> {
        let r: GovernResponse<CallStatistics> = self
            .http
            .execute(ApiRequest::get(relative(paths::call_records())))
            .await?
            .json()?;
        Ok(r.data)
    }

    /// Records an API gateway log entry (what Kong's http-log plugin sends).
    pub async fn record_api_call(&self, record: &serde_json::Value) -> Result<(), Error> {
        self.http
            .execute(ApiRequest::post(relative(paths::call_records())).json(record)?)
            .await
            .map(drop)
            .map_err(Error::from)
    }

    /// Subscription statistics.
    pub async fn subscribe_statistic(&self) -> Result<SubscribeStatistic, Error> {
        let r: GovernResponse<SubscribeStatistic> = self
            .http
            .execute(ApiRequest::get(relative(paths::subscribe_statistic())))
            .await?
            .json()?;
        Ok(r.data)
    }

    /// Every registered service, as the governance view lists them.
    pub async fn governed_services(&self) -> Result<Vec<ServiceInfo>, Error> {
        let r: GovernResponse<Option<Vec<ServiceInfo>>> = self
            .http
            .execute(ApiRequest::get(relative(paths::governed_services())))
            .await?
            .json()?;
        Ok(r.data.unwrap_or_default())
    }
}

/// The app-descriptor configuration of one app instance.
#[derive(Clone, Debug)]
pub struct AppConfigs {
    http: HttpClient,
    path: String,
}

impl AppConfigs {
    /// Configures the app instance for the first time; returns the task applying it.
    pub async fn create(&self, config: &AppDConfig) -> Result<TaskProgress, Error> {
        self.http
            .execute(ApiRequest::post(&self.path).json(config)?)
            .await?
            .json()
            .map_err(Error::from)
    }

    /// Replaces the configuration with this full desired set; returns the task applying it.
    pub async fn update(&self, config: &AppDConfig) -> Result<TaskProgress, Error> {
        self.http
            .execute(ApiRequest::put(&self.path).json(config)?)
            .await?
            .json()
            .map_err(Error::from)
    }

    /// The current configuration.
    pub async fn get(&self) -> Result<AppDConfig, Error> {
        self.http
            .execute(ApiRequest::get(&self.path))
            .await?
            .json()
            .map_err(Error::from)
    }

    /// Removes the configuration and its rules; returns the task doing it.
    pub async fn delete(&self) -> Result<TaskProgress, Error> {
        self.http
            .execute(ApiRequest::delete(&self.path))
            .await?
            .json()
            .map_err(Error::from)
    }
}

/// A path made relative to the client's base URL, which may carry a prefix of its own.
fn relative(path: String) -> String {
    path.trim_start_matches('/').to_owned()
}
