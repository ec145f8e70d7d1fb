//! Pod Security Standards, with exactly the semantics of upstream Pod
//! Security Admission (`k8s.io/pod-security-admission`).
//!
//! Every upstream check is here with its versioned behaviour (v1.0 to the
//! newest policy change, `latest`, and later versions behaving as latest),
//! verified against all of upstream's test fixtures. The crate has two layers:
//!
//! - **The admission layer** evaluates a pod's metadata and spec as the
//!   admission plugin does: [`evaluate`] returns one [`CheckResult`] per check
//!   with upstream's reason and detail strings, and [`admission_error`] /
//!   [`admission_warning`] build the messages the API server returns.
//! - **The findings layer** reports each offending field of a manifest as a
//!   [`Finding`](palisade_model::Finding) at the most precise source position,
//!   with rule id `pss/<check id>`. [`Scanner`] applies the Pod Security labels
//!   of Namespaces found in the input, per mode, or a default policy.
//!
//! Namespace labels are read as the plugin reads them, see
//! [`NamespacePolicy::from_labels`]. Every rule, with its documentation, is in [`rules`].
//!
//! ```
//! use palisade_model::{load_text, LoadOptions};
//! use palisade_pss::{admission_error, evaluate, Policy, Scanner};
//!
//! let yaml = "\
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata: {name: web, namespace: shop}
//! spec:
//!   template:
//!     spec:
//!       containers:
//!       - name: app
//!         securityContext: {privileged: true}
//! ";
//! let loaded = load_text("web.yaml", yaml, &LoadOptions::default());
//! let policy: Policy = "baseline:v1.30".parse().unwrap();
//!
//! // Admission layer.
//! let template = palisade_model::pod_template(&loaded.objects[0]).unwrap();
//! let results = evaluate(policy, template.metadata, template.spec);
//! assert_eq!(
//!     admission_error(policy, &results).unwrap(),
//!     r#"violates PodSecurity "baseline:v1.30": privileged (container "app" must not set securityContext.privileged=true)"#
//! );
//!
//! // Findings layer.
//! let scanner = Scanner::new(&loaded.objects, policy);
//! let findings = scanner.scan(&loaded.objects[0]);
//! assert_eq!(findings[0].rule, "pss/privileged");
//! assert_eq!(findings[0].location.span.start.line, 9);
//! assert_eq!(
//!     findings[0].location.field.as_deref(),
//!     Some("spec.template.spec.containers[0].securityContext.privileged")
//! );
//! ```

pub mod admission;
mod check;
mod checks;
mod evaluate;
mod namespace;
pub mod plan;
mod policy;
mod scanner;

pub use check::CheckResult;
pub use evaluate::{
    active_checks, admission_error, admission_warning, aggregate, evaluate, newest_policy_minor,
    ActiveCheck, Aggregate,
};
pub use namespace::{
    LabelError, Mode, NamespacePolicy, AUDIT_LABEL, AUDIT_VERSION_LABEL, ENFORCE_LABEL,
    ENFORCE_VERSION_LABEL, LABEL_PREFIX, POLICY_LABELS, WARN_LABEL, WARN_VERSION_LABEL,
};
pub use policy::{Level, Policy, Version};
pub use scanner::{findings, Scanner};

use palisade_model::RuleMeta;

/// Every Pod Security rule: one per upstream check (`pss/<check id>`), plus
/// `pss/namespace-labels` for invalid namespace labels.
pub fn rules() -> &'static [RuleMeta] {
    &checks::RULES
}

/// The rule with this id (`pss/privileged`), if any.
pub fn rule(id: &str) -> Option<&'static RuleMeta> {
    checks::RULES.iter().find(|r| r.id == id)
}
