//! Connection sets that remember why: every port range carries the policy
//! rules that decided it, per direction.
//!
//! This is the model behind netpol-analyzer's `list --explain` output. Its
//! text depends not only on which ports are allowed but on how the sets were
//! combined (which rules a union keeps, which an intersection collects), so
//! the operations here follow that tool's documented combination rules:
//!
//! - a set is a sequence of contiguous intervals covering `1-65535`, each in
//!   or out of the set ("holes" keep their reasons too);
//! - adding an interval either *collects* the other side's rules (always, for
//!   intersections; when the inclusion does not change, for unions of
//!   NetworkPolicies), *overrides* them (when the inclusion changes), or keeps
//!   the rules of the higher layer (admin, NetworkPolicy, baseline, default);
//! - a whole-set "common" explanation is used while a connection set is
//!   all-or-nothing, and spread over explicit protocols once ports matter.

use std::collections::{BTreeMap, BTreeSet};

use crate::conn::{short_range, ConnSet, PortSet, ALL_CONNS_STR, MAX_PORT, MIN_PORT, NO_CONNS_STR};

/// Rule kinds, grouping the reasons in the output.
pub const NP_KIND: &str = "NetworkPolicy";
pub const ANP_KIND: &str = "AdminNetworkPolicy";
pub const BANP_KIND: &str = "BaselineAdminNetworkPolicy";
pub const INGRESS_KIND: &str = "Ingress";
pub const ROUTE_KIND: &str = "Route";
/// Isolation by primary user-defined networks.
pub const UDN_KIND: &str = "UDN";
pub const MNP_KIND: &str = "MultiNetworkPolicy";
/// The system default (no kind).
pub const DEFAULT_KIND: &str = "";

pub const SYSTEM_DEFAULT_RULE: &str = "the system default (Allow all)";
pub const NOT_REFERENCED_PORTS: &str = "but the protocols and ports do not match";

/// The protocols spread over when a set becomes explicit.
const PROTOCOLS: [&str; 3] = ["TCP", "UDP", "SCTP"];

/// Policy layers, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LayerKind {
    #[default]
    Default,
    Baseline,
    NetworkPolicy,
    Admin,
    /// Isolation between primary networks.
    Udn,
    /// MultiNetworkPolicies (secondary networks).
    MultiNetworkPolicy,
}

fn layer_of(kind: &str) -> LayerKind {
    match kind {
        ANP_KIND => LayerKind::Admin,
        NP_KIND | INGRESS_KIND | ROUTE_KIND => LayerKind::NetworkPolicy,
        BANP_KIND => LayerKind::Baseline,
        UDN_KIND => LayerKind::Udn,
        MNP_KIND => LayerKind::MultiNetworkPolicy,
        _ => LayerKind::Default,
    }
}

/// The decision a direction reached for a port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decision {
    #[default]
    Unset,
    Allowed,
    Denied,
}

/// How adding an interval treats the rules already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collect {
    /// Keep the higher layer's rules (override when the inclusion changes).
    Never,
    /// Collect both when the inclusion does not change.
    SameInclusion,
    /// Always collect both.
    Always,
}

/// The rules behind one direction's decision, grouped by kind (sorted, unique).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XgressRules {
    pub rules: BTreeMap<String, BTreeSet<String>>,
    pub dominant: LayerKind,
    pub result: Decision,
}

impl XgressRules {
    pub fn with_rule(kind: &str, rule: &str) -> Self {
        let mut r = XgressRules::default();
        r.add(kind, rule);
        r
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn only_default(&self) -> bool {
        self.rules.len() == 1 && self.dominant == LayerKind::Default
    }

    /// Only the isolation of primary networks decided.
    pub fn only_udn(&self) -> bool {
        self.rules.len() == 1 && self.dominant == LayerKind::Udn
    }

    pub fn add(&mut self, kind: &str, rule: &str) {
        if rule.is_empty() {
            return;
        }
        self.rules
            .entry(kind.to_string())
            .or_default()
            .insert(rule.to_string());
        self.dominant = self.dominant.max(layer_of(kind));
    }

    fn union(&mut self, other: &XgressRules) {
        for (k, v) in &other.rules {
            self.rules
                .entry(k.clone())
                .or_default()
                .extend(v.iter().cloned());
        }
        self.dominant = self.dominant.max(other.dominant);
        if other.result != Decision::Unset {
            self.result = other.result;
        }
    }

    fn update(&self, other: &XgressRules, same: bool, style: Collect) -> XgressRules {
        if style == Collect::Always || (style == Collect::SameInclusion && same) {
            let mut r = self.clone();
            r.union(other);
            return r;
        }
        if !same || self.is_empty() || self.dominant < other.dominant {
            return other.clone();
        }
        self.clone()
    }

    fn may_be_updated_by(&self, other: &XgressRules, same: bool, style: Collect) -> bool {
        if style == Collect::Always || (style == Collect::SameInclusion && same) {
            return other.rules.iter().any(|(k, v)| match self.rules.get(k) {
                None => true,
                Some(mine) => v.iter().any(|r| !mine.contains(r)),
            });
        }
        !same || (self.is_empty() && !other.is_empty()) || self.dominant < other.dominant
    }

    fn remove_default(&mut self) {
        if self.only_default() {
            *self = XgressRules::default();
        }
    }

    fn result_string(&self) -> &'static str {
        match self.result {
            Decision::Allowed => "(Allowed)",
            Decision::Denied => "(Denied)",
            Decision::Unset => "",
        }
    }

    /// `(Denied)` then the rules: one per line, or a list per kind; layers
    /// from the highest.
    pub fn render(&self) -> String {
        let mut out = self.result_string().to_string();
        if self.is_empty() {
            return out;
        }
        if self.only_default() {
            if let Some(rule) = self.rules.values().next().and_then(|s| s.iter().next()) {
                out.push_str(" due to ");
                out.push_str(rule);
            }
            return out;
        }
        let mut groups: Vec<(&String, &BTreeSet<String>)> = self.rules.iter().collect();
        groups.sort_by(|a, b| layer_of(b.0).cmp(&layer_of(a.0)).then_with(|| a.0.cmp(b.0)));
        for (kind, rules) in groups {
            out.push('\n');
            out.push_str("\t\t\t");
            if rules.len() == 1 {
                if let Some(r) = rules.iter().next() {
                    out.push_str(r);
                }
                continue;
            }
            out.push_str(kind);
            out.push_str(" list:\n");
            for r in rules {
                out.push_str("\t\t\t\t- ");
                out.push_str(r);
                out.push('\n');
            }
        }
        out
    }
}

/// The rules behind a decision, per direction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    pub ingress: XgressRules,
    pub egress: XgressRules,
}

impl Rules {
    pub fn with_rule(kind: &str, rule: &str, ingress: bool) -> Self {
        let mut r = Rules::default();
        r.add(kind, rule, ingress);
        r
    }

    pub fn add(&mut self, kind: &str, rule: &str, ingress: bool) {
        if ingress {
            self.ingress.add(kind, rule);
        } else {
            self.egress.add(kind, rule);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ingress.is_empty() && self.egress.is_empty()
    }

    pub fn only_default(&self) -> bool {
        self.ingress.only_default() && self.egress.only_default()
    }

    /// Both directions were decided by primary network isolation only.
    pub fn only_udn(&self) -> bool {
        self.ingress.only_udn() && self.egress.only_udn()
    }

    fn set_result(&mut self, allowed: bool, ingress: bool) {
        let d = if allowed {
            Decision::Allowed
        } else {
            Decision::Denied
        };
        if ingress {
            self.ingress.result = d;
        } else {
            self.egress.result = d;
        }
    }

    fn update(&self, other: &Rules, same: bool, style: Collect) -> Rules {
        Rules {
            ingress: self.ingress.update(&other.ingress, same, style),
            egress: self.egress.update(&other.egress, same, style),
        }
    }

    fn may_be_updated_by(&self, other: &Rules, same: bool, style: Collect) -> bool {
        self.ingress.may_be_updated_by(&other.ingress, same, style)
            || self.egress.may_be_updated_by(&other.egress, same, style)
    }

    fn remove_default(&mut self, ingress: bool) {
        if ingress {
            self.ingress.remove_default();
        } else {
            self.egress.remove_default();
        }
    }

    /// ` due to ...` with one line per direction, ending with a newline.
    pub fn render(&self) -> String {
        if self.only_default() {
            return format!(" due to {SYSTEM_DEFAULT_RULE}\n");
        }
        let mut res = String::new();
        if !self.egress.is_empty() {
            res.push_str("\t\tEgress ");
            res.push_str(&self.egress.render());
            res.push('\n');
        }
        if !self.ingress.is_empty() {
            res.push_str("\t\tIngress ");
            res.push_str(&self.ingress.render());
            res.push('\n');
        }
        if res.is_empty() {
            return "\n".to_string();
        }
        // Isolation by user-defined networks is a common rule of both directions.
        if self.egress.dominant == LayerKind::Udn {
            return format!(" due to existence of user defined networks:\n{res}");
        }
        format!(" due to the following policies and rules:\n{res}")
    }
}

/// A port range in or out of the set, with its reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AugInterval {
    pub start: i64,
    pub end: i64,
    pub in_set: bool,
    pub rules: Rules,
}

impl AugInterval {
    pub fn new(start: i64, end: i64, in_set: bool, rules: Rules) -> Self {
        AugInterval {
            start,
            end,
            in_set,
            rules,
        }
    }
}

/// Ports `1-65535` as contiguous intervals, in the set or holes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AugSet {
    pub intervals: Vec<AugInterval>,
}

impl AugSet {
    pub fn full(in_set: bool, rules: Rules) -> Self {
        AugSet {
            intervals: vec![AugInterval::new(MIN_PORT, MAX_PORT, in_set, rules)],
        }
    }

    fn min_value(&self) -> i64 {
        self.intervals.first().map_or(MIN_PORT, |i| i.start)
    }

    fn max_value(&self) -> i64 {
        self.intervals.last().map_or(MAX_PORT, |i| i.end)
    }

    pub fn is_empty(&self) -> bool {
        !self.intervals.iter().any(|i| i.in_set)
    }

    /// The in-set ranges, merged.
    pub fn ranges(&self) -> Vec<(i64, i64)> {
        let mut out: Vec<(i64, i64)> = Vec::new();
        for i in self.intervals.iter().filter(|i| i.in_set) {
            match out.last_mut() {
                Some(last) if last.1 + 1 == i.start => last.1 = i.end,
                _ => out.push((i.start, i.end)),
            }
        }
        out
    }

    pub fn is_all(&self) -> bool {
        self.ranges() == [(MIN_PORT, MAX_PORT)]
    }

    /// Adds an interval (or a hole), updating the reasons of what it covers.
    pub fn add(&mut self, v: &AugInterval, style: Collect) {
        if v.start > v.end || self.intervals.is_empty() {
            return;
        }
        if v.start < self.min_value() || v.end > self.max_value() {
            // Out of the port range: netpol-analyzer rejects such a port; nothing to add.
            return;
        }
        let set = &self.intervals;
        let left0 = set.partition_point(|i| i.end < v.start);
        let right = set.partition_point(|i| i.end < v.end);
        let (Some(l), Some(r)) = (set.get(left0), set.get(right)) else {
            return;
        };
        let mut result: Vec<AugInterval> = set[..left0].to_vec();
        let mut left = left0;
        let same = l.in_set == v.in_set;
        if v.start > l.start && (!same || l.rules.may_be_updated_by(&v.rules, same, style)) {
            result.push(AugInterval::new(
                l.start,
                v.start - 1,
                l.in_set,
                l.rules.clone(),
            ));
            result.push(AugInterval::new(
                v.start,
                l.end.min(v.end),
                v.in_set,
                l.rules.update(&v.rules, same, style),
            ));
            left += 1;
        }
        let right_changes = |iv: &AugInterval| {
            let same = iv.in_set == v.in_set;
            v.end < iv.end && (!same || iv.rules.may_be_updated_by(&v.rules, same, style))
        };
        for (ind, iv) in set.iter().enumerate().take(right + 1).skip(left) {
            if ind == right && right_changes(iv) {
                break;
            }
            let same = iv.in_set == v.in_set;
            result.push(AugInterval::new(
                iv.start,
                iv.end,
                v.in_set,
                iv.rules.update(&v.rules, same, style),
            ));
        }
        if right_changes(r) {
            let same = r.in_set == v.in_set;
            if left < right || (left == right && v.start == set[left].start) {
                result.push(AugInterval::new(
                    r.start,
                    v.end,
                    v.in_set,
                    r.rules.update(&v.rules, same, style),
                ));
            }
            result.push(AugInterval::new(
                v.end + 1,
                r.end,
                r.in_set,
                r.rules.clone(),
            ));
        }
        result.extend_from_slice(&set[right + 1..]);
        self.intervals = result;
    }

    fn union(&self, other: &AugSet, collect_same: bool) -> AugSet {
        let style = if collect_same {
            Collect::SameInclusion
        } else {
            Collect::Never
        };
        let mut res = AugSet::full(false, Rules::default());
        for in_set in [false, true] {
            for s in [self, other] {
                for i in s.intervals.iter().filter(|i| i.in_set == in_set) {
                    res.add(i, style);
                }
            }
        }
        res
    }

    fn intersect(&self, other: &AugSet) -> AugSet {
        let mut res = AugSet::full(false, Rules::default());
        for in_set in [true, false] {
            for s in [self, other] {
                for i in s.intervals.iter().filter(|i| i.in_set == in_set) {
                    res.add(i, Collect::Always);
                }
            }
        }
        res
    }

    fn subtract(&self, other: &AugSet) -> AugSet {
        let mut res = self.clone();
        for i in other.intervals.iter().filter(|i| i.in_set) {
            let mut hole = i.clone();
            hole.in_set = false;
            res.add(&hole, Collect::Never);
        }
        res
    }

    fn set_result(&mut self, ingress: bool) {
        for i in &mut self.intervals {
            let in_set = i.in_set;
            i.rules.set_result(in_set, ingress);
        }
    }

    fn clean(&mut self) {
        for i in &mut self.intervals {
            i.rules = Rules::default();
        }
    }

    fn remove_default(&mut self, ingress: bool) {
        for i in &mut self.intervals {
            i.rules.remove_default(ingress);
        }
    }

    fn is_subset(&self, other: &AugSet) -> bool {
        self.ranges()
            .iter()
            .all(|&(s, e)| other.ranges().iter().any(|&(os, oe)| os <= s && e <= oe))
    }
}

/// The ports of one protocol, with named ports kept by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XPortSet {
    pub ports: AugSet,
    pub named: BTreeMap<String, Rules>,
    pub excluded: BTreeMap<String, Rules>,
}

impl XPortSet {
    pub fn new(all: bool, rules: Rules) -> Self {
        XPortSet {
            ports: AugSet::full(all, rules),
            named: BTreeMap::new(),
            excluded: BTreeMap::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ports.is_empty() && self.named.is_empty()
    }

    fn is_all(&self) -> bool {
        self.ports.is_all() && self.named.is_empty() && self.excluded.is_empty()
    }

    pub fn add_port(&mut self, port: i64, rules: Rules) {
        self.ports
            .add(&AugInterval::new(port, port, true, rules), Collect::Never);
    }

    pub fn add_named(&mut self, name: &str, rules: Rules) {
        let cur = self.named.get(name).cloned().unwrap_or_default();
        self.named
            .insert(name.to_string(), cur.update(&rules, false, Collect::Never));
        self.excluded.remove(name);
    }

    pub fn add_range(&mut self, start: i64, end: i64, in_set: bool, rules: Rules) {
        self.ports
            .add(&AugInterval::new(start, end, in_set, rules), Collect::Never);
    }

    fn union(&mut self, other: &XPortSet, collect_same: bool) {
        self.ports = self.ports.union(&other.ports, collect_same);
        for (k, v) in &other.named {
            if !self.named.contains_key(k) {
                self.named.insert(k.clone(), v.clone());
            }
            self.excluded.remove(k);
        }
        for (k, v) in &other.excluded {
            if !self.named.contains_key(k) && !self.excluded.contains_key(k) {
                self.excluded.insert(k.clone(), v.clone());
            }
        }
    }

    fn intersect(&mut self, other: &XPortSet) {
        self.ports = self.ports.intersect(&other.ports);
    }

    fn subtract(&mut self, other: &XPortSet) {
        self.ports = self.ports.subtract(&other.ports);
        for (k, v) in &other.named {
            let cur = self.excluded.get(k).cloned().unwrap_or_default();
            self.excluded
                .insert(k.clone(), cur.update(v, false, Collect::Never));
            self.named.remove(k);
        }
    }
}

/// A connection set with the reasons of every port range.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XConn {
    pub all: bool,
    pub protos: BTreeMap<String, XPortSet>,
    /// The reasons while `protos` is empty (all or nothing).
    pub common: Rules,
}

impl XConn {
    pub fn new(all: bool) -> Self {
        XConn {
            all,
            ..XConn::default()
        }
    }

    pub fn with_rule(all: bool, kind: &str, rule: &str, ingress: bool) -> Self {
        XConn {
            all,
            protos: BTreeMap::new(),
            common: Rules::with_rule(kind, rule, ingress),
        }
    }

    pub fn add_common_rule(&mut self, kind: &str, rule: &str, ingress: bool) {
        self.common.add(kind, rule, ingress);
    }

    pub fn is_empty(&self) -> bool {
        if self.all {
            return false;
        }
        self.protos.values().all(XPortSet::is_empty)
    }

    fn update_if_all(&mut self) {
        if self.all {
            return;
        }
        if PROTOCOLS
            .iter()
            .all(|p| self.protos.get(*p).is_some_and(XPortSet::is_all))
        {
            // The per-port reasons are kept.
            self.all = true;
        }
    }

    /// Spreads an all-or-nothing set over the three protocols explicitly.
    fn rebuild_explicitly(&mut self) {
        let ports = XPortSet::new(self.all, self.common.clone());
        for p in PROTOCOLS {
            if !self.protos.contains_key(p) {
                self.add_connection(p, &ports);
            }
        }
        self.common = Rules::default();
    }

    /// Adds ports of a protocol (collecting reasons with existing ports).
    pub fn add_connection(&mut self, protocol: &str, ports: &XPortSet) {
        if ports.ports.intervals.is_empty() && ports.named.is_empty() {
            return;
        }
        match self.protos.get_mut(protocol) {
            Some(existing) => existing.union(ports, true),
            None => {
                self.protos.insert(protocol.to_string(), ports.clone());
            }
        }
    }

    pub fn set_result(&mut self, ingress: bool) {
        if self.protos.is_empty() {
            let all = self.all;
            self.common.set_result(all, ingress);
            return;
        }
        for p in self.protos.values_mut() {
            p.ports.set_result(ingress);
        }
    }

    /// Intersection; the reasons of both sides are collected. Like
    /// netpol-analyzer, `other` is made explicit as a side effect.
    pub fn intersect(&mut self, other: &mut XConn) {
        if self.protos.is_empty() && other.protos.is_empty() {
            if other.is_empty() {
                self.all = false;
                self.protos.clear();
            }
            self.common = self.common.update(&other.common, true, Collect::Always);
            return;
        }
        self.rebuild_explicitly();
        other.rebuild_explicitly();
        self.all = false;
        let empty = XPortSet::new(false, Rules::default());
        for (p, ports) in self.protos.iter_mut() {
            ports.intersect(other.protos.get(p).unwrap_or(&empty));
        }
        self.update_if_all();
    }

    /// Union; with `collect_same`, reasons of ranges that stay in (or out)
    /// are collected, else the higher layer's are kept.
    pub fn union(&mut self, other: &mut XConn, collect_same: bool) {
        let style = if collect_same {
            Collect::SameInclusion
        } else {
            Collect::Never
        };
        if self.protos.is_empty() && other.protos.is_empty() {
            if self.all && other.is_empty() {
                return;
            }
            self.common = self
                .common
                .update(&other.common, self.all == other.all, style);
            self.all = self.all || other.all;
            return;
        }
        if other.is_empty() && !collect_same {
            return;
        }
        self.rebuild_explicitly();
        other.rebuild_explicitly();
        for (p, ports) in self.protos.iter_mut() {
            if let Some(o) = other.protos.get(p) {
                ports.union(o, collect_same);
            }
        }
        for (p, ports) in &other.protos {
            if !self.protos.contains_key(p) {
                self.protos.insert(p.clone(), ports.clone());
            }
        }
        self.common = Rules::default();
        self.update_if_all();
    }

    pub fn subtract(&mut self, other: &XConn) {
        if other.is_empty() {
            return;
        }
        if other.all && other.protos.is_empty() {
            self.common = self.common.update(&other.common, false, Collect::Never);
            self.all = false;
            self.protos.clear();
            return;
        }
        self.rebuild_explicitly();
        self.all = false;
        for (p, ports) in self.protos.iter_mut() {
            if let Some(o) = other.protos.get(p) {
                ports.subtract(o);
            }
        }
    }

    pub fn clean_rules(&mut self) {
        self.common = Rules::default();
        for p in self.protos.values_mut() {
            p.ports.clean();
        }
    }

    pub fn remove_default_rule(&mut self, ingress: bool) {
        self.common.remove_default(ingress);
        for p in self.protos.values_mut() {
            p.ports.remove_default(ingress);
        }
    }

    /// Whether every allowed port here is allowed in `other` (numbers only).
    pub fn contained_in(&self, other: &XConn) -> bool {
        if other.all {
            return true;
        }
        if self.all {
            return false;
        }
        self.protos.iter().all(|(p, ports)| {
            ports.is_empty()
                || other
                    .protos
                    .get(p)
                    .is_some_and(|o| ports.ports.is_subset(&o.ports))
        })
    }

    /// The plain connection set (reasons dropped).
    pub fn to_conn_set(&self) -> ConnSet {
        if self.all {
            return ConnSet::all();
        }
        let mut c = ConnSet::none();
        for (p, ports) in &self.protos {
            let mut set = PortSet::default();
            for (s, e) in ports.ports.ranges() {
                set.ports.add_range(s, e);
            }
            set.named = ports.named.keys().cloned().collect();
            set.excluded = ports.excluded.keys().cloned().collect();
            if !set.is_empty() {
                c.add(p, set);
            }
        }
        c
    }

    /// netpol-analyzer's connection string of a listed connection: allowed
    /// numbered ports per protocol (protocols without any are skipped).
    pub fn list_string(&self) -> String {
        if self.all {
            return ALL_CONNS_STR.to_string();
        }
        if self.protos.is_empty() {
            return NO_CONNS_STR.to_string();
        }
        let mut parts: Vec<String> = self
            .protos
            .iter()
            .filter_map(|(p, ports)| {
                let r = ports.ports.ranges();
                (!r.is_empty()).then(|| {
                    let s: Vec<String> = r.iter().map(|&(a, b)| short_range(a, b)).collect();
                    format!("{p} {}", s.join(","))
                })
            })
            .collect();
        parts.sort();
        parts.join(",")
    }

    /// Whether netpol-analyzer's formatter treats it as an empty line (no
    /// explicit protocols and not all).
    pub fn is_listed_empty(&self) -> bool {
        !self.all && self.protos.is_empty()
    }

    /// Only the system default decided both directions.
    pub fn only_default(&self) -> bool {
        self.all && self.protos.is_empty() && self.common.only_default()
    }

    /// Denied only because the peers are on different primary networks.
    pub fn cross_network_denied(&self) -> bool {
        !self.all && self.protos.is_empty() && self.common.only_udn()
    }

    /// The connection restricted to one protocol and port, with that port's
    /// reasons; and whether the port is allowed.
    pub fn focus(&self, protocol: &str, port: i64) -> Option<(XConn, bool)> {
        let make = |in_set: bool, rules: &Rules| {
            let mut ps = XPortSet::new(false, Rules::default());
            ps.ports = AugSet {
                intervals: vec![AugInterval::new(port, port, in_set, rules.clone())],
            };
            let mut c = XConn::new(false);
            c.add_connection(protocol, &ps);
            c
        };
        if self.all {
            // As netpol-analyzer: an all-allowed set answers with its common reasons.
            return Some((make(true, &self.common), true));
        }
        if self.protos.is_empty() {
            return Some((make(false, &self.common), false));
        }
        let iv = self.protos.get(protocol).and_then(|ps| {
            ps.ports
                .intervals
                .iter()
                .find(|i| i.start <= port && port <= i.end)
        })?;
        Some((make(iv.in_set, &iv.rules), iv.in_set))
    }

    /// The explanation text: allowed then denied port classes, each with
    /// its reasons.
    pub fn explanation(&self) -> String {
        let mut allowed: Classes = BTreeMap::new();
        let mut denied: Classes = BTreeMap::new();
        if self.protos.is_empty() {
            let full: BTreeMap<String, Vec<(i64, i64)>> = PROTOCOLS
                .iter()
                .map(|p| (p.to_string(), vec![(MIN_PORT, MAX_PORT)]))
                .collect();
            let target = if self.all { &mut allowed } else { &mut denied };
            target.insert(self.common.render(), full);
        }
        for (p, ports) in &self.protos {
            for i in &ports.ports.intervals {
                let target = if i.in_set { &mut allowed } else { &mut denied };
                target
                    .entry(i.rules.render())
                    .or_default()
                    .entry(p.clone())
                    .or_default()
                    .push((i.start, i.end));
            }
        }
        classes_string(&allowed, true) + &classes_string(&denied, false)
    }
}

/// Per reasons text, per protocol, the port ranges.
type Classes = BTreeMap<String, BTreeMap<String, Vec<(i64, i64)>>>;

fn merged(ranges: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut v = ranges.to_vec();
    v.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 + 1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn classes_string(classes: &Classes, allowed: bool) -> String {
    if classes.is_empty() {
        return String::new();
    }
    let word = if allowed { "Allowed" } else { "Denied" };
    let mut items: Vec<(String, &String)> = classes
        .iter()
        .map(|(rules, conns)| {
            let parts: Vec<String> = PROTOCOLS
                .iter()
                .filter_map(|p| {
                    let r = merged(conns.get(*p)?);
                    if r == [(MIN_PORT, MAX_PORT)] {
                        return Some(p.to_string());
                    }
                    let s: Vec<String> = r.iter().map(|&(a, b)| short_range(a, b)).collect();
                    Some(format!("{p}:[{}]", s.join(",")))
                })
                .collect();
            (format!("\t{word} {}", parts.join(", ")), rules)
        })
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = format!("{word} connections:\n");
    for (conn, rules) in items {
        out.push_str(&conn);
        out.push_str(rules);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(rule: &str) -> Rules {
        Rules::with_rule(NP_KIND, rule, true)
    }

    #[test]
    fn add_splits_and_keeps_reasons() {
        let mut s = AugSet::full(false, r("unmatched"));
        s.add(&AugInterval::new(80, 80, true, r("allow")), Collect::Never);
        assert_eq!(s.intervals.len(), 3);
        assert_eq!(s.ranges(), vec![(80, 80)]);
        assert_eq!(s.intervals[0].rules, r("unmatched"));
        assert_eq!(s.intervals[1].rules, r("allow"));
        assert_eq!(s.intervals[2].end, MAX_PORT);
    }

    #[test]
    fn union_of_policies_collects_same_inclusion() {
        let mut a = XConn::with_rule(false, NP_KIND, "p1 denies", true);
        let mut b = XConn::with_rule(false, NP_KIND, "p2 denies", true);
        a.union(&mut b, true);
        let rules = &a.common.ingress.rules[NP_KIND];
        assert_eq!(rules.len(), 2);
        let mut c = XConn::with_rule(false, NP_KIND, "p1 denies", true);
        let mut d = XConn::with_rule(false, NP_KIND, "p2 denies", true);
        c.union(&mut d, false);
        assert_eq!(c.common.ingress.rules[NP_KIND].len(), 1);
    }

    #[test]
    fn explanation_groups_ports_by_reasons() {
        let mut conn = XConn::with_rule(false, NP_KIND, "no match", true);
        let mut ps = XPortSet::new(false, r("no match"));
        ps.add_range(80, 80, true, r("allowed by rule #1"));
        conn.add_connection("TCP", &ps);
        let mut all = XConn::new(false);
        all.union(&mut conn, false);
        all.set_result(true);
        let text = all.explanation();
        assert!(
            text.starts_with("Allowed connections:\n\tAllowed TCP:[80] due to"),
            "{text}"
        );
        assert!(
            text.contains("Denied TCP:[1-79,81-65535], UDP, SCTP due to"),
            "{text}"
        );
        assert!(
            text.contains("\t\tIngress (Denied)\n\t\t\tno match\n"),
            "{text}"
        );
        assert_eq!(all.list_string(), "TCP 80");
    }
}
