//! The app descriptor (ETSI GS MEC 010-2 AppD) as EdgeGallery writes it in its TOSCA main service template, and
//! the image descriptor `SwImageDesc.json`, as typed structs.
//!
//! EdgeGallery's template maps onto the AppD as shared/reference/csar-appstore.md §2 lists: `appDId` is the VNF
//! node's `vnfd_id`, `appName` is `app_configuration.appName` (else `product_name`), `appProvider` is
//! `provider`, `appSoftVersion` is `software_version`, `appDVersion` is `vnfd_version`; services, features and
//! rules come from the `app_configuration` node; virtual compute from the VDUs.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// The TOSCA node type of a VNF (ETSI GS NFV-SOL 001 6.8.1); SOL001 descriptors use a type derived from it.
pub(crate) const VNF_TYPE: &str = "tosca.nodes.nfv.VNF";

/// Node types declared by a template and the templates it imports: what each derives from, and its property
/// definitions.
#[derive(Debug, Default)]
pub(crate) struct NodeTypes {
    derived_from: HashMap<String, String>,
    properties: HashMap<String, serde_json::Map<String, Value>>,
}

impl NodeTypes {
    /// Adds the `node_types` of a parsed template.
    pub(crate) fn add(&mut self, doc: &Value) {
        let Some(types) = doc.get("node_types").and_then(Value::as_object) else {
            return;
        };
        for (name, t) in types {
            if let Some(base) = t.get("derived_from").and_then(Value::as_str) {
                self.derived_from.insert(name.clone(), base.to_owned());
            }
            if let Some(props) = t.get("properties").and_then(Value::as_object) {
                self.properties.insert(name.clone(), props.clone());
            }
        }
    }

    /// The chain of a type: itself, what it derives from, and so on (cycles cut).
    fn chain<'a>(&'a self, t: &'a str) -> Vec<&'a str> {
        let mut chain = vec![t];
        let mut at = t;
        while let Some(base) = self.derived_from.get(at) {
            if chain.contains(&base.as_str()) || chain.len() > self.derived_from.len() {
                break;
            }
            chain.push(base);
            at = base;
        }
        chain
    }

    /// Whether `t` is `base` or derives from it.
    pub(crate) fn derives_from(&self, t: &str, base: &str) -> bool {
        self.chain(t).contains(&base)
    }

    /// A property of a node: its own value, else the value its type (or a type it derives from) fixes: a
    /// `default`, an `equal` constraint or a single `valid_values` (as SOL001 descriptors pin `descriptor_id`).
    pub(crate) fn property(&self, node: &Value, name: &str) -> Option<Value> {
        if let Some(v) = node
            .get("properties")
            .and_then(|p| p.get(name))
            .filter(|v| !v.is_null())
        {
            return Some(v.clone());
        }
        let t = node.get("type").and_then(Value::as_str)?;
        self.chain(t).into_iter().find_map(|t| {
            let def = self.properties.get(t)?.get(name)?;
            def.get("default")
                .filter(|v| !v.is_null())
                .cloned()
                .or_else(|| {
                    def.get("constraints")?.as_array()?.iter().find_map(|c| {
                        match (c.get("equal"), c.get("valid_values")) {
                            (Some(v), _) => Some(v.clone()),
                            (None, Some(Value::Array(vs))) if vs.len() == 1 => vs.first().cloned(),
                            _ => None,
                        }
                    })
                })
        })
    }

    /// The VNF nodes of a template: nodes of type `tosca.nodes.nfv.VNF` or of a type derived from it.
    pub(crate) fn vnf_nodes<'a>(&self, doc: &'a Value) -> Vec<(&'a String, &'a Value)> {
        doc.pointer("/topology_template/node_templates")
            .and_then(Value::as_object)
            .map(|nodes| {
                nodes
                    .iter()
                    .filter(|(_, n)| {
                        n.get("type")
                            .and_then(Value::as_str)
                            .is_some_and(|t| self.derives_from(t, VNF_TYPE))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A service an app requires or produces.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ServiceRef {
    /// The service name.
    pub ser_name: String,
    /// Its version.
    pub version: Option<String>,
}

/// A platform feature an app requires.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FeatureRef {
    /// The feature name.
    pub feature_name: String,
    /// Its version.
    pub version: Option<String>,
}

/// The virtual compute of one VDU.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct VirtualCompute {
    /// The VDU's node name.
    pub node: String,
    /// Virtual CPUs.
    pub num_virtual_cpu: Option<u64>,
    /// Memory in MB.
    pub virtual_mem_size: Option<u64>,
    /// Local storage in GB.
    pub size_of_storage: Option<u64>,
    /// CPU architecture.
    pub cpu_architecture: Option<String>,
    /// The software image (`sw_image_data.name`; containers list several, comma-separated).
    pub sw_image: Option<String>,
}

/// The app descriptor of a package.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AppDescriptor {
    /// `tosca_definitions_version`.
    pub tosca_definitions_version: Option<String>,
    /// `imports`.
    pub imports: Vec<String>,
    /// `appDId`.
    pub app_d_id: Option<String>,
    /// `appName`.
    pub app_name: Option<String>,
    /// `appProvider`.
    pub app_provider: Option<String>,
    /// `appSoftVersion`.
    pub app_soft_version: Option<String>,
    /// `appDVersion`.
    pub app_d_version: Option<String>,
    /// `mecVersion` (EdgeGallery writes none).
    pub mec_version: Vec<String>,
    /// `appDescription`.
    pub app_description: Option<String>,
    /// `appServiceRequired`.
    pub services_required: Vec<ServiceRef>,
    /// `appServiceProduced`.
    pub services_produced: Vec<ServiceRef>,
    /// `appFeatureRequired`.
    pub features_required: Vec<FeatureRef>,
    /// `appSupportMp1`.
    pub app_support_mp1: Option<bool>,
    /// `appTrafficRule`, as written (MEC 010-2 shape).
    pub traffic_rules: Vec<Value>,
    /// `appDNSRule`, as written.
    pub dns_rules: Vec<Value>,
    /// The VDUs' virtual compute.
    pub virtual_compute: Vec<VirtualCompute>,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number(v: Option<&Value>) -> Option<u64> {
    match v? {
        // A fractional or negative size is not a size.
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn list(v: Option<&Value>) -> Vec<Value> {
    v.and_then(Value::as_array).cloned().unwrap_or_default()
}

impl AppDescriptor {
    /// Reads the descriptor from a parsed main service template: EdgeGallery's (a `tosca.nodes.nfv.VNF` node
    /// with `vnfd_id`, `vnfd_version`) or SOL001's (a node of a type derived from it, with `descriptor_id`,
    /// `descriptor_version`, possibly fixed by the type).
    pub fn from_template(doc: &Value) -> Self {
        let mut types = NodeTypes::default();
        types.add(doc);
        Self::from_template_with_types(doc, &types)
    }

    pub(crate) fn from_template_with_types(doc: &Value, types: &NodeTypes) -> Self {
        let vnf = types
            .vnf_nodes(doc)
            .first()
            .map(|(_, n)| (*n).clone())
            .unwrap_or_default();
        let prop = |k: &str| text(types.property(&vnf, k).as_ref());
        let nodes = doc
            .pointer("/topology_template/node_templates")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let of_type = |t: &'static str| {
            nodes
                .iter()
                .filter(move |(_, n)| n.get("type").and_then(Value::as_str) == Some(t))
        };
        let config = of_type("tosca.nodes.nfv.app.configuration")
            .map(|(_, n)| n.get("properties").cloned().unwrap_or_default())
            .next()
            .unwrap_or_default();
        let services = |key: &str| {
            list(config.get(key))
                .iter()
                .filter_map(|s| {
                    Some(ServiceRef {
                        ser_name: text(s.get("serName"))?,
                        version: text(s.get("version")),
                    })
                })
                .collect()
        };
        let virtual_compute = of_type("tosca.nodes.nfv.Vdu.Compute")
            .map(|(name, n)| {
                let p = |path: &str| {
                    n.pointer(&format!("/capabilities/virtual_compute/properties/{path}"))
                };
                VirtualCompute {
                    node: name.clone(),
                    num_virtual_cpu: number(p("virtual_cpu/num_virtual_cpu")),
                    virtual_mem_size: number(p("virtual_memory/virtual_mem_size")),
                    size_of_storage: number(p("virtual_local_storage/size_of_storage")),
                    cpu_architecture: text(p("virtual_cpu/cpu_architecture")),
                    sw_image: text(n.pointer("/properties/sw_image_data/name")),
                }
            })
            .collect();
        Self {
            tosca_definitions_version: text(doc.get("tosca_definitions_version")),
            imports: list(doc.get("imports"))
                .iter()
                .filter_map(|v| text(Some(v)))
                .collect(),
            app_d_id: prop("vnfd_id").or_else(|| prop("descriptor_id")),
            app_name: text(config.get("appName")).or_else(|| prop("product_name")),
            app_provider: prop("provider"),
            app_soft_version: prop("software_version"),
            app_d_version: prop("vnfd_version").or_else(|| prop("descriptor_version")),
            mec_version: list(config.get("mecVersion"))
                .iter()
                .filter_map(|v| text(Some(v)))
                .collect(),
            app_description: text(doc.pointer("/metadata/vnfd_description"))
                .or_else(|| prop("product_info_description")),
            services_required: services("appServiceRequired"),
            services_produced: services("appServiceProduced"),
            features_required: list(config.get("appFeatureRequired"))
                .iter()
                .filter_map(|f| {
                    Some(FeatureRef {
                        feature_name: text(f.get("featureName"))?,
                        version: text(f.get("version")),
                    })
                })
                .collect(),
            app_support_mp1: config.get("appSupportMp1").and_then(Value::as_bool),
            traffic_rules: list(config.get("appTrafficRule")),
            dns_rules: list(
                config
                    .get("appDNSRule")
                    .or_else(|| config.get("appDnsRule")),
            ),
            virtual_compute,
        }
    }
}

fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(text(Option::<Value>::deserialize(d)?.as_ref()))
}

/// One image of `Image/SwImageDesc.json` (after ETSI NFV-IFA011; EdgeGallery's consumers disagree on number or
/// string types, so every value is read as text).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SwImageDesc {
    /// Image id.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    /// Name (`image:tag` for containers).
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    /// Version.
    #[serde(default, deserialize_with = "lenient")]
    pub version: Option<String>,
    /// Checksum.
    #[serde(default, deserialize_with = "lenient")]
    pub checksum: Option<String>,
    /// Container format (`bare`, `dockerImage`).
    #[serde(default, deserialize_with = "lenient")]
    pub container_format: Option<String>,
    /// Disk format (`raw`, `qcow2`).
    #[serde(default, deserialize_with = "lenient")]
    pub disk_format: Option<String>,
    /// Minimum disk, GB.
    #[serde(default, deserialize_with = "lenient")]
    pub min_disk: Option<String>,
    /// Minimum memory, MB.
    #[serde(default, deserialize_with = "lenient")]
    pub min_ram: Option<String>,
    /// Architecture.
    #[serde(default, deserialize_with = "lenient")]
    pub architecture: Option<String>,
    /// Size.
    #[serde(default, deserialize_with = "lenient")]
    pub size: Option<String>,
    /// Where the image is: a registry reference, an in-package path (`Image/<zip>/...`) or a URL.
    #[serde(default, deserialize_with = "lenient")]
    pub sw_image: Option<String>,
    /// Operating system.
    #[serde(default, deserialize_with = "lenient")]
    pub operating_system: Option<String>,
    /// Supported virtualisation environment.
    #[serde(default, deserialize_with = "lenient")]
    pub supported_virtualisation_environment: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_edgegallerys_template() {
        let yaml = r#"
tosca_definitions_version: tosca_simple_profile_yaml_1_2
imports: [nfv_vnfd_types_v1_0.yaml]
metadata: {vnfd_description: a game}
topology_template:
  node_templates:
    Simple_VNF:
      type: tosca.nodes.nfv.VNF
      properties: {vnfd_id: snake, vnfd_version: v1.2, provider: acme, product_name: Snake, software_version: "1.0"}
    logic0:
      type: tosca.nodes.nfv.Vdu.Compute
      properties: {sw_image_data: {name: "snake:latest"}}
      capabilities:
        virtual_compute:
          properties:
            virtual_memory: {virtual_mem_size: 1024}
            virtual_cpu: {num_virtual_cpu: "2", cpu_architecture: x86}
            virtual_local_storage: {size_of_storage: 10}
    app_configuration:
      type: tosca.nodes.nfv.app.configuration
      properties:
        appName: snake
        appSupportMp1: true
        appServiceRequired: [{serName: location, version: "2.0"}]
        appServiceProduced: [{serName: score, version: "1"}]
        appFeatureRequired: [{featureName: UserApps, version: "1"}]
        appDNSRule: [{dnsRuleId: d1, domainName: snake.example, ipAddressType: IP_V4, ipAddress: 192.0.2.1}]
"#;
        let doc: Value = serde_saphyr::from_str(yaml).unwrap();
        let d = AppDescriptor::from_template(&doc);
        assert_eq!(d.app_d_id.as_deref(), Some("snake"));
        assert_eq!(d.app_name.as_deref(), Some("snake"));
        assert_eq!(d.app_soft_version.as_deref(), Some("1.0"));
        assert_eq!(d.app_d_version.as_deref(), Some("v1.2"));
        assert_eq!(d.app_description.as_deref(), Some("a game"));
        assert_eq!(d.services_required[0].ser_name, "location");
        assert_eq!(d.services_produced[0].version.as_deref(), Some("1"));
        assert_eq!(d.features_required[0].feature_name, "UserApps");
        assert_eq!(d.app_support_mp1, Some(true));
        assert_eq!(d.dns_rules.len(), 1);
        let vc = &d.virtual_compute[0];
        assert_eq!(
            (vc.num_virtual_cpu, vc.virtual_mem_size, vc.size_of_storage),
            (Some(2), Some(1024), Some(10))
        );
        assert_eq!(vc.sw_image.as_deref(), Some("snake:latest"));
        assert_eq!(d.imports, ["nfv_vnfd_types_v1_0.yaml"]);
    }

    #[test]
    fn reads_a_sol001_descriptor_whose_type_fixes_its_identity() {
        let yaml = r#"
tosca_definitions_version: tosca_simple_yaml_1_3
node_types:
  company.vnf.1_0:
    derived_from: company.base
    properties:
      descriptor_id: {type: string, constraints: [valid_values: [b1bb0ce7]], default: b1bb0ce7}
      descriptor_version: {type: string, constraints: [equal: "2.0"]}
  company.base:
    derived_from: tosca.nodes.nfv.VNF
topology_template:
  node_templates:
    vnf:
      type: company.vnf.1_0
      properties: {provider: Company, product_name: Sample, software_version: "1.0"}
"#;
        let doc: Value = serde_saphyr::from_str(yaml).unwrap();
        let d = AppDescriptor::from_template(&doc);
        assert_eq!(d.app_d_id.as_deref(), Some("b1bb0ce7"));
        assert_eq!(d.app_d_version.as_deref(), Some("2.0"));
        assert_eq!(d.app_provider.as_deref(), Some("Company"));
        let mut types = NodeTypes::default();
        types.add(&doc);
        assert!(types.derives_from("company.vnf.1_0", VNF_TYPE));
        assert!(!types.derives_from("company.base", "company.vnf.1_0"));
    }

    #[test]
    fn derivation_cycles_end() {
        let doc: Value = serde_json::json!({"node_types": {"a": {"derived_from": "b"}, "b": {"derived_from": "a"}}});
        let mut types = NodeTypes::default();
        types.add(&doc);
        assert!(!types.derives_from("a", VNF_TYPE));
    }

    #[test]
    fn reads_image_descriptors_with_numbers_or_strings() {
        // atp src/test/resources/testfile/AR.csar (shape).
        let images: Vec<SwImageDesc> = serde_json::from_str(
            r#"[{"id":"5f45","name":"snake:latest","version":"latest","checksum":"2","containerFormat":"bare","diskFormat":"raw","minDisk":3,"minRam":"6","architecture":"X86","size":688390,"swImage":"119.8.63.144/appstore/snake:latest","hw_scsi_model":"virtio-scsi"}]"#,
        )
        .unwrap();
        assert_eq!(images[0].min_disk.as_deref(), Some("3"));
        assert_eq!(images[0].min_ram.as_deref(), Some("6"));
        assert_eq!(
            images[0].sw_image.as_deref(),
            Some("119.8.63.144/appstore/snake:latest")
        );
    }
}
