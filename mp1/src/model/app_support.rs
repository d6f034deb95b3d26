//! Readiness and termination confirmations.

use serde::{Deserialize, Serialize};

/// The one readiness indication (`AppReadyConfirmation.indication`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ReadyIndication {
    /// The app is up and running.
    Ready,
}

/// `POST /applications/{appInstanceId}/confirm_ready` body: `{"indication": "READY"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppReadyConfirmation {
    /// Always `READY`.
    pub indication: ReadyIndication,
}

impl AppReadyConfirmation {
    /// The confirmation.
    pub fn ready() -> Self {
        Self {
            indication: ReadyIndication::Ready,
        }
    }
}

/// What the MEP is about to do to an app (`operationAction`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum OperationAction {
    /// Stop it.
    Stopping,
    /// Terminate it.
    Terminating,
}

/// `POST /applications/{appInstanceId}/confirm_termination` body: `{"operationAction": "TERMINATING"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppTerminationConfirmation {
    /// The action being confirmed; matches the one in the notification.
    pub operation_action: OperationAction,
}
