//! The engine on etcd, and several replicas over one etcd behaving as one MEP: registrations seen everywhere,
//! each notification delivered once, `If-Match` races won once, the sweep moving to a live replica, 503 while
//! etcd is down and recovery after. Every test runs against a real etcd (see `support/etcd.rs`); the engines'
//! clocks are manual, real time is only waited for etcd's own leases and reconnections, never asserted on.

#![cfg(feature = "etcd")]
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "support/etcd.rs"]
mod etcd_server;
#[path = "support/service.rs"]
mod fixture;

use etcd_server::Etcd;
use fixture::service;
use mec_core::ManualClock;
use mec_mep::config::{EtcdStoreConfig, MepConfig, StoreConfig};
use mec_mep::engine::{AppState, DeliveryConfig};
use mec_mep::server::{self, HttpLimits, Mp1Options};
use mec_mep::store::{EtcdOptions, EtcdStore};
use mec_mep::{Engine, EngineConfig};
use mec_mp1::client::{Client, ServiceQuery};
use mec_mp1::model::{
    ChangeType, FilteringCriteria, Notification, SerAvailabilityNotificationSubscription,
    ServiceState,
};
use mec_mp1::receiver::{NotificationReceiver, Notifications};
use std::sync::Arc;
use std::time::Duration;

const APP: &str = "5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f";
const OTHER: &str = "11111111-1111-4111-8111-111111111111";

/// Waits (real time, bounded) until `check` holds: for what travels through etcd's watch to another replica.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within 15 s: {what}");
}

/// One replica: an engine over etcd with its own manual clock handle, serving Mp1 (without tokens) on loopback.
struct Replica {
    engine: Engine,
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

fn config(prefix: &str) -> EngineConfig {
    let mut c = EngineConfig::default();
    c.prefix = prefix.to_owned();
    c.leader_lease = Duration::from_secs(2);
    let mut d = DeliveryConfig::default();
    d.initial_backoff = Duration::from_millis(10);
    c.delivery = d;
    c
}

async fn open(etcd: &Etcd, prefix: &str, clock: &ManualClock, max_txn_ops: usize) -> Engine {
    let store = EtcdStore::connect(EtcdOptions::new([etcd.endpoint()]).max_txn_ops(max_txn_ops))
        .await
        .unwrap();
    Engine::open(store, Arc::new(clock.clone()), config(prefix))
        .await
        .unwrap()
}

impl Replica {
    async fn start(etcd: &Etcd, prefix: &str, clock: &ManualClock) -> Self {
        Self::serve(open(etcd, prefix, clock, 128).await).await
    }

    async fn serve(engine: Engine) -> Self {
        let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        engine.set_public_url(&url);
        let tokens = mec_mep::auth::TokenService::for_engine(
            &engine,
            mec_mep::auth::SigningKeys::generate().unwrap(),
            mec_mep::auth::AuthConfig::permissive(),
        );
        let mut options = Mp1Options::default();
        options.require_tokens = false;
        // Replicas serve one MEP behind one address: their links (and so their ETags) name it.
        let router = server::mp1_router(&engine, &tokens, &options).layer(axum::Extension(
            mec_mp1::server::PublicUrl("https://mep.example".to_owned()),
        ));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        tokio::spawn(server::serve(
            listener,
            router,
            HttpLimits::default(),
            None,
            async {
                let _ = stopped.await;
            },
        ));
        Self {
            engine,
            url,
            stop: Some(stop),
        }
    }

    fn client(&self) -> Client {
        Client::builder(&self.url).build().unwrap()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn prefix() -> String {
    format!("test-{}/", uuid::Uuid::new_v4())
}

async fn provision(engine: &Engine) {
    engine.provision_app(APP, None, true).await.unwrap();
    engine.provision_app(OTHER, None, true).await.unwrap();
}

async fn next(notifications: &mut Notifications) -> Notification {
    tokio::time::timeout(Duration::from_secs(15), notifications.recv())
        .await
        .expect("no notification within 15 s")
        .expect("the receiver stopped")
        .notification
}

async fn subscribe(replica: &Replica, app: &str, name: &str) -> Notifications {
    let (receiver, notifications) = NotificationReceiver::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut sub = SerAvailabilityNotificationSubscription::new(receiver.url().to_string());
    sub.filtering_criteria = Some(FilteringCriteria::new().with_ser_names(vec![name.to_owned()]));
    replica
        .client()
        .app(app)
        .service_subscriptions()
        .create(&sub)
        .await
        .unwrap();
    std::mem::forget(receiver);
    notifications
}

fn change_of(n: &Notification) -> (String, ChangeType) {
    match n {
        Notification::ServiceAvailability(a) => (
            a.service_references[0].ser_name.clone(),
            a.service_references[0].change_type.clone(),
        ),
        other => panic!("{other:?}"),
    }
}

async fn leaders(replicas: &[&Engine]) -> usize {
    replicas.iter().filter(|e| e.is_leader()).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_serves_mp1_over_etcd() {
    let Some(etcd) = Etcd::shared_or_own().await else {
        return;
    };
    let clock = ManualClock::starting_now();
    let mep = Replica::start(&etcd, &prefix(), &clock).await;
    assert!(mep.engine.store().is_shared());
    provision(&mep.engine).await;
    eventually("the single replica leads", async || mep.engine.is_leader()).await;
    let client = mep.client();
    let mut told = subscribe(&mep, OTHER, "location").await;

    // Register, discover (by name, by category), read back with an ETag.
    let app = client.app(APP);
    let created = app
        .services()
        .register(&service("location", Some(60)))
        .await
        .unwrap()
        .resource;
    let id = created.ser_instance_id.clone().unwrap();
    let found = client
        .services()
        .list(&ServiceQuery::new().ser_category_id("LOC"))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        change_of(&next(&mut told).await),
        ("location".to_owned(), ChangeType::Added)
    );

    // If-Match: the current ETag wins, a stale one gets 412.
    let tagged = app.services().get(&id).await.unwrap();
    let mut changed = tagged.value.clone();
    changed.version = "2.0".to_owned();
    let updated = app
        .services()
        .update(&id, &changed, tagged.etag.as_deref())
        .await
        .unwrap();
    assert_eq!(updated.value.version, "2.0");
    let stale = app
        .services()
        .update(&id, &changed, tagged.etag.as_deref())
        .await
        .unwrap_err();
    assert!(stale.is_precondition_failed(), "{stale}");
    assert_eq!(
        change_of(&next(&mut told).await),
        ("location".to_owned(), ChangeType::AttributesChanged)
    );

    // Liveness on the engine's clock: silent past its grace, the sweep suspends it; a heartbeat revives it.
    clock.advance(Duration::from_secs(64));
    eventually("the sweep suspends the silent service", async || {
        mep.engine
            .services()
            .iter()
            .any(|s| s.state == ServiceState::Suspended)
    })
    .await;
    assert_eq!(
        change_of(&next(&mut told).await),
        ("location".to_owned(), ChangeType::StateChanged)
    );
    app.services().heartbeat(&id).await.unwrap();
    assert_eq!(
        app.services().get(&id).await.unwrap().value.state,
        ServiceState::Active
    );
    assert_eq!(
        change_of(&next(&mut told).await),
        ("location".to_owned(), ChangeType::StateChanged)
    );

    // Deregistration; then terminating the app removes what is left.
    app.services().delete(&id).await.unwrap();
    assert_eq!(
        change_of(&next(&mut told).await),
        ("location".to_owned(), ChangeType::Removed)
    );
    app.services()
        .register(&service("location", None))
        .await
        .unwrap();
    assert_eq!(
        change_of(&next(&mut told).await),
        ("location".to_owned(), ChangeType::Added)
    );
    assert_eq!(
        mep.engine.terminate(APP).await.unwrap(),
        AppState::Terminated
    );
    assert_eq!(
        change_of(&next(&mut told).await),
        ("location".to_owned(), ChangeType::Removed)
    );
    assert!(mep.engine.services().is_empty());
    let gone = app.services().list(&ServiceQuery::new()).await.unwrap_err();
    assert!(gone.is_conflict(), "{gone}");
    eventually("the engine counts 7 deliveries", async || {
        mep.engine.delivery_stats().delivered == 7
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_registrations_and_notify_once() {
    let Some(etcd) = Etcd::shared_or_own().await else {
        return;
    };
    let p = prefix();
    let clock = ManualClock::starting_now();
    let a = Replica::start(&etcd, &p, &clock).await;
    let b = Replica::start(&etcd, &p, &clock).await;
    let c = Replica::start(&etcd, &p, &clock).await;
    provision(&a.engine).await;
    let engines = [&a.engine, &b.engine, &c.engine];
    eventually("one replica leads", async || leaders(&engines).await == 1).await;

    // A subscription made on B; a registration on A, discovered on B and C.
    let mut told = subscribe(&b, OTHER, "location").await;
    let created = a
        .client()
        .app(APP)
        .services()
        .register(&service("location", None))
        .await
        .unwrap()
        .resource;
    let id = created.ser_instance_id.unwrap();
    for r in [&b, &c] {
        eventually(
            "the registration is discovered on another replica",
            async || {
                r.client()
                    .services()
                    .list(&ServiceQuery::new().ser_name("location"))
                    .await
                    .unwrap()
                    .len()
                    == 1
            },
        )
        .await;
    }
    assert_eq!(
        change_of(&next(&mut told).await),
        ("location".to_owned(), ChangeType::Added)
    );

    // A second change, on C: it arrives after the first, and nothing arrived twice in between.
    c.client().app(APP).services().delete(&id).await.unwrap();
    assert_eq!(
        change_of(&next(&mut told).await),
        ("location".to_owned(), ChangeType::Removed)
    );
    assert!(told.try_next_now().is_none());
    // Only the leader delivered, each notification once.
    let delivered = || -> Vec<u64> {
        engines
            .iter()
            .map(|e| e.delivery_stats().delivered)
            .collect()
    };
    eventually("the leader counts its deliveries", async || {
        delivered().iter().sum::<u64>() >= 2
    })
    .await;
    let counts = delivered();
    assert_eq!(counts.iter().sum::<u64>(), 2, "{counts:?}");
    assert_eq!(counts.iter().filter(|n| **n > 0).count(), 1, "{counts:?}");
    assert_eq!(leaders(&engines).await, 1);
}

/// `Notifications` has no non-blocking read: this gives the receiver a moment, then checks nothing more came.
trait TryNextNow {
    fn try_next_now(&mut self) -> Option<Notification>;
}

impl TryNextNow for Notifications {
    fn try_next_now(&mut self) -> Option<Notification> {
        use futures_util::FutureExt;
        self.recv().now_or_never().flatten().map(|n| n.notification)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_if_match_updates_on_three_replicas_let_exactly_one_win() {
    let Some(etcd) = Etcd::shared_or_own().await else {
        return;
    };
    let p = prefix();
    let clock = ManualClock::starting_now();
    let replicas = [
        Replica::start(&etcd, &p, &clock).await,
        Replica::start(&etcd, &p, &clock).await,
        Replica::start(&etcd, &p, &clock).await,
    ];
    provision(&replicas[0].engine).await;
    let created = replicas[0]
        .client()
        .app(APP)
        .services()
        .register(&service("location", None))
        .await
        .unwrap()
        .resource;
    let id = created.ser_instance_id.unwrap();
    let mut etags = Vec::new();
    for r in &replicas {
        eventually("every replica knows the service", async || {
            r.client().app(APP).services().get(&id).await.is_ok()
        })
        .await;
        etags.push(
            r.client()
                .app(APP)
                .services()
                .get(&id)
                .await
                .unwrap()
                .etag
                .unwrap(),
        );
    }
    assert!(etags.windows(2).all(|w| w[0] == w[1]), "{etags:?}");
    for round in 0..5 {
        let current = replicas[0]
            .client()
            .app(APP)
            .services()
            .get(&id)
            .await
            .unwrap();
        for r in &replicas {
            eventually("every replica has the current version", async || {
                r.client().app(APP).services().get(&id).await.unwrap().etag == current.etag
            })
            .await;
        }
        let attempts = replicas.iter().enumerate().map(|(i, r)| {
            let mut body = current.value.clone();
            body.version = format!("{round}.{i}");
            let client = r.client();
            let id = id.clone();
            let etag = current.etag.clone();
            async move {
                client
                    .app(APP)
                    .services()
                    .update(&id, &body, etag.as_deref())
                    .await
            }
        });
        let results = futures_util::future::join_all(attempts).await;
        let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(won.len(), 1, "round {round}: {results:?}");
        for lost in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(lost.is_precondition_failed(), "round {round}: {lost}");
        }
        let stored = replicas[0]
            .engine
            .store()
            .get(&format!("{p}services/{id}"))
            .await
            .unwrap();
        assert!(
            String::from_utf8_lossy(&stored.unwrap().value).contains(&won[0].value.version),
            "the winner's write is the one stored"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_moves_to_a_live_replica_when_the_leader_dies() {
    let Some(etcd) = Etcd::shared_or_own().await else {
        return;
    };
    let p = prefix();
    let clock = ManualClock::starting_now();
    let first = open(&etcd, &p, &clock, 128).await;
    eventually("the first replica leads", async || first.is_leader()).await;
    let second = open(&etcd, &p, &clock, 128).await;
    provision(&second).await;
    assert!(!second.is_leader(), "two leaders");

    // The leader sweeps: a silent service registered on the other replica is suspended.
    let one = second
        .seed_service(APP, service("one", Some(60)))
        .await
        .unwrap()
        .ser_instance_id
        .unwrap();
    eventually("the leader sees the service", async || {
        first.services().len() == 1
    })
    .await;
    clock.advance(Duration::from_secs(64));
    eventually("the leader's sweep suspends it", async || {
        second.services()[0].state == ServiceState::Suspended
    })
    .await;
    assert!(!second.is_leader());

    // The leader dies (dropped, its lease left to expire, as when the process is killed).
    drop(first);
    let two = second
        .seed_service(APP, service("two", Some(60)))
        .await
        .unwrap()
        .ser_instance_id
        .unwrap();
    eventually(
        "the other replica takes the lead after the lease",
        async || second.is_leader(),
    )
    .await;
    clock.advance(Duration::from_secs(64));
    eventually(
        "the new leader's sweep suspends the second service",
        async || {
            second
                .services()
                .iter()
                .all(|s| s.state == ServiceState::Suspended)
        },
    )
    .await;
    assert_eq!(second.services().len(), 2);
    assert!(second.last_heartbeat(&one).is_some() && second.last_heartbeat(&two).is_some());

    // A graceful stop hands over at once: a third replica takes the lead without waiting for the lease.
    let third = open(&etcd, &p, &clock, 128).await;
    assert!(!third.is_leader());
    second.shutdown();
    eventually("the third replica takes over", async || third.is_leader()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_termination_larger_than_a_transaction_is_split_and_completes() {
    let Some(etcd) = Etcd::shared_or_own().await else {
        return;
    };
    let p = prefix();
    let clock = ManualClock::starting_now();
    // A store taking 16 writes per transaction: 12 services with their events need several.
    let mep = Replica::serve(open(&etcd, &p, &clock, 16).await).await;
    provision(&mep.engine).await;
    eventually("the replica leads", async || mep.engine.is_leader()).await;
    let mut told = subscribe(&mep, OTHER, "many").await;
    for _ in 0..12 {
        mep.client()
            .app(APP)
            .services()
            .register(&service("many", None))
            .await
            .unwrap();
    }
    for _ in 0..12 {
        assert_eq!(change_of(&next(&mut told).await).1, ChangeType::Added);
    }
    assert_eq!(
        mep.engine.terminate(APP).await.unwrap(),
        AppState::Terminated
    );
    assert!(mep.engine.services().is_empty());
    for _ in 0..12 {
        assert_eq!(change_of(&next(&mut told).await).1, ChangeType::Removed);
    }
    assert_eq!(mep.engine.app_state(APP), Some(AppState::Terminated));

    // A change that cannot be split (one Mm5 configuration with more rules than a transaction takes) is refused
    // with 413, and nothing of it is written.
    let rules: Vec<serde_json::Value> = (0..20)
        .map(|i| {
            serde_json::json!({"dnsRuleId": format!("r{i}"), "domainName": format!("h{i}.example"),
                "ipAddressType": "IP_V4", "ipAddress": "10.0.0.1", "ttl": 30, "state": "ACTIVE"})
        })
        .collect();
    let mm5 = server::management_router(&mep.engine, &server::Mm5Access::default());
    let response = tower::ServiceExt::oneshot(
        mm5,
        http::Request::post(format!(
            "/mepcfg/app_lcm/v1/applications/{OTHER}/appd_configuration"
        ))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            serde_json::json!({"appName": "big", "appSupportMp1": true, "appDNSRule": rules})
                .to_string(),
        ))
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 413);
    assert!(mep.engine.dns_rules(OTHER).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_answer_503_while_etcd_is_down_and_recover_after() {
    let Some(mut etcd) = Etcd::own().await else {
        return;
    };
    // Two `mep` servers as the binary runs them (config, shared token key), with tokens required.
    let start = async |etcd: &Etcd| {
        let mut c = MepConfig::default();
        c.store = StoreConfig::Etcd(Box::new(EtcdStoreConfig::new([etcd.endpoint()])));
        c.mp1.listen = "127.0.0.1:0".parse().unwrap();
        c.mm5 = None;
        c.engine.leader_lease_secs = 2;
        c.start().await.unwrap()
    };
    let a = start(&etcd).await;
    let b = start(&etcd).await;
    let credentials = mec_core::signature::Credentials::new(
        "QVUJMSUMGDWAPZCNJHTR",
        "ZYfMhYA7SaIQ9gbjbMF2Gq2xhwN8IAlRgdgMf1iy",
    );
    a.engine
        .provision_app(APP, Some(&credentials), true)
        .await
        .unwrap();
    let on = |mep: &mec_mep::run::RunningMep| {
        Client::builder(format!("http://{}/mep", mep.mp1_addr))
            .aksk(credentials.clone())
            .build()
            .unwrap()
    };
    let (client_a, client_b) = (on(&a), on(&b));
    // A token issued by A is good on B: the replicas sign with one key, kept in etcd.
    let from_a = Client::builder(format!("http://{}/mep", b.mp1_addr))
        .bearer_token(a.tokens.issue(APP, None).unwrap().access_token)
        .build()
        .unwrap();
    from_a
        .app(APP)
        .services()
        .list(&ServiceQuery::new())
        .await
        .unwrap();
    client_a
        .app(APP)
        .services()
        .register(&service("before", None))
        .await
        .unwrap();
    eventually("B sees A's registration", async || {
        client_b
            .services()
            .list(&ServiceQuery::new())
            .await
            .is_ok_and(|s| s.len() == 1)
    })
    .await;

    etcd.stop();
    for client in [&client_a, &client_b] {
        eventually("a replica without etcd answers 503", async || {
            client
                .services()
                .list(&ServiceQuery::new())
                .await
                .is_err_and(|e| e.status() == Some(503))
        })
        .await;
        let refused = client
            .app(APP)
            .services()
            .register(&service("during", None))
            .await
            .unwrap_err();
        assert_eq!(refused.status(), Some(503), "{refused}");
        assert!(
            refused.problem().is_some(),
            "a problem+json body: {refused}"
        );
    }
    assert!(!a.engine.in_sync() && !b.engine.in_sync());

    etcd.start().await;
    for client in [&client_a, &client_b] {
        eventually("a replica answers again once etcd is back", async || {
            client.services().list(&ServiceQuery::new()).await.is_ok()
        })
        .await;
    }
    client_b
        .app(APP)
        .services()
        .register(&service("after", None))
        .await
        .unwrap();
    eventually(
        "A sees B's registration made after the outage",
        async || {
            client_a
                .services()
                .list(&ServiceQuery::new())
                .await
                .is_ok_and(|s| s.len() == 2)
        },
    )
    .await;
    let names: Vec<String> = client_a
        .services()
        .list(&ServiceQuery::new())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.ser_name)
        .collect();
    assert!(!names.contains(&"during".to_owned()), "{names:?}");
    eventually("one replica leads again", async || {
        leaders(&[&a.engine, &b.engine]).await == 1
    })
    .await;
    a.stop().await;
    b.stop().await;
}
