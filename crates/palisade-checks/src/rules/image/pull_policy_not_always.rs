//! ## What it finds
//!
//! A container whose image tag moves (`latest`, no tag, or a branch-like tag
//! such as `main`, `master`, `develop`, `dev`, `edge`, `nightly`, `stable`,
//! `canary`, `snapshot`) and whose effective `imagePullPolicy` is not
//! `Always`.
//!
//! Kubernetes already defaults to `Always` for `:latest` and untagged images,
//! so those are reported only when `IfNotPresent` or `Never` is set
//! explicitly; branch-like tags default to `IfNotPresent` and are reported
//! unless `Always` is set. Images pinned by digest and fixed version tags
//! (`1.4.2`) are never reported: pulling them again cannot change what runs.
//!
//! ## Why it matters
//!
//! With a moving tag and `IfNotPresent`, each node runs whichever image it
//! pulled first: replicas of one Deployment run different code, a fix pushed
//! under the same tag never arrives, and a node that happened to cache an
//! older, vulnerable build keeps running it.
//!
//! ## How to fix it
//!
//! Pin the image to a version tag or a digest (best), or set
//! `imagePullPolicy: Always` while the tag keeps moving.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: app
//!   image: registry.example.com/shop/web:1.4.2
//!   # or, while following a branch:
//! - name: preview
//!   image: registry.example.com/shop/web:main
//!   imagePullPolicy: Always
//! ```

use palisade_model::{Node, Object, RuleMeta, Severity};

use super::util::parse;
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "image/pull-policy-not-always",
        title: "Images with moving tags should be pulled with imagePullPolicy: Always",
        severity: Severity::Low,
        category: "image",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy",
        controls: &[],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

/// Tags that name a branch or a channel rather than a release.
const MOVING_TAGS: &[&str] = &[
    "latest",
    "main",
    "master",
    "develop",
    "development",
    "dev",
    "edge",
    "nightly",
    "stable",
    "canary",
    "head",
    "trunk",
    "snapshot",
    "unstable",
];

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        let Some(image_node) = c.node().get("image") else {
            return;
        };
        let Some(image) = image_node.as_str().and_then(parse) else {
            return;
        };
        if image.digest.is_some() {
            return;
        }
        // Kubernetes defaults to Always exactly for `:latest` and untagged images.
        let defaults_always = matches!(image.tag, None | Some("latest"));
        let moving = match image.tag {
            None => true,
            Some(tag) => MOVING_TAGS.iter().any(|m| m.eq_ignore_ascii_case(tag)),
        };
        if !moving {
            return;
        }
        let tag = image
            .tag
            .map_or("no tag".to_string(), |t| format!("tag {t:?}"));
        let remediation =
            "Pin the image to a version tag or digest, or set imagePullPolicy: Always.";
        match c.node().get("imagePullPolicy") {
            Some(policy) if policy.as_str() == Some("Always") => {}
            Some(policy) => sink.report(
                policy,
                c.field("imagePullPolicy"),
                format!(
                    "{} pulls an image with the moving {tag} only {}",
                    c.describe(),
                    when(policy)
                ),
                remediation,
            ),
            None if defaults_always => {}
            None => sink.report(
                image_node,
                c.field("image"),
                format!(
                    "{} uses the moving {tag} with the default imagePullPolicy IfNotPresent: nodes keep the first image they pulled",
                    c.describe()
                ),
                remediation,
            ),
        }
    });
}

fn when(policy: &Node) -> &'static str {
    match policy.as_str() {
        Some("Never") => "when it is already on the node (imagePullPolicy: Never)",
        _ => "when it is not on the node yet (imagePullPolicy: IfNotPresent)",
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_moving_tags_not_always_pulled() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: nginx:latest, imagePullPolicy: IfNotPresent}\n  - {name: b, image: 'registry.example.com:5000/app:main'}\n  - {name: c, image: app, imagePullPolicy: Never}\n",
        );
        assert_eq!(positions(&findings), [(6, 53), (7, 22), (8, 44)]);
        assert!(findings[1].message.contains("tag \"main\""));
        assert_eq!(
            findings[2].location.field.as_deref(),
            Some("spec.containers[2].imagePullPolicy")
        );
    }

    #[test]
    fn passes_defaults_versions_and_digests() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: nginx:latest}\n  - {name: b, image: nginx}\n  - {name: c, image: nginx:1.27, imagePullPolicy: IfNotPresent}\n  - {name: d, image: 'nginx:main@sha256:0000000000000000000000000000000000000000000000000000000000000000', imagePullPolicy: IfNotPresent}\n  - {name: e, image: app:main, imagePullPolicy: Always}\n",
        );
        assert!(findings.is_empty(), "{findings:?}");
    }
}
