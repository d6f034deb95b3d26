//! Answering one message: decoding it (hickory-server's request types), finding its name in the answer table,
//! and encoding the answer (hickory-server's response builder, which truncates what does not fit).

use super::config::{DnsConfig, NotHeld};
use super::forward::{Forwarded, Forwarder};
use super::stats::{Stats, bump};
use super::table::{AnswerTable, Found, Records};
use crate::Engine;
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::op::{
    Edns, Header, HeaderCounts, MessageType, Metadata, OpCode, ResponseCode,
};
use hickory_server::proto::rr::{DNSClass, Name, Record, RecordType};
use hickory_server::proto::serialize::binary::{
    BinDecodable, BinDecoder, BinEncodable, BinEncoder,
};
use hickory_server::server::Request;
use hickory_server::zone_handler::MessageResponseBuilder;
use mec_mp1::model::DnsRule;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use tokio::sync::watch;

/// What to do with a message.
#[derive(Debug)]
pub(crate) enum Plan {
    /// Send these bytes back.
    Reply(Vec<u8>),
    /// Ask the upstreams, then answer (see [`Responder::forward`]).
    Forward(Box<Request>),
    /// Send nothing.
    Drop,
}

/// The table and the engine state version it was built from.
#[derive(Debug)]
struct Snapshot {
    version: u64,
    table: Arc<AnswerTable>,
}

/// The rules last built into a table, to rebuild only when they change.
#[derive(Debug, Default)]
struct Built {
    rules: Vec<(String, DnsRule)>,
}

/// The responder's logic, shared by the UDP and TCP servers.
#[derive(Debug)]
pub(crate) struct Responder {
    engine: Engine,
    changes: watch::Receiver<u64>,
    snapshot: RwLock<Arc<Snapshot>>,
    built: Mutex<Built>,
    default_ttl: u32,
    not_held: NotHeld,
    udp_payload: u16,
    edns: Edns,
    pub(crate) stats: Arc<Stats>,
    pub(crate) forwarder: Option<Forwarder>,
}

/// The records of a held name answering a query of type `t`: A, AAAA, both for ANY, none for other types.
fn pick(r: &Records, t: RecordType) -> (&[Record], &[Record]) {
    match t {
        RecordType::A => (&r.a, &[]),
        RecordType::AAAA => (&[], &r.aaaa),
        RecordType::ANY => (&r.a, &r.aaaa),
        _ => (&[], &[]),
    }
}

/// Encodes a header alone (no question): answers to messages that cannot be read further.
fn header_only(request: &Metadata, code: ResponseCode) -> Vec<u8> {
    let mut metadata = Metadata::response_from_request(request);
    metadata.response_code = code;
    let header = Header {
        metadata,
        counts: HeaderCounts::default(),
    };
    let mut bytes = Vec::with_capacity(12);
    let mut encoder = BinEncoder::new(&mut bytes);
    // A header always fits: it is 12 bytes.
    let _ = header.emit(&mut encoder);
    bytes
}

/// `REFUSED` for a message whose header can be read (rate limiting answers with this without decoding more);
/// `None` when it cannot, or when it is a response (responses are never answered).
pub(crate) fn refused_from_header(raw: &[u8]) -> Option<Vec<u8>> {
    let header = Header::read(&mut BinDecoder::new(raw)).ok()?;
    (header.metadata.message_type == MessageType::Query)
        .then(|| header_only(&header.metadata, ResponseCode::Refused))
}

impl Responder {
    pub(crate) fn new(engine: &Engine, config: &DnsConfig, forwarder: Option<Forwarder>) -> Self {
        let mut edns = Edns::new();
        edns.set_max_payload(config.udp_payload_bytes.max(512));
        let responder = Self {
            engine: engine.clone(),
            changes: engine.subscribe_changes(),
            snapshot: RwLock::new(Arc::new(Snapshot {
                // Not a version the engine has: the first query (or the follower) builds the table.
                version: u64::MAX,
                table: Arc::new(AnswerTable::default()),
            })),
            built: Mutex::new(Built::default()),
            default_ttl: config.default_ttl_secs,
            not_held: config.not_held,
            udp_payload: config.udp_payload_bytes.max(512),
            edns,
            stats: Arc::new(Stats::default()),
            forwarder,
        };
        responder.refresh();
        responder
    }

    /// The table for the engine's current state: rebuilt first when the state changed since it was built, so a
    /// rule deactivated or deleted is not answered once the call that changed it has returned.
    fn table(&self) -> Arc<AnswerTable> {
        let version = *self.changes.borrow();
        let snapshot = self
            .snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if snapshot.version == version {
            return snapshot.table.clone();
        }
        self.refresh()
    }

    /// Rebuilds the table if the engine's state changed since it was built.
    pub(crate) fn refresh(&self) -> Arc<AnswerTable> {
        let mut built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
        // The version is read before the rules: a change landing in between leaves the table marked older, and
        // the next query rebuilds it again.
        let version = *self.changes.borrow();
        let current = self
            .snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if current.version == version {
            return current.table.clone();
        }
        let mut rules = self.engine.active_dns_rules();
        rules.sort_by(|a, b| (&a.0, &a.1.dns_rule_id).cmp(&(&b.0, &b.1.dns_rule_id)));
        let table = if rules == built.rules && current.version != u64::MAX {
            current.table.clone()
        } else {
            let table = Arc::new(AnswerTable::build(&rules, &current.table, self.default_ttl));
            self.report(&table);
            built.rules = rules;
            table
        };
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(Snapshot {
            version,
            table: table.clone(),
        });
        table
    }

    /// Logs and counts what a new table leaves out.
    fn report(&self, table: &AnswerTable) {
        for u in &table.unusable {
            tracing::warn!(app_instance = %u.owner, rule = %u.rule_id, reason = %u.reason,
                "an ACTIVE DNS rule cannot be answered");
        }
        for c in &table.conflicts {
            tracing::warn!(name = %c.name, answered = %c.answered, ignored = ?c.ignored,
                "a domain name is claimed by several app instances; the first claimant is answered");
        }
        let s = &self.stats;
        s.names.store(table.len() as u64, Ordering::Relaxed);
        s.conflicts
            .store(table.conflicts.len() as u64, Ordering::Relaxed);
        s.unusable_rules
            .store(table.unusable.len() as u64, Ordering::Relaxed);
        tracing::debug!(names = table.len(), "DNS answer table rebuilt");
    }

    /// Decides what to do with one message from `src`.
    pub(crate) fn plan(&self, raw: &[u8], src: SocketAddr, protocol: Protocol) -> Plan {
        let s = &self.stats;
        let Ok(header) = Header::read(&mut BinDecoder::new(raw)) else {
            bump(&s.malformed);
            return Plan::Drop;
        };
        if header.metadata.message_type == MessageType::Response {
            // Never answer a response: that is how reflection loops start.
            bump(&s.malformed);
            return Plan::Drop;
        }
        // One question per message (RFC 9619); EdgeGallery's dns-server answers FORMERR too.
        if header.counts.queries != 1 {
            bump(&s.malformed);
            return Plan::Reply(header_only(&header.metadata, ResponseCode::FormErr));
        }
        let request = match Request::from_bytes(raw.to_vec(), src, protocol) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(%src, error = %e, "malformed DNS message");
                bump(&s.malformed);
                return Plan::Reply(header_only(&header.metadata, ResponseCode::FormErr));
            }
        };
        bump(&s.queries);
        if request.metadata.op_code != OpCode::Query {
            bump(&s.not_implemented);
            return Plan::Reply(self.encode(
                &request,
                ResponseCode::NotImp,
                false,
                [].iter(),
                None,
            ));
        }
        let Some(query) = request.queries.queries().first() else {
            bump(&s.malformed);
            return Plan::Reply(header_only(&header.metadata, ResponseCode::FormErr));
        };
        if query.query_class() != DNSClass::IN {
            bump(&s.refused);
            return Plan::Reply(self.encode(
                &request,
                ResponseCode::Refused,
                false,
                [].iter(),
                None,
            ));
        }
        let table = self.table();
        let found = table.find(query.name());
        let Some(found) = found else {
            return match self.not_held {
                NotHeld::Refused => {
                    bump(&s.refused);
                    Plan::Reply(self.encode(
                        &request,
                        ResponseCode::Refused,
                        false,
                        [].iter(),
                        None,
                    ))
                }
                NotHeld::Nxdomain => {
                    bump(&s.nxdomain);
                    Plan::Reply(self.encode(
                        &request,
                        ResponseCode::NXDomain,
                        false,
                        [].iter(),
                        None,
                    ))
                }
                NotHeld::Forward => Plan::Forward(Box::new(request)),
            };
        };
        let (first, second) = match found {
            Found::Exact(r) | Found::Wildcard(r) => pick(r, query.query_type()),
        };
        // A name held with nothing of the type asked is NOERROR without answers (NODATA), not NXDOMAIN
        // (RFC 2308 section 2.2): the name exists.
        bump(if first.is_empty() && second.is_empty() {
            &s.nodata
        } else {
            &s.answers
        });
        let answer = match found {
            // The records as the table holds them, not copied.
            Found::Exact(_) => self.encode(
                &request,
                ResponseCode::NoError,
                true,
                first.iter().chain(second),
                None,
            ),
            Found::Wildcard(_) => {
                // Synthesized for the name asked (RFC 4592 section 4.3.3).
                let owner = Name::from(query.name());
                let records: Vec<Record> = first
                    .iter()
                    .chain(second)
                    .map(|r| Record::from_rdata(owner.clone(), r.ttl, r.data.clone()))
                    .collect();
                self.encode(&request, ResponseCode::NoError, true, records.iter(), None)
            }
        };
        Plan::Reply(answer)
    }

    /// Forwards a query to the upstreams and encodes their answer (`SERVFAIL` when none comes).
    pub(crate) async fn forward(&self, request: &Request) -> Vec<u8> {
        let s = &self.stats;
        let (Some(forwarder), Some(query)) = (&self.forwarder, request.queries.queries().first())
        else {
            bump(&s.forward_failures);
            return self.encode(request, ResponseCode::ServFail, false, [].iter(), None);
        };
        bump(&s.forwards);
        let name = Name::from(query.name());
        match forwarder.ask(name, query.query_type()).await {
            Forwarded::Answer(records) => {
                self.encode(request, ResponseCode::NoError, false, records.iter(), None)
            }
            Forwarded::NoData(soa) => self.encode(
                request,
                ResponseCode::NoError,
                false,
                [].iter(),
                soa.as_ref(),
            ),
            Forwarded::NxDomain(soa) => {
                bump(&s.nxdomain);
                self.encode(
                    request,
                    ResponseCode::NXDomain,
                    false,
                    [].iter(),
                    soa.as_ref(),
                )
            }
            Forwarded::Failed => {
                bump(&s.forward_failures);
                self.encode(request, ResponseCode::ServFail, false, [].iter(), None)
            }
        }
    }

    /// `SERVFAIL` for a query that cannot be forwarded now (too many in flight).
    pub(crate) fn overloaded(&self, request: &Request) -> Vec<u8> {
        bump(&self.stats.forward_failures);
        self.encode(request, ResponseCode::ServFail, false, [].iter(), None)
    }

    /// Encodes an answer to `request`: its question echoed, EDNS answered with EDNS, no larger than the client
    /// can take over UDP (512 bytes without EDNS, else what it offers up to the configured payload); what does
    /// not fit is cut and the answer marked truncated, so the client asks again over TCP.
    fn encode<'a>(
        &self,
        request: &Request,
        code: ResponseCode,
        authoritative: bool,
        answers: impl Iterator<Item = &'a Record> + Send + 'a,
        soa: Option<&'a Record>,
    ) -> Vec<u8> {
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.response_code = code;
        metadata.authoritative = authoritative;
        metadata.recursion_available = self.forwarder.is_some();
        let mut builder = MessageResponseBuilder::new(&request.queries, None);
        if request.edns.is_some() {
            builder.edns(&self.edns);
        }
        let max_size = match request.protocol() {
            Protocol::Udp if request.edns.is_some() => {
                request.max_payload().clamp(512, self.udp_payload)
            }
            Protocol::Udp => 512,
            _ => u16::MAX,
        };
        let response = builder.build(metadata, answers, [], soa, []);
        let mut bytes = Vec::with_capacity(128);
        let mut encoder = BinEncoder::new(&mut bytes);
        encoder.set_max_size(max_size);
        match response.destructive_emit(&mut encoder) {
            Ok(_) => bytes,
            Err(e) => {
                tracing::warn!(error = %e, "cannot encode a DNS answer; answering SERVFAIL");
                header_only(&request.metadata, ResponseCode::ServFail)
            }
        }
    }
}
