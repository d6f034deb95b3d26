//! The AppStore's bodies (appstore-be `interfaces/app/facade/dto`, shared/reference/csar-appstore.md §3), with
//! status values as enums that keep unknown values.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! open_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A value this SDK does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($wire => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Self::from(String::deserialize(d)?.as_str()))
            }
        }
    };
}

open_enum! {
    /// A package's status (appstore-be `EnumPackageStatus`).
    PackageStatus {
        /// Uploaded, not tested.
        Upload = "Upload",
        /// A test task was created.
        TestCreated = "Test_created",
        /// Creating the test task failed.
        TestCreateFailed = "Test_create_failed",
        /// The test is running.
        TestRunning = "Test_running",
        /// The test waits for a tester.
        TestWaiting = "Test_waiting",
        /// The test failed.
        TestFailed = "Test_failed",
        /// The test passed; the package may be published.
        TestSuccess = "Test_success",
        /// Published.
        Published = "Published",
        /// Unpublished.
        Unpublished = "Unpublished",
    }
}

impl PackageStatus {
    /// Whether the test is still under way (the AppStore refreshes it from the test platform on every read).
    pub fn is_testing(&self) -> bool {
        matches!(
            self,
            Self::TestCreated | Self::TestRunning | Self::TestWaiting
        )
    }
}

open_enum! {
    /// An app's status.
    AppStatus {
        /// Published.
        Published = "Published",
        /// Not published.
        UnPublish = "UnPublish",
    }
}

/// An app (`AppDto`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    /// App id (32 hex).
    pub app_id: String,
    /// The latest package's id.
    #[serde(default)]
    pub package_id: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Provider.
    #[serde(default)]
    pub provider: String,
    /// Type (`Video Application`, `Game`, ...).
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
    /// Short description.
    #[serde(default)]
    pub short_desc: Option<String>,
    /// Visibility (`public`, `inner-public`, `private`).
    #[serde(default)]
    pub show_type: Option<String>,
    /// Creation time as sent.
    #[serde(default)]
    pub create_time: Option<serde_json::Value>,
    /// Details (markdown).
    #[serde(default)]
    pub details: Option<String>,
    /// Downloads.
    #[serde(default)]
    pub download_count: Option<u64>,
    /// CPU architecture (`X86`, `ARM64`, `ARM32`).
    #[serde(default)]
    pub affinity: Option<String>,
    /// Industry.
    #[serde(default)]
    pub industry: Option<String>,
    /// Contact.
    #[serde(default)]
    pub contact: Option<String>,
    /// Average score.
    #[serde(default)]
    pub score: Option<f64>,
    /// Owner's user id.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Owner's user name.
    #[serde(default)]
    pub user_name: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: Option<AppStatus>,
    /// `container` or `vm`.
    #[serde(default)]
    pub deploy_mode: Option<String>,
    /// Whether it is free.
    #[serde(default)]
    pub free: Option<bool>,
    /// Price.
    #[serde(default)]
    pub price: Option<f64>,
}

/// A package of an app (`PackageDto`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppPackage {
    /// Package id (32 hex).
    pub package_id: String,
    /// The app's id.
    #[serde(default)]
    pub app_id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Version.
    #[serde(default)]
    pub version: String,
    /// Provider.
    #[serde(default)]
    pub provider: Option<String>,
    /// Size as sent (bytes, as a string or a number).
    #[serde(default)]
    pub size: Option<serde_json::Value>,
    /// Status.
    #[serde(default)]
    pub status: Option<PackageStatus>,
    /// The test platform's task id.
    #[serde(default)]
    pub test_task_id: Option<String>,
    /// Short description.
    #[serde(default)]
    pub short_desc: Option<String>,
    /// `container` or `vm`.
    #[serde(default)]
    pub deploy_mode: Option<String>,
    /// Owner's user id.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Creation time as sent (an ISO string or epoch milliseconds).
    #[serde(default)]
    pub create_time: Option<serde_json::Value>,
}

/// A page of results (v2 `Page`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The results.
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
    /// Page size asked for.
    #[serde(default)]
    pub limit: u64,
    /// Offset asked for.
    #[serde(default)]
    pub offset: u64,
    /// Results in all.
    #[serde(default)]
    pub total: u64,
}

/// The paging, sorting and filters of `POST /v2/apps/action/query`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppQuery {
    /// App types.
    pub types: Vec<String>,
    /// Visibilities.
    pub show_type: Vec<String>,
    /// Architectures.
    pub affinity: Vec<String>,
    /// Industries.
    pub industry: Vec<String>,
    /// Workload types (`container`, `vm`).
    pub workload_type: Vec<String>,
    /// Only this user's apps ("" for all).
    pub user_id: String,
    /// Paging, sorting and name.
    pub query_ctrl: QueryCtrl,
}

/// Paging and sorting (`queryCtrl`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryCtrl {
    /// First result.
    pub offset: u64,
    /// Results per page (1..=500).
    pub limit: u64,
    /// Sort key (`createTime`, `downloadCount`, `score`, `name`).
    pub sort_item: String,
    /// `ASC` or `DESC`.
    pub sort_type: String,
    /// Name filter.
    pub app_name: String,
    /// Status filter.
    pub status: Vec<String>,
}

impl Default for AppQuery {
    fn default() -> Self {
        Self {
            types: Vec::new(),
            show_type: Vec::new(),
            affinity: Vec::new(),
            industry: Vec::new(),
            workload_type: Vec::new(),
            user_id: String::new(),
            query_ctrl: QueryCtrl {
                offset: 0,
                limit: 20,
                sort_item: "createTime".to_owned(),
                sort_type: "DESC".to_owned(),
                app_name: String::new(),
                status: vec!["Published".to_owned()],
            },
        }
    }
}

/// The answer to a test request (`AtpTestDto`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestTask {
    /// The test platform's task id.
    pub atp_task_id: String,
    /// Its status.
    #[serde(default)]
    pub status: Option<String>,
}

/// A comment on an app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    /// Comment id.
    #[serde(default)]
    pub comment_id: Option<serde_json::Value>,
    /// Text.
    pub body: String,
    /// Score, 0 to 5.
    #[serde(default)]
    pub score: Option<f64>,
    /// When it was made, as sent.
    #[serde(default)]
    pub comment_time: Option<serde_json::Value>,
    /// Who made it, as sent.
    #[serde(default)]
    pub user: Option<serde_json::Value>,
}

/// The answer to a registration (`RegisterRespDto`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    /// The app's id.
    pub app_id: String,
    /// The new package's id.
    pub package_id: String,
    /// The app's name (from the manifest).
    #[serde(default)]
    pub app_name: String,
    /// Its provider.
    #[serde(default)]
    pub provider: String,
    /// Its version.
    #[serde(default)]
    pub version: String,
}

/// What is uploaded with a package: its icon and how the store lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadForm {
    /// The package file (`.csar` or `.zip`).
    pub package: std::path::PathBuf,
    /// The icon (jpg, png or bmp, at most 10 MiB).
    pub icon: std::path::PathBuf,
    /// The app type (`Video Application`, `Game`, `Internet of Things`, ...).
    pub app_type: String,
    /// The architecture: `X86`, `ARM64` or `ARM32`.
    pub affinity: String,
    /// The industry (`Smart City`, `Others`, ...).
    pub industry: String,
    /// The visibility: `public` (default), `inner-public` or `private`.
    pub show_type: String,
    /// The uploading user's id.
    pub user_id: String,
    /// The uploading user's name.
    pub user_name: String,
}

/// An external app store this one federates with (`AppStoreDto`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalStore {
    /// Its id.
    pub app_store_id: String,
    /// Its name.
    #[serde(default)]
    pub app_store_name: String,
    /// Its version.
    #[serde(default)]
    pub app_store_version: Option<String>,
    /// Its company.
    #[serde(default)]
    pub company: Option<String>,
    /// Its URL.
    #[serde(default)]
    pub url: Option<String>,
}

/// A package that can be pushed to, or pulled from, another store (`PushablePackageDto`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FederatedPackage {
    /// The package id.
    pub package_id: String,
    /// The app id.
    #[serde(default)]
    pub app_id: Option<String>,
    /// The app name.
    #[serde(default)]
    pub name: String,
    /// The provider.
    #[serde(default)]
    pub provider: Option<String>,
    /// The version.
    #[serde(default)]
    pub version: Option<String>,
    /// The test status on the source store.
    #[serde(default)]
    pub atp_test_status: Option<String>,
    /// Stores it was already pushed to.
    #[serde(default)]
    pub target_platform: Option<Vec<String>>,
    /// Everything else the store sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}
