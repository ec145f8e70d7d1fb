//! The resources that decide connectivity, read from manifests.
//!
//! Reading follows what `kubectl`'s typed conversion would accept: a field of
//! the wrong type makes the whole object unreadable (reported, then skipped),
//! absent and `null` fields take Go's zero values, and objects of kinds that
//! play no part in connectivity are ignored.

use std::collections::BTreeMap;

use palisade_model::{Node, Object, ObjectId, Value};

use crate::selector::{Expression, LabelSelector, Labels};

/// `kubernetes.io/metadata.name`: set on every namespace by the API server.
pub const NS_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A Go `intstr.IntOrString`, with Go's zero value (`Int 0`) when absent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash, PartialOrd, Ord)]
pub struct IntOrStr {
    pub is_str: bool,
    pub int_val: i64,
    pub str_val: String,
}

impl IntOrStr {
    pub fn int(v: i64) -> Self {
        IntOrStr {
            is_str: false,
            int_val: v,
            str_val: String::new(),
        }
    }

    pub fn str(v: &str) -> Self {
        IntOrStr {
            is_str: true,
            int_val: 0,
            str_val: v.to_string(),
        }
    }

    /// Go's `IntValue()`: the number, or the string parsed as a number (0 if it is not one).
    pub fn int_value(&self) -> i64 {
        if self.is_str {
            self.str_val.parse().unwrap_or(0)
        } else {
            self.int_val
        }
    }
}

impl std::fmt::Display for IntOrStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_str {
            f.write_str(&self.str_val)
        } else {
            write!(f, "{}", self.int_val)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    pub name: String,
    pub labels: Labels,
}

/// A container port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerPort {
    pub name: String,
    pub port: i64,
    /// As written; empty means TCP.
    pub protocol: String,
}

/// The workload a pod belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owner {
    pub kind: String,
    pub name: String,
}

/// A pod, real (from a Pod) or stood in for a workload's replicas.
#[derive(Debug, Clone)]
pub struct Pod {
    pub name: String,
    pub namespace: String,
    pub labels: Labels,
    pub ports: Vec<ContainerPort>,
    pub owner: Option<Owner>,
    /// Where the pod came from.
    pub source: Option<ObjectId>,
    pub source_line: u32,
    pub host_network: bool,
    /// Secondary networks the pod asks for (the `k8s.v1.cni.cncf.io/networks`
    /// annotation, or a VirtualMachine's multus networks), by network name.
    /// Read only with multiple networks enabled.
    pub secondary: BTreeMap<String, NetAttach>,
}

/// A pod's attachment to a secondary network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetAttach {
    /// The namespace of the NetworkAttachmentDefinition; empty: the pod's.
    pub namespace: String,
    /// Addresses (CIDR notation) the pod has on the network.
    pub ips: Vec<String>,
}

/// A (Cluster)UserDefinedNetwork: only primary ones change connectivity.
#[derive(Debug, Clone)]
pub struct UserDefinedNetwork {
    pub name: String,
    /// Empty for a ClusterUserDefinedNetwork.
    pub namespace: String,
    /// `Some` for a ClusterUserDefinedNetwork: the namespaces it spans.
    pub namespace_selector: Option<LabelSelector>,
    pub topology: String,
    /// The `role` of the `layer2` / `layer3` sections, when present.
    pub layer2_role: Option<String>,
    pub layer3_role: Option<String>,
}

impl UserDefinedNetwork {
    pub fn is_cluster(&self) -> bool {
        self.namespace_selector.is_some()
    }

    pub fn is_primary(&self) -> bool {
        self.layer2_role.as_deref() == Some("Primary")
            || self.layer3_role.as_deref() == Some("Primary")
    }

    /// How errors name it: `ns/name` for a UDN, `name` for a CUDN.
    pub fn display_name(&self) -> String {
        if self.is_cluster() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }

    /// The fields OVN-Kubernetes requires: a Layer2/Layer3 topology with
    /// only its own section, and a Primary/Secondary role.
    pub fn validate(&self) -> Result<(), String> {
        let name = self.display_name();
        let (l2, l3) = (self.layer2_role.is_some(), self.layer3_role.is_some());
        match self.topology.as_str() {
            "Layer2" if l3 => {
                return Err(format!(
                    "{name}: topology Layer2 cannot have a layer3 configuration"
                ))
            }
            "Layer3" if l2 => {
                return Err(format!(
                    "{name}: topology Layer3 cannot have a layer2 configuration"
                ))
            }
            "Layer2" | "Layer3" => {}
            t => {
                return Err(format!(
                    "{name}: invalid topology {t:?}: expected Layer2 or Layer3"
                ))
            }
        }
        for role in [&self.layer2_role, &self.layer3_role].into_iter().flatten() {
            if role != "Primary" && role != "Secondary" {
                return Err(format!(
                    "{name}: invalid role {role:?}: expected Primary or Secondary"
                ));
            }
        }
        Ok(())
    }
}

/// A MultiNetworkPolicy: a NetworkPolicy for the secondary networks its
/// `k8s.v1.cni.cncf.io/policy-for` annotation names.
#[derive(Debug, Clone)]
pub struct MultiNetworkPolicy {
    pub policy: NetworkPolicy,
    /// The annotation (comma-separated `[namespace/]name` list), when present.
    pub policy_for: Option<String>,
}

impl Pod {
    /// The named port's protocol and number (`TCP` when the container omits the protocol).
    pub fn named_port(&self, name: &str) -> Option<(String, i64)> {
        self.ports.iter().find(|p| p.name == name).map(|p| {
            let proto = if p.protocol.is_empty() {
                "TCP".to_string()
            } else {
                p.protocol.clone()
            };
            (proto, p.port)
        })
    }
}

/// A NetworkPolicy port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpPort {
    pub protocol: Option<String>,
    pub port: Option<IntOrStr>,
    pub end_port: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpIpBlock {
    pub cidr: String,
    pub except: Vec<String>,
}

/// A NetworkPolicy peer (`from`/`to` item).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpPeer {
    pub pod_selector: Option<LabelSelector>,
    pub namespace_selector: Option<LabelSelector>,
    pub ip_block: Option<NpIpBlock>,
}

/// An ingress or egress rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpRule {
    pub peers: Vec<NpPeer>,
    pub ports: Vec<NpPort>,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub struct NetworkPolicy {
    pub name: String,
    pub namespace: String,
    pub pod_selector: LabelSelector,
    pub policy_types: Vec<String>,
    pub policy_types_given: bool,
    pub ingress: Vec<NpRule>,
    pub egress: Vec<NpRule>,
    /// Whether `ingress`/`egress` keys are present in the spec (for lint).
    pub ingress_given: bool,
    pub egress_given: bool,
    pub id: ObjectId,
    pub file: String,
    pub line: u32,
}

impl NetworkPolicy {
    /// netpol-analyzer's `policyAffectsDirection`: explicit `policyTypes`, or
    /// Kubernetes' defaulting (Ingress always, Egress when egress rules exist).
    pub fn affects(&self, ingress: bool) -> bool {
        if !self.policy_types.is_empty() {
            let want = if ingress { "Ingress" } else { "Egress" };
            return self.policy_types.iter().any(|t| t == want);
        }
        ingress || !self.egress.is_empty()
    }

    pub fn full_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// An (Baseline)AdminNetworkPolicy `pods` selector: namespaces and pods in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespacedPod {
    pub namespace_selector: LabelSelector,
    pub pod_selector: LabelSelector,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnpSubject {
    pub namespaces: Option<LabelSelector>,
    pub pods: Option<NamespacedPod>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnpPeer {
    pub namespaces: Option<LabelSelector>,
    pub pods: Option<NamespacedPod>,
    pub networks: Option<Vec<String>>,
    pub nodes: Option<LabelSelector>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnpPort {
    Number {
        protocol: String,
        port: i64,
    },
    Named(String),
    Range {
        protocol: String,
        start: i64,
        end: i64,
    },
    /// Not exactly one of the three fields set.
    Invalid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnpRule {
    pub name: String,
    pub action: String,
    pub peers: Vec<AnpPeer>,
    /// `None`: all ports.
    pub ports: Option<Vec<AnpPort>>,
    pub line: u32,
}

/// An AdminNetworkPolicy, or a BaselineAdminNetworkPolicy (no priority, no Pass).
#[derive(Debug, Clone)]
pub struct AdminPolicy {
    pub name: String,
    pub priority: i64,
    pub subject: AnpSubject,
    pub ingress: Vec<AnpRule>,
    pub egress: Vec<AnpRule>,
    pub baseline: bool,
    /// A ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2): `baseline`
    /// is its tier (Baseline or Admin); actions are read as Allow (Accept),
    /// Deny and Pass, and Pass is allowed in both tiers.
    pub cnp: bool,
    pub id: ObjectId,
    pub file: String,
    pub line: u32,
}

impl AdminPolicy {
    /// The resource kind, as reasons name it.
    pub fn kind_label(&self) -> &'static str {
        match (self.cnp, self.baseline) {
            (true, _) => "ClusterNetworkPolicy",
            (false, true) => "BaselineAdminNetworkPolicy",
            (false, false) => "AdminNetworkPolicy",
        }
    }

    /// Whether the Pass action is invalid (only in a BaselineAdminNetworkPolicy).
    pub fn pass_forbidden(&self) -> bool {
        self.baseline && !self.cnp
    }

    pub fn affects(&self, ingress: bool) -> bool {
        if ingress {
            !self.ingress.is_empty()
        } else {
            !self.egress.is_empty()
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServicePort {
    pub name: String,
    pub port: i64,
    pub target_port: IntOrStr,
    /// `TCP`, `UDP` or `SCTP` (empty when not given: TCP).
    pub protocol: String,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub namespace: String,
    pub selector: Option<BTreeMap<String, String>>,
    pub ports: Vec<ServicePort>,
}

/// A backend service of an Ingress or Route with the port asked for.
#[derive(Debug, Clone)]
pub struct ServiceRef {
    pub name: String,
    pub port: IntOrStr,
}

/// An Ingress or an OpenShift Route: what they route to.
#[derive(Debug, Clone)]
pub struct IngressLike {
    pub kind: IngressKind,
    pub name: String,
    pub namespace: String,
    pub services: Vec<ServiceRef>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IngressKind {
    Route,
    Ingress,
}

impl IngressKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IngressKind::Route => "Route",
            IngressKind::Ingress => "Ingress",
        }
    }
}

/// A policy, by kind and index, to keep the input order across kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyRef {
    Np(usize),
    Anp(usize),
    Banp,
    /// A Baseline-tier ClusterNetworkPolicy (Admin-tier ones are in `anps`).
    BaselineCnp(usize),
}

/// The resources that matter, in input order.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    /// Every policy in input order.
    pub policy_order: Vec<PolicyRef>,
    pub namespaces: Vec<Namespace>,
    /// Pods in input order; replicas of a workload are two pods (`name-1`, `name-2`).
    pub pods: Vec<Pod>,
    pub netpols: Vec<NetworkPolicy>,
    /// AdminNetworkPolicies and Admin-tier ClusterNetworkPolicies.
    pub anps: Vec<AdminPolicy>,
    pub banp: Option<AdminPolicy>,
    /// Baseline-tier ClusterNetworkPolicies.
    pub baseline_cnps: Vec<AdminPolicy>,
    pub services: Vec<Service>,
    pub ingresses: Vec<IngressLike>,
    /// Objects that could not be read, and other warnings.
    pub warnings: Vec<String>,
    /// Fatal problems (the analysis cannot go on), as netpol-analyzer reports them.
    pub errors: Vec<String>,
    pub has_workloads: bool,
    pub has_policies: bool,
    /// Whether multiple networks were read (netpol-analyzer's
    /// `--multiple-networks`): (Cluster)UserDefinedNetworks,
    /// NetworkAttachmentDefinitions, MultiNetworkPolicies and VirtualMachines.
    pub multi_networks: bool,
    /// (Cluster)UserDefinedNetworks in input order.
    pub udns: Vec<UserDefinedNetwork>,
    /// NetworkAttachmentDefinitions: (name, namespace).
    pub nads: Vec<(String, String)>,
    pub mnps: Vec<MultiNetworkPolicy>,
}

/// The kinds whose pods take part.
pub const WORKLOAD_KINDS: &[&str] = &[
    "Pod",
    "ReplicaSet",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
];

type R<T> = Result<T, String>;

fn type_err(path: &str, expected: &str, node: &Node) -> String {
    format!(
        "{path}: expected {expected}, found {} (line {})",
        node.kind(),
        node.span.start.line
    )
}

fn opt_str(node: Option<&Node>, path: &str) -> R<Option<String>> {
    match node {
        None => Ok(None),
        Some(n) if n.is_null() => Ok(None),
        Some(n) => match &n.value {
            Value::Str { text } => Ok(Some(text.to_string())),
            _ => Err(type_err(path, "string", n)),
        },
    }
}

fn opt_int(node: Option<&Node>, path: &str) -> R<Option<i64>> {
    match node {
        None => Ok(None),
        Some(n) if n.is_null() => Ok(None),
        Some(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| type_err(path, "integer", n)),
    }
}

fn seq<'a>(node: Option<&'a Node>, path: &str) -> R<&'a [Node]> {
    match node {
        None => Ok(&[]),
        Some(n) if n.is_null() => Ok(&[]),
        Some(n) => n.as_seq().ok_or_else(|| type_err(path, "list", n)),
    }
}

fn map<'a>(node: Option<&'a Node>, path: &str) -> R<Option<&'a Node>> {
    match node {
        None => Ok(None),
        Some(n) if n.is_null() => Ok(None),
        Some(n) if n.as_map().is_some() => Ok(Some(n)),
        Some(n) => Err(type_err(path, "object", n)),
    }
}

fn string_map(node: Option<&Node>, path: &str) -> R<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if let Some(m) = map(node, path)? {
        for (k, v) in m.entries() {
            let key = k.key_text();
            match &v.value {
                Value::Str { text } => {
                    out.insert(key, text.to_string());
                }
                // A null value decodes to the empty string.
                Value::Null => {
                    out.insert(key, String::new());
                }
                _ => return Err(type_err(&format!("{path}.{key}"), "string", v)),
            }
        }
    }
    Ok(out)
}

fn int_or_str(node: Option<&Node>, path: &str) -> R<Option<IntOrStr>> {
    match node {
        None => Ok(None),
        Some(n) if n.is_null() => Ok(None),
        Some(n) => match &n.value {
            Value::Str { text } => Ok(Some(IntOrStr::str(text))),
            _ => n
                .as_i64()
                .map(|i| Some(IntOrStr::int(i)))
                .ok_or_else(|| type_err(path, "integer or string", n)),
        },
    }
}

/// Reads a `metav1.LabelSelector`; `None` when absent or null.
pub fn label_selector(node: Option<&Node>, path: &str) -> R<Option<LabelSelector>> {
    let Some(m) = map(node, path)? else {
        return Ok(None);
    };
    let match_labels = string_map(m.get("matchLabels"), &format!("{path}.matchLabels"))?;
    let mut match_expressions = Vec::new();
    for (i, e) in seq(
        m.get("matchExpressions"),
        &format!("{path}.matchExpressions"),
    )?
    .iter()
    .enumerate()
    {
        let p = format!("{path}.matchExpressions[{i}]");
        let e = map(Some(e), &p)?.ok_or_else(|| format!("{p}: null expression"))?;
        let key = opt_str(e.get("key"), &format!("{p}.key"))?.unwrap_or_default();
        let operator = opt_str(e.get("operator"), &format!("{p}.operator"))?.unwrap_or_default();
        let mut values = Vec::new();
        for (j, v) in seq(e.get("values"), &format!("{p}.values"))?
            .iter()
            .enumerate()
        {
            values.push(opt_str(Some(v), &format!("{p}.values[{j}]"))?.unwrap_or_default());
        }
        match_expressions.push(Expression {
            key,
            operator,
            values,
        });
    }
    Ok(Some(LabelSelector {
        match_labels,
        match_expressions,
    }))
}

fn line(node: &Node) -> u32 {
    node.span.start.line
}

/// Reads every relevant object, in input order, on the pod network only:
/// (Cluster)UserDefinedNetworks, NetworkAttachmentDefinitions,
/// MultiNetworkPolicies and VirtualMachines are ignored (netpol-analyzer's
/// default).
pub fn read_resources(objects: &[Object]) -> Resources {
    read_resources_with(objects, false)
}

/// Reads every relevant object, in input order; with `multi_networks`, also
/// the objects of multiple networks and the pods' secondary networks.
pub fn read_resources_with(objects: &[Object], multi_networks: bool) -> Resources {
    let mut res = Resources {
        multi_networks,
        ..Resources::default()
    };
    for object in objects {
        let kind = object.kind();
        let outcome = match kind {
            "UserDefinedNetwork" | "ClusterUserDefinedNetwork" if multi_networks => {
                read_udn(object).map(|u| res.udns.push(u))
            }
            "NetworkAttachmentDefinition" if multi_networks => {
                res.nads
                    .push((object.id.name.clone(), namespace_of(object)));
                Ok(())
            }
            "MultiNetworkPolicy" if multi_networks => read_netpol(object).map(|np| {
                res.has_policies = true;
                let policy_for = object
                    .root
                    .path(&["metadata", "annotations", POLICY_FOR_ANNOTATION])
                    .and_then(Node::as_str)
                    .map(str::to_string);
                res.mnps.push(MultiNetworkPolicy {
                    policy: np,
                    policy_for,
                })
            }),
            "VirtualMachine" if multi_networks => read_vm(object).map(|pod| {
                res.has_workloads = true;
                res.pods.push(pod)
            }),
            "Namespace" => read_namespace(object).map(|ns| res.namespaces.push(ns)),
            "NetworkPolicy" => read_netpol(object).map(|np| {
                res.has_policies = true;
                res.policy_order.push(PolicyRef::Np(res.netpols.len()));
                res.netpols.push(np)
            }),
            "AdminNetworkPolicy" => read_admin(object, false).map(|p| {
                res.has_policies = true;
                res.policy_order.push(PolicyRef::Anp(res.anps.len()));
                res.anps.push(p)
            }),
            "BaselineAdminNetworkPolicy" => read_admin(object, true).map(|p| {
                res.has_policies = true;
                if res.banp.is_some() {
                    res.errors.push(
                        "only one baseline admin network policy may be defined in the cluster"
                            .to_string(),
                    );
                } else if p.name != "default" {
                    res.errors.push(
                        "only one baseline admin network policy named default may be defined"
                            .to_string(),
                    );
                } else {
                    res.policy_order.push(PolicyRef::Banp);
                    res.banp = Some(p)
                }
            }),
            "ClusterNetworkPolicy" => read_cnp(object).map(|p| {
                res.has_policies = true;
                if p.baseline {
                    res.policy_order
                        .push(PolicyRef::BaselineCnp(res.baseline_cnps.len()));
                    res.baseline_cnps.push(p);
                } else {
                    res.policy_order.push(PolicyRef::Anp(res.anps.len()));
                    res.anps.push(p);
                }
            }),
            "Service" => read_service(object).map(|s| res.services.push(s)),
            "Route" => read_route(object).map(|r| res.ingresses.push(r)),
            "Ingress" => read_ingress(object).map(|r| res.ingresses.push(r)),
            k if WORKLOAD_KINDS.contains(&k) => read_workload(object, multi_networks).map(|pods| {
                res.has_workloads = true;
                res.pods.extend(pods)
            }),
            _ => Ok(()),
        };
        if let Err(e) = outcome {
            res.warnings.push(format!(
                "{}: skipping {} {}: {e}",
                object.source.name,
                object.kind(),
                object.id.name
            ));
        }
    }
    res
}

fn namespace_of(object: &Object) -> String {
    object
        .id
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

fn read_namespace(object: &Object) -> R<Namespace> {
    let mut labels = string_map(object.root.path(&["metadata", "labels"]), "metadata.labels")?;
    labels
        .entry(NS_NAME_LABEL.to_string())
        .or_insert_with(|| object.id.name.clone());
    Ok(Namespace {
        name: object.id.name.clone(),
        labels,
    })
}

fn read_np_port(node: &Node, path: &str) -> R<NpPort> {
    let m = map(Some(node), path)?.ok_or_else(|| format!("{path}: null port"))?;
    Ok(NpPort {
        protocol: opt_str(m.get("protocol"), &format!("{path}.protocol"))?,
        port: int_or_str(m.get("port"), &format!("{path}.port"))?,
        end_port: opt_int(m.get("endPort"), &format!("{path}.endPort"))?,
    })
}

fn read_np_peer(node: &Node, path: &str) -> R<NpPeer> {
    let m = map(Some(node), path)?.ok_or_else(|| format!("{path}: null peer"))?;
    let ip_block = match map(m.get("ipBlock"), &format!("{path}.ipBlock"))? {
        None => None,
        Some(b) => {
            let cidr = opt_str(b.get("cidr"), &format!("{path}.ipBlock.cidr"))?.unwrap_or_default();
            let mut except = Vec::new();
            for (i, e) in seq(b.get("except"), &format!("{path}.ipBlock.except"))?
                .iter()
                .enumerate()
            {
                except.push(
                    opt_str(Some(e), &format!("{path}.ipBlock.except[{i}]"))?.unwrap_or_default(),
                );
            }
            Some(NpIpBlock { cidr, except })
        }
    };
    Ok(NpPeer {
        pod_selector: label_selector(m.get("podSelector"), &format!("{path}.podSelector"))?,
        namespace_selector: label_selector(
            m.get("namespaceSelector"),
            &format!("{path}.namespaceSelector"),
        )?,
        ip_block,
    })
}

fn read_np_rules(spec: &Node, key: &str, peers_key: &str) -> R<Vec<NpRule>> {
    let mut rules = Vec::new();
    for (i, r) in seq(spec.get(key), &format!("spec.{key}"))?
        .iter()
        .enumerate()
    {
        let path = format!("spec.{key}[{i}]");
        // `- {}` and `- ` (null) are both a rule with no peers and no ports.
        let m = map(Some(r), &path)?;
        let mut peers = Vec::new();
        let mut ports = Vec::new();
        if let Some(m) = m {
            for (j, p) in seq(m.get(peers_key), &format!("{path}.{peers_key}"))?
                .iter()
                .enumerate()
            {
                peers.push(read_np_peer(p, &format!("{path}.{peers_key}[{j}]"))?);
            }
            for (j, p) in seq(m.get("ports"), &format!("{path}.ports"))?
                .iter()
                .enumerate()
            {
                ports.push(read_np_port(p, &format!("{path}.ports[{j}]"))?);
            }
        }
        rules.push(NpRule {
            peers,
            ports,
            line: line(r),
        });
    }
    Ok(rules)
}

fn read_netpol(object: &Object) -> R<NetworkPolicy> {
    let empty = Node::new(Value::Map(Box::new([])), object.root.span);
    let spec = map(object.root.get("spec"), "spec")?.unwrap_or(&empty);
    let pod_selector =
        label_selector(spec.get("podSelector"), "spec.podSelector")?.unwrap_or_default();
    let mut policy_types = Vec::new();
    for (i, t) in seq(spec.get("policyTypes"), "spec.policyTypes")?
        .iter()
        .enumerate()
    {
        policy_types.push(opt_str(Some(t), &format!("spec.policyTypes[{i}]"))?.unwrap_or_default());
    }
    Ok(NetworkPolicy {
        name: object.id.name.clone(),
        namespace: namespace_of(object),
        pod_selector,
        policy_types_given: spec.get_set("policyTypes").is_some(),
        policy_types,
        ingress: read_np_rules(spec, "ingress", "from")?,
        egress: read_np_rules(spec, "egress", "to")?,
        ingress_given: spec.get("ingress").is_some(),
        egress_given: spec.get("egress").is_some(),
        id: object.id.clone(),
        file: object.source.name.clone(),
        line: line(&object.root),
    })
}

fn read_namespaced_pod(node: Option<&Node>, path: &str) -> R<Option<NamespacedPod>> {
    let Some(m) = map(node, path)? else {
        return Ok(None);
    };
    Ok(Some(NamespacedPod {
        namespace_selector: label_selector(
            m.get("namespaceSelector"),
            &format!("{path}.namespaceSelector"),
        )?
        .unwrap_or_default(),
        pod_selector: label_selector(m.get("podSelector"), &format!("{path}.podSelector"))?
            .unwrap_or_default(),
    }))
}

fn read_anp_port(node: &Node, path: &str) -> R<AnpPort> {
    let m = map(Some(node), path)?.ok_or_else(|| format!("{path}: null port"))?;
    let number = map(m.get("portNumber"), &format!("{path}.portNumber"))?;
    let named = opt_str(m.get("namedPort"), &format!("{path}.namedPort"))?;
    let range = map(m.get("portRange"), &format!("{path}.portRange"))?;
    let count =
        usize::from(number.is_some()) + usize::from(named.is_some()) + usize::from(range.is_some());
    if count != 1 {
        return Ok(AnpPort::Invalid);
    }
    if let Some(n) = number {
        return Ok(AnpPort::Number {
            protocol: opt_str(n.get("protocol"), &format!("{path}.portNumber.protocol"))?
                .unwrap_or_default(),
            port: opt_int(n.get("port"), &format!("{path}.portNumber.port"))?.unwrap_or(0),
        });
    }
    if let Some(r) = range {
        return Ok(AnpPort::Range {
            protocol: opt_str(r.get("protocol"), &format!("{path}.portRange.protocol"))?
                .unwrap_or_default(),
            start: opt_int(r.get("start"), &format!("{path}.portRange.start"))?.unwrap_or(0),
            end: opt_int(r.get("end"), &format!("{path}.portRange.end"))?.unwrap_or(0),
        });
    }
    Ok(AnpPort::Named(named.unwrap_or_default()))
}

fn read_anp_rules(spec: &Node, key: &str, peers_key: &str) -> R<Vec<AnpRule>> {
    let mut rules = Vec::new();
    for (i, r) in seq(spec.get(key), &format!("spec.{key}"))?
        .iter()
        .enumerate()
    {
        let path = format!("spec.{key}[{i}]");
        let m = map(Some(r), &path)?.ok_or_else(|| format!("{path}: null rule"))?;
        let mut peers = Vec::new();
        for (j, p) in seq(m.get(peers_key), &format!("{path}.{peers_key}"))?
            .iter()
            .enumerate()
        {
            let pp = format!("{path}.{peers_key}[{j}]");
            let pm = map(Some(p), &pp)?.ok_or_else(|| format!("{pp}: null peer"))?;
            let networks = match pm.get_set("networks") {
                None => None,
                Some(n) => {
                    let mut v = Vec::new();
                    for (k, c) in seq(Some(n), &format!("{pp}.networks"))?.iter().enumerate() {
                        v.push(
                            opt_str(Some(c), &format!("{pp}.networks[{k}]"))?.unwrap_or_default(),
                        );
                    }
                    Some(v)
                }
            };
            peers.push(AnpPeer {
                namespaces: label_selector(pm.get("namespaces"), &format!("{pp}.namespaces"))?,
                pods: read_namespaced_pod(pm.get("pods"), &format!("{pp}.pods"))?,
                networks,
                nodes: label_selector(pm.get("nodes"), &format!("{pp}.nodes"))?,
            });
        }
        let ports = match m.get_set("ports") {
            None => None,
            Some(p) => {
                let mut v = Vec::new();
                for (j, port) in seq(Some(p), &format!("{path}.ports"))?.iter().enumerate() {
                    v.push(read_anp_port(port, &format!("{path}.ports[{j}]"))?);
                }
                Some(v)
            }
        };
        rules.push(AnpRule {
            name: opt_str(m.get("name"), &format!("{path}.name"))?.unwrap_or_default(),
            action: opt_str(m.get("action"), &format!("{path}.action"))?.unwrap_or_default(),
            peers,
            ports,
            line: line(r),
        });
    }
    Ok(rules)
}

/// `spec.subject` of an (Baseline)AdminNetworkPolicy or ClusterNetworkPolicy:
/// the same shape in both.
fn read_admin_subject(spec: &Node) -> R<AnpSubject> {
    Ok(match map(spec.get("subject"), "spec.subject")? {
        None => AnpSubject {
            namespaces: None,
            pods: None,
        },
        Some(s) => AnpSubject {
            namespaces: label_selector(s.get("namespaces"), "spec.subject.namespaces")?,
            pods: read_namespaced_pod(s.get("pods"), "spec.subject.pods")?,
        },
    })
}

fn read_admin(object: &Object, baseline: bool) -> R<AdminPolicy> {
    let empty = Node::new(Value::Map(Box::new([])), object.root.span);
    let spec = map(object.root.get("spec"), "spec")?.unwrap_or(&empty);
    let subject = read_admin_subject(spec)?;
    Ok(AdminPolicy {
        name: object.id.name.clone(),
        priority: opt_int(spec.get("priority"), "spec.priority")?.unwrap_or(0),
        subject,
        ingress: read_anp_rules(spec, "ingress", "from")?,
        egress: read_anp_rules(spec, "egress", "to")?,
        baseline,
        cnp: false,
        id: object.id.clone(),
        file: object.source.name.clone(),
        line: line(&object.root),
    })
}

/// A ClusterNetworkPolicy `protocols` item: exactly one of `tcp`, `udp`,
/// `sctp` (each with an optional `destinationPort`: `number` or `range`) and
/// `destinationNamedPort`.
fn read_cnp_protocol(node: &Node, path: &str) -> R<AnpPort> {
    let m = map(Some(node), path)?.ok_or_else(|| format!("{path}: null protocol"))?;
    let named = opt_str(
        m.get("destinationNamedPort"),
        &format!("{path}.destinationNamedPort"),
    )?
    .filter(|n| !n.is_empty());
    let mut found: Vec<(&str, Option<&Node>)> = Vec::new();
    for (key, proto) in [("tcp", "TCP"), ("udp", "UDP"), ("sctp", "SCTP")] {
        if let Some(p) = map(m.get(key), &format!("{path}.{key}"))? {
            found.push((proto, Some(p)));
        }
    }
    if found.len() + usize::from(named.is_some()) != 1 {
        return Ok(AnpPort::Invalid);
    }
    if let Some(name) = named {
        return Ok(AnpPort::Named(name));
    }
    let Some((protocol, Some(p))) = found.first().copied() else {
        return Ok(AnpPort::Invalid);
    };
    let dp_path = format!("{path}.{}.destinationPort", protocol.to_ascii_lowercase());
    let Some(dp) = map(p.get("destinationPort"), &dp_path)? else {
        // A protocol without a port matches all its ports.
        return Ok(AnpPort::Range {
            protocol: protocol.to_string(),
            start: crate::conn::MIN_PORT,
            end: crate::conn::MAX_PORT,
        });
    };
    let number = opt_int(dp.get("number"), &format!("{dp_path}.number"))?.filter(|n| *n != 0);
    let range = map(dp.get("range"), &format!("{dp_path}.range"))?;
    match (number, range) {
        (Some(n), None) => Ok(AnpPort::Number {
            protocol: protocol.to_string(),
            port: n,
        }),
        (None, Some(r)) => Ok(AnpPort::Range {
            protocol: protocol.to_string(),
            start: opt_int(r.get("start"), &format!("{dp_path}.range.start"))?.unwrap_or(0),
            end: opt_int(r.get("end"), &format!("{dp_path}.range.end"))?.unwrap_or(0),
        }),
        _ => Ok(AnpPort::Invalid),
    }
}

fn read_cnp_rules(spec: &Node, key: &str, peers_key: &str) -> R<Vec<AnpRule>> {
    let mut rules = Vec::new();
    for (i, r) in seq(spec.get(key), &format!("spec.{key}"))?
        .iter()
        .enumerate()
    {
        let path = format!("spec.{key}[{i}]");
        let m = map(Some(r), &path)?.ok_or_else(|| format!("{path}: null rule"))?;
        let mut peers = Vec::new();
        for (j, p) in seq(m.get(peers_key), &format!("{path}.{peers_key}"))?
            .iter()
            .enumerate()
        {
            let pp = format!("{path}.{peers_key}[{j}]");
            let pm = map(Some(p), &pp)?.ok_or_else(|| format!("{pp}: null peer"))?;
            let mut networks = match pm.get_set("networks") {
                None => None,
                Some(n) => {
                    let mut v = Vec::new();
                    for (k, c) in seq(Some(n), &format!("{pp}.networks"))?.iter().enumerate() {
                        v.push(
                            opt_str(Some(c), &format!("{pp}.networks[{k}]"))?.unwrap_or_default(),
                        );
                    }
                    Some(v)
                }
            };
            if networks.is_none() && pm.get_set("domainNames").is_some() {
                // Domain names resolve outside the manifests: the peer matches
                // no address the analysis knows (an empty network list).
                networks = Some(Vec::new());
            }
            peers.push(AnpPeer {
                namespaces: label_selector(pm.get("namespaces"), &format!("{pp}.namespaces"))?,
                pods: read_namespaced_pod(pm.get("pods"), &format!("{pp}.pods"))?,
                networks,
                nodes: label_selector(pm.get("nodes"), &format!("{pp}.nodes"))?,
            });
        }
        let ports = match m.get_set("protocols") {
            None => None,
            Some(p) => {
                let mut v = Vec::new();
                for (j, proto) in seq(Some(p), &format!("{path}.protocols"))?
                    .iter()
                    .enumerate()
                {
                    v.push(read_cnp_protocol(proto, &format!("{path}.protocols[{j}]"))?);
                }
                Some(v)
            }
        };
        let action = opt_str(m.get("action"), &format!("{path}.action"))?.unwrap_or_default();
        rules.push(AnpRule {
            name: opt_str(m.get("name"), &format!("{path}.name"))?.unwrap_or_default(),
            // Accept is the v1alpha2 name of Allow.
            action: if action == "Accept" {
                "Allow".to_string()
            } else if action == "Allow" {
                // Allow is not a v1alpha2 action: keep it invalid.
                "Allow (not a ClusterNetworkPolicy action)".to_string()
            } else {
                action
            },
            peers,
            ports,
            line: line(r),
        });
    }
    Ok(rules)
}

/// Reads a ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2).
fn read_cnp(object: &Object) -> R<AdminPolicy> {
    let empty = Node::new(Value::Map(Box::new([])), object.root.span);
    let spec = map(object.root.get("spec"), "spec")?.unwrap_or(&empty);
    let tier = opt_str(spec.get("tier"), "spec.tier")?.unwrap_or_default();
    let baseline = match tier.as_str() {
        "Admin" => false,
        "Baseline" => true,
        other => {
            return Err(format!(
                "spec.tier: expected Admin or Baseline, found {other:?}"
            ))
        }
    };
    let subject = read_admin_subject(spec)?;
    Ok(AdminPolicy {
        name: object.id.name.clone(),
        priority: opt_int(spec.get("priority"), "spec.priority")?.unwrap_or(0),
        subject,
        ingress: read_cnp_rules(spec, "ingress", "from")?,
        egress: read_cnp_rules(spec, "egress", "to")?,
        baseline,
        cnp: true,
        id: object.id.clone(),
        file: object.source.name.clone(),
        line: line(&object.root),
    })
}

fn read_service(object: &Object) -> R<Service> {
    let empty = Node::new(Value::Map(Box::new([])), object.root.span);
    let spec = map(object.root.get("spec"), "spec")?.unwrap_or(&empty);
    let selector = match spec.get_set("selector") {
        None => None,
        Some(s) => Some(string_map(Some(s), "spec.selector")?),
    };
    let mut ports = Vec::new();
    for (i, p) in seq(spec.get("ports"), "spec.ports")?.iter().enumerate() {
        let path = format!("spec.ports[{i}]");
        let m = map(Some(p), &path)?.ok_or_else(|| format!("{path}: null port"))?;
        ports.push(ServicePort {
            name: opt_str(m.get("name"), &format!("{path}.name"))?.unwrap_or_default(),
            port: opt_int(m.get("port"), &format!("{path}.port"))?.unwrap_or(0),
            target_port: int_or_str(m.get("targetPort"), &format!("{path}.targetPort"))?
                .unwrap_or_default(),
            protocol: opt_str(m.get("protocol"), &format!("{path}.protocol"))?.unwrap_or_default(),
        });
    }
    Ok(Service {
        name: object.id.name.clone(),
        namespace: namespace_of(object),
        selector,
        ports,
    })
}

fn read_route(object: &Object) -> R<IngressLike> {
    let empty = Node::new(Value::Map(Box::new([])), object.root.span);
    let spec = map(object.root.get("spec"), "spec")?.unwrap_or(&empty);
    let ns = namespace_of(object);
    let target_port = match map(spec.get("port"), "spec.port")? {
        None => IntOrStr::default(),
        Some(p) => int_or_str(p.get("targetPort"), "spec.port.targetPort")?.unwrap_or_default(),
    };
    let mut services = Vec::new();
    let mut warnings = Vec::new();
    let route_str = format!("{ns}/{}", object.id.name);
    let to = map(spec.get("to"), "spec.to")?;
    let to_kind = opt_str(to.and_then(|t| t.get("kind")), "spec.to.kind")?.unwrap_or_default();
    let to_name = opt_str(to.and_then(|t| t.get("name")), "spec.to.name")?.unwrap_or_default();
    if !to_kind.is_empty() && to_kind != "Service" {
        warnings.push(format!(
            "Route {route_str}: ignoring target with unsupported kind"
        ));
    } else {
        services.push(ServiceRef {
            name: to_name,
            port: target_port.clone(),
        });
    }
    for (i, b) in seq(spec.get("alternateBackends"), "spec.alternateBackends")?
        .iter()
        .enumerate()
    {
        let path = format!("spec.alternateBackends[{i}]");
        let kind = opt_str(b.get("kind"), &format!("{path}.kind"))?.unwrap_or_default();
        let name = opt_str(b.get("name"), &format!("{path}.name"))?.unwrap_or_default();
        if !kind.is_empty() && kind != "Service" {
            warnings.push(format!(
                "Route {route_str}: ignoring alternate backend without Service "
            ));
        } else {
            services.push(ServiceRef {
                name,
                port: target_port.clone(),
            });
        }
    }
    Ok(IngressLike {
        kind: IngressKind::Route,
        name: object.id.name.clone(),
        namespace: ns,
        services,
        warnings,
    })
}

/// An Ingress backend service: a port name is kept as a string, but (as in
/// netpol-analyzer) without marking it as one, so it compares as Go does.
fn ingress_backend(node: &Node, path: &str) -> R<Option<ServiceRef>> {
    let Some(svc) = map(node.get("service"), &format!("{path}.service"))? else {
        return Ok(None);
    };
    let name = opt_str(svc.get("name"), &format!("{path}.service.name"))?.unwrap_or_default();
    let port = map(svc.get("port"), &format!("{path}.service.port"))?;
    let port_name = opt_str(
        port.and_then(|p| p.get("name")),
        &format!("{path}.service.port.name"),
    )?
    .unwrap_or_default();
    let port_number = opt_int(
        port.and_then(|p| p.get("number")),
        &format!("{path}.service.port.number"),
    )?
    .unwrap_or(0);
    let port = if !port_name.is_empty() {
        IntOrStr {
            is_str: false,
            int_val: 0,
            str_val: port_name,
        }
    } else {
        IntOrStr::int(port_number)
    };
    Ok(Some(ServiceRef { name, port }))
}

fn read_ingress(object: &Object) -> R<IngressLike> {
    let empty = Node::new(Value::Map(Box::new([])), object.root.span);
    let spec = map(object.root.get("spec"), "spec")?.unwrap_or(&empty);
    let ns = namespace_of(object);
    let ing_str = format!("{ns}/{}", object.id.name);
    let mut services = Vec::new();
    let mut warnings = Vec::new();
    if let Some(db) = map(spec.get("defaultBackend"), "spec.defaultBackend")? {
        match ingress_backend(db, "spec.defaultBackend")? {
            Some(s) => services.push(s),
            None => warnings.push(format!("Ingress {ing_str}: ignoring default backend")),
        }
    }
    for (i, rule) in seq(spec.get("rules"), "spec.rules")?.iter().enumerate() {
        let path = format!("spec.rules[{i}]");
        let http = map(rule.get("http"), &format!("{path}.http"))?;
        let paths = seq(
            http.and_then(|h| h.get("paths")),
            &format!("{path}.http.paths"),
        )?;
        for (j, p) in paths.iter().enumerate() {
            let pp = format!("{path}.http.paths[{j}]");
            let backend = map(p.get("backend"), &format!("{pp}.backend"))?;
            let svc = match backend {
                Some(b) => ingress_backend(b, &format!("{pp}.backend"))?,
                None => None,
            };
            match svc {
                Some(s) => services.push(s),
                None => warnings.push(format!(
                    "Ingress {ing_str}: ignoring rule backend without Service"
                )),
            }
        }
    }
    Ok(IngressLike {
        kind: IngressKind::Ingress,
        name: object.id.name.clone(),
        namespace: ns,
        services,
        warnings,
    })
}

fn template_path(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &[],
        "CronJob" => &["spec", "jobTemplate", "spec", "template"],
        _ => &["spec", "template"],
    }
}

fn container_ports(spec: Option<&Node>, base: &str) -> R<Vec<ContainerPort>> {
    let mut ports = Vec::new();
    let Some(spec) = spec else {
        return Ok(ports);
    };
    for (i, c) in seq(spec.get("containers"), &format!("{base}.containers"))?
        .iter()
        .enumerate()
    {
        let cp = format!("{base}.containers[{i}]");
        for (j, p) in seq(c.get("ports"), &format!("{cp}.ports"))?
            .iter()
            .enumerate()
        {
            let pp = format!("{cp}.ports[{j}]");
            ports.push(ContainerPort {
                name: opt_str(p.get("name"), &format!("{pp}.name"))?.unwrap_or_default(),
                port: opt_int(p.get("containerPort"), &format!("{pp}.containerPort"))?.unwrap_or(0),
                protocol: opt_str(p.get("protocol"), &format!("{pp}.protocol"))?
                    .unwrap_or_default(),
            });
        }
    }
    Ok(ports)
}

/// The annotation that attaches a pod to secondary networks.
pub const NETWORKS_ANNOTATION: &str = "k8s.v1.cni.cncf.io/networks";
/// The annotation naming the networks a MultiNetworkPolicy is for.
pub const POLICY_FOR_ANNOTATION: &str = "k8s.v1.cni.cncf.io/policy-for";

/// Splits `namespace/name` (the namespace is empty when absent).
fn split_network(s: &str) -> (String, String) {
    match s.split_once('/') {
        Some((ns, rest)) => (
            rest.split('/').next().unwrap_or_default().to_string(),
            ns.to_string(),
        ),
        None => (s.to_string(), String::new()),
    }
}

/// Parses the networks annotation: a JSON list of `{name, namespace, ips}`
/// or a comma-separated list of `[namespace/]name[@interface]`.
pub fn parse_networks_annotation(v: &str) -> R<BTreeMap<String, NetAttach>> {
    let mut out = BTreeMap::new();
    if v.is_empty() {
        return Ok(out);
    }
    if v.contains(['[', '{', '"']) {
        #[derive(serde::Deserialize)]
        struct Selection {
            #[serde(default)]
            name: String,
            #[serde(default)]
            namespace: String,
            #[serde(default)]
            ips: Vec<String>,
        }
        let list: Vec<Selection> = serde_json::from_str(v)
            .map_err(|e| format!("invalid {NETWORKS_ANNOTATION} annotation: {e}"))?;
        for s in list {
            if !s.name.is_empty() {
                out.insert(
                    s.name,
                    NetAttach {
                        namespace: s.namespace,
                        ips: s.ips,
                    },
                );
            }
        }
        return Ok(out);
    }
    for item in v.split(',') {
        let item = item.trim();
        let item = item.split('@').next().unwrap_or_default();
        let (name, namespace) = split_network(item);
        out.insert(
            name,
            NetAttach {
                namespace,
                ips: Vec::new(),
            },
        );
    }
    Ok(out)
}

/// Addresses in CIDR notation (`a.b.c.d/n`) in a line of text.
fn cidrs_in(line: &str) -> Vec<String> {
    let is_cidr = |t: &str| -> bool {
        let Some((ip, mask)) = t.split_once('/') else {
            return false;
        };
        let octets: Vec<&str> = ip.split('.').collect();
        octets.len() == 4
            && octets
                .iter()
                .all(|o| (1..=3).contains(&o.len()) && o.bytes().all(|b| b.is_ascii_digit()))
            && (1..=2).contains(&mask.len())
            && mask.bytes().all(|b| b.is_ascii_digit())
    };
    line.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '/'))
        .filter(|t| is_cidr(t))
        .map(str::to_string)
        .collect()
}

/// A VirtualMachine as one pod: the template's labels, no container ports,
/// its multus networks (with the secondary interfaces' addresses of its
/// cloud-init network data, which cannot be told apart per network).
fn read_vm(object: &Object) -> R<Pod> {
    let template = object.root.path(&["spec", "template"]);
    let labels = string_map(
        template.and_then(|t| t.path(&["metadata", "labels"])),
        "spec.template.metadata.labels",
    )?;
    let spec = template.and_then(|t| t.get_set("spec"));
    let mut ips = Vec::new();
    for (i, v) in seq(
        spec.and_then(|s| s.get("volumes")),
        "spec.template.spec.volumes",
    )?
    .iter()
    .enumerate()
    {
        let data = opt_str(
            v.path(&["cloudInitNoCloud", "networkData"]),
            &format!("spec.template.spec.volumes[{i}].cloudInitNoCloud.networkData"),
        )?
        .unwrap_or_default();
        let mut iface = String::new();
        for line in data.split('\n') {
            let line = line.trim();
            if let Some(name) = line.strip_suffix(':') {
                iface = name.to_string();
                continue;
            }
            if !iface.is_empty() && iface != "eth0" {
                ips.extend(cidrs_in(line));
            }
        }
    }
    let mut secondary = BTreeMap::new();
    for (i, n) in seq(
        spec.and_then(|s| s.get("networks")),
        "spec.template.spec.networks",
    )?
    .iter()
    .enumerate()
    {
        let Some(full) = opt_str(
            n.path(&["multus", "networkName"]),
            &format!("spec.template.spec.networks[{i}].multus.networkName"),
        )?
        else {
            continue;
        };
        // Keyed by the name as written (with its namespace), as netpol-analyzer does.
        let (_, namespace) = split_network(&full);
        secondary.insert(
            full,
            NetAttach {
                namespace,
                ips: ips.clone(),
            },
        );
    }
    Ok(Pod {
        name: format!("{}-1", object.id.name),
        namespace: namespace_of(object),
        labels,
        ports: Vec::new(),
        owner: Some(Owner {
            kind: "VirtualMachine".to_string(),
            name: object.id.name.clone(),
        }),
        source: Some(object.id.clone()),
        source_line: line(&object.root),
        host_network: false,
        secondary,
    })
}

/// A (Cluster)UserDefinedNetwork's name, scope, topology and roles.
fn read_udn(object: &Object) -> R<UserDefinedNetwork> {
    let cluster = object.kind() == "ClusterUserDefinedNetwork";
    let (net, base) = if cluster {
        (object.root.path(&["spec", "network"]), "spec.network")
    } else {
        (object.root.get("spec"), "spec")
    };
    let role = |layer: &str| -> R<Option<String>> {
        match map(net.and_then(|n| n.get(layer)), &format!("{base}.{layer}"))? {
            None => Ok(None),
            Some(l) => Ok(Some(
                opt_str(l.get("role"), &format!("{base}.{layer}.role"))?.unwrap_or_default(),
            )),
        }
    };
    let namespace_selector = if cluster {
        Some(
            label_selector(
                object.root.path(&["spec", "namespaceSelector"]),
                "spec.namespaceSelector",
            )?
            .unwrap_or_default(),
        )
    } else {
        None
    };
    Ok(UserDefinedNetwork {
        name: object.id.name.clone(),
        namespace: if cluster {
            String::new()
        } else {
            namespace_of(object)
        },
        namespace_selector,
        topology: opt_str(
            net.and_then(|n| n.get("topology")),
            &format!("{base}.topology"),
        )?
        .unwrap_or_default(),
        layer2_role: role("layer2")?,
        layer3_role: role("layer3")?,
    })
}

fn read_workload(object: &Object, multi_networks: bool) -> R<Vec<Pod>> {
    let kind = object.kind();
    let ns = namespace_of(object);
    let holder = if kind == "Pod" {
        Some(&object.root)
    } else {
        let mut node = Some(&object.root);
        for k in template_path(kind) {
            node = node.and_then(|n| n.get_set(k));
        }
        node
    };
    let metadata = holder.and_then(|h| h.get_set("metadata"));
    let labels = string_map(
        metadata.and_then(|m| m.get("labels")),
        "template.metadata.labels",
    )?;
    let spec = holder.and_then(|h| h.get_set("spec"));
    let base = if kind == "Pod" {
        "spec"
    } else {
        "template.spec"
    };
    let ports = container_ports(spec, base)?;
    let secondary = if multi_networks {
        match metadata
            .and_then(|m| m.path(&["annotations", NETWORKS_ANNOTATION]))
            .and_then(Node::as_str)
        {
            Some(v) => parse_networks_annotation(v)?,
            None => BTreeMap::new(),
        }
    } else {
        BTreeMap::new()
    };
    let host_network = spec
        .and_then(|s| s.get("hostNetwork"))
        .and_then(Node::as_bool)
        .unwrap_or(false);
    if kind == "Pod" {
        if object.id.name.starts_with("virt-launcher-") {
            return Ok(Vec::new());
        }
        let mut owner = None;
        for (i, r) in seq(
            object.root.path(&["metadata", "ownerReferences"]),
            "metadata.ownerReferences",
        )?
        .iter()
        .enumerate()
        {
            let p = format!("metadata.ownerReferences[{i}]");
            let controller = r.get("controller").and_then(Node::as_bool).unwrap_or(false);
            if controller {
                let okind = opt_str(r.get("kind"), &format!("{p}.kind"))?.unwrap_or_default();
                if okind != "Node" {
                    owner = Some(Owner {
                        kind: okind,
                        name: opt_str(r.get("name"), &format!("{p}.name"))?.unwrap_or_default(),
                    });
                }
                break;
            }
        }
        return Ok(vec![Pod {
            name: object.id.name.clone(),
            namespace: ns,
            labels,
            ports,
            owner,
            source: Some(object.id.clone()),
            source_line: line(&object.root),
            host_network,
            secondary,
        }]);
    }
    let replicas = match kind {
        "DaemonSet" | "CronJob" => 1,
        "Job" => opt_int(
            object.root.path(&["spec", "parallelism"]),
            "spec.parallelism",
        )?
        .unwrap_or(1),
        _ => opt_int(object.root.path(&["spec", "replicas"]), "spec.replicas")?.unwrap_or(1),
    };
    let count = if replicas > 1 { 2 } else { 1 };
    Ok((1..=count)
        .map(|i| Pod {
            name: format!("{}-{i}", object.id.name),
            namespace: ns.clone(),
            labels: labels.clone(),
            ports: ports.clone(),
            owner: Some(Owner {
                kind: kind.to_string(),
                name: object.id.name.clone(),
            }),
            source: Some(object.id.clone()),
            source_line: line(&object.root),
            host_network,
            secondary: secondary.clone(),
        })
        .collect())
}
