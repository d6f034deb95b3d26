//! Serving the responder over UDP and TCP, defending itself: per-source rate limits before anything is decoded,
//! a bound on queries being forwarded, and over TCP a connection limit, an idle timeout between messages, a read
//! timeout within one (a length prefix with nothing after it ends there), and a write timeout.

use super::limit::SourceLimiter;
use super::responder::{Plan, Responder, refused_from_header};
use super::stats::bump;
use hickory_server::net::xfer::Protocol;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// The shortest DNS message: a header.
const HEADER_LEN: usize = 12;

/// What the servers share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) responder: Responder,
    pub(crate) limiter: SourceLimiter,
    pub(crate) refuse_over_limit: bool,
    pub(crate) idle_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) max_connections: usize,
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    // A dropped sender stops the servers too.
    let _ = stop.wait_for(|s| *s).await;
}

/// Reaps the tasks that finished, without waiting.
fn reap(tasks: &mut JoinSet<()>) {
    while tasks.try_join_next().is_some() {}
}

/// Serves UDP until `stop`. Answers from the rules are sent from this loop; forwarded queries run as tasks
/// (ended when the server stops).
pub(crate) async fn serve_udp(
    socket: Arc<UdpSocket>,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) {
    // Large enough for any datagram: a longer one would be cut by the kernel and then fail to decode.
    let mut buf = vec![0u8; 65_535];
    let mut forwards = JoinSet::new();
    let stop = stopped(stop);
    tokio::pin!(stop);
    loop {
        let (len, src) = tokio::select! {
            () = &mut stop => break,
            received = socket.recv_from(&mut buf) => match received {
                Ok(r) => r,
                Err(e) => {
                    // ICMP errors of earlier sends surface here on some systems; nothing to do but go on.
                    tracing::debug!(error = %e, "DNS UDP receive error");
                    continue;
                }
            },
        };
        let s = &shared.responder.stats;
        bump(&s.received);
        if src.port() == 0 || src.ip().is_unspecified() {
            bump(&s.malformed);
            continue;
        }
        let raw = &buf[..len];
        if !shared.limiter.allow(src.ip()) {
            bump(&s.rate_limited);
            if shared.refuse_over_limit
                && let Some(refused) = refused_from_header(raw)
            {
                let _ = socket.send_to(&refused, src).await;
            }
            continue;
        }
        match shared.responder.plan(raw, src, Protocol::Udp) {
            Plan::Reply(bytes) => {
                if let Err(e) = socket.send_to(&bytes, src).await {
                    tracing::debug!(%src, error = %e, "cannot send a DNS answer");
                }
            }
            Plan::Drop => {}
            Plan::Forward(request) => {
                let forwarder = shared.responder.forwarder.as_ref();
                match forwarder.and_then(|f| f.permit()) {
                    Some(permit) => {
                        let shared = shared.clone();
                        let socket = socket.clone();
                        forwards.spawn(async move {
                            let _permit = permit;
                            let bytes = shared.responder.forward(&request).await;
                            let _ = socket.send_to(&bytes, src).await;
                        });
                    }
                    None => {
                        let bytes = shared.responder.overloaded(&request);
                        let _ = socket.send_to(&bytes, src).await;
                    }
                }
            }
        }
        reap(&mut forwards);
    }
}

/// Serves TCP until `stop`: at most `max_connections` at once, the others closed at once.
pub(crate) async fn serve_tcp(
    listener: TcpListener,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(shared.max_connections.max(1)));
    let mut connections = JoinSet::new();
    let stop = stopped(stop);
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "cannot accept a DNS TCP connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        reap(&mut connections);
        let s = &shared.responder.stats;
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            bump(&s.tcp_rejected);
            tracing::debug!(%peer, "DNS TCP connection closed: over the connection limit");
            drop(stream);
            continue;
        };
        bump(&s.tcp_connections);
        let shared = shared.clone();
        connections.spawn(async move {
            let _permit = permit;
            connection(stream, peer, &shared).await;
        });
    }
    // Dropping `connections` ends the connections still open.
}

/// Why a connection ended.
enum Closed {
    Eof,
    TimedOut,
    Io,
}

async fn read_with(stream: &mut TcpStream, buf: &mut [u8], limit: Duration) -> Result<(), Closed> {
    match tokio::time::timeout(limit, stream.read_exact(buf)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(Closed::Eof),
        Ok(Err(_)) => Err(Closed::Io),
        Err(_) => Err(Closed::TimedOut),
    }
}

/// One TCP connection: messages are read and answered one at a time (RFC 7766 allows answering in order).
async fn connection(mut stream: TcpStream, peer: SocketAddr, shared: &Shared) {
    let s = &shared.responder.stats;
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    let outcome = loop {
        let mut prefix = [0u8; 2];
        if let Err(closed) = read_with(&mut stream, &mut prefix, shared.idle_timeout).await {
            break closed;
        }
        let len = usize::from(u16::from_be_bytes(prefix));
        if len < HEADER_LEN {
            // Not a DNS message, and nothing after it can be trusted to be one.
            bump(&s.received);
            bump(&s.malformed);
            break Closed::Io;
        }
        buf.resize(len, 0);
        if let Err(closed) = read_with(&mut stream, &mut buf, shared.read_timeout).await {
            break closed;
        }
        bump(&s.received);
        let answer = if !shared.limiter.allow(peer.ip()) {
            bump(&s.rate_limited);
            refused_from_header(&buf)
        } else {
            match shared.responder.plan(&buf, peer, Protocol::Tcp) {
                Plan::Reply(bytes) => Some(bytes),
                Plan::Drop => None,
                Plan::Forward(request) => {
                    let forwarder = shared.responder.forwarder.as_ref();
                    Some(match forwarder.and_then(|f| f.permit()) {
                        Some(_permit) => shared.responder.forward(&request).await,
                        None => shared.responder.overloaded(&request),
                    })
                }
            }
        };
        let Some(answer) = answer else { continue };
        let Ok(len) = u16::try_from(answer.len()) else {
            // Cannot happen: answers over TCP are encoded to at most 65,535 bytes.
            break Closed::Io;
        };
        let mut framed = Vec::with_capacity(answer.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(&answer);
        match tokio::time::timeout(shared.read_timeout, stream.write_all(&framed)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => break Closed::Io,
            Err(_) => break Closed::TimedOut,
        }
    };
    if let Closed::TimedOut = outcome {
        bump(&s.tcp_timeouts);
        tracing::debug!(%peer, "DNS TCP connection closed: timed out");
    }
    let _ = stream.shutdown().await;
}
