//! Id newtypes: an app instance, a service, a subscription and a rule id are each their own type, so a function
//! that takes several of them cannot have two swapped silently. Each is a `String` on the wire
//! (`#[serde(transparent)]`), reads as a `&str` (`Deref`, `AsRef<str>`, `Borrow<str>`, `Display`) and is built
//! from a `String` or a `&str` (`From`), so `impl Into<AppInstanceId>` parameters take either.

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id `id`, taken as given (not checked or encoded).
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&String> for $name {
            fn from(id: &String) -> Self {
                Self(id.clone())
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                id.clone()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

id_type! {
    /// An app instance id (`appInstanceId`).
    AppInstanceId
}

id_type! {
    /// A service instance id (`serInstanceId`), which the MEP assigns when a service is registered.
    ServiceId
}

id_type! {
    /// A subscription id: the last segment of a subscription's URI.
    SubscriptionId
}

id_type! {
    /// A DNS or traffic rule id (`dnsRuleId`, `trafficRuleId`).
    RuleId
}

/// ETSI's name for a [`ServiceId`].
pub type SerInstanceId = ServiceId;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_strings_on_the_wire_and_compare_with_str() {
        let id = AppInstanceId::from("a-1");
        assert_eq!(serde_json::to_string(&id).ok().as_deref(), Some("\"a-1\""));
        let back: ServiceId = serde_json::from_str("\"s-1\"").unwrap_or_default();
        assert_eq!(back, "s-1");
        assert_eq!(&*id, "a-1");
        assert_eq!(id.to_string(), "a-1");
        assert_eq!(SubscriptionId::new(String::from("x")).into_string(), "x");
        assert_eq!(RuleId::from(&String::from("r")).as_str(), "r");
    }
}
