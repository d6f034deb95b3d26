//! The agent's one error type.

use std::net::SocketAddr;
use std::path::PathBuf;

/// What stops the agent from starting or running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration (environment, flags or `app_instance_info.yaml`) is missing something or is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// A file named by the configuration could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The local API could not listen on its address.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The MEP refused a request in a way retrying cannot fix (for instance 400 for a service description, or
    /// 401 for the credentials).
    #[error("{operation}: the MEP refused it")]
    Refused {
        /// What the agent was doing.
        operation: String,
        /// The MEP's answer.
        source: mec_mp1::Error,
    },
    /// A request kept failing until the retries ran out.
    #[error("{operation}: gave up after {attempts} attempt(s)")]
    GaveUp {
        /// What the agent was doing.
        operation: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        source: mec_mp1::Error,
    },
}

impl Error {
    /// Whether the configuration is at fault.
    pub fn is_config(&self) -> bool {
        matches!(self, Self::Config(_) | Self::Io { .. })
    }

    /// Whether the local API could not listen.
    pub fn is_listen(&self) -> bool {
        matches!(self, Self::Listen { .. })
    }

    /// Whether the MEP refused a request for good.
    pub fn is_refused(&self) -> bool {
        matches!(self, Self::Refused { .. })
    }

    /// Whether the retries of a request ran out.
    pub fn is_gave_up(&self) -> bool {
        matches!(self, Self::GaveUp { .. })
    }

    /// The error and its causes on one line, for logs and for the exit message.
    pub fn report(&self) -> String {
        crate::agent::error_chain(self)
    }

    /// The MEP client's error behind a [`Refused`](Self::Refused) or [`GaveUp`](Self::GaveUp).
    pub fn client_error(&self) -> Option<&mec_mp1::Error> {
        match self {
            Self::Refused { source, .. } | Self::GaveUp { source, .. } => Some(source),
            _ => None,
        }
    }
}
