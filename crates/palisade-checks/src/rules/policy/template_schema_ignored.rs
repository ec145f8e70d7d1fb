//! ## What it finds
//!
//! A ConstraintTemplate whose `spec.crd.spec.validation` holds `type` or
//! `properties` directly instead of under `openAPIV3Schema`.
//!
//! ## Why it matters
//!
//! Gatekeeper reads the parameter schema from
//! `spec.crd.spec.validation.openAPIV3Schema` only; anything else there is
//! dropped. The template then has no schema: a constraint with a misspelled
//! or wrongly typed parameter is accepted, and the policy quietly checks
//! nothing (a `labels` string instead of a list matches no label).
//!
//! ## How to fix it
//!
//! Move the schema under `openAPIV3Schema`.
//!
//! ## Example
//!
//! ```yaml
//! spec:
//!   crd:
//!     spec:
//!       names: {kind: K8sRequiredLabels}
//!       validation:
//!         openAPIV3Schema:
//!           type: object
//!           properties:
//!             labels: {type: array, items: {type: string}}
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "policy/template-schema-ignored",
        title: "A ConstraintTemplate's parameter schema must be under openAPIV3Schema",
        severity: Severity::Medium,
        category: "policy",
        docs: rule_docs!(),
        help_uri: "https://open-policy-agent.github.io/gatekeeper/website/docs/constrainttemplates",
        controls: &[],
    },
    kinds: Kinds::Only(&["ConstraintTemplate"]),
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(validation) = object.root.path(&["spec", "crd", "spec", "validation"]) else {
        return;
    };
    if validation.get("openAPIV3Schema").is_some() || validation.get("legacySchema").is_some() {
        return;
    }
    let stray = ["type", "properties", "required", "items"]
        .into_iter()
        .find_map(|key| validation.entry(key));
    if let Some((key, _)) = stray {
        sink.report(
            key,
            format!("spec.crd.spec.validation.{}", key.key_text()),
            format!(
                "ConstraintTemplate {}: `validation.{}` is not under `openAPIV3Schema`, so Gatekeeper ignores the schema and accepts any parameters",
                object.id.name,
                key.key_text()
            ),
            "Move the schema under spec.crd.spec.validation.openAPIV3Schema.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_a_schema_outside_open_api_v3_schema() {
        let findings = run(
            &RULE,
            "apiVersion: templates.gatekeeper.sh/v1beta1\nkind: ConstraintTemplate\nmetadata: {name: t}\nspec:\n  crd:\n    spec:\n      validation:\n        type: object\n        properties: {labels: {type: array}}\n",
        );
        assert_eq!(positions(&findings), [(8, 9)]);
    }

    #[test]
    fn passes_open_api_v3_schema() {
        let findings = run(
            &RULE,
            "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: t}\nspec:\n  crd:\n    spec:\n      validation:\n        openAPIV3Schema: {type: object}\n",
        );
        assert!(findings.is_empty());
    }
}
