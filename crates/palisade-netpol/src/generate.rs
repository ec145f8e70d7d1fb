//! Least-permissive NetworkPolicies from a desired connectivity list.
//!
//! The desired list is netpol-analyzer's connectivity list (its txt or json
//! output, or the current list of the input: "lock down to what is
//! allowed now"). For every group of workloads that NetworkPolicies can tell
//! apart (same namespace, same labels), one policy isolates both directions
//! and allows exactly the listed connections: ingress from each listed
//! source, egress to each listed destination, on the listed ports. Since a
//! connection needs both the source's egress and the destination's ingress,
//! the generated policies together allow exactly the list.
//!
//! [`verify`] checks the round trip: the input's workloads with the
//! generated policies (and no other policies) list exactly the desired
//! connections. IP blocks are compared as address sets: the list splits
//! addresses into the blocks the policies mention, so a desired block may be
//! listed as several (the connectivity of every address is what must match).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::conn::{ConnSet, PortSet, ALL_CONNS_STR, MAX_PORT, MIN_PORT, NO_CONNS_STR};
use crate::connlist::{
    workload_info, Analyzer, ConnList, Connection, PeerInfo, Workload, INGRESS_CONTROLLER_NAME,
    INGRESS_CONTROLLER_NS,
};
use crate::eval::R;
use crate::ipset::{ipv4_string, parse_ipv4, IntervalSet, IpBlock};
use crate::model::NS_NAME_LABEL;
use crate::selector::Labels;

/// Policy kinds replaced by the generated NetworkPolicies (dropped from the
/// input when verifying).
pub const POLICY_KINDS: &[&str] = &[
    "NetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterNetworkPolicy",
];

/// Options of `generate`.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// The namespace of the ingress controller (`{ingress-controller}` sources).
    pub ingress_controller_namespace: String,
    /// Prefix of the generated policies' names.
    pub name_prefix: String,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            ingress_controller_namespace: INGRESS_CONTROLLER_NS.to_string(),
            name_prefix: "palisade-".to_string(),
        }
    }
}

/// A pod selector: labels, plus keys that must be absent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GenSelector {
    pub match_labels: BTreeMap<String, String>,
    pub absent_keys: BTreeSet<String>,
}

impl GenSelector {
    fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.absent_keys.iter().all(|k| !labels.contains_key(k))
    }
}

/// A peer of a generated rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum GenPeer {
    /// Pods of a namespace matching a selector (`namespace` is `None` for the
    /// policy's own namespace).
    Pods {
        namespace: Option<String>,
        selector: GenSelector,
    },
    /// Every pod of a namespace (the ingress controller's).
    Namespace(String),
    /// An address range as a CIDR with exceptions.
    IpBlock { cidr: String, except: Vec<String> },
}

/// A generated ingress or egress rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenRule {
    pub peers: Vec<GenPeer>,
    pub conns: ConnSet,
}

/// A generated NetworkPolicy.
#[derive(Debug, Clone)]
pub struct GenPolicy {
    pub name: String,
    pub namespace: String,
    pub selector: GenSelector,
    /// The workloads it selects (display names).
    pub workloads: Vec<String>,
    pub ingress: Vec<GenRule>,
    pub egress: Vec<GenRule>,
}

/// The generated policies.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub policies: Vec<GenPolicy>,
    pub warnings: Vec<String>,
}

// ---- reading a desired list ---------------------------------------------

/// Parses a connection string of the list (`All Connections`,
/// `TCP 80,8080,UDP 53`, `TCP 1-79,81-65535`).
pub fn parse_conn(s: &str) -> R<ConnSet> {
    let s = s.trim();
    if s == ALL_CONNS_STR {
        return Ok(ConnSet::all());
    }
    if s == NO_CONNS_STR || s.is_empty() {
        return Ok(ConnSet::none());
    }
    let mut res = ConnSet::none();
    let mut proto: Option<String> = None;
    for token in s.split(',') {
        let token = token.trim();
        let ports = match token.split_once(' ') {
            Some((p, rest)) => {
                let p = p.to_ascii_uppercase();
                if !crate::conn::ALL_PROTOCOLS.contains(&p.as_str()) {
                    return Err(format!("unknown protocol {p:?} in {s:?}"));
                }
                proto = Some(p);
                rest.trim()
            }
            None => token,
        };
        let Some(p) = &proto else {
            return Err(format!("ports without a protocol in {s:?}"));
        };
        let (a, b) = ports.split_once('-').unwrap_or((ports, ports));
        let (a, b): (i64, i64) = match (a.trim().parse(), b.trim().parse()) {
            (Ok(a), Ok(b)) => (a, b),
            _ => return Err(format!("invalid port {ports:?} in {s:?}")),
        };
        if a < MIN_PORT || b > MAX_PORT || b < a {
            return Err(format!("invalid port range {ports:?} in {s:?}"));
        }
        res.add(p, PortSet::range(a, b));
    }
    Ok(res)
}

/// Parses a peer of the list: `ns/name[Kind]`, `{ingress-controller}`, or
/// addresses (`a.b.c.d-e.f.g.h[External]`, comma-separated ranges, or CIDRs).
pub fn parse_peer(s: &str) -> R<PeerInfo> {
    let s = s.trim();
    if s == format!("{{{INGRESS_CONTROLLER_NAME}}}") {
        return Ok(PeerInfo {
            display: s.to_string(),
            name: INGRESS_CONTROLLER_NAME.to_string(),
            namespace: INGRESS_CONTROLLER_NS.to_string(),
            kind: "Pod".to_string(),
            is_ip: false,
            ip: None,
        });
    }
    let body = s.strip_suffix("[External]");
    let looks_ip = body.is_some() || s.chars().next().is_some_and(|c| c.is_ascii_digit());
    if looks_ip {
        let body = body.unwrap_or(s);
        let mut set = IntervalSet::new();
        for part in body.split(',') {
            let part = part.trim();
            let block = if part.contains('/') {
                IpBlock::from_cidr(part).map_err(|e| e.0)?
            } else {
                let (a, b) = part.split_once('-').unwrap_or((part, part));
                match (parse_ipv4(a.trim()), parse_ipv4(b.trim())) {
                    (Some(a), Some(b)) if a <= b => IpBlock {
                        set: IntervalSet::range(a, b),
                    },
                    _ => return Err(format!("invalid address range {part:?} in {s:?}")),
                }
            };
            set = set.union(&block.set);
        }
        let ip = IpBlock { set };
        return Ok(PeerInfo {
            display: format!("{}[External]", ip.to_ip_ranges()),
            name: String::new(),
            namespace: String::new(),
            kind: String::new(),
            is_ip: true,
            ip: Some(ip),
        });
    }
    let (ns, rest) = s
        .split_once('/')
        .ok_or_else(|| format!("invalid peer {s:?}: expected namespace/name[Kind]"))?;
    let (name, kind) = rest
        .strip_suffix(']')
        .and_then(|r| r.split_once('['))
        .ok_or_else(|| format!("invalid peer {s:?}: expected namespace/name[Kind]"))?;
    Ok(PeerInfo {
        display: s.to_string(),
        name: name.to_string(),
        namespace: ns.to_string(),
        kind: kind.to_string(),
        is_ip: false,
        ip: None,
    })
}

/// Reads a desired list: netpol-analyzer's txt (`src => dst : conn` lines;
/// other lines such as section headers are skipped) or json (an array of
/// `{src, dst, conn}`, or its `connlist_results`).
pub fn parse_desired(text: &str) -> R<Vec<Connection>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("invalid JSON connectivity list: {e}"))?;
        let items = match &v {
            serde_json::Value::Array(a) => a.clone(),
            serde_json::Value::Object(o) => o
                .get("connlist_results")
                .and_then(|x| x.as_array())
                .cloned()
                .ok_or("JSON connectivity list: expected an array or connlist_results")?,
            _ => return Err("JSON connectivity list: expected an array".to_string()),
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let field = |k: &str| {
                item.get(k)
                    .and_then(|x| x.as_str())
                    .ok_or_else(|| format!("item {i}: missing string field {k:?}"))
            };
            out.push(Connection {
                src: parse_peer(field("src")?)?,
                dst: parse_peer(field("dst")?)?,
                conns: parse_conn(field("conn")?)?,
                network: Default::default(),
            });
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some((pair, conn)) = line.split_once(" : ") else {
            if line.contains(" => ") && !line.contains('\t') {
                return Err(format!(
                    "line {}: {line:?} has no connection (a --focus-conn list cannot be used)",
                    n + 1
                ));
            }
            continue;
        };
        let Some((src, dst)) = pair.split_once(" => ") else {
            continue;
        };
        if src.contains('\t') || dst.contains('\t') {
            continue; // exposure section
        }
        out.push(Connection {
            src: parse_peer(src).map_err(|e| format!("line {}: {e}", n + 1))?,
            dst: parse_peer(dst).map_err(|e| format!("line {}: {e}", n + 1))?,
            conns: parse_conn(conn).map_err(|e| format!("line {}: {e}", n + 1))?,
            network: Default::default(),
        });
    }
    Ok(out)
}

// ---- generating -----------------------------------------------------------

/// The smallest CIDR covering `[a, b]`, with the CIDRs to except.
fn cidr_except(a: i64, b: i64) -> (String, Vec<String>) {
    let mut prefix = 32u32;
    while prefix > 0 {
        let size = 1i64 << (32 - prefix);
        let base = a & !(size - 1);
        if base + size > b {
            break;
        }
        prefix -= 1;
    }
    let size = 1i64 << (32 - prefix);
    let base = if prefix == 0 { 0 } else { a & !(size - 1) };
    let top = base + size - 1;
    let mut except = Vec::new();
    if base < a {
        except.extend(range_cidrs(base, a - 1));
    }
    if b < top {
        except.extend(range_cidrs(b + 1, top));
    }
    (format!("{}/{prefix}", ipv4_string(base)), except)
}

/// The CIDRs exactly covering `[a, b]`.
fn range_cidrs(mut a: i64, b: i64) -> Vec<String> {
    let mut out = Vec::new();
    while a <= b {
        let mut prefix = 32u32;
        while prefix > 0 {
            let size = 1i64 << (32 - prefix + 1);
            if a % size != 0 || a + size - 1 > b {
                break;
            }
            prefix -= 1;
        }
        out.push(format!("{}/{prefix}", ipv4_string(a)));
        a += 1i64 << (32 - prefix);
    }
    out
}

/// Workloads NetworkPolicies cannot tell apart: same namespace and labels.
struct Group {
    namespace: String,
    labels: Labels,
    members: Vec<usize>,
    selector: GenSelector,
}

fn conn_key(c: &ConnSet) -> String {
    c.to_string()
}

/// Generates the policies for `desired` over the workloads of `analyzer`.
pub fn generate(
    analyzer: &Analyzer,
    desired: &[Connection],
    opts: &GenerateOptions,
) -> R<Generated> {
    let mut out = Generated::default();
    let workloads: &[Workload] = &analyzer.workloads;
    // Groups.
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: Vec<usize> = Vec::with_capacity(workloads.len());
    for (i, w) in workloads.iter().enumerate() {
        match groups
            .iter()
            .position(|g| g.namespace == w.namespace && g.labels == w.labels)
        {
            Some(g) => {
                groups[g].members.push(i);
                group_of.push(g);
            }
            None => {
                group_of.push(groups.len());
                groups.push(Group {
                    namespace: w.namespace.clone(),
                    labels: w.labels.clone(),
                    members: vec![i],
                    selector: GenSelector {
                        match_labels: w
                            .labels
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                        absent_keys: BTreeSet::new(),
                    },
                });
            }
        }
    }
    // Selectors that select their group only, within the namespace; labels
    // that controllers change on every rollout are left out when the group
    // stays distinguishable without them.
    for gi in 0..groups.len() {
        let stable = GenSelector {
            match_labels: groups[gi]
                .selector
                .match_labels
                .iter()
                .filter(|(k, _)| !VOLATILE_LABELS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            absent_keys: BTreeSet::new(),
        };
        let full = groups[gi].selector.clone();
        let mut chosen = None;
        for base in [stable, full] {
            if base.match_labels.is_empty() && !groups[gi].labels.is_empty() {
                continue;
            }
            let sel = exclusive_selector(&groups, gi, base);
            let unique = groups.iter().enumerate().all(|(gj, other)| {
                gj == gi || other.namespace != groups[gi].namespace || !sel.matches(&other.labels)
            });
            if unique {
                chosen = Some(sel);
                break;
            }
        }
        if let Some(sel) = chosen {
            groups[gi].selector = sel;
        } else {
            let sel = exclusive_selector(&groups, gi, groups[gi].selector.clone());
            groups[gi].selector = sel;
        }
    }
    for g in &groups {
        if g.members.len() > 1 {
            let names: Vec<String> = g.members.iter().map(|&i| workloads[i].display()).collect();
            out.warnings.push(format!(
                "{} carry the same labels: one policy selects them all, so they must have the same connections",
                names.join(", ")
            ));
        }
    }
    let by_display: BTreeMap<String, usize> = workloads
        .iter()
        .enumerate()
        .map(|(i, w)| (w.display(), i))
        .collect();
    let ic_display = format!("{{{INGRESS_CONTROLLER_NAME}}}");
    // Per group and direction: peer → connections.
    #[derive(Default)]
    struct Dir {
        ingress: BTreeMap<GenPeerKey, ConnSet>,
        egress: BTreeMap<GenPeerKey, ConnSet>,
        // Per member: the same maps, to check the members agree.
        per_member: BTreeMap<usize, (PeerConnKeys, PeerConnKeys)>,
    }
    let mut dirs: Vec<Dir> = (0..groups.len()).map(|_| Dir::default()).collect();
    let workload_peer = |i: usize| -> R<GenPeerKey> { Ok(GenPeerKey::Group(group_of[i])) };
    let lookup = |p: &PeerInfo| -> R<Option<usize>> {
        if p.is_ip || p.display == ic_display {
            return Ok(None);
        }
        by_display
            .get(&p.display)
            .copied()
            .map(Some)
            .ok_or_else(|| format!("workload {} is not in the input", p.display))
    };
    for c in desired {
        if c.conns.is_empty() {
            continue;
        }
        if c.src.is_ip && c.dst.is_ip {
            return Err(format!(
                "{} => {}: connections between IP blocks are not subject to policies",
                c.src.display, c.dst.display
            ));
        }
        if c.dst.display == ic_display {
            return Err(format!(
                "{} => {}: the ingress controller is not a destination",
                c.src.display, c.dst.display
            ));
        }
        let src_w = lookup(&c.src)?;
        let dst_w = lookup(&c.dst)?;
        let src_key = match (src_w, &c.src.ip) {
            (Some(i), _) => workload_peer(i)?,
            (None, Some(ip)) => GenPeerKey::Ip(ip.clone()),
            (None, None) => GenPeerKey::IngressController,
        };
        let dst_key = match (dst_w, &c.dst.ip) {
            (Some(i), _) => workload_peer(i)?,
            (None, Some(ip)) => GenPeerKey::Ip(ip.clone()),
            (None, None) => GenPeerKey::IngressController,
        };
        if let Some(d) = dst_w {
            let dir = &mut dirs[group_of[d]];
            dir.ingress
                .entry(src_key.clone())
                .or_default()
                .union(&c.conns);
            dir.per_member
                .entry(d)
                .or_default()
                .0
                .insert(src_key.clone(), conn_key(&c.conns));
        }
        if let Some(s) = src_w {
            let dir = &mut dirs[group_of[s]];
            dir.egress
                .entry(dst_key.clone())
                .or_default()
                .union(&c.conns);
            dir.per_member
                .entry(s)
                .or_default()
                .1
                .insert(dst_key, conn_key(&c.conns));
        }
    }
    // Members of a group must agree (one policy selects them all). Their own
    // group is excluded: a workload has no connection to itself in a list.
    for (gi, g) in groups.iter().enumerate() {
        if g.members.len() < 2 {
            continue;
        }
        let dir = &dirs[gi];
        let empty = (BTreeMap::new(), BTreeMap::new());
        let view = |m: usize| {
            let (i, e) = dir.per_member.get(&m).unwrap_or(&empty);
            let strip = |x: &BTreeMap<GenPeerKey, String>| -> BTreeMap<GenPeerKey, String> {
                x.iter()
                    .filter(|(k, _)| **k != GenPeerKey::Group(gi))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            };
            (strip(i), strip(e))
        };
        let first = view(g.members[0]);
        for &m in &g.members[1..] {
            if view(m) != first {
                return Err(format!(
                    "{} and {} carry the same labels in the same namespace, so NetworkPolicies cannot give them different connections; add a distinguishing label",
                    workloads[g.members[0]].display(),
                    workloads[m].display()
                ));
            }
        }
    }
    // Policies.
    let mut names: BTreeSet<(String, String)> = BTreeSet::new();
    for (gi, g) in groups.iter().enumerate() {
        let first = &workloads[g.members[0]];
        let mut name = format!("{}{}", opts.name_prefix, first.name.to_ascii_lowercase());
        name.truncate(253);
        let mut n = 2;
        while !names.insert((g.namespace.clone(), name.clone())) {
            name = format!(
                "{}{}-{n}",
                opts.name_prefix,
                first.name.to_ascii_lowercase()
            );
            n += 1;
        }
        let to_peer = |k: &GenPeerKey| -> GenPeer {
            match k {
                GenPeerKey::Group(o) => GenPeer::Pods {
                    namespace: (groups[*o].namespace != g.namespace)
                        .then(|| groups[*o].namespace.clone()),
                    selector: groups[*o].selector.clone(),
                },
                GenPeerKey::IngressController => {
                    GenPeer::Namespace(opts.ingress_controller_namespace.clone())
                }
                GenPeerKey::Ip(ip) => {
                    let (s, e) = ip.set.ranges().first().copied().unwrap_or((0, 0));
                    let (cidr, except) = cidr_except(s, e);
                    GenPeer::IpBlock { cidr, except }
                }
            }
        };
        let rules = |m: &BTreeMap<GenPeerKey, ConnSet>| -> Vec<GenRule> {
            // Peers with the same connections share a rule.
            let mut by_conn: BTreeMap<String, (ConnSet, Vec<GenPeer>)> = BTreeMap::new();
            for (k, c) in m {
                // A multi-range IP block becomes one peer per range.
                let keys: Vec<GenPeerKey> = match k {
                    GenPeerKey::Ip(ip) => ip.split().into_iter().map(GenPeerKey::Ip).collect(),
                    other => vec![other.clone()],
                };
                let e = by_conn
                    .entry(conn_key(c))
                    .or_insert_with(|| (c.clone(), Vec::new()));
                for k in keys {
                    e.1.push(to_peer(&k));
                }
            }
            by_conn
                .into_values()
                .map(|(conns, mut peers)| {
                    peers.sort();
                    peers.dedup();
                    GenRule { peers, conns }
                })
                .collect()
        };
        out.policies.push(GenPolicy {
            name,
            namespace: g.namespace.clone(),
            selector: g.selector.clone(),
            workloads: g.members.iter().map(|&i| workloads[i].display()).collect(),
            ingress: rules(&dirs[gi].ingress),
            egress: rules(&dirs[gi].egress),
        });
    }
    Ok(out)
}

/// Labels set by controllers per revision or per pod.
const VOLATILE_LABELS: &[&str] = &[
    "pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "controller-uid",
    "batch.kubernetes.io/controller-uid",
];

/// `base` plus absent keys excluding the other groups of the namespace whose
/// labels include it.
fn exclusive_selector(groups: &[Group], gi: usize, base: GenSelector) -> GenSelector {
    let mut sel = base;
    for (gj, other) in groups.iter().enumerate() {
        if gj == gi || other.namespace != groups[gi].namespace || !sel.matches(&other.labels) {
            continue;
        }
        if let Some(k) = other
            .labels
            .keys()
            .find(|k| !groups[gi].labels.contains_key(*k))
        {
            sel.absent_keys.insert(k.clone());
        }
    }
    sel
}

/// Per peer, the connections as text (to compare group members).
type PeerConnKeys = BTreeMap<GenPeerKey, String>;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum GenPeerKey {
    Group(usize),
    IngressController,
    Ip(IpBlock),
}

// ---- YAML -----------------------------------------------------------------

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

fn selector_yaml(sel: &GenSelector) -> String {
    let mut parts = Vec::new();
    if !sel.match_labels.is_empty() {
        let labels: Vec<String> = sel
            .match_labels
            .iter()
            .map(|(k, v)| format!("{}: {}", q(k), q(v)))
            .collect();
        parts.push(format!("matchLabels: {{{}}}", labels.join(", ")));
    }
    if !sel.absent_keys.is_empty() {
        let exprs: Vec<String> = sel
            .absent_keys
            .iter()
            .map(|k| format!("{{key: {}, operator: DoesNotExist}}", q(k)))
            .collect();
        parts.push(format!("matchExpressions: [{}]", exprs.join(", ")));
    }
    format!("{{{}}}", parts.join(", "))
}

fn peer_yaml(p: &GenPeer) -> String {
    match p {
        GenPeer::Pods {
            namespace: None,
            selector,
        } => format!("podSelector: {}", selector_yaml(selector)),
        GenPeer::Pods {
            namespace: Some(ns),
            selector,
        } => format!(
            "namespaceSelector: {{matchLabels: {{{}: {}}}}}\n      podSelector: {}",
            q(NS_NAME_LABEL),
            q(ns),
            selector_yaml(selector)
        ),
        GenPeer::Namespace(ns) => format!(
            "namespaceSelector: {{matchLabels: {{{}: {}}}}}",
            q(NS_NAME_LABEL),
            q(ns)
        ),
        GenPeer::IpBlock { cidr, except } if except.is_empty() => {
            format!("ipBlock: {{cidr: {}}}", q(cidr))
        }
        GenPeer::IpBlock { cidr, except } => format!(
            "ipBlock: {{cidr: {}, except: [{}]}}",
            q(cidr),
            except.iter().map(|e| q(e)).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn ports_yaml(c: &ConnSet) -> Vec<String> {
    if c.all {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (proto, ports) in &c.protos {
        let ranges = ports.ports.ranges();
        if ranges == [(MIN_PORT, MAX_PORT)] {
            out.push(format!("{{protocol: {proto}}}"));
            continue;
        }
        for &(s, e) in ranges {
            if s == e {
                out.push(format!("{{protocol: {proto}, port: {s}}}"));
            } else {
                out.push(format!("{{protocol: {proto}, port: {s}, endPort: {e}}}"));
            }
        }
    }
    out
}

fn rules_yaml(out: &mut String, key: &str, peers_key: &str, rules: &[GenRule]) {
    if rules.is_empty() {
        let _ = writeln!(out, "  {key}: []");
        return;
    }
    let _ = writeln!(out, "  {key}:");
    for r in rules {
        let _ = writeln!(out, "  - {peers_key}:");
        for p in &r.peers {
            let _ = writeln!(out, "    - {}", peer_yaml(p));
        }
        let ports = ports_yaml(&r.conns);
        if !ports.is_empty() {
            let _ = writeln!(out, "    ports:");
            for p in ports {
                let _ = writeln!(out, "    - {p}");
            }
        }
    }
}

/// The policies as a multi-document YAML stream.
pub fn to_yaml(g: &Generated) -> String {
    let mut out = String::new();
    for p in &g.policies {
        let _ = writeln!(out, "---");
        let _ = writeln!(out, "# selects {}", p.workloads.join(", "));
        let _ = writeln!(out, "apiVersion: networking.k8s.io/v1");
        let _ = writeln!(out, "kind: NetworkPolicy");
        let _ = writeln!(out, "metadata:");
        let _ = writeln!(out, "  name: {}", q(&p.name));
        let _ = writeln!(out, "  namespace: {}", q(&p.namespace));
        let _ = writeln!(out, "spec:");
        let _ = writeln!(out, "  podSelector: {}", selector_yaml(&p.selector));
        let _ = writeln!(out, "  policyTypes: [Ingress, Egress]");
        rules_yaml(&mut out, "ingress", "from", &p.ingress);
        rules_yaml(&mut out, "egress", "to", &p.egress);
    }
    out
}

// ---- verifying ---------------------------------------------------------------

/// Per peer pair, the connections; IP blocks per workload and direction.
struct Expanded {
    pairs: BTreeMap<(String, String), ConnSet>,
    /// (workload, the IP is the source) → blocks and connections.
    ips: BTreeMap<(String, bool), Vec<(IntervalSet, ConnSet)>>,
}

fn expand(conns: &[Connection]) -> Expanded {
    let mut e = Expanded {
        pairs: BTreeMap::new(),
        ips: BTreeMap::new(),
    };
    for c in conns {
        if c.conns.is_empty() {
            continue;
        }
        match (&c.src.ip, &c.dst.ip) {
            (Some(ip), _) if c.src.is_ip => e
                .ips
                .entry((c.dst.display.clone(), true))
                .or_default()
                .push((ip.set.clone(), c.conns.clone())),
            (_, Some(ip)) if c.dst.is_ip => e
                .ips
                .entry((c.src.display.clone(), false))
                .or_default()
                .push((ip.set.clone(), c.conns.clone())),
            _ => {
                e.pairs
                    .entry((c.src.display.clone(), c.dst.display.clone()))
                    .or_default()
                    .union(&c.conns);
            }
        }
    }
    e
}

fn conn_at(blocks: &[(IntervalSet, ConnSet)], addr: i64) -> ConnSet {
    let mut c = ConnSet::none();
    for (set, conns) in blocks {
        if set.contains(addr) {
            c.union(conns);
        }
    }
    c
}

/// The differences between a desired list and an actual one (empty when
/// they allow the same connections; IP blocks compared address by address).
pub fn compare(desired: &[Connection], actual: &[Connection]) -> Vec<String> {
    let (d, a) = (expand(desired), expand(actual));
    let mut diffs = Vec::new();
    let keys: BTreeSet<&(String, String)> = d.pairs.keys().chain(a.pairs.keys()).collect();
    let none = ConnSet::none();
    for k in keys {
        let (dc, ac) = (
            d.pairs.get(k).unwrap_or(&none),
            a.pairs.get(k).unwrap_or(&none),
        );
        if !dc.equal(ac) {
            diffs.push(format!("{} => {}: desired {dc}, listed {ac}", k.0, k.1));
        }
    }
    let keys: BTreeSet<&(String, bool)> = d.ips.keys().chain(a.ips.keys()).collect();
    let empty = Vec::new();
    for k in keys {
        let (db, ab) = (
            d.ips.get(k).unwrap_or(&empty),
            a.ips.get(k).unwrap_or(&empty),
        );
        let mut bounds: BTreeSet<i64> = [0, 1i64 << 32].into();
        for (set, _) in db.iter().chain(ab.iter()) {
            for &(s, e) in set.ranges() {
                bounds.insert(s);
                bounds.insert(e + 1);
            }
        }
        let bounds: Vec<i64> = bounds.into_iter().collect();
        for w in bounds.windows(2) {
            let (dc, ac) = (conn_at(db, w[0]), conn_at(ab, w[0]));
            if !dc.equal(&ac) {
                let range = format!("{}-{}", ipv4_string(w[0]), ipv4_string(w[1] - 1));
                let (src, dst) = if k.1 {
                    (range, k.0.clone())
                } else {
                    (k.0.clone(), range)
                };
                diffs.push(format!("{src} => {dst}: desired {dc}, listed {ac}"));
            }
        }
    }
    diffs
}

/// The list of `objects` without their policies, plus `generated`.
pub fn list_with_generated(
    objects: &[palisade_model::Object],
    generated: &Generated,
) -> R<ConnList> {
    let yaml = to_yaml(generated);
    let loaded = palisade_model::load_text("generated.yaml", yaml, &Default::default());
    if let Some(e) = loaded.errors.first() {
        return Err(format!("generated policies do not parse: {e:?}"));
    }
    let mut all: Vec<palisade_model::Object> = objects
        .iter()
        .filter(|o| !POLICY_KINDS.contains(&o.kind()))
        .cloned()
        .collect();
    all.extend(loaded.objects);
    let res = crate::read_resources(&all);
    if let Some(w) = res.warnings.iter().find(|w| w.contains("generated.yaml")) {
        return Err(format!("generated policy unreadable: {w}"));
    }
    Analyzer::new(res, false)?.list(&Default::default())
}

/// Checks the round trip: the listed connections with the generated
/// policies, compared with the desired ones.
pub fn verify(
    objects: &[palisade_model::Object],
    desired: &[Connection],
    generated: &Generated,
) -> R<Vec<String>> {
    let list = list_with_generated(objects, generated)?;
    Ok(compare(desired, &list.connections))
}

/// The workload peers of an analyzer (for callers building desired lists).
pub fn workload_peers(analyzer: &Analyzer) -> Vec<PeerInfo> {
    analyzer.workloads.iter().map(workload_info).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_cover_ranges_exactly() {
        let n = |s: &str| parse_ipv4(s).unwrap_or(-1);
        assert_eq!(
            range_cidrs(n("10.0.0.0"), n("10.255.255.255")),
            vec!["10.0.0.0/8"]
        );
        assert_eq!(
            range_cidrs(n("0.0.0.0"), n("9.255.255.255")),
            vec!["0.0.0.0/5", "8.0.0.0/7"]
        );
        let (cidr, except) = cidr_except(n("0.0.0.0"), n("9.255.255.255"));
        assert_eq!(cidr, "0.0.0.0/4");
        assert_eq!(except, vec!["10.0.0.0/7", "12.0.0.0/6"]);
        let (cidr, except) = cidr_except(0, (1i64 << 32) - 1);
        assert_eq!((cidr.as_str(), except.len()), ("0.0.0.0/0", 0));
        let block = IpBlock::from_cidr_except(
            &cidr_except(n("1.2.3.5"), n("1.2.3.9")).0,
            &cidr_except(n("1.2.3.5"), n("1.2.3.9")).1,
        )
        .expect("block");
        assert_eq!(block.to_ip_ranges(), "1.2.3.5-1.2.3.9");
    }

    #[test]
    fn parses_list_lines() {
        let d = parse_desired(
            "0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255[External] => a/x[Pod] : TCP 1-79,81-65535,UDP 53\nb/y[Deployment] => a/x[Pod] : All Connections\n",
        )
        .expect("parse");
        assert_eq!(d.len(), 2);
        assert!(d[0].src.is_ip);
        assert_eq!(d[0].conns.to_string(), "TCP 1-79,81-65535,UDP 53");
        assert_eq!(d[1].src.namespace, "b");
        assert_eq!(d[1].src.kind, "Deployment");
        assert!(d[1].conns.is_all());
        assert!(parse_desired("a/x[Pod] => b/y[Pod]\n").is_err());
        assert!(parse_conn("TCP 0").is_err());
        assert!(parse_conn("ICMP 1").is_err());
    }
}
