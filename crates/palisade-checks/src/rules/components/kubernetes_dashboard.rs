//! ## What it finds
//!
//! (Optional check.) A workload running the Kubernetes Dashboard: an image
//! `kubernetesui/dashboard` (or its v3 parts `dashboard-api`,
//! `dashboard-web`, `dashboard-auth`) or the old `kubernetes-dashboard-*`
//! images, from any registry. Dashboards configured to skip login or bound to
//! cluster-admin are reported by `components/dashboard-insecure` whether or
//! not this check is on.
//!
//! ## Why it matters
//!
//! The Dashboard is a web interface to the API with the permissions of the
//! token it is given. Exposed by mistake (an Ingress, a LoadBalancer), it has
//! been the entry point of well-known cluster compromises. Teams that do not
//! use it should not run it.
//!
//! ## How to fix it
//!
//! Remove it if nobody uses it. Otherwise keep it reachable only through
//! `kubectl port-forward` or an authenticating proxy, with login required.
//!
//! ## Example
//!
//! ```yaml
//! # reach the Dashboard without exposing it:
//! # kubectl -n kubernetes-dashboard port-forward svc/kubernetes-dashboard-kong-proxy 8443:443
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use super::util::{image, path_segments};
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "components/kubernetes-dashboard",
        title: "Kubernetes Dashboard is deployed",
        severity: Severity::Low,
        category: "components",
        docs: rule_docs!(),
        help_uri: "https://github.com/kubernetes/dashboard#access-control",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: true,
    check,
};

/// Whether an image is a Kubernetes Dashboard image.
pub(crate) fn is_dashboard_image(image: &str) -> bool {
    let segments = path_segments(image);
    match segments.split_last() {
        Some((last, parents)) => {
            (parents.last() == Some(&"kubernetesui") && last.starts_with("dashboard"))
                || last.starts_with("kubernetes-dashboard")
        }
        None => false,
    }
}

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        if let Some((node, text)) = image(c) {
            if is_dashboard_image(text) {
                sink.report(
                    node,
                    c.field("image"),
                    format!("{} runs the Kubernetes Dashboard ({text})", c.describe()),
                    "Remove the Dashboard if unused; otherwise reach it only through port-forward or an authenticating proxy.",
                );
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{is_dashboard_image, RULE};
    use crate::testing::{positions, run};

    #[test]
    fn recognises_dashboard_images() {
        assert!(is_dashboard_image("kubernetesui/dashboard:v2.7.0"));
        assert!(is_dashboard_image(
            "docker.io/kubernetesui/dashboard-api:1.10.1"
        ));
        assert!(is_dashboard_image(
            "k8s.gcr.io/kubernetes-dashboard-amd64:v1.10.1"
        ));
        assert!(!is_dashboard_image("kubernetesui/metrics-scraper:v1.0.8"));
        assert!(!is_dashboard_image("grafana/grafana:10.0.0"));
    }

    #[test]
    fn flags_dashboard_containers_only() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: d, image: 'kubernetesui/dashboard:v2.7.0'}\n  - {name: m, image: 'kubernetesui/metrics-scraper:v1.0.8'}\n",
        );
        assert_eq!(positions(&findings), [(6, 22)]);
    }
}
