//! The crate's one error: what went wrong calling a MEP's Mm5 interface (its refusal, the transport, a body
//! that does not decode), preparing a request, or waiting for a configuration task, with `is_*` helpers.
//!
//! Server handlers answer with [`ApiError`](mec_core::server::ApiError) instead: that is the problem+json a
//! server sends, not an error its caller handles.

use crate::model::TaskProgress;
use std::time::Duration;

/// The HTTP client's error, the payload of [`Error::Http`].
pub use mec_core::client::Error as HttpError;

/// What went wrong in `mec-mm5`.
///
/// The questions callers usually ask have helpers: [`is_not_found`](Self::is_not_found),
/// [`is_conflict`](Self::is_conflict), [`is_transport`](Self::is_transport),
/// [`is_task_timed_out`](Self::is_task_timed_out), [`is_retryable`](Self::is_retryable), ...;
/// [`problem`](Self::problem) and [`status`](Self::status) give the MEP's answer. `Display` says what went wrong
/// once; its causes are [sources](std::error::Error::source), and [`report`](Self::report) puts them all on one
/// line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An HTTP call to the MEP failed: it answered an error status (with problem details), the request did not
    /// get through or its answer did not come back, the answer did not decode, or no token could be had.
    #[error(transparent)]
    Http(HttpError),
    /// A request was refused before it was sent (an app instance id that is no header value).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// [`Client::wait_for_task`](crate::Client::wait_for_task) gave up: the task had not finished in time.
    #[error("task {task_id} still {} ({}%) after {waited:?}", .last.config_result, .last.config_phase)]
    TaskTimedOut {
        /// The task.
        task_id: String,
        /// How long it was waited for.
        waited: Duration,
        /// Its progress when the wait gave up.
        last: Box<TaskProgress>,
    },
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        Self::Http(e)
    }
}

impl Error {
    mec_core::http_error_methods!("the MEP");

    /// Whether [`Client::wait_for_task`](crate::Client::wait_for_task) gave up waiting.
    pub fn is_task_timed_out(&self) -> bool {
        matches!(self, Self::TaskTimedOut { .. })
    }

    /// Whether the request was refused before it was sent: an invalid header, body or base URL.
    pub fn is_invalid_request(&self) -> bool {
        matches!(
            self,
            Self::InvalidRequest(_) | Self::Http(HttpError::InvalidRequest(_))
        )
    }

    /// Whether trying the same thing again later may succeed: transport failures, timeouts (a task's
    /// included), 408, 429 and 5xx other than 501.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http(e) => e.is_retryable(),
            Self::TaskTimedOut { .. } => true,
            _ => false,
        }
    }

    /// The error and every cause under it on one line, each said once, for a person to read.
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
    fn helpers_follow_the_status_and_the_kind() {
        assert!(api(404).is_not_found() && !api(404).is_conflict() && !api(404).is_retryable());
        assert!(api(409).is_conflict() && !api(409).is_not_found());
        assert!(api(412).is_precondition_failed());
        assert!(api(401).is_unauthorized() && api(403).is_forbidden() && api(400).is_bad_request());
        assert_eq!(api(404).status(), Some(404));
        assert_eq!(api(404).problem().map(|p| p.detail.as_str()), Some("x"));
        let timeout = Error::from(HttpError::Transport {
            kind: TransportErrorKind::Timeout,
            message: "deadline".into(),
            source: None,
        });
        assert!(timeout.is_transport() && timeout.is_timeout() && !timeout.is_task_timed_out());
        assert!(timeout.status().is_none() && !api(504).is_transport());
        let decode = Error::from(HttpError::Decode {
            status: 200,
            message: "x".into(),
        });
        assert!(decode.is_decode() && !decode.is_retryable());
        assert!(Error::InvalidRequest("x".into()).is_invalid_request());
        assert!(!api(400).is_invalid_request());
    }
}
