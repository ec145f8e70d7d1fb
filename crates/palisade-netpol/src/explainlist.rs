//! netpol-analyzer's `list --explain`: every pair of peers with the allowed
//! and denied port ranges and, per direction, the policy rules behind them.
//!
//! The decisions are the engine's ([`crate::eval`]); this module evaluates
//! them again over [`XConn`] sets, which carry reasons, layer by layer
//! (AdminNetworkPolicies, NetworkPolicies, BaselineAdminNetworkPolicy,
//! system default) in the same order of set operations as netpol-analyzer,
//! because the reasons printed depend on that order. The connections
//! themselves always agree with `list` (tested).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::connlist::{
    parse_focus_conn, workload_info, Analyzer, ConnList, IngressAnalysis, ListOptions, PeerId,
    PeerInfo, INGRESS_CONTROLLER_NAME, INGRESS_CONTROLLER_NS,
};
use crate::eval::{Engine, PeerRef, PodCtx, R};
use crate::ipset::IntervalSet;
use crate::model::{AdminPolicy, AnpPort, IngressKind, NetworkPolicy, NpPort};
use crate::networks::{Network, NetworkKind};
use crate::selector::LabelSelector;
use crate::xconn::{
    Rules, XConn, XPortSet, ANP_KIND, BANP_KIND, DEFAULT_KIND, INGRESS_KIND, MNP_KIND,
    NOT_REFERENCED_PORTS, NP_KIND, ROUTE_KIND, SYSTEM_DEFAULT_RULE, UDN_KIND,
};

/// `--explain-only`: show only allowed or only denied connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplainOnly {
    Allow,
    Deny,
}

impl ExplainOnly {
    pub fn parse(s: &str) -> Result<ExplainOnly, String> {
        match s {
            "allow" => Ok(ExplainOnly::Allow),
            "deny" => Ok(ExplainOnly::Deny),
            other => Err(format!(
                "explain-only value {other:?} is not supported: expected allow or deny"
            )),
        }
    }
}

/// One explained pair.
#[derive(Debug, Clone)]
pub struct ExplainedConn {
    pub src: PeerInfo,
    pub dst: PeerInfo,
    pub conn: XConn,
    /// The network the pair is explained on.
    pub network: Network,
}

/// The result of `list --explain`.
#[derive(Debug, Clone, Default)]
pub struct ExplainedList {
    pub conns: Vec<ExplainedConn>,
    /// The plain list (for the exposure section and warnings).
    pub list: ConnList,
}

/// Allowed, denied and passed connections of an admin layer, with reasons.
#[derive(Debug, Clone, Default)]
struct XPolicyConns {
    allowed: XConn,
    denied: XConn,
    pass: XConn,
}

impl XPolicyConns {
    fn update_with_rule(&mut self, mut rule: XConn, action: &str, pass_forbidden: bool) -> R<()> {
        match action {
            "Allow" => {
                rule.subtract(&self.denied);
                rule.subtract(&self.pass);
                self.allowed.union(&mut rule, false);
            }
            "Deny" => {
                rule.subtract(&self.allowed);
                rule.subtract(&self.pass);
                self.denied.union(&mut rule, false);
            }
            "Pass" if !pass_forbidden => {
                rule.subtract(&self.allowed);
                rule.subtract(&self.denied);
                self.pass.union(&mut rule, false);
            }
            _ => return Err(format!("unknown rule action {action:?}: expected Allow, Deny or Pass (Pass only in AdminNetworkPolicy)")),
        }
        Ok(())
    }

    fn collect_anp(&mut self, mut new: XPolicyConns) {
        // A higher-priority pass shapes the sets but explains nothing here.
        let mut pass = self.pass.clone();
        pass.clean_rules();
        new.denied.subtract(&self.allowed);
        new.denied.subtract(&pass);
        new.allowed.subtract(&self.denied);
        new.allowed.subtract(&pass);
        new.pass.subtract(&self.denied);
        new.pass.subtract(&self.allowed);
        self.denied.union(&mut new.denied, false);
        self.allowed.union(&mut new.allowed, false);
        self.pass.union(&mut new.pass, false);
    }

    fn complement_pass(&mut self) {
        self.pass.union(&mut XConn::new(true), false);
    }

    fn collect_from_netpols(&mut self, np_allowed: &mut XConn) {
        let mut new = self.pass.clone();
        new.intersect(np_allowed);
        new.subtract(&self.denied);
        self.allowed.union(&mut new, false);
    }

    fn collect_from_baseline(&mut self, banp: &mut XPolicyConns) {
        let mut new_denied = self.pass.clone();
        new_denied.intersect(&mut banp.denied);
        new_denied.subtract(&self.allowed);
        self.denied.union(&mut new_denied, false);
        let mut new_allowed = self.pass.clone();
        new_allowed.intersect(&mut banp.allowed);
        self.allowed.union(&mut new_allowed, false);
        let denied = self.denied.clone();
        self.allowed.subtract(&denied);
    }

    fn is_empty(&self) -> bool {
        self.allowed.is_empty() && self.denied.is_empty() && self.pass.is_empty()
    }

    fn determines_all(&mut self) -> bool {
        let mut s = self.allowed.clone();
        s.union(&mut self.denied, false);
        s.all
    }
}

struct XLayer {
    captured: bool,
    conns: XPolicyConns,
}

/// Peer strings used in the reasons.
pub(crate) struct Names<'a> {
    pub(crate) src: &'a str,
    pub(crate) dst: &'a str,
}

fn dir_name(ingress: bool) -> &'static str {
    if ingress {
        "Ingress"
    } else {
        "Egress"
    }
}

fn action_op(action: &str) -> &'static str {
    match action {
        "Allow" => "allows",
        "Deny" => "denies",
        _ => "passes",
    }
}

/// The explaining evaluator over an engine.
pub struct XEngine<'a> {
    engine: &'a Engine,
    /// Exposure analysis: per NetworkPolicy, what it allows toward the whole
    /// cluster (ingress, egress).
    cluster_wide: Option<Vec<(XConn, XConn)>>,
}

impl<'a> XEngine<'a> {
    pub fn new(engine: &'a Engine, exposure: bool) -> R<Self> {
        let mut x = XEngine {
            engine,
            cluster_wide: None,
        };
        if exposure {
            let mut cw = Vec::with_capacity(engine.netpols.len());
            for np in &engine.netpols {
                cw.push((x.np_cluster_wide(np, true)?, x.np_cluster_wide(np, false)?));
            }
            x.cluster_wide = Some(cw);
        }
        Ok(x)
    }

    fn np_cluster_wide(&self, np: &NetworkPolicy, ingress: bool) -> R<XConn> {
        let mut res = XConn::new(false);
        if !np.affects(ingress) {
            return Ok(res);
        }
        let rules = if ingress { &np.ingress } else { &np.egress };
        for (idx, rule) in rules.iter().enumerate() {
            let all_ns = rule.peers.is_empty()
                || rule.peers.iter().any(|p| {
                    p.ip_block.is_none()
                        && p.namespace_selector
                            .as_ref()
                            .is_some_and(LabelSelector::is_empty)
                        && p.pod_selector.as_ref().is_none_or(LabelSelector::is_empty)
                });
            if all_ns {
                let names = Names { src: "", dst: "" };
                let mut c = self.np_rule_conns(np, &rule.ports, None, idx, ingress, &names)?;
                res.union(&mut c, false);
            }
        }
        Ok(res)
    }

    /// The explained connections from `src` to `dst`.
    pub fn pair(&self, src: &PeerRef, src_str: &str, dst: &PeerRef, dst_str: &str) -> R<XConn> {
        let names = Names {
            src: src_str,
            dst: dst_str,
        };
        let mut conn = self.xgress(src, dst, false, &names)?;
        conn.set_result(false);
        let mut ingress = self.xgress(src, dst, true, &names)?;
        ingress.set_result(true);
        conn.intersect(&mut ingress);
        Ok(conn)
    }

    fn xgress(&self, src: &PeerRef, dst: &PeerRef, ingress: bool, names: &Names) -> R<XConn> {
        let mut anp = self.anp_layer(src, dst, ingress)?;
        if anp.conns.determines_all() {
            let denied = anp.conns.denied.clone();
            anp.conns.allowed.subtract(&denied);
            return Ok(anp.conns.allowed);
        }
        let mut np = self.np_layer(src, dst, ingress, names)?;
        let mut default = self.default_layer(src, dst, ingress)?;
        Ok(match (np.captured, anp.captured) {
            (true, false) => np.conns.allowed,
            (true, true) => {
                anp.conns.collect_from_netpols(&mut np.conns.allowed);
                anp.conns.allowed
            }
            _ => {
                anp.conns.collect_from_baseline(&mut default.conns);
                anp.conns.allowed
            }
        })
    }

    // ---- admin policies ---------------------------------------------------

    fn admin_name(p: &AdminPolicy) -> String {
        format!("{} '{}'", p.kind_label(), p.name)
    }

    fn admin_rule_conns(
        &self,
        p: &AdminPolicy,
        ports: &Option<Vec<AnpPort>>,
        expl: &str,
        dst: &PeerRef,
        ingress: bool,
    ) -> R<XConn> {
        // ClusterNetworkPolicies group with the layer of their tier.
        let kind = if p.baseline { BANP_KIND } else { ANP_KIND };
        let Some(ports) = ports else {
            return Ok(XConn::with_rule(true, kind, expl, ingress));
        };
        let rules = Rules::with_rule(kind, expl, ingress);
        let mut res = XConn::new(false);
        for port in ports {
            let mut ps = XPortSet::new(false, Rules::default());
            let proto_or_tcp = |p: &str| {
                if p.is_empty() {
                    "TCP".to_string()
                } else {
                    p.to_string()
                }
            };
            let protocol = match port {
                AnpPort::Invalid => {
                    return Err(
                        "exactly one field must be set in an admin network policy port".to_string(),
                    )
                }
                AnpPort::Number { protocol, port } => {
                    ps.add_port(*port, rules.clone());
                    proto_or_tcp(protocol)
                }
                AnpPort::Named(name) => match dst {
                    PeerRef::Pod(pod) if pod.rep.is_some() => {
                        ps.add_named(name, rules.clone());
                        res.add_connection("", &ps);
                        continue;
                    }
                    PeerRef::Ip(_) => continue,
                    PeerRef::Pod(pod) => match pod.named_port(name) {
                        None => continue,
                        Some((proto, num)) => {
                            ps.add_port(num, rules.clone());
                            proto
                        }
                    },
                },
                AnpPort::Range {
                    protocol,
                    start,
                    end,
                } => {
                    if *start < crate::conn::MIN_PORT
                        || *end < crate::conn::MIN_PORT
                        || end < start
                        || *start > crate::conn::MAX_PORT
                        || *end > crate::conn::MAX_PORT
                    {
                        return Err(format!("port range {start}-{end} is illegal"));
                    }
                    ps.add_range(*start, *end, true, rules.clone());
                    proto_or_tcp(protocol)
                }
            };
            res.add_connection(&protocol, &ps);
        }
        Ok(res)
    }

    fn admin_policy_conns(
        &self,
        p: &AdminPolicy,
        src: &PeerRef,
        dst: &PeerRef,
        ingress: bool,
    ) -> R<XPolicyConns> {
        let mut res = XPolicyConns::default();
        let rules = if ingress { &p.ingress } else { &p.egress };
        let peer = if ingress { src } else { dst };
        let err = |rule: &str, e: &str| {
            if p.cnp {
                format!("cluster network policy {:?}: in rule {rule:?}: {e}", p.name)
            } else if p.baseline {
                format!("default baseline admin network policy:  in rule {rule:?}: {e}")
            } else {
                format!("admin network policy {:?}: in rule {rule:?}: {e}", p.name)
            }
        };
        for rule in rules {
            let selected = self
                .engine
                .admin_rule_selects(rule, peer, ingress)
                .map_err(|e| err(&rule.name, &e))?;
            if !selected {
                continue;
            }
            let expl = format!(
                "{} {} connections by {} rule {}",
                Self::admin_name(p),
                action_op(&rule.action),
                dir_name(ingress),
                rule.name
            );
            let conns = self
                .admin_rule_conns(p, &rule.ports, &expl, dst, ingress)
                .map_err(|e| err(&rule.name, &e))?;
            res.update_with_rule(conns, &rule.action, p.pass_forbidden())
                .map_err(|e| err(&rule.name, &e))?;
        }
        Ok(res)
    }

    fn anp_layer(&self, src: &PeerRef, dst: &PeerRef, ingress: bool) -> R<XLayer> {
        let mut conns = XPolicyConns::default();
        let selected = if ingress { dst } else { src };
        for anp in &self.engine.anps {
            if !Engine::admin_selects(anp, selected, ingress)? {
                continue;
            }
            let single = self.admin_policy_conns(anp, src, dst, ingress)?;
            if !single.is_empty() {
                conns.collect_anp(single);
            }
        }
        let captured = !conns.is_empty();
        conns.complement_pass();
        Ok(XLayer { captured, conns })
    }

    fn default_layer(&self, src: &PeerRef, dst: &PeerRef, ingress: bool) -> R<XLayer> {
        let mut conns = XPolicyConns::default();
        let selected = if ingress { dst } else { src };
        for b in &self.engine.baseline_cnps {
            if Engine::admin_selects(b, selected, ingress)? {
                let c = self.admin_policy_conns(b, src, dst, ingress)?;
                if !c.is_empty() {
                    conns.collect_anp(c);
                }
            }
        }
        if let Some(banp) = &self.engine.banp {
            if Engine::admin_selects(banp, selected, ingress)? {
                let c = self.admin_policy_conns(banp, src, dst, ingress)?;
                if self.engine.baseline_cnps.is_empty() {
                    conns = c;
                } else if !c.is_empty() {
                    conns.collect_anp(c);
                }
            }
        }
        conns.allowed = XConn::with_rule(true, DEFAULT_KIND, SYSTEM_DEFAULT_RULE, ingress);
        Ok(XLayer {
            captured: false,
            conns,
        })
    }

    // ---- NetworkPolicies --------------------------------------------------

    fn np_layer(&self, src: &PeerRef, dst: &PeerRef, ingress: bool, names: &Names) -> R<XLayer> {
        let selected = if ingress { dst } else { src };
        let not_captured = XLayer {
            captured: false,
            conns: XPolicyConns::default(),
        };
        let PeerRef::Pod(pod) = selected else {
            return Ok(not_captured);
        };
        let policies = self.engine.netpols_selecting(pod, ingress)?;
        if policies.is_empty() {
            return Ok(not_captured);
        }
        let mut allowed = XConn::new(false);
        for i in policies {
            let mut c = self.np_policy_conns(i, src, dst, ingress, names)?;
            allowed.union(&mut c, true);
        }
        Ok(XLayer {
            captured: true,
            conns: XPolicyConns {
                allowed,
                ..XPolicyConns::default()
            },
        })
    }

    fn np_policy_conns(
        &self,
        i: usize,
        src: &PeerRef,
        dst: &PeerRef,
        ingress: bool,
        names: &Names,
    ) -> R<XConn> {
        let np = &self.engine.netpols[i];
        let other = if ingress { src } else { dst };
        if let (Some(cw), PeerRef::Pod(_)) = (&self.cluster_wide, other) {
            if let Some((cw_in, cw_out)) = cw.get(i) {
                let c = if ingress { cw_in } else { cw_out };
                if c.all {
                    return Ok(c.clone());
                }
            }
        }
        let rules = if ingress { &np.ingress } else { &np.egress };
        let (policy_peer, rule_peer) = if ingress {
            (names.dst, names.src)
        } else {
            (names.src, names.dst)
        };
        let policy = format!("NetworkPolicy '{}'", np.full_name());
        let dir = dir_name(ingress);
        let mut res = XConn::new(false);
        if rules.is_empty() {
            res.add_common_rule(
                NP_KIND,
                &format!("{policy} selects {policy_peer}, but {rule_peer} is not allowed by any {dir} rule (no rules defined)"),
                ingress,
            );
            return Ok(res);
        }
        let mut selected_any = false;
        for (idx, rule) in rules.iter().enumerate() {
            if !Engine::np_rule_selects_peer(np, &rule.peers, other)? {
                continue;
            }
            selected_any = true;
            let mut c = self.np_rule_conns(np, &rule.ports, Some(dst), idx, ingress, names)?;
            res.union(&mut c, false);
            if res.all {
                return Ok(res);
            }
        }
        if !selected_any {
            res.add_common_rule(
                NP_KIND,
                &format!(
                    "{policy} selects {policy_peer}, but {rule_peer} is not allowed by any {dir} rule"
                ),
                ingress,
            );
        }
        Ok(res)
    }

    fn np_rule_conns(
        &self,
        np: &NetworkPolicy,
        ports: &[NpPort],
        dst: Option<&PeerRef>,
        idx: usize,
        ingress: bool,
        names: &Names,
    ) -> R<XConn> {
        let policy = format!("NetworkPolicy '{}'", np.full_name());
        Self::rule_conns(NP_KIND, &policy, np, ports, dst, idx, ingress, names)
    }

    /// The explained connections a rule's `ports` allow: for a
    /// NetworkPolicy, or a MultiNetworkPolicy (`kind`, `policy` its label).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn rule_conns(
        kind: &str,
        policy: &str,
        np: &NetworkPolicy,
        ports: &[NpPort],
        dst: Option<&PeerRef>,
        idx: usize,
        ingress: bool,
        names: &Names,
    ) -> R<XConn> {
        let rule_name = format!("{} rule #{}", dir_name(ingress), idx + 1);
        let allowed = format!("{policy} allows connections by {rule_name}");
        if ports.is_empty() {
            return Ok(XConn::with_rule(true, kind, &allowed, ingress));
        }
        let (policy_peer, rule_peer) = if ingress {
            (names.dst, names.src)
        } else {
            (names.src, names.dst)
        };
        let unmatched = format!(
            "{policy} selects {policy_peer}, and {rule_name} selects {rule_peer}, {NOT_REFERENCED_PORTS}"
        );
        let allowed_rules = Rules::with_rule(kind, &allowed, ingress);
        let mut res = XConn::with_rule(false, kind, &unmatched, ingress);
        for port in ports {
            let protocol = port.protocol.clone().unwrap_or_else(|| "TCP".to_string());
            let mut ps = XPortSet::new(false, Rules::with_rule(kind, &unmatched, ingress));
            match &port.port {
                None => ps = XPortSet::new(true, allowed_rules.clone()),
                Some(p) => {
                    let (start, end, name) = crate::eval::np_port_range(
                        np,
                        p,
                        port.protocol.as_deref(),
                        port.end_port,
                        dst,
                    )?;
                    let empty = start < crate::conn::MIN_PORT
                        || end < crate::conn::MIN_PORT
                        || end < start
                        || start > crate::conn::MAX_PORT
                        || end > crate::conn::MAX_PORT;
                    if empty {
                        if name.is_empty() {
                            return Err(format!("port range {start}-{end} is illegal"));
                        }
                        let unresolved = match dst {
                            None => true,
                            Some(PeerRef::Pod(pod)) => pod.rep.is_some(),
                            Some(PeerRef::Ip(_)) => false,
                        };
                        if unresolved {
                            ps.add_named(&name, allowed_rules.clone());
                        }
                    } else {
                        ps.add_range(start, end, true, allowed_rules.clone());
                    }
                }
            }
            res.add_connection(&protocol, &ps);
        }
        if res.is_empty() {
            res = XConn::with_rule(
                false,
                kind,
                &format!("{policy} selects {policy_peer}, and {rule_name} selects {rule_peer}, but named ports of the rule have no match in the configuration of the destination peer"),
                ingress,
            );
        }
        Ok(res)
    }
}

/// Focus on one port of a connection, honouring `explain_only`; `None` when
/// the pair is filtered out.
fn focused(conn: XConn, focus: Option<(&str, i64)>, only: Option<ExplainOnly>) -> Option<XConn> {
    let Some((proto, port)) = focus else {
        return Some(conn);
    };
    let (fc, allowed) = conn.focus(proto, port)?;
    match only {
        Some(ExplainOnly::Allow) if !allowed => None,
        Some(ExplainOnly::Deny) if allowed => None,
        _ => Some(fc),
    }
}

impl Analyzer {
    /// netpol-analyzer's `list --explain`: every pair the list would
    /// consider, allowed or not, with reasons.
    pub fn list_explained(
        &self,
        opts: &ListOptions,
        only: Option<ExplainOnly>,
    ) -> R<ExplainedList> {
        let mut list_opts = opts.clone();
        if only.is_some() && list_opts.exposure {
            // As netpol-analyzer: exposure is ignored with explain-only.
            list_opts.exposure = false;
        }
        let list = self.list(&list_opts)?;
        let mut out = ExplainedList {
            conns: Vec::new(),
            list,
        };
        if self.workloads.is_empty() {
            return Ok(out);
        }
        // The focus workloads must exist (the list reports the warnings).
        for focus in [&opts.focus_workloads, &opts.focus_workload_peers] {
            if focus.is_empty()
                || (std::ptr::eq(focus, &opts.focus_workload_peers)
                    && opts.focus_workloads.is_empty())
            {
                continue;
            }
            let all_missing = focus.iter().all(|f| {
                f != INGRESS_CONTROLLER_NAME
                    && !self.workloads.iter().any(|w| {
                        let i = workload_info(w);
                        *f == i.name || *f == format!("{}/{}", i.namespace, i.name)
                    })
            });
            if all_missing {
                return Ok(out);
            }
        }
        let focus_conn = match &opts.focus_conn {
            Some(s) => {
                let c = parse_focus_conn(s)?;
                c.protos.iter().next().and_then(|(p, ports)| {
                    IntervalSet::min(&ports.ports).map(|port| (p.clone(), port))
                })
            }
            None => None,
        };
        let focus = focus_conn.as_ref().map(|(p, n)| (p.as_str(), *n));
        let focus_dir = opts
            .focus_direction
            .as_deref()
            .filter(|_| !opts.focus_workloads.is_empty());
        let x = XEngine::new(&self.engine, false)?;
        let x_exposure;
        let x = if list_opts.exposure {
            x_exposure = XEngine::new(&self.engine, true)?;
            &x_exposure
        } else {
            &x
        };
        let mut src_peers: Vec<PeerId> = (0..self.src_ips.len())
            .map(|i| PeerId::Ip(i, true))
            .collect();
        let mut dst_peers: Vec<PeerId> = (0..self.dst_ips.len())
            .map(|i| PeerId::Ip(i, false))
            .collect();
        src_peers.extend((0..self.workloads.len()).map(PeerId::Workload));
        dst_peers.extend((0..self.workloads.len()).map(PeerId::Workload));
        let infos: BTreeMap<PeerId, PeerInfo> = src_peers
            .iter()
            .chain(dst_peers.iter())
            .map(|&p| (p, self.peer_info(p)))
            .collect();
        for &src in &src_peers {
            for &dst in &dst_peers {
                let (si, di) = (&infos[&src], &infos[&dst]);
                if !self.include_pair(src, dst, si, di, false, focus_dir, opts) {
                    continue;
                }
                for (net, conn) in self.explain_pair(x, src, dst, si, di)? {
                    if conn.is_empty() && only == Some(ExplainOnly::Allow) {
                        continue;
                    }
                    if !conn.is_empty() && only == Some(ExplainOnly::Deny) && focus.is_none() {
                        continue;
                    }
                    let Some(conn) = focused(conn, focus, only) else {
                        continue;
                    };
                    out.conns.push(ExplainedConn {
                        src: si.clone(),
                        dst: di.clone(),
                        conn,
                        network: self.nets.list[net].clone(),
                    });
                }
            }
        }
        self.explained_ingress(x, opts, focus_dir, focus, only, &mut out)?;
        Ok(out)
    }

    /// The explained connections of a pair, per network: the primary one
    /// (denied with the isolating networks when they differ) and the shared
    /// secondary ones.
    fn explain_pair(
        &self,
        x: &XEngine,
        src: PeerId,
        dst: PeerId,
        si: &PeerInfo,
        di: &PeerInfo,
    ) -> R<Vec<(usize, XConn)>> {
        let (src_ref, dst_ref) = (self.peer_ref(src), self.peer_ref(dst));
        if !self.multi {
            return Ok(vec![(
                0,
                x.pair(&src_ref, &si.display, &dst_ref, &di.display)?,
            )]);
        }
        let (sp, dp) = (self.peer_primary(src), self.peer_primary(dst));
        let (net, isolated) = self.primary_for_pair(sp, dp, &si.namespace, &di.namespace);
        let mut out = Vec::new();
        if isolated {
            let udn = |p: Option<usize>| match p.map(|n| &self.nets.list[n]) {
                Some(n) if n.is_primary() => Some(n),
                _ => None,
            };
            let mut parts = Vec::new();
            for (n, peer) in [(udn(sp), &si.display), (udn(dp), &di.display)] {
                if let Some(n) = n {
                    parts.push(format!(
                        "{} '{}' isolates {peer}",
                        n.resource_kind(),
                        n.name
                    ));
                }
            }
            let rule = parts.join("; and ");
            let mut conn = XConn::new(false);
            conn.add_common_rule(UDN_KIND, &rule, true);
            conn.add_common_rule(UDN_KIND, &rule, false);
            out.push((net, conn));
        } else {
            out.push((net, x.pair(&src_ref, &si.display, &dst_ref, &di.display)?));
        }
        if let (PeerId::Workload(s), PeerId::Workload(d), Some(_), Some(_)) = (src, dst, sp, dp) {
            let theirs = self.workload_secondary(d);
            for (n, name) in self.workload_secondary(s) {
                if !theirs.iter().any(|(m, _)| *m == n) {
                    continue;
                }
                let names = Names {
                    src: &si.display,
                    dst: &di.display,
                };
                let mut conn =
                    self.mnp_xgress_explained(s, d, name, false, &src_ref, &dst_ref, &names)?;
                conn.set_result(false);
                let mut ingress =
                    self.mnp_xgress_explained(s, d, name, true, &src_ref, &dst_ref, &names)?;
                ingress.set_result(true);
                conn.intersect(&mut ingress);
                out.push((n, conn));
            }
        }
        Ok(out)
    }

    /// What the MultiNetworkPolicies of secondary network `name` allow in
    /// one direction between workloads `s` and `d`, with reasons (all, with
    /// none, when no policy selects the pod).
    #[allow(clippy::too_many_arguments)]
    fn mnp_xgress_explained(
        &self,
        s: usize,
        d: usize,
        name: &str,
        ingress: bool,
        src_ref: &PeerRef,
        dst_ref: &PeerRef,
        names: &Names,
    ) -> R<XConn> {
        let (selected, other, other_ref) = if ingress {
            (d, s, src_ref)
        } else {
            (s, d, dst_ref)
        };
        let policies = self.mnps_selecting(selected, name, ingress)?;
        if policies.is_empty() {
            return Ok(XConn::new(true));
        }
        let (policy_peer, rule_peer) = if ingress {
            (names.dst, names.src)
        } else {
            (names.src, names.dst)
        };
        let dir = dir_name(ingress);
        let mut allowed = XConn::new(false);
        for i in policies {
            let mnp = &self.resources.mnps[i];
            let np = &mnp.policy;
            let policy = format!("MultiNetworkPolicy '{}'", np.full_name());
            let rules = if ingress { &np.ingress } else { &np.egress };
            let mut res = XConn::new(false);
            if rules.is_empty() {
                res.add_common_rule(
                    MNP_KIND,
                    &format!("{policy} selects {policy_peer}, but {rule_peer} is not allowed by any {dir} rule (no rules defined)"),
                    ingress,
                );
            } else {
                let mut selected_any = false;
                for (idx, rule) in rules.iter().enumerate() {
                    if !self.mnp_rule_selects(mnp, &rule.peers, other, name, other_ref)? {
                        continue;
                    }
                    selected_any = true;
                    let mut c = XEngine::rule_conns(
                        MNP_KIND,
                        &policy,
                        np,
                        &rule.ports,
                        Some(dst_ref),
                        idx,
                        ingress,
                        names,
                    )?;
                    res.union(&mut c, false);
                    if res.all {
                        break;
                    }
                }
                if !selected_any {
                    res.add_common_rule(
                        MNP_KIND,
                        &format!("{policy} selects {policy_peer}, but {rule_peer} is not allowed by any {dir} rule"),
                        ingress,
                    );
                }
            }
            allowed.union(&mut res, true);
        }
        Ok(allowed)
    }

    /// Connections from the ingress controller through Ingress and Route objects.
    fn explained_ingress(
        &self,
        x: &XEngine,
        opts: &ListOptions,
        focus_dir: Option<&str>,
        focus: Option<(&str, i64)>,
        only: Option<ExplainOnly>,
        out: &mut ExplainedList,
    ) -> R<()> {
        let ia = IngressAnalysis::new(self)?;
        if ia.is_empty() {
            return Ok(());
        }
        let mut per_workload: BTreeMap<usize, XConn> = BTreeMap::new();
        for kind in [IngressKind::Route, IngressKind::Ingress] {
            let kind_str = match kind {
                IngressKind::Route => ROUTE_KIND,
                IngressKind::Ingress => INGRESS_KIND,
            };
            let mut objects: BTreeMap<(String, String), &crate::model::IngressLike> =
                BTreeMap::new();
            for obj in self.resources.ingresses.iter().filter(|o| o.kind == kind) {
                if obj.services.is_empty() {
                    continue;
                }
                objects.insert((obj.namespace.clone(), obj.name.clone()), obj);
            }
            for ((ns, name), obj) in objects {
                if !ia.services.keys().any(|(sns, _)| *sns == ns) {
                    continue;
                }
                let prefix = format!("{kind_str} '{ns}/{name}'");
                let mut per_peer: BTreeMap<usize, XConn> = BTreeMap::new();
                for svc in &obj.services {
                    let Some((peers, ports)) = ia.services.get(&(ns.clone(), svc.name.clone()))
                    else {
                        continue;
                    };
                    let no_match = format!(
                        "{prefix} allows ingress to service {}, {NOT_REFERENCED_PORTS}",
                        svc.name
                    );
                    let allowed = format!(
                        "{prefix} allows ingress connections through service {}",
                        svc.name
                    );
                    for &w in peers {
                        let mut c = XConn::with_rule(false, kind_str, &no_match, true);
                        for port in ia.peer_ports(w, ports, &svc.port) {
                            let mut ps =
                                XPortSet::new(false, Rules::with_rule(kind_str, &no_match, true));
                            ps.add_port(port, Rules::with_rule(kind_str, &allowed, true));
                            c.add_connection("TCP", &ps);
                        }
                        match per_peer.get_mut(&w) {
                            Some(e) => e.union(&mut c, true),
                            None => {
                                per_peer.insert(w, c);
                            }
                        }
                    }
                }
                for (w, mut c) in per_peer {
                    match per_workload.get_mut(&w) {
                        Some(e) => e.union(&mut c, true),
                        None => {
                            per_workload.insert(w, c);
                        }
                    }
                }
            }
        }
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
        for (w, mut conn) in per_workload {
            let winfo = workload_info(&self.workloads[w]);
            if !self.include_pair_infos(&ic_info, &winfo, focus_dir, opts) {
                continue;
            }
            let mut pe = x.pair(
                &PeerRef::Pod(ic_ctx),
                &ic_info.display,
                &PeerRef::Pod(self.workload_ctx(w)),
                &winfo.display,
            )?;
            pe.remove_default_rule(true);
            conn.intersect(&mut pe);
            conn.set_result(true);
            if conn.is_empty() {
                continue;
            }
            let Some(conn) = focused(conn, focus, only) else {
                continue;
            };
            let network =
                self.nets.list[self.nets.primary_of(&self.workloads[w].namespace)].clone();
            out.conns.push(ExplainedConn {
                src: ic_info.clone(),
                dst: winfo,
                conn,
                network,
            });
        }
        Ok(())
    }
}

const SEPARATION_LINE: &str = "----------------------------------------------------------------------------------------------------------------------------------------------------------------\n";

fn group_header(header: &str) -> String {
    let line = format!("# {header} #");
    let hashes = "#".repeat(line.len());
    format!("\n{hashes}\n{line}\n{hashes}\n")
}

/// An explained pair as printed.
struct XLine {
    src: String,
    dst: String,
    network: String,
    explanation: String,
    default: bool,
}

/// The explanations of one network: the specific ones, then the pairs the
/// system default allows (`in <network>` added to the headers with
/// multiple networks).
fn explained_section(lines: &mut [XLine], network: &str, multi: bool) -> String {
    lines.sort_by(|a, b| {
        a.src
            .cmp(&b.src)
            .then_with(|| a.dst.cmp(&b.dst))
            .then_with(|| a.network.cmp(&b.network))
    });
    let suffix = if multi {
        format!(" in {network}")
    } else {
        String::new()
    };
    let mut explained = String::new();
    let mut defaults = String::new();
    for l in lines.iter() {
        if l.default {
            let _ = writeln!(defaults, "{} => {}", l.src, l.dst);
        } else {
            explained.push_str(SEPARATION_LINE);
            let _ = write!(
                explained,
                "Connections between {} => {}:\n\n{}",
                l.src, l.dst, l.explanation
            );
        }
    }
    let mut res = String::new();
    if !explained.is_empty() {
        res.push_str(&group_header(&format!(
            "Specific connections and their reasons{suffix}"
        )));
        res.push_str(&explained);
    }
    if !defaults.is_empty() {
        res.push_str(&group_header(&format!(
            "All Connections due to the system default (Allow all){suffix}"
        )));
        res.push_str(&defaults);
    }
    res
}

/// The explain text (netpol-analyzer's txt output with `--explain`),
/// followed by the exposure section when exposure analysis was asked.
/// With multiple networks: one part per network, pairs denied only by the
/// isolation of primary networks left out (with a note).
pub fn render_explained(e: &ExplainedList) -> String {
    let multi = e.list.multiple_networks;
    let mut pod: Vec<XLine> = Vec::new();
    let mut nets: [BTreeMap<String, Vec<XLine>>; 3] = Default::default();
    let mut cross_network = false;
    for c in &e.conns {
        if c.conn.cross_network_denied() {
            cross_network = true;
            continue;
        }
        let mut explanation = c.conn.explanation();
        let (mut src, mut dst) = (c.src.display.clone(), c.dst.display.clone());
        if c.network.kind == NetworkKind::Udn {
            // Peers of the UDN's namespace are labelled, and a denied
            // destination the explanation names (isolated in its own UDN).
            if !c.src.is_ip && c.src.namespace == c.network.name {
                src = crate::format::udn_labelled(&src);
            }
            let denied_named =
                c.conn.list_string().is_empty() && explanation.contains(c.dst.namespace.as_str());
            if !c.dst.is_ip && (c.dst.namespace == c.network.name || denied_named) {
                dst = crate::format::udn_labelled(&dst);
            }
            explanation = explanation
                .replace(&c.src.display, &src)
                .replace(&c.dst.display, &dst);
        }
        let line = XLine {
            src,
            dst,
            network: c.network.name.clone(),
            explanation,
            default: c.conn.only_default(),
        };
        let slot = match c.network.kind {
            NetworkKind::Pod => {
                pod.push(line);
                continue;
            }
            NetworkKind::Udn => 0,
            NetworkKind::Cudn => 1,
            NetworkKind::Nad => 2,
        };
        nets[slot]
            .entry(c.network.name.clone())
            .or_default()
            .push(line);
    }
    let mut res = explained_section(&mut pod, crate::networks::POD_NETWORK_NAME, multi);
    for (title, map) in crate::format::NETWORK_TITLES.iter().zip(nets.iter_mut()) {
        for (name, lines) in map.iter_mut() {
            res.push_str(&explained_section(lines, &format!("{title} {name}"), true));
        }
    }
    if cross_network {
        res.push_str("\n*** Note: Connections between any peers from separate isolated networks are denied by default and therefore not listed in this report.");
    }
    if e.list.exposure.is_none() {
        return res;
    }
    if !res.is_empty() && res != "\n" {
        res.push('\n');
    }
    // IP connections shown in the exposure section: as netpol-analyzer, the
    // explained pairs that list a connection string.
    let ip_lines: Vec<(String, String, String, bool, bool)> = e
        .conns
        .iter()
        .filter(|c| c.src.is_ip || c.dst.is_ip)
        .filter(|c| !c.conn.is_listed_empty())
        .map(|c| {
            (
                c.src.display.clone(),
                c.dst.display.clone(),
                c.conn.list_string(),
                c.src.is_ip,
                c.dst.is_ip,
            )
        })
        .filter(|l| !l.2.is_empty())
        .collect();
    res.push_str(&crate::format::render_exposure_txt(&e.list, &ip_lines));
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{read_resources, Analyzer};

    fn analyzer(yaml: &str) -> Analyzer {
        let loaded = palisade_model::load_text("t.yaml", yaml, &Default::default());
        let res = read_resources(&loaded.objects);
        Analyzer::new(res, false).expect("analyzer")
    }

    const TWO_PODS: &str = "
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ns, labels: {app: a}}
spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: ns, labels: {app: b}}
spec: {containers: [{name: c}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-b, namespace: ns}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress: [{from: [{podSelector: {matchLabels: {app: b}}}], ports: [{port: 80}]}]
";

    #[test]
    fn explains_allowed_port_and_denied_rest() {
        let a = analyzer(TWO_PODS);
        let e = a
            .list_explained(&ListOptions::default(), None)
            .expect("explain");
        let text = render_explained(&e);
        assert!(
            text.contains("Connections between ns/b[Pod] => ns/a[Pod]:\n\nAllowed connections:\n\tAllowed TCP:[80] due to the following policies and rules:\n\t\tEgress (Allowed) due to the system default (Allow all)\n\t\tIngress (Allowed)\n\t\t\tNetworkPolicy 'ns/only-b' allows connections by Ingress rule #1\n"),
            "{text}"
        );
        assert!(
            text.contains("\tDenied TCP:[1-79,81-65535], UDP, SCTP due to"),
            "{text}"
        );
        assert!(text.contains("# All Connections due to the system default (Allow all) #\n"));
        assert!(text.contains("\nns/a[Pod] => ns/b[Pod]\n"), "{text}");
    }

    #[test]
    fn explain_only_deny_drops_allowed_pairs() {
        let a = analyzer(TWO_PODS);
        let e = a
            .list_explained(&ListOptions::default(), Some(ExplainOnly::Deny))
            .expect("explain");
        assert!(e.conns.iter().all(|c| c.conn.is_empty()));
        assert!(e
            .conns
            .iter()
            .any(|c| c.src.display == "0.0.0.0-255.255.255.255[External]"));
    }

    #[test]
    fn explained_connections_agree_with_list() {
        let a = analyzer(TWO_PODS);
        let list = a.list(&ListOptions::default()).expect("list");
        let e = a
            .list_explained(&ListOptions::default(), None)
            .expect("explain");
        for c in &e.conns {
            let listed = list
                .connections
                .iter()
                .find(|l| l.src.display == c.src.display && l.dst.display == c.dst.display);
            match listed {
                Some(l) => assert!(l.conns.equal(&c.conn.to_conn_set()), "{}", c.src.display),
                None => assert!(c.conn.is_empty()),
            }
        }
    }
}
