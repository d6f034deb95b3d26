//! The MEP's DNS responder over real UDP and TCP on 127.0.0.1, with hickory-resolver as the UE's resolver: rules
//! the MEP manager configures over Mm5 resolve, and stop resolving as soon as the app deactivates them over Mp1,
//! the manager removes them, or the app is terminated; names no rule holds are refused, answered NXDOMAIN or
//! forwarded; hostile packets are counted and never stop it.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};
use mec_mm5::AppDConfig;
use mec_mp1::client::Client;
use mec_mp1::model::{DnsRule, IpAddressType, RuleState};
use mec_testkit::{
    AppInstance, DnsConfig, DnsCounters, MockMep, NotHeld, OverLimit, RateLimitConfig,
};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";
/// A real-time safety net for waits that should end at once; no test asserts on how long anything takes.
const PATIENCE: Duration = Duration::from_secs(10);

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A UE's resolver asking only `server`, over UDP or TCP, caching nothing.
fn resolver(server: SocketAddr, tcp: bool) -> TokioResolver {
    let mut connection = if tcp {
        ConnectionConfig::tcp()
    } else {
        ConnectionConfig::udp()
    };
    connection.port = server.port();
    resolver_with(server, vec![connection])
}

fn resolver_with(server: SocketAddr, connections: Vec<ConnectionConfig>) -> TokioResolver {
    let mut options = ResolverOpts::default();
    options.cache_size = 0;
    options.attempts = 1;
    options.timeout = PATIENCE;
    options.use_hosts_file = ResolveHosts::Never;
    options.edns0 = true;
    Resolver::builder_with_config(
        ResolverConfig::from_parts(
            None,
            Vec::new(),
            vec![NameServerConfig::new(server.ip(), true, connections)],
        ),
        TokioRuntimeProvider::default(),
    )
    .with_options(options)
    .build()
    .unwrap()
}

async fn ask(r: &TokioResolver, name: &str, t: RecordType) -> Result<Lookup, NetError> {
    r.clear_cache();
    r.lookup(Name::from_ascii(name).unwrap(), t).await
}

/// The addresses of an answer, with their TTLs.
fn addresses(lookup: &Lookup) -> Vec<(String, u32)> {
    lookup
        .answers()
        .iter()
        .map(|r| (r.data.to_string(), r.ttl))
        .collect()
}

fn response_code(e: &NetError) -> Option<ResponseCode> {
    match e {
        NetError::Dns(DnsError::ResponseCode(code)) => Some(*code),
        NetError::Dns(DnsError::NoRecordsFound(none)) => Some(none.response_code),
        _ => None,
    }
}

fn config(rules: serde_json::Value) -> AppDConfig {
    serde_json::from_value(json!({
        "appName": "faces", "appSupportMp1": true, "appTrafficRule": [], "appDnsRule": rules
    }))
    .unwrap()
}

fn rule(id: &str, name: &str, ip: &str, ttl: Option<u32>) -> DnsRule {
    let family = if ip.contains(':') {
        IpAddressType::IpV6
    } else {
        IpAddressType::IpV4
    };
    let rule = DnsRule::new(id, name, family, ip).with_state(RuleState::Active);
    match ttl {
        Some(ttl) => rule.with_ttl(ttl),
        None => rule,
    }
}

async fn mock_with_dns(config: DnsConfig) -> MockMep {
    MockMep::builder()
        .app(AppInstance::new(APP))
        .dns_config(config)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn rules_from_mm5_resolve_and_stop_when_deactivated_removed_or_terminated() {
    let mep = mock_with_dns(DnsConfig::new(local())).await;
    let dns = mep.dns_addr().unwrap();
    let (udp, tcp) = (resolver(dns, false), resolver(dns, true));
    let mepm = mep.mm5_client();
    let app = Client::builder(mep.mep_url())
        .aksk(mep.credentials(APP).unwrap())
        .build()
        .unwrap()
        .app(APP);

    mepm.app_config(APP)
        .create(&config(json!([
            {"dnsRuleId": "v4", "domainName": "faces.example.com", "ipAddressType": "IPv4",
             "ipAddress": "192.0.2.10", "ttl": 60, "state": "ACTIVE"},
            {"dnsRuleId": "v6", "domainName": "faces6.example.com", "ipAddressType": "IP_V6",
             "ipAddress": "2001:db8::10", "ttl": 120},
            {"dnsRuleId": "only6", "domainName": "only6.example.com", "ipAddressType": "IPv6",
             "ipAddress": "2001:db8::6"},
            {"dnsRuleId": "other", "domainName": "other.example.com", "ipAddressType": "IPv4",
             "ipAddress": "192.0.2.20", "ttl": 5}
        ])))
        .await
        .unwrap();

    // Over UDP and TCP, with the rule's TTL; the name matches in any case.
    for r in [&udp, &tcp] {
        let a = ask(r, "faces.example.com.", RecordType::A).await.unwrap();
        assert_eq!(addresses(&a), [("192.0.2.10".to_owned(), 60)]);
        let a = ask(r, "FACES.Example.COM.", RecordType::A).await.unwrap();
        assert_eq!(addresses(&a), [("192.0.2.10".to_owned(), 60)]);
    }
    // AAAA from an IPv6 rule, with its TTL; a rule without one gets the default (30 s).
    let aaaa = ask(&udp, "faces6.example.com.", RecordType::AAAA)
        .await
        .unwrap();
    assert_eq!(addresses(&aaaa), [("2001:db8::10".to_owned(), 120)]);
    let aaaa = ask(&tcp, "only6.example.com.", RecordType::AAAA)
        .await
        .unwrap();
    assert_eq!(addresses(&aaaa), [("2001:db8::6".to_owned(), 30)]);
    // An A query for a name with only an IPv6 rule: NOERROR without records (NODATA), not NXDOMAIN.
    let e = ask(&udp, "only6.example.com.", RecordType::A)
        .await
        .unwrap_err();
    assert!(e.is_no_records_found() && !e.is_nx_domain(), "{e:?}");
    assert_eq!(response_code(&e), Some(ResponseCode::NoError));
    // Other types of a held name: NODATA too.
    let e = ask(&udp, "faces.example.com.", RecordType::MX)
        .await
        .unwrap_err();
    assert_eq!(response_code(&e), Some(ResponseCode::NoError));

    // The app deactivates the IPv4 rule over Mp1: it stops at once (the name is no longer held: REFUSED, the
    // default for names no rule holds); the other rules stay.
    let tagged = app.dns_rules().get("v4").await.unwrap();
    let mut v4 = tagged.value.clone();
    v4.state = RuleState::Inactive;
    app.dns_rules()
        .update("v4", &v4, tagged.etag.as_deref())
        .await
        .unwrap();
    for r in [&udp, &tcp] {
        let e = ask(r, "faces.example.com.", RecordType::A)
            .await
            .unwrap_err();
        assert_eq!(response_code(&e), Some(ResponseCode::Refused), "{e:?}");
    }
    assert!(
        ask(&tcp, "faces6.example.com.", RecordType::AAAA)
            .await
            .is_ok()
    );
    // ... and active again, it answers again.
    let tagged = app.dns_rules().get("v4").await.unwrap();
    let mut v4 = tagged.value.clone();
    v4.state = RuleState::Active;
    app.dns_rules()
        .update("v4", &v4, tagged.etag.as_deref())
        .await
        .unwrap();
    assert!(ask(&udp, "faces.example.com.", RecordType::A).await.is_ok());

    // The MEP manager configures the app again without `other`: it is no longer answered.
    mepm.app_config(APP)
        .update(&config(json!([
            {"dnsRuleId": "v4", "domainName": "faces.example.com", "ipAddressType": "IPv4",
             "ipAddress": "192.0.2.10", "ttl": 60}
        ])))
        .await
        .unwrap();
    let e = ask(&udp, "other.example.com.", RecordType::A)
        .await
        .unwrap_err();
    assert_eq!(response_code(&e), Some(ResponseCode::Refused), "{e:?}");
    assert!(ask(&udp, "faces.example.com.", RecordType::A).await.is_ok());

    // The app is terminated (no termination subscribers: at once): nothing of it is answered.
    mepm.terminate_app_instance(APP).await.unwrap();
    for r in [&udp, &tcp] {
        let e = ask(r, "faces.example.com.", RecordType::A)
            .await
            .unwrap_err();
        assert_eq!(response_code(&e), Some(ResponseCode::Refused), "{e:?}");
    }

    // (The resolver may ask again after REFUSED: counts are at least the queries made.)
    let c = mep.dns_counters().unwrap();
    assert!(c.answers >= 7, "{c:?}");
    assert!(c.nodata >= 2, "{c:?}");
    assert!(c.refused >= 5, "{c:?}");
    assert_eq!(c.names, 0, "{c:?}");
    assert_eq!(c.malformed, 0, "{c:?}");
}

#[tokio::test]
async fn wildcard_rules_answer_the_names_below_with_the_name_asked() {
    let mep = mock_with_dns(DnsConfig::new(local())).await;
    mep.put_dns_rule(APP, rule("w", "*.apps.example.com", "192.0.2.30", Some(10)))
        .await
        .unwrap();
    mep.put_dns_rule(APP, rule("x", "exact.apps.example.com", "192.0.2.31", None))
        .await
        .unwrap();
    let r = resolver(mep.dns_addr().unwrap(), false);
    let a = ask(&r, "Some.Thing.apps.example.com.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&a), [("192.0.2.30".to_owned(), 10)]);
    assert_eq!(
        a.answers()[0].name,
        Name::from_ascii("some.thing.apps.example.com.").unwrap()
    );
    let a = ask(&r, "exact.apps.example.com.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&a), [("192.0.2.31".to_owned(), 30)]);
    let e = ask(&r, "apps.example.com.", RecordType::A)
        .await
        .unwrap_err();
    assert_eq!(response_code(&e), Some(ResponseCode::Refused));
}

#[tokio::test]
async fn names_not_held_are_answered_nxdomain_when_so_configured() {
    let mut config = DnsConfig::new(local());
    config.not_held = NotHeld::Nxdomain;
    let mep = mock_with_dns(config).await;
    let r = resolver(mep.dns_addr().unwrap(), true);
    let e = ask(&r, "elsewhere.example.org.", RecordType::A)
        .await
        .unwrap_err();
    assert!(e.is_nx_domain(), "{e:?}");
    assert_eq!(mep.dns_counters().unwrap().nxdomain, 1);
}

#[tokio::test]
async fn names_not_held_are_forwarded_to_the_upstream() {
    // The upstream: a second MEP answering its own rules, NXDOMAIN for the rest.
    let mut upstream_config = DnsConfig::new(local());
    upstream_config.not_held = NotHeld::Nxdomain;
    let upstream = MockMep::builder()
        .app(AppInstance::new("upstream-app").with_dns_rule(rule(
            "u",
            "far.example.org",
            "198.51.100.5",
            Some(300),
        )))
        .dns_config(upstream_config)
        .start()
        .await
        .unwrap();
    let front =
        mock_with_dns(DnsConfig::new(local()).forwarding_to([upstream.dns_addr().unwrap()])).await;
    front
        .put_dns_rule(APP, rule("n", "near.example.com", "192.0.2.40", None))
        .await
        .unwrap();

    for tcp in [false, true] {
        let r = resolver(front.dns_addr().unwrap(), tcp);
        let near = ask(&r, "near.example.com.", RecordType::A).await.unwrap();
        assert_eq!(addresses(&near), [("192.0.2.40".to_owned(), 30)]);
        let far = ask(&r, "far.example.org.", RecordType::A).await.unwrap();
        assert_eq!(far.answers()[0].data.to_string(), "198.51.100.5");
        assert!(far.answers()[0].ttl <= 300);
        let e = ask(&r, "nowhere.example.org.", RecordType::A)
            .await
            .unwrap_err();
        assert!(
            e.is_nx_domain(),
            "the upstream's NXDOMAIN is relayed: {e:?}"
        );
    }
    let c = front.dns_counters().unwrap();
    assert!(c.forwards >= 2, "{c:?}");
    assert_eq!(c.forward_failures, 0, "{c:?}");
    assert!(upstream.dns_counters().unwrap().answers >= 1);
}

#[tokio::test]
async fn a_dead_upstream_gets_servfail() {
    // A port nothing answers on: bound, then closed.
    let dead = UdpSocket::bind(local())
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let mut config = DnsConfig::new(local()).forwarding_to([dead]);
    config.forward.timeout_ms = 200;
    let mep = mock_with_dns(config).await;
    let e = ask(
        &resolver(mep.dns_addr().unwrap(), false),
        "anything.example.",
        RecordType::A,
    )
    .await
    .unwrap_err();
    assert_eq!(response_code(&e), Some(ResponseCode::ServFail), "{e:?}");
    let c = mep.dns_counters().unwrap();
    assert!(c.forward_failures >= 1, "{c:?}");
}

/// A query as a UE's stub sends it.
fn query(id: u16, name: &str, t: RecordType, edns: bool) -> Vec<u8> {
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
    if edns {
        let mut e = Edns::new();
        e.set_max_payload(4096);
        m.set_edns(e);
    }
    m.to_vec().unwrap()
}

async fn exchange_udp(socket: &UdpSocket, server: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    socket.send_to(bytes, server).await.unwrap();
    let mut buf = vec![0u8; 65_535];
    let (n, _) = tokio::time::timeout(PATIENCE, socket.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    buf.truncate(n);
    buf
}

async fn exchange_tcp(server: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(server).await.unwrap();
    let len = u16::try_from(bytes.len()).unwrap();
    s.write_all(&len.to_be_bytes()).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut prefix = [0u8; 2];
    tokio::time::timeout(PATIENCE, s.read_exact(&mut prefix))
        .await
        .unwrap()
        .unwrap();
    let mut answer = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    s.read_exact(&mut answer).await.unwrap();
    answer
}

/// Waits (real time, bounded) until the counters say so.
async fn counters_until(mep: &MockMep, done: impl Fn(&DnsCounters) -> bool) -> DnsCounters {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let c = mep.dns_counters().unwrap();
        if done(&c) || tokio::time::Instant::now() > deadline {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn malformed_packets_are_counted_answered_formerr_where_possible_and_never_stop_it() {
    let mut config = DnsConfig::new(local());
    // Hundreds of messages from one source, on a clock that stands still: not what is tested here.
    config.rate_limit = RateLimitConfig::off();
    let mep = mock_with_dns(config).await;
    mep.put_dns_rule(APP, rule("r", "svc.example.com", "192.0.2.50", None))
        .await
        .unwrap();
    let server = mep.dns_addr().unwrap();
    let socket = UdpSocket::bind(local()).await.unwrap();

    // Garbage, a truncated header, an empty datagram, and a response: dropped silently.
    let dropped: [&[u8]; 4] = [
        b"\xde\xad\xbe\xef",
        &[0x12, 0x34, 0x01, 0x00, 0x00],
        b"",
        &{
            let mut m = query(7, "svc.example.com.", RecordType::A, false);
            m[2] |= 0x80; // QR: a response
            m
        },
    ];
    for bytes in dropped {
        socket.send_to(bytes, server).await.unwrap();
    }
    // Readable headers with broken bodies: FORMERR, with the query's id.
    let mut two_questions = Message::new(9, MessageType::Query, OpCode::Query);
    two_questions.add_query(Query::query(
        Name::from_ascii("a.example.").unwrap(),
        RecordType::A,
    ));
    two_questions.add_query(Query::query(
        Name::from_ascii("b.example.").unwrap(),
        RecordType::A,
    ));
    let mut many = query(10, "svc.example.com.", RecordType::A, false);
    many[4] = 0xff; // QDCOUNT 65,535, one question present
    many[5] = 0xff;
    let mut cut = query(11, "svc.example.com.", RecordType::A, false);
    cut.truncate(cut.len() - 3); // the question ends early
    let mut looping = vec![0x00, 12, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    looping.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]); // a name pointing at itself
    let mut no_questions = query(13, "svc.example.com.", RecordType::A, false);
    no_questions[5] = 0;
    for (id, bytes) in [
        (9, two_questions.to_vec().unwrap()),
        (10, many),
        (11, cut),
        (12, looping),
        (13, no_questions),
    ] {
        let answer = Message::from_vec(&exchange_udp(&socket, server, &bytes).await).unwrap();
        assert_eq!(answer.metadata.id, id);
        assert_eq!(answer.metadata.response_code, ResponseCode::FormErr);
    }
    // A burst of deterministic noise.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..500 {
        let mut bytes = Vec::new();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = seed % 300;
        for i in 0..len {
            bytes.push(seed.rotate_left((i % 64) as u32).to_le_bytes()[0] ^ (i as u8));
        }
        socket.send_to(&bytes, server).await.unwrap();
    }

    // Over TCP: a length prefix of 65,535 with nothing after it, held open; a prefix too short for a header.
    let mut hanging = TcpStream::connect(server).await.unwrap();
    hanging.write_all(&[0xff, 0xff]).await.unwrap();
    let mut short = TcpStream::connect(server).await.unwrap();
    short.write_all(&[0x00, 0x03, 1, 2, 3]).await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(PATIENCE, short.read_to_end(&mut rest))
        .await
        .unwrap();
    assert!(closed.is_ok() && rest.is_empty(), "closed unanswered");

    // It still answers, over both (a fresh socket: the noise got FORMERR answers of its own).
    let socket = UdpSocket::bind(local()).await.unwrap();
    let fine = query(42, "svc.example.com.", RecordType::A, false);
    for answer in [
        exchange_udp(&socket, server, &fine).await,
        exchange_tcp(server, &fine).await,
    ] {
        let m = Message::from_vec(&answer).unwrap();
        assert_eq!(m.metadata.id, 42);
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        assert!(m.metadata.authoritative);
        assert_eq!(
            m.answers[0].data,
            RData::A("192.0.2.50".parse::<std::net::Ipv4Addr>().unwrap().into())
        );
    }
    let r = resolver(server, true);
    assert!(ask(&r, "svc.example.com.", RecordType::A).await.is_ok());
    // The four dropped, the five FORMERR, the short TCP message, and whatever noise could not be read.
    let c = counters_until(&mep, |c| c.malformed >= 10).await;
    assert!(c.malformed >= 10, "{c:?}");
    drop(hanging);
}

#[tokio::test]
async fn a_length_prefix_with_nothing_after_it_is_closed_after_the_read_time() {
    let mut config = DnsConfig::new(local());
    config.tcp.read_timeout_ms = 200;
    let mep = mock_with_dns(config).await;
    mep.put_dns_rule(APP, rule("r", "svc.example.com", "192.0.2.50", None))
        .await
        .unwrap();
    let server = mep.dns_addr().unwrap();
    let mut hanging = TcpStream::connect(server).await.unwrap();
    hanging.write_all(&[0xff, 0xff, 0x00]).await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(PATIENCE, hanging.read_to_end(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(0))),
        "the server closes it unanswered"
    );
    let c = counters_until(&mep, |c| c.tcp_timeouts == 1).await;
    assert_eq!(c.tcp_timeouts, 1);
    assert!(
        ask(&resolver(server, true), "svc.example.com.", RecordType::A)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn tcp_connections_over_the_limit_are_closed_at_once() {
    let mut config = DnsConfig::new(local());
    config.tcp.max_connections = 2;
    let mep = mock_with_dns(config).await;
    mep.put_dns_rule(APP, rule("r", "svc.example.com", "192.0.2.50", None))
        .await
        .unwrap();
    let server = mep.dns_addr().unwrap();
    let first = TcpStream::connect(server).await.unwrap();
    let _second = TcpStream::connect(server).await.unwrap();
    counters_until(&mep, |c| c.tcp_connections == 2).await;
    let mut third = TcpStream::connect(server).await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(PATIENCE, third.read_to_end(&mut rest)).await;
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "{closed:?}");
    assert_eq!(mep.dns_counters().unwrap().tcp_rejected, 1);
    // UDP is not affected; once a connection goes, TCP serves again.
    assert!(
        ask(&resolver(server, false), "svc.example.com.", RecordType::A)
            .await
            .is_ok()
    );
    drop(first);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let tcp = resolver(server, true);
    while ask(&tcp, "svc.example.com.", RecordType::A).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "TCP never served again"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn idle_tcp_connections_are_closed() {
    let mut config = DnsConfig::new(local());
    config.tcp.idle_timeout_ms = 100;
    let mep = mock_with_dns(config).await;
    let server = mep.dns_addr().unwrap();
    let mut idle = TcpStream::connect(server).await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(PATIENCE, idle.read_to_end(&mut rest)).await;
    assert!(matches!(closed, Ok(Ok(0))), "{closed:?}");
    assert_eq!(
        counters_until(&mep, |c| c.tcp_timeouts == 1)
            .await
            .tcp_timeouts,
        1
    );
}

#[tokio::test]
async fn sources_over_their_rate_are_refused_or_dropped() {
    for over_limit in [OverLimit::Refuse, OverLimit::Drop] {
        let mut config = DnsConfig::new(local());
        // Two a second, three at once; the mock's clock (which the limits follow) stands still until advanced.
        config.rate_limit = RateLimitConfig::default();
        config.rate_limit.per_second = 2;
        config.rate_limit.burst = 3;
        config.rate_limit.over_limit = over_limit;
        let mep = mock_with_dns(config).await;
        mep.put_dns_rule(APP, rule("r", "svc.example.com", "192.0.2.50", None))
            .await
            .unwrap();
        let server = mep.dns_addr().unwrap();
        let socket = UdpSocket::bind(local()).await.unwrap();
        for id in 0..10u16 {
            socket
                .send_to(&query(id, "svc.example.com.", RecordType::A, false), server)
                .await
                .unwrap();
        }
        let c = counters_until(&mep, |c| c.received == 10).await;
        assert_eq!(c.rate_limited, 7, "{c:?}");
        assert_eq!(c.answers, 3, "{c:?}");
        assert_eq!(c.queries, 3, "rate-limited messages are not decoded: {c:?}");
        let mut buf = vec![0u8; 4096];
        let mut codes = Vec::new();
        let expected = if over_limit == OverLimit::Refuse {
            10
        } else {
            3
        };
        for _ in 0..expected {
            let (n, _) = tokio::time::timeout(PATIENCE, socket.recv_from(&mut buf))
                .await
                .unwrap()
                .unwrap();
            codes.push(Message::from_vec(&buf[..n]).unwrap().metadata.response_code);
        }
        let refused = codes
            .iter()
            .filter(|c| **c == ResponseCode::Refused)
            .count();
        assert_eq!(refused, expected - 3, "{codes:?}");
        // Over TCP, the source is refused too.
        let answer =
            exchange_tcp(server, &query(99, "svc.example.com.", RecordType::A, false)).await;
        let m = Message::from_vec(&answer).unwrap();
        assert_eq!(m.metadata.id, 99);
        assert_eq!(m.metadata.response_code, ResponseCode::Refused);
        // Half a second later (on the mock's clock), one more query is allowed.
        mep.advance(Duration::from_millis(500));
        let answer = exchange_udp(
            &socket,
            server,
            &query(100, "svc.example.com.", RecordType::A, false),
        )
        .await;
        let m = Message::from_vec(&answer).unwrap();
        assert_eq!(
            (m.metadata.id, m.metadata.response_code),
            (100, ResponseCode::NoError)
        );
    }
}

#[tokio::test]
async fn answers_too_large_for_udp_are_truncated_and_complete_over_tcp() {
    let mep = mock_with_dns(DnsConfig::new(local())).await;
    for i in 0..60u8 {
        mep.put_dns_rule(
            APP,
            rule(
                &format!("r{i}"),
                "many.example.com",
                &format!("192.0.2.{i}"),
                None,
            ),
        )
        .await
        .unwrap();
    }
    let server = mep.dns_addr().unwrap();
    let socket = UdpSocket::bind(local()).await.unwrap();
    // Without EDNS: 512 bytes at most, truncated.
    let bytes = exchange_udp(
        &socket,
        server,
        &query(1, "many.example.com.", RecordType::A, false),
    )
    .await;
    assert!(bytes.len() <= 512, "{}", bytes.len());
    let m = Message::from_vec(&bytes).unwrap();
    assert!(m.metadata.truncation);
    // With EDNS (4096 offered): up to the configured 1,232 bytes, here all of it fits.
    let bytes = exchange_udp(
        &socket,
        server,
        &query(2, "many.example.com.", RecordType::A, true),
    )
    .await;
    let m = Message::from_vec(&bytes).unwrap();
    assert!(!m.metadata.truncation);
    assert_eq!(m.answers.len(), 60);
    assert!(m.edns.is_some(), "EDNS is answered with EDNS");
    // A resolver trying UDP first gets everything, through TCP.
    let mut udp = ConnectionConfig::udp();
    udp.port = server.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = server.port();
    let r = resolver_with(server, vec![udp, tcp]);
    let all = ask(&r, "many.example.com.", RecordType::A).await.unwrap();
    assert_eq!(all.answers().len(), 60);
}

#[tokio::test]
async fn other_classes_are_refused_and_other_operations_not_implemented() {
    let mep = mock_with_dns(DnsConfig::new(local())).await;
    mep.put_dns_rule(APP, rule("r", "svc.example.com", "192.0.2.50", None))
        .await
        .unwrap();
    let server = mep.dns_addr().unwrap();
    let socket = UdpSocket::bind(local()).await.unwrap();
    let mut chaos = Message::new(5, MessageType::Query, OpCode::Query);
    let mut q = Query::query(Name::from_ascii("svc.example.com.").unwrap(), RecordType::A);
    q.set_query_class(hickory_resolver::proto::rr::DNSClass::CH);
    chaos.add_query(q);
    let m =
        Message::from_vec(&exchange_udp(&socket, server, &chaos.to_vec().unwrap()).await).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    let mut notify = Message::new(6, MessageType::Query, OpCode::Notify);
    notify.add_query(Query::query(
        Name::from_ascii("svc.example.com.").unwrap(),
        RecordType::SOA,
    ));
    let m =
        Message::from_vec(&exchange_udp(&socket, server, &notify.to_vec().unwrap()).await).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NotImp);
    let c = mep.dns_counters().unwrap();
    assert_eq!((c.refused, c.not_implemented), (1, 1));
}

#[tokio::test]
async fn the_status_endpoint_shows_the_counters() {
    let mep = mock_with_dns(DnsConfig::new(local())).await;
    let socket = UdpSocket::bind(local()).await.unwrap();
    let refused = exchange_udp(
        &socket,
        mep.dns_addr().unwrap(),
        &query(1, "unknown.example.", RecordType::A, false),
    )
    .await;
    assert_eq!(
        Message::from_vec(&refused).unwrap().metadata.response_code,
        ResponseCode::Refused
    );
    let status: serde_json::Value = status_of(&mep).await;
    assert_eq!(status["dns"]["queries"], 1, "{status}");
    assert_eq!(status["dns"]["refused"], 1, "{status}");
    assert_eq!(status["dns"]["rateLimited"], 0, "{status}");
    assert!(status["apps"].is_number());
    // Without the responder, no `dns` member.
    let plain = MockMep::start().await;
    let status: serde_json::Value = status_of(&plain).await;
    assert!(status.get("dns").is_none(), "{status}");
    assert!(plain.dns_addr().is_none());
}

/// `GET /mep/status`, as the MEP manager reads it (with the Mm5 secret).
async fn status_of(mep: &MockMep) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{}/mep/status", mep.url()))
        .bearer_auth(mep.mm5_secret().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
