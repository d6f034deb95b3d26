//! Faults on the notifications the mock sends: dropped, delayed, or failed a number of times.

use mec_mep::engine::{DeliveryInterceptor, Interception};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, Default)]
pub(crate) struct NotificationFaults {
    drop: AtomicBool,
    delay_ms: AtomicU64,
    fail_next: AtomicU32,
}

impl NotificationFaults {
    pub(crate) fn set_drop(&self, on: bool) {
        self.drop.store(on, Ordering::SeqCst);
    }

    pub(crate) fn set_delay(&self, d: Duration) {
        self.delay_ms.store(
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }

    pub(crate) fn fail_next(&self, attempts: u32) {
        self.fail_next.store(attempts, Ordering::SeqCst);
    }

    /// Dropping, the delay, and the attempts still to fail.
    pub(crate) fn state(&self) -> (bool, Duration, u32) {
        (
            self.drop.load(Ordering::SeqCst),
            Duration::from_millis(self.delay_ms.load(Ordering::SeqCst)),
            self.fail_next.load(Ordering::SeqCst),
        )
    }

    pub(crate) fn clear(&self) {
        self.set_drop(false);
        self.set_delay(Duration::ZERO);
        self.fail_next(0);
    }
}

#[async_trait::async_trait]
impl DeliveryInterceptor for NotificationFaults {
    async fn intercept(&self, _callback: &str, _notification: &serde_json::Value) -> Interception {
        if self.drop.load(Ordering::SeqCst) {
            return Interception::Drop("notifications are dropped by the test".to_owned());
        }
        let failing = self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Interception::Fail("failed by the test".to_owned());
        }
        let delay = self.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        Interception::Send
    }
}
