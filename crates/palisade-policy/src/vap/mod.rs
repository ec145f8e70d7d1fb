//! ValidatingAdmissionPolicy and bindings, evaluated with CEL.
//!
//! Matching follows the API server: `matchPolicy: Equivalent` (its default)
//! also matches a request made through another group/version of the same
//! resource (the built-in moves such as `extensions/v1beta1` to `apps/v1`, and
//! every version a rule names of a custom resource's group), converting
//! `request.kind`, `request.resource` and the objects' `apiVersion` to the
//! rule's version; `Exact` does not. `auditAnnotations` values come back as
//! [`DecisionKind::AuditAnnotation`] decisions.
//!
//! ```
//! use palisade_model::{load_text, LoadOptions};
//! use palisade_policy::vap::{Operation, Policies};
//!
//! let policy = "apiVersion: admissionregistration.k8s.io/v1
//! kind: ValidatingAdmissionPolicy
//! metadata: {name: max-replicas}
//! spec:
//!   matchConstraints:
//!     resourceRules:
//!     - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}
//!   validations:
//!   - expression: object.spec.replicas <= 5
//! ---
//! apiVersion: admissionregistration.k8s.io/v1
//! kind: ValidatingAdmissionPolicyBinding
//! metadata: {name: max-replicas}
//! spec: {policyName: max-replicas, validationActions: [Deny]}
//! ";
//! let loaded = load_text("policy.yaml", policy, &LoadOptions::default());
//! let (policies, problems) = Policies::load(&loaded.objects);
//! assert!(problems.is_empty());
//! let app = load_text("app.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec: {replicas: 9}\n", &LoadOptions::default());
//! let decisions = policies.evaluate(&app.objects[0], Operation::Create, None);
//! assert_eq!(decisions.len(), 1);
//! assert_eq!(decisions[0].message, "failed expression: object.spec.replicas <= 5");
//! ```

pub mod cel;
mod gatekeeper_cel;
mod matching;

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};

use palisade_model::{
    Authorizer, Finding, Object, RuleMeta, Severity, Span, UserInfo, CLUSTER_SCOPED_KINDS,
};
use serde_json::{json, Value as J};

pub use self::cel::{EVAL_STACK as EVAL_STACK_SIZE, PER_EXPRESSION_COST_LIMIT};

/// The API server's runtime cost budget for one policy evaluation
/// (`RuntimeCELCostBudget`), shared by all of its expressions.
pub const PER_POLICY_COST_BUDGET: u64 = 10_000_000;
use self::cel::{
    compile, evaluate as cel_eval, json_to_cel, Activation, CompiledExpr, EvalError, VarScope,
};
pub use self::gatekeeper_cel::{evaluate_gatekeeper_cel, CelOutcome, GatekeeperCel};
pub use self::matching::{parse_selector, resource_for_kind, selector_matches, Operation};

/// A binding's `validationActions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Deny,
    Warn,
    Audit,
}

impl Action {
    /// The name as written in `validationActions`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deny => "Deny",
            Action::Warn => "Warn",
            Action::Audit => "Audit",
        }
    }

    /// The severity of a violation under a binding's `actions`: high when it
    /// is denied, medium when it only warns, low when it is only audited.
    pub fn severity(actions: &[Action]) -> Severity {
        if actions.contains(&Action::Deny) {
            Severity::High
        } else if actions.contains(&Action::Warn) {
            Severity::Medium
        } else {
            Severity::Low
        }
    }
}

/// What a decision is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionKind {
    /// A validation evaluated to false.
    Violation,
    /// An expression failed (runtime error, cost limit, missing params) and
    /// `failurePolicy` is `Fail`: the API server rejects the request.
    Error,
    /// The result depends on the cluster (`authorizer`): not evaluable offline.
    NotEvaluable,
    /// An `auditAnnotations` entry: `reason` is its key, `message` its value.
    /// The API server records it as `<policy>/<key>` in the audit event.
    AuditAnnotation,
}

/// One outcome of a policy binding on an object.
#[derive(Debug, Clone)]
pub struct Decision {
    pub policy: String,
    pub binding: String,
    pub kind: DecisionKind,
    /// The binding's actions (Deny, Warn, Audit).
    pub actions: Vec<Action>,
    pub message: String,
    /// `reason` of the validation (`Invalid` when unset), or of the error.
    pub reason: String,
    /// Index in `spec.validations`, when the decision is about one.
    pub validation: Option<usize>,
    /// The name of the parameter object used, if any.
    pub param: Option<String>,
}

impl Decision {
    /// The severity of its finding: an error fails the request (high), a
    /// violation as its binding's actions say, the rest is information.
    pub fn severity(&self) -> Severity {
        match self.kind {
            DecisionKind::NotEvaluable | DecisionKind::AuditAnnotation => Severity::Info,
            DecisionKind::Error => Severity::High,
            DecisionKind::Violation => Action::severity(&self.actions),
        }
    }

    /// Whether the API server would reject the request.
    pub fn denies(&self) -> bool {
        self.kind == DecisionKind::Error
            || (self.kind == DecisionKind::Violation && self.actions.contains(&Action::Deny))
    }
}

/// A problem with a policy or binding, found while loading.
#[derive(Debug, Clone)]
pub struct Problem {
    pub file: String,
    pub span: Span,
    /// `ValidatingAdmissionPolicy name`.
    pub object: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailurePolicy {
    Fail,
    Ignore,
}

/// Builds a decision of the current policy and binding.
type MakeDecision<'a> =
    dyn Fn(DecisionKind, String, &str, Option<usize>, Option<String>) -> Decision + 'a;

struct Validation {
    expr: Result<CompiledExpr, String>,
    message: Option<String>,
    message_expr: Option<Result<CompiledExpr, String>>,
    reason: Option<String>,
}

struct Policy {
    name: String,
    failure: FailurePolicy,
    match_constraints: J,
    match_conditions: Vec<(String, Result<CompiledExpr, String>)>,
    variables: Vec<(String, Result<CompiledExpr, String>)>,
    validations: Vec<Validation>,
    /// `auditAnnotations`: `(key, valueExpression)`. Values are reported as
    /// [`DecisionKind::AuditAnnotation`] decisions (the API server writes them
    /// to the audit event as `<policy>/<key>`).
    audit_annotations: Vec<(String, Result<CompiledExpr, String>)>,
    /// `(apiVersion, kind)` of the parameters.
    param_kind: Option<(String, String)>,
    rule: &'static RuleMeta,
}

struct Binding {
    name: String,
    /// Where the binding was read, for problems.
    file: String,
    span: Span,
    policy: String,
    param_ref: Option<J>,
    actions: Vec<Action>,
    match_resources: Option<J>,
}

struct ParamObject {
    api_version: String,
    kind: String,
    namespace: Option<String>,
    name: String,
    json: J,
}

/// Loaded policies and bindings, compiled once, evaluated against many objects.
pub struct Policies {
    policies: Vec<Policy>,
    bindings: Vec<Binding>,
    params: Vec<ParamObject>,
    /// Answers `authorizer` checks (RBAC objects, through the RBAC layer).
    authorizer: Option<Arc<dyn Authorizer>>,
}

fn is_admission_api(api_version: &str) -> bool {
    matches!(
        api_version,
        "admissionregistration.k8s.io/v1"
            | "admissionregistration.k8s.io/v1beta1"
            | "admissionregistration.k8s.io/v1alpha1"
    )
}

/// The `RuleMeta` of a policy. `RuleMeta` holds `&'static str`s because rules
/// are normally compiled in; policies are data, read once per run and kept
/// for the whole process, so each distinct policy's metadata is leaked once.
/// The interning table makes repeated loads (tests, watch mode) reuse it, so
/// the leak is bounded by the number of distinct policies ever seen.
fn rule_meta(policy: &str) -> &'static RuleMeta {
    static TABLE: OnceLock<Mutex<HashMap<String, &'static RuleMeta>>> = OnceLock::new();
    let table = TABLE.get_or_init(Default::default);
    let mut table = match table.lock() {
        Ok(t) => t,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(meta) = table.get(policy) {
        return meta;
    }
    let id: &'static str = Box::leak(format!("vap/{policy}").into_boxed_str());
    let title: &'static str =
        Box::leak(format!("ValidatingAdmissionPolicy {policy}").into_boxed_str());
    let meta: &'static RuleMeta = Box::leak(Box::new(RuleMeta {
        id,
        title,
        severity: Severity::High,
        category: "admission-policy",
        docs: "A ValidatingAdmissionPolicy of the input rejects (or warns about) this object.",
        help_uri:
            "https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/",
        controls: &[],
    }));
    table.insert(policy.to_string(), meta);
    meta
}

/// A load problem of a policy or binding, with where it is when known:
/// `(list under spec, index, field)`, e.g. `("validations", 2, "expression")`.
struct Note {
    at: Option<(&'static str, usize, &'static str)>,
    message: String,
}

impl From<String> for Note {
    fn from(message: String) -> Note {
        Note { at: None, message }
    }
}

impl From<&str> for Note {
    fn from(message: &str) -> Note {
        message.to_string().into()
    }
}

impl Note {
    fn at(list: &'static str, index: usize, field: &'static str, message: String) -> Note {
        Note {
            at: Some((list, index, field)),
            message,
        }
    }

    /// The span of the field the note is about, else of the object.
    fn span(&self, object: &Object) -> Span {
        self.at
            .and_then(|(list, index, field)| {
                let item = object.root.path(&["spec", list])?.items().get(index)?;
                Some(item.get(field).unwrap_or(item).span)
            })
            .unwrap_or(object.root.span)
    }
}

fn compile_list(
    list: Option<&J>,
    (list_key, key): (&'static str, &'static str),
    vars: &[String],
    problems: &mut Vec<Note>,
    what: &str,
) -> Vec<(String, Result<CompiledExpr, String>)> {
    let mut out = Vec::new();
    for (i, item) in list.and_then(J::as_array).into_iter().flatten().enumerate() {
        let name = item
            .get("name")
            .and_then(J::as_str)
            .map_or_else(|| format!("{i}"), str::to_string);
        let compiled = match item.get(key).and_then(J::as_str) {
            Some(src) => compile(src, vars),
            None => Err(format!("{what}[{i}] has no {key}")),
        };
        if let Err(e) = &compiled {
            problems.push(Note::at(
                list_key,
                i,
                key,
                format!("{list_key}[{i}] ({what} {name}): {e}"),
            ));
        }
        out.push((name, compiled));
    }
    out
}

impl Policies {
    /// Reads the policies, bindings and possible parameter objects of `objects`.
    pub fn load(objects: &[Object]) -> (Policies, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut policies = Vec::new();
        let mut bindings = Vec::new();
        for object in objects {
            if !is_admission_api(&object.id.api_version) {
                continue;
            }
            let mut notes = Vec::new();
            let json = object.root.to_json();
            let spec = json.get("spec").cloned().unwrap_or(J::Null);
            match object.kind() {
                "ValidatingAdmissionPolicy" => {
                    policies.push(load_policy(&object.id.name, &spec, &mut notes));
                }
                "ValidatingAdmissionPolicyBinding" => {
                    let mut binding = load_binding(&object.id.name, &spec, &mut notes);
                    binding.file = object.source.name.clone();
                    binding.span = object.root.span;
                    bindings.push(binding);
                }
                _ => continue,
            }
            problems.extend(notes.into_iter().map(|note| Problem {
                file: object.source.name.clone(),
                span: note.span(object),
                object: object.id.to_string(),
                message: note.message,
            }));
        }
        let param_kinds: Vec<(String, String)> = policies
            .iter()
            .filter_map(|p| p.param_kind.clone())
            .collect();
        let params = objects
            .iter()
            .filter(|o| {
                param_kinds
                    .iter()
                    .any(|(v, k)| *v == o.id.api_version && *k == o.id.kind)
            })
            .map(|o| ParamObject {
                api_version: o.id.api_version.clone(),
                kind: o.id.kind.clone(),
                namespace: o.id.namespace.clone(),
                name: o.id.name.clone(),
                json: o.root.to_json(),
            })
            .collect();
        for b in &bindings {
            if !policies.iter().any(|p| p.name == b.policy) {
                problems.push(Problem {
                    file: b.file.clone(),
                    span: b.span,
                    object: format!("ValidatingAdmissionPolicyBinding {}", b.name),
                    message: format!("binds policy {:?}, which is not in the input", b.policy),
                });
            }
        }
        (
            Policies {
                policies,
                bindings,
                params,
                authorizer: None,
            },
            problems,
        )
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// The bindings of loaded policies, in load order, as `(policy, binding,
    /// validationActions)` (the actions as evaluated: `Deny` when none is given).
    pub fn bindings(&self) -> impl Iterator<Item = (&str, &str, &[Action])> {
        self.bindings
            .iter()
            .filter(|b| self.policies.iter().any(|p| p.name == b.policy))
            .map(|b| (b.policy.as_str(), b.name.as_str(), b.actions.as_slice()))
    }

    /// Evaluates every binding on `object` as the API server would admit it
    /// with `operation` (no `oldObject`). `namespace_object` is the object's
    /// Namespace when known (for `namespaceSelector` and `namespaceObject`).
    pub fn evaluate(
        &self,
        object: &Object,
        operation: Operation,
        namespace_object: Option<&Object>,
    ) -> Vec<Decision> {
        let json = object.root.to_json();
        let ns = namespace_object.map(|n| n.root.to_json());
        self.evaluate_json(&json, None, operation, ns.as_ref())
    }

    /// Evaluates many objects (each with its Namespace, when known) with one
    /// evaluation thread: cheaper than [`Policies::evaluate`] per object.
    pub fn evaluate_all(
        &self,
        items: &[(&Object, Option<&Object>)],
        operation: Operation,
    ) -> Vec<Vec<Decision>> {
        let run = || {
            items
                .iter()
                .map(|(object, ns)| {
                    let json = object.root.to_json();
                    let ns = ns.map(|n| n.root.to_json());
                    self.evaluate_inner(&json, None, operation, ns.as_ref())
                })
                .collect::<Vec<_>>()
        };
        cel::on_large_stack(run).unwrap_or_else(|e| {
            items
                .iter()
                .map(|_| vec![internal_error(e.clone())])
                .collect()
        })
    }

    /// Evaluates an UPDATE of `old` to `object` (`oldObject` is set).
    pub fn evaluate_update(
        &self,
        object: &Object,
        old: &Object,
        namespace_object: Option<&Object>,
    ) -> Vec<Decision> {
        let json = object.root.to_json();
        let old = old.root.to_json();
        let ns = namespace_object.map(|n| n.root.to_json());
        self.evaluate_json(&json, Some(&old), Operation::Update, ns.as_ref())
    }

    /// Like [`Policies::evaluate`], on JSON values, with an optional old object.
    pub fn evaluate_json(
        &self,
        object: &J,
        old_object: Option<&J>,
        operation: Operation,
        namespace_object: Option<&J>,
    ) -> Vec<Decision> {
        // Deep expressions recurse deeply: run on a thread with a large stack.
        match cel::on_large_stack(|| {
            self.evaluate_inner(object, old_object, operation, namespace_object)
        }) {
            Ok(d) => d,
            Err(e) => vec![internal_error(e)],
        }
    }

    /// Converts a decision to a finding on `object` (at `metadata.name`, or
    /// the object's start). Warn and Audit are reported with lower severity.
    pub fn to_finding(&self, decision: &Decision, object: &Object) -> Finding {
        let meta = rule_meta(&decision.policy);
        let span = object
            .root
            .path(&["metadata", "name"])
            .map_or(object.root.span, |n| n.span);
        let message = match decision.kind {
            DecisionKind::AuditAnnotation => format!(
                "audit annotation {}/{}: {} (binding {})",
                decision.policy, decision.reason, decision.message, decision.binding
            ),
            _ => format!(
                "{} ({}, binding {})",
                decision.message, decision.policy, decision.binding
            ),
        };
        let mut finding = Finding::new(
            meta,
            object,
            span,
            None,
            message,
            "Change the object so that the policy's validation holds, or review the policy and its binding.".into(),
        );
        finding.severity = decision.severity();
        finding
    }

    fn evaluate_inner(
        &self,
        object: &J,
        old_object: Option<&J>,
        operation: Operation,
        namespace_object: Option<&J>,
    ) -> Vec<Decision> {
        let subject_obj = if operation == Operation::Delete {
            old_object.unwrap_or(object)
        } else {
            object
        };
        let api_version = subject_obj
            .get("apiVersion")
            .and_then(J::as_str)
            .unwrap_or("");
        let kind = subject_obj.get("kind").and_then(J::as_str).unwrap_or("");
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let (resource, _) = resource_for_kind(kind);
        let meta = subject_obj.get("metadata");
        let text = |key: &str| {
            meta.and_then(|m| m.get(key))
                .and_then(J::as_str)
                .unwrap_or("")
        };
        let request = json!({
            "uid": "palisade-offline",
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "requestKind": {"group": group, "version": version, "kind": kind},
            "requestResource": {"group": group, "version": version, "resource": resource},
            "name": text("name"),
            "namespace": text("namespace"),
            "operation": operation.as_str(),
            "userInfo": {"username": "palisade:offline", "groups": ["system:authenticated"]},
            "dryRun": false,
            "options": {},
        });
        let obj = (operation != Operation::Delete).then_some(object);
        // The requester of a manifest is not known offline: checks on it are
        // not evaluable; checks on `authorizer.serviceAccount(..)` are.
        // `auditAnnotations` are kept: the API server writes them to the audit
        // log of every admitted request; offline they are reported as notes.
        self.evaluate_with(&request, obj, old_object, namespace_object, false)
    }

    /// Evaluates every binding on an admission request as the API server
    /// would: `request` is the `AdmissionRequest` (its `object` and
    /// `oldObject` become the CEL variables of the same names, the rest is
    /// `request`); `namespace_object` is the request's Namespace when known.
    ///
    /// Runs on the calling thread, which needs a stack of at least
    /// [`EVAL_STACK_SIZE`] bytes (deep expressions recurse deeply).
    pub fn evaluate_request(&self, request: &J, namespace_object: Option<&J>) -> Vec<Decision> {
        let present = |key: &str| request.get(key).filter(|v| !v.is_null());
        let object = present("object");
        let old_object = present("oldObject");
        let mut attributes = request.clone();
        if let Some(map) = attributes.as_object_mut() {
            // The CEL `request` variable is the AdmissionRequest without the objects.
            map.remove("object");
            map.remove("oldObject");
        }
        self.evaluate_with(&attributes, object, old_object, namespace_object, true)
    }

    /// Answers the policies' `authorizer` checks with `authorizer` (e.g. the
    /// RBAC objects of the input). Without one, such checks are not evaluable.
    pub fn set_authorizer(&mut self, authorizer: Arc<dyn Authorizer>) {
        self.authorizer = Some(authorizer);
    }

    /// Evaluates for a request whose attributes (`kind`, `resource`, `name`,
    /// `namespace`, `operation`, `userInfo`...) are in `request`.
    fn evaluate_with(
        &self,
        request: &J,
        object: Option<&J>,
        old_object: Option<&J>,
        namespace_object: Option<&J>,
        requester_known: bool,
    ) -> Vec<Decision> {
        let context = self.authorizer.as_ref().map(|authorizer| {
            let text = |pointer: &str| {
                request
                    .pointer(pointer)
                    .and_then(J::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let user = requester_known.then(|| UserInfo {
                username: text("/userInfo/username"),
                groups: request
                    .pointer("/userInfo/groups")
                    .and_then(J::as_array)
                    .map(|g| g.iter().filter_map(J::as_str).map(str::to_string).collect())
                    .unwrap_or_default(),
            });
            cel::AuthzContext {
                authorizer: authorizer.clone(),
                user,
                request: cel::RequestAttributes {
                    group: text("/resource/group"),
                    resource: text("/resource/resource"),
                    subresource: text("/subResource"),
                    namespace: text("/namespace"),
                    name: text("/name"),
                },
            }
        });
        cel::with_authorizer(context, || {
            self.evaluate_attributes(request, object, old_object, namespace_object)
        })
    }

    fn evaluate_attributes(
        &self,
        request: &J,
        object: Option<&J>,
        old_object: Option<&J>,
        namespace_object: Option<&J>,
    ) -> Vec<Decision> {
        let text = |pointer: &str| request.pointer(pointer).and_then(J::as_str).unwrap_or("");
        let operation = match text("/operation") {
            "UPDATE" => Operation::Update,
            "DELETE" => Operation::Delete,
            "CONNECT" => Operation::Connect,
            _ => Operation::Create,
        };
        let (group, version) = (text("/resource/group"), text("/resource/version"));
        let resource = text("/resource/resource");
        let subresource = text("/subResource");
        let kind = text("/kind/kind");
        let name = text("/name");
        let namespace = text("/namespace");
        let subject_obj = object.or(old_object);
        let meta = subject_obj.and_then(|o| o.get("metadata"));
        let empty = J::Object(Default::default());
        let labels = meta.and_then(|m| m.get("labels")).unwrap_or(&empty);
        let old_labels = old_object
            .and_then(|o| o.get("metadata"))
            .and_then(|m| m.get("labels"));
        let is_namespace = group.is_empty() && resource == "namespaces";
        let ns_labels = if is_namespace {
            Some(labels)
        } else {
            namespace_object
                .and_then(|n| n.get("metadata"))
                .and_then(|m| m.get("labels"))
        };
        let namespaced = if is_namespace {
            false
        } else if !namespace.is_empty() {
            true
        } else {
            !CLUSTER_SCOPED_KINDS.contains(&kind)
        };
        let subject = matching::Subject {
            group,
            version,
            resource,
            subresource,
            name,
            namespaced,
            operation,
            labels,
            old_labels,
            namespace_labels: ns_labels,
            is_namespace,
        };
        let obj_value = object.map_or(::kube_cel::cel::Value::Null, json_to_cel);
        let old_value = old_object.map_or(::kube_cel::cel::Value::Null, json_to_cel);
        let ns_value = if namespaced {
            namespace_object.map_or(::kube_cel::cel::Value::Null, json_to_cel)
        } else {
            ::kube_cel::cel::Value::Null
        };
        let request_value = json_to_cel(request);

        let mut decisions = Vec::new();
        let mut converted_by_version: HashMap<(String, String), ConvertedRequest> = HashMap::new();
        for binding in &self.bindings {
            let Some(policy) = self.policies.iter().find(|p| p.name == binding.policy) else {
                continue;
            };
            let unknown_namespace = |m: &J| matching::needs_unknown_namespace(m, &subject);
            let policy_match =
                matching::match_resources_through(&policy.match_constraints, &subject);
            let policy_matches = policy_match.is_some();
            let binding_matches = binding
                .match_resources
                .as_ref()
                .is_none_or(|m| matching::match_resources(m, &subject));
            if !(policy_matches && binding_matches) {
                let blocked_by_namespace = (policy_matches
                    || unknown_namespace(&policy.match_constraints))
                    && (binding_matches
                        || binding
                            .match_resources
                            .as_ref()
                            .is_some_and(unknown_namespace));
                if blocked_by_namespace {
                    decisions.push(Decision {
                        policy: policy.name.clone(),
                        binding: binding.name.clone(),
                        kind: DecisionKind::NotEvaluable,
                        actions: binding.actions.clone(),
                        message: format!(
                            "not evaluated: the namespaceSelector needs the labels of Namespace {:?}, which is not in the input",
                            namespace
                        ),
                        reason: "NamespaceNotInInput".to_string(),
                        validation: None,
                        param: None,
                    });
                }
                continue;
            }
            let base = |kind: DecisionKind,
                        message: String,
                        reason: &str,
                        validation: Option<usize>,
                        param: Option<String>| Decision {
                policy: policy.name.clone(),
                binding: binding.name.clone(),
                kind,
                actions: binding.actions.clone(),
                message,
                reason: reason.to_string(),
                validation,
                param,
            };
            // Parameters: one evaluation per parameter object.
            let params: Vec<(Option<String>, ::kube_cel::cel::Value)> = match &policy.param_kind {
                None => vec![(None, ::kube_cel::cel::Value::Null)],
                Some((pv, pk)) => {
                    match &binding.param_ref {
                        None => {
                            if policy.failure == FailurePolicy::Fail {
                                decisions.push(base(
                                DecisionKind::Error,
                                format!("policy {} has paramKind {pk} but binding {} has no paramRef", policy.name, binding.name),
                                "InvalidBinding",
                                None,
                                None,
                            ));
                            }
                            continue;
                        }
                        Some(pref) => {
                            let found = self.find_params(pv, pk, pref, namespace);
                            if found.is_empty() {
                                let action = pref
                                    .get("parameterNotFoundAction")
                                    .and_then(J::as_str)
                                    .unwrap_or("Deny");
                                if action == "Deny" {
                                    decisions.push(base(
                                    DecisionKind::Error,
                                    format!("no params found for policy binding with `Deny` parameterNotFoundAction ({pk} not found)"),
                                    "ParamNotFound",
                                    None,
                                    None,
                                ));
                                }
                                continue;
                            }
                            found
                                .into_iter()
                                .map(|p| (Some(p.name.clone()), json_to_cel(&p.json)))
                                .collect()
                        }
                    }
                }
            };
            // Matched through an equivalent group/version: the API server converts
            // the request (kind, resource) and the objects to it before evaluating.
            // Converted once per (group, version) for this request, shared by
            // every binding that matches through it.
            let (obj_value, old_value, request_value) = match policy_match.flatten() {
                Some(group_version) => {
                    let (o, old, r) = converted_by_version
                        .entry(group_version)
                        .or_insert_with_key(|(g, v)| {
                            convert_request(request, object, old_object, g, v, kind)
                        });
                    (&*o, &*old, &*r)
                }
                None => (&obj_value, &old_value, &request_value),
            };
            for (param_name, param_value) in params {
                let activation: Activation = vec![
                    ("object", obj_value.clone()),
                    ("oldObject", old_value.clone()),
                    ("request", request_value.clone()),
                    ("params", param_value),
                    ("namespaceObject", ns_value.clone()),
                ];
                let scope = VarScope::new(&policy.variables, activation);
                self.run_policy(policy, &scope, &base, param_name, &mut decisions);
            }
        }
        decisions
    }

    fn run_policy(
        &self,
        policy: &Policy,
        scope: &Rc<VarScope>,
        base: &MakeDecision,
        param: Option<String>,
        decisions: &mut Vec<Decision>,
    ) {
        let act = scope.activation();
        // The API server's RuntimeCELCostBudget: one budget for all the
        // expressions of one policy evaluation.
        let spent = std::cell::Cell::new(0u64);
        let eval = |c: &CompiledExpr| -> Result<::kube_cel::cel::Value, EvalError> {
            if spent.get() > PER_POLICY_COST_BUDGET {
                return Err(EvalError::PolicyBudget);
            }
            let result = cel_eval(c, act, Some(scope));
            spent.set(spent.get().saturating_add(cel::last_cost()));
            if spent.get() > PER_POLICY_COST_BUDGET && result.is_ok() {
                return Err(EvalError::PolicyBudget);
            }
            result
        };
        let on_error =
            |decisions: &mut Vec<Decision>, e: &EvalError, what: String, index: Option<usize>| {
                match e {
                    EvalError::NotEvaluableOffline(_) => decisions.push(base(
                        DecisionKind::NotEvaluable,
                        format!("{what}: {e}"),
                        "NotEvaluableOffline",
                        index,
                        param.clone(),
                    )),
                    _ if policy.failure == FailurePolicy::Fail => decisions.push(base(
                        DecisionKind::Error,
                        format!("{what}: {e}"),
                        "InternalError",
                        index,
                        param.clone(),
                    )),
                    _ => {}
                }
            };
        // matchConditions: all must be true; an error follows failurePolicy.
        for (name, cond) in &policy.match_conditions {
            let outcome = match cond {
                Ok(c) => eval(c),
                Err(e) => Err(EvalError::Runtime(e.clone())),
            };
            match outcome {
                Ok(::kube_cel::cel::Value::Bool(true)) => {}
                Ok(::kube_cel::cel::Value::Bool(false)) => return,
                Ok(other) => {
                    on_error(
                        decisions,
                        &EvalError::Runtime(format!(
                            "matchCondition returned {other:?}, not a bool"
                        )),
                        format!("matchCondition {name}"),
                        None,
                    );
                    return;
                }
                Err(e) => {
                    on_error(decisions, &e, format!("matchCondition {name}"), None);
                    return;
                }
            }
        }
        for (key, annotation) in &policy.audit_annotations {
            let outcome = match annotation {
                Ok(c) => eval(c),
                Err(e) => Err(EvalError::Runtime(e.clone())),
            };
            match outcome {
                Ok(::kube_cel::cel::Value::String(value)) => decisions.push(base(
                    DecisionKind::AuditAnnotation,
                    value.to_string(),
                    key,
                    None,
                    param.clone(),
                )),
                // A null value means "no annotation", as upstream.
                Ok(::kube_cel::cel::Value::Null) => {}
                Ok(other) => on_error(
                    decisions,
                    &EvalError::Runtime(format!(
                        "valueExpression returned {other:?}, not a string"
                    )),
                    format!("auditAnnotation {key}"),
                    None,
                ),
                Err(e) => on_error(decisions, &e, format!("auditAnnotation {key}"), None),
            }
        }
        for (i, v) in policy.validations.iter().enumerate() {
            let outcome = match &v.expr {
                Ok(c) => eval(c),
                Err(e) => Err(EvalError::Runtime(e.clone())),
            };
            let src = v.expr.as_ref().map(CompiledExpr::source).unwrap_or("");
            match outcome {
                Ok(::kube_cel::cel::Value::Bool(true)) => {}
                Ok(::kube_cel::cel::Value::Bool(false)) => {
                    let mut message = v
                        .message
                        .clone()
                        .unwrap_or_else(|| format!("failed expression: {}", src.trim()));
                    if let Some(Ok(me)) = &v.message_expr {
                        // A failing or empty messageExpression falls back to message.
                        if let Ok(::kube_cel::cel::Value::String(s)) = eval(me) {
                            if !s.trim().is_empty() && !s.contains('\n') {
                                message = s.to_string();
                            }
                        }
                    }
                    decisions.push(base(
                        DecisionKind::Violation,
                        message,
                        v.reason.as_deref().unwrap_or("Invalid"),
                        Some(i),
                        param.clone(),
                    ));
                }
                Ok(other) => on_error(
                    decisions,
                    &EvalError::Runtime(format!("validation returned {other:?}, not a bool")),
                    format!("expression '{}'", src.trim()),
                    Some(i),
                ),
                Err(e) => on_error(
                    decisions,
                    &e,
                    format!("expression '{}'", src.trim()),
                    Some(i),
                ),
            }
        }
    }

    fn find_params(
        &self,
        api_version: &str,
        kind: &str,
        pref: &J,
        namespace: &str,
    ) -> Vec<&ParamObject> {
        let want_ns = pref
            .get("namespace")
            .and_then(J::as_str)
            .map(str::to_string)
            .or_else(|| (!namespace.is_empty()).then(|| namespace.to_string()));
        let namespaced_kind = !CLUSTER_SCOPED_KINDS.contains(&kind);
        let candidates = self.params.iter().filter(|p| {
            p.api_version == api_version
                && p.kind == kind
                && (!namespaced_kind || p.namespace == want_ns)
        });
        if let Some(name) = pref.get("name").and_then(J::as_str) {
            candidates.filter(|p| p.name == name).collect()
        } else if let Some(selector) = pref.get("selector") {
            let Some(selector) = parse_selector(Some(selector)) else {
                return Vec::new();
            };
            let empty = J::Object(Default::default());
            candidates
                .filter(|p| {
                    let labels = p
                        .json
                        .get("metadata")
                        .and_then(|m| m.get("labels"))
                        .unwrap_or(&empty);
                    selector.matches(labels)
                })
                .collect()
        } else {
            Vec::new()
        }
    }
}

/// `object`, `oldObject` and `request` as CEL values, converted to another
/// group/version.
type ConvertedRequest = (
    ::kube_cel::cel::Value,
    ::kube_cel::cel::Value,
    ::kube_cel::cel::Value,
);

/// The CEL `object`, `oldObject` and `request` of a request converted to
/// `group`/`version` (`matchPolicy: Equivalent`): `request.kind` and
/// `request.resource` name the converted version (`requestKind` and
/// `requestResource` keep the original), and the objects' `apiVersion` is the
/// converted one. Offline there is no conversion webhook or scheme, so the
/// other fields stay as written; the versions in Kubernetes' equivalence table
/// differ little beyond `apiVersion`.
fn convert_request(
    request: &J,
    object: Option<&J>,
    old_object: Option<&J>,
    group: &str,
    version: &str,
    kind: &str,
) -> ConvertedRequest {
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let convert = |o: Option<&J>| {
        o.map_or(::kube_cel::cel::Value::Null, |o| {
            let mut o = o.clone();
            if let Some(map) = o.as_object_mut() {
                map.insert("apiVersion".into(), J::String(api_version.clone()));
            }
            json_to_cel(&o)
        })
    };
    let mut request = request.clone();
    for (key, name_key) in [("kind", "kind"), ("resource", "resource")] {
        let original = request.get(key).cloned().unwrap_or(J::Null);
        let upper = format!("request{}{}", key[..1].to_ascii_uppercase(), &key[1..]);
        if let Some(map) = request.as_object_mut() {
            map.entry(upper).or_insert_with(|| original.clone());
            let name = original
                .get(name_key)
                .cloned()
                .unwrap_or_else(|| json!(kind));
            map.insert(
                key.to_string(),
                json!({"group": group, "version": version, name_key: name}),
            );
        }
    }
    (convert(object), convert(old_object), json_to_cel(&request))
}

fn internal_error(message: String) -> Decision {
    Decision {
        policy: String::new(),
        binding: String::new(),
        kind: DecisionKind::Error,
        actions: vec![],
        message,
        reason: "InternalError".into(),
        validation: None,
        param: None,
    }
}

fn load_policy(name: &str, spec: &J, notes: &mut Vec<Note>) -> Policy {
    let failure = match spec.get("failurePolicy").and_then(J::as_str) {
        Some("Ignore") => FailurePolicy::Ignore,
        Some("Fail") | None => FailurePolicy::Fail,
        Some(other) => {
            notes.push(format!("unknown failurePolicy {other:?}; using Fail").into());
            FailurePolicy::Fail
        }
    };
    let var_names: Vec<String> = spec
        .get("variables")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("name").and_then(J::as_str).map(str::to_string))
        .collect();
    let variables = compile_list(
        spec.get("variables"),
        ("variables", "expression"),
        &var_names,
        notes,
        "variable",
    );
    let match_conditions = compile_list(
        spec.get("matchConditions"),
        ("matchConditions", "expression"),
        &var_names,
        notes,
        "matchCondition",
    );
    let mut validations = Vec::new();
    for (i, v) in spec
        .get("validations")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let expr = match v.get("expression").and_then(J::as_str) {
            Some(src) => compile(src, &var_names),
            None => Err(format!("validations[{i}] has no expression")),
        };
        if let Err(e) = &expr {
            notes.push(Note::at(
                "validations",
                i,
                "expression",
                format!("validations[{i}].expression: {e}"),
            ));
        }
        let message_expr = v
            .get("messageExpression")
            .and_then(J::as_str)
            .map(|src| compile(src, &var_names));
        if let Some(Err(e)) = &message_expr {
            notes.push(Note::at(
                "validations",
                i,
                "messageExpression",
                format!("validations[{i}].messageExpression: {e}"),
            ));
        }
        validations.push(Validation {
            expr,
            message: v.get("message").and_then(J::as_str).map(str::to_string),
            message_expr,
            reason: v.get("reason").and_then(J::as_str).map(str::to_string),
        });
    }
    let audit_annotations: Vec<(String, Result<CompiledExpr, String>)> = spec
        .get("auditAnnotations")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, a)| {
            let key = a.get("key").and_then(J::as_str).unwrap_or("").to_string();
            let compiled = match a.get("valueExpression").and_then(J::as_str) {
                Some(src) => compile(src, &var_names),
                None => Err("no valueExpression".to_string()),
            };
            if let Err(e) = &compiled {
                notes.push(Note::at(
                    "auditAnnotations",
                    i,
                    "valueExpression",
                    format!("auditAnnotations[{i}] (key {key}): {e}"),
                ));
            }
            (key, compiled)
        })
        .collect();
    if validations.is_empty() && audit_annotations.is_empty() {
        notes.push("the policy has no validations".into());
    }
    let param_kind = spec.get("paramKind").map(|pk| {
        (
            pk.get("apiVersion")
                .and_then(J::as_str)
                .unwrap_or("")
                .to_string(),
            pk.get("kind").and_then(J::as_str).unwrap_or("").to_string(),
        )
    });
    if spec
        .get("matchConstraints")
        .and_then(|m| m.get("resourceRules"))
        .is_none()
    {
        notes.push(
            "spec.matchConstraints.resourceRules is required; the policy matches nothing".into(),
        );
    }
    let match_constraints = spec
        .get("matchConstraints")
        .cloned()
        .filter(|m| m.get("resourceRules").is_some())
        .unwrap_or_else(|| json!({"resourceRules": []}));
    Policy {
        name: name.to_string(),
        failure,
        match_constraints,
        match_conditions,
        variables,
        validations,
        audit_annotations,
        param_kind,
        rule: rule_meta(name),
    }
}

fn load_binding(name: &str, spec: &J, notes: &mut Vec<Note>) -> Binding {
    let mut actions = Vec::new();
    for a in spec
        .get("validationActions")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        match a.as_str() {
            Some("Deny") => actions.push(Action::Deny),
            Some("Warn") => actions.push(Action::Warn),
            Some("Audit") => actions.push(Action::Audit),
            other => notes.push(format!("unknown validationAction {other:?}").into()),
        }
    }
    if actions.is_empty() {
        notes.push("validationActions is required; assuming Deny".into());
        actions.push(Action::Deny);
    }
    let policy = spec
        .get("policyName")
        .and_then(J::as_str)
        .unwrap_or_default()
        .to_string();
    if policy.is_empty() {
        notes.push("spec.policyName is missing".into());
    }
    Binding {
        name: name.to_string(),
        file: String::new(),
        span: Span::default(),
        policy,
        param_ref: spec.get("paramRef").cloned().filter(|p| !p.is_null()),
        actions,
        match_resources: spec.get("matchResources").cloned().filter(|m| !m.is_null()),
    }
}

impl Policies {
    /// The rule metadata of a loaded policy.
    pub fn rule(&self, policy: &str) -> Option<&'static RuleMeta> {
        self.policies
            .iter()
            .find(|p| p.name == policy)
            .map(|p| p.rule)
    }
}
