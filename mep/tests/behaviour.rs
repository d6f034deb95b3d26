//! The engine's behaviour, one suite run against every store backend: every Mp1 and Mm5 operation through the
//! real routers, If-Match races, the liveness sweep, notification delivery with failing receivers, limits,
//! termination, and (for the durable store) restarts.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use http::StatusCode;
use mec_core::Clock as _;
use mec_mep::engine::AppState;
use mec_mep::engine::DeliveryOutcome;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn registry_and_discovery(backend: Backend) {
    let h = Harness::on(&backend).await;
    let a = h.register(APP, service("loc-a", "LOC")).await;
    let b = h.register(OTHER, service("rni-b", "RNI")).await;
    assert_eq!(a.len(), 32);

    let all = h.call("GET", &format!("{SM}/services"), None).await;
    assert_eq!(all.body.as_array().unwrap().len(), 2);
    let loc = h
        .call("GET", &format!("{SM}/services?ser_category_id=LOC"), None)
        .await;
    assert_eq!(loc.body.as_array().unwrap().len(), 1);
    assert_eq!(loc.body[0]["serInstanceId"], a.as_str());
    let by_name = h
        .call("GET", &format!("{SM}/services?ser_name=rni-b"), None)
        .await;
    assert_eq!(by_name.body[0]["serInstanceId"], b.as_str());
    let by_id = h
        .call("GET", &format!("{SM}/services?ser_instance_id={a}"), None)
        .await;
    assert_eq!(by_id.body.as_array().unwrap().len(), 1);
    let mine = h
        .call("GET", &format!("{SM}/applications/{APP}/services"), None)
        .await;
    assert_eq!(mine.body.as_array().unwrap().len(), 1);

    let one = h.call("GET", &format!("{SM}/services/{a}"), None).await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(one.headers.contains_key("etag"));

    // Update: the category index follows.
    let mut changed = service("loc-a", "LOC2");
    changed["state"] = json!("INACTIVE");
    let put = h
        .call(
            "PUT",
            &format!("{SM}/applications/{APP}/services/{a}"),
            Some(changed),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["state"], "INACTIVE");
    let loc = h
        .call("GET", &format!("{SM}/services?ser_category_id=LOC"), None)
        .await;
    assert_eq!(loc.body, json!([]));
    let loc2 = h
        .call("GET", &format!("{SM}/services?ser_category_id=LOC2"), None)
        .await;
    assert_eq!(loc2.body.as_array().unwrap().len(), 1);

    // Another app's service is not yours to change; deregistration removes it from every index.
    let theirs = h
        .call(
            "DELETE",
            &format!("{SM}/applications/{APP}/services/{b}"),
            None,
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let gone = h
        .call(
            "DELETE",
            &format!("{SM}/applications/{APP}/services/{a}"),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let loc2 = h
        .call("GET", &format!("{SM}/services?ser_category_id=LOC2"), None)
        .await;
    assert_eq!(loc2.body, json!([]));
    assert_eq!(
        h.call("GET", &format!("{SM}/services/{a}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let transports = h.call("GET", &format!("{SM}/transports"), None).await;
    assert_eq!(transports.status, StatusCode::OK);
}

/// N concurrent PUTs with one ETag: exactly one wins, the others get 412 (no lost update).
async fn if_match_races_have_one_winner(backend: Backend) {
    let h = Arc::new(Harness::on(&backend).await);
    let id = h.register(APP, service("raced", "R")).await;
    let current = h
        .call(
            "GET",
            &format!("{SM}/applications/{APP}/services/{id}"),
            None,
        )
        .await;
    let etag = current.headers["etag"].to_str().unwrap().to_owned();
    let mut racers = Vec::new();
    for i in 0..16 {
        let h = h.clone();
        let etag = etag.clone();
        let id = id.clone();
        racers.push(tokio::spawn(async move {
            let mut body = service("raced", "R");
            body["version"] = json!(format!("2.{i}"));
            call_with(
                &h.mp1,
                "PUT",
                &format!("{SM}/applications/{APP}/services/{id}"),
                Some(body),
                &[("if-match", etag.as_str())],
            )
            .await
            .status
        }));
    }
    let mut statuses = Vec::new();
    for r in racers {
        statuses.push(r.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
            .count(),
        15,
        "{statuses:?}"
    );

    // The same for a DNS rule.
    h.engine
        .set_dns_rule(
            APP,
            serde_json::from_value(json!({"dnsRuleId": "d1", "domainName": "a.example.com",
                "ipAddressType": "IP_V4", "ipAddress": "192.0.2.1", "ttl": 30, "state": "ACTIVE"}))
            .unwrap(),
        )
        .await
        .unwrap();
    let rule = h
        .call(
            "GET",
            &format!("{AS}/applications/{APP}/dns_rules/d1"),
            None,
        )
        .await;
    let etag = rule.headers["etag"].to_str().unwrap().to_owned();
    let mut racers = Vec::new();
    for i in 0..8 {
        let h = h.clone();
        let etag = etag.clone();
        let mut body = rule.body.clone();
        body["state"] = json!(if i % 2 == 0 { "INACTIVE" } else { "ACTIVE" });
        body["ttl"] = json!(100 + i);
        racers.push(tokio::spawn(async move {
            call_with(
                &h.mp1,
                "PUT",
                &format!("{AS}/applications/{APP}/dns_rules/d1"),
                Some(body),
                &[("if-match", etag.as_str())],
            )
            .await
            .status
        }));
    }
    let mut ok = 0;
    for r in racers {
        let s = r.await.unwrap();
        assert!(matches!(s.as_u16(), 200 | 412), "{s}");
        ok += usize::from(s == StatusCode::OK);
    }
    assert_eq!(ok, 1);
}

async fn liveness_sweep_suspends_and_heartbeats_revive(backend: Backend) {
    let h = Harness::on(&backend).await;
    let sink = Sink::start().await;
    let sub = h
        .call(
            "POST",
            &format!("{SM}/applications/{OTHER}/subscriptions"),
            Some(
                json!({"subscriptionType": "SerAvailabilityNotificationSubscription",
                        "callbackReference": sink.url("watcher")}),
            ),
        )
        .await;
    assert_eq!(sub.status, StatusCode::CREATED);
    let mut s = service("beating", "B");
    s["livenessInterval"] = json!(10);
    let id = h.register(APP, s).await;
    let live = format!("{SM}/applications/{APP}/services/{id}/liveness");
    let l = h.call("GET", &live, None).await;
    assert_eq!(
        (l.body["state"].clone(), l.body["interval"].clone()),
        (json!("ACTIVE"), json!(10))
    );

    h.advance(Duration::from_secs(8)).await;
    let beat = h
        .call("PATCH", &live, Some(json!({"state": "ACTIVE"})))
        .await;
    assert_eq!(beat.status, StatusCode::NO_CONTENT);
    h.advance(Duration::from_secs(8)).await;
    assert_eq!(h.call("GET", &live, None).await.body["state"], "ACTIVE");
    // Silence past the interval and its grace: suspended, by the sweep, without anybody reading.
    h.advance(Duration::from_secs(4)).await;
    assert_eq!(
        h.engine.services()[0].state,
        mec_mp1::model::ServiceState::Suspended
    );
    // A heartbeat revives it and answers the new liveness (200).
    let beat = h.call("PUT", &live, Some(json!({"state": "ACTIVE"}))).await;
    assert_eq!(beat.status, StatusCode::OK);
    assert_eq!(beat.body["state"], "ACTIVE");
    // The subscriber heard: ADDED, STATE_CHANGED to SUSPENDED, STATE_CHANGED to ACTIVE.
    eventually("three notifications", || sink.count("watcher") == 3).await;
    let changes: Vec<(Value, Value)> = sink
        .got("watcher")
        .iter()
        .map(|n| {
            let r = &n["serviceReferences"][0];
            (r["changeType"].clone(), r["state"].clone())
        })
        .collect();
    assert_eq!(
        changes,
        [
            (json!("ADDED"), json!("ACTIVE")),
            (json!("STATE_CHANGED"), json!("SUSPENDED")),
            (json!("STATE_CHANGED"), json!("ACTIVE"))
        ]
    );
    // An INACTIVE service takes no heartbeats; one without an interval has no liveness.
    let plain = h.register(APP, service("plain", "P")).await;
    let none = h
        .call(
            "GET",
            &format!("{SM}/applications/{APP}/services/{plain}/liveness"),
            None,
        )
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

async fn failing_receivers_are_retried_and_never_delay_others(backend: Backend) {
    let h = Harness::on(&backend).await;
    let sink = Sink::start().await;
    sink.fail_first("flaky", 2);
    let subscribe = |app: &str, url: String| {
        let app = app.to_owned();
        let h = &h;
        async move {
            let r = h
                .call(
                    "POST",
                    &format!("{SM}/applications/{app}/subscriptions"),
                    Some(
                        json!({"subscriptionType": "SerAvailabilityNotificationSubscription",
                                "callbackReference": url}),
                    ),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED);
        }
    };
    subscribe(APP, sink.url("flaky")).await;
    // A callback nobody listens on: its retries wait on the clock, which this part of the test does not move.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        drop(l);
        format!("http://{a}/dead")
    };
    subscribe(OTHER, dead).await;
    subscribe(OTHER, sink.url("healthy")).await;
    h.register(APP, service("news", "N")).await;
    // The healthy subscriber is served while the dead one waits for its retry.
    eventually("the healthy subscriber is notified", || {
        sink.count("healthy") == 1
    })
    .await;
    assert_eq!(sink.count("flaky"), 0);
    // Moving the clock drives the retries: the flaky one gets it on the third attempt; the dead one is given up.
    eventually_advancing(
        "the flaky subscriber is notified",
        &h.clock,
        Duration::from_secs(1),
        || sink.count("flaky") == 1,
    )
    .await;
    eventually_advancing(
        "the dead subscriber is given up",
        &h.clock,
        Duration::from_secs(1),
        || h.engine.delivery_stats().failed == 1,
    )
    .await;
    // The sink counts a notification before the engine records the answer: wait for the record.
    eventually("both deliveries recorded", || {
        h.engine.delivery_stats().delivered == 2
    })
    .await;
    let stats = h.engine.delivery_stats();
    assert!(stats.retries >= 4, "{stats:?}");
    let failed: Vec<_> = h
        .engine
        .recent_deliveries()
        .into_iter()
        .filter(|r| matches!(r.outcome, DeliveryOutcome::Failed { .. }))
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 3);
    assert!(failed[0].callback.ends_with("/dead"));
}

/// One app's subscriptions whose callbacks hang take only that app's delivery slots: another app's subscriber
/// is served meanwhile.
async fn one_apps_hanging_callbacks_never_starve_another_app(backend: Backend) {
    let mut config = test_config();
    config.max_subscriptions_per_app = 40;
    config.delivery.per_app_concurrency = 4;
    let h = Harness::with(&backend, mec_core::ManualClock::starting_now(), config).await;
    // Callbacks that accept the connection and never answer.
    let hang = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hang_addr = hang.local_addr().unwrap();
    let held = Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((c, _)) = hang.accept().await {
            keep.lock().unwrap().push(c);
        }
    });
    for i in 0..30 {
        let r = h
            .call(
                "POST",
                &format!("{SM}/applications/{APP}/subscriptions"),
                Some(
                    json!({"subscriptionType": "SerAvailabilityNotificationSubscription",
                            "callbackReference": format!("http://{hang_addr}/hang/{i}")}),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let sink = Sink::start().await;
    h.call(
        "POST",
        &format!("{SM}/applications/{OTHER}/subscriptions"),
        Some(
            json!({"subscriptionType": "SerAvailabilityNotificationSubscription",
                    "callbackReference": sink.url("other")}),
        ),
    )
    .await;
    h.register(APP, service("busy", "B")).await;
    eventually("the other app is notified", || sink.count("other") == 1).await;
    eventually("its delivery recorded", || {
        h.engine.delivery_stats().delivered == 1
    })
    .await;
    // The hanging ones are still in flight (at most the app's slots), none given up yet.
    let stats = h.engine.delivery_stats();
    assert_eq!((stats.delivered, stats.failed), (1, 0), "{stats:?}");
    assert!(
        held.lock().unwrap().len() <= 4,
        "at most the app's slots are in use"
    );
}

async fn traffic_rules_through_mp1(backend: Backend) {
    let h = Harness::on(&backend).await;
    h.engine
        .set_traffic_rule(
            APP,
            serde_json::from_value(json!({"trafficRuleId": "t1", "filterType": "FLOW", "priority": 1,
                "trafficFilter": [{"srcAddress": ["192.0.2.0/24"]}], "action": "DROP", "state": "ACTIVE"}))
            .unwrap(),
        )
        .await
        .unwrap();
    let path = format!("{AS}/applications/{APP}/traffic_rules/t1");
    let got = h.call("GET", &path, None).await;
    assert_eq!(got.status, StatusCode::OK);
    let etag = got.headers["etag"].to_str().unwrap().to_owned();
    let mut body = got.body.clone();
    body["state"] = json!("INACTIVE");
    let stale = call_with(
        &h.mp1,
        "PUT",
        &path,
        Some(body.clone()),
        &[("if-match", "\"nope\"")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let put = call_with(
        &h.mp1,
        "PUT",
        &path,
        Some(body),
        &[("if-match", etag.as_str())],
    )
    .await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(
        h.engine.traffic_rules(APP)[0].state,
        mec_mp1::model::RuleState::Inactive
    );
    let list = h
        .call(
            "GET",
            &format!("{AS}/applications/{APP}/traffic_rules"),
            None,
        )
        .await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(
        h.call(
            "GET",
            &format!("{AS}/applications/{APP}/traffic_rules/t2"),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

async fn subscriptions_have_limits_and_are_per_app(backend: Backend) {
    let mut config = test_config();
    config.max_subscriptions_per_app = 2;
    let h = Harness::with(&backend, mec_core::ManualClock::starting_now(), config).await;
    let body = json!({"subscriptionType": "SerAvailabilityNotificationSubscription",
                      "callbackReference": "http://127.0.0.1:9/cb"});
    let path = format!("{SM}/applications/{APP}/subscriptions");
    let first = h.call("POST", &path, Some(body.clone())).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(
        h.call("POST", &path, Some(body.clone())).await.status,
        StatusCode::CREATED
    );
    let third = h.call("POST", &path, Some(body.clone())).await;
    assert_eq!(third.status, StatusCode::FORBIDDEN);
    assert_eq!(third.headers["content-type"], "application/problem+json");
    // The other app's allowance is its own; termination subscriptions count apart.
    assert_eq!(
        h.call(
            "POST",
            &format!("{SM}/applications/{OTHER}/subscriptions"),
            Some(body)
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let list = h.call("GET", &path, None).await;
    assert_eq!(
        list.body["_links"]["subscriptions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let href = first.headers["location"].to_str().unwrap();
    let sub_id = href.rsplit('/').next().unwrap();
    assert_eq!(
        h.call("DELETE", &format!("{path}/{sub_id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        h.call("GET", &format!("{path}/{sub_id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn mm5_configuration_reaches_mp1_and_termination_completes(backend: Backend) {
    let h = Harness::on(&backend).await;
    let config = json!({"appName": "faces", "appSupportMp1": true,
        "appTrafficRule": [{"trafficRuleId": "tr1", "filterType": "FLOW", "priority": 1, "action": "DROP",
                            "trafficFilter": [{"srcAddress": ["192.0.2.0/24"]}]}],
        "appDNSRule": [{"dnsRuleId": "d1", "domainName": "faces.example.com", "ipAddressType": "IP_V4",
                        "ipAddress": "192.0.2.10", "ttl": 30}]});
    let cfg = format!("/mepcfg/app_lcm/v1/applications/{APP}/appd_configuration");
    let created = h.mm5("POST", &cfg, Some(config.clone())).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.body["appInstanceId"], APP);
    let task = created.body["taskId"].as_str().unwrap().to_owned();
    let done = h
        .mm5(
            "GET",
            &format!("/mepcfg/app_lcm/v1/tasks/{task}/appd_configuration"),
            None,
        )
        .await;
    assert_eq!(done.body["configResult"], "SUCCESS");
    assert_eq!(
        h.mm5("POST", &cfg, Some(config.clone())).await.status,
        StatusCode::BAD_REQUEST
    );
    let rules = h
        .call(
            "GET",
            &format!("{AS}/applications/{APP}/traffic_rules"),
            None,
        )
        .await;
    assert_eq!(rules.body[0]["trafficRuleId"], "tr1");
    // Another app may not take the domain.
    let mut theirs = config.clone();
    theirs["appName"] = json!("other");
    let clash = h
        .mm5(
            "POST",
            &format!("/mepcfg/app_lcm/v1/applications/{OTHER}/appd_configuration"),
            Some(theirs),
        )
        .await;
    assert_eq!(clash.status, StatusCode::BAD_REQUEST);
    // PUT replaces the rule set; GET shows it.
    let mut fewer = config.clone();
    fewer["appTrafficRule"] = json!([]);
    assert_eq!(h.mm5("PUT", &cfg, Some(fewer)).await.status, StatusCode::OK);
    let now = h.mm5("GET", &cfg, None).await;
    assert_eq!(now.body["appTrafficRule"], json!([]));
    assert_eq!(now.body["appDNSRule"][0]["dnsRuleId"], "d1");
    // Capabilities list the services, with the consumers that subscribed to them.
    let id = h.register(OTHER, service("cap", "C")).await;
    h.call(
        "POST",
        &format!("{SM}/applications/{APP}/subscriptions"),
        Some(json!({"subscriptionType": "SerAvailabilityNotificationSubscription",
                    "callbackReference": "http://127.0.0.1:9/cb", "filteringCriteria": {"serNames": ["cap"]}})),
    )
    .await;
    let cap = h
        .mm5(
            "GET",
            &format!("/mepcfg/mec_platform_config/v1/capabilities/{id}"),
            None,
        )
        .await;
    assert_eq!(cap.body["consumers"][0]["applicationInstanceId"], APP);

    // Termination with a subscriber: notified, then completed by its confirmation.
    let sink = Sink::start().await;
    let sub = h
        .call(
            "POST",
            &format!("{AS}/applications/{OTHER}/subscriptions"),
            Some(
                json!({"subscriptionType": "AppTerminationNotificationSubscription",
                        "callbackReference": sink.url("term"), "appInstanceId": OTHER}),
            ),
        )
        .await;
    assert_eq!(sub.status, StatusCode::CREATED);
    let term = h
        .mm5(
            "DELETE",
            &format!("/mep/mec_app_support/v1/applications/{OTHER}/AppInstanceTermination"),
            None,
        )
        .await;
    assert_eq!(term.status, StatusCode::OK);
    assert_eq!(h.engine.app_state(OTHER), Some(AppState::Terminating));
    eventually("the termination notification", || sink.count("term") == 1).await;
    let n = &sink.got("term")[0];
    assert_eq!(n["notificationType"], "AppTerminationNotification");
    assert_eq!(
        n["_links"]["confirmTermination"]["href"],
        format!("http://mep.test/mec_app_support/v1/applications/{OTHER}/confirm_termination")
    );
    let confirm = h
        .call(
            "POST",
            &format!("{AS}/applications/{OTHER}/confirm_termination"),
            Some(json!({"operationAction": "TERMINATING"})),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::NO_CONTENT);
    assert_eq!(h.engine.app_state(OTHER), Some(AppState::Terminated));
    assert!(
        h.engine
            .services()
            .iter()
            .all(|s| s.ser_instance_id.as_deref() != Some(id.as_str()))
    );
    assert_eq!(
        h.engine.access_keys(OTHER),
        Vec::<String>::new(),
        "its credentials are revoked"
    );

    // Without a confirmation, the termination completes at the deadline, on the clock.
    let sub = h
        .call(
            "POST",
            &format!("{AS}/applications/{APP}/subscriptions"),
            Some(
                json!({"subscriptionType": "AppTerminationNotificationSubscription",
                        "callbackReference": sink.url("term2"), "appInstanceId": APP}),
            ),
        )
        .await;
    assert_eq!(sub.status, StatusCode::CREATED);
    assert_eq!(
        h.engine.terminate(APP).await.unwrap(),
        AppState::Terminating
    );
    h.advance(Duration::from_secs(5)).await;
    assert_eq!(h.engine.app_state(APP), Some(AppState::Terminating));
    h.advance(Duration::from_secs(6)).await;
    assert_eq!(h.engine.app_state(APP), Some(AppState::Terminated));
    assert_eq!(h.engine.dns_rules(APP), []);
    let late = h
        .call("GET", &format!("{AS}/applications/{APP}/dns_rules"), None)
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
}

async fn registrations_and_readiness(backend: Backend) {
    let h = Harness::on(&backend).await;
    let ready = h
        .call(
            "POST",
            &format!("{AS}/applications/{APP}/confirm_ready"),
            Some(json!({"indication": "READY"})),
        )
        .await;
    assert_eq!(ready.status, StatusCode::NO_CONTENT);
    assert_eq!(h.engine.app_state(APP), Some(AppState::Ready));
    let v2 = "/mec_app_support/v2";
    let reg = h
        .call(
            "POST",
            &format!("{v2}/registrations"),
            Some(json!({"appName": "x", "appDId": "d1", "appInstanceId": "fresh-app", "isInsByMec": true})),
        )
        .await;
    assert_eq!(reg.status, StatusCode::CREATED, "{}", reg.body);
    let again = h
        .call(
            "POST",
            &format!("{v2}/registrations"),
            Some(json!({"appName": "x", "appDId": "d1", "appInstanceId": "fresh-app", "isInsByMec": true})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        h.call("GET", &format!("{v2}/registrations/fresh-app"), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        h.call("DELETE", &format!("{v2}/registrations/fresh-app"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let time = h
        .call("GET", &format!("{AS}/timing/current_time"), None)
        .await;
    let now = mec_core::TimeStamp::from(h.clock.now());
    assert_eq!(time.body["seconds"], now.seconds);
}

/// The state survives the engine; events written but not delivered are delivered by the next engine.
async fn state_and_pending_notifications_survive_a_restart(backend: Backend) {
    let sink = Sink::start().await;
    let clock = mec_core::ManualClock::starting_now();
    let (service_id, sub_id) = {
        let h = Harness::with(&backend, clock.clone(), test_config()).await;
        sink.fail_first("later", 1);
        let sub = h
            .call(
                "POST",
                &format!("{SM}/applications/{OTHER}/subscriptions"),
                Some(
                    json!({"subscriptionType": "SerAvailabilityNotificationSubscription",
                            "callbackReference": sink.url("later")}),
                ),
            )
            .await;
        let sub_id = sub.headers["location"]
            .to_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let id = h.register(APP, service("durable", "D")).await;
        // The first attempt fails; its retry waits on the clock, which does not move: the engine goes away with
        // the notification pending.
        eventually("the first attempt", || {
            sink.attempts.lock().unwrap().get("later").copied() == Some(1)
        })
        .await;
        h.engine.shutdown();
        (id, sub_id)
    };
    let h = Harness::with(&backend, clock.clone(), test_config()).await;
    assert!(
        h.engine
            .services()
            .iter()
            .any(|s| s.ser_instance_id.as_deref() == Some(service_id.as_str()))
    );
    assert_eq!(
        h.call(
            "GET",
            &format!("{SM}/applications/{OTHER}/subscriptions/{sub_id}"),
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    eventually("the pending notification is delivered", || {
        sink.count("later") == 1
    })
    .await;
    assert_eq!(
        sink.got("later")[0]["serviceReferences"][0]["serInstanceId"],
        service_id.as_str()
    );
}

async fn undecodable_records_are_listed_not_dropped_silently(backend: Backend) {
    let broken = format!("{}services/broken", backend.prefix());
    backend
        .open()
        .await
        .commit(mec_mep::store::Txn::new().put(broken.clone(), "{not json"))
        .await
        .unwrap();
    let h = Harness::on(&backend).await;
    let bad = h.engine.undecodable_records();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].0, broken);
    assert_eq!(
        h.call("GET", &format!("{SM}/services"), None).await.body,
        json!([])
    );
}

async fn seeding_twice_changes_nothing(backend: Backend) {
    let h = Harness::on(&backend).await;
    let mut seed = mec_mep::Seed::new().with_apps(vec![
        mec_mep::AppInstance::new(APP).with_service(
            serde_json::from_value(
                json!({"serName": "seeded", "version": "1", "state": "ACTIVE",
                "serializer": "JSON", "transportInfo": {"id": "t", "name": "n", "type": "REST_HTTP",
                "protocol": "HTTP", "version": "1", "endpoint": {"uris": ["http://x"]}}}),
            )
            .unwrap(),
        ),
    ]);
    seed.apply(&h.engine).await.unwrap();
    seed.apply(&h.engine).await.unwrap();
    assert_eq!(h.engine.services().len(), 1);
}

/// `Engine::clear` (what `mock-mep`'s reset runs): everything goes from the store and the engine's view, a worker
/// waiting to retry is stopped, the counters start again, and the engine serves a seed applied afterwards
/// (event numbering starts again, new subscribers are served).
async fn clear_returns_to_nothing_and_serves_again(backend: Backend) {
    let h = Harness::on(&backend).await;
    let sink = Sink::start().await;
    sink.fail_first("before", 100);
    let subscribe = |path: &'static str| {
        let h = &h;
        let url = sink.url(path);
        async move {
            let r = h
                .call(
                    "POST",
                    &format!("{SM}/applications/{APP}/subscriptions"),
                    Some(
                        json!({"subscriptionType": "SerAvailabilityNotificationSubscription",
                                "callbackReference": url}),
                    ),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
    };
    subscribe("before").await;
    h.register(APP, service("old", "O")).await;
    let rule: mec_mp1::model::DnsRule = serde_json::from_value(json!({"dnsRuleId": "d1",
        "domainName": "old.example", "ipAddressType": "IP_V4", "ipAddress": "192.0.2.9", "state": "ACTIVE"}))
    .unwrap();
    h.engine.set_dns_rule(APP, rule).await.unwrap();
    assert_eq!(h.engine.dns_rules(APP).len(), 1);
    // The first attempt fails; the retry waits on the clock.
    let attempts = || {
        sink.attempts
            .lock()
            .unwrap()
            .get("before")
            .copied()
            .unwrap_or(0)
    };
    eventually("the first attempt", || attempts() >= 1).await;
    assert!(h.engine.delivery_stats().subscriptions > 0);

    h.engine.clear().await.unwrap();
    assert!(h.engine.apps().is_empty());
    assert!(h.engine.services().is_empty());
    assert!(h.engine.subscriptions(APP).is_empty());
    assert!(h.engine.dns_rules(APP).is_empty());
    assert!(h.engine.transports().is_empty());
    assert!(h.engine.recent_deliveries().is_empty());
    let stats = h.engine.delivery_stats();
    assert_eq!(
        (stats.subscriptions, stats.pending_events, stats.failed),
        (0, 0, 0)
    );
    let (left, _) = h.engine.store().list(&backend.prefix()).await.unwrap();
    assert!(
        left.iter().all(|e| e.key.ends_with("meta/leader")),
        "left in the store: {:?}",
        left.iter().map(|e| &e.key).collect::<Vec<_>>()
    );
    // The stopped worker never retries, however far the clock goes.
    let tried = attempts();
    h.advance(Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(attempts(), tried);
    let gone = h
        .call("GET", &format!("{SM}/applications/{APP}/services"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.body);

    // A seed applied afterwards is served as on a fresh store.
    let mut seed = mec_mep::Seed::new().with_apps(vec![mec_mep::AppInstance::new(APP)]);
    seed.apply(&h.engine).await.unwrap();
    subscribe("after").await;
    h.register(APP, service("new", "N")).await;
    eventually("the new subscriber is notified", || {
        sink.count("after") == 1
    })
    .await;
    assert_eq!(
        sink.got("after")[0]["serviceReferences"][0]["serName"],
        "new"
    );
    assert_eq!(h.engine.services().len(), 1);
    // The worker counts a delivery once the receiver has answered: a moment after the receiver has it.
    eventually("the delivery is counted once, from zero", || {
        h.engine.delivery_stats().delivered == 1
    })
    .await;
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod memory {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(Backend::memory()).await;
                }
            )*
        }
        mod file {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(Backend::file()).await;
                }
            )*
        }
        mod etcd {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    // A real etcd; skipped with the reason printed when there is none.
                    let Some(backend) = Backend::etcd().await else { return };
                    super::$name(backend).await;
                }
            )*
        }
    };
}

suite!(
    registry_and_discovery,
    if_match_races_have_one_winner,
    liveness_sweep_suspends_and_heartbeats_revive,
    failing_receivers_are_retried_and_never_delay_others,
    subscriptions_have_limits_and_are_per_app,
    one_apps_hanging_callbacks_never_starve_another_app,
    traffic_rules_through_mp1,
    mm5_configuration_reaches_mp1_and_termination_completes,
    registrations_and_readiness,
    undecodable_records_are_listed_not_dropped_silently,
    seeding_twice_changes_nothing,
    clear_returns_to_nothing_and_serves_again,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_state_and_pending_notifications_survive_a_restart() {
    state_and_pending_notifications_survive_a_restart(Backend::file()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_state_and_pending_notifications_survive_a_restart() {
    let Some(backend) = Backend::etcd().await else {
        return;
    };
    state_and_pending_notifications_survive_a_restart(backend).await;
}
