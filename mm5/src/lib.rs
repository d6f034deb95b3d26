//! # mec-mm5
//!
//! EdgeGallery's Mm5 interface, by which the MEP manager (MEPM) configures a MEP: which traffic and DNS rules an
//! app instance gets and whether it may use Mp1 (`/mepcfg/app_lcm/v1/...`, applied as asynchronous tasks), what
//! the platform offers (`/mepcfg/mec_platform_config/v1/capabilities`), the termination of app instances, and the
//! service-governance views (`/mep/service_govern/v1/...`).
//!
//! ETSI leaves Mm5 without a REST definition; this crate follows EdgeGallery's MEP (mepserver's `mm5` package),
//! the one deployed. Traffic and DNS rules are `mec-mp1`'s types.
//!
//! - [`Client`]: for a MEP manager, with [`Client::wait_for_task`].
//! - [`server::Mm5`] and [`server::router`]: for a MEP.
//! - [`Error`]: what the client's calls return.

pub mod client;
mod error;
pub mod model;
pub mod paths;
pub mod server;

pub use client::{AppConfigs, Client, ClientBuilder, WaitOptions};
pub use error::{Error, HttpError};
pub use model::{
    AppDConfig, CallStatistics, CapabilityConsumer, ConfigResult, GovernResponse, InvalidMember,
    PlatformCapability, ServiceCalls, SubscribeNum, SubscribeRelation, SubscribeStatistic,
    TaskProgress,
};
