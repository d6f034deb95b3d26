//! # mec-agent
//!
//! `mep-agent`, a sidecar that gives an edge app written in any language the Mp1 side of a MEC platform:
//! a drop-in for EdgeGallery's Go `mep-agent`, configured the same way, on `mec-mp1`'s client.
//!
//! Beside the app (in the same pod, sharing its network namespace) the agent
//!
//! 1. gets a token from MEP-auth with the app's AK/SK, renews it before it expires, and retries with backoff
//!    when that fails;
//! 2. registers the services of `conf/app_instance_info.yaml` (`serviceInfoPosts`), with backoff;
//! 3. makes its availability subscriptions (`serAvailabilityNotificationSubscriptions`);
//! 4. confirms the app is ready;
//! 5. sends each service's heartbeats at the interval the MEP asks for (`PATCH`, or `PUT` for EdgeGallery's
//!    MEP), registering a service again if the MEP has forgotten it;
//! 6. on shutdown (SIGTERM for the binary), deregisters the services, deletes the subscriptions and exits;
//!
//! and serves the app, on `127.0.0.1:8080` by default, EdgeGallery's local API:
//!
//! | request | answer |
//! |---|---|
//! | `GET /mep-agent/v1/token` | 412 before the first token; then 200 `{"access_token", "token_type", "expires_in"}` (`expires_in`: seconds left) |
//! | `GET /mep-agent/v1/endpoint/{serName}` | 200 with the first matching service's `transportInfo.endpoint` (`{"uris", "addresses", "alternative"}`); 400 `"Service does not exist."`; 502 problem+json when the MEP cannot be asked |
//! | `GET /mep-agent/v1/health` | the agent's [`AgentStatus`]: 200 when running with everything registered, else 503 |
//!
//! **Who can reach the local API**: it hands out the app's token, so it listens on loopback only unless told
//! otherwise. In Kubernetes the containers of a pod share the loopback interface, so the app (and any other
//! container of the pod) can call it; nothing outside the pod can. Listening on another address gives the
//! token to everyone who can reach that address (the agent warns when it starts).
//!
//! ```no_run
//! # async fn run() -> Result<(), mec_agent::Error> {
//! use mec_agent::{Agent, AgentClock, Settings};
//!
//! // The environment as EdgeGallery sets it, then flags on top.
//! let config = Settings::from_env(|k| std::env::var(k).ok()).resolve()?;
//! let agent = Agent::bind(config, AgentClock::system()).await?;
//! agent.run_until(async { tokio::signal::ctrl_c().await.ok(); }).await
//! # }
//! ```
//!
//! Tests run the agent on a manual clock shared with `mec_testkit::MockMep`
//! ([`AgentClock::manual`] around `mep.clock()`), so renewals, heartbeats and backoff happen when the test
//! moves the clock, never after a real wait; [`Agent::status`] says when they did.

mod agent;
mod api;
mod clock;
mod config;
mod error;
mod status;
mod token;

pub use agent::Agent;
pub use api::SERVICE_DOES_NOT_EXIST;
pub use clock::{AgentClock, Backoff};
pub use config::{
    AgentConfig, AppInstanceInfo, DEFAULT_CONFIG_PATH, DEFAULT_LISTEN, EDGEGALLERY_HTTP_PORT,
    MAX_CONFIG_BYTES, MAX_SERVICES, MAX_SUBSCRIPTIONS, SECRET_ENV, Settings, TlsSettings,
};
pub use error::Error;
pub use mec_mp1::client::LivenessMethod;
pub use status::{
    AgentStatus, Phase, Registration, ServiceStatus, SubscriptionStatus, TokenStatus,
};
