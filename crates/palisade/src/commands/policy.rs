//! `palisade policy verify` and `palisade policy test`: Gatekeeper offline.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Result};
use palisade_model::{load_inputs, Input, InputError, InputErrorKind, LoadOptions, Severity};
use palisade_policy::gatekeeper::{find_suites, run_suite_with, Engine, Issue, PolicySet};

use crate::cli::{EngineChoice, PolicyTestArgs, PolicyVerifyArgs};
use crate::registry::all_rules;

/// Runs suites and prints `gator verify`'s layout: `ok`/`FAIL` per suite,
/// `--- FAIL:` lines for the tests and cases that failed, then `PASS`/`FAIL`.
pub fn verify(args: &PolicyVerifyArgs) -> Result<ExitCode> {
    let mut suites: Vec<PathBuf> = Vec::new();
    let mut policy_dirs: Vec<PathBuf> = Vec::new();
    for path in &args.paths {
        if path.is_dir() {
            let found = find_suites(path);
            if found.is_empty() {
                policy_dirs.push(path.clone());
            }
            suites.extend(found);
        } else if path.is_file() {
            suites.push(path.clone());
        } else {
            bail!("{}: no such file or directory", path.display());
        }
    }
    let engines: &[(Engine, &str)] = match args.engine {
        EngineChoice::Rego => &[(Engine::Rego, "")],
        EngineChoice::Cel => &[(Engine::Cel, "")],
        EngineChoice::All => &[(Engine::Rego, " [rego]"), (Engine::Cel, " [cel]")],
    };
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    let mut broken = false;
    for (suite, &(engine, label)) in suites
        .iter()
        .flat_map(|s| engines.iter().map(move |e| (s, e)))
    {
        let started = Instant::now();
        let result = run_suite_with(suite, engine);
        let seconds = started.elapsed().as_secs_f64();
        if let Some(error) = &result.error {
            writeln!(out, "FAIL\t{}\t{seconds:.3}s\n    {error}", suite.display())?;
            broken = true;
            continue;
        }
        for test in &result.tests {
            let cases_failed: Vec<_> = test.cases.iter().filter(|c| !c.passed).collect();
            if test.error.is_none() && cases_failed.is_empty() {
                continue;
            }
            writeln!(out, "--- FAIL: {}", test.name)?;
            if let Some(error) = &test.error {
                writeln!(out, "    {error}")?;
            }
            for case in cases_failed {
                writeln!(out, "    --- FAIL: {}", case.name)?;
                if let Some(reason) = &case.reason {
                    writeln!(out, "        {reason}")?;
                }
            }
        }
        let (passed, total) = result.counts();
        if !result.tests.is_empty() && result.tests.iter().all(|t| t.skipped) {
            writeln!(out, "skip\t{}{label}\t(skipped: no test has code for this engine, or all are marked skip)", suite.display())?;
            continue;
        }
        let verdict = if result.passed() { "ok  " } else { "FAIL" };
        failed |= !result.passed();
        writeln!(
            out,
            "{verdict}\t{}{label}\t{seconds:.3}s\t({passed}/{total} cases)",
            suite.display()
        )?;
    }
    for dir in &policy_dirs {
        let (set, loaded) = PolicySet::load(&[Input::Path(dir.clone())]);
        let issues = set.verify();
        for error in &loaded.errors {
            writeln!(out, "{error}")?;
        }
        for issue in &issues {
            writeln!(out, "{issue}")?;
        }
        for note in &set.notes {
            writeln!(out, "note: {note}")?;
        }
        let verdict = if issues.is_empty() && loaded.errors.is_empty() {
            "ok  "
        } else {
            "FAIL"
        };
        broken |= !loaded.errors.is_empty();
        failed |= !issues.is_empty();
        writeln!(
            out,
            "{verdict}\t{}\t({} templates, {} constraints)",
            dir.display(),
            set.templates.len(),
            set.constraints.len()
        )?;
    }
    writeln!(out, "{}", if failed || broken { "FAIL" } else { "PASS" })?;
    Ok(ExitCode::from(match (broken, failed) {
        (true, _) => crate::EXIT_USAGE,
        (false, true) => 1,
        (false, false) => 0,
    }))
}

/// Reviews manifests against templates and constraints and reports the violations.
pub fn test(args: &PolicyTestArgs, color: bool) -> Result<ExitCode> {
    let inputs: Vec<Input> = args
        .paths
        .iter()
        .chain(&args.filenames)
        .map(|p| Input::parse(p))
        .collect();
    if inputs.is_empty() {
        bail!("nothing to review: give manifests as PATH, `-f PATH`, or `-` for standard input");
    }
    let loaded = load_inputs(
        &inputs,
        &LoadOptions {
            default_namespace: args.namespace.clone(),
        },
    );
    let extra: Vec<Input> = args.inventory.iter().cloned().map(Input::Path).collect();
    let inventory_loaded = load_inputs(&extra, &LoadOptions::default());
    let inventory: Vec<palisade_model::Object> = loaded
        .objects
        .iter()
        .chain(&inventory_loaded.objects)
        .cloned()
        .collect();
    let run = run_policies(&args.policies, &loaded.objects, &inventory);
    if !run.policies_found {
        bail!(
            "no ConstraintTemplate, Constraint or ValidatingAdmissionPolicy found in the -p paths"
        );
    }
    let findings = run.findings;
    let problems: Vec<InputError> = inventory_loaded
        .errors
        .into_iter()
        .chain(run.errors)
        .collect();
    let rules = all_rules();
    let mut report = palisade_report::Report::new(
        env!("CARGO_PKG_VERSION"),
        &loaded,
        &findings,
        &rules,
        args.fail_on.unwrap_or(Severity::Low),
    );
    report.errors.extend(problems.iter());
    report.sort();
    super::output::write_report(&report, &args.output, color)?;
    Ok(ExitCode::from(report.exit_code()))
}

/// What evaluating admission policies on manifests produced.
pub struct PolicyRun {
    pub findings: Vec<palisade_model::Finding>,
    /// Policies that could not be read, compiled or evaluated, as input errors.
    pub errors: Vec<InputError>,
    /// Whether `paths` held any Gatekeeper or ValidatingAdmissionPolicy object.
    pub policies_found: bool,
}

/// Loads Gatekeeper templates and constraints and ValidatingAdmissionPolicies
/// with their bindings from `paths`, and evaluates them on `manifests` (as a
/// CREATE), with `inventory` as Gatekeeper's `data.inventory`. Notes (objects
/// that could not be judged) go to standard error. `palisade policy test` and
/// `palisade scan --policies` share it.
pub fn run_policies(
    paths: &[PathBuf],
    manifests: &[palisade_model::Object],
    inventory: &[palisade_model::Object],
) -> PolicyRun {
    let inputs: Vec<Input> = paths.iter().cloned().map(Input::Path).collect();
    let (set, loaded) = PolicySet::load(&inputs);
    let evaluation = set.evaluate(manifests, inventory);
    let (vap, vap_errors) = load_vap(&loaded.objects, manifests);
    let mut findings = evaluation.findings(manifests);
    findings.extend(vap_findings(&vap, manifests));
    let errors = loaded
        .errors
        .iter()
        .cloned()
        .chain(
            set.verify()
                .iter()
                .chain(&evaluation.errors)
                .map(policy_error),
        )
        .chain(vap_errors)
        .collect();
    for note in set.notes.iter().chain(&evaluation.notes) {
        eprintln!("note: {note}");
    }
    PolicyRun {
        findings,
        errors,
        policies_found: !(set.templates.is_empty() && set.constraints.is_empty() && vap.is_empty()),
    }
}

/// A policy that could not be used, as an input error the report shows with its position.
pub fn policy_error(issue: &Issue) -> InputError {
    InputError {
        kind: InputErrorKind::Config,
        message: issue.message.clone(),
        source: None,
        file: issue.file.clone(),
        span: issue.span,
        related: None,
    }
}

/// ValidatingAdmissionPolicies and bindings among `policies`; parameter
/// objects may be among them or among the `manifests`.
pub fn load_vap(
    policies: &[palisade_model::Object],
    manifests: &[palisade_model::Object],
) -> (palisade_policy::vap::Policies, Vec<InputError>) {
    let all: Vec<palisade_model::Object> = policies.iter().chain(manifests).cloned().collect();
    let (mut vap, problems) = palisade_policy::vap::Policies::load(&all);
    // `authorizer` checks are answered by the RBAC objects of the input, as
    // the API server's authorizer would answer them in a cluster holding them.
    if !vap.is_empty() {
        let rbac = palisade_rbac::Rbac::from_objects(&all);
        vap.set_authorizer(std::sync::Arc::new(rbac));
    }
    let errors = problems
        .into_iter()
        .map(|p| InputError {
            kind: InputErrorKind::Config,
            message: format!("{}: {}", p.object, p.message),
            source: None,
            file: p.file,
            span: p.span,
            related: None,
        })
        .collect();
    (vap, errors)
}

/// Every VAP decision on the manifests (as a CREATE), as findings.
pub fn vap_findings(
    vap: &palisade_policy::vap::Policies,
    manifests: &[palisade_model::Object],
) -> Vec<palisade_model::Finding> {
    if vap.is_empty() {
        return Vec::new();
    }
    let namespace = |name: Option<&str>| {
        manifests
            .iter()
            .find(|o| o.id.kind == "Namespace" && Some(o.id.name.as_str()) == name)
    };
    manifests
        .iter()
        .flat_map(|object| {
            vap.evaluate(
                object,
                palisade_policy::vap::Operation::Create,
                namespace(object.id.namespace.as_deref()),
            )
            .into_iter()
            .map(|decision| vap.to_finding(&decision, object))
            .collect::<Vec<_>>()
        })
        .collect()
}
