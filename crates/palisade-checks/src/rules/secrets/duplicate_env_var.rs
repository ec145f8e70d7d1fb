//! ## What it finds
//!
//! A container `env` list that sets the same variable name twice. The later
//! entry wins; the finding is reported at the duplicate, naming the earlier
//! one.
//!
//! ## Why it matters
//!
//! Only one of the values is used, and which one depends on list order that
//! patches, Kustomize overlays and Helm merges change without anyone noticing:
//! the value reviewed is not necessarily the value running.
//!
//! ## How to fix it
//!
//! Keep one entry per variable.
//!
//! ## Example
//!
//! ```yaml
//! env:
//! - {name: LOG_LEVEL, value: info}   # once
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use super::util::env_entries;
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "secrets/duplicate-env-var",
        title: "Environment variables should be set once per container",
        severity: Severity::Low,
        category: "secrets",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/inject-data-application/define-environment-variable-container/",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for (i, env, name) in env_entries(c) {
            match seen.iter().find(|(n, _)| *n == name) {
                Some((_, first)) => {
                    let node = env.get("name").unwrap_or(env);
                    sink.report(
                        node,
                        c.field(&format!("env[{i}].name")),
                        format!(
                            "{} sets the environment variable {name} again (first at env[{first}]); this later entry wins",
                            c.describe()
                        ),
                        "Keep one entry per environment variable.",
                    );
                }
                None => seen.push((name, i)),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_the_duplicate() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    env:\n    - {name: A, value: '1'}\n    - {name: B, value: '2'}\n    - {name: A, value: '3'}\n  - name: b\n    image: x\n    env: [{name: A, value: '1'}]\n",
        );
        assert_eq!(positions(&findings), [(11, 14)]);
        assert!(findings[0].message.contains("first at env[0]"));
    }
}
