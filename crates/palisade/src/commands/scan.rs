//! `palisade scan`: load → Pod Security Standards + checks → exemptions → report.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use palisade_config::Pattern;
use palisade_model::{load_inputs, Input, LoadOptions, RuleMeta, Severity};

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
        super::analysis::configuration(args.config.as_deref(), args.no_config, &inputs)?;
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
    let policy =
        super::analysis::pss_policy(args.level.as_deref(), args.pss_version.as_deref(), &config)?;
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
        // The server's version too, unless given (the rbac-risk checks depend on it).
        Some(super::cluster_input::load_snapshot(
            &args.cluster,
            scope,
            None,
            args.kubernetes_version.version.is_none(),
        )?)
    } else {
        None
    };
    let progress = progress_bar();
    progress.set_message("reading manifests");
    let options = LoadOptions {
        default_namespace: args.namespace.clone(),
    };
    let mut loaded = load_inputs(&inputs, &options);
    let mut recorded_versions = super::cluster_input::recorded_server_versions(&loaded);
    if let Some(cluster) = from_cluster {
        super::cluster_input::absorb(&mut loaded, cluster.loaded);
        recorded_versions.extend(cluster.server_version);
    }
    super::cluster_input::drop_controlled(&mut loaded.objects);
    let kubernetes_version = super::cluster_input::kubernetes_version(
        args.kubernetes_version.version,
        &recorded_versions,
    );
    timer.lap("load");

    progress.set_length(loaded.objects.len() as u64);
    progress.set_message("checking");
    let plan = super::analysis::Plan {
        config: &config,
        pss: policy,
        in_framework: &in_framework,
        policies: &args.policies,
        always_analyze_network: false,
        progress: &progress,
    };
    let analysis =
        super::analysis::analyze(&loaded.objects, &plan, kubernetes_version, &mut |phase| {
            timer.lap(phase)
        });
    let findings = analysis.findings;

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
    report
        .errors
        .extend(config_errors.iter().chain(&analysis.errors));
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
