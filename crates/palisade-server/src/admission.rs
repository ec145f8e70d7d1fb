//! One AdmissionReview in, one verdict out: Pod Security, then Gatekeeper
//! constraints, then ValidatingAdmissionPolicies, combined as one webhook
//! answer. The layers decide; this module only asks them and merges.

use std::collections::BTreeMap;
use std::time::Instant;

use palisade_model::{load_text, LoadOptions, Node, Object};
use palisade_policy::gatekeeper::{EnforcementAction, RequestNamespace, Review};
use palisade_policy::vap::{Action, DecisionKind};
use palisade_pss::admission::{self as psa, NamespaceLabels};
use serde_json::{json, Value as Json};

use crate::namespaces::{Lookup, NamespaceCache};
use crate::policies::PolicySnapshot;

/// The only AdmissionReview version served (what `admissionReviewVersions: [v1]` sends).
pub const ADMISSION_API_VERSION: &str = "admission.k8s.io/v1";

/// Why a body is not an AdmissionReview this server can answer (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest(pub String);

impl std::fmt::Display for BadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A decoded AdmissionReview.
#[derive(Debug)]
pub struct Decoded {
    /// The review as a model object (positions are in the request body).
    pub review: Object,
    /// `request` as JSON, for the policy engines.
    pub request: Json,
    pub uid: String,
}

impl Decoded {
    fn request_node(&self) -> &Node {
        // `decode` checked that `request` is a mapping.
        self.review.root.get("request").unwrap_or(&self.review.root)
    }

    fn text(&self, path: &[&str]) -> &str {
        self.request_node()
            .path(path)
            .and_then(Node::as_str)
            .unwrap_or("")
    }

    pub fn operation(&self) -> &str {
        self.text(&["operation"])
    }

    pub fn kind(&self) -> &str {
        self.text(&["kind", "kind"])
    }

    pub fn namespace(&self) -> &str {
        self.text(&["namespace"])
    }

    pub fn username(&self) -> &str {
        self.text(&["userInfo", "username"])
    }
}

/// Reads an AdmissionReview body. Every problem is a [`BadRequest`] naming
/// the position in the body when there is one.
pub fn decode(body: &[u8]) -> Result<Decoded, BadRequest> {
    let text = std::str::from_utf8(body)
        .map_err(|e| BadRequest(format!("request body is not UTF-8: {e}")))?;
    if text.trim().is_empty() {
        return Err(BadRequest(
            "request body is empty: expected an AdmissionReview".into(),
        ));
    }
    let loaded = load_text("request body", text, &LoadOptions::default());
    if let Some(error) = loaded.errors.first() {
        return Err(BadRequest(format!(
            "request body is not a valid AdmissionReview: {error}"
        )));
    }
    let Some(review) = loaded.objects.into_iter().next() else {
        return Err(BadRequest(
            "request body holds no object: expected an AdmissionReview".into(),
        ));
    };
    if review.id.kind != "AdmissionReview" {
        return Err(BadRequest(format!(
            "expected kind AdmissionReview, found {:?}",
            review.id.kind
        )));
    }
    if review.id.api_version != ADMISSION_API_VERSION {
        return Err(BadRequest(format!(
            "apiVersion {:?} is not supported: this webhook serves {ADMISSION_API_VERSION} (set admissionReviewVersions: [v1] in the webhook configuration)",
            review.id.api_version
        )));
    }
    let Some(request) = review.root.get("request").filter(|r| r.as_map().is_some()) else {
        return Err(BadRequest("AdmissionReview has no `request` object".into()));
    };
    let uid = request
        .get("uid")
        .and_then(Node::as_str)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| BadRequest("AdmissionReview request has no `uid`".into()))?
        .to_string();
    for key in ["kind", "resource", "operation"] {
        if request.get(key).is_none_or(Node::is_null) {
            return Err(BadRequest(format!(
                "AdmissionReview request has no `{key}`"
            )));
        }
    }
    let request = request.to_json();
    Ok(Decoded {
        review,
        request,
        uid,
    })
}

/// Which layer a violation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    PodSecurity,
    Gatekeeper,
    AdmissionPolicy,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::PodSecurity => "pod-security",
            Source::Gatekeeper => "gatekeeper",
            Source::AdmissionPolicy => "validating-admission-policy",
        }
    }
}

/// One violation, for metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViolationRecord {
    pub source: Source,
    pub rule: String,
    /// deny, warn, dryrun / audit.
    pub action: &'static str,
}

/// One field or rule behind a denial (`status.details.causes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

/// The webhook's answer, before it is written as JSON.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    pub allowed: bool,
    pub code: u16,
    pub reason: String,
    /// Every denial, one per line.
    pub messages: Vec<String>,
    pub causes: Vec<Cause>,
    pub warnings: Vec<String>,
    pub audit_annotations: BTreeMap<String, String>,
    pub violations: Vec<ViolationRecord>,
    pub pod_security: Vec<psa::Evaluation>,
    /// Policies that could not be evaluated, with why (logged).
    pub errors: Vec<String>,
    /// The time budget ran out before every policy was evaluated.
    pub timed_out: bool,
}

impl Verdict {
    fn deny(&mut self, code: u16, reason: &str, message: String) {
        if self.allowed {
            self.allowed = false;
            self.code = code;
            self.reason = reason.to_string();
        }
        self.messages.push(message);
    }

    /// The `response` of an AdmissionReview.
    pub fn response_json(&self, uid: &str) -> Json {
        let mut response = json!({ "uid": uid, "allowed": self.allowed });
        if !self.allowed {
            let mut status = json!({
                "metadata": {},
                "status": "Failure",
                "message": self.messages.join("\n"),
                "reason": self.reason,
                "code": self.code,
            });
            if !self.causes.is_empty() {
                status["details"] = json!({
                    "causes": self.causes.iter().map(|c| {
                        let mut cause = json!({"reason": c.reason, "message": c.message});
                        if !c.field.is_empty() {
                            cause["field"] = Json::String(c.field.clone());
                        }
                        cause
                    }).collect::<Vec<_>>()
                });
            }
            response["status"] = status;
        }
        if !self.warnings.is_empty() {
            response["warnings"] = json!(self.warnings);
        }
        if !self.audit_annotations.is_empty() {
            response["auditAnnotations"] = json!(self.audit_annotations);
        }
        json!({
            "apiVersion": ADMISSION_API_VERSION,
            "kind": "AdmissionReview",
            "response": response,
        })
    }
}

/// What a verdict is judged with.
pub struct Judge<'a> {
    pub pod_security: &'a psa::Configuration,
    pub namespaces: &'a NamespaceCache,
    pub policies: &'a PolicySnapshot,
}

/// Keys of audit annotations are prefixed by the API server with the
/// webhook's name, and must then be a valid qualified name: so no `/` here.
fn annotation_key(parts: &[&str]) -> String {
    let mut key: String = parts
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    key.truncate(63);
    key.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

impl Judge<'_> {
    /// Decides one request. Policies not reached by `deadline` are skipped
    /// and the verdict says it timed out.
    pub fn decide(&self, decoded: &Decoded, deadline: Option<Instant>) -> Verdict {
        let mut verdict = Verdict {
            allowed: true,
            code: 200,
            ..Verdict::default()
        };
        let namespace_name = decoded.namespace();
        let namespace = if namespace_name.is_empty() {
            None
        } else {
            Some(self.namespaces.lookup(namespace_name))
        };
        self.pod_security(decoded, namespace.as_ref(), &mut verdict);
        let ns_entry = match &namespace {
            Some(Lookup::Found(entry)) => Some(entry.clone()),
            _ => None,
        };
        self.gatekeeper(decoded, ns_entry.as_deref(), deadline, &mut verdict);
        if verdict.timed_out {
            return verdict;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            verdict.timed_out = true;
            return verdict;
        }
        self.admission_policies(decoded, ns_entry.as_deref(), &mut verdict);
        verdict
    }

    fn pod_security(&self, decoded: &Decoded, namespace: Option<&Lookup>, verdict: &mut Verdict) {
        let request = decoded.request_node();
        let text = |path: &[&str]| request.path(path).and_then(Node::as_str).unwrap_or("");
        let present = |key: &str| request.get(key).filter(|n| n.as_map().is_some());
        let psa_request = psa::Request {
            operation: text(&["operation"]),
            group: text(&["resource", "group"]),
            resource: text(&["resource", "resource"]),
            subresource: text(&["subResource"]),
            kind_group: text(&["kind", "group"]),
            kind: text(&["kind", "kind"]),
            namespace: text(&["namespace"]),
            name: text(&["name"]),
            username: text(&["userInfo", "username"]),
            object: present("object"),
            old_object: present("oldObject"),
        };
        let missing;
        let labels = match namespace {
            Some(Lookup::Found(entry)) => NamespaceLabels::Known(&entry.labels),
            Some(Lookup::Missing(why)) => {
                missing = why.clone();
                NamespaceLabels::Unknown(&missing)
            }
            Some(Lookup::Unconfigured) | None => NamespaceLabels::Known(&[]),
        };
        let response = psa::validate(self.pod_security, &psa_request, labels);
        if let Some(status) = &response.status {
            verdict.deny(status.code, status.reason, status.message.clone());
            verdict.causes.extend(status.causes.iter().map(|c| Cause {
                reason: format!("pss/{}", c.reason.trim_start_matches("pss/")),
                message: c.message.clone(),
                field: c.field.clone(),
            }));
        }
        verdict.warnings.extend(response.warnings.iter().cloned());
        for (key, value) in &response.audit_annotations {
            let short = key.rsplit('/').next().unwrap_or(key);
            verdict
                .audit_annotations
                .insert(annotation_key(&["pod-security", short]), value.clone());
        }
        for evaluation in &response.evaluations {
            if !evaluation.allowed {
                verdict.violations.push(ViolationRecord {
                    source: Source::PodSecurity,
                    rule: format!("pss/{}", evaluation.policy.level),
                    action: match evaluation.mode {
                        palisade_pss::Mode::Enforce => "deny",
                        palisade_pss::Mode::Warn => "warn",
                        palisade_pss::Mode::Audit => "audit",
                    },
                });
            }
        }
        verdict.pod_security = response.evaluations;
    }

    fn gatekeeper(
        &self,
        decoded: &Decoded,
        namespace: Option<&crate::namespaces::NamespaceEntry>,
        deadline: Option<Instant>,
        verdict: &mut Verdict,
    ) {
        let evaluator = &self.policies.gatekeeper;
        if evaluator.constraint_count() == 0 {
            return;
        }
        // An UPDATE or DELETE without the object to judge, or a CONNECT, has nothing to review.
        let review = match Review::from_request(decoded.request.clone()) {
            Ok(review) => review,
            Err(_) => return,
        };
        let ns = namespace.map(|n| RequestNamespace {
            json: &n.json,
            labels: &n.labels,
        });
        let outcome = evaluator.evaluate(&review, ns, deadline);
        verdict.timed_out |= outcome.timed_out;
        verdict.errors.extend(outcome.errors);
        let mut denials = Vec::new();
        let mut dryrun = Vec::new();
        for v in &outcome.violations {
            let line = format!("[{}] {}", v.constraint_name, v.message);
            let action = v.action();
            verdict.violations.push(ViolationRecord {
                source: Source::Gatekeeper,
                rule: format!("gatekeeper/{}/{}", v.constraint_kind, v.constraint_name),
                action: action.as_str(),
            });
            match action {
                EnforcementAction::Deny => {
                    verdict.causes.push(Cause {
                        reason: format!("gatekeeper/{}/{}", v.constraint_kind, v.constraint_name),
                        message: v.message.clone(),
                        field: String::new(),
                    });
                    denials.push(line);
                }
                EnforcementAction::Warn => verdict.warnings.push(line),
                EnforcementAction::Dryrun => dryrun.push(line),
            }
        }
        if !denials.is_empty() {
            // Gatekeeper's own form: one `[constraint] message` per line.
            verdict.deny(403, "Forbidden", denials.join("\n"));
        }
        if !dryrun.is_empty() {
            verdict
                .audit_annotations
                .insert(annotation_key(&["gatekeeper-dryrun"]), dryrun.join("\n"));
        }
    }

    fn admission_policies(
        &self,
        decoded: &Decoded,
        namespace: Option<&crate::namespaces::NamespaceEntry>,
        verdict: &mut Verdict,
    ) {
        let vap = &self.policies.vap;
        if vap.is_empty() {
            return;
        }
        let decisions = vap.evaluate_request(&decoded.request, namespace.map(|n| &n.json));
        let mut audit_failures = Vec::new();
        for d in decisions {
            let rule = format!("vap/{}", d.policy);
            match d.kind {
                DecisionKind::AuditAnnotation => {
                    verdict
                        .audit_annotations
                        .insert(annotation_key(&[&d.policy, &d.reason]), d.message);
                }
                DecisionKind::NotEvaluable => verdict.errors.push(format!(
                    "ValidatingAdmissionPolicy '{}' with binding '{}': {}",
                    d.policy, d.binding, d.message
                )),
                DecisionKind::Error => {
                    verdict.violations.push(ViolationRecord {
                        source: Source::AdmissionPolicy,
                        rule,
                        action: "deny",
                    });
                    verdict.deny(
                        500,
                        "InternalError",
                        format!(
                            "policy '{}' with binding '{}' denied request: {}",
                            d.policy, d.binding, d.message
                        ),
                    );
                }
                DecisionKind::Violation => {
                    if d.actions.contains(&Action::Deny) {
                        verdict.violations.push(ViolationRecord {
                            source: Source::AdmissionPolicy,
                            rule: rule.clone(),
                            action: "deny",
                        });
                        let (code, reason) = status_for_reason(&d.reason);
                        verdict.causes.push(Cause {
                            reason: rule.clone(),
                            message: d.message.clone(),
                            field: String::new(),
                        });
                        verdict.deny(
                            code,
                            reason,
                            format!(
                                "ValidatingAdmissionPolicy '{}' with binding '{}' denied request: {}",
                                d.policy, d.binding, d.message
                            ),
                        );
                    }
                    if d.actions.contains(&Action::Warn) {
                        verdict.violations.push(ViolationRecord {
                            source: Source::AdmissionPolicy,
                            rule: rule.clone(),
                            action: "warn",
                        });
                        verdict.warnings.push(format!(
                            "Validation failed for ValidatingAdmissionPolicy '{}' with binding '{}': {}",
                            d.policy, d.binding, d.message
                        ));
                    }
                    if d.actions.contains(&Action::Audit) {
                        verdict.violations.push(ViolationRecord {
                            source: Source::AdmissionPolicy,
                            rule,
                            action: "audit",
                        });
                        audit_failures.push(json!({
                            "message": d.message,
                            "policy": d.policy,
                            "binding": d.binding,
                            "expressionIndex": d.validation,
                            "validationActions": d.actions.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>(),
                        }));
                    }
                }
            }
        }
        if !audit_failures.is_empty() {
            // The API server's own key is validation.policy.admission.k8s.io/validation_failure.
            verdict.audit_annotations.insert(
                annotation_key(&["validation-failure"]),
                Json::Array(audit_failures).to_string(),
            );
        }
    }
}

/// The HTTP code of a validation's `reason`, as the API server maps it.
fn status_for_reason(reason: &str) -> (u16, &'static str) {
    match reason {
        "Unauthorized" => (401, "Unauthorized"),
        "Forbidden" => (403, "Forbidden"),
        "RequestEntityTooLarge" => (413, "RequestEntityTooLarge"),
        _ => (422, "Invalid"),
    }
}

/// The answer when the budget ran out or the policies are not loaded:
/// allowed with a warning (fail open) or refused (fail closed).
pub fn failure_verdict(fail_open: bool, why: &str) -> Verdict {
    if fail_open {
        Verdict {
            allowed: true,
            code: 200,
            warnings: vec![format!("palisade: {why}; allowed (failure mode: open)")],
            audit_annotations: BTreeMap::from([(
                "failure".to_string(),
                format!("{why}; allowed (failure mode: open)"),
            )]),
            ..Verdict::default()
        }
    } else {
        Verdict {
            allowed: false,
            code: 500,
            reason: "InternalError".into(),
            messages: vec![format!("palisade: {why}; refused (failure mode: closed)")],
            ..Verdict::default()
        }
    }
}
