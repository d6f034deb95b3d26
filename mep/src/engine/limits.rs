//! Staying within the store's transaction size ([`Store::max_txn_ops`](crate::store::Store::max_txn_ops); etcd
//! takes 128 writes per transaction unless configured otherwise).
//!
//! Every change the engine makes is one transaction, and nearly all are a handful of writes. Those that grow
//! with the data are handled one by one:
//!
//! - terminating an app instance deletes all its services (with an event each), subscriptions, rules and
//!   credentials: when that is more than the store takes at once, the termination is first recorded
//!   (`TERMINATING`, deadline now) and then carried out in batches, each atomic and each telling subscribers of
//!   the services it removed; the last batch marks the app `TERMINATED`. If it is interrupted, the sweep finishes
//!   it, as any termination past its deadline;
//! - the sweep's clean-ups (delivered events, old tasks) are deleted in batches;
//! - a change that cannot be split without becoming visible half-made (an Mm5 configuration with more rules than
//!   the store takes at once, replacing the transports) is refused: 413 with the reason, nothing written.

use super::records::*;
use super::{Engine, json};
use crate::store::Txn;
use mec_core::server::ApiError;
use mec_mp1::model::ChangeType;

/// The most deletions one clean-up transaction holds.
const CLEAN_UP_BATCH: usize = 100;

impl Engine {
    /// The size of a clean-up batch: at most what the store takes.
    pub(crate) fn batch_size(&self) -> usize {
        self.store()
            .max_txn_ops()
            .map_or(CLEAN_UP_BATCH, |max| max.clamp(1, CLEAN_UP_BATCH))
    }

    /// When terminating `app` in one transaction would exceed the store's limit, removes its services (telling
    /// subscribers), subscriptions and rules in batches until what is left fits; the app is recorded as
    /// `TERMINATING` first. Nothing happens when there is no limit or everything fits.
    pub(crate) async fn split_termination(&self, app: &str) -> Result<(), ApiError> {
        let Some(max) = self.store().max_txn_ops() else {
            return Ok(());
        };
        loop {
            let step = self
                .transact(|cache, now| {
                    let Some(record) = cache.app(app) else {
                        return Ok((Txn::new(), None));
                    };
                    if record.value.state == AppState::Terminated {
                        return Ok((Txn::new(), None));
                    }
                    let services: Vec<_> = cache
                        .services
                        .iter()
                        .filter(|(_, s)| s.value.owner() == app)
                        .collect();
                    let anyone_told = cache.subscriptions.values().any(|s| {
                        matches!(s.value.body, SubscriptionBody::Availability(_))
                    });
                    let per_service = 1 + usize::from(anyone_told);
                    let subscriptions: Vec<&String> = cache
                        .subscriptions
                        .iter()
                        .filter(|(_, s)| s.value.app_instance_id == app)
                        .map(|(id, _)| id)
                        .collect();
                    let rules: Vec<String> = cache
                        .traffic_rules
                        .get(app)
                        .into_iter()
                        .flatten()
                        .map(|(id, _)| self.key(&format!("{TRAFFIC_RULES}{app}/{id}")))
                        .chain(
                            cache
                                .dns_rules
                                .get(app)
                                .into_iter()
                                .flatten()
                                .map(|(id, _)| self.key(&format!("{DNS_RULES}{app}/{id}"))),
                        )
                        .collect();
                    let credentials: Vec<&String> = cache
                        .credentials
                        .iter()
                        .filter(|(_, c)| c.value.app_instance_id == app)
                        .map(|(ak, _)| ak)
                        .collect();
                    // The writes of the whole termination (finish_termination): the app, each service (and its
                    // event), the event sequence, each subscription and its cursor, each rule and credential.
                    let whole = 1
                        + services.len() * per_service
                        + usize::from(anyone_told && !services.is_empty())
                        + subscriptions.len() * 2
                        + rules.len()
                        + credentials.len();
                    if whole <= max {
                        return Ok((Txn::new(), None));
                    }
                    // Recorded first, so that an interrupted termination is finished by the sweep.
                    let due = record.value.state == AppState::Terminating
                        && record
                            .value
                            .termination_deadline
                            .is_some_and(|d| d.to_system_time() <= now);
                    if !due {
                        let mut r = record.value.clone();
                        r.state = AppState::Terminating;
                        r.termination_deadline = Some(now.into());
                        let key = self.key(&format!("{APPS}{app}"));
                        let txn = Txn::new()
                            .when_revision(key.clone(), record.revision)
                            .put(key, json(&r)?);
                        return Ok((txn, Some(Vec::new())));
                    }
                    // One batch: services (with their events) first, then subscriptions, rules, credentials.
                    let budget = max.saturating_sub(1);
                    let mut used = 0;
                    let mut txn = Txn::new();
                    let mut changes = Vec::new();
                    for (id, s) in services {
                        if used + per_service > budget {
                            break;
                        }
                        used += per_service;
                        let key = self.key(&format!("{SERVICES}{id}"));
                        txn = txn.when_revision(key.clone(), s.revision).delete(key);
                        changes.push((app.to_owned(), s.value.info.clone(), ChangeType::Removed));
                    }
                    for id in subscriptions {
                        if used + 2 > budget {
                            break;
                        }
                        used += 2;
                        txn = txn
                            .delete(self.key(&format!("{SUBSCRIPTIONS}{id}")))
                            .delete(self.key(&format!("{CURSORS}{id}")));
                    }
                    let others = rules
                        .into_iter()
                        .chain(credentials.iter().map(|ak| self.key(&format!("{CREDENTIALS}{ak}"))));
                    for key in others {
                        if used + 1 > budget {
                            break;
                        }
                        used += 1;
                        txn = txn.delete(key);
                    }
                    if txn.is_empty() {
                        return Err(ApiError::internal(format!(
                            "the store takes {max} writes per transaction: too few to terminate an app instance"
                        )));
                    }
                    let events = Engine::service_events(cache, changes.clone());
                    Ok((self.with_events(cache, txn, events)?, Some(changes)))
                })
                .await?;
            match step {
                None => return Ok(()),
                Some(changes) => self.emit_service_changes(&changes),
            }
        }
    }
}
