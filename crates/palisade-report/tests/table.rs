//! The human format, compared with a reviewed snapshot.
//!
//! After an intended change: `UPDATE_SNAPSHOTS=1 cargo test -p palisade-report --test table`,
//! then review the diff of `tests/snapshots/`.

mod common;

use std::path::PathBuf;

use palisade_model::{load_text, Finding, LoadOptions, Severity, Span};
use palisade_report::{render_to_string, Format, RenderOptions, Report};

fn snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_SNAPSHOTS=1)", path.display()));
    if expected != actual {
        panic!(
            "{name} differs from the snapshot (run with UPDATE_SNAPSHOTS=1 to accept)\n--- expected\n{expected}\n--- actual\n{actual}"
        );
    }
}

fn plain() -> RenderOptions {
    RenderOptions { color: false }
}

#[test]
fn table_snapshot() {
    let loaded = common::loaded();
    let findings = common::findings(&loaded);
    let rules = common::rules();
    let report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::High);
    snapshot(
        "table.txt",
        &render_to_string(&report, Format::Table, &plain()),
    );
}

#[test]
fn color_is_the_same_text_with_escapes() {
    let loaded = common::loaded();
    let findings = common::findings(&loaded);
    let rules = common::rules();
    let report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::High);
    let colored = render_to_string(&report, Format::Table, &RenderOptions { color: true });
    let plain = render_to_string(&report, Format::Table, &plain());
    assert!(colored.contains("\u{1b}["));
    assert!(!plain.contains('\u{1b}'));
    assert_eq!(common::strip_ansi(&colored), plain);
}

#[test]
fn machine_formats_never_contain_escapes() {
    let loaded = common::loaded();
    let findings = common::findings(&loaded);
    let rules = common::rules();
    let report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::High);
    for format in [Format::Json, Format::Yaml, Format::Sarif, Format::Junit] {
        let out = render_to_string(&report, format, &RenderOptions { color: true });
        assert!(!out.contains('\u{1b}'), "{format}");
    }
}

#[test]
fn clean_run() {
    let loaded = load_text(
        "ok.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec: {containers: [{name: a, image: b}]}\n",
        &LoadOptions::default(),
    );
    let report = Report::new("0.1.0", &loaded, &[], &[], Severity::Medium);
    snapshot(
        "table-clean.txt",
        &render_to_string(&report, Format::Table, &plain()),
    );
}

#[test]
fn findings_below_the_threshold_pass() {
    let loaded = common::loaded();
    let findings: Vec<Finding> = common::findings(&loaded)
        .into_iter()
        .filter(|f| f.severity < Severity::Critical)
        .collect();
    let rules = common::rules();
    let mut report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::Critical);
    report.errors.clear();
    let text = render_to_string(&report, Format::Table, &plain());
    let verdict = text.lines().last().unwrap();
    assert_eq!(
        verdict,
        "passed: 3 findings, none at or above critical (--fail-on critical)"
    );
    report.fail_on = Severity::Medium;
    let text = render_to_string(&report, Format::Table, &plain());
    assert_eq!(
        text.lines().last().unwrap(),
        "failed: 2 findings at or above medium (--fail-on medium); exit status 1"
    );
}

#[test]
fn secret_values_never_shown() {
    let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\nstringData:\n  password: hunter2\n  token: \"s3cr3t\"\n";
    let loaded = load_text("secret.yaml", text, &LoadOptions::default());
    let rule = &common::PRIVILEGED;
    let findings = vec![
        Finding::new(
            rule,
            &loaded.objects[0],
            common::span_of(text, 7, "hunter2"),
            Some("stringData.password".into()),
            "a finding on a secret value".into(),
            String::new(),
        ),
        Finding::new(
            rule,
            &loaded.objects[0],
            common::span_of(text, 8, "token"),
            Some("stringData.token".into()),
            "a finding on a secret key".into(),
            String::new(),
        ),
    ];
    let report = Report::new("0.1.0", &loaded, &findings, &[], Severity::High);
    let out = render_to_string(&report, Format::Table, &plain());
    assert!(!out.contains("hunter2") && !out.contains("s3cr3t"), "{out}");
    assert!(out.contains("  7 |   password: <redacted>\n"), "{out}");
    assert!(out.contains("    |             ^^^^^^^^^^\n"), "{out}");
    assert!(out.contains("  8 |   token: <redacted>\n"), "{out}");
    assert!(out.contains("    |   ^^^^^\n"), "{out}");
}

#[test]
fn positionless_input_error() {
    let loaded = palisade_model::load_inputs(
        &[palisade_model::Input::parse("/nonexistent/palisade/x.yaml")],
        &LoadOptions::default(),
    );
    assert_eq!(loaded.errors.len(), 1);
    assert_eq!(loaded.errors[0].span, Span::default());
    let report = Report::new("0.1.0", &loaded, &[], &[], Severity::High);
    let out = render_to_string(&report, Format::Table, &plain());
    assert!(
        out.starts_with("/nonexistent/palisade/x.yaml\n  input errors\n    -  "),
        "{out}"
    );
    assert!(out.contains("exit status 2"));
}
