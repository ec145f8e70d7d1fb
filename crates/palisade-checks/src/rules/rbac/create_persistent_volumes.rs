//! ## What it finds
//!
//! A rule of a ClusterRole (or Role) that grants `create` on
//! `persistentvolumes`, directly or through a wildcard. Creating claims
//! (`persistentvolumeclaims`) is not reported.
//!
//! ## Why it matters
//!
//! A PersistentVolume can be a `hostPath` volume. Whoever creates one and
//! claims it mounts a node directory into a pod, around the Pod Security rules
//! that forbid `hostPath` volumes in pods.
//!
//! ## How to fix it
//!
//! Provision volumes dynamically through StorageClasses and give users
//! PersistentVolumeClaims only.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: [""]
//!   resources: [persistentvolumeclaims]
//!   verbs: [create, get, list, delete]
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::{report_grants, PERSISTENT_VOLUMES, ROLE_KINDS};
use crate::rule::{rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "rbac/create-persistent-volumes",
        title: "Roles should not grant creating PersistentVolumes",
        severity: Severity::Medium,
        category: "rbac",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/storage/persistent-volumes/",
        controls: &[Control::nsa("rbac"), Control::mitre("T1611")],
    },
    kinds: Kinds::Only(ROLE_KINDS),
    optional: false,
    check,
};

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    report_grants(
        cx,
        object,
        sink,
        PERSISTENT_VOLUMES,
        "create PersistentVolumes, hostPath ones included, that expose node directories to the pods that claim them",
        "Let a provisioner (StorageClass) create volumes; give users PersistentVolumeClaims instead.",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::rbac::util::role;
    use crate::testing::{positions, run};

    #[test]
    fn flags_rules_that_grant_it() {
        let findings = run(&RULE, &role("ClusterRole", "- {apiGroups: [''], resources: [persistentvolumes], verbs: [create]}\n- {apiGroups: [''], resources: [persistentvolumeclaims], verbs: [create]}\n"));
        assert_eq!(positions(&findings), [(5, 3)]);
        let fields: Vec<_> = findings
            .iter()
            .filter_map(|f| f.location.field.as_deref())
            .collect();
        assert_eq!(fields, ["rules[0]"]);
        assert!(
            findings[0]
                .message
                .contains("grants create on persistentvolumes"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn passes_narrow_rules() {
        assert!(run(&RULE, &role("Role", "- {apiGroups: [''], resources: [persistentvolumeclaims, persistentvolumes], verbs: [get, list]}\n")).is_empty());
    }

    #[test]
    fn leaves_full_access_and_bootstrap_roles_to_other_checks() {
        assert!(run(
            &RULE,
            &role(
                "ClusterRole",
                "- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n"
            )
        )
        .is_empty());
        let bootstrap = role("ClusterRole", "- {apiGroups: [''], resources: [persistentvolumes], verbs: [create]}\n- {apiGroups: [''], resources: [persistentvolumeclaims], verbs: [create]}\n").replace("{name: r}", "{name: r, labels: {kubernetes.io/bootstrapping: rbac-defaults}}");
        assert!(run(&RULE, &bootstrap).is_empty());
    }
}
