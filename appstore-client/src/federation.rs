//! Federation (the admin role): the external stores this one knows (appstore-be `AppStoreController`), the
//! packages pushed to them and pulled from them (`PushablePackageController`, `PackageV2Controller`).

use crate::model::{ExternalStore, ExternalStoreForm, FederatedPackage, Page, PullRequest};
use crate::paths::{self, V1, V2};
use crate::{Client, Error, paged};
use http::Method;
use mec_core::client::{ApiRequest, Multipart as Form, path_segment};

/// appstore-be's limits on an external store (`AppStoreController`: `MAX_NAME_LEN` ... `MAX_DESC_LEN`).
const LIMITS: [(&str, usize); 6] = [
    ("appStoreName", 64),
    ("appStoreVersion", 64),
    ("company", 64),
    ("url", 256),
    ("appPushIntf", 256),
    ("description", 1024),
];

/// Whether `url` is what appstore-be takes for an external store: `http(s)://` (optional), an IPv4 address, an
/// optional port and path (`AppStoreController.APPSTORE_URL`); it refuses host names.
pub(crate) fn is_store_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    let (authority, _path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let octets: Vec<&str> = host.split('.').collect();
    let octet_ok = |o: &&str| {
        !o.is_empty()
            && o.len() <= 3
            && o.chars().all(|c| c.is_ascii_digit())
            && (o.len() == 1 || !o.starts_with('0'))
            && o.parse::<u16>().is_ok_and(|n| n <= 255)
    };
    octets.len() == 4
        && octets.iter().all(octet_ok)
        && port.is_none_or(|p| p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()))
}

impl ExternalStoreForm {
    fn fields(&self) -> [(&'static str, Option<&String>); 8] {
        [
            ("appStoreName", self.app_store_name.as_ref()),
            ("appStoreVersion", self.app_store_version.as_ref()),
            ("company", self.company.as_ref()),
            ("url", self.url.as_ref()),
            ("schema", self.schema.as_ref()),
            ("appPushIntf", self.app_push_intf.as_ref()),
            ("appdTransId", self.appd_trans_id.as_ref()),
            ("description", self.description.as_ref()),
        ]
    }

    /// Checks the form as appstore-be does; `adding` also wants every part an addition needs.
    fn check(&self, adding: bool) -> Result<Form, Error> {
        let bad = |why: String| Error::InvalidRequest(format!("external store: {why}"));
        if adding {
            for (name, value) in self.fields() {
                let required = !matches!(name, "schema" | "appPushIntf" | "description");
                if required && value.is_none() {
                    return Err(bad(format!("{name} is required")));
                }
            }
        }
        let mut form = Form::new();
        for (name, value) in self.fields() {
            let Some(v) = value else { continue };
            if let Some((_, max)) = LIMITS.iter().find(|(n, _)| *n == name)
                && v.chars().count() > *max
            {
                return Err(bad(format!("{name} has more than {max} characters")));
            }
            if name == "appStoreName" && v.is_empty() {
                return Err(bad("appStoreName is empty".into()));
            }
            if name == "url" && !is_store_url(v) {
                return Err(bad(format!(
                    "url {v:?} is not http(s)://<IPv4>[:port][/path], the only form appstore-be takes"
                )));
            }
            if name == "schema" && v != "http" && v != "https" {
                return Err(bad(format!("schema {v:?} is neither http nor https")));
            }
            form = form.text(name, v.clone());
        }
        Ok(form)
    }
}

impl Client {
    /// The external stores this one federates with (the admin role).
    pub fn external_stores(&self) -> ExternalStoresHandle {
        ExternalStoresHandle {
            client: self.clone(),
        }
    }

    /// `GET /v1/packages/pushable`: this store's published packages, with the stores each was pushed to.
    pub async fn pushable_packages(&self) -> Result<Vec<FederatedPackage>, Error> {
        self.json(ApiRequest::get(format!("{}/pushable", paths::packages(V1))))
            .await
    }

    /// A package as federation names it, by its id alone: to read it as pushable, push it, or pull it from
    /// another store.
    pub fn federated_package(&self, package_id: &str) -> FederatedPackageHandle {
        FederatedPackageHandle {
            client: self.clone(),
            path: paths::package_by_id(package_id),
        }
    }
}

/// The external stores (`/v1/appstores`), from [`Client::external_stores`].
#[derive(Clone, Debug)]
pub struct ExternalStoresHandle {
    client: Client,
}

impl ExternalStoresHandle {
    /// `GET /v1/appstores`: every external store.
    pub async fn list(&self) -> Result<Vec<ExternalStore>, Error> {
        self.client.json(ApiRequest::get(paths::stores(V1))).await
    }

    /// `GET /v2/appstores?appStoreName&limit&offset`: a page of external stores whose name contains `name` ("" for
    /// all).
    pub async fn page(
        &self,
        name: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Page<ExternalStore>, Error> {
        let r = ApiRequest::get(paths::stores(V2)).query("appStoreName", name);
        self.client.json(paged(r, offset, limit)?).await
    }

    /// `POST /v1/appstores`: adds an external store (name, version, company, URL and `appdTransId` needed; the
    /// URL an IPv4 one). Returns it with its new id.
    pub async fn add(&self, form: &ExternalStoreForm) -> Result<ExternalStore, Error> {
        let multipart = form.check(true)?;
        let body = self
            .client
            .send_form(Method::POST, &paths::stores(V1), &[], multipart)
            .await?;
        decode(&body, "the added store")
    }

    /// One external store, by its id (nothing is sent until a method is called).
    pub fn store(&self, store_id: &str) -> ExternalStoreHandle {
        ExternalStoreHandle {
            client: self.client.clone(),
            id: store_id.to_owned(),
        }
    }
}

/// One external store (`/v1/appstores/{appStoreId}`), from [`ExternalStoresHandle::store`].
#[derive(Clone, Debug)]
pub struct ExternalStoreHandle {
    client: Client,
    id: String,
}

impl ExternalStoreHandle {
    fn path(&self) -> String {
        format!("{}/{}", paths::stores(V1), path_segment(&self.id))
    }

    /// `GET /v1/appstores/{appStoreId}`: the store; `None` when the store knows no such id (it answers 200 with
    /// an empty body).
    pub async fn get(&self) -> Result<Option<ExternalStore>, Error> {
        let response = self.client.send(ApiRequest::get(self.path())).await?;
        if response.body().iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        crate::decode_body(response.status(), response.body(), "the external store")
    }

    /// `PUT /v1/appstores/{appStoreId}`: changes what the form sets. Returns the store as changed.
    pub async fn edit(&self, form: &ExternalStoreForm) -> Result<ExternalStore, Error> {
        let multipart = form.check(false)?;
        let body = self
            .client
            .send_form(Method::PUT, &self.path(), &[], multipart)
            .await?;
        decode(&body, "the changed store")
    }

    /// `DELETE /v1/appstores/{appStoreId}` (the store answers success for an unknown id too).
    pub async fn delete(&self) -> Result<(), Error> {
        self.client
            .send(ApiRequest::delete(self.path()))
            .await
            .map(drop)
    }

    /// `GET /v1/packages/{storeId}/pullable`: what that store offers, less what this one already has (the store
    /// answers an empty list for a store id it does not know).
    pub async fn pullable_packages(&self) -> Result<Vec<FederatedPackage>, Error> {
        // appstore-be `PackageController.getPullablePackages`: the store's id where a package id would be.
        self.client
            .json(ApiRequest::get(format!(
                "{}/pullable",
                paths::package_by_id(&self.id)
            )))
            .await
    }
}

/// A package named by its id alone (`/v1/packages/{packageId}`), from [`Client::federated_package`].
#[derive(Clone, Debug)]
pub struct FederatedPackageHandle {
    client: Client,
    path: String,
}

impl FederatedPackageHandle {
    /// `GET /v1/packages/{packageId}/pushable`: the package as pushable, with the stores it was pushed to.
    pub async fn pushable(&self) -> Result<FederatedPackage, Error> {
        self.client
            .json(ApiRequest::get(format!("{}/pushable", self.path)))
            .await
    }

    /// `POST /v1/packages/{packageId}/action/push`: pushes the package to stores (by their ids); one result per
    /// store, `false` for a store unknown or unreachable.
    pub async fn push(&self, store_ids: &[String]) -> Result<Vec<bool>, Error> {
        let r = ApiRequest::post(format!("{}/action/push", self.path))
            .json(&serde_json::json!({"targetPlatform": store_ids}))?;
        self.client.json(r).await
    }

    /// `POST /v1/packages/{packageId}/action/pull`: imports the package from another store as the signed-in user
    /// (it arrives as `Upload`, to be tested here). `false` when the source store is unknown.
    pub async fn pull(&self, request: &PullRequest) -> Result<bool, Error> {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            #[serde(flatten)]
            request: &'a PullRequest,
            user_id: String,
            user_name: String,
        }
        let me = self.client.user()?;
        let r = ApiRequest::post(format!("{}/action/pull", self.path)).json(&Body {
            request,
            user_id: me.user_id,
            user_name: me.user_name,
        })?;
        self.client.json(r).await
    }
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Error> {
    crate::decode_body(200, body, what)
}

#[cfg(test)]
mod tests {
    use super::is_store_url;

    #[test]
    fn store_urls_are_ipv4_as_appstore_be_wants() {
        for ok in [
            "http://192.168.1.10:30091",
            "https://10.0.0.1",
            "10.0.0.1:8099/mec",
            "http://255.255.255.255/",
        ] {
            assert!(is_store_url(ok), "{ok}");
        }
        for bad in [
            "http://partner.example",
            "http://256.1.1.1",
            "http://1.2.3",
            "http://01.2.3.4",
            "http://1.2.3.4:123456",
            "ftp://1.2.3.4",
            "",
        ] {
            assert!(!is_store_url(bad), "{bad}");
        }
    }
}
