//! The crate's one error: what went wrong calling a MEP's Mp1 APIs (its refusal, the transport, a body that
//! does not decode), preparing a request, binding a notification receiver or queueing a notification, with
//! `is_*` helpers.
//!
//! Server handlers answer with [`ApiError`](mec_core::server::ApiError) instead: that is the problem+json a
//! server sends, not an error its caller handles.

use crate::model::InvalidMember;
use std::net::SocketAddr;

/// The HTTP client's error, the payload of [`Error::Http`].
pub use mec_core::client::Error as HttpError;

/// What went wrong in `mec-mp1`.
///
/// The questions callers usually ask have helpers: [`is_not_found`](Self::is_not_found),
/// [`is_conflict`](Self::is_conflict), [`is_precondition_failed`](Self::is_precondition_failed),
/// [`is_transport`](Self::is_transport), [`is_retryable`](Self::is_retryable), ...; [`problem`](Self::problem)
/// and [`status`](Self::status) give the MEP's answer. `Display` says what went wrong once; its causes are
/// [sources](std::error::Error::source), and [`report`](Self::report) puts them all on one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An HTTP call to the MEP failed: it answered an error status (with problem details), the request did not
    /// get through or its answer did not come back, the answer did not decode, or no token could be had.
    #[error(transparent)]
    Http(HttpError),
    /// A request was refused before it was sent: a discovery filter ETSI does not allow, an `If-Match` that is
    /// no header value.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A body breaks a rule of ETSI GS MEC 011 (see [`Validate`](crate::model::Validate)).
    #[error("invalid {}: {}", .0.member, .0.reason)]
    InvalidBody(InvalidMember),
    /// A callback URL is not one a MEP can call: not an absolute `http(s)` URL with a host, or an unspecified
    /// address such as `0.0.0.0`.
    #[error("invalid callback URL {url}: {reason}")]
    InvalidCallback {
        /// The URL (or address) refused.
        url: String,
        /// Why.
        reason: String,
    },
    /// A notification receiver could not listen on its address.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The [`NotificationDispatcher`](crate::server::NotificationDispatcher)'s queue is full: deliveries are not
    /// keeping up.
    #[error("the notification queue is full")]
    QueueFull,
    /// The [`NotificationDispatcher`](crate::server::NotificationDispatcher)'s worker has stopped.
    #[error("the notification dispatcher has stopped")]
    DispatcherClosed,
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        Self::Http(e)
    }
}

impl From<InvalidMember> for Error {
    fn from(e: InvalidMember) -> Self {
        Self::InvalidBody(e)
    }
}

impl Error {
    mec_core::http_error_methods!("the MEP");

    /// Whether getting a token failed in a way the MEP did not report (a malformed token answer); a refused
    /// token is [`is_unauthorized`](Self::is_unauthorized).
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Http(HttpError::Auth(_)))
    }

    /// Whether the request was refused before it was sent: an invalid filter, header, body or base URL.
    pub fn is_invalid_request(&self) -> bool {
        matches!(
            self,
            Self::InvalidRequest(_)
                | Self::InvalidBody(_)
                | Self::Http(HttpError::InvalidRequest(_))
        )
    }

    /// Whether a callback URL was refused.
    pub fn is_invalid_callback(&self) -> bool {
        matches!(self, Self::InvalidCallback { .. })
    }

    /// Whether a notification receiver could not listen.
    pub fn is_bind(&self) -> bool {
        matches!(self, Self::Bind { .. })
    }

    /// Whether the notification dispatcher refused a notification because its queue is full.
    pub fn is_queue_full(&self) -> bool {
        matches!(self, Self::QueueFull)
    }

    /// Whether the notification dispatcher has stopped.
    pub fn is_dispatcher_closed(&self) -> bool {
        matches!(self, Self::DispatcherClosed)
    }

    /// Whether trying the same thing again later may succeed: transport failures, timeouts, 408, 429, 5xx other
    /// than 501, and a full dispatcher queue.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http(e) => e.is_retryable(),
            Self::QueueFull => true,
            _ => false,
        }
    }

    /// The error and every cause under it on one line, each said once, for a person to read
    /// (`error sending request ...: client error (Connect): ...: Connection refused`).
    pub fn report(&self) -> String {
        mec_core::client::report(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mec_core::ProblemDetails;
    use mec_core::client::TransportErrorKind;

    fn api(status: u16) -> Error {
        HttpError::api(status, ProblemDetails::new(u32::from(status), "x")).into()
    }

    #[test]
    fn helpers_follow_the_status() {
        assert!(api(404).is_not_found() && !api(404).is_conflict() && !api(404).is_retryable());
        assert!(api(409).is_conflict() && !api(409).is_not_found());
        assert!(api(412).is_precondition_failed() && !api(409).is_precondition_failed());
        assert!(api(401).is_unauthorized() && !api(403).is_unauthorized());
        assert!(api(403).is_forbidden());
        assert!(api(400).is_bad_request());
        assert!(api(503).is_retryable() && !api(501).is_retryable());
        assert_eq!(api(404).status(), Some(404));
        assert_eq!(api(404).problem().map(|p| p.detail.as_str()), Some("x"));
        assert!(!api(404).is_transport() && !api(404).is_timeout());
    }

    #[test]
    fn helpers_tell_the_kinds_apart() {
        let timeout = Error::from(HttpError::Transport {
            kind: TransportErrorKind::Timeout,
            message: "deadline".into(),
            source: None,
        });
        assert!(timeout.is_transport() && timeout.is_timeout() && timeout.is_retryable());
        assert_eq!(timeout.status(), None);
        assert!(timeout.problem().is_none());
        let refused = Error::from(HttpError::Transport {
            kind: TransportErrorKind::Connect,
            message: "refused".into(),
            source: None,
        });
        assert!(refused.is_transport() && !refused.is_timeout());
        let decode = Error::from(HttpError::Decode {
            status: 200,
            message: "x".into(),
        });
        assert!(decode.is_decode() && !decode.is_transport() && decode.status() == Some(200));
        assert!(Error::from(HttpError::Auth("x".into())).is_auth());
        assert!(!api(401).is_auth());
        let invalid = Error::InvalidRequest("x".into());
        assert!(
            invalid.is_invalid_request() && !invalid.is_retryable() && invalid.status().is_none()
        );
        assert!(Error::from(HttpError::InvalidRequest("x".into())).is_invalid_request());
        let body = Error::from(InvalidMember {
            member: "serName".into(),
            reason: "empty".into(),
        });
        assert!(body.is_invalid_request());
        assert_eq!(body.to_string(), "invalid serName: empty");
        assert!(Error::QueueFull.is_queue_full() && Error::QueueFull.is_retryable());
        assert!(
            Error::DispatcherClosed.is_dispatcher_closed()
                && !Error::DispatcherClosed.is_retryable()
        );
        let callback = Error::InvalidCallback {
            url: "ftp://x".into(),
            reason: "not http(s)".into(),
        };
        assert!(callback.is_invalid_callback() && !callback.is_bind());
    }

    #[test]
    fn a_bind_error_says_its_cause_once() {
        let e = Error::Bind {
            addr: "127.0.0.1:1".parse().unwrap(),
            source: std::io::Error::new(std::io::ErrorKind::AddrInUse, "address in use"),
        };
        assert!(e.is_bind());
        assert_eq!(e.to_string(), "cannot listen on 127.0.0.1:1");
        assert_eq!(e.report(), "cannot listen on 127.0.0.1:1: address in use");
    }
}
