//! What happened inside the mock MEP, in order, for tests to look at: the engine's events, kept in a bounded log.

use mec_mep::{Event, Observer};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

/// Events kept by default, as many as the recorder keeps requests; older ones are forgotten (and counted).
pub(crate) const DEFAULT_EVENT_LIMIT: usize = 1_000;

#[derive(Clone, Debug)]
pub(crate) struct EventLog(Arc<Mutex<Log>>);

#[derive(Debug)]
struct Log {
    events: VecDeque<Event>,
    limit: usize,
    forgotten: u64,
}

impl EventLog {
    /// A log that keeps the last `limit` events.
    pub(crate) fn new(limit: usize) -> Self {
        Self(Arc::new(Mutex::new(Log {
            events: VecDeque::new(),
            limit,
            forgotten: 0,
        })))
    }

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
        if log.limit == 0 {
            log.forgotten += 1;
            return;
        }
        if log.events.len() >= log.limit {
            log.events.pop_front();
            log.forgotten += 1;
        }
        log.events.push_back(event.clone());
    }
}
