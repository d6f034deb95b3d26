//! Where the engine keeps its state: a small, versioned key-value interface that an in-memory map, an embedded
//! file and etcd all offer.
//!
//! - Every key has the **revision** of its last write; the store's revision grows with every commit.
//! - [`Store::commit`] applies a [`Txn`] atomically: its conditions (a key is absent, or still at the revision it
//!   was read at) are checked and its writes made in one step, or nothing happens ([`StoreError::Conflict`]).
//!   This is how the engine makes `If-Match` and every read-modify-write safe under concurrency, in one process
//!   or across replicas.
//! - [`Store::watch`] streams the writes under a prefix, so caches and other replicas learn of them.
//! - Leases ([`Store::grant_lease`]) tie keys to a holder's liveness (used for elections across replicas).
//!
//! Values are opaque bytes to the store; the engine stores JSON.

#[cfg(feature = "etcd")]
mod etcd;
mod memory;
#[cfg(feature = "file-store")]
mod redb;

#[cfg(feature = "etcd")]
pub use etcd::{ETCD_DEFAULT_MAX_TXN_OPS, EtcdOptions, EtcdStore, EtcdTls};
pub use memory::MemoryStore;
#[cfg(feature = "file-store")]
pub use redb::FileStore;

use bytes::Bytes;
use std::fmt;
use std::time::Duration;

/// A store revision: the number of commits made so far; a key's revision is that of its last write.
pub type Revision = u64;

/// A lease id (see [`Store::grant_lease`]).
pub type LeaseId = i64;

/// A key with its value and the revision of its last write.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Bytes,
    /// The revision of the key's last write (etcd's `mod_revision`).
    pub revision: Revision,
}

impl Entry {
    /// `key` holding `value`, last written at `revision`.
    pub fn new(key: impl Into<String>, value: impl Into<Bytes>, revision: Revision) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            revision,
        }
    }
}

/// What must hold for a [`Txn`] to be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// The key does not exist.
    Absent(String),
    /// The key exists and was last written at this revision.
    Revision(String, Revision),
}

impl Condition {
    /// The key the condition is about.
    pub fn key(&self) -> &str {
        match self {
            Self::Absent(k) | Self::Revision(k, _) => k,
        }
    }
}

/// A write in a [`Txn`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Sets a key, optionally attached to a lease (deleted when the lease ends).
    Put {
        /// The key.
        key: String,
        /// The value.
        value: Bytes,
        /// The lease, if any.
        lease: Option<LeaseId>,
    },
    /// Deletes a key (nothing happens if it does not exist).
    Delete(String),
}

/// An atomic compare-and-write: every condition is checked and every write applied in one step, or none.
///
/// ```
/// use mec_mep::store::Txn;
/// let txn = Txn::new()
///     .when_revision("services/a", 7)
///     .put("services/a", b"{}".to_vec())
///     .delete("outbox/a/1");
/// assert_eq!(txn.ops().len(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Txn {
    conditions: Vec<Condition>,
    ops: Vec<Op>,
}

impl Txn {
    /// An empty transaction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies only if `key` does not exist.
    pub fn when_absent(mut self, key: impl Into<String>) -> Self {
        self.conditions.push(Condition::Absent(key.into()));
        self
    }

    /// Applies only if `key` exists and was last written at `revision`.
    pub fn when_revision(mut self, key: impl Into<String>, revision: Revision) -> Self {
        self.conditions
            .push(Condition::Revision(key.into(), revision));
        self
    }

    /// Applies only if `key` is as it was read: at `revision`, or absent when it was not there.
    pub fn when_unchanged(self, key: impl Into<String>, read: Option<Revision>) -> Self {
        match read {
            Some(r) => self.when_revision(key, r),
            None => self.when_absent(key),
        }
    }

    /// Sets `key` to `value`.
    pub fn put(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.ops.push(Op::Put {
            key: key.into(),
            value: value.into(),
            lease: None,
        });
        self
    }

    /// Sets `key` to `value` for as long as `lease` lives.
    pub fn put_with_lease(
        mut self,
        key: impl Into<String>,
        value: impl Into<Bytes>,
        lease: LeaseId,
    ) -> Self {
        self.ops.push(Op::Put {
            key: key.into(),
            value: value.into(),
            lease: Some(lease),
        });
        self
    }

    /// Deletes `key`.
    pub fn delete(mut self, key: impl Into<String>) -> Self {
        self.ops.push(Op::Delete(key.into()));
        self
    }

    /// Adds every condition and write of `other`.
    pub fn and(mut self, other: Txn) -> Self {
        self.conditions.extend(other.conditions);
        self.ops.extend(other.ops);
        self
    }

    /// The conditions.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// The writes.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Whether the transaction writes nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// A write seen by a [`Watch`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WatchEvent {
    /// A key was set.
    Put(Entry),
    /// A key was deleted, at this revision.
    Delete {
        /// The key.
        key: String,
        /// The revision of the deletion.
        revision: Revision,
    },
    /// Events were missed (the watcher fell behind, the store's history was compacted, or the store came back
    /// after being unreachable): read everything again.
    Resync,
    /// The store cannot be reached: what was read from it may be stale until the [`Resync`](Self::Resync) that
    /// follows when it can be reached again. Only stores shared over a network send it.
    Disconnected,
}

/// A stream of writes under a prefix, from [`Store::watch`].
pub struct Watch {
    inner: WatchInner,
}

enum WatchInner {
    Local {
        prefix: String,
        rx: tokio::sync::broadcast::Receiver<std::sync::Arc<[WatchEvent]>>,
        pending: std::collections::VecDeque<WatchEvent>,
    },
    Channel(tokio::sync::mpsc::Receiver<WatchEvent>),
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch").finish_non_exhaustive()
    }
}

impl Watch {
    /// A watch fed by a channel, for store implementations outside this crate.
    pub fn from_channel(rx: tokio::sync::mpsc::Receiver<WatchEvent>) -> Self {
        Self {
            inner: WatchInner::Channel(rx),
        }
    }

    pub(crate) fn local(
        prefix: &str,
        rx: tokio::sync::broadcast::Receiver<std::sync::Arc<[WatchEvent]>>,
    ) -> Self {
        Self {
            inner: WatchInner::Local {
                prefix: prefix.to_owned(),
                rx,
                pending: std::collections::VecDeque::new(),
            },
        }
    }

    /// The next write under the prefix; `None` once the store is gone.
    pub async fn next(&mut self) -> Option<WatchEvent> {
        match &mut self.inner {
            WatchInner::Channel(rx) => rx.recv().await,
            WatchInner::Local {
                prefix,
                rx,
                pending,
            } => loop {
                if let Some(e) = pending.pop_front() {
                    return Some(e);
                }
                match rx.recv().await {
                    Ok(batch) => pending.extend(
                        batch
                            .iter()
                            .filter(|e| match e {
                                WatchEvent::Put(entry) => entry.key.starts_with(prefix.as_str()),
                                WatchEvent::Delete { key, .. } => key.starts_with(prefix.as_str()),
                                WatchEvent::Resync | WatchEvent::Disconnected => true,
                            })
                            .cloned(),
                    ),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        return Some(WatchEvent::Resync);
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            },
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A condition of the transaction did not hold: the key changed since it was read. Read again and retry.
    #[error("{key} changed since it was read")]
    Conflict {
        /// The key whose condition failed.
        key: String,
    },
    /// The store cannot be reached or answered an error: the write may not have happened. Retrying later is safe
    /// for conditional writes.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// The store's data is damaged or not what this version wrote.
    #[error("the store's data is damaged: {0}")]
    Corrupt(String),
    /// The transaction is larger than the store accepts.
    #[error("the transaction is too large: {0}")]
    TooLarge(String),
    /// The lease does not exist (it expired or was revoked).
    #[error("lease {0} does not exist")]
    NoLease(LeaseId),
}

impl StoreError {
    /// Whether a condition failed (someone else wrote first).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }

    /// Whether the store could not be reached.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    /// Whether the transaction was larger than the store accepts (retrying the same one cannot succeed).
    pub fn is_too_large(&self) -> bool {
        matches!(self, Self::TooLarge(_))
    }
}

/// A versioned key-value store with atomic conditional writes, watches and leases.
///
/// Implementations: [`MemoryStore`] (the default), [`FileStore`] (an embedded file on redb, which survives
/// restarts) and, for several replicas, `EtcdStore` (feature `etcd`).
#[async_trait::async_trait]
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// The entry at `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError>;

    /// Every entry whose key starts with `prefix`, in key order, and the store revision they were read at.
    async fn list(&self, prefix: &str) -> Result<(Vec<Entry>, Revision), StoreError>;

    /// Applies a transaction atomically; returns the new store revision. [`StoreError::Conflict`] when a
    /// condition fails (nothing was written).
    async fn commit(&self, txn: Txn) -> Result<Revision, StoreError>;

    /// The writes under `prefix` made after this call.
    async fn watch(&self, prefix: &str) -> Result<Watch, StoreError>;

    /// A new lease that lives `ttl` unless kept alive; keys put with it are deleted when it ends. Single-process
    /// stores keep leases until they are revoked.
    async fn grant_lease(&self, ttl: Duration) -> Result<LeaseId, StoreError>;

    /// Renews a lease for another `ttl`.
    async fn keep_alive(&self, lease: LeaseId) -> Result<(), StoreError>;

    /// Ends a lease now, deleting its keys.
    async fn revoke_lease(&self, lease: LeaseId) -> Result<(), StoreError>;

    /// Whether several processes may share this store (then the engine elects one to run the shared duties).
    fn is_shared(&self) -> bool {
        false
    }

    /// The most writes (and the most conditions) one [`Txn`] may hold, if the store has a limit; a larger one is
    /// refused with [`StoreError::TooLarge`]. The engine splits work that can be split to stay within it.
    fn max_txn_ops(&self) -> Option<usize> {
        None
    }
}

/// Leases of a store that one process holds alone (memory, file): they live as long as the process, so a
/// lease is a set of keys to delete when it is revoked.
#[derive(Debug, Default)]
pub(crate) struct LocalLeases {
    next: LeaseId,
    keys: std::collections::HashMap<LeaseId, std::collections::HashSet<String>>,
}

impl LocalLeases {
    /// A new lease.
    pub(crate) fn grant(&mut self) -> LeaseId {
        self.next += 1;
        self.keys.insert(self.next, Default::default());
        self.next
    }

    /// Whether the lease exists.
    pub(crate) fn keep_alive(&self, lease: LeaseId) -> Result<(), StoreError> {
        if self.keys.contains_key(&lease) {
            Ok(())
        } else {
            Err(StoreError::NoLease(lease))
        }
    }

    /// Refuses a transaction that puts a key under a lease that does not exist.
    pub(crate) fn check(&self, txn: &Txn) -> Result<(), StoreError> {
        for op in txn.ops() {
            if let Op::Put { lease: Some(l), .. } = op {
                self.keep_alive(*l)?;
            }
        }
        Ok(())
    }

    /// Follows a committed transaction: a put under a lease joins it, any other write leaves every lease.
    pub(crate) fn track(&mut self, txn: &Txn) {
        for op in txn.ops() {
            match op {
                Op::Put {
                    key,
                    lease: Some(l),
                    ..
                } => {
                    self.keys.values_mut().for_each(|keys| {
                        keys.remove(key);
                    });
                    if let Some(keys) = self.keys.get_mut(l) {
                        keys.insert(key.clone());
                    }
                }
                Op::Put { key, .. } | Op::Delete(key) => {
                    self.keys.values_mut().for_each(|keys| {
                        keys.remove(key);
                    });
                }
            }
        }
    }

    /// Ends a lease: the transaction that deletes its keys (commit it).
    pub(crate) fn revoke(&mut self, lease: LeaseId) -> Result<Txn, StoreError> {
        let keys = self.keys.remove(&lease).ok_or(StoreError::NoLease(lease))?;
        Ok(keys.into_iter().fold(Txn::new(), Txn::delete))
    }
}

/// The writes a committed transaction made, as watchers see them.
pub(crate) fn events_of(
    ops: &[Op],
    revision: Revision,
    deleted: &dyn Fn(&str) -> bool,
) -> Vec<WatchEvent> {
    ops.iter()
        .filter_map(|op| match op {
            Op::Put { key, value, .. } => Some(WatchEvent::Put(Entry {
                key: key.clone(),
                value: value.clone(),
                revision,
            })),
            Op::Delete(key) => deleted(key).then(|| WatchEvent::Delete {
                key: key.clone(),
                revision,
            }),
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod contract {
    //! The behaviour every store must have, run against each backend. Every key is under `p`, so that stores
    //! shared between tests (etcd) keep the runs apart.

    use super::*;

    pub(crate) async fn conditional_writes(store: &dyn Store, p: &str) {
        let k = |s: &str| format!("{p}{s}");
        let r1 = store
            .commit(Txn::new().when_absent(k("a/1")).put(k("a/1"), "one"))
            .await
            .unwrap();
        let e = store.get(&k("a/1")).await.unwrap().unwrap();
        assert_eq!((e.value.as_ref(), e.revision), (b"one".as_ref(), r1));
        // A second create loses.
        let lost = store
            .commit(Txn::new().when_absent(k("a/1")).put(k("a/1"), "other"))
            .await
            .unwrap_err();
        assert!(lost.is_conflict(), "{lost}");
        // Update at the read revision wins once; the same revision again loses.
        let r2 = store
            .commit(Txn::new().when_revision(k("a/1"), r1).put(k("a/1"), "two"))
            .await
            .unwrap();
        assert!(r2 > r1);
        assert!(
            store
                .commit(
                    Txn::new()
                        .when_revision(k("a/1"), r1)
                        .put(k("a/1"), "three")
                )
                .await
                .unwrap_err()
                .is_conflict()
        );
        // A failed transaction writes nothing, not even its unconditional parts, and names the key that changed.
        let failed = store
            .commit(
                Txn::new()
                    .put(k("a/2"), "x")
                    .when_revision(k("a/1"), r2)
                    .when_absent(k("a/1"))
                    .delete(k("a/1")),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&failed, StoreError::Conflict { key } if *key == k("a/1")),
            "{failed:?}"
        );
        assert!(store.get(&k("a/2")).await.unwrap().is_none());
        assert_eq!(store.get(&k("a/1")).await.unwrap().unwrap().value, "two");
        // A revision condition on a missing key fails.
        assert!(
            store
                .commit(Txn::new().when_revision(k("a/9"), r2).put(k("a/9"), "x"))
                .await
                .unwrap_err()
                .is_conflict()
        );
        // Lists are in key order, by prefix only.
        store
            .commit(Txn::new().put(k("a/0"), "zero").put(k("b/0"), "b"))
            .await
            .unwrap();
        let (all, at) = store.list(&k("a/")).await.unwrap();
        assert_eq!(
            all.iter().map(|e| e.key.clone()).collect::<Vec<_>>(),
            [k("a/0"), k("a/1")]
        );
        assert!(at >= r2);
        // One key written twice in a transaction: the last write wins.
        store
            .commit(
                Txn::new()
                    .put(k("c/1"), "first")
                    .put(k("c/1"), "second")
                    .put(k("c/2"), "kept")
                    .delete(k("c/2"))
                    .delete(k("c/3"))
                    .put(k("c/3"), "back"),
            )
            .await
            .unwrap();
        let (c, _) = store.list(&k("c/")).await.unwrap();
        assert_eq!(
            c.iter()
                .map(|e| (e.key.clone(), e.value.clone()))
                .collect::<Vec<_>>(),
            [(k("c/1"), "second".into()), (k("c/3"), "back".into())]
        );
        store
            .commit(Txn::new().when_revision(k("a/1"), r2).delete(k("a/1")))
            .await
            .unwrap();
        assert!(store.get(&k("a/1")).await.unwrap().is_none());
    }

    pub(crate) async fn watches_and_leases(store: &dyn Store, p: &str) {
        let k = |s: &str| format!("{p}{s}");
        let mut w = store.watch(&k("w/")).await.unwrap();
        store
            .commit(Txn::new().put(k("w/1"), "x").put(k("other/1"), "y"))
            .await
            .unwrap();
        let lease = store.grant_lease(Duration::from_secs(10)).await.unwrap();
        store
            .commit(Txn::new().put_with_lease(k("w/leader"), "me", lease))
            .await
            .unwrap();
        match w.next().await.unwrap() {
            WatchEvent::Put(e) => assert_eq!(e.key, k("w/1")),
            other => panic!("{other:?}"),
        }
        match w.next().await.unwrap() {
            WatchEvent::Put(e) => assert_eq!(e.key, k("w/leader")),
            other => panic!("{other:?}"),
        }
        store.keep_alive(lease).await.unwrap();
        store.revoke_lease(lease).await.unwrap();
        assert!(store.get(&k("w/leader")).await.unwrap().is_none());
        match w.next().await.unwrap() {
            WatchEvent::Delete { key, .. } => assert_eq!(key, k("w/leader")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            store.keep_alive(lease).await,
            Err(StoreError::NoLease(_))
        ));
        // A write with a lease that is gone is refused, and writes nothing.
        let refused = store
            .commit(Txn::new().put_with_lease(k("w/late"), "me", lease))
            .await
            .unwrap_err();
        assert!(
            matches!(refused, StoreError::NoLease(l) if l == lease),
            "{refused:?}"
        );
        assert!(store.get(&k("w/late")).await.unwrap().is_none());
        // Deletions are seen with their revision.
        let r = store.commit(Txn::new().delete(k("w/1"))).await.unwrap();
        match w.next().await.unwrap() {
            WatchEvent::Delete { key, revision } => assert_eq!((key, revision), (k("w/1"), r)),
            other => panic!("{other:?}"),
        }
    }
}
