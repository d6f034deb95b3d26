//! # mec-testkit
//!
//! A mock MEC platform (MEP) with real behaviour, for the tests of edge apps and for local development.
//!
//! [`MockMep::start`] serves, on 127.0.0.1 and an ephemeral port, the Mp1 APIs of ETSI GS MEC 011 (under both
//! ETSI's layout and EdgeGallery's `/mep` prefix), MEP-auth's token endpoint (`POST /mep/token`, AK/SK
//! signatures verified) and Mm5. It is the production MEP engine (`mec-mep`) on a memory store and a manual clock,
//! so what an app sees is what a real MEP answers: registrations persist, discovery filters work, subscriptions
//! get real HTTP callbacks, termination waits for the app's confirmation, tokens expire.
//!
//! For tests, in wiremock's spirit: every request is recorded ([`MockMep::requests`]); expectations
//! ([`MockMep::expect_confirm_ready`], [`MockMep::expect`], ...) are verified when the mock is dropped, with a
//! report of what was received instead; events can be triggered ([`MockMep::terminate`],
//! [`MockMep::set_service_state`], [`MockMep::expire_tokens`]); faults injected ([`MockMep::inject`],
//! [`MockMep::drop_notifications`]); and the clock is yours ([`MockMep::advance`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mec_testkit::MockMep;
//!
//! let mep = MockMep::start().await;
//! let (app_instance_id, credentials) = mep.app();
//! mep.expect_confirm_ready(&app_instance_id);
//! println!("point your app at {} with AK {}", mep.mep_url(), credentials.access_key());
//! // ... run the app; when `mep` is dropped, the expectation is checked.
//! # Ok(()) }
//! ```
//!
//! [`MockAppStore`] is EdgeGallery's AppStore in memory (packages checked with `mec-csar`, kept on disk), for
//! the AppStore client and publishing pipelines.
//!
//! The `mock-mep` binary serves the same on a port for apps written in any language:
//! `cargo run -p mec-testkit --bin mock-mep`.

#[cfg(feature = "appstore")]
mod appstore;
mod mep;

#[cfg(feature = "appstore")]
pub use appstore::{AppStoreRole, AppStoreUser, MockAppStore};

/// The DNS responder's settings and counters ([`MockMepBuilder::dns_config`], [`MockMep::dns_counters`]).
pub use mec_mep::dns::{DnsConfig, DnsCounters, NotHeld, OverLimit, RateLimitConfig};
pub use mep::{
    Answered, AppInstance, AppState, Claims, DEFAULT_LIVENESS_INTERVAL, DeliveryRecord,
    DeliveryStats, Event, ExpectationStatus, Fault, FaultStatus, MockMep, MockMepBuilder, Profile,
    RecordedRequest, RequestMatcher, Seed, SeedError, StartError, TOKEN_PATH, Times,
    VerificationError,
};
