//! Readiness and termination confirmations.

use serde::{Deserialize, Serialize};

mec_core::wire_enum! {
    /// The one readiness indication (`AppReadyConfirmation.indication`).
    pub enum ReadyIndication {
        /// The app is up and running.
        Ready = "READY",
    }
}

/// `POST /applications/{appInstanceId}/confirm_ready` body: `{"indication": "READY"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
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

mec_core::wire_enum! {
    /// What the MEP is about to do to an app (`operationAction`).
    pub enum OperationAction {
        /// Stop it.
        Stopping = "STOPPING",
        /// Terminate it.
        Terminating = "TERMINATING",
    }
}

/// `POST /applications/{appInstanceId}/confirm_termination` body: `{"operationAction": "TERMINATING"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AppTerminationConfirmation {
    /// The action being confirmed; matches the one in the notification.
    pub operation_action: OperationAction,
}

impl AppTerminationConfirmation {
    /// The confirmation of `operation_action`.
    pub fn new(operation_action: OperationAction) -> Self {
        Self { operation_action }
    }
}
