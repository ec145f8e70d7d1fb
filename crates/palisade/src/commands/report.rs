//! `palisade report`: the scan's findings plus the whole-input analyses
//! (Pod Security labels per namespace, NetworkPolicy coverage and connectivity,
//! RBAC risks and escalation paths) as one self-contained HTML file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use palisade_config::Pattern;
use palisade_model::{load_inputs, Input, LoadOptions, Object, RuleMeta, Severity};
use palisade_report::html::{
    EscalationView, GraphEdge, HtmlExtras, NamespaceIsolation, NamespacePosture, NetworkSection,
    RbacSection, WorkloadIsolation,
};

use crate::registry::all_rules;

/// Most NetworkPolicy connections written into the report: beyond this the
/// list is for a query tool (`palisade netpol list`), not for reading.
const MAX_CONNECTIONS: usize = 2_000;
/// Above this many workloads the pairwise connection list is not computed: it
/// grows with the square of the workloads (10,000 objects ran out of memory),
/// and `palisade netpol list --focus-workload` answers the questions instead.
const MAX_CONNECTIVITY_WORKLOADS: usize = 300;

pub const REPORT_EXAMPLES: &str = "\
Examples:
  # Manifests in, one HTML file out (open it in any browser, offline)
  palisade report k8s/ --out report.html

  # The live cluster
  palisade report --cluster --out cluster.html

  # A filtered view can be linked to: the filters live in the URL fragment
  #   report.html#severity=high&ns=shop&q=privileged

The report holds: findings by severity, layer, namespace and rule; the Pod Security labels of
every namespace; compliance with NSA, CIS and MITRE; NetworkPolicy coverage and the allowed
connections; RBAC risks and escalation paths; every finding with its source line (Secret values
redacted) and its fix. Exit status: 0 when written, 1 with --fail-on and findings at or above it,
2 on usage or input errors (the report is still written).";

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Files or directories to report on; `-` reads standard input
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// A file or directory (repeatable); `-` reads standard input
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filenames: Vec<String>,

    /// The HTML file to write
    #[arg(
        long = "out",
        value_name = "FILE",
        default_value = "palisade-report.html"
    )]
    pub out: PathBuf,

    /// The report's title
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,

    /// Exit with 1 when a finding is at or above this severity [default: never]
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    /// Pod Security Standards level where no Namespace sets one: baseline or restricted
    /// [default: restricted]
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<String>,

    /// Pod Security Standards version (v1.0 .. v1.37, or latest) [default: latest]
    #[arg(long = "pss-version", value_name = "VERSION")]
    pub pss_version: Option<String>,

    /// Turn a rule off (repeatable; globs work)
    #[arg(long, value_name = "RULE")]
    pub disable: Vec<String>,

    /// Turn an optional rule on (repeatable; globs work)
    #[arg(long, value_name = "RULE")]
    pub enable: Vec<String>,

    /// Configuration file [default: the first .palisade.yaml found upward from the first PATH]
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Do not read any configuration file
    #[arg(long)]
    pub no_config: bool,

    /// Also evaluate these admission policies (Gatekeeper, ValidatingAdmissionPolicy)
    #[arg(long, value_name = "PATH")]
    pub policies: Vec<PathBuf>,

    #[command(flatten)]
    pub kubernetes_version: super::cluster_input::KubernetesVersionArg,

    /// Namespace for objects that have none; with --cluster, the only namespace read
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    #[command(flatten)]
    pub cluster: super::cluster_input::ClusterArgs,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

pub fn run(args: &ReportArgs) -> Result<ExitCode> {
    let inputs: Vec<Input> = args
        .paths
        .iter()
        .chain(&args.filenames)
        .map(|p| Input::parse(p))
        .collect();
    if inputs.is_empty() && !args.cluster.enabled() {
        bail!("nothing to report on: give a PATH, `-f PATH`, `-` for standard input, or --cluster");
    }
    let (mut config, config_errors) =
        super::analysis::configuration(args.config.as_deref(), args.no_config, &inputs)?;
    for rule in &args.disable {
        config.disable.push(Pattern::rule(rule));
    }
    for rule in &args.enable {
        config.enable.push(Pattern::rule(rule));
    }
    let policy =
        super::analysis::pss_policy(args.level.as_deref(), args.pss_version.as_deref(), &config)?;
    let options = LoadOptions {
        default_namespace: args.namespace.clone(),
    };
    let mut loaded = load_inputs(&inputs, &options);
    let mut recorded_versions = super::cluster_input::recorded_server_versions(&loaded);
    if args.cluster.enabled() {
        let scope = match &args.namespace {
            Some(ns) => palisade_cluster::snapshot::Scope::Namespace(ns.clone()),
            None => palisade_cluster::snapshot::Scope::All,
        };
        // The server's version too, unless given (the rbac-risk checks depend on it).
        let cluster = super::cluster_input::load_snapshot(
            &args.cluster,
            scope,
            None,
            args.kubernetes_version.version.is_none(),
        )?;
        super::cluster_input::absorb(&mut loaded, cluster.loaded);
        recorded_versions.extend(cluster.server_version);
    }
    super::cluster_input::drop_controlled(&mut loaded.objects);
    let kubernetes_version = super::cluster_input::kubernetes_version(
        args.kubernetes_version.version,
        &recorded_versions,
    );

    // The same analyses as `palisade scan`, with the NetworkPolicy analyzer
    // built for the report's coverage section even without policies.
    let plan = super::analysis::Plan {
        config: &config,
        pss: policy,
        in_framework: &|_| true,
        policies: &args.policies,
        always_analyze_network: true,
        progress: &indicatif::ProgressBar::hidden(),
    };
    let analysis =
        super::analysis::analyze(&loaded.objects, &plan, kubernetes_version, &mut |_| {});
    let findings = analysis.findings;

    let extras = HtmlExtras {
        title: args.title.clone().unwrap_or_default(),
        namespaces: namespaces(&loaded.objects),
        network: analysis.network.map(network),
        rbac: Some(rbac_section(&analysis.rbac)),
    };
    let rules: Vec<&RuleMeta> = all_rules();
    let mut report = palisade_report::Report::new(
        env!("CARGO_PKG_VERSION"),
        &loaded,
        &findings,
        &rules,
        args.fail_on.unwrap_or(Severity::Critical),
    );
    report.checked_kind = crate::registry::is_checked_kind;
    report
        .errors
        .extend(config_errors.iter().chain(&analysis.errors));
    report.sort();

    let file =
        File::create(&args.out).with_context(|| format!("cannot write {}", args.out.display()))?;
    let mut out = BufWriter::new(file);
    palisade_report::html::render(&report, &extras, &mut out)?;
    out.flush()
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let summary = report.summary();
    eprintln!(
        "wrote {}: {} findings on {} objects",
        args.out.display(),
        summary.findings,
        summary.objects
    );
    let code = if !report.errors.is_empty() {
        crate::EXIT_USAGE
    } else if args.fail_on.is_some() {
        report.exit_code()
    } else {
        0
    };
    Ok(ExitCode::from(code))
}

/// The Pod Security labels of every Namespace in the input, by name.
fn namespaces(objects: &[Object]) -> Vec<NamespacePosture> {
    let mut out: Vec<NamespacePosture> = objects
        .iter()
        .filter(|o| o.kind() == "Namespace")
        .map(|o| {
            let labels: Vec<(&str, &str)> = o.labels().collect();
            let mode = |mode: &str| {
                let key = format!("pod-security.kubernetes.io/{mode}");
                let level = labels.iter().find(|(k, _)| *k == key)?.1;
                let version_key = format!("{key}-version");
                let version = labels
                    .iter()
                    .find(|(k, _)| *k == version_key)
                    .map_or("latest", |(_, v)| v);
                Some(format!("{level}:{version}"))
            };
            NamespacePosture {
                name: o.id.name.clone(),
                enforce: mode("enforce"),
                audit: mode("audit"),
                warn: mode("warn"),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    out
}

/// NetworkPolicy coverage and the allowed connections; an analysis error is
/// shown in the section rather than failing the report.
fn network(analyzer: Result<palisade_netpol::connlist::Analyzer, String>) -> NetworkSection {
    let analyzer = match analyzer {
        Ok(analyzer) => analyzer,
        Err(e) => {
            return NetworkSection {
                error: Some(e),
                ..NetworkSection::default()
            }
        }
    };
    let coverage = palisade_netpol::coverage::coverage(&analyzer);
    let mut section = NetworkSection {
        workloads: coverage
            .workloads
            .iter()
            .map(|w| WorkloadIsolation {
                workload: w.workload.clone(),
                namespace: w.namespace.clone(),
                ingress: w.ingress_isolated(),
                egress: w.egress_isolated(),
            })
            .collect(),
        namespaces: coverage
            .namespaces
            .iter()
            .map(|n| NamespaceIsolation {
                namespace: n.namespace.clone(),
                deny_ingress: n.default_deny_ingress.clone(),
                deny_egress: n.default_deny_egress.clone(),
            })
            .collect(),
        ..NetworkSection::default()
    };
    if section.workloads.len() > MAX_CONNECTIVITY_WORKLOADS {
        section.error = Some(format!(
            "{} workloads: connections are listed up to {MAX_CONNECTIVITY_WORKLOADS} workloads; \
             use `palisade netpol list --focus-workload NAME`",
            section.workloads.len()
        ));
        return section;
    }
    match analyzer.list(&palisade_netpol::connlist::ListOptions::default()) {
        Ok(list) => {
            section.omitted_connections = list.connections.len().saturating_sub(MAX_CONNECTIONS);
            section.connections = list
                .connections
                .iter()
                .take(MAX_CONNECTIONS)
                .map(|c| GraphEdge {
                    from: c.src.display.clone(),
                    to: c.dst.display.clone(),
                    label: c.conns.to_string(),
                })
                .collect();
        }
        Err(e) => section.error = Some(e),
    }
    section
}

/// RBAC risks (counted by check) and escalation paths, with their graph.
fn rbac_section(rbac: &palisade_rbac::Rbac) -> RbacSection {
    let mut risks: std::collections::BTreeMap<(&str, Severity), usize> = Default::default();
    for risk in rbac.risks() {
        *risks.entry((risk.check, risk.severity)).or_default() += 1;
    }
    let mut risks: Vec<(String, Severity, usize)> = risks
        .into_iter()
        .map(|((check, severity), n)| (check.to_string(), severity, n))
        .collect();
    risks.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let paths = rbac.escalation_paths();
    let mut edges: Vec<GraphEdge> = Vec::new();
    let views = paths
        .iter()
        .map(|path| {
            let steps = path
                .steps
                .iter()
                .map(|step| {
                    let edge = GraphEdge {
                        from: step.from.describe(),
                        to: step.to.describe(),
                        label: step.capability.clone(),
                    };
                    if !edges.contains(&edge) {
                        edges.push(edge);
                    }
                    let binding = rbac
                        .binding(step.binding)
                        .map(|b| b.describe())
                        .unwrap_or_default();
                    format!(
                        "{} can {} through {} → {}",
                        step.from.describe(),
                        step.capability,
                        binding,
                        step.to.describe()
                    )
                })
                .collect();
            EscalationView {
                start: path.start.describe(),
                steps,
                end: path
                    .steps
                    .last()
                    .map(|s| s.to.describe())
                    .unwrap_or_default(),
                cluster_admin: path.cluster_admin,
                severity: path.end_severity,
            }
        })
        .collect();
    RbacSection {
        paths: views,
        edges,
        risks,
    }
}
