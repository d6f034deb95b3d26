//! # mec-mp1
//!
//! ETSI GS MEC 011 (Mp1) for Rust: the data model, an async [`client`], server traits and a [`server`] router a
//! vendor mounts, and a [`receiver`] an app mounts to get the MEP's notifications.

pub mod client;
pub mod model;
pub mod paths;
pub mod receiver;
pub mod server;

pub use mec_core::client::Error;
