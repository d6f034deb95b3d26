//! [`EtcdStore`]: the store in etcd (v3 API), shared by several `mep` replicas.
//!
//! The mapping is direct, since the [`Store`] trait was shaped after etcd:
//!
//! - a [`Revision`] is etcd's revision (a key's is its `mod_revision`);
//! - [`Store::commit`] is one etcd `Txn`: [`Condition::Absent`] compares `create_revision == 0`,
//!   [`Condition::Revision`] compares `mod_revision`; the writes are the `Txn`'s success branch, and its failure
//!   branch reads the compared keys so that the key which changed can be named;
//! - [`Store::watch`] is an etcd watch on the prefix; when the connection breaks the watch reports
//!   [`WatchEvent::Disconnected`], reconnects by itself, and reports [`WatchEvent::Resync`] once it is back (also
//!   when etcd compacted the history it was behind on);
//! - leases are etcd leases (their time-to-live is etcd's, in real time).
//!
//! Every failure to reach etcd, or an answer that does not come within the request time limit, is
//! [`StoreError::Unavailable`]; the client reconnects on its own when etcd is back.
//!
//! **Transaction size.** etcd refuses a `Txn` with more than `--max-txn-ops` writes (128 unless configured) or
//! larger than `--max-request-bytes` (1.5 MiB). Cutting a large transaction into several would not be atomic, so
//! the store never does it: a transaction over [`EtcdOptions::max_txn_ops`] is refused with
//! [`StoreError::TooLarge`] before it is sent (so is one etcd itself refuses), and [`Store::max_txn_ops`] tells
//! the engine the limit, so that it splits the work it can split safely (terminating an app with many services).

use super::{Condition, Entry, LeaseId, Op, Revision, Store, StoreError, Txn, Watch, WatchEvent};
use bytes::Bytes;
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, EventType, GetOptions, KeyValue, PutOptions, TxnOp,
    TxnOpResponse, WatchOptions, WatchStream,
};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// etcd's default `--max-txn-ops`.
pub const ETCD_DEFAULT_MAX_TXN_OPS: usize = 128;

/// Entries read per request when listing a prefix (every page at the revision of the first).
const LIST_PAGE: i64 = 500;

/// Events a watch buffers for a slow reader (it then waits: etcd keeps the rest).
const WATCH_BUFFER: usize = 1024;

/// TLS towards etcd: the CA that signed etcd's certificate, and a client certificate if etcd asks for one.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EtcdTls {
    /// The CA certificate(s) etcd's certificate is checked against (PEM).
    pub ca_pem: Vec<u8>,
    /// A client certificate chain (PEM), for etcd's `--client-cert-auth`.
    pub client_cert_pem: Option<Vec<u8>>,
    /// The client certificate's private key (PEM).
    pub client_key_pem: Option<Vec<u8>>,
    /// The name etcd's certificate is checked against, when it differs from the endpoints' host.
    pub server_name: Option<String>,
}

impl EtcdTls {
    /// TLS checked against this CA (PEM).
    pub fn new(ca_pem: impl Into<Vec<u8>>) -> Self {
        Self {
            ca_pem: ca_pem.into(),
            ..Self::default()
        }
    }

    /// Presents a client certificate (PEM chain and key).
    pub fn client_identity(
        mut self,
        cert_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        self.client_cert_pem = Some(cert_pem.into());
        self.client_key_pem = Some(key_pem.into());
        self
    }

    /// Checks etcd's certificate against this name.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }
}

impl fmt::Debug for EtcdTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdTls")
            .field("ca_pem", &format_args!("{} bytes", self.ca_pem.len()))
            .field("client_cert", &self.client_cert_pem.is_some())
            .field(
                "client_key",
                &self.client_key_pem.as_ref().map(|_| "<redacted>"),
            )
            .field("server_name", &self.server_name)
            .finish()
    }
}

/// How to reach etcd. Start from [`EtcdOptions::new`] with the endpoints.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EtcdOptions {
    /// The cluster's client URLs (`http://10.0.0.1:2379`, `https://...` with [`tls`](Self::tls)).
    pub endpoints: Vec<String>,
    /// User name and password, when etcd's authentication is on.
    pub user: Option<(String, String)>,
    /// TLS, for `https://` endpoints.
    pub tls: Option<EtcdTls>,
    /// Time to open a connection (default 3 s).
    pub connect_timeout: Duration,
    /// Time for one request's answer; past it the request fails as unavailable (default 5 s).
    pub request_timeout: Duration,
    /// Interval of the HTTP/2 pings that find a silent connection dead (default 10 s; etcd refuses pings more
    /// often than every 5 s unless its `--grpc-keepalive-min-time` says otherwise).
    pub keep_alive: Duration,
    /// The most writes one transaction may hold: etcd's `--max-txn-ops` (default 128, etcd's default). Raise both
    /// together.
    pub max_txn_ops: usize,
}

impl fmt::Debug for EtcdOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdOptions")
            .field("endpoints", &self.endpoints)
            .field(
                "user",
                &self.user.as_ref().map(|(name, _)| (name, "<redacted>")),
            )
            .field("tls", &self.tls)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("keep_alive", &self.keep_alive)
            .field("max_txn_ops", &self.max_txn_ops)
            .finish()
    }
}

impl EtcdOptions {
    /// Options for these endpoints, with the defaults.
    pub fn new<S: Into<String>>(endpoints: impl IntoIterator<Item = S>) -> Self {
        Self {
            endpoints: endpoints.into_iter().map(Into::into).collect(),
            user: None,
            tls: None,
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(5),
            keep_alive: Duration::from_secs(10),
            max_txn_ops: ETCD_DEFAULT_MAX_TXN_OPS,
        }
    }

    /// Authenticates as this user.
    pub fn user(mut self, name: impl Into<String>, password: impl Into<String>) -> Self {
        self.user = Some((name.into(), password.into()));
        self
    }

    /// Connects over TLS.
    pub fn tls(mut self, tls: EtcdTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Time for one request's answer.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The most writes one transaction may hold (etcd's `--max-txn-ops`).
    pub fn max_txn_ops(mut self, ops: usize) -> Self {
        self.max_txn_ops = ops;
        self
    }
}

/// A store in etcd, shared by every replica connected to it. Cheap to clone (clones share the connection).
#[derive(Clone)]
pub struct EtcdStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    options: EtcdOptions,
}

impl fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdStore")
            .field("endpoints", &self.inner.options.endpoints)
            .finish_non_exhaustive()
    }
}

/// An etcd client error as a store error.
fn failure(e: etcd_client::Error) -> StoreError {
    use etcd_client::Error as E;
    match e {
        E::GRpcStatus(status) => {
            let message = status.message();
            if message.contains("too many operations in txn request")
                || message.contains("request is too large")
                || i32::from(status.code()) == GRPC_RESOURCE_EXHAUSTED
            {
                StoreError::TooLarge(format!("etcd refused the transaction: {message}"))
            } else {
                StoreError::Unavailable(format!("etcd answered {:?}: {message}", status.code()))
            }
        }
        other => StoreError::Unavailable(format!("etcd: {other}")),
    }
}

/// gRPC's `RESOURCE_EXHAUSTED` status code (a message over the size limit).
const GRPC_RESOURCE_EXHAUSTED: i32 = 8;

/// Whether an etcd error says a lease does not exist.
fn is_lease_not_found(e: &etcd_client::Error) -> bool {
    match e {
        etcd_client::Error::GRpcStatus(s) => s.message().contains("lease not found"),
        etcd_client::Error::LeaseKeepAliveError(m) => m.contains("lease not found"),
        _ => false,
    }
}

fn revision(r: i64) -> Revision {
    Revision::try_from(r).unwrap_or_default()
}

fn entry(kv: &KeyValue) -> Result<Entry, StoreError> {
    let key = kv
        .key_str()
        .map_err(|e| StoreError::Corrupt(format!("a key is not UTF-8: {e}")))?;
    Ok(Entry {
        key: key.to_owned(),
        value: Bytes::copy_from_slice(kv.value()),
        revision: revision(kv.mod_revision()),
    })
}

/// The end of the key range holding every key that starts with `prefix` (etcd's convention: `\0` for all keys).
fn range_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// The writes of a transaction with only the last write of each key: etcd refuses a `Txn` naming a key twice,
/// and applying the writes one after another leaves exactly the last one.
fn last_write_per_key(ops: &[Op]) -> Vec<&Op> {
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<&Op> = ops
        .iter()
        .rev()
        .filter(|op| {
            seen.insert(match op {
                Op::Put { key, .. } | Op::Delete(key) => key.as_str(),
            })
        })
        .collect();
    kept.reverse();
    kept
}

impl EtcdStore {
    /// A store on the etcd cluster at `options.endpoints`. Connections are made when needed (and made again
    /// after a failure), so this succeeds while etcd is down, unless a user is given: then it signs in at once.
    pub async fn connect(options: EtcdOptions) -> Result<Self, StoreError> {
        if options.endpoints.is_empty() {
            return Err(StoreError::Unavailable(
                "no etcd endpoint is configured".to_owned(),
            ));
        }
        if options.max_txn_ops == 0 {
            return Err(StoreError::Unavailable(
                "max_txn_ops must be at least 1".to_owned(),
            ));
        }
        let mut connect = ConnectOptions::new()
            .with_connect_timeout(options.connect_timeout)
            .with_timeout(options.request_timeout)
            .with_keep_alive(options.keep_alive, options.request_timeout)
            .with_keep_alive_while_idle(true);
        if let Some((name, password)) = &options.user {
            connect = connect
                .with_user(name.clone(), password.clone())
                .with_auto_token_refresh(true);
        }
        if let Some(tls) = &options.tls {
            let mut t = etcd_client::TlsOptions::new()
                .ca_certificate(etcd_client::Certificate::from_pem(&tls.ca_pem));
            if let (Some(cert), Some(key)) = (&tls.client_cert_pem, &tls.client_key_pem) {
                t = t.identity(etcd_client::Identity::from_pem(cert, key));
            }
            if let Some(name) = &tls.server_name {
                t = t.domain_name(name.clone());
            }
            connect = connect.with_tls(t);
        }
        let client = within(
            options.request_timeout,
            Client::connect(options.endpoints.clone(), Some(connect)),
        )
        .await?
        .map_err(failure)?;
        Ok(Self {
            inner: Arc::new(Inner { client, options }),
        })
    }

    /// The options the store was made with.
    pub fn options(&self) -> &EtcdOptions {
        &self.inner.options
    }

    fn timeout(&self) -> Duration {
        self.inner.options.request_timeout
    }

    /// Reads `[start, end)` at `at` (0: now), one page.
    async fn page(
        &self,
        start: Vec<u8>,
        end: Vec<u8>,
        at: i64,
    ) -> Result<etcd_client::GetResponse, StoreError> {
        let mut kv = self.inner.client.kv_client();
        let options = GetOptions::new()
            .with_range(end)
            .with_limit(LIST_PAGE)
            .with_revision(at);
        within(self.timeout(), kv.get(start, Some(options)))
            .await?
            .map_err(failure)
    }

    async fn list_once(&self, prefix: &str) -> Result<(Vec<Entry>, Revision), StoreError> {
        let end = range_end(prefix.as_bytes());
        let mut start = if prefix.is_empty() {
            vec![0]
        } else {
            prefix.as_bytes().to_vec()
        };
        let mut entries = Vec::new();
        let mut at = 0;
        loop {
            let page = self.page(start, end.clone(), at).await?;
            if at == 0 {
                at = page.header().map_or(0, |h| h.revision());
            }
            for kv in page.kvs() {
                entries.push(entry(kv)?);
            }
            match page.kvs().last() {
                Some(last) if page.more() => {
                    start = last.key().to_vec();
                    start.push(0);
                }
                _ => break,
            }
        }
        Ok((entries, revision(at)))
    }

    /// Opens a watch of `prefix` from now, once etcd has confirmed it.
    async fn open_watch(&self, prefix: &str) -> Result<WatchStream, StoreError> {
        let mut client = self.inner.client.watch_client();
        let key = if prefix.is_empty() {
            vec![0]
        } else {
            prefix.as_bytes().to_vec()
        };
        let options = WatchOptions::new().with_range(range_end(prefix.as_bytes()));
        let timeout = self.timeout();
        within(timeout, async move {
            let mut stream = client.watch(key, Some(options)).await.map_err(failure)?;
            match stream.message().await.map_err(failure)? {
                Some(r) if r.created() && !r.canceled() => Ok(stream),
                Some(r) => Err(StoreError::Unavailable(format!(
                    "etcd refused the watch: {}",
                    r.cancel_reason()
                ))),
                None => Err(StoreError::Unavailable("etcd closed the watch".to_owned())),
            }
        })
        .await?
    }
}

/// Runs `work` within `timeout`, or fails as unavailable.
async fn within<T>(timeout: Duration, work: impl Future<Output = T>) -> Result<T, StoreError> {
    tokio::time::timeout(timeout, work).await.map_err(|_| {
        StoreError::Unavailable(format!(
            "etcd did not answer within {} ms",
            timeout.as_millis()
        ))
    })
}

/// Forwards a watch's events until its reader goes away; reconnects (with [`WatchEvent::Disconnected`] and then
/// [`WatchEvent::Resync`]) when the connection breaks.
async fn follow(
    store: EtcdStore,
    prefix: String,
    mut stream: WatchStream,
    tx: mpsc::Sender<WatchEvent>,
) {
    loop {
        let broken = loop {
            let message = tokio::select! {
                () = tx.closed() => return,
                m = stream.message() => m,
            };
            match message {
                Ok(Some(r)) if r.canceled() => {
                    // Behind a compaction (or cancelled by etcd): start again from now, and read everything.
                    tracing::warn!(
                        compact_revision = r.compact_revision(),
                        reason = r.cancel_reason(),
                        "the etcd watch was cancelled; reading the store again"
                    );
                    break false;
                }
                Ok(Some(r)) => {
                    for e in r.events() {
                        let Some(kv) = e.kv() else { continue };
                        let event = match (e.event_type(), entry(kv)) {
                            (EventType::Put, Ok(entry)) => WatchEvent::Put(entry),
                            (EventType::Delete, Ok(entry)) => WatchEvent::Delete {
                                key: entry.key,
                                revision: entry.revision,
                            },
                            (_, Err(e)) => {
                                tracing::warn!(error = %e, "a watched etcd key is ignored");
                                continue;
                            }
                        };
                        if tx.send(event).await.is_err() {
                            return;
                        }
                    }
                }
                Ok(None) => break true,
                Err(e) => {
                    tracing::warn!(error = %e, "the etcd watch broke; reconnecting");
                    break true;
                }
            }
        };
        if broken && tx.send(WatchEvent::Disconnected).await.is_err() {
            return;
        }
        let mut delay = Duration::from_millis(100);
        stream = loop {
            tokio::select! {
                () = tx.closed() => return,
                () = tokio::time::sleep(delay) => {}
            }
            match store.open_watch(&prefix).await {
                Ok(s) => break s,
                Err(e) => {
                    tracing::debug!(error = %e, "etcd is still unreachable");
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
            }
        };
        // The new watch runs from now: whatever was missed is read again.
        if tx.send(WatchEvent::Resync).await.is_err() {
            return;
        }
    }
}

#[async_trait::async_trait]
impl Store for EtcdStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let mut kv = self.inner.client.kv_client();
        let r = within(self.timeout(), kv.get(key, None))
            .await?
            .map_err(failure)?;
        r.kvs().first().map(entry).transpose()
    }

    async fn list(&self, prefix: &str) -> Result<(Vec<Entry>, Revision), StoreError> {
        // A page read at a revision etcd compacted meanwhile fails: read again from now.
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.list_once(prefix).await {
                Err(StoreError::Unavailable(m)) if m.contains("compacted") && attempts < 3 => {}
                other => return other,
            }
        }
    }

    async fn commit(&self, txn: Txn) -> Result<Revision, StoreError> {
        let max = self.inner.options.max_txn_ops;
        let ops = last_write_per_key(txn.ops());
        let conditions = txn.conditions();
        if ops.len() > max || conditions.len() > max {
            return Err(StoreError::TooLarge(format!(
                "{} writes and {} conditions in one transaction; this etcd store takes at most {max} of each \
                 (etcd's --max-txn-ops, mep's max_txn_ops)",
                ops.len(),
                conditions.len()
            )));
        }
        let mut compares = Vec::with_capacity(conditions.len());
        for c in conditions {
            compares.push(match c {
                Condition::Absent(k) => Compare::create_revision(k.as_str(), CompareOp::Equal, 0),
                Condition::Revision(k, r) => match i64::try_from(*r) {
                    Ok(r) => Compare::mod_revision(k.as_str(), CompareOp::Equal, r),
                    // No etcd revision is that large: the condition cannot hold.
                    Err(_) => return Err(StoreError::Conflict { key: k.clone() }),
                },
            });
        }
        let writes: Vec<TxnOp> = ops
            .iter()
            .map(|op| match op {
                Op::Put { key, value, lease } => TxnOp::put(
                    key.as_str(),
                    value.to_vec(),
                    lease.map(|l| PutOptions::new().with_lease(l)),
                ),
                Op::Delete(key) => TxnOp::delete(key.as_str(), None),
            })
            .collect();
        // When a condition fails, the compared keys are read in the same step, to name the one that changed.
        let reads: Vec<TxnOp> = conditions
            .iter()
            .map(|c| TxnOp::get(c.key(), None))
            .collect();
        let request = etcd_client::Txn::new()
            .when(compares)
            .and_then(writes)
            .or_else(reads);
        let mut kv = self.inner.client.kv_client();
        let response = match within(self.timeout(), kv.txn(request)).await? {
            Ok(r) => r,
            Err(e) if is_lease_not_found(&e) => {
                let lease = ops
                    .iter()
                    .find_map(|op| match op {
                        Op::Put { lease, .. } => *lease,
                        Op::Delete(_) => None,
                    })
                    .unwrap_or_default();
                return Err(StoreError::NoLease(lease));
            }
            Err(e) => return Err(failure(e)),
        };
        if response.succeeded() {
            return Ok(revision(response.header().map_or(0, |h| h.revision())));
        }
        let current = response.op_responses();
        for (c, read) in conditions.iter().zip(current) {
            let TxnOpResponse::Get(read) = read else {
                continue;
            };
            let found = read.kvs().first();
            let holds = match c {
                Condition::Absent(_) => found.is_none(),
                Condition::Revision(_, r) => {
                    found.map(|kv| revision(kv.mod_revision())) == Some(*r)
                }
            };
            if !holds {
                return Err(StoreError::Conflict {
                    key: c.key().to_owned(),
                });
            }
        }
        // Every condition holds now: one changed and changed back in between. Still a conflict.
        Err(StoreError::Conflict {
            key: conditions
                .first()
                .map(|c| c.key().to_owned())
                .unwrap_or_default(),
        })
    }

    async fn watch(&self, prefix: &str) -> Result<Watch, StoreError> {
        let stream = self.open_watch(prefix).await?;
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        tokio::spawn(follow(self.clone(), prefix.to_owned(), stream, tx));
        Ok(Watch::from_channel(rx))
    }

    async fn grant_lease(&self, ttl: Duration) -> Result<LeaseId, StoreError> {
        let secs = i64::try_from(ttl.as_secs().max(1)).unwrap_or(i64::MAX);
        let mut lease = self.inner.client.lease_client();
        let r = within(self.timeout(), lease.grant(secs, None))
            .await?
            .map_err(failure)?;
        Ok(r.id())
    }

    async fn keep_alive(&self, lease: LeaseId) -> Result<(), StoreError> {
        let mut client = self.inner.client.lease_client();
        match within(self.timeout(), client.keep_alive(lease)).await? {
            Ok(_) => Ok(()),
            Err(e) if is_lease_not_found(&e) => Err(StoreError::NoLease(lease)),
            Err(e) => Err(failure(e)),
        }
    }

    async fn revoke_lease(&self, lease: LeaseId) -> Result<(), StoreError> {
        let mut client = self.inner.client.lease_client();
        match within(self.timeout(), client.revoke(lease)).await? {
            Ok(_) => Ok(()),
            Err(e) if is_lease_not_found(&e) => Err(StoreError::NoLease(lease)),
            Err(e) => Err(failure(e)),
        }
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn max_txn_ops(&self) -> Option<usize> {
        Some(self.inner.options.max_txn_ops)
    }
}

#[cfg(test)]
#[path = "../../tests/support/etcd.rs"]
#[allow(dead_code, unreachable_pub)]
mod test_server;

#[cfg(test)]
mod tests {
    use super::*;

    use super::test_server as server;

    #[test]
    fn range_ends_cover_exactly_the_prefix() {
        assert_eq!(range_end(b"mep/"), b"mep0");
        assert_eq!(range_end(b"a\xff"), b"b");
        assert_eq!(range_end(b""), [0]);
        assert_eq!(range_end(b"\xff\xff"), [0]);
    }

    #[test]
    fn passwords_and_keys_stay_out_of_debug_output() {
        let options = EtcdOptions::new(["https://127.0.0.1:2379"])
            .user("mep", "s3cret-password")
            .tls(EtcdTls::new("ca").client_identity("cert", "s3cret-key"));
        let shown = format!("{options:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("mep"), "{shown}");
    }

    #[tokio::test]
    async fn keeps_the_store_contract() {
        let Some(etcd) = server::Etcd::shared_or_own().await else {
            return;
        };
        let store = EtcdStore::connect(EtcdOptions::new([etcd.endpoint()]))
            .await
            .unwrap();
        assert!(store.is_shared());
        let p = format!("contract-{}/", uuid::Uuid::new_v4());
        super::super::contract::conditional_writes(&store, &p).await;
        super::super::contract::watches_and_leases(&store, &p).await;
    }

    #[tokio::test]
    async fn lists_more_than_a_page_at_one_revision() {
        let Some(etcd) = server::Etcd::shared_or_own().await else {
            return;
        };
        let store = EtcdStore::connect(EtcdOptions::new([etcd.endpoint()]))
            .await
            .unwrap();
        let p = format!("pages-{}/", uuid::Uuid::new_v4());
        let n = usize::try_from(LIST_PAGE).unwrap() * 2 + 7;
        for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
            let txn = chunk.iter().fold(Txn::new(), |t, i| {
                t.put(format!("{p}{i:05}"), i.to_string())
            });
            store.commit(txn).await.unwrap();
        }
        // A key just past the prefix is not listed.
        store
            .commit(Txn::new().put(format!("{}x", &p[..p.len() - 1]), "no"))
            .await
            .unwrap();
        let (entries, at) = store.list(&p).await.unwrap();
        assert_eq!(entries.len(), n);
        assert!(entries.windows(2).all(|w| w[0].key < w[1].key));
        assert!(entries.iter().all(|e| e.revision <= at));
    }

    #[tokio::test]
    async fn refuses_transactions_over_the_limit_before_sending_them() {
        let Some(etcd) = server::Etcd::shared_or_own().await else {
            return;
        };
        let store = EtcdStore::connect(EtcdOptions::new([etcd.endpoint()]))
            .await
            .unwrap();
        assert_eq!(store.max_txn_ops(), Some(ETCD_DEFAULT_MAX_TXN_OPS));
        let p = format!("large-{}/", uuid::Uuid::new_v4());
        let fits =
            (0..ETCD_DEFAULT_MAX_TXN_OPS).fold(Txn::new(), |t, i| t.put(format!("{p}{i}"), "x"));
        store.commit(fits).await.unwrap();
        let over =
            (0..=ETCD_DEFAULT_MAX_TXN_OPS).fold(Txn::new(), |t, i| t.put(format!("{p}{i}"), "y"));
        let e = store.commit(over).await.unwrap_err();
        assert!(e.is_too_large(), "{e}");
        assert_eq!(
            store.get(&format!("{p}0")).await.unwrap().unwrap().value,
            "x"
        );
        // Configured above what etcd accepts: etcd's own refusal is TooLarge too, not "unavailable".
        let lying = EtcdStore::connect(EtcdOptions::new([etcd.endpoint()]).max_txn_ops(1000))
            .await
            .unwrap();
        let over =
            (0..=ETCD_DEFAULT_MAX_TXN_OPS).fold(Txn::new(), |t, i| t.put(format!("{p}{i}"), "z"));
        let e = lying.commit(over).await.unwrap_err();
        assert!(e.is_too_large(), "{e}");
    }
}
