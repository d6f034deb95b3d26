//! The responder's counters, shown on `GET /mep/status` under `dns`.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of a running responder, updated as it works (cheap to share: every field is an atomic).
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) received: AtomicU64,
    pub(crate) queries: AtomicU64,
    pub(crate) answers: AtomicU64,
    pub(crate) nodata: AtomicU64,
    pub(crate) forwards: AtomicU64,
    pub(crate) forward_failures: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) nxdomain: AtomicU64,
    pub(crate) not_implemented: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) malformed: AtomicU64,
    pub(crate) tcp_connections: AtomicU64,
    pub(crate) tcp_rejected: AtomicU64,
    pub(crate) tcp_timeouts: AtomicU64,
    pub(crate) names: AtomicU64,
    pub(crate) conflicts: AtomicU64,
    pub(crate) unusable_rules: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A snapshot of the responder's counters (`GET /mep/status`, `dns` member).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DnsCounters {
    /// Messages read (UDP datagrams and TCP messages), whatever became of them.
    pub received: u64,
    /// Well-formed queries (messages that were not rate-limited and could be decoded).
    pub queries: u64,
    /// Queries answered from the DNS rules with at least one address.
    pub answers: u64,
    /// Queries for a name a rule holds, of a type it holds nothing of (an `A` query for a name with only an
    /// IPv6 rule): `NOERROR` without answers.
    pub nodata: u64,
    /// Queries forwarded to an upstream resolver.
    pub forwards: u64,
    /// Forwarded queries no upstream answered (or over the in-flight limit): `SERVFAIL`.
    pub forward_failures: u64,
    /// Queries answered `REFUSED` (names not held, classes other than IN; rate-limited ones are counted apart).
    pub refused: u64,
    /// Queries answered `NXDOMAIN` (names not held, or so answered upstream).
    pub nxdomain: u64,
    /// Messages of an operation other than QUERY: `NOTIMP`.
    pub not_implemented: u64,
    /// Messages over their source's rate: dropped or `REFUSED`, as configured.
    pub rate_limited: u64,
    /// Messages that are not one well-formed question: answered `FORMERR` when their header could be read,
    /// dropped otherwise (and responses, which are never answered).
    pub malformed: u64,
    /// TCP connections accepted.
    pub tcp_connections: u64,
    /// TCP connections closed at once because the connection limit was reached.
    pub tcp_rejected: u64,
    /// TCP connections closed for idling or for sending a message too slowly.
    pub tcp_timeouts: u64,
    /// Names answered now (exact names and wildcards).
    pub names: u64,
    /// Names now claimed by more than one app instance (only the first claimant is answered).
    pub conflicts: u64,
    /// ACTIVE rules that cannot be answered (a name or address that does not parse).
    pub unusable_rules: u64,
}

impl Stats {
    pub(crate) fn snapshot(&self) -> DnsCounters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        DnsCounters {
            received: get(&self.received),
            queries: get(&self.queries),
            answers: get(&self.answers),
            nodata: get(&self.nodata),
            forwards: get(&self.forwards),
            forward_failures: get(&self.forward_failures),
            refused: get(&self.refused),
            nxdomain: get(&self.nxdomain),
            not_implemented: get(&self.not_implemented),
            rate_limited: get(&self.rate_limited),
            malformed: get(&self.malformed),
            tcp_connections: get(&self.tcp_connections),
            tcp_rejected: get(&self.tcp_rejected),
            tcp_timeouts: get(&self.tcp_timeouts),
            names: get(&self.names),
            conflicts: get(&self.conflicts),
            unusable_rules: get(&self.unusable_rules),
        }
    }
}
