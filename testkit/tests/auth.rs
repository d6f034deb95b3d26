//! MEP-auth and authorization, enforced by the MEP itself, over HTTP against `MockMep` (the `mec-mep` engine and
//! token service): each hole an outside check found is now refused with the right status and one problem+json
//! body. Rate limits and lockout run on the mock's clock.

#![allow(clippy::unwrap_used)]

mod support;

use mec_core::signature::Credentials;
use mec_mep::auth::AuthConfig;
use mec_testkit::{AppInstance, MockMep};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};
use support::token_request;

const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";
const OTHER: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

async fn mock(config: AuthConfig) -> MockMep {
    MockMep::builder()
        .app(AppInstance::new(APP))
        .app(AppInstance::new(OTHER))
        .auth_config(config)
        .start()
        .await
        .unwrap()
}

fn token_of(mep: &MockMep, app: &str) -> String {
    mep.tokens().issue(app, None).unwrap().access_token
}

/// Asserts one problem+json body with this status; returns its detail.
async fn problem(r: reqwest::Response, status: u16) -> String {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], status);
    body["detail"].as_str().unwrap().to_owned()
}

fn termination_url(mep: &MockMep, app: &str) -> String {
    format!(
        "{}/mec_app_support/v1/applications/{app}/AppInstanceTermination",
        mep.mep_url()
    )
}

#[tokio::test]
async fn app_instance_termination_only_by_the_app_itself_or_the_mep_manager() {
    let mep = mock(AuthConfig::permissive()).await;
    let http = reqwest::Client::new();
    problem(
        http.delete(termination_url(&mep, APP))
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    let by_other = http
        .delete(termination_url(&mep, APP))
        .bearer_auth(token_of(&mep, OTHER))
        .send()
        .await
        .unwrap();
    problem(by_other, 403).await;
    assert_eq!(
        mep.app_state(APP),
        Some(mec_testkit::AppState::Instantiated)
    );
    let by_itself = http
        .delete(termination_url(&mep, APP))
        .bearer_auth(token_of(&mep, APP))
        .send()
        .await
        .unwrap();
    assert_eq!(by_itself.status(), 200);
    assert_eq!(mep.app_state(APP), Some(mec_testkit::AppState::Terminated));
    let by_manager = http
        .delete(termination_url(&mep, OTHER))
        .bearer_auth(mep.mm5_secret().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(by_manager.status(), 200);
}

#[tokio::test]
async fn mm5_needs_the_managers_credential() {
    let mep = mock(AuthConfig::permissive()).await;
    let http = reqwest::Client::new();
    let config = format!(
        "{}/mepcfg/app_lcm/v1/applications/{OTHER}/appd_configuration",
        mep.url()
    );
    let switch_off = json!({"appName": "other", "appSupportMp1": false});
    for r in [
        http.post(&config).json(&switch_off),
        http.get(&config),
        http.get(format!(
            "{}/mepcfg/mec_platform_config/v1/capabilities",
            mep.url()
        )),
        http.post(format!("{}/mep/service_govern/v1/kong_log", mep.url()))
            .json(&json!({})),
        // An app's own token is no Mm5 credential.
        http.post(&config)
            .bearer_auth(token_of(&mep, OTHER))
            .json(&switch_off),
    ] {
        problem(r.send().await.unwrap(), 401).await;
    }
    let with_secret = http
        .post(&config)
        .bearer_auth(mep.mm5_secret().unwrap())
        .json(&switch_off)
        .send()
        .await
        .unwrap();
    assert_eq!(with_secret.status(), 200);
}

#[tokio::test]
async fn an_app_registers_itself_only() {
    let mep = mock(AuthConfig::permissive()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/mec_app_support/v2/registrations", mep.mep_url());
    let token = token_of(&mep, APP);
    let theirs = http
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"appName": "x", "appDId": "d1", "appInstanceId": OTHER, "isInsByMec": true}))
        .send()
        .await
        .unwrap();
    problem(theirs, 403).await;
    let invented = http
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"appName": "x", "appDId": "d1", "appInstanceId": "made-up", "isInsByMec": true}))
        .send()
        .await
        .unwrap();
    problem(invented, 403).await;
    // Without an id, the token's app is registered, and usable with that token.
    let own = http
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"appName": "x", "appDId": "d1", "isInsByMec": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 201);
    let created: Value = own.json().await.unwrap();
    assert_eq!(created["appInstanceId"], APP);
    let read = http
        .get(format!("{url}/{APP}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
}

#[tokio::test]
async fn a_dns_rule_cannot_take_another_apps_domain() {
    let mep = mock(AuthConfig::permissive()).await;
    let rule = |id: &str, domain: &str| {
        serde_json::from_value::<mec_mp1::model::DnsRule>(
            json!({"dnsRuleId": id, "domainName": domain,
            "ipAddressType": "IP_V4", "ipAddress": "192.0.2.1", "ttl": 30, "state": "ACTIVE"}),
        )
        .unwrap()
    };
    mep.put_dns_rule(OTHER, rule("theirs", "bank.example.com"))
        .await
        .unwrap();
    mep.put_dns_rule(APP, rule("mine", "shop.example.com"))
        .await
        .unwrap();
    // Nor through the MEP manager's door for another app.
    assert_eq!(
        mep.put_dns_rule(APP, rule("grab", "bank.example.com"))
            .await
            .unwrap_err()
            .status(),
        403
    );
    let hijack = reqwest::Client::new()
        .put(format!(
            "{}/mec_app_support/v1/applications/{APP}/dns_rules/mine",
            mep.mep_url()
        ))
        .bearer_auth(token_of(&mep, APP))
        .json(&rule("mine", "BANK.example.com"))
        .send()
        .await
        .unwrap();
    let detail = problem(hijack, 403).await;
    assert!(detail.contains("domainName"), "{detail}");
    assert_eq!(mep.dns_rules(APP)[0].domain_name, "shop.example.com");
}

#[tokio::test]
async fn a_termination_subscription_for_another_app_is_refused() {
    let mep = mock(AuthConfig::permissive()).await;
    let r = reqwest::Client::new()
        .post(format!(
            "{}/mec_app_support/v1/applications/{APP}/subscriptions",
            mep.mep_url()
        ))
        .bearer_auth(token_of(&mep, APP))
        .json(
            &json!({"subscriptionType": "AppTerminationNotificationSubscription",
                      "callbackReference": "http://127.0.0.1:9/cb", "appInstanceId": OTHER}),
        )
        .send()
        .await
        .unwrap();
    let detail = problem(r, 400).await;
    assert!(detail.starts_with("appInstanceId"), "{detail}");
}

#[tokio::test]
async fn every_credential_failure_gets_one_message() {
    let mep = mock(AuthConfig::permissive()).await;
    let (_, creds) = mep.app();
    let now = SystemTime::now();
    let unknown = Credentials::new("AAAAAAAAAAAAAAAAAAAA", creds.secret_key());
    let wrong = Credentials::new(creds.access_key(), "x".repeat(64));
    let mut details = Vec::new();
    details.push(
        problem(
            token_request(&mep, &unknown, now).send().await.unwrap(),
            401,
        )
        .await,
    );
    details.push(problem(token_request(&mep, &wrong, now).send().await.unwrap(), 401).await);
    let malformed = reqwest::Client::new()
        .post(format!("{}/token", mep.mep_url()))
        .header(
            "authorization",
            "SDK-HMAC-SHA256 Access=x, SignedHeaders=host, Signature=nothex",
        )
        .header("x-sdk-date", mec_core::format_sdk_date(now))
        .send()
        .await
        .unwrap();
    details.push(problem(malformed, 401).await);
    let no_date = reqwest::Client::new()
        .post(format!("{}/token", mep.mep_url()))
        .header("authorization", "SDK-HMAC-SHA256 Access=QVUJMSUMgS0VZLS0tLS0, SignedHeaders=content-type;host;x-sdk-date, Signature=b726e5f20b4a1520efb455a60127bfe076c2917b51cecb8fddd49ba1d37019b8")
        .send()
        .await
        .unwrap();
    details.push(problem(no_date, 401).await);
    let stale = token_request(&mep, &creds, now - Duration::from_secs(3600))
        .send()
        .await
        .unwrap();
    details.push(problem(stale, 401).await);
    assert!(
        details.iter().all(|d| d == "Invalid access or signature."),
        "{details:?}"
    );
    // The right credentials work; the same signed request again is a replay.
    let good = token_request(&mep, &creds, now);
    let again = good.try_clone().unwrap();
    assert_eq!(good.send().await.unwrap().status(), 200);
    assert_eq!(
        problem(again.send().await.unwrap(), 401).await,
        "Invalid access or signature."
    );
}

#[tokio::test]
async fn token_requests_are_rate_limited_per_address_and_per_key_on_the_clock() {
    let mut config = AuthConfig::permissive();
    config.token_requests_per_minute_per_ip = 5;
    let mep = mock(config).await;
    let http = reqwest::Client::new();
    for _ in 0..5 {
        assert_eq!(
            http.post(format!("{}/token", mep.mep_url()))
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
    }
    let limited = http
        .post(format!("{}/token", mep.mep_url()))
        .send()
        .await
        .unwrap();
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    problem(limited, 429).await;
    mep.advance(Duration::from_secs(60));
    assert_eq!(
        http.post(format!("{}/token", mep.mep_url()))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let mut config = AuthConfig::permissive();
    config.token_requests_per_minute_per_key = 2;
    let mep = mock(config).await;
    let (_, creds) = mep.app();
    let now = SystemTime::now();
    for back in 1..=2 {
        let r = token_request(&mep, &creds, now - Duration::from_secs(back))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = token_request(&mep, &creds, now - Duration::from_secs(3))
        .send()
        .await
        .unwrap();
    problem(r, 429).await;
}

#[tokio::test]
async fn mp1_requests_are_rate_limited_per_token_on_the_clock() {
    let mut config = AuthConfig::permissive();
    config.mp1_requests_per_minute_per_token = 3;
    let mep = mock(config).await;
    let token = token_of(&mep, APP);
    let get = || {
        reqwest::Client::new()
            .get(format!("{}/mec_service_mgmt/v1/services", mep.mep_url()))
            .bearer_auth(&token)
            .send()
    };
    for _ in 0..3 {
        assert_eq!(get().await.unwrap().status(), 200);
    }
    problem(get().await.unwrap(), 429).await;
    // Another token has its own allowance; time restores this one.
    let other = reqwest::Client::new()
        .get(format!("{}/mec_service_mgmt/v1/services", mep.mep_url()))
        .bearer_auth(token_of(&mep, OTHER))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    mep.advance(Duration::from_secs(30));
    assert_eq!(get().await.unwrap().status(), 200);
}

#[tokio::test]
async fn an_access_key_is_locked_after_repeated_failures_then_unlocked() {
    let mut config = AuthConfig::permissive();
    config.lockout_failures = 5;
    let mep = mock(config).await;
    let (_, creds) = mep.app();
    let wrong = Credentials::new(creds.access_key(), "y".repeat(64));
    let now = SystemTime::now();
    for back in 1..=5 {
        let r = token_request(&mep, &wrong, now - Duration::from_secs(back))
            .send()
            .await
            .unwrap();
        problem(r, 401).await;
    }
    // Locked: even the right signature is refused, with EdgeGallery's answer.
    let r = token_request(&mep, &creds, now - Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r, 403).await, "Access is locked.");
    // An unknown key locks the same way, so a lock tells nothing of which keys exist.
    let unknown = Credentials::new("BBBBBBBBBBBBBBBBBBBB", "z".repeat(64));
    for back in 1..=5 {
        token_request(&mep, &unknown, now - Duration::from_secs(back))
            .send()
            .await
            .unwrap();
    }
    let r = token_request(&mep, &unknown, now - Duration::from_secs(6))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r, 403).await, "Access is locked.");
    mep.advance(Duration::from_secs(301));
    let r = token_request(&mep, &creds, now - Duration::from_secs(11))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn the_token_endpoint_serves_only_the_allow_list() {
    let mut config = AuthConfig::permissive();
    config.token_allow_list = vec!["10.0.0.0/8".parse().unwrap()];
    let mep = mock(config).await;
    let (_, creds) = mep.app();
    let r = token_request(&mep, &creds, SystemTime::now())
        .send()
        .await
        .unwrap();
    problem(r, 403).await;
}

#[tokio::test]
async fn tokens_bound_to_their_address_are_refused_from_another() {
    let mut config = AuthConfig::permissive();
    config.bind_client_ip = true;
    let mep = mock(config).await;
    let (_, creds) = mep.app();
    let answer: Value = token_request(&mep, &creds, SystemTime::now())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = answer["access_token"].as_str().unwrap();
    let url = format!("{}/mec_service_mgmt/v1/services", mep.mep_url());
    let from = |ip: [u8; 4]| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .build()
            .unwrap()
            .get(&url)
            .bearer_auth(token)
            .send()
    };
    assert_eq!(from([127, 0, 0, 1]).await.unwrap().status(), 200);
    problem(from([127, 0, 0, 2]).await.unwrap(), 401).await;
}

#[tokio::test]
async fn tokens_verify_with_the_public_key_and_forgeries_are_refused() {
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
    let mep = mock(AuthConfig::permissive()).await;
    let token = token_of(&mep, APP);
    let keys = mep.tokens().signing_keys();
    // A standard JWT library, given only the public key, verifies it.
    let public = DecodingKey::from_rsa_pem(keys.active().public_key_pem().as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::RS512);
    validation.set_issuer(&["mepauth"]);
    let claims = jsonwebtoken::decode::<Value>(&token, &public, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["sub"], APP);
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(keys.active().kid()));

    let mep_url = format!("{}/mec_service_mgmt/v1/services", mep.mep_url());
    let refused = |t: String| {
        let url = mep_url.clone();
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .bearer_auth(t)
                .send()
                .await
                .unwrap();
            problem(r, 401).await
        }
    };
    let parts: Vec<&str> = token.split('.').collect();
    let b64 = |v: &Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    // Re-signed claims under the original signature.
    let mut forged = claims.clone();
    forged["sub"] = json!(OTHER);
    refused(format!("{}.{}.{}", parts[0], b64(&forged), parts[2])).await;
    // alg none.
    refused(format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        parts[1]
    ))
    .await;
    // A key of someone else's, with the right kid.
    let foreign = mec_mep::auth::TokenKey::generate("x").unwrap();
    let mut h = Header::new(Algorithm::RS512);
    h.kid = header.kid.clone();
    let foreign_key = EncodingKey::from_rsa_pem(foreign.private_key_pem().as_bytes()).unwrap();
    refused(jsonwebtoken::encode(&h, &claims, &foreign_key).unwrap()).await;
    // HS512 keyed with the public key (algorithm confusion).
    let mut hs = Header::new(Algorithm::HS512);
    hs.kid = header.kid.clone();
    let confused = EncodingKey::from_secret(keys.active().public_key_pem().as_bytes()).unwrap();
    refused(jsonwebtoken::encode(&hs, &claims, &confused).unwrap()).await;
    // Expired, on the mock's clock.
    mep.advance(Duration::from_secs(3601));
    refused(token).await;
}

#[tokio::test]
async fn terminated_or_revoked_apps_lose_their_tokens_at_once() {
    let mep = mock(AuthConfig::permissive()).await;
    let url = format!("{}/mec_service_mgmt/v1/services", mep.mep_url());
    let get = |t: &str| {
        reqwest::Client::new()
            .get(&url)
            .bearer_auth(t.to_owned())
            .send()
    };
    let token = token_of(&mep, APP);
    assert_eq!(get(&token).await.unwrap().status(), 200);
    mep.engine().revoke_tokens(APP).await.unwrap();
    problem(get(&token).await.unwrap(), 401).await;
    mep.advance(Duration::from_secs(1));
    let fresh = token_of(&mep, APP);
    assert_eq!(get(&fresh).await.unwrap().status(), 200);
    mep.terminate(APP).await.unwrap();
    problem(get(&fresh).await.unwrap(), 401).await;
    let (_, creds) = mep.app();
    let r = token_request(&mep, &creds, SystemTime::now())
        .send()
        .await
        .unwrap();
    problem(r, 401).await;
}
