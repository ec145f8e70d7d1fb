//! ## What it finds
//!
//! A container image with no tag or with the `:latest` tag, and no digest.
//!
//! ## Why it matters
//!
//! A moving tag means the image that runs is not the image that was reviewed:
//! two nodes can run different code under one name, a rollback cannot return
//! to the previous version, and a compromised registry push reaches production
//! on the next restart.
//!
//! ## How to fix it
//!
//! Use an immutable version tag, or better a digest (`image@sha256:...`).
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: app
//!   image: registry.example.com/shop/web:1.4.2   # not web:latest, not web
//! ```

use palisade_model::{Control, Node, Object, RuleMeta, Severity};

use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "image/latest-tag",
        title: "Images should be pinned to a version, not :latest or untagged",
        severity: Severity::Medium,
        category: "image",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/containers/images/#image-names",
        controls: &[Control::nsa("image-scanning"), Control::mitre("T1525")],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

/// The tag of an image reference (`None` when untagged), ignoring a registry port.
pub(crate) fn image_tag(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    let last_segment = name.rsplit('/').next().unwrap_or(name);
    last_segment.split_once(':').map(|(_, tag)| tag)
}

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        let Some(node) = c.node().get("image") else {
            return;
        };
        let Some(image) = node.as_str() else { return };
        if image.contains('@') {
            return;
        }
        let problem = match image_tag(image) {
            None => "has no tag (it means :latest)",
            Some("latest") => "uses the :latest tag",
            Some(_) => return,
        };
        report(
            sink,
            node,
            c.field("image"),
            format!("{} image {image:?} {problem}", c.describe()),
        );
    });
}

fn report(sink: &mut Sink<'_>, node: &Node, field: String, message: String) {
    sink.report(
        node,
        field,
        message,
        "Pin the image to a version tag or a digest (image@sha256:...).",
    );
}

#[cfg(test)]
mod tests {
    use super::{image_tag, RULE};
    use crate::testing::{positions, run};

    #[test]
    fn tags_are_read_past_registry_ports() {
        assert_eq!(image_tag("nginx"), None);
        assert_eq!(image_tag("nginx:1.25"), Some("1.25"));
        assert_eq!(image_tag("localhost:5000/app"), None);
        assert_eq!(image_tag("localhost:5000/app:v2"), Some("v2"));
    }

    #[test]
    fn flags_latest_and_untagged_but_not_digests_or_versions() {
        let findings = run(
            &RULE,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: a, image: nginx:latest}\n      - {name: b, image: 'registry:5000/nginx'}\n      - {name: c, image: nginx:1.25}\n      - {name: d, image: 'nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000'}\n",
        );
        assert_eq!(positions(&findings), [(8, 26), (9, 26)]);
        assert_eq!(
            findings[0].location.field.as_deref(),
            Some("spec.template.spec.containers[0].image")
        );
    }
}
