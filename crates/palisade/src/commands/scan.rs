//! `palisade scan`: load → Pod Security Standards + checks → exemptions → report.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use palisade_config::{Config, Pattern};
use palisade_model::{load_inputs, Finding, Input, InputError, LoadOptions, RuleMeta, Severity};
use rayon::prelude::*;

use crate::cli::ScanArgs;
use crate::registry::all_rules;

pub fn run(args: &ScanArgs, color: bool) -> Result<ExitCode> {
    let inputs: Vec<Input> = args
        .paths
        .iter()
        .chain(&args.filenames)
        .map(|p| Input::parse(p))
        .collect();
    if inputs.is_empty() && !args.cluster.enabled() {
        bail!("nothing to scan: give a PATH, `-f PATH`, `-` for standard input, or --cluster (see `palisade scan --help`)");
    }
    let (mut config, config_errors) =
        configuration(args.config.as_deref(), args.no_config, &inputs)?;
    for rule in &args.disable {
        config.disable.push(Pattern::rule(rule));
    }
    for rule in &args.enable {
        config.enable.push(Pattern::rule(rule));
    }
    if args.no_manifest_exemptions {
        config.in_manifest_exemptions = false;
    }
    if args.peer_annotations {
        config.peer_annotations = true;
    }
    let policy = pss_policy(args.level.as_deref(), args.pss_version.as_deref(), &config)?;
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(Severity::Low);
    let in_framework = |rule: &RuleMeta| {
        args.framework
            .is_none_or(|f| rule.controls.iter().any(|c| c.framework == f))
    };

    let mut timer = Timer::new(args.timings);
    // The cluster first: it draws its own progress bar.
    let from_cluster = if args.cluster.enabled() {
        let scope = match &args.namespace {
            Some(ns) => palisade_cluster::snapshot::Scope::Namespace(ns.clone()),
            None => palisade_cluster::snapshot::Scope::All,
        };
        Some(super::cluster_input::load(&args.cluster, scope, None)?)
    } else {
        None
    };
    let progress = progress_bar();
    progress.set_message("reading manifests");
    let options = LoadOptions {
        default_namespace: args.namespace.clone(),
    };
    let mut loaded = load_inputs(&inputs, &options);
    if let Some(cluster) = from_cluster {
        super::cluster_input::absorb(&mut loaded, cluster);
    }
    super::cluster_input::drop_controlled(&mut loaded.objects);
    timer.lap("load");

    progress.set_length(loaded.objects.len() as u64);
    progress.set_message("checking");
    let scanner = palisade_pss::Scanner::new(&loaded.objects, policy);
    let check_options = palisade_checks::CheckOptions {
        allowed_registries: config.allowed_registries.clone(),
        required_labels: config.required_labels.clone(),
    };
    let mut checker = palisade_checks::Checker::new(&loaded.objects, &check_options);
    timer.lap("index");
    checker.enable(|rule| config.is_enabled(rule.meta.id));
    checker.retain(|rule| !config.is_disabled(rule.meta.id) && in_framework(&rule.meta));
    let pss_rule = |id: &str| palisade_pss::rule(id).is_none_or(in_framework);
    let mut findings: Vec<Finding> = loaded
        .objects
        .par_iter()
        .flat_map_iter(|object| {
            let mut found = scanner.scan(object);
            found.retain(|f| pss_rule(f.rule));
            found.extend(checker.check(object));
            progress.inc(1);
            found
        })
        .collect();
    progress.finish_and_clear();
    // RBAC risk checks judge the effective policy of the whole input (aggregation,
    // bindings); they overlap the per-manifest `rbac/` checks, so they are optional.
    findings.extend(rbac_risk_findings(
        &palisade_rbac::Rbac::from_objects(&loaded.objects),
        &loaded.objects,
        &config,
        &in_framework,
    ));
    timer.lap("analyze");
    let policy_errors = apply_policies(args, &loaded.objects, &mut findings);
    let exemption_errors = palisade_config::apply(&mut findings, &loaded.objects, &config);
    timer.lap("exemptions");

    let rules: Vec<&RuleMeta> = all_rules()
        .into_iter()
        .filter(|r| in_framework(r))
        .collect();
    let mut report = palisade_report::Report::new(
        env!("CARGO_PKG_VERSION"),
        &loaded,
        &findings,
        &rules,
        fail_on,
    );
    report.checked_kind = crate::registry::is_checked_kind;
    report.framework = args.framework;
    report.errors.extend(
        config_errors
            .iter()
            .chain(&exemption_errors)
            .chain(&policy_errors),
    );
    report.sort();
    timer.lap("report");

    super::output::write_report(&report, &args.output, color)?;
    timer.lap("render");
    let code = report.exit_code();
    // The process ends right after this: freeing millions of tree nodes one by
    // one would cost a fifth of the run, and the OS reclaims them at once.
    std::mem::forget(report);
    std::mem::forget(findings);
    std::mem::forget(loaded);
    Ok(ExitCode::from(code))
}

/// Phase durations for `--timings` (hidden: for profiling, not a stable interface).
struct Timer {
    enabled: bool,
    last: std::time::Instant,
}

impl Timer {
    fn new(enabled: bool) -> Self {
        Timer {
            enabled,
            last: std::time::Instant::now(),
        }
    }

    fn lap(&mut self, phase: &str) {
        if self.enabled {
            eprintln!(
                "{phase:>12}: {:>8.1} ms",
                self.last.elapsed().as_secs_f64() * 1000.0
            );
        }
        self.last = std::time::Instant::now();
    }
}

/// `--policies`: Gatekeeper templates and constraints evaluated on the input (with
/// the input as inventory); their violations join the findings. Returns the
/// policies' own problems as input errors.
fn apply_policies(
    args: &ScanArgs,
    objects: &[palisade_model::Object],
    findings: &mut Vec<Finding>,
) -> Vec<InputError> {
    if args.policies.is_empty() {
        return Vec::new();
    }
    let run = super::policy::run_policies(&args.policies, objects, objects);
    findings.extend(run.findings);
    run.errors
}

/// The configuration: `--config FILE`, else `.palisade.yaml` found upward from
/// the first path (or the working directory for stdin), unless `--no-config`.
/// A broken configuration file is an input error, reported with the others.
pub(super) fn configuration(
    config: Option<&Path>,
    no_config: bool,
    inputs: &[Input],
) -> Result<(Config, Vec<InputError>)> {
    if no_config {
        return Ok((Config::default(), Vec::new()));
    }
    let path = match config {
        Some(path) => {
            if !path.is_file() {
                bail!("--config: {} is not a file", path.display());
            }
            Some(path.to_path_buf())
        }
        None => {
            let start = inputs
                .iter()
                .find_map(|i| match i {
                    Input::Path(p) => Some(p.as_path()),
                    Input::Stdin => None,
                })
                .unwrap_or(Path::new("."));
            palisade_config::discover(start)
        }
    };
    match path {
        None => Ok((Config::default(), Vec::new())),
        Some(path) => match palisade_config::load(&path) {
            Ok(config) => Ok((config, Vec::new())),
            Err(errors) => Ok((Config::default(), errors)),
        },
    }
}

/// A progress bar on standard error when it is a terminal; hidden in pipes and CI logs.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos}/{len} objects")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// The Pod Security policy for objects whose namespace sets none: the flags,
/// else the configuration, else `restricted:latest`.
pub(super) fn pss_policy(
    level: Option<&str>,
    version: Option<&str>,
    config: &Config,
) -> Result<palisade_pss::Policy> {
    let level = level
        .or(config.pss_level.as_deref())
        .unwrap_or("restricted");
    let version = version
        .or(config.pss_version.as_deref())
        .unwrap_or("latest");
    Ok(palisade_pss::Policy::new(
        level.parse().map_err(|e| anyhow!("--level: {e}"))?,
        version.parse().map_err(|e| anyhow!("--pss-version: {e}"))?,
    ))
}

/// The RBAC layer's risk findings for the rules the configuration enables:
/// they judge the effective policy of the whole input and overlap the
/// per-manifest `rbac/` checks, so they are optional.
pub(super) fn rbac_risk_findings(
    rbac: &palisade_rbac::Rbac,
    objects: &[palisade_model::Object],
    config: &Config,
    in_framework: &dyn Fn(&RuleMeta) -> bool,
) -> Vec<Finding> {
    let risk_rules: Vec<&str> = palisade_rbac::rules()
        .iter()
        .filter(|r| config.is_enabled(r.id) && !config.is_disabled(r.id) && in_framework(r))
        .map(|r| r.id)
        .collect();
    if risk_rules.is_empty() {
        return Vec::new();
    }
    let mut risks = palisade_rbac::risk_findings(rbac, objects);
    risks.retain(|f| risk_rules.contains(&f.rule));
    risks
}
