//! What the agent's end-to-end tests share: configuration files, the environment EdgeGallery sets, a client of
//! the local API, and waiting for the agent's state.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::panic)]

use mec_agent::AgentStatus;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

/// How long a test waits for something the agent does after being told to (a bound against hanging, not a
/// measurement: the agent acts as soon as the clock says so).
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A service of `serviceInfoPosts`, EdgeGallery's way (YAML), reached at `uri`.
pub fn service_yaml(name: &str, uri: &str, liveness_interval: Option<u32>) -> String {
    let liveness = liveness_interval
        .map(|n| format!("    livenessInterval: {n}\n"))
        .unwrap_or_default();
    format!(
        "  - serName: {name}
    serCategory:
      href: /example/catalogue1
      id: cat-{name}
      name: RNI
      version: v1
    version: 1.0.1
    state: ACTIVE
    transportId: Rest1
    transportInfo:
      id: rest-{name}
      name: REST
      description: REST API
      type: REST_HTTP
      protocol: HTTP
      version: '2.0'
      endpoint:
        uris:
          - {uri}
      security:
        oAuth2Info:
          grantTypes:
            - OAUTH2_CLIENT_CREDENTIALS
          tokenEndpoint: /mep/token
    serializer: JSON
    scopeOfLocality: MEC_HOST
    consumedLocalOnly: true
    isLocal: true
{liveness}"
    )
}

/// A subscription of `serAvailabilityNotificationSubscriptions` to the services named `ser_name`.
pub fn subscription_yaml(callback: &str, ser_name: &str) -> String {
    format!(
        "  - subscriptionType: SerAvailabilityNotificationSubscription
    callbackReference: {callback}
    links:
      self:
        href: /ignored/by/the/agent
    filteringCriteria:
      serNames:
        - {ser_name}
"
    )
}

/// An `app_instance_info.yaml` in a fresh directory (removed when the returned guard is dropped).
pub fn config_file(services: &[String], subscriptions: &[String]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("serviceInfoPosts:\n");
    for s in services {
        text.push_str(s);
    }
    text.push_str("serAvailabilityNotificationSubscriptions:\n");
    for s in subscriptions {
        text.push_str(s);
    }
    if subscriptions.is_empty() {
        text.push_str("  []\n");
    }
    if services.is_empty() {
        text = text.replace("serviceInfoPosts:\n", "serviceInfoPosts: []\n");
    }
    let path = dir.path().join("app_instance_info.yaml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// Waits until the agent's state satisfies `f`.
pub async fn wait_for(
    status: &mut watch::Receiver<AgentStatus>,
    what: &str,
    f: impl FnMut(&AgentStatus) -> bool,
) -> AgentStatus {
    let reached = match tokio::time::timeout(PATIENCE, status.wait_for(f)).await {
        Ok(Ok(s)) => Some(s.clone()),
        Ok(Err(_)) => panic!("the agent stopped before {what}"),
        Err(_) => None,
    };
    match reached {
        Some(s) => s,
        None => panic!(
            "{what}: not reached; the agent is at {:#?}",
            *status.borrow()
        ),
    }
}

/// `GET` on the local API: status and body.
pub async fn get(base: &str, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

/// Reads a whole file into a string (for the config written by a test).
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}
