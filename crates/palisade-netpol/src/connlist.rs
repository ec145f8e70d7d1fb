//! The allowed-connections list between workloads and IP blocks, with
//! netpol-analyzer's options: focus workloads, focus direction, focus
//! connection and exposure analysis.
//!
//! Workloads are equivalence classes of pods (a Deployment's replicas
//! behave alike), and IP addresses are grouped into the disjoint blocks the
//! policies mention, so the evaluation never enumerates pods or addresses.
//! Connections between two workloads are further cached by what the
//! policies can see of them (namespace, labels, ports).

use std::collections::{BTreeMap, HashMap};

use crate::conn::{ConnSet, PortSet};
use crate::eval::{Engine, PeerRef, PodCtx, Representative, R};
use crate::ipset::{disjoint_ip_blocks, IpBlock};
use crate::model::{ContainerPort, IngressKind, IntOrStr, NetAttach, Resources, NS_NAME_LABEL};
use crate::networks::{Network, Networks, PairConns};
use crate::selector::{selector_key, LabelSelector, Labels};

pub const INGRESS_CONTROLLER_NAME: &str = "ingress-controller";
pub const INGRESS_CONTROLLER_NS: &str = "ingress-controller-ns";

/// Options of `list` (netpol-analyzer's flags).
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Workloads to focus on: `name` or `namespace/name`.
    pub focus_workloads: Vec<String>,
    /// With focus workloads: only connections with these peers.
    pub focus_workload_peers: Vec<String>,
    /// `ingress` or `egress` (with focus workloads).
    pub focus_direction: Option<String>,
    /// `protocol-port`, e.g. `tcp-8080`.
    pub focus_conn: Option<String>,
    pub exposure: bool,
    /// netpol-analyzer's `--multiple-networks`: per-network sections (the
    /// resources must have been read with multiple networks too).
    pub multiple_networks: bool,
}

/// A workload: pods of one owner (or one bare Pod).
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub namespace: String,
    pub kind: String,
    pub labels: Labels,
    pub ports: Vec<ContainerPort>,
    /// The placeholder ingress controller.
    pub fake: bool,
    pub source: Option<palisade_model::ObjectId>,
    pub source_line: u32,
    /// Secondary networks it asks for (multiple networks only).
    pub secondary: BTreeMap<String, NetAttach>,
}

impl Workload {
    /// `namespace/name[Kind]`, or `{ingress-controller}`.
    pub fn display(&self) -> String {
        if self.fake {
            format!("{{{}}}", self.name)
        } else {
            format!("{}/{}[{}]", self.namespace, self.name, self.kind)
        }
    }
}

/// One end of a listed connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerInfo {
    /// How the peer prints: `ns/name[Kind]`, `a.b.c.d-e.f.g.h[External]`, `{ingress-controller}`.
    pub display: String,
    pub name: String,
    pub namespace: String,
    pub kind: String,
    pub is_ip: bool,
    /// The addresses of an IP-block peer.
    pub ip: Option<IpBlock>,
}

/// An allowed connection.
#[derive(Debug, Clone)]
pub struct Connection {
    pub src: PeerInfo,
    pub dst: PeerInfo,
    pub conns: ConnSet,
    /// The network the connection is on (the pod network unless multiple
    /// networks are analysed).
    pub network: Network,
}

/// Exposure of a workload toward (or from) peers the input does not contain.
#[derive(Debug, Clone)]
pub struct ExposureItem {
    pub entire_cluster: bool,
    pub namespace_labels: LabelSelector,
    pub pod_labels: LabelSelector,
    pub conn: ConnSet,
}

#[derive(Debug, Clone)]
pub struct XgressExposure {
    pub protected: bool,
    pub items: Vec<ExposureItem>,
}

impl Default for XgressExposure {
    fn default() -> Self {
        XgressExposure {
            protected: true,
            items: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExposedPeer {
    pub peer: PeerInfo,
    pub ingress: XgressExposure,
    pub egress: XgressExposure,
}

/// The result of `list`.
#[derive(Debug, Clone, Default)]
pub struct ConnList {
    pub connections: Vec<Connection>,
    pub exposure: Option<Vec<ExposedPeer>>,
    /// Workloads shown (focus applied), for the dot graph.
    pub peers: Vec<PeerInfo>,
    /// `TCP 8080` when a focus connection was given.
    pub focus_conn: Option<String>,
    pub warnings: Vec<String>,
    /// Multiple networks were analysed: outputs show the networks.
    pub multiple_networks: bool,
    /// Per workload (`ns/name[Kind]`, sorted): its primary network and
    /// secondary networks, as the txt mapping prints them.
    pub workload_networks: Vec<(String, String, Vec<String>)>,
    /// How many workloads are on the pod network.
    pub pod_network_workloads: usize,
}

/// Connections between the keys of source and destination peers.
struct Matrix {
    rows: Vec<Vec<Option<PairConns>>>,
    /// Key index of each source (destination) peer, by position.
    src_of: Vec<usize>,
    dst_of: Vec<usize>,
}

impl Matrix {
    fn get(&self, src_pos: usize, dst_pos: usize) -> Option<&PairConns> {
        let (s, d) = (*self.src_of.get(src_pos)?, *self.dst_of.get(dst_pos)?);
        self.rows.get(s)?.get(d)?.as_ref()
    }
}

/// What the policies can see of a workload: namespace, labels, container
/// ports, and (multiple networks) its secondary networks and whether it is a
/// VirtualMachine.
type ClassKey = (
    String,
    Vec<(String, String)>,
    Vec<ContainerPort>,
    Vec<(String, NetAttach)>,
    bool,
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum PeerId {
    Ip(usize, bool),
    Workload(usize),
    Rep(usize),
}

/// Everything needed to evaluate connections between the input's peers.
pub struct Analyzer {
    pub engine: Engine,
    pub workloads: Vec<Workload>,
    pub reps: Vec<Representative>,
    pub src_ips: Vec<IpBlock>,
    pub dst_ips: Vec<IpBlock>,
    pub resources: Resources,
    /// Equivalence class of each workload (same namespace, labels and ports).
    classes: Vec<usize>,
    /// The first workload of each class.
    class_rep: Vec<usize>,
    /// Per workload, the NetworkPolicies selecting it for (ingress, egress).
    selections: Vec<(Vec<usize>, Vec<usize>)>,
    empty_labels: Labels,
    pub warnings: Vec<String>,
    /// The networks and who is on them (only the pod network unless
    /// multiple networks are analysed).
    pub nets: Networks,
    /// Multiple networks are analysed.
    pub multi: bool,
}

impl Analyzer {
    /// The `{ingress-controller}` peer of Services, Ingresses and Routes, and
    /// the labels of its namespace (its own, or only the name label).
    pub(crate) fn ingress_controller(&self) -> (Workload, Labels) {
        let workload = Workload {
            name: INGRESS_CONTROLLER_NAME.to_string(),
            namespace: INGRESS_CONTROLLER_NS.to_string(),
            kind: "Pod".to_string(),
            labels: Labels::new(),
            ports: Vec::new(),
            fake: true,
            source: None,
            source_line: 0,
            secondary: BTreeMap::new(),
        };
        let ns_labels = self
            .engine
            .namespaces
            .get(INGRESS_CONTROLLER_NS)
            .cloned()
            .unwrap_or_else(|| {
                [(NS_NAME_LABEL.to_string(), INGRESS_CONTROLLER_NS.to_string())].into()
            });
        (workload, ns_labels)
    }
}

impl Analyzer {
    /// Builds the analyzer over `res` (with representative peers for exposure analysis).
    pub fn new(res: Resources, exposure: bool) -> R<Analyzer> {
        if let Some(e) = res.errors.first() {
            return Err(e.clone());
        }
        let multi = res.multi_networks;
        // As netpol-analyzer: exposure analysis is not supported with multiple networks.
        let exposure = exposure && !multi;
        let mut engine = Engine::new(&res, exposure)?;
        let (nets, net_warnings) = Networks::build(&res, &engine.namespaces)?;
        // Pods keyed by namespace/name: a later one replaces an earlier one.
        let mut keyed: Vec<(String, usize)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, pod) in res.pods.iter().enumerate() {
            let key = format!("{}/{}", pod.namespace, pod.name);
            match index.get(&key) {
                Some(&slot) => keyed[slot].1 = i,
                None => {
                    index.insert(key.clone(), keyed.len());
                    keyed.push((key, i));
                }
            }
        }
        let mut workloads: Vec<Workload> = Vec::new();
        let mut by_display: HashMap<String, usize> = HashMap::new();
        for (_, i) in &keyed {
            let pod = &res.pods[*i];
            let (name, kind) = match &pod.owner {
                // An owner without a kind is shown as a Pod, as upstream does.
                Some(o) if !o.name.is_empty() && o.kind.is_empty() => {
                    (o.name.clone(), "Pod".to_string())
                }
                Some(o) if !o.name.is_empty() => (o.name.clone(), o.kind.clone()),
                _ => (pod.name.clone(), "Pod".to_string()),
            };
            let w = Workload {
                name,
                namespace: pod.namespace.clone(),
                kind,
                labels: pod.labels.clone(),
                ports: pod.ports.clone(),
                fake: false,
                source: pod.source.clone(),
                source_line: pod.source_line,
                secondary: pod.secondary.clone(),
            };
            let n = workloads.len();
            if let std::collections::hash_map::Entry::Vacant(e) = by_display.entry(w.display()) {
                e.insert(n);
                workloads.push(w);
            }
        }
        for w in &workloads {
            engine.ensure_namespace(&w.namespace);
        }
        // Representative peers, from the policies in input order; the first of equivalent ones stays.
        let mut reps: Vec<Representative> = Vec::new();
        if exposure {
            let mut keys: Vec<String> = Vec::new();
            let mut add = |pod_sel: Option<LabelSelector>,
                           ns_sel: Option<LabelSelector>,
                           pod_ns: String|
             -> R<()> {
                let ns_selector = match ns_sel {
                    Some(s) => s,
                    None if !pod_ns.is_empty() => LabelSelector {
                        match_labels: [(NS_NAME_LABEL.to_string(), pod_ns.clone())].into(),
                        match_expressions: Vec::new(),
                    },
                    None => LabelSelector::default(),
                };
                let key = format!(
                    "{}/{}",
                    selector_key(Some(&ns_selector))?,
                    selector_key(pod_sel.as_ref())?
                );
                if keys.contains(&key) {
                    return Ok(());
                }
                keys.push(key);
                reps.push(Representative {
                    pod_selector: pod_sel,
                    ns_selector,
                    namespace: pod_ns,
                });
                Ok(())
            };
            for item in &res.policy_order {
                match item {
                    crate::model::PolicyRef::Np(i) => {
                        let np = &res.netpols[*i];
                        for (pod_sel, ns_sel) in Engine::np_rule_selectors(np) {
                            let pod_ns = if ns_sel.is_none() {
                                np.namespace.clone()
                            } else {
                                String::new()
                            };
                            add(pod_sel, ns_sel, pod_ns)?;
                        }
                    }
                    crate::model::PolicyRef::Anp(i) => {
                        for (pod_sel, ns_sel) in Engine::admin_rule_selectors(&res.anps[*i]) {
                            add(pod_sel, ns_sel, String::new())?;
                        }
                    }
                    crate::model::PolicyRef::BaselineCnp(i) => {
                        for (pod_sel, ns_sel) in
                            Engine::admin_rule_selectors(&res.baseline_cnps[*i])
                        {
                            add(pod_sel, ns_sel, String::new())?;
                        }
                    }
                    crate::model::PolicyRef::Banp => {
                        if let Some(b) = &res.banp {
                            for (pod_sel, ns_sel) in Engine::admin_rule_selectors(b) {
                                add(pod_sel, ns_sel, String::new())?;
                            }
                        }
                    }
                }
            }
            // A representative whose plain labels a real pod carries is that pod.
            for (_, i) in &keyed {
                let pod = &res.pods[*i];
                let ns_labels = engine
                    .namespaces
                    .get(&pod.namespace)
                    .cloned()
                    .unwrap_or_default();
                reps.retain(|r| {
                    let Some(ps) = &r.pod_selector else {
                        return true;
                    };
                    if !ps.match_expressions.is_empty()
                        || !r.ns_selector.match_expressions.is_empty()
                    {
                        return true;
                    }
                    if r.ns_selector.match_labels.is_empty() || ps.match_labels.is_empty() {
                        return true;
                    }
                    let pod_match = ps
                        .match_labels
                        .iter()
                        .all(|(k, v)| pod.labels.get(k) == Some(v));
                    let ns_match = r
                        .ns_selector
                        .match_labels
                        .iter()
                        .all(|(k, v)| ns_labels.get(k) == Some(v));
                    !(pod_match && ns_match)
                });
            }
        }
        // IP blocks the policies mention, made disjoint.
        let mut src_blocks = Vec::new();
        let mut dst_blocks = Vec::new();
        for np in &engine.netpols {
            for (rules, out) in [
                (&np.ingress, &mut src_blocks),
                (&np.egress, &mut dst_blocks),
            ] {
                for rule in rules.iter() {
                    for p in &rule.peers {
                        if let Some(b) = &p.ip_block {
                            let block =
                                IpBlock::from_cidr_except(&b.cidr, &b.except).map_err(|e| {
                                    format!(
                                        "NetworkPolicy '{}' CIDR error: {}",
                                        np.full_name(),
                                        e.0
                                    )
                                })?;
                            out.extend(block.split());
                        }
                    }
                }
            }
        }
        for a in engine
            .anps
            .iter()
            .chain(engine.baseline_cnps.iter())
            .chain(engine.banp.iter())
        {
            for rule in &a.egress {
                for p in &rule.peers {
                    for cidr in p.networks.iter().flatten() {
                        if crate::ipset::is_ipv6(cidr) {
                            continue;
                        }
                        let block = IpBlock::from_cidr(cidr).map_err(|e| e.0)?;
                        dst_blocks.extend(block.split());
                    }
                }
            }
        }
        let src_ips = disjoint_ip_blocks(&src_blocks, &[IpBlock::all()]);
        let dst_ips = disjoint_ip_blocks(&dst_blocks, &[IpBlock::all()]);
        // Equivalence classes of workloads.
        let mut class_of: HashMap<ClassKey, usize> = HashMap::new();
        let classes: Vec<usize> = workloads
            .iter()
            .map(|w| {
                let key = (
                    w.namespace.clone(),
                    w.labels
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    w.ports.clone(),
                    w.secondary
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    w.kind == "VirtualMachine",
                );
                let n = class_of.len();
                *class_of.entry(key).or_insert(n)
            })
            .collect();
        let mut selections = Vec::with_capacity(workloads.len());
        for w in &workloads {
            let ctx = PodCtx {
                namespace: &w.namespace,
                labels: &w.labels,
                ports: &w.ports,
                ns_labels: engine.namespaces.get(&w.namespace),
                rep: None,
                fake: false,
                selected_by: None,
            };
            selections.push((
                engine.netpols_selecting(&ctx, true)?,
                engine.netpols_selecting(&ctx, false)?,
            ));
        }
        let mut class_rep: Vec<usize> = Vec::new();
        for (w, &c) in classes.iter().enumerate() {
            if c == class_rep.len() {
                class_rep.push(w);
            }
        }
        Ok(Analyzer {
            class_rep,
            selections,
            engine,
            workloads,
            reps,
            src_ips,
            dst_ips,
            warnings: res.warnings.iter().cloned().chain(net_warnings).collect(),
            resources: res,
            classes,
            empty_labels: Labels::new(),
            nets,
            multi,
        })
    }

    pub(crate) fn workload_ctx(&self, i: usize) -> PodCtx<'_> {
        let w = &self.workloads[i];
        PodCtx {
            namespace: &w.namespace,
            labels: &w.labels,
            ports: &w.ports,
            ns_labels: self.engine.namespaces.get(&w.namespace),
            rep: None,
            fake: w.fake,
            selected_by: self
                .selections
                .get(i)
                .map(|(a, b)| (a.as_slice(), b.as_slice())),
        }
    }

    fn rep_ctx(&self, i: usize) -> PodCtx<'_> {
        let r = &self.reps[i];
        PodCtx {
            namespace: &r.namespace,
            labels: &self.empty_labels,
            ports: &[],
            ns_labels: if r.namespace.is_empty() {
                None
            } else {
                self.engine.namespaces.get(&r.namespace)
            },
            rep: Some(r),
            fake: true,
            selected_by: None,
        }
    }

    pub(crate) fn peer_ref(&self, id: PeerId) -> PeerRef<'_> {
        match id {
            PeerId::Ip(i, true) => PeerRef::Ip(&self.src_ips[i]),
            PeerId::Ip(i, false) => PeerRef::Ip(&self.dst_ips[i]),
            PeerId::Workload(i) => PeerRef::Pod(self.workload_ctx(i)),
            PeerId::Rep(i) => PeerRef::Pod(self.rep_ctx(i)),
        }
    }

    pub(crate) fn peer_info(&self, id: PeerId) -> PeerInfo {
        match id {
            PeerId::Ip(i, is_src) => {
                let b = if is_src {
                    &self.src_ips[i]
                } else {
                    &self.dst_ips[i]
                };
                PeerInfo {
                    display: format!("{}[External]", b.to_ip_ranges()),
                    name: String::new(),
                    namespace: String::new(),
                    kind: String::new(),
                    is_ip: true,
                    ip: Some(b.clone()),
                }
            }
            PeerId::Workload(i) => workload_info(&self.workloads[i]),
            PeerId::Rep(i) => PeerInfo {
                display: "{representative-pod}".to_string(),
                name: "representative-pod".to_string(),
                namespace: self.reps[i].namespace.clone(),
                kind: "RepresentativePeer".to_string(),
                is_ip: false,
                ip: None,
            },
        }
    }

    /// The connections allowed between two peers of the input (by name).
    pub fn allowed_between(&self, src: &PeerRef, dst: &PeerRef) -> R<ConnSet> {
        self.engine.allowed(src, dst)
    }
}

pub fn workload_info(w: &Workload) -> PeerInfo {
    PeerInfo {
        display: w.display(),
        name: w.name.clone(),
        namespace: w.namespace.clone(),
        kind: if w.fake {
            "Pod".to_string()
        } else {
            w.kind.clone()
        },
        is_ip: false,
        ip: None,
    }
}

pub(crate) fn is_focus(peer: &PeerInfo, list: &[String]) -> bool {
    if list.is_empty() {
        return true;
    }
    list.iter()
        .any(|f| *f == peer.name || *f == format!("{}/{}", peer.namespace, peer.name))
}

/// Parses `tcp-8080` into the focus connection.
pub fn parse_focus_conn(s: &str) -> R<ConnSet> {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() != 2 {
        return Err(format!(
            "wrong focus-conn format {s:?}: expected <protocol-port>, e.g. tcp-8080"
        ));
    }
    let proto = parts[0].to_ascii_uppercase();
    if !crate::conn::ALL_PROTOCOLS.contains(&proto.as_str()) {
        return Err(format!(
            "invalid protocol {:?} in focus-conn {s:?}: expected TCP, UDP or SCTP",
            parts[0]
        ));
    }
    let port: i64 = parts[1]
        .parse()
        .map_err(|_| format!("invalid port {:?} in focus-conn {s:?}", parts[1]))?;
    if !(crate::conn::MIN_PORT..=crate::conn::MAX_PORT).contains(&port) {
        return Err(format!("invalid port {:?} in focus-conn {s:?}", parts[1]));
    }
    Ok(ConnSet::from_proto(&proto, PortSet::range(port, port)))
}

struct ExposureState {
    ingress: BTreeMap<PeerId, XgressExposure>,
    egress: BTreeMap<PeerId, XgressExposure>,
    ingress_order: Vec<PeerId>,
    egress_order: Vec<PeerId>,
    /// Per workload, per direction: (protected, cluster-wide exposure).
    pod_exposure: HashMap<(usize, bool), (bool, ConnSet)>,
}

impl ExposureState {
    fn entry(&mut self, peer: PeerId, protected: bool, ingress: bool) -> &mut XgressExposure {
        let (map, order) = if ingress {
            (&mut self.ingress, &mut self.ingress_order)
        } else {
            (&mut self.egress, &mut self.egress_order)
        };
        map.entry(peer).or_insert_with(|| {
            order.push(peer);
            XgressExposure {
                protected,
                items: Vec::new(),
            }
        })
    }
}

impl Analyzer {
    fn exposure_of(&self, st: &mut ExposureState, w: usize, ingress: bool) -> R<(bool, ConnSet)> {
        if let Some(v) = st.pod_exposure.get(&(w, ingress)) {
            return Ok(v.clone());
        }
        let v = self.engine.pod_exposure(&self.workload_ctx(w), ingress)?;
        st.pod_exposure.insert((w, ingress), v.clone());
        Ok(v)
    }

    fn add_general_exposure(
        &self,
        st: &mut ExposureState,
        w: usize,
        ingress: bool,
        focus: Option<&ConnSet>,
    ) -> R<()> {
        let (protected, conn) = self.exposure_of(st, w, ingress)?;
        let id = PeerId::Workload(w);
        if !protected {
            st.entry(id, false, ingress);
            return Ok(());
        }
        if conn.is_empty() {
            return Ok(());
        }
        let conn = match focus {
            Some(f) if f.contained_in(&conn) => f.clone(),
            Some(_) => return Ok(()),
            None => conn,
        };
        st.entry(id, true, ingress).items.push(ExposureItem {
            entire_cluster: true,
            namespace_labels: LabelSelector::default(),
            pod_labels: LabelSelector::default(),
            conn,
        });
        Ok(())
    }

    fn add_rep_exposure(
        &self,
        st: &mut ExposureState,
        w: usize,
        rep: usize,
        allowed: &ConnSet,
        ingress: bool,
        focus: Option<&ConnSet>,
    ) -> R<()> {
        let (protected, general) = self.exposure_of(st, w, ingress)?;
        if !protected {
            return Ok(());
        }
        let (equals, exposed) = if general.is_empty() {
            (false, false)
        } else {
            let g = match focus {
                Some(f) if f.contained_in(&general) => f.clone(),
                _ => general,
            };
            (allowed.equal(&g), true)
        };
        if equals || (!exposed && allowed.is_empty()) {
            return Ok(());
        }
        let r = &self.reps[rep];
        st.entry(PeerId::Workload(w), true, ingress)
            .items
            .push(ExposureItem {
                entire_cluster: false,
                namespace_labels: r.ns_selector.clone(),
                pod_labels: r.pod_selector.clone().unwrap_or_default(),
                conn: allowed.clone(),
            });
        Ok(())
    }

    /// netpol-analyzer's connectivity list.
    pub fn list(&self, opts: &ListOptions) -> R<ConnList> {
        let mut out = ConnList {
            multiple_networks: self.multi,
            ..ConnList::default()
        };
        let mut exposure = opts.exposure;
        if exposure && self.multi {
            exposure = false;
            out.warnings.push(
                "exposure analysis is not supported with multiple networks: ignoring exposure"
                    .to_string(),
            );
        }
        if !opts.focus_workloads.is_empty() && !opts.focus_workload_peers.is_empty() && exposure {
            exposure = false;
            out.warnings.push(
                "exposure is ignored when focusworkload and focusworkload-peer are used together"
                    .to_string(),
            );
        }
        if let Some(d) = &opts.focus_direction {
            if d != "ingress" && d != "egress" {
                return Err(format!(
                    "focus-direction {d:?} is not supported: expected ingress or egress"
                ));
            }
        }
        let focus_conn = match &opts.focus_conn {
            Some(s) => Some(parse_focus_conn(s)?),
            None => None,
        };
        out.focus_conn = focus_conn.as_ref().map(ConnSet::to_string);
        let focus_dir = opts
            .focus_direction
            .as_deref()
            .filter(|_| !opts.focus_workloads.is_empty());
        if self.workloads.is_empty() {
            if exposure {
                out.exposure = Some(Vec::new());
            }
            return Ok(out);
        }
        let ingress_analysis = IngressAnalysis::new(self)?;
        let exclude_ingress = ingress_analysis.is_empty();
        if self.multi {
            (out.workload_networks, out.pod_network_workloads) = self.workload_networks();
        }

        // Peers shown in the dot graph.
        for w in &self.workloads {
            let info = workload_info(w);
            if is_focus(&info, &opts.focus_workloads)
                || (!opts.focus_workload_peers.is_empty() && self.is_focus_peer(&info, opts))
            {
                out.peers.push(info);
            }
        }
        // Focus workloads (and peers) must exist.
        for list in [&opts.focus_workloads, &opts.focus_workload_peers] {
            if list.is_empty()
                || (std::ptr::eq(list, &opts.focus_workload_peers)
                    && opts.focus_workloads.is_empty())
            {
                continue;
            }
            let mut missing = 0;
            for f in list.iter() {
                let exists = if f == INGRESS_CONTROLLER_NAME {
                    !exclude_ingress
                } else {
                    out.peers
                        .iter()
                        .any(|p| *f == p.name || *f == format!("{}/{}", p.namespace, p.name))
                };
                if !exists {
                    missing += 1;
                    out.warnings.push(format!(
                        "workload {f} does not exist in the input resources"
                    ));
                }
            }
            if missing == list.len() {
                out.warnings.push("connectivity map is empty".to_string());
                out.peers.clear();
                return Ok(out);
            }
        }

        let mut src_peers: Vec<PeerId> = (0..self.src_ips.len())
            .map(|i| PeerId::Ip(i, true))
            .collect();
        let mut dst_peers: Vec<PeerId> = (0..self.dst_ips.len())
            .map(|i| PeerId::Ip(i, false))
            .collect();
        src_peers.extend((0..self.workloads.len()).map(PeerId::Workload));
        dst_peers.extend((0..self.workloads.len()).map(PeerId::Workload));
        if exposure {
            src_peers.extend((0..self.reps.len()).map(PeerId::Rep));
            dst_peers.extend((0..self.reps.len()).map(PeerId::Rep));
        }
        let infos: HashMap<PeerId, PeerInfo> = src_peers
            .iter()
            .chain(dst_peers.iter())
            .map(|&p| (p, self.peer_info(p)))
            .collect();
        let src_infos: Vec<&PeerInfo> = src_peers.iter().map(|p| &infos[p]).collect();
        let dst_infos: Vec<&PeerInfo> = dst_peers.iter().map(|p| &infos[p]).collect();

        let mut st = ExposureState {
            ingress: BTreeMap::new(),
            egress: BTreeMap::new(),
            ingress_order: Vec::new(),
            egress_order: Vec::new(),
            pod_exposure: HashMap::new(),
        };
        let mut ingress_visited = vec![false; self.workloads.len()];
        let mut egress_visited = vec![false; self.workloads.len()];
        // Workload pairs in the same classes get the same connections.
        let mut class_cache: HashMap<(usize, usize), PairConns> = HashMap::new();
        // Without a focus every pair is needed: evaluate the distinct pairs of
        // classes (and IP blocks, representatives) once, in parallel.
        let matrix = if opts.focus_workloads.is_empty() {
            Some(self.matrix(&src_peers, &dst_peers)?)
        } else {
            None
        };

        for (sx, &src) in src_peers.iter().enumerate() {
            for (dx, &dst) in dst_peers.iter().enumerate() {
                let (si, di) = (src_infos[sx], dst_infos[dx]);
                if !self.include_pair(src, dst, si, di, exposure, focus_dir, opts) {
                    continue;
                }
                let from_matrix = matrix.as_ref().and_then(|m| m.get(sx, dx)).cloned();
                let pair = match (src, dst) {
                    _ if from_matrix.is_some() => from_matrix.unwrap_or_default(),
                    (PeerId::Workload(a), PeerId::Workload(b)) => {
                        let key = (self.classes[a], self.classes[b]);
                        match class_cache.get(&key) {
                            Some(c) => c.clone(),
                            None => {
                                let c = self.pair_conns(src, dst)?;
                                class_cache.insert(key, c.clone());
                                c
                            }
                        }
                    }
                    _ => self.pair_conns(src, dst)?,
                };
                if exposure {
                    if let PeerId::Workload(w) = src {
                        if !egress_visited[w]
                            && is_focus(si, &opts.focus_workloads)
                            && focus_dir != Some("ingress")
                        {
                            self.add_general_exposure(&mut st, w, false, focus_conn.as_ref())?;
                        }
                        egress_visited[w] = true;
                    }
                    if let PeerId::Workload(w) = dst {
                        if !ingress_visited[w]
                            && is_focus(di, &opts.focus_workloads)
                            && focus_dir != Some("egress")
                        {
                            self.add_general_exposure(&mut st, w, true, focus_conn.as_ref())?;
                        }
                        ingress_visited[w] = true;
                    }
                }
                let src_rep = matches!(src, PeerId::Rep(_));
                let dst_rep = matches!(dst, PeerId::Rep(_));
                // One connection per network the pair shares.
                for (net, allowed) in pair.entries() {
                    if allowed.is_empty() && !src_rep && !dst_rep {
                        continue;
                    }
                    if let Some(f) = &focus_conn {
                        if !f.contained_in(allowed) {
                            continue;
                        }
                    }
                    let conn = focus_conn.clone().unwrap_or_else(|| allowed.clone());
                    if exposure && (src_rep || dst_rep) {
                        match (src, dst) {
                            (PeerId::Rep(r), PeerId::Workload(w)) => self.add_rep_exposure(
                                &mut st,
                                w,
                                r,
                                &conn,
                                true,
                                focus_conn.as_ref(),
                            )?,
                            (PeerId::Workload(w), PeerId::Rep(r)) => self.add_rep_exposure(
                                &mut st,
                                w,
                                r,
                                &conn,
                                false,
                                focus_conn.as_ref(),
                            )?,
                            _ => {}
                        }
                        continue;
                    }
                    out.connections.push(Connection {
                        src: si.clone(),
                        dst: di.clone(),
                        conns: conn,
                        network: self.nets.list[net].clone(),
                    });
                }
            }
        }
        out.warnings.extend(self.engine.warnings());
        if exposure {
            let mut list = Vec::new();
            for id in &st.ingress_order {
                let ingress = st.ingress[id].clone();
                let egress = st.egress.get(id).cloned().unwrap_or_default();
                list.push(ExposedPeer {
                    peer: infos[id].clone(),
                    ingress,
                    egress,
                });
            }
            for id in &st.egress_order {
                if st.ingress.contains_key(id) {
                    continue;
                }
                list.push(ExposedPeer {
                    peer: infos[id].clone(),
                    ingress: XgressExposure::default(),
                    egress: st.egress[id].clone(),
                });
            }
            out.exposure = Some(list);
        }
        if exclude_ingress {
            return Ok(out);
        }
        let pair_count = out.connections.len();
        let (ic, ic_ns) = self.ingress_controller();
        let ic_info = workload_info(&ic);
        let ic_ctx = PodCtx {
            namespace: INGRESS_CONTROLLER_NS,
            labels: &ic.labels,
            ports: &[],
            ns_labels: Some(&ic_ns),
            rep: None,
            fake: true,
            selected_by: None,
        };
        for (w, ing_conn) in ingress_analysis.allowed()? {
            let winfo = workload_info(&self.workloads[w]);
            if !self.include_pair_infos(&ic_info, &winfo, focus_dir, opts) {
                continue;
            }
            let pe_conn = self
                .engine
                .allowed(&PeerRef::Pod(ic_ctx), &PeerRef::Pod(self.workload_ctx(w)))?;
            let mut conn = ing_conn.conn.clone();
            conn.intersect(&pe_conn);
            if conn.is_empty() {
                out.warnings.push(format!(
                    "ingress connection from {} to {} is blocked by the network policies",
                    ing_conn.first_object, winfo.display
                ));
                continue;
            }
            if let Some(f) = &focus_conn {
                if !f.contained_in(&conn) {
                    continue;
                }
                conn = f.clone();
            }
            // The ingress controller is outside: on the workload's primary network.
            let network =
                self.nets.list[self.nets.primary_of(&self.workloads[w].namespace)].clone();
            out.connections.push(Connection {
                src: ic_info.clone(),
                dst: winfo,
                conns: conn,
                network,
            });
        }
        if opts.focus_workloads.is_empty() && pair_count == 0 {
            out.warnings
                .push("connectivity map is empty: no allowed connections".to_string());
        }
        Ok(out)
    }

    fn key_of(&self, p: PeerId) -> PeerId {
        match p {
            PeerId::Workload(w) => PeerId::Workload(self.class_rep[self.classes[w]]),
            other => other,
        }
    }

    /// Connections between every pair of distinct keys (a workload class is
    /// keyed by its first workload), computed in parallel.
    fn matrix(&self, src_peers: &[PeerId], dst_peers: &[PeerId]) -> R<Matrix> {
        use rayon::prelude::*;
        let keys = |peers: &[PeerId]| -> (Vec<PeerId>, Vec<usize>) {
            let mut index: HashMap<PeerId, usize> = HashMap::new();
            let mut keys = Vec::new();
            let of_peer = peers
                .iter()
                .map(|&p| {
                    let k = self.key_of(p);
                    *index.entry(k).or_insert_with(|| {
                        keys.push(k);
                        keys.len() - 1
                    })
                })
                .collect();
            (keys, of_peer)
        };
        let ((srcs, src_of), (dsts, dst_of)) = (keys(src_peers), keys(dst_peers));
        // The evaluation contexts once per key (not per pair): building one
        // looks the namespace's labels up.
        let dst_refs: Vec<PeerRef> = dsts.iter().map(|&d| self.peer_ref(d)).collect();
        let rows: Vec<Vec<Option<PairConns>>> = srcs
            .par_iter()
            .map(|&s| {
                let src_ref = self.peer_ref(s);
                let mut row = Vec::with_capacity(dsts.len());
                for (&d, dst_ref) in dsts.iter().zip(&dst_refs) {
                    let skip = matches!(
                        (s, d),
                        (PeerId::Ip(..), PeerId::Ip(..)) | (PeerId::Rep(_), PeerId::Rep(_))
                    );
                    if skip {
                        row.push(None);
                        continue;
                    }
                    // Two workloads of one class are evaluated like any pair (a
                    // workload to itself is never listed).
                    let c = self.pair_all(s, d, &src_ref, dst_ref)?;
                    row.push(Some(c));
                }
                Ok(row)
            })
            .collect::<R<Vec<_>>>()?;
        Ok(Matrix {
            rows,
            src_of,
            dst_of,
        })
    }

    fn pair_conns(&self, src: PeerId, dst: PeerId) -> R<PairConns> {
        let s = self.peer_ref(src);
        let d = self.peer_ref(dst);
        if let (PeerId::Workload(a), PeerId::Workload(b)) = (src, dst) {
            if a == b {
                return Ok(PairConns {
                    conns: ConnSet::all(),
                    ..PairConns::default()
                });
            }
        }
        self.pair_all(src, dst, &s, &d)
    }

    fn is_focus_peer(&self, peer: &PeerInfo, opts: &ListOptions) -> bool {
        if opts.focus_workloads.is_empty() {
            return true;
        }
        is_focus(peer, &opts.focus_workload_peers)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn include_pair(
        &self,
        src: PeerId,
        dst: PeerId,
        si: &PeerInfo,
        di: &PeerInfo,
        exposure: bool,
        focus_dir: Option<&str>,
        opts: &ListOptions,
    ) -> bool {
        if si.is_ip && di.is_ip {
            return false;
        }
        if si.display == di.display && !si.is_ip {
            if let (PeerId::Workload(_), PeerId::Workload(_)) = (src, dst) {
                return false;
            }
            if let (PeerId::Rep(_), PeerId::Rep(_)) = (src, dst) {
                return false;
            }
        }
        let src_rep = matches!(src, PeerId::Rep(_));
        let dst_rep = matches!(dst, PeerId::Rep(_));
        if exposure && (src_rep || dst_rep) && (src_rep && dst_rep || si.is_ip || di.is_ip) {
            return false;
        }
        self.include_pair_infos(si, di, focus_dir, opts)
    }

    pub(crate) fn include_pair_infos(
        &self,
        si: &PeerInfo,
        di: &PeerInfo,
        focus_dir: Option<&str>,
        opts: &ListOptions,
    ) -> bool {
        if si.display == di.display && !si.is_ip {
            return false;
        }
        let fw = &opts.focus_workloads;
        if focus_dir == Some("ingress") && !is_focus(di, fw) {
            return false;
        }
        if focus_dir == Some("egress") && !is_focus(si, fw) {
            return false;
        }
        (is_focus(si, fw) && self.is_focus_peer(di, opts))
            || (is_focus(di, fw) && self.is_focus_peer(si, opts))
    }
}

/// Connections that Ingress and Route objects open from the ingress
/// controller to the workloads behind their services.
pub(crate) struct IngressAnalysis<'a> {
    pub(crate) analyzer: &'a Analyzer,
    /// (namespace, name) → selected workloads and ports.
    pub(crate) services: BTreeMap<(String, String), (Vec<usize>, Vec<crate::model::ServicePort>)>,
}

struct IngressConn {
    conn: ConnSet,
    first_object: String,
}

impl<'a> IngressAnalysis<'a> {
    pub(crate) fn new(analyzer: &'a Analyzer) -> R<Self> {
        let mut services = BTreeMap::new();
        for svc in &analyzer.resources.services {
            let Some(sel) = &svc.selector else {
                continue;
            };
            let selector = LabelSelector {
                match_labels: sel.clone(),
                match_expressions: Vec::new(),
            };
            let mut peers = Vec::new();
            for (i, w) in analyzer.workloads.iter().enumerate() {
                if w.namespace == svc.namespace && selector.matches(&w.labels)? {
                    peers.push(i);
                }
            }
            if peers.is_empty() {
                continue;
            }
            services.insert(
                (svc.namespace.clone(), svc.name.clone()),
                (peers, svc.ports.clone()),
            );
        }
        Ok(IngressAnalysis { analyzer, services })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.services.is_empty()
            || self
                .analyzer
                .resources
                .ingresses
                .iter()
                .all(|i| i.services.is_empty())
    }

    /// Per workload, the TCP connections the ingress objects route to it.
    fn allowed(&self) -> R<Vec<(usize, IngressConn)>> {
        let mut result: BTreeMap<usize, IngressConn> = BTreeMap::new();
        for kind in [IngressKind::Ingress, IngressKind::Route] {
            // Later objects of the same namespace/name replace earlier ones.
            let mut objects: BTreeMap<(String, String), &crate::model::IngressLike> =
                BTreeMap::new();
            for obj in self
                .analyzer
                .resources
                .ingresses
                .iter()
                .filter(|o| o.kind == kind)
            {
                if obj.services.is_empty() {
                    continue;
                }
                objects.insert((obj.namespace.clone(), obj.name.clone()), obj);
            }
            for ((ns, name), obj) in objects {
                if !self.services.keys().any(|(sns, _)| *sns == ns) {
                    continue;
                }
                let obj_str = format!("{} '{}/{}'", kind.as_str(), ns, name);
                let mut per_peer: BTreeMap<usize, ConnSet> = BTreeMap::new();
                for svc in &obj.services {
                    let Some((peers, ports)) = self.services.get(&(ns.clone(), svc.name.clone()))
                    else {
                        continue;
                    };
                    for &w in peers {
                        let c = self.peer_conn(w, ports, &svc.port);
                        per_peer.entry(w).or_default().union(&c);
                    }
                }
                for (w, c) in per_peer {
                    match result.get_mut(&w) {
                        Some(existing) => existing.conn.union(&c),
                        None => {
                            result.insert(
                                w,
                                IngressConn {
                                    conn: c,
                                    first_object: obj_str.clone(),
                                },
                            );
                        }
                    }
                }
            }
        }
        Ok(result.into_iter().collect())
    }

    fn peer_conn(
        &self,
        w: usize,
        svc_ports: &[crate::model::ServicePort],
        required: &IntOrStr,
    ) -> ConnSet {
        let mut res = ConnSet::none();
        for port in self.peer_ports(w, svc_ports, required) {
            res.add(crate::conn::TCP, PortSet::range(port, port));
        }
        res
    }

    /// The TCP ports of workload `w` that a service port request reaches, in
    /// the service's order.
    pub(crate) fn peer_ports(
        &self,
        w: usize,
        svc_ports: &[crate::model::ServicePort],
        required: &IntOrStr,
    ) -> Vec<i64> {
        let workload = &self.analyzer.workloads[w];
        // netpol-analyzer counts every container port as a TCP port here.
        let mut tcp = ConnSet::none();
        if workload.kind == "VirtualMachine" {
            // A VirtualMachine declares no ports: all TCP ports count.
            tcp.add(crate::conn::TCP, PortSet::all());
        }
        for p in &workload.ports {
            tcp.add(crate::conn::TCP, PortSet::range(p.port, p.port));
        }
        let mut res = Vec::new();
        for to_find in access_ports(svc_ports, required) {
            let mut port = to_find.int_value();
            if !to_find.str_val.is_empty() {
                match workload.ports.iter().find(|p| p.name == to_find.str_val) {
                    Some(p) if p.protocol.is_empty() || p.protocol == "TCP" => port = p.port,
                    _ => continue,
                }
            }
            if tcp.contains(crate::conn::TCP, port) {
                res.push(port);
            }
        }
        res
    }
}

/// The pod ports a service port request reaches.
pub(crate) fn access_ports(
    svc_ports: &[crate::model::ServicePort],
    required: &IntOrStr,
) -> Vec<IntOrStr> {
    let required_empty = required.int_val == 0 && required.str_val.is_empty();
    let mut res = Vec::new();
    for sp in svc_ports {
        let access = if sp.target_port.int_val != 0 || !sp.target_port.str_val.is_empty() {
            sp.target_port.clone()
        } else {
            IntOrStr::int(sp.port)
        };
        if required_empty {
            res.push(access);
        } else if (!sp.name.is_empty() && sp.name == required.str_val)
            || sp.port == required.int_val
            || sp.target_port == *required
        {
            res.push(access);
            return res;
        }
    }
    res
}
