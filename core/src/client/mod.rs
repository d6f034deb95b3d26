//! Client-side plumbing shared by every client of the suite: the [`Error`] type, and (feature `client`) the
//! [`HttpClient`] with its authentication, streamed and multipart bodies.

#[cfg(feature = "client")]
mod body;
mod error;
#[cfg(feature = "client")]
mod http;
#[cfg(feature = "client")]
mod token;

#[cfg(feature = "client")]
pub use body::{Multipart, Part};
pub use error::{Error, TransportErrorKind, report};
#[cfg(feature = "client")]
pub use http::{
    ApiRequest, ApiResponse, Auth, HttpClient, HttpClientBuilder, ResponseStream, path_segment,
};
#[cfg(feature = "client")]
pub use token::{AkSkTokenProvider, NoAuth, StaticToken, TokenProvider, TokenResponse};
