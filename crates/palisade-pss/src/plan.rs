//! The safe path to `enforce: restricted`, namespace by namespace.
//!
//! For every namespace of the input: the strictest Pod Security level that
//! all its running pods already satisfy (evaluated with [`evaluate`] and
//! [`aggregate`], exactly as the admission plugin judges a pod), the pods
//! that would break at the next level with upstream's reasons, and the
//! labels that move the namespace forward without breaking anything:
//! `enforce` at the level already satisfied, `warn` and `audit` at the next
//! one (so that new violations surface before they are enforced).
//!
//! Pods in a terminal phase (`Succeeded`, `Failed`) are not counted: they do
//! not run and will not be admitted again. When labelling a namespace with a
//! stricter `enforce`, the API server itself lists the running pods that
//! would violate it as warnings (`kubectl label --dry-run=server` shows them
//! without changing anything); this plan says the same, pod by pod, offline.

use std::collections::BTreeMap;

use palisade_model::Object;

use crate::evaluate::{aggregate, evaluate};
use crate::namespace::{
    LabelError, NamespacePolicy, AUDIT_LABEL, AUDIT_VERSION_LABEL, ENFORCE_LABEL,
    ENFORCE_VERSION_LABEL, WARN_LABEL, WARN_VERSION_LABEL,
};
use crate::policy::{Level, Policy, Version};

/// How to plan.
#[derive(Debug, Clone, Copy)]
pub struct PlanOptions {
    /// The Pod Security version pods are judged at; a `v1.x` version is also
    /// pinned in the recommended labels.
    pub version: Version,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            version: Version::Latest,
        }
    }
}

/// One pod that would be rejected at a level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodVerdict {
    pub name: String,
    /// Its controller (`ReplicaSet/web-7d4b9`), if any.
    pub owner: Option<String>,
    /// Upstream's forbidden reasons (`privileged`, `allowPrivilegeEscalation != false`).
    pub reasons: Vec<String>,
    /// Upstream's detail: `privileged (container "app" must not set ...)`, comma-separated.
    pub detail: String,
}

/// The plan for one namespace.
#[derive(Debug, Clone)]
pub struct NamespacePlan {
    pub namespace: String,
    /// Whether a Namespace object was in the input (else its labels are unknown).
    pub namespace_known: bool,
    /// Its current policy, as the admission plugin reads the labels.
    pub current: NamespacePolicy,
    pub label_errors: Vec<LabelError>,
    /// The current `pod-security.kubernetes.io/*` labels.
    pub current_labels: BTreeMap<String, String>,
    /// Running pods judged.
    pub pods: usize,
    /// The strictest level every running pod satisfies.
    pub satisfied: Level,
    /// The level after it, if any.
    pub next: Option<Level>,
    /// The pods that `next` would reject.
    pub blocking: Vec<PodVerdict>,
    /// Running pods that the current `enforce` level rejects (admitted before
    /// the label was set, or exempt): they would not be admitted again.
    pub violating_enforce: Vec<PodVerdict>,
    /// The labels to set (only those that change), in order.
    pub labels: Vec<(String, String)>,
}

impl NamespacePlan {
    /// `kubectl label --overwrite namespace NS k=v ...`, when a label changes.
    pub fn command(&self) -> Option<String> {
        (!self.labels.is_empty()).then(|| {
            let labels: Vec<String> = self
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!(
                "kubectl label --overwrite namespace {} {}",
                self.namespace,
                labels.join(" ")
            )
        })
    }

    /// Whether the namespace already enforces `restricted`.
    pub fn done(&self) -> bool {
        self.current.enforce.level == Level::Restricted
    }
}

fn next_level(level: Level) -> Option<Level> {
    match level {
        Level::Privileged => Some(Level::Baseline),
        Level::Baseline => Some(Level::Restricted),
        Level::Restricted => None,
    }
}

fn is_running(pod: &Object) -> bool {
    !matches!(
        pod.root.path(&["status", "phase"]).and_then(|n| n.as_str()),
        Some("Succeeded" | "Failed")
    )
}

fn verdict(pod: &Object, policy: Policy) -> Option<PodVerdict> {
    let spec = pod.root.get("spec")?;
    let results = evaluate(policy, pod.root.get("metadata"), spec);
    let aggregate = aggregate(&results);
    if aggregate.allowed {
        return None;
    }
    let owner = pod
        .root
        .path(&["metadata", "ownerReferences"])
        .map(|n| n.items())
        .unwrap_or(&[])
        .iter()
        .find(|o| o.get("controller").and_then(|c| c.as_bool()) == Some(true))
        .or_else(|| {
            pod.root
                .path(&["metadata", "ownerReferences"])
                .and_then(|n| n.items().first())
        })
        .map(|o| {
            format!(
                "{}/{}",
                o.get("kind").and_then(|k| k.as_str()).unwrap_or("?"),
                o.get("name").and_then(|k| k.as_str()).unwrap_or("?")
            )
        });
    Some(PodVerdict {
        name: pod.id.name.clone(),
        owner,
        detail: aggregate.forbidden_detail(),
        reasons: aggregate.forbidden_reasons,
    })
}

/// The plan for every namespace of `objects` (Namespaces, and namespaces of
/// Pods), sorted by name. Pods are the `Pod` objects; workloads' templates
/// are not judged (they are not running pods).
pub fn plan(objects: &[Object], options: PlanOptions) -> Vec<NamespacePlan> {
    let mut namespaces: BTreeMap<String, Option<&Object>> = BTreeMap::new();
    for object in objects {
        if object.id.kind == "Namespace" && object.id.api_version == "v1" {
            namespaces.insert(object.id.name.clone(), Some(object));
        }
    }
    let mut pods: BTreeMap<String, Vec<&Object>> = BTreeMap::new();
    for object in objects {
        if object.id.kind == "Pod" && object.id.api_version == "v1" && is_running(object) {
            let ns = object
                .id
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into());
            namespaces.entry(ns.clone()).or_insert(None);
            pods.entry(ns).or_default().push(object);
        }
    }
    let policy = |level| Policy::new(level, options.version);
    namespaces
        .into_iter()
        .map(|(name, namespace)| {
            let raw: Vec<(&str, &str)> =
                namespace.map(|n| n.labels().collect()).unwrap_or_default();
            let (current, label_errors) =
                NamespacePolicy::from_labels(raw.iter().copied(), NamespacePolicy::PRIVILEGED);
            let current_labels: BTreeMap<String, String> = raw
                .iter()
                .filter(|(k, _)| k.starts_with(crate::namespace::LABEL_PREFIX))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let pods: &[&Object] = pods.get(&name).map(Vec::as_slice).unwrap_or(&[]);
            let failing = |level: Level| -> Vec<PodVerdict> {
                pods.iter()
                    .filter_map(|p| verdict(p, policy(level)))
                    .collect()
            };
            let satisfied = if !failing(Level::Restricted).is_empty() {
                if failing(Level::Baseline).is_empty() {
                    Level::Baseline
                } else {
                    Level::Privileged
                }
            } else {
                Level::Restricted
            };
            let next = next_level(satisfied);
            let blocking = next.map(&failing).unwrap_or_default();
            let violating_enforce = if current.enforce.level > satisfied {
                pods.iter()
                    .filter_map(|p| verdict(p, current.enforce))
                    .collect()
            } else {
                Vec::new()
            };
            // enforce: never lowered; raised to what is already satisfied.
            let enforce = current.enforce.level.max(satisfied);
            let mut wanted: Vec<(&str, String)> = vec![(ENFORCE_LABEL, enforce.to_string())];
            let ahead = next_level(enforce);
            if let Some(ahead) = ahead {
                wanted.push((WARN_LABEL, ahead.to_string()));
                wanted.push((AUDIT_LABEL, ahead.to_string()));
            }
            if let Version::V1(_) = options.version {
                let version = options.version.to_string();
                wanted.push((ENFORCE_VERSION_LABEL, version.clone()));
                if ahead.is_some() {
                    wanted.push((WARN_VERSION_LABEL, version.clone()));
                    wanted.push((AUDIT_VERSION_LABEL, version));
                }
            }
            let labels: Vec<(String, String)> = wanted
                .into_iter()
                .filter(|(k, v)| current_labels.get(*k) != Some(v))
                // Setting enforce=privileged on an unlabelled namespace changes nothing.
                .filter(|(k, v)| {
                    !(*k == ENFORCE_LABEL && v == "privileged" && !current_labels.contains_key(*k))
                })
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            NamespacePlan {
                namespace: name,
                namespace_known: namespace.is_some(),
                current,
                label_errors,
                current_labels,
                pods: pods.len(),
                satisfied,
                next,
                blocking,
                violating_enforce,
                labels,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{load_text, LoadOptions};

    const INPUT: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {pod-security.kubernetes.io/enforce: privileged}
---
apiVersion: v1
kind: Namespace
metadata: {name: tight}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-7d, uid: r1, controller: true}]
spec:
  containers: [{name: app, image: web}]
---
apiVersion: v1
kind: Pod
metadata: {name: done, namespace: shop}
spec:
  containers: [{name: app, image: x, securityContext: {privileged: true}}]
status: {phase: Succeeded}
---
apiVersion: v1
kind: Pod
metadata: {name: ok, namespace: tight}
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: x
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: ops}
spec:
  hostNetwork: true
  containers: [{name: a, image: x}]
";

    #[test]
    fn plans_the_next_safe_step_per_namespace() {
        let loaded = load_text("in.yaml", INPUT, &LoadOptions::default());
        let plans = plan(&loaded.objects, PlanOptions::default());
        let names: Vec<&str> = plans.iter().map(|p| p.namespace.as_str()).collect();
        assert_eq!(names, ["ops", "shop", "tight"]);

        let ops = &plans[0];
        assert!(!ops.namespace_known);
        assert_eq!(ops.satisfied, Level::Privileged);
        assert_eq!(ops.blocking.len(), 1);
        assert_eq!(ops.blocking[0].reasons, ["host namespaces"]);
        assert_eq!(
            ops.command().unwrap(),
            "kubectl label --overwrite namespace ops pod-security.kubernetes.io/warn=baseline pod-security.kubernetes.io/audit=baseline"
        );

        let shop = &plans[1];
        assert_eq!(shop.pods, 1, "the Succeeded pod does not count");
        assert_eq!(shop.satisfied, Level::Baseline);
        assert_eq!(shop.next, Some(Level::Restricted));
        assert_eq!(shop.blocking[0].name, "web-1");
        assert_eq!(shop.blocking[0].owner.as_deref(), Some("ReplicaSet/web-7d"));
        assert!(shop.blocking[0].detail.starts_with("allowPrivilegeEscalation != false (container \"app\" must set securityContext.allowPrivilegeEscalation=false)"), "{}", shop.blocking[0].detail);
        assert_eq!(
            shop.labels,
            [
                (ENFORCE_LABEL.to_string(), "baseline".to_string()),
                (WARN_LABEL.to_string(), "restricted".to_string()),
                (AUDIT_LABEL.to_string(), "restricted".to_string()),
            ]
        );

        let tight = &plans[2];
        assert_eq!(tight.satisfied, Level::Restricted);
        assert!(tight.blocking.is_empty());
        assert_eq!(
            tight.command().unwrap(),
            "kubectl label --overwrite namespace tight pod-security.kubernetes.io/enforce=restricted"
        );
    }

    #[test]
    fn never_lowers_enforce_and_pins_versions() {
        let text = "\
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {pod-security.kubernetes.io/enforce: restricted}}
---
apiVersion: v1
kind: Pod
metadata: {name: old, namespace: a}
spec: {containers: [{name: c, image: x, securityContext: {privileged: true}}]}
";
        let loaded = load_text("in.yaml", text, &LoadOptions::default());
        let plans = plan(
            &loaded.objects,
            PlanOptions {
                version: Version::V1(30),
            },
        );
        let a = &plans[0];
        assert_eq!(a.satisfied, Level::Privileged);
        assert_eq!(a.violating_enforce.len(), 1);
        assert_eq!(a.violating_enforce[0].reasons[0], "privileged");
        assert!(a.violating_enforce[0]
            .reasons
            .contains(&"seccompProfile".to_string()));
        assert_eq!(
            a.labels,
            [(ENFORCE_VERSION_LABEL.to_string(), "v1.30".to_string())],
            "enforce stays restricted"
        );
    }
}
