//! Exemptions in the outcome and counts, scores and compliance arithmetic.

mod common;

use palisade_model::{
    load_text, Control, Finding, Framework, LoadOptions, Loaded, RuleMeta, Severity, Suppression,
    SuppressionKind,
};
use palisade_report::{penalty, ControlStatus, Outcome, Report};

/// `count` copies of a finding of `severity` on the object named `name`.
fn on(loaded: &Loaded, name: &str, severity: Severity, count: usize) -> Vec<Finding> {
    let object = common::object(loaded, name);
    let mut finding = Finding::new(
        &common::PRIVILEGED,
        object,
        Default::default(),
        None,
        format!("{severity} on {name}"),
        String::new(),
    );
    finding.severity = severity;
    vec![finding; count]
}

fn exempt(mut finding: Finding) -> Finding {
    finding.suppression = Some(Suppression {
        kind: SuppressionKind::External,
        reason: "accepted risk".into(),
        origin: ".palisade.yaml:3".into(),
    });
    finding
}

#[test]
fn penalties() {
    let penalties: Vec<u32> = Severity::ALL.iter().map(|&s| penalty(s)).collect();
    assert_eq!(penalties, [0, 2, 6, 15, 30]);
}

#[test]
fn exempted_findings_never_fail_a_run() {
    let mut loaded = common::loaded();
    loaded.errors.clear();
    let findings: Vec<Finding> = common::findings(&loaded).into_iter().map(exempt).collect();
    let report = Report::new("0.1.0", &loaded, &findings, &[], Severity::Info);
    assert_eq!((report.outcome(), report.exit_code()), (Outcome::Pass, 0));
    let summary = report.summary();
    assert_eq!(
        (summary.findings, summary.exempted, summary.failing),
        (0, 4, 0)
    );
    assert_eq!(summary.by_severity, [0; 5]);
    assert_eq!(summary.score, 100);
    assert_eq!(report.active_findings().count(), 0);
    assert_eq!(report.exempted_findings().count(), 4);

    // One active finding left: it decides.
    let mut findings = findings;
    findings[3].suppression = None; // the low one on Pod tools
    let report = Report::new("0.1.0", &loaded, &findings, &[], Severity::Low);
    assert_eq!(report.outcome(), Outcome::Fail);
    let report = Report::new("0.1.0", &loaded, &findings, &[], Severity::Medium);
    assert_eq!(report.outcome(), Outcome::Pass);
    let summary = report.summary();
    assert_eq!((summary.findings, summary.exempted), (1, 3));
    assert_eq!(summary.count(Severity::Low), 1);
}

#[test]
fn object_scores_and_the_mean() {
    let mut loaded = common::loaded();
    loaded.errors.clear();
    let mut findings = Vec::new();
    findings.extend(on(&loaded, "web", Severity::High, 2)); // 100 - 30 = 70
    findings.extend(on(&loaded, "web", Severity::Info, 5)); // no penalty
    findings.extend(on(&loaded, "web", Severity::Low, 1)); // 70 - 2 = 68
    findings.extend(on(&loaded, "tools", Severity::Critical, 4)); // 100 - 120 → 0
    findings.extend(
        on(&loaded, "debug-2", Severity::Medium, 1)
            .into_iter()
            .map(exempt),
    );
    let report = Report::new("0.1.0", &loaded, &findings, &[], Severity::High);
    let scores: Vec<(&str, u32, usize, usize, bool)> = report
        .object_scores()
        .iter()
        .map(|s| {
            (
                s.object.id.name.as_str(),
                s.score,
                s.findings,
                s.exempted,
                s.scored,
            )
        })
        .collect();
    assert_eq!(
        scores,
        [
            ("web", 68, 8, 0, true),
            ("settings", 100, 0, 0, false), // ConfigMap: no checks, not scored
            ("debug-2", 100, 0, 1, true),
            ("tools", 0, 4, 0, true),
        ]
    );
    // (68 + 100 + 0) / 3 = 56
    assert_eq!(report.score(), 56);
    assert_eq!(report.summary().score, 56);
    let lowest = report.lowest_score().unwrap();
    assert_eq!((lowest.object.id.name.as_str(), lowest.score), ("tools", 0));

    // When ConfigMaps have checks they count: (68 + 100 + 100 + 0) / 4 = 67.
    let mut report = report;
    report.checked_kind = |_| true;
    assert_eq!(report.score(), 67);
}

#[test]
fn rounding_and_ties() {
    let mut loaded = common::loaded();
    loaded.errors.clear();
    // Scored: web, debug-2, tools (the ConfigMap is not).
    let score =
        |findings: &[Finding]| Report::new("0.1.0", &loaded, findings, &[], Severity::High).score();
    let low = |name: &str| on(&loaded, name, Severity::Low, 1);
    let high = |name: &str| on(&loaded, name, Severity::High, 1);
    assert_eq!(score(&low("web")), 99); // (98 + 100 + 100) / 3 = 99.33
    assert_eq!(score(&[low("web"), low("tools")].concat()), 99); // 296 / 3 = 98.67
    assert_eq!(score(&[high("web"), high("tools")].concat()), 90); // 270 / 3 = 90

    // Halves round up: two Pods, (85 + 100) / 2 = 92.5.
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {}\n";
    let two = load_text("two.yaml", text, &LoadOptions::default());
    let findings = on(&two, "a", Severity::High, 1);
    assert_eq!(
        Report::new("0.1.0", &two, &findings, &[], Severity::High).score(),
        93
    );
    let findings = [
        on(&two, "a", Severity::High, 1),
        on(&two, "b", Severity::Critical, 1),
    ]
    .concat();
    assert_eq!(
        Report::new("0.1.0", &two, &findings, &[], Severity::High).score(),
        78
    ); // 77.5

    // A tie for the lowest score: the first object in input order.
    let tie = [high("tools"), high("web")].concat();
    let report = Report::new("0.1.0", &loaded, &tie, &[], Severity::High);
    let lowest = report.lowest_score().unwrap();
    assert_eq!((lowest.object.id.name.as_str(), lowest.score), ("web", 85));
}

#[test]
fn nothing_scored_is_100() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    let loaded = load_text("c.yaml", text, &LoadOptions::default());
    let report = Report::new("0.1.0", &loaded, &[], &[], Severity::High);
    assert_eq!(report.score(), 100);
    assert!(report.lowest_score().is_none());
    let empty = Loaded::default();
    let report = Report::new("0.1.0", &empty, &[], &[], Severity::High);
    assert_eq!((report.score(), report.object_scores().len()), (100, 0));

    // A finding on a kind without checks makes its object scored.
    let findings = on(&loaded, "c", Severity::High, 1);
    let report = Report::new("0.1.0", &loaded, &findings, &[], Severity::High);
    assert!(report.object_scores()[0].scored);
    assert_eq!(report.score(), 85);
}

static HOST_PATH: RuleMeta = RuleMeta {
    id: "pss/host-path-volumes",
    title: "HostPath volumes",
    severity: Severity::High,
    category: "pod-security",
    docs: "",
    help_uri: "",
    controls: &[
        Control::cis("5.2.12"),
        Control::nsa("pod-security"),
        Control::cis("5.2.12"),
    ],
};

#[test]
fn compliance_counts() {
    let loaded = common::loaded();
    let mut findings = common::findings(&loaded);
    // A second capability finding on the same object: 2 findings, 1 object.
    let mut second = findings[1].clone();
    second.message = "container \"app\" must not add capability SYS_TIME".into();
    findings.push(second);
    findings[0] = exempt(findings[0].clone()); // pss/privileged
    let mut rules = common::rules();
    rules.push(&HOST_PATH);

    let mut report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::High);
    assert!(report.compliance().is_none());
    report.framework = Some(Framework::Cis);
    let compliance = report.compliance().unwrap();
    assert_eq!(compliance.framework, Framework::Cis);
    let rows: Vec<(&str, ControlStatus, usize, usize, usize)> = compliance
        .controls
        .iter()
        .map(|c| (c.id, c.status, c.findings, c.objects, c.exempted))
        .collect();
    assert_eq!(
        rows,
        [
            ("5.2.2", ControlStatus::Pass, 0, 0, 1),
            ("5.2.5", ControlStatus::Fail, 1, 1, 0),
            ("5.2.7", ControlStatus::Fail, 1, 1, 0),
            ("5.2.9", ControlStatus::Fail, 2, 1, 0),
            ("5.2.10", ControlStatus::Fail, 2, 1, 0),
            ("5.2.12", ControlStatus::Pass, 0, 0, 0),
        ]
    );
    // A control listed twice by one rule names the rule once.
    assert_eq!(compliance.controls[5].rules, ["pss/host-path-volumes"]);
    assert_eq!((compliance.passed, compliance.failed), (2, 4));
    assert_eq!(compliance.percent, 33); // 2 of 6, rounded down

    report.framework = Some(Framework::Nsa);
    let nsa = report.compliance().unwrap();
    assert_eq!(nsa.controls.len(), 1);
    let control = &nsa.controls[0];
    assert_eq!(control.id, "pod-security");
    assert_eq!(
        control.rules,
        [
            "pss/capabilities",
            "pss/host-namespaces",
            "pss/host-path-volumes",
            "pss/privileged",
            "pss/run-as-non-root"
        ]
    );
    // Active: host-namespaces and 2 capabilities on web, run-as-non-root on tools.
    assert_eq!(
        (control.findings, control.objects, control.exempted),
        (4, 2, 1)
    );
    assert_eq!((nsa.passed, nsa.failed, nsa.percent), (0, 1, 0));

    // No rule maps to the framework: no controls, 100%.
    let mut report = Report::new("0.1.0", &loaded, &findings, &[], Severity::High);
    report.framework = Some(Framework::Mitre);
    let none = report.compliance().unwrap();
    assert!(none.controls.is_empty());
    assert_eq!((none.passed, none.failed, none.percent), (0, 0, 100));
}
