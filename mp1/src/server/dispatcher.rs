//! Notification delivery for servers that keep no outbox of their own: POSTs to callbacks with timeouts and
//! retries, and a report of each outcome.

use crate::Error;
use bytes::Bytes;
use serde::Serialize;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, broadcast, mpsc};

/// How a [`NotificationDispatcher`] delivers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DispatcherConfig {
    /// Deliveries in flight at once (default 16).
    pub concurrency: usize,
    /// Notifications waiting to be delivered before [`NotificationDispatcher::dispatch`] refuses more (default 1024).
    pub queue_capacity: usize,
    /// Time limit of one delivery attempt (default 5 s).
    pub timeout: Duration,
    /// Attempts per notification, the first included (default 3).
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each further attempt (default 200 ms).
    pub initial_backoff: Duration,
    /// Longest wait between attempts (default 5 s).
    pub max_backoff: Duration,
    /// Accept any TLS certificate of a callback server (EdgeGallery's MEP does; default false).
    pub danger_accept_invalid_certs: bool,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            concurrency: 16,
            queue_capacity: 1024,
            timeout: Duration::from_secs(5),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            danger_accept_invalid_certs: false,
        }
    }
}

impl DispatcherConfig {
    /// The defaults (see each field).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the deliveries in flight at once.
    #[must_use]
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Sets how many notifications may wait to be delivered.
    #[must_use]
    pub fn with_queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// Sets the time limit of one delivery attempt.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the attempts per notification, the first included.
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets the first wait between attempts and the longest.
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Accepts any TLS certificate of a callback server.
    #[must_use]
    pub fn with_danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.danger_accept_invalid_certs = accept;
        self
    }

    /// The wait before attempt `attempt` (2 for the first retry).
    pub fn backoff(&self, attempt: u32) -> Duration {
        retry_backoff(self.initial_backoff, self.max_backoff, attempt)
    }
}

/// The wait before notification attempt `attempt` (2 for the first retry): `initial`, doubled at each further
/// retry, never more than `max`. The dispatcher and the `mec-mep` engine's delivery both wait so.
pub fn retry_backoff(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(2).min(30);
    initial.saturating_mul(1u32 << doublings).min(max)
}

/// How a delivery ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryOutcome {
    /// The callback answered 2xx.
    Delivered {
        /// The status it answered.
        status: u16,
    },
    /// Every attempt failed, or the callback refused the notification with a 4xx that retrying cannot change.
    Failed {
        /// What the last attempt got.
        reason: String,
    },
}

/// What happened to one notification.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryReport {
    /// Where it was sent.
    pub callback: String,
    /// Attempts made.
    pub attempts: u32,
    /// How it ended.
    pub outcome: DeliveryOutcome,
}

struct Job {
    callback: url::Url,
    body: Bytes,
}

/// Delivers notifications to their callbacks in the background: bounded concurrency, a time limit per attempt,
/// retries with exponential backoff on transport errors, 408, 429 and 5xx. [`dispatch`](Self::dispatch) never
/// waits for the network, so the request that caused a notification is never held up by it. Cheap to clone.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use mec_mp1::server::{DispatcherConfig, NotificationDispatcher};
///
/// let dispatcher = NotificationDispatcher::start(DispatcherConfig::default())?;
/// let mut reports = dispatcher.reports();
/// dispatcher.dispatch("http://10.0.0.7:8080/notify", &serde_json::json!({"notificationType": "AppTerminationNotification"}))?;
/// let report = reports.recv().await?;
/// println!("{report:?}");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct NotificationDispatcher {
    tx: mpsc::Sender<Job>,
    reports: broadcast::Sender<DeliveryReport>,
}

impl fmt::Debug for NotificationDispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotificationDispatcher")
            .field("queued", &(self.tx.max_capacity() - self.tx.capacity()))
            .finish_non_exhaustive()
    }
}

impl NotificationDispatcher {
    /// Starts the delivery worker on the current tokio runtime. It stops when every clone is dropped and the
    /// queue is empty.
    ///
    /// The HTTP client (and its TLS roots, which take milliseconds to load) is built when the first
    /// notification is delivered, so starting a dispatcher costs next to nothing.
    pub fn start(config: DispatcherConfig) -> Result<Self, Error> {
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        let (reports, _) = broadcast::channel(1024);
        tokio::spawn(run(rx, Arc::new(config), reports.clone()));
        Ok(Self { tx, reports })
    }

    /// Queues a notification for delivery to `callback` and returns at once. Refused with
    /// [`Error::InvalidCallback`] when the callback is not an absolute `http(s)` URL, [`Error::InvalidRequest`]
    /// when the notification does not serialize, [`Error::QueueFull`] when deliveries are not keeping up, and
    /// [`Error::DispatcherClosed`] when the worker has stopped.
    pub fn dispatch<T: Serialize + ?Sized>(
        &self,
        callback: &str,
        notification: &T,
    ) -> Result<(), Error> {
        let invalid = |reason: String| Error::InvalidCallback {
            url: callback.to_owned(),
            reason,
        };
        let url = url::Url::parse(callback).map_err(|e| invalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("not an http(s) URL".to_owned()));
        }
        let body = serde_json::to_vec(notification).map_err(|e| {
            Error::InvalidRequest(format!("the notification does not serialize: {e}"))
        })?;
        self.tx
            .try_send(Job {
                callback: url,
                body: Bytes::from(body),
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => Error::QueueFull,
                mpsc::error::TrySendError::Closed(_) => Error::DispatcherClosed,
            })
    }

    /// A stream of delivery reports from now on (lagging receivers lose the oldest).
    pub fn reports(&self) -> broadcast::Receiver<DeliveryReport> {
        self.reports.subscribe()
    }
}

async fn run(
    mut rx: mpsc::Receiver<Job>,
    config: Arc<DispatcherConfig>,
    reports: broadcast::Sender<DeliveryReport>,
) {
    let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let mut client: Option<reqwest::Client> = None;
    while let Some(job) = rx.recv().await {
        let http = match &client {
            Some(c) => c.clone(),
            None => match reqwest::Client::builder()
                .timeout(config.timeout)
                .tls_danger_accept_invalid_certs(config.danger_accept_invalid_certs)
                .build()
            {
                Ok(c) => client.insert(c).clone(),
                Err(e) => {
                    let _ = reports.send(DeliveryReport {
                        callback: job.callback.to_string(),
                        attempts: 0,
                        outcome: DeliveryOutcome::Failed {
                            reason: format!("cannot build the HTTP client: {e}"),
                        },
                    });
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let (http, config, reports) = (http.clone(), config.clone(), reports.clone());
        tokio::spawn(async move {
            let report = deliver(&http, &config, job).await;
            match &report.outcome {
                DeliveryOutcome::Delivered { status } => {
                    tracing::debug!(callback = %report.callback, status, attempts = report.attempts, "notification delivered");
                }
                DeliveryOutcome::Failed { reason } => {
                    tracing::warn!(callback = %report.callback, %reason, attempts = report.attempts, "notification not delivered");
                }
            }
            let _ = reports.send(report);
            drop(permit);
        });
    }
}

async fn deliver(http: &reqwest::Client, config: &DispatcherConfig, job: Job) -> DeliveryReport {
    let max_attempts = config.max_attempts.max(1);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = http
            .post(job.callback.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(job.body.clone())
            .send()
            .await;
        let (retryable, reason) = match result {
            Ok(r) if r.status().is_success() => {
                return DeliveryReport {
                    callback: job.callback.to_string(),
                    attempts,
                    outcome: DeliveryOutcome::Delivered {
                        status: r.status().as_u16(),
                    },
                };
            }
            Ok(r) => {
                let s = r.status().as_u16();
                (
                    matches!(s, 408 | 429) || s >= 500,
                    format!("the callback answered {s}"),
                )
            }
            Err(e) => (true, transport_reason(&e)),
        };
        if !retryable || attempts >= max_attempts {
            return DeliveryReport {
                callback: job.callback.to_string(),
                attempts,
                outcome: DeliveryOutcome::Failed { reason },
            };
        }
        tokio::time::sleep(config.backoff(attempts + 1)).await;
    }
}

fn transport_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection failed".to_owned()
    } else {
        "transport error".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let c = DispatcherConfig {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            ..DispatcherConfig::default()
        };
        assert_eq!(c.backoff(2), Duration::from_millis(100));
        assert_eq!(c.backoff(3), Duration::from_millis(200));
        assert_eq!(c.backoff(4), Duration::from_millis(350));
        assert_eq!(c.backoff(u32::MAX), Duration::from_millis(350));
    }
}
