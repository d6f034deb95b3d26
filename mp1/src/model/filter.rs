//! The service discovery filter (`GET /services` query parameters, MEC 011 clause 8.2.3.3.1), one type for both
//! sides: the client builds it and writes its query pairs, a server parses it and matches each service.

use super::{LocalityType, ServiceInfo};
use mec_core::server::ApiError;

/// The discovery filters of `GET /services` and `GET /applications/{appInstanceId}/services`, parsed and checked.
///
/// Array parameters are read both as repeated keys (`?ser_name=a&ser_name=b`, OpenAPI's form/explode) and as
/// comma-separated values (`?ser_name=a,b`). ETSI GS MEC 011 allows at most one of `ser_instance_id`,
/// `ser_name` and `ser_category_id` (`Query.Ser_*` descriptions in the 2.1.1 service management API); unknown
/// parameters are refused, as ETSI's conformance tests expect (TC_MEC_SRV_SAQ_001_BR).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct ServiceFilter {
    /// `ser_instance_id`: only these service instances.
    pub ser_instance_ids: Vec<String>,
    /// `ser_name`: only services with one of these names.
    pub ser_names: Vec<String>,
    /// `ser_category_id`: only services of this category.
    pub ser_category_id: Option<String>,
    /// `consumed_local_only`: only services whose `consumedLocalOnly` is this.
    pub consumed_local_only: Option<bool>,
    /// `is_local`: only services whose `isLocal` is this.
    pub is_local: Option<bool>,
    /// `scope_of_locality`: only services of this scope.
    pub scope_of_locality: Option<LocalityType>,
}

impl ServiceFilter {
    /// No filter: every service.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a service instance id (repeat for several).
    pub fn ser_instance_id(mut self, id: impl Into<String>) -> Self {
        self.ser_instance_ids.push(id.into());
        self
    }

    /// Adds a service name (repeat for several).
    pub fn ser_name(mut self, name: impl Into<String>) -> Self {
        self.ser_names.push(name.into());
        self
    }

    /// Only services of this category.
    pub fn ser_category_id(mut self, id: impl Into<String>) -> Self {
        self.ser_category_id = Some(id.into());
        self
    }

    /// Only services whose `consumedLocalOnly` is this.
    pub fn consumed_local_only(mut self, value: bool) -> Self {
        self.consumed_local_only = Some(value);
        self
    }

    /// Only services whose `isLocal` is this.
    pub fn is_local(mut self, value: bool) -> Self {
        self.is_local = Some(value);
        self
    }

    /// Only services of this scope.
    pub fn scope_of_locality(mut self, scope: LocalityType) -> Self {
        self.scope_of_locality = Some(scope);
        self
    }

    /// The query parameters, as sent (repeated keys for lists); refused when more than one of
    /// `ser_instance_id`, `ser_name` and `ser_category_id` is given.
    pub fn to_pairs(&self) -> Result<Vec<(String, String)>, crate::Error> {
        self.check_exclusive()
            .map_err(|e| crate::Error::InvalidRequest(e.problem().detail.clone()))?;
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut push = |k: &str, v: String| pairs.push((k.to_owned(), v));
        for v in &self.ser_instance_ids {
            push("ser_instance_id", v.clone());
        }
        for v in &self.ser_names {
            push("ser_name", v.clone());
        }
        if let Some(v) = &self.ser_category_id {
            push("ser_category_id", v.clone());
        }
        if let Some(v) = self.consumed_local_only {
            push("consumed_local_only", v.to_string());
        }
        if let Some(v) = self.is_local {
            push("is_local", v.to_string());
        }
        if let Some(v) = &self.scope_of_locality {
            push("scope_of_locality", v.as_str().to_owned());
        }
        Ok(pairs)
    }

    fn check_exclusive(&self) -> Result<(), ApiError> {
        let exclusive = [
            !self.ser_instance_ids.is_empty(),
            !self.ser_names.is_empty(),
            self.ser_category_id.is_some(),
        ];
        if exclusive.iter().filter(|set| **set).count() > 1 {
            return Err(ApiError::bad_request(
                "at most one of ser_instance_id, ser_name and ser_category_id may be given",
            ));
        }
        Ok(())
    }

    /// Parses a raw query string (without `?`); `None` is no filter.
    pub fn parse(raw_query: Option<&str>) -> Result<Self, ApiError> {
        let mut f = Self::default();
        let Some(raw) = raw_query else { return Ok(f) };
        for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            let list = || {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            };
            match key.as_ref() {
                "ser_instance_id" => f.ser_instance_ids.extend(list()),
                "ser_name" => f.ser_names.extend(list()),
                "ser_category_id" => {
                    if f.ser_category_id
                        .replace(value.clone().into_owned())
                        .is_some()
                    {
                        return Err(ApiError::bad_request(
                            "ser_category_id: given more than once",
                        ));
                    }
                }
                "consumed_local_only" => {
                    f.consumed_local_only = Some(parse_bool("consumed_local_only", &value)?);
                }
                "is_local" => f.is_local = Some(parse_bool("is_local", &value)?),
                "scope_of_locality" => {
                    let scope = LocalityType::from_wire(&value);
                    if !scope.is_known() {
                        return Err(ApiError::bad_request(format!(
                            "scope_of_locality: unknown value {value:?}; expected one of {}",
                            LocalityType::KNOWN.join(", ")
                        )));
                    }
                    f.scope_of_locality = Some(scope);
                }
                other => {
                    return Err(ApiError::bad_request(format!(
                        "unknown query parameter {other:?}"
                    )));
                }
            }
        }
        f.check_exclusive()?;
        Ok(f)
    }

    /// Whether a service passes every filter that is set. An absent `consumedLocalOnly` or `isLocal` counts as
    /// `true`, ETSI's default for these members.
    pub fn matches(&self, s: &ServiceInfo) -> bool {
        // Short-circuits, cheapest and most selective checks first: discovery runs this over every service.
        self.ser_category_id
            .as_ref()
            .is_none_or(|c| s.ser_category.as_ref().is_some_and(|sc| &sc.id == c))
            && (self.ser_names.is_empty() || self.ser_names.contains(&s.ser_name))
            && (self.ser_instance_ids.is_empty()
                || s.ser_instance_id
                    .as_ref()
                    .is_some_and(|id| self.ser_instance_ids.contains(id)))
            && self
                .consumed_local_only
                .is_none_or(|v| s.consumed_local_only.unwrap_or(true) == v)
            && self
                .is_local
                .is_none_or(|v| s.is_local.unwrap_or(true) == v)
            && self.scope_of_locality.as_ref().is_none_or(|v| {
                s.scope_of_locality
                    .as_ref()
                    .unwrap_or(&LocalityType::MecHost)
                    == v
            })
    }
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ApiError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::bad_request(format!(
            "{name}: expected true or false, got {value:?}"
        ))),
    }
}
