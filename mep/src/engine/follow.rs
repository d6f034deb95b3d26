//! Following the store: the writes of other replicas (and the engine's own) come through the store's watch into
//! the cache. While the store cannot be reached the cache may be stale: the engine says so
//! ([`Engine::in_sync`]), and the servers answer 503 rather than serve what may no longer be true; once the store
//! is back, everything is read again.

use super::{Engine, Inner};
use crate::store::{Watch, WatchEvent};
use futures_util::FutureExt;
use std::sync::Weak;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Whether the cache follows the store (false from a [`WatchEvent::Disconnected`] until the reload after it),
/// and how many times it fell behind and read everything again.
#[derive(Debug)]
pub(crate) struct Sync(AtomicBool, AtomicU64);

impl Default for Sync {
    fn default() -> Self {
        Self(AtomicBool::new(true), AtomicU64::new(0))
    }
}

impl Sync {
    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    fn set(&self, v: bool) {
        self.0.store(v, Ordering::SeqCst);
    }

    pub(crate) fn resyncs(&self) -> u64 {
        self.1.load(Ordering::Relaxed)
    }
}

/// Writes applied together at most, under one lock.
const MAX_BATCH: usize = 1024;

/// Applies the store's writes to the cache for as long as the engine lives. Writes already waiting are applied
/// together, under one lock: a follower behind a burst of writes catches up instead of falling further behind
/// (and, past the store's backlog, having to read everything again).
pub(super) fn spawn(weak: Weak<Inner>, mut watch: Watch) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut batch = Vec::new();
        while let Some(first) = watch.next().await {
            let mut next = Some(first);
            while let Some(event) = next.take() {
                match event {
                    WatchEvent::Put(_) | WatchEvent::Delete { .. } => {
                        batch.push(event);
                        if batch.len() < MAX_BATCH {
                            next = watch.next().now_or_never().flatten();
                        }
                    }
                    other => {
                        if !apply(&weak, &mut batch) || !handle(&weak, other).await {
                            return;
                        }
                    }
                }
            }
            if !apply(&weak, &mut batch) {
                return;
            }
        }
    })
}

/// Applies and empties `batch`; false once the engine is gone.
fn apply(weak: &Weak<Inner>, batch: &mut Vec<WatchEvent>) -> bool {
    if batch.is_empty() {
        return true;
    }
    let Some(engine) = Engine::from_weak(weak) else {
        return false;
    };
    engine.apply_watched(batch);
    batch.clear();
    true
}

/// Handles the store losing or skipping writes; false once the engine is gone.
async fn handle(weak: &Weak<Inner>, event: WatchEvent) -> bool {
    match event {
        WatchEvent::Disconnected => {
            let Some(engine) = Engine::from_weak(weak) else {
                return false;
            };
            tracing::warn!("the store cannot be reached: answering 503 until it is back");
            engine.inner.sync.set(false);
        }
        // Read everything again, until it works (the store may be flapping).
        WatchEvent::Resync => {
            if let Some(engine) = Engine::from_weak(weak) {
                engine.inner.sync.1.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("the cache fell behind the store's changes: reading it again");
            }
            let mut delay = Duration::from_millis(100);
            loop {
                let Some(engine) = Engine::from_weak(weak) else {
                    return false;
                };
                match engine.reload().await {
                    Ok(()) => {
                        engine.inner.sync.set(true);
                        break;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read the store again after missing its changes");
                        engine.inner.sync.set(false);
                    }
                }
                drop(engine);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
        event => {
            let Some(engine) = Engine::from_weak(weak) else {
                return false;
            };
            engine.apply_watched(std::slice::from_ref(&event));
        }
    }
    true
}
