//! Faults on the notifications the mock sends.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Switches that make the mock's notifications misbehave.
#[derive(Clone, Debug, Default)]
pub(crate) struct Faults {
    drop: Arc<AtomicBool>,
    delay_ms: Arc<AtomicU64>,
}

impl Faults {
    pub(crate) fn set_drop_notifications(&self, on: bool) {
        self.drop.store(on, Ordering::SeqCst);
    }

    pub(crate) fn drop_notifications(&self) -> bool {
        self.drop.load(Ordering::SeqCst)
    }

    pub(crate) fn set_notification_delay(&self, d: Duration) {
        self.delay_ms.store(
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }

    pub(crate) fn notification_delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms.load(Ordering::SeqCst))
    }
}
