//! Rate limiting per source: IPv4 addresses one by one, IPv6 addresses by /64 (one subscriber's network).

use super::config::RateLimitConfig;
use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use mec_core::SharedClock;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, UNIX_EPOCH};

/// The time rates are measured in: real (monotonic) time, or an injected clock (the engine's: a manual clock in
/// tests, so limits are tested without waiting).
#[derive(Clone, Debug)]
pub(crate) enum LimitClock {
    Monotonic(Instant),
    Injected(SharedClock),
}

impl Clock for LimitClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        match self {
            Self::Monotonic(start) => Nanos::from(start.elapsed()),
            Self::Injected(clock) => {
                Nanos::from(clock.now().duration_since(UNIX_EPOCH).unwrap_or_default())
            }
        }
    }
}

type Limiter =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, LimitClock, NoOpMiddleware<Nanos>>;

/// The limiter of a responder; `None` inside when rate limiting is off.
#[derive(Debug)]
pub(crate) struct SourceLimiter {
    limiter: Option<Limiter>,
    max_tracked: usize,
    checks: AtomicU64,
}

/// The key a source is counted under.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl SourceLimiter {
    pub(crate) fn new(config: &RateLimitConfig, clock: LimitClock) -> Self {
        let limiter = NonZeroU32::new(config.per_second).map(|rate| {
            let burst = NonZeroU32::new(config.burst).unwrap_or(rate);
            RateLimiter::new(
                Quota::per_second(rate).allow_burst(burst),
                DefaultKeyedStateStore::default(),
                clock,
            )
        });
        Self {
            limiter,
            max_tracked: config.max_tracked_sources.max(1),
            checks: AtomicU64::new(0),
        }
    }

    /// Whether a message from `ip` may be served now (it is counted against its source if so).
    pub(crate) fn allow(&self, ip: IpAddr) -> bool {
        let Some(limiter) = &self.limiter else {
            return true;
        };
        // Every 1,024 messages, look at how many sources are remembered; forget the idle ones past the cap.
        if self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(1024)
            && limiter.len() > self.max_tracked
        {
            limiter.retain_recent();
        }
        limiter.check_key(&key(ip)).is_ok()
    }

    /// Forgets sources whose allowance has refilled (run periodically).
    pub(crate) fn clean(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_gets_its_burst_then_is_limited_and_others_are_not() {
        let clock = mec_core::ManualClock::starting_now();
        let limiter = SourceLimiter::new(
            &RateLimitConfig {
                per_second: 2,
                burst: 3,
                ..RateLimitConfig::default()
            },
            LimitClock::Injected(std::sync::Arc::new(clock.clone())),
        );
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let allowed = (0..10).filter(|_| limiter.allow(a)).count();
        assert_eq!(allowed, 3);
        assert!(limiter.allow("192.0.2.2".parse().unwrap()));
        // Half a second refills one query at two a second.
        clock.advance(std::time::Duration::from_millis(500));
        assert!(limiter.allow(a));
        assert!(!limiter.allow(a));
        // Once refilled, a source is forgotten by the clean-up.
        clock.advance(std::time::Duration::from_secs(10));
        limiter.clean();
        assert_eq!(limiter.limiter.as_ref().map(|l| l.len()), Some(0));
    }

    #[test]
    fn ipv6_sources_share_their_64_and_mapped_ipv4_is_ipv4() {
        assert_eq!(
            key("2001:db8:1:2:aaaa::1".parse().unwrap()),
            key("2001:db8:1:2:bbbb::2".parse().unwrap())
        );
        assert_ne!(
            key("2001:db8:1:2::1".parse().unwrap()),
            key("2001:db8:1:3::1".parse().unwrap())
        );
        assert_eq!(
            key("::ffff:192.0.2.1".parse().unwrap()),
            key("192.0.2.1".parse().unwrap())
        );
    }

    #[test]
    fn off_allows_everything() {
        let limiter = SourceLimiter::new(
            &RateLimitConfig::off(),
            LimitClock::Monotonic(Instant::now()),
        );
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert!((0..10_000).all(|_| limiter.allow(a)));
    }
}
