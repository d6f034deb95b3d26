//! What protects the token endpoint and Mp1 from abuse: rate limits (governor, on the injected clock), lockout
//! after repeated failures, a replay cache, and an IP allow list. Every table is bounded.

use governor::clock::{Clock as GovernorClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use mec_core::SharedClock;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The engine's clock as governor reads it (time since the epoch), so rate limits follow a manual clock in tests.
#[derive(Clone, Debug)]
pub(crate) struct EngineClock(pub(crate) SharedClock);

impl GovernorClock for EngineClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.0.now().duration_since(UNIX_EPOCH).unwrap_or_default()
    }
}

/// A per-key rate limit of `per_minute` requests (0: no limit).
pub(crate) struct Limiter<K: Hash + Eq + Clone> {
    inner: Option<RateLimiter<K, HashMapStateStore<K>, EngineClock, NoOpMiddleware<Duration>>>,
    clock: EngineClock,
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for Limiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("limited", &self.inner.is_some())
            .finish()
    }
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub(crate) fn per_minute(per_minute: u32, clock: SharedClock) -> Self {
        let clock = EngineClock(clock);
        let inner = NonZeroU32::new(per_minute).map(|n| {
            RateLimiter::new(
                Quota::per_minute(n),
                HashMapStateStore::default(),
                clock.clone(),
            )
        });
        Self { inner, clock }
    }

    /// `Ok`, or how long until the key may try again.
    pub(crate) fn check(&self, key: &K) -> Result<(), Duration> {
        let Some(limiter) = &self.inner else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            let now = self.clock.now();
            Duration::from(not_until.earliest_possible().duration_since(now))
                .max(Duration::from_secs(1))
        })
    }

    /// Forgets keys that have recovered their whole quota (keeps the table bounded by recent activity).
    pub(crate) fn prune(&self) {
        if let Some(l) = &self.inner {
            l.retain_recent();
        }
    }
}

/// Failed attempts per key in a sliding window, and the keys locked for them.
#[derive(Debug)]
pub(crate) struct Lockout {
    failures: u32,
    window: Duration,
    duration: Duration,
    max_keys: usize,
    state: Mutex<HashMap<String, Attempts>>,
}

#[derive(Debug, Default)]
struct Attempts {
    recent: VecDeque<SystemTime>,
    locked_until: Option<SystemTime>,
}

impl Lockout {
    pub(crate) fn new(
        failures: u32,
        window: Duration,
        duration: Duration,
        max_keys: usize,
    ) -> Self {
        Self {
            failures,
            window,
            duration,
            max_keys: max_keys.max(1),
            state: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` is locked at `now`.
    pub(crate) fn is_locked(&self, key: &str, now: SystemTime) -> bool {
        self.failures > 0
            && self
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(key)
                .and_then(|a| a.locked_until)
                .is_some_and(|until| now < until)
    }

    /// Counts a failure; locks the key when it has failed too often within the window.
    pub(crate) fn fail(&self, key: &str, now: SystemTime) {
        if self.failures == 0 {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.len() >= self.max_keys && !state.contains_key(key) {
            let window = self.window;
            state.retain(|_, a| {
                a.locked_until.is_some_and(|u| now < u)
                    || a.recent
                        .back()
                        .is_some_and(|t| now.duration_since(*t).unwrap_or_default() < window)
            });
            if state.len() >= self.max_keys {
                // Still full of recent failures: the oldest entry goes (a flood of keys cannot grow the table).
                if let Some(oldest) = state
                    .iter()
                    .min_by_key(|(_, a)| a.recent.back().copied())
                    .map(|(k, _)| k.clone())
                {
                    state.remove(&oldest);
                }
            }
        }
        let a = state.entry(key.to_owned()).or_default();
        while a
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t).unwrap_or_default() >= self.window)
        {
            a.recent.pop_front();
        }
        a.recent.push_back(now);
        if a.recent.len() >= self.failures as usize {
            a.locked_until = Some(now + self.duration);
            a.recent.clear();
        }
    }

    /// Clears a key's failures after a success.
    pub(crate) fn succeed(&self, key: &str) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

/// Signatures seen (until when they are remembered), and the same in the order they expire.
type Seen = (HashMap<String, SystemTime>, VecDeque<(SystemTime, String)>);

/// Signatures already used, remembered until their date leaves the accepted window.
#[derive(Debug)]
pub(crate) struct ReplayCache {
    max: usize,
    state: Mutex<Seen>,
}

/// The replay cache is full of signatures still inside their window.
#[derive(Debug)]
pub(crate) struct ReplayCacheFull;

impl ReplayCache {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            state: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    /// Remembers `signature` until `until`; `Ok(false)` when it was already seen.
    pub(crate) fn first_use(
        &self,
        signature: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<bool, ReplayCacheFull> {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (seen, order) = &mut *guard;
        while order.front().is_some_and(|(t, _)| *t <= now) {
            if let Some((_, s)) = order.pop_front() {
                seen.remove(&s);
            }
        }
        if seen.get(signature).is_some_and(|t| *t > now) {
            return Ok(false);
        }
        if seen.len() >= self.max {
            return Err(ReplayCacheFull);
        }
        seen.insert(signature.to_owned(), until);
        // Kept in expiry order: windows are equal, so insertion order is nearly expiry order; a later entry that
        // expires earlier only stays a little longer.
        order.push_back((until, signature.to_owned()));
        Ok(true)
    }
}

/// An address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    addr: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Whether `ip` is in the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            _ => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("not an IP address or CIDR block: {s:?}"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("not a prefix length for this address: {s:?}"))?,
        };
        Ok(Self { addr, prefix })
    }
}

impl<'de> serde::Deserialize<'de> for IpRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mec_core::ManualClock;
    use std::sync::Arc;

    #[test]
    fn ranges_match_their_addresses_only() {
        let r: IpRange = "10.1.0.0/16".parse().unwrap();
        assert!(r.contains("10.1.200.3".parse().unwrap()));
        assert!(!r.contains("10.2.0.1".parse().unwrap()));
        assert!(r.contains("::ffff:10.1.0.9".parse().unwrap()));
        let one: IpRange = "2001:db8::1".parse().unwrap();
        assert!(one.contains("2001:db8::1".parse().unwrap()));
        assert!(!one.contains("2001:db8::2".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpRange>().is_err());
        assert!("example.com".parse::<IpRange>().is_err());
        let all: IpRange = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn rate_limits_follow_the_injected_clock() {
        let clock = ManualClock::starting_now();
        let limiter = Limiter::per_minute(3, Arc::new(clock.clone()));
        for _ in 0..3 {
            limiter.check(&"k").unwrap();
        }
        let wait = limiter.check(&"k").unwrap_err();
        assert!(
            wait >= Duration::from_secs(1) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        limiter.check(&"other").unwrap();
        clock.advance(Duration::from_secs(20));
        limiter.check(&"k").unwrap();
        assert!(
            Limiter::<&str>::per_minute(0, Arc::new(clock))
                .check(&"k")
                .is_ok()
        );
    }

    #[test]
    fn lockout_after_repeated_failures_ends_after_its_duration() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let l = Lockout::new(3, Duration::from_secs(300), Duration::from_secs(300), 10);
        l.fail("ak", start);
        l.fail("ak", start + Duration::from_secs(400)); // the first left the window
        l.fail("ak", start + Duration::from_secs(401));
        assert!(!l.is_locked("ak", start + Duration::from_secs(401)));
        l.fail("ak", start + Duration::from_secs(402));
        assert!(l.is_locked("ak", start + Duration::from_secs(403)));
        assert!(!l.is_locked("ak", start + Duration::from_secs(703)));
        // The table stays bounded under a flood of keys.
        for i in 0..100 {
            l.fail(&format!("k{i}"), start);
        }
        assert!(l.state.lock().unwrap().len() <= 10);
    }

    #[test]
    fn a_signature_is_accepted_once_within_its_window() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let c = ReplayCache::new(2);
        let until = now + Duration::from_secs(900);
        assert!(c.first_use("a", until, now).unwrap());
        assert!(!c.first_use("a", until, now).unwrap());
        assert!(c.first_use("b", until, now).unwrap());
        assert!(
            c.first_use("c", until, now).is_err(),
            "full of live signatures"
        );
        assert!(
            c.first_use("c", until, until).unwrap(),
            "expired ones make room"
        );
    }
}
