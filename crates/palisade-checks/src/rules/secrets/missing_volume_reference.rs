//! ## What it finds
//!
//! A pod volume that mounts a ConfigMap or Secret, or keys of one, that the
//! input does not contain: `volumes[].configMap`, `volumes[].secret`, and the
//! `configMap` / `secret` sources of `volumes[].projected`, with their
//! `items[].key`.
//!
//! The check runs only when the input has objects of that kind in the
//! workload's namespace. Volumes and sources marked `optional: true` are
//! skipped, and a Secret that another object of the input creates
//! (ExternalSecret, SealedSecret, cert-manager Certificate, Secrets Store CSI
//! SecretProviderClass, Vault Secrets Operator, 1Password item) counts as
//! present.
//!
//! ## Why it matters
//!
//! The kubelet cannot mount the volume and the pod stays in
//! `ContainerCreating`: the rollout stalls.
//!
//! ## How to fix it
//!
//! Add the missing object or key, fix the name, or mark the source
//! `optional: true`.
//!
//! ## Example
//!
//! ```yaml
//! volumes:
//! - name: tls
//!   secret: {secretName: shop-tls}   # created by the cert-manager Certificate "shop"
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use super::refs::problem;
use super::util::is_optional;
use crate::index::namespace_of;
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "secrets/missing-volume-reference",
        title: "Volumes should mount ConfigMaps and Secrets that exist",
        severity: Severity::Medium,
        category: "secrets",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/storage/volumes/#configmap",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

/// `(kind, name field)` of a volume source key.
fn source_kind(key: &str) -> Option<(&'static str, &'static str)> {
    match key {
        "configMap" => Some(("ConfigMap", "name")),
        "secret" => Some(("Secret", "secretName")),
        _ => None,
    }
}

fn check_source(
    cx: &Cx<'_>,
    object: &Object,
    sink: &mut Sink<'_>,
    source: &Node,
    (kind, name_field): (&str, &str),
    field: String,
    volume: &str,
) {
    let ns = namespace_of(object);
    let name = source.get(name_field).and_then(Node::as_str).unwrap_or("");
    let keys: Vec<&str> = source
        .get("items")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|i| i.get("key").and_then(Node::as_str))
        .collect();
    if let Some(p) = problem(cx, ns, kind, name, &keys, is_optional(source)) {
        sink.report(
            source,
            field,
            format!("volume {volume:?} of {} cannot be mounted: {p}", object.id),
            "Add the missing object or key, fix the reference, or mark it optional: true.",
        );
    }
}

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = palisade_model::pod_template(object) else {
        return;
    };
    for (i, volume) in pod
        .spec
        .get("volumes")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let volume_name = volume.get("name").and_then(Node::as_str).unwrap_or("?");
        for (key, source) in volume.entries() {
            let Some(key) = key.as_str() else { continue };
            if let Some((kind, name_field)) = source_kind(key) {
                let field = pod.field_path(&format!("volumes[{i}].{key}"));
                check_source(
                    cx,
                    object,
                    sink,
                    source,
                    (kind, name_field),
                    field,
                    volume_name,
                );
            }
        }
        let sources = volume
            .path(&["projected", "sources"])
            .map(Node::items)
            .unwrap_or(&[]);
        for (j, projection) in sources.iter().enumerate() {
            for key in ["configMap", "secret"] {
                let Some(source) = projection.get(key) else {
                    continue;
                };
                let kind = if key == "configMap" {
                    "ConfigMap"
                } else {
                    "Secret"
                };
                let field = pod.field_path(&format!("volumes[{i}].projected.sources[{j}].{key}"));
                check_source(cx, object, sink, source, (kind, "name"), field, volume_name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const OBJECTS: &str = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: shop}\ndata: {a: b}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\ndata: {password: eA==}\n---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: shop, namespace: shop}\nspec: {secretName: shop-tls}\n";

    fn deploy(volumes: &str) -> String {
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d, namespace: shop}}\nspec:\n  template:\n    spec:\n      containers: [{{name: a, image: x}}]\n      volumes:\n{volumes}")
    }

    #[test]
    fn flags_missing_objects_and_keys() {
        let yaml = format!(
            "{}{OBJECTS}",
            deploy("      - {name: c, configMap: {name: nope}}\n      - {name: s, secret: {secretName: db, items: [{key: user, path: u}]}}\n      - name: p\n        projected:\n          sources:\n          - secret: {name: gone}\n          - configMap: {name: cm}\n")
        );
        let findings = run(&RULE, &yaml);
        assert_eq!(positions(&findings), [(9, 30), (10, 27), (14, 21)]);
        assert_eq!(
            findings[2].location.field.as_deref(),
            Some("spec.template.spec.volumes[2].projected.sources[0].secret")
        );
        assert!(findings[1].message.contains("has no key user"));
    }

    #[test]
    fn passes_present_optional_and_produced() {
        let yaml = format!(
            "{}{OBJECTS}",
            deploy("      - {name: c, configMap: {name: cm, items: [{key: a, path: a}]}}\n      - {name: t, secret: {secretName: shop-tls}}\n      - {name: o, secret: {secretName: gone, optional: true}}\n")
        );
        assert!(run(&RULE, &yaml).is_empty());
        assert!(run(
            &RULE,
            &deploy("      - {name: c, configMap: {name: nope}}\n")
        )
        .is_empty());
    }
}
