//! What happened inside the mock MEP, in order, for tests to look at.

use mec_mp1::model::ChangeType;
use std::sync::{Arc, Mutex, PoisonError};

/// Something the mock MEP did or saw, besides answering requests.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A service was added, changed or removed.
    ServiceChanged {
        /// The app instance that owns the service.
        app_instance_id: String,
        /// The service instance.
        ser_instance_id: String,
        /// What changed.
        change_type: ChangeType,
    },
    /// An app instance confirmed it is ready.
    Ready {
        /// The app instance.
        app_instance_id: String,
    },
    /// Termination notifications were sent to an app instance.
    TerminationStarted {
        /// The app instance.
        app_instance_id: String,
    },
    /// An app instance was terminated.
    Terminated {
        /// The app instance.
        app_instance_id: String,
    },
    /// An app instance updated one of its traffic rules.
    TrafficRuleUpdated {
        /// The app instance.
        app_instance_id: String,
        /// The rule.
        traffic_rule_id: String,
    },
    /// An app instance updated one of its DNS rules.
    DnsRuleUpdated {
        /// The app instance.
        app_instance_id: String,
        /// The rule.
        dns_rule_id: String,
    },
    /// A notification was dropped by fault injection.
    NotificationDropped {
        /// Where it would have gone.
        callback: String,
    },
}

/// An append-only, shared list of events.
#[derive(Clone, Debug, Default)]
pub(crate) struct EventLog(Arc<Mutex<Vec<Event>>>);

impl EventLog {
    pub(crate) fn push(&self, e: Event) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(e);
    }

    pub(crate) fn snapshot(&self) -> Vec<Event> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
