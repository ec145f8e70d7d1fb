//! Every mission example in `../shared/seed-examples/` loads without an input error.

use std::path::PathBuf;

use palisade_model::{load_inputs, Input, LoadOptions};

fn shared(rel: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")).join(rel);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is missing; CI needs the shared data",
        dir.display()
    );
    eprintln!("skipping: {} not found", dir.display());
    None
}

#[test]
fn every_seed_manifest_loads_cleanly() {
    let Some(dir) = shared("seed-examples") else {
        return;
    };
    let loaded = load_inputs(&[Input::Path(dir)], &LoadOptions::default());
    assert!(
        loaded.errors.is_empty(),
        "{:#?}",
        loaded
            .errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    let foreign: Vec<_> = loaded.foreign.iter().map(|d| d.format).collect();
    assert_eq!(
        foreign,
        [
            palisade_model::ForeignFormat::FalcoRules,
            palisade_model::ForeignFormat::PrometheusRules
        ]
    );
    let kinds: Vec<&str> = loaded.objects.iter().map(|o| o.kind()).collect();
    for kind in [
        "Role",
        "RoleBinding",
        "NetworkPolicy",
        "Pod",
        "ConstraintTemplate",
        "K8sRequiredLabels",
        "ExternalSecret",
    ] {
        assert!(kinds.contains(&kind), "{kind} not loaded; got {kinds:?}");
    }
}

#[test]
fn seed_pod_fields_are_located() {
    let Some(dir) = shared("seed-examples") else {
        return;
    };
    let loaded = load_inputs(
        &[Input::Path(dir.join("03-pod.yaml"))],
        &LoadOptions::default(),
    );
    let pod = &loaded.objects[0];
    assert_eq!(pod.id.name, "secure-pod");
    assert_eq!(pod.id.namespace.as_deref(), Some("production"));
    let template = palisade_model::pod_template(pod).expect("pod spec");
    let container = template.containers().next().expect("a container");
    let ape = container
        .security_context()
        .and_then(|sc| sc.get("allowPrivilegeEscalation"))
        .expect("field");
    assert_eq!(ape.as_bool(), Some(false));
    assert_eq!((ape.span.start.line, ape.span.start.column), (18, 33));
}

#[test]
fn very_long_lines_load() {
    let value = "x".repeat(6 * 1024 * 1024);
    let text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata:\n  blob: {value}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: after}}\n");
    let loaded = palisade_model::load_text("big.yaml", text, &LoadOptions::default());
    assert!(loaded.errors.is_empty());
    assert_eq!(loaded.objects.len(), 2);
    assert_eq!(loaded.objects[1].root.span.start.line, 7);
}
