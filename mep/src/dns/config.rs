//! The DNS responder's settings, as the `mep` configuration file writes them under `dns:`.

use serde::Deserialize;
use std::net::SocketAddr;

/// What a query for a name no ACTIVE rule holds gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum NotHeld {
    /// `REFUSED`: the responder answers for the MEP's rules only (the default: never an open resolver).
    #[default]
    Refused,
    /// `NXDOMAIN`: the name does not exist, as far as UEs asking the MEP are concerned.
    Nxdomain,
    /// Asked of the configured [`upstreams`](DnsConfig::upstreams), and their answer relayed (a forwarding
    /// resolver: give the responder only to the clients it is meant for).
    Forward,
}

/// What a source over its rate gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum OverLimit {
    /// Nothing: the packet is dropped (the default; a spoofed source gets no traffic reflected to it).
    #[default]
    Drop,
    /// `REFUSED`, at once, built from the query's header alone.
    Refuse,
}

/// Rate limiting per source address (IPv4 addresses one by one, IPv6 by /64 network).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RateLimitConfig {
    /// Queries a second one source may send, sustained; 0 turns rate limiting off (default 200).
    pub per_second: u32,
    /// Queries one source may send at once above the sustained rate (default 400).
    pub burst: u32,
    /// What a UDP query over the limit gets (default `drop`). Over TCP, where the source address is proven by
    /// the handshake, a query over the limit is always answered `REFUSED`.
    pub over_limit: OverLimit,
    /// Sources remembered at most; past it, sources whose allowance has refilled are forgotten at once rather
    /// than on the next periodic clean-up (default 100,000).
    pub max_tracked_sources: usize,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_second: 200,
            burst: 400,
            over_limit: OverLimit::Drop,
            max_tracked_sources: 100_000,
        }
    }
}

impl RateLimitConfig {
    /// No rate limiting (benchmarks, trusted networks).
    pub fn off() -> Self {
        Self {
            per_second: 0,
            ..Self::default()
        }
    }
}

/// DNS over TCP: how long a connection may stay, and how many there may be.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct TcpConfig {
    /// Time a connection may wait before the first byte of its next query, in milliseconds; past it the
    /// connection is closed (default 10,000; RFC 7766 section 6.2.3 asks for seconds, not minutes).
    pub idle_timeout_ms: u64,
    /// Time to receive the rest of a query once its length arrived, and to write an answer, in milliseconds;
    /// past it the connection is closed (default 5,000). A length prefix with nothing after it ends here.
    pub read_timeout_ms: u64,
    /// Connections served at once; one more is closed at once, unanswered (default 256).
    pub max_connections: usize,
}

impl Default for TcpConfig {
    fn default() -> Self {
        Self {
            idle_timeout_ms: 10_000,
            read_timeout_ms: 5_000,
            max_connections: 256,
        }
    }
}

/// Forwarding to upstream resolvers (with [`NotHeld::Forward`]).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ForwardConfig {
    /// Time given to an upstream for one attempt, in milliseconds (default 2,000); a query that gets no
    /// answer is answered `SERVFAIL`.
    pub timeout_ms: u64,
    /// Queries being forwarded at once; one more is answered `SERVFAIL` at once (default 256).
    pub max_in_flight: usize,
    /// Upstream answers kept (the forwarder caches them for their TTL; default 4,096; 0 keeps none).
    pub cache_size: u64,
}

impl Default for ForwardConfig {
    fn default() -> Self {
        Self {
            timeout_ms: 2_000,
            max_in_flight: 256,
            cache_size: 4_096,
        }
    }
}

/// The DNS responder: where it listens, what it answers for names it does not hold, and its limits.
///
/// ```yaml
/// dns:
///   listen: 0.0.0.0:53          # UDP and TCP
///   not_held: refused           # refused (default) | nxdomain | forward
///   upstreams: []               # with not_held: forward, e.g. [10.0.0.2:53]
///   default_ttl_secs: 30        # for rules without a ttl
///   rate_limit: { per_second: 200, burst: 400, over_limit: drop }
///   tcp: { idle_timeout_ms: 10000, read_timeout_ms: 5000, max_connections: 256 }
///   forward: { timeout_ms: 2000, max_in_flight: 256, cache_size: 4096 }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct DnsConfig {
    /// The address to serve on, over UDP and TCP (default `127.0.0.1:5353`; port 0 picks a free port, the same
    /// for both).
    pub listen: SocketAddr,
    /// What names no ACTIVE rule holds get (default [`NotHeld::Refused`]).
    pub not_held: NotHeld,
    /// Upstream resolvers (`address:port`), asked in turn with [`NotHeld::Forward`]; must be empty otherwise.
    pub upstreams: Vec<SocketAddr>,
    /// The TTL of answers from rules without a `ttl`, in seconds (default 30, EdgeGallery's dns-server's).
    pub default_ttl_secs: u32,
    /// The largest UDP answer offered to EDNS clients, in bytes (default 1,232, the DNS flag day 2020 size that
    /// avoids IP fragmentation; at least 512). Longer answers are truncated (TC) and clients retry over TCP.
    pub udp_payload_bytes: u16,
    /// Per-source rate limiting.
    pub rate_limit: RateLimitConfig,
    /// DNS over TCP.
    pub tcp: TcpConfig,
    /// Forwarding.
    pub forward: ForwardConfig,
}

impl Default for DnsConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 5353)),
            not_held: NotHeld::Refused,
            upstreams: Vec::new(),
            default_ttl_secs: 30,
            udp_payload_bytes: 1232,
            rate_limit: RateLimitConfig::default(),
            tcp: TcpConfig::default(),
            forward: ForwardConfig::default(),
        }
    }
}

/// Why a DNS configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnsConfigError {
    /// Forwarding without anywhere to forward to.
    #[error("dns: not_held is forward but no upstreams are configured")]
    NoUpstreams,
    /// Upstreams configured while names are not forwarded: refused rather than ignored.
    #[error(
        "dns: upstreams are configured but not_held is not forward (set not_held: forward to use them)"
    )]
    UnusedUpstreams,
    /// The responder would forward to itself.
    #[error("dns: upstream {0} is the responder's own address")]
    UpstreamIsSelf(SocketAddr),
    /// A limit that must be positive is zero.
    #[error("dns: {0} must be greater than 0")]
    Zero(&'static str),
}

impl DnsConfig {
    /// The defaults, serving on `listen`.
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            ..Self::default()
        }
    }

    /// Forwards names no rule holds to `upstreams`.
    #[must_use]
    pub fn forwarding_to(mut self, upstreams: impl IntoIterator<Item = SocketAddr>) -> Self {
        self.not_held = NotHeld::Forward;
        self.upstreams = upstreams.into_iter().collect();
        self
    }

    /// Checks what the types do not.
    pub fn check(&self) -> Result<(), DnsConfigError> {
        match self.not_held {
            NotHeld::Forward if self.upstreams.is_empty() => {
                return Err(DnsConfigError::NoUpstreams);
            }
            NotHeld::Refused | NotHeld::Nxdomain if !self.upstreams.is_empty() => {
                return Err(DnsConfigError::UnusedUpstreams);
            }
            _ => {}
        }
        if let Some(own) = self.upstreams.iter().find(|u| **u == self.listen) {
            return Err(DnsConfigError::UpstreamIsSelf(*own));
        }
        let positive = [
            ("tcp.idle_timeout_ms", self.tcp.idle_timeout_ms),
            ("tcp.read_timeout_ms", self.tcp.read_timeout_ms),
            ("tcp.max_connections", self.tcp.max_connections as u64),
            ("forward.timeout_ms", self.forward.timeout_ms),
            ("forward.max_in_flight", self.forward.max_in_flight as u64),
            (
                "rate_limit.max_tracked_sources",
                self.rate_limit.max_tracked_sources as u64,
            ),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(DnsConfigError::Zero(name));
        }
        if self.rate_limit.per_second > 0 && self.rate_limit.burst == 0 {
            return Err(DnsConfigError::Zero("rate_limit.burst"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_refuse_and_never_forward() {
        let c = DnsConfig::default();
        assert_eq!(c.not_held, NotHeld::Refused);
        assert!(c.upstreams.is_empty());
        assert!(c.check().is_ok());
    }

    #[test]
    fn forwarding_needs_upstreams_and_upstreams_need_forwarding() {
        let c = DnsConfig {
            not_held: NotHeld::Forward,
            ..DnsConfig::default()
        };
        assert_eq!(c.check(), Err(DnsConfigError::NoUpstreams));
        let c = DnsConfig {
            upstreams: vec!["10.0.0.2:53".parse().unwrap()],
            ..DnsConfig::default()
        };
        assert_eq!(c.check(), Err(DnsConfigError::UnusedUpstreams));
        let c = DnsConfig::new("127.0.0.1:53".parse().unwrap())
            .forwarding_to(["127.0.0.1:53".parse().unwrap()]);
        assert!(matches!(c.check(), Err(DnsConfigError::UpstreamIsSelf(_))));
    }

    #[test]
    fn zero_limits_are_refused_by_name() {
        let mut c = DnsConfig::default();
        c.tcp.max_connections = 0;
        assert_eq!(c.check(), Err(DnsConfigError::Zero("tcp.max_connections")));
        let mut c = DnsConfig::default();
        c.rate_limit.burst = 0;
        assert_eq!(c.check(), Err(DnsConfigError::Zero("rate_limit.burst")));
        c.rate_limit = RateLimitConfig::off();
        c.rate_limit.burst = 0;
        assert!(c.check().is_ok());
    }

    #[test]
    fn reads_the_documented_yaml() {
        let yaml = "listen: 0.0.0.0:53\nnot_held: forward\nupstreams: [10.0.0.2:53]\n\
                    rate_limit: { per_second: 10, burst: 20, over_limit: refuse }\n\
                    tcp: { max_connections: 8 }\n";
        let c: DnsConfig = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(c.not_held, NotHeld::Forward);
        assert_eq!(c.rate_limit.over_limit, OverLimit::Refuse);
        assert_eq!(c.tcp.max_connections, 8);
        assert_eq!(c.tcp.idle_timeout_ms, 10_000);
        assert!(c.check().is_ok());
        let bad: Result<DnsConfig, _> = serde_saphyr::from_str("listen: 0.0.0.0:53\nttl: 3\n");
        assert!(bad.is_err());
    }
}
