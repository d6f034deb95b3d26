//! The AppStore client's error: the store's refusals with its own codes, the HTTP client's failures, what the
//! client refuses before sending, local files, and downloads cut short.

use mec_core::ProblemDetails;
use mec_core::client::Error as HttpError;

/// What went wrong with a call to the AppStore.
///
/// The predicates answer the usual questions without matching: [`is_not_found`](Self::is_not_found),
/// [`is_unauthorized`](Self::is_unauthorized), [`is_timeout`](Self::is_timeout), [`is_refusal`](Self::is_refusal)
/// (the store's own business refusals, which appstore-be answers with a 500)... [`report`](Self::report) says the
/// error and its causes on one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store answered with a non-success status. Its `{"code", "message", "retCode"}` body is read into the
    /// problem: the message as `detail`, `retCode` as the problem's `status` (see
    /// [`store_code`](Self::store_code)).
    #[error("the AppStore answered {status}: {problem}")]
    Api {
        /// The HTTP status code.
        status: u16,
        /// The decoded error body.
        problem: Box<ProblemDetails>,
    },
    /// The HTTP exchange failed: the connection, a timeout, a body too large, a token provider.
    #[error(transparent)]
    Http(HttpError),
    /// The client refused the request before sending it (a file the store would refuse, a page size it does not
    /// take, a comment too long...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// There is no usable access token, or the sign-in answer was not one.
    #[error("authentication: {0}")]
    Auth(String),
    /// The store answered with success and a body the client cannot read.
    #[error("could not decode the {status} answer: {message}")]
    Decode {
        /// The HTTP status code.
        status: u16,
        /// What did not decode.
        message: String,
    },
    /// A download ended before its end: fewer bytes than its `Content-Length`, or a package without the zip end
    /// record every package ends with.
    #[error("the download is incomplete: {0}")]
    Incomplete(String),
    /// A local file could not be read, or a download could not be written.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Waiting for something (a test to end) gave up.
    #[error("timed out waiting: {0}")]
    WaitTimeout(String),
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Api { status, problem } => crate::appstore_problem(status, problem),
            HttpError::Decode { status, message } => Self::Decode { status, message },
            HttpError::InvalidRequest(m) => Self::InvalidRequest(m),
            HttpError::Auth(m) => Self::Auth(m),
            HttpError::Timeout(m) => Self::WaitTimeout(m),
            HttpError::Io { context, source } => Self::Io { context, source },
            other => Self::Http(other),
        }
    }
}

impl Error {
    /// The HTTP status, when the store answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::Decode { status, .. } => Some(*status),
            Self::Http(e) => e.status(),
            _ => None,
        }
    }

    /// The store's error, when it sent one.
    pub fn problem(&self) -> Option<&ProblemDetails> {
        match self {
            Self::Api { problem, .. } => Some(problem),
            _ => None,
        }
    }

    fn api_status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The AppStore's own code (`retCode`: 10031 tampered package, 11002 not tested, ...), when it sent one.
    pub fn store_code(&self) -> Option<u32> {
        self.problem()?
            .extra
            .get("retCode")?
            .as_u64()
            .and_then(|c| u32::try_from(c).ok())
    }

    /// Whether the AppStore refused the request for a reason of its own (a `retCode` other than the generic 1):
    /// sending it again will not help, whatever its HTTP status.
    pub fn is_refusal(&self) -> bool {
        self.store_code().is_some_and(|c| c > 1)
    }

    /// 400: the store found the request malformed.
    pub fn is_bad_request(&self) -> bool {
        self.api_status() == Some(400)
    }

    /// 401: the access token is missing, invalid or expired (or a user named differs from its claims).
    pub fn is_unauthorized(&self) -> bool {
        self.api_status() == Some(401)
    }

    /// 403: the user may not do this (not the owner, not an admin).
    pub fn is_forbidden(&self) -> bool {
        self.api_status() == Some(403)
    }

    /// No such app, package or file: a 404, or the store's own codes for it, which appstore-be answers with a
    /// 500 (10027 app not found, 11001 package not found: its `ResponseConst`).
    pub fn is_not_found(&self) -> bool {
        self.api_status() == Some(404) || matches!(self.store_code(), Some(10027 | 11001))
    }

    /// 409: the entry exists already or is not in a state that allows this.
    pub fn is_conflict(&self) -> bool {
        self.api_status() == Some(409)
    }

    /// The request did not reach the store or its answer did not come back (timeouts included).
    pub fn is_transport(&self) -> bool {
        matches!(self, Self::Http(e) if e.is_transport())
    }

    /// A timeout: of the connection, of a request, of a stalled transfer, or of a wait.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::WaitTimeout(_)) || matches!(self, Self::Http(e) if e.is_timeout())
    }

    /// An answer passed its size limit (an icon above [`MAX_ICON`](crate::MAX_ICON), a video above
    /// [`MAX_VIDEO`](crate::MAX_VIDEO)...).
    pub fn is_too_large(&self) -> bool {
        matches!(self, Self::Http(e) if e.is_too_large())
    }

    /// The client refused the request before sending it.
    pub fn is_invalid_request(&self) -> bool {
        matches!(self, Self::InvalidRequest(_))
    }

    /// A download ended before its end.
    pub fn is_incomplete(&self) -> bool {
        matches!(self, Self::Incomplete(_))
    }

    /// Whether the same request may succeed later: transport failures, timeouts, an incomplete download, 408,
    /// 429 and 5xx other than 501, unless the store said why it refused ([`is_refusal`](Self::is_refusal)).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http(e) => e.is_retryable(),
            Self::WaitTimeout(_) | Self::Incomplete(_) => true,
            Self::Api { status, .. } => {
                !self.is_refusal()
                    && (matches!(*status, 408 | 429) || (*status >= 500 && *status != 501))
            }
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
    use mec_core::client::TransportErrorKind;

    fn api(status: u16, body: &str) -> Error {
        Error::from(HttpError::api(
            status,
            ProblemDetails::from_body(status, body.as_bytes()),
        ))
    }

    #[test]
    fn predicates_and_store_codes() {
        assert!(api(404, "{}").is_not_found());
        let missing = api(
            500,
            r#"{"code":500,"message":"App not found","retCode":10027}"#,
        );
        assert!(missing.is_not_found() && missing.is_refusal() && !missing.is_retryable());
        assert!(api(409, "{}").is_conflict());
        assert!(api(401, "{}").is_unauthorized());
        assert!(api(403, "{}").is_forbidden());
        let tampered = api(500, r#"{"code":500,"message":"tampered","retCode":10031}"#);
        assert_eq!(tampered.store_code(), Some(10031));
        assert!(tampered.is_refusal() && !tampered.is_retryable());
        assert_eq!(
            tampered.to_string(),
            "the AppStore answered 500: tampered (10031)"
        );
        assert!(api(503, "{}").is_retryable());
        let timeout = Error::from(HttpError::Transport {
            kind: TransportErrorKind::Timeout,
            message: "stalled".into(),
            source: None,
        });
        assert!(timeout.is_timeout() && timeout.is_transport() && timeout.is_retryable());
        assert!(
            Error::from(HttpError::TooLarge {
                status: 200,
                limit: 1
            })
            .is_too_large()
        );
        assert!(Error::WaitTimeout("x".into()).is_timeout());
        assert!(Error::InvalidRequest("x".into()).is_invalid_request());
    }

    #[test]
    fn the_display_leaves_the_source_to_the_reporter() {
        let e = Error::from(HttpError::Io {
            context: "reading app.csar".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
        assert_eq!(e.to_string(), "reading app.csar");
        assert_eq!(e.report(), "reading app.csar: no such file");
        let source = HttpError::Transport {
            kind: TransportErrorKind::Connect,
            message: "connection refused".into(),
            source: Some(Box::new(std::io::Error::other("os error 111"))),
        };
        let e = Error::from(source);
        assert_eq!(e.to_string(), "connection failed: connection refused");
        assert_eq!(
            e.report(),
            "connection failed: connection refused: os error 111"
        );
    }
}
