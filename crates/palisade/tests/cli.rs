//! The `palisade` binary as users run it: exit codes, inputs, formats.

use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::{json, palisade, palisade_stdin, repo_path, shared, stdout};

fn findings(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["findings"].as_array().cloned().unwrap_or_default()
}

#[test]
fn examples_have_findings_and_exit_1() {
    let out = palisade(&["scan", &repo_path("examples")]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("pss/privileged"), "{text}");
    assert!(
        text.contains("privileged: true"),
        "the source line is shown: {text}"
    );
}

#[test]
fn seed_pod_meets_restricted_and_privileged_is_located() {
    let Some(dir) = shared("seed-examples") else {
        return;
    };
    let pod = dir.join("03-pod.yaml");
    let out = palisade(&["scan", pod.to_str().expect("utf-8 path"), "-o", "json"]);
    let report = json(&out);
    let pss: Vec<_> = findings(&report)
        .into_iter()
        .filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("pss/")))
        .collect();
    assert!(pss.is_empty(), "the seed pod meets restricted: {pss:#?}");
    // Its image is `myapp:latest`.
    assert!(
        findings(&report)
            .iter()
            .any(|f| f["rule"] == "image/latest-tag" && f["location"]["line"] == 16),
        "{report:#}"
    );

    // The same pod with `privileged: true` added to its container.
    let text = std::fs::read_to_string(&pod).expect("read seed pod");
    let mut lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "allowPrivilegeEscalation: false")
        .expect("seed pod has allowPrivilegeEscalation");
    lines.insert(at + 1, "      privileged: true");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pod.yaml");
    std::fs::write(&file, lines.join("\n")).expect("write");
    let out = palisade(&["scan", file.to_str().expect("utf-8 path"), "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = json(&out);
    let privileged: Vec<_> = findings(&report)
        .into_iter()
        .filter(|f| f["rule"] == "pss/privileged")
        .collect();
    assert_eq!(privileged.len(), 1, "{report:#}");
    let line = u64::try_from(at + 2).expect("line");
    assert_eq!(privileged[0]["location"]["line"], line, "{report:#}");
    assert_eq!(privileged[0]["location"]["column"], 19, "{report:#}");
}

#[test]
fn every_seed_example_loads_without_input_errors() {
    let Some(dir) = shared("seed-examples") else {
        return;
    };
    let out = palisade(&["scan", dir.to_str().expect("utf-8 path"), "-o", "json"]);
    assert_ne!(out.status.code(), Some(2), "{}", stdout(&out));
    let report = json(&out);
    assert_eq!(
        report["errors"].as_array().map(Vec::len),
        Some(0),
        "{report:#}"
    );
}

#[test]
fn stdin_is_read_with_dash() {
    let manifest = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: yes\n  containers:\n  - name: c\n    image: x\n";
    let out = palisade_stdin(
        &["scan", "-", "--level", "baseline", "-o", "json"],
        manifest,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = json(&out);
    let f = findings(&report);
    assert!(
        f.iter()
            .any(|f| f["rule"] == "pss/hostNamespaces" && f["location"]["line"] == 5),
        "{report:#}"
    );
}

#[test]
fn broken_input_is_reported_and_the_rest_is_still_scanned() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "a-broken.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: [oops\n",
    );
    write(
        dir.path(),
        "b-good.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x\n    securityContext: {privileged: true}\n",
    );
    let out = palisade(&[
        "scan",
        dir.path().to_str().expect("utf-8 path"),
        "-o",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "input errors win: {}",
        stdout(&out)
    );
    let report = json(&out);
    assert_eq!(
        report["errors"].as_array().map(Vec::len),
        Some(1),
        "{report:#}"
    );
    assert!(
        findings(&report)
            .iter()
            .any(|f| f["rule"] == "pss/privileged"),
        "{report:#}"
    );
}

#[test]
fn quoted_boolean_is_an_input_error() {
    let manifest = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x\n    securityContext:\n      privileged: \"true\"\n";
    let out = palisade_stdin(&["scan", "-"], manifest);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert!(text.contains("9:19"), "{text}");
    assert!(text.contains("expected boolean"), "{text}");
}

#[test]
fn fail_on_sets_the_threshold() {
    let manifest = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x\n";
    // Only restricted-level findings (medium): below `critical`.
    let out = palisade_stdin(&["scan", "-", "--fail-on", "critical"], manifest);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = palisade_stdin(&["scan", "-", "--fail-on", "low"], manifest);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(palisade(&["scan"]).status.code(), Some(2));
    assert_eq!(
        palisade(&["scan", "x.yaml", "--fail-on", "severe"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        palisade(&["scan", "-", "--level", "strict"]).status.code(),
        Some(2)
    );
    assert_eq!(
        palisade(&["scan", "/nonexistent/dir"]).status.code(),
        Some(2)
    );
}

#[test]
fn explain_prints_rule_documentation() {
    let out = palisade(&["explain", "pss/privileged"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("pss/privileged"), "{text}");
    assert!(text.len() > 200, "documentation, not just a title: {text}");
    assert_eq!(palisade(&["explain", "pss/nope"]).status.code(), Some(2));
}

#[test]
fn rules_lists_every_rule() {
    let out = palisade(&["rules", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let rules = json(&out);
    let ids: Vec<&str> = rules
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    for id in ["pss/privileged", "pss/runAsNonRoot", "input/syntax"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
}

#[test]
fn out_writes_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("report.sarif");
    let out = palisade(&[
        "scan",
        &repo_path("examples"),
        "-o",
        "sarif",
        "--out",
        file.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    assert_eq!(sarif["version"], "2.1.0");
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

const PRIVILEGED_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: shop\n  annotations:\n    palisade.dev/ignore: pss/privileged@app\n    palisade.dev/ignore-reason: reviewed in SEC-7\nspec:\n  containers:\n  - name: app\n    image: x:1.0\n    securityContext: {privileged: true}\n  - name: other\n    image: x:1.0\n    securityContext: {privileged: true}\n";

fn findings_of<'r>(report: &'r serde_json::Value, rule: &str) -> Vec<&'r serde_json::Value> {
    report["findings"]
        .as_array()
        .map(|a| a.iter().filter(|f| f["rule"] == rule).collect())
        .unwrap_or_default()
}

#[test]
fn annotation_exemptions_are_listed_not_dropped() {
    let out = palisade_stdin(&["scan", "-", "-o", "json", "--no-config"], PRIVILEGED_POD);
    let report = json(&out);
    let privileged = findings_of(&report, "pss/privileged");
    assert_eq!(privileged.len(), 2, "{report:#}");
    let exempted: Vec<bool> = privileged.iter().map(|f| f["exempted"] == true).collect();
    assert_eq!(
        exempted,
        [true, false],
        "only container app is exempted: {report:#}"
    );
    assert_eq!(privileged[0]["suppression"]["reason"], "reviewed in SEC-7");

    // With manifest exemptions disallowed, both count.
    let out = palisade_stdin(
        &[
            "scan",
            "-",
            "-o",
            "json",
            "--no-config",
            "--no-manifest-exemptions",
        ],
        PRIVILEGED_POD,
    );
    let report = json(&out);
    assert!(findings_of(&report, "pss/privileged")
        .iter()
        .all(|f| f["exempted"] == false));
}

#[test]
fn configuration_file_is_found_upward_and_applied() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        ".palisade.yaml",
        "rules:\n  disable: [pod/*]\nseverity:\n  image/latest-tag: critical\nexemptions:\n- rules: [pss/*]\n  namespaces: [shop]\n  reason: legacy app, tracked in SEC-9\n",
    );
    let sub = dir.path().join("k8s");
    std::fs::create_dir(&sub).expect("mkdir");
    write(
        &sub,
        "pod.yaml",
        &PRIVILEGED_POD.replace("x:1.0", "x:latest"),
    );
    let out = palisade(&["scan", sub.to_str().expect("utf-8 path"), "-o", "json"]);
    let report = json(&out);
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(
        !rules.iter().any(|r| r.starts_with("pod/")),
        "pod/* disabled: {rules:?}"
    );
    let latest = findings_of(&report, "image/latest-tag");
    assert!(
        !latest.is_empty() && latest.iter().all(|f| f["severity"] == "critical"),
        "{report:#}"
    );
    let pss: Vec<_> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("pss/")))
        .collect();
    assert!(
        !pss.is_empty() && pss.iter().all(|f| f["exempted"] == true),
        "{report:#}"
    );

    // A broken configuration is an input error with its position.
    write(dir.path(), ".palisade.yaml", "rules:\n  disabel: [x]\n");
    let out = palisade(&["scan", sub.to_str().expect("utf-8 path"), "-o", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    let error = &report["errors"][0];
    assert_eq!(error["code"], "input/config", "{report:#}");
    assert_eq!(error["location"]["line"], 2);
}

#[test]
fn framework_limits_rules_and_reports_compliance() {
    let out = palisade(&[
        "scan",
        &repo_path("examples"),
        "-o",
        "json",
        "--framework",
        "cis",
        "--no-config",
    ]);
    let report = json(&out);
    assert_eq!(
        report["compliance"]["framework"], "cis",
        "{:#}",
        report["compliance"]
    );
    let controls = report["compliance"]["controls"]
        .as_array()
        .expect("controls");
    assert!(
        controls
            .iter()
            .any(|c| c["id"] == "5.2.2" && c["status"] == "fail"),
        "{controls:#?}"
    );
    // Every finding comes from a rule mapped to CIS.
    let rules = json(&palisade(&["rules", "-o", "json"]));
    for f in report["findings"].as_array().expect("findings") {
        let rule = rules
            .as_array()
            .expect("rules")
            .iter()
            .find(|r| r["id"] == f["rule"])
            .expect("rule listed");
        let mapped = rule["controls"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["framework"] == "cis"));
        assert!(mapped, "{} is not mapped to CIS", f["rule"]);
    }
}

/// The README's rule table is generated: `palisade rules -o markdown`.
/// `UPDATE_README=1 cargo test -p palisade --test cli readme` rewrites it.
#[test]
fn readme_rule_table_is_up_to_date() {
    const START: &str = "<!-- rules:start -->\n";
    const END: &str = "<!-- rules:end -->";
    let path = repo_path("README.md");
    let readme = std::fs::read_to_string(&path).expect("read README");
    let out = palisade(&["rules", "-o", "markdown"]);
    let table = stdout(&out);
    let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md lacks the {START:?} ... {END:?} markers");
    };
    let current = &readme[start + START.len()..end];
    if current != table {
        if std::env::var_os("UPDATE_README").is_some() {
            let updated = format!("{}{START}{table}{}", &readme[..start], &readme[end..]);
            std::fs::write(&path, updated).expect("write README");
        } else {
            panic!("README.md's rule table is stale: run UPDATE_README=1 cargo test -p palisade --test cli readme");
        }
    }
}

/// Every rule docs/check-topics.md names exists.
#[test]
fn check_topics_doc_names_real_rules() {
    let doc = std::fs::read_to_string(repo_path("docs/check-topics.md")).expect("read doc");
    let rules = json(&palisade(&["rules", "-o", "json"]));
    let ids: Vec<&str> = rules
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    let mut named = 0;
    for part in doc.split('`').skip(1).step_by(2) {
        let is_rule_id = part.contains('/')
            && !part.contains(' ')
            && !part.contains('*')
            && part.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if is_rule_id && !part.starts_with("../") && !part.ends_with(".md") {
            named += 1;
            assert!(
                ids.contains(&part),
                "docs/check-topics.md names unknown rule {part}"
            );
        }
    }
    assert!(named > 100, "only {named} rule ids found in the doc");
}

#[test]
fn peer_annotations_are_honoured_on_request() {
    let manifest = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    kube-score/ignore: container-image-tag\nspec:\n  containers:\n  - name: app\n    image: nginx:latest\n";
    let latest = |args: &[&str]| {
        let report = json(&palisade_stdin(args, manifest));
        findings_of(&report, "image/latest-tag")
            .iter()
            .map(|f| f["exempted"] == true)
            .collect::<Vec<_>>()
    };
    assert_eq!(latest(&["scan", "-", "-o", "json", "--no-config"]), [false]);
    assert_eq!(
        latest(&[
            "scan",
            "-",
            "-o",
            "json",
            "--no-config",
            "--peer-annotations"
        ]),
        [true]
    );
}

/// No format ever prints a credential's value (only key names, positions, fingerprints).
#[test]
fn secret_values_never_appear_in_any_format() {
    let manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: x:1.0\n        args: [\"--password=hunter2hunter2\"]\n        env:\n        - name: DB_PASSWORD\n          value: sup3rS3cretValue\n        - {name: API_TOKEN, value: ghp_abcdefghijklmnopqrstuvwxyz0123456789}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\ndata:\n  db.url: postgres://admin:pa55word@db:5432/app\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: shop}\nstringData:\n  token: plainTextToken123\n  token: duplicatedToken456\n";
    for format in ["table", "json", "yaml", "sarif", "junit"] {
        let out = palisade_stdin(&["scan", "-", "-o", format, "--no-config"], manifest);
        let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        assert!(
            text.contains("secrets/"),
            "{format}: the credentials are reported: {text}"
        );
        for value in [
            "hunter2hunter2",
            "sup3rS3cretValue",
            "bcdefghijklmnopqrstuvwxyz01",
            "pa55word",
            "plainTextToken123",
            "duplicatedToken456",
        ] {
            assert!(!text.contains(value), "{format} prints {value}:\n{text}");
        }
    }
}

#[test]
fn policy_verify_runs_the_gatekeeper_library_suites() {
    let Some(library) = shared("conformance/gatekeeper-library/library/general/requiredlabels")
    else {
        return;
    };
    let out = palisade(&["policy", "verify", library.to_str().expect("utf-8 path")]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("ok  \t") && text.trim_end().ends_with("PASS"),
        "{text}"
    );

    // A suite whose expectation is wrong fails with exit 1 and names the case.
    let dir = tempfile::tempdir().expect("tempdir");
    let suite = std::fs::read_to_string(library.join("suite.yaml")).expect("suite");
    let broken = suite.replacen("violations: no", "violations: yes", 1);
    assert_ne!(
        suite, broken,
        "the suite has a `violations: no` assertion to flip"
    );
    for entry in std::fs::read_dir(&library).expect("dir").flatten() {
        let target = dir.path().join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
    std::fs::write(dir.path().join("suite.yaml"), broken).expect("write");
    let out = palisade(&["policy", "verify", dir.path().to_str().expect("utf-8 path")]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("--- FAIL:") && text.trim_end().ends_with("FAIL"),
        "{text}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn policy_test_and_scan_policies_report_the_seed_constraint() {
    let Some(seed) = shared("seed-examples/04-gatekeeper-required-labels.yaml") else {
        return;
    };
    let seed = seed.to_str().expect("utf-8 path");
    let manifests = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: production, labels: {app: api, team: payments}}\nspec: {template: {spec: {containers: [{name: a, image: 'x:1.0'}]}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other, namespace: default, labels: {app: x}}\nspec: {template: {spec: {containers: [{name: a, image: 'x:1.0'}]}}}\n";
    let messages = |report: &serde_json::Value| -> Vec<String> {
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| {
                f["rule"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("gatekeeper/"))
            })
            .map(|f| {
                format!(
                    "{} {}",
                    f["object"]["name"].as_str().unwrap_or(""),
                    f["message"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    let out = palisade_stdin(
        &["policy", "test", "-p", seed, "-", "-o", "json"],
        manifests,
    );
    assert_eq!(out.status.code(), Some(1));
    let found = messages(&json(&out));
    assert_eq!(
        found,
        [
            "api Missing required label: environment",
            "api Missing required label: version"
        ]
    );

    let out = palisade_stdin(
        &["scan", "-", "--policies", seed, "-o", "json", "--no-config"],
        manifests,
    );
    assert_eq!(
        messages(&json(&out)),
        found,
        "scan --policies adds the same violations"
    );
}

#[test]
fn policy_verify_runs_both_engines_with_engine_all() {
    let Some(library) = shared("conformance/gatekeeper-library/library/general/requiredlabels")
    else {
        return;
    };
    let out = palisade(&[
        "policy",
        "verify",
        library.to_str().expect("utf-8 path"),
        "--engine",
        "all",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("[rego]") && text.contains("[cel]"), "{text}");
}

#[test]
fn validating_admission_policies_are_evaluated_offline() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "vap.yaml",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: max-replicas}\nspec:\n  failurePolicy: Fail\n  matchConstraints:\n    resourceRules:\n    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}\n  validations:\n  - expression: object.spec.replicas <= 5\n    messageExpression: \"'replicas must be at most 5, not ' + string(object.spec.replicas)\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: max-replicas}\nspec:\n  policyName: max-replicas\n  validationActions: [Deny]\n",
    );
    let manifests = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: big, namespace: shop}\nspec: {replicas: 9, template: {spec: {containers: [{name: a, image: 'x:1.0'}]}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: small, namespace: shop}\nspec: {replicas: 2, template: {spec: {containers: [{name: a, image: 'x:1.0'}]}}}\n";
    let policies = dir.path().to_str().expect("utf-8 path");
    for args in [
        vec!["policy", "test", "-p", policies, "-", "-o", "json"],
        vec![
            "scan",
            "-",
            "--policies",
            policies,
            "-o",
            "json",
            "--no-config",
        ],
    ] {
        let report = json(&palisade_stdin(&args, manifests));
        let vap: Vec<String> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| {
                f["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("replicas must be"))
            })
            .map(|f| {
                format!(
                    "{} {}",
                    f["object"]["name"].as_str().unwrap_or(""),
                    f["message"].as_str().unwrap_or("")
                )
            })
            .collect();
        assert_eq!(vap.len(), 1, "{args:?}: {report:#}");
        assert!(
            vap[0].starts_with("big ") && vap[0].contains("not 9"),
            "{vap:?}"
        );
    }
}

#[test]
fn policy_test_inventory_feeds_referential_templates() {
    let Some(dir) = shared("conformance/gatekeeper-library/library/general/uniqueingresshost")
    else {
        return;
    };
    let sample = dir.join("samples").join(
        std::fs::read_dir(dir.join("samples"))
            .expect("samples")
            .flatten()
            .next()
            .expect("a sample")
            .file_name(),
    );
    let template = dir.join("template.yaml");
    let constraint = sample.join("constraint.yaml");
    let object = sample.join("example_disallowed.yaml");
    let inventory = sample.join("example_inventory_disallowed.yaml");
    let path = |p: &Path| p.to_str().expect("utf-8 path").to_string();
    let count = |extra: &[String]| {
        let mut args = vec![
            "policy".to_string(),
            "test".into(),
            "-p".into(),
            path(&template),
            "-p".into(),
            path(&constraint),
        ];
        args.extend(extra.iter().cloned());
        args.extend([path(&object), "-o".into(), "json".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        json(&palisade(&args))["findings"]
            .as_array()
            .map_or(0, |f| {
                f.iter()
                    .filter(|f| {
                        f["rule"]
                            .as_str()
                            .is_some_and(|r| r.starts_with("gatekeeper/"))
                    })
                    .count()
            })
    };
    assert_eq!(count(&[]), 0, "alone, the Ingress's host is unique");
    assert!(
        count(&["--inventory".into(), path(&inventory)]) > 0,
        "the inventory holds an Ingress with the same host"
    );
}

#[test]
fn gatekeeper_violation_details_reach_the_json_report() {
    let Some(dir) = shared("conformance/gatekeeper-library/library/general/requiredlabels") else {
        return;
    };
    let sample = dir.join("samples/all-must-have-owner");
    let path = |p: &Path| p.to_str().expect("utf-8 path").to_string();
    let (template, constraint, object) = (
        path(&dir.join("template.yaml")),
        path(&sample.join("constraint.yaml")),
        path(&sample.join("example_disallowed.yaml")),
    );
    let report = json(&palisade(&[
        "policy",
        "test",
        "-p",
        &template,
        "-p",
        &constraint,
        &object,
        "-o",
        "json",
    ]));
    let details: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| &f["details"])
        .collect();
    assert_eq!(
        details,
        [&serde_json::json!({"missing_labels": ["owner"]})],
        "{report:#}"
    );
}

#[test]
fn install_webhook_manifests_scan_clean_above_low() {
    for tls in ["self-signed", "cert-manager"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let certs = dir.path().join("certs");
        let out = palisade(&[
            "install",
            "webhook",
            "--tls",
            tls,
            "--cert-dir",
            certs.to_str().expect("utf-8"),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let manifests = stdout(&out);
        for needle in [
            "kind: ValidatingWebhookConfiguration",
            "failurePolicy: Fail",
            "timeoutSeconds: 5",
            "operator: NotIn",
            "values: [kube-system, kube-node-lease, palisade]",
            "matchConditions:",
            "kind: PodDisruptionBudget",
            "replicas: 2",
            "podAntiAffinity:",
            "readOnlyRootFilesystem: true",
            "path: /readyz",
        ] {
            assert!(manifests.contains(needle), "{tls}: missing {needle:?}");
        }
        if tls == "self-signed" {
            assert!(manifests.contains("caBundle: "));
            assert!(
                certs.join("tls.key").exists(),
                "the key is written to a file"
            );
            assert!(
                !manifests.contains("PRIVATE KEY"),
                "no key in the manifests"
            );
        } else {
            assert!(manifests.contains("cert-manager.io/inject-ca-from: palisade/palisade-tls"));
        }
        let scan = palisade_stdin(
            &["scan", "-", "--fail-on", "medium", "-o", "json"],
            &manifests,
        );
        let report = json(&scan);
        assert_eq!(scan.status.code(), Some(0), "{tls}: {report:#}");
        assert_eq!(report["summary"]["inputErrors"], 0, "{report:#}");
    }
}

#[test]
fn serve_answers_admission_reviews_over_https() {
    if Command::new("curl").arg("--version").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs curl"
        );
        eprintln!("skipping: curl not found");
        return;
    }
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = dir.path().join("certs");
    let ns = dir.path().join("ns.yaml");
    std::fs::write(
        &ns,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n  labels: {pod-security.kubernetes.io/enforce: baseline}\n",
    )
    .expect("write namespace");
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "serve",
            "--self-signed",
            "--cert-dir",
            certs.to_str().expect("utf-8"),
            "--listen",
            "127.0.0.1:0",
            "--namespaces",
            ns.to_str().expect("utf-8"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let mut ca_line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut ca_line)
        .expect("caBundle line");
    assert!(ca_line.starts_with("caBundle: "), "{ca_line}");
    // The address is in the JSON log line that says where it serves.
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut addr = None;
    for _ in 0..50 {
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("log line") == 0 {
            break;
        }
        if let Some(rest) = line.split("https://").nth(1) {
            addr = rest.split('/').next().map(str::to_string);
            break;
        }
    }
    let addr = addr.expect("the server logs its address");
    let port = addr.rsplit(':').next().expect("port");
    let review = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"name":"web","namespace":"prod","operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"prod"},"spec":{"hostPID":true,"containers":[{"name":"app","image":"nginx"}]}}}}"#;
    let out = Command::new("curl")
        .args([
            "-sS",
            "--cacert",
            certs.join("ca.crt").to_str().expect("utf-8"),
            "--resolve",
            &format!("localhost:{port}:127.0.0.1"),
            "-H",
            "content-type: application/json",
            "--data-binary",
            review,
            &format!("https://localhost:{port}/validate"),
        ])
        .output()
        .expect("curl");
    let _ = child.kill();
    let _ = child.wait();
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(answer["response"]["uid"], "u-1");
    assert_eq!(answer["response"]["allowed"], false, "{answer:#}");
    assert!(answer["response"]["status"]["message"]
        .as_str()
        .expect("message")
        .contains("violates PodSecurity \"baseline:latest\": host namespaces (hostPID=true)"));
}

#[test]
fn serve_needs_a_certificate() {
    let out = palisade(&["serve"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-cert"));
}

#[test]
fn detect_reports_the_seed_rules_errors_with_positions() {
    let Some(dir) = shared("seed-examples") else {
        return;
    };
    let out = palisade(&[
        "detect",
        "--validate",
        "-r",
        dir.join("05-falco-rules.yaml").to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("05-falco-rules.yaml:18:5")
            && err.contains("Undefined macro 'inbound_outbound'"),
        "{err}"
    );
    assert!(
        err.contains("05-falco-rules.yaml:20:9") && err.contains("nonexistent field 'fd.net.ip'"),
        "{err}"
    );
}

#[test]
fn rbac_who_can_on_the_seed_role() {
    let Some(dir) = shared("seed-examples") else {
        return;
    };
    let out = palisade(&[
        "rbac",
        "who-can",
        "create",
        "pods/exec",
        "-n",
        "dev-team-a",
        "-f",
        dir.join("01-rbac.yaml").to_str().expect("utf-8"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout(&out).contains("dev-team-a-members"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn policy_test_answers_authorizer_checks_from_the_inputs_rbac() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: sa-must-not-read-secrets}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - expression: "!authorizer.serviceAccount(object.metadata.namespace, object.spec.template.spec.serviceAccountName).group('').resource('secrets').namespace(object.metadata.namespace).check('list').allowed()"
    messageExpression: "'service account ' + object.spec.template.spec.serviceAccountName + ' can list secrets'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: sa-must-not-read-secrets}
spec:
  policyName: sa-must-not-read-secrets
  validationActions: [Deny]
"#).expect("write policy");
    let deployment = |sa: &str| {
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {sa}, namespace: prod}}\nspec:\n  selector: {{matchLabels: {{app: {sa}}}}}\n  template:\n    metadata: {{labels: {{app: {sa}}}}}\n    spec:\n      serviceAccountName: {sa}\n      containers: [{{name: app, image: nginx}}]\n")
    };
    let rbac = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: secret-reader, namespace: prod}\nrules:\n- {apiGroups: [\"\"], resources: [secrets], verbs: [get, list]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: web-secrets, namespace: prod}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}\nsubjects:\n- {kind: ServiceAccount, name: web, namespace: prod}\n";
    let input = format!(
        "{}---\n{}---\n{rbac}",
        deployment("web"),
        deployment("batch")
    );
    let out = palisade_stdin(
        &[
            "policy",
            "test",
            "-p",
            policy.to_str().expect("utf-8"),
            "-",
            "-o",
            "json",
        ],
        &input,
    );
    let report = json(&out);
    let messages: Vec<String> = findings(&report)
        .iter()
        .map(|f| f["message"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(messages.len(), 1, "{report:#}");
    assert!(
        messages[0].starts_with("service account web can list secrets"),
        "{messages:?}"
    );
}

#[test]
fn rbac_risks_on_the_seed_role_and_in_scan_when_enabled() {
    let Some(dir) = shared("seed-examples") else {
        return;
    };
    let rbac = dir.join("01-rbac.yaml");
    let rbac = rbac.to_str().expect("utf-8");
    let out = palisade(&["rbac", "risks", "-f", rbac]);
    assert_eq!(out.status.code(), Some(1), "risks fail at low by default");
    let text = stdout(&out);
    for rule in [
        "rbac-risk/read-secrets",
        "rbac-risk/write-secrets",
        "rbac-risk/pod-exec",
        "rbac-risk/empty-resource-names",
    ] {
        assert!(text.contains(rule), "{rule} missing: {text}");
    }
    // Off by default in scan (the per-manifest rbac/ checks cover the same topics) ...
    let report = json(&palisade(&["scan", rbac, "-o", "json"]));
    assert!(!findings(&report).iter().any(|f| f["rule"]
        .as_str()
        .is_some_and(|r| r.starts_with("rbac-risk/"))));
    // ... and on with --enable.
    let report = json(&palisade(&[
        "scan",
        rbac,
        "-o",
        "json",
        "--enable",
        "rbac-risk/*",
    ]));
    let risk = findings(&report)
        .into_iter()
        .find(|f| f["rule"] == "rbac-risk/empty-resource-names")
        .expect("empty resourceNames reported");
    assert_eq!(risk["location"]["line"], 17, "{risk:#}");
}

#[test]
fn netpol_lint_finds_the_seed_policys_mistakes() {
    let Some(dir) = shared("seed-examples") else {
        return;
    };
    let seed = dir.join("02-networkpolicy.yaml");
    let out = palisade(&["netpol", "lint", seed.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    for rule in [
        "netpol/separate-namespace-and-pod-peers",
        "netpol/egress-blocks-dns",
        "netpol/egress-rule-to-anywhere",
    ] {
        assert!(text.contains(rule), "{rule}: {text}");
    }
    let out = palisade(&["explain", "netpol/egress-blocks-dns"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("## How to fix it"));
}

#[test]
fn scan_runs_the_netpol_lint() {
    let Some(dir) = shared("seed-examples") else {
        return;
    };
    let seed = dir.join("02-networkpolicy.yaml");
    let seed = seed.to_str().expect("utf-8");
    let report = json(&palisade(&["scan", seed, "-o", "json"]));
    for rule in [
        "netpol/separate-namespace-and-pod-peers",
        "netpol/namespace-selector-custom-name-label",
        "netpol/egress-blocks-dns",
        "netpol/egress-rule-to-anywhere",
    ] {
        let found = findings_of(&report, rule);
        assert!(!found.is_empty(), "{rule}: {report}");
        assert!(found
            .iter()
            .all(|f| f["location"]["line"].as_u64().is_some_and(|l| l > 1)));
    }
    let report = json(&palisade(&[
        "scan",
        seed,
        "-o",
        "json",
        "--disable",
        "netpol/egress-*",
    ]));
    assert!(findings_of(&report, "netpol/egress-blocks-dns").is_empty());
    assert!(findings_of(&report, "netpol/egress-rule-to-anywhere").is_empty());
    assert!(!findings_of(&report, "netpol/separate-namespace-and-pod-peers").is_empty());

    // The lint rules that repeat a `network/` check are off unless enabled.
    let input = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: 'web:1.0'}]\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: typo, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: wbe}}\n  policyTypes: [Ingress]\n";
    let report = json(&palisade_stdin(
        &["scan", "-", "-o", "json", "--no-config"],
        input,
    ));
    assert!(findings_of(&report, "netpol/policy-selects-no-workload").is_empty());
    assert!(!findings_of(&report, "network/policy-selects-no-pod").is_empty());
    let report = json(&palisade_stdin(
        &[
            "scan",
            "-",
            "-o",
            "json",
            "--no-config",
            "--enable",
            "netpol/policy-selects-no-workload",
        ],
        input,
    ));
    assert_eq!(
        findings_of(&report, "netpol/policy-selects-no-workload").len(),
        1,
        "{report:#}"
    );
}

#[test]
fn rbac_and_netpol_read_a_live_cluster() {
    use palisade_cluster::testing::FakeApiServer;
    use serde_json::json;
    let server = FakeApiServer::start();
    {
        let mut s = server.state();
        s.add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"kubernetes.io/metadata.name": "shop"}}}));
        s.add(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "exec", "namespace": "shop"},
            "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}]}),
        );
        s.add(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "oncall-exec", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "exec"},
            "subjects": [{"kind": "Group", "name": "oncall", "apiGroup": "rbac.authorization.k8s.io"}]}));
        s.add(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop", "uid": "d1"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": "web:1"}]}}}}));
        s.add(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "deny-all", "namespace": "shop"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = server.kubeconfig(dir.path());
    let kubeconfig = kubeconfig.to_str().expect("utf-8");
    let out = palisade(&[
        "rbac",
        "who-can",
        "create",
        "pods/exec",
        "-n",
        "shop",
        "--kubeconfig",
        kubeconfig,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("oncall"), "{}", stdout(&out));
    let out = palisade(&["netpol", "coverage", "--kubeconfig", kubeconfig]);
    let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("shop"), "{text}");
    assert_ne!(out.status.code(), Some(2), "{text}");
}

#[test]
fn install_detector_manifests_scan_clean_above_low_with_reasoned_exemptions() {
    for extra in [&[][..], &["--audit-rules-configmap", "falco-rules"][..]] {
        let mut args = vec!["install", "detector"];
        args.extend_from_slice(extra);
        let out = palisade(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let manifests = stdout(&out);
        assert!(manifests.contains("kind: DaemonSet") && manifests.contains("hostPID: true"));
        let report = json(&palisade_stdin(
            &["scan", "-", "--fail-on", "medium", "-o", "json"],
            &manifests,
        ));
        assert_eq!(report["summary"]["result"], "pass", "{extra:?}: {report:#}");
        // What the sensor needs is exempted with a reason, not hidden.
        let exempted: Vec<_> = findings(&report)
            .into_iter()
            .filter(|f| f["exempted"] == true)
            .collect();
        assert!(
            exempted
                .iter()
                .any(|f| f["rule"] == "pod/dangerous-capabilities"),
            "{report:#}"
        );
    }
}

#[test]
fn report_completions_man_and_monitoring() {
    let dir = tempfile::tempdir().expect("tempdir");
    let html = dir.path().join("report.html");
    let out = palisade(&[
        "report",
        &repo_path("examples"),
        "--out",
        html.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).expect("report written");
    assert!(
        page.starts_with("<!DOCTYPE html>") || page.starts_with("<!doctype html>"),
        "{}",
        &page[..60.min(page.len())]
    );
    assert!(
        page.contains("pss/privileged"),
        "the findings are in the page"
    );
    // Nothing is loaded from elsewhere (links to documentation are only links).
    assert!(
        !page.contains("<script src") && !page.contains("<link rel=\"stylesheet\""),
        "no network needed"
    );
    assert!(
        page.contains("default-src 'none'"),
        "the page forbids loading anything"
    );

    let out = palisade(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("palisade"));
    let out = palisade(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains(".TH"), "a roff man page");

    let out = palisade(&["install", "monitoring"]);
    assert_eq!(out.status.code(), Some(0));
    let rules = stdout(&out);
    assert!(rules.contains("kind: PrometheusRule") && rules.contains("palisade_violations_total"));
}
