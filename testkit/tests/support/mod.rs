//! What several of the testkit's test files need: a token request signed as EdgeGallery's clients sign it.

#![allow(clippy::unwrap_used, dead_code)]

use http::{HeaderMap, HeaderValue, Method};
use mec_core::signature::{Credentials, Signer};
use mec_testkit::MockMep;
use std::time::SystemTime;

/// `POST /mep/token` signed with `credentials` (SDK-HMAC-SHA256, as mep-agent and the SDK sign it), dated
/// `signed_at`: ready to send.
pub(crate) fn token_request(
    mep: &MockMep,
    credentials: &Credentials,
    signed_at: SystemTime,
) -> reqwest::RequestBuilder {
    let url = format!("{}/token", mep.mep_url());
    let uri: http::Uri = url.parse().unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(
        "host",
        HeaderValue::from_str(&mep.addr().to_string()).unwrap(),
    );
    Signer::new(credentials.clone()).sign(&Method::POST, &uri, &mut headers, b"", signed_at);
    reqwest::Client::new().post(url).headers(headers)
}
