//! [`MemoryStore`]: the store in a map, for tests, development and single-process MEPs without persistence.

use super::{
    Condition, Entry, LeaseId, LocalLeases, Op, Revision, Store, StoreError, Txn, Watch, events_of,
};
use bytes::Bytes;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::broadcast;

/// How many batches of writes a watcher may fall behind before it is told to resync.
const WATCH_BACKLOG: usize = 4096;

/// A store in memory: atomic, watchable, gone when the process ends. Cheap to clone (clones share the data).
#[derive(Clone, Debug)]
pub struct MemoryStore {
    inner: Arc<Mutex<State>>,
    events: broadcast::Sender<Arc<[super::WatchEvent]>>,
}

#[derive(Debug, Default)]
struct State {
    data: BTreeMap<String, Stored>,
    revision: Revision,
    leases: LocalLeases,
}

#[derive(Debug)]
struct Stored {
    value: Bytes,
    revision: Revision,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Mutex::new(State::default())),
            events: broadcast::channel(WATCH_BACKLOG).0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Checks a transaction's conditions against a key lookup.
pub(super) fn check(
    conditions: &[Condition],
    revision_of: impl Fn(&str) -> Option<Revision>,
) -> Result<(), StoreError> {
    for c in conditions {
        let holds = match c {
            Condition::Absent(k) => revision_of(k).is_none(),
            Condition::Revision(k, r) => revision_of(k) == Some(*r),
        };
        if !holds {
            return Err(StoreError::Conflict {
                key: c.key().to_owned(),
            });
        }
    }
    Ok(())
}

impl State {
    fn apply(&mut self, txn: &Txn) -> Result<(Revision, Vec<super::WatchEvent>), StoreError> {
        check(txn.conditions(), |k| self.data.get(k).map(|s| s.revision))?;
        self.leases.check(txn)?;
        self.revision += 1;
        let revision = self.revision;
        let mut deleted = HashSet::new();
        for op in txn.ops() {
            match op {
                Op::Put { key, value, .. } => {
                    self.data.insert(
                        key.clone(),
                        Stored {
                            value: value.clone(),
                            revision,
                        },
                    );
                }
                Op::Delete(key) => {
                    if self.data.remove(key).is_some() {
                        deleted.insert(key.clone());
                    }
                }
            }
        }
        self.leases.track(txn);
        let events = events_of(txn.ops(), revision, &|k| deleted.contains(k));
        Ok((revision, events))
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        Ok(self.lock().data.get(key).map(|s| Entry {
            key: key.to_owned(),
            value: s.value.clone(),
            revision: s.revision,
        }))
    }

    async fn list(&self, prefix: &str) -> Result<(Vec<Entry>, Revision), StoreError> {
        let state = self.lock();
        let entries = state
            .data
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, s)| Entry {
                key: k.clone(),
                value: s.value.clone(),
                revision: s.revision,
            })
            .collect();
        Ok((entries, state.revision))
    }

    async fn commit(&self, txn: Txn) -> Result<Revision, StoreError> {
        let mut state = self.lock();
        let (revision, events) = state.apply(&txn)?;
        // Sent under the lock, so watchers see commits in revision order.
        if !events.is_empty() {
            let _ = self.events.send(Arc::from(events));
        }
        Ok(revision)
    }

    async fn watch(&self, prefix: &str) -> Result<Watch, StoreError> {
        Ok(Watch::local(prefix, self.events.subscribe()))
    }

    async fn grant_lease(&self, _ttl: Duration) -> Result<LeaseId, StoreError> {
        Ok(self.lock().leases.grant())
    }

    async fn keep_alive(&self, lease: LeaseId) -> Result<(), StoreError> {
        self.lock().leases.keep_alive(lease)
    }

    async fn revoke_lease(&self, lease: LeaseId) -> Result<(), StoreError> {
        let txn = self.lock().leases.revoke(lease)?;
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
    async fn keeps_the_store_contract() {
        super::super::contract::conditional_writes(&MemoryStore::new(), "").await;
        super::super::contract::watches_and_leases(&MemoryStore::new(), "").await;
    }
}
