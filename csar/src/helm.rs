//! A Helm chart from plain Kubernetes YAML, as EdgeGallery's developer platform makes one for apps described only
//! by their deployment files: `Chart.yaml` and `values.yaml` written, the files copied to `templates/`, container
//! images optionally rewritten to come from a registry set in the values, all as a deterministic `.tgz`.

use crate::Error;
use serde_json::Value;
use std::io::Write;

/// One Kubernetes YAML file to put in the chart.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KubernetesFile {
    /// Its file name under `templates/`.
    pub name: String,
    /// Its text (one or more YAML documents).
    pub text: String,
}

/// Options of [`helm_chart_from_yaml`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChartOptions {
    /// The chart's name (EdgeGallery: the first file's base name).
    pub name: String,
    /// The chart's version.
    pub version: String,
    /// Rewrite `image: repo/name:tag` to `{{ .Values.imagelocation.domainname }}/{{ .Values.imagelocation.project
    /// }}/name:tag`, as EdgeGallery does so that its AppStore can move images to its own registry.
    pub rewrite_images: bool,
}

impl KubernetesFile {
    /// The file `name` (under `templates/`) with `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }
}

impl ChartOptions {
    /// The chart `name` `version`, images kept as written.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            rewrite_images: false,
        }
    }

    /// Sets whether images are rewritten to come from the registry set in the values (as EdgeGallery does).
    #[must_use]
    pub fn with_rewrite_images(mut self, rewrite: bool) -> Self {
        self.rewrite_images = rewrite;
        self
    }
}

/// Checks that every document of a file is a Kubernetes object (`apiVersion`, `kind`, `metadata.name`).
fn check_objects(file: &KubernetesFile) -> Result<usize, Error> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(&file.text)
        .map_err(|e| Error::Build(format!("{}: not valid YAML: {e}", file.name)))?;
    let mut objects = 0;
    for (i, doc) in docs.iter().enumerate() {
        if doc.is_null() {
            continue;
        }
        for member in ["apiVersion", "kind"] {
            if doc.get(member).and_then(Value::as_str).is_none() {
                return Err(Error::Build(format!(
                    "{} document {}: not a Kubernetes object (no {member})",
                    file.name,
                    i + 1
                )));
            }
        }
        if doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .is_none()
        {
            return Err(Error::Build(format!(
                "{} document {}: no metadata.name",
                file.name,
                i + 1
            )));
        }
        objects += 1;
    }
    if objects == 0 {
        return Err(Error::Build(format!("{}: no Kubernetes object", file.name)));
    }
    Ok(objects)
}

/// Replaces the registry and project of every `image:` line with the chart values.
fn rewrite_images(text: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let Some(rest) = trimmed.strip_prefix("image:").or_else(|| trimmed.strip_prefix("- image:")) else {
                return line.to_owned();
            };
            let image = rest.trim().trim_matches(|c| c == '"' || c == '\'');
            if image.is_empty() || image.contains("{{") {
                return line.to_owned();
            }
            let last = image.rsplit('/').next().unwrap_or(image);
            let indent = &line[..line.len() - trimmed.len()];
            let key = if trimmed.starts_with("- ") { "- image:" } else { "image:" };
            format!("{indent}{key} \"{{{{ .Values.imagelocation.domainname }}}}/{{{{ .Values.imagelocation.project }}}}/{last}\"")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

/// Builds the chart as gzip'd tar bytes (a directory `<name>/` with `Chart.yaml`, `values.yaml` and
/// `templates/`). Fails when a file is not Kubernetes YAML or names clash.
pub fn helm_chart_from_yaml(
    files: &[KubernetesFile],
    options: &ChartOptions,
) -> Result<Vec<u8>, Error> {
    if files.is_empty() {
        return Err(Error::Build("no Kubernetes YAML file given".into()));
    }
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if !valid_name(&options.name) {
        return Err(Error::Build(format!(
            "chart name {:?}: lower-case letters, digits and '-' only",
            options.name
        )));
    }
    let mut names = std::collections::BTreeSet::new();
    for f in files {
        check_objects(f)?;
        if f.name.contains('/')
            || f.name.contains('\\')
            || f.name.starts_with('.')
            || !names.insert(f.name.clone())
        {
            return Err(Error::Build(format!(
                "template file name {:?} is unsafe or given twice",
                f.name
            )));
        }
    }
    let chart_yaml = format!(
        "apiVersion: v1\nappVersion: \"{v}\"\ndescription: {n}, packaged by mec-csar\nname: {n}\nversion: {v}\n",
        n = options.name,
        v = options.version
    );
    let values_yaml =
        "imagelocation:\n  domainname: registry.example.com\n  project: edgegallery\n".to_owned();
    let mut entries: Vec<(String, Vec<u8>)> = vec![
        (
            format!("{}/Chart.yaml", options.name),
            chart_yaml.into_bytes(),
        ),
        (
            format!("{}/values.yaml", options.name),
            values_yaml.into_bytes(),
        ),
    ];
    let mut sorted: Vec<&KubernetesFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for f in sorted {
        let text = if options.rewrite_images {
            rewrite_images(&f.text)
        } else {
            f.text.clone()
        };
        entries.push((
            format!("{}/templates/{}", options.name, f.name),
            text.into_bytes(),
        ));
    }
    let mut tar = tar::Builder::new(Vec::new());
    tar.mode(tar::HeaderMode::Deterministic);
    for (path, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, &path, data.as_slice())
            .map_err(|e| Error::Build(format!("{path}: {e}")))?;
    }
    let raw = tar.into_inner().map_err(|e| Error::Build(e.to_string()))?;
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw)
        .map_err(|e| Error::Build(e.to_string()))?;
    gz.finish().map_err(|e| Error::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: demo\nspec:\n  template:\n    spec:\n      containers:\n        - name: demo\n          image: docker.io/library/nginx:1.25\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: demo\n";

    fn options() -> ChartOptions {
        ChartOptions {
            name: "demo".into(),
            version: "1.0.0".into(),
            rewrite_images: true,
        }
    }

    #[test]
    fn builds_a_deterministic_chart_with_rewritten_images() {
        let files = [KubernetesFile {
            name: "demo.yaml".into(),
            text: DEPLOYMENT.into(),
        }];
        let a = helm_chart_from_yaml(&files, &options()).unwrap();
        assert_eq!(a, helm_chart_from_yaml(&files, &options()).unwrap());
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(a.as_slice()));
        let mut found = Vec::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut e, &mut text).unwrap();
            found.push((path, text));
        }
        let names: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "demo/Chart.yaml",
                "demo/values.yaml",
                "demo/templates/demo.yaml"
            ]
        );
        assert!(found[2].1.contains("image: \"{{ .Values.imagelocation.domainname }}/{{ .Values.imagelocation.project }}/nginx:1.25\""));
        assert!(found[0].1.contains("version: 1.0.0"));
    }

    #[test]
    fn refuses_what_is_not_kubernetes_yaml() {
        let bad = |text: &str| {
            helm_chart_from_yaml(
                &[KubernetesFile {
                    name: "x.yaml".into(),
                    text: text.into(),
                }],
                &options(),
            )
            .unwrap_err()
        };
        assert!(bad("just: data\n").to_string().contains("no apiVersion"));
        assert!(
            bad("apiVersion: v1\nkind: Service\n")
                .to_string()
                .contains("metadata.name")
        );
        assert!(
            bad("key: [unclosed\n")
                .to_string()
                .contains("not valid YAML")
        );
        assert!(bad("").to_string().contains("no Kubernetes object"));
        let two = [
            KubernetesFile {
                name: "a.yaml".into(),
                text: DEPLOYMENT.into(),
            },
            KubernetesFile {
                name: "a.yaml".into(),
                text: DEPLOYMENT.into(),
            },
        ];
        assert!(helm_chart_from_yaml(&two, &options()).is_err());
        let mut o = options();
        o.name = "Bad Name".into();
        assert!(helm_chart_from_yaml(&two[..1], &o).is_err());
    }
}
