//! Why a connection is allowed or denied: per direction, the policies that
//! select the pod end, each rule, and which one decides.

use serde::Serialize;

use crate::conn::{ConnSet, PortSet};
use crate::connlist::{Analyzer, INGRESS_CONTROLLER_NAME};
use crate::eval::{Engine, PeerRef, PodCtx, PolicyConns, R};
use crate::ipset::{parse_ipv4, IpBlock};
use crate::model::AdminPolicy;

/// A port to ask about: number and protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortQuery {
    pub port: i64,
    pub protocol: String,
}

impl PortQuery {
    /// `8080`, `8080/tcp`, `53/UDP`.
    pub fn parse(s: &str) -> Result<PortQuery, String> {
        let (num, proto) = s.split_once('/').unwrap_or((s, "TCP"));
        let port: i64 = num
            .trim()
            .parse()
            .map_err(|_| format!("invalid port {num:?} in {s:?}"))?;
        if !(1..=65535).contains(&port) {
            return Err(format!("port {port} is outside 1-65535"));
        }
        let protocol = proto.trim().to_ascii_uppercase();
        if !crate::conn::ALL_PROTOCOLS.contains(&protocol.as_str()) {
            return Err(format!(
                "unknown protocol {proto:?}: expected TCP, UDP or SCTP"
            ));
        }
        Ok(PortQuery { port, protocol })
    }

    fn conn(&self) -> ConnSet {
        ConnSet::from_proto(&self.protocol, PortSet::range(self.port, self.port))
    }
}

/// One rule of a policy, as evaluated for this connection.
#[derive(Debug, Clone, Serialize)]
pub struct RuleTrace {
    /// `ingress rule #1`, or an admin rule's name.
    pub rule: String,
    /// Allow, Deny or Pass (NetworkPolicy rules allow).
    pub action: String,
    pub line: u32,
    /// Whether the rule's peers include the other end.
    pub peer_matches: bool,
    /// What the rule's ports cover toward the destination (when the peer matches).
    pub ports: String,
    /// For a port query: whether this rule covers the port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covers_port: Option<bool>,
}

/// A policy that selects the pod end of a direction.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyTrace {
    pub kind: String,
    /// `namespace/name` for a NetworkPolicy, the name otherwise.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    pub file: String,
    pub line: u32,
    pub rules: Vec<RuleTrace>,
}

/// One direction (the source's egress or the destination's ingress).
#[derive(Debug, Clone, Serialize)]
pub struct DirectionTrace {
    pub direction: String,
    /// What this direction allows.
    pub allowed: String,
    /// The layer that decides (for the queried port, or overall).
    pub decided_by: String,
    pub policies: Vec<PolicyTrace>,
}

/// The explanation of one source/destination pair.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub src: String,
    pub dst: String,
    pub allowed: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<PortQuery>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_allowed: Option<bool>,
    pub egress: DirectionTrace,
    pub ingress: DirectionTrace,
}

/// A peer named on the command line.
enum Named {
    Workload(usize),
    Ip(IpBlock),
    IngressController,
}

fn resolve(analyzer: &Analyzer, name: &str) -> Result<Named, String> {
    if name == INGRESS_CONTROLLER_NAME {
        return Ok(Named::IngressController);
    }
    if name.contains('/')
        && name
            .split('/')
            .next()
            .is_some_and(|p| parse_ipv4(p).is_some())
    {
        return IpBlock::from_cidr(name).map(Named::Ip).map_err(|e| e.0);
    }
    if parse_ipv4(name).is_some() {
        return IpBlock::from_ip(name).map(Named::Ip).map_err(|e| e.0);
    }
    let matches: Vec<usize> = analyzer
        .workloads
        .iter()
        .enumerate()
        .filter(|(_, w)| {
            w.display() == name || format!("{}/{}", w.namespace, w.name) == name || w.name == name
        })
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [one] => Ok(Named::Workload(*one)),
        [] => Err(format!(
            "no workload {name:?} in the input (use NAME, NAMESPACE/NAME, NAMESPACE/NAME[Kind], an IP address or a CIDR)"
        )),
        many => Err(format!(
            "{name:?} is ambiguous: {}",
            many.iter()
                .map(|i| analyzer.workloads[*i].display())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

struct Ctx<'a> {
    analyzer: &'a Analyzer,
    ic_labels: crate::selector::Labels,
    ic_ns: crate::selector::Labels,
}

impl<'a> Ctx<'a> {
    fn peer(&'a self, n: &'a Named) -> PeerRef<'a> {
        match n {
            Named::Ip(b) => PeerRef::Ip(b),
            Named::Workload(i) => {
                let w = &self.analyzer.workloads[*i];
                PeerRef::Pod(PodCtx {
                    namespace: &w.namespace,
                    labels: &w.labels,
                    ports: &w.ports,
                    ns_labels: self.analyzer.engine.namespaces.get(&w.namespace),
                    rep: None,
                    fake: false,
                    selected_by: None,
                })
            }
            Named::IngressController => PeerRef::Pod(PodCtx {
                namespace: crate::connlist::INGRESS_CONTROLLER_NS,
                labels: &self.ic_labels,
                ports: &[],
                ns_labels: Some(&self.ic_ns),
                rep: None,
                fake: true,
                selected_by: None,
            }),
        }
    }
}

fn display(analyzer: &Analyzer, n: &Named) -> String {
    match n {
        Named::Ip(b) => format!("{}[External]", b.to_ip_ranges()),
        Named::Workload(i) => analyzer.workloads[*i].display(),
        Named::IngressController => format!("{{{INGRESS_CONTROLLER_NAME}}}"),
    }
}

/// Explains `src` → `dst` (optionally for one port).
pub fn explain(
    analyzer: &Analyzer,
    src: &str,
    dst: &str,
    port: Option<&PortQuery>,
) -> R<Explanation> {
    let s = resolve(analyzer, src)?;
    let d = resolve(analyzer, dst)?;
    if matches!((&s, &d), (Named::Ip(_), Named::Ip(_))) {
        return Err("at least one end must be a workload".to_string());
    }
    let ctx = Ctx {
        analyzer,
        ic_labels: Default::default(),
        ic_ns: [(
            crate::model::NS_NAME_LABEL.to_string(),
            crate::connlist::INGRESS_CONTROLLER_NS.to_string(),
        )]
        .into(),
    };
    let (sp, dp) = (ctx.peer(&s), ctx.peer(&d));
    let engine = &analyzer.engine;
    let egress_allowed = engine.allowed_xgress(&sp, &dp, false)?;
    let ingress_allowed = engine.allowed_xgress(&sp, &dp, true)?;
    let mut allowed = egress_allowed.clone();
    allowed.intersect(&ingress_allowed);
    let egress = trace_direction(analyzer, &sp, &dp, false, &egress_allowed, port)?;
    let ingress = trace_direction(analyzer, &sp, &dp, true, &ingress_allowed, port)?;
    Ok(Explanation {
        src: display(analyzer, &s),
        dst: display(analyzer, &d),
        allowed: allowed.to_string(),
        port: port.cloned(),
        port_allowed: port.map(|p| p.conn().contained_in(&allowed)),
        egress,
        ingress,
    })
}

fn admin_trace(
    engine: &Engine,
    p: &AdminPolicy,
    src: &PeerRef,
    dst: &PeerRef,
    ingress: bool,
    port: Option<&PortQuery>,
) -> R<(PolicyTrace, PolicyConns)> {
    let rules = if ingress { &p.ingress } else { &p.egress };
    let mut traces = Vec::new();
    for rule in rules {
        let one = AdminPolicy {
            ingress: if ingress {
                vec![rule.clone()]
            } else {
                Vec::new()
            },
            egress: if ingress {
                Vec::new()
            } else {
                vec![rule.clone()]
            },
            ..p.clone()
        };
        let c = engine.admin_policy_conns(&one, src, dst, ingress)?;
        let decided = {
            let mut s = c.allowed.clone();
            s.union(&c.denied);
            s.union(&c.pass);
            s
        };
        let matches = !decided.is_empty() || {
            // A rule whose ports resolve to nothing still matched the peer.
            let conns = engine.admin_rule_conns(&rule.ports, Some(dst))?;
            conns.is_empty() && engine_rule_peer_matches(engine, &one, src, dst, ingress)?
        };
        traces.push(RuleTrace {
            rule: rule.name.clone(),
            action: rule.action.clone(),
            line: rule.line,
            peer_matches: matches,
            ports: if matches {
                decided.to_string()
            } else {
                String::new()
            },
            covers_port: port.map(|q| matches && q.conn().contained_in(&decided)),
        });
    }
    let conns = engine.admin_policy_conns(p, src, dst, ingress)?;
    Ok((
        PolicyTrace {
            kind: p.kind_label().to_string(),
            name: p.name.clone(),
            priority: (!p.baseline || p.cnp).then_some(p.priority),
            file: p.file.clone(),
            line: p.line,
            rules: traces,
        },
        conns,
    ))
}

fn engine_rule_peer_matches(
    engine: &Engine,
    one: &AdminPolicy,
    src: &PeerRef,
    dst: &PeerRef,
    ingress: bool,
) -> R<bool> {
    // Evaluate with all ports: the peer matched when something is decided.
    let mut all_ports = one.clone();
    for r in all_ports
        .ingress
        .iter_mut()
        .chain(all_ports.egress.iter_mut())
    {
        r.ports = None;
    }
    let c = engine.admin_policy_conns(&all_ports, src, dst, ingress)?;
    Ok(!c.is_empty())
}

fn trace_direction(
    analyzer: &Analyzer,
    src: &PeerRef,
    dst: &PeerRef,
    ingress: bool,
    allowed: &ConnSet,
    port: Option<&PortQuery>,
) -> R<DirectionTrace> {
    let engine = &analyzer.engine;
    let direction = if ingress { "ingress" } else { "egress" };
    let selected = if ingress { dst } else { src };
    let mut policies = Vec::new();
    let mut decided_by: Option<String> = None;
    let query = port.map(PortQuery::conn);
    let mut undecided = query.clone().unwrap_or_else(ConnSet::all);
    // Admin policies, by priority.
    for p in &engine.anps {
        if !Engine::admin_selects(p, selected, ingress)? {
            continue;
        }
        let (trace, conns) = admin_trace(engine, p, src, dst, ingress, port)?;
        let mut decided = conns.allowed.clone();
        decided.union(&conns.denied);
        if decided_by.is_none() && !decided.is_empty() {
            let mut covered = undecided.clone();
            covered.intersect(&decided);
            if !covered.is_empty() && (query.is_some() || decided.is_all()) {
                decided_by = Some(format!(
                    "{} {} (priority {})",
                    p.kind_label(),
                    p.name,
                    p.priority
                ));
            }
        }
        undecided.subtract(&decided);
        policies.push(trace);
    }
    // NetworkPolicies.
    let mut np_selects = false;
    if let PeerRef::Pod(pod) = selected {
        for i in engine.netpols_selecting(pod, ingress)? {
            np_selects = true;
            let np = &engine.netpols[i];
            let rules = if ingress { &np.ingress } else { &np.egress };
            let to_select = if ingress { src } else { dst };
            let mut traces = Vec::new();
            for (k, rule) in rules.iter().enumerate() {
                let matches = Engine::np_rule_selects_peer(np, &rule.peers, to_select)?;
                let conns = if matches {
                    engine.np_rule_conns(np, &rule.ports, Some(dst))?
                } else {
                    ConnSet::none()
                };
                traces.push(RuleTrace {
                    rule: format!("{direction} rule #{}", k + 1),
                    action: "Allow".to_string(),
                    line: rule.line,
                    peer_matches: matches,
                    ports: if matches {
                        conns.to_string()
                    } else {
                        String::new()
                    },
                    covers_port: query.as_ref().map(|q| matches && q.contained_in(&conns)),
                });
            }
            policies.push(PolicyTrace {
                kind: "NetworkPolicy".to_string(),
                name: np.full_name(),
                priority: None,
                file: np.file.clone(),
                line: np.line,
                rules: traces,
            });
        }
    }
    if decided_by.is_none() && np_selects && !undecided.is_empty() {
        decided_by = Some(format!(
            "NetworkPolicies selecting the {} (isolated for {direction}: only their rules allow)",
            if ingress { "destination" } else { "source" }
        ));
    }
    // Baseline tier: ClusterNetworkPolicies by priority, then the
    // BaselineAdminNetworkPolicy.
    for b in &engine.baseline_cnps {
        if !Engine::admin_selects(b, selected, ingress)? {
            continue;
        }
        let (trace, conns) = admin_trace(engine, b, src, dst, ingress, port)?;
        let mut decided = conns.allowed.clone();
        decided.union(&conns.denied);
        decided.union(&conns.pass);
        if decided_by.is_none() && !np_selects {
            let mut covered = undecided.clone();
            covered.intersect(&decided);
            if !covered.is_empty() && (query.is_some() || decided.is_all()) {
                decided_by = Some(format!(
                    "ClusterNetworkPolicy {} (Baseline tier, priority {})",
                    b.name, b.priority
                ));
            }
        }
        if !np_selects {
            undecided.subtract(&decided);
        }
        policies.push(trace);
    }
    if let Some(b) = &engine.banp {
        if Engine::admin_selects(b, selected, ingress)? {
            let (trace, conns) = admin_trace(engine, b, src, dst, ingress, port)?;
            if decided_by.is_none() && !np_selects {
                let mut covered = undecided.clone();
                covered.intersect(&conns.denied);
                if !covered.is_empty() {
                    decided_by = Some(format!("BaselineAdminNetworkPolicy {}", b.name));
                }
            }
            policies.push(trace);
        }
    }
    let decided_by = decided_by.unwrap_or_else(|| match selected {
        PeerRef::Ip(_) => format!(
            "default: traffic {} an IP block is not subject to policies for this direction",
            if ingress { "to" } else { "from" }
        ),
        PeerRef::Pod(_) if policies.is_empty() => format!(
            "default: no policy selects the {} for {direction} (allow all)",
            if ingress { "destination" } else { "source" }
        ),
        PeerRef::Pod(_) => "default (allow): no rule decides it".to_string(),
    });
    Ok(DirectionTrace {
        direction: direction.to_string(),
        allowed: allowed.to_string(),
        decided_by,
        policies,
    })
}

/// The explanation as text.
pub fn render_text(e: &Explanation) -> String {
    let mut out = String::new();
    let verdict = match e.port_allowed {
        Some(true) => "ALLOWED",
        Some(false) => "DENIED",
        None if e.allowed == crate::conn::NO_CONNS_STR => "DENIED",
        None => "ALLOWED",
    };
    match &e.port {
        Some(p) => out.push_str(&format!(
            "{} => {} on {}/{}: {verdict}\n",
            e.src, e.dst, p.protocol, p.port
        )),
        None => out.push_str(&format!("{} => {}: {verdict}\n", e.src, e.dst)),
    }
    out.push_str(&format!("Allowed connections: {}\n", e.allowed));
    for d in [&e.egress, &e.ingress] {
        let who = if d.direction == "egress" {
            format!("Egress from {}", e.src)
        } else {
            format!("Ingress to {}", e.dst)
        };
        out.push_str(&format!(
            "\n{who}: {}\n  decided by: {}\n",
            d.allowed, d.decided_by
        ));
        for p in &d.policies {
            let prio = p
                .priority
                .map(|x| format!(" (priority {x})"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {} {}{prio} [{}:{}]\n",
                p.kind, p.name, p.file, p.line
            ));
            if p.rules.is_empty() {
                out.push_str(&format!(
                    "    no {} rules: denies everything not allowed elsewhere\n",
                    d.direction
                ));
            }
            for r in &p.rules {
                let port = match r.covers_port {
                    Some(true) => " <- covers the port",
                    _ => "",
                };
                if r.peer_matches {
                    out.push_str(&format!(
                        "    {} (line {}): {} {}{port}\n",
                        r.rule,
                        r.line,
                        r.action.to_lowercase(),
                        r.ports
                    ));
                } else {
                    out.push_str(&format!(
                        "    {} (line {}): peer does not match\n",
                        r.rule, r.line
                    ));
                }
            }
        }
    }
    out
}
