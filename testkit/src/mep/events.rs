//! What happened inside the mock MEP, in order, for tests to look at: the engine's events, kept in a bounded log.

use mec_mep::{Event, Observer};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

/// Events kept; older ones are forgotten (and counted).
const KEPT: usize = 10_000;

#[derive(Clone, Debug, Default)]
pub(crate) struct EventLog(Arc<Mutex<Log>>);

#[derive(Debug, Default)]
struct Log {
    events: VecDeque<Event>,
    forgotten: u64,
}

impl EventLog {
    pub(crate) fn snapshot(&self) -> Vec<Event> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .events
            .iter()
            .cloned()
            .collect()
    }
}

impl EventLog {
    pub(crate) fn clear(&self) {
        let mut log = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        log.events.clear();
        log.forgotten = 0;
    }
}

impl Observer for EventLog {
    fn on_event(&self, event: &Event) {
        let mut log = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if log.events.len() >= KEPT {
            log.events.pop_front();
            log.forgotten += 1;
        }
        log.events.push_back(event.clone());
    }
}
