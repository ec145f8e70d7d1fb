//! The table of every check. Adding a check: write `rules/<category>/<name>.rs`
//! with a `pub(crate) const RULE: Rule`, then declare the module and list its
//! `RULE` in that category's `mod.rs`.

use crate::rule::Rule;
use crate::rules::*;

/// Every category's table, in the order `palisade rules` lists them.
static CATEGORIES: &[&[&Rule]] = &[
    pod::RULES,
    image::RULES,
    sa::RULES,
    rbac::RULES,
    secrets::RULES,
    resources::RULES,
    probes::RULES,
    meta::RULES,
    network::RULES,
    reliability::RULES,
    components::RULES,
    policy::RULES,
];

/// Every check.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    CATEGORIES.iter().flat_map(|rules| rules.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The source of the file that defines rule `id` (`pod/x-y` → `rules/pod/*.rs` containing it).
    fn source_of(id: &str) -> String {
        let (category, _) = id.split_once('/').unwrap_or((id, ""));
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/rules")
            .join(category);
        let needle = format!("id: \"{id}\"");
        std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .find(|text| text.contains(&needle))
            .unwrap_or_default()
    }

    #[test]
    fn ids_are_unique_and_documented() {
        let mut ids: Vec<&str> = all().map(|r| r.meta.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate rule id");
        for rule in all() {
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
            assert!(
                source_of(rule.meta.id).contains("#[test]"),
                "{}: a check's file has tests on a violating and a compliant manifest",
                rule.meta.id
            );
            assert_eq!(
                category, rule.meta.category,
                "{}: id prefix is its category",
                rule.meta.id
            );
        }
    }
}
