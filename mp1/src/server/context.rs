use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use mec_core::server::ApiError;
use std::convert::Infallible;

/// The authenticated caller of a request: the app instance a bearer token was issued to.
///
/// An authentication layer (such as [`require_bearer`](super::require_bearer)) inserts it into the request's
/// extensions; the router then refuses requests on `/applications/{appInstanceId}/...` made by another app.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Caller {
    /// The caller's app instance id.
    pub app_instance_id: String,
}

/// What a handler knows about the request besides its path and body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The authenticated caller, when an authentication layer is in front of the router.
    pub caller: Option<Caller>,
    /// The path prefix the router is mounted under (`""` for ETSI's layout, `"/mep"` for EdgeGallery's), used
    /// to build links and `Location` headers.
    pub base_path: String,
    /// The value of the `If-Match` header, if any.
    pub if_match: Option<String>,
}

impl RequestContext {
    /// A context for a request from `caller` on a router mounted at the root.
    pub fn for_caller(app_instance_id: impl Into<String>) -> Self {
        Self {
            caller: Some(Caller {
                app_instance_id: app_instance_id.into(),
            }),
            ..Self::default()
        }
    }

    /// An absolute path under the router's mount point.
    pub fn href(&self, path: &str) -> String {
        format!("{}{}", self.base_path, path)
    }

    /// Refuses the request unless it is unauthenticated or the caller is `app_instance_id` (403).
    pub fn check_owner(&self, app_instance_id: &str) -> Result<(), ApiError> {
        match &self.caller {
            Some(c) if c.app_instance_id != app_instance_id => Err(ApiError::forbidden(format!(
                "the token was issued to app instance {}, not to {app_instance_id}",
                c.app_instance_id
            ))),
            _ => Ok(()),
        }
    }
}

/// The API roots this crate's routers serve; what precedes the first of them in the request path is the mount point.
const API_ROOTS: [&str; 2] = ["/mec_service_mgmt/", "/mec_app_support/"];

fn base_path_of(path: &str) -> String {
    API_ROOTS
        .iter()
        .filter_map(|root| path.find(root))
        .min()
        .map(|i| path.get(..i).unwrap_or_default().to_owned())
        .unwrap_or_default()
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path().to_owned(), |u| u.path().to_owned());
        Ok(Self {
            caller: parts.extensions.get::<Caller>().cloned(),
            base_path: base_path_of(&path),
            if_match: parts
                .headers
                .get(http::header::IF_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_path_is_what_precedes_the_api_root() {
        assert_eq!(base_path_of("/mec_service_mgmt/v1/services"), "");
        assert_eq!(
            base_path_of("/mep/mec_app_support/v1/timing/current_time"),
            "/mep"
        );
        assert_eq!(
            base_path_of("/a/b/mec_app_support/v2/x/mec_service_mgmt/"),
            "/a/b"
        );
        assert_eq!(base_path_of("/other"), "");
    }

    #[test]
    fn owner_check_only_applies_to_authenticated_callers() {
        assert!(RequestContext::default().check_owner("a").is_ok());
        assert!(RequestContext::for_caller("a").check_owner("a").is_ok());
        assert_eq!(
            RequestContext::for_caller("b")
                .check_owner("a")
                .unwrap_err()
                .status(),
            403
        );
    }
}
