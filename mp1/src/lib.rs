//! # mec-mp1
//!
//! ETSI GS MEC 011 (Mp1) for Rust: the data model, an async [`client`], server traits and a [`server`] router a
//! vendor mounts, and a [`receiver`] an app mounts to get the MEP's notifications. The client, the receiver and
//! the dispatcher return the crate's [`Error`]; server-side checks answer with problem+json
//! ([`ApiError`](mec_core::server::ApiError)), and [`model::Validate`] names the member at fault
//! ([`model::InvalidMember`], which converts into [`Error::InvalidBody`]).

pub mod client;
mod error;
pub mod model;
pub mod paths;
pub mod receiver;
pub mod server;

pub use error::{Error, HttpError};
