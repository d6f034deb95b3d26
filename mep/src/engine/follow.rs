//! Following the store: the writes of other replicas (and the engine's own) come through the store's watch into
//! the cache. While the store cannot be reached the cache may be stale: the engine says so
//! ([`Engine::in_sync`]), and the servers answer 503 rather than serve what may no longer be true; once the store
//! is back, everything is read again.

use super::{Engine, Inner};
use crate::store::{Watch, WatchEvent};
use std::sync::Weak;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Whether the cache follows the store (false from a [`WatchEvent::Disconnected`] until the reload after it).
#[derive(Debug)]
pub(crate) struct Sync(AtomicBool);

impl Default for Sync {
    fn default() -> Self {
        Self(AtomicBool::new(true))
    }
}

impl Sync {
    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    fn set(&self, v: bool) {
        self.0.store(v, Ordering::SeqCst);
    }
}

/// Applies the store's writes to the cache for as long as the engine lives.
pub(super) fn spawn(weak: Weak<Inner>, mut watch: Watch) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(event) = watch.next().await {
            match event {
                WatchEvent::Disconnected => {
                    let Some(engine) = Engine::from_weak(&weak) else {
                        return;
                    };
                    tracing::warn!("the store cannot be reached: answering 503 until it is back");
                    engine.inner.sync.set(false);
                }
                // Read everything again, until it works (the store may be flapping).
                WatchEvent::Resync => {
                    let mut delay = Duration::from_millis(100);
                    loop {
                        let Some(engine) = Engine::from_weak(&weak) else {
                            return;
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
                    let Some(engine) = Engine::from_weak(&weak) else {
                        return;
                    };
                    engine.apply_watched(&event);
                }
            }
        }
    })
}
