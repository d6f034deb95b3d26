//! The clock of a mock that follows real time: the system clock, shifted forward by every
//! [`MockMep::advance`](super::MockMep::advance), so a mock served to other programs (`mock-mep`) keeps real time
//! (retries, heartbeats and token lifetimes pass as they would) and can still be moved ahead by a test.

use mec_core::{Clock, ManualClock, Sleep};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// The system clock plus an offset that only grows. Clones share the offset.
#[derive(Clone, Debug)]
pub(crate) struct ShiftedClock {
    offset: Arc<Mutex<Duration>>,
    /// Told whenever the offset grows, so sleepers whose deadline it reached wake at once.
    moved: Arc<watch::Sender<u64>>,
}

impl Default for ShiftedClock {
    fn default() -> Self {
        Self {
            offset: Arc::new(Mutex::new(Duration::ZERO)),
            moved: Arc::new(watch::channel(0).0),
        }
    }
}

impl ShiftedClock {
    pub(crate) fn advance(&self, by: Duration) {
        {
            let mut offset = self.offset.lock().unwrap_or_else(PoisonError::into_inner);
            *offset = offset.saturating_add(by);
        }
        self.moved.send_modify(|v| *v = v.wrapping_add(1));
    }

    fn offset(&self) -> Duration {
        *self.offset.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + self.offset()
    }

    fn sleep_until(&self, deadline: SystemTime) -> Sleep {
        let clock = self.clone();
        let mut moved = self.moved.subscribe();
        Box::pin(async move {
            loop {
                let wait = deadline.duration_since(clock.now()).unwrap_or_default();
                if wait.is_zero() {
                    return;
                }
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    changed = moved.changed() => {
                        if changed.is_err() {
                            tokio::time::sleep(wait).await;
                        }
                    }
                }
            }
        })
    }
}

/// The mock's clock: stopped and moved by the test, or following real time.
#[derive(Clone, Debug)]
pub(crate) enum MockClock {
    /// Moves only when advanced.
    Manual(ManualClock),
    /// Real time, shifted forward by advances.
    Shifted(ShiftedClock),
}

impl MockClock {
    pub(crate) fn shared(&self) -> mec_core::SharedClock {
        match self {
            Self::Manual(c) => Arc::new(c.clone()),
            Self::Shifted(c) => Arc::new(c.clone()),
        }
    }

    pub(crate) fn manual(&self) -> Option<&ManualClock> {
        match self {
            Self::Manual(c) => Some(c),
            Self::Shifted(_) => None,
        }
    }

    pub(crate) fn advance(&self, by: Duration) {
        match self {
            Self::Manual(c) => c.advance(by),
            Self::Shifted(c) => c.advance(by),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn advancing_wakes_sleepers_whose_deadline_it_reaches() {
        let clock = ShiftedClock::default();
        let start = clock.now();
        let far = tokio::spawn(clock.sleep_until(start + Duration::from_secs(3600)));
        tokio::task::yield_now().await;
        assert!(!far.is_finished());
        clock.advance(Duration::from_secs(3600));
        tokio::time::timeout(Duration::from_secs(5), far)
            .await
            .expect("the sleeper woke")
            .expect("the sleeper ran");
        assert!(clock.now() >= start + Duration::from_secs(3600));
    }
}
