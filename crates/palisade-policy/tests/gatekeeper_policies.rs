//! Gatekeeper templates and constraints against manifests: the mission seed, and
//! match / enforcement / review behaviour.

use palisade_model::{load_text, LoadOptions, Object, Severity};
use palisade_policy::gatekeeper::{PolicySet, Review};

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/seed-examples/04-gatekeeper-required-labels.yaml"
);

fn load(name: &str, text: &str) -> Vec<Object> {
    let loaded = load_text(name, text, &LoadOptions::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.objects
}

fn seed() -> Option<PolicySet> {
    let Ok(text) = std::fs::read_to_string(SEED) else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("seed example missing at {SEED}");
        }
        eprintln!("skipping: seed example not found at {SEED}");
        return None;
    };
    let set = PolicySet::from_objects(&load("seed.yaml", &text));
    assert!(set.verify().is_empty(), "{:?}", set.verify());
    Some(set)
}

const DEPLOYMENTS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: production
  labels: {app: web}
spec: {}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bare
  namespace: production
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: good
  namespace: staging
  labels: {environment: staging, team: a, version: v1}
";

#[test]
fn seed_required_labels() {
    let Some(set) = seed() else { return };
    let objects = load("deploy.yaml", DEPLOYMENTS);
    let evaluation = set.evaluate(&objects, &objects);
    assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
    let mut messages: Vec<(usize, &str)> = evaluation
        .violations
        .iter()
        .map(|v| (v.object, v.message.as_str()))
        .collect();
    messages.sort();
    // One violation per missing label, on the production Deployment only: the one in
    // `default` is not matched, and the one without `metadata.labels` gets none
    // (the seed's Rego leaves `provided` undefined, exactly as Gatekeeper does).
    assert_eq!(
        messages,
        vec![
            (0, "Missing required label: environment"),
            (0, "Missing required label: team"),
            (0, "Missing required label: version"),
        ]
    );
    let findings = evaluation.findings(&objects);
    assert_eq!(findings.len(), 3);
    let f = &findings[0];
    assert_eq!(f.rule, "gatekeeper/K8sRequiredLabels/must-have-environment");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.location.file, "deploy.yaml");
    assert_eq!(f.location.span.start.line, 4, "points at metadata.name");
    // The rule id is interned: the same &'static str every time.
    let again = evaluation.findings(&objects);
    assert!(std::ptr::eq(f.rule, again[0].rule));
}

const TEMPLATE: &str = "\
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sdenyall}
spec:
  crd:
    spec:
      names: {kind: K8sDenyAll}
      validation:
        openAPIV3Schema:
          type: object
          properties:
            why: {type: string}
  targets:
  - target: admission.k8s.gatekeeper.sh
    code:
    - engine: K8sNativeValidation
      source:
        validations:
        - expression: 'false'
          message: denied
    - engine: Rego
      source:
        rego: |
          package k8sdenyall
          import data.lib.helpers.describe
          violation[{\"msg\": msg, \"details\": {\"op\": input.review.operation}}] {
            msg := sprintf(\"denied %v in %v (%v)\", [describe(input.review), object.get(input.review, \"namespace\", \"\"), input.parameters.why])
          }
        libs:
        - |
          package lib.helpers
          describe(review) = s {
            s := sprintf(\"%v/%v\", [review.kind.kind, review.object.metadata.name])
          }
";

fn constraint(spec: &str) -> String {
    format!(
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sDenyAll\nmetadata: {{name: c}}\nspec:\n{spec}"
    )
}

fn run(spec: &str, manifests: &str) -> (PolicySet, palisade_policy::gatekeeper::Evaluation) {
    let mut objects = load("t.yaml", TEMPLATE);
    objects.extend(load("c.yaml", &constraint(spec)));
    let set = PolicySet::from_objects(&objects);
    assert!(set.verify().is_empty(), "{:?}", set.verify());
    let manifests = load("m.yaml", manifests);
    let evaluation = set.evaluate(&manifests, &manifests);
    assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
    (set, evaluation)
}

const PODS: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {tier: gold}}
---
apiVersion: v1
kind: Pod
metadata: {name: p1, namespace: team-a, labels: {app: x}}
---
apiVersion: v1
kind: Pod
metadata: {name: p2, namespace: kube-system}
---
apiVersion: v1
kind: Pod
metadata: {name: p3, namespace: team-b}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cr}
";

fn names(set: &PolicySet, e: &palisade_policy::gatekeeper::Evaluation) -> Vec<String> {
    let _ = set;
    e.violations.iter().map(|v| v.message.clone()).collect()
}

#[test]
fn code_blocks_libs_parameters_and_cel_block() {
    let (set, e) = run(
        "  match:\n    kinds: [{apiGroups: [\"\"], kinds: [Pod]}]\n  parameters: {why: policy}\n",
        PODS,
    );
    assert_eq!(set.templates[0].other_engines.len(), 1);
    // The CEL block is kept for `--engine cel`; with Rego it is no cause for a note.
    assert!(set.templates[0].has_cel());
    assert!(set.notes.is_empty(), "{:?}", set.notes);
    assert_eq!(
        names(&set, &e),
        vec![
            "denied Pod/p1 in team-a (policy)",
            "denied Pod/p2 in kube-system (policy)",
            "denied Pod/p3 in team-b (policy)",
        ]
    );
    assert_eq!(e.violations[0].details["op"], "CREATE");
}

#[test]
fn match_criteria() {
    let spec = |m: &str| format!("  parameters: {{why: w}}\n  match:\n{m}");
    // excludedNamespaces with a prefix glob; cluster-scoped objects pass namespace criteria.
    let (set, e) = run(&spec("    excludedNamespaces: [\"kube-*\"]\n"), PODS);
    let got = names(&set, &e);
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got.iter().any(|m| m.contains("ClusterRole/cr")));
    // A Namespace object is matched by its own name.
    assert!(got.iter().any(|m| m.contains("Namespace/team-a")));
    // scope: Namespaced drops the ClusterRole and the Namespace.
    let (set, e) = run(
        &spec("    scope: Namespaced\n    namespaces: [\"*-a\", team-b]\n"),
        PODS,
    );
    assert_eq!(
        names(&set, &e),
        vec!["denied Pod/p1 in team-a (w)", "denied Pod/p3 in team-b (w)"]
    );
    // labelSelector and name glob.
    let (set, e) = run(
        &spec("    labelSelector: {matchExpressions: [{key: app, operator: Exists}]}\n"),
        PODS,
    );
    assert_eq!(names(&set, &e), vec!["denied Pod/p1 in team-a (w)"]);
    let (set, e) = run(
        &spec("    name: \"p*\"\n    kinds: [{apiGroups: [\"*\"], kinds: [\"*\"]}]\n"),
        PODS,
    );
    assert_eq!(names(&set, &e).len(), 3);
    // namespaceSelector: team-a is known; kube-system and team-b are not (notes, no match).
    let (set, e) = run(
        &spec("    kinds: [{apiGroups: [\"\"], kinds: [Pod]}]\n    namespaceSelector: {matchLabels: {tier: gold}}\n"),
        PODS,
    );
    assert_eq!(names(&set, &e), vec!["denied Pod/p1 in team-a (w)"]);
    assert_eq!(e.notes.len(), 2, "{:?}", e.notes);
    assert!(e.notes[0].message.contains("namespaceSelector"));
}

#[test]
fn enforcement_actions() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\n";
    let objects = load("m.yaml", pod);
    let (_, e) = run("  enforcementAction: dryrun\n  parameters: {why: w}\n", pod);
    assert_eq!(e.findings(&objects)[0].severity, Severity::Info);
    let (_, e) = run("  enforcementAction: warn\n  parameters: {why: w}\n", pod);
    assert_eq!(e.findings(&objects)[0].severity, Severity::Medium);
    // Scoped to the webhook only: evaluated, but no finding for an offline audit.
    let (_, e) = run(
        "  enforcementAction: scoped\n  scopedEnforcementActions:\n  - action: deny\n    enforcementPoints: [{name: validation.gatekeeper.sh}]\n  parameters: {why: w}\n",
        pod,
    );
    assert_eq!(e.violations.len(), 1);
    assert!(e.findings(&objects).is_empty());
    let (_, e) = run(
        "  enforcementAction: scoped\n  scopedEnforcementActions:\n  - action: warn\n    enforcementPoints: [{name: \"*\"}]\n  parameters: {why: w}\n",
        pod,
    );
    assert_eq!(e.findings(&objects)[0].severity, Severity::Medium);
}

#[test]
fn admission_review_delete_reviews_the_old_object() {
    let review = "\
apiVersion: admission.k8s.io/v1
kind: AdmissionReview
request:
  operation: DELETE
  oldObject:
    apiVersion: v1
    kind: Pod
    metadata: {name: gone, namespace: a}
";
    let objects = load("r.yaml", review);
    let r = Review::of(&objects[0]).unwrap();
    assert_eq!(r.json["object"]["metadata"]["name"], "gone");
    assert_eq!(r.json["kind"]["kind"], "Pod");
    assert_eq!(r.kind, "Pod");
}

#[test]
fn bad_policies_are_reported_not_panics() {
    let bad = "\
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: broken}
spec:
  crd: {spec: {names: {kind: Broken}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package broken
      violation[{\"msg\": msg}] {
        msg := 
      }
---
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: noviolation}
spec:
  crd: {spec: {names: {kind: NoViolation}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package noviolation
      deny { true }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: Unknown
metadata: {name: orphan}
spec: {enforcementAction: explode}
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: Unknown2
metadata: {name: orphan2}
";
    let set = PolicySet::from_objects(&load("bad.yaml", bad));
    let issues = set.verify();
    let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
    assert_eq!(issues.len(), 4, "{text:#?}");
    assert!(text[0].contains("does not compile"), "{}", text[0]);
    assert!(text[1].contains("no `violation` rule"), "{}", text[1]);
    assert!(text[2].contains("enforcementAction"), "{}", text[2]);
    assert!(
        text[3].contains("no ConstraintTemplate defines kind Unknown2"),
        "{}",
        text[3]
    );
}

#[test]
fn parameters_are_checked_against_the_schema() {
    let Ok(text) = std::fs::read_to_string(SEED) else {
        return;
    };
    let bad = "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\nmetadata: {name: typo}\nspec:\n  parameters:\n    labels: environment\n";
    // The seed puts its schema directly under `validation`, where Gatekeeper
    // prunes it: like Gatekeeper, nothing checks the parameters.
    let mut objects = load("seed.yaml", &text);
    objects.extend(load("bad.yaml", bad));
    let set = PolicySet::from_objects(&objects);
    assert!(set.verify().is_empty(), "{:?}", set.verify());
    // With the schema where Gatekeeper reads it, the typo is caught.
    let fixed = text.replace(
        "      validation:\n        type: object\n        properties:\n          labels:\n            type: array\n            items:\n              type: string\n",
        "      validation:\n        openAPIV3Schema:\n          type: object\n          properties:\n            labels:\n              type: array\n              items:\n                type: string\n",
    );
    assert_ne!(fixed, text, "the seed's schema block was found");
    let mut objects = load("seed.yaml", &fixed);
    objects.extend(load("bad.yaml", bad));
    let set = PolicySet::from_objects(&objects);
    let issues = set.verify();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert!(
        issues[0]
            .message
            .contains("spec.parameters.labels: expected array, found string"),
        "{}",
        issues[0]
    );
    assert_eq!(issues[0].span.start.line, 6, "at spec.parameters");
}

#[test]
fn defaulted_namespace_is_in_the_reviewed_object() {
    let loaded = load_text(
        "p.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
        &LoadOptions {
            default_namespace: Some("prod".into()),
        },
    );
    let r = Review::of(&loaded.objects[0]).unwrap();
    assert_eq!(r.json["namespace"], "prod");
    assert_eq!(r.json["operation"], "CREATE");
    assert_eq!(
        r.json["resource"],
        serde_json::json!({"group": "", "version": "v1", "resource": "pods"})
    );
    assert_eq!(r.json["kind"]["kind"], "Pod");
    assert_eq!(r.json["object"]["metadata"]["namespace"], "prod");
}
