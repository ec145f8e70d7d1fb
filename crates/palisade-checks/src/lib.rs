//! Hardening, reliability and secret-hygiene checks for Kubernetes manifests.
//!
//! Pod Security Standards (in `palisade-pss`) say what a cluster forbids; the
//! checks here are everything else a platform team wants reviewed before a
//! manifest ships: read-only root filesystems, image pinning, resources,
//! probes, service accounts, RBAC grants, NetworkPolicy coverage, literal
//! credentials, and objects that point at nothing.
//!
//! Every check is one file under `rules/<category>/`, whose doc comment is the
//! user documentation (`palisade explain ID` prints it). The registry in
//! [`registry`] is a table of those checks' tables, not a chain of conditions.
//! Checks see one object at a time plus an [`Index`] of the whole input, so
//! cross-object checks (a Service that selects no pod) stay linear in cost.
//!
//! ```
//! use palisade_checks::{CheckOptions, Checker};
//! use palisade_model::{load_text, LoadOptions};
//!
//! let loaded = load_text(
//!     "app.yaml",
//!     "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n  - name: app\n    image: nginx:latest\n",
//!     &LoadOptions::default(),
//! );
//! let options = CheckOptions::default();
//! let checker = Checker::new(&loaded.objects, &options);
//! let findings = checker.check(&loaded.objects[0]);
//! assert!(findings.iter().any(|f| f.rule == "image/latest-tag"));
//! ```

mod index;
pub mod registry;
mod rule;
mod rules;

pub use index::{namespace_of, pod_labels, Index};
pub use rule::{
    each_container, strings, CheckOptions, ContainerCx, Cx, EffectiveSecurity, Kinds, Level, Rule,
    Sink,
};

use palisade_model::{Finding, Object, RuleMeta};

/// Every rule's documentation, for `palisade rules` and `palisade explain`.
pub fn rules() -> impl Iterator<Item = &'static RuleMeta> {
    registry::all().map(|r| &r.meta)
}

/// Whether rule `id` is an optional check (off unless enabled).
pub fn is_optional(id: &str) -> bool {
    registry::all().any(|r| r.optional && r.meta.id == id)
}

/// Whether any check looks at objects of `kind`.
pub fn checks_kind(kind: &str) -> bool {
    registry::all().any(|r| match r.kinds {
        Kinds::Workloads => palisade_model::is_workload_kind(kind),
        Kinds::Only(kinds) => kinds.contains(&kind),
        Kinds::All => true,
    })
}

/// Runs the enabled checks on objects of one input.
pub struct Checker<'a> {
    index: Index<'a>,
    options: &'a CheckOptions,
    rules: Vec<&'static Rule>,
}

impl<'a> Checker<'a> {
    /// Indexes `objects` (the whole input) and enables the default rules.
    pub fn new(objects: &'a [Object], options: &'a CheckOptions) -> Self {
        let rules = registry::all().filter(|r| !r.optional).collect();
        Checker {
            index: Index::new(objects),
            options,
            rules,
        }
    }

    /// Keeps only the rules for which `keep` is true (rule sets, `--framework`).
    pub fn retain(&mut self, keep: impl Fn(&Rule) -> bool) {
        self.rules.retain(|r| keep(r));
    }

    /// Enables optional rules for which `enable` is true.
    pub fn enable(&mut self, enable: impl Fn(&Rule) -> bool) {
        for rule in registry::all() {
            if rule.optional
                && enable(rule)
                && !self.rules.iter().any(|r| r.meta.id == rule.meta.id)
            {
                self.rules.push(rule);
            }
        }
    }

    /// The findings of every enabled rule on `object`. Safe to call from many threads.
    pub fn check(&self, object: &Object) -> Vec<Finding> {
        let cx = Cx {
            index: &self.index,
            options: self.options,
        };
        let mut findings = Vec::new();
        for rule in &self.rules {
            if rule.kinds.applies_to(object) {
                let mut sink = Sink::new(&rule.meta, object);
                (rule.check)(&cx, object, &mut sink);
                findings.extend(sink.into_findings());
            }
        }
        findings
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use palisade_model::{load_text, Finding, LoadOptions};

    use crate::{CheckOptions, Cx, Index, Rule, Sink};

    /// Runs one rule over every object of `yaml`, with default options.
    pub fn run(rule: &'static Rule, yaml: &str) -> Vec<Finding> {
        run_with(rule, yaml, &CheckOptions::default())
    }

    pub fn run_with(rule: &'static Rule, yaml: &str, options: &CheckOptions) -> Vec<Finding> {
        let loaded = load_text("test.yaml", yaml, &LoadOptions::default());
        assert!(
            loaded.errors.is_empty(),
            "test input has errors: {:?}",
            loaded.errors
        );
        let index = Index::new(&loaded.objects);
        let cx = Cx {
            index: &index,
            options,
        };
        let mut findings = Vec::new();
        for object in &loaded.objects {
            if rule.kinds.applies_to(object) {
                let mut sink = Sink::new(&rule.meta, object);
                (rule.check)(&cx, object, &mut sink);
                findings.extend(sink.into_findings());
            }
        }
        findings
    }

    /// (line, column) of each finding, for location assertions.
    pub fn positions(findings: &[Finding]) -> Vec<(u32, u32)> {
        findings
            .iter()
            .map(|f| (f.location.span.start.line, f.location.span.start.column))
            .collect()
    }
}
