//! gator `Suite` files (`test.gatekeeper.sh/v1alpha1`), as `gator verify` runs them:
//! `skip` on a suite, test or case; a test's `invalid: true` (the constraint must
//! fail the template's schema); a case's single `object`, its `inventory` and its
//! non-empty `assertions` (`violations: yes|no|N`, `message` regex). Tests with
//! `expansion` templates fail with a clear error: Palisade does not expand.

use std::path::{Path, PathBuf};

use palisade_model::{load_text, LoadOptions, Node, Object};

use super::{Engine, PolicySet};

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub name: String,
    /// True when the case passed (or was skipped).
    pub passed: bool,
    pub skipped: bool,
    /// Why it failed.
    pub reason: Option<String>,
    /// The messages of the violations found.
    pub violations: Vec<String>,
}

/// The outcome of one test (one template + constraint, several cases).
#[derive(Debug, Clone)]
pub struct TestResult {
    pub name: String,
    /// Set when the template or constraint could not be loaded: every case fails.
    pub error: Option<String>,
    pub skipped: bool,
    pub cases: Vec<CaseResult>,
}

/// The outcome of a suite file.
#[derive(Debug, Clone)]
pub struct SuiteResult {
    pub path: PathBuf,
    pub name: String,
    /// Set when the suite file itself could not be read.
    pub error: Option<String>,
    pub tests: Vec<TestResult>,
}

impl SuiteResult {
    /// Whether the suite loaded and every case passed.
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && self
                .tests
                .iter()
                .all(|t| t.error.is_none() && t.cases.iter().all(|c| c.passed))
    }

    /// (passed, total) cases.
    pub fn counts(&self) -> (usize, usize) {
        let cases = self.tests.iter().flat_map(|t| &t.cases);
        let total = cases.clone().count();
        (cases.filter(|c| c.passed).count(), total)
    }
}

/// `violations:` of an assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    AtLeastOne,
    Exactly(usize),
}

fn read_objects(path: &Path) -> Result<Vec<Object>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let loaded = load_text(&path.display().to_string(), text, &LoadOptions::default());
    // Schema (type) errors do not stop gator; only unreadable documents do.
    if let Some(e) = loaded
        .errors
        .iter()
        .find(|e| !matches!(e.kind, palisade_model::InputErrorKind::Type))
    {
        return Err(format!("{}: {}", path.display(), e.message));
    }
    Ok(loaded.objects)
}

fn str_field<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.get(key).and_then(Node::as_str)
}

/// Runs a gator suite with the Rego engine: every test's template and constraint
/// against every case.
pub fn run_suite(path: &Path) -> SuiteResult {
    run_suite_with(path, Engine::Rego)
}

/// Runs a gator suite with `engine`. With [`Engine::Cel`], tests whose template
/// has no `K8sNativeValidation` block are skipped.
pub fn run_suite_with(path: &Path, engine: Engine) -> SuiteResult {
    let mut result = SuiteResult {
        path: path.to_path_buf(),
        name: String::new(),
        error: None,
        tests: Vec::new(),
    };
    let objects = match read_objects(path) {
        Ok(o) => o,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    let Some(suite) = objects
        .iter()
        .find(|o| o.id.kind == "Suite" && o.id.group() == "test.gatekeeper.sh")
    else {
        result.error = Some(format!("{} holds no gator Suite", path.display()));
        return result;
    };
    result.name = suite.id.name.clone();
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut regex = RegexMatcher::new();
    let suite_skipped = suite.root.get("skip").and_then(Node::as_bool) == Some(true);
    for test in suite.root.get("tests").map(Node::items).unwrap_or(&[]) {
        result
            .tests
            .push(run_test(dir, test, engine, suite_skipped, &mut regex));
    }
    result
}

fn run_test(
    dir: &Path,
    test: &Node,
    engine: Engine,
    suite_skipped: bool,
    regex: &mut RegexMatcher,
) -> TestResult {
    let mut out = TestResult {
        name: str_field(test, "name").unwrap_or("").to_string(),
        error: None,
        skipped: suite_skipped || test.get("skip").and_then(Node::as_bool) == Some(true),
        cases: Vec::new(),
    };
    let case_nodes = test.get("cases").map(Node::items).unwrap_or(&[]);
    let fail_all = |out: &mut TestResult, reason: String| {
        out.error = Some(reason.clone());
        for case in case_nodes {
            out.cases.push(CaseResult {
                name: str_field(case, "name").unwrap_or("").to_string(),
                passed: false,
                skipped: false,
                reason: Some(reason.clone()),
                violations: Vec::new(),
            });
        }
    };
    let skip_all = |out: &mut TestResult| {
        out.skipped = true;
        for case in case_nodes {
            out.cases.push(CaseResult {
                name: str_field(case, "name").unwrap_or("").to_string(),
                passed: true,
                skipped: true,
                reason: None,
                violations: Vec::new(),
            });
        }
    };
    if out.skipped {
        skip_all(&mut out);
        return out;
    }
    let mut set = PolicySet {
        engine,
        ..PolicySet::default()
    };
    for (field, is_template) in [("template", true), ("constraint", false)] {
        let Some(rel) = str_field(test, field) else {
            fail_all(&mut out, format!("test has no `{field}`"));
            return out;
        };
        let objects = match read_objects(&dir.join(rel)) {
            Ok(o) => o,
            Err(e) => {
                fail_all(&mut out, e);
                return out;
            }
        };
        let Some(object) = objects.first() else {
            fail_all(&mut out, format!("{rel} holds no object"));
            return out;
        };
        if is_template {
            set.add_template(object);
        } else {
            set.add_constraint(object);
        }
    }
    let problems = set.verify();
    if test.get("invalid").and_then(Node::as_bool) == Some(true) {
        // As gator: the test passes when adding the constraint fails its schema
        // check; no case runs.
        let schema_problem = set.errors.is_empty()
            && problems.iter().any(|p| {
                p.message
                    .contains("does not match the schema of ConstraintTemplate")
            });
        if !schema_problem {
            let got = problems
                .first()
                .map_or_else(|| "no error".to_string(), ToString::to_string);
            out.error = Some(format!(
                "the test is `invalid: true`, so the constraint must fail the template's schema, but adding it gave {got}"
            ));
        }
        return out;
    }
    if let Some(p) = problems.first() {
        fail_all(&mut out, p.to_string());
        return out;
    }
    if let Some(expansion) = str_field(test, "expansion") {
        fail_all(
            &mut out,
            format!("expansion templates ({expansion}) are not supported: Palisade reviews objects as written"),
        );
        return out;
    }
    match engine {
        Engine::Rego if set.templates.iter().all(|t| !t.has_rego()) => {
            fail_all(
                &mut out,
                "template has no Rego code (try --engine cel)".into(),
            );
            return out;
        }
        Engine::Cel if !set.templates.iter().any(|t| t.has_cel()) => {
            skip_all(&mut out);
            return out;
        }
        _ => {}
    }
    for case in case_nodes {
        out.cases.push(run_case(dir, case, &set, regex));
    }
    out
}

fn run_case(dir: &Path, case: &Node, set: &PolicySet, regex: &mut RegexMatcher) -> CaseResult {
    let mut out = CaseResult {
        name: str_field(case, "name").unwrap_or("").to_string(),
        passed: false,
        skipped: case.get("skip").and_then(Node::as_bool) == Some(true),
        reason: None,
        violations: Vec::new(),
    };
    if out.skipped {
        out.passed = true;
        return out;
    }
    let Some(object_path) = str_field(case, "object") else {
        out.reason = Some("invalid case: must define object".into());
        return out;
    };
    let assertions = case.get("assertions").map(Node::items).unwrap_or(&[]);
    if assertions.is_empty() {
        out.reason = Some("invalid case: assertions must be non-empty".into());
        return out;
    }
    let objects = match read_objects(&dir.join(object_path)) {
        Ok(o) => o,
        Err(e) => {
            out.reason = Some(e);
            return out;
        }
    };
    if objects.len() != 1 {
        out.reason = Some(format!(
            "{object_path} defines {} objects; a case reviews exactly one",
            objects.len()
        ));
        return out;
    }
    let mut inventory = Vec::new();
    for rel in case.get("inventory").map(Node::items).unwrap_or(&[]) {
        let Some(rel) = rel.as_str() else { continue };
        match read_objects(&dir.join(rel)) {
            Ok(o) => inventory.extend(o),
            Err(e) => {
                out.reason = Some(e);
                return out;
            }
        }
    }
    let evaluation = set.evaluate(&objects, &inventory);
    if let Some(e) = evaluation.errors.first() {
        out.reason = Some(format!("evaluation error: {e}"));
        return out;
    }
    out.violations = evaluation
        .violations
        .iter()
        .map(|v| v.message.clone())
        .collect();
    for (i, assertion) in assertions.iter().enumerate() {
        // An int-or-string, as gator reads it: a non-negative integer, or the
        // string "yes" or "no" (YAML 1.1 readers make unquoted yes/no booleans).
        let expected = match assertion.get_set("violations") {
            None => Expected::AtLeastOne,
            Some(v) => match (&v.as_bool(), v.as_i64(), v.as_str()) {
                (Some(true), _, _) | (_, _, Some("yes")) => Expected::AtLeastOne,
                (Some(false), _, _) | (_, _, Some("no")) => Expected::Exactly(0),
                (_, Some(n), _) if n >= 0 => Expected::Exactly(usize::try_from(n).unwrap_or(0)),
                _ => {
                    out.reason = Some(format!(
                        "assertion {i}: invalid `violations: {}` (must be a non-negative integer, \"yes\" or \"no\")",
                        v.display_value()
                    ));
                    return out;
                }
            },
        };
        let pattern = str_field(assertion, "message");
        let mut count = 0;
        for message in &out.violations {
            match pattern {
                None => count += 1,
                Some(p) => match regex.is_match(p, message) {
                    Ok(true) => count += 1,
                    Ok(false) => {}
                    Err(e) => {
                        out.reason =
                            Some(format!("assertion {i}: invalid message regex {p:?}: {e}"));
                        return out;
                    }
                },
            }
        }
        let ok = match expected {
            Expected::AtLeastOne => count >= 1,
            Expected::Exactly(n) => count == n,
        };
        if !ok {
            let want = match expected {
                Expected::AtLeastOne => "at least 1".to_string(),
                Expected::Exactly(n) => n.to_string(),
            };
            let filter = pattern.map_or(String::new(), |p| format!(" matching {p:?}"));
            out.reason = Some(format!(
                "assertion {i}: expected {want} violation(s){filter}, got {count}: {:?}",
                out.violations
            ));
            return out;
        }
    }
    out.passed = true;
    out
}

/// Regular expressions as `gator` matches messages (unanchored search), through
/// regorus' own `regex.match` so the crate needs no other regex dependency.
struct RegexMatcher {
    engine: regorus::Engine,
}

impl RegexMatcher {
    fn new() -> Self {
        RegexMatcher {
            engine: regorus::Engine::new(),
        }
    }

    fn is_match(&mut self, pattern: &str, text: &str) -> Result<bool, String> {
        let input = serde_json::json!({ "p": pattern, "t": text });
        self.engine.set_input(regorus::Value::from(input));
        let results = self
            .engine
            .eval_query("regex.match(input.p, input.t)".to_string(), false)
            .map_err(|e| e.to_string())?;
        Ok(results
            .result
            .first()
            .and_then(|r| r.expressions.first())
            .is_some_and(|e| e.value == regorus::Value::from(true)))
    }
}
