//! `matchConstraints` / `matchResources`: resource rules and label selectors.

use palisade_model::selector::LabelSelector;
use serde_json::Value as J;

/// Admission operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// Built-in kinds and their resource names. Other kinds use the
/// lowercase-plus-`s` heuristic (see [`resource_for_kind`]).
const RESOURCES: &[(&str, &str)] = &[
    ("Pod", "pods"),
    ("Deployment", "deployments"),
    ("StatefulSet", "statefulsets"),
    ("DaemonSet", "daemonsets"),
    ("ReplicaSet", "replicasets"),
    ("ReplicationController", "replicationcontrollers"),
    ("Job", "jobs"),
    ("CronJob", "cronjobs"),
    ("Service", "services"),
    ("ConfigMap", "configmaps"),
    ("Secret", "secrets"),
    ("Namespace", "namespaces"),
    ("Node", "nodes"),
    ("ServiceAccount", "serviceaccounts"),
    ("PersistentVolume", "persistentvolumes"),
    ("PersistentVolumeClaim", "persistentvolumeclaims"),
    ("Ingress", "ingresses"),
    ("IngressClass", "ingressclasses"),
    ("NetworkPolicy", "networkpolicies"),
    ("Role", "roles"),
    ("RoleBinding", "rolebindings"),
    ("ClusterRole", "clusterroles"),
    ("ClusterRoleBinding", "clusterrolebindings"),
    ("StorageClass", "storageclasses"),
    ("PodDisruptionBudget", "poddisruptionbudgets"),
    ("HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    ("LimitRange", "limitranges"),
    ("ResourceQuota", "resourcequotas"),
    ("Endpoints", "endpoints"),
    ("EndpointSlice", "endpointslices"),
    ("PriorityClass", "priorityclasses"),
    ("RuntimeClass", "runtimeclasses"),
    ("CustomResourceDefinition", "customresourcedefinitions"),
    ("ValidatingAdmissionPolicy", "validatingadmissionpolicies"),
    (
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
    ),
    (
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
    ),
    (
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
    ),
    ("PodTemplate", "podtemplates"),
    ("Event", "events"),
    ("Lease", "leases"),
    ("CSIDriver", "csidrivers"),
    ("VolumeAttachment", "volumeattachments"),
    ("Gateway", "gateways"),
    ("HTTPRoute", "httproutes"),
    ("GatewayClass", "gatewayclasses"),
];

/// The resource name of a kind, and whether it was guessed.
///
/// Without the cluster's discovery data, unknown kinds get the usual English
/// plural of their lowercase name (`Foo` → `foos`, `Policy` → `policies`,
/// `Ingress` → `ingresses`); CRDs with irregular plurals need `*` in rules.
pub fn resource_for_kind(kind: &str) -> (String, bool) {
    if let Some((_, r)) = RESOURCES.iter().find(|(k, _)| *k == kind) {
        return ((*r).to_string(), false);
    }
    let lower = kind.to_ascii_lowercase();
    let plural = if let Some(stem) = lower
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        format!("{stem}ies")
    } else if lower.ends_with('s')
        || lower.ends_with('x')
        || lower.ends_with("ch")
        || lower.ends_with("sh")
    {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    };
    (plural, true)
}

/// What is being admitted, for matching.
pub struct Subject<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub resource: &'a str,
    /// `""` unless the request is for a subresource (`status`, `scale`...).
    pub subresource: &'a str,
    pub name: &'a str,
    pub namespaced: bool,
    pub operation: Operation,
    pub labels: &'a J,
    pub old_labels: Option<&'a J>,
    /// Labels of the namespace (or of the object itself when it is a Namespace).
    pub namespace_labels: Option<&'a J>,
    pub is_namespace: bool,
}

fn strings(v: Option<&J>) -> Vec<&str> {
    v.and_then(J::as_array)
        .map(|a| a.iter().filter_map(J::as_str).collect())
        .unwrap_or_default()
}

fn contains_or_star(list: &[&str], value: &str) -> bool {
    list.iter().any(|x| *x == "*" || *x == value)
}

/// One `resourceRules` / `excludeResourceRules` entry.
fn rule_matches(rule: &J, s: &Subject) -> bool {
    let groups = strings(rule.get("apiGroups"));
    let versions = strings(rule.get("apiVersions"));
    let operations = strings(rule.get("operations"));
    let resources = strings(rule.get("resources"));
    let names = strings(rule.get("resourceNames"));
    if !contains_or_star(&groups, s.group)
        || !contains_or_star(&versions, s.version)
        || !contains_or_star(&operations, s.operation.as_str())
    {
        return false;
    }
    // As the API server's rule matcher: `res/sub` with `*` for either part;
    // a bare `res` matches the resource itself, not its subresources.
    let resource_ok = resources.iter().any(|r| {
        let (res, sub) = r.split_once('/').unwrap_or((r, ""));
        (res == "*" || res == s.resource) && (sub == "*" || sub == s.subresource)
    });
    if !resource_ok {
        return false;
    }
    if !names.is_empty() && !names.contains(&s.name) {
        return false;
    }
    match rule.get("scope").and_then(J::as_str).unwrap_or("*") {
        "Cluster" => !s.namespaced,
        "Namespaced" => s.namespaced,
        _ => true,
    }
}

/// A `namespaceSelector`, `objectSelector` or `paramRef.selector` as the API
/// server reads it: absent or `null` selects everything; `None` for an invalid
/// one, which selects nothing.
pub fn parse_selector(selector: Option<&J>) -> Option<LabelSelector> {
    match selector.filter(|s| !s.is_null()) {
        None => Some(LabelSelector::default()),
        Some(s) => LabelSelector::from_json(s).ok(),
    }
}

/// Whether a label selector (`matchLabels`, `matchExpressions`) selects `labels`.
/// An absent selector selects everything; an invalid one nothing.
pub fn selector_matches(selector: Option<&J>, labels: &J) -> bool {
    parse_selector(selector).is_some_and(|s| s.matches(labels))
}

/// Whether `m` would match `s` if the namespace's labels were known: the
/// object is namespaced, its Namespace is not in the input, `m` has a
/// non-empty namespaceSelector, and everything else in `m` matches. The API
/// server knows every namespace; offline, this is worth saying rather than
/// silently not matching.
pub fn needs_unknown_namespace(m: &J, s: &Subject) -> bool {
    if !s.namespaced || s.namespace_labels.is_some() {
        return false;
    }
    let Some(selector) = m.get("namespaceSelector").filter(|n| !n.is_null()) else {
        return false;
    };
    let non_empty = |k: &str| {
        selector.get(k).is_some_and(|v| {
            v.as_object().is_some_and(|o| !o.is_empty())
                || v.as_array().is_some_and(|a| !a.is_empty())
        })
    };
    if !non_empty("matchLabels") && !non_empty("matchExpressions") {
        return false;
    }
    let mut without = m.clone();
    if let Some(map) = without.as_object_mut() {
        map.remove("namespaceSelector");
    }
    match_resources(&without, s)
}

/// `matchConstraints` or a binding's `matchResources`.
pub fn match_resources(m: &J, s: &Subject) -> bool {
    // namespaceSelector: for namespaced objects, the namespace's labels; for a
    // Namespace, its own labels; other cluster-scoped objects always match.
    let ns_selector = m.get("namespaceSelector");
    if s.namespaced || s.is_namespace {
        let empty = J::Object(Default::default());
        let labels = s.namespace_labels.unwrap_or(&empty);
        if !selector_matches(ns_selector, labels) {
            return false;
        }
    }
    let obj_selector = m.get("objectSelector");
    let old_ok = s
        .old_labels
        .is_some_and(|old| selector_matches(obj_selector, old));
    if !selector_matches(obj_selector, s.labels) && !old_ok {
        return false;
    }
    let rules = m.get("resourceRules").and_then(J::as_array);
    // An absent resourceRules list in a binding's matchResources means "all
    // resources the policy matches".
    if let Some(rules) = rules {
        if !rules.iter().any(|r| rule_matches(r, s)) {
            return false;
        }
    }
    if let Some(excluded) = m.get("excludeResourceRules").and_then(J::as_array) {
        if excluded.iter().any(|r| rule_matches(r, s)) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plurals() {
        assert_eq!(resource_for_kind("Pod"), ("pods".into(), false));
        assert_eq!(
            resource_for_kind("NetworkPolicy"),
            ("networkpolicies".into(), false)
        );
        assert_eq!(resource_for_kind("Widget"), ("widgets".into(), true));
        assert_eq!(resource_for_kind("FooPolicy"), ("foopolicies".into(), true));
        assert_eq!(resource_for_kind("Gateway2"), ("gateway2s".into(), true));
    }

    #[test]
    fn selectors() {
        let labels = json!({"env": "prod", "team": "a"});
        assert!(selector_matches(
            Some(&json!({"matchLabels": {"env": "prod"}})),
            &labels
        ));
        assert!(!selector_matches(
            Some(&json!({"matchLabels": {"env": "dev"}})),
            &labels
        ));
        assert!(selector_matches(
            Some(
                &json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}, {"key": "x", "operator": "DoesNotExist"}]})
            ),
            &labels
        ));
        assert!(!selector_matches(
            Some(
                &json!({"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["a"]}]})
            ),
            &labels
        ));
        assert!(selector_matches(Some(&json!({})), &labels));
        assert!(selector_matches(None, &labels));
        assert!(selector_matches(Some(&J::Null), &labels));
        // Invalid selectors select nothing, as the API server rejects them.
        for invalid in [
            json!({"matchExpressions": [{"key": "env", "operator": "Gt", "values": ["1"]}]}),
            json!({"matchExpressions": [{"key": "x", "operator": "NotIn", "values": []}]}),
            json!({"matchExpressions": [{"key": "env", "operator": "Exists", "values": ["a"]}]}),
            json!({"matchLabels": {"x": 1}}),
            json!("env=prod"),
        ] {
            assert!(!selector_matches(Some(&invalid), &labels), "{invalid}");
        }
    }
}
