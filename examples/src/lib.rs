//! Runnable examples of the MEC SDK; see the `*.rs` files beside this crate's manifest:
//!
//! - `edge_app.rs`: an edge app's whole life over Mp1 (`cargo run -p mec-examples --example edge_app`).
//! - `publish_pipeline.rs`: build, validate, upload, test and publish a package
//!   (`cargo run -p mec-examples --example publish_pipeline`).
//! - `vendor_mep.rs`: a MEP vendor serving Mp1 from its own storage (`cargo run -p mec-examples --example vendor_mep`).

/// The README's Rust examples, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;
