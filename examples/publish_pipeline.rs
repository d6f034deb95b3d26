//! A publishing pipeline, as a CI job runs it: build a package with `mec-csar`, validate it, upload it to the
//! AppStore, ask for its test, wait for the result, publish it.
//!
//! ```text
//! cargo run -p mec-examples --example publish_pipeline        # against a mock AppStore started here
//! MEC_APPSTORE_URL=http://appstore-be:8099 MEC_APPSTORE_TOKEN=... \
//!   cargo run -p mec-examples --example publish_pipeline
//! ```

use mec_appstore_client::{AppType, Client, PackageStatus, UploadForm};
use mec_csar::{Limits, PackageBuilder, validate_path};
use mec_testkit::MockAppStore;
use std::time::Duration;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() -> Result<()> {
    let work = std::env::temp_dir().join(format!("publish-pipeline-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;

    // 1. Build the package: metadata, the app descriptor, a Helm chart made from plain Kubernetes YAML.
    let chart = mec_csar::helm_chart_from_yaml(
        &[mec_csar::KubernetesFile::new(
            "deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: snake\nspec:\n  template:\n    spec:\n      containers:\n        - name: snake\n          image: docker.io/library/snake:1.0\n",
        )],
        &mec_csar::ChartOptions::new("snake", "1.0.0").with_rewrite_images(true),
    )?;
    let package = work.join("snake.csar");
    PackageBuilder::new("snake")
        .metadata("app_product_name", "snake")
        .metadata("app_provider_id", "acme")
        .metadata("app_package_version", "1.0")
        .metadata("app_release_data_time", "2026-11-24 12:00")
        .metadata("app_class", "container")
        .metadata("app_package_description", "a game at the edge")
        .file(
            "APPD/snake.yaml",
            "tosca_definitions_version: tosca_simple_yaml_1_2\n",
        )
        .file("Artifacts/Deployment/Charts/snake.tgz", chart)
        .entry_definitions("APPD/snake.yaml")
        .write(std::fs::File::create(&package)?)?;
    println!("built {}", package.display());

    // 2. Validate it before anything leaves the machine.
    let report = validate_path(&package, &Limits::default());
    println!("{report}");
    if !report.is_valid() {
        return Err("the package is invalid".into());
    }

    // 3. Upload it, with an icon.
    let mock;
    let store = match (
        std::env::var("MEC_APPSTORE_URL"),
        std::env::var("MEC_APPSTORE_TOKEN"),
    ) {
        (Ok(url), Ok(token)) => Client::builder(url).access_token(token).build()?,
        _ => {
            mock = MockAppStore::start().await;
            println!(
                "no MEC_APPSTORE_URL given: using a mock AppStore at {}",
                mock.url()
            );
            Client::builder(mock.url())
                .access_token(mock.token())
                .build()?
        }
    };
    let icon = work.join("icon.png");
    std::fs::write(&icon, b"\x89PNG demo icon")?;
    let registered = store
        .upload(
            &UploadForm::new(&package, icon).app_type(AppType::Game),
            |done, total| println!("uploaded {done} of {total} bytes"),
        )
        .await?;
    println!(
        "registered app {} package {}",
        registered.app_id, registered.package_id
    );

    // 4. Test it and wait for the verdict.
    store
        .app(&registered.app_id)
        .packages()
        .package(&registered.package_id)
        .test()
        .await?;
    let tested = store
        .app(&registered.app_id)
        .packages()
        .package(&registered.package_id)
        .wait_for_test(Duration::from_secs(2), Duration::from_secs(600))
        .await?;
    if tested.status != Some(PackageStatus::TestSuccess) {
        return Err(format!("the test ended {:?}", tested.status).into());
    }

    // 5. Publish it.
    store
        .app(&registered.app_id)
        .packages()
        .package(&registered.package_id)
        .publish(None)
        .await?;
    println!("published {} {}", registered.app_name, registered.version);
    std::fs::remove_dir_all(&work)?;
    Ok(())
}
