//! The PodSecurity admission plugin's answer to one admission request.
//!
//! This is upstream's `Admission.Validate` (k8s.io/pod-security-admission,
//! `admission/admission.go`) on the model's types: pods are enforced, audited
//! and warned about at their namespace's levels; objects with pod templates
//! (Deployments, Jobs...) are only audited and warned about; namespaces are
//! checked for valid labels. Exemptions (users, namespaces, runtime classes)
//! and defaults come from a `PodSecurityConfiguration`, as the plugin's
//! admission configuration file gives them.
//!
//! One difference, because a webhook has no pod lister: when a namespace's
//! enforce level is tightened, the plugin warns about existing pods that
//! would violate it; this module cannot see those pods and adds no warning.

use std::collections::BTreeMap;

use palisade_model::{pod_template_in, Node};

use crate::evaluate::{aggregate, evaluate, violations, Aggregate};
use crate::namespace::{LabelError, Mode, NamespacePolicy, POLICY_LABELS};
use crate::policy::{Level, Policy, Version};

/// `pod-security.kubernetes.io/enforce-policy`: the policy a pod was enforced at.
pub const ENFORCED_POLICY_ANNOTATION: &str = "pod-security.kubernetes.io/enforce-policy";
/// `pod-security.kubernetes.io/audit-violations`.
pub const AUDIT_VIOLATIONS_ANNOTATION: &str = "pod-security.kubernetes.io/audit-violations";
/// `pod-security.kubernetes.io/exempt`: why a request was exempt.
pub const EXEMPT_ANNOTATION: &str = "pod-security.kubernetes.io/exempt";

/// Who and what is exempt from Pod Security (the configuration's `exemptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exemptions {
    pub usernames: Vec<String>,
    pub namespaces: Vec<String>,
    pub runtime_classes: Vec<String>,
}

/// The plugin's configuration: defaults for unlabelled modes, and exemptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configuration {
    pub defaults: NamespacePolicy,
    pub exemptions: Exemptions,
}

impl Default for Configuration {
    /// What the plugin does without a configuration file: everything
    /// `privileged:latest`, nothing exempt.
    fn default() -> Self {
        Configuration {
            defaults: NamespacePolicy::PRIVILEGED,
            exemptions: Exemptions::default(),
        }
    }
}

impl Configuration {
    /// Reads a `PodSecurityConfiguration` (`pod-security.admission.config.k8s.io`
    /// v1, v1beta1 or v1alpha1), or an `AdmissionConfiguration` whose
    /// `PodSecurity` plugin entry embeds one, as the API server reads its
    /// `--admission-control-config-file`.
    pub fn from_node(root: &Node) -> Result<Configuration, String> {
        let kind = root.get("kind").and_then(Node::as_str).unwrap_or("");
        let config = match kind {
            "PodSecurityConfiguration" => root,
            "AdmissionConfiguration" => root
                .get("plugins")
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .find(|p| p.get("name").and_then(Node::as_str) == Some("PodSecurity"))
                .and_then(|p| p.get("configuration"))
                .ok_or("AdmissionConfiguration has no PodSecurity plugin with a configuration")?,
            other => {
                return Err(format!(
                    "expected kind PodSecurityConfiguration (or AdmissionConfiguration), found {other:?}"
                ))
            }
        };
        let api_version = config
            .get("apiVersion")
            .and_then(Node::as_str)
            .unwrap_or("");
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        if group != "pod-security.admission.config.k8s.io" {
            return Err(format!(
                "apiVersion {api_version:?}: expected pod-security.admission.config.k8s.io/v1"
            ));
        }
        let defaults = config.get("defaults");
        let field = |key: &str| -> Option<&str> { defaults?.get(key)?.as_str() };
        let level = |key: &str| -> Result<Level, String> {
            match field(key) {
                None | Some("") => Ok(Level::Privileged),
                Some(text) => Level::parse_label(text).ok_or_else(|| {
                    format!(
                        "defaults.{key}: {text:?} must be one of privileged, baseline, restricted"
                    )
                }),
            }
        };
        let version = |key: &str| -> Result<Version, String> {
            match field(key) {
                None | Some("") => Ok(Version::Latest),
                Some(text) => Version::parse_label(text).ok_or_else(|| {
                    format!("defaults.{key}: {text:?} must be \"latest\" or \"v1.x\"")
                }),
            }
        };
        let defaults = NamespacePolicy {
            enforce: Policy::new(level("enforce")?, version("enforce-version")?),
            audit: Policy::new(level("audit")?, version("audit-version")?),
            warn: Policy::new(level("warn")?, version("warn-version")?),
        };
        let list = |key: &str| -> Vec<String> {
            config
                .path(&["exemptions", key])
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        };
        Ok(Configuration {
            defaults,
            exemptions: Exemptions {
                usernames: list("usernames"),
                namespaces: list("namespaces"),
                runtime_classes: list("runtimeClasses"),
            },
        })
    }

    fn exempt_namespace(&self, namespace: &str) -> bool {
        !namespace.is_empty() && self.exemptions.namespaces.iter().any(|n| n == namespace)
    }

    fn exempt_user(&self, username: &str) -> bool {
        !username.is_empty() && self.exemptions.usernames.iter().any(|n| n == username)
    }

    fn exempt_runtime_class(&self, runtime_class: Option<&str>) -> bool {
        runtime_class.is_some_and(|rc| {
            !rc.is_empty() && self.exemptions.runtime_classes.iter().any(|n| n == rc)
        })
    }
}

/// The parts of an `AdmissionRequest` the plugin looks at.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: &'a str,
    /// `resource.group` and `resource.resource` (`""`, `pods`).
    pub group: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    /// `kind.group` and `kind.kind`, for the "is invalid" message.
    pub kind_group: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub username: &'a str,
    pub object: Option<&'a Node>,
    pub old_object: Option<&'a Node>,
}

/// What is known of the request's namespace.
#[derive(Debug, Clone, Copy)]
pub enum NamespaceLabels<'a> {
    /// The namespace exists with these labels.
    Known(&'a [(String, String)]),
    /// The namespace could not be looked up (the message says why).
    Unknown(&'a str),
}

/// One field behind a denial, as a Kubernetes `StatusCause`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

/// A Kubernetes `Status` for a refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: u16,
    /// `Forbidden`, `Invalid`, `BadRequest`, `InternalError`.
    pub reason: &'static str,
    pub message: String,
    pub causes: Vec<Cause>,
}

/// One evaluation of a policy in one mode, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evaluation {
    pub mode: Mode,
    pub policy: Policy,
    pub allowed: bool,
}

/// The plugin's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub allowed: bool,
    /// Why the request is refused (`None` when allowed).
    pub status: Option<Status>,
    pub warnings: Vec<String>,
    /// Keys without the plugin's prefix would be ambiguous in an audit log;
    /// these are the plugin's own keys (`pod-security.kubernetes.io/...`, `error`).
    pub audit_annotations: BTreeMap<String, String>,
    /// What was evaluated, for metrics.
    pub evaluations: Vec<Evaluation>,
    /// `user`, `namespace` or `runtimeClass` when the request was exempt.
    pub exemption: Option<&'static str>,
}

impl Response {
    fn allowed() -> Response {
        Response {
            allowed: true,
            status: None,
            warnings: Vec::new(),
            audit_annotations: BTreeMap::new(),
            evaluations: Vec::new(),
            exemption: None,
        }
    }

    fn exempt(reason: &'static str) -> Response {
        let mut response = Response::allowed();
        response
            .audit_annotations
            .insert(EXEMPT_ANNOTATION.to_string(), reason.to_string());
        response.exemption = Some(reason);
        response
    }

    fn error(status: Status, detail: Option<&str>) -> Response {
        let mut response = Response::allowed();
        response.allowed = false;
        let annotation = match detail {
            Some(detail) => format!("{}: {detail}", status.message),
            None => status.message.clone(),
        };
        response
            .audit_annotations
            .insert("error".into(), annotation);
        response.status = Some(status);
        response
    }
}

/// Subresources of pods the plugin never looks at.
const IGNORED_POD_SUBRESOURCES: [&str; 8] = [
    "exec",
    "attach",
    "binding",
    "eviction",
    "log",
    "portforward",
    "proxy",
    "status",
];

/// Decides one request as the PodSecurity admission plugin would.
pub fn validate(
    config: &Configuration,
    request: &Request<'_>,
    namespace: NamespaceLabels<'_>,
) -> Response {
    match (request.group, request.resource) {
        ("", "namespaces") => validate_namespace(config, request),
        ("", "pods") => validate_pod(config, request, namespace),
        _ => validate_pod_controller(config, request, namespace),
    }
}

fn label_pairs(object: Option<&Node>) -> Vec<(&str, &str)> {
    palisade_model::string_pairs(object.and_then(|o| o.path(&["metadata", "labels"]))).collect()
}

fn policy_to_evaluate(
    labels: &[(&str, &str)],
    defaults: NamespacePolicy,
) -> (NamespacePolicy, Vec<LabelError>) {
    NamespacePolicy::from_labels(labels.iter().copied(), defaults)
}

/// `metadata.labels[key]: Invalid value: "v": detail`, as field.Invalid prints.
fn field_error(error: &LabelError) -> (String, String) {
    (
        format!("metadata.labels[{}]", error.label),
        format!("Invalid value: {:?}: {}", error.value, error.expected),
    )
}

/// An aggregate of field errors, printed as apimachinery's `ToAggregate` does.
fn aggregate_errors(errors: &[LabelError]) -> String {
    let texts: Vec<String> = errors
        .iter()
        .map(|e| {
            let (field, message) = field_error(e);
            format!("{field}: {message}")
        })
        .collect();
    if texts.len() == 1 {
        texts[0].clone()
    } else {
        format!("[{}]", texts.join(", "))
    }
}

fn bad_request(message: &str, detail: &str) -> Response {
    Response::error(
        Status {
            code: 400,
            reason: "BadRequest",
            message: message.to_string(),
            causes: Vec::new(),
        },
        Some(detail),
    )
}

fn validate_namespace(config: &Configuration, request: &Request<'_>) -> Response {
    if !request.subresource.is_empty() {
        return Response::allowed();
    }
    let Some(object) = request.object.filter(|o| o.as_map().is_some()) else {
        if request.operation == "DELETE" {
            return Response::allowed();
        }
        return bad_request(
            "failed to decode object",
            "no namespace object in the request",
        );
    };
    let labels = label_pairs(Some(object));
    let (new_policy, new_errors) = policy_to_evaluate(&labels, config.defaults);
    let name = object
        .path(&["metadata", "name"])
        .and_then(Node::as_str)
        .unwrap_or(request.name);
    match request.operation {
        "CREATE" => {
            if !new_errors.is_empty() {
                return invalid(request, name, &new_errors);
            }
            exempt_namespace_response(config, request.namespace, name, new_policy, &labels)
        }
        "UPDATE" => {
            let old_labels = label_pairs(request.old_object);
            let (old_policy, old_errors) = policy_to_evaluate(&old_labels, config.defaults);
            if !new_errors.is_empty() && (old_errors.is_empty() || new_errors != old_errors) {
                return invalid(request, name, &new_errors);
            }
            if new_policy.enforce == old_policy.enforce
                || new_policy.enforce.level == Level::Privileged
                || (new_policy.enforce.version == old_policy.enforce.version
                    && compare_levels(new_policy.enforce.level, old_policy.enforce.level) < 1)
            {
                return Response::allowed();
            }
            // Upstream now evaluates the namespace's existing pods; a webhook cannot see them.
            exempt_namespace_response(config, request.namespace, name, new_policy, &labels)
        }
        _ => Response::allowed(),
    }
}

fn exempt_namespace_response(
    config: &Configuration,
    request_namespace: &str,
    name: &str,
    policy: NamespacePolicy,
    labels: &[(&str, &str)],
) -> Response {
    let mut response = Response::allowed();
    if config.exempt_namespace(request_namespace) {
        if let Some(warning) = exempt_namespace_warning(name, policy, config.defaults, labels) {
            response.warnings.push(warning);
        }
    }
    response
}

fn invalid(request: &Request<'_>, name: &str, errors: &[LabelError]) -> Response {
    let kind = if request.kind_group.is_empty() {
        request.kind.to_string()
    } else {
        format!("{}.{}", request.kind, request.kind_group)
    };
    let mut response = Response::allowed();
    response.allowed = false;
    response.status = Some(Status {
        code: 422,
        reason: "Invalid",
        message: format!("{kind} {name:?} is invalid: {}", aggregate_errors(errors)),
        causes: errors
            .iter()
            .map(|e| {
                let (field, message) = field_error(e);
                Cause {
                    reason: "FieldValueInvalid".into(),
                    message,
                    field,
                }
            })
            .collect(),
    });
    response
}

/// -1, 0 or 1 as `a` is less, as or more restrictive than `b`.
fn compare_levels(a: Level, b: Level) -> i32 {
    fn rank(level: Level) -> i32 {
        match level {
            Level::Privileged => 0,
            Level::Baseline => 1,
            Level::Restricted => 2,
        }
    }
    (rank(a) - rank(b)).signum()
}

fn fully_privileged(policy: &NamespacePolicy) -> bool {
    Mode::ALL
        .iter()
        .all(|m| policy.get(*m).level == Level::Privileged)
}

/// Two level-versions are equivalent when both are privileged, or level and version are equal.
fn equivalent(a: &NamespacePolicy, b: &NamespacePolicy) -> bool {
    Mode::ALL.iter().all(|m| {
        let (x, y) = (a.get(*m), b.get(*m));
        x.level == y.level && (x.level == Level::Privileged || x.version == y.version)
    })
}

fn exempt_namespace_warning(
    name: &str,
    policy: NamespacePolicy,
    defaults: NamespacePolicy,
    labels: &[(&str, &str)],
) -> Option<String> {
    if fully_privileged(&policy) || equivalent(&policy, &defaults) {
        return None;
    }
    let has = |key: &str| labels.iter().any(|(k, _)| *k == key);
    let mut parts = Vec::new();
    for (mode, level_label, version_label) in [
        (Mode::Enforce, POLICY_LABELS[0], POLICY_LABELS[1]),
        (Mode::Audit, POLICY_LABELS[2], POLICY_LABELS[3]),
        (Mode::Warn, POLICY_LABELS[4], POLICY_LABELS[5]),
    ] {
        let p = policy.get(mode);
        if p.level != Level::Privileged && (has(level_label) || has(version_label)) {
            parts.push(format!("{}={p}", mode.as_str()));
        }
    }
    Some(format!(
        "namespace {name:?} is exempt from Pod Security, and the policy ({}) will be ignored",
        parts.join(", ")
    ))
}

/// The plugin checks namespace exemptions, then user exemptions, before anything else.
fn exemption(config: &Configuration, request: &Request<'_>) -> Option<Response> {
    if config.exempt_namespace(request.namespace) {
        return Some(Response::exempt("namespace"));
    }
    if config.exempt_user(request.username) {
        return Some(Response::exempt("user"));
    }
    None
}

fn namespace_policy(
    config: &Configuration,
    namespace: &[(String, String)],
) -> (NamespacePolicy, Vec<LabelError>) {
    let labels: Vec<(&str, &str)> = namespace
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    policy_to_evaluate(&labels, config.defaults)
}

fn validate_pod(
    config: &Configuration,
    request: &Request<'_>,
    namespace: NamespaceLabels<'_>,
) -> Response {
    if IGNORED_POD_SUBRESOURCES.contains(&request.subresource) {
        return Response::allowed();
    }
    if let Some(exempt) = exemption(config, request) {
        return exempt;
    }
    let labels = match namespace {
        NamespaceLabels::Known(labels) => labels,
        NamespaceLabels::Unknown(error) => {
            let message = format!(
                "Internal error occurred: failed to lookup namespace {:?}",
                request.namespace
            );
            return Response::error(
                Status {
                    code: 500,
                    reason: "InternalError",
                    message,
                    causes: Vec::new(),
                },
                Some(error),
            );
        }
    };
    let (policy, errors) = namespace_policy(config, labels);
    if errors.is_empty() && fully_privileged(&policy) {
        let mut response = Response::allowed();
        response.audit_annotations.insert(
            ENFORCED_POLICY_ANNOTATION.into(),
            Policy::new(Level::Privileged, Version::Latest).to_string(),
        );
        response.evaluations.push(Evaluation {
            mode: Mode::Enforce,
            policy: policy.enforce,
            allowed: true,
        });
        return response;
    }
    // DELETE never reaches here in a cluster (the plugin is registered for
    // CREATE and UPDATE); without an object there is nothing to judge.
    let Some(pod) = request.object.filter(|o| o.as_map().is_some()) else {
        return Response::allowed();
    };
    if request.operation == "UPDATE" {
        let Some(old) = request.old_object.filter(|o| o.as_map().is_some()) else {
            return bad_request(
                "failed to decode old object",
                "no oldObject in an UPDATE request",
            );
        };
        if !is_significant_pod_update(pod, old) {
            return Response::allowed();
        }
    }
    let empty = Node::new(palisade_model::Value::Map(Box::new([])), pod.span);
    let spec = pod
        .get("spec")
        .filter(|s| s.as_map().is_some())
        .unwrap_or(&empty);
    evaluate_pod(
        config,
        policy,
        &errors,
        pod.get("metadata"),
        spec,
        true,
        request,
    )
}

fn validate_pod_controller(
    config: &Configuration,
    request: &Request<'_>,
    namespace: NamespaceLabels<'_>,
) -> Response {
    if !request.subresource.is_empty() {
        return Response::allowed();
    }
    if let Some(exempt) = exemption(config, request) {
        return exempt;
    }
    let labels = match namespace {
        NamespaceLabels::Known(labels) => labels,
        NamespaceLabels::Unknown(error) => {
            let mut response = Response::allowed();
            response.audit_annotations.insert(
                "error".into(),
                format!(
                    "failed to lookup namespace {:?}: {error}",
                    request.namespace
                ),
            );
            return response;
        }
    };
    let (policy, errors) = namespace_policy(config, labels);
    if errors.is_empty()
        && policy.warn.level == Level::Privileged
        && policy.audit.level == Level::Privileged
    {
        return Response::allowed();
    }
    let Some(object) = request.object.filter(|o| o.as_map().is_some()) else {
        return Response::allowed();
    };
    let kind = object
        .get("kind")
        .and_then(Node::as_str)
        .unwrap_or(request.kind);
    let Some(template) = pod_template_in(kind, object) else {
        return Response::allowed();
    };
    evaluate_pod(
        config,
        policy,
        &errors,
        template.metadata,
        template.spec,
        false,
        request,
    )
}

fn evaluate_pod(
    config: &Configuration,
    policy: NamespacePolicy,
    label_errors: &[LabelError],
    metadata: Option<&Node>,
    spec: &Node,
    enforce: bool,
    request: &Request<'_>,
) -> Response {
    let runtime_class = spec.get("runtimeClassName").and_then(Node::as_str);
    if config.exempt_runtime_class(runtime_class) {
        return Response::exempt("runtimeClass");
    }
    let mut response = Response::allowed();
    if !label_errors.is_empty() {
        response.audit_annotations.insert(
            "error".into(),
            format!("Failed to parse policy: {}", aggregate_errors(label_errors)),
        );
    }
    let mut cached: Vec<(Policy, Aggregate)> = Vec::new();
    let mut result_for = |p: Policy| -> Aggregate {
        if let Some((_, a)) = cached.iter().find(|(q, _)| *q == p) {
            return a.clone();
        }
        let a = aggregate(&evaluate(p, metadata, spec));
        cached.push((p, a.clone()));
        a
    };
    if enforce {
        response.audit_annotations.insert(
            ENFORCED_POLICY_ANNOTATION.into(),
            policy.enforce.to_string(),
        );
        let result = result_for(policy.enforce);
        if !result.allowed {
            response.allowed = false;
            response.status = Some(forbidden(request, policy.enforce, &result, metadata, spec));
        }
        response.evaluations.push(Evaluation {
            mode: Mode::Enforce,
            policy: policy.enforce,
            allowed: result.allowed,
        });
    }
    let audit = result_for(policy.audit);
    if !audit.allowed {
        response.audit_annotations.insert(
            AUDIT_VIOLATIONS_ANNOTATION.into(),
            format!(
                "would violate PodSecurity \"{}\": {}",
                policy.audit,
                audit.forbidden_detail()
            ),
        );
        response.evaluations.push(Evaluation {
            mode: Mode::Audit,
            policy: policy.audit,
            allowed: false,
        });
    }
    if response.allowed {
        let warn = result_for(policy.warn);
        if !warn.allowed {
            response.warnings.push(format!(
                "would violate PodSecurity \"{}\": {}",
                policy.warn,
                warn.forbidden_detail()
            ));
            response.evaluations.push(Evaluation {
                mode: Mode::Warn,
                policy: policy.warn,
                allowed: false,
            });
        }
    }
    response
}

/// A 403 as `apierrors.NewForbidden` builds it, with one cause per offending field.
fn forbidden(
    request: &Request<'_>,
    policy: Policy,
    result: &Aggregate,
    metadata: Option<&Node>,
    spec: &Node,
) -> Status {
    let resource = if request.group.is_empty() {
        request.resource.to_string()
    } else {
        format!("{}.{}", request.resource, request.group)
    };
    let error = format!(
        "violates PodSecurity \"{policy}\": {}",
        result.forbidden_detail()
    );
    let message = if request.name.is_empty() {
        format!("{resource} is forbidden: {error}")
    } else {
        format!("{resource} {:?} is forbidden: {error}", request.name)
    };
    let template = palisade_model::PodTemplate {
        metadata,
        spec,
        spec_path: "spec",
        is_template: false,
    };
    let causes = violations(policy, &template)
        .into_iter()
        .map(|(rule, v)| Cause {
            reason: rule.id.to_string(),
            message: v.message,
            field: v.field,
        })
        .collect();
    Status {
        code: 403,
        reason: "Forbidden",
        message,
        causes,
    }
}

fn containers(pod: &Node, list: &str) -> Vec<(Option<String>, Option<String>)> {
    pod.path(&["spec", list])
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .map(|c| {
            let text = |k: &str| c.get(k).and_then(Node::as_str).map(str::to_string);
            (text("name"), text("image"))
        })
        .collect()
}

/// Only image changes (and added ephemeral containers) make an update of a
/// running pod worth judging again; the rest of a pod spec is immutable.
fn is_significant_pod_update(pod: &Node, old: &Node) -> bool {
    for list in ["containers", "initContainers"] {
        let (new, old) = (containers(pod, list), containers(old, list));
        if new.len() != old.len() || new.iter().zip(&old).any(|(a, b)| a.1 != b.1) {
            return true;
        }
    }
    let old_ephemeral = containers(old, "ephemeralContainers");
    containers(pod, "ephemeralContainers")
        .iter()
        .any(
            |(name, image)| match old_ephemeral.iter().find(|(n, _)| n == name) {
                None => true,
                Some((_, old_image)) => old_image != image,
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{load_text, LoadOptions};

    fn node(yaml: &str) -> Node {
        let loaded = load_text("t.yaml", yaml, &LoadOptions::default());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        loaded.objects[0].root.clone()
    }

    const PRIVILEGED_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: prod}\nspec:\n  containers:\n  - name: app\n    image: nginx:1\n    securityContext: {privileged: true}\n";
    const RESTRICTED_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: ok, namespace: prod}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: app\n    image: nginx:1\n    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n";

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn pod_request<'a>(object: &'a Node, old: Option<&'a Node>, operation: &'a str) -> Request<'a> {
        Request {
            operation,
            group: "",
            resource: "pods",
            subresource: "",
            kind_group: "",
            kind: "Pod",
            namespace: "prod",
            name: object
                .path(&["metadata", "name"])
                .and_then(Node::as_str)
                .unwrap_or(""),
            username: "alice",
            object: Some(object),
            old_object: old,
        }
    }

    #[test]
    fn enforce_denies_with_upstream_message_and_field_causes() {
        let pod = node(PRIVILEGED_POD);
        let ns = labels(&[("pod-security.kubernetes.io/enforce", "baseline")]);
        let r = validate(
            &Configuration::default(),
            &pod_request(&pod, None, "CREATE"),
            NamespaceLabels::Known(&ns),
        );
        assert!(!r.allowed);
        let status = r.status.unwrap();
        assert_eq!(status.code, 403);
        assert_eq!(
            status.message,
            "pods \"web\" is forbidden: violates PodSecurity \"baseline:latest\": privileged (container \"app\" must not set securityContext.privileged=true)"
        );
        assert_eq!(status.causes.len(), 1);
        assert_eq!(
            status.causes[0].field,
            "spec.containers[0].securityContext.privileged"
        );
        assert_eq!(
            r.audit_annotations[ENFORCED_POLICY_ANNOTATION],
            "baseline:latest"
        );
        // Warn defaults to the enforce level, but a denied request gets no warning.
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn warn_and_audit_do_not_deny() {
        let pod = node(
            RESTRICTED_POD
                .replace("allowPrivilegeEscalation: false, ", "")
                .as_str(),
        );
        let ns = labels(&[
            ("pod-security.kubernetes.io/warn", "restricted"),
            ("pod-security.kubernetes.io/audit", "restricted"),
            ("pod-security.kubernetes.io/audit-version", "v1.30"),
        ]);
        let r = validate(
            &Configuration::default(),
            &pod_request(&pod, None, "CREATE"),
            NamespaceLabels::Known(&ns),
        );
        assert!(r.allowed);
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].starts_with("would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false"), "{:?}", r.warnings);
        assert!(r.audit_annotations[AUDIT_VIOLATIONS_ANNOTATION]
            .starts_with("would violate PodSecurity \"restricted:v1.30\""));
        let clean = node(RESTRICTED_POD);
        let r = validate(
            &Configuration::default(),
            &pod_request(&clean, None, "CREATE"),
            NamespaceLabels::Known(&ns),
        );
        assert!(r.allowed && r.warnings.is_empty());
    }

    #[test]
    fn exemptions_and_privileged_namespaces() {
        let pod = node(PRIVILEGED_POD);
        let ns = labels(&[("pod-security.kubernetes.io/enforce", "restricted")]);
        let mut config = Configuration::default();
        config.exemptions.usernames.push("alice".into());
        let r = validate(
            &config,
            &pod_request(&pod, None, "CREATE"),
            NamespaceLabels::Known(&ns),
        );
        assert!(r.allowed);
        assert_eq!(r.audit_annotations[EXEMPT_ANNOTATION], "user");
        let r = validate(
            &Configuration::default(),
            &pod_request(&pod, None, "CREATE"),
            NamespaceLabels::Known(&[]),
        );
        assert!(r.allowed);
        assert_eq!(
            r.audit_annotations[ENFORCED_POLICY_ANNOTATION],
            "privileged:latest"
        );
        let mut config = Configuration::default();
        config.exemptions.runtime_classes.push("kata".into());
        let kata = node(&PRIVILEGED_POD.replace("spec:\n", "spec:\n  runtimeClassName: kata\n"));
        let r = validate(
            &config,
            &pod_request(&kata, None, "CREATE"),
            NamespaceLabels::Known(&ns),
        );
        assert_eq!(r.exemption, Some("runtimeClass"));
    }

    #[test]
    fn unknown_namespace_fails_pods_but_not_controllers() {
        let pod = node(PRIVILEGED_POD);
        let r = validate(
            &Configuration::default(),
            &pod_request(&pod, None, "CREATE"),
            NamespaceLabels::Unknown("not found"),
        );
        assert!(!r.allowed);
        assert_eq!(r.status.as_ref().unwrap().code, 500);
        let deploy = node("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: prod}\nspec:\n  template:\n    spec:\n      containers: [{name: app, image: x, securityContext: {privileged: true}}]\n");
        let mut req = pod_request(&deploy, None, "CREATE");
        req.group = "apps";
        req.resource = "deployments";
        let r = validate(
            &Configuration::default(),
            &req,
            NamespaceLabels::Unknown("not found"),
        );
        assert!(r.allowed);
        assert!(r.audit_annotations["error"].contains("failed to lookup namespace"));
    }

    #[test]
    fn controllers_are_warned_not_denied() {
        let deploy = node("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: prod}\nspec:\n  template:\n    spec:\n      containers: [{name: app, image: x, securityContext: {privileged: true}}]\n");
        let mut req = pod_request(&deploy, None, "CREATE");
        req.group = "apps";
        req.resource = "deployments";
        let ns = labels(&[("pod-security.kubernetes.io/enforce", "baseline")]);
        let r = validate(&Configuration::default(), &req, NamespaceLabels::Known(&ns));
        assert!(r.allowed);
        assert_eq!(r.warnings.len(), 1, "warn follows enforce: {r:?}");
        assert!(r.warnings[0].contains("privileged"));
        assert!(!r.audit_annotations.contains_key(ENFORCED_POLICY_ANNOTATION));
    }

    #[test]
    fn image_only_changes_are_judged_again_label_changes_are_not() {
        let old = node(PRIVILEGED_POD);
        let relabelled = node(&PRIVILEGED_POD.replace("name: web,", "name: web, labels: {a: b},"));
        let ns = labels(&[("pod-security.kubernetes.io/enforce", "baseline")]);
        let config = Configuration::default();
        let r = validate(
            &config,
            &pod_request(&relabelled, Some(&old), "UPDATE"),
            NamespaceLabels::Known(&ns),
        );
        assert!(r.allowed);
        let new_image = node(&PRIVILEGED_POD.replace("nginx:1", "nginx:2"));
        let r = validate(
            &config,
            &pod_request(&new_image, Some(&old), "UPDATE"),
            NamespaceLabels::Known(&ns),
        );
        assert!(!r.allowed);
        let mut exec = pod_request(&new_image, Some(&old), "CONNECT");
        exec.subresource = "exec";
        assert!(validate(&config, &exec, NamespaceLabels::Known(&ns)).allowed);
    }

    #[test]
    fn invalid_namespace_labels_are_refused() {
        let ns = node("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n  labels: {pod-security.kubernetes.io/enforce: Restricted}\n");
        let req = Request {
            operation: "CREATE",
            group: "",
            resource: "namespaces",
            subresource: "",
            kind_group: "",
            kind: "Namespace",
            namespace: "team",
            name: "team",
            username: "alice",
            object: Some(&ns),
            old_object: None,
        };
        let r = validate(&Configuration::default(), &req, NamespaceLabels::Known(&[]));
        assert!(!r.allowed);
        let status = r.status.unwrap();
        assert_eq!(status.code, 422);
        assert_eq!(
            status.message,
            "Namespace \"team\" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"Restricted\": must be one of privileged, baseline, restricted"
        );
        let mut config = Configuration::default();
        config.exemptions.namespaces.push("team".into());
        let ok = node("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n  labels: {pod-security.kubernetes.io/enforce: restricted}\n");
        let r = validate(
            &config,
            &Request {
                object: Some(&ok),
                ..req
            },
            NamespaceLabels::Known(&[]),
        );
        assert!(r.allowed);
        assert_eq!(
            r.warnings,
            ["namespace \"team\" is exempt from Pod Security, and the policy (enforce=restricted:latest) will be ignored"]
        );
    }

    #[test]
    fn configuration_files_are_read_as_the_api_server_reads_them() {
        let config = Configuration::from_node(&node(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  configuration:\n    apiVersion: pod-security.admission.config.k8s.io/v1\n    kind: PodSecurityConfiguration\n    defaults: {enforce: baseline, warn: restricted, warn-version: v1.30}\n    exemptions: {usernames: [ci], namespaces: [kube-system], runtimeClasses: [kata]}\n",
        ))
        .unwrap();
        assert_eq!(config.defaults.enforce, Policy::latest(Level::Baseline));
        assert_eq!(
            config.defaults.warn,
            Policy::new(Level::Restricted, Version::V1(30))
        );
        assert_eq!(config.defaults.audit, Policy::latest(Level::Privileged));
        assert_eq!(config.exemptions.namespaces, ["kube-system"]);
        let err = Configuration::from_node(&node(
            "apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults: {enforce: strict}\n",
        ))
        .unwrap_err();
        assert!(err.contains("defaults.enforce"), "{err}");
    }
}
