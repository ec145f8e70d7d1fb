//! The analyses `palisade scan` and `palisade report` share, composed once:
//! Pod Security and the hardening checks per object, then the whole-input
//! analyses (RBAC risks, NetworkPolicy lint, Gatekeeper policies), then the
//! exemptions. Each analysis lives in its own crate; this only wires them.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use indicatif::ProgressBar;
use palisade_config::Config;
use palisade_model::{Finding, Input, InputError, Object, RuleMeta};
use palisade_netpol::connlist::Analyzer;
use rayon::prelude::*;

/// What to run and how.
pub struct Plan<'a> {
    pub config: &'a Config,
    /// The Pod Security level for objects whose namespace sets none.
    pub pss: palisade_pss::Policy,
    /// Rules outside the chosen compliance framework are dropped.
    pub in_framework: &'a (dyn Fn(&RuleMeta) -> bool + Sync),
    /// `--policies`: Gatekeeper templates and constraints, VAPs and bindings.
    pub policies: &'a [PathBuf],
    /// Build the NetworkPolicy analyzer even when the input has no policies
    /// (the report shows coverage either way; the scan only lints policies).
    pub always_analyze_network: bool,
    /// Advanced once per object checked (hidden off a terminal).
    pub progress: &'a ProgressBar,
}

/// Everything found, and what the later stages reuse.
pub struct Analysis {
    pub findings: Vec<Finding>,
    /// Problems of the policies and of the configuration's exemptions.
    pub errors: Vec<InputError>,
    pub rbac: palisade_rbac::Rbac,
    /// `None` when not built (a scan of input without policies); `Err` when
    /// the policies cannot be analysed (said once on standard error).
    pub network: Option<Result<Analyzer, String>>,
}

/// NetworkPolicy lint rules that repeat a hardening check of `network/`
/// (`policy-selects-no-pod`, `pod-not-isolated`) or judge every namespace of
/// the input: `palisade netpol lint` runs them, the scan only when enabled.
pub const NETPOL_RULES_OPTIONAL_IN_SCAN: &[&str] = &[
    "netpol/policy-selects-no-workload",
    "netpol/workload-not-isolated",
    "netpol/namespace-without-default-deny",
];

const POLICY_KINDS: &[&str] = &[
    "NetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterNetworkPolicy",
];

/// Runs every analysis on `objects` for a cluster of the given Kubernetes
/// version (`None`: unknown), which the RBAC risk checks depend on (from 1.35
/// `get` alone no longer opens `pods/exec`); `lap` marks the end of each phase
/// (for `--timings`).
pub fn analyze(
    objects: &[Object],
    plan: &Plan,
    kubernetes_version: Option<palisade_rbac::KubernetesVersion>,
    lap: &mut dyn FnMut(&str),
) -> Analysis {
    let config = plan.config;
    let in_framework = plan.in_framework;
    let scanner = palisade_pss::Scanner::new(objects, plan.pss);
    let check_options = palisade_checks::CheckOptions {
        allowed_registries: config.allowed_registries.clone(),
        required_labels: config.required_labels.clone(),
    };
    let mut checker = palisade_checks::Checker::new(objects, &check_options);
    checker.enable(|rule| config.is_enabled(rule.meta.id));
    checker.retain(|rule| !config.is_disabled(rule.meta.id) && in_framework(&rule.meta));
    lap("index");
    let pss_rule = |id: &str| palisade_pss::rule(id).is_none_or(in_framework);
    let progress = plan.progress;
    // The whole-input NetworkPolicy analysis runs beside the per-object checks.
    let (mut findings, network) = rayon::join(
        || {
            objects
                .par_iter()
                .flat_map_iter(|object| {
                    let mut found = scanner.scan(object);
                    found.retain(|f| pss_rule(f.rule));
                    found.extend(checker.check(object));
                    progress.inc(1);
                    found
                })
                .collect::<Vec<Finding>>()
        },
        || network_analysis(objects, plan),
    );
    progress.finish_and_clear();
    if let Some((_, lint)) = &network {
        findings.extend(lint.iter().cloned());
    }
    // RBAC risk checks judge the effective policy of the whole input (aggregation,
    // bindings); they overlap the per-manifest `rbac/` checks, so they are optional.
    let rbac = palisade_rbac::Rbac::from_objects(objects);
    let risk_options = palisade_rbac::RiskOptions { kubernetes_version };
    findings.extend(rbac_risk_findings(
        &rbac,
        objects,
        &risk_options,
        config,
        in_framework,
    ));
    lap("analyze");
    let mut errors = Vec::new();
    if !plan.policies.is_empty() {
        // The policy lint's warnings are for `policy test`; a scan does not show them.
        let run = super::policy::run_policies(plan.policies, objects, objects, false);
        findings.extend(run.findings);
        errors = run.errors;
    }
    errors.extend(palisade_config::apply(&mut findings, objects, config));
    lap("exemptions");
    Analysis {
        findings,
        errors,
        rbac,
        network: network.map(|(analyzer, _)| analyzer),
    }
}

/// The NetworkPolicy analyzer and its lint findings, filtered by the
/// configuration; `None` when there is nothing to analyse.
fn network_analysis(
    objects: &[Object],
    plan: &Plan,
) -> Option<(Result<Analyzer, String>, Vec<Finding>)> {
    let has_policies = objects.iter().any(|o| POLICY_KINDS.contains(&o.kind()));
    if !has_policies && !plan.always_analyze_network {
        return None;
    }
    let resources = palisade_netpol::read_resources(objects);
    for warning in &resources.warnings {
        eprintln!("warning: NetworkPolicy analysis: {warning}");
    }
    let analyzer = Analyzer::new(resources, false);
    let lint = match &analyzer {
        Ok(analyzer) if has_policies => {
            let config = plan.config;
            let mut lint = palisade_netpol::lint::lint(objects, analyzer);
            lint.retain(|f| {
                let wanted = if NETPOL_RULES_OPTIONAL_IN_SCAN.contains(&f.rule) {
                    config.is_enabled(f.rule)
                } else {
                    true
                };
                wanted
                    && !config.is_disabled(f.rule)
                    && palisade_netpol::rules::ALL
                        .iter()
                        .find(|r| r.id == f.rule)
                        .is_none_or(|r| (plan.in_framework)(r))
            });
            lint
        }
        Ok(_) => Vec::new(),
        Err(e) => {
            eprintln!("warning: NetworkPolicies not analysed: {e}");
            Vec::new()
        }
    };
    Some((analyzer, lint))
}

/// The configuration: `--config FILE`, else `.palisade.yaml` found upward from
/// the first path (or the working directory for stdin), unless `--no-config`.
/// A broken configuration file is an input error, reported with the others.
pub fn configuration(
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

/// The Pod Security policy for objects whose namespace sets none: the flags,
/// else the configuration, else `restricted:latest`.
pub fn pss_policy(
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
fn rbac_risk_findings(
    rbac: &palisade_rbac::Rbac,
    objects: &[Object],
    options: &palisade_rbac::RiskOptions,
    config: &Config,
    in_framework: &(dyn Fn(&RuleMeta) -> bool + Sync),
) -> Vec<Finding> {
    let risk_rules: Vec<&str> = palisade_rbac::rules()
        .iter()
        .filter(|r| config.is_enabled(r.id) && !config.is_disabled(r.id) && in_framework(r))
        .map(|r| r.id)
        .collect();
    if risk_rules.is_empty() {
        return Vec::new();
    }
    let mut risks = palisade_rbac::risk_findings_with(rbac, objects, options);
    risks.retain(|f| risk_rules.contains(&f.rule));
    risks
}
