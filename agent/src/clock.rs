//! The agent's sense of time: when tokens are renewed, heartbeats fall due and retries wait. Injected, so tests
//! move it by hand instead of sleeping.

use mec_core::{Clock, ManualClock};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// The clock the agent schedules its work on.
///
/// [`AgentClock::system`] follows the operating system's clock and sleeps with tokio's timer.
/// [`AgentClock::manual`] wraps a [`ManualClock`] (for instance the one of `mec_testkit::MockMep`, so the agent
/// and the MEP share one time): time moves only with [`advance`](Self::advance), which also wakes every sleeper
/// whose deadline has come. Moving the wrapped [`ManualClock`] directly changes the time without waking anyone;
/// call [`wake`](Self::wake) afterwards to let sleepers look again.
///
/// ```
/// use mec_agent::AgentClock;
/// use mec_core::ManualClock;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let clock = AgentClock::manual(ManualClock::new(UNIX_EPOCH));
/// let sleeper = clock.clone();
/// let woke = tokio::spawn(async move { sleeper.sleep_until(UNIX_EPOCH + Duration::from_secs(60)).await });
/// clock.advance(Duration::from_secs(60));
/// woke.await.unwrap();
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct AgentClock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
enum Inner {
    System,
    Manual {
        clock: ManualClock,
        ticks: watch::Sender<u64>,
    },
}

impl AgentClock {
    /// The operating system's clock.
    pub fn system() -> Self {
        Self {
            inner: Arc::new(Inner::System),
        }
    }

    /// A clock moved by hand, sharing its time with `clock`.
    pub fn manual(clock: ManualClock) -> Self {
        Self {
            inner: Arc::new(Inner::Manual {
                clock,
                ticks: watch::Sender::new(0),
            }),
        }
    }

    /// The current time.
    pub fn now(&self) -> SystemTime {
        match &*self.inner {
            Inner::System => SystemTime::now(),
            Inner::Manual { clock, .. } => clock.now(),
        }
    }

    /// Moves a manual clock forward and wakes the sleepers whose deadline has come. Does nothing on the system
    /// clock.
    pub fn advance(&self, by: Duration) {
        if let Inner::Manual { clock, .. } = &*self.inner {
            clock.advance(by);
        }
        self.wake();
    }

    /// Makes every sleeper of a manual clock look at the time again (after the wrapped [`ManualClock`] was moved
    /// directly). Does nothing on the system clock.
    pub fn wake(&self) {
        if let Inner::Manual { ticks, .. } = &*self.inner {
            ticks.send_modify(|t| *t = t.wrapping_add(1));
        }
    }

    /// Waits until the clock reads `deadline` or later.
    pub async fn sleep_until(&self, deadline: SystemTime) {
        match &*self.inner {
            Inner::System => {
                let wait = deadline
                    .duration_since(SystemTime::now())
                    .unwrap_or_default();
                tokio::time::sleep(wait).await;
            }
            Inner::Manual { clock, ticks } => {
                // Subscribing before reading the time means an advance between the two is never missed.
                let mut rx = ticks.subscribe();
                while clock.now() < deadline {
                    if rx.changed().await.is_err() {
                        // The sender lives as long as this clock; unreachable while `self` is borrowed.
                        return;
                    }
                }
            }
        }
    }

    /// Waits for `duration` to pass on this clock.
    pub async fn sleep(&self, duration: Duration) {
        let deadline = self.now() + duration;
        self.sleep_until(deadline).await;
    }
}

/// How failed MEP requests are retried: exponential delays from `initial`, doubled each time up to `max`, for at
/// most `attempts` tries in all (the first included).
///
/// The default (1 s, 2 s, 4 s ... capped at 60 s, 10 attempts) gives a MEP that is still starting about five
/// minutes; EdgeGallery's agent tries a registration 5 times over 5 minutes and a token once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backoff {
    /// The delay after the first failure.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
    /// The number of attempts before giving up (at least 1).
    pub attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            attempts: 10,
        }
    }
}

impl Backoff {
    /// A policy with these numbers (`attempts` below 1 counts as 1).
    pub fn new(initial: Duration, max: Duration, attempts: u32) -> Self {
        Self {
            initial,
            max: max.max(initial),
            attempts: attempts.max(1),
        }
    }

    /// The delay after the `failures`-th failure (1-based): `initial * 2^(failures-1)`, at most `max`.
    pub fn delay(&self, failures: u32) -> Duration {
        let factor = 1u32
            .checked_shl(failures.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(10), 5);
        let delays: Vec<u64> = (1..=6).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
        assert_eq!(b.delay(200), Duration::from_secs(10));
        assert_eq!(Backoff::new(Duration::ZERO, Duration::ZERO, 0).attempts, 1);
    }

    #[tokio::test]
    async fn a_manual_sleeper_wakes_only_when_its_deadline_comes() {
        let clock = AgentClock::manual(ManualClock::new(UNIX_EPOCH));
        let sleeper = clock.clone();
        let task = tokio::spawn(async move {
            sleeper
                .sleep_until(UNIX_EPOCH + Duration::from_secs(10))
                .await;
        });
        clock.advance(Duration::from_secs(9));
        tokio::task::yield_now().await;
        assert!(!task.is_finished());
        clock.advance(Duration::from_secs(1));
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("woke")
            .expect("no panic");
    }

    #[tokio::test]
    async fn moving_the_wrapped_clock_needs_a_wake() {
        let manual = ManualClock::new(UNIX_EPOCH);
        let clock = AgentClock::manual(manual.clone());
        let sleeper = clock.clone();
        let task = tokio::spawn(async move { sleeper.sleep(Duration::from_secs(5)).await });
        tokio::task::yield_now().await;
        manual.advance(Duration::from_secs(5));
        clock.wake();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("woke")
            .expect("no panic");
    }
}
