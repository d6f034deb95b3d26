//! Reading JSON as real peers write it.
//!
//! MEC platforms do not all write what the specification says: EdgeGallery writes `""` where a value is absent,
//! enum values a reader may not know yet, and its Go clients send member names in any letter case (Go's
//! `encoding/json` matches keys without regard to case). The helpers here let a model read all of that without
//! failing a whole answer on one member, while writing exactly what it read:
//!
//! - [`wire_enum!`](crate::wire_enum) declares an enum of wire spellings with an `Unknown(String)` variant that
//!   keeps any other value (the empty string included) and writes it back unchanged;
//! - [`blank_as_none`] and [`empty_as_none`] read `""` (and `null`) as an absent optional member;
//! - [`from_slice_ignoring_case`] matches object keys to a struct's members without regard to case.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess,
    Visitor,
};
use serde::{Deserialize, forward_to_deserialize_any};
use serde_json::{Map, Value};

/// An enum declared with [`wire_enum!`](crate::wire_enum): a closed set of wire spellings plus `Unknown`.
pub trait WireEnum: Sized {
    /// Every value this version knows, as written on the wire.
    const KNOWN: &'static [&'static str];

    /// The wire spelling.
    fn as_str(&self) -> &str;

    /// Whether the value is one this version knows (not `Unknown`).
    fn is_known(&self) -> bool;

    /// Whether the value is blank: an `Unknown` empty or whitespace-only string, which peers write for "absent".
    fn is_blank(&self) -> bool {
        !self.is_known() && self.as_str().trim().is_empty()
    }
}

/// Declares an enum of wire spellings that never fails to read.
///
/// Each variant names its spelling (and optional aliases read as the same value). Any other string reads as
/// `Unknown(String)` and is written back unchanged, so one value a reader does not know never makes a whole
/// answer unreadable. Servers refuse unknown values in requests by checking [`WireEnum::is_known`].
///
/// ```
/// mec_core::wire_enum! {
///     /// A colour.
///     pub enum Colour {
///         /// Red.
///         Red = "RED",
///         /// Green (some peers write `Green`).
///         Green = "GREEN" | "Green",
///     }
/// }
/// use mec_core::wire::WireEnum;
///
/// let c: Colour = serde_json::from_str("\"Green\"").unwrap();
/// assert_eq!(c, Colour::Green);
/// assert_eq!(serde_json::to_string(&c).unwrap(), "\"GREEN\"");
/// let odd: Colour = serde_json::from_str("\"MAUVE\"").unwrap();
/// assert_eq!(odd, Colour::Unknown("MAUVE".into()));
/// assert!(!odd.is_known());
/// assert_eq!(serde_json::to_string(&odd).unwrap(), "\"MAUVE\"");
/// ```
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know (the empty string included), kept as sent and written back
            /// unchanged.
            Unknown(String),
        }

        impl $name {
            /// Every value this version knows, as written on the wire.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];

            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(s) => s,
                }
            }

            /// Whether the value is one this version knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }

            /// Whether the value is blank: an `Unknown` empty or whitespace-only string, which peers write for
            /// "absent".
            pub fn is_blank(&self) -> bool {
                matches!(self, Self::Unknown(s) if s.trim().is_empty())
            }

            /// Reads a wire spelling (aliases included); anything else is `Unknown`.
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $( $wire $(| $alias)* => Self::$variant, )+
                    _ => Self::Unknown(s.to_owned()),
                }
            }
        }

        impl $crate::wire::WireEnum for $name {
            const KNOWN: &'static [&'static str] = $name::KNOWN;

            fn as_str(&self) -> &str {
                $name::as_str(self)
            }

            fn is_known(&self) -> bool {
                $name::is_known(self)
            }

            fn is_blank(&self) -> bool {
                $name::is_blank(self)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from_wire(s))
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::wire::deserialize_wire_str(d, Self::from_wire)
            }
        }
    };
}

/// Reads a string and maps it; the plumbing of [`wire_enum!`](crate::wire_enum).
#[doc(hidden)]
pub fn deserialize_wire_str<'de, D: Deserializer<'de>, T>(
    d: D,
    map: fn(&str) -> T,
) -> Result<T, D::Error> {
    struct V<T>(fn(&str) -> T);
    impl<T> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            Ok((self.0)(v))
        }
    }
    d.deserialize_str(V(map))
}

/// Reads an optional wire enum, with `null`, `""` (and whitespace) as absent: EdgeGallery writes
/// `"scopeOfLocality": ""` for a value it does not have.
///
/// Use as `#[serde(default, deserialize_with = "mec_core::wire::blank_as_none")]`.
pub fn blank_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + WireEnum,
{
    Ok(Option::<T>::deserialize(d)?.filter(|v| !v.is_blank()))
}

/// Reads an optional string, with `null` and `""` as absent: EdgeGallery's clients send `"dstIpAddress": ""` for
/// an address they do not have, and its MEP writes `"transportId": ""`.
///
/// Use as `#[serde(default, deserialize_with = "mec_core::wire::empty_as_none")]`.
pub fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

/// Parses JSON into `T`, matching object keys to `T`'s members (and its members' members) without regard to
/// ASCII case, as Go's `encoding/json` does: EdgeGallery's MEP manager sends `"TunnelInfo"` for `tunnelInfo`.
///
/// A key that matches a member exactly always wins; a differently cased duplicate of it is ignored. Keys that
/// match no member are left as they are (and ignored by lenient models).
///
/// ```
/// #[derive(serde::Deserialize)]
/// #[serde(rename_all = "camelCase")]
/// struct Interface { tunnel_info: Option<Tunnel> }
/// #[derive(serde::Deserialize)]
/// #[serde(rename_all = "camelCase")]
/// struct Tunnel { tunnel_type: String }
///
/// let i: Interface =
///     mec_core::wire::from_slice_ignoring_case(br#"{"TunnelInfo": {"TUNNELTYPE": "GTP_U"}}"#).unwrap();
/// assert_eq!(i.tunnel_info.unwrap().tunnel_type, "GTP_U");
/// ```
pub fn from_slice_ignoring_case<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    let value: Value = serde_json::from_slice(body)?;
    T::deserialize(IgnoringCase(value))
}

/// A JSON value whose objects' keys are matched to struct members without regard to case.
struct IgnoringCase(Value);

impl<'de> IntoDeserializer<'de, serde_json::Error> for IgnoringCase {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

/// Renames keys that match a member only when case is ignored; drops them when the exact key is there too.
fn canonical_keys(
    map: Map<String, Value>,
    fields: &'static [&'static str],
) -> Vec<(String, Value)> {
    let exact: Vec<bool> = fields.iter().map(|f| map.contains_key(*f)).collect();
    map.into_iter()
        .filter_map(|(key, value)| {
            if fields.contains(&key.as_str()) {
                return Some((key, value));
            }
            match fields.iter().position(|f| f.eq_ignore_ascii_case(&key)) {
                Some(i) if exact[i] => None,
                Some(i) => Some((fields[i].to_owned(), value)),
                None => Some((key, value)),
            }
        })
        .collect()
}

struct Entries {
    entries: std::vec::IntoIter<(String, Value)>,
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for Entries {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(Value::String(k)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let value = self.value.take().unwrap_or(Value::Null);
        seed.deserialize(IgnoringCase(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(IgnoringCase(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

fn entries(map: Map<String, Value>, fields: Option<&'static [&'static str]>) -> Entries {
    let entries = match fields {
        Some(fields) => canonical_keys(map, fields),
        None => map.into_iter().collect(),
    };
    Entries {
        entries: entries.into_iter(),
        value: None,
    }
}

impl<'de> Deserializer<'de> for IgnoringCase {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(entries(map, None)),
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(entries(map, Some(fields))),
            other => other.deserialize_struct(name, fields, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(IgnoringCase(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_bool(visitor)
    }
    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_i8(visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_i16(visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_i32(visitor)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_i64(visitor)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_u8(visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_u16(visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_u32(visitor)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_u64(visitor)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_f32(visitor)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_f64(visitor)
    }
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_char(visitor)
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_str(visitor)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_string(visitor)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_bytes(visitor)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_byte_buf(visitor)
    }
    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit(visitor)
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit_struct(name, visitor)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_identifier(visitor)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! { seq tuple tuple_struct map }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Outer {
        app_name: String,
        #[serde(default)]
        rules: Vec<Inner>,
        #[serde(default)]
        extra: Option<Inner>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Open {
        #[serde(flatten)]
        rest: Map<String, Value>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        tunnel_info: Option<String>,
        #[serde(default)]
        q_ci: u32,
    }

    #[test]
    fn keys_in_any_case_reach_their_members_at_every_depth() {
        let o: Outer = from_slice_ignoring_case(
            br#"{"APPNAME":"a","Rules":[{"TunnelInfo":"t","QCI":3}],"extra":{"tunnelinfo":null}}"#,
        )
        .unwrap();
        assert_eq!(o.app_name, "a");
        assert_eq!(o.rules[0].tunnel_info.as_deref(), Some("t"));
        assert_eq!(o.rules[0].q_ci, 3);
        assert_eq!(o.extra.unwrap().tunnel_info, None);
    }

    #[test]
    fn an_exact_key_wins_over_a_differently_cased_one_in_either_order() {
        for body in [
            r#"{"appName":"exact","AppName":"other"}"#,
            r#"{"AppName":"other","appName":"exact"}"#,
        ] {
            let o: Outer = from_slice_ignoring_case(body.as_bytes()).unwrap();
            assert_eq!(o.app_name, "exact", "{body}");
        }
    }

    #[test]
    fn unmatched_keys_are_kept_and_type_errors_still_reported() {
        let o: Open = from_slice_ignoring_case(br#"{"appName":"a","vendorThing":1}"#).unwrap();
        assert_eq!(o.rest.get("vendorThing"), Some(&Value::from(1)));
        assert_eq!(o.rest.get("appName"), Some(&Value::from("a")));
        let e = from_slice_ignoring_case::<Outer>(br#"{"appName":5}"#).unwrap_err();
        assert!(e.to_string().contains("invalid type"), "{e}");
        assert!(from_slice_ignoring_case::<Outer>(b"{").is_err());
    }
}
