//! YAML from packages, parsed within [`Limits`]' budget (events, aliases, depth) into JSON values.
//!
//! Plain scalars are typed as the TOSCA tools that read these packages type them (OpenStack's tosca-parser,
//! Tacker and ONAP read them with PyYAML, a YAML 1.1 parser): a number needs a `.` to be a float, so
//! `descriptor_id: 78e510` or `1e5` stay the strings written, where YAML 1.2 would make them floats (the first
//! one infinite, which no JSON number can hold).

use crate::limits::Limits;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;
use std::fmt;

/// A YAML node as the parser types it, with where each node is, so that a scalar's text can be read back.
enum Node {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Node>, Spanned<Node>)>),
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::U64(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::I64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::F64(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Node, E> {
        Ok(Node::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some((k, v)) = map.next_entry::<Spanned<Node>, Spanned<Node>>()? {
            items.push((k, v));
        }
        Ok(Node::Map(items))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// The source text of a node (where it is defined: an alias reads its anchor's text).
fn source<'a>(node: &Spanned<Node>, text: &'a str) -> Option<&'a str> {
    let span = node.defined.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    text.get(start..start.checked_add(len)?).map(str::trim)
}

fn to_json(node: Spanned<Node>, text: &str) -> Value {
    let raw = source(&node, text);
    match node.value {
        Node::Null => Value::Null,
        // YAML 1.1's `y` and `n` are no booleans to PyYAML.
        Node::Bool(_) if raw.is_some_and(|r| matches!(r, "y" | "Y" | "n" | "N")) => {
            Value::String(raw.unwrap_or_default().to_owned())
        }
        Node::Bool(b) => Value::Bool(b),
        Node::U64(n) => Value::Number(n.into()),
        Node::I64(n) => Value::Number(n.into()),
        Node::F64(f) => {
            // YAML 1.1 floats have a dot (`.inf` and `.nan` included); anything else is the text written.
            let keep_text = raw.filter(|r| !r.contains('.') || !f.is_finite());
            match (keep_text, Number::from_f64(f)) {
                (Some(r), _) => Value::String(r.to_owned()),
                (None, Some(n)) => Value::Number(n),
                (None, None) => Value::String(f.to_string()),
            }
        }
        Node::Str(s) => Value::String(s),
        Node::Seq(items) => Value::Array(items.into_iter().map(|n| to_json(n, text)).collect()),
        Node::Map(items) => {
            let mut map = Map::new();
            for (k, v) in items {
                // A key is the text written (`1:`, `on:`, `y:` are names, not numbers or booleans).
                let raw_key = source(&k, text).map(str::to_owned);
                let key = match (to_json(k, text), raw_key) {
                    (Value::String(s), _) => s,
                    (_, Some(raw)) => raw,
                    (Value::Null, None) => String::new(),
                    (other, None) => other.to_string(),
                };
                map.insert(key, to_json(v, text));
            }
            Value::Object(map)
        }
    }
}

/// Why YAML could not be read: over the budget (a "billion laughs", too deep, too many events), or not YAML.
#[derive(Debug)]
pub(crate) struct YamlError {
    pub(crate) over_budget: bool,
    pub(crate) message: String,
}

/// Parses one YAML document within the limits' budget.
pub(crate) fn parse(text: &str, limits: &Limits) -> Result<Value, YamlError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: limits.yaml_max_events,
            max_aliases: limits.yaml_max_aliases,
            max_depth: limits.yaml_max_depth,
        },
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::PassThrough,
    };
    match serde_saphyr::from_str_with_options::<Spanned<Node>>(text, options) {
        Ok(node) => Ok(to_json(node, text)),
        Err(e) => {
            let message = e.to_string();
            let lower = message.to_ascii_lowercase();
            let over_budget = matches!(e.without_snippet(), serde_saphyr::Error::Budget { .. })
                || lower.contains("budget")
                || lower.contains("alias")
                || lower.contains("limit");
            Err(YamlError {
                over_budget,
                message,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        parse(text, &Limits::default()).unwrap()
    }

    #[test]
    fn plain_scalars_are_typed_as_yaml_1_1_tools_type_them() {
        let v = yaml(
            "a: 78e510\nb: 1e5\nc: 1.5\nd: 12\ne: '1.0'\nf: .inf\ng: -3\nh: true\ni: ~\nj: 2.5e3\n",
        );
        assert_eq!(v["a"], "78e510");
        assert_eq!(v["b"], "1e5");
        assert_eq!(v["c"], 1.5);
        assert_eq!(v["d"], 12);
        assert_eq!(v["e"], "1.0");
        assert_eq!(v["f"], ".inf");
        assert_eq!(v["g"], -3);
        assert_eq!(v["h"], true);
        assert!(v["i"].is_null());
        assert_eq!(v["j"], 2500.0);
    }

    #[test]
    fn nested_aliases_and_keys() {
        let v = yaml("x: &a {id: 9e99999}\ny: *a\n1: one\non: n\nlist: [1e3, 'q']\n");
        assert_eq!(v["x"]["id"], "9e99999");
        assert_eq!(v["y"]["id"], "9e99999");
        assert_eq!(v["1"], "one");
        assert_eq!(v["on"], "n");
        assert_eq!(v["list"][0], "1e3");
    }

    #[test]
    fn the_budget_is_the_limits() {
        let limits = Limits {
            yaml_max_depth: 3,
            ..Limits::default()
        };
        let e = parse("a: {b: {c: {d: {e: 1}}}}\n", &limits).unwrap_err();
        assert!(e.over_budget, "{}", e.message);
        assert!(!parse("a: [unclosed\n", &limits).unwrap_err().over_budget);
    }
}
