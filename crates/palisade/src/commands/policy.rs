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
        for warning in lint_policies(&loaded.objects) {
            writeln!(out, "{warning}")?;
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
    let run = run_policies(&args.policies, &loaded.objects, &inventory, true);
    for warning in &run.warnings {
        eprintln!("{warning}");
    }
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
    /// The `policy/` lint's warnings about the templates of `paths` (e.g. Rego
    /// that fails open when a reviewed field is missing), one line each; empty
    /// unless asked for.
    pub warnings: Vec<String>,
}

/// The `policy/` checks (Rego that fails open, a schema Gatekeeper ignores)
/// on the templates among `objects`, as `warning: file:line:col: message (rule)` lines.
pub fn lint_policies(objects: &[palisade_model::Object]) -> Vec<String> {
    let options = palisade_checks::CheckOptions::default();
    let mut checker = palisade_checks::Checker::new(objects, &options);
    checker.retain(|rule| rule.meta.category == "policy");
    objects
        .iter()
        .filter(|o| palisade_policy::gatekeeper::is_template(o))
        .flat_map(|o| checker.check(o))
        .map(|f| {
            format!(
                "warning: {}:{}: {} ({})",
                f.location.file, f.location.span.start, f.message, f.rule
            )
        })
        .collect()
}

/// Loads Gatekeeper templates and constraints and ValidatingAdmissionPolicies
/// with their bindings from `paths`, and evaluates them on `manifests` (as a
/// CREATE), with `inventory` as Gatekeeper's `data.inventory`. Notes (objects
/// that could not be judged) go to standard error. With `lint`, the templates
/// also get the `policy/` lint (a full checker run, so only when shown).
/// `palisade policy test` and `palisade scan --policies` share it.
pub fn run_policies(
    paths: &[PathBuf],
    manifests: &[palisade_model::Object],
    inventory: &[palisade_model::Object],
    lint: bool,
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
        warnings: if lint {
            lint_policies(&loaded.objects)
        } else {
            Vec::new()
        },
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
    // An object that is both a policy and a manifest (a snapshot's own VAPs, or
    // `-p` naming the input) is loaded once: the `policies` copy wins.
    let same = |a: &palisade_model::Object, b: &palisade_model::Object| {
        a.id.kind == b.id.kind && a.id.name == b.id.name && a.id.namespace == b.id.namespace
    };
    let all: Vec<palisade_model::Object> = policies
        .iter()
        .chain(
            manifests
                .iter()
                .filter(|m| !policies.iter().any(|p| same(p, m))),
        )
        .cloned()
        .collect();
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

pub const AUDIT_EXAMPLES: &str = "\
Examples:
  # The live cluster's objects against the constraints and VAPs installed in it
  palisade policy audit --cluster

  # A snapshot, offline, against the cluster's own policies and more from a library
  palisade policy audit cluster.yaml -p library/general/

  # As JSON (per constraint: totalViolations and the violations, as Gatekeeper's status)
  palisade policy audit cluster.yaml -o json --violations-limit 0

Gatekeeper's audit: every object of the input is reviewed against every constraint (the
constraints and templates of the input itself, plus -p), with data.inventory holding the whole
input, and each constraint gets its total of violations and the first --violations-limit of
them (Gatekeeper's --constraint-violations-limit, 20). Constraints whose scoped enforcement
actions leave out audit are not audited, as Gatekeeper does not audit them.
ValidatingAdmissionPolicies have no audit in Kubernetes; they are evaluated on every object as
if it were created again, with totals per policy and binding.

Exit codes: 0 no violation at or above --fail-on (deny: high, warn: medium, dryrun: info;
VAP Deny: high, Warn: medium, Audit: low), 1 violations, 2 usage or input errors.";

#[derive(Debug, clap::Args)]
pub struct PolicyAuditArgs {
    /// Objects to audit (a snapshot, exported manifests); `-` reads standard input
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// A file or directory (repeatable); `-` reads standard input
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filenames: Vec<String>,

    /// More templates, constraints, ValidatingAdmissionPolicies and bindings (files or
    /// directories; repeatable), in addition to those of the input
    #[arg(short = 'p', long = "policies", value_name = "PATH")]
    pub policies: Vec<PathBuf>,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = AuditFormat::Text)]
    pub output: AuditFormat,

    /// Write to this file instead of standard output
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Violations listed per constraint (0: all); totals always count every one
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub violations_limit: usize,

    /// Exit with 1 when a violation is at or above this severity [default: low]
    #[arg(long, value_name = "SEVERITY", value_parser = |s: &str| s.parse::<Severity>())]
    pub fail_on: Option<Severity>,

    /// With --cluster: only this namespace's objects are read (cluster-scoped kinds too)
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    #[command(flatten)]
    pub cluster: super::cluster_input::ClusterArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    Text,
    Json,
}

/// One audited policy: a constraint, or a VAP with one binding.
struct AuditRow {
    kind: String,
    name: String,
    action: String,
    severity: Severity,
    violations: Vec<serde_json::Value>,
}

/// `palisade policy audit`: Gatekeeper's audit of every object, totals per constraint.
pub fn audit(args: &PolicyAuditArgs) -> Result<ExitCode> {
    use palisade_policy::gatekeeper::{is_policy_object, EnforcementAction};
    use palisade_policy::vap::{Action, DecisionKind, Operation};
    use serde_json::json;

    let inputs: Vec<Input> = args
        .paths
        .iter()
        .chain(&args.filenames)
        .map(|p| Input::parse(p))
        .collect();
    if inputs.is_empty() && !args.cluster.enabled() {
        bail!("nothing to audit: give a snapshot or manifests (PATH, -f PATH, -), or --cluster");
    }
    let mut loaded = load_inputs(&inputs, &LoadOptions::default());
    if args.cluster.enabled() {
        let scope = match &args.namespace {
            Some(ns) => palisade_cluster::snapshot::Scope::Namespace(ns.clone()),
            None => palisade_cluster::snapshot::Scope::All,
        };
        let cluster = super::cluster_input::load(&args.cluster, scope, None)?;
        super::cluster_input::absorb(&mut loaded, cluster);
    }
    let policy_inputs: Vec<Input> = args.policies.iter().cloned().map(Input::Path).collect();
    let extra = load_inputs(&policy_inputs, &LoadOptions::default());
    // -p first; the input's own policies unless -p has one of the same kind and name.
    let mut policy_objects: Vec<palisade_model::Object> = extra.objects.clone();
    for object in &loaded.objects {
        let is_vap = matches!(
            object.id.kind.as_str(),
            "ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding"
        );
        if (is_policy_object(object) || is_vap)
            && !policy_objects
                .iter()
                .any(|p| p.id.kind == object.id.kind && p.id.name == object.id.name)
        {
            policy_objects.push(object.clone());
        }
    }
    let set = palisade_policy::gatekeeper::PolicySet::from_objects(&policy_objects);
    let evaluation = set.evaluate(&loaded.objects, &loaded.objects);
    let (vap, vap_errors) = load_vap(&policy_objects, &loaded.objects);
    if set.constraints.is_empty() && vap.is_empty() {
        bail!("no Gatekeeper constraint or ValidatingAdmissionPolicy in the input or the -p paths");
    }
    let mut errors: Vec<String> = loaded
        .errors
        .iter()
        .chain(&extra.errors)
        .map(|e| format!("{}: {}", e.file, e.message))
        .collect();
    errors.extend(
        set.verify()
            .iter()
            .chain(&evaluation.errors)
            .map(|i| i.message.clone()),
    );
    errors.extend(vap_errors.iter().map(|e| e.message.clone()));
    for note in set.notes.iter().chain(&evaluation.notes) {
        eprintln!("note: {}", note.message);
    }

    let object_json = |index: usize| {
        let o = &loaded.objects[index];
        json!({
            "apiVersion": o.id.api_version, "kind": o.id.kind,
            "namespace": o.id.namespace, "name": o.id.name,
        })
    };
    let action_names = |actions: &[Action]| -> String {
        let names: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
        names.join(",")
    };
    let mut rows: Vec<AuditRow> = Vec::new();
    for c in &set.constraints {
        let actions = c.enforcement.offline_actions();
        if actions.is_empty() {
            continue;
        }
        let action_names: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
        let severity = actions
            .iter()
            .map(|a| match a {
                EnforcementAction::Deny => Severity::High,
                EnforcementAction::Warn => Severity::Medium,
                EnforcementAction::Dryrun => Severity::Info,
            })
            .max()
            .unwrap_or(Severity::Info);
        let violations = evaluation
            .violations
            .iter()
            .filter(|v| v.constraint_kind == c.kind && v.constraint_name == c.name)
            .map(|v| {
                let mut entry = object_json(v.object);
                entry["message"] = json!(v.message);
                entry["enforcementAction"] = json!(action_names.join(","));
                entry
            })
            .collect();
        rows.push(AuditRow {
            kind: c.kind.clone(),
            name: c.name.clone(),
            action: action_names.join(","),
            severity,
            violations,
        });
    }
    if !vap.is_empty() {
        let namespace = |name: Option<&str>| {
            loaded
                .objects
                .iter()
                .find(|o| o.id.kind == "Namespace" && Some(o.id.name.as_str()) == name)
        };
        let mut by_binding: std::collections::BTreeMap<(String, String), AuditRow> =
            std::collections::BTreeMap::new();
        // Every binding of a loaded policy is listed, with 0 when nothing
        // violates it, as constraints are.
        for (policy, binding, actions) in vap.bindings() {
            by_binding.insert(
                (policy.to_string(), binding.to_string()),
                AuditRow {
                    kind: "ValidatingAdmissionPolicy".into(),
                    name: format!("{policy} (binding {binding})"),
                    action: action_names(actions),
                    severity: Action::severity(actions),
                    violations: Vec::new(),
                },
            );
        }
        for (index, object) in loaded.objects.iter().enumerate() {
            for d in vap.evaluate(
                object,
                Operation::Create,
                namespace(object.id.namespace.as_deref()),
            ) {
                if !matches!(d.kind, DecisionKind::Violation | DecisionKind::Error) {
                    continue;
                }
                let severity = d.severity();
                let action = action_names(&d.actions);
                let row = by_binding
                    .entry((d.policy.clone(), d.binding.clone()))
                    .or_insert_with(|| AuditRow {
                        kind: "ValidatingAdmissionPolicy".into(),
                        name: format!("{} (binding {})", d.policy, d.binding),
                        action: action.clone(),
                        severity,
                        violations: Vec::new(),
                    });
                row.severity = row.severity.max(severity);
                let mut entry = object_json(index);
                entry["message"] = json!(d.message);
                entry["enforcementAction"] = json!(action);
                row.violations.push(entry);
            }
        }
        rows.extend(by_binding.into_values());
    }

    let fail_on = args.fail_on.unwrap_or(Severity::Low);
    let failing = rows
        .iter()
        .any(|r| !r.violations.is_empty() && r.severity >= fail_on);
    let limit = |v: &[serde_json::Value]| -> Vec<serde_json::Value> {
        if args.violations_limit == 0 {
            v.to_vec()
        } else {
            v.iter().take(args.violations_limit).cloned().collect()
        }
    };
    let total: usize = rows.iter().map(|r| r.violations.len()).sum();
    let text = match args.output {
        AuditFormat::Json => {
            let value = json!({
                "auditedObjects": loaded.objects.len(),
                "totalViolations": total,
                "constraints": rows.iter().map(|r| json!({
                    "kind": r.kind, "name": r.name, "enforcementAction": r.action,
                    "totalViolations": r.violations.len(), "violations": limit(&r.violations),
                })).collect::<Vec<_>>(),
                "errors": errors,
            });
            let mut t = serde_json::to_string_pretty(&value)?;
            t.push('\n');
            t
        }
        AuditFormat::Text => {
            let mut t = String::new();
            let width = rows
                .iter()
                .map(|r| r.kind.len() + r.name.len() + 1)
                .max()
                .unwrap_or(10)
                .max(10);
            t.push_str(&format!(
                "{:<width$}  {:<10}  {:>10}\n",
                "CONSTRAINT", "ACTION", "VIOLATIONS"
            ));
            for r in &rows {
                t.push_str(&format!(
                    "{:<width$}  {:<10}  {:>10}\n",
                    format!("{}/{}", r.kind, r.name),
                    r.action,
                    r.violations.len()
                ));
            }
            for r in rows.iter().filter(|r| !r.violations.is_empty()) {
                t.push_str(&format!(
                    "\n{}/{}: {} violation{}\n",
                    r.kind,
                    r.name,
                    r.violations.len(),
                    if r.violations.len() == 1 { "" } else { "s" }
                ));
                for v in limit(&r.violations) {
                    let ns = v["namespace"]
                        .as_str()
                        .map(|n| format!("{n}/"))
                        .unwrap_or_default();
                    t.push_str(&format!(
                        "  {} {ns}{}: {}\n",
                        v["kind"].as_str().unwrap_or(""),
                        v["name"].as_str().unwrap_or(""),
                        v["message"].as_str().unwrap_or("")
                    ));
                }
                let shown = limit(&r.violations).len();
                if shown < r.violations.len() {
                    t.push_str(&format!(
                        "  ... and {} more (--violations-limit 0 lists all)\n",
                        r.violations.len() - shown
                    ));
                }
            }
            t.push_str(&format!(
                "\nSummary: {} objects audited, {} constraints and policy bindings, {total} violations\n",
                loaded.objects.len(),
                rows.len()
            ));
            t
        }
    };
    for e in &errors {
        eprintln!("error: {e}");
    }
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::from(if !errors.is_empty() {
        crate::EXIT_USAGE
    } else if failing {
        1
    } else {
        0
    }))
}

#[cfg(test)]
mod audit_tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: PolicyAuditArgs,
    }

    const SNAPSHOT: &str = r#"# palisade snapshot of context test
---
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8srequiredlabels
spec:
  crd:
    spec:
      names:
        kind: K8sRequiredLabels
      validation:
        openAPIV3Schema:
          type: object
          properties:
            labels:
              type: array
              items:
                type: string
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8srequiredlabels
      violation[{"msg": msg}] {
        provided := {label | input.review.object.metadata.labels[label]}
        required := {label | label := input.parameters.labels[_]}
        missing := required - provided
        count(missing) > 0
        msg := sprintf("you must provide labels: %v", [missing])
      }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: ns-must-have-owner
spec:
  match:
    kinds:
    - apiGroups: [""]
      kinds: ["Namespace"]
  parameters:
    labels: ["owner"]
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: pods-need-app
spec:
  enforcementAction: dryrun
  match:
    kinds:
    - apiGroups: [""]
      kinds: ["Pod"]
  parameters:
    labels: ["app"]
---
apiVersion: v1
kind: Namespace
metadata:
  name: a
---
apiVersion: v1
kind: Namespace
metadata:
  name: b
  labels:
    owner: team-b
---
apiVersion: v1
kind: Namespace
metadata:
  name: c
---
apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: a
  labels:
    app: web
spec:
  containers:
  - name: c
    image: x
"#;

    #[test]
    fn audits_a_snapshot_with_totals_per_constraint() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("cluster.yaml");
        std::fs::write(&input, SNAPSHOT).unwrap();
        let out = dir.path().join("audit.json");
        let cli = Cli::try_parse_from([
            "x",
            input.to_str().unwrap(),
            "-o",
            "json",
            "--out",
            out.to_str().unwrap(),
            "--violations-limit",
            "1",
        ])
        .unwrap();
        assert_eq!(
            audit(&cli.args).unwrap(),
            ExitCode::from(1),
            "deny violations fail at low"
        );
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let constraints = value["constraints"].as_array().unwrap();
        assert_eq!(constraints.len(), 2);
        let owner = constraints
            .iter()
            .find(|c| c["name"] == "ns-must-have-owner")
            .unwrap();
        assert_eq!(owner["totalViolations"], 2, "namespaces a and c");
        assert_eq!(
            owner["violations"].as_array().unwrap().len(),
            1,
            "listed up to the limit"
        );
        assert_eq!(owner["enforcementAction"], "deny");
        assert!(owner["violations"][0]["message"]
            .as_str()
            .unwrap()
            .contains("owner"));
        let app = constraints
            .iter()
            .find(|c| c["name"] == "pods-need-app")
            .unwrap();
        assert_eq!(app["totalViolations"], 0);
        assert_eq!(app["enforcementAction"], "dryrun");

        // Only dryrun violations would not fail at high.
        let cli = Cli::try_parse_from([
            "x",
            input.to_str().unwrap(),
            "--fail-on",
            "critical",
            "--out",
            out.to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(audit(&cli.args).unwrap(), ExitCode::from(0));
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains("K8sRequiredLabels/ns-must-have-owner: 2 violations\n  Namespace a: you must provide labels"), "{text}");
    }
}
