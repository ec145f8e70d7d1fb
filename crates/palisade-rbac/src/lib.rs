//! Kubernetes RBAC, offline: the authorizer's exact semantics over manifests,
//! and the questions people ask of it.
//!
//! - [`Rbac::from_objects`] reads Roles, ClusterRoles, RoleBindings and
//!   ClusterRoleBindings (any `rbac.authorization.k8s.io` version), resolves
//!   aggregated ClusterRoles as the aggregation controller does, and keeps the
//!   position of every rule and binding.
//! - [`Rbac`] implements [`palisade_model::Authorizer`] exactly as the API
//!   server's RBAC authorizer decides; [`Rbac::can_i`] also lists every
//!   binding and rule that allows.
//! - [`Rbac::who_can`] answers who may make a request; [`Rbac::list`] what a
//!   user may do in a namespace (`kubectl auth can-i --list`).
//! - [`impersonate`] builds the identity `--as`/`--as-group` stand for, with
//!   the groups the API server adds.
//! - [`Rbac::risks`] reports risky grants as documented checks
//!   (`rbac-risk/...`, [`rules`]) with the bindings that hold them in scope;
//!   [`risk_findings`] turns them into scan findings.
//! - [`Rbac::escalation_paths`] follows grants to stronger identities, up to
//!   cluster-admin; [`Rbac::dot`] draws subjects, bindings and roles.
//! - [`parse_audit_log`] reads audit events; [`generate`] derives the least
//!   privileged roles covering them (audit2rbac's algorithm) and
//!   [`Rbac::unused`] finds what the policy grants that no request used.
//!
//! ```
//! use palisade_model::{load_text, AccessRequest, Authorizer, LoadOptions};
//! use palisade_rbac::{impersonate, Rbac};
//!
//! let loaded = load_text("rbac.yaml", "\
//! apiVersion: rbac.authorization.k8s.io/v1
//! kind: Role
//! metadata: {namespace: dev, name: exec}
//! rules:
//! - apiGroups: [\"\"]
//!   resources: [pods/exec]
//!   verbs: [create]
//! ---
//! apiVersion: rbac.authorization.k8s.io/v1
//! kind: RoleBinding
//! metadata: {namespace: dev, name: devs-exec}
//! subjects: [{kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}]
//! roleRef: {kind: Role, name: exec, apiGroup: rbac.authorization.k8s.io}
//! ", &LoadOptions::default());
//! let rbac = Rbac::from_objects(&loaded.objects);
//! let exec = AccessRequest::Resource {
//!     verb: "create".into(), group: "".into(), resource: "pods".into(),
//!     subresource: "exec".into(), namespace: "dev".into(), name: "web-0".into(),
//! };
//! let alice = impersonate("alice", &["devs".to_string()]);
//! let decision = rbac.authorize(&alice, &exec);
//! assert!(decision.allowed());
//! // RBAC: allowed by RoleBinding "devs-exec/dev" of Role "exec" to Group "devs"
//! //       (binding at rbac.yaml:9, rule #1 at rbac.yaml:5)
//! assert!(matches!(decision, palisade_model::AuthzDecision::Allow { reason } if reason.contains("rbac.yaml:5")));
//! assert!(!rbac.authorize(&impersonate("bob", &[]), &exec).allowed());
//! ```

mod aggregate;
mod audit;
mod authorize;
mod generate;
mod graph;
mod identity;
mod index;
mod list;
mod model;
mod paths;
mod render;
mod resources;
mod risks;
mod rule;
mod unused;
mod whocan;
mod yaml_out;

pub use audit::{parse_audit_log, AuditEvent, AuditLog};
pub use authorize::{Decision, Grant};
pub use generate::{
    discovery_objects, discovery_policy, generate, sanitize_label, sanitize_name, GenerateOptions,
    Generated, GeneratedBinding, GeneratedRole, GeneratedSubject, LoggedRequest,
};
pub use graph::DotOptions;
pub use identity::{
    impersonate, split_service_account, ANONYMOUS, AUTHENTICATED, SERVICE_ACCOUNTS, UNAUTHENTICATED,
};
pub use list::{EffectiveRule, RuleList};
pub use model::{
    load_bootstrap_policy, Binding, BindingId, BindingKind, Issue, Location, Rbac, Role, RoleId,
    RoleKind, RoleRef, Rule, Subject, SubjectKind, RBAC_GROUP,
};
pub use palisade_model::selector::{LabelSelector, Operator, Requirement};
pub use paths::{EscalationPath, Identity, PathStep};
pub use render::{GrantView, ObjectView, RuleView, SubjectView};
pub use resources::{
    build_request, BuiltRequest, RequestArgs, ResolvedResource, ResourceTable, ResourceType,
};
pub use risks::{
    risk_findings, risk_findings_with, rules, Holder, KubernetesVersion, Risk, RiskOptions,
};
pub use rule::PolicyRule;
pub use unused::{RuleUse, Unused, UnusedBinding};
pub use whocan::{Scope, WhoCan, WhoCanEntry};
