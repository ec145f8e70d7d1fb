//! Exemptions: findings a team has reviewed and accepted.
//!
//! An exempted finding is never dropped: it stays in the report, marked with
//! who exempted it and why (SARIF `suppressions`), and no longer counts toward
//! the exit status or the score.
//!
//! In a manifest, on the object's or the pod template's metadata:
//!
//! ```yaml
//! metadata:
//!   annotations:
//!     palisade.dev/ignore: "pss/hostNamespaces, pod/read-only-root-filesystem@exporter"
//!     palisade.dev/ignore-reason: "node-exporter reads host network statistics"
//! ```
//!
//! Each entry is a rule id or glob, optionally `@container` to limit it to one
//! container. The reason is required. With `peerAnnotations: true`, the ignore
//! annotations of kube-score, kube-linter, Checkov and Polaris count too
//! (see [`crate::peers`]). `inManifestExemptions: false` in the
//! configuration (or `--no-manifest-exemptions`) turns these off, so that
//! namespace editors cannot exempt themselves; the configuration file's own
//! exemptions still apply.

use std::collections::HashMap;

use palisade_model::{
    pod_template, Finding, InputError, InputErrorKind, Node, Object, ObjectId, Suppression,
    SuppressionKind,
};

use crate::config::Config;
use crate::date;
use crate::pattern::Pattern;

/// The annotation listing exempted rules.
pub const IGNORE_ANNOTATION: &str = "palisade.dev/ignore";
/// The annotation giving the reason; required with [`IGNORE_ANNOTATION`].
pub const REASON_ANNOTATION: &str = "palisade.dev/ignore-reason";

/// One `rule[@container]` entry of an ignore annotation.
#[derive(Debug, Clone)]
struct AnnotationEntry {
    rule: Pattern,
    container: Option<String>,
}

/// Exemptions declared on one object.
#[derive(Debug, Clone, Default)]
struct ObjectExemptions {
    entries: Vec<AnnotationEntry>,
    reason: String,
    /// Other scanners' ignore annotations, when `peerAnnotations` is on.
    peers: Vec<crate::peers::PeerExemption>,
}

/// Marks exempted findings, applies severity overrides and drops disabled
/// rules. Returns the configuration errors found in annotations (an ignore
/// annotation without a reason), located on the annotation.
pub fn apply(findings: &mut Vec<Finding>, objects: &[Object], config: &Config) -> Vec<InputError> {
    let mut errors = Vec::new();
    findings.retain(|f| !config.is_disabled(f.rule));
    for finding in findings.iter_mut() {
        if let Some(severity) = config.severity_of(finding.rule) {
            finding.severity = severity;
        }
    }

    let today = date::today();
    let active: Vec<_> = config
        .exemptions
        .iter()
        .filter(|e| {
            e.expires
                .as_deref()
                .and_then(date::parse)
                .is_none_or(|d| d >= today)
        })
        .collect();

    // Most inputs exempt nothing: skip the per-finding work unless some
    // exemption could apply.
    let annotated = config.in_manifest_exemptions
        && objects
            .iter()
            .any(|o| has_exemption_annotation(o, config.peer_annotations));
    if active.is_empty() && !annotated {
        return errors;
    }

    // Annotations are read once per object, and only for objects with findings.
    let mut by_object: HashMap<(&str, usize, &ObjectId), usize> = HashMap::new();
    for (i, object) in objects.iter().enumerate() {
        by_object.insert(
            (object.source.name.as_str(), object.document, &object.id),
            i,
        );
    }
    let mut annotations: HashMap<usize, ObjectExemptions> = HashMap::new();

    for finding in findings.iter_mut() {
        let key = (
            finding.location.file.as_str(),
            finding.location.document,
            &finding.object,
        );
        let index = by_object.get(&key).copied();
        let object = index.map(|i| &objects[i]);
        let container = object.and_then(|o| container_of(o, finding.location.field.as_deref()));

        if config.in_manifest_exemptions {
            if let (Some(i), Some(object)) = (index, object) {
                let declared = annotations.entry(i).or_insert_with(|| {
                    read_annotations(object, config.peer_annotations, &mut errors)
                });
                let hit = declared.entries.iter().any(|e| {
                    e.rule.matches(finding.rule)
                        && e.container.as_deref().is_none_or(|c| Some(c) == container)
                });
                if hit {
                    finding.suppression = Some(Suppression {
                        kind: SuppressionKind::InSource,
                        reason: declared.reason.clone(),
                        origin: format!("annotation {IGNORE_ANNOTATION}"),
                    });
                    continue;
                }
                let peer = declared
                    .peers
                    .iter()
                    .find(|p| p.rules.iter().any(|r| *r == "*" || *r == finding.rule));
                if let Some(peer) = peer {
                    finding.suppression = Some(Suppression {
                        kind: SuppressionKind::InSource,
                        reason: peer.reason.clone(),
                        origin: peer.origin.clone(),
                    });
                    continue;
                }
            }
        }

        let namespace = finding.object.namespace.as_deref().unwrap_or("");
        let object_name = format!("{}/{}", finding.object.kind, finding.object.name);
        let exemption = active.iter().find(|e| {
            e.rules.iter().any(|p| p.matches(finding.rule))
                && (e.namespaces.is_empty() || e.namespaces.iter().any(|p| p.matches(namespace)))
                && (e.objects.is_empty() || e.objects.iter().any(|p| p.matches(&object_name)))
                && (e.containers.is_empty()
                    || container.is_some_and(|c| e.containers.iter().any(|p| p.matches(c))))
        });
        if let Some(e) = exemption {
            finding.suppression = Some(Suppression {
                kind: SuppressionKind::External,
                reason: e.reason.clone(),
                origin: e.origin.clone(),
            });
        }
    }
    errors
}

/// Whether the object or its pod template carries an exemption annotation
/// (Palisade's own, or with `peers` another scanner's).
fn has_exemption_annotation(object: &Object, peers: bool) -> bool {
    let mut holders = vec![object.root.get("metadata")];
    if let Some(template) = pod_template(object) {
        holders.push(template.metadata);
    }
    holders.into_iter().flatten().any(|metadata| {
        metadata
            .get("annotations")
            .map(Node::entries)
            .unwrap_or(&[])
            .iter()
            .filter_map(|(k, _)| k.as_str())
            .any(|key| {
                key == IGNORE_ANNOTATION
                    || (peers
                        && (key.starts_with("kube-score/")
                            || key.contains("kube-linter.io/")
                            || key.starts_with("checkov.io/")
                            || key.starts_with("polaris.fairwinds.com/")))
            })
    })
}

/// The container a finding is about, from its field path (`...containers[1]...`).
fn container_of<'o>(object: &'o Object, field: Option<&str>) -> Option<&'o str> {
    let field = field?;
    let template = pod_template(object)?;
    for list in ["initContainers", "ephemeralContainers", "containers"] {
        let marker = format!("{list}[");
        // `containers[` also occurs inside `initContainers[`; require a boundary.
        let Some(start) = field
            .match_indices(&marker)
            .map(|(i, _)| i)
            .find(|&i| i == 0 || field.as_bytes()[i - 1] == b'.')
        else {
            continue;
        };
        let rest = &field[start + marker.len()..];
        let index: usize = rest.split(']').next()?.parse().ok()?;
        return template
            .spec
            .get(list)?
            .items()
            .get(index)?
            .get("name")
            .and_then(Node::as_str);
    }
    None
}

fn read_annotations(
    object: &Object,
    peers: bool,
    errors: &mut Vec<InputError>,
) -> ObjectExemptions {
    let mut result = ObjectExemptions::default();
    let mut holders = vec![object.root.get("metadata")];
    if let Some(template) = pod_template(object) {
        if template.is_template {
            holders.push(template.metadata);
        }
    }
    for metadata in holders.into_iter().flatten() {
        if peers {
            result.peers.extend(crate::peers::read(metadata));
        }
        let Some(value) = metadata.path(&["annotations", IGNORE_ANNOTATION]) else {
            continue;
        };
        let Some(text) = value.as_str() else { continue };
        let reason = metadata
            .path(&["annotations", REASON_ANNOTATION])
            .and_then(Node::as_str)
            .map(str::trim)
            .unwrap_or("");
        if reason.is_empty() {
            errors.push(InputError::new(
                InputErrorKind::Config,
                &object.source,
                value.span,
                format!(
                    "{}: {IGNORE_ANNOTATION} needs a {REASON_ANNOTATION} annotation explaining it; the exemption is not applied",
                    object.id
                ),
            ));
            continue;
        }
        if !result.reason.is_empty() && result.reason != reason {
            result.reason = format!("{}; {reason}", result.reason);
        } else {
            result.reason = reason.to_string();
        }
        for entry in text
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (rule, container) = match entry.split_once('@') {
                Some((rule, container)) => (rule, Some(container.to_string())),
                None => (entry, None),
            };
            result.entries.push(AnnotationEntry {
                rule: Pattern::rule(rule),
                container,
            });
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{load_text, LoadOptions, RuleMeta, Severity, Span};

    const RULE: RuleMeta = RuleMeta {
        id: "pod/x",
        title: "x",
        severity: Severity::Medium,
        category: "pod",
        docs: "",
        help_uri: "",
        controls: &[],
    };

    fn finding(object: &Object, field: &str) -> Finding {
        Finding::new(
            &RULE,
            object,
            Span::default(),
            Some(field.into()),
            "m".into(),
            "r".into(),
        )
    }

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    palisade.dev/ignore: pod/x@sidecar\n    palisade.dev/ignore-reason: reviewed in SEC-12\nspec:\n  template:\n    spec:\n      initContainers:\n      - name: init\n      containers:\n      - name: app\n      - name: sidecar\n";

    #[test]
    fn annotation_scoped_to_a_container() {
        let loaded = load_text("d.yaml", DEPLOYMENT, &LoadOptions::default());
        let object = &loaded.objects[0];
        let mut findings = vec![
            finding(object, "spec.template.spec.containers[1].image"),
            finding(object, "spec.template.spec.containers[0].image"),
            finding(object, "spec.template.spec.initContainers[0].image"),
        ];
        let errors = apply(&mut findings, &loaded.objects, &Config::default());
        assert!(errors.is_empty());
        let suppressed: Vec<bool> = findings.iter().map(|f| f.suppression.is_some()).collect();
        assert_eq!(suppressed, [true, false, false]);
        let s = findings[0].suppression.as_ref().expect("suppressed");
        assert_eq!(s.reason, "reviewed in SEC-12");
        assert_eq!(s.kind, SuppressionKind::InSource);
    }

    #[test]
    fn annotations_can_be_disallowed_and_need_a_reason() {
        let loaded = load_text("d.yaml", DEPLOYMENT, &LoadOptions::default());
        let mut findings = vec![finding(
            &loaded.objects[0],
            "spec.template.spec.containers[1].image",
        )];
        let config = Config {
            in_manifest_exemptions: false,
            ..Config::default()
        };
        apply(&mut findings, &loaded.objects, &config);
        assert!(findings[0].suppression.is_none());

        let no_reason =
            DEPLOYMENT.replace("    palisade.dev/ignore-reason: reviewed in SEC-12\n", "");
        let loaded = load_text("d.yaml", no_reason, &LoadOptions::default());
        let mut findings = vec![finding(
            &loaded.objects[0],
            "spec.template.spec.containers[1].image",
        )];
        let errors = apply(&mut findings, &loaded.objects, &Config::default());
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].span.start.line, 7);
        assert!(findings[0].suppression.is_none());
    }

    #[test]
    fn configuration_exemptions_match_namespace_object_and_expiry() {
        let loaded = load_text("d.yaml", DEPLOYMENT, &LoadOptions::default());
        let object = &loaded.objects[0];
        let config = crate::config::parse(
            ".palisade.yaml",
            "inManifestExemptions: false\nexemptions:\n- rules: [pod/*]\n  namespaces: [sh*]\n  objects: [Deployment/web]\n  containers: [app]\n  reason: accepted\n- rules: ['*']\n  reason: expired one\n  expires: 2020-01-01\n",
        )
        .expect("valid");
        let mut findings = vec![
            finding(object, "spec.template.spec.containers[0].image"),
            finding(object, "spec.template.spec.containers[1].image"),
        ];
        apply(&mut findings, &loaded.objects, &config);
        let s = findings[0].suppression.as_ref().expect("exempted");
        assert_eq!(s.kind, SuppressionKind::External);
        assert_eq!(s.origin, ".palisade.yaml:3");
        assert!(
            findings[1].suppression.is_none(),
            "expired exemptions do not apply"
        );
    }

    #[test]
    fn disabled_rules_and_severity_overrides() {
        let loaded = load_text("d.yaml", DEPLOYMENT, &LoadOptions::default());
        let config = crate::config::parse("c", "severity: {pod/x: critical}\n").expect("valid");
        let mut findings = vec![finding(&loaded.objects[0], "spec")];
        apply(&mut findings, &loaded.objects, &config);
        assert_eq!(findings[0].severity, Severity::Critical);
        let config = crate::config::parse("c", "rules: {disable: ['pod/*']}\n").expect("valid");
        apply(&mut findings, &loaded.objects, &config);
        assert!(findings.is_empty());
    }
}
