//! Pod specs out of every workload kind.

use crate::node::Node;
use crate::object::Object;

/// Where the pod template lives in each workload kind, as a path of keys.
const POD_TEMPLATE_PATHS: &[(&str, &[&str])] = &[
    ("Pod", &[]),
    ("PodTemplate", &["template"]),
    ("Deployment", &["spec", "template"]),
    ("StatefulSet", &["spec", "template"]),
    ("DaemonSet", &["spec", "template"]),
    ("ReplicaSet", &["spec", "template"]),
    ("ReplicationController", &["spec", "template"]),
    ("Job", &["spec", "template"]),
    ("CronJob", &["spec", "jobTemplate", "spec", "template"]),
];

/// Whether objects of `kind` carry a pod spec.
pub fn is_workload_kind(kind: &str) -> bool {
    POD_TEMPLATE_PATHS.iter().any(|(k, _)| *k == kind)
}

/// A pod's metadata and spec, wherever they sit in the object.
#[derive(Debug, Clone, Copy)]
pub struct PodTemplate<'a> {
    /// The pod's metadata (annotations matter for AppArmor and seccomp before 1.19/1.30).
    pub metadata: Option<&'a Node>,
    pub spec: &'a Node,
    /// The dotted path of the spec in the object (`spec`, `spec.template.spec`, ...).
    pub spec_path: &'static str,
    /// False for a Pod itself, true for a template inside a workload.
    pub is_template: bool,
}

/// The pod template of `object`, when its kind has one and the spec is present.
pub fn pod_template(object: &Object) -> Option<PodTemplate<'_>> {
    pod_template_in(object.kind(), &object.root)
}

/// The pod spec inside `root`, an object of `kind` (e.g. the `object` of an
/// admission request, which is not a loaded [`Object`]).
pub fn pod_template_in<'a>(kind: &str, root: &'a Node) -> Option<PodTemplate<'a>> {
    let (_, path) = POD_TEMPLATE_PATHS.iter().find(|(k, _)| *k == kind)?;
    let holder = root.path(path)?;
    let spec = holder.get("spec").filter(|n| n.as_map().is_some())?;
    Some(PodTemplate {
        metadata: holder.get("metadata"),
        spec,
        spec_path: spec_path(path),
        is_template: !path.is_empty(),
    })
}

fn spec_path(path: &[&str]) -> &'static str {
    match path {
        [] => "spec",
        ["template"] => "template.spec",
        ["spec", "template"] => "spec.template.spec",
        _ => "spec.jobTemplate.spec.template.spec",
    }
}

/// Which list of a pod spec a container comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerKind {
    Container,
    InitContainer,
    EphemeralContainer,
}

impl ContainerKind {
    pub const ALL: [ContainerKind; 3] = [
        ContainerKind::InitContainer,
        ContainerKind::Container,
        ContainerKind::EphemeralContainer,
    ];

    /// The pod spec field holding this kind of container.
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Container => "containers",
            ContainerKind::InitContainer => "initContainers",
            ContainerKind::EphemeralContainer => "ephemeralContainers",
        }
    }
}

/// One container of a pod spec.
#[derive(Debug, Clone, Copy)]
pub struct Container<'a> {
    pub kind: ContainerKind,
    /// Index within its list.
    pub index: usize,
    pub node: &'a Node,
}

impl<'a> Container<'a> {
    pub fn name(&self) -> &'a str {
        self.node.get("name").and_then(Node::as_str).unwrap_or("")
    }

    pub fn security_context(&self) -> Option<&'a Node> {
        self.node.get_set("securityContext")
    }

    /// The dotted path of this container relative to the pod spec (`containers[1]`).
    pub fn path(&self) -> String {
        format!("{}[{}]", self.kind.field(), self.index)
    }
}

impl<'a> PodTemplate<'a> {
    /// Every container in the order Pod Security Admission visits them:
    /// init containers, containers, then ephemeral containers.
    pub fn containers(&self) -> impl Iterator<Item = Container<'a>> + 'a {
        let spec = self.spec;
        ContainerKind::ALL.into_iter().flat_map(move |kind| {
            spec.get(kind.field())
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .enumerate()
                .map(move |(index, node)| Container { kind, index, node })
        })
    }

    pub fn security_context(&self) -> Option<&'a Node> {
        self.spec.get_set("securityContext")
    }

    /// A pod-template annotation value.
    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.metadata?
            .path(&["annotations", key])
            .and_then(Node::as_str)
    }

    /// `spec_path` joined with a relative path.
    pub fn field_path(&self, rest: &str) -> String {
        if rest.is_empty() {
            self.spec_path.to_string()
        } else {
            format!("{}.{}", self.spec_path, rest)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{load_text, pod_template, LoadOptions};

    fn containers(kind: &str, api: &str, wrap: &str) -> Vec<String> {
        let pod = "{containers: [{name: c}], initContainers: [{name: i}], ephemeralContainers: [{name: e}]}";
        let body = wrap.replace("POD", pod);
        let text = format!("apiVersion: {api}\nkind: {kind}\nmetadata: {{name: x}}\n{body}\n");
        let loaded = load_text("w.yaml", text, &LoadOptions::default());
        assert!(loaded.errors.is_empty(), "{kind}: {:?}", loaded.errors);
        let template =
            pod_template(&loaded.objects[0]).unwrap_or_else(|| panic!("{kind} has a pod template"));
        template
            .containers()
            .map(|c| format!("{}:{}", c.path(), c.name()))
            .collect()
    }

    #[test]
    fn pod_specs_come_out_of_every_workload_kind() {
        let expected = [
            "initContainers[0]:i",
            "containers[0]:c",
            "ephemeralContainers[0]:e",
        ];
        for (kind, api, wrap) in [
            ("Pod", "v1", "spec: POD"),
            ("PodTemplate", "v1", "template: {spec: POD}"),
            ("Deployment", "apps/v1", "spec: {template: {spec: POD}}"),
            ("StatefulSet", "apps/v1", "spec: {template: {spec: POD}}"),
            ("DaemonSet", "apps/v1", "spec: {template: {spec: POD}}"),
            ("ReplicaSet", "apps/v1", "spec: {template: {spec: POD}}"),
            (
                "ReplicationController",
                "v1",
                "spec: {template: {spec: POD}}",
            ),
            ("Job", "batch/v1", "spec: {template: {spec: POD}}"),
            (
                "CronJob",
                "batch/v1",
                "spec: {jobTemplate: {spec: {template: {spec: POD}}}}",
            ),
        ] {
            assert_eq!(containers(kind, api, wrap), expected, "{kind}");
        }
    }
}
