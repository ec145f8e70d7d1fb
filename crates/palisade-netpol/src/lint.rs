//! Policy mistakes a reviewer misses, as findings.

use std::collections::{BTreeSet, HashMap};

use palisade_model::{Finding, Node, Object, ObjectId, RuleMeta, Span};

use crate::conn::{ConnSet, PortSet, UDP};
use crate::connlist::Analyzer;
use crate::eval::{Engine, PeerRef, PodCtx};
use crate::ipset::{is_ipv6, IpBlock};
use crate::model::{NetworkPolicy, NpPeer, NpPort, NpRule};
use crate::rules;
use crate::selector::{LabelSelector, Labels};

/// Path steps to a node, for positions.
pub enum Seg<'a> {
    Key(&'a str),
    Idx(usize),
}

/// The node at `path` under `root`, or the deepest node found on the way.
pub fn node_at<'a>(root: &'a Node, path: &[Seg]) -> &'a Node {
    let mut node = root;
    for s in path {
        let next = match s {
            Seg::Key(k) => node.get(k),
            Seg::Idx(i) => node.as_seq().and_then(|items| items.get(*i)),
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node
}

/// Finds objects by identity.
pub struct ObjectIndex<'a> {
    by_id: HashMap<&'a ObjectId, &'a Object>,
}

impl<'a> ObjectIndex<'a> {
    pub fn new(objects: &'a [Object]) -> Self {
        ObjectIndex {
            by_id: objects.iter().map(|o| (&o.id, o)).collect(),
        }
    }

    pub fn get(&self, id: &ObjectId) -> Option<&'a Object> {
        self.by_id.get(id).copied()
    }
}

fn finding(
    rule: &RuleMeta,
    object: &Object,
    path: &[Seg],
    field: String,
    message: String,
    fix: &str,
) -> Finding {
    let span: Span = node_at(&object.root, path).span;
    Finding::new(rule, object, span, Some(field), message, fix.to_string())
}

fn dir_key(ingress: bool) -> (&'static str, &'static str) {
    if ingress {
        ("ingress", "from")
    } else {
        ("egress", "to")
    }
}

fn only_ns(p: &NpPeer) -> bool {
    p.namespace_selector.is_some() && p.pod_selector.is_none() && p.ip_block.is_none()
}

fn only_pod(p: &NpPeer) -> bool {
    p.pod_selector.is_some() && p.namespace_selector.is_none() && p.ip_block.is_none()
}

fn uses_name_label(sel: &LabelSelector) -> Option<String> {
    if let Some(v) = sel.match_labels.get("name") {
        return Some(v.clone());
    }
    sel.match_expressions
        .iter()
        .find(|e| e.key == "name")
        .map(|e| e.values.join(","))
}

/// Whether `rule` (its ports, toward a pod that defines nothing) could allow UDP or TCP 53.
fn rule_allows_dns(engine: &Engine, np: &NetworkPolicy, rule: &NpRule) -> bool {
    if rule.ports.is_empty() {
        return true;
    }
    let Ok(conns) = engine.np_rule_conns(np, &rule.ports, None) else {
        return false;
    };
    let udp = ConnSet::from_proto(UDP, PortSet::range(53, 53));
    let tcp = ConnSet::from_proto(crate::conn::TCP, PortSet::range(53, 53));
    udp.contained_in(&conns)
        || tcp.contained_in(&conns)
        || conns.protos.values().any(|p| p.named.contains("dns"))
}

fn port_covered(a: &[NpPort], b: &[NpPort]) -> bool {
    if b.is_empty() {
        return true;
    }
    if a.is_empty() {
        return false;
    }
    a.iter().all(|pa| {
        b.iter()
            .any(|pb| pa == pb || (pb.port.is_none() && pb.protocol == pa.protocol))
    })
}

fn peers_covered(a: &[NpPeer], b: &[NpPeer]) -> bool {
    if b.is_empty() {
        return true;
    }
    if a.is_empty() {
        return false;
    }
    a.iter().all(|pa| b.contains(pa))
}

/// Options of the lint: the cluster's address ranges.
#[derive(Debug, Clone)]
pub struct LintOptions {
    /// The pod CIDRs (as given, and parsed).
    pub pod_cidrs: Vec<(String, IpBlock)>,
    /// The Service (ClusterIP) CIDRs.
    pub service_cidrs: Vec<(String, IpBlock)>,
}

/// kubeadm's default pod network (as flannel's manifests use it).
pub const DEFAULT_POD_CIDR: &str = "10.244.0.0/16";
/// kubeadm's default Service CIDR.
pub const DEFAULT_SERVICE_CIDR: &str = "10.96.0.0/12";

fn parse_cidrs(list: &[String], what: &str) -> Result<Vec<(String, IpBlock)>, String> {
    let mut out = Vec::new();
    for c in list {
        let c = c.trim();
        if is_ipv6(c) {
            continue;
        }
        let block =
            IpBlock::from_cidr(c).map_err(|e| format!("invalid {what} CIDR {c:?}: {}", e.0))?;
        out.push((c.to_string(), block));
    }
    Ok(out)
}

impl LintOptions {
    /// Parses the pod and Service CIDRs (IPv6 ones are accepted and ignored).
    pub fn new(pod_cidrs: &[String], service_cidrs: &[String]) -> Result<LintOptions, String> {
        Ok(LintOptions {
            pod_cidrs: parse_cidrs(pod_cidrs, "pod")?,
            service_cidrs: parse_cidrs(service_cidrs, "Service")?,
        })
    }
}

impl Default for LintOptions {
    fn default() -> Self {
        let block = |c: &str| IpBlock::from_cidr(c).unwrap_or_else(|_| IpBlock::empty());
        LintOptions {
            pod_cidrs: vec![(DEFAULT_POD_CIDR.to_string(), block(DEFAULT_POD_CIDR))],
            service_cidrs: vec![(
                DEFAULT_SERVICE_CIDR.to_string(),
                block(DEFAULT_SERVICE_CIDR),
            )],
        }
    }
}

fn proto_of(p: &str) -> String {
    if p.is_empty() {
        "TCP".to_string()
    } else {
        p.to_ascii_uppercase()
    }
}

#[allow(clippy::too_many_arguments)]
fn ipblock_finding(
    opts: &LintOptions,
    object: &Object,
    np: &NetworkPolicy,
    ingress: bool,
    ri: usize,
    pi: usize,
    peer: &NpPeer,
) -> Option<Finding> {
    let ipb = peer.ip_block.as_ref()?;
    let cidr = ipb.cidr.trim();
    if is_ipv6(cidr) || cidr.ends_with("/0") {
        return None;
    }
    let block = IpBlock::from_cidr_except(cidr, &ipb.except).ok()?;
    let hits: Vec<String> = opts
        .pod_cidrs
        .iter()
        .map(|c| ("pod", c))
        .chain(opts.service_cidrs.iter().map(|c| ("Service", c)))
        .filter(|(_, (_, range))| block.set.overlaps(&range.set))
        .map(|(what, (text, _))| format!("the {what} CIDR {text}"))
        .collect();
    if hits.is_empty() {
        return None;
    }
    let (key, peers_key) = dir_key(ingress);
    Some(finding(
        &rules::IPBLOCK_CLUSTER_CIDR,
        object,
        &[
            Seg::Key("spec"),
            Seg::Key(key),
            Seg::Idx(ri),
            Seg::Key(peers_key),
            Seg::Idx(pi),
            Seg::Key("ipBlock"),
        ],
        format!("spec.{key}[{ri}].{peers_key}[{pi}].ipBlock"),
        format!(
            "ipBlock {cidr} of {key} rule #{} of NetworkPolicy {} overlaps {}: pod and ClusterIP addresses are not reliably matched by ipBlock",
            ri + 1,
            np.full_name(),
            hits.join(" and ")
        ),
        "Select pods with podSelector/namespaceSelector, and except the cluster ranges from the ipBlock.",
    ))
}

/// The Services selecting any of `dests`.
fn services_of<'a>(analyzer: &'a Analyzer, dests: &[usize]) -> Vec<&'a crate::model::Service> {
    analyzer
        .resources
        .services
        .iter()
        .filter(|s| {
            s.selector.as_ref().is_some_and(|sel| {
                !sel.is_empty()
                    && dests.iter().any(|&i| {
                        analyzer.workloads.get(i).is_some_and(|w| {
                            w.namespace == s.namespace
                                && sel.iter().all(|(k, v)| w.labels.get(k) == Some(v))
                        })
                    })
            })
        })
        .collect()
}

/// The container port numbers a Service port's targetPort resolves to on `dests`.
fn target_ports(analyzer: &Analyzer, sp: &crate::model::ServicePort, dests: &[usize]) -> Vec<i64> {
    let t = &sp.target_port;
    if t.is_str && !t.str_val.is_empty() {
        dests
            .iter()
            .filter_map(|&i| analyzer.workloads.get(i))
            .flat_map(|w| w.ports.iter())
            .filter(|cp| cp.name == t.str_val)
            .map(|cp| cp.port)
            .collect()
    } else if t.int_val != 0 {
        vec![t.int_val]
    } else {
        vec![sp.port]
    }
}

/// Protocol and Service-port mistakes of a rule's ports toward `dests`.
#[allow(clippy::too_many_arguments)]
fn port_findings(
    out: &mut Vec<Finding>,
    analyzer: &Analyzer,
    object: &Object,
    np: &NetworkPolicy,
    ingress: bool,
    ri: usize,
    rule: &NpRule,
    dests: &[usize],
) {
    let (key, _) = dir_key(ingress);
    let services = services_of(analyzer, dests);
    let dest_ports: Vec<&crate::model::ContainerPort> = dests
        .iter()
        .filter_map(|&i| analyzer.workloads.get(i))
        .flat_map(|w| w.ports.iter())
        .collect();
    for (k, port) in rule.ports.iter().enumerate() {
        let Some(p) = &port.port else {
            continue;
        };
        if p.is_str {
            continue;
        }
        let (lo, hi) = (p.int_val, port.end_port.unwrap_or(p.int_val).max(p.int_val));
        let path = [
            Seg::Key("spec"),
            Seg::Key(key),
            Seg::Idx(ri),
            Seg::Key("ports"),
            Seg::Idx(k),
        ];
        let proto_given = port.protocol.as_deref().is_some_and(|x| !x.is_empty());
        let rule_proto = proto_of(port.protocol.as_deref().unwrap_or(""));
        if !proto_given {
            let mut tcp = false;
            let mut other: BTreeSet<String> = BTreeSet::new();
            let mut note = |proto: String, n: i64| {
                if (lo..=hi).contains(&n) {
                    if proto == "TCP" {
                        tcp = true;
                    } else {
                        other.insert(proto);
                    }
                }
            };
            for cp in &dest_ports {
                note(proto_of(&cp.protocol), cp.port);
            }
            for s in &services {
                for sp in &s.ports {
                    for t in target_ports(analyzer, sp, dests) {
                        note(proto_of(&sp.protocol), t);
                    }
                }
            }
            if !tcp && !other.is_empty() {
                let other: Vec<String> = other.into_iter().collect();
                out.push(finding(
                    &rules::PORT_PROTOCOL_MISMATCH,
                    object,
                    &path,
                    format!("spec.{key}[{ri}].ports[{k}]"),
                    format!(
                        "port {} of {key} rule #{} of NetworkPolicy {} has no protocol, so it allows TCP only, but its destinations serve it over {}",
                        if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") },
                        ri + 1,
                        np.full_name(),
                        other.join(" and ")
                    ),
                    "Set the port's protocol (list it once per protocol the service uses).",
                ));
            }
        }
        if port.end_port.is_some() {
            continue;
        }
        let listens = dest_ports
            .iter()
            .any(|cp| cp.port == lo && proto_of(&cp.protocol) == rule_proto);
        if listens {
            continue;
        }
        let confused = services.iter().find_map(|s| {
            s.ports.iter().find_map(|sp| {
                if sp.port != lo || proto_of(&sp.protocol) != rule_proto {
                    return None;
                }
                let targets = target_ports(analyzer, sp, dests);
                let differs = !targets.is_empty() && targets.iter().all(|t| *t != lo);
                differs.then_some((s, targets))
            })
        });
        if let Some((svc, targets)) = confused {
            let mut t: Vec<String> = targets.iter().map(|x| x.to_string()).collect();
            t.sort();
            t.dedup();
            out.push(finding(
                &rules::SERVICE_PORT_NOT_TARGET,
                object,
                &path,
                format!("spec.{key}[{ri}].ports[{k}]"),
                format!(
                    "{key} rule #{} of NetworkPolicy {} allows {rule_proto} {lo}, the port of Service {}/{}, but the pods listen on its targetPort {}: policies match the pod port, so the Service's traffic is not allowed",
                    ri + 1,
                    np.full_name(),
                    svc.namespace,
                    svc.name,
                    t.join(",")
                ),
                "Allow the Service's targetPort (the container port) instead.",
            ));
        }
    }
}

/// Lints the policies of `objects` (analysed by `analyzer`) with the default
/// cluster CIDRs.
pub fn lint(objects: &[Object], analyzer: &Analyzer) -> Vec<Finding> {
    lint_with(objects, analyzer, &LintOptions::default())
}

/// Lints the policies of `objects` (analysed by `analyzer`).
pub fn lint_with(objects: &[Object], analyzer: &Analyzer, opts: &LintOptions) -> Vec<Finding> {
    let index = ObjectIndex::new(objects);
    let engine = &analyzer.engine;
    let mut out = Vec::new();
    let ns_with_workloads: BTreeSet<&str> = analyzer
        .workloads
        .iter()
        .map(|w| w.namespace.as_str())
        .collect();
    let declared_namespaces: Vec<&crate::model::Namespace> =
        analyzer.resources.namespaces.iter().collect();
    let empty = Labels::new();
    for np in &engine.netpols {
        let Some(object) = index.get(&np.id) else {
            continue;
        };
        // Rules ignored by policyTypes.
        for ingress in [true, false] {
            let (key, _) = dir_key(ingress);
            let rules = if ingress { &np.ingress } else { &np.egress };
            if !rules.is_empty() && !np.affects(ingress) {
                out.push(finding(
                    &rules::DEAD_DIRECTION,
                    object,
                    &[Seg::Key("spec"), Seg::Key(key)],
                    format!("spec.{key}"),
                    format!(
                        "NetworkPolicy {} has {} {key} rule(s) but policyTypes does not include {}: they have no effect",
                        np.full_name(),
                        rules.len(),
                        if ingress { "Ingress" } else { "Egress" }
                    ),
                    "Add the direction to spec.policyTypes, or remove the rules.",
                ));
            }
        }
        if !np.policy_types_given {
            out.push(finding(
                &rules::MISSING_POLICY_TYPES,
                object,
                &[Seg::Key("spec")],
                "spec.policyTypes".to_string(),
                format!(
                    "NetworkPolicy {} does not set policyTypes: it isolates {}",
                    np.full_name(),
                    if np.egress.is_empty() {
                        "ingress only (egress stays open)"
                    } else {
                        "ingress and egress (because it has egress rules)"
                    }
                ),
                "Set spec.policyTypes explicitly (Ingress, Egress or both).",
            ));
        }
        // The selected workloads.
        let selected: Vec<usize> = analyzer
            .workloads
            .iter()
            .enumerate()
            .filter(|(_, w)| {
                w.namespace == np.namespace && np.pod_selector.matches(&w.labels).unwrap_or(false)
            })
            .map(|(i, _)| i)
            .collect();
        if selected.is_empty() && ns_with_workloads.contains(np.namespace.as_str()) {
            out.push(finding(
                &rules::POLICY_SELECTS_NOTHING,
                object,
                &[Seg::Key("spec"), Seg::Key("podSelector")],
                "spec.podSelector".to_string(),
                format!(
                    "NetworkPolicy {} selects no workload of namespace {} in the input",
                    np.full_name(),
                    np.namespace
                ),
                "Fix the podSelector labels, or delete the policy.",
            ));
        }
        for ingress in [true, false] {
            if !np.affects(ingress) {
                continue;
            }
            let (key, peers_key) = dir_key(ingress);
            let rules = if ingress { &np.ingress } else { &np.egress };
            for (ri, rule) in rules.iter().enumerate() {
                let rule_path = format!("spec.{key}[{ri}]");
                // OR of a namespace-only and a pod-only peer.
                if let (Some(ni), Some(pi)) = (
                    rule.peers.iter().position(only_ns),
                    rule.peers.iter().position(only_pod),
                ) {
                    out.push(finding(
                        &rules::SEPARATE_NS_POD_PEERS,
                        object,
                        &[Seg::Key("spec"), Seg::Key(key), Seg::Idx(ri), Seg::Key(peers_key), Seg::Idx(ni.max(pi))],
                        format!("{rule_path}.{peers_key}"),
                        format!(
                            "{key} rule #{} of NetworkPolicy {} lists a namespaceSelector ({peers_key}[{ni}]) and a podSelector ({peers_key}[{pi}]) as separate peers: it allows every pod of those namespaces OR those pods in namespace {}, not those pods in those namespaces",
                            ri + 1,
                            np.full_name(),
                            np.namespace
                        ),
                        "Put namespaceSelector and podSelector in the same peer (one list item) if both must match.",
                    ));
                }
                if !ingress && rule.peers.is_empty() && !rule.ports.is_empty() {
                    let ports = engine
                        .np_rule_conns(np, &rule.ports, None)
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default();
                    out.push(finding(
                        &rules::EGRESS_TO_ANYWHERE,
                        object,
                        &[Seg::Key("spec"), Seg::Key(key), Seg::Idx(ri)],
                        rule_path.clone(),
                        format!(
                            "egress rule #{} of NetworkPolicy {} has no `to`: its ports{ports} are allowed to every pod of every namespace and every IP address, not only external ones",
                            ri + 1,
                            np.full_name()
                        ),
                        "List the destinations; for the internet use an ipBlock 0.0.0.0/0 excepting the private ranges.",
                    ));
                }
                for (pi, peer) in rule.peers.iter().enumerate() {
                    let peer_path = [
                        Seg::Key("spec"),
                        Seg::Key(key),
                        Seg::Idx(ri),
                        Seg::Key(peers_key),
                        Seg::Idx(pi),
                    ];
                    if let Some(ns_sel) = &peer.namespace_selector {
                        if let Some(value) = uses_name_label(ns_sel) {
                            let carried = declared_namespaces.iter().any(|n| {
                                ns_sel.matches(&n.labels).unwrap_or(false)
                                    && n.labels.contains_key("name")
                            });
                            if !carried {
                                out.push(finding(
                                    &rules::NAMESPACE_NAME_LABEL,
                                    object,
                                    &[Seg::Key("spec"), Seg::Key(key), Seg::Idx(ri), Seg::Key(peers_key), Seg::Idx(pi), Seg::Key("namespaceSelector")],
                                    format!("{rule_path}.{peers_key}[{pi}].namespaceSelector"),
                                    format!(
                                        "{key} rule #{} of NetworkPolicy {} selects namespaces by label name={value}, which Kubernetes does not set (no Namespace of the input carries it)",
                                        ri + 1,
                                        np.full_name()
                                    ),
                                    "Select by kubernetes.io/metadata.name, which every namespace carries.",
                                ));
                            }
                        }
                    }
                    if let Some(f) = ipblock_finding(opts, object, np, ingress, ri, pi, peer) {
                        out.push(f);
                    }
                    // A peer matching no workload of the input.
                    if peer.ip_block.is_none() && !analyzer.workloads.is_empty() {
                        let any = analyzer.workloads.iter().any(|w| {
                            let pod = PodCtx {
                                namespace: &w.namespace,
                                labels: &w.labels,
                                ports: &w.ports,
                                ns_labels: Some(
                                    engine.namespaces.get(&w.namespace).unwrap_or(&empty),
                                ),
                                rep: None,
                                fake: false,
                                selected_by: None,
                            };
                            Engine::np_rule_selects_peer(
                                np,
                                std::slice::from_ref(peer),
                                &PeerRef::Pod(pod),
                            )
                            .unwrap_or(true)
                        });
                        if !any {
                            out.push(finding(
                                &rules::PEER_SELECTS_NOTHING,
                                object,
                                &peer_path,
                                format!("{rule_path}.{peers_key}[{pi}]"),
                                format!(
                                    "{peers_key}[{pi}] of {key} rule #{} of NetworkPolicy {} matches no workload of the input",
                                    ri + 1,
                                    np.full_name()
                                ),
                                "Check the selector labels against the workloads and namespaces.",
                            ));
                        }
                    }
                }
                // Named ports no destination defines.
                let dests: Vec<usize> = if ingress {
                    selected.clone()
                } else {
                    analyzer
                        .workloads
                        .iter()
                        .enumerate()
                        .filter(|(_, w)| {
                            let pod = PodCtx {
                                namespace: &w.namespace,
                                labels: &w.labels,
                                ports: &w.ports,
                                ns_labels: Some(
                                    engine.namespaces.get(&w.namespace).unwrap_or(&empty),
                                ),
                                rep: None,
                                fake: false,
                                selected_by: None,
                            };
                            Engine::np_rule_selects_peer(np, &rule.peers, &PeerRef::Pod(pod))
                                .unwrap_or(false)
                        })
                        .map(|(i, _)| i)
                        .collect()
                };
                if !dests.is_empty() {
                    for (k, port) in rule.ports.iter().enumerate() {
                        let Some(p) = &port.port else {
                            continue;
                        };
                        if !p.is_str {
                            continue;
                        }
                        let proto = port
                            .protocol
                            .clone()
                            .filter(|x| !x.is_empty())
                            .unwrap_or_else(|| "TCP".to_string());
                        let defined = dests.iter().any(|&i| {
                            analyzer.workloads[i].ports.iter().any(|cp| {
                                cp.name == p.str_val
                                    && (cp.protocol.is_empty() && proto == "TCP"
                                        || cp.protocol == proto)
                            })
                        });
                        if !defined {
                            out.push(finding(
                                &rules::NAMED_PORT_UNMATCHED,
                                object,
                                &[Seg::Key("spec"), Seg::Key(key), Seg::Idx(ri), Seg::Key("ports"), Seg::Idx(k), Seg::Key("port")],
                                format!("{rule_path}.ports[{k}].port"),
                                format!(
                                    "named port {}/{proto} of {key} rule #{} of NetworkPolicy {} is not defined by any of its {} destination workload(s)",
                                    p.str_val,
                                    ri + 1,
                                    np.full_name(),
                                    dests.len()
                                ),
                                "Name the container port, or use the port number.",
                            ));
                        }
                    }
                    port_findings(&mut out, analyzer, object, np, ingress, ri, rule, &dests);
                }
                // Shadowed by another rule of the same policy and direction.
                if let Some(other) = rules.iter().enumerate().find(|(oi, o)| {
                    *oi != ri
                        && peers_covered(&rule.peers, &o.peers)
                        && port_covered(&rule.ports, &o.ports)
                        && (!(peers_covered(&o.peers, &rule.peers)
                            && port_covered(&o.ports, &rule.ports))
                            || *oi < ri)
                }) {
                    out.push(finding(
                        &rules::SHADOWED_RULE,
                        object,
                        &[Seg::Key("spec"), Seg::Key(key), Seg::Idx(ri)],
                        rule_path.clone(),
                        format!(
                            "{key} rule #{} of NetworkPolicy {} allows nothing that rule #{} does not already allow",
                            ri + 1,
                            np.full_name(),
                            other.0 + 1
                        ),
                        "Remove the redundant rule, or narrow the broader one.",
                    ));
                }
            }
        }
        // DNS blocked by egress isolation.
        if np.affects(false) && !np.egress.is_empty() {
            let dns_here = np.egress.iter().any(|r| rule_allows_dns(engine, np, r));
            let dns_elsewhere = engine.netpols.iter().any(|o| {
                o.namespace == np.namespace
                    && o.pod_selector.is_empty()
                    && o.affects(false)
                    && o.egress.iter().any(|r| rule_allows_dns(engine, o, r))
            });
            if !dns_here && !dns_elsewhere {
                out.push(finding(
                    &rules::EGRESS_BLOCKS_DNS,
                    object,
                    &[Seg::Key("spec"), Seg::Key("egress")],
                    "spec.egress".to_string(),
                    format!(
                        "NetworkPolicy {} isolates egress but no egress rule allows DNS (port 53): the selected pods cannot resolve names",
                        np.full_name()
                    ),
                    "Allow UDP and TCP 53 to the cluster DNS (kube-system pods with k8s-app: kube-dns).",
                ));
            }
        }
    }
    out
}
