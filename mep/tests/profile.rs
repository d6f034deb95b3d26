//! The `mep` server started from its configuration with `profile: edgegallery`: lcmcontroller's termination of
//! an unknown instance, mepauth's `confs` route on the management listener, and a token request dated in
//! mep-agent's local time, over real sockets; the same configuration in the ETSI profile keeps ETSI's answers.

#![allow(clippy::unwrap_used)]

use http::{HeaderMap, HeaderValue, Method};
use mec_core::signature::{Credentials, Signer};
use mec_mep::Profile;
use mec_mep::config::{ListenerConfig, MepConfig, Mm5Config};
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

const SECRET: &str = "the-mecm-credential-0123456789";
const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd3f";
const AK: &str = "T2c3ZzBrbWxwcTRuYjE=";
const SK: &str = "c2VjcmV0LWtleS1vZi10aGUtbmV3LWFwcC1pbnN0YW5jZS0wMTIzNDU2Nzg5YWJj";

fn config(profile: Profile) -> MepConfig {
    let local = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut c = MepConfig::default();
    c.profile = profile;
    c.mp1 = ListenerConfig::new(local);
    c.mm5 = Some(Mm5Config::new(local).with_bearer_secret(SECRET));
    c
}

async fn token_status(mp1: SocketAddr, signed_at: SystemTime) -> u16 {
    let url = format!("http://{mp1}/mep/token");
    let uri: http::Uri = url.parse().unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("host", HeaderValue::from_str(&mp1.to_string()).unwrap());
    Signer::new(Credentials::new(AK, SK)).sign(&Method::POST, &uri, &mut headers, b"", signed_at);
    let answer = reqwest::Client::new()
        .post(url)
        .headers(headers)
        .send()
        .await
        .unwrap();
    answer.status().as_u16()
}

#[tokio::test]
async fn the_edgegallery_profile_from_the_configuration() {
    for profile in [Profile::EdgeGallery, Profile::Etsi] {
        let mep = config(profile).start().await.unwrap();
        let mm5 = mep.mm5_addr.unwrap();
        let http = reqwest::Client::new();
        let unknown = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
        let terminated = http
            .delete(format!(
                "http://{mm5}/mep/mec_app_support/v1/applications/{unknown}/AppInstanceTermination"
            ))
            .bearer_auth(SECRET)
            .header("X-AppinstanceID", unknown)
            .send()
            .await
            .unwrap();
        let expected = if profile == Profile::EdgeGallery {
            200
        } else {
            404
        };
        assert_eq!(terminated.status(), expected, "{profile}");

        let confs = json!({"authInfo": {"credentials": {"accessKeyId": AK, "secretKey": SK}},
                           "appInfo": {"appName": "face", "requiredServices": []}});
        let url = format!("http://{mm5}/mep/appMng/v1/applications/{APP}/confs");
        let refused = http.put(&url).json(&confs).send().await.unwrap();
        assert_eq!(refused.status(), 401);
        let provisioned = http
            .put(&url)
            .bearer_auth(SECRET)
            .json(&confs)
            .send()
            .await
            .unwrap();
        assert_eq!(provisioned.status(), 200);
        // mep-agent in UTC+8 dates its signature eight hours ahead.
        let local_time = SystemTime::now() + Duration::from_secs(8 * 3600);
        let expected = if profile == Profile::EdgeGallery {
            200
        } else {
            401
        };
        assert_eq!(
            token_status(mep.mp1_addr, local_time).await,
            expected,
            "{profile}"
        );
        assert_eq!(token_status(mep.mp1_addr, SystemTime::now()).await, 200);
        mep.stop().await;
    }
}
