//! The policy engine: which connections each direction allows between two peers.
//!
//! Per direction, the layers are evaluated as the Kubernetes network policy
//! API defines them: AdminNetworkPolicies by priority (first matching rule
//! of the highest-priority policy decides: Allow, Deny or Pass), then
//! NetworkPolicies (a pod selected by any policy for that direction is
//! isolated and gets the union of their allows), then the
//! BaselineAdminNetworkPolicy, then the default (allow). A connection is
//! allowed when both the source's egress and the destination's ingress allow it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use crate::conn::{ConnSet, PortSet, MAX_PORT, MIN_PORT, TCP};
use crate::ipset::{is_ipv6, IpBlock};
use crate::model::{
    AdminPolicy, AnpPeer, AnpPort, AnpRule, ContainerPort, NamespacedPod, NetworkPolicy, NpPeer,
    NpPort, Resources, NS_NAME_LABEL,
};
use crate::selector::{selectors_full_match, LabelSelector, Labels};

pub type R<T> = Result<T, String>;

/// A peer inferred from a policy rule's selectors (exposure analysis): it
/// stands for pods the input does not contain but the rule would match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Representative {
    pub pod_selector: Option<LabelSelector>,
    pub ns_selector: LabelSelector,
    /// The policy's namespace when the rule had no namespace selector; else empty.
    pub namespace: String,
}

/// A pod as the engine sees it.
#[derive(Debug, Clone, Copy)]
pub struct PodCtx<'a> {
    pub namespace: &'a str,
    pub labels: &'a Labels,
    pub ports: &'a [ContainerPort],
    /// `None` for a representative peer without a namespace.
    pub ns_labels: Option<&'a Labels>,
    pub rep: Option<&'a Representative>,
    /// The placeholder ingress controller or a representative peer.
    pub fake: bool,
    /// The NetworkPolicies selecting the pod (ingress, egress), when already
    /// known: the list analysis computes them once per workload.
    pub selected_by: Option<(&'a [usize], &'a [usize])>,
}

impl PodCtx<'_> {
    pub fn named_port(&self, name: &str) -> Option<(String, i64)> {
        self.ports.iter().find(|p| p.name == name).map(|p| {
            let proto = if p.protocol.is_empty() {
                TCP.to_string()
            } else {
                p.protocol.clone()
            };
            (proto, p.port)
        })
    }
}

/// One end of a connection.
#[derive(Debug, Clone, Copy)]
pub enum PeerRef<'a> {
    Ip(&'a IpBlock),
    Pod(PodCtx<'a>),
}

impl<'a> PeerRef<'a> {
    fn pod(&self) -> Option<&PodCtx<'a>> {
        match self {
            PeerRef::Pod(p) => Some(p),
            PeerRef::Ip(_) => None,
        }
    }

    fn is_rep(&self) -> bool {
        self.pod().is_some_and(|p| p.rep.is_some())
    }
}

/// Allowed, denied and passed connections of an admin policy layer.
#[derive(Debug, Clone, Default)]
pub struct PolicyConns {
    pub allowed: ConnSet,
    pub denied: ConnSet,
    pub pass: ConnSet,
}

impl PolicyConns {
    /// Adds a rule's connections; earlier rules keep what they decided.
    /// `pass_forbidden`: a BaselineAdminNetworkPolicy rule (Pass is invalid there).
    pub fn update_with_rule(
        &mut self,
        mut rule: ConnSet,
        action: &str,
        pass_forbidden: bool,
    ) -> R<()> {
        match action {
            "Allow" => {
                rule.subtract(&self.denied);
                rule.subtract(&self.pass);
                self.allowed.union(&rule);
            }
            "Deny" => {
                rule.subtract(&self.allowed);
                rule.subtract(&self.pass);
                self.denied.union(&rule);
            }
            "Pass" if !pass_forbidden => {
                rule.subtract(&self.allowed);
                rule.subtract(&self.denied);
                self.pass.union(&rule);
            }
            _ => return Err(format!("unknown rule action {action:?}: expected Allow, Deny or Pass (Pass only in AdminNetworkPolicy)")),
        }
        Ok(())
    }

    /// Adds a lower-priority admin policy: what is already decided stays.
    pub fn collect_anp(&mut self, mut new: PolicyConns) {
        new.denied.subtract(&self.allowed);
        new.denied.subtract(&self.pass);
        new.allowed.subtract(&self.denied);
        new.allowed.subtract(&self.pass);
        new.pass.subtract(&self.denied);
        new.pass.subtract(&self.allowed);
        self.denied.union(&new.denied);
        self.allowed.union(&new.allowed);
        self.pass.union(&new.pass);
    }

    /// Whatever the admin policies did not decide goes to the next layer.
    pub fn complement_pass(&mut self) {
        self.pass = ConnSet::all();
    }

    pub fn collect_from_netpols(&mut self, np_allowed: &ConnSet) {
        let mut new = self.pass.clone();
        new.intersect(np_allowed);
        new.subtract(&self.denied);
        self.allowed.union(&new);
    }

    pub fn collect_from_baseline(&mut self, banp: &PolicyConns) {
        let mut new_denied = self.pass.clone();
        new_denied.intersect(&banp.denied);
        new_denied.subtract(&self.allowed);
        self.denied.union(&new_denied);
        let mut new_allowed = self.pass.clone();
        new_allowed.intersect(&banp.allowed);
        self.allowed.union(&new_allowed);
        self.allowed.subtract(&self.denied);
    }

    pub fn is_empty(&self) -> bool {
        self.allowed.is_empty() && self.denied.is_empty() && self.pass.is_empty()
    }

    pub fn determines_all(&self) -> bool {
        let mut s = self.allowed.clone();
        s.union(&self.denied);
        s.is_all()
    }
}

/// A layer's result for one direction.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    pub captured: bool,
    pub conns: PolicyConns,
}

/// What a policy's rules allow toward "any pod in any namespace" (exposure analysis).
#[derive(Debug, Clone, Default)]
pub struct ClusterWide {
    pub ingress: PolicyConns,
    pub egress: PolicyConns,
}

/// The engine over one set of resources.
#[derive(Debug)]
pub struct Engine {
    pub namespaces: BTreeMap<String, Labels>,
    pub netpols: Vec<NetworkPolicy>,
    netpols_by_ns: BTreeMap<String, Vec<usize>>,
    /// Sorted by priority.
    pub anps: Vec<AdminPolicy>,
    pub banp: Option<AdminPolicy>,
    /// Baseline-tier ClusterNetworkPolicies, sorted by priority; evaluated
    /// before the BaselineAdminNetworkPolicy.
    pub baseline_cnps: Vec<AdminPolicy>,
    pub exposure: bool,
    pub np_cluster_wide: Vec<ClusterWide>,
    pub anp_cluster_wide: Vec<ClusterWide>,
    pub banp_cluster_wide: ClusterWide,
    pub baseline_cnp_cluster_wide: Vec<ClusterWide>,
    warnings: Mutex<BTreeSet<String>>,
}

pub const MIN_ANP_PRIORITY: i64 = 0;
pub const MAX_ANP_PRIORITY: i64 = 1000;

impl Engine {
    /// Builds the engine; fails as netpol-analyzer does on conflicting resources.
    pub fn new(res: &Resources, exposure: bool) -> R<Engine> {
        let mut namespaces: BTreeMap<String, Labels> = BTreeMap::new();
        for ns in &res.namespaces {
            if namespaces
                .insert(ns.name.clone(), ns.labels.clone())
                .is_some()
            {
                return Err(format!("namespace {:?} is defined more than once", ns.name));
            }
        }
        let mut netpols_by_ns: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for (i, np) in res.netpols.iter().enumerate() {
            if !seen.insert((np.namespace.clone(), np.name.clone())) {
                return Err(format!(
                    "input network policies contain more than one policy named {:?}",
                    np.full_name()
                ));
            }
            netpols_by_ns
                .entry(np.namespace.clone())
                .or_default()
                .push(i);
        }
        let mut anps = res.anps.clone();
        let mut names = BTreeSet::new();
        let mut cnp_names = BTreeSet::new();
        for a in anps.iter().chain(res.baseline_cnps.iter()) {
            let fresh = if a.cnp {
                cnp_names.insert(a.name.clone())
            } else {
                names.insert(a.name.clone())
            };
            if !fresh {
                return Err(format!(
                    "more than one {} named {:?}",
                    if a.cnp {
                        "cluster network policy"
                    } else {
                        "admin network policy"
                    },
                    a.name
                ));
            }
            if !(MIN_ANP_PRIORITY..=MAX_ANP_PRIORITY).contains(&a.priority) {
                return Err(format!(
                    "{} {:?} has priority {}: priority must be between {MIN_ANP_PRIORITY} and {MAX_ANP_PRIORITY}",
                    if a.cnp {
                        "cluster network policy"
                    } else {
                        "admin network policy"
                    },
                    a.name, a.priority
                ));
            }
        }
        // Stable: ClusterNetworkPolicies of equal priority keep the input order.
        anps.sort_by_key(|a| a.priority);
        let mut tie_warnings = Vec::new();
        for w in anps.windows(2) {
            if w[0].priority != w[1].priority {
                continue;
            }
            if !w[0].cnp && !w[1].cnp {
                return Err(format!(
                    "admin network policies {:?} and {:?} have the same priority",
                    w[0].name, w[1].name
                ));
            }
            tie_warnings.push(same_priority_warning(&w[0], &w[1]));
        }
        let mut baseline_cnps = res.baseline_cnps.clone();
        baseline_cnps.sort_by_key(|a| a.priority);
        for w in baseline_cnps.windows(2) {
            if w[0].priority == w[1].priority {
                tie_warnings.push(same_priority_warning(&w[0], &w[1]));
            }
        }
        let mut engine = Engine {
            namespaces,
            netpols: res.netpols.clone(),
            netpols_by_ns,
            anps,
            banp: res.banp.clone(),
            baseline_cnps,
            exposure,
            np_cluster_wide: Vec::new(),
            anp_cluster_wide: Vec::new(),
            banp_cluster_wide: ClusterWide::default(),
            baseline_cnp_cluster_wide: Vec::new(),
            warnings: Mutex::new(tie_warnings.into_iter().collect()),
        };
        if exposure {
            engine.np_cluster_wide = engine
                .netpols
                .iter()
                .map(|np| engine.np_cluster_wide_conns(np))
                .collect::<R<Vec<_>>>()?;
            engine.anp_cluster_wide = engine
                .anps
                .iter()
                .map(admin_cluster_wide_conns)
                .collect::<R<Vec<_>>>()?;
            if let Some(b) = &engine.banp {
                engine.banp_cluster_wide = admin_cluster_wide_conns(b)?;
            }
            engine.baseline_cnp_cluster_wide = engine
                .baseline_cnps
                .iter()
                .map(admin_cluster_wide_conns)
                .collect::<R<Vec<_>>>()?;
        }
        Ok(engine)
    }

    /// Adds a namespace with only its name label, unless it exists.
    pub fn ensure_namespace(&mut self, name: &str) {
        self.namespaces
            .entry(name.to_string())
            .or_insert_with(|| [(NS_NAME_LABEL.to_string(), name.to_string())].into());
    }

    pub fn warn(&self, w: String) {
        if let Ok(mut set) = self.warnings.lock() {
            set.insert(w);
        }
    }

    pub fn warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn has_policies(&self) -> bool {
        !self.netpols.is_empty()
            || !self.anps.is_empty()
            || self.banp.is_some()
            || !self.baseline_cnps.is_empty()
    }

    // ---- selectors ------------------------------------------------------

    /// A rule's pod selector against a peer: full match for a representative.
    fn pod_selector_matches(sel: &LabelSelector, pod: &PodCtx) -> R<bool> {
        match pod.rep {
            Some(rep) => selectors_full_match(Some(sel), rep.pod_selector.as_ref()),
            None => sel.matches(pod.labels),
        }
    }

    fn ns_selector_matches(sel: &LabelSelector, peer: &PeerRef) -> R<bool> {
        let PeerRef::Pod(pod) = peer else {
            return Ok(false);
        };
        match pod.rep {
            Some(rep) => selectors_full_match(Some(sel), Some(&rep.ns_selector)),
            None => {
                let empty = Labels::new();
                sel.matches(pod.ns_labels.unwrap_or(&empty))
            }
        }
    }

    pub(crate) fn selectors_match_peer(
        ns_sel: Option<&LabelSelector>,
        pod_sel: Option<&LabelSelector>,
        peer: &PeerRef,
        policy_ns: &str,
    ) -> R<bool> {
        let PeerRef::Pod(pod) = peer else {
            return Ok(false);
        };
        let ns_match = match ns_sel {
            None => policy_ns == pod.namespace,
            Some(sel) => Self::ns_selector_matches(sel, peer)?,
        };
        if !ns_match {
            return Ok(false);
        }
        match pod_sel {
            None => Ok(true),
            Some(sel) => Self::pod_selector_matches(sel, pod),
        }
    }

    // ---- NetworkPolicy --------------------------------------------------

    pub fn np_selects(np: &NetworkPolicy, pod: &PodCtx, ingress: bool) -> R<bool> {
        if pod.namespace != np.namespace || !np.affects(ingress) || pod.rep.is_some() {
            return Ok(false);
        }
        if np.pod_selector.is_empty() {
            return Ok(true);
        }
        np.pod_selector
            .matches(pod.labels)
            .map_err(|e| np_err(np, "selector error", &e))
    }

    /// Whether one of `peers` (a rule's `from`/`to`) selects `peer`.
    pub fn np_rule_selects_peer(np: &NetworkPolicy, peers: &[NpPeer], peer: &PeerRef) -> R<bool> {
        if peers.is_empty() {
            return Ok(true);
        }
        for p in peers {
            if p.pod_selector.is_none() && p.namespace_selector.is_none() && p.ip_block.is_none() {
                return Err(np_err(
                    np,
                    "rule NetworkPolicyPeer error",
                    "cannot have empty rule peer",
                ));
            }
            if p.pod_selector.is_some() || p.namespace_selector.is_some() {
                if p.ip_block.is_some() {
                    return Err(np_err(
                        np,
                        "rule NetworkPolicyPeer error",
                        "cannot have both IPBlock and PodSelector/NamespaceSelector set",
                    ));
                }
                let m = Self::selectors_match_peer(
                    p.namespace_selector.as_ref(),
                    p.pod_selector.as_ref(),
                    peer,
                    &np.namespace,
                )
                .map_err(|e| np_err(np, "selector error", &e))?;
                if m {
                    return Ok(true);
                }
                continue;
            }
            let PeerRef::Ip(ip) = peer else {
                continue;
            };
            if let Some(block) = &p.ip_block {
                let rule_block = np_ip_block(np, &block.cidr, &block.except)?;
                if ip.is_subset(&rule_block) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// The connections a rule's `ports` allow toward `dst` (`None`: any pod, for exposure).
    pub fn np_rule_conns(
        &self,
        np: &NetworkPolicy,
        ports: &[NpPort],
        dst: Option<&PeerRef>,
    ) -> R<ConnSet> {
        if ports.is_empty() {
            return Ok(ConnSet::all());
        }
        let mut res = ConnSet::none();
        for port in ports {
            // An explicit protocol is kept as written (even empty); absent means TCP.
            let protocol = port.protocol.clone().unwrap_or_else(|| TCP.to_string());
            let mut set = PortSet::default();
            match &port.port {
                None => set = PortSet::all(),
                Some(p) => {
                    let (start, end, name) =
                        np_port_range(np, p, port.protocol.as_deref(), port.end_port, dst)?;
                    if start < MIN_PORT
                        || end < MIN_PORT
                        || end < start
                        || start > MAX_PORT
                        || end > MAX_PORT
                    {
                        if !name.is_empty() {
                            if dst.is_none_or(PeerRef::is_rep) {
                                set.named.insert(name);
                            } else if let Some(PeerRef::Pod(_)) = dst {
                                self.warn(format!(
                                    "NetworkPolicy '{}': named port {name} is not defined in the destination pod",
                                    np.full_name()
                                ));
                            }
                        } else {
                            return Err(format!("port range {start}-{end} is illegal"));
                        }
                    } else {
                        set.ports.add_range(start, end);
                    }
                }
            }
            res.add(&protocol, set);
        }
        Ok(res)
    }

    /// What `np` allows in one direction between `src` and `dst` (the policy selects the pod end).
    pub fn np_xgress_conns(
        &self,
        np: &NetworkPolicy,
        src: &PeerRef,
        dst: &PeerRef,
        ingress: bool,
    ) -> R<ConnSet> {
        let rules = if ingress { &np.ingress } else { &np.egress };
        let to_select = if ingress { src } else { dst };
        let mut res = ConnSet::none();
        for rule in rules {
            if !Self::np_rule_selects_peer(np, &rule.peers, to_select)? {
                continue;
            }
            res.union(&self.np_rule_conns(np, &rule.ports, Some(dst))?);
            if res.is_all() {
                break;
            }
        }
        Ok(res)
    }

    /// The policies (indices) selecting `pod` for a direction.
    pub fn netpols_selecting(&self, pod: &PodCtx, ingress: bool) -> R<Vec<usize>> {
        if let Some((i, e)) = pod.selected_by {
            return Ok(if ingress { i.to_vec() } else { e.to_vec() });
        }
        let mut out = Vec::new();
        if let Some(list) = self.netpols_by_ns.get(pod.namespace) {
            for &i in list {
                if Self::np_selects(&self.netpols[i], pod, ingress)? {
                    out.push(i);
                }
            }
        }
        Ok(out)
    }

    fn np_layer(&self, src: &PeerRef, dst: &PeerRef, ingress: bool) -> R<Layer> {
        let selected = if ingress { dst } else { src };
        let PeerRef::Pod(pod) = selected else {
            return Ok(Layer::default());
        };
        let policies = self.netpols_selecting(pod, ingress)?;
        if policies.is_empty() {
            return Ok(Layer::default());
        }
        let mut allowed = ConnSet::none();
        for i in policies {
            allowed.union(&self.np_xgress_conns(&self.netpols[i], src, dst, ingress)?);
        }
        Ok(Layer {
            captured: true,
            conns: PolicyConns {
                allowed,
                ..PolicyConns::default()
            },
        })
    }

    // ---- (Baseline)AdminNetworkPolicy ------------------------------------

    fn admin_err(p: &AdminPolicy, rule: &str, e: &str) -> String {
        if p.cnp {
            format!("cluster network policy {:?}: in rule {rule:?}: {e}", p.name)
        } else if p.baseline {
            format!("default baseline admin network policy:  in rule {rule:?}: {e}")
        } else {
            format!("admin network policy {:?}: in rule {rule:?}: {e}", p.name)
        }
    }

    pub fn admin_selects(p: &AdminPolicy, peer: &PeerRef, ingress: bool) -> R<bool> {
        if matches!(peer, PeerRef::Ip(_)) || !p.affects(ingress) {
            return Ok(false);
        }
        let title = if p.cnp {
            format!("cluster network policy {:?}: ", p.name)
        } else if p.baseline {
            "default baseline admin network policy: ".to_string()
        } else {
            format!("admin network policy {:?}: ", p.name)
        };
        match (&p.subject.namespaces, &p.subject.pods) {
            (Some(ns), None) => {
                Self::ns_selector_matches(ns, peer).map_err(|e| format!("{title}{e}"))
            }
            (None, Some(pods)) => {
                Self::pods_field_matches(pods, peer).map_err(|e| format!("{title}{e}"))
            }
            _ => Err(format!(
                "{title}exactly one field must be set in the subject"
            )),
        }
    }

    fn pods_field_matches(pods: &NamespacedPod, peer: &PeerRef) -> R<bool> {
        let PeerRef::Pod(pod) = peer else {
            return Ok(false);
        };
        if !Self::ns_selector_matches(&pods.namespace_selector, peer)? {
            return Ok(false);
        }
        Self::pod_selector_matches(&pods.pod_selector, pod)
    }

    fn networks_match(&self, networks: &[String], peer: &PeerRef) -> R<bool> {
        let PeerRef::Ip(ip) = peer else {
            return Ok(false);
        };
        for cidr in networks {
            if is_ipv6(cidr) {
                self.warn("IPv6 addresses are not supported; ignoring them".to_string());
                continue;
            }
            let block = IpBlock::from_cidr(cidr).map_err(|e| e.to_string())?;
            if ip.is_subset(&block) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub(crate) fn admin_rule_selects(
        &self,
        rule: &AnpRule,
        peer: &PeerRef,
        ingress: bool,
    ) -> R<bool> {
        if rule.peers.is_empty() {
            return Err(if ingress {
                "ingress rule must have at least one peer (from)".to_string()
            } else {
                "egress rule must have at least one peer (to)".to_string()
            });
        }
        for p in &rule.peers {
            if !one_field_set(p, ingress) {
                return Err("exactly one field must be set in a rule peer".to_string());
            }
            if p.nodes.is_some() {
                self.warn(
                    "nodes field of an egress peer is not supported; ignoring it".to_string(),
                );
                continue;
            }
            let m = if let Some(ns) = &p.namespaces {
                Self::ns_selector_matches(ns, peer)?
            } else if let Some(pods) = &p.pods {
                Self::pods_field_matches(pods, peer)?
            } else if let Some(networks) = &p.networks {
                self.networks_match(networks, peer)?
            } else {
                false
            };
            if m {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The connections of an admin rule's ports toward `dst` (`None`: any pod).
    pub fn admin_rule_conns(
        &self,
        ports: &Option<Vec<AnpPort>>,
        dst: Option<&PeerRef>,
    ) -> R<ConnSet> {
        let Some(ports) = ports else {
            return Ok(ConnSet::all());
        };
        let mut res = ConnSet::none();
        for port in ports {
            match port {
                AnpPort::Invalid => {
                    return Err(
                        "exactly one field must be set in an admin network policy port".to_string(),
                    )
                }
                AnpPort::Number { protocol, port } => {
                    let proto = if protocol.is_empty() {
                        TCP
                    } else {
                        protocol.as_str()
                    };
                    let mut set = PortSet::default();
                    set.ports.add_range(*port, *port);
                    res.add(proto, set);
                }
                AnpPort::Named(name) => match dst {
                    None => res.add("", PortSet::named(name)),
                    Some(p) if p.is_rep() => res.add("", PortSet::named(name)),
                    Some(PeerRef::Ip(_)) => {
                        self.warn("named port is ignored for an IP-block peer".to_string());
                    }
                    Some(PeerRef::Pod(pod)) => match pod.named_port(name) {
                        None => {
                            self.warn(format!(
                                "named port {name} is not defined in the destination pod"
                            ));
                        }
                        Some((proto, num)) => {
                            let mut set = PortSet::default();
                            set.ports.add_range(num, num);
                            res.add(&proto, set);
                        }
                    },
                },
                AnpPort::Range {
                    protocol,
                    start,
                    end,
                } => {
                    let proto = if protocol.is_empty() {
                        TCP
                    } else {
                        protocol.as_str()
                    };
                    if *start < MIN_PORT
                        || *end < MIN_PORT
                        || end < start
                        || *start > MAX_PORT
                        || *end > MAX_PORT
                    {
                        return Err(format!("port range {start}-{end} is illegal"));
                    }
                    res.add(proto, PortSet::range(*start, *end));
                }
            }
        }
        Ok(res)
    }

    /// An admin policy's decision on `src`→`dst` in one direction (the policy selects the pod end).
    pub fn admin_policy_conns(
        &self,
        p: &AdminPolicy,
        src: &PeerRef,
        dst: &PeerRef,
        ingress: bool,
    ) -> R<PolicyConns> {
        let mut res = PolicyConns::default();
        let rules = if ingress { &p.ingress } else { &p.egress };
        let peer = if ingress { src } else { dst };
        for rule in rules {
            let selected = self
                .admin_rule_selects(rule, peer, ingress)
                .map_err(|e| Self::admin_err(p, &rule.name, &e))?;
            if !selected {
                continue;
            }
            let conns = self
                .admin_rule_conns(&rule.ports, Some(dst))
                .map_err(|e| Self::admin_err(p, &rule.name, &e))?;
            res.update_with_rule(conns, &rule.action, p.pass_forbidden())
                .map_err(|e| Self::admin_err(p, &rule.name, &e))?;
        }
        Ok(res)
    }

    fn anp_layer(&self, src: &PeerRef, dst: &PeerRef, ingress: bool) -> R<Layer> {
        let mut layer = Layer::default();
        let selected = if ingress { dst } else { src };
        for anp in &self.anps {
            if !Self::admin_selects(anp, selected, ingress)? {
                continue;
            }
            let conns = self.admin_policy_conns(anp, src, dst, ingress)?;
            if !conns.is_empty() {
                layer.conns.collect_anp(conns);
            }
        }
        layer.captured = !layer.conns.is_empty();
        layer.conns.complement_pass();
        Ok(layer)
    }

    fn default_layer(&self, src: &PeerRef, dst: &PeerRef, ingress: bool) -> R<Layer> {
        let mut conns = PolicyConns::default();
        let selected = if ingress { dst } else { src };
        // Baseline tier: ClusterNetworkPolicies by priority (a Pass goes on to
        // the default, allow), then the BaselineAdminNetworkPolicy.
        for b in &self.baseline_cnps {
            if Self::admin_selects(b, selected, ingress)? {
                let c = self.admin_policy_conns(b, src, dst, ingress)?;
                if !c.is_empty() {
                    conns.collect_anp(c);
                }
            }
        }
        if let Some(banp) = &self.banp {
            if Self::admin_selects(banp, selected, ingress)? {
                let c = self.admin_policy_conns(banp, src, dst, ingress)?;
                if self.baseline_cnps.is_empty() {
                    conns = c;
                } else if !c.is_empty() {
                    conns.collect_anp(c);
                }
            }
        }
        conns.allowed = ConnSet::all();
        Ok(Layer {
            captured: false,
            conns,
        })
    }

    /// The layers combined: admin decisions first, then NetworkPolicies for
    /// what they capture, else the baseline.
    pub fn combine(mut anp: Layer, np: &Layer, default: &Layer) -> ConnSet {
        if np.captured && !anp.captured {
            return np.conns.allowed.clone();
        }
        if np.captured {
            anp.conns.collect_from_netpols(&np.conns.allowed);
            return anp.conns.allowed;
        }
        anp.conns.collect_from_baseline(&default.conns);
        anp.conns.allowed
    }

    /// What one direction allows between `src` and `dst`.
    pub fn allowed_xgress(&self, src: &PeerRef, dst: &PeerRef, ingress: bool) -> R<ConnSet> {
        if self.anps.is_empty() && self.banp.is_none() && self.baseline_cnps.is_empty() {
            // Without admin policies the layers reduce to: the NetworkPolicies'
            // allows when one selects the pod, else everything.
            let np = self.np_layer(src, dst, ingress)?;
            return Ok(if np.captured {
                np.conns.allowed
            } else {
                ConnSet::all()
            });
        }
        let anp = self.anp_layer(src, dst, ingress)?;
        if anp.conns.determines_all() {
            let mut allowed = anp.conns.allowed.clone();
            allowed.subtract(&anp.conns.denied);
            return Ok(allowed);
        }
        let np = self.np_layer(src, dst, ingress)?;
        let default = self.default_layer(src, dst, ingress)?;
        Ok(Self::combine(anp, &np, &default))
    }

    /// The connections allowed from `src` to `dst`: egress of the source and
    /// ingress of the destination both allow them.
    pub fn allowed(&self, src: &PeerRef, dst: &PeerRef) -> R<ConnSet> {
        let mut conn = self.allowed_xgress(src, dst, false)?;
        if conn.is_empty() {
            return Ok(conn);
        }
        let ingress = self.allowed_xgress(src, dst, true)?;
        conn.intersect(&ingress);
        Ok(conn)
    }

    // ---- exposure --------------------------------------------------------

    fn np_cluster_wide_conns(&self, np: &NetworkPolicy) -> R<ClusterWide> {
        let mut cw = ClusterWide::default();
        for ingress in [true, false] {
            if !np.affects(ingress) {
                continue;
            }
            let rules = if ingress { &np.ingress } else { &np.egress };
            let target = if ingress {
                &mut cw.ingress
            } else {
                &mut cw.egress
            };
            for rule in rules {
                let all_ns = rule.peers.is_empty()
                    || rule.peers.iter().any(|p| {
                        p.ip_block.is_none()
                            && p.namespace_selector
                                .as_ref()
                                .is_some_and(LabelSelector::is_empty)
                            && p.pod_selector.as_ref().is_none_or(LabelSelector::is_empty)
                    });
                if all_ns {
                    let conns = self.np_rule_conns(np, &rule.ports, None)?;
                    target.allowed.union(&conns);
                }
            }
        }
        Ok(cw)
    }

    /// The representative peers a policy's rules imply, in rule order.
    pub fn np_rule_selectors(
        np: &NetworkPolicy,
    ) -> Vec<(Option<LabelSelector>, Option<LabelSelector>)> {
        let mut out = Vec::new();
        for ingress in [true, false] {
            if !np.affects(ingress) {
                continue;
            }
            let rules = if ingress { &np.ingress } else { &np.egress };
            for rule in rules {
                let mut this_rule = Vec::new();
                let mut all_ns = false;
                for p in &rule.peers {
                    if p.ip_block.is_some() {
                        continue;
                    }
                    if p.namespace_selector
                        .as_ref()
                        .is_some_and(LabelSelector::is_empty)
                        && p.pod_selector.as_ref().is_none_or(LabelSelector::is_empty)
                    {
                        // A peer selecting every pod drops the rule's other selectors.
                        all_ns = true;
                        break;
                    }
                    this_rule.push((p.pod_selector.clone(), p.namespace_selector.clone()));
                }
                if !all_ns {
                    out.extend(this_rule);
                }
            }
        }
        out
    }

    /// The representative peers an admin policy's rules imply.
    pub fn admin_rule_selectors(
        p: &AdminPolicy,
    ) -> Vec<(Option<LabelSelector>, Option<LabelSelector>)> {
        let mut out = Vec::new();
        for ingress in [true, false] {
            if !p.affects(ingress) {
                continue;
            }
            let rules = if ingress { &p.ingress } else { &p.egress };
            for rule in rules {
                for peer in &rule.peers {
                    if !ingress && (peer.networks.is_some() || peer.nodes.is_some()) {
                        continue;
                    }
                    if let Some(ns) = &peer.namespaces {
                        if !ns.is_empty() {
                            out.push((None, Some(ns.clone())));
                        }
                    } else if let Some(pods) = &peer.pods {
                        if !(pods.namespace_selector.is_empty() && pods.pod_selector.is_empty()) {
                            out.push((
                                Some(pods.pod_selector.clone()),
                                Some(pods.namespace_selector.clone()),
                            ));
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether any policy selects the pod in a direction, and what it is
    /// exposed to from (or toward) any pod of the cluster.
    pub fn pod_exposure(&self, pod: &PodCtx, ingress: bool) -> R<(bool, ConnSet)> {
        let peer = PeerRef::Pod(*pod);
        let mut protected = false;
        let mut anp = Layer::default();
        for (i, a) in self.anps.iter().enumerate() {
            if !Self::admin_selects(a, &peer, ingress)? {
                continue;
            }
            protected = true;
            let cw = if ingress {
                &self.anp_cluster_wide[i].ingress
            } else {
                &self.anp_cluster_wide[i].egress
            };
            if !cw.is_empty() {
                anp.captured = true;
                anp.conns.collect_anp(cw.clone());
            }
        }
        anp.conns.complement_pass();
        let result = if anp.conns.determines_all() {
            anp.conns.allowed.clone()
        } else {
            let mut np = Layer::default();
            let policies = self.netpols_selecting(pod, ingress)?;
            if !policies.is_empty() {
                protected = true;
                np.captured = true;
                for i in policies {
                    let cw = if ingress {
                        &self.np_cluster_wide[i].ingress
                    } else {
                        &self.np_cluster_wide[i].egress
                    };
                    if !cw.allowed.is_empty() {
                        np.conns.allowed.union(&cw.allowed);
                    }
                }
            }
            let mut default = Layer::default();
            for (b, cw) in self
                .baseline_cnps
                .iter()
                .zip(self.baseline_cnp_cluster_wide.iter())
            {
                if Self::admin_selects(b, &peer, ingress)? {
                    protected = true;
                    let cw = if ingress { &cw.ingress } else { &cw.egress };
                    if !cw.is_empty() {
                        default.conns.collect_anp(cw.clone());
                    }
                }
            }
            if let Some(b) = &self.banp {
                if Self::admin_selects(b, &peer, ingress)? {
                    protected = true;
                    let cw = if ingress {
                        &self.banp_cluster_wide.ingress
                    } else {
                        &self.banp_cluster_wide.egress
                    };
                    if !cw.is_empty() {
                        default.conns.collect_anp(cw.clone());
                    }
                }
            }
            default.conns.allowed = ConnSet::all();
            Self::combine(anp, &np, &default)
        };
        let result = if ingress {
            convert_named_ports(&result, pod)
        } else {
            result
        };
        // The stored exposure starts empty and is a union of the result.
        let mut stored = ConnSet::none();
        stored.union(&result);
        // Also the netpol-analyzer protection flag is set by the NetworkPolicy
        // layer only when the admin layer did not already decide everything.
        Ok((protected, stored))
    }
}

fn same_priority_warning(a: &AdminPolicy, b: &AdminPolicy) -> String {
    format!(
        "{} {:?} and {} {:?} have the same priority {}: their order is implementation-defined; evaluated in input order",
        a.kind_label(),
        a.name,
        b.kind_label(),
        b.name,
        a.priority
    )
}

fn one_field_set(p: &AnpPeer, ingress: bool) -> bool {
    if ingress {
        return p.namespaces.is_some() != p.pods.is_some()
            && p.networks.is_none()
            && p.nodes.is_none();
    }
    usize::from(p.namespaces.is_some())
        + usize::from(p.pods.is_some())
        + usize::from(p.networks.is_some())
        + usize::from(p.nodes.is_some())
        == 1
}

fn np_err(np: &NetworkPolicy, title: &str, description: &str) -> String {
    format!("NetworkPolicy '{}' {title}: {description}", np.full_name())
}

fn np_ip_block(np: &NetworkPolicy, cidr: &str, except: &[String]) -> R<IpBlock> {
    IpBlock::from_cidr_except(cidr, except).map_err(|e| np_err(np, "CIDR error", &e.0))
}

/// netpol-analyzer's `getPortsRange`: the numeric range of a rule port, or
/// an empty range with the name of an unresolved named port.
pub(crate) fn np_port_range(
    np: &NetworkPolicy,
    port: &crate::model::IntOrStr,
    protocol: Option<&str>,
    end_port: Option<i64>,
    dst: Option<&PeerRef>,
) -> R<(i64, i64, String)> {
    const NO_PORT: i64 = -1;
    if port.is_str {
        if end_port.is_some() {
            return Err(np_err(
                np,
                "named port error",
                "cannot have both a named port and an endPort",
            ));
        }
        let rule_proto = match protocol {
            None | Some("") => TCP,
            Some(p) => p,
        };
        let name = port.str_val.clone();
        let Some(dst) = dst else {
            return Ok((NO_PORT, NO_PORT, name));
        };
        let PeerRef::Pod(pod) = dst else {
            return Err(np_err(
                np,
                "named port error",
                "cannot convert named port for an IP destination",
            ));
        };
        return Ok(match pod.named_port(&name) {
            Some((proto, num)) if proto == rule_proto => (num, num, name),
            _ => (NO_PORT, NO_PORT, name),
        });
    }
    let start = port.int_val;
    Ok((start, end_port.unwrap_or(start), String::new()))
}

/// Replaces named ports by the pod's port numbers (ingress exposure).
fn convert_named_ports(conns: &ConnSet, pod: &PodCtx) -> ConnSet {
    if conns.all || conns.protos.values().all(|p| p.named.is_empty()) {
        return conns.clone();
    }
    let mut out = conns.clone();
    for (proto, ports) in &conns.protos {
        for name in &ports.named {
            let Some((pod_proto, num)) = pod.named_port(name) else {
                continue;
            };
            if proto.is_empty() {
                let mut set = PortSet::default();
                set.ports.add_range(num, num);
                out.protos.remove("");
                out.add(&pod_proto, set);
            } else if let Some(entry) = out.protos.get_mut(proto) {
                entry.ports.add_range(num, num);
                entry.named.remove(name);
            }
        }
    }
    out
}

/// An admin policy's connections toward any pod in any namespace, per direction.
fn admin_cluster_wide_conns(p: &AdminPolicy) -> R<ClusterWide> {
    let mut cw = ClusterWide::default();
    let probe = Engine {
        namespaces: BTreeMap::new(),
        netpols: Vec::new(),
        netpols_by_ns: BTreeMap::new(),
        anps: Vec::new(),
        banp: None,
        baseline_cnps: Vec::new(),
        exposure: false,
        np_cluster_wide: Vec::new(),
        anp_cluster_wide: Vec::new(),
        banp_cluster_wide: ClusterWide::default(),
        baseline_cnp_cluster_wide: Vec::new(),
        warnings: Mutex::new(BTreeSet::new()),
    };
    for ingress in [true, false] {
        if !p.affects(ingress) {
            continue;
        }
        let rules = if ingress { &p.ingress } else { &p.egress };
        let target = if ingress {
            &mut cw.ingress
        } else {
            &mut cw.egress
        };
        for rule in rules {
            for peer in &rule.peers {
                if !ingress && (peer.networks.is_some() || peer.nodes.is_some()) {
                    continue;
                }
                let all = match (&peer.namespaces, &peer.pods) {
                    (Some(ns), _) => ns.is_empty(),
                    (None, Some(pods)) => {
                        pods.namespace_selector.is_empty() && pods.pod_selector.is_empty()
                    }
                    _ => false,
                };
                if all {
                    let conns = probe.admin_rule_conns(&rule.ports, None)?;
                    target.update_with_rule(conns, &rule.action, false)?;
                }
            }
        }
    }
    Ok(cw)
}
