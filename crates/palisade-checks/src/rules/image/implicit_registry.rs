//! ## What it finds
//!
//! *Optional check.* A container image that names no registry (`nginx:1.27`,
//! `bitnami/redis:7.2`), leaving the runtime to decide where it comes from.
//!
//! Optional because Docker Hub short names are common and containerd
//! resolves them consistently.
//!
//! ## Why it matters
//!
//! containerd resolves short names to Docker Hub (`docker.io/library/...`),
//! but CRI-O and Podman may try the registries listed in
//! `unqualified-search-registries` in order, so the same manifest can pull
//! a different, possibly attacker-published, image on another cluster. Short
//! names also hide the dependency on Docker Hub and its pull rate limits, and
//! get past reviews that look for the registry.
//!
//! ## How to fix it
//!
//! Write the fully qualified name.
//!
//! ## Example
//!
//! ```yaml
//! containers:
//! - name: web
//!   image: docker.io/library/nginx:1.27   # not nginx:1.27
//! ```

use palisade_model::{Object, RuleMeta, Severity};

use super::util::parse;
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "image/implicit-registry",
        title: "Images should name their registry explicitly",
        severity: Severity::Low,
        category: "image",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/containers/images/#image-names",
        controls: &[],
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
        let Some(reference) = parse(image) else {
            return;
        };
        if reference.registry.is_some() {
            return;
        }
        sink.report(
            node,
            c.field("image"),
            format!(
                "{} image {image:?} names no registry; containerd resolves it to {}",
                c.describe(),
                reference.canonical()
            ),
            "Write the fully qualified image name, registry included.",
        );
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_short_names_only() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: 'nginx:1.27'}\n  - {name: b, image: docker.io/library/nginx:1.27}\n  - {name: c, image: 'localhost:5000/app'}\n",
        );
        assert_eq!(positions(&findings), [(6, 22)]);
        assert!(findings[0].message.contains("docker.io/library/nginx:1.27"));
    }
}
