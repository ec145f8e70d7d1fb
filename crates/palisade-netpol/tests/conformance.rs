//! Conformance with np-guard/netpol-analyzer's own test cases.
//!
//! Every `connlist`, `explain` and `diff` case of the shared fixtures'
//! `TEST_INDEX.json` is run and its output compared with the expected file
//! after removing all newlines (as upstream compares). The set of failing
//! expected files must be exactly `KNOWN_FAILURES`: a fix that makes one pass
//! must remove it from the list, so the pass count can only go up.
//!
//! Environment: `NETPOL_CONFORMANCE_VERBOSE=1` prints each failure's first
//! difference; `NETPOL_CONFORMANCE_ONLY=substring` runs matching cases only
//! (and skips the exact-set assertion).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use palisade_model::{load_inputs, Input, LoadOptions};
use palisade_netpol::explainlist::{render_explained, ExplainOnly};
use palisade_netpol::format::{render, Format};
use palisade_netpol::{analyze_objects, read_resources_with, Analyzer, ListOptions};
use serde_json::Value;

fn data_dir() -> Option<PathBuf> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/netpol-analyzer");
    if dir.join("TEST_INDEX.json").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "conformance data missing at {} (required when CI=true)",
            dir.display()
        );
    }
    eprintln!("skipping: conformance data not found at {}", dir.display());
    None
}

/// Expected files that do not match yet, with the reason (none today: the
/// multiple-networks cases, run with `multipleNetworksEnabled`, pass too).
const KNOWN_FAILURES: &[(&str, &str)] = &[];

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn clean(s: &str) -> String {
    s.replace(['\n', '\r'], "")
}

fn first_diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (
            e.get(i).copied().unwrap_or("<eof>"),
            a.get(i).copied().unwrap_or("<eof>"),
        );
        if x != y {
            return format!("line {}:\n  expected: {x}\n  actual:   {y}", i + 1);
        }
    }
    "(differs only in newlines)".to_string()
}

fn load(dir: &Path) -> Vec<palisade_model::Object> {
    let loaded = load_inputs(&[Input::Path(dir.to_path_buf())], &LoadOptions::default());
    loaded.objects
}

fn list_options(o: &Value) -> ListOptions {
    ListOptions {
        focus_workloads: strings(o.get("focusWorkloads")),
        focus_workload_peers: strings(o.get("focusWorkloadPeers")),
        focus_direction: o
            .get("focusDirection")
            .and_then(Value::as_str)
            .map(str::to_string),
        focus_conn: o
            .get("focusConn")
            .and_then(Value::as_str)
            .map(str::to_string),
        exposure: o
            .get("exposureAnalysis")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        multiple_networks: o
            .get("multipleNetworksEnabled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

struct Outcome {
    file: String,
    result: Result<(), String>,
}

fn run_list(root: &Path, case: &Value, out: &mut Vec<Outcome>) {
    let input = root.join(case["input_dir"].as_str().unwrap_or_default());
    let opts = list_options(&case["options"]);
    let objects = load(&input);
    let list = analyze_objects(&objects, &opts);
    for e in case["expected"].as_array().into_iter().flatten() {
        if e["compared"].as_bool() != Some(true) {
            continue;
        }
        let file = e["file"].as_str().unwrap_or_default().to_string();
        let expected = std::fs::read_to_string(root.join(&file)).unwrap_or_default();
        let result = match (
            &list,
            Format::parse(e["format"].as_str().unwrap_or_default()),
        ) {
            (Err(err), _) => Err(format!("analysis error: {err}")),
            (_, None) => Err("unknown format".to_string()),
            (Ok(list), Some(f)) => {
                let actual = render(list, f);
                if clean(&actual) == clean(&expected) {
                    Ok(())
                } else {
                    Err(first_diff(&expected, &actual))
                }
            }
        };
        out.push(Outcome { file, result });
    }
}

fn run_explain(root: &Path, case: &Value, out: &mut Vec<Outcome>) {
    let input = root.join(case["input_dir"].as_str().unwrap_or_default());
    let o = &case["options"];
    let mut opts = list_options(o);
    opts.exposure = o.get("exposure").and_then(Value::as_bool).unwrap_or(false);
    let only = o
        .get("explainOnly")
        .and_then(Value::as_str)
        .map(|s| ExplainOnly::parse(s).expect("explain-only value"));
    let objects = load(&input);
    let res = read_resources_with(&objects, opts.multiple_networks);
    let explained = Analyzer::new(res, opts.exposure).and_then(|a| a.list_explained(&opts, only));
    for e in case["expected"].as_array().into_iter().flatten() {
        if e["compared"].as_bool() != Some(true) {
            continue;
        }
        let file = e["file"].as_str().unwrap_or_default().to_string();
        let expected = std::fs::read_to_string(root.join(&file)).unwrap_or_default();
        let result = match &explained {
            Err(err) => Err(format!("analysis error: {err}")),
            Ok(x) => {
                let actual = render_explained(x);
                if clean(&actual) == clean(&expected) {
                    Ok(())
                } else {
                    Err(first_diff(&expected, &actual))
                }
            }
        };
        out.push(Outcome { file, result });
    }
}

fn run_diff(root: &Path, case: &Value, out: &mut Vec<Outcome>) {
    let dirs: Vec<String> = strings(case.get("input_dirs"));
    let opts = list_options(&case["options"]);
    let lists: Vec<Result<palisade_netpol::ConnList, String>> = dirs
        .iter()
        .map(|d| analyze_objects(&load(&root.join(d)), &opts))
        .collect();
    for e in case["expected"].as_array().into_iter().flatten() {
        if e["compared"].as_bool() != Some(true) {
            continue;
        }
        let file = e["file"].as_str().unwrap_or_default().to_string();
        let expected = std::fs::read_to_string(root.join(&file)).unwrap_or_default();
        let result = match (
            &lists[..],
            Format::parse(e["format"].as_str().unwrap_or_default()),
        ) {
            ([Ok(a), Ok(b)], Some(f)) => {
                let d = palisade_netpol::diff::diff_lists(a, b, &a.peers, &b.peers);
                match palisade_netpol::diff::render_diff(&d, f, "ref1", "ref2") {
                    Ok(actual) if clean(&actual) == clean(&expected) => Ok(()),
                    Ok(actual) => Err(first_diff(&expected, &actual)),
                    Err(e) => Err(e),
                }
            }
            ([Err(e), _], _) | ([_, Err(e)], _) => Err(format!("analysis error: {e}")),
            _ => Err("bad case".to_string()),
        };
        out.push(Outcome { file, result });
    }
}

#[test]
fn netpol_analyzer_conformance() {
    let Some(root) = data_dir() else {
        return;
    };
    let index: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("TEST_INDEX.json")).expect("read index"),
    )
    .expect("parse index");
    let only = std::env::var("NETPOL_CONFORMANCE_ONLY").ok();
    let verbose = std::env::var("NETPOL_CONFORMANCE_VERBOSE").is_ok();
    let mut outcomes: Vec<(&str, Outcome)> = Vec::new();
    for case in index["connlist"].as_array().into_iter().flatten() {
        let name = case["input_dir"].as_str().unwrap_or_default();
        if only
            .as_deref()
            .is_some_and(|o| !case.to_string().contains(o))
        {
            continue;
        }
        let _ = name;
        let mut out = Vec::new();
        run_list(&root, case, &mut out);
        outcomes.extend(out.into_iter().map(|o| ("list", o)));
    }
    for case in index["explain"].as_array().into_iter().flatten() {
        if only
            .as_deref()
            .is_some_and(|o| !case.to_string().contains(o))
        {
            continue;
        }
        let mut out = Vec::new();
        run_explain(&root, case, &mut out);
        outcomes.extend(out.into_iter().map(|o| ("explain", o)));
    }
    for case in index["diff"].as_array().into_iter().flatten() {
        if only
            .as_deref()
            .is_some_and(|o| !case.to_string().contains(o))
        {
            continue;
        }
        let mut out = Vec::new();
        run_diff(&root, case, &mut out);
        outcomes.extend(out.into_iter().map(|o| ("diff", o)));
    }
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let mut per_kind: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (kind, o) in &outcomes {
        let e = per_kind.entry(kind).or_default();
        e.1 += 1;
        match &o.result {
            Ok(()) => e.0 += 1,
            Err(msg) => {
                failed.insert(o.file.clone());
                if verbose {
                    eprintln!("FAIL {}: {msg}", o.file);
                }
            }
        }
    }
    for (kind, (pass, total)) in &per_kind {
        eprintln!("{kind}: {pass}/{total} expected files pass");
    }
    if only.is_some() {
        return;
    }
    let known: BTreeSet<String> = KNOWN_FAILURES.iter().map(|(f, _)| f.to_string()).collect();
    let newly_failing: Vec<&String> = failed.difference(&known).collect();
    let now_passing: Vec<&String> = known.difference(&failed).collect();
    assert!(
        newly_failing.is_empty() && now_passing.is_empty(),
        "failures changed.\nnew failures ({}): {newly_failing:#?}\nnow passing, remove from KNOWN_FAILURES ({}): {now_passing:#?}",
        newly_failing.len(),
        now_passing.len()
    );
}
