//! The admission webhook runs templates on regorus's bytecode VM for speed.
//! It must answer exactly as the interpreter (the reference, which passes
//! every suite of the Gatekeeper library): every case object of every suite is
//! judged by both, and the violations must be the same.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use palisade_model::{load_text, LoadOptions, Node, Object};
use palisade_policy::gatekeeper::{
    find_suites, AdmissionEvaluator, Constraint, ConstraintTemplate, Inventory, PolicySet,
    RequestNamespace, RequestOutcome, Review,
};

const LIBRARY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/gatekeeper-library/library"
);

fn read_objects(path: &Path) -> Vec<Object> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    load_text(&path.display().to_string(), text, &LoadOptions::default()).objects
}

fn text<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.get(key).and_then(Node::as_str)
}

fn messages(outcome: &RequestOutcome) -> Vec<String> {
    let mut out: Vec<String> = outcome
        .violations
        .iter()
        .map(|v| format!("{} {}", v.message, v.details))
        .collect();
    out.sort();
    out
}

#[test]
fn the_vm_answers_as_the_interpreter_on_every_library_case() {
    let root = Path::new(LIBRARY);
    if !root.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "conformance data missing at {LIBRARY}"
        );
        eprintln!("skipping: Gatekeeper library not found at {LIBRARY}");
        return;
    }
    let mut templates: HashMap<PathBuf, Option<ConstraintTemplate>> = HashMap::new();
    let (mut evaluations, mut on_vm) = (0, 0);
    let mut differences = Vec::new();
    for suite_path in find_suites(root) {
        let dir = suite_path.parent().expect("suite dir").to_path_buf();
        let suite_objects = read_objects(&suite_path);
        let Some(suite) = suite_objects.iter().find(|o| o.id.kind == "Suite") else {
            continue;
        };
        for test in suite.root.get("tests").map(Node::items).unwrap_or(&[]) {
            let (Some(template_file), Some(constraint_file)) =
                (text(test, "template"), text(test, "constraint"))
            else {
                continue;
            };
            let template = templates
                .entry(dir.join(template_file))
                .or_insert_with_key(|path| {
                    let object = read_objects(path).into_iter().next()?;
                    ConstraintTemplate::from_object(&object).ok()
                })
                .clone();
            let Some(template) = template else { continue };
            let Some(constraint) = read_objects(&dir.join(constraint_file))
                .into_iter()
                .next()
                .and_then(|o| Constraint::from_object(&o).ok())
            else {
                continue;
            };
            // The webhook reuses VMs across requests: every case's VM first
            // judges the previous case's object, so state left over from one
            // request would show as a difference on the next.
            let mut previous: Option<Review> = None;
            for case in test.get("cases").map(Node::items).unwrap_or(&[]) {
                let Some(object_file) = text(case, "object") else {
                    continue;
                };
                let objects = read_objects(&dir.join(object_file));
                let mut inventory = Vec::new();
                for rel in case.get("inventory").map(Node::items).unwrap_or(&[]) {
                    if let Some(rel) = rel.as_str() {
                        inventory.extend(read_objects(&dir.join(rel)));
                    }
                }
                let inv = Inventory::of(&inventory);
                let namespaces = Inventory::of(objects.iter().filter(|o| o.id.kind == "Namespace"));
                let set = PolicySet {
                    templates: vec![template.clone()],
                    constraints: vec![constraint.clone()],
                    ..PolicySet::default()
                };
                let vm = AdmissionEvaluator::new(set.clone(), &inv.json);
                let interpreter = AdmissionEvaluator::interpreted(set, &inv.json);
                on_vm += vm.vm_templates();
                for object in &objects {
                    let Ok(review) = Review::of(object) else {
                        continue;
                    };
                    let ns = inv
                        .namespace(&review.namespace)
                        .or_else(|| namespaces.namespace(&review.namespace))
                        .map(|(json, labels)| RequestNamespace { json, labels });
                    let a = interpreter.evaluate(&review, ns, None);
                    if let Some(previous) = &previous {
                        vm.evaluate(previous, None, None);
                    }
                    let b = vm.evaluate(&review, ns, None);
                    previous = Some(review.clone());
                    evaluations += a.evaluated;
                    if messages(&a) != messages(&b) || a.errors.len() != b.errors.len() {
                        differences.push(format!(
                            "{} / {} / {}: interpreter {:?} {:?}, VM {:?} {:?}",
                            template.kind,
                            text(test, "name").unwrap_or(""),
                            text(case, "name").unwrap_or(""),
                            messages(&a),
                            a.errors,
                            messages(&b),
                            b.errors
                        ));
                    }
                }
            }
        }
    }
    assert!(
        evaluations > 200,
        "only {evaluations} evaluations: suites not read?"
    );
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
    let compiled = templates
        .values()
        .flatten()
        .filter(|t| t.has_rego())
        .count();
    assert!(on_vm > 0, "no template ran on the VM");
    eprintln!("{evaluations} evaluations agree; {compiled} templates");
}

#[test]
fn the_seed_template_keeps_undefined_labels_undefined_on_the_vm() {
    // `provided := input.review.object.metadata.labels` with no labels: the
    // interpreter (and OPA) drop the body; the VM must too.
    let policies = "apiVersion: templates.gatekeeper.sh/v1beta1\nkind: ConstraintTemplate\nmetadata: {name: k8srequiredlabels}\nspec:\n  crd:\n    spec:\n      names: {kind: K8sRequiredLabels}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: |\n      package k8srequiredlabels\n      violation[{\"msg\": msg}] {\n        required := input.parameters.labels\n        provided := input.review.object.metadata.labels\n        missing := required[_]\n        not provided[missing]\n        msg := sprintf(\"Missing required label: %v\", [missing])\n      }\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\nmetadata: {name: must-have}\nspec:\n  parameters: {labels: [team]}\n";
    let loaded = load_text("p.yaml", policies.to_string(), &LoadOptions::default());
    let set = PolicySet::from_objects(&loaded.objects);
    let vm = AdmissionEvaluator::new(set, &Inventory::of([]).json);
    assert_eq!(vm.vm_templates(), 1);
    let review = |labels: &str| {
        let text = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: x\n{labels}"
        );
        let objects = load_text("d.yaml", text, &LoadOptions::default()).objects;
        Review::of(&objects[0]).expect("review")
    };
    assert!(vm.evaluate(&review(""), None, None).violations.is_empty());
    let outcome = vm.evaluate(&review("  labels: {app: web}\n"), None, None);
    assert_eq!(messages(&outcome), ["Missing required label: team null"]);
}
