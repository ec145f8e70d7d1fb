//! ## What it finds
//!
//! *Optional check.* A container image referenced by tag only, without a
//! digest (`@sha256:...`).
//!
//! Optional because many teams pin versions by tag and let a controller or
//! bot resolve digests. `image/latest-tag` already reports `:latest` and
//! untagged images by default.
//!
//! ## Why it matters
//!
//! Every tag, even `1.4.2`, can be pushed again. A digest names exactly one
//! image: what was scanned and signed is what runs, on every node, today and
//! after a reschedule; a registry compromise cannot swap it.
//!
//! ## How to fix it
//!
//! Append the digest of the reviewed image. Keeping the tag in front is
//! allowed and keeps the reference readable; the digest wins.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: app
//!   image: registry.example.com/shop/web:1.4.2@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945
//! ```

use palisade_model::{Control, Object, RuleMeta, Severity};

use super::util::parse;
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "image/digest-not-pinned",
        title: "Images should be pinned by digest",
        severity: Severity::Low,
        category: "image",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/containers/images/#image-names",
        controls: &[Control::nsa("image-scanning"), Control::mitre("T1525")],
    },
    kinds: Kinds::Workloads,
    optional: true,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        let Some(node) = c.node().get("image") else {
            return;
        };
        let Some(image) = node.as_str() else { return };
        if parse(image).is_some_and(|r| r.digest.is_none()) {
            sink.report(
                node,
                c.field("image"),
                format!("{} image {image:?} is not pinned by digest", c.describe()),
                "Append the digest of the reviewed image: name:tag@sha256:....",
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_tag_only_references() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: nginx:1.27}\n  - {name: b, image: 'nginx:1.27@sha256:0000000000000000000000000000000000000000000000000000000000000000'}\n",
        );
        assert_eq!(positions(&findings), [(6, 22)]);
    }
}
