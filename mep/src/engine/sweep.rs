//! The engine's background pass, on its clock: services that stopped their heartbeats are suspended, terminations
//! past their deadline complete, delivered events are cleaned up.

use super::records::*;
use super::{Engine, Inner, json};
use crate::store::Txn;
use mec_core::server::ApiError;
use mec_mp1::model::{ChangeType, ServiceState};
use std::sync::Arc;
use std::sync::Weak;
use std::time::Duration;

/// Runs [`run`] every `sweep_interval` of the engine's clock, for as long as the engine lives.
pub(super) fn spawn(weak: Weak<Inner>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let sleep = {
                let Some(engine) = Engine::from_weak(&weak) else {
                    return;
                };
                let next = engine.now() + engine.config().sweep_interval;
                engine.clock().sleep_until(next)
            };
            sleep.await;
            let Some(engine) = Engine::from_weak(&weak) else {
                return;
            };
            if let Err(e) = run(&engine).await {
                tracing::warn!(error = %e, "the background sweep did not finish; it runs again shortly");
            }
        }
    })
}

/// How long past its interval a service may go without a heartbeat: 5 % of the interval, at most 5 s, as
/// EdgeGallery's MEP (`interval + min(ceil(interval * 0.05), 5)`, mepserver `heartbeat.go`).
pub(crate) fn grace(interval: u32) -> Duration {
    let interval = u64::from(interval);
    Duration::from_secs(interval + interval.div_ceil(20).min(5))
}

/// One pass.
pub(super) async fn run(engine: &Engine) -> Result<(), ApiError> {
    suspend_silent_services(engine).await?;
    finish_overdue_terminations(engine).await?;
    compact_events(engine).await?;
    forget_old_tasks(engine).await
}

async fn suspend_silent_services(engine: &Engine) -> Result<(), ApiError> {
    let now = engine.now();
    let overdue: Vec<String> = {
        let cache = engine.read();
        cache
            .heartbeating
            .iter()
            .map(super::cache::ServiceRef::id)
            .filter(|id| {
                cache.services.get(id).is_some_and(|s| {
                    let info = &s.value.info;
                    info.state == ServiceState::Active
                        && info.liveness_interval.is_some_and(|i| {
                            now.duration_since(s.value.last_heartbeat.to_system_time())
                                .unwrap_or_default()
                                > grace(i)
                        })
                })
            })
            .map(str::to_owned)
            .collect()
    };
    for id in overdue {
        let changed = engine
            .transact(|cache, now| {
                let Some(s) = cache.services.get(&id) else {
                    return Ok((Txn::new(), None));
                };
                let still_overdue = s.value.info.state == ServiceState::Active
                    && s.value.info.liveness_interval.is_some_and(|i| {
                        now.duration_since(s.value.last_heartbeat.to_system_time())
                            .unwrap_or_default()
                            > grace(i)
                    });
                if !still_overdue {
                    return Ok((Txn::new(), None));
                }
                let mut record = s.value.clone();
                Arc::make_mut(&mut record.info).state = ServiceState::Suspended;
                let key = engine.key(&format!("{SERVICES}{id}"));
                let change = (
                    record.owner().to_owned(),
                    record.info.clone(),
                    ChangeType::StateChanged,
                );
                let txn = Txn::new()
                    .when_revision(key.clone(), s.revision)
                    .put(key, json(&record)?);
                let events = Engine::service_events(cache, [change.clone()]);
                Ok((engine.with_events(cache, txn, events)?, Some(change)))
            })
            .await?;
        if let Some(change) = changed {
            engine.emit_service_changes(&[change]);
        }
    }
    Ok(())
}

async fn finish_overdue_terminations(engine: &Engine) -> Result<(), ApiError> {
    let now = engine.now();
    let overdue: Vec<String> = engine
        .read()
        .apps
        .iter()
        .filter(|(_, a)| {
            a.value.state == AppState::Terminating
                && a.value
                    .termination_deadline
                    .is_none_or(|d| d.to_system_time() <= now)
        })
        .map(|(id, _)| id.clone())
        .collect();
    for id in overdue {
        engine.finish_termination(&id).await?;
    }
    Ok(())
}

/// Deletes the events every subscription is past; past the cap, the oldest go anyway (and the subscriptions
/// that had not reached them count them as lost).
async fn compact_events(engine: &Engine) -> Result<(), ApiError> {
    let (doomed, lost) = {
        let cache = engine.read();
        if cache.events.is_empty() {
            return Ok(());
        }
        let reached = cache
            .subscriptions
            .keys()
            .map(|id| {
                let persisted = cache.cursors.get(id).map_or(0, |c| c.value.seq);
                engine
                    .deliveries()
                    .cursor(id)
                    .unwrap_or(persisted)
                    .max(persisted)
            })
            .min()
            .unwrap_or(u64::MAX);
        let cap = engine.config().max_pending_events;
        let over = cache.events.len().saturating_sub(cap);
        let mut doomed: Vec<u64> = cache
            .events
            .keys()
            .copied()
            .take_while(|seq| *seq <= reached)
            .collect();
        let mut lost = 0u64;
        if over > doomed.len() {
            let extra: Vec<u64> = cache
                .events
                .keys()
                .copied()
                .skip(doomed.len())
                .take(over - doomed.len())
                .collect();
            lost = extra.len() as u64;
            doomed.extend(extra);
        }
        (doomed, lost)
    };
    if lost > 0 {
        tracing::error!(
            lost,
            "undelivered notifications dropped: the pending-event cap was reached (max_pending_events)"
        );
        engine.deliveries().count_lost(lost);
    }
    for chunk in doomed.chunks(engine.batch_size()) {
        let txn = chunk
            .iter()
            .fold(Txn::new(), |t, seq| t.delete(engine.key(&event_key(*seq))));
        engine
            .commit(txn)
            .await
            .map_err(|e| super::unavailable(&e))?;
    }
    Ok(())
}

async fn forget_old_tasks(engine: &Engine) -> Result<(), ApiError> {
    let doomed: Vec<String> = {
        let cache = engine.read();
        let over = cache.tasks.len().saturating_sub(engine.config().max_tasks);
        if over == 0 {
            return Ok(());
        }
        let mut by_age: Vec<(&String, u64)> =
            cache.tasks.iter().map(|(k, v)| (k, v.revision)).collect();
        by_age.sort_by_key(|(_, r)| *r);
        by_age
            .into_iter()
            .take(over)
            .map(|(k, _)| k.clone())
            .collect()
    };
    for chunk in doomed.chunks(engine.batch_size()) {
        let txn = chunk.iter().fold(Txn::new(), |t, id| {
            t.delete(engine.key(&format!("{TASKS}{id}")))
        });
        engine
            .commit(txn)
            .await
            .map_err(|e| super::unavailable(&e))?;
    }
    Ok(())
}
