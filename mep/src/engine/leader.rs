//! Who runs the shared duties: the liveness sweep and notification delivery.
//!
//! Over a store only this process uses, the engine runs them itself, from the start. Over a shared store
//! ([`Store::is_shared`], etcd), every replica answers requests, but one at a time is elected to run the duties, so
//! that each notification is delivered once and one sweeper runs: a replica leads while it holds the key
//! `{prefix}meta/leader`, written with a lease (compare-and-swap on its absence) and kept alive every third of
//! [`leader_lease`](super::EngineConfig::leader_lease). A leader that cannot renew its lease for half a lease
//! period stops its duties, before the lease can expire and another replica can take over; a replica that dies
//! leaves the key to expire with its lease, and the others, watching it, take over at once: within one lease
//! period. The lease and its renewals run in real time (they are the store's), not on the engine's clock.
//!
//! Delivery resumes from the durable cursors, so after a takeover a notification whose delivery was cut short
//! (sent, cursor not yet saved) may be delivered again: exactly once while a leader lives, at least once across a
//! failover.

use super::{Engine, Inner, sweep};
use crate::store::{LeaseId, Store, StoreError, Txn, WatchEvent};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;
use tokio::time::Instant;

/// The key the leader holds, relative to the engine's prefix.
pub(crate) const LEADER: &str = "meta/leader";

/// This replica's part in the election, and the duties it runs while it leads.
#[derive(Debug)]
pub(crate) struct Replica {
    /// This replica's name in the leader key.
    pub(crate) id: String,
    leading: AtomicBool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    sweeper: Option<tokio::task::JoinHandle<()>>,
    lease: Option<LeaseId>,
    campaign: Option<tokio::task::JoinHandle<()>>,
}

impl Default for Replica {
    fn default() -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            leading: AtomicBool::new(false),
            state: Mutex::new(State::default()),
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        for task in [state.sweeper.take(), state.campaign.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
    }
}

impl Replica {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this replica runs the duties now.
    pub(crate) fn is_leading(&self) -> bool {
        self.leading.load(Ordering::SeqCst)
    }
}

/// Starts the duties (a store of this process alone) or the campaign for them (a shared store).
pub(super) fn start(engine: &Engine) {
    if !engine.store().is_shared() {
        take_duties(engine);
        return;
    }
    let campaign = tokio::spawn(campaign(engine.downgrade(), engine.store().clone()));
    engine.inner.replica.state().campaign = Some(campaign);
}

/// Stops the duties and the campaign, and gives up the lead at once (the lease is revoked) so another replica
/// takes over without waiting for it to expire.
pub(super) fn stop(engine: &Engine) {
    let (lease, tasks) = {
        let mut state = engine.inner.replica.state();
        (
            state.lease.take(),
            [state.sweeper.take(), state.campaign.take()],
        )
    };
    tasks.into_iter().flatten().for_each(|t| t.abort());
    engine.inner.deliveries.stop();
    engine.inner.replica.leading.store(false, Ordering::SeqCst);
    if let Some(lease) = lease {
        let store = engine.store().clone();
        tokio::spawn(async move {
            if let Err(e) = store.revoke_lease(lease).await {
                tracing::debug!(error = %e, "the leader's lease could not be revoked; it expires by itself");
            }
        });
    }
}

fn take_duties(engine: &Engine) {
    let sweeper = sweep::spawn(engine.downgrade());
    if let Some(old) = engine.inner.replica.state().sweeper.replace(sweeper) {
        old.abort();
    }
    engine.inner.replica.leading.store(true, Ordering::SeqCst);
    engine.inner.deliveries.start(engine);
}

fn drop_duties(inner: &Arc<Inner>) {
    inner.replica.leading.store(false, Ordering::SeqCst);
    if let Some(sweeper) = inner.replica.state().sweeper.take() {
        sweeper.abort();
    }
    inner.deliveries.stop();
}

/// Sleeps `d` of real time.
async fn pause(d: Duration) {
    tokio::time::sleep(d).await;
}

/// Campaigns for the lead as long as the engine lives: waits while another replica leads, takes the lead when
/// the key is free, runs the duties while it holds it.
async fn campaign(weak: Weak<Inner>, store: Arc<dyn Store>) {
    let Some((key, me, ttl)) = Engine::from_weak(&weak).map(|e| {
        (
            e.key(LEADER),
            e.inner.replica.id.clone(),
            e.config().leader_lease.max(Duration::from_secs(1)),
        )
    }) else {
        return;
    };
    let retry = ttl / 3;
    loop {
        // Wait while someone leads: until the key goes (its lease expired or was revoked), or a retry period.
        match store.get(&key).await {
            Ok(Some(holder)) => {
                tracing::debug!(leader = %String::from_utf8_lossy(&holder.value), "another replica leads");
                wait_for_release(store.as_ref(), &key, ttl).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(error = %e, "cannot read the leader key");
                pause(retry).await;
                continue;
            }
        }
        let lease = match store.grant_lease(ttl).await {
            Ok(l) => l,
            Err(e) => {
                tracing::debug!(error = %e, "cannot get a lease to lead");
                pause(retry).await;
                continue;
            }
        };
        let won = store
            .commit(Txn::new().when_absent(key.clone()).put_with_lease(
                key.clone(),
                me.clone(),
                lease,
            ))
            .await;
        match won {
            Ok(_) => {
                let Some(inner) = weak.upgrade() else {
                    let _ = store.revoke_lease(lease).await;
                    return;
                };
                inner.replica.state().lease = Some(lease);
                tracing::info!(replica = %me, "this replica leads: it runs the sweep and delivers notifications");
                take_duties(&Engine { inner });
                lead(store.as_ref(), &key, &me, lease, ttl).await;
                let Some(inner) = weak.upgrade() else { return };
                inner.replica.state().lease = None;
                drop_duties(&inner);
                tracing::warn!(replica = %me, "this replica no longer leads");
                let _ = store.revoke_lease(lease).await;
            }
            Err(e) => {
                if !e.is_conflict() {
                    tracing::debug!(error = %e, "cannot take the lead");
                    pause(retry).await;
                }
                let _ = store.revoke_lease(lease).await;
            }
        }
    }
}

/// Waits until the leader key is deleted, or at most `ttl` (then the caller looks again).
async fn wait_for_release(store: &dyn Store, key: &str, ttl: Duration) {
    let Ok(mut watch) = store.watch(key).await else {
        pause(ttl / 3).await;
        return;
    };
    // The key may have gone between the read and the watch.
    if matches!(store.get(key).await, Ok(None)) {
        return;
    }
    let released = async {
        while let Some(event) = watch.next().await {
            match event {
                WatchEvent::Delete { key: k, .. } if k == key => return,
                WatchEvent::Resync | WatchEvent::Disconnected => return,
                _ => {}
            }
        }
    };
    let _ = tokio::time::timeout(ttl, released).await;
}

/// Keeps the lease alive while this replica leads; returns when it may have lost the lead.
async fn lead(store: &dyn Store, key: &str, me: &str, lease: LeaseId, ttl: Duration) {
    let mut renewed = Instant::now();
    loop {
        pause(ttl / 3).await;
        let kept = tokio::time::timeout(ttl / 3, async {
            store.keep_alive(lease).await?;
            // The key is still this replica's (an operator may have deleted it by hand).
            match store.get(key).await? {
                Some(e) if e.value == me.as_bytes() => Ok(()),
                _ => Err(StoreError::NoLease(lease)),
            }
        })
        .await
        .unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the store did not answer".to_owned(),
            ))
        });
        match kept {
            Ok(()) => renewed = Instant::now(),
            Err(StoreError::NoLease(_)) => return,
            Err(e) => {
                // Step down before the lease can expire (it lives `ttl` from the last renewal etcd saw).
                if renewed.elapsed() >= ttl / 2 {
                    tracing::warn!(error = %e, "the leader's lease could not be renewed; stepping down");
                    return;
                }
            }
        }
    }
}
