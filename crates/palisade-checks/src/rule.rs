//! What a check is, and the small toolkit every check uses.

/// The `//!` documentation of the calling rule's file, extracted by `build.rs`.
macro_rules! rule_docs {
    () => {
        include_str!(concat!(env!("OUT_DIR"), "/", module_path!(), ".md"))
    };
}
pub(crate) use rule_docs;

use palisade_model::{pod_template, Container, Finding, Node, Object, PodTemplate, RuleMeta};

use crate::index::Index;

/// Which objects a rule looks at; the checker skips the others without calling it.
#[derive(Debug, Clone, Copy)]
pub enum Kinds {
    /// Objects with a pod template (Pod, Deployment, ..., CronJob, PodTemplate).
    Workloads,
    /// Objects of these kinds only.
    Only(&'static [&'static str]),
    /// Every object, custom resources included.
    All,
}

impl Kinds {
    pub fn applies_to(&self, object: &Object) -> bool {
        match self {
            Kinds::Workloads => palisade_model::is_workload_kind(object.kind()),
            Kinds::Only(kinds) => kinds.contains(&object.kind()),
            Kinds::All => true,
        }
    }
}

/// A check: its documentation, what it looks at, and the function that looks.
pub struct Rule {
    pub meta: RuleMeta,
    pub kinds: Kinds,
    /// Off unless enabled in the configuration (opinionated checks, as kube-score's optional ones).
    pub optional: bool,
    pub check: fn(&Cx<'_>, &Object, &mut Sink<'_>),
}

/// Options that change what checks report.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Registries images may come from (`registry.example.com/`, prefixes); empty: any.
    pub allowed_registries: Vec<String>,
    /// Labels every workload must carry (the `required-labels` check); empty: off.
    pub required_labels: Vec<String>,
}

/// What a check can see besides its object.
pub struct Cx<'a> {
    pub index: &'a Index<'a>,
    pub options: &'a CheckOptions,
}

/// Collects the findings of one rule on one object.
pub struct Sink<'a> {
    rule: &'static RuleMeta,
    object: &'a Object,
    findings: Vec<Finding>,
}

impl<'a> Sink<'a> {
    pub fn new(rule: &'static RuleMeta, object: &'a Object) -> Self {
        Sink {
            rule,
            object,
            findings: Vec::new(),
        }
    }

    /// Reports a finding at `node`, with `field` the dotted path of that node in the object.
    pub fn report(
        &mut self,
        node: &Node,
        field: impl Into<String>,
        message: impl Into<String>,
        remediation: impl Into<String>,
    ) {
        self.findings.push(Finding::new(
            self.rule,
            self.object,
            node.span,
            Some(field.into()),
            message.into(),
            remediation.into(),
        ));
    }

    /// Reports a finding at an explicit span (a line inside a block scalar).
    pub fn report_at(
        &mut self,
        span: palisade_model::Span,
        field: impl Into<String>,
        message: impl Into<String>,
        remediation: impl Into<String>,
    ) {
        self.findings.push(Finding::new(
            self.rule,
            self.object,
            span,
            Some(field.into()),
            message.into(),
            remediation.into(),
        ));
    }

    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }
}

/// A container with its pod and the path to reach it, for per-container checks.
pub struct ContainerCx<'a> {
    pub pod: PodTemplate<'a>,
    pub container: Container<'a>,
}

impl<'a> ContainerCx<'a> {
    pub fn name(&self) -> &'a str {
        self.container.name()
    }

    pub fn node(&self) -> &'a Node {
        self.container.node
    }

    /// Dotted path of a field of this container: `spec.template.spec.containers[1].image`.
    pub fn field(&self, rest: &str) -> String {
        let base = self.pod.field_path(&self.container.path());
        if rest.is_empty() {
            base
        } else {
            format!("{base}.{rest}")
        }
    }

    /// `container "web"`, `init container "setup"`, `ephemeral container "debug"`.
    pub fn describe(&self) -> String {
        let what = match self.container.kind {
            palisade_model::ContainerKind::Container => "container",
            palisade_model::ContainerKind::InitContainer => "init container",
            palisade_model::ContainerKind::EphemeralContainer => "ephemeral container",
        };
        format!("{what} {:?}", self.name())
    }

    /// The security context as Kubernetes applies it: the container's fields,
    /// falling back to the pod's for the fields a pod can set.
    pub fn security(&self) -> EffectiveSecurity<'a> {
        EffectiveSecurity {
            container: self.container.security_context(),
            pod: self.pod.security_context(),
        }
    }

    /// The nearest node to point at for a setting this container lacks: its
    /// `securityContext` when present, else the container itself.
    pub fn anchor(&self) -> (&'a Node, String) {
        match self.container.security_context() {
            Some(sc) => (sc, self.field("securityContext")),
            None => (self.container.node, self.field("")),
        }
    }
}

/// Fields a PodSecurityContext shares with a container SecurityContext; for
/// these the container's value wins and the pod's applies when it has none.
const POD_LEVEL_FIELDS: &[&str] = &[
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "seLinuxOptions",
    "seccompProfile",
    "appArmorProfile",
    "windowsOptions",
];

/// Where an effective setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Container,
    Pod,
}

/// A container's security context merged with its pod's, as the kubelet merges them.
#[derive(Debug, Clone, Copy)]
pub struct EffectiveSecurity<'a> {
    pub container: Option<&'a Node>,
    pub pod: Option<&'a Node>,
}

impl<'a> EffectiveSecurity<'a> {
    /// The effective value of `field`, with where it was set.
    pub fn get(&self, field: &str) -> Option<(&'a Node, Level)> {
        if let Some(node) = self.container.and_then(|sc| sc.get_set(field)) {
            return Some((node, Level::Container));
        }
        if POD_LEVEL_FIELDS.contains(&field) {
            if let Some(node) = self.pod.and_then(|sc| sc.get_set(field)) {
                return Some((node, Level::Pod));
            }
        }
        None
    }

    pub fn bool(&self, field: &str) -> Option<bool> {
        self.get(field).and_then(|(n, _)| n.as_bool())
    }

    pub fn int(&self, field: &str) -> Option<i64> {
        self.get(field).and_then(|(n, _)| n.as_i64())
    }
}

/// Calls `f` for every container of a workload (init, regular, ephemeral).
pub fn each_container<'a>(object: &'a Object, mut f: impl FnMut(&ContainerCx<'a>)) {
    let Some(pod) = pod_template(object) else {
        return;
    };
    for container in pod.containers() {
        f(&ContainerCx { pod, container });
    }
}

/// The names of a node's string items (`capabilities.add`), with their nodes.
pub fn strings(node: Option<&Node>) -> impl Iterator<Item = (&Node, &str)> {
    node.map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|n| n.as_str().map(|s| (n, s)))
}
