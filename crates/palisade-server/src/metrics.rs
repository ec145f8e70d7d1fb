//! `/metrics` in the Prometheus text format.
//!
//! Names follow Prometheus conventions (`_total` counters, `_seconds`
//! histograms) with a `palisade_` prefix; the shipped alert rules use them.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::admission::Verdict;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub operation: String,
    pub kind: String,
    /// allowed, denied, or bad_request.
    pub decision: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ViolationLabels {
    /// pod-security, gatekeeper, validating-admission-policy.
    pub source: String,
    pub rule: String,
    pub enforcement_action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PodSecurityLabels {
    pub decision: String,
    pub policy_level: String,
    pub policy_version: String,
    pub mode: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    /// success or failure.
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// timeout, not_ready, error.
    pub cause: String,
    /// open or closed.
    pub failure_mode: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DetectLabels {
    pub rule: String,
    /// Falco's priority name (`Critical`, `Warning`...), as Falco's metrics label it.
    pub priority: String,
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NamespaceLabels {
    pub namespace: String,
}

/// Every metric the server exports.
pub struct Metrics {
    pub registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub violations: Family<ViolationLabels, Counter>,
    pub pod_security_evaluations: Family<PodSecurityLabels, Counter>,
    pub duration: Histogram,
    pub failures: Family<FailureLabels, Counter>,
    pub policy_reloads: Family<ResultLabels, Counter>,
    pub policies_loaded: Family<KindLabels, Gauge>,
    pub policy_last_reload: Gauge,
    pub certificate_expiry: Gauge,
    pub certificate_reloads: Family<ResultLabels, Counter>,
    pub namespaces_cached: Gauge,
    pub detect_events: Family<DetectLabels, Counter>,
    pub audit_events: Family<SourceLabels, Counter>,
    /// Kept by [`crate::pods::PrivilegedPods`] from the cluster's pod watch.
    pub privileged_pods: Family<NamespaceLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("palisade");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "admission_requests",
            "Admission requests answered, by operation, kind and decision",
            requests.clone(),
        );
        let violations = Family::<ViolationLabels, Counter>::default();
        registry.register(
            "violations",
            "Policy violations found at admission, by source, rule and enforcement action",
            violations.clone(),
        );
        let pod_security_evaluations = Family::<PodSecurityLabels, Counter>::default();
        registry.register(
            "pod_security_evaluations",
            "Pod Security evaluations, as the built-in plugin's pod_security_evaluations_total",
            pod_security_evaluations.clone(),
        );
        // From 100 µs to 10 s (the API server's webhook timeout).
        let duration = Histogram::new([
            0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            2.5, 5.0, 10.0,
        ]);
        registry.register(
            "admission_duration_seconds",
            "Time to answer an admission request",
            duration.clone(),
        );
        let failures = Family::<FailureLabels, Counter>::default();
        registry.register(
            "admission_failures",
            "Requests answered by the failure mode (time budget exceeded, policies not loaded)",
            failures.clone(),
        );
        let policy_reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "policy_reloads",
            "Policy (re)loads, by result; on failure the last good set stays in force",
            policy_reloads.clone(),
        );
        let policies_loaded = Family::<KindLabels, Gauge>::default();
        registry.register(
            "policies_loaded",
            "Policies in force, by kind",
            policies_loaded.clone(),
        );
        let policy_last_reload = Gauge::default();
        registry.register(
            "policy_last_success_timestamp_seconds",
            "When the policies in force were loaded (Unix time)",
            policy_last_reload.clone(),
        );
        let certificate_expiry = Gauge::default();
        registry.register(
            "certificate_expiry_timestamp_seconds",
            "When the serving certificate expires (Unix time)",
            certificate_expiry.clone(),
        );
        let certificate_reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "certificate_reloads",
            "Serving certificate (re)loads, by result",
            certificate_reloads.clone(),
        );
        let namespaces_cached = Gauge::default();
        registry.register(
            "namespaces_cached",
            "Namespaces in the namespace cache",
            namespaces_cached.clone(),
        );
        let detect_events = Family::<DetectLabels, Counter>::default();
        registry.register(
            "detect_events",
            "Runtime rule matches (alerts), by rule, priority and source, as Falco's events counter",
            detect_events.clone(),
        );
        let audit_events = Family::<SourceLabels, Counter>::default();
        registry.register(
            "audit_events",
            "Kubernetes audit events received on /audit and evaluated",
            audit_events.clone(),
        );
        let privileged_pods = Family::<NamespaceLabels, Gauge>::default();
        registry.register(
            "privileged_pods",
            "Pending or running pods with a privileged container, by namespace (serve --cluster only; namespaces without any have no series)",
            privileged_pods.clone(),
        );
        Metrics {
            registry,
            privileged_pods,
            detect_events,
            audit_events,
            requests,
            violations,
            pod_security_evaluations,
            duration,
            failures,
            policy_reloads,
            policies_loaded,
            policy_last_reload,
            certificate_expiry,
            certificate_reloads,
            namespaces_cached,
        }
    }

    /// Counts one answered request.
    pub fn record(&self, operation: &str, kind: &str, verdict: &Verdict, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                operation: operation.to_string(),
                kind: kind.to_string(),
                decision: if verdict.allowed { "allowed" } else { "denied" }.to_string(),
            })
            .inc();
        for v in &verdict.violations {
            self.violations
                .get_or_create(&ViolationLabels {
                    source: v.source.as_str().to_string(),
                    rule: v.rule.clone(),
                    enforcement_action: v.action.to_string(),
                })
                .inc();
        }
        for e in &verdict.pod_security {
            self.pod_security_evaluations
                .get_or_create(&PodSecurityLabels {
                    decision: if e.allowed { "allow" } else { "deny" }.to_string(),
                    policy_level: e.policy.level.to_string(),
                    policy_version: e.policy.version.to_string(),
                    mode: e.mode.as_str().to_string(),
                })
                .inc();
        }
        self.duration.observe(seconds);
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
