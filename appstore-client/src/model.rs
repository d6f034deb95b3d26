//! The AppStore's bodies (appstore-be `interfaces/*/facade/dto`, shared/reference/csar-appstore.md §3), with
//! status and listing values as enums that keep unknown values.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::path::PathBuf;

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
            /// The values this SDK knows, in appstore-be's order.
            pub const KNOWN: &'static [Self] = &[$(Self::$variant),+];

            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(s) => s,
                }
            }

            /// Whether this is one of the values the AppStore knows (not [`Other`](Self::Other)).
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }

            /// Reads a value written by a person: the wire spelling in any case (`x86`, `inner-public`);
            /// anything else is kept as [`Other`](Self::Other).
            pub fn parse_lenient(s: &str) -> Self {
                Self::KNOWN
                    .iter()
                    .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
                    .cloned()
                    .unwrap_or_else(|| Self::Other(s.trim().to_owned()))
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
        /// Unpublished (taken off the shelf).
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
    /// An app's status (appstore-be `EnumAppStatus`): published while one of its packages is.
    AppStatus {
        /// Published.
        Published = "Published",
        /// Not published.
        UnPublish = "UnPublish",
    }
}

open_enum! {
    /// Who sees an app (appstore-be `AppParam`'s list).
    ShowType {
        /// Everyone.
        Public = "public",
        /// Users of this store, not federated stores.
        InnerPublic = "inner-public",
        /// Its owner only.
        Private = "private",
    }
}

open_enum! {
    /// The CPU architecture an app runs on (appstore-be `AppParam`'s list).
    Affinity {
        /// x86-64.
        X86 = "X86",
        /// 64-bit ARM.
        Arm64 = "ARM64",
        /// 32-bit ARM.
        Arm32 = "ARM32",
    }
}

open_enum! {
    /// An app's type (appstore-be `AppParam`'s list, legacy values included).
    AppType {
        /// Video application.
        VideoApplication = "Video Application",
        /// Safety.
        Safety = "Safety",
        /// Blockchain.
        Blockchain = "Blockchain",
        /// Internet of things.
        InternetOfThings = "Internet of Things",
        /// Big data.
        BigData = "Big Data",
        /// AR/VR.
        ArVr = "AR/VR",
        /// Game.
        Game = "Game",
        /// Others.
        Others = "Others",
        /// Legacy: video surveillance.
        VideoSurveillance = "Video Surveillance",
        /// Legacy: smart device.
        SmartDevice = "Smart Device",
        /// Legacy: API.
        Api = "API",
        /// Legacy: SDK.
        Sdk = "SDK",
        /// Legacy: MEP.
        Mep = "MEP",
        /// Legacy: `Other` (today `Others`).
        LegacyOther = "Other",
    }
}

open_enum! {
    /// An app's industry (appstore-be `AppParam`'s list, legacy values included).
    Industry {
        /// Smart city.
        SmartCity = "Smart City",
        /// Smart park.
        SmartPark = "Smart Park",
        /// Smart agriculture.
        SmartAgriculture = "Smart Agriculture",
        /// Industrial internet.
        IndustrialInternet = "Industrial Internet",
        /// Transportation and logistics.
        TransportationLogistics = "Transportation Logistics",
        /// Energy.
        Energy = "Energy",
        /// Finance.
        Finance = "Finance",
        /// Education.
        Education = "Education",
        /// Cultural tourism.
        CulturalTourism = "Cultural Tourism",
        /// Medical health.
        MedicalHealth = "Medical Health",
        /// Digital government.
        DigitalGovernment = "Digital Government",
        /// Ecosystem.
        Ecosystem = "Ecosystem",
        /// Game competition.
        GameCompetition = "Game Competition",
        /// Others.
        Others = "Others",
        /// Legacy: smart supermarket.
        SmartSupermarket = "Smart Supermarket",
        /// Legacy: industrial manufacturing.
        IndustrialManufacturing = "Industrial Manufacturing",
        /// Legacy: water conservancy.
        WaterConservancy = "Water Conservancy",
        /// Legacy: open source.
        OpenSource = "Open Source",
        /// Legacy: `Other` (today `Others`).
        LegacyOther = "Other",
    }
}

open_enum! {
    /// How an app is deployed (`deployMode`, the v2 query's `workloadType`).
    WorkloadType {
        /// Containers (a Helm chart).
        Container = "container",
        /// Virtual machines.
        Vm = "vm",
    }
}

/// Reads a number or a numeric string (appstore-be writes sizes as strings).
fn number_or_string(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An app (`AppDto`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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
    /// Type.
    #[serde(default, rename = "type")]
    pub type_: Option<AppType>,
    /// Short description.
    #[serde(default)]
    pub short_desc: Option<String>,
    /// Visibility.
    #[serde(default)]
    pub show_type: Option<ShowType>,
    /// Creation time as sent.
    #[serde(default)]
    pub create_time: Option<serde_json::Value>,
    /// Details (markdown).
    #[serde(default)]
    pub details: Option<String>,
    /// Downloads.
    #[serde(default)]
    pub download_count: Option<u64>,
    /// CPU architecture.
    #[serde(default)]
    pub affinity: Option<Affinity>,
    /// Industry.
    #[serde(default)]
    pub industry: Option<Industry>,
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
    pub deploy_mode: Option<WorkloadType>,
    /// Whether the store's admin marked it as a hot app.
    #[serde(default)]
    pub hot_app: Option<bool>,
    /// Whether it is free.
    #[serde(default)]
    pub free: Option<bool>,
    /// Price.
    #[serde(default)]
    pub price: Option<f64>,
    /// Whether users may try it out on an edge node.
    #[serde(default)]
    pub experience_able: Option<bool>,
}

/// A package of an app (`PackageDto`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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
    /// Size as sent (bytes, as a string or a number); see [`size_bytes`](Self::size_bytes).
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
    /// Type.
    #[serde(default, rename = "type")]
    pub type_: Option<AppType>,
    /// CPU architecture.
    #[serde(default)]
    pub affinity: Option<Affinity>,
    /// Industry.
    #[serde(default)]
    pub industry: Option<Industry>,
    /// Visibility.
    #[serde(default)]
    pub show_type: Option<ShowType>,
    /// `container` or `vm`.
    #[serde(default)]
    pub deploy_mode: Option<WorkloadType>,
    /// Owner's user id.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Owner's user name.
    #[serde(default)]
    pub user_name: Option<String>,
    /// Details (the package's markdown document).
    #[serde(default)]
    pub details: Option<String>,
    /// The demo video's file name, when there is one.
    #[serde(default)]
    pub demo_video_name: Option<String>,
    /// Whether users may try it out on an edge node.
    #[serde(default)]
    pub experience_able: Option<bool>,
    /// Creation time as sent (an ISO string or epoch milliseconds).
    #[serde(default)]
    pub create_time: Option<serde_json::Value>,
}

impl AppPackage {
    /// The size of the package as uploaded, in bytes, when the store sent a readable one. The file the store
    /// serves may differ: appstore-be rewrites container packages whose images it moves to its registry and
    /// keeps the uploaded size.
    pub fn size_bytes(&self) -> Option<u64> {
        self.size.as_ref().and_then(number_or_string)
    }
}

/// A page of results (v2 `Page`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
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

/// The answer to a test request (`AtpTestDto`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TestTask {
    /// The test platform's task id.
    pub atp_task_id: String,
    /// Its status.
    #[serde(default)]
    pub status: Option<String>,
}

/// Who wrote a comment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CommentUser {
    /// The user's id.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The user's name.
    #[serde(default)]
    pub user_name: Option<String>,
}

/// A comment on an app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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
    /// Who made it.
    #[serde(default)]
    pub user: Option<CommentUser>,
}

/// The answer to a registration (`RegisterRespDto`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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

/// What is uploaded with a package: its icon, an optional demo video, and how the store lists it. The
/// uploading user is the token's (its `userId` and `userName` claims).
///
/// ```
/// use mec_appstore_client::{AppType, Industry, UploadForm};
///
/// let form = UploadForm::new("snake.csar", "icon.png")
///     .app_type(AppType::Game)
///     .industry(Industry::Others)
///     .demo_video("demo.mp4");
/// assert_eq!(form.affinity.as_str(), "X86");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadForm {
    /// The package file (`.csar` or `.zip`, a name without spaces).
    pub package: PathBuf,
    /// The icon (jpg, png or bmp, at most [`MAX_ICON`](crate::MAX_ICON) bytes).
    pub icon: PathBuf,
    /// A demo video (mp4, at most [`MAX_VIDEO`](crate::MAX_VIDEO) bytes).
    pub demo_video: Option<PathBuf>,
    /// The app type (default `Others`).
    pub app_type: AppType,
    /// The architecture (default `X86`).
    pub affinity: Affinity,
    /// The industry (default `Others`).
    pub industry: Industry,
    /// The visibility (default `public`).
    pub show_type: ShowType,
    /// A test task the test platform (ATP) already ran on this package: the store takes its result instead
    /// of asking for a new test.
    pub test_task_id: Option<String>,
    /// Whether users may try the app out on an edge node.
    pub experience_able: bool,
}

impl UploadForm {
    /// A form for this package and icon, listed as `Others`, `X86`, industry `Others`, `public`.
    pub fn new(package: impl Into<PathBuf>, icon: impl Into<PathBuf>) -> Self {
        Self {
            package: package.into(),
            icon: icon.into(),
            demo_video: None,
            app_type: AppType::Others,
            affinity: Affinity::X86,
            industry: Industry::Others,
            show_type: ShowType::Public,
            test_task_id: None,
            experience_able: false,
        }
    }

    /// Sets the app type.
    #[must_use]
    pub fn app_type(mut self, t: AppType) -> Self {
        self.app_type = t;
        self
    }

    /// Sets the architecture.
    #[must_use]
    pub fn affinity(mut self, a: Affinity) -> Self {
        self.affinity = a;
        self
    }

    /// Sets the industry.
    #[must_use]
    pub fn industry(mut self, i: Industry) -> Self {
        self.industry = i;
        self
    }

    /// Sets the visibility.
    #[must_use]
    pub fn show_type(mut self, s: ShowType) -> Self {
        self.show_type = s;
        self
    }

    /// Adds a demo video.
    #[must_use]
    pub fn demo_video(mut self, path: impl Into<PathBuf>) -> Self {
        self.demo_video = Some(path.into());
        self
    }

    /// Reuses a test the test platform already ran (its task id).
    #[must_use]
    pub fn test_task_id(mut self, id: impl Into<String>) -> Self {
        self.test_task_id = Some(id.into());
        self
    }

    /// Lets users try the app out on an edge node.
    #[must_use]
    pub fn experience_able(mut self, yes: bool) -> Self {
        self.experience_able = yes;
        self
    }
}

/// Changes to a package's listing (`PUT /v1/apps/{appId}/package/{packageId}`); what is `None` stays as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PackageEdit {
    /// A new type.
    pub app_type: Option<AppType>,
    /// A new industry.
    pub industry: Option<Industry>,
    /// A new architecture.
    pub affinity: Option<Affinity>,
    /// A new short description (also written into the package's manifest by the store).
    pub short_desc: Option<String>,
    /// A new visibility.
    pub show_type: Option<ShowType>,
    /// Whether users may try the app out. `None` keeps the current value (the client reads it first: the
    /// store would otherwise reset it to `false`).
    pub experience_able: Option<bool>,
    /// A new icon (jpg, png or bmp).
    pub icon: Option<PathBuf>,
    /// A new demo video (mp4).
    pub demo_video: Option<PathBuf>,
    /// A new markdown document (a `.md` file: the app's details).
    pub doc: Option<PathBuf>,
}

/// The signed-in user, as the access token says (user-mgmt's claims `userId`, `userName`, `authorities`,
/// `exp`). Read from the token without checking its signature: the AppStore checks it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Identity {
    /// The user's id (a lowercase UUID for users; a client id for service clients).
    pub user_id: String,
    /// The user's name.
    pub user_name: String,
    /// The roles, as `ROLE_<PLATFORM>_<ROLE>` (`ROLE_APPSTORE_TENANT`, `ROLE_APPSTORE_ADMIN`, ...).
    pub authorities: Vec<String>,
    /// When the token expires, in seconds since the Unix epoch.
    pub expires_at: Option<u64>,
}

impl Identity {
    /// Whether the token carries the AppStore's admin role (needed for federation).
    pub fn is_admin(&self) -> bool {
        self.authorities.iter().any(|a| a == "ROLE_APPSTORE_ADMIN")
    }

    /// Whether the token carries the AppStore's tenant role (needed to upload, test and publish).
    pub fn is_tenant(&self) -> bool {
        self.authorities.iter().any(|a| a == "ROLE_APPSTORE_TENANT")
    }

    /// Whether the token carries the AppStore's guest role only (read-only).
    pub fn is_guest(&self) -> bool {
        !self.is_admin()
            && !self.is_tenant()
            && self.authorities.iter().any(|a| a == "ROLE_APPSTORE_GUEST")
    }
}

/// How a package is downloaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadOptions {
    /// VM packages: the store puts the VM images into the package first (`isDownloadImage=true`).
    pub with_images: bool,
    /// The size expected, for progress when the store sends no `Content-Length` (it never does): for example
    /// [`AppPackage::size_bytes`]. Only an estimate (see [`PackageHandle::download_to`](crate::PackageHandle::download_to)).
    pub size_hint: Option<u64>,
}

impl DownloadOptions {
    /// Downloads with the VM images put in.
    #[must_use]
    pub fn with_images(mut self, yes: bool) -> Self {
        self.with_images = yes;
        self
    }

    /// Sets the size expected, for progress.
    #[must_use]
    pub fn size_hint(mut self, bytes: Option<u64>) -> Self {
        self.size_hint = bytes;
        self
    }
}

/// An external app store this one federates with (`AppStoreDto`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExternalStore {
    /// Its id (a UUID).
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
    /// Its URL (appstore-be accepts only `http(s)://<IPv4>[:port][/path]`).
    #[serde(default)]
    pub url: Option<String>,
    /// `http` or `https`.
    #[serde(default)]
    pub schema: Option<String>,
    /// Its push interface.
    #[serde(default)]
    pub app_push_intf: Option<String>,
    /// The id of the package translation it needs (`appdTransId`).
    #[serde(default)]
    pub appd_trans_id: Option<String>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// When it was added, as sent.
    #[serde(default)]
    pub added_time: Option<String>,
    /// When it was last changed, as sent.
    #[serde(default)]
    pub modified_time: Option<String>,
}

/// An external store to add (all of name, version, company, URL and `appdTransId` are needed) or the changes
/// to one (`None` keeps the value).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExternalStoreForm {
    /// Its name (1 to 64 characters).
    pub app_store_name: Option<String>,
    /// Its version (at most 64 characters).
    pub app_store_version: Option<String>,
    /// Its company (at most 64 characters).
    pub company: Option<String>,
    /// Its URL: `http(s)://<IPv4>[:port][/path]`, at most 256 characters (appstore-be refuses host names).
    pub url: Option<String>,
    /// `http` or `https`.
    pub schema: Option<String>,
    /// Its push interface (at most 256 characters).
    pub app_push_intf: Option<String>,
    /// The id of the package translation it needs.
    pub appd_trans_id: Option<String>,
    /// A description (at most 1024 characters).
    pub description: Option<String>,
}

impl ExternalStoreForm {
    /// A store to add, with what appstore-be requires.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        company: impl Into<String>,
        url: impl Into<String>,
        appd_trans_id: impl Into<String>,
    ) -> Self {
        Self {
            app_store_name: Some(name.into()),
            app_store_version: Some(version.into()),
            company: Some(company.into()),
            url: Some(url.into()),
            appd_trans_id: Some(appd_trans_id.into()),
            ..Self::default()
        }
    }
}

/// A package that can be pushed to, or pulled from, another store (`PushablePackageDto`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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
    /// Type.
    #[serde(default, rename = "type")]
    pub type_: Option<AppType>,
    /// CPU architecture.
    #[serde(default)]
    pub affinity: Option<Affinity>,
    /// Industry.
    #[serde(default)]
    pub industry: Option<Industry>,
    /// Short description.
    #[serde(default)]
    pub short_desc: Option<String>,
    /// The store it comes from.
    #[serde(default)]
    pub source_platform: Option<String>,
    /// Stores it was already pushed to.
    #[serde(default)]
    pub target_platform: Option<Vec<String>>,
    /// Everything else the store sent (`latestPushTime`, `pushTimes`, `atpTestReportUrl`, ...).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// What `POST /v1/packages/{packageId}/action/pull` takes (`PullAppReqDto`); the client adds the user from the
/// token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PullRequest {
    /// The store to pull from.
    pub source_store_id: String,
    /// Its name.
    pub source_store_name: String,
    /// The app's name.
    pub name: String,
    /// Its provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Its version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Its test status on the source store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub atp_test_status: Option<String>,
    /// Its architecture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Its short description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_desc: Option<String>,
    /// Its visibility (appstore-be lists pulled packages as `public` whatever is sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_type: Option<ShowType>,
    /// Its industry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<Industry>,
    /// Its type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<AppType>,
}

impl PullRequest {
    /// The pull of a package another store offers (as [`ExternalStoreHandle::pullable_packages`](crate::ExternalStoreHandle::pullable_packages)
    /// listed it).
    pub fn new(store: &ExternalStore, package: &FederatedPackage) -> Self {
        Self {
            source_store_id: store.app_store_id.clone(),
            source_store_name: store.app_store_name.clone(),
            name: package.name.clone(),
            provider: package.provider.clone(),
            version: package.version.clone(),
            atp_test_status: package.atp_test_status.clone(),
            affinity: package.affinity.clone(),
            short_desc: package.short_desc.clone(),
            show_type: None,
            industry: package.industry.clone(),
            type_: package.type_.clone(),
        }
    }
}
