//! Exit status, ordering and determinism.

mod common;

use palisade_model::{Finding, Severity};
use palisade_report::{render_to_string, Format, Outcome, RenderOptions, Report};

#[test]
fn exit_status() {
    let mut loaded = common::loaded();
    let findings = common::findings(&loaded);
    let rules = common::rules();

    // Input errors win, whatever the findings.
    let report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::Critical);
    assert_eq!((report.outcome(), report.exit_code()), (Outcome::Error, 2));
    let report = Report::new("0.1.0", &loaded, &[], &rules, Severity::Critical);
    assert_eq!(report.exit_code(), 2);

    loaded.errors.clear();
    let cases = [
        (Severity::Info, 1),
        (Severity::Low, 1),
        (Severity::Medium, 1),
        (Severity::High, 1),
        (Severity::Critical, 1),
    ];
    for (fail_on, code) in cases {
        let report = Report::new("0.1.0", &loaded, &findings, &rules, fail_on);
        assert_eq!(report.exit_code(), code, "{fail_on}");
    }
    // Only the low finding: passes at medium and above.
    let low: Vec<Finding> = findings
        .iter()
        .filter(|f| f.severity == Severity::Low)
        .cloned()
        .collect();
    for (fail_on, code) in [
        (Severity::Info, 1),
        (Severity::Low, 1),
        (Severity::Medium, 0),
    ] {
        let report = Report::new("0.1.0", &loaded, &low, &rules, fail_on);
        assert_eq!(report.exit_code(), code, "{fail_on}");
        let summary = report.summary();
        assert_eq!(summary.failing, usize::from(code == 1));
    }
    let report = Report::new("0.1.0", &loaded, &[], &rules, Severity::Info);
    assert_eq!((report.outcome(), report.exit_code()), (Outcome::Pass, 0));
}

#[test]
fn summary_counts() {
    let loaded = common::loaded();
    let findings = common::findings(&loaded);
    let report = Report::new("0.1.0", &loaded, &findings, &[], Severity::High);
    let summary = report.summary();
    assert_eq!(
        (summary.files, summary.documents, summary.objects),
        (2, 4, 4)
    );
    assert_eq!(summary.by_severity, [0, 1, 1, 1, 1]);
    assert_eq!(summary.count(Severity::Critical), 1);
    let kinds: Vec<(&str, usize, bool)> = summary
        .objects_by_kind
        .iter()
        .map(|k| (k.kind.as_str(), k.count, k.checked))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Pod", 2, true),
            ("ConfigMap", 1, false),
            ("Deployment", 1, true)
        ]
    );
}

#[test]
fn output_does_not_depend_on_input_order() {
    let loaded = common::loaded();
    let findings = common::findings(&loaded);
    let mut reversed = findings.clone();
    reversed.reverse();
    let mut rotated = findings.clone();
    rotated.rotate_left(1);
    let rules = common::rules();
    for format in Format::ALL {
        let outputs: Vec<String> = [&findings, &reversed, &rotated]
            .iter()
            .map(|f| {
                let report = Report::new("0.1.0", &loaded, f, &rules, Severity::High);
                render_to_string(&report, format, &RenderOptions::default())
            })
            .collect();
        assert_eq!(outputs[0], outputs[1], "{format}");
        assert_eq!(outputs[0], outputs[2], "{format}");
    }
}

#[test]
fn sorted_by_file_line_column_rule() {
    let loaded = common::loaded();
    let mut findings = common::findings(&loaded);
    // Two rules at the same position: ordered by rule id.
    let mut twin = findings[0].clone();
    twin.rule = "pss/aaa";
    findings.push(twin);
    findings.reverse();
    let report = Report::new("0.1.0", &loaded, &findings, &[], Severity::High);
    let order: Vec<(String, u32, u32, &str)> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.location.file.clone(),
                f.location.span.start.line,
                f.location.span.start.column,
                f.rule,
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert_eq!(order[0].0, "deploy/web.yaml");
    assert_eq!((order[0].1, order[0].3), (9, "pss/host-namespaces"));
    assert_eq!((order[1].1, order[1].3), (14, "pss/aaa"));
    assert_eq!((order[2].1, order[2].3), (14, "pss/privileged"));
}

#[test]
fn formats_parse_and_display() {
    for format in Format::ALL {
        assert_eq!(format.to_string().parse::<Format>(), Ok(format));
    }
    assert_eq!("YML".parse::<Format>(), Ok(Format::Yaml));
    assert_eq!("JUnit".parse::<Format>(), Ok(Format::Junit));
    assert!("xml2"
        .parse::<Format>()
        .unwrap_err()
        .contains("expected table, json"));
}
