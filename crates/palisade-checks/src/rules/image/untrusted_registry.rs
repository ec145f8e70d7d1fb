//! ## What it finds
//!
//! A container image that does not come from one of the registries allowed
//! in the configuration (`allowed-registries`). The check is silent when no
//! registries are configured.
//!
//! Each allowed entry is a prefix of the fully qualified image name:
//! `registry.example.com` allows every image on that host (but not on
//! `registry.example.com.evil.io` nor on `registry.example.com:5000`);
//! `ghcr.io/acme/` allows only that organisation. Images are compared as
//! containerd resolves them, so `nginx` is `docker.io/library/nginx`, and
//! `index.docker.io` is `docker.io`. Host names are compared case-blind.
//! Unrendered templates (`{{ .Values.image }}`) are not judged.
//!
//! ## Why it matters
//!
//! An allow-list of registries is how an organisation makes sure that what
//! runs was built by its pipeline and passed its scanning and signing, and
//! that a typo or a copied example does not pull an unknown public image.
//!
//! ## How to fix it
//!
//! Mirror or rebuild the image into an allowed registry and reference it
//! there, or add the registry to the allow-list after review.
//!
//! ## Example
//!
//! ```yaml
//! # palisade configuration: allowed-registries: [registry.example.com, ghcr.io/acme/]
//! containers:
//! - name: app
//!   image: registry.example.com/mirror/nginx:1.27
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{canonical_host, parse};
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "image/untrusted-registry",
        title: "Images must come from an allowed registry",
        severity: Severity::High,
        category: "image",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/containers/images/",
        controls: &[Control::nsa("image-scanning"), Control::mitre("T1525")],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

/// An allow-list entry in the canonical form of image names.
fn canonical_entry(entry: &str) -> String {
    let entry = entry.trim();
    let entry = entry
        .strip_prefix("https://")
        .or_else(|| entry.strip_prefix("http://"))
        .unwrap_or(entry);
    match entry.split_once('/') {
        Some((host, rest)) => format!("{}/{}", canonical_host(host), rest.to_ascii_lowercase()),
        None => canonical_host(entry),
    }
}

/// Whether the canonical image name `name` is allowed by the canonical `entry`.
pub(crate) fn allows(entry: &str, name: &str) -> bool {
    if entry.is_empty() || !name.starts_with(entry) {
        return false;
    }
    if entry.ends_with('/') || name.len() == entry.len() {
        return true;
    }
    let next = name.as_bytes().get(entry.len()).copied();
    if entry.contains('/') {
        matches!(next, Some(b'/' | b':' | b'@'))
    } else {
        next == Some(b'/')
    }
}

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if cx.options.allowed_registries.is_empty() {
        return;
    }
    let entries: Vec<String> = cx
        .options
        .allowed_registries
        .iter()
        .map(|e| canonical_entry(e))
        .filter(|e| !e.is_empty())
        .collect();
    if entries.is_empty() {
        return;
    }
    each_container(object, |c| {
        let Some(node) = c.node().get("image") else {
            return;
        };
        let Some(image) = node.as_str() else { return };
        let Some(reference) = parse(image) else {
            return;
        };
        let name = reference.canonical();
        if entries.iter().any(|e| allows(e, &name)) {
            return;
        }
        sink.report(
            node,
            c.field("image"),
            format!(
                "{} image {image:?} comes from registry {:?}, which is not in the allowed registries",
                c.describe(),
                reference.host()
            ),
            format!(
                "Use an image from an allowed registry ({}), mirroring it there if needed.",
                cx.options.allowed_registries.join(", ")
            ),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::{allows, RULE};
    use crate::testing::{positions, run, run_with};
    use crate::CheckOptions;

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: registry.example.com/app:1}\n  - {name: b, image: nginx:1.27}\n  - {name: c, image: registry.example.com.evil.io/app:1}\n  - {name: d, image: 'registry.example.com:5000/app:1'}\n  - {name: e, image: ghcr.io/acme/tool:2}\n  - {name: f, image: ghcr.io/acme-evil/tool:2}\n";

    #[test]
    fn prefixes_respect_boundaries() {
        assert!(allows("docker.io/library/", "docker.io/library/nginx:1"));
        assert!(allows("ghcr.io/acme", "ghcr.io/acme/x"));
        assert!(!allows("ghcr.io/acme", "ghcr.io/acmex/x"));
        assert!(!allows("quay.io", "quay.io:443/x"));
    }

    #[test]
    fn silent_without_configuration() {
        assert!(run(&RULE, POD).is_empty());
    }

    #[test]
    fn flags_images_outside_the_allow_list() {
        let options = CheckOptions {
            allowed_registries: vec!["Registry.Example.com".into(), "ghcr.io/acme".into()],
            ..CheckOptions::default()
        };
        let findings = run_with(&RULE, POD, &options);
        assert_eq!(positions(&findings), [(7, 22), (8, 22), (9, 22), (11, 22)]);
        assert!(findings[0].message.contains("registry \"docker.io\""));
        let options = CheckOptions {
            allowed_registries: vec!["index.docker.io/library/".into()],
            ..CheckOptions::default()
        };
        let findings = run_with(&RULE, POD, &options);
        assert_eq!(findings.len(), 5);
    }
}
