//! # mec-mep
//!
//! A MEC platform (MEP) you can run: the engine behind ETSI GS MEC 011 Mp1, EdgeGallery's Mm5 and MEP-auth, over a
//! pluggable [`store`].

pub mod store;

pub mod engine;
mod header_case;

pub use engine::{AppState, Engine, EngineConfig, Event, Observer, OpenError};
pub mod auth;
pub mod seed;

pub use seed::{AppInstance, Seed, SeedError};
pub mod config;
pub mod dns;
pub mod profile;
pub use profile::Profile;
pub mod run;
pub mod server;
