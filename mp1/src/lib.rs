//! # mec-mp1
//!
//! ETSI GS MEC 011 (Mp1) for Rust: the data model, an async [`client`], server traits and a [`server`] router a
//! vendor mounts, and a [`receiver`] an app mounts to get the MEP's notifications. Every fallible function of
//! the crate but a server handler's returns the crate's [`Error`].

pub mod client;
mod error;
pub mod model;
pub mod paths;
pub mod receiver;
pub mod server;

pub use error::{Error, HttpError};
