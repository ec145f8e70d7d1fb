//! ## What it finds
//!
//! A Kubernetes Dashboard container (see `components/kubernetes-dashboard`
//! for how it is recognised) that lets visitors in without credentials or
//! with cluster-admin behind them:
//!
//! - started with `--enable-skip-login` (the login page offers "Skip", and
//!   skipped sessions use the Dashboard's own ServiceAccount), or
//! - started with `--enable-insecure-login` (login over plain HTTP), or
//! - running as a ServiceAccount that a ClusterRoleBinding of the input binds
//!   to `cluster-admin`.
//!
//! ## Why it matters
//!
//! With login skippable, anyone who reaches the Dashboard acts with its
//! ServiceAccount's permissions; if that account is cluster-admin, reaching
//! the web page is owning the cluster. This combination is how publicly
//! exposed dashboards were turned into cryptomining farms.
//!
//! ## How to fix it
//!
//! Remove `--enable-skip-login` and `--enable-insecure-login`, and give the
//! Dashboard's ServiceAccount only the permissions the Dashboard itself needs
//! (its chart's role). Users log in with their own tokens.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: kubernetes-dashboard
//!   image: kubernetesui/dashboard:v2.7.0
//!   args:
//!   - --auto-generate-certificates
//!   - --namespace=kubernetes-dashboard   # no --enable-skip-login
//! ```

use palisade_model::{pod_template, Control, Object, RuleMeta, Severity};

use super::kubernetes_dashboard::is_dashboard_image;
use super::util::{arguments, bool_flag_on, image};
use crate::index::namespace_of;
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};
use crate::rules::rbac::util::{bindings_of_service_account, role_ref};
use crate::rules::sa::util::account;

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "components/dashboard-insecure",
        title: "Kubernetes Dashboard should require login and not run as cluster-admin",
        severity: Severity::High,
        category: "components",
        docs: rule_docs!(),
        help_uri:
            "https://github.com/kubernetes/dashboard/blob/master/docs/user/access-control/README.md",
        controls: &[Control::nsa("rbac"), Control::mitre("T1078")],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

const FLAGS: &[(&str, &str)] = &[
    (
        "enable-skip-login",
        "lets visitors skip login and act as the Dashboard's ServiceAccount",
    ),
    ("enable-insecure-login", "accepts logins over plain HTTP"),
];

fn check(cx: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    let ns = namespace_of(object);
    let sa = account(&pod);
    let mut admin: Option<bool> = None;
    each_container(object, |c| {
        let Some((image_node, text)) = image(c) else {
            return;
        };
        if !is_dashboard_image(text) {
            return;
        }
        for (node, field, arg) in arguments(c) {
            for (flag, effect) in FLAGS {
                if bool_flag_on(arg, flag) {
                    sink.report(
                        node,
                        field.clone(),
                        format!(
                            "{} (Kubernetes Dashboard) is started with --{flag}, which {effect}",
                            c.describe()
                        ),
                        "Remove the flag; users log in with their own tokens.",
                    );
                }
            }
        }
        let is_admin = *admin.get_or_insert_with(|| {
            bindings_of_service_account(cx, ns, sa.name, false).any(|b| {
                b.kind() == "ClusterRoleBinding"
                    && role_ref(b) == Some(("ClusterRole", "cluster-admin"))
            })
        });
        if is_admin {
            sink.report(
                sa.node.unwrap_or(image_node),
                if sa.node.is_some() { sa.field.clone() } else { c.field("image") },
                format!(
                    "{} (Kubernetes Dashboard) runs as ServiceAccount {:?}, which a ClusterRoleBinding makes cluster-admin",
                    c.describe(),
                    sa.name
                ),
                "Bind the Dashboard's ServiceAccount to the minimal role its chart ships, not cluster-admin.",
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    const DASHBOARD: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: kubernetes-dashboard, namespace: kd}\nspec:\n  template:\n    spec:\n      serviceAccountName: kubernetes-dashboard\n      containers:\n      - name: d\n        image: kubernetesui/dashboard:v2.7.0\n        args: [--auto-generate-certificates, --enable-skip-login]\n";

    #[test]
    fn flags_skip_login_and_cluster_admin() {
        let findings = run(&RULE, DASHBOARD);
        assert_eq!(positions(&findings), [(11, 46)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.template.spec.containers[0].args[1]")
        );
        let admin = format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: kd-admin}}\nroleRef: {{kind: ClusterRole, name: cluster-admin, apiGroup: rbac.authorization.k8s.io}}\nsubjects: [{{kind: ServiceAccount, name: kubernetes-dashboard, namespace: kd}}]\n---\n{DASHBOARD}");
        let findings = run(&RULE, &admin);
        assert_eq!(findings.len(), 2);
        assert!(findings[1].message.contains("cluster-admin"));
    }

    #[test]
    fn passes_login_required() {
        let yaml = DASHBOARD.replace(", --enable-skip-login", ", --enable-skip-login=false");
        assert!(run(&RULE, &yaml).is_empty());
    }
}
