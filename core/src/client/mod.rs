//! Client-side plumbing shared by every client of the suite: the [`Error`] type, and (feature `client`) the
//! [`HttpClient`] with its authentication.

mod error;
#[cfg(feature = "client")]
mod http;
#[cfg(feature = "client")]
mod token;

pub use error::{Error, TransportErrorKind, report};
#[cfg(feature = "client")]
pub use http::{ApiRequest, ApiResponse, Auth, HttpClient, HttpClientBuilder, path_segment};
#[cfg(feature = "client")]
pub use token::{AkSkTokenProvider, NoAuth, StaticToken, TokenProvider, TokenResponse};
