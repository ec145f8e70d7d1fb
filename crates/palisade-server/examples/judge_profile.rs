//! Where a request's time goes: decode, Pod Security, each Gatekeeper template.
//!
//!     cargo run --release -p palisade-server --example judge_profile -- [LIBRARY] [ITERATIONS]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use palisade_model::{load_inputs, Input, LoadOptions};
use palisade_policy::gatekeeper::{AdmissionEvaluator, Inventory, PolicySet, Review};

fn main() {
    // As `palisade` itself does at start: no stack traces captured for
    // library errors (regorus's undefined lookups), panics unaffected.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let library = args.first().map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/conformance/gatekeeper-library/library")
    });
    let iterations: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let loaded = load_inputs(&[Input::Path(library)], &LoadOptions::default());
    let objects: Vec<_> = loaded
        .objects
        .iter()
        .filter(|o| {
            let p = o.source.name.to_string();
            p.ends_with("template.yaml")
                || (p.ends_with("constraint.yaml") && p.contains("/samples/"))
        })
        .cloned()
        .collect();
    let body =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pod-review.json"))
            .expect("pod-review.json");
    let decoded = palisade_server::admission::decode(&body).expect("decode");
    let review = Review::from_request(decoded.request.clone()).expect("review");
    let set = PolicySet::from_objects(&objects);
    let mut rows = Vec::new();
    for template in &set.templates {
        let mut one = PolicySet::default();
        one.templates.push(template.clone());
        one.constraints = set
            .constraints
            .iter()
            .filter(|c| c.kind == template.kind)
            .cloned()
            .collect();
        let evaluator = AdmissionEvaluator::new(one, &Inventory::of([]).json);
        let first = evaluator.evaluate(&review, None, None);
        if first.evaluated == 0 {
            continue;
        }
        let start = Instant::now();
        for _ in 0..iterations {
            std::hint::black_box(evaluator.evaluate(&review, None, None));
        }
        rows.push((
            start.elapsed() / iterations as u32,
            template.kind.clone(),
            first.evaluated,
            first.violations.len(),
            first.errors.len(),
        ));
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    let total: Duration = rows.iter().map(|r| r.0).sum();
    for (t, kind, n, v, e) in &rows {
        println!(
            "{:>9.1} µs  {kind} ({n} constraints, {v} violations, {e} errors)",
            t.as_secs_f64() * 1e6
        );
    }
    let start = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(palisade_server::admission::decode(&body).expect("decode"));
    }
    println!(
        "decode: {:.1} µs",
        (start.elapsed() / iterations as u32).as_secs_f64() * 1e6
    );
    println!(
        "total gatekeeper: {:.1} µs over {} templates",
        total.as_secs_f64() * 1e6,
        rows.len()
    );
}
