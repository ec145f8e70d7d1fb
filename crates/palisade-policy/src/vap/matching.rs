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
#[derive(Clone, Copy)]
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

/// Built-in resources that API servers have served under several groups or
/// versions sharing one storage: `(resource, [(group, version)...])`. Under
/// `matchPolicy: Equivalent` a request through one of them matches a rule
/// naming another (the API server converts the request to the rule's version).
const EQUIVALENT_BUILTINS: &[(&str, &[(&str, &str)])] = &[
    (
        "deployments",
        &[
            ("apps", "v1"),
            ("apps", "v1beta2"),
            ("apps", "v1beta1"),
            ("extensions", "v1beta1"),
        ],
    ),
    (
        "daemonsets",
        &[
            ("apps", "v1"),
            ("apps", "v1beta2"),
            ("extensions", "v1beta1"),
        ],
    ),
    (
        "replicasets",
        &[
            ("apps", "v1"),
            ("apps", "v1beta2"),
            ("extensions", "v1beta1"),
        ],
    ),
    (
        "statefulsets",
        &[("apps", "v1"), ("apps", "v1beta2"), ("apps", "v1beta1")],
    ),
    (
        "ingresses",
        &[
            ("networking.k8s.io", "v1"),
            ("networking.k8s.io", "v1beta1"),
            ("extensions", "v1beta1"),
        ],
    ),
    (
        "networkpolicies",
        &[("networking.k8s.io", "v1"), ("extensions", "v1beta1")],
    ),
    (
        "poddisruptionbudgets",
        &[("policy", "v1"), ("policy", "v1beta1")],
    ),
    ("cronjobs", &[("batch", "v1"), ("batch", "v1beta1")]),
    (
        "horizontalpodautoscalers",
        &[
            ("autoscaling", "v2"),
            ("autoscaling", "v1"),
            ("autoscaling", "v2beta2"),
            ("autoscaling", "v2beta1"),
        ],
    ),
];

/// API groups of Kubernetes itself: their resources have the versions above
/// only. Any other group is a CustomResourceDefinition's, whose served
/// versions all share one storage.
const BUILTIN_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "extensions",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "node.k8s.io",
    "scheduling.k8s.io",
    "resource.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "apiregistration.k8s.io",
    "internal.apiserver.k8s.io",
    "storagemigration.k8s.io",
];

/// The other `(group, version)`s through which `s`'s resource can be reached:
/// the table above for built-ins; for a custom resource, every version of its
/// group that a rule names (a CRD serves all its versions from one storage).
fn equivalents<'r>(s: &Subject, rules: &'r [J]) -> Vec<(&'r str, &'r str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    if let Some((_, list)) = EQUIVALENT_BUILTINS.iter().find(|(r, list)| {
        *r == s.resource && list.iter().any(|(g, v)| *g == s.group && *v == s.version)
    }) {
        out.extend(list.iter().copied());
    } else if !BUILTIN_GROUPS.contains(&s.group) {
        for rule in rules {
            let groups = strings(rule.get("apiGroups"));
            if let Some(group) = groups.into_iter().find(|g| *g == s.group) {
                for v in strings(rule.get("apiVersions"))
                    .into_iter()
                    .filter(|v| *v != "*")
                {
                    out.push((group, v));
                }
            }
        }
    }
    out.retain(|(g, v)| !(*g == s.group && *v == s.version));
    out.dedup();
    out
}

/// How `rules` match `s`: `None` for no match, `Some(None)` for a match of
/// the request as it is, `Some(Some((group, version)))` for a match through
/// an equivalent version (`matchPolicy: Equivalent`, the default, as the API
/// server defaults it), to which the request is converted.
fn match_rules<'r>(
    rules: &'r [J],
    s: &Subject,
    equivalent: bool,
) -> Option<Option<(&'r str, &'r str)>> {
    if rules.iter().any(|r| rule_matches(r, s)) {
        return Some(None);
    }
    if !equivalent {
        return None;
    }
    let equivalents = equivalents(s, rules);
    for rule in rules {
        for &(group, version) in &equivalents {
            let converted = Subject {
                group,
                version,
                ..*s
            };
            if rule_matches(rule, &converted) {
                return Some(Some((group, version)));
            }
        }
    }
    None
}

/// `matchConstraints` or a binding's `matchResources`.
pub fn match_resources(m: &J, s: &Subject) -> bool {
    match_resources_through(m, s).is_some()
}

/// Like [`match_resources`]; `Some(Some((group, version)))` when the match is
/// through an equivalent group/version (the request is converted to it).
pub fn match_resources_through(m: &J, s: &Subject) -> Option<Option<(String, String)>> {
    // namespaceSelector: for namespaced objects, the namespace's labels; for a
    // Namespace, its own labels; other cluster-scoped objects always match.
    let ns_selector = m.get("namespaceSelector");
    if s.namespaced || s.is_namespace {
        let empty = J::Object(Default::default());
        let labels = s.namespace_labels.unwrap_or(&empty);
        if !selector_matches(ns_selector, labels) {
            return None;
        }
    }
    let obj_selector = m.get("objectSelector");
    let old_ok = s
        .old_labels
        .is_some_and(|old| selector_matches(obj_selector, old));
    if !selector_matches(obj_selector, s.labels) && !old_ok {
        return None;
    }
    let equivalent = m.get("matchPolicy").and_then(J::as_str) != Some("Exact");
    // Exclusions take the same match policy, and win.
    if let Some(excluded) = m.get("excludeResourceRules").and_then(J::as_array) {
        if match_rules(excluded, s, equivalent).is_some() {
            return None;
        }
    }
    // An absent resourceRules list in a binding's matchResources means "all
    // resources the policy matches".
    match m.get("resourceRules").and_then(J::as_array) {
        None => Some(None),
        Some(rules) => match_rules(rules, s, equivalent)
            .map(|through| through.map(|(g, v)| (g.to_string(), v.to_string()))),
    }
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
