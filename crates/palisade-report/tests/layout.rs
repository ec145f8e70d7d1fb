//! The SARIF log is streamed from structs whose fields are declared in sorted
//! order; these tests pin its bytes to those of the same log written from a
//! `serde_json::Value` (which sorts keys), as `-o sarif` always printed it.

mod common;

use palisade_model::{Framework, Severity};
use palisade_report::{render_to_string, sarif_value, Format, RenderOptions, Report};

fn assert_sorted_layout(report: &Report) {
    let text = render_to_string(report, Format::Sarif, &RenderOptions::default());
    let value = sarif_value(report);
    let expected = serde_json::to_string_pretty(&value).expect("a Value serializes") + "\n";
    assert_eq!(text, expected);
}

#[test]
fn sarif_bytes_are_those_of_the_sorted_value() {
    let loaded = common::loaded();
    let findings = common::findings(&loaded);
    let exempted = common::exempted_findings(&loaded);
    let all_rules = common::rules();
    // Without documentation for some rules: bare rule entries.
    let some_rules = &all_rules[..1];
    for findings in [&findings, &exempted] {
        for rules in [&all_rules[..], some_rules, &[]] {
            for framework in [None, Some(Framework::Cis)] {
                let mut report = Report::new("0.1.0", &loaded, findings, rules, Severity::High);
                report.framework = framework;
                assert_sorted_layout(&report);
            }
        }
    }
    let empty = Report::new("0.1.0", &loaded, &[], &all_rules, Severity::Info);
    assert_sorted_layout(&empty);
}
