//! The app descriptor (ETSI GS MEC 010-2 AppD) as EdgeGallery writes it in its TOSCA main service template, and
//! the image descriptor `SwImageDesc.json`, as typed structs.
//!
//! EdgeGallery's template maps onto the AppD as shared/reference/csar-appstore.md §2 lists: `appDId` is the VNF
//! node's `vnfd_id`, `appName` is `app_configuration.appName` (else `product_name`), `appProvider` is
//! `provider`, `appSoftVersion` is `software_version`, `appDVersion` is `vnfd_version`; services, features and
//! rules come from the `app_configuration` node; virtual compute from the VDUs.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A service an app requires or produces.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServiceRef {
    /// The service name.
    pub ser_name: String,
    /// Its version.
    pub version: Option<String>,
}

/// A platform feature an app requires.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FeatureRef {
    /// The feature name.
    pub feature_name: String,
    /// Its version.
    pub version: Option<String>,
}

/// The virtual compute of one VDU.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
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
    /// Reads the descriptor from a parsed main service template.
    pub fn from_template(doc: &Value) -> Self {
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
        let vnf = of_type("tosca.nodes.nfv.VNF")
            .map(|(_, n)| n.clone())
            .next()
            .unwrap_or_default();
        let prop = |k: &str| text(vnf.pointer(&format!("/properties/{k}")));
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
            app_d_id: prop("vnfd_id"),
            app_name: text(config.get("appName")).or_else(|| prop("product_name")),
            app_provider: prop("provider"),
            app_soft_version: prop("software_version"),
            app_d_version: prop("vnfd_version"),
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
