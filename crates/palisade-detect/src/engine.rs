//! The engine: rules loaded and compiled once, evaluated on events from many
//! threads (`&self`, `Send + Sync`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use palisade_model::Source;
use serde::Serialize;

use crate::compiler::{compile, CompiledRule, Counts};
use crate::diagnostic::Diagnostic;
use crate::k8saudit::K8sAuditSource;
use crate::loader::{PluginRequirement, Reader};
use crate::output::{clock_time, iso8601, Alert};
use crate::priority::Priority;
use crate::program::{CompiledOperand, Program, Scratch};
use crate::source::{Event, FieldSource, SyscallSource, Value};

/// Receives every alert [`Engine::evaluate`] raises, on the evaluating thread
/// (front ends whose events arrive elsewhere, like the audit webhook, attach
/// their alert outputs here).
pub type AlertSink = Arc<dyn Fn(&Alert) + Send + Sync>;

/// Which rules an event may fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RuleMatching {
    /// Only the first matching rule, in load order (Falco's default).
    #[default]
    First,
    /// Every matching rule.
    All,
}

/// Builds an [`Engine`]: sources, then rules files in order.
pub struct EngineBuilder {
    sources: Vec<Arc<dyn FieldSource>>,
    files: Vec<(String, String)>,
    hostname: String,
    matching: RuleMatching,
    value_index: bool,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            sources: vec![Arc::new(SyscallSource::default()), Arc::new(K8sAuditSource)],
            files: Vec::new(),
            hostname: default_hostname(),
            matching: RuleMatching::First,
            value_index: true,
        }
    }
}

fn default_hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "localhost".to_string())
}

impl EngineBuilder {
    /// Adds (or replaces, by name) an event source.
    pub fn source(mut self, source: Arc<dyn FieldSource>) -> Self {
        self.sources.retain(|s| s.name() != source.name());
        self.sources.push(source);
        self
    }

    /// Adds a rules file's text; files load in the order added.
    pub fn rules_text(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.files.push((name.into(), text.into()));
        self
    }

    /// Reads and adds a rules file.
    pub fn rules_file(self, path: impl AsRef<std::path::Path>) -> std::io::Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)?;
        Ok(self.rules_text(path.display().to_string(), text))
    }

    /// The host name alerts carry.
    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = hostname.into();
        self
    }

    /// First match (Falco's default) or all matches.
    pub fn rule_matching(mut self, matching: RuleMatching) -> Self {
        self.matching = matching;
        self
    }

    /// Whether to index the rules of untyped sources by the value of the
    /// field most of them require (on by default). The index only skips
    /// rules that cannot match, so turning it off changes speed, not
    /// results; tests compare both.
    pub fn value_index(mut self, on: bool) -> Self {
        self.value_index = on;
        self
    }

    /// Loads and compiles every rules file. Problems are in
    /// [`Engine::diagnostics`]; rules without errors are usable regardless.
    pub fn build(self) -> Engine {
        let names: Vec<String> = self.sources.iter().map(|s| s.name().to_string()).collect();
        let mut reader = Reader::new(&names);
        let mut file_ok = Vec::new();
        for (name, text) in self.files {
            let ok = reader.read(&name, text);
            file_ok.push((name, ok));
        }
        let Reader {
            col,
            mut diags,
            files,
            ..
        } = reader;
        let mut program = Program::default();
        let (rules, counts) = compile(&col, &self.sources, &mut program, &mut diags);
        fill_source_lines(&mut diags, &files);
        let mut by_source: HashMap<String, SourceIndex> = HashMap::new();
        for (i, r) in rules.iter().enumerate() {
            let idx = by_source.entry(r.source.clone()).or_default();
            match &r.event_types {
                Some(types) => {
                    for t in types {
                        idx.by_type.entry(t.clone()).or_default().push(i as u32);
                    }
                }
                None => idx.untyped.push(i as u32),
            }
        }
        for idx in by_source.values_mut() {
            if self.value_index && idx.by_type.is_empty() {
                idx.by_value = ValueIndex::build(&rules, &idx.untyped);
            }
        }
        let enabled = rules.iter().map(|r| r.enabled).collect();
        let metrics = Metrics::new(&names, &rules);
        Engine {
            program,
            by_source,
            enabled,
            diagnostics: diags,
            hostname: self.hostname,
            matching: self.matching,
            metrics,
            limiter: None,
            sink: None,
            counts,
            required_plugins: col.required_plugins,
            rules,
            sources: self.sources,
        }
    }
}

fn fill_source_lines(diags: &mut [Diagnostic], files: &[Source]) {
    for d in diags {
        if d.line == 0 {
            continue;
        }
        if let Some(f) = files.iter().rev().find(|f| f.name == d.file) {
            d.source_line = f.line(d.line).map(str::to_string);
        }
    }
}

#[derive(Debug, Default)]
struct SourceIndex {
    by_type: HashMap<String, Vec<u32>>,
    untyped: Vec<u32>,
    by_value: Option<ValueIndex>,
}

/// Rules of an untyped source indexed by the value of one field that most
/// of them require (for k8s_audit, `ka.target.resource`), so an event only
/// meets the rules its value allows. Built from necessary conditions
/// (`compiler::value_guards`), so evaluation results are unchanged.
#[derive(Debug)]
struct ValueIndex {
    field: CompiledOperand,
    /// Rules requiring the field to have the key as value, in load order.
    by_value: HashMap<String, Vec<u32>>,
    /// Rules that do not constrain the field, in load order.
    other: Vec<u32>,
}

impl ValueIndex {
    /// Picks the field that leaves the fewest rules to evaluate in the
    /// worst case (rules not constrained by it plus its largest value
    /// bucket); `None` when no field helps.
    fn build(rules: &[CompiledRule], candidates: &[u32]) -> Option<ValueIndex> {
        let mut fields: BTreeMap<u32, &CompiledOperand> = BTreeMap::new();
        for &i in candidates {
            for (slot, (op, _)) in &rules[i as usize].value_guards {
                fields.entry(*slot).or_insert(op);
            }
        }
        let mut best: Option<(usize, ValueIndex)> = None;
        for (slot, op) in fields {
            let mut by_value: HashMap<String, Vec<u32>> = HashMap::new();
            let mut other = Vec::new();
            for &i in candidates {
                match rules[i as usize].value_guards.get(&slot) {
                    Some((_, values)) => {
                        for v in values {
                            by_value.entry(v.clone()).or_default().push(i);
                        }
                    }
                    None => other.push(i),
                }
            }
            let worst = other.len() + by_value.values().map(Vec::len).max().unwrap_or(0);
            if worst < candidates.len() && best.as_ref().is_none_or(|(w, _)| worst < *w) {
                let index = ValueIndex {
                    field: op.clone(),
                    by_value,
                    other,
                };
                best = Some((worst, index));
            }
        }
        best.map(|(_, index)| index)
    }
}

/// A compiled set of rules.
pub struct Engine {
    program: Program,
    rules: Vec<CompiledRule>,
    by_source: HashMap<String, SourceIndex>,
    enabled: Vec<bool>,
    diagnostics: Vec<Diagnostic>,
    hostname: String,
    matching: RuleMatching,
    metrics: Metrics,
    limiter: Option<RateLimiter>,
    sink: Option<AlertSink>,
    counts: Counts,
    required_plugins: Vec<PluginRequirement>,
    sources: Vec<Arc<dyn FieldSource>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("rules", &self.rules.len())
            .field("diagnostics", &self.diagnostics.len())
            .finish()
    }
}

/// Summary of one rule, for listings.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSummary {
    /// Name.
    pub name: String,
    /// Source.
    pub source: String,
    /// Priority.
    pub priority: Priority,
    /// Tags.
    pub tags: Vec<String>,
    /// Enabled now.
    pub enabled: bool,
    /// Description.
    pub desc: String,
    /// Defining file.
    pub file: String,
    /// Line of the definition.
    pub line: u32,
}

impl Engine {
    /// A builder with the built-in sources (`syscall`, `k8s_audit`).
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// Every diagnostic of the load, in order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Whether any rules file had an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Counts of compiled rules, macros and lists.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The plugins the rules files require.
    pub fn required_plugins(&self) -> &[PluginRequirement] {
        &self.required_plugins
    }

    /// The registered sources.
    pub fn sources(&self) -> &[Arc<dyn FieldSource>] {
        &self.sources
    }

    /// Every compiled rule.
    pub fn rules(&self) -> Vec<RuleSummary> {
        self.rules
            .iter()
            .zip(&self.enabled)
            .map(|(r, &enabled)| RuleSummary {
                name: r.name.clone(),
                source: r.source.clone(),
                priority: r.priority,
                tags: r.tags.iter().cloned().collect(),
                enabled,
                desc: r.desc.clone(),
                file: r.file.to_string(),
                line: r.line,
            })
            .collect()
    }

    /// The compiled condition text of a rule (lists expanded, exceptions added).
    pub fn rule_condition(&self, name: &str) -> Option<&str> {
        self.rules
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.condition.as_str())
    }

    /// Enables or disables rules by name; returns how many matched.
    pub fn set_enabled_by_name(&mut self, name: &str, enabled: bool) -> usize {
        let mut n = 0;
        for (i, r) in self.rules.iter().enumerate() {
            if r.name == name {
                self.enabled[i] = enabled;
                n += 1;
            }
        }
        n
    }

    /// Enables or disables every rule having any of `tags`; returns how many.
    pub fn set_enabled_by_tags(&mut self, tags: &[String], enabled: bool) -> usize {
        let mut n = 0;
        for (i, r) in self.rules.iter().enumerate() {
            if tags.iter().any(|t| r.tags.contains(t)) {
                self.enabled[i] = enabled;
                n += 1;
            }
        }
        n
    }

    /// Disables rules less severe than `min`.
    pub fn set_min_priority(&mut self, min: Priority) {
        for (i, r) in self.rules.iter().enumerate() {
            if r.priority > min {
                self.enabled[i] = false;
            }
        }
    }

    /// Limits alerts to `rate` per second per rule, with bursts of `burst`.
    pub fn set_rate_limit(&mut self, rate: f64, burst: f64) {
        self.limiter = Some(RateLimiter::new(self.rules.len(), rate, burst));
    }

    /// The event types the enabled rules of `source` can match, for a
    /// kernel-side filter: `None` when some enabled rule is not restricted to
    /// a set of types (it may match any event).
    pub fn event_types(&self, source: &str) -> Option<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for (r, &enabled) in self.rules.iter().zip(&self.enabled) {
            if !enabled || r.source != source {
                continue;
            }
            out.extend(r.event_types.as_ref()?.iter().cloned());
        }
        Some(out)
    }

    /// The field the rules of `source` are indexed by (see
    /// [`EngineBuilder::value_index`]), if any.
    pub fn indexed_field(&self, source: &str) -> Option<&str> {
        let vi = self.by_source.get(source)?.by_value.as_ref()?;
        Some(vi.field.display.as_str())
    }

    /// Sends every alert to `sink` too (besides returning it from `evaluate`).
    pub fn set_alert_sink(&mut self, sink: AlertSink) {
        self.sink = Some(sink);
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Evaluates one event and returns its alerts.
    pub fn evaluate<E: Event + ?Sized>(&self, evt: &E) -> Vec<Alert> {
        let source = evt.source();
        self.metrics.count_event(source);
        let Some(index) = self.by_source.get(source) else {
            return Vec::new();
        };
        let mut scratch = Scratch::new(&self.program);
        let mut alerts = Vec::new();
        let (typed, untyped) = match &index.by_value {
            Some(vi) => match scratch.values(evt, &vi.field) {
                // Rules requiring this value, and those not constraining it.
                Some([Value::Str(v)]) => (
                    vi.by_value.get(v.as_ref()).map_or(&[][..], Vec::as_slice),
                    vi.other.as_slice(),
                ),
                // No value: every rule requiring one is false.
                None => (&[][..], vi.other.as_slice()),
                // Several values, or not a string: no shortcut.
                Some(_) => (&[][..], index.untyped.as_slice()),
            },
            None => (
                evt.event_type()
                    .and_then(|t| index.by_type.get(t))
                    .map_or(&[][..], Vec::as_slice),
                index.untyped.as_slice(),
            ),
        };
        // Rules in load order: merge the two candidate lists.
        let (mut a, mut b) = (0, 0);
        while a < typed.len() || b < untyped.len() {
            let i = match (typed.get(a), untyped.get(b)) {
                (Some(&x), Some(&y)) if x < y => {
                    a += 1;
                    x
                }
                (Some(&x), None) => {
                    a += 1;
                    x
                }
                (_, Some(&y)) => {
                    b += 1;
                    y
                }
                (None, None) => break,
            } as usize;
            if !self.enabled[i] {
                continue;
            }
            let rule = &self.rules[i];
            if !self.program.eval_entry(rule.entry, evt, &mut scratch) {
                continue;
            }
            if let Some(l) = &self.limiter {
                if !l.allow(i, evt.timestamp_ns()) {
                    self.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
                    if self.matching == RuleMatching::First {
                        break;
                    }
                    continue;
                }
            }
            let alert = self.alert(rule, evt, &mut scratch);
            if let Some(sink) = &self.sink {
                sink(&alert);
            }
            alerts.push(alert);
            self.metrics.count_alert(i, rule.priority);
            if self.matching == RuleMatching::First {
                break;
            }
        }
        alerts
    }

    fn alert<'a, E: Event + ?Sized>(
        &self,
        rule: &CompiledRule,
        evt: &'a E,
        scratch: &mut Scratch<'a>,
    ) -> Alert {
        let ns = evt.timestamp_ns();
        let (message, mut fields) = rule.output.render(evt, scratch);
        fields.insert("evt.time".into(), serde_json::Value::from(ns));
        Alert {
            time: iso8601(ns),
            time_ns: ns,
            rule: rule.name.clone(),
            priority: rule.priority,
            output: format!("{}: {} {}", clock_time(ns), rule.priority.name(), message),
            message,
            output_fields: fields,
            source: rule.source.clone(),
            tags: rule.tags.iter().cloned().collect(),
            hostname: self.hostname.clone(),
        }
    }
}

/// Falco's token bucket: `rate` tokens per second, at most `max` banked.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    max: f64,
    tokens: f64,
    last_ns: Option<u64>,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: f64, max: f64) -> Self {
        TokenBucket {
            rate,
            max,
            tokens: max,
            last_ns: None,
        }
    }

    /// Takes one token at time `now_ns`, if there is one.
    pub fn claim(&mut self, now_ns: u64) -> bool {
        let last = self.last_ns.unwrap_or(now_ns);
        // Events may arrive slightly out of order; time never runs backwards here.
        let elapsed = now_ns.saturating_sub(last);
        self.last_ns = Some(now_ns.max(last));
        self.tokens = (self.tokens + self.rate * (elapsed as f64 / 1e9)).min(self.max);
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

/// One token bucket per rule.
#[derive(Debug)]
pub struct RateLimiter {
    buckets: Vec<Mutex<TokenBucket>>,
}

impl RateLimiter {
    /// Buckets for `rules` rules.
    pub fn new(rules: usize, rate: f64, burst: f64) -> Self {
        RateLimiter {
            buckets: (0..rules)
                .map(|_| Mutex::new(TokenBucket::new(rate, burst)))
                .collect(),
        }
    }

    /// Whether rule `rule` may alert at `now_ns` (event time, so replays
    /// limit the same way every time).
    pub fn allow(&self, rule: usize, now_ns: u64) -> bool {
        match self.buckets.get(rule) {
            Some(b) => b.lock().map(|mut b| b.claim(now_ns)).unwrap_or(true),
            None => true,
        }
    }
}

/// Counters: events by source, alerts by rule and by priority.
#[derive(Debug)]
pub struct Metrics {
    sources: Vec<(String, AtomicU64)>,
    other_events: AtomicU64,
    rules: Vec<(String, Priority, String, AtomicU64)>,
    priorities: [AtomicU64; 8],
    rate_limited: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct MetricsSnapshot {
    /// Events seen, by source name.
    pub events_by_source: BTreeMap<String, u64>,
    /// Alerts by rule name.
    pub alerts_by_rule: BTreeMap<String, RuleAlerts>,
    /// Alerts by priority.
    pub alerts_by_priority: BTreeMap<Priority, u64>,
    /// Alerts dropped by the rate limiter.
    pub rate_limited: u64,
}

/// The alerts of one rule, with what labels them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleAlerts {
    /// The rule's priority.
    pub priority: Priority,
    /// The rule's event source (`k8s_audit`, `syscall`, ...).
    pub source: String,
    /// Alerts raised.
    pub alerts: u64,
}

impl MetricsSnapshot {
    /// The counters in Prometheus' text format, with the names and labels
    /// `palisade serve` exports for its `/audit` endpoint, so the same alert
    /// rules and dashboards work on both: `palisade_detect_events_total{rule,
    /// priority, source}` (Falco's events counter) and
    /// `palisade_audit_events_total{source}`. The latter only when the engine
    /// has audit rules or has seen audit events: a syscall sensor would
    /// otherwise export a series that is always 0.
    pub fn prometheus_text(&self) -> String {
        fn escape(v: &str) -> String {
            v.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        }
        let mut s = String::from(
            "# HELP palisade_detect_events_total Runtime rule matches (alerts), by rule, priority and source, as Falco's events counter.\n# TYPE palisade_detect_events_total counter\n",
        );
        for (rule, r) in &self.alerts_by_rule {
            if r.alerts == 0 {
                continue;
            }
            s.push_str(&format!(
                "palisade_detect_events_total{{rule=\"{}\",priority=\"{}\",source=\"{}\"}} {}\n",
                escape(rule),
                r.priority.name(),
                escape(&r.source),
                r.alerts
            ));
        }
        let audit = self
            .events_by_source
            .get(crate::k8saudit::SOURCE)
            .copied()
            .unwrap_or(0);
        let audit_rules = self
            .alerts_by_rule
            .values()
            .any(|r| r.source == crate::k8saudit::SOURCE);
        if audit_rules || audit > 0 {
            s.push_str("# HELP palisade_audit_events_total Kubernetes audit events evaluated.\n# TYPE palisade_audit_events_total counter\n");
            s.push_str(&format!(
                "palisade_audit_events_total{{source=\"{}\"}} {audit}\n",
                crate::k8saudit::SOURCE
            ));
        }
        s.push_str(&format!(
            "# HELP palisade_detect_rate_limited_total Alerts dropped by the per-rule rate limiter.\n# TYPE palisade_detect_rate_limited_total counter\npalisade_detect_rate_limited_total {}\n",
            self.rate_limited
        ));
        s
    }
}

impl Metrics {
    fn new(sources: &[String], rules: &[CompiledRule]) -> Metrics {
        Metrics {
            sources: sources
                .iter()
                .map(|s| (s.clone(), AtomicU64::new(0)))
                .collect(),
            other_events: AtomicU64::new(0),
            rules: rules
                .iter()
                .map(|r| {
                    (
                        r.name.clone(),
                        r.priority,
                        r.source.clone(),
                        AtomicU64::new(0),
                    )
                })
                .collect(),
            priorities: Default::default(),
            rate_limited: AtomicU64::new(0),
        }
    }

    fn count_event(&self, source: &str) {
        match self.sources.iter().find(|(s, _)| s == source) {
            Some((_, c)) => c.fetch_add(1, Ordering::Relaxed),
            None => self.other_events.fetch_add(1, Ordering::Relaxed),
        };
    }

    fn count_alert(&self, rule: usize, priority: Priority) {
        if let Some((_, _, _, c)) = self.rules.get(rule) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.priorities[priority as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let mut s = MetricsSnapshot::default();
        for (name, c) in &self.sources {
            s.events_by_source
                .insert(name.clone(), c.load(Ordering::Relaxed));
        }
        let other = self.other_events.load(Ordering::Relaxed);
        if other > 0 {
            s.events_by_source.insert("other".into(), other);
        }
        for (name, p, source, c) in &self.rules {
            let n = c.load(Ordering::Relaxed);
            s.alerts_by_rule
                .entry(name.clone())
                .or_insert_with(|| RuleAlerts {
                    priority: *p,
                    source: source.clone(),
                    alerts: 0,
                })
                .alerts += n;
        }
        for p in Priority::ALL {
            s.alerts_by_priority
                .insert(p, self.priorities[p as usize].load(Ordering::Relaxed));
        }
        s.rate_limited = self.rate_limited.load(Ordering::Relaxed);
        s
    }
}

/// Tags of every rule (for `--list`).
pub fn all_tags(rules: &[RuleSummary]) -> BTreeSet<String> {
    rules.iter().flat_map(|r| r.tags.iter().cloned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_refills_at_rate() {
        let mut b = TokenBucket::new(1.0, 2.0);
        let s = 1_000_000_000u64;
        assert!(b.claim(s));
        assert!(b.claim(s));
        assert!(!b.claim(s));
        assert!(!b.claim(s + s / 2));
        assert!(b.claim(s + s));
        assert!(!b.claim(s + s));
    }

    #[test]
    fn audit_events_are_exported_only_by_engines_with_audit_rules() {
        const SYSCALL: &str = "- rule: shell\n  desc: d\n  condition: evt.type = execve and proc.name = bash\n  output: shell %proc.name\n  priority: NOTICE\n";
        const AUDIT: &str = "- rule: exec\n  desc: d\n  condition: ka.target.subresource = exec\n  output: exec\n  priority: WARNING\n  source: k8s_audit\n";
        let sensor = Engine::builder().rules_text("s.yaml", SYSCALL).build();
        let text = sensor.metrics().snapshot().prometheus_text();
        assert!(!text.contains("palisade_audit_events_total"), "{text}");
        assert!(
            text.contains("palisade_detect_rate_limited_total 0\n"),
            "{text}"
        );
        let webhook = Engine::builder().rules_text("a.yaml", AUDIT).build();
        let snapshot = webhook.metrics().snapshot();
        assert_eq!(
            snapshot.alerts_by_rule["exec"],
            RuleAlerts {
                priority: Priority::Warning,
                source: "k8s_audit".into(),
                alerts: 0
            }
        );
        assert!(
            snapshot
                .prometheus_text()
                .contains("palisade_audit_events_total{source=\"k8s_audit\"} 0\n"),
            "{snapshot:?}"
        );
    }

    #[test]
    fn engine_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Engine>();
        check::<Arc<Engine>>();
    }
}
