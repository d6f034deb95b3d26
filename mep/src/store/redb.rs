//! [`FileStore`]: the store in an embedded database file (redb), which survives restarts and crashes.

use super::memory::check;
use super::{
    Entry, LeaseId, LocalLeases, Op, Revision, Store, StoreError, Txn, Watch, WatchEvent, events_of,
};
use bytes::Bytes;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::broadcast;

/// Keys to values: 8 bytes of revision (big endian) followed by the value.
const DATA: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("data");
/// The store's own counters (`revision`).
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
const REVISION: &str = "revision";

/// A store in one file (redb: crash-safe, copy-on-write B-trees; every commit is durable when it returns).
///
/// One process opens a file at a time (a second gets an error), so no elections are needed over it: leases live
/// as long as the process, and keys put with one are deleted when it is revoked.
#[derive(Clone)]
pub struct FileStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    path: PathBuf,
    events: broadcast::Sender<Arc<[WatchEvent]>>,
    /// Serializes commits with the sending of their watch events, so watchers see revisions in order.
    commit: Mutex<()>,
    leases: Mutex<LocalLeases>,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

fn storage(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn decode(key: &str, raw: &[u8]) -> Result<Entry, StoreError> {
    let (rev, value) = raw
        .split_first_chunk::<8>()
        .ok_or_else(|| StoreError::Corrupt(format!("{key}: value shorter than its revision")))?;
    Ok(Entry {
        key: key.to_owned(),
        value: Bytes::copy_from_slice(value),
        revision: u64::from_be_bytes(*rev),
    })
}

impl FileStore {
    /// Opens the store at `path`, creating it if needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        let db = Database::create(&path)
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        let txn = db.begin_write().map_err(storage)?;
        {
            txn.open_table(DATA).map_err(storage)?;
            txn.open_table(META).map_err(storage)?;
        }
        txn.commit().map_err(storage)?;
        let store = Self {
            inner: Arc::new(Inner {
                db,
                path,
                events: broadcast::channel(4096).0,
                commit: Mutex::new(()),
                leases: Mutex::new(LocalLeases::default()),
            }),
        };
        Ok(store)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn commit_blocking(&self, txn: &Txn) -> Result<Revision, StoreError> {
        let _serial = self
            .inner
            .commit
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let write = self.inner.db.begin_write().map_err(storage)?;
        let (revision, deleted) = {
            let mut data = write.open_table(DATA).map_err(storage)?;
            let mut meta = write.open_table(META).map_err(storage)?;
            let revision_of = |k: &str| -> Option<Revision> {
                data.get(k)
                    .ok()
                    .flatten()
                    .and_then(|v| decode(k, v.value()).ok())
                    .map(|e| e.revision)
            };
            check(txn.conditions(), revision_of)?;
            let current = meta
                .get(REVISION)
                .map_err(storage)?
                .map_or(0, |v| v.value());
            let revision = current + 1;
            let mut deleted = HashSet::new();
            for op in txn.ops() {
                match op {
                    Op::Put { key, value, .. } => {
                        let mut raw = Vec::with_capacity(8 + value.len());
                        raw.extend_from_slice(&revision.to_be_bytes());
                        raw.extend_from_slice(value);
                        data.insert(key.as_str(), raw.as_slice()).map_err(storage)?;
                    }
                    Op::Delete(key) => {
                        if data.remove(key.as_str()).map_err(storage)?.is_some() {
                            deleted.insert(key.clone());
                        }
                    }
                }
            }
            meta.insert(REVISION, revision).map_err(storage)?;
            (revision, deleted)
        };
        write.commit().map_err(storage)?;
        self.track_leases(txn);
        let events = events_of(txn.ops(), revision, &|k| deleted.contains(k));
        if !events.is_empty() {
            let _ = self.inner.events.send(Arc::from(events));
        }
        Ok(revision)
    }

    fn track_leases(&self, txn: &Txn) {
        self.leases().track(txn);
    }

    fn leases(&self) -> std::sync::MutexGuard<'_, LocalLeases> {
        self.inner
            .leases
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&FileStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || work(&store))
            .await
            .map_err(|e| StoreError::Unavailable(format!("the store's worker failed: {e}")))?
    }
}

#[async_trait::async_trait]
impl Store for FileStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let key = key.to_owned();
        self.blocking(move |s| {
            let read = s.inner.db.begin_read().map_err(storage)?;
            let data = read.open_table(DATA).map_err(storage)?;
            data.get(key.as_str())
                .map_err(storage)?
                .map(|v| decode(&key, v.value()))
                .transpose()
        })
        .await
    }

    async fn list(&self, prefix: &str) -> Result<(Vec<Entry>, Revision), StoreError> {
        let prefix = prefix.to_owned();
        self.blocking(move |s| {
            let read = s.inner.db.begin_read().map_err(storage)?;
            let data = read.open_table(DATA).map_err(storage)?;
            let meta = read.open_table(META).map_err(storage)?;
            let revision = meta
                .get(REVISION)
                .map_err(storage)?
                .map_or(0, |v| v.value());
            let mut entries = Vec::new();
            for item in data.range(prefix.as_str()..).map_err(storage)? {
                let (k, v) = item.map_err(storage)?;
                if !k.value().starts_with(prefix.as_str()) {
                    break;
                }
                entries.push(decode(k.value(), v.value())?);
            }
            Ok((entries, revision))
        })
        .await
    }

    async fn commit(&self, txn: Txn) -> Result<Revision, StoreError> {
        self.leases().check(&txn)?;
        self.blocking(move |s| s.commit_blocking(&txn)).await
    }

    async fn watch(&self, prefix: &str) -> Result<Watch, StoreError> {
        Ok(Watch::local(prefix, self.inner.events.subscribe()))
    }

    async fn grant_lease(&self, _ttl: Duration) -> Result<LeaseId, StoreError> {
        Ok(self.leases().grant())
    }

    async fn keep_alive(&self, lease: LeaseId) -> Result<(), StoreError> {
        self.leases().keep_alive(lease)
    }

    async fn revoke_lease(&self, lease: LeaseId) -> Result<(), StoreError> {
        let txn = self.leases().revoke(lease)?;
        if !txn.is_empty() {
            self.commit(txn).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_the_store_contract_and_its_data_across_reopening() {
        let dir = std::env::temp_dir().join(format!("mep-filestore-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mep.redb");
        {
            let store = FileStore::open(&path).unwrap();
            super::super::contract::conditional_writes(&store, "").await;
            super::super::contract::watches_and_leases(&store, "").await;
            // A second opening while the first is alive is refused, not shared.
            assert!(FileStore::open(&path).is_err());
        }
        let store = FileStore::open(&path).unwrap();
        let e = store.get("a/0").await.unwrap().unwrap();
        assert_eq!(e.value, "zero");
        let (_, revision) = store.list("").await.unwrap();
        let next = store.commit(Txn::new().put("z", "z")).await.unwrap();
        assert_eq!(next, revision + 1, "revisions continue after reopening");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
