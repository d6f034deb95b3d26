//! An edge app's life over Mp1: it gets a token with its AK/SK, registers its service, discovers another one,
//! subscribes to availability notifications, confirms it is ready, and handles its termination.
//!
//! ```text
//! cargo run -p mec-examples --example edge_app                       # against a mock MEP started here
//! MEP_URL=https://mep:8443/mep APP_INSTANCE_ID=... AK=... SK=... cargo run -p mec-examples --example edge_app
//! ```

use mec_core::signature::Credentials;
use mec_mp1::client::{Client, ServiceQuery};
use mec_mp1::model::{
    AppTerminationNotificationSubscription, CategoryRef, EndPointInfo, FilteringCriteria,
    Notification, OperationAction, SerAvailabilityNotificationSubscription, SerializerType,
    ServiceInfo, ServiceState, TransportInfo, TransportType,
};
use mec_mp1::receiver::NotificationReceiver;
use mec_testkit::{AppInstance, MockMep};
use std::time::Duration;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() -> Result<()> {
    // Where the MEP is and who we are: from the environment, or a mock MEP for a dry run.
    let mut mock = None;
    let (mep_url, app_id, credentials) = match (
        std::env::var("MEP_URL"),
        std::env::var("APP_INSTANCE_ID"),
        std::env::var("AK"),
        std::env::var("SK"),
    ) {
        (Ok(url), Ok(id), Ok(ak), Ok(sk)) => (url, id, Credentials::new(ak, sk)),
        _ => {
            let m = MockMep::builder()
                .app(AppInstance::new("5abe4782-2c70-4e47-9a4e-0ee3a1a0fd1f"))
                .app(AppInstance::new("b0b0b0b0-0000-4000-8000-000000000001"))
                .max_graceful_timeout(5)
                .start()
                .await?;
            // Another app offers a location service on this MEP.
            let (other_id, other_creds) = m.apps().remove(1);
            Client::builder(m.mep_url())
                .aksk(other_creds)
                .build()?
                .app(&other_id)
                .services()
                .register(&service(
                    "location",
                    "LOC",
                    "http://10.0.0.7:8080/location/v2",
                ))
                .await?;
            let (id, creds) = m.app();
            println!("no MEP_URL given: using a mock MEP at {}", m.mep_url());
            let url = m.mep_url();
            mock = Some(m);
            (url, id, creds)
        }
    };

    // 1. A client that fetches (and renews) its token with the AK/SK on first use.
    let client = Client::builder(&mep_url).aksk(credentials).build()?;
    let app = client.app(&app_id);

    // 2. A notification endpoint for the MEP's callbacks.
    let (receiver, mut notifications) = NotificationReceiver::bind("127.0.0.1:0".parse()?).await?;
    let callback = receiver.url().to_string();
    println!("notifications arrive at {callback}");

    // 3. Register our own service.
    let ours = app
        .services()
        .register(&service(
            "face-recognition",
            "AI",
            "http://10.0.0.9:9000/faces/v1",
        ))
        .await?;
    println!(
        "registered {} at {}",
        ours.resource.ser_name,
        ours.location.unwrap_or_default()
    );

    // 4. Discover the location service.
    for s in client
        .services()
        .list(&ServiceQuery::new().ser_name("location"))
        .await?
    {
        println!(
            "discovered {} ({:?}): {:?}",
            s.ser_name,
            s.state,
            s.transport_info.map(|t| t.endpoint)
        );
    }

    // 5. Hear about location services coming and going, and about our own termination.
    let availability = SerAvailabilityNotificationSubscription::new(callback.clone())
        .with_filtering_criteria(
            FilteringCriteria::new().with_ser_names(vec!["location".to_owned()]),
        );
    app.service_subscriptions().create(&availability).await?;
    app.termination_subscriptions()
        .create(&AppTerminationNotificationSubscription::new(
            callback,
            app_id.clone(),
        ))
        .await?;

    // 6. Ready.
    app.confirm_ready().await?;
    println!("confirmed ready");

    // With the mock, ask it to terminate us now; a real MEP does so when the app is undeployed.
    if let Some(m) = &mock {
        m.terminate(&app_id).await?;
    }

    // 7. Handle notifications until we are told to terminate, then confirm.
    while let Some(received) =
        tokio::time::timeout(Duration::from_secs(30), notifications.recv()).await?
    {
        match received.notification {
            Notification::ServiceAvailability(n) => {
                for r in n.service_references {
                    println!(
                        "service {} is now {:?} ({:?})",
                        r.ser_name, r.state, r.change_type
                    );
                }
            }
            Notification::AppTermination(n) => {
                println!(
                    "terminating within {} s: cleaning up",
                    n.max_graceful_timeout
                );
                app.confirm_termination(OperationAction::Terminating)
                    .await?;
                println!("termination confirmed; bye");
                break;
            }
            other => println!("unexpected notification {other:?}"),
        }
    }
    Ok(())
}

fn service(name: &str, category: &str, uri: &str) -> ServiceInfo {
    ServiceInfo::new(
        name.to_owned(),
        "1.0".to_owned(),
        ServiceState::Active,
        SerializerType::Json,
    )
    .with_category(CategoryRef::new(
        format!("/catalogue/{category}"),
        category,
        category,
        "v1",
    ))
    .with_transport(TransportInfo::new(
        "rest",
        "REST",
        TransportType::RestHttp,
        "HTTP",
        "2.0",
        EndPointInfo::Uris(vec![uri.to_owned()]),
    ))
}
