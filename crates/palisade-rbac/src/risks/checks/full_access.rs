//! ## What it finds
//!
//! A rule that allows every verb on every resource of every API group
//! (`verbs: ["*"]`, `apiGroups: ["*"]`, `resources: ["*"]`, no
//! `resourceNames`), with the bindings that hold it. Through a
//! ClusterRoleBinding this is `cluster-admin`; through a RoleBinding it is
//! full control of the namespace (reported as high instead of critical).
//! Other checks do not report such a rule again.
//!
//! ## Why it matters
//!
//! Its subjects can do anything: read every Secret, run any Pod as any
//! ServiceAccount, change RBAC, and — because `*` also covers resource types
//! added later — whatever future CustomResourceDefinitions allow.
//!
//! ## How to fix it
//!
//! List the groups, resources and verbs the subject needs. `palisade rbac
//! least-privilege --audit-log` derives them from what it actually did.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: ["apps"]
//!   resources: [deployments]
//!   verbs: [get, list, watch, update, patch]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::{check_docs, full_access};
use crate::model::Rule;
use crate::risks::{Check, Eval};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: super::FULL_ACCESS,
        title: "A role grants every verb on every resource (cluster-admin or namespace-admin equivalent)",
        severity: Severity::Critical,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.1"), Control::cis("5.1.3"), Control::mitre("T1078")],
    },
    eval: Eval::Rule(flag),
    in_namespace: Severity::High,
    consequence: "do anything, to every resource type present and future",
    remediation: "Replace the wildcards with the groups, resources and verbs the subjects need (palisade rbac least-privilege can derive them from an audit log).",
};

fn flag(rule: &Rule) -> Option<String> {
    full_access(&rule.rule).then(|| "* on *.*".to_string())
}
