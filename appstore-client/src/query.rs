//! Queries: the v2 app query, the v2 query of one's packages, their sort keys, and whose entries a list shows.
//!
//! appstore-be builds SQL from these (`src/main/resources/mybatis/sql/APPMapper.xml`, `PackageMapper.xml`):
//! `sortItem` goes straight into `order by`, so only real columns work (anything else is a 500); an empty list
//! in `showType` makes the count query invalid (a 500 too). The types here write only what the store reads
//! well: real sort keys, and no empty lists (an empty filter is left out).

use crate::model::{Affinity, AppStatus, AppType, Industry, ShowType, WorkloadType};
use serde::{Serialize, Serializer};

/// The most results one page may hold (appstore-be `QueryAppCtrlDto`: `@Max(500)`).
pub const MAX_PAGE: u64 = 500;

/// Whose entries a list shows; the store filters by the user id it is given (appstore-be
/// `AppServiceFacade.queryAppsByCond`, `findAllPackages`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// What everyone sees: published entries that are not private.
    #[default]
    Published,
    /// The signed-in user's own entries, in every status (the store refreshes their test status).
    Mine,
}

/// The order of a sorted list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SortOrder {
    /// Ascending.
    Asc,
    /// Descending.
    #[default]
    Desc,
}

impl SortOrder {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "ASC",
            Self::Desc => "DESC",
        }
    }
}

impl Serialize for SortOrder {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What apps are sorted by: columns of appstore-be's `app_table` (the portal offers `createTime`,
/// `DownloadCount`, `AppName`, `Score` and `isHotApp`; PostgreSQL folds the case).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AppSortKey {
    /// Creation time.
    #[default]
    CreateTime,
    /// Last change.
    ModifyTime,
    /// Name (`appName`: there is no `name` column).
    AppName,
    /// Provider.
    Provider,
    /// Downloads.
    DownloadCount,
    /// Average score.
    Score,
    /// Hot apps first (descending).
    HotApp,
}

impl AppSortKey {
    /// Every key.
    pub const ALL: &'static [Self] = &[
        Self::CreateTime,
        Self::ModifyTime,
        Self::AppName,
        Self::Provider,
        Self::DownloadCount,
        Self::Score,
        Self::HotApp,
    ];

    /// The column name sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateTime => "createTime",
            Self::ModifyTime => "modifyTime",
            Self::AppName => "appName",
            Self::Provider => "provider",
            Self::DownloadCount => "downloadCount",
            Self::Score => "score",
            Self::HotApp => "isHotApp",
        }
    }
}

impl Serialize for AppSortKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What packages are sorted by: columns of appstore-be's `catalog_package_table`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PackageSortKey {
    /// Creation time.
    #[default]
    CreateTime,
    /// App name.
    AppName,
    /// Version.
    Version,
    /// Status.
    Status,
    /// Provider.
    Provider,
}

impl PackageSortKey {
    /// Every key.
    pub const ALL: &'static [Self] = &[
        Self::CreateTime,
        Self::AppName,
        Self::Version,
        Self::Status,
        Self::Provider,
    ];

    /// The column name sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateTime => "createTime",
            Self::AppName => "appName",
            Self::Version => "version",
            Self::Status => "status",
            Self::Provider => "provider",
        }
    }
}

impl Serialize for PackageSortKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

fn is_empty_str(s: &str) -> bool {
    s.is_empty()
}

/// Paging, sorting, name and status of a query (`queryCtrl`, appstore-be `QueryAppCtrlDto`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct QueryCtrl<K> {
    /// First result.
    pub offset: u64,
    /// Results per page, 1 to [`MAX_PAGE`].
    pub limit: u64,
    /// The sort key.
    pub sort_item: K,
    /// The order.
    pub sort_type: SortOrder,
    /// Only names containing this (case-insensitive); empty for all.
    #[serde(skip_serializing_if = "is_empty_str")]
    pub app_name: String,
    /// Only these statuses; empty for all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<String>,
}

impl<K: Default> Default for QueryCtrl<K> {
    /// Every status, the default key descending, 20 a page.
    fn default() -> Self {
        Self {
            offset: 0,
            limit: 20,
            sort_item: K::default(),
            sort_type: SortOrder::Desc,
            app_name: String::new(),
            status: Vec::new(),
        }
    }
}

impl<K: Default> QueryCtrl<K> {
    /// The default (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }
}

impl<K> QueryCtrl<K> {
    /// Only names containing this.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.app_name = name.into();
        self
    }

    /// Sets the page: `limit` results (1 to [`MAX_PAGE`]) from `offset`.
    #[must_use]
    pub fn page(mut self, offset: u64, limit: u64) -> Self {
        self.offset = offset;
        self.limit = limit;
        self
    }

    /// Sets the sort key and order.
    #[must_use]
    pub fn sort(mut self, key: K, order: SortOrder) -> Self {
        self.sort_item = key;
        self.sort_type = order;
        self
    }

    /// Only these statuses ([`AppStatus`] for apps, [`PackageStatus`](crate::PackageStatus) for packages; none:
    /// every status).
    #[must_use]
    pub fn statuses<S: std::fmt::Display>(mut self, s: impl IntoIterator<Item = S>) -> Self {
        self.status = s.into_iter().map(|s| s.to_string()).collect();
        self
    }

    pub(crate) fn check(&self) -> Result<(), crate::Error> {
        if !(1..=MAX_PAGE).contains(&self.limit) {
            return Err(crate::Error::InvalidRequest(format!(
                "a page holds 1 to {MAX_PAGE} results, not {}",
                self.limit
            )));
        }
        Ok(())
    }
}

/// The filters, paging and sorting of `POST /v2/apps/action/query`.
///
/// The default is what the AppStore portal asks: published apps shown as `public` or `inner-public`, newest
/// first, 20 a page. Empty filters are left out of the request (the store fails on an empty `showType`).
///
/// ```
/// use mec_appstore_client::{AppQuery, AppSortKey, AppType, SortOrder};
///
/// let q = AppQuery::default().name("snake").types([AppType::Game]).sort(AppSortKey::AppName, SortOrder::Asc);
/// let json = serde_json::to_value(&q).unwrap();
/// assert_eq!(json["queryCtrl"]["sortItem"], "appName");
/// assert!(json.get("affinity").is_none(), "no empty lists");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AppQuery {
    /// App types.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<AppType>,
    /// Visibilities (default `public` and `inner-public`, as the portal asks; empty for every visibility).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub show_type: Vec<ShowType>,
    /// Architectures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub affinity: Vec<Affinity>,
    /// Industries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub industry: Vec<Industry>,
    /// Workload types.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workload_type: Vec<WorkloadType>,
    /// Only apps in which this user has a package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Paging, sorting, name and status.
    pub query_ctrl: QueryCtrl<AppSortKey>,
}

impl Default for AppQuery {
    fn default() -> Self {
        Self {
            types: Vec::new(),
            show_type: vec![ShowType::Public, ShowType::InnerPublic],
            affinity: Vec::new(),
            industry: Vec::new(),
            workload_type: Vec::new(),
            user_id: None,
            query_ctrl: QueryCtrl::default().statuses([AppStatus::Published]),
        }
    }
}

impl AppQuery {
    /// The portal's query (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Only names containing this.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.query_ctrl = self.query_ctrl.name(name);
        self
    }

    /// Sets the page: `limit` results (1 to [`MAX_PAGE`]) from `offset`.
    #[must_use]
    pub fn page(mut self, offset: u64, limit: u64) -> Self {
        self.query_ctrl = self.query_ctrl.page(offset, limit);
        self
    }

    /// Sets the sort key and order.
    #[must_use]
    pub fn sort(mut self, key: AppSortKey, order: SortOrder) -> Self {
        self.query_ctrl = self.query_ctrl.sort(key, order);
        self
    }

    /// Only these types.
    #[must_use]
    pub fn types(mut self, types: impl IntoIterator<Item = AppType>) -> Self {
        self.types = types.into_iter().collect();
        self
    }

    /// Only these visibilities (none: every visibility, private apps included).
    #[must_use]
    pub fn show_types(mut self, show: impl IntoIterator<Item = ShowType>) -> Self {
        self.show_type = show.into_iter().collect();
        self
    }

    /// Only these architectures.
    #[must_use]
    pub fn affinities(mut self, a: impl IntoIterator<Item = Affinity>) -> Self {
        self.affinity = a.into_iter().collect();
        self
    }

    /// Only these industries.
    #[must_use]
    pub fn industries(mut self, i: impl IntoIterator<Item = Industry>) -> Self {
        self.industry = i.into_iter().collect();
        self
    }

    /// Only these workload types.
    #[must_use]
    pub fn workload_types(mut self, w: impl IntoIterator<Item = WorkloadType>) -> Self {
        self.workload_type = w.into_iter().collect();
        self
    }

    /// Only these app statuses (none: every status).
    #[must_use]
    pub fn statuses(mut self, s: impl IntoIterator<Item = AppStatus>) -> Self {
        self.query_ctrl = self.query_ctrl.statuses(s);
        self
    }

    /// Only apps in which this user has a package.
    #[must_use]
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    pub(crate) fn check(&self) -> Result<(), crate::Error> {
        self.query_ctrl.check()
    }
}

/// The paging, sorting and filters of `POST /v2/packages/action/query`: the signed-in user's packages (all
/// packages for an admin). The default: every status, newest first, 20 a page.
///
/// ```
/// use mec_appstore_client::{PackageQuery, PackageSortKey, PackageStatus, SortOrder};
///
/// let q = PackageQuery::default().sort(PackageSortKey::Version, SortOrder::Asc).statuses([PackageStatus::Upload]);
/// assert_eq!(serde_json::to_value(&q).unwrap()["status"][0], "Upload");
/// ```
pub type PackageQuery = QueryCtrl<PackageSortKey>;

/// The filters of `GET /v1/apps` (exact matches) and whose apps it lists.
///
/// ```
/// use mec_appstore_client::{AppFilter, Scope};
///
/// let mine = AppFilter::new().scope(Scope::Mine).name("snake");
/// assert_eq!(mine.name.as_deref(), Some("snake"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppFilter {
    /// Only the app of this name.
    pub name: Option<String>,
    /// Only apps of this provider.
    pub provider: Option<String>,
    /// Only apps of this type.
    pub app_type: Option<AppType>,
    /// Only apps for this architecture.
    pub affinity: Option<Affinity>,
    /// Published apps, or the signed-in user's.
    pub scope: Scope,
}

impl AppFilter {
    /// Every published app.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only the app of this name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Only apps of this provider.
    #[must_use]
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// Only apps of this type.
    #[must_use]
    pub fn app_type(mut self, t: AppType) -> Self {
        self.app_type = Some(t);
        self
    }

    /// Only apps for this architecture.
    #[must_use]
    pub fn affinity(mut self, a: Affinity) -> Self {
        self.affinity = Some(a);
        self
    }

    /// Published apps, or the signed-in user's.
    #[must_use]
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }
}
