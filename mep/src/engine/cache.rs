//! The engine's view of the store: every record, decoded, with indexes for discovery. The store is the truth;
//! the cache follows it through the engine's own commits and the store's watch (writes of other replicas), by
//! revision, so it never goes backwards.

use super::records::*;
use crate::store::{Entry, Revision, WatchEvent};
use mec_mm5::model::TaskProgress;
use mec_mp1::model::{DnsRule, ServiceInfo, TrafficRule, TransportInfo};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// A record and the revision of its last write.
#[derive(Clone, Debug)]
pub(crate) struct Versioned<T> {
    pub(crate) value: T,
    pub(crate) revision: Revision,
}

/// Rules of one kind, per app instance, by rule id.
type RuleMap<T> = HashMap<String, BTreeMap<String, Versioned<T>>>;

#[derive(Debug, Default)]
pub(crate) struct Cache {
    pub(crate) apps: HashMap<String, Versioned<AppRecord>>,
    pub(crate) credentials: HashMap<String, Versioned<CredentialRecord>>,
    /// Services by id; the id is shared with the indexes below.
    pub(crate) services: HashMap<Arc<str>, Versioned<Arc<ServiceRecord>>>,
    /// Service ids by category id, then by name: discovery's usual filters. Names are mostly unique: a short
    /// vector holds their ids (a set's node would take ten times the room).
    by_category: HashMap<String, BTreeSet<Arc<str>>>,
    by_name: HashMap<String, Vec<Arc<str>>>,
    /// The services that send heartbeats, the only ones the liveness sweep looks at.
    pub(crate) heartbeating: BTreeSet<Arc<str>>,
    pub(crate) subscriptions: HashMap<String, Versioned<Arc<SubscriptionRecord>>>,
    pub(crate) cursors: HashMap<String, Versioned<Cursor>>,
    pub(crate) traffic_rules: RuleMap<TrafficRule>,
    pub(crate) dns_rules: RuleMap<DnsRule>,
    pub(crate) tasks: HashMap<String, Versioned<TaskProgress>>,
    pub(crate) transports: BTreeMap<String, Versioned<TransportInfo>>,
    pub(crate) events: BTreeMap<u64, Versioned<Arc<EventRecord>>>,
    pub(crate) event_seq: Option<Versioned<u64>>,
    /// Records that could not be decoded (key, reason): counted and shown, never silently dropped.
    pub(crate) undecodable: Vec<(String, String)>,
}

fn decode<T: serde::de::DeserializeOwned>(
    entry: &Entry,
    undecodable: &mut Vec<(String, String)>,
) -> Option<T> {
    match serde_json::from_slice(&entry.value) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!(key = %entry.key, error = %e, "a stored record cannot be read; it is ignored");
            if undecodable.len() < 1000 {
                undecodable.push((entry.key.clone(), e.to_string()));
            }
            None
        }
    }
}

/// Whether a write at `revision` is newer than what is cached.
fn newer<T>(current: Option<&Versioned<T>>, revision: Revision) -> bool {
    current.is_none_or(|c| c.revision < revision)
}

impl Cache {
    /// Applies a store entry (a put); `key` is relative to the engine's prefix.
    pub(crate) fn put(&mut self, key: &str, entry: &Entry) {
        let rev = entry.revision;
        let u = &mut self.undecodable;
        if let Some(id) = key.strip_prefix(APPS) {
            if newer(self.apps.get(id), rev)
                && let Some(v) = decode(entry, u)
            {
                self.apps.insert(
                    id.to_owned(),
                    Versioned {
                        value: v,
                        revision: rev,
                    },
                );
            }
        } else if let Some(ak) = key.strip_prefix(CREDENTIALS) {
            if newer(self.credentials.get(ak), rev)
                && let Some(v) = decode(entry, u)
            {
                self.credentials.insert(
                    ak.to_owned(),
                    Versioned {
                        value: v,
                        revision: rev,
                    },
                );
            }
        } else if let Some(id) = key.strip_prefix(SERVICES) {
            if newer(self.services.get(id), rev)
                && let Some(v) = decode::<ServiceRecord>(entry, u)
            {
                self.insert_service(
                    id,
                    Versioned {
                        value: Arc::new(v),
                        revision: rev,
                    },
                );
            }
        } else if let Some(id) = key.strip_prefix(SUBSCRIPTIONS) {
            if newer(self.subscriptions.get(id), rev)
                && let Some(v) = decode(entry, u)
            {
                self.subscriptions.insert(
                    id.to_owned(),
                    Versioned {
                        value: Arc::new(v),
                        revision: rev,
                    },
                );
            }
        } else if let Some(id) = key.strip_prefix(CURSORS) {
            if newer(self.cursors.get(id), rev)
                && let Some(v) = decode(entry, u)
            {
                self.cursors.insert(
                    id.to_owned(),
                    Versioned {
                        value: v,
                        revision: rev,
                    },
                );
            }
        } else if let Some(rest) = key.strip_prefix(TRAFFIC_RULES) {
            if let Some((app, id)) = rest.split_once('/') {
                let rules = self.traffic_rules.entry(app.to_owned()).or_default();
                if newer(rules.get(id), rev)
                    && let Some(v) = decode(entry, u)
                {
                    rules.insert(
                        id.to_owned(),
                        Versioned {
                            value: v,
                            revision: rev,
                        },
                    );
                }
            }
        } else if let Some(rest) = key.strip_prefix(DNS_RULES) {
            if let Some((app, id)) = rest.split_once('/') {
                let rules = self.dns_rules.entry(app.to_owned()).or_default();
                if newer(rules.get(id), rev)
                    && let Some(v) = decode(entry, u)
                {
                    rules.insert(
                        id.to_owned(),
                        Versioned {
                            value: v,
                            revision: rev,
                        },
                    );
                }
            }
        } else if let Some(id) = key.strip_prefix(TASKS) {
            if newer(self.tasks.get(id), rev)
                && let Some(v) = decode(entry, u)
            {
                self.tasks.insert(
                    id.to_owned(),
                    Versioned {
                        value: v,
                        revision: rev,
                    },
                );
            }
        } else if let Some(id) = key.strip_prefix(TRANSPORTS) {
            if newer(self.transports.get(id), rev)
                && let Some(v) = decode(entry, u)
            {
                self.transports.insert(
                    id.to_owned(),
                    Versioned {
                        value: v,
                        revision: rev,
                    },
                );
            }
        } else if let Some(seq) = key.strip_prefix(EVENTS) {
            if let Ok(seq) = seq.parse::<u64>()
                && newer(self.events.get(&seq), rev)
                && let Some(v) = decode(entry, u)
            {
                self.events.insert(
                    seq,
                    Versioned {
                        value: Arc::new(v),
                        revision: rev,
                    },
                );
            }
        } else if key == EVENT_SEQ
            && newer(self.event_seq.as_ref(), rev)
            && let Some(v) = decode(entry, u)
        {
            self.event_seq = Some(Versioned {
                value: v,
                revision: rev,
            });
        }
    }

    /// Applies a deletion made at `revision`; a key written again later is kept.
    pub(crate) fn delete(&mut self, key: &str, revision: Revision) {
        fn remove<K: std::hash::Hash + Eq + std::borrow::Borrow<str>, T>(
            map: &mut HashMap<K, Versioned<T>>,
            id: &str,
            revision: Revision,
        ) -> Option<Versioned<T>> {
            if map.get(id).is_some_and(|v| v.revision <= revision) {
                map.remove(id)
            } else {
                None
            }
        }
        if let Some(id) = key.strip_prefix(APPS) {
            remove(&mut self.apps, id, revision);
        } else if let Some(ak) = key.strip_prefix(CREDENTIALS) {
            remove(&mut self.credentials, ak, revision);
        } else if let Some(id) = key.strip_prefix(SERVICES) {
            if let Some(old) = remove(&mut self.services, id, revision) {
                self.unindex(id, &old.value.info);
            }
        } else if let Some(id) = key.strip_prefix(SUBSCRIPTIONS) {
            remove(&mut self.subscriptions, id, revision);
        } else if let Some(id) = key.strip_prefix(CURSORS) {
            remove(&mut self.cursors, id, revision);
        } else if let Some(rest) = key.strip_prefix(TRAFFIC_RULES) {
            if let Some((app, id)) = rest.split_once('/')
                && let Some(rules) = self.traffic_rules.get_mut(app)
            {
                if rules.get(id).is_some_and(|v| v.revision <= revision) {
                    rules.remove(id);
                }
                if rules.is_empty() {
                    self.traffic_rules.remove(app);
                }
            }
        } else if let Some(rest) = key.strip_prefix(DNS_RULES) {
            if let Some((app, id)) = rest.split_once('/')
                && let Some(rules) = self.dns_rules.get_mut(app)
            {
                if rules.get(id).is_some_and(|v| v.revision <= revision) {
                    rules.remove(id);
                }
                if rules.is_empty() {
                    self.dns_rules.remove(app);
                }
            }
        } else if let Some(id) = key.strip_prefix(TASKS) {
            remove(&mut self.tasks, id, revision);
        } else if let Some(id) = key.strip_prefix(TRANSPORTS) {
            if self
                .transports
                .get(id)
                .is_some_and(|v| v.revision <= revision)
            {
                self.transports.remove(id);
            }
        } else if key == EVENT_SEQ {
            // Only [`Engine::clear`](super::Engine::clear) deletes it: numbering starts again.
            if self
                .event_seq
                .as_ref()
                .is_some_and(|v| v.revision <= revision)
            {
                self.event_seq = None;
            }
        } else if let Some(seq) = key.strip_prefix(EVENTS)
            && let Ok(seq) = seq.parse::<u64>()
            && self
                .events
                .get(&seq)
                .is_some_and(|v| v.revision <= revision)
        {
            self.events.remove(&seq);
        }
    }

    /// Applies a watch event (`key` relative to the prefix).
    pub(crate) fn apply(&mut self, event: &WatchEvent, prefix: &str) {
        match event {
            WatchEvent::Put(entry) => {
                if let Some(key) = entry.key.strip_prefix(prefix) {
                    self.put(key, entry);
                }
            }
            WatchEvent::Delete { key, revision } => {
                if let Some(key) = key.strip_prefix(prefix) {
                    self.delete(key, *revision);
                }
            }
            WatchEvent::Resync | WatchEvent::Disconnected => {}
        }
    }

    fn insert_service(&mut self, id: &str, v: Versioned<Arc<ServiceRecord>>) {
        if let Some(old) = self.services.remove(id) {
            self.unindex(id, &old.value.info);
        }
        let id: Arc<str> = Arc::from(id);
        let info = &v.value.info;
        if let Some(c) = &info.ser_category {
            self.by_category
                .entry(c.id.clone())
                .or_default()
                .insert(Arc::clone(&id));
        }
        let named = self.by_name.entry(info.ser_name.clone()).or_default();
        if named.len() < 4 {
            named.reserve_exact(1);
        }
        named.push(Arc::clone(&id));
        if info.liveness_interval.is_some_and(|i| i > 0) {
            self.heartbeating.insert(Arc::clone(&id));
        }
        self.services.insert(id, v);
    }

    fn unindex(&mut self, id: &str, info: &ServiceInfo) {
        if let Some(c) = &info.ser_category
            && let Some(ids) = self.by_category.get_mut(&c.id)
        {
            ids.remove(id);
            if ids.is_empty() {
                self.by_category.remove(&c.id);
            }
        }
        if let Some(ids) = self.by_name.get_mut(&info.ser_name) {
            ids.retain(|i| &**i != id);
            if ids.is_empty() {
                self.by_name.remove(&info.ser_name);
            }
        }
        self.heartbeating.remove(id);
    }

    /// The services a filter can match, narrowed by the indexes where it names categories or names; every
    /// candidate must still be checked against the whole filter.
    pub(crate) fn candidate_services<'a>(
        &'a self,
        filter: &'a mec_mp1::server::ServiceFilter,
    ) -> Box<dyn Iterator<Item = &'a Arc<ServiceRecord>> + 'a> {
        let service = move |id: &'a Arc<str>| self.services.get(id.as_ref()).map(|v| &v.value);
        if let Some(c) = &filter.ser_category_id {
            return Box::new(
                self.by_category
                    .get(c)
                    .into_iter()
                    .flatten()
                    .filter_map(service),
            );
        }
        if !filter.ser_names.is_empty() {
            return Box::new(
                filter
                    .ser_names
                    .iter()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .flat_map(move |n| {
                        self.by_name
                            .get(n)
                            .into_iter()
                            .flatten()
                            .filter_map(service)
                    }),
            );
        }
        if !filter.ser_instance_ids.is_empty() {
            return Box::new(
                filter
                    .ser_instance_ids
                    .iter()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .filter_map(|id| self.services.get(id.as_str()).map(|v| &v.value)),
            );
        }
        Box::new(self.services.values().map(|v| &v.value))
    }

    /// The app record, if any.
    pub(crate) fn app(&self, id: &str) -> Option<&Versioned<AppRecord>> {
        self.apps.get(id)
    }

    /// An app instance's subscriptions of one kind, by id.
    pub(crate) fn subscriptions_of(
        &self,
        app: &str,
        termination: bool,
    ) -> impl Iterator<Item = (&String, &Versioned<Arc<SubscriptionRecord>>)> {
        self.subscriptions.iter().filter(move |(_, s)| {
            s.value.app_instance_id == app
                && matches!(s.value.body, SubscriptionBody::Termination(_)) == termination
        })
    }

    /// The last event's sequence number.
    pub(crate) fn last_event(&self) -> u64 {
        self.event_seq.as_ref().map_or(0, |v| v.value)
    }
}
