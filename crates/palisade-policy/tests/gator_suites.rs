//! gator `Suite` features the Gatekeeper library does not exercise, each
//! checked against what `gator verify` does with it: `violations: N`, `message`
//! regular expressions, `inventory`, `invalid: true`, `skip`, malformed cases,
//! and template code that fails at run time (a violation carrying the error,
//! as Gatekeeper's drivers report it).

use std::path::{Path, PathBuf};

use palisade_policy::gatekeeper::{run_suite, run_suite_with, Engine, SuiteResult};

/// A fresh directory under the system's temporary directory.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("palisade-gator-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A v1 template: one violation per container without `resources.limits`,
/// and one per name in `parameters.forbidden` found among the inventory's
/// ConfigMaps of the object's namespace.
const TEMPLATE: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8slimits}
spec:
  crd:
    spec:
      names: {kind: K8sLimits}
      validation:
        openAPIV3Schema:
          type: object
          properties:
            forbidden: {type: array, items: {type: string}}
            mode: {type: string, default: strict}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8slimits
      violation[{"msg": msg}] {
        c := input.review.object.spec.containers[_]
        not c.resources.limits
        msg := sprintf("container <%v> has no limits (%v)", [c.name, input.parameters.mode])
      }
      violation[{"msg": msg}] {
        ns := input.review.object.metadata.namespace
        cm := data.inventory.namespace[ns]["v1"]["ConfigMap"][name]
        name == input.parameters.forbidden[_]
        msg := sprintf("forbidden ConfigMap %v exists", [name])
      }
"#;

const CONSTRAINT: &str = "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sLimits\nmetadata: {name: limits}\nspec:\n  parameters: {forbidden: [legacy]}\n";

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers:\n  - {name: one, image: x}\n  - {name: two, image: x}\n  - {name: three, image: x, resources: {limits: {cpu: '1'}}}\n";

const INVENTORY: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: legacy, namespace: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: a}\n";

fn suite(tests: &str) -> String {
    format!("kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\nmetadata: {{name: s}}\ntests:\n{tests}")
}

fn scratch_with_policies(name: &str) -> Scratch {
    let dir = Scratch::new(name);
    dir.write("template.yaml", TEMPLATE);
    dir.write("constraint.yaml", CONSTRAINT);
    dir.write("pod.yaml", POD);
    dir.write("inventory.yaml", INVENTORY);
    dir
}

/// (case name, passed, reason) of every case.
fn cases(result: &SuiteResult) -> Vec<(String, bool, String)> {
    assert!(result.error.is_none(), "{:?}", result.error);
    result
        .tests
        .iter()
        .flat_map(|t| &t.cases)
        .map(|c| {
            (
                c.name.clone(),
                c.passed,
                c.reason.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn run(dir: &Scratch, tests: &str) -> SuiteResult {
    run_suite(&dir.write("suite.yaml", &suite(tests)))
}

#[test]
fn violation_counts_message_regexes_and_inventory() {
    let dir = scratch_with_policies("counts");
    let result = run(
        &dir,
        r#"- name: t
  template: template.yaml
  constraint: constraint.yaml
  cases:
  - name: exactly-two-without-limits
    object: pod.yaml
    assertions:
    - violations: 2
    - violations: 1
      message: "<one>"
    - violations: 2
      message: ^container <(one|two)> .*\(strict\)$
    - violations: no
      message: forbidden
  - name: inventory-adds-one
    object: pod.yaml
    inventory: [inventory.yaml]
    assertions:
    - violations: 3
    - violations: yes
      message: forbidden ConfigMap legacy
  - name: wrong-count-fails
    object: pod.yaml
    assertions:
    - violations: 3
  - name: bad-regex-fails
    object: pod.yaml
    assertions:
    - message: "("
"#,
    );
    let got = cases(&result);
    assert!(got[0].1, "{got:?}");
    assert!(got[1].1, "{got:?}");
    assert!(
        !got[2].1 && got[2].2.contains("expected 3 violation(s), got 2"),
        "{got:?}"
    );
    assert!(
        !got[3].1 && got[3].2.contains("invalid message regex"),
        "{got:?}"
    );
    // The parameters schema's default reached the Rego: `(strict)` in the message.
    assert_eq!(result.counts(), (2, 4));
    assert!(!result.passed());
}

#[test]
fn malformed_cases_and_assertions_fail_as_gator_says() {
    let dir = scratch_with_policies("malformed");
    dir.write("two.yaml", &format!("{POD}---\n{POD}"));
    let result = run(
        &dir,
        r#"- name: t
  template: template.yaml
  constraint: constraint.yaml
  cases:
  - name: no-assertions
    object: pod.yaml
  - name: two-objects
    object: two.yaml
    assertions: [{violations: yes}]
  - name: quoted-number
    object: pod.yaml
    assertions: [{violations: "2"}]
  - name: negative
    object: pod.yaml
    assertions: [{violations: -1}]
  - name: skipped
    skip: true
    object: missing.yaml
    assertions: [{violations: 9}]
"#,
    );
    let got = cases(&result);
    assert!(got[0].2.contains("assertions must be non-empty"), "{got:?}");
    assert!(got[1].2.contains("defines 2 objects"), "{got:?}");
    assert!(got[2].2.contains("invalid `violations"), "{got:?}");
    assert!(got[3].2.contains("invalid `violations"), "{got:?}");
    assert!(got[4].1, "a skipped case passes: {got:?}");
    assert_eq!(result.counts(), (1, 5));
}

#[test]
fn invalid_tests_pass_only_when_the_constraint_fails_the_schema() {
    let dir = scratch_with_policies("invalid");
    dir.write(
        "bad-type.yaml",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sLimits\nmetadata: {name: bad}\nspec:\n  parameters: {forbidden: legacy}\n",
    );
    dir.write(
        "unknown-field.yaml",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sLimits\nmetadata: {name: bad}\nspec:\n  parameters: {forbiden: [legacy]}\n",
    );
    let result = run(
        &dir,
        r#"- name: wrong-type
  template: template.yaml
  constraint: bad-type.yaml
  invalid: true
- name: unknown-field
  template: template.yaml
  constraint: unknown-field.yaml
  invalid: true
- name: valid-but-marked-invalid
  template: template.yaml
  constraint: constraint.yaml
  invalid: true
"#,
    );
    assert!(
        result.tests[0].error.is_none(),
        "{:?}",
        result.tests[0].error
    );
    assert!(
        result.tests[1].error.is_none(),
        "{:?}",
        result.tests[1].error
    );
    let error = result.tests[2].error.as_deref().unwrap_or("");
    assert!(error.contains("invalid: true"), "{error}");
    assert!(!result.passed());
    // The same constraints, used as ordinary tests, fail with the schema error.
    let result = run(
        &dir,
        "- name: t\n  template: template.yaml\n  constraint: unknown-field.yaml\n  cases:\n  - {name: c, object: pod.yaml, assertions: [{violations: 2}]}\n",
    );
    let error = result.tests[0].error.as_deref().unwrap_or("");
    assert!(
        error.contains("unknown fields: spec.parameters.forbiden"),
        "{error}"
    );
}

#[test]
fn skipped_suites_and_expansion_tests() {
    let dir = scratch_with_policies("skip");
    let path = dir.write(
        "suite.yaml",
        &suite("- name: t\n  template: template.yaml\n  constraint: constraint.yaml\n  cases:\n  - {name: c, object: pod.yaml, assertions: [{violations: 9}]}\n")
            .replace("tests:\n", "skip: true\ntests:\n"),
    );
    let result = run_suite(&path);
    assert!(result.tests.iter().all(|t| t.skipped), "{:?}", result.tests);
    assert!(result.passed());
    let result = run(
        &dir,
        "- name: t\n  template: template.yaml\n  constraint: constraint.yaml\n  expansion: expansion.yaml\n  cases:\n  - {name: c, object: pod.yaml, assertions: [{violations: 2}]}\n",
    );
    let error = result.tests[0].error.as_deref().unwrap_or("");
    assert!(error.contains("expansion templates"), "{error}");
}

/// Gatekeeper's Rego driver turns an evaluation error into a violation of each
/// matched constraint of the template, with the error as its message; so do we.
#[test]
fn rego_runtime_errors_are_violations_carrying_the_error() {
    let dir = Scratch::new("conflict");
    dir.write(
        "template.yaml",
        r#"apiVersion: templates.gatekeeper.sh/v1
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
"#,
    );
    dir.write("constraint.yaml", "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sImages\nmetadata: {name: no-latest}\n");
    dir.write(
        "duplicate.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers:\n  - {name: app, image: 'x:latest'}\n  - {name: app, image: 'y:1'}\n",
    );
    dir.write(
        "fine.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers:\n  - {name: app, image: 'x:latest'}\n  - {name: side, image: 'y:1'}\n",
    );
    let result = run(
        &dir,
        r#"- name: t
  template: template.yaml
  constraint: constraint.yaml
  cases:
  - name: duplicate-names-conflict
    object: duplicate.yaml
    assertions:
    - violations: 1
    - violations: 0
      message: latest tag
  - name: distinct-names
    object: fine.yaml
    assertions:
    - violations: 1
      message: container app uses a latest tag
"#,
    );
    let got = cases(&result);
    assert!(got.iter().all(|c| c.1), "{got:?}");

    // In a scan the violation is a finding that says the code failed.
    use palisade_model::{load_text, LoadOptions};
    let policies: Vec<_> = ["template.yaml", "constraint.yaml"]
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(dir.0.join(f)).expect("read");
            load_text(f, text, &LoadOptions::default()).objects
        })
        .collect();
    let set = palisade_policy::gatekeeper::PolicySet::from_objects(&policies);
    let text = std::fs::read_to_string(dir.0.join("duplicate.yaml")).expect("read");
    let objects = load_text("duplicate.yaml", text, &LoadOptions::default()).objects;
    let evaluation = set.evaluate(&objects, &objects);
    assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
    assert_eq!(evaluation.violations.len(), 1);
    assert!(evaluation.violations[0].evaluation_error);
    let findings = evaluation.findings(&objects);
    assert!(
        findings[0]
            .message
            .starts_with("the template's code failed on this object"),
        "{}",
        findings[0].message
    );
    assert_eq!(findings[0].severity, palisade_model::Severity::High);
}

/// Gatekeeper's CEL driver denies with the error when an expression fails
/// (`failurePolicy: Fail`); the other validations still give their violations.
#[test]
fn cel_expression_errors_are_violations_carrying_the_error() {
    let dir = Scratch::new("cel-error");
    dir.write(
        "template.yaml",
        r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sreplicas}
spec:
  crd: {spec: {names: {kind: K8sReplicas}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    code:
    - engine: K8sNativeValidation
      source:
        validations:
        - expression: object.spec.replicas <= 3
          message: too many replicas
        - expression: has(object.metadata.labels)
          message: no labels
"#,
    );
    dir.write(
        "constraint.yaml",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sReplicas\nmetadata: {name: few}\n",
    );
    dir.write(
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: a}\nspec: {}\n",
    );
    let path = dir.write(
        "suite.yaml",
        &suite(
            r#"- name: t
  template: template.yaml
  constraint: constraint.yaml
  cases:
  - name: missing-replicas
    object: deploy.yaml
    assertions:
    - violations: 2
    - violations: 1
      message: "^expression 'object.spec.replicas <= 3' resulted in error: "
    - violations: 1
      message: ^no labels$
"#,
        ),
    );
    let got = cases(&run_suite_with(&path, Engine::Cel));
    assert!(got.iter().all(|c| c.1), "{got:?}");
}

#[test]
fn suites_that_do_not_exist_are_errors() {
    let result = run_suite(Path::new("/nonexistent/suite.yaml"));
    assert!(result.error.is_some());
}
