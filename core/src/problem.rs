//! `ProblemDetails`, the error body of every MEC API (IETF RFC 9457, as ETSI GS MEC 009 profiles it).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// The media type of a [`ProblemDetails`] body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error body as ETSI MEC APIs send it (`application/problem+json`).
///
/// Reading is lenient: every member is optional, `status` may be a number or a numeric string (EdgeGallery
/// writes its own internal codes there, not the HTTP status), and members this type does not know are kept in
/// [`extra`](Self::extra). Writing always emits `status` and `detail`; the other members only when set.
///
/// ```
/// use mec_core::ProblemDetails;
///
/// let p = ProblemDetails::new(404, "service 42 not found").with_title("Not Found");
/// let json = serde_json::to_string(&p).unwrap();
/// assert_eq!(json, r#"{"title":"Not Found","status":404,"detail":"service 42 not found"}"#);
///
/// let eg: ProblemDetails =
///     serde_json::from_str(r#"{"title":"UnAuthorization","status":11,"detail":"denied"}"#).unwrap();
/// assert_eq!(eg.status, 11);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProblemDetails {
    /// A URI reference that identifies the problem type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// A short, human-readable summary of the problem type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The HTTP status code (ETSI) or, from EdgeGallery's MEP, its internal error code; `0` when absent.
    #[serde(default, deserialize_with = "lenient_status")]
    pub status: u32,
    /// A human-readable explanation specific to this occurrence of the problem; empty when absent.
    #[serde(default, deserialize_with = "lenient_string")]
    pub detail: String,
    /// A URI reference that identifies the specific occurrence of the problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Members not defined above, kept as they were read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ProblemDetails {
    /// A problem with the given status and detail, and nothing else.
    pub fn new(status: u32, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            ..Self::default()
        }
    }

    /// Sets the title.
    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the problem type URI.
    #[must_use]
    pub fn with_type(mut self, type_: impl Into<String>) -> Self {
        self.type_ = Some(type_.into());
        self
    }

    /// Sets the instance URI (usually the request path).
    #[must_use]
    pub fn with_instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    /// Adds an extension member.
    #[must_use]
    pub fn with_extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// Reads a problem from an error response body of any shape a MEP sends.
    ///
    /// A JSON object is read as ProblemDetails; a JSON string (MEP-auth answers `"Invalid access or
    /// signature."`) or plain text becomes the `detail`. When the body carries no status, `http_status`
    /// is used. Never fails.
    pub fn from_body(http_status: u16, body: &[u8]) -> Self {
        let mut problem = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => {
                serde_json::from_value(Value::Object(map)).unwrap_or_default()
            }
            Ok(Value::String(s)) => Self::new(0, s),
            Ok(Value::Null) | Err(_) if body.is_empty() => Self::default(),
            Ok(other) => Self::new(0, other.to_string()),
            Err(_) => Self::new(0, String::from_utf8_lossy(body).trim().to_owned()),
        };
        if problem.status == 0 {
            problem.status = u32::from(http_status);
        }
        problem
    }
}

impl fmt::Display for ProblemDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.title, self.detail.is_empty()) {
            (Some(title), false) => write!(f, "{} ({}): {}", title, self.status, self.detail),
            (Some(title), true) => write!(f, "{} ({})", title, self.status),
            (None, false) => write!(f, "{} ({})", self.detail, self.status),
            (None, true) => write!(f, "status {}", self.status),
        }
    }
}

fn lenient_status<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
        Value::String(s) => s.trim().parse().unwrap_or(0),
        _ => 0,
    })
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_status_and_detail_always_and_skips_unset_members() {
        let json = serde_json::to_value(ProblemDetails::default()).unwrap();
        assert_eq!(json, serde_json::json!({"status": 0, "detail": ""}));
    }

    #[test]
    fn round_trips_every_member_and_keeps_extensions() {
        let text = r#"{"type":"https://example.com/p","title":"T","status":409,"detail":"d","instance":"/x","invalidParams":[{"name":"a"}]}"#;
        let p: ProblemDetails = serde_json::from_str(text).unwrap();
        assert_eq!(p.type_.as_deref(), Some("https://example.com/p"));
        assert_eq!(p.extra["invalidParams"][0]["name"], "a");
        let back: Value = serde_json::to_value(&p).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn reads_bodies_of_every_shape() {
        let p = ProblemDetails::from_body(401, br#""Invalid access or signature.""#);
        assert_eq!(
            (p.status, p.detail.as_str()),
            (401, "Invalid access or signature.")
        );
        let p = ProblemDetails::from_body(502, b"bad gateway\n");
        assert_eq!((p.status, p.detail.as_str()), (502, "bad gateway"));
        let p = ProblemDetails::from_body(404, b"");
        assert_eq!((p.status, p.detail.as_str()), (404, ""));
        let p = ProblemDetails::from_body(404, br#"{"status":"5","detail":7}"#);
        assert_eq!((p.status, p.detail.as_str()), (5, "7"));
        let p = ProblemDetails::from_body(400, b"[1,2]");
        assert_eq!((p.status, p.detail.as_str()), (400, "[1,2]"));
        let p = ProblemDetails::from_body(400, br#"{"status":-3,"detail":null}"#);
        assert_eq!((p.status, p.detail.as_str()), (400, ""));
    }

    #[test]
    fn displays_title_status_and_detail() {
        let p = ProblemDetails::new(404, "gone").with_title("Not Found");
        assert_eq!(p.to_string(), "Not Found (404): gone");
        assert_eq!(ProblemDetails::new(500, "").to_string(), "status 500");
    }
}
