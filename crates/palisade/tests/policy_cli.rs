//! `palisade policy verify|test` and `scan --policies` as users run them: the
//! seed's template (behaviour and lint), template code that fails at run time,
//! gator's `invalid` tests and VAP audit annotations.

use std::path::{Path, PathBuf};

mod common;
use common::{json, palisade_stdin as palisade, shared};

/// The seed's Gatekeeper example, or `None` when `../shared` is missing outside CI.
fn seed() -> Option<PathBuf> {
    shared("seed-examples/04-gatekeeper-required-labels.yaml")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).expect("write");
    p
}

fn gatekeeper_messages(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
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
}

/// The seed's behaviour as Gatekeeper has it, and the lint that warns about
/// its Rego: a Deployment without any `metadata.labels` passes it.
#[test]
fn seed_template_fails_open_and_the_lint_says_so() {
    let Some(seed) = seed() else { return };
    let manifests = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: partial, namespace: production, labels: {team: a}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: unlabelled, namespace: production}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: elsewhere, namespace: default, labels: {team: a}}
";
    let out = palisade(
        &["policy", "test", "-p", path(&seed), "-", "-o", "json"],
        manifests,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        gatekeeper_messages(&json(&out)),
        [
            "partial Missing required label: environment",
            "partial Missing required label: version"
        ]
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("warning: ") && stderr.contains("(policy/rego-fails-open)"),
        "{stderr}"
    );

    // `policy verify` on a directory of policies: valid, with the lint's warning
    // at the `provided := ...` line of the seed (line 25).
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&seed, dir.path().join("seed.yaml")).expect("copy");
    let out = palisade(&["policy", "verify", path(dir.path())], "");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("seed.yaml:25:") && stdout.contains("policy/rego-fails-open"),
        "{stdout}"
    );

    // `scan` finds the same pattern as a finding on the template.
    let out = palisade(&["scan", path(&seed), "-o", "json", "--no-config"], "");
    let report = json(&out);
    assert!(
        report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["rule"] == "policy/rego-fails-open"
                && f["object"]["kind"] == "ConstraintTemplate"),
        "{report:#}"
    );
}

const CONFLICT_TEMPLATE: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8simages}
spec:
  crd: {spec: {names: {kind: K8sImages}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8simages
      image_of[name] := image {
        c := input.review.object.spec.containers[_]
        name := c.name
        image := c.image
      }
      violation[{"msg": msg}] {
        image := image_of[name]
        endswith(image, ":latest")
        msg := sprintf("container %v uses a latest tag", [name])
      }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sImages
metadata: {name: no-latest}
spec:
  enforcementAction: warn
"#;

/// A Rego runtime error (rules conflicting on duplicate container names) is,
/// as in Gatekeeper's audit, a violation of the constraint on that object: a
/// finding with the constraint's severity, not an input error (exit 2).
#[test]
fn rego_runtime_errors_are_findings_not_input_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policies = write(dir.path(), "policies.yaml", CONFLICT_TEMPLATE);
    let pods = "\
apiVersion: v1
kind: Pod
metadata: {name: twins, namespace: a}
spec:
  containers:
  - {name: app, image: 'x:latest'}
  - {name: app, image: 'y:1'}
---
apiVersion: v1
kind: Pod
metadata: {name: fine, namespace: a}
spec:
  containers:
  - {name: app, image: 'x:1'}
";
    for args in [
        vec!["policy", "test", "-p", path(&policies), "-", "-o", "json"],
        vec![
            "scan",
            "-",
            "--policies",
            path(&policies),
            "-o",
            "json",
            "--no-config",
        ],
    ] {
        let out = palisade(&args, pods);
        let report = json(&out);
        let found: Vec<&serde_json::Value> = report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["rule"] == "gatekeeper/K8sImages/no-latest")
            .collect();
        assert_eq!(found.len(), 1, "{args:?}: {report:#}");
        assert_eq!(found[0]["object"]["name"], "twins");
        assert_eq!(found[0]["severity"], "medium", "enforcementAction: warn");
        assert!(
            found[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("the template's code failed on this object")),
            "{:#}",
            found[0]
        );
        assert_ne!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

/// gator's `invalid: true`: the test passes when the constraint fails the
/// template's schema (here: an unknown parameter in a v1 template).
#[test]
fn verify_runs_invalid_tests_as_gator() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "template.yaml",
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8sx}\nspec:\n  crd:\n    spec:\n      names: {kind: K8sX}\n      validation:\n        openAPIV3Schema:\n          type: object\n          properties:\n            labels: {type: array, items: {type: string}}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: |\n      package k8sx\n      violation[{\"msg\": \"x\"}] { false }\n",
    );
    write(
        dir.path(),
        "typo.yaml",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sX\nmetadata: {name: typo}\nspec:\n  parameters: {label: [a]}\n",
    );
    let suite = write(
        dir.path(),
        "suite.yaml",
        "kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\nmetadata: {name: s}\ntests:\n- name: typo-is-rejected\n  template: template.yaml\n  constraint: typo.yaml\n  invalid: true\n",
    );
    let out = palisade(&["policy", "verify", path(&suite)], "");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.trim_end().ends_with("PASS"), "{stdout}");
    // Without `invalid`, the same test fails with the schema error.
    std::fs::write(
        &suite,
        std::fs::read_to_string(&suite).expect("read").replace(
            "  invalid: true\n",
            "  cases:\n  - {name: c, object: typo.yaml, assertions: [{violations: no}]}\n",
        ),
    )
    .expect("write");
    let out = palisade(&["policy", "verify", path(&suite)], "");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("unknown fields: spec.parameters.label"),
        "{stdout}"
    );
}

/// `auditAnnotations` values reach the report as informational findings.
#[test]
fn vap_audit_annotations_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policies = write(
        dir.path(),
        "vap.yaml",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: replicas}\nspec:\n  matchConstraints:\n    resourceRules:\n    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}\n  validations:\n  - expression: 'true'\n  auditAnnotations:\n  - key: count\n    valueExpression: \"'replicas=' + string(object.spec.replicas)\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: replicas}\nspec: {policyName: replicas, validationActions: [Audit]}\n",
    );
    let out = palisade(
        &["policy", "test", "-p", path(&policies), "-", "-o", "json"],
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec: {replicas: 4}\n",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "informational only: {}",
        text(&out.stderr)
    );
    let report = json(&out);
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "vap/replicas")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert_eq!(
        messages,
        ["audit annotation replicas/count: replicas=4 (binding replicas)"]
    );
}
