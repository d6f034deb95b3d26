//! The answer table: the ACTIVE DNS rules turned into records, by name, rebuilt whenever the rules change.

use hickory_server::proto::rr::rdata::{A, AAAA};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use mec_mp1::model::{DnsRule, IpAddressType};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// The largest TTL a record may carry (RFC 2181 section 8: the top bit is not used).
const MAX_TTL: u32 = i32::MAX as u32;

/// The records held for one name.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Records {
    pub(crate) a: Vec<Record>,
    pub(crate) aaaa: Vec<Record>,
}

/// How a name was found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Found<'a> {
    /// A rule for this very name.
    Exact(&'a Records),
    /// The wildcard rule (`*.parent`) of its nearest enclosing domain.
    Wildcard(&'a Records),
}

/// A rule that cannot be answered, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unusable {
    pub(crate) owner: String,
    pub(crate) rule_id: String,
    pub(crate) reason: String,
}

/// A name claimed by several app instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conflict {
    pub(crate) name: String,
    pub(crate) answered: String,
    pub(crate) ignored: Vec<String>,
}

/// The addresses (with their TTLs) each app instance claims for one name.
type Claims<'a> = BTreeMap<&'a str, Vec<(IpAddr, u32)>>;

/// Every name the responder answers.
#[derive(Debug, Default)]
pub(crate) struct AnswerTable {
    exact: HashMap<LowerName, Records>,
    /// Wildcard rules (`*.example.com`), by the domain they cover (`example.com`).
    wildcards: HashMap<LowerName, Records>,
    /// The app instance answered for each name (as written in its rules, `*.` included).
    owners: HashMap<LowerName, String>,
    pub(crate) conflicts: Vec<Conflict>,
    pub(crate) unusable: Vec<Unusable>,
}

/// A rule's name, fully qualified. Labels are taken as written (the rules' validation allows letters, digits,
/// `-`, `_` and `*`), so `a*b` is a literal label; only a label that is `*` alone makes a wildcard.
fn rule_name(domain: &str) -> Result<LowerName, String> {
    let trimmed = domain.strip_suffix('.').unwrap_or(domain);
    if trimmed.is_empty() {
        return Err(format!("domainName {domain:?} is the root"));
    }
    let name = Name::from_labels(trimmed.split('.').map(str::as_bytes))
        .map_err(|e| format!("domainName {domain:?}: {e}"))?;
    Ok(LowerName::new(&name))
}

fn rule_address(rule: &DnsRule) -> Result<IpAddr, String> {
    let ip: IpAddr = rule
        .ip_address
        .trim()
        .parse()
        .map_err(|_| format!("ipAddress {:?} is not an IP address", rule.ip_address))?;
    match (&rule.ip_address_type, ip) {
        (IpAddressType::IpV4, IpAddr::V4(_)) | (IpAddressType::IpV6, IpAddr::V6(_)) => Ok(ip),
        (t, _) => Err(format!(
            "ipAddress {} does not match ipAddressType {}",
            rule.ip_address,
            t.as_str()
        )),
    }
}

impl AnswerTable {
    /// The table for `rules` (every ACTIVE rule with its owner). Where several app instances claim one name,
    /// the one `previous` answered keeps it; a name claimed by several for the first time goes to the lowest app
    /// instance id. Rules without a TTL get `default_ttl`.
    pub(crate) fn build(rules: &[(String, DnsRule)], previous: &Self, default_ttl: u32) -> Self {
        let mut table = Self::default();
        // name -> owner -> (address, ttl); BTreeMaps so the outcome does not depend on the order of `rules`.
        let mut claims: HashMap<LowerName, Claims<'_>> = HashMap::new();
        for (owner, rule) in rules {
            let parsed = rule_name(&rule.domain_name).and_then(|n| Ok((n, rule_address(rule)?)));
            match parsed {
                Ok((name, ip)) => {
                    let ttl = rule.ttl.unwrap_or(default_ttl).min(MAX_TTL);
                    claims
                        .entry(name)
                        .or_default()
                        .entry(owner.as_str())
                        .or_default()
                        .push((ip, ttl));
                }
                Err(reason) => table.unusable.push(Unusable {
                    owner: owner.clone(),
                    rule_id: rule.dns_rule_id.clone(),
                    reason,
                }),
            }
        }
        for (name, owners) in claims {
            let kept = previous
                .owners
                .get(&name)
                .and_then(|o| owners.get_key_value(o.as_str()));
            let Some((&owner, addresses)) = kept.or_else(|| owners.iter().next()) else {
                continue;
            };
            if owners.len() > 1 {
                table.conflicts.push(Conflict {
                    name: name.to_string(),
                    answered: owner.to_owned(),
                    ignored: owners
                        .keys()
                        .filter(|o| **o != owner)
                        .map(|o| (*o).to_owned())
                        .collect(),
                });
            }
            let records = records(&name, addresses);
            table.owners.insert(name.clone(), owner.to_owned());
            if name.is_wildcard() {
                table.wildcards.insert(name.base_name(), records);
            } else {
                table.exact.insert(name, records);
            }
        }
        table.conflicts.sort_by(|a, b| a.name.cmp(&b.name));
        table
    }

    /// The records for `name`: its own rules, else the wildcard rule of its nearest enclosing domain.
    pub(crate) fn find(&self, name: &LowerName) -> Option<Found<'_>> {
        if let Some(r) = self.exact.get(name) {
            return Some(Found::Exact(r));
        }
        if self.wildcards.is_empty() {
            return None;
        }
        let mut parent = name.clone();
        while !parent.is_root() {
            parent = parent.base_name();
            if let Some(r) = self.wildcards.get(&parent) {
                return Some(Found::Wildcard(r));
            }
        }
        None
    }

    /// How many names (exact and wildcard) are answered.
    pub(crate) fn len(&self) -> usize {
        self.exact.len() + self.wildcards.len()
    }
}

/// The A and AAAA records of one name. One RRset has one TTL (RFC 2181 section 5.2): the lowest of its rules'.
fn records(name: &LowerName, addresses: &[(IpAddr, u32)]) -> Records {
    let owner = Name::from(name);
    let mut out = Records::default();
    let ttl_of = |v6: bool| {
        addresses
            .iter()
            .filter(|(ip, _)| ip.is_ipv6() == v6)
            .map(|(_, t)| *t)
            .min()
            .unwrap_or(0)
    };
    let (ttl4, ttl6) = (ttl_of(false), ttl_of(true));
    for (ip, _) in addresses {
        let (set, data, ttl) = match ip {
            IpAddr::V4(v4) => (&mut out.a, RData::A(A(*v4)), ttl4),
            IpAddr::V6(v6) => (&mut out.aaaa, RData::AAAA(AAAA(*v6)), ttl6),
        };
        if !set.iter().any(|r| r.data == data) {
            set.push(Record::from_rdata(owner.clone(), ttl, data));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mec_mp1::model::RuleState;

    fn rule(id: &str, name: &str, ip: &str, ttl: Option<u32>) -> DnsRule {
        let family = if ip.contains(':') {
            IpAddressType::IpV6
        } else {
            IpAddressType::IpV4
        };
        let mut rule = DnsRule::new(id, name, family, ip).with_state(RuleState::Active);
        rule.ttl = ttl;
        rule
    }

    fn lower(name: &str) -> LowerName {
        rule_name(name).unwrap()
    }

    fn addresses(found: Option<Found<'_>>) -> Vec<String> {
        let Some(Found::Exact(r) | Found::Wildcard(r)) = found else {
            return Vec::new();
        };
        r.a.iter()
            .chain(&r.aaaa)
            .map(|r| r.data.to_string())
            .collect()
    }

    #[test]
    fn names_match_case_insensitively_with_or_without_the_final_dot() {
        let t = AnswerTable::build(
            &[("app".into(), rule("r", "App.Example.COM", "10.0.0.1", None))],
            &AnswerTable::default(),
            30,
        );
        assert_eq!(addresses(t.find(&lower("app.example.com."))), ["10.0.0.1"]);
        assert_eq!(addresses(t.find(&lower("APP.EXAMPLE.com."))), ["10.0.0.1"]);
        assert!(t.find(&lower("x.app.example.com.")).is_none());
        assert!(t.find(&lower("example.com.")).is_none());
        let Some(Found::Exact(r)) = t.find(&lower("app.example.com.")) else {
            panic!("not found")
        };
        assert_eq!(r.a[0].ttl, 30, "the default TTL");
    }

    #[test]
    fn one_rrset_has_the_lowest_ttl_and_no_duplicates() {
        let rules = [
            (
                "app".into(),
                rule("1", "a.example.com", "10.0.0.1", Some(300)),
            ),
            (
                "app".into(),
                rule("2", "a.example.com.", "10.0.0.2", Some(60)),
            ),
            (
                "app".into(),
                rule("3", "a.example.com", "10.0.0.2", Some(60)),
            ),
            (
                "app".into(),
                rule("4", "a.example.com", "2001:db8::1", Some(7)),
            ),
            (
                "app".into(),
                rule("5", "b.example.com", "10.0.0.3", Some(u32::MAX)),
            ),
        ];
        let t = AnswerTable::build(&rules, &AnswerTable::default(), 30);
        let Some(Found::Exact(r)) = t.find(&lower("a.example.com.")) else {
            panic!("not found")
        };
        assert_eq!(r.a.len(), 2);
        assert!(r.a.iter().all(|r| r.ttl == 60));
        assert_eq!(r.aaaa.len(), 1);
        assert_eq!(r.aaaa[0].ttl, 7);
        let Some(Found::Exact(r)) = t.find(&lower("b.example.com.")) else {
            panic!("not found")
        };
        assert_eq!(r.a[0].ttl, i32::MAX as u32, "RFC 2181 caps TTLs");
    }

    #[test]
    fn wildcards_cover_names_below_their_domain_and_exact_names_win() {
        let rules = [
            ("app".into(), rule("1", "*.example.com", "10.0.0.1", None)),
            ("app".into(), rule("2", "*.b.example.com", "10.0.0.2", None)),
            ("app".into(), rule("3", "c.example.com", "10.0.0.3", None)),
        ];
        let t = AnswerTable::build(&rules, &AnswerTable::default(), 30);
        assert!(matches!(
            t.find(&lower("x.example.com.")),
            Some(Found::Wildcard(_))
        ));
        assert_eq!(addresses(t.find(&lower("x.y.example.com."))), ["10.0.0.1"]);
        assert_eq!(addresses(t.find(&lower("x.b.example.com."))), ["10.0.0.2"]);
        assert_eq!(addresses(t.find(&lower("b.example.com."))), ["10.0.0.1"]);
        assert_eq!(addresses(t.find(&lower("c.example.com."))), ["10.0.0.3"]);
        assert_eq!(addresses(t.find(&lower("*.example.com."))), ["10.0.0.1"]);
        assert!(t.find(&lower("example.com.")).is_none());
        assert!(t.find(&lower("example.org.")).is_none());
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn a_star_inside_a_label_is_literal() {
        let rules = [("app".into(), rule("1", "a*b.example.com", "10.0.0.1", None))];
        let t = AnswerTable::build(&rules, &AnswerTable::default(), 30);
        assert!(t.find(&lower("axb.example.com.")).is_none());
        assert!(t.find(&lower("a*b.example.com.")).is_some());
    }

    #[test]
    fn the_first_claimant_keeps_a_name() {
        let first = AnswerTable::build(
            &[(
                "zeta".into(),
                rule("1", "svc.example.com", "10.0.0.9", None),
            )],
            &AnswerTable::default(),
            30,
        );
        let both = [
            (
                "alpha".into(),
                rule("1", "svc.example.com", "10.0.0.1", None),
            ),
            (
                "zeta".into(),
                rule("1", "svc.example.com", "10.0.0.9", None),
            ),
        ];
        let later = AnswerTable::build(&both, &first, 30);
        assert_eq!(
            addresses(later.find(&lower("svc.example.com."))),
            ["10.0.0.9"]
        );
        assert_eq!(later.conflicts.len(), 1);
        assert_eq!(later.conflicts[0].answered, "zeta");
        assert_eq!(later.conflicts[0].ignored, ["alpha"]);
        // Without history, the lowest app instance id.
        let fresh = AnswerTable::build(&both, &AnswerTable::default(), 30);
        assert_eq!(
            addresses(fresh.find(&lower("svc.example.com."))),
            ["10.0.0.1"]
        );
        // Once the first leaves, the other gets it.
        let after = AnswerTable::build(&both[..1], &later, 30);
        assert_eq!(
            addresses(after.find(&lower("svc.example.com."))),
            ["10.0.0.1"]
        );
        assert!(after.conflicts.is_empty());
    }

    #[test]
    fn unusable_rules_are_listed_not_answered() {
        let mut mismatched = rule("2", "b.example.com", "10.0.0.2", None);
        mismatched.ip_address_type = IpAddressType::IpV6;
        let rules = [
            ("app".into(), rule("1", "bad..name", "10.0.0.1", None)),
            ("app".into(), mismatched),
            ("app".into(), rule("3", "c.example.com", "not-an-ip", None)),
        ];
        let t = AnswerTable::build(&rules, &AnswerTable::default(), 30);
        assert_eq!(t.len(), 0);
        assert_eq!(t.unusable.len(), 3);
        assert!(t.unusable[1].reason.contains("does not match"));
    }
}
