//! # mec-core
//!
//! The ground the MEC SDK crates stand on:
//!
//! - [`ProblemDetails`], the error body of every MEC API;
//! - [`server::ApiError`] (feature `server`), which a handler returns and which renders as one
//!   `application/problem+json` response, and extractors whose rejections do the same;
//! - [`client::Error`], the error of every client, with the HTTP status and the decoded problem, and
//!   (feature `client`) [`client::HttpClient`], the HTTP base of the clients, with AK/SK token renewal, streamed
//!   and multipart request bodies and streamed answers;
//! - [`signature`], EdgeGallery MEP-auth's `SDK-HMAC-SHA256` request signature, signer and verifier;
//! - [`TimeStamp`] and an injectable [`Clock`];
//! - [`wire`]: reading JSON as real peers write it (unknown enum values kept, `""` as absent, keys in any case).
//!
//! ```
//! use mec_core::signature::{Credentials, Signer, Verifier};
//! use mec_core::{ManualClock, ProblemDetails};
//! use std::time::SystemTime;
//!
//! // An app signs its token request ...
//! let creds = Credentials::new("QVUJMSUMgS0VZLS0tLS0", "DXPb4sqElKhcHe07Kw5uorayETwId1JOjjOIRomRs5wyszoCR5R7AtVa28KT3lSc");
//! let uri: http::Uri = "https://mep.example:8443/mep/token".parse().unwrap();
//! let mut headers = http::HeaderMap::new();
//! headers.insert("content-type", "application/json".parse().unwrap());
//! let now = SystemTime::now();
//! Signer::new(creds.clone()).sign(&http::Method::POST, &uri, &mut headers, b"", now);
//!
//! // ... and the MEP checks it.
//! let verifier = Verifier::new([creds], ManualClock::new(now));
//! assert!(verifier.verify(&http::Method::POST, &uri, &headers, b"").is_ok());
//!
//! // Errors travel as ProblemDetails.
//! let problem = ProblemDetails::new(401, "Invalid access or signature.");
//! assert_eq!(problem.status, 401);
//! ```
//!
//! ## Features
//! - `client` (default): [`client::HttpClient`] and token providers (reqwest with rustls).
//! - `server` (default): [`server::ApiError`] and problem+json extractors for axum.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod client;
mod problem;
#[cfg(feature = "server")]
pub mod server;
pub mod signature;
mod time;
pub mod wire;

#[doc(hidden)]
pub use serde as __serde;

pub use problem::{PROBLEM_JSON, ProblemDetails};
pub use time::{
    Clock, ManualClock, SharedClock, Sleep, SystemClock, TimeStamp, format_sdk_date,
    parse_sdk_date, system_clock,
};
