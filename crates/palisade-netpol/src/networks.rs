//! Multiple networks, as netpol-analyzer models them with
//! `--multiple-networks` (OVN-Kubernetes and Multus):
//!
//! - every pod has one *primary* network: the cluster's pod network, or the
//!   primary UserDefinedNetwork of its namespace, or a primary
//!   ClusterUserDefinedNetwork selecting its namespace (only namespaces
//!   labelled `k8s.ovn.org/primary-user-defined-network` can join one);
//!   pods on different primary networks cannot talk over them, and
//!   NetworkPolicies and admin policies apply inside each primary network;
//! - pods may also join *secondary* networks (NetworkAttachmentDefinitions,
//!   requested by the `k8s.v1.cni.cncf.io/networks` annotation or a
//!   VirtualMachine's multus networks); there only MultiNetworkPolicies
//!   apply, and without one selecting the pod everything is allowed;
//! - external peers (IP blocks, the ingress controller) reach a pod on its
//!   primary network only.
//!
//! A pair of pods can thus have several connections, one per shared network.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::conn::ConnSet;
use crate::connlist::{Analyzer, PeerId, INGRESS_CONTROLLER_NAME, INGRESS_CONTROLLER_NS};
use crate::eval::{Engine, PeerRef, PodCtx, R};
use crate::ipset::IpBlock;
use crate::model::{MultiNetworkPolicy, NpPeer, Resources};
use crate::selector::Labels;

/// The namespace label required to join a primary (C)UDN.
pub const PRIMARY_UDN_LABEL: &str = "k8s.ovn.org/primary-user-defined-network";
/// The name of the cluster's default network.
pub const POD_NETWORK_NAME: &str = "pod-network";

/// What kind of network a connection is on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NetworkKind {
    /// The cluster's default pod network.
    #[default]
    Pod,
    /// A primary UserDefinedNetwork (its name is its namespace).
    Udn,
    /// A primary ClusterUserDefinedNetwork.
    Cudn,
    /// A secondary network of NetworkAttachmentDefinitions.
    Nad,
}

/// The network of a listed connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Network {
    /// `pod-network`, the UDN's namespace, the CUDN's or the NAD's name.
    pub name: String,
    pub kind: NetworkKind,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            name: POD_NETWORK_NAME.to_string(),
            kind: NetworkKind::Pod,
        }
    }
}

impl Network {
    pub fn is_primary(&self) -> bool {
        matches!(self.kind, NetworkKind::Udn | NetworkKind::Cudn)
    }

    /// How the workload-to-networks mapping names it.
    pub fn mapping_name(&self) -> String {
        match self.kind {
            NetworkKind::Pod => self.name.clone(),
            NetworkKind::Udn => format!("{}[UDN]", self.name),
            NetworkKind::Cudn => format!("{}[CUDN]", self.name),
            NetworkKind::Nad => format!("{}[NAD]", self.name),
        }
    }

    /// The resource kind, as isolation explanations name it.
    pub fn resource_kind(&self) -> &'static str {
        match self.kind {
            NetworkKind::Udn => "UserDefinedNetwork",
            NetworkKind::Cudn => "ClusterUserDefinedNetwork",
            NetworkKind::Nad => "NetworkAttachmentDefinition",
            NetworkKind::Pod => "None",
        }
    }
}

/// The networks of the input and who is on them.
#[derive(Debug, Clone, Default)]
pub struct Networks {
    /// Index 0 is the pod network.
    pub list: Vec<Network>,
    /// Namespace → its primary (C)UDN.
    primary: HashMap<String, usize>,
    /// Secondary network name → (network, namespaces with a NAD of that name).
    secondary: HashMap<String, (usize, BTreeSet<String>)>,
}

impl Networks {
    /// The networks of `res` over the input's namespaces (before namespaces
    /// are made up for workloads: a UDN needs its namespace in the input).
    /// Returns warnings for the objects that are ignored.
    pub fn build(
        res: &Resources,
        namespaces: &BTreeMap<String, Labels>,
    ) -> R<(Networks, Vec<String>)> {
        let mut nets = Networks {
            list: vec![Network::default()],
            ..Networks::default()
        };
        let mut warnings = Vec::new();
        if !res.multi_networks {
            return Ok((nets, warnings));
        }
        let mut index: HashMap<Network, usize> = HashMap::new();
        let mut intern = |list: &mut Vec<Network>, n: Network| -> usize {
            *index.entry(n.clone()).or_insert_with(|| {
                list.push(n);
                list.len() - 1
            })
        };
        // Which object assigned each namespace, for conflict messages.
        let mut assigned_by: HashMap<String, String> = HashMap::new();
        for udn in &res.udns {
            let name = udn.display_name();
            if !udn.is_cluster() && udn.name == "default" {
                return Err(format!(
                    "UserDefinedNetwork {name}: the name default is reserved"
                ));
            }
            udn.validate()?;
            if !udn.is_primary() {
                warnings.push(format!(
                    "ignoring {name}: only primary user-defined networks are supported"
                ));
                continue;
            }
            match &udn.namespace_selector {
                None => {
                    let Some(labels) = namespaces.get(&udn.namespace) else {
                        warnings.push(format!(
                            "ignoring UserDefinedNetwork {name}: namespace {} is not in the input",
                            udn.namespace
                        ));
                        continue;
                    };
                    if !labels.contains_key(PRIMARY_UDN_LABEL) {
                        warnings.push(format!(
                            "ignoring UserDefinedNetwork {name}: namespace {} lacks the label {PRIMARY_UDN_LABEL}",
                            udn.namespace
                        ));
                        continue;
                    }
                    if udn.namespace == "default" || udn.namespace.starts_with("openshift-") {
                        return Err(format!(
                            "UserDefinedNetwork {name}: a user-defined network cannot be created in namespace {}",
                            udn.namespace
                        ));
                    }
                    if let Some(prev) = assigned_by.get(&udn.namespace) {
                        return Err(format!(
                            "namespace {} has two primary user-defined networks: {prev} and {name}",
                            udn.namespace
                        ));
                    }
                    let n = intern(
                        &mut nets.list,
                        Network {
                            name: udn.namespace.clone(),
                            kind: NetworkKind::Udn,
                        },
                    );
                    nets.primary.insert(udn.namespace.clone(), n);
                    assigned_by.insert(udn.namespace.clone(), name);
                }
                Some(sel) => {
                    if sel.is_empty() && !nets.primary.is_empty() {
                        return Err(format!(
                            "ClusterUserDefinedNetwork {name} selects every namespace, but some namespaces already have a primary user-defined network"
                        ));
                    }
                    let mut count = 0;
                    for (ns, labels) in namespaces {
                        if !sel.matches(labels)? {
                            continue;
                        }
                        if let Some(prev) = assigned_by.get(ns) {
                            return Err(format!(
                                "namespace {ns} has two primary user-defined networks: {prev} and {name}"
                            ));
                        }
                        if !labels.contains_key(PRIMARY_UDN_LABEL) {
                            warnings.push(format!(
                                "ClusterUserDefinedNetwork {name} selects namespace {ns}, which lacks the label {PRIMARY_UDN_LABEL}: it stays on the pod network"
                            ));
                            continue;
                        }
                        if ns == "default" || ns.starts_with("openshift-") {
                            return Err(format!(
                                "ClusterUserDefinedNetwork {name}: a user-defined network cannot include namespace {ns}"
                            ));
                        }
                        count += 1;
                        let n = intern(
                            &mut nets.list,
                            Network {
                                name: udn.name.clone(),
                                kind: NetworkKind::Cudn,
                            },
                        );
                        nets.primary.insert(ns.clone(), n);
                        assigned_by.insert(ns.clone(), name.clone());
                    }
                    if count == 0 {
                        warnings.push(format!(
                            "ClusterUserDefinedNetwork {name} selects no namespace"
                        ));
                    }
                }
            }
        }
        for (name, ns) in &res.nads {
            let n = intern(
                &mut nets.list,
                Network {
                    name: name.clone(),
                    kind: NetworkKind::Nad,
                },
            );
            nets.secondary
                .entry(name.clone())
                .or_insert_with(|| (n, BTreeSet::new()))
                .1
                .insert(ns.clone());
        }
        Ok((nets, warnings))
    }

    /// The primary network of a pod in `namespace`.
    pub fn primary_of(&self, namespace: &str) -> usize {
        self.primary.get(namespace).copied().unwrap_or(0)
    }

    /// The namespaces where a secondary network is defined.
    fn secondary_namespaces(&self, name: &str) -> Option<&BTreeSet<String>> {
        self.secondary.get(name).map(|(_, s)| s)
    }
}

/// The connections of a pair, per network.
#[derive(Debug, Clone, Default)]
pub struct PairConns {
    /// The primary network the pair is considered on.
    pub net: usize,
    /// Allowed on it (empty when the primary networks isolate the pair).
    pub conns: ConnSet,
    /// The peers are on different primary networks.
    pub isolated: bool,
    /// Shared secondary networks and what their MultiNetworkPolicies allow.
    pub secondary: Vec<(usize, ConnSet)>,
}

impl PairConns {
    /// Every (network, connections) entry: the primary one first.
    pub fn entries(&self) -> impl Iterator<Item = (usize, &ConnSet)> {
        std::iter::once((self.net, &self.conns)).chain(self.secondary.iter().map(|(n, c)| (*n, c)))
    }
}

impl Analyzer {
    /// `None` for peers outside the cluster's networks (IP blocks).
    pub(crate) fn peer_primary(&self, id: PeerId) -> Option<usize> {
        match id {
            PeerId::Ip(..) => None,
            PeerId::Workload(w) => {
                let wl = &self.workloads[w];
                if wl.fake
                    && wl.name == INGRESS_CONTROLLER_NAME
                    && wl.namespace == INGRESS_CONTROLLER_NS
                {
                    return None;
                }
                Some(self.nets.primary_of(&wl.namespace))
            }
            PeerId::Rep(_) => Some(0),
        }
    }

    /// The primary network of a pair and whether it isolates them: external
    /// peers use the other end's; pods on different primary networks are
    /// isolated (UDNs are per namespace, CUDNs are shared).
    pub(crate) fn primary_for_pair(
        &self,
        src: Option<usize>,
        dst: Option<usize>,
        src_ns: &str,
        dst_ns: &str,
    ) -> (usize, bool) {
        match (src, dst) {
            (None, None) => (0, false),
            (None, Some(d)) => (d, false),
            (Some(s), None) => (s, false),
            (Some(s), Some(d)) => {
                let (sn, dn) = (&self.nets.list[s], &self.nets.list[d]);
                match (sn.is_primary(), dn.is_primary()) {
                    (false, false) => (s, false),
                    (true, true) => {
                        let same = match (sn.kind, dn.kind) {
                            (NetworkKind::Udn, NetworkKind::Udn) => src_ns == dst_ns,
                            (NetworkKind::Cudn, NetworkKind::Cudn) => sn.name == dn.name,
                            _ => false,
                        };
                        (s, !same)
                    }
                    (true, false) => (s, true),
                    (false, true) => (d, true),
                }
            }
        }
    }

    /// The secondary networks a workload is really on: the ones it asks for
    /// that have a NetworkAttachmentDefinition in the right namespace.
    pub(crate) fn workload_secondary(&self, w: usize) -> Vec<(usize, &str)> {
        let wl = &self.workloads[w];
        let mut out = Vec::new();
        for (name, attach) in &wl.secondary {
            let ns = if attach.namespace.is_empty() {
                &wl.namespace
            } else {
                &attach.namespace
            };
            if let Some((n, namespaces)) = self.nets.secondary.get(name) {
                if namespaces.contains(ns) {
                    out.push((*n, name.as_str()));
                }
            }
        }
        out
    }

    /// All connections of a pair of peers, per network.
    pub(crate) fn pair_all(
        &self,
        src: PeerId,
        dst: PeerId,
        src_ref: &PeerRef,
        dst_ref: &PeerRef,
    ) -> R<PairConns> {
        if !self.multi {
            return Ok(PairConns {
                conns: self.engine.allowed(src_ref, dst_ref)?,
                ..PairConns::default()
            });
        }
        let (sp, dp) = (self.peer_primary(src), self.peer_primary(dst));
        let ns_of = |id: PeerId| match id {
            PeerId::Workload(w) => self.workloads[w].namespace.as_str(),
            _ => "",
        };
        let (net, isolated) = self.primary_for_pair(sp, dp, ns_of(src), ns_of(dst));
        let conns = if isolated {
            ConnSet::none()
        } else {
            self.engine.allowed(src_ref, dst_ref)?
        };
        let mut secondary = Vec::new();
        if let (PeerId::Workload(s), PeerId::Workload(d), Some(_), Some(_)) = (src, dst, sp, dp) {
            let theirs = self.workload_secondary(d);
            for (n, name) in self.workload_secondary(s) {
                if theirs.iter().any(|(m, _)| *m == n) {
                    secondary.push((n, self.mnp_allowed(s, d, name, src_ref, dst_ref)?));
                }
            }
        }
        Ok(PairConns {
            net,
            conns,
            isolated,
            secondary,
        })
    }

    /// Whether a MultiNetworkPolicy is for secondary network `name` (its
    /// `policy-for` annotation names it, with a NAD in the named namespace
    /// or the policy's).
    pub(crate) fn mnp_targets(&self, mnp: &MultiNetworkPolicy, name: &str) -> R<bool> {
        let np = &mnp.policy;
        let Some(list) = mnp.policy_for.as_deref().filter(|s| !s.is_empty()) else {
            return Err(format!(
                "MultiNetworkPolicy '{}/{}': missing the k8s.v1.cni.cncf.io/policy-for annotation naming its networks",
                np.namespace, np.name
            ));
        };
        for item in list.split(',') {
            let (net_name, ns) = match item.split_once('/') {
                Some((ns, rest)) => (rest.split('/').next().unwrap_or_default(), ns),
                None => (item, ""),
            };
            if net_name == name {
                let ns = if ns.is_empty() { &np.namespace } else { ns };
                return Ok(self
                    .nets
                    .secondary_namespaces(name)
                    .is_some_and(|s| s.contains(ns)));
            }
        }
        Ok(false)
    }

    /// The MultiNetworkPolicies (indices) selecting workload `w` on network
    /// `name` for a direction.
    pub(crate) fn mnps_selecting(&self, w: usize, name: &str, ingress: bool) -> R<Vec<usize>> {
        let ctx = self.workload_ctx(w);
        let mut out = Vec::new();
        for (i, mnp) in self.resources.mnps.iter().enumerate() {
            if mnp.policy.namespace != ctx.namespace || !self.mnp_targets(mnp, name)? {
                continue;
            }
            if Engine::np_selects(
                &mnp.policy,
                &PodCtx {
                    selected_by: None,
                    ..ctx
                },
                ingress,
            )? {
                out.push(i);
            }
        }
        Ok(out)
    }

    /// Whether one of a MultiNetworkPolicy rule's peers selects workload
    /// `w` on network `name`: VirtualMachines only by IP block, IP blocks by
    /// the pod's addresses on that network.
    pub(crate) fn mnp_rule_selects(
        &self,
        mnp: &MultiNetworkPolicy,
        peers: &[NpPeer],
        w: usize,
        name: &str,
        peer: &PeerRef,
    ) -> R<bool> {
        let np = &mnp.policy;
        let err = |what: &str| format!("MultiNetworkPolicy '{}/{}': {what}", np.namespace, np.name);
        if peers.is_empty() {
            return Ok(true);
        }
        let wl = &self.workloads[w];
        for p in peers {
            if p.pod_selector.is_none() && p.namespace_selector.is_none() && p.ip_block.is_none() {
                return Err(err("a rule peer cannot be empty"));
            }
            if p.pod_selector.is_some() || p.namespace_selector.is_some() {
                if p.ip_block.is_some() {
                    return Err(err(
                        "a rule peer cannot have both an ipBlock and pod/namespace selectors",
                    ));
                }
                if wl.kind == "VirtualMachine" {
                    continue;
                }
                if Engine::selectors_match_peer(
                    p.namespace_selector.as_ref(),
                    p.pod_selector.as_ref(),
                    peer,
                    &np.namespace,
                )? {
                    return Ok(true);
                }
                continue;
            }
            if let Some(b) = &p.ip_block {
                let block = IpBlock::from_cidr_except(&b.cidr, &b.except)
                    .map_err(|e| err(&format!("CIDR error: {}", e.0)))?;
                for addr in wl
                    .secondary
                    .get(name)
                    .map(|a| a.ips.as_slice())
                    .unwrap_or(&[])
                {
                    let ip = addr.split('/').next().unwrap_or_default();
                    let one = IpBlock::from_ip(ip).map_err(|e| err(&e.0))?;
                    if one.is_subset(&block) {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }

    /// What the MultiNetworkPolicies of secondary network `name` allow from
    /// workload `s` to workload `d`.
    fn mnp_allowed(
        &self,
        s: usize,
        d: usize,
        name: &str,
        src_ref: &PeerRef,
        dst_ref: &PeerRef,
    ) -> R<ConnSet> {
        let mut res = self.mnp_xgress(s, d, name, false, src_ref, dst_ref)?;
        if res.is_empty() {
            return Ok(res);
        }
        res.intersect(&self.mnp_xgress(s, d, name, true, src_ref, dst_ref)?);
        Ok(res)
    }

    fn mnp_xgress(
        &self,
        s: usize,
        d: usize,
        name: &str,
        ingress: bool,
        src_ref: &PeerRef,
        dst_ref: &PeerRef,
    ) -> R<ConnSet> {
        let (selected, other, other_ref) = if ingress {
            (d, s, src_ref)
        } else {
            (s, d, dst_ref)
        };
        let policies = self.mnps_selecting(selected, name, ingress)?;
        if policies.is_empty() {
            return Ok(ConnSet::all());
        }
        let mut allowed = ConnSet::none();
        for i in policies {
            let mnp = &self.resources.mnps[i];
            let rules = if ingress {
                &mnp.policy.ingress
            } else {
                &mnp.policy.egress
            };
            for rule in rules {
                if !self.mnp_rule_selects(mnp, &rule.peers, other, name, other_ref)? {
                    continue;
                }
                allowed.union(&self.engine.np_rule_conns(
                    &mnp.policy,
                    &rule.ports,
                    Some(dst_ref),
                )?);
                if allowed.is_all() {
                    return Ok(allowed);
                }
            }
        }
        Ok(allowed)
    }

    /// Per workload: its primary network and secondary network names, for
    /// the workload-to-networks mapping; and how many are on the pod network.
    pub(crate) fn workload_networks(&self) -> (Vec<(String, String, Vec<String>)>, usize) {
        let mut out = Vec::new();
        let mut on_pod_network = 0;
        for w in self.workloads.iter().filter(|w| !w.fake) {
            let primary = &self.nets.list[self.nets.primary_of(&w.namespace)];
            if primary.kind == NetworkKind::Pod {
                on_pod_network += 1;
            }
            let mut secondary: Vec<String> =
                w.secondary.keys().map(|k| format!("{k}[NAD]")).collect();
            secondary.sort();
            out.push((w.display(), primary.mapping_name(), secondary));
        }
        out.sort();
        (out, on_pod_network)
    }
}
