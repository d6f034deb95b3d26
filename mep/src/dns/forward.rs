//! Forwarding names no rule holds to upstream resolvers, with hickory-resolver (which caches their answers for
//! their TTL, retries, and tries the next upstream when one fails).

use super::config::DnsConfig;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, Record, RecordType};
use hickory_resolver::{Resolver, TokioResolver};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What the upstreams said.
#[derive(Debug)]
pub(crate) enum Forwarded {
    /// Records (a CNAME chain included).
    Answer(Vec<Record>),
    /// The name exists but holds nothing of the type; the zone's SOA when given (for negative caching).
    NoData(Option<Record>),
    /// The name does not exist.
    NxDomain(Option<Record>),
    /// No upstream answered usefully.
    Failed,
}

/// The forwarding client.
pub(crate) struct Forwarder {
    resolver: TokioResolver,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder").finish_non_exhaustive()
    }
}

impl Forwarder {
    /// A forwarder to the configured upstreams (UDP, then TCP for truncated answers).
    pub(crate) fn new(config: &DnsConfig) -> Result<Self, String> {
        let servers = config
            .upstreams
            .iter()
            .map(|addr| {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
            })
            .collect();
        let mut options = ResolverOpts::default();
        options.timeout = Duration::from_millis(config.forward.timeout_ms.max(1));
        options.attempts = 1;
        options.cache_size = config.forward.cache_size;
        // The hosts file of the MEP's machine is not the UEs' business.
        options.use_hosts_file = ResolveHosts::Never;
        // A forwarder relays CNAME chains (RFC 1034 section 4.3.2), as hickory's own forwarder does.
        options.preserve_intermediates = true;
        options.recursion_desired = true;
        let resolver = Resolver::builder_with_config(
            ResolverConfig::from_parts(None, Vec::new(), servers),
            TokioRuntimeProvider::default(),
        )
        .with_options(options)
        .build()
        .map_err(|e| format!("cannot set up the forwarder: {e}"))?;
        Ok(Self {
            resolver,
            permits: Arc::new(Semaphore::new(config.forward.max_in_flight.max(1))),
        })
    }

    /// A place among the queries being forwarded, if one is free.
    pub(crate) fn permit(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    /// Asks the upstreams.
    pub(crate) async fn ask(&self, name: Name, record_type: RecordType) -> Forwarded {
        match self.resolver.lookup(name, record_type).await {
            Ok(lookup) => Forwarded::Answer(lookup.answers().to_vec()),
            Err(NetError::Dns(DnsError::NoRecordsFound(none))) => {
                let soa = none.soa.map(|s| (*s).into_record_of_rdata());
                if none.response_code == ResponseCode::NXDomain {
                    Forwarded::NxDomain(soa)
                } else {
                    Forwarded::NoData(soa)
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "forwarding failed");
                Forwarded::Failed
            }
        }
    }
}
