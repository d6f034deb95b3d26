//! The engine's view of the store: every record, decoded, with indexes for discovery. The store is the truth;
//! the cache follows it through the engine's own commits and the store's watch (writes of other replicas), by
//! revision, so it never goes backwards.

use super::records::*;
use crate::store::{Entry, Revision, WatchEvent};
use mec_mm5::model::TaskProgress;
use mec_mp1::model::{DnsRule, ServiceInfo, TrafficRule, TransportInfo};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// A record and the revision of its last write.
#[derive(Clone, Debug)]
pub(crate) struct Versioned<T> {
    pub(crate) value: T,
    pub(crate) revision: Revision,
}

/// Rules of one kind, per app instance, by rule id.
pub(crate) type RuleMap<T> = HashMap<String, BTreeMap<String, Versioned<T>>>;

/// A service in an index: ordered and compared by the id it carries, so the indexes keep no copy of it.
#[derive(Clone, Debug)]
pub(crate) struct ServiceRef(pub(crate) Arc<ServiceInfo>);

impl ServiceRef {
    /// The service's id.
    pub(crate) fn id(&self) -> &str {
        self.0.ser_instance_id.as_deref().unwrap_or_default()
    }
}

impl PartialEq for ServiceRef {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Eq for ServiceRef {}

impl PartialOrd for ServiceRef {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ServiceRef {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id().cmp(other.id())
    }
}

impl std::borrow::Borrow<str> for ServiceRef {
    fn borrow(&self) -> &str {
        self.id()
    }
}

/// A service in the map: hashed and compared by the id it carries.
#[derive(Clone, Debug)]
struct Keyed(Versioned<ServiceRecord>);

impl PartialEq for Keyed {
    fn eq(&self, other: &Self) -> bool {
        self.0.value.id() == other.0.value.id()
    }
}

impl Eq for Keyed {}

impl std::hash::Hash for Keyed {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.value.id().hash(state);
    }
}

impl std::borrow::Borrow<str> for Keyed {
    fn borrow(&self) -> &str {
        self.0.value.id()
    }
}

/// The registered services by id.
#[derive(Debug, Default)]
pub(crate) struct ServiceMap(HashSet<Keyed>);

impl ServiceMap {
    /// The service with this id.
    pub(crate) fn get(&self, id: &str) -> Option<&Versioned<ServiceRecord>> {
        self.0.get(id).map(|k| &k.0)
    }

    /// Every service.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Versioned<ServiceRecord>> {
        self.0.iter().map(|k| &k.0)
    }

    /// Every service with its id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Versioned<ServiceRecord>)> {
        self.0.iter().map(|k| (k.0.value.id(), &k.0))
    }

    /// How many there are.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    fn insert(&mut self, v: Versioned<ServiceRecord>) {
        self.0.replace(Keyed(v));
    }

    fn remove(&mut self, id: &str) -> Option<Versioned<ServiceRecord>> {
        self.0.take(id).map(|k| k.0)
    }
}

impl<'a> IntoIterator for &'a ServiceMap {
    type Item = (&'a str, &'a Versioned<ServiceRecord>);
    type IntoIter = Box<dyn Iterator<Item = Self::Item> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// The services whose names share one hash: almost always one (the rare list is boxed, to keep this small).
#[derive(Debug)]
enum Named {
    One(ServiceRef),
    #[allow(
        clippy::box_collection,
        reason = "one pointer keeps the index's entries at 16 bytes"
    )]
    Many(Box<Vec<ServiceRef>>),
}

impl Named {
    fn iter(&self) -> std::slice::Iter<'_, ServiceRef> {
        match self {
            Self::One(s) => std::slice::from_ref(s).iter(),
            Self::Many(list) => list.iter(),
        }
    }

    fn push(&mut self, s: ServiceRef) {
        match self {
            Self::One(first) => *self = Self::Many(Box::new(vec![first.clone(), s])),
            Self::Many(list) => list.push(s),
        }
    }

    /// Removes the service `id`; whether any is left.
    fn remove(&mut self, id: &str) -> bool {
        match self {
            Self::One(only) => only.id() != id,
            Self::Many(list) => {
                list.retain(|s| s.id() != id);
                let left = !list.is_empty();
                if let [only] = list.as_slice() {
                    let only = only.clone();
                    *self = Self::One(only);
                }
                left
            }
        }
    }
}

/// The name index's key: a hash fixed for the process, so that the index need not keep the names.
fn name_key(name: &str) -> u64 {
    use std::hash::BuildHasher;
    static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(Default::default).hash_one(name)
}

#[derive(Debug, Default)]
pub(crate) struct Cache {
    pub(crate) apps: HashMap<String, Versioned<AppRecord>>,
    pub(crate) credentials: HashMap<String, Versioned<CredentialRecord>>,
    /// Services by id.
    pub(crate) services: ServiceMap,
    /// Service ids by category id, then by a hash of the name: discovery's usual filters. Names are mostly
    /// unique, so the name index keeps no copy of the name and one id inline; a hash collision only adds a
    /// candidate, which the filter then refuses.
    by_category: HashMap<String, BTreeSet<ServiceRef>>,
    by_name: HashMap<u64, Named>,
    /// The services that send heartbeats, the only ones the liveness sweep looks at.
    pub(crate) heartbeating: BTreeSet<ServiceRef>,
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
    /// The highest revision applied: a store listed at a lower one was reset behind the cache's back.
    pub(crate) highest_revision: Revision,
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

/// The entry's record, decoded, when it is newer than what is cached.
fn fresh<T: serde::de::DeserializeOwned>(
    current: Option<&Versioned<T>>,
    entry: &Entry,
    sink: &mut Unreadable<'_>,
) -> Option<Versioned<T>> {
    if !newer(current, entry.revision) {
        return None;
    }
    let decoded = decode(entry, sink.list).map(|value| Versioned {
        value,
        revision: entry.revision,
    });
    sink.failed |= decoded.is_none();
    decoded
}

/// Where [`fresh`] reports a newer record it cannot read.
struct Unreadable<'a> {
    list: &'a mut Vec<(String, String)>,
    failed: bool,
}

impl Cache {
    /// Applies a store entry (a put); `key` is relative to the engine's prefix.
    pub(crate) fn put(&mut self, key: &str, entry: &Entry) {
        self.highest_revision = self.highest_revision.max(entry.revision);
        let mut list = std::mem::take(&mut self.undecodable);
        let mut sink = Unreadable {
            list: &mut list,
            failed: false,
        };
        let u = &mut sink;
        if let Some(id) = key.strip_prefix(APPS) {
            if let Some(v) = fresh(self.apps.get(id), entry, u) {
                self.apps.insert(id.to_owned(), v);
            }
        } else if let Some(ak) = key.strip_prefix(CREDENTIALS) {
            if let Some(v) = fresh(self.credentials.get(ak), entry, u) {
                self.credentials.insert(ak.to_owned(), v);
            }
        } else if let Some(id) = key.strip_prefix(SERVICES) {
            if let Some(mut v) = fresh::<ServiceRecord>(self.services.get(id), entry, u) {
                v.value.restore(id);
                self.insert_service(id, v);
            }
        } else if let Some(id) = key.strip_prefix(SUBSCRIPTIONS) {
            if let Some(v) = fresh(self.subscriptions.get(id), entry, u) {
                self.subscriptions.insert(id.to_owned(), v);
            }
        } else if let Some(id) = key.strip_prefix(CURSORS) {
            if let Some(v) = fresh(self.cursors.get(id), entry, u) {
                self.cursors.insert(id.to_owned(), v);
            }
        } else if let Some(rest) = key.strip_prefix(TRAFFIC_RULES) {
            if let Some((app, id)) = rest.split_once('/') {
                let rules = self.traffic_rules.entry(app.to_owned()).or_default();
                if let Some(v) = fresh(rules.get(id), entry, u) {
                    rules.insert(id.to_owned(), v);
                }
            }
        } else if let Some(rest) = key.strip_prefix(DNS_RULES) {
            if let Some((app, id)) = rest.split_once('/') {
                let rules = self.dns_rules.entry(app.to_owned()).or_default();
                if let Some(v) = fresh(rules.get(id), entry, u) {
                    rules.insert(id.to_owned(), v);
                }
            }
        } else if let Some(id) = key.strip_prefix(TASKS) {
            if let Some(v) = fresh(self.tasks.get(id), entry, u) {
                self.tasks.insert(id.to_owned(), v);
            }
        } else if let Some(id) = key.strip_prefix(TRANSPORTS) {
            if let Some(v) = fresh(self.transports.get(id), entry, u) {
                self.transports.insert(id.to_owned(), v);
            }
        } else if let Some(seq) = key.strip_prefix(EVENTS) {
            if let Ok(seq) = seq.parse::<u64>()
                && let Some(v) = fresh(self.events.get(&seq), entry, u)
            {
                self.events.insert(seq, v);
            }
        } else if key == EVENT_SEQ
            && let Some(v) = fresh(self.event_seq.as_ref(), entry, u)
        {
            self.event_seq = Some(v);
        }
        let failed = sink.failed;
        self.undecodable = list;
        // A newer value that cannot be read: what is cached is no longer what the store holds.
        if failed {
            self.delete(key, entry.revision);
        }
    }

    /// Applies a deletion made at `revision`; a key written again later is kept.
    pub(crate) fn delete(&mut self, key: &str, revision: Revision) {
        self.highest_revision = self.highest_revision.max(revision);
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
            if self
                .services
                .get(id)
                .is_some_and(|v| v.revision <= revision)
                && let Some(old) = self.services.remove(id)
            {
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

    fn insert_service(&mut self, id: &str, v: Versioned<ServiceRecord>) {
        if let Some(old) = self.services.remove(id) {
            self.unindex(id, &old.value.info);
        }
        let service = || ServiceRef(Arc::clone(&v.value.info));
        let info = &v.value.info;
        if let Some(c) = &info.ser_category {
            self.by_category
                .entry(c.id.clone())
                .or_default()
                .insert(service());
        }
        match self.by_name.entry(name_key(&info.ser_name)) {
            std::collections::hash_map::Entry::Occupied(mut named) => {
                named.get_mut().push(service());
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(Named::One(service()));
            }
        }
        if info.liveness_interval.is_some_and(|i| i > 0) {
            self.heartbeating.insert(service());
        }
        self.services.insert(v);
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
        let key = name_key(&info.ser_name);
        if let Some(ids) = self.by_name.get_mut(&key)
            && !ids.remove(id)
        {
            self.by_name.remove(&key);
        }
        self.heartbeating.remove(id);
    }

    /// The services a filter can match, narrowed by the indexes where it names categories or names; every
    /// candidate must still be checked against the whole filter.
    pub(crate) fn candidate_services<'a>(
        &'a self,
        filter: &'a mec_mp1::server::ServiceFilter,
    ) -> Box<dyn Iterator<Item = &'a Arc<ServiceInfo>> + 'a> {
        if let Some(c) = &filter.ser_category_id {
            return Box::new(self.by_category.get(c).into_iter().flatten().map(|s| &s.0));
        }
        if !filter.ser_names.is_empty() {
            return Box::new(
                // One pass per distinct hash: names that collide share their services.
                filter
                    .ser_names
                    .iter()
                    .map(|n| name_key(n))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .flat_map(move |key| {
                        self.by_name
                            .get(&key)
                            .into_iter()
                            .flat_map(Named::iter)
                            .map(|s| &s.0)
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
                    .filter_map(|id| self.services.get(id.as_str()).map(|v| &v.value.info)),
            );
        }
        Box::new(self.services.values().map(|v| &v.value.info))
    }

    /// Makes the cache what a listing of the store under `prefix` at `revision` says, in place: what did not
    /// change since it was cached is neither decoded nor copied again, what the listing lacks leaves, and a
    /// write made after the listing stays. `known` is [`highest_revision`](Self::highest_revision) when the
    /// listing began: a listing older than that means the store went backwards (wiped, restored), and it is
    /// read afresh.
    pub(crate) fn reconcile(
        &mut self,
        entries: &[Entry],
        revision: Revision,
        prefix: &str,
        known: Revision,
    ) {
        if revision < known {
            tracing::warn!(
                listed = revision,
                cached = known,
                "the store's revision went backwards: reading it afresh"
            );
            *self = Self::default();
        }
        self.undecodable.clear();
        let mut listed = HashSet::with_capacity(entries.len());
        for e in entries {
            if let Some(key) = e.key.strip_prefix(prefix) {
                self.put(key, e);
                listed.insert(key);
            }
        }
        for key in self.keys() {
            if !listed.contains(key.as_str()) {
                self.delete(&key, revision);
            }
        }
    }

    /// Every key held (relative to the prefix).
    pub(crate) fn keys(&self) -> Vec<String> {
        fn under<'a, K: std::fmt::Display + 'a>(
            keys: &mut Vec<String>,
            prefix: &str,
            ids: impl Iterator<Item = K>,
        ) {
            keys.extend(ids.map(|id| format!("{prefix}{id}")));
        }
        let mut keys = Vec::new();
        under(&mut keys, APPS, self.apps.keys());
        under(&mut keys, CREDENTIALS, self.credentials.keys());
        under(&mut keys, SERVICES, self.services.iter().map(|(id, _)| id));
        under(&mut keys, SUBSCRIPTIONS, self.subscriptions.keys());
        under(&mut keys, CURSORS, self.cursors.keys());
        for (app, ids) in &self.traffic_rules {
            under(&mut keys, &format!("{TRAFFIC_RULES}{app}/"), ids.keys());
        }
        for (app, ids) in &self.dns_rules {
            under(&mut keys, &format!("{DNS_RULES}{app}/"), ids.keys());
        }
        under(&mut keys, TASKS, self.tasks.keys());
        under(&mut keys, TRANSPORTS, self.transports.keys());
        keys.extend(self.events.keys().map(|seq| event_key(*seq)));
        if self.event_seq.is_some() {
            keys.push(EVENT_SEQ.to_owned());
        }
        keys
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

#[cfg(test)]
mod tests {
    use super::*;
    use mec_core::TimeStamp;
    use mec_mp1::model::CategoryRef;
    use mec_mp1::server::ServiceFilter;

    fn put_service(cache: &mut Cache, id: &str, owner: &str, name: &str, revision: Revision) {
        let mut info = ServiceInfo::rest_http(name, "1.0", format!("http://10.0.0.1/{id}"))
            .with_category(CategoryRef::new("/catalogue", "cat", "category", "v1"));
        info.links = Some(super::super::service_mgmt::owner_links(owner));
        let record = ServiceRecord::new(Arc::new(info), TimeStamp::from(std::time::UNIX_EPOCH));
        let entry = Entry {
            key: format!("{SERVICES}{id}"),
            value: serde_json::to_vec(&record).unwrap().into(),
            revision,
        };
        cache.put(&entry.key.clone(), &entry);
    }

    fn found(cache: &Cache, query: &str) -> Vec<String> {
        let filter = ServiceFilter::parse(Some(query)).unwrap();
        let mut ids: Vec<String> = cache
            .candidate_services(&filter)
            .filter(|s| filter.matches(s))
            .map(|s| s.ser_instance_id.clone().unwrap())
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn a_stored_service_reads_back_with_its_id_and_owner() {
        let mut cache = Cache::default();
        put_service(&mut cache, "s1", "app-1", "svc", 1);
        let stored = cache.services.get("s1").unwrap();
        assert_eq!(stored.value.id(), "s1");
        assert_eq!(stored.value.owner(), "app-1");
        let json: serde_json::Value = serde_json::to_value(&stored.value).unwrap();
        assert!(json["info"].get("serInstanceId").is_none(), "{json}");
        assert!(json["info"].get("_links").is_none(), "{json}");
        assert_eq!(json["owner"], "app-1");
    }

    #[test]
    fn a_record_written_with_its_id_and_links_reads_the_same() {
        let mut cache = Cache::default();
        let old = serde_json::json!({
            "owner": "app-2",
            "info": {
                "serInstanceId": "s9", "serName": "old", "version": "1", "state": "ACTIVE",
                "serializer": "JSON", "_links": {"appInstanceId": "app-2"}
            },
            "lastHeartbeat": {"seconds": 1, "nanoSeconds": 0}
        });
        let entry = Entry {
            key: format!("{SERVICES}s9"),
            value: serde_json::to_vec(&old).unwrap().into(),
            revision: 1,
        };
        cache.put(&entry.key.clone(), &entry);
        let s = &cache.services.get("s9").unwrap().value;
        assert_eq!((s.id(), s.owner()), ("s9", "app-2"));
        assert_eq!(found(&cache, "ser_name=old"), ["s9"]);
    }

    #[test]
    fn services_sharing_a_name_are_all_found_until_removed() {
        let mut cache = Cache::default();
        put_service(&mut cache, "a", "app-1", "same", 1);
        put_service(&mut cache, "b", "app-2", "same", 2);
        put_service(&mut cache, "c", "app-2", "same", 3);
        put_service(&mut cache, "d", "app-1", "other", 4);
        assert_eq!(found(&cache, "ser_name=same"), ["a", "b", "c"]);
        assert_eq!(
            found(&cache, "ser_name=same,other,same"),
            ["a", "b", "c", "d"]
        );
        assert_eq!(found(&cache, "ser_category_id=cat"), ["a", "b", "c", "d"]);
        cache.delete(&format!("{SERVICES}b"), 5);
        assert_eq!(found(&cache, "ser_name=same"), ["a", "c"]);
        cache.delete(&format!("{SERVICES}a"), 6);
        cache.delete(&format!("{SERVICES}c"), 7);
        assert!(found(&cache, "ser_name=same").is_empty());
        assert_eq!(found(&cache, "ser_name=other"), ["d"]);
        // Renamed: found under the new name only.
        put_service(&mut cache, "d", "app-1", "renamed", 8);
        assert!(found(&cache, "ser_name=other").is_empty());
        assert_eq!(found(&cache, "ser_name=renamed"), ["d"]);
        assert!(cache.by_name.len() == 1 && cache.by_category["cat"].len() == 1);
    }

    #[test]
    fn keys_names_every_record_held_so_a_reload_can_drop_the_vanished() {
        let mut cache = Cache::default();
        put_service(&mut cache, "s1", "app-1", "svc", 1);
        let mut written = vec![format!("{SERVICES}s1")];
        let records: [(String, serde_json::Value); 7] = [
            (
                format!("{APPS}app-1"),
                serde_json::to_value(AppRecord::new()).unwrap(),
            ),
            (
                format!("{CREDENTIALS}ak"),
                serde_json::json!({"appInstanceId": "app-1", "secretKey": "sk"}),
            ),
            (format!("{CURSORS}sub-1"), serde_json::json!({"seq": 3})),
            (
                format!("{DNS_RULES}app-1/r1"),
                serde_json::json!({"dnsRuleId": "r1", "domainName": "a.example", "ipAddressType": "IP_V4",
                    "ipAddress": "10.0.0.1", "state": "ACTIVE"}),
            ),
            (
                format!("{TRAFFIC_RULES}app-1/t1"),
                serde_json::json!({"trafficRuleId": "t1", "filterType": "FLOW", "priority": 1,
                    "trafficFilter": [], "action": "DROP", "state": "ACTIVE"}),
            ),
            (
                event_key(7),
                serde_json::json!({"type": "appTerminating", "app_instance_id": "app-1",
                "max_graceful_timeout": 5}),
            ),
            (EVENT_SEQ.to_owned(), serde_json::json!(7)),
        ];
        for (i, (key, value)) in records.into_iter().enumerate() {
            let entry = Entry {
                key: key.clone(),
                value: serde_json::to_vec(&value).unwrap().into(),
                revision: 2 + i as u64,
            };
            cache.put(&key, &entry);
            written.push(key);
        }
        assert!(cache.undecodable.is_empty(), "{:?}", cache.undecodable);
        let mut keys = cache.keys();
        keys.sort();
        written.sort();
        assert_eq!(keys, written);
        for key in &written {
            cache.delete(key, 100);
        }
        assert!(cache.keys().is_empty());
    }

    fn entry(key: &str, value: &[u8], revision: Revision) -> Entry {
        Entry {
            key: key.to_owned(),
            value: value.to_vec().into(),
            revision,
        }
    }

    #[test]
    fn a_newer_record_that_cannot_be_read_replaces_the_cached_one() {
        let mut cache = Cache::default();
        put_service(&mut cache, "a", "app-1", "svc", 1);
        let key = format!("{SERVICES}a");
        cache.put(&key, &entry(&key, b"{\"owner\": 7}", 2));
        assert!(cache.services.get("a").is_none());
        assert!(found(&cache, "ser_name=svc").is_empty());
        assert!(found(&cache, "ser_category_id=cat").is_empty());
        assert_eq!(cache.undecodable.len(), 1);
        assert_eq!(cache.undecodable[0].0, key);
    }

    #[test]
    fn reconciling_keeps_later_writes_drops_the_unlisted_and_starts_over_after_a_reset() {
        let mut cache = Cache::default();
        put_service(&mut cache, "kept", "app-1", "svc", 3);
        put_service(&mut cache, "gone", "app-1", "svc", 4);
        put_service(&mut cache, "later", "app-1", "svc", 9);
        let kept = serde_json::to_vec(&cache.services.get("kept").unwrap().value).unwrap();
        // Listed at revision 8, when the cache knew up to 8: "gone" was deleted before it, "later" was written
        // after it.
        let listing = [entry(&format!("{SERVICES}kept"), &kept, 3)];
        cache.reconcile(&listing, 8, "", 8);
        assert_eq!(found(&cache, "ser_name=svc"), ["kept", "later"]);
        // A store reset behind the cache lists at a lower revision than any cached write: only the listing stays.
        let fresh = [entry(&format!("{SERVICES}kept"), &kept, 1)];
        cache.reconcile(&fresh, 2, "", cache.highest_revision);
        assert_eq!(found(&cache, "ser_name=svc"), ["kept"]);
        assert_eq!(cache.services.get("kept").unwrap().revision, 1);
    }

    #[test]
    fn an_older_write_does_not_replace_a_newer_one() {
        let mut cache = Cache::default();
        put_service(&mut cache, "a", "app-1", "new", 5);
        put_service(&mut cache, "a", "app-1", "old", 4);
        assert_eq!(found(&cache, "ser_name=new"), ["a"]);
        cache.delete(&format!("{SERVICES}a"), 3);
        assert_eq!(found(&cache, "ser_name=new"), ["a"]);
    }
}
