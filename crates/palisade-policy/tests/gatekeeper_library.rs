//! Conformance: every gator suite of the OPA Gatekeeper library, with the Rego engine.

use std::path::Path;

use palisade_policy::gatekeeper::{find_suites, run_suite};

const LIBRARY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/gatekeeper-library/library"
);

/// Cases that fail because of a difference between regorus and OPA that the
/// adapter cannot close: (suite path relative to the library, test, case, reason).
/// The test asserts they STILL fail, so it flips when regorus is fixed.
const KNOWN_FAILURES: &[(&str, &str, &str, &str)] = &[];

#[test]
fn gatekeeper_library_suites_pass() {
    let root = Path::new(LIBRARY);
    if !root.is_dir() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("conformance data missing at {LIBRARY}");
        }
        eprintln!("skipping: Gatekeeper library not found at {LIBRARY}");
        return;
    }
    let suites = find_suites(root);
    assert!(!suites.is_empty(), "no suite.yaml under {LIBRARY}");
    let (mut passed, mut total) = (0, 0);
    let mut unexpected = Vec::new();
    let mut known_seen = Vec::new();
    for path in &suites {
        let result = run_suite(path);
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if let Some(e) = &result.error {
            unexpected.push(format!("{rel}: suite error: {e}"));
            continue;
        }
        for test in &result.tests {
            for case in &test.cases {
                total += 1;
                let known = KNOWN_FAILURES
                    .iter()
                    .find(|(s, t, c, _)| *s == rel && *t == test.name && *c == case.name);
                match (case.passed, known) {
                    (true, None) => passed += 1,
                    (true, Some(_)) => unexpected.push(format!(
                        "{rel} / {} / {}: listed as a known failure but passes now: remove it from KNOWN_FAILURES",
                        test.name, case.name
                    )),
                    (false, Some(k)) => known_seen.push(*k),
                    (false, None) => unexpected.push(format!(
                        "{rel} / {} / {}: {}",
                        test.name,
                        case.name,
                        case.reason.as_deref().unwrap_or("failed")
                    )),
                }
            }
        }
    }
    println!(
        "gatekeeper-library (Rego): {passed}/{total} cases pass, {} known failures, {} suites",
        known_seen.len(),
        suites.len()
    );
    for (s, t, c, why) in &known_seen {
        println!("  known failure: {s} / {t} / {c}: {why}");
    }
    for (s, t, c, _) in KNOWN_FAILURES {
        if !known_seen
            .iter()
            .any(|k| k.0 == *s && k.1 == *t && k.2 == *c)
            && !unexpected
                .iter()
                .any(|u| u.starts_with(&format!("{s} / {t} / {c}:")))
        {
            unexpected.push(format!(
                "{s} / {t} / {c}: listed in KNOWN_FAILURES but not found"
            ));
        }
    }
    // The conformance copy (gatekeeper-library 5c441fb6) has 270 cases: none may
    // go missing unnoticed (a suite read as empty would otherwise pass).
    assert_eq!(total, 270, "cases found in the library");
    assert_eq!(passed + known_seen.len(), total);
    assert!(
        unexpected.is_empty(),
        "{} unexpected results:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}

/// The templates that carry a `K8sNativeValidation` block, with the CEL engine:
/// every case of their suites, through the same match and suite machinery.
#[test]
fn gatekeeper_library_suites_pass_with_the_cel_engine() {
    use palisade_policy::gatekeeper::{run_suite_with, Engine};
    let root = Path::new(LIBRARY);
    if !root.is_dir() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("conformance data missing at {LIBRARY}");
        }
        eprintln!("skipping: Gatekeeper library not found at {LIBRARY}");
        return;
    }
    let (mut passed, mut evaluated, mut templates) = (0, 0, 0);
    let mut failures = Vec::new();
    for path in find_suites(root) {
        let result = run_suite_with(&path, Engine::Cel);
        if let Some(e) = &result.error {
            failures.push(format!("{}: suite error: {e}", path.display()));
            continue;
        }
        let mut counted = false;
        for test in result.tests.iter().filter(|t| !t.skipped) {
            counted = true;
            for case in &test.cases {
                evaluated += 1;
                if case.passed {
                    passed += 1;
                } else {
                    failures.push(format!(
                        "{} / {} / {}: {}",
                        path.display(),
                        test.name,
                        case.name,
                        case.reason.as_deref().unwrap_or("failed")
                    ));
                }
            }
        }
        templates += usize::from(counted);
    }
    println!("gatekeeper-library (CEL): {passed}/{evaluated} cases pass in {templates} suites with a CEL variant");
    assert!(
        templates >= 16,
        "expected the 16 templates with a CEL variant, found {templates}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The cases of the 16 templates with a CEL variant, in the conformance copy.
    assert_eq!((templates, evaluated), (16, 131));
}
