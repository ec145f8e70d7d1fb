//! Sets of connections: protocols with their ports.
//!
//! A connection set is either "all connections" or, per protocol, a set of
//! port numbers plus named ports that could not be resolved yet (a rule toward
//! a peer inferred from a selector, whose pods are unknown). The operations
//! follow netpol-analyzer's `ConnectionSet` closely, including how named ports
//! travel through unions, intersections and subtractions, so the exposure
//! report prints the same sets.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::ipset::IntervalSet;

pub const MIN_PORT: i64 = 1;
pub const MAX_PORT: i64 = 65535;
pub const TCP: &str = "TCP";
pub const UDP: &str = "UDP";
pub const SCTP: &str = "SCTP";
/// The protocols a NetworkPolicy can name, in netpol-analyzer's order.
pub const ALL_PROTOCOLS: [&str; 3] = [TCP, UDP, SCTP];

pub const ALL_CONNS_STR: &str = "All Connections";
pub const NO_CONNS_STR: &str = "No Connections";

/// The ports of one protocol.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortSet {
    pub ports: IntervalSet,
    /// Named ports not resolved to numbers.
    pub named: BTreeSet<String>,
    /// Named ports taken out by a subtraction (kept so that a later union can't revive them).
    pub excluded: BTreeSet<String>,
}

impl PortSet {
    pub fn all() -> Self {
        PortSet {
            ports: IntervalSet::range(MIN_PORT, MAX_PORT),
            ..PortSet::default()
        }
    }

    pub fn range(start: i64, end: i64) -> Self {
        PortSet {
            ports: IntervalSet::range(start, end),
            ..PortSet::default()
        }
    }

    pub fn named(name: &str) -> Self {
        PortSet {
            named: [name.to_string()].into(),
            ..PortSet::default()
        }
    }

    /// No port numbers and no named ports.
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty() && self.named.is_empty()
    }

    fn is_all(&self) -> bool {
        self.ports == IntervalSet::range(MIN_PORT, MAX_PORT)
            && self.named.is_empty()
            && self.excluded.is_empty()
    }

    fn union(&mut self, other: &PortSet) {
        self.ports = self.ports.union(&other.ports);
        for k in &other.named {
            self.named.insert(k.clone());
            self.excluded.remove(k);
        }
        for k in &other.excluded {
            if !self.named.contains(k) {
                self.excluded.insert(k.clone());
            }
        }
    }

    fn subtract(&mut self, other: &PortSet) {
        self.ports = self.ports.subtract(&other.ports);
        for k in &other.named {
            self.excluded.insert(k.clone());
            self.named.remove(k);
        }
    }

    /// `1-79,81-65535` then named ports, sorted.
    pub fn to_string_form(&self) -> String {
        let mut parts: Vec<String> = self
            .ports
            .ranges()
            .iter()
            .map(|&(s, e)| short_range(s, e))
            .collect();
        parts.extend(self.named.iter().cloned());
        parts.join(",")
    }
}

pub fn short_range(s: i64, e: i64) -> String {
    if s == e {
        s.to_string()
    } else {
        format!("{s}-{e}")
    }
}

/// A set of connections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnSet {
    /// Every protocol and port.
    pub all: bool,
    /// Per protocol (TCP, UDP, SCTP; an empty protocol for a named port whose
    /// protocol is decided by the destination pod). Unused when `all`.
    pub protos: BTreeMap<String, PortSet>,
}

impl ConnSet {
    pub fn all() -> Self {
        ConnSet {
            all: true,
            protos: BTreeMap::new(),
        }
    }

    pub fn none() -> Self {
        ConnSet::default()
    }

    pub fn from_proto(protocol: &str, ports: PortSet) -> Self {
        let mut c = ConnSet::none();
        c.add(protocol, ports);
        c
    }

    /// Adds `ports` of `protocol`.
    pub fn add(&mut self, protocol: &str, ports: PortSet) {
        if self.all {
            return;
        }
        match self.protos.get_mut(protocol) {
            Some(existing) => existing.union(&ports),
            None => {
                self.protos.insert(protocol.to_string(), ports);
            }
        }
        self.update_if_all();
    }

    pub fn is_empty(&self) -> bool {
        !self.all && self.protos.values().all(PortSet::is_empty)
    }

    pub fn is_all(&self) -> bool {
        self.all
    }

    fn rebuild_explicitly(&mut self) {
        for p in ALL_PROTOCOLS {
            if !self.protos.contains_key(p) {
                let ports = if self.all {
                    PortSet::all()
                } else {
                    PortSet::default()
                };
                self.protos.insert(p.to_string(), ports);
            }
        }
    }

    fn update_if_all(&mut self) {
        if self.all {
            self.protos.clear();
            return;
        }
        if ALL_PROTOCOLS
            .iter()
            .all(|p| self.protos.get(*p).is_some_and(PortSet::is_all))
        {
            self.all = true;
            self.protos.clear();
        }
    }

    pub fn union(&mut self, other: &ConnSet) {
        if self.all {
            return;
        }
        if other.all {
            *self = ConnSet::all();
            return;
        }
        for (p, ports) in &other.protos {
            match self.protos.get_mut(p) {
                Some(existing) => existing.union(ports),
                None => {
                    self.protos.insert(p.clone(), ports.clone());
                }
            }
        }
        self.update_if_all();
    }

    pub fn intersect(&mut self, other: &ConnSet) {
        if other.all {
            return;
        }
        if self.all && other.protos.is_empty() {
            *self = ConnSet::none();
            return;
        }
        self.rebuild_explicitly();
        self.all = false;
        let empty = PortSet::default();
        for (p, ports) in self.protos.iter_mut() {
            let theirs = other.protos.get(p).unwrap_or(&empty);
            // Only numbers are intersected; named ports stay (netpol-analyzer does the same).
            ports.ports = ports.ports.intersect(&theirs.ports);
        }
        self.update_if_all();
    }

    pub fn subtract(&mut self, other: &ConnSet) {
        if other.is_empty() {
            return;
        }
        if other.all {
            *self = ConnSet::none();
            return;
        }
        self.rebuild_explicitly();
        self.all = false;
        for (p, ports) in self.protos.iter_mut() {
            if let Some(theirs) = other.protos.get(p) {
                ports.subtract(theirs);
            }
        }
    }

    pub fn contained_in(&self, other: &ConnSet) -> bool {
        if other.all {
            return true;
        }
        if self.all {
            return false;
        }
        for (p, ports) in &self.protos {
            if ports.is_empty() {
                continue;
            }
            match other.protos.get(p) {
                None => return false,
                Some(theirs) => {
                    if !ports.ports.is_subset(&theirs.ports) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Semantic equality (empty protocols ignored).
    pub fn equal(&self, other: &ConnSet) -> bool {
        if self.all != other.all {
            return false;
        }
        if self.all {
            return true;
        }
        let mine: Vec<(&String, &PortSet)> =
            self.protos.iter().filter(|(_, p)| !p.is_empty()).collect();
        let theirs: Vec<(&String, &PortSet)> =
            other.protos.iter().filter(|(_, p)| !p.is_empty()).collect();
        mine.len() == theirs.len()
            && mine.iter().zip(theirs.iter()).all(|((pa, a), (pb, b))| {
                pa == pb && a.ports == b.ports && a.named == b.named && a.excluded == b.excluded
            })
    }

    /// Whether `port`/`protocol` is in the set (numbers only).
    pub fn contains(&self, protocol: &str, port: i64) -> bool {
        if self.all {
            return true;
        }
        self.protos
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(protocol))
            .is_some_and(|(_, ports)| ports.ports.contains(port))
    }

    /// Per protocol, the port numbers (protocols with no numbers omitted).
    pub fn protocols_and_ports(&self) -> BTreeMap<String, IntervalSet> {
        self.protos
            .iter()
            .filter(|(_, p)| !p.ports.is_empty())
            .map(|(k, p)| (k.clone(), p.ports.clone()))
            .collect()
    }
}

impl fmt::Display for ConnSet {
    /// `All Connections`, `No Connections`, or `TCP 80,UDP 53` (protocols sorted).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.all {
            return f.write_str(ALL_CONNS_STR);
        }
        if self.is_empty() {
            return f.write_str(NO_CONNS_STR);
        }
        let mut parts: Vec<String> = self
            .protos
            .iter()
            .filter_map(|(p, ports)| {
                let s = ports.to_string_form();
                (!s.is_empty()).then(|| format!("{p} {s}"))
            })
            .collect();
        parts.sort();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_to_all() {
        let mut c = ConnSet::none();
        for p in ALL_PROTOCOLS {
            c.union(&ConnSet::from_proto(p, PortSet::all()));
        }
        assert!(c.is_all());
        assert_eq!(c.to_string(), "All Connections");
    }

    #[test]
    fn subtract_and_print() {
        let mut c = ConnSet::all();
        c.subtract(&ConnSet::from_proto(TCP, PortSet::range(80, 80)));
        assert_eq!(c.to_string(), "SCTP 1-65535,TCP 1-79,81-65535,UDP 1-65535");
        let mut d = ConnSet::from_proto(UDP, PortSet::range(53, 53));
        d.intersect(&c);
        assert_eq!(d.to_string(), "UDP 53");
        let mut e = ConnSet::from_proto(TCP, PortSet::range(80, 80));
        e.intersect(&c);
        assert!(e.is_empty());
        assert_eq!(e.to_string(), "No Connections");
    }

    #[test]
    fn named_ports_print_after_numbers() {
        let mut c = ConnSet::from_proto(TCP, PortSet::named("http"));
        c.add(TCP, PortSet::range(8080, 8080));
        assert_eq!(c.to_string(), "TCP 8080,http");
        assert!(!c.is_empty());
        assert!(ConnSet::from_proto(TCP, PortSet::range(8080, 8080)).contained_in(&c));
    }

    #[test]
    fn equality_ignores_empty_protocols() {
        let mut a = ConnSet::all();
        a.subtract(&ConnSet::from_proto(TCP, PortSet::all()));
        a.subtract(&ConnSet::from_proto(UDP, PortSet::all()));
        let b = ConnSet::from_proto(SCTP, PortSet::all());
        assert!(a.equal(&b));
        assert!(!a.equal(&ConnSet::all()));
    }
}
