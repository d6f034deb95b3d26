//! The client's error: what went wrong with a call (transport, timeout, an answer that is a problem, a body
//! that cannot be read), with `is_*` helpers.

use crate::problem::ProblemDetails;
use std::error::Error as StdError;
use std::fmt;

/// What went wrong at the transport level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, DNS, TLS handshake).
    Connect,
    /// The request or the connection timed out.
    Timeout,
    /// The connection broke while the request or the response was under way.
    Io,
    /// Anything else the HTTP stack reported.
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connection failed",
            Self::Timeout => "timed out",
            Self::Io => "connection broken",
            Self::Other => "transport error",
        })
    }
}

/// The error of every client in the suite.
///
/// A server's refusal is [`Error::Api`], with the HTTP status and the decoded [`ProblemDetails`]; the predicates
/// (`is_not_found`, `is_conflict`, ...) answer the usual questions without matching on numbers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-success status.
    #[error("the server answered {status}: {problem}")]
    Api {
        /// The HTTP status code.
        status: u16,
        /// The decoded error body (from problem+json, a JSON string or plain text).
        problem: Box<ProblemDetails>,
    },
    /// The request did not reach the server, or the answer did not come back.
    #[error("{kind}: {message}")]
    Transport {
        /// The kind of failure.
        kind: TransportErrorKind,
        /// A description of the failure.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn StdError + Send + Sync>>,
    },
    /// The server answered with success but a body that does not decode into the expected type.
    #[error("could not decode the {status} response: {message}")]
    Decode {
        /// The HTTP status code of the response.
        status: u16,
        /// What did not decode.
        message: String,
    },
    /// The request could not be built (a bad base URL, a body that does not serialize, a bad header value).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Getting a token failed in a way the server did not report (for example a malformed token answer).
    #[error("authentication failed: {0}")]
    Auth(String),
    /// A waiting operation (such as waiting for a task to finish) gave up.
    #[error("timed out waiting: {0}")]
    Timeout(String),
    /// An answer's body passed the limit set for it (see `HttpClientBuilder::max_response_body` and
    /// `ResponseStream::limit`); what was read is dropped.
    #[error("the {status} response's body passes the limit of {limit} bytes")]
    TooLarge {
        /// The HTTP status code of the response.
        status: u16,
        /// The limit, in bytes.
        limit: u64,
    },
    /// A local file or writer failed: a body read from a file, a response body written to its destination.
    #[error("{context}")]
    Io {
        /// What was being done (`reading app.csar`, `writing the response body`).
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// An [`Error::Api`] from a status and a problem.
    pub fn api(status: u16, problem: ProblemDetails) -> Self {
        Self::Api {
            status,
            problem: Box::new(problem),
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. }
            | Self::Decode { status, .. }
            | Self::TooLarge { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's problem details, when it sent an error.
    pub fn problem(&self) -> Option<&ProblemDetails> {
        match self {
            Self::Api { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// A transport failure: the request did not reach the server or the answer did not come back (timeouts
    /// included).
    pub fn is_transport(&self) -> bool {
        matches!(self, Self::Transport { .. })
    }

    /// A timeout: of the connection, of the request, of a stalled transfer, or of a waiting operation.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Self::Transport {
                kind: TransportErrorKind::Timeout,
                ..
            } | Self::Timeout(_)
        )
    }

    /// An answer's body passed its limit ([`Error::TooLarge`]).
    pub fn is_too_large(&self) -> bool {
        matches!(self, Self::TooLarge { .. })
    }

    fn api_status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// 400: the server found the request malformed.
    pub fn is_bad_request(&self) -> bool {
        self.api_status() == Some(400)
    }

    /// 401: the credentials or token were refused.
    pub fn is_unauthorized(&self) -> bool {
        self.api_status() == Some(401)
    }

    /// 403: the caller may not do this.
    pub fn is_forbidden(&self) -> bool {
        self.api_status() == Some(403)
    }

    /// 404: the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        self.api_status() == Some(404)
    }

    /// 409: the resource is not in a state that allows this.
    pub fn is_conflict(&self) -> bool {
        self.api_status() == Some(409)
    }

    /// 412: the `If-Match` precondition failed (someone else changed the resource).
    pub fn is_precondition_failed(&self) -> bool {
        self.api_status() == Some(412)
    }

    /// Whether trying the same request again later may succeed: transport failures, timeouts, 408, 429 and
    /// 5xx other than 501.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::Timeout(_) => true,
            Self::Api { status, .. } => {
                matches!(*status, 408 | 429) || (*status >= 500 && *status != 501)
            }
            _ => false,
        }
    }
}

/// Writes, inside `impl Error { ... }` of a crate whose `Error` wraps this [`Error`] in a variant `Http`, the
/// methods it answers through it: `http()`, `status()`, `problem()`, the status predicates `is_bad_request`,
/// `is_unauthorized`, `is_forbidden`, `is_not_found`, `is_conflict`, `is_precondition_failed`, and
/// `is_transport`, `is_timeout`, `is_decode`. `$peer` names the server in their docs (`"the MEP"`). The Mp1 and
/// Mm5 clients' errors are written so, once.
#[macro_export]
macro_rules! http_error_methods {
    ($peer:literal) => {
        /// The HTTP client's error, when an HTTP call failed.
        pub fn http(&self) -> Option<&$crate::client::Error> {
            match self {
                Self::Http(e) => Some(e),
                _ => None,
            }
        }

        #[doc = concat!("The HTTP status, when ", $peer, " answered.")]
        pub fn status(&self) -> Option<u16> {
            self.http().and_then($crate::client::Error::status)
        }

        #[doc = concat!("The problem details ", $peer, " answered, when it answered an error.")]
        pub fn problem(&self) -> Option<&$crate::ProblemDetails> {
            self.http().and_then($crate::client::Error::problem)
        }

        #[doc = concat!("400: ", $peer, " found the request malformed.")]
        pub fn is_bad_request(&self) -> bool {
            self.http().is_some_and($crate::client::Error::is_bad_request)
        }

        /// 401: the credentials or token were refused.
        pub fn is_unauthorized(&self) -> bool {
            self.http().is_some_and($crate::client::Error::is_unauthorized)
        }

        /// 403: the caller may not do this.
        pub fn is_forbidden(&self) -> bool {
            self.http().is_some_and($crate::client::Error::is_forbidden)
        }

        /// 404: the resource does not exist.
        pub fn is_not_found(&self) -> bool {
            self.http().is_some_and($crate::client::Error::is_not_found)
        }

        /// 409: the resource is not in a state that allows this.
        pub fn is_conflict(&self) -> bool {
            self.http().is_some_and($crate::client::Error::is_conflict)
        }

        /// 412: the `If-Match` precondition failed (someone else changed the resource).
        pub fn is_precondition_failed(&self) -> bool {
            self.http()
                .is_some_and($crate::client::Error::is_precondition_failed)
        }

        #[doc = concat!("Whether the request did not reach ", $peer, " or its answer did not come back (connection, TLS, broken connection, timeout).")]
        pub fn is_transport(&self) -> bool {
            self.http().is_some_and($crate::client::Error::is_transport)
        }

        /// Whether a request timed out.
        pub fn is_timeout(&self) -> bool {
            self.http().is_some_and($crate::client::Error::is_timeout)
        }

        #[doc = concat!("Whether ", $peer, " answered success with a body that does not decode.")]
        pub fn is_decode(&self) -> bool {
            matches!(self, Self::Http($crate::client::Error::Decode { .. }))
        }
    };
}

/// An error and every cause under it on one line, each said once (a cause whose text ends the line so far, as a
/// wrapped error's message often does, is not repeated).
pub fn report(error: &(dyn StdError + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = c.source();
    }
    line
}

#[cfg(feature = "client")]
impl Error {
    /// A failure of reqwest's: its kind, its own message, and the error itself as the [source](StdError::source)
    /// (so that the message does not repeat the causes a reporter prints; [`report`](Self::report) gives them
    /// all on one line).
    pub fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_builder() {
            return Self::InvalidRequest(e.to_string());
        }
        let kind = if e.is_timeout() {
            TransportErrorKind::Timeout
        } else if e.is_connect() {
            TransportErrorKind::Connect
        } else if e.is_body() || e.is_request() {
            TransportErrorKind::Io
        } else {
            TransportErrorKind::Other
        };
        Self::Transport {
            kind,
            message: e.to_string(),
            source: Some(Box::new(e)),
        }
    }

    /// The error and every cause under it on one line (`error sending request ...: ...: Connection refused`),
    /// for a person to read.
    pub fn report(&self) -> String {
        report(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates_follow_the_status() {
        let e = |s| Error::api(s, ProblemDetails::new(u32::from(s), "x"));
        assert!(e(404).is_not_found() && !e(404).is_conflict() && !e(404).is_retryable());
        assert!(e(409).is_conflict());
        assert!(e(401).is_unauthorized());
        assert!(e(403).is_forbidden());
        assert!(e(400).is_bad_request());
        assert!(e(412).is_precondition_failed());
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(e(s).is_retryable(), "{s}");
        }
        assert!(!e(501).is_retryable());
        let t = Error::Transport {
            kind: TransportErrorKind::Connect,
            message: "refused".into(),
            source: None,
        };
        assert!(t.is_retryable() && t.status().is_none());
        assert!(!Error::InvalidRequest("x".into()).is_retryable());
        assert_eq!(e(404).problem().map(|p| p.detail.as_str()), Some("x"));
    }

    #[tokio::test]
    async fn a_transport_error_says_its_causes_once() {
        // Nothing listens on port 1 of the loopback address: the connection is refused.
        let e = Error::from_reqwest(reqwest::get("http://127.0.0.1:1/").await.unwrap_err());
        assert!(e.is_retryable());
        let shown = e.to_string();
        let report = e.report();
        let source = StdError::source(&e).unwrap().to_string();
        assert!(shown.ends_with(&source), "{shown}");
        // Each cause appears once in the report, and the Display leaves the causes to the reporter.
        let deepest = {
            let mut c: &dyn StdError = &e;
            while let Some(next) = c.source() {
                c = next;
            }
            c.to_string()
        };
        assert!(!shown.contains(&deepest), "{shown}");
        assert_eq!(report.matches(&deepest).count(), 1, "{report}");
    }

    #[test]
    fn displays_status_and_problem() {
        let e = Error::api(
            404,
            ProblemDetails::new(404, "no such service").with_title("Not Found"),
        );
        assert_eq!(
            e.to_string(),
            "the server answered 404: Not Found (404): no such service"
        );
    }
}
