//! appstore-be's paths, each written once (its controllers: `AppController`, `PackageController`,
//! `AppV2Controller`, `PackageV2Controller`, `CommentController`, `AppStoreController`,
//! `PushablePackageController`), relative to the client's base URL; and user management's sign-in.

use mec_core::client::path_segment;

/// The root of appstore-be's first API.
pub(crate) const V1: &str = "mec/appstore/v1";
/// The root of its second (pages, queries).
pub(crate) const V2: &str = "mec/appstore/v2";

/// `{root}/apps`.
pub(crate) fn apps(root: &str) -> String {
    format!("{root}/apps")
}

/// `/v1/apps/{appId}`.
pub(crate) fn app(app_id: &str) -> String {
    format!("{}/{}", apps(V1), path_segment(app_id))
}

/// `{root}/packages`: packages across apps.
pub(crate) fn packages(root: &str) -> String {
    format!("{root}/packages")
}

/// `/v1/packages/{packageId}`: a package by its id alone (federation).
pub(crate) fn package_by_id(package_id: &str) -> String {
    format!("{}/{}", packages(V1), path_segment(package_id))
}

/// `{root}/appstores`: the external stores.
pub(crate) fn stores(root: &str) -> String {
    format!("{root}/appstores")
}

/// The same path under the second API (`/v1/apps/x` → `/v2/apps/x`).
pub(crate) fn v2(v1_path: &str) -> String {
    match v1_path.strip_prefix(V1) {
        Some(rest) => format!("{V2}{rest}"),
        None => v1_path.to_owned(),
    }
}

/// User management's sign-in, `POST {user_mgmt}/v1/accesstoken` (user-mgmt `AccessTokenController`).
pub(crate) fn access_token(user_mgmt_url: &str) -> String {
    format!("{}/v1/accesstoken", user_mgmt_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_escaped_and_v2_mirrors_v1() {
        assert_eq!(app("a/b"), "mec/appstore/v1/apps/a%2Fb");
        assert_eq!(v2(&app("a")), "mec/appstore/v2/apps/a");
        assert_eq!(package_by_id("p"), "mec/appstore/v1/packages/p");
        assert_eq!(
            access_token("http://um:8067/"),
            "http://um:8067/v1/accesstoken"
        );
    }
}
