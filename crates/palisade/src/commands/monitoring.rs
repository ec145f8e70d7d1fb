//! `palisade install monitoring`: a PrometheusRule on the metrics Palisade
//! exports (docs/metrics.md), and the Grafana dashboard for the same metrics.
//!
//! Every expression names only metrics that `palisade serve` (crates/palisade-server/src/metrics.rs)
//! or the syscall sensor (crates/palisade-sensor/src/drops.rs) registers; the
//! tests parse those files, so a renamed metric or label fails here rather than
//! in a silent alert.

use clap::Args;

/// The Grafana dashboard (also shipped as a file for Grafana's provisioning).
pub const DASHBOARD_JSON: &str = include_str!("../../../../deploy/grafana/palisade-dashboard.json");

#[derive(Debug, Clone, Args)]
pub struct MonitoringArgs {
    /// Namespace of the PrometheusRule (and dashboard ConfigMap)
    #[arg(
        short = 'n',
        long,
        value_name = "NAMESPACE",
        default_value = "palisade"
    )]
    pub namespace: String,

    /// A label for the PrometheusRule, KEY=VALUE (repeatable): the Prometheus Operator selects
    /// rules by labels, e.g. `release=kube-prometheus-stack`
    #[arg(long = "rule-label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub rule_labels: Vec<(String, String)>,

    /// A plain Prometheus rules file (for `rule_files:`) instead of a PrometheusRule
    #[arg(long)]
    pub plain: bool,

    /// Also print the Grafana dashboard as a ConfigMap labelled for Grafana's dashboard sidecar
    /// (grafana_dashboard: "1")
    #[arg(long, conflicts_with = "plain")]
    pub dashboard: bool,

    /// Days before the serving certificate expires at which to warn
    #[arg(long, value_name = "DAYS", default_value_t = 14)]
    pub cert_warning_days: u32,

    /// Seconds of 99th-percentile admission latency above which to warn (the API server's
    /// webhook timeout is 10 s; `serve --time-budget` defaults to 3 s)
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0)]
    pub latency_threshold: f64,

    /// Namespaces whose privileged pods are expected (a PromQL regular expression on the
    /// namespace; empty for none): PalisadePrivilegedPodsRunning ignores them. CNI, CSI and
    /// kube-proxy pods run privileged in kube-system on most clusters
    #[arg(long, value_name = "REGEX", default_value = "kube-system")]
    pub privileged_namespaces: String,
}

impl Default for MonitoringArgs {
    fn default() -> Self {
        MonitoringArgs {
            namespace: "palisade".into(),
            rule_labels: Vec::new(),
            plain: false,
            dashboard: false,
            cert_warning_days: 14,
            latency_threshold: 1.0,
            privileged_namespaces: "kube-system".into(),
        }
    }
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected KEY=VALUE"))?;
    if k.is_empty() {
        return Err(format!("{s:?}: empty key"));
    }
    Ok((k.to_string(), v.to_string()))
}

/// One alerting rule.
pub struct Alert {
    pub name: &'static str,
    pub expr: String,
    pub for_: &'static str,
    pub severity: &'static str,
    pub summary: &'static str,
    pub description: &'static str,
}

/// The alerts, in the order they are printed.
pub fn alerts(args: &MonitoringArgs) -> Vec<Alert> {
    vec![
        // The seed's first alert counted Gatekeeper's audit gauge with increase()
        // and fired for 0m on every single series; this sums Palisade's admission
        // counter per rule and action, so one alert says what is violated and how.
        Alert {
            name: "PalisadePolicyViolationsRising",
            expr: "sum by (source, rule, enforcement_action) (increase(palisade_violations_total[15m])) > 0".into(),
            for_: "5m",
            severity: "warning",
            summary: "Policy violations at admission",
            description: "{{ $value | humanize }} violations of {{ $labels.rule }} ({{ $labels.source }}, action {{ $labels.enforcement_action }}) in the last 15 minutes.",
        },
        // Falco's priorities above Error: Emergency, Alert, Critical.
        Alert {
            name: "PalisadeCriticalRuntimeDetection",
            expr: "sum by (rule, source) (increase(palisade_detect_events_total{priority=~\"Emergency|Alert|Critical\"}[5m])) > 0".into(),
            for_: "0m",
            severity: "critical",
            summary: "Critical runtime detection",
            description: "Runtime rule {{ $labels.rule }} ({{ $labels.source }}) matched {{ $value | humanize }} times in the last 5 minutes.",
        },
        // What can be said today about privileged pods: pods breaking the
        // baseline level (privileged, host namespaces, hostPath...) that were
        // admitted because their namespace only warns or audits.
        Alert {
            name: "PalisadeBaselineViolationsAdmitted",
            expr: "sum by (enforcement_action) (increase(palisade_violations_total{source=\"pod-security\", rule=\"pss/baseline\", enforcement_action=~\"warn|audit\"}[15m])) > 0".into(),
            for_: "0m",
            severity: "warning",
            summary: "Pods breaking the baseline Pod Security level were admitted",
            description: "{{ $value | humanize }} requests broke the baseline level (privileged containers, host namespaces...) and were admitted with {{ $labels.enforcement_action }} only in the last 15 minutes.",
        },
        Alert {
            name: "PalisadeSensorDropping",
            expr: "sum by (category) (rate(palisade_sensor_drops_total[5m])) / (sum by (category) (rate(palisade_sensor_drops_total[5m])) + sum by (category) (rate(palisade_sensor_events_total[5m]))) > 0.01".into(),
            for_: "10m",
            severity: "warning",
            summary: "The syscall sensor drops events",
            description: "{{ $value | humanizePercentage }} of {{ $labels.category }} syscall records were dropped (ring buffer full): runtime detections may be missed.",
        },
        Alert {
            name: "PalisadeWebhookFailures",
            expr: "sum by (cause, failure_mode) (increase(palisade_admission_failures_total[10m])) > 0".into(),
            for_: "5m",
            severity: "warning",
            summary: "Admission requests answered by the failure mode",
            description: "{{ $value | humanize }} admission requests were answered by the {{ $labels.failure_mode }} failure mode ({{ $labels.cause }}) in the last 10 minutes.",
        },
        Alert {
            name: "PalisadeWebhookBadRequests",
            expr: "sum by (kind) (increase(palisade_admission_requests_total{decision=\"bad_request\"}[10m])) > 0".into(),
            for_: "10m",
            severity: "warning",
            summary: "Admission requests the webhook could not read",
            description: "{{ $value | humanize }} {{ $labels.kind }} admission requests could not be decoded in the last 10 minutes.",
        },
        Alert {
            name: "PalisadeWebhookLatencyHigh",
            expr: format!(
                "histogram_quantile(0.99, sum by (le) (rate(palisade_admission_duration_seconds_bucket[5m]))) > {}",
                args.latency_threshold
            ),
            for_: "10m",
            severity: "warning",
            summary: "Admission latency is high",
            description: "99th percentile admission latency is {{ $value | humanizeDuration }}; the API server gives up at its webhook timeout.",
        },
        Alert {
            name: "PalisadePolicyReloadFailing",
            expr: "increase(palisade_policy_reloads_total{result=\"failure\"}[15m]) > 0".into(),
            for_: "0m",
            severity: "warning",
            summary: "A policy change could not be loaded",
            description: "A policy reload failed: the last good policies stay in force, the change is not enforced.",
        },
        Alert {
            name: "PalisadeCertificateExpiringSoon",
            expr: format!(
                "(palisade_certificate_expiry_timestamp_seconds - time()) < {} * 86400",
                args.cert_warning_days
            ),
            for_: "1h",
            severity: "warning",
            summary: "The webhook's serving certificate expires soon",
            description: "The serving certificate expires in {{ $value | humanizeDuration }}; when it does, the API server cannot call the webhook.",
        },
        Alert {
            name: "PalisadeCertificateExpiryImminent",
            expr: "(palisade_certificate_expiry_timestamp_seconds - time()) < 2 * 86400".into(),
            for_: "10m",
            severity: "critical",
            summary: "The webhook's serving certificate expires within two days",
            description: "The serving certificate expires in {{ $value | humanizeDuration }}.",
        },
        Alert {
            name: "PalisadeCertificateReloadFailing",
            expr: "increase(palisade_certificate_reloads_total{result=\"failure\"}[15m]) > 0".into(),
            for_: "0m",
            severity: "warning",
            summary: "A renewed serving certificate could not be loaded",
            description: "Reading the serving certificate failed; the old certificate is still served.",
        },
        // The seed's third alert: kube-state-metrics has no metric for
        // securityContext.privileged, so its expression never fired.
        // `serve --cluster` watches Pods and keeps this gauge; a privileged
        // pod that keeps running (not a short debug session) fires. Every
        // webhook replica counts the whole cluster: max, not sum.
        Alert {
            name: "PalisadePrivilegedPodsRunning",
            expr: format!(
                "max by (namespace) (palisade_privileged_pods{}) > 0",
                namespace_exclusion(&args.privileged_namespaces)
            ),
            for_: "15m",
            severity: "warning",
            summary: "Privileged pods are running",
            description: "{{ $value }} pods with a privileged container are running in namespace {{ $labels.namespace }}, where privileged pods have run for at least 15 minutes.",
        },
    ]
}

/// `{namespace!~"REGEX"}`, or nothing for an empty expression.
fn namespace_exclusion(regex: &str) -> String {
    if regex.is_empty() {
        return String::new();
    }
    // A PromQL string: backslashes and double quotes escaped.
    let escaped = regex.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{{namespace!~\"{escaped}\"}}")
}

/// YAML double-quoted string.
fn quoted(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// The rule group, indented by `indent` spaces.
fn rule_groups(args: &MonitoringArgs, indent: &str) -> String {
    let mut out = format!("{indent}groups:\n{indent}- name: palisade\n{indent}  rules:\n");
    for alert in alerts(args) {
        out.push_str(&format!(
            "{indent}  - alert: {}\n{indent}    expr: {}\n{indent}    for: {}\n{indent}    labels:\n{indent}      severity: {}\n{indent}    annotations:\n{indent}      summary: {}\n{indent}      description: {}\n",
            alert.name,
            quoted(&alert.expr),
            alert.for_,
            alert.severity,
            quoted(alert.summary),
            quoted(alert.description),
        ));
    }
    out
}

/// What `palisade install monitoring` prints.
pub fn monitoring_manifests(args: &MonitoringArgs) -> String {
    if args.plain {
        return format!(
            "# Palisade alerting rules (docs/metrics.md). Load with rule_files: in prometheus.yml.\n{}",
            rule_groups(args, "")
        );
    }
    let mut out =
        String::from("# Palisade alerting rules for the Prometheus Operator (docs/metrics.md).\n");
    out.push_str(&format!(
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: palisade\n  namespace: {}\n  labels:\n    app.kubernetes.io/name: palisade\n",
        quoted(&args.namespace)
    ));
    for (k, v) in &args.rule_labels {
        out.push_str(&format!("    {}: {}\n", quoted(k), quoted(v)));
    }
    out.push_str("spec:\n");
    out.push_str(&rule_groups(args, "  "));
    if args.dashboard {
        out.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: palisade-dashboard\n  namespace: {}\n  labels:\n    app.kubernetes.io/name: palisade\n    grafana_dashboard: \"1\"\ndata:\n  palisade.json: |\n",
            quoted(&args.namespace)
        ));
        for line in DASHBOARD_JSON.lines() {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    const SERVER_METRICS: &str = include_str!("../../../palisade-server/src/metrics.rs");
    const SENSOR_METRICS: &[&str] = &[
        include_str!("../../../palisade-sensor/src/drops.rs"),
        include_str!("../../../palisade-sensor/src/run.rs"),
        // The sensor serves the engine's own counters (`prometheus_text`).
        include_str!("../../../palisade-detect/src/engine.rs"),
    ];
    const METRICS_DOC: &str = include_str!("../../../../docs/metrics.md");

    /// Metric names as scraped → their label names, from the registration
    /// calls of palisade-server (prefix `palisade_`; counters get `_total`,
    /// histograms `_bucket`/`_sum`/`_count`) and the sensor's `# TYPE` lines.
    fn exported() -> BTreeMap<String, BTreeSet<String>> {
        let mut metrics = BTreeMap::new();
        // Label structs: `pub struct XLabels { pub a: String, ... }`.
        let mut label_sets: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for chunk in SERVER_METRICS.split("pub struct ").skip(1) {
            let Some((name, rest)) = chunk.split_once(' ') else {
                continue;
            };
            let body = rest.split('}').next().unwrap_or("");
            let fields = body
                .lines()
                .filter_map(|l| l.trim().strip_prefix("pub "))
                .filter_map(|l| l.split(':').next())
                .map(|f| f.trim().to_string())
                .collect();
            label_sets.insert(name, fields);
        }
        // `let var = Family::<Labels, Counter>::default();` / `Gauge::default()` / `Histogram::new(`.
        let mut vars: BTreeMap<&str, (&str, Option<&str>)> = BTreeMap::new();
        for line in SERVER_METRICS.lines() {
            let line = line.trim();
            let Some(rest) = line.strip_prefix("let ") else {
                continue;
            };
            let Some((var, init)) = rest.split_once(" = ") else {
                continue;
            };
            if let Some(generic) = init.strip_prefix("Family::<") {
                let mut parts = generic.split([',', '>']).map(str::trim);
                let labels = parts.next();
                let kind = parts.next().unwrap_or("");
                vars.insert(var, (kind, labels));
            } else if init.starts_with("Gauge::") {
                vars.insert(var, ("Gauge", None));
            } else if init.starts_with("Histogram::") {
                vars.insert(var, ("Histogram", None));
            } else if init.starts_with("Counter::") {
                vars.insert(var, ("Counter", None));
            }
        }
        for call in SERVER_METRICS.split("registry.register(").skip(1) {
            let name = call.split('"').nth(1).unwrap_or("");
            let var = call
                .split(".clone()")
                .next()
                .and_then(|s| s.rsplit([',', ' ', '\n']).next())
                .unwrap_or("");
            let Some(&(kind, labels)) = vars.get(var) else {
                panic!("metric {name}: no declaration of {var:?} found");
            };
            let labels: BTreeSet<String> = labels
                .and_then(|l| label_sets.get(l))
                .cloned()
                .unwrap_or_default();
            let name = format!("palisade_{name}");
            match kind {
                "Counter" => {
                    metrics.insert(format!("{name}_total"), labels);
                }
                "Histogram" => {
                    let mut with_le = labels.clone();
                    with_le.insert("le".to_string());
                    metrics.insert(format!("{name}_bucket"), with_le);
                    metrics.insert(format!("{name}_sum"), labels.clone());
                    metrics.insert(format!("{name}_count"), labels);
                }
                _ => {
                    metrics.insert(name, labels);
                }
            }
        }
        // The sensor writes the text format itself: `# TYPE name kind`, then
        // samples `name{{a=\"..\",b=\"..\"}}` (format! escapes) or bare `name `.
        // A name both export must carry the same labels in both.
        for source in SENSOR_METRICS {
            for line in source.lines() {
                for piece in line.split("# TYPE ").skip(1) {
                    let name = piece.split_whitespace().next().unwrap_or("");
                    let labels: BTreeSet<String> = source
                        .split(&format!("{name}{{{{"))
                        .skip(1)
                        .filter_map(|rest| rest.split("}}").next())
                        .flat_map(|inside| inside.split(','))
                        .filter_map(|pair| pair.split('=').next())
                        .map(str::to_string)
                        .collect();
                    if let Some(server) = metrics.get(name) {
                        assert_eq!(server, &labels, "{name}: the server and the sensor differ");
                    }
                    metrics.insert(name.to_string(), labels);
                }
            }
        }
        metrics
    }

    /// The metrics of an expression (identifiers starting `palisade_`) with
    /// the label names of their `{...}` matchers, and the labels of its
    /// `by (...)` / `without (...)` clauses.
    fn references(expr: &str) -> (Vec<(String, BTreeSet<String>)>, BTreeSet<String>) {
        let mut metrics: Vec<(String, BTreeSet<String>)> = Vec::new();
        let mut grouping = BTreeSet::new();
        let bytes = expr.as_bytes();
        let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b':';
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'"' {
                // Skip string literals: label values are not names.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            if !ident(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && ident(bytes[i]) {
                i += 1;
            }
            let word = &expr[start..i];
            if word == "by" || word == "without" {
                let rest = &expr[i..];
                let open = rest.find('(').unwrap_or(0);
                let close = rest.find(')').unwrap_or(0);
                for l in rest[open + 1..close].split(',') {
                    grouping.insert(l.trim().to_string());
                }
                i += close;
            } else if word.starts_with("palisade_") {
                let mut labels = BTreeSet::new();
                if expr[i..].starts_with('{') {
                    let end = expr[i..].find('}').unwrap_or(0);
                    for matcher in expr[i + 1..i + end].split(',') {
                        let name: String = matcher
                            .trim()
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        labels.insert(name);
                    }
                    i += end;
                }
                metrics.push((word.to_string(), labels));
            }
        }
        (metrics, grouping)
    }

    fn check(alerts: &[Alert], exported: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
        let mut problems = Vec::new();
        for alert in alerts {
            let (metrics, grouping) = references(&alert.expr);
            if metrics.is_empty() {
                problems.push(format!("{}: no Palisade metric", alert.name));
            }
            let mut available = BTreeSet::new();
            for (metric, labels) in metrics {
                let Some(known) = exported.get(&metric) else {
                    problems.push(format!("{}: {metric} is not exported", alert.name));
                    continue;
                };
                available.extend(known.iter().cloned());
                for label in labels.difference(known) {
                    problems.push(format!("{}: {metric} has no label {label}", alert.name));
                }
            }
            for label in grouping.difference(&available) {
                if !problems.iter().any(|p| p.ends_with("is not exported")) {
                    problems.push(format!(
                        "{}: grouping by {label}, which no metric has",
                        alert.name
                    ));
                }
            }
        }
        problems
    }

    #[test]
    fn the_parser_finds_what_the_server_exports() {
        let metrics = exported();
        // The brief's list; the parser must see them all with their labels.
        let expected: &[(&str, &[&str])] = &[
            (
                "palisade_admission_requests_total",
                &["operation", "kind", "decision"],
            ),
            (
                "palisade_violations_total",
                &["source", "rule", "enforcement_action"],
            ),
            (
                "palisade_pod_security_evaluations_total",
                &["decision", "policy_level", "policy_version", "mode"],
            ),
            ("palisade_admission_duration_seconds_bucket", &["le"]),
            (
                "palisade_admission_failures_total",
                &["cause", "failure_mode"],
            ),
            ("palisade_policy_reloads_total", &["result"]),
            ("palisade_policies_loaded", &["kind"]),
            ("palisade_policy_last_success_timestamp_seconds", &[]),
            ("palisade_certificate_expiry_timestamp_seconds", &[]),
            ("palisade_certificate_reloads_total", &["result"]),
            ("palisade_namespaces_cached", &[]),
            ("palisade_privileged_pods", &["namespace"]),
            ("palisade_audit_events_total", &["source"]),
            (
                "palisade_detect_events_total",
                &["rule", "priority", "source"],
            ),
            ("palisade_sensor_drops_total", &["category"]),
            ("palisade_sensor_events_total", &["category"]),
            ("palisade_sensor_decode_errors_total", &[]),
            ("palisade_sensor_records_processed_total", &[]),
            ("palisade_sensor_processes", &[]),
            ("palisade_sensor_cri_lookups_total", &["result"]),
        ];
        for (name, labels) in expected {
            let found = metrics
                .get(*name)
                .unwrap_or_else(|| panic!("{name} not found in {metrics:?}"));
            let labels: BTreeSet<String> = labels.iter().map(|l| l.to_string()).collect();
            assert_eq!(found, &labels, "{name}");
        }
    }

    #[test]
    fn every_alert_uses_exported_metrics_and_labels() {
        let metrics = exported();
        let problems = check(&alerts(&MonitoringArgs::default()), &metrics);
        assert_eq!(problems, Vec::<String>::new());
    }

    #[test]
    fn the_checker_catches_unknown_metrics_and_labels() {
        let metrics = exported();
        let bad = [
            Alert {
                name: "Seed",
                expr: "increase(gatekeeper_violations_total[5m]) > 0".into(),
                for_: "0m",
                severity: "warning",
                summary: "",
                description: "",
            },
            Alert {
                name: "Typo",
                expr: "sum by (namespace) (palisade_violation_total{sourc=\"x\"})".into(),
                for_: "0m",
                severity: "warning",
                summary: "",
                description: "",
            },
            Alert {
                name: "Label",
                expr: "palisade_violations_total{priority=\"Critical\"}".into(),
                for_: "0m",
                severity: "warning",
                summary: "",
                description: "",
            },
        ];
        let problems = check(&bad, &metrics);
        assert_eq!(
            problems,
            vec![
                "Seed: no Palisade metric".to_string(),
                "Typo: palisade_violation_total is not exported".to_string(),
                // `priority` is a label of detect events, not of violations.
                "Label: palisade_violations_total has no label priority".to_string(),
            ]
        );
        let grouping = Alert {
            name: "Group",
            expr: "sum by (namespace) (rate(palisade_violations_total[5m]))".into(),
            for_: "0m",
            severity: "warning",
            summary: "",
            description: "",
        };
        assert_eq!(
            check(&[grouping], &metrics),
            vec!["Group: grouping by namespace, which no metric has".to_string()]
        );
    }

    #[test]
    fn the_privileged_pods_alert_is_on_by_default_on_the_exported_gauge() {
        let metrics = exported();
        assert_eq!(
            metrics.get("palisade_privileged_pods"),
            Some(&BTreeSet::from(["namespace".to_string()]))
        );
        let text = monitoring_manifests(&MonitoringArgs::default());
        assert!(
            text.contains("- alert: PalisadePrivilegedPodsRunning\n"),
            "{text}"
        );
        let alert = |args: &MonitoringArgs| {
            alerts(args)
                .into_iter()
                .find(|a| a.name == "PalisadePrivilegedPodsRunning")
                .map(|a| a.expr)
                .unwrap_or_default()
        };
        assert_eq!(
            alert(&MonitoringArgs::default()),
            "max by (namespace) (palisade_privileged_pods{namespace!~\"kube-system\"}) > 0"
        );
        // Every namespace, or a regex with characters PromQL strings escape.
        let every = MonitoringArgs {
            privileged_namespaces: String::new(),
            ..MonitoringArgs::default()
        };
        assert_eq!(
            alert(&every),
            "max by (namespace) (palisade_privileged_pods) > 0"
        );
        let escaped = MonitoringArgs {
            privileged_namespaces: r#"kube-system|csi-\w+|"odd""#.into(),
            ..MonitoringArgs::default()
        };
        assert_eq!(
            alert(&escaped),
            r#"max by (namespace) (palisade_privileged_pods{namespace!~"kube-system|csi-\\w+|\"odd\""}) > 0"#
        );
        for args in [every, escaped] {
            assert_eq!(check(&alerts(&args), &metrics), Vec::<String>::new());
        }
    }

    #[test]
    fn the_dashboard_queries_exported_metrics() {
        let metrics = exported();
        let dashboard: serde_json::Value =
            serde_json::from_str(DASHBOARD_JSON).unwrap_or_else(|e| panic!("dashboard JSON: {e}"));
        let mut exprs = Vec::new();
        fn collect(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, v) in m {
                        match (k.as_str(), v) {
                            ("expr" | "query", serde_json::Value::String(s)) => out.push(s.clone()),
                            _ => collect(v, out),
                        }
                    }
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| collect(v, out)),
                _ => {}
            }
        }
        collect(&dashboard, &mut exprs);
        assert!(exprs.len() >= 10, "{} queries", exprs.len());
        let as_alerts: Vec<Alert> = exprs
            .iter()
            .map(|e| Alert {
                name: "panel",
                expr: e.replace("$__rate_interval", "5m"),
                for_: "",
                severity: "",
                summary: "",
                description: "",
            })
            .collect();
        let problems: Vec<String> = check(&as_alerts, &metrics)
            .into_iter()
            .filter(|p| !p.ends_with("no Palisade metric"))
            .collect();
        assert_eq!(problems, Vec::<String>::new());
        // Every exported metric family is on the dashboard.
        for name in metrics
            .keys()
            .filter(|n| !n.ends_with("_sum") && !n.ends_with("_count"))
        {
            assert!(
                exprs.iter().any(|e| e.contains(name.as_str())),
                "{name} not on the dashboard"
            );
        }
    }

    #[test]
    fn every_metric_is_documented() {
        for name in exported()
            .keys()
            .filter(|n| !n.ends_with("_sum") && !n.ends_with("_count"))
        {
            let base = name.trim_end_matches("_bucket");
            assert!(
                METRICS_DOC.contains(base),
                "{base} missing from docs/metrics.md"
            );
        }
    }

    #[test]
    fn prometheus_rule_is_valid_yaml_with_every_alert() {
        let args = MonitoringArgs {
            rule_labels: vec![("release".into(), "kube-prometheus-stack".into())],
            dashboard: true,
            ..MonitoringArgs::default()
        };
        let text = monitoring_manifests(&args);
        let loaded =
            palisade_model::load_text("rules.yaml", &text, &palisade_model::LoadOptions::default());
        assert!(loaded.errors.is_empty(), "{:?}\n{text}", loaded.errors);
        assert_eq!(loaded.objects.len(), 2);
        assert_eq!(loaded.objects[0].kind(), "PrometheusRule");
        for alert in alerts(&args) {
            assert!(text.contains(&format!("- alert: {}\n", alert.name)));
        }
        assert!(text.contains("\"release\": \"kube-prometheus-stack\""));
        // The seed's three alerts, done right, are there.
        for name in [
            "PalisadePolicyViolationsRising",
            "PalisadeCriticalRuntimeDetection",
            "PalisadeSensorDropping",
        ] {
            assert!(text.contains(name));
        }
        // The dashboard inside the ConfigMap is the same JSON.
        let plain = monitoring_manifests(&MonitoringArgs {
            plain: true,
            ..MonitoringArgs::default()
        });
        assert!(
            plain.starts_with("# Palisade alerting rules")
                && plain.contains("\ngroups:\n- name: palisade\n")
        );
    }
}
