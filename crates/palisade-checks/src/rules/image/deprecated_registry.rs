//! ## What it finds
//!
//! A container image from a registry that has been shut down or frozen:
//!
//! - `k8s.gcr.io` and `gcr.io/google_containers` (`google-containers`): the
//!   old Kubernetes project registry, frozen since April 2023; images now
//!   live on `registry.k8s.io`;
//! - `docker.pkg.github.com`: GitHub's old Docker registry, replaced by
//!   `ghcr.io`.
//!
//! ## Why it matters
//!
//! A frozen registry receives no new versions, so no security fixes: an
//! image from it can only get older. Redirects that keep old names working
//! may disappear at any time, which then breaks pulls during a node
//! replacement or a scale-up, exactly when it hurts.
//!
//! ## How to fix it
//!
//! Change the registry prefix (`k8s.gcr.io/pause:3.9` becomes
//! `registry.k8s.io/pause:3.9`) and move to a current version of the image.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: metrics
//!   image: registry.k8s.io/metrics-server/metrics-server:v0.7.2
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use super::util::parse;
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "image/deprecated-registry",
        title: "Images should not come from frozen registries such as k8s.gcr.io",
        severity: Severity::Medium,
        category: "image",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/blog/2023/02/06/k8s-gcr-io-freeze-announcement/",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

/// Frozen registries (host, or host and path prefix) with their successors.
const FROZEN: &[(&str, &str)] = &[
    ("k8s.gcr.io", "registry.k8s.io"),
    ("gcr.io/google_containers", "registry.k8s.io"),
    ("gcr.io/google-containers", "registry.k8s.io"),
    ("docker.pkg.github.com", "ghcr.io"),
];

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        let Some(node) = c.node().get("image") else {
            return;
        };
        let Some(image) = node.as_str() else { return };
        let Some(reference) = parse(image) else {
            return;
        };
        let host = reference.host();
        let path = format!("{host}/{}", reference.repository.to_ascii_lowercase());
        let Some((frozen, successor)) = FROZEN.iter().find(|(prefix, _)| {
            if prefix.contains('/') {
                path.starts_with(&format!("{prefix}/"))
            } else {
                host == *prefix || host.ends_with(&format!(".{prefix}"))
            }
        }) else {
            return;
        };
        sink.report(
            node,
            c.field("image"),
            format!(
                "{} image {image:?} comes from {frozen}, which is frozen; use {successor}",
                c.describe()
            ),
            format!("Pull the image from {successor} instead of {frozen}, at a current version."),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_frozen_registries() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: k8s.gcr.io/pause:3.2}\n  - {name: b, image: gcr.io/google_containers/busybox}\n  - {name: c, image: registry.k8s.io/pause:3.9}\n  - {name: d, image: gcr.io/acme/app:1}\n  - {name: e, image: docker.pkg.github.com/acme/repo/app:1}\n",
        );
        assert_eq!(positions(&findings), [(6, 22), (7, 22), (10, 22)]);
        assert!(findings[0].message.contains("use registry.k8s.io"));
        assert!(findings[2].message.contains("use ghcr.io"));
    }
}
