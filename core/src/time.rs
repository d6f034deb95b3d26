//! Time on the wire ([`TimeStamp`]) and an injectable [`Clock`], so expiry and retries are testable without
//! sleeping.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time as MEC 011 writes it: seconds and nanoseconds since the Unix epoch.
///
/// ```
/// use mec_core::TimeStamp;
/// let t: TimeStamp = serde_json::from_str(r#"{"seconds":1623770544,"nanoSeconds":468538768}"#).unwrap();
/// assert_eq!(t.seconds, 1_623_770_544);
/// assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"seconds":1623770544,"nanoSeconds":468538768}"#);
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct TimeStamp {
    /// Seconds since the Unix epoch (1970-01-01T00:00:00Z).
    pub seconds: u64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub nano_seconds: u32,
}

impl TimeStamp {
    /// `seconds` since the epoch and `nano_seconds` within the second.
    pub const fn new(seconds: u64, nano_seconds: u32) -> Self {
        Self {
            seconds,
            nano_seconds,
        }
    }

    /// The time stamp of a [`SystemTime`]; times before the epoch become the epoch.
    pub fn from_system_time(t: SystemTime) -> Self {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        Self {
            seconds: d.as_secs(),
            nano_seconds: d.subsec_nanos(),
        }
    }

    /// This time stamp as a [`SystemTime`] (nanoseconds past one second are carried over).
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH
            + Duration::from_secs(self.seconds)
            + Duration::from_nanos(u64::from(self.nano_seconds))
    }
}

impl From<SystemTime> for TimeStamp {
    fn from(t: SystemTime) -> Self {
        Self::from_system_time(t)
    }
}

/// A future that completes when a [`Clock`] reaches a deadline.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of the current time. Library code that depends on time takes one, so tests can control it.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// Completes once this clock reads `deadline` or later: the system clock sleeps (on tokio's timer), a
    /// [`ManualClock`] waits until it is moved there. Background work (retries, sweeps) waits with this, so tests
    /// drive it by moving a manual clock.
    ///
    /// The default implementation sleeps the difference from [`now`](Self::now) on tokio's timer, which is right
    /// for clocks that follow real time.
    fn sleep_until(&self, deadline: SystemTime) -> Sleep {
        let wait = deadline.duration_since(self.now()).unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to. Clones share the same time.
///
/// ```
/// use mec_core::{Clock, ManualClock};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(100));
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(105));
/// ```
///
/// Waiting on it ([`Clock::sleep_until`]) completes only when the clock is moved to the deadline or past it:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use mec_core::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::starting_now();
/// let wake = clock.now() + Duration::from_secs(60);
/// let sleeper = tokio::spawn(clock.sleep_until(wake));
/// clock.advance(Duration::from_secs(60));
/// sleeper.await.unwrap(); // completes: the clock reached the deadline
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    state: Arc<Mutex<ManualState>>,
}

#[derive(Debug)]
struct ManualState {
    now: SystemTime,
    /// Sleepers to wake when the clock moves.
    waiting: Vec<Waker>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: SystemTime) -> Self {
        Self {
            state: Arc::new(Mutex::new(ManualState {
                now: start,
                waiting: Vec::new(),
            })),
        }
    }

    /// A clock stopped at the current system time.
    pub fn starting_now() -> Self {
        Self::new(SystemTime::now())
    }

    /// Moves the clock forward, waking whoever waits for a time now reached.
    pub fn advance(&self, by: Duration) {
        self.update(|now| *now += by);
    }

    /// Sets the clock to `t` (which may be earlier than now).
    pub fn set(&self, t: SystemTime) {
        self.update(|now| *now = t);
    }

    fn update(&self, change: impl FnOnce(&mut SystemTime)) {
        let waiting = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            change(&mut state.now);
            std::mem::take(&mut state.waiting)
        };
        waiting.into_iter().for_each(Waker::wake);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .now
    }

    fn sleep_until(&self, deadline: SystemTime) -> Sleep {
        Box::pin(ManualSleep {
            state: self.state.clone(),
            deadline,
        })
    }
}

/// Waits for a [`ManualClock`] to reach a deadline.
struct ManualSleep {
    state: Arc<Mutex<ManualState>>,
    deadline: SystemTime,
}

impl Future for ManualSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.now >= self.deadline {
            return Poll::Ready(());
        }
        if !state.waiting.iter().any(|w| w.will_wake(cx.waker())) {
            state.waiting.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A shared clock handle, as library types store it.
pub type SharedClock = Arc<dyn Clock>;

/// The system clock as a [`SharedClock`].
pub fn system_clock() -> SharedClock {
    Arc::new(SystemClock)
}

/// The layout of the `x-sdk-date` header: UTC `YYYYMMDDTHHMMSSZ`.
const SDK_DATE: &str = "%Y%m%dT%H%M%SZ";

/// Formats a time as the `x-sdk-date` header value (`20210302T195133Z`).
pub fn format_sdk_date(t: SystemTime) -> String {
    match jiff::Timestamp::try_from(t) {
        Ok(ts) => ts.strftime(SDK_DATE).to_string(),
        Err(_) => "19700101T000000Z".to_owned(),
    }
}

/// Parses an `x-sdk-date` header value; `None` unless it is exactly `YYYYMMDDTHHMMSSZ` and a valid date.
pub fn parse_sdk_date(s: &str) -> Option<SystemTime> {
    let well_formed = s.len() == 16
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 => b == b'T',
            15 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if !well_formed {
        return None;
    }
    let ts = jiff::civil::DateTime::strptime(SDK_DATE, s)
        .and_then(|dt| jiff::tz::TimeZone::UTC.to_timestamp(dt))
        .ok()?;
    let secs = u64::try_from(ts.as_second()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_date_round_trips_the_upstream_example() {
        let t = parse_sdk_date("20210302T195133Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_614_714_693
        );
        assert_eq!(format_sdk_date(t), "20210302T195133Z");
    }

    #[test]
    fn sdk_date_rejects_other_layouts_and_impossible_dates() {
        for bad in [
            "",
            "2021-03-02T19:51:33Z",
            "20210302T195133",
            "20210302 195133Z",
            "20211302T195133Z",
            "20210230T195133Z",
            "20210302T255133Z",
            "２0210302T195133Z",
            "20210302T195133Z ",
        ] {
            assert!(parse_sdk_date(bad).is_none(), "{bad:?} accepted");
        }
    }

    #[test]
    fn timestamp_round_trips_system_time() {
        let t = UNIX_EPOCH + Duration::new(1_623_770_544, 468_538_768);
        let ts = TimeStamp::from(t);
        assert_eq!(
            ts,
            TimeStamp {
                seconds: 1_623_770_544,
                nano_seconds: 468_538_768
            }
        );
        assert_eq!(ts.to_system_time(), t);
        assert_eq!(
            TimeStamp::from(UNIX_EPOCH - Duration::from_secs(1)),
            TimeStamp::default()
        );
    }

    #[test]
    fn manual_clock_clones_share_time() {
        let a = ManualClock::new(UNIX_EPOCH);
        let b = a.clone();
        a.advance(Duration::from_secs(3));
        assert_eq!(b.now(), UNIX_EPOCH + Duration::from_secs(3));
        b.set(UNIX_EPOCH);
        assert_eq!(a.now(), UNIX_EPOCH);
    }
}
