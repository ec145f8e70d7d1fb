//! A Falco-compatible rules engine, driven by Kubernetes audit events.
//!
//! Rules files are read as Falco reads them (lists, macros, rules, `append`,
//! `override`, exceptions, several files in order), conditions are parsed
//! with libsinsp's grammar and compiled once against the field catalogue of
//! the rule's source, and events are evaluated by `&self` from any number of
//! threads. The `k8s_audit` source computes the `ka.*` and `jevt.*` fields of
//! Falco's k8saudit and json plugins from `audit.k8s.io/v1` events; the
//! `syscall` source defines libsinsp's fields so the upstream syscall rules
//! compile (its events come with the eBPF source).
//!
//! ```
//! use palisade_detect::{AuditEvent, Engine};
//!
//! let engine = Engine::builder()
//!     .rules_text("r.yaml", "- rule: exec\n  desc: d\n  condition: ka.target.subresource = exec\n  output: exec by %ka.user.name\n  priority: NOTICE\n  source: k8s_audit\n")
//!     .build();
//! assert!(!engine.has_errors());
//! let event = AuditEvent::from_json(r#"{"kind":"Event","auditID":"1","user":{"username":"bob"},"objectRef":{"resource":"pods","subresource":"exec"},"stageTimestamp":"2024-01-01T00:00:00Z"}"#).unwrap();
//! let alerts = engine.evaluate(&event);
//! assert_eq!(alerts[0].message, "exec by bob");
//! ```

pub mod cli_support;
mod compiler;
pub mod condition;
mod diagnostic;
mod engine;
pub mod fields;
pub mod input;
pub mod json;
pub mod k8saudit;
mod loader;
pub mod output;
mod priority;
pub mod program;
pub mod source;
mod text;
pub mod webhook;

pub use compiler::Counts;
pub use diagnostic::{Diagnostic, ItemKind, Level};
pub use engine::{
    all_tags, AlertSink, Engine, EngineBuilder, Metrics, MetricsSnapshot, RateLimiter, RuleAlerts,
    RuleMatching, RuleSummary, TokenBucket,
};
pub use k8saudit::{
    decode_audit_batch, decode_audit_batch_lossy, AuditError, AuditEvent, K8sAuditSource,
};
pub use loader::{PluginRequirement, ENGINE_VERSION};
pub use output::Alert;
pub use priority::Priority;
pub use source::{BoundField, Event, FieldArg, FieldSource, SyscallSource, Value};
