//! What a handler knows about a request besides its path and body: the caller, the mount point, `If-Match`,
//! and the origin that makes links absolute.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use mec_core::server::ApiError;
use std::convert::Infallible;

/// The authenticated caller of a request: the app instance a bearer token was issued to.
///
/// An authentication layer (such as [`require_bearer`](super::require_bearer)) inserts it into the request's
/// extensions; the router then refuses requests on `/applications/{appInstanceId}/...` made by another app.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Caller {
    /// The caller's app instance id.
    pub app_instance_id: String,
}

impl Caller {
    /// The app instance `app_instance_id`.
    pub fn new(app_instance_id: impl Into<String>) -> Self {
        Self {
            app_instance_id: app_instance_id.into(),
        }
    }
}

/// The external base URL of the server (`https://mep.example:8443`), as a server inserts it into requests'
/// extensions: links and `Location` headers start with it. Without it they start with the request's scheme
/// ([`RequestScheme`]) and `Host`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl(pub String);

/// The scheme a request came in with (`https` over TLS), as a server inserts it into requests' extensions
/// (default `http`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestScheme(pub &'static str);

/// What a handler knows about the request besides its path and body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestContext {
    /// The authenticated caller, when an authentication layer is in front of the router.
    pub caller: Option<Caller>,
    /// The path prefix the router is mounted under (`""` for ETSI's layout, `"/mep"` for EdgeGallery's), used
    /// to build links and `Location` headers.
    pub base_path: String,
    /// The value of the `If-Match` header, if any.
    pub if_match: Option<String>,
    /// Scheme and authority (and any prefix) that make links absolute (MEC 011 `LinkType.href` is a URI): the
    /// server's [`PublicUrl`], else the request's scheme and `Host`; `None` leaves links relative.
    pub origin: Option<String>,
    /// The version of the application support API the request came in on (`v1`, or `v2` for MEC 011 3.x).
    pub app_support_version: String,
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

    /// The link to `path` (an absolute path under the API roots, `/mec_service_mgmt/v1/...`): an absolute URI
    /// when the origin is known, else an absolute path under the router's mount point.
    pub fn href(&self, path: &str) -> String {
        format!(
            "{}{}{}",
            self.origin.as_deref().unwrap_or_default(),
            self.base_path,
            path
        )
    }

    /// The path to `path` under the router's mount point, without origin (what EdgeGallery's clients append
    /// to the MEP's address themselves).
    pub fn path(&self, path: &str) -> String {
        format!("{}{}", self.base_path, path)
    }

    /// The root of the application support API in the version the request came in on
    /// (`/mec_app_support/v1` or `/mec_app_support/v2`).
    pub fn app_support_root(&self) -> String {
        let v = if self.app_support_version.is_empty() {
            "v1"
        } else {
            self.app_support_version.as_str()
        };
        crate::paths::app_support(v)
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

/// What precedes the first API name ([`crate::paths::API_NAMES`]) in the request path: the mount point.
fn base_path_of(path: &str) -> String {
    crate::paths::API_NAMES
        .iter()
        .filter_map(|root| path.find(root))
        .min()
        .map(|i| path.get(..i).unwrap_or_default().to_owned())
        .unwrap_or_default()
}

/// The version segment after `/mec_app_support/`, if the path has one.
fn app_support_version_of(path: &str) -> String {
    path.split_once("/mec_app_support/")
        .and_then(|(_, rest)| rest.split('/').next())
        .filter(|v| v.starts_with('v') && v.len() <= 4)
        .unwrap_or("v1")
        .to_owned()
}

/// A `Host` value fit to be put in a link: a host name or address and an optional port, nothing else.
fn plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'))
}

fn origin_of(parts: &Parts) -> Option<String> {
    if let Some(PublicUrl(url)) = parts.extensions.get::<PublicUrl>() {
        return Some(url.trim_end_matches('/').to_owned());
    }
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()))
        .filter(|h| plausible_host(h))?;
    let scheme = parts
        .extensions
        .get::<RequestScheme>()
        .map_or("http", |s| s.0);
    Some(format!("{scheme}://{host}"))
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
            origin: origin_of(parts),
            app_support_version: app_support_version_of(&path),
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
    fn the_app_support_version_comes_from_the_path() {
        assert_eq!(
            app_support_version_of("/mep/mec_app_support/v2/registrations"),
            "v2"
        );
        assert_eq!(
            app_support_version_of("/mec_app_support/v1/timing/current_time"),
            "v1"
        );
        assert_eq!(
            app_support_version_of("/mec_service_mgmt/v1/services"),
            "v1"
        );
    }

    #[test]
    fn hosts_that_are_not_hosts_make_no_links() {
        assert!(plausible_host("mep.example:8443"));
        assert!(plausible_host("[::1]:80"));
        assert!(!plausible_host("evil.example/<script>"));
        assert!(!plausible_host(""));
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
