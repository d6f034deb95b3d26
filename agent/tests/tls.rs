//! Certificates are checked by default: against the CA of `CA_CERT` and the name of `CA_CERT_DOMAIN_NAME`.
//!
//! The MEP here is `MockMep` behind a TLS front (rustls) with the certificate of `tests/tls/`: a test CA
//! (`ca.pem`) and a server certificate for `localhost` only, no IP address, valid until 2126. Made with:
//!
//! ```text
//! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 36500 \
//!   -subj "/CN=mec-agent test CA" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
//! openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj /CN=localhost
//! openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -out server.pem -days 36500 -extfile ext.cnf
//!   # ext.cnf: subjectAltName=DNS:localhost, basicConstraints=CA:FALSE, keyUsage=critical,digitalSignature,
//!   #          extendedKeyUsage=serverAuth
//! openssl pkcs8 -topk8 -nocrypt -in server.key -out server.key
//! ```

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{config_file, service_yaml, wait_for};
use mec_agent::{Agent, AgentClock, AgentConfig, Backoff, Error, Phase, Settings};
use mec_testkit::MockMep;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tls")
        .join(name)
}

/// Serves TLS on 127.0.0.1 and passes each connection's bytes on to `backend`.
async fn tls_front(backend: SocketAddr) -> SocketAddr {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(fixture("server.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake is what some tests expect; nothing to do then.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}

struct Case {
    ca: bool,
    name: Option<&'static str>,
    insecure: bool,
}

/// Runs the agent against the TLS front until it is running or has failed.
async fn run(case: Case) -> (Result<(), Error>, mec_agent::AgentStatus) {
    let mep = MockMep::start().await;
    let (app, credentials) = mep.app();
    let front = tls_front(mep.addr()).await;
    let (_dir, path) = config_file(&[service_yaml("location", "http://10.0.0.7/l", None)], &[]);
    let mut env = vec![
        ("AK", credentials.access_key().to_owned()),
        ("SK", credentials.secret_key().to_owned()),
        ("APPINSTID", app.clone()),
        ("MEP_IP", "127.0.0.1".to_owned()),
        ("MEP_APIGW_PORT", front.port().to_string()),
        ("MEP_AGENT_CONFIG", path.display().to_string()),
        ("MEP_AGENT_LISTEN", "127.0.0.1:0".to_owned()),
    ];
    if case.ca {
        env.push(("CA_CERT", fixture("ca.pem").display().to_string()));
    }
    if let Some(name) = case.name {
        env.push(("CA_CERT_DOMAIN_NAME", name.to_owned()));
    }
    let mut flags = Settings::default();
    flags.insecure_skip_tls_verify = case.insecure.then_some(true);
    let mut config: AgentConfig = Settings::from_env(|k| {
        env.iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.clone())
    })
    .or(flags)
    .resolve()
    .unwrap();
    config.backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(1), 1);
    let clock = AgentClock::manual(mep.clock().unwrap().clone());
    let agent = Agent::bind(config, clock).await.unwrap();
    let mut status = agent.status();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(agent.run_until(async {
        let _ = stopped.await;
    }));
    let s = wait_for(&mut status, "running or failed", |s| {
        matches!(s.phase, Phase::Running | Phase::Failed)
    })
    .await;
    let _ = stop.send(());
    let result = tokio::time::timeout(common::PATIENCE, task)
        .await
        .unwrap()
        .unwrap();
    (result, s)
}

#[tokio::test]
async fn the_mep_is_trusted_through_the_given_ca_and_name() {
    let (result, status) = run(Case {
        ca: true,
        name: Some("localhost"),
        insecure: false,
    })
    .await;
    assert_eq!(status.phase, Phase::Running, "{status:?}");
    assert!(status.tls_verified);
    result.unwrap();
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_is_refused() {
    let (result, status) = run(Case {
        ca: false,
        name: Some("localhost"),
        insecure: false,
    })
    .await;
    assert_eq!(status.phase, Phase::Failed);
    let e = result.unwrap_err();
    let text = e.report();
    assert!(text.contains("certificate"), "{text}");
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    // Without CA_CERT_DOMAIN_NAME the MEP is addressed, and its certificate checked, by MEP_IP, which the
    // certificate does not name.
    let (result, status) = run(Case {
        ca: true,
        name: None,
        insecure: false,
    })
    .await;
    assert_eq!(status.phase, Phase::Failed);
    let text = result.unwrap_err().report();
    assert!(text.contains("certificate"), "{text}");
}

#[tokio::test]
async fn the_insecure_flag_accepts_any_certificate_and_says_so() {
    let (result, status) = run(Case {
        ca: false,
        name: Some("localhost"),
        insecure: true,
    })
    .await;
    assert_eq!(status.phase, Phase::Running, "{status:?}");
    assert!(!status.tls_verified);
    result.unwrap();
}
