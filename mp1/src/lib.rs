//! # mec-mp1
//!
//! ETSI GS MEC 011 (Mp1) for Rust.

pub mod model;
