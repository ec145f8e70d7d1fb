//! The policy as a Graphviz `dot` graph: subjects → bindings → roles, with
//! roles coloured by the most severe risk they give and the risky bindings'
//! edges drawn bold.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use palisade_model::Severity;

use crate::model::{BindingKind, Rbac, RoleKind, SubjectKind};
use crate::risks::{is_default, Risk};

/// What [`Rbac::dot`] draws.
#[derive(Debug, Clone, Default)]
pub struct DotOptions {
    /// Also draw the bootstrap policy's own roles and bindings.
    pub include_defaults: bool,
    /// Only bindings and roles of this namespace (and cluster-wide ones that
    /// apply there); `None`: everything.
    pub namespace: Option<String>,
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn fill(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Critical) => "#f4a3a3",
        Some(Severity::High) => "#f8c99b",
        Some(Severity::Medium) => "#fbe7a1",
        Some(Severity::Low) | Some(Severity::Info) => "#e6eef7",
        None => "#ffffff",
    }
}

impl Rbac {
    /// The graph in Graphviz `dot` syntax. `risks` (from [`Rbac::risks`])
    /// colour the roles and bindings they concern.
    pub fn dot(&self, risks: &[Risk], options: &DotOptions) -> String {
        let mut role_severity: BTreeMap<usize, Severity> = BTreeMap::new();
        let mut binding_severity: BTreeMap<usize, Severity> = BTreeMap::new();
        for r in risks {
            if let Some(role) = r.role {
                let e = role_severity.entry(role).or_insert(r.severity);
                *e = (*e).max(r.severity);
            }
            for h in &r.holders {
                let e = binding_severity.entry(h.binding).or_insert(r.severity);
                *e = (*e).max(r.severity);
            }
        }
        let mut out = String::from(
            "digraph rbac {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n",
        );
        let mut subjects: BTreeSet<(String, String)> = BTreeSet::new();
        let mut roles: BTreeSet<usize> = BTreeSet::new();
        let mut edges = String::new();
        for (id, b) in self.bindings.iter().enumerate() {
            if !options.include_defaults && is_default(&b.labels) {
                continue;
            }
            if let (Some(ns), BindingKind::RoleBinding) = (&options.namespace, b.kind) {
                if b.namespace.as_ref() != Some(ns) {
                    continue;
                }
            }
            let node = format!("binding:{id}");
            let label = match &b.namespace {
                Some(ns) => format!("RoleBinding\\n{ns}/{}", b.name),
                None => format!("ClusterRoleBinding\\n{}", b.name),
            };
            let sev = binding_severity.get(&id).copied();
            let _ = writeln!(
                out,
                "  {} [shape=box, style=\"filled\", fillcolor={}, label={}, tooltip={}];",
                quote(&node),
                quote(if sev.is_some() { "#fff3f3" } else { "#f5f5f5" }),
                quote(&label).replace("\\\\n", "\\n"),
                quote(&b.location.to_string())
            );
            for s in &b.subjects {
                let (key, label, shape) = match s.kind {
                    SubjectKind::ServiceAccount => {
                        let ns = b.subject_namespace(s).unwrap_or("");
                        (
                            format!("sa:{ns}/{}", s.name),
                            format!("ServiceAccount\\n{ns}/{}", s.name),
                            "component",
                        )
                    }
                    SubjectKind::Group => (
                        format!("group:{}", s.name),
                        format!("Group\\n{}", s.name),
                        "folder",
                    ),
                    SubjectKind::User => (
                        format!("user:{}", s.name),
                        format!("User\\n{}", s.name),
                        "ellipse",
                    ),
                    SubjectKind::Other(ref k) => (
                        format!("other:{k}:{}", s.name),
                        format!("{k}\\n{}", s.name),
                        "ellipse",
                    ),
                };
                if subjects.insert((key.clone(), label.clone())) {
                    let _ = writeln!(
                        out,
                        "  {} [shape={shape}, label={}];",
                        quote(&key),
                        quote(&label).replace("\\\\n", "\\n")
                    );
                }
                let _ = writeln!(
                    edges,
                    "  {} -> {}{};",
                    quote(&key),
                    quote(&node),
                    if sev.is_some_and(|s| s >= Severity::High) {
                        " [penwidth=2, color=\"#c0392b\"]"
                    } else {
                        ""
                    }
                );
            }
            match b.role {
                Some(role) => {
                    roles.insert(role);
                    let _ = writeln!(
                        edges,
                        "  {} -> {};",
                        quote(&node),
                        quote(&format!("role:{role}"))
                    );
                }
                None => {
                    let missing = format!("missing:{}:{}", b.role_ref.kind, b.role_ref.name);
                    let _ = writeln!(
                        out,
                        "  {} [shape=box, style=dashed, label={}];",
                        quote(&missing),
                        quote(&format!(
                            "{} {} (missing)",
                            b.role_ref.kind, b.role_ref.name
                        ))
                    );
                    let _ = writeln!(
                        edges,
                        "  {} -> {} [style=dashed];",
                        quote(&node),
                        quote(&missing)
                    );
                }
            }
        }
        for role in roles {
            let Some(r) = self.roles.get(role) else {
                continue;
            };
            let label = match (&r.kind, &r.namespace) {
                (RoleKind::Role, Some(ns)) => format!("Role\\n{ns}/{}", r.name),
                _ => format!("ClusterRole\\n{}", r.name),
            };
            let sev = role_severity.get(&role).copied();
            let label = match sev {
                Some(s) => format!("{label}\\n[{s}]"),
                None => label,
            };
            let _ = writeln!(
                out,
                "  {} [shape=box, style=\"rounded,filled\", fillcolor={}, label={}, tooltip={}];",
                quote(&format!("role:{role}")),
                quote(fill(sev)),
                quote(&label).replace("\\\\n", "\\n"),
                quote(&r.location.to_string())
            );
        }
        out.push_str(&edges);
        out.push_str("}\n");
        out
    }
}
