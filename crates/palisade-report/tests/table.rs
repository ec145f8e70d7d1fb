//! The human format, compared with a reviewed snapshot.
//!
//! After an intended change: `UPDATE_SNAPSHOTS=1 cargo test -p palisade-report --test table`,
//! then review the diff of `tests/snapshots/`.

mod common;

use std::path::PathBuf;

use palisade_model::{
    load_text, Finding, Framework, InputError, InputErrorKind, LoadOptions, Severity, Span,
};
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

#[test]
fn exemptions_and_compliance_snapshot() {
    let loaded = common::loaded();
    let findings = common::exempted_findings(&loaded);
    let rules = common::rules();
    let mut report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::High);
    report.framework = Some(Framework::Cis);
    let text = render_to_string(&report, Format::Table, &plain());
    snapshot("table-exempted.txt", &text);

    // Exempted findings come after the active ones of their object, with
    // their reason instead of help and without a source line.
    let web = text.find("  Deployment prod/web\n").unwrap();
    let capabilities = text.find("pss/capabilities ").unwrap();
    let privileged = text.find("pss/privileged ").unwrap();
    assert!(web < capabilities && capabilities < privileged, "{text}");
    assert!(text.contains(&format!(
        "       = exempted: {} (.palisade.yaml:7)\n",
        common::EXTERNAL_REASON
    )));
    assert!(text.contains(&format!(
        "       = exempted: {} (annotation palisade.dev/ignore)\n",
        common::IN_SOURCE_REASON
    )));
    assert!(
        !text.contains("remove securityContext.privileged"),
        "{text}"
    );
    assert!(!text.contains("|           privileged: true"), "{text}");

    // Compliance, before the summary, in natural order.
    let compliance = text.find("Compliance: CIS Kubernetes Benchmark").unwrap();
    let summary = text.find("\nSummary\n").unwrap();
    assert!(compliance < summary);
    let ids: Vec<&str> = text[compliance..summary]
        .lines()
        .filter_map(|l| {
            l.strip_prefix("  pass  ")
                .or_else(|| l.strip_prefix("  fail  "))
        })
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(ids, ["5.2.2", "5.2.5", "5.2.7", "5.2.9", "5.2.10"]);
    assert!(
        text.contains("  pass  5.2.2   0 findings, 1 exempted  pss/privileged\n"),
        "{text}"
    );
    assert!(
        text.contains("  fail  5.2.9   1 finding in 1 object   pss/capabilities\n"),
        "{text}"
    );
    assert!(text.contains("  2 of 5 controls passed (40%)\n"), "{text}");

    // Summary: active findings only, exempted counted apart; the score.
    assert!(
        text.contains("  findings      2 (1 critical, 1 medium); 2 exempted\n"),
        "{text}"
    );
    // web: 100 - 30 - 6 = 64; debug-2 and tools: 100; mean 88.
    assert!(
        text.contains("  score         88/100 (lowest: 64 Deployment prod/web)\n"),
        "{text}"
    );
    assert!(text.ends_with(
        "error: 1 input error made the scan incomplete; 1 finding at or above high (--fail-on high); exit status 2\n"
    ));

    // Colour does not change the text.
    let colored = render_to_string(&report, Format::Table, &RenderOptions { color: true });
    assert_eq!(common::strip_ansi(&colored), text);
}

#[test]
fn only_exempted_findings_pass() {
    let mut loaded = common::loaded();
    loaded.errors.clear();
    let findings: Vec<Finding> = common::exempted_findings(&loaded)
        .into_iter()
        .filter(|f| f.suppression.is_some())
        .collect();
    let report = Report::new("0.1.0", &loaded, &findings, &[], Severity::Info);
    assert_eq!(report.exit_code(), 0);
    let text = render_to_string(&report, Format::Table, &plain());
    assert!(
        text.contains("  findings      none; 2 exempted\n"),
        "{text}"
    );
    assert!(text.contains("  score         100/100\n"), "{text}");
    assert!(!text.contains("Compliance"));
    assert_eq!(
        text.lines().last().unwrap(),
        "passed: no findings in 4 objects, 2 exempted (--fail-on info)"
    );
}

#[test]
fn configuration_errors_pushed_after_construction() {
    let loaded = common::loaded();
    let findings = common::findings(&loaded);
    let rules = common::rules();
    let source =
        palisade_model::SourceFile::new(".palisade.yaml", "exemptions:\n  - rule: pss/nope\n");
    let source: palisade_model::Source = std::sync::Arc::new(source);
    let config = InputError::new(
        InputErrorKind::Config,
        &source,
        common::span_of("exemptions:\n  - rule: pss/nope\n", 2, "pss/nope"),
        "unknown rule \"pss/nope\"".into(),
    );
    let mut report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::High);
    report.errors.push(&config);
    report.sort();
    assert_eq!(report.errors[0].kind.code(), "input/config");
    let text = render_to_string(&report, Format::Table, &plain());
    assert!(
        text.starts_with(
            ".palisade.yaml\n  input errors\n    2:11  error     input/config  unknown rule \"pss/nope\"\n      |\n    2 |   - rule: pss/nope\n      |           ^^^^^^^^\n"
        ),
        "{text}"
    );
    assert!(text.contains("  input errors  2\n"));
    assert!(text.ends_with("error: 2 input errors made the scan incomplete; 2 findings at or above high (--fail-on high); exit status 2\n"));
}

#[test]
fn compliance_names_at_most_three_rules() {
    let loaded = common::loaded();
    let findings = common::exempted_findings(&loaded);
    let rules = common::rules();
    let mut report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::High);
    report.framework = Some(Framework::Nsa);
    let text = render_to_string(&report, Format::Table, &plain());
    assert!(
        text.contains(
            "Compliance: NSA/CISA Kubernetes Hardening Guide\n  fail  pod-security  2 findings in 1 object, 2 exempted  pss/capabilities, pss/host-namespaces, and 2 more\n  0 of 1 control passed (0%)\n\nSummary\n"
        ),
        "{text}"
    );
}
