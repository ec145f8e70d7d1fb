//! Conformance with upstream Pod Security Admission over all of its test
//! fixtures (`testdata/<level>/v1.<minor>/<pass|fail>/<check><n>.yaml`).
//!
//! Every `pass` fixture must be allowed at its level and version; every `fail`
//! fixture must be rejected by its own check (or, where a restricted check
//! replaces that baseline check at this version, by the replacing check).
//! The findings layer must agree with the admission layer on every fixture.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use palisade_model::{load_text, pod_template, LoadOptions};
use palisade_pss::{active_checks, evaluate, findings, rules, Level, Policy, Version};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/pod-security-admission/testdata"
);

/// The check a fixture file is about, from its name (`capabilities_baseline1.yaml`), matched case-insensitively.
fn fixture_check(file_name: &str) -> Option<&'static str> {
    let stem = file_name
        .strip_suffix(".yaml")?
        .trim_end_matches(|c: char| c.is_ascii_digit());
    rules()
        .iter()
        .filter_map(|r| r.id.strip_prefix("pss/"))
        .find(|id| id.eq_ignore_ascii_case(stem))
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}

#[derive(Default)]
struct Tally {
    pass_ok: usize,
    pass_total: usize,
    fail_ok: usize,
    fail_total: usize,
    problems: Vec<String>,
}

#[test]
fn all_upstream_fixtures_agree() {
    let root = Path::new(FIXTURES);
    if !root.is_dir() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("conformance fixtures missing at {FIXTURES}");
        }
        eprintln!("skipping conformance test: fixtures not found at {FIXTURES}");
        return;
    }

    let mut tally = Tally::default();
    for level in [Level::Baseline, Level::Restricted] {
        for version_dir in sorted_entries(&root.join(level.as_str())) {
            let version_name = version_dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let version = Version::parse_label(version_name)
                .unwrap_or_else(|| panic!("unexpected version folder {}", version_dir.display()));
            let policy = Policy::new(level, version);
            for expect_pass in [true, false] {
                let dir = version_dir.join(if expect_pass { "pass" } else { "fail" });
                for path in sorted_entries(&dir) {
                    check_fixture(policy, &path, expect_pass, &mut tally);
                }
            }
        }
    }

    println!(
        "PSA conformance: pass fixtures {}/{} allowed, fail fixtures {}/{} rejected by their check, {} fixtures in total",
        tally.pass_ok,
        tally.pass_total,
        tally.fail_ok,
        tally.fail_total,
        tally.pass_total + tally.fail_total
    );
    assert!(
        tally.pass_total + tally.fail_total > 0,
        "no fixtures found under {FIXTURES}"
    );
    assert!(
        tally.problems.is_empty(),
        "{} disagreements:\n{}",
        tally.problems.len(),
        tally
            .problems
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn check_fixture(policy: Policy, path: &Path, expect_pass: bool, tally: &mut Tally) {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let loaded = load_text(&name, text, &LoadOptions::default());
    let object = loaded
        .objects
        .first()
        .unwrap_or_else(|| panic!("{name}: no object"));
    let pod = pod_template(object).unwrap_or_else(|| panic!("{name}: no pod spec"));

    let results = evaluate(policy, pod.metadata, pod.spec);
    let failed: BTreeSet<&str> = results
        .iter()
        .filter(|r| !r.allowed)
        .map(|r| r.check)
        .collect();

    // The findings layer must name exactly the checks the admission layer rejects.
    let found = findings(policy, object);
    let found_rules: BTreeSet<&str> = found
        .iter()
        .filter_map(|f| f.rule.strip_prefix("pss/"))
        .collect();
    if found_rules != failed {
        tally.problems.push(format!(
            "{name} [{policy}]: checks failed {failed:?} but findings for {found_rules:?}"
        ));
    }
    for result in results.iter().filter(|r| !r.allowed) {
        if result.forbidden_reason.is_empty() || result.forbidden_detail.is_empty() {
            tally.problems.push(format!(
                "{name} [{policy}]: {} has an empty reason or detail",
                result.check
            ));
        }
    }

    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if expect_pass {
        tally.pass_total += 1;
        if failed.is_empty() {
            tally.pass_ok += 1;
        } else {
            let details: Vec<String> = results
                .iter()
                .filter(|r| !r.allowed)
                .map(|r| {
                    format!(
                        "{}: {} ({})",
                        r.check, r.forbidden_reason, r.forbidden_detail
                    )
                })
                .collect();
            tally
                .problems
                .push(format!("{name} [{policy}]: expected pass, got {details:?}"));
        }
        return;
    }

    tally.fail_total += 1;
    let Some(check) = fixture_check(file_name) else {
        tally
            .problems
            .push(format!("{name}: no check named like this fixture"));
        return;
    };
    let active = active_checks(policy);
    let expected = if active.iter().any(|c| c.id == check) {
        Some(check)
    } else {
        active
            .iter()
            .find(|c| c.overrides.contains(&check))
            .map(|c| c.id)
    };
    match expected {
        Some(expected) if failed.contains(expected) => tally.fail_ok += 1,
        Some(expected) => tally.problems.push(format!(
            "{name} [{policy}]: expected {expected} to fail, failed: {failed:?}"
        )),
        None => tally.problems.push(format!(
            "{name} [{policy}]: check {check} does not run at this policy"
        )),
    }
}
