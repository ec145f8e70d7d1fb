//! ## What it finds
//!
//! A rule that writes `resourceNames: []`: an empty list.
//!
//! ## Why it matters
//!
//! An empty `resourceNames` restricts nothing: the authorizer treats it
//! exactly as if the field were left out, so the rule applies to every
//! object of its resources, in every namespace the binding reaches. A
//! placeholder written "to restrict later" grants everything now.
//!
//! ## How to fix it
//!
//! List the object names, or delete the field so the rule says what it
//! does. `resourceNames` cannot restrict `create`, `list`, `watch` or
//! `deletecollection` (those requests carry no name): give them in a
//! separate rule.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [pods/log]
//!   resourceNames: [web-0, web-1]
//!   verbs: [get]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::model::Rule;
use crate::risks::{Check, Eval};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: super::EMPTY_RESOURCE_NAMES,
        title: "resourceNames: [] restricts nothing",
        severity: Severity::Medium,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources",
        controls: &[Control::nsa("rbac")],
    },
    eval: Eval::Rule(flag),
    in_namespace: Severity::Medium,
    consequence: "act on every object of these resources: `resourceNames: []` restricts nothing, it is the same as leaving it out",
    remediation: "List the object names in resourceNames, or remove the empty list so the rule shows that it covers every object.",
};

fn flag(rule: &Rule) -> Option<String> {
    rule.empty_resource_names.as_ref()?;
    let r = &rule.rule;
    Some(format!("{} {}", r.verbs.join(", "), r.resources.join(", ")))
}
