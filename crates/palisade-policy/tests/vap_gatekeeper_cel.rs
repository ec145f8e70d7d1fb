//! Gatekeeper's `K8sNativeValidation` (CEL) engine blocks of the
//! gatekeeper-library, run on their suites' samples.

use std::path::{Path, PathBuf};

use palisade_model::{load_text, LoadOptions};
use palisade_policy::vap::{evaluate_gatekeeper_cel, GatekeeperCel};
use serde_json::{json, Value as J};

const LIBRARY: &str = "/work/shared/conformance/gatekeeper-library/library";

fn docs(path: &Path) -> Vec<J> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let loaded = load_text(&path.to_string_lossy(), text, &LoadOptions::default());
    loaded.objects.iter().map(|o| o.root.to_json()).collect()
}

fn cel_source(template: &J) -> Option<J> {
    template
        .pointer("/spec/targets/0/code")?
        .as_array()?
        .iter()
        .find(|c| c.get("engine").and_then(J::as_str) == Some("K8sNativeValidation"))?
        .get("source")
        .cloned()
}

fn kind_matches(constraint: &J, object: &J) -> bool {
    let Some(kinds) = constraint
        .pointer("/spec/match/kinds")
        .and_then(J::as_array)
    else {
        return true;
    };
    let kind = object.get("kind").and_then(J::as_str).unwrap_or("");
    let group = object
        .get("apiVersion")
        .and_then(J::as_str)
        .and_then(|v| v.rsplit_once('/'))
        .map_or("", |(g, _)| g);
    kinds.iter().any(|k| {
        let in_list = |key: &str, value: &str| {
            k.get(key).and_then(J::as_array).is_some_and(|a| {
                a.iter()
                    .any(|x| x.as_str() == Some(value) || x.as_str() == Some("*"))
            })
        };
        in_list("kinds", kind) && in_list("apiGroups", group)
    })
}

fn templates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(LIBRARY)];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "template.yaml")
                && std::fs::read_to_string(&p).is_ok_and(|t| t.contains("K8sNativeValidation"))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn library_cel_templates_agree_with_their_suites() {
    let templates = templates();
    if templates.is_empty() {
        eprintln!("gatekeeper-library not found under {LIBRARY}; skipped");
        return;
    }
    let (mut agree, mut total, mut errors, mut violating) = (0, 0, 0, 0);
    let mut disagreements = Vec::new();
    for template_path in &templates {
        let dir = template_path.parent().unwrap_or(Path::new("."));
        let Some(template) = docs(template_path).into_iter().next() else {
            continue;
        };
        let Some(source) = cel_source(&template) else {
            continue;
        };
        let compiled = match GatekeeperCel::compile(&source) {
            Ok(c) => c,
            Err(e) => {
                disagreements.push(format!("{}: compile: {e}", template_path.display()));
                continue;
            }
        };
        let Some(suite) = docs(&dir.join("suite.yaml")).into_iter().next() else {
            continue;
        };
        for test in suite
            .get("tests")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
        {
            let Some(constraint_file) = test.get("constraint").and_then(J::as_str) else {
                continue;
            };
            let Some(constraint) = docs(&dir.join(constraint_file)).into_iter().next() else {
                continue;
            };
            let params = constraint
                .pointer("/spec/parameters")
                .cloned()
                .unwrap_or_else(|| json!({}));
            for case in test
                .get("cases")
                .and_then(J::as_array)
                .into_iter()
                .flatten()
            {
                let Some(object_file) = case.get("object").and_then(J::as_str) else {
                    continue;
                };
                let Some(doc) = docs(&dir.join(object_file)).into_iter().next() else {
                    continue;
                };
                let (object, old, operation) =
                    if doc.get("kind").and_then(J::as_str) == Some("AdmissionReview") {
                        let req = doc.get("request").cloned().unwrap_or(J::Null);
                        (
                            req.get("object").cloned().unwrap_or(J::Null),
                            req.get("oldObject").cloned(),
                            req.get("operation")
                                .and_then(J::as_str)
                                .unwrap_or("CREATE")
                                .to_string(),
                        )
                    } else {
                        (doc.clone(), None, "CREATE".to_string())
                    };
                let expected = case
                    .get("assertions")
                    .and_then(J::as_array)
                    .and_then(|a| a.first())
                    .and_then(|a| a.get("violations"))
                    .cloned()
                    .unwrap_or(J::Null);
                let any = if object.is_null() {
                    old.clone().unwrap_or(J::Null)
                } else {
                    object.clone()
                };
                let result = if kind_matches(&constraint, &any) {
                    compiled.evaluate(&object, old.as_ref(), &params, &operation)
                } else {
                    Ok(Vec::new())
                };
                total += 1;
                if result.as_ref().is_ok_and(|m| !m.is_empty()) {
                    violating += 1;
                }
                let count = match &result {
                    Ok(m) => m.len(),
                    Err(_) => {
                        errors += 1;
                        usize::MAX
                    }
                };
                let ok = match &expected {
                    J::Bool(true) => count != usize::MAX && count > 0,
                    J::Bool(false) => count == 0,
                    J::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()) == Some(count),
                    _ => true,
                };
                if ok {
                    agree += 1;
                } else {
                    disagreements.push(format!(
                        "{} {}: expected {expected}, got {result:?}",
                        template_path.display(),
                        object_file
                    ));
                }
            }
        }
    }
    eprintln!(
        "K8sNativeValidation templates: {}; cases agreeing with the suites: {agree}/{total} ({violating} with violations, {errors} errors)",
        templates.len()
    );
    for d in &disagreements {
        eprintln!("  disagreement: {d}");
    }
    assert_eq!(templates.len(), 16);
    assert!(total > 0);
    assert!(
        violating * 3 >= total,
        "{violating}/{total} violating: the samples are not being evaluated"
    );
    // Keep the agreement from regressing; the report lists the gaps.
    assert!(agree * 10 >= total * 9, "{agree}/{total}");
}

#[test]
fn one_shot_helper() {
    let source = json!({
        "variables": [{"name": "required", "expression": "variables.params.labels"}],
        "validations": [{
            "expression": "variables.required.all(l, has(object.metadata.labels) && l in object.metadata.labels)",
            "messageExpression": "'missing labels: ' + variables.required.filter(l, !has(object.metadata.labels) || !(l in object.metadata.labels)).join(', ')"
        }]
    });
    let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "labels": {"a": "1"}}});
    let got = evaluate_gatekeeper_cel(
        &source,
        &object,
        None,
        &json!({"labels": ["a", "owner"]}),
        "CREATE",
    );
    assert_eq!(got, Ok(vec!["missing labels: owner".to_string()]));
    let got = evaluate_gatekeeper_cel(&source, &object, None, &json!({"labels": ["a"]}), "CREATE");
    assert_eq!(got, Ok(vec![]));
    assert!(evaluate_gatekeeper_cel(
        &json!({"validations": [{"expression": "1 +"}]}),
        &object,
        None,
        &json!({}),
        "CREATE"
    )
    .is_err());
}
