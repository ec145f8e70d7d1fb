//! ## What it finds
//!
//! A rule with `*` in `verbs`, `apiGroups`, `resources` or
//! `nonResourceURLs` (or a `*/subresource` resource), that does not grant
//! everything (that is `rbac-risk/full-access`).
//!
//! ## Why it matters
//!
//! A wildcard grants not only what exists now but every verb, group and
//! resource type added later, including CustomResourceDefinitions installed
//! by operators. `verbs: ["*"]` includes `escalate`, `bind` and
//! `impersonate` where they apply; `resources: ["*"]` includes `secrets`
//! and every subresource (`pods/exec`, `nodes/proxy`).
//!
//! ## How to fix it
//!
//! Name the verbs, groups and resources. Other `rbac-risk/` checks report
//! what a wildcard rule reaches that is dangerous.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [configmaps]
//!   verbs: [get, list, watch]   # not ["*"]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::model::Rule;
use crate::risks::{Check, Eval};
use crate::rule::ALL;

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/wildcard",
        title: "A role uses wildcards in verbs, API groups or resources",
        severity: Severity::Medium,
        category: "rbac",
        docs: check_docs!(),
        help_uri:
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege",
        controls: &[Control::nsa("rbac"), Control::cis("5.1.3")],
    },
    eval: Eval::Rule(flag),
    in_namespace: Severity::Medium,
    consequence:
        "use every verb, group or resource the wildcard covers, including ones added later",
    remediation: "Replace the wildcard with the verbs, groups and resources the subjects need.",
};

fn flag(rule: &Rule) -> Option<String> {
    let r = &rule.rule;
    let mut parts = Vec::new();
    if r.verbs.iter().any(|v| v == ALL) {
        parts.push("verbs: *".to_string());
    }
    if r.api_groups.iter().any(|g| g == ALL) {
        parts.push("apiGroups: *".to_string());
    }
    for resource in &r.resources {
        if resource == ALL || resource.starts_with("*/") {
            parts.push(format!("resources: {resource}"));
        }
    }
    if r.non_resource_urls.iter().any(|u| u.ends_with('*')) {
        let urls: Vec<&str> = r
            .non_resource_urls
            .iter()
            .filter(|u| u.ends_with('*'))
            .map(String::as_str)
            .collect();
        parts.push(format!("nonResourceURLs: {}", urls.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}
