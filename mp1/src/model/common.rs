//! Types shared by both Mp1 APIs: links, category references, subscription link lists, serde helpers.

use serde::{Deserialize, Deserializer, Serialize};

/// A hyperlink: `{"href": "..."}` (ETSI GS MEC 011 `LinkType`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LinkType {
    /// The URI.
    pub href: String,
}

impl LinkType {
    /// A link to `href`.
    pub fn new(href: impl Into<String>) -> Self {
        Self { href: href.into() }
    }
}

/// A reference to a service category (`CategoryRef`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CategoryRef {
    /// Reference of the catalogue.
    pub href: String,
    /// Unique identifier of the category.
    pub id: String,
    /// Name of the category.
    pub name: String,
    /// Category version.
    pub version: String,
}

/// A list of links to an app's subscriptions (`MecServiceMgmtApiSubscriptionLinkList` /
/// `MecAppSuptApiSubscriptionLinkList`, `SubscriptionLinkList` in 3.x).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionLinkList {
    /// The links.
    #[serde(rename = "_links")]
    pub links: SubscriptionLinkListLinks,
}

/// The `_links` of a [`SubscriptionLinkList`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionLinkListLinks {
    /// The list itself.
    #[serde(rename = "self")]
    pub self_: LinkType,
    /// One link per subscription (EdgeGallery writes `null` for none).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub subscriptions: Vec<SubscriptionLink>,
}

/// A link to one subscription. MEC 011 2.1.1 names its type `rel`, 3.x `subscriptionType`; both are read, and
/// what is set is written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscriptionLink {
    /// The subscription's URI.
    pub href: String,
    /// The subscription type (2.1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rel: Option<String>,
    /// The subscription type (3.x).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_type: Option<String>,
}

/// A member EdgeGallery writes with every field empty when it has no value (its Go structs are values, not
/// pointers): `"serCategory": {"href":"","id":"","name":"","version":""}`, `"tunnelInfo": {"tunnelType":"",..}`.
pub(crate) trait Blank {
    /// Whether every field is empty.
    fn is_blank(&self) -> bool;
}

impl Blank for CategoryRef {
    fn is_blank(&self) -> bool {
        [&self.href, &self.id, &self.name, &self.version]
            .iter()
            .all(|s| s.is_empty())
    }
}

/// Reads an optional member with an all-empty value ([`Blank`]) as absent.
pub(crate) fn blank_struct_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Blank,
{
    Ok(Option::<T>::deserialize(d)?.filter(|v| !v.is_blank()))
}

/// Reads `null` or an absent array as an empty `Vec` (EdgeGallery writes `null` for empty arrays).
pub(crate) fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Reads a link given either as `{"href": ".."}` (ETSI) or as a plain string (EdgeGallery's
/// AppTerminationNotification).
pub(crate) fn link_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<LinkType, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Link(LinkType),
        Plain(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::Link(l) => l,
        Either::Plain(href) => LinkType { href },
    })
}

/// As [`link_or_string`], for optional links.
pub(crate) fn opt_link_or_string<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<LinkType>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Link(LinkType),
        Plain(String),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        Some(Either::Link(l)) => Some(l),
        Some(Either::Plain(href)) => Some(LinkType { href }),
        Some(Either::Other(_)) | None => None,
    })
}

impl CategoryRef {
    /// A category: the catalogue's `href`, the category's `id`, `name` and `version`.
    pub fn new(
        href: impl Into<String>,
        id: impl Into<String>,
        name: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        Self {
            href: href.into(),
            id: id.into(),
            name: name.into(),
            version: version.into(),
        }
    }
}

impl SubscriptionLinkList {
    /// The list at `self_href`, linking to `subscriptions`.
    pub fn new(self_href: impl Into<String>, subscriptions: Vec<SubscriptionLink>) -> Self {
        Self {
            links: SubscriptionLinkListLinks::new(LinkType::new(self_href), subscriptions),
        }
    }
}

impl SubscriptionLinkListLinks {
    /// The list's own link and one link per subscription.
    pub fn new(self_: LinkType, subscriptions: Vec<SubscriptionLink>) -> Self {
        Self {
            self_,
            subscriptions,
        }
    }
}

impl SubscriptionLink {
    /// A link to the subscription at `href`, its type not given.
    pub fn new(href: impl Into<String>) -> Self {
        Self {
            href: href.into(),
            ..Self::default()
        }
    }

    /// With its type as MEC 011 2.1.1 writes it (`rel`).
    #[must_use]
    pub fn with_rel(mut self, rel: impl Into<String>) -> Self {
        self.rel = Some(rel.into());
        self
    }

    /// With its type as MEC 011 3.x writes it (`subscriptionType`).
    #[must_use]
    pub fn with_subscription_type(mut self, subscription_type: impl Into<String>) -> Self {
        self.subscription_type = Some(subscription_type.into());
        self
    }
}
