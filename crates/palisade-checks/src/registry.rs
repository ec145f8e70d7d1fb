//! The table of every check. Adding a check: write `rules/<category>/<name>.rs`
//! with a `pub(crate) const RULE: Rule`, declare the module in its category's
//! `mod.rs`, and add one line here.

use crate::rule::Rule;
use crate::rules::*;

/// Every check, grouped by category.
pub static RULES: &[&Rule] = &[
    // Pod security hardening beyond the Pod Security Standards
    &pod::read_only_root_filesystem::RULE,
    // Images
    &image::latest_tag::RULE,
    // Networking
    &network::pod_not_isolated::RULE,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_documented() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.meta.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate rule id");
        for rule in RULES {
            let docs = rule.meta.docs;
            for section in [
                "## What it finds",
                "## Why it matters",
                "## How to fix it",
                "## Example",
            ] {
                assert!(docs.contains(section), "{} lacks {section:?}", rule.meta.id);
            }
            let category = rule.meta.id.split('/').next().unwrap_or("");
            assert_eq!(
                category, rule.meta.category,
                "{}: id prefix is its category",
                rule.meta.id
            );
        }
    }
}
