//! The app's side of notifications: a router that accepts the MEP's callbacks, answers 204, and hands each
//! notification over as a typed [`Notification`].
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mec_mp1::receiver::NotificationReceiver;
//! use mec_mp1::model::Notification;
//!
//! // On every interface, advertising the address the MEP reaches the app at.
//! let (receiver, mut notifications) = NotificationReceiver::bind_advertising(
//!     "0.0.0.0:8080".parse()?,
//!     "http://10.0.0.7:8080/notifications".parse()?,
//! )
//! .await?;
//! println!("subscribe with callbackReference {}", receiver.url());
//! while let Some(received) = notifications.recv().await {
//!     match received.notification {
//!         Notification::AppTermination(t) => println!("terminating in {} s", t.max_graceful_timeout),
//!         other => println!("{other:?}"),
//!     }
//! }
//! # Ok(()) }
//! ```

use crate::Error;
use crate::model::Notification;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, Uri};
use axum::routing::post;
use futures_util::Stream;
use mec_core::server::{ApiError, RawBody};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// The default limit of a notification body.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// A notification as it arrived.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ReceivedNotification {
    /// The notification.
    pub notification: Notification,
    /// The path it was POSTed to (tells subscriptions apart when they use different callback paths).
    pub path: String,
}

impl ReceivedNotification {
    /// `notification`, as POSTed to `path`.
    pub fn new(notification: Notification, path: impl Into<String>) -> Self {
        Self {
            notification,
            path: path.into(),
        }
    }
}

/// Accepts the MEP's notification callbacks.
#[derive(Clone, Debug)]
pub struct NotificationReceiver {
    tx: mpsc::Sender<ReceivedNotification>,
    body_limit: usize,
}

/// The notifications received, in order of arrival. A [`Stream`], or read one at a time with
/// [`recv`](Self::recv).
#[derive(Debug)]
pub struct Notifications {
    rx: mpsc::Receiver<ReceivedNotification>,
}

impl Notifications {
    /// The next notification; `None` once every receiver is gone.
    pub async fn recv(&mut self) -> Option<ReceivedNotification> {
        self.rx.recv().await
    }
}

impl Stream for Notifications {
    type Item = ReceivedNotification;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

impl NotificationReceiver {
    /// A receiver and the stream its notifications arrive on (up to 256 wait unread; past that the MEP is told
    /// to retry with 503).
    pub fn new() -> (Self, Notifications) {
        Self::with_capacity(256)
    }

    /// As [`new`](Self::new), with another buffer size.
    pub fn with_capacity(capacity: usize) -> (Self, Notifications) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (
            Self {
                tx,
                body_limit: DEFAULT_BODY_LIMIT,
            },
            Notifications { rx },
        )
    }

    /// Sets the largest body accepted (413 past it).
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// A router accepting `POST` on any path: mount it (or nest it) where your `callbackReference` points.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", post(receive))
            .route("/{*path}", post(receive))
            .method_not_allowed_fallback(mec_core::server::method_not_allowed_fallback)
            .layer(DefaultBodyLimit::max(self.body_limit))
            .with_state(self.clone())
    }

    /// Serves a receiver on `addr` (port 0 for any free port) until the returned handle is dropped; its
    /// [`url`](BoundReceiver::url) names the address bound. An unspecified address (`0.0.0.0`, `::`) names no
    /// address a MEP could call back, and is refused ([`Error::InvalidCallback`]): use
    /// [`bind_advertising`](Self::bind_advertising). An address that cannot be bound is [`Error::Bind`].
    pub async fn bind(addr: SocketAddr) -> Result<(BoundReceiver, Notifications), Error> {
        if addr.ip().is_unspecified() {
            return Err(Error::InvalidCallback {
                url: addr.to_string(),
                reason: "no address a MEP can call back; bind_advertising names the one it reaches this \
                         receiver at"
                    .to_owned(),
            });
        }
        Self::serve_on(addr, None).await
    }

    /// Serves a receiver on `addr` (often `0.0.0.0:PORT`) until the returned handle is dropped, with `advertised`
    /// (the callback URL the MEP reaches it at, such as `http://10.0.0.7:8080/notifications`) as its
    /// [`url`](BoundReceiver::url). Port 0 in `advertised` is replaced by the port bound. An advertised URL that
    /// is not `http(s)` with a host is [`Error::InvalidCallback`].
    pub async fn bind_advertising(
        addr: SocketAddr,
        advertised: url::Url,
    ) -> Result<(BoundReceiver, Notifications), Error> {
        if !matches!(advertised.scheme(), "http" | "https") || advertised.host_str().is_none() {
            return Err(Error::InvalidCallback {
                url: advertised.to_string(),
                reason: "not an http(s) URL with a host".to_owned(),
            });
        }
        Self::serve_on(addr, Some(advertised)).await
    }

    async fn serve_on(
        addr: SocketAddr,
        advertised: Option<url::Url>,
    ) -> Result<(BoundReceiver, Notifications), Error> {
        let (receiver, notifications) = Self::new();
        let bind_error = |source| Error::Bind { addr, source };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(bind_error)?;
        let local = listener.local_addr().map_err(bind_error)?;
        let url = match advertised {
            Some(mut url) => {
                if url.port() == Some(0) {
                    let _ = url.set_port(Some(local.port()));
                }
                url
            }
            None => url::Url::parse(&format!("http://{local}/notifications")).map_err(|e| {
                Error::InvalidCallback {
                    url: format!("http://{local}/notifications"),
                    reason: e.to_string(),
                }
            })?,
        };
        let router = receiver.router();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "notification receiver stopped");
            }
        });
        Ok((
            BoundReceiver {
                url,
                addr: local,
                _stop: stop,
            },
            notifications,
        ))
    }
}

/// A receiver served on a socket by [`NotificationReceiver::bind`]; stops when dropped.
#[derive(Debug)]
pub struct BoundReceiver {
    url: url::Url,
    addr: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl BoundReceiver {
    /// A callback URL for subscriptions (`http://ADDR/notifications`; any path on the address works).
    pub fn url(&self) -> &url::Url {
        &self.url
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Decodes the body whatever its content type: EdgeGallery sends its termination notification without one.
async fn receive(
    State(r): State<NotificationReceiver>,
    uri: Uri,
    RawBody(body): RawBody,
) -> Result<StatusCode, ApiError> {
    let notification: Notification = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("not an Mp1 notification: {e}")))?;
    r.tx.try_send(ReceivedNotification {
        notification,
        path: uri.path().to_owned(),
    })
    .map_err(|e| match e {
        mpsc::error::TrySendError::Full(_) => ApiError::service_unavailable(
            "the app is not keeping up with notifications; retry later",
        ),
        mpsc::error::TrySendError::Closed(_) => {
            ApiError::service_unavailable("the app no longer reads notifications")
        }
    })?;
    Ok(StatusCode::NO_CONTENT)
}
