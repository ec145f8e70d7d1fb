//! Per-evaluation latency of the Gatekeeper library's templates.
//!
//! ```sh
//! cargo run --release -p palisade-policy --example policy_latency -- \
//!     ../shared/conformance/gatekeeper-library/library [--iterations N] [--engine rego|cel]
//! ```
//!
//! For every `suite.yaml` under the library directory, each test's template and
//! constraint are loaded into a [`PolicySet`] once (Rego compiled there). The
//! test's case objects (the `object` file of each case, with the case's
//! `inventory`) are gathered, and `set.evaluate(&[object], &inventory)` is timed
//! for one object at a time: after a warm-up (two passes over the objects),
//! N iterations per template (default 200) cycle through the objects of all its
//! tests in order. The program prints a Markdown table sorted by template name
//! with p50, p99 (nearest rank) and mean in microseconds, then an overall line
//! (median of the p50s, max p99) and notes on skipped tests.
//!
//! With `--engine cel`, only templates with a `K8sNativeValidation` block are
//! measured. `PolicySet::evaluate` compiles that block on every call, so the
//! CEL table also gives the median time of `GatekeeperCel::compile` alone.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use palisade_model::{load_text, InputErrorKind, LoadOptions, Node, Object};
use palisade_policy::gatekeeper::{find_suites, Engine, PolicySet};
use palisade_policy::vap::GatekeeperCel;

const CEL_ENGINE: &str = "K8sNativeValidation";
const WARMUP_PASSES: usize = 2;
const COMPILE_ITERATIONS: usize = 50;

struct Args {
    library: PathBuf,
    iterations: usize,
    engine: Engine,
}

fn usage() -> String {
    "usage: policy_latency [LIBRARY_DIR] [--iterations N] [--engine rego|cel]".to_string()
}

fn parse_args() -> Result<Args, String> {
    let mut library = None;
    let mut iterations = 200usize;
    let mut engine = Engine::Rego;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iterations" | "-n" => {
                let v = args.next().ok_or_else(usage)?;
                iterations = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--iterations: not a positive number: {v}"))?;
            }
            "--engine" => {
                engine = match args.next().as_deref() {
                    Some("rego") => Engine::Rego,
                    Some("cel") => Engine::Cel,
                    other => return Err(format!("--engine: expected rego or cel, got {other:?}")),
                };
            }
            "-h" | "--help" => return Err(usage()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{}", usage())),
            s => library = Some(PathBuf::from(s)),
        }
    }
    let library = library.unwrap_or_else(|| {
        // The workspace root is two levels above this crate.
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/conformance/gatekeeper-library/library")
    });
    Ok(Args {
        library,
        iterations,
        engine,
    })
}

fn read_objects(path: &Path) -> Result<Vec<Object>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let loaded = load_text(&path.display().to_string(), text, &LoadOptions::default());
    if let Some(e) = loaded
        .errors
        .iter()
        .find(|e| !matches!(e.kind, InputErrorKind::Type))
    {
        return Err(format!("{}: {}", path.display(), e.message));
    }
    Ok(loaded.objects)
}

fn str_field<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.get(key).and_then(Node::as_str)
}

fn skipped(node: &Node) -> bool {
    node.get("skip").and_then(Node::as_bool) == Some(true)
}

/// One object to evaluate: the test's policy set, the object and the case's inventory.
struct Item {
    set: usize,
    object: Object,
    inventory: Vec<Object>,
}

/// Everything measured for one template.
#[derive(Default)]
struct Bench {
    sets: Vec<PolicySet>,
    items: Vec<Item>,
    /// The template's CEL source (for the compile-only timing).
    cel_source: Option<serde_json::Value>,
}

/// Loads the tests of one suite into `benches` (keyed by template name).
fn load_suite(
    path: &Path,
    engine: Engine,
    benches: &mut BTreeMap<String, Bench>,
    notes: &mut Vec<String>,
) {
    let objects = match read_objects(path) {
        Ok(o) => o,
        Err(e) => {
            notes.push(format!("suite skipped: {e}"));
            return;
        }
    };
    let Some(suite) = objects
        .iter()
        .find(|o| o.id.kind == "Suite" && o.id.group() == "test.gatekeeper.sh")
    else {
        notes.push(format!("{}: no gator Suite", path.display()));
        return;
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    for test in suite.root.get("tests").map(Node::items).unwrap_or(&[]) {
        let name = str_field(test, "name").unwrap_or("?");
        let label = format!("{} test {name}", suite.id.name);
        if skipped(test) {
            notes.push(format!("{label}: skipped (skip: true)"));
            continue;
        }
        let mut set = PolicySet {
            engine,
            ..PolicySet::default()
        };
        let mut failed = None;
        for (field, is_template) in [("template", true), ("constraint", false)] {
            let Some(rel) = str_field(test, field) else {
                failed = Some(format!("no `{field}`"));
                break;
            };
            match read_objects(&dir.join(rel)) {
                Ok(objects) => match objects.first() {
                    Some(o) if is_template => set.add_template(o),
                    Some(o) => set.add_constraint(o),
                    None => {
                        failed = Some(format!("{rel} holds no object"));
                        break;
                    }
                },
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if failed.is_none() {
            failed = set.verify().first().map(ToString::to_string);
        }
        if let Some(reason) = failed {
            notes.push(format!("{label}: skipped: {reason}"));
            continue;
        }
        let Some(template) = set.templates.first() else {
            notes.push(format!("{label}: skipped: no template"));
            continue;
        };
        let cel_source = template
            .other_engines
            .iter()
            .find(|e| e.engine == CEL_ENGINE)
            .map(|e| e.source.clone());
        match engine {
            Engine::Rego if !template.has_rego() => {
                notes.push(format!("{label}: skipped: template has no Rego"));
                continue;
            }
            // Templates without a CEL block are simply not part of the CEL table.
            Engine::Cel if cel_source.is_none() => continue,
            _ => {}
        }
        let template_name = template.name.clone();
        let mut items = Vec::new();
        for case in test.get("cases").map(Node::items).unwrap_or(&[]) {
            if skipped(case) {
                continue;
            }
            let case_name = str_field(case, "name").unwrap_or("?");
            let Some(rel) = str_field(case, "object") else {
                notes.push(format!("{label} case {case_name}: no `object`"));
                continue;
            };
            let objects = match read_objects(&dir.join(rel)) {
                Ok(o) => o,
                Err(e) => {
                    notes.push(format!("{label} case {case_name}: skipped: {e}"));
                    continue;
                }
            };
            let mut inventory = Vec::new();
            let mut inventory_error = None;
            for inv in case.get("inventory").map(Node::items).unwrap_or(&[]) {
                let Some(inv) = inv.as_str() else { continue };
                match read_objects(&dir.join(inv)) {
                    Ok(o) => inventory.extend(o),
                    Err(e) => inventory_error = Some(e),
                }
            }
            if let Some(e) = inventory_error {
                notes.push(format!("{label} case {case_name}: skipped: {e}"));
                continue;
            }
            // One evaluation per object of the case file (almost always one).
            for object in objects {
                items.push((object, inventory.clone()));
            }
        }
        if items.is_empty() {
            notes.push(format!("{label}: skipped: no case object could be read"));
            continue;
        }
        let bench = benches.entry(template_name).or_default();
        let index = bench.sets.len();
        bench.sets.push(set);
        if bench.cel_source.is_none() {
            bench.cel_source = cel_source;
        }
        bench
            .items
            .extend(items.into_iter().map(|(object, inventory)| Item {
                set: index,
                object,
                inventory,
            }));
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

struct Row {
    template: String,
    objects: usize,
    p50: f64,
    p99: f64,
    mean: f64,
    /// Median µs of `GatekeeperCel::compile` (CEL only).
    compile: Option<f64>,
    errors: usize,
    violations: usize,
}

fn measure(name: &str, bench: &Bench, iterations: usize) -> Row {
    let run = |item: &Item| {
        let set = &bench.sets[item.set];
        set.evaluate(std::slice::from_ref(&item.object), &item.inventory)
    };
    // Warm-up, and the outcome of each object once (errors, violations).
    let mut errors = 0;
    let mut violations = 0;
    for pass in 0..WARMUP_PASSES {
        for item in &bench.items {
            let evaluation = run(item);
            if pass == 0 {
                errors += evaluation.errors.len();
                violations += evaluation.violations.len();
            }
            black_box(evaluation);
        }
    }
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..iterations {
        let item = &bench.items[i % bench.items.len()];
        let start = Instant::now();
        let evaluation = run(item);
        let elapsed = start.elapsed();
        black_box(evaluation);
        samples.push(elapsed.as_secs_f64() * 1e6);
    }
    samples.sort_by(f64::total_cmp);
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    let compile = bench.cel_source.as_ref().map(|source| {
        let mut times = Vec::with_capacity(COMPILE_ITERATIONS);
        for _ in 0..COMPILE_ITERATIONS {
            let start = Instant::now();
            let compiled = GatekeeperCel::compile(black_box(source));
            let elapsed = start.elapsed();
            black_box(compiled.is_ok());
            times.push(elapsed.as_secs_f64() * 1e6);
        }
        times.sort_by(f64::total_cmp);
        percentile(&times, 0.5)
    });
    Row {
        template: name.to_string(),
        objects: bench.items.len(),
        p50: percentile(&samples, 0.5),
        p99: percentile(&samples, 0.99),
        mean,
        compile,
        errors,
        violations,
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let engine_name = match args.engine {
        Engine::Rego => "rego",
        Engine::Cel => "cel",
    };
    let suites = find_suites(&args.library);
    if suites.is_empty() {
        eprintln!("no suite.yaml under {}", args.library.display());
        std::process::exit(1);
    }
    let mut benches = BTreeMap::new();
    let mut notes = Vec::new();
    for suite in &suites {
        load_suite(suite, args.engine, &mut benches, &mut notes);
    }
    let cel = args.engine == Engine::Cel;
    println!(
        "Engine {engine_name}: {} suites, {} templates, {} iterations per template \
         (after {WARMUP_PASSES} warm-up passes over its objects)",
        suites.len(),
        benches.len(),
        args.iterations
    );
    println!();
    if cel {
        println!(
            "| Template | Engine | Objects | p50 µs | p99 µs | mean µs | CEL compile µs (p50) |"
        );
        println!("|---|---|---:|---:|---:|---:|---:|");
    } else {
        println!("| Template | Engine | Objects | p50 µs | p99 µs | mean µs |");
        println!("|---|---|---:|---:|---:|---:|");
    }
    let mut rows = Vec::new();
    for (name, bench) in &benches {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            measure(name, bench, args.iterations)
        }));
        let row = match result {
            Ok(row) => row,
            Err(_) => {
                notes.push(format!("{name}: skipped: the evaluation panicked"));
                continue;
            }
        };
        let compile = match (cel, row.compile) {
            (true, Some(c)) => format!(" {c:.1} |"),
            (true, None) => " – |".to_string(),
            _ => String::new(),
        };
        println!(
            "| {} | {engine_name} | {} | {:.1} | {:.1} | {:.1} |{compile}",
            row.template, row.objects, row.p50, row.p99, row.mean
        );
        if row.errors > 0 {
            notes.push(format!(
                "{}: {} evaluation error(s) over one pass of its {} objects",
                row.template, row.errors, row.objects
            ));
        }
        rows.push(row);
    }
    println!();
    if rows.is_empty() {
        println!("No template measured.");
    } else {
        let mut p50s: Vec<f64> = rows.iter().map(|r| r.p50).collect();
        p50s.sort_by(f64::total_cmp);
        let median = if p50s.len() % 2 == 1 {
            p50s[p50s.len() / 2]
        } else {
            (p50s[p50s.len() / 2 - 1] + p50s[p50s.len() / 2]) / 2.0
        };
        let max = rows
            .iter()
            .max_by(|a, b| a.p99.total_cmp(&b.p99))
            .map(|r| (r.p99, r.template.as_str()))
            .unwrap_or((f64::NAN, ""));
        let objects: usize = rows.iter().map(|r| r.objects).sum();
        let violations: usize = rows.iter().map(|r| r.violations).sum();
        println!(
            "Overall ({engine_name}): {} templates, {objects} objects ({violations} violations in one pass); \
             median of p50s {median:.1} µs; max p99 {:.1} µs ({})",
            rows.len(),
            max.0,
            max.1
        );
    }
    if !notes.is_empty() {
        println!();
        println!("Notes:");
        for n in &notes {
            println!("- {n}");
        }
    }
}
