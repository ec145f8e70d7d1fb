//! Interval sets (ports, IPv4 addresses) and IP blocks.
//!
//! Both ports and IPv4 addresses are sets of integers that policies describe
//! as a handful of ranges, so every set here is a sorted list of disjoint,
//! non-adjacent closed intervals. Operations are linear in the number of
//! intervals, never in the number of ports or addresses.

use std::fmt;

/// A canonical set of integers: sorted, disjoint, non-adjacent closed intervals.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct IntervalSet {
    ranges: Vec<(i64, i64)>,
}

impl IntervalSet {
    pub fn new() -> Self {
        IntervalSet::default()
    }

    /// The set `[start, end]`; empty when `end < start`.
    pub fn range(start: i64, end: i64) -> Self {
        if end < start {
            return IntervalSet::new();
        }
        IntervalSet {
            ranges: vec![(start, end)],
        }
    }

    pub fn ranges(&self) -> &[(i64, i64)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn min(&self) -> Option<i64> {
        self.ranges.first().map(|r| r.0)
    }

    pub fn max(&self) -> Option<i64> {
        self.ranges.last().map(|r| r.1)
    }

    /// Number of integers in the set (saturating).
    pub fn size(&self) -> i64 {
        self.ranges
            .iter()
            .fold(0i64, |acc, (s, e)| acc.saturating_add(e - s + 1))
    }

    pub fn contains(&self, v: i64) -> bool {
        self.ranges.iter().any(|&(s, e)| s <= v && v <= e)
    }

    pub fn add_range(&mut self, start: i64, end: i64) {
        if end < start {
            return;
        }
        *self = self.union(&IntervalSet::range(start, end));
    }

    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        let mut all: Vec<(i64, i64)> = self
            .ranges
            .iter()
            .chain(other.ranges.iter())
            .copied()
            .collect();
        all.sort_unstable();
        let mut out: Vec<(i64, i64)> = Vec::with_capacity(all.len());
        for (s, e) in all {
            match out.last_mut() {
                // Adjacent ranges merge too: the set is canonical.
                Some(last) if s <= last.1.saturating_add(1) => last.1 = last.1.max(e),
                _ => out.push((s, e)),
            }
        }
        IntervalSet { ranges: out }
    }

    pub fn intersect(&self, other: &IntervalSet) -> IntervalSet {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a0, a1) = self.ranges[i];
            let (b0, b1) = other.ranges[j];
            let s = a0.max(b0);
            let e = a1.min(b1);
            if s <= e {
                out.push((s, e));
            }
            if a1 < b1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        IntervalSet { ranges: out }
    }

    pub fn subtract(&self, other: &IntervalSet) -> IntervalSet {
        let mut out = Vec::new();
        for &(s, e) in &self.ranges {
            let mut cur = s;
            for &(os, oe) in &other.ranges {
                if oe < cur || os > e {
                    continue;
                }
                if os > cur {
                    out.push((cur, os - 1));
                }
                cur = oe.saturating_add(1);
                if cur > e {
                    break;
                }
            }
            if cur <= e {
                out.push((cur, e));
            }
        }
        IntervalSet { ranges: out }
    }

    pub fn is_subset(&self, other: &IntervalSet) -> bool {
        self.subtract(other).is_empty()
    }

    pub fn overlaps(&self, other: &IntervalSet) -> bool {
        !self.intersect(other).is_empty()
    }

    /// One set per interval.
    pub fn split(&self) -> Vec<IntervalSet> {
        self.ranges
            .iter()
            .map(|&(s, e)| IntervalSet::range(s, e))
            .collect()
    }
}

const IPV4_MAX: i64 = 0xFFFF_FFFF;

/// A set of IPv4 addresses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpBlock {
    pub set: IntervalSet,
}

/// Why an address or CIDR could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpParseError(pub String);

impl fmt::Display for IpParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl IpBlock {
    /// 0.0.0.0/0.
    pub fn all() -> Self {
        IpBlock {
            set: IntervalSet::range(0, IPV4_MAX),
        }
    }

    pub fn empty() -> Self {
        IpBlock {
            set: IntervalSet::new(),
        }
    }

    /// Parses `a.b.c.d/n` as Go's `net.ParseCIDR` does for IPv4 (host bits may be set).
    pub fn from_cidr(cidr: &str) -> Result<Self, IpParseError> {
        let (start, end) = cidr_interval(cidr)?;
        Ok(IpBlock {
            set: IntervalSet::range(start, end),
        })
    }

    /// One address.
    pub fn from_ip(ip: &str) -> Result<Self, IpParseError> {
        let n = parse_ipv4(ip).ok_or_else(|| IpParseError(format!("{ip} is not a valid ipv4")))?;
        Ok(IpBlock {
            set: IntervalSet::range(n, n),
        })
    }

    /// `cidr` without the `except` CIDRs.
    pub fn from_cidr_except(cidr: &str, except: &[String]) -> Result<Self, IpParseError> {
        let mut block = IpBlock::from_cidr(cidr)?;
        for e in except {
            let hole = IpBlock::from_cidr(e)?;
            block.set = block.set.subtract(&hole.set);
        }
        Ok(block)
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    pub fn is_subset(&self, other: &IpBlock) -> bool {
        self.set.is_subset(&other.set)
    }

    pub fn count(&self) -> i64 {
        self.set.size()
    }

    /// `start-end` per interval, comma separated (netpol-analyzer's peer name).
    pub fn to_ip_ranges(&self) -> String {
        self.set
            .ranges()
            .iter()
            .map(|&(s, e)| format!("{}-{}", ipv4_string(s), ipv4_string(e)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// One block per interval.
    pub fn split(&self) -> Vec<IpBlock> {
        self.set
            .split()
            .into_iter()
            .map(|set| IpBlock { set })
            .collect()
    }
}

/// Dotted-quad text of an address number.
pub fn ipv4_string(n: i64) -> String {
    if !(0..=IPV4_MAX).contains(&n) {
        return "0.0.0.0".to_string();
    }
    let n = n as u32;
    format!(
        "{}.{}.{}.{}",
        n >> 24,
        (n >> 16) & 0xFF,
        (n >> 8) & 0xFF,
        n & 0xFF
    )
}

/// Parses a dotted-quad IPv4 address (Go's `net.ParseIP` for IPv4: no leading zeros).
pub fn parse_ipv4(ip: &str) -> Option<i64> {
    let parts: Vec<&str> = ip.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut n: i64 = 0;
    for p in parts {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if p.len() > 1 && p.starts_with('0') {
            return None;
        }
        let v: i64 = p.parse().ok()?;
        if v > 255 {
            return None;
        }
        n = (n << 8) | v;
    }
    Some(n)
}

/// Whether `text` is an IPv6 address or CIDR (which this analysis does not model).
pub fn is_ipv6(text: &str) -> bool {
    text.contains(':')
}

fn cidr_interval(cidr: &str) -> Result<(i64, i64), IpParseError> {
    let err = || IpParseError(format!("invalid CIDR address: {cidr}"));
    let (ip, bits) = cidr.split_once('/').ok_or_else(err)?;
    let base = parse_ipv4(ip).ok_or_else(err)?;
    if bits.is_empty() || bits.len() > 2 || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let bits: u32 = bits.parse().map_err(|_| err())?;
    if bits > 32 {
        return Err(err());
    }
    let mask: i64 = if bits == 0 {
        0
    } else {
        (IPV4_MAX << (32 - bits)) & IPV4_MAX
    };
    let start = base & mask;
    let end = start | (IPV4_MAX ^ mask);
    Ok((start, end))
}

/// netpol-analyzer's disjoint refinement of two lists of blocks: every address
/// covered by the inputs ends up in exactly one output block, and two addresses
/// share a block only when every input block treats them alike. The algorithm
/// (smallest blocks first, splitting on overlap) is the upstream one, so the
/// blocks (and their printed names) are the same.
pub fn disjoint_ip_blocks(set1: &[IpBlock], set2: &[IpBlock]) -> Vec<IpBlock> {
    let mut list: Vec<IpBlock> = set1.iter().chain(set2.iter()).cloned().collect();
    list.sort_by_key(IpBlock::count);
    let mut res: Vec<IpBlock> = Vec::new();
    for block in list {
        add_interval_to_list(block, &mut res);
    }
    if res.is_empty() {
        res.push(IpBlock::all());
    }
    res
}

fn add_interval_to_list(new: IpBlock, list: &mut Vec<IpBlock>) {
    let mut new_set = new.set;
    let mut to_add: Vec<IpBlock> = Vec::new();
    for existing in list.iter_mut() {
        if !existing.set.overlaps(&new_set) {
            continue;
        }
        let inter = existing.set.intersect(&new_set);
        new_set = new_set.subtract(&inter);
        if existing.set != inter {
            to_add.push(IpBlock { set: inter.clone() });
            existing.set = existing.set.subtract(&inter);
        }
        if new_set.is_empty() {
            break;
        }
    }
    list.extend(IpBlock { set: new_set }.split());
    list.extend(to_add);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_ops() {
        let a = IntervalSet::range(1, 10);
        let b = IntervalSet::range(5, 20);
        assert_eq!(a.intersect(&b).ranges(), &[(5, 10)]);
        assert_eq!(a.subtract(&b).ranges(), &[(1, 4)]);
        assert_eq!(a.union(&b).ranges(), &[(1, 20)]);
        let c = IntervalSet::range(11, 12);
        assert_eq!(a.union(&c).ranges(), &[(1, 12)], "adjacent ranges merge");
        let d = a.subtract(&IntervalSet::range(3, 4));
        assert_eq!(d.ranges(), &[(1, 2), (5, 10)]);
        assert!(IntervalSet::range(6, 7).is_subset(&d));
        assert!(!IntervalSet::range(2, 3).is_subset(&d));
    }

    #[test]
    fn cidrs() {
        let b = IpBlock::from_cidr("10.0.0.0/8").unwrap();
        assert_eq!(b.to_ip_ranges(), "10.0.0.0-10.255.255.255");
        let b = IpBlock::from_cidr("10.1.2.3/16").unwrap();
        assert_eq!(b.to_ip_ranges(), "10.1.0.0-10.1.255.255");
        let b = IpBlock::from_cidr_except("0.0.0.0/0", &["10.0.0.0/8".to_string()]).unwrap();
        assert_eq!(
            b.to_ip_ranges(),
            "0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255"
        );
        assert!(IpBlock::from_cidr("10.0.0.0").is_err());
        assert!(IpBlock::from_cidr("10.0.0.0/33").is_err());
        assert!(IpBlock::from_cidr("300.0.0.0/8").is_err());
        assert_eq!(IpBlock::from_cidr("1.2.3.4/32").unwrap().count(), 1);
    }

    #[test]
    fn disjoint_blocks_cover_and_split() {
        let a = IpBlock::from_cidr("10.0.0.0/8").unwrap();
        let b = IpBlock::from_cidr("10.1.0.0/16").unwrap();
        let res = disjoint_ip_blocks(&[a, b], &[IpBlock::all()]);
        let names: Vec<String> = res.iter().map(IpBlock::to_ip_ranges).collect();
        assert!(
            names.contains(&"10.1.0.0-10.1.255.255".to_string()),
            "{names:?}"
        );
        let total: i64 = res.iter().map(IpBlock::count).sum();
        assert_eq!(total, IPV4_MAX + 1);
        // The rest of 10/8 is added interval by interval.
        assert!(
            names.contains(&"10.0.0.0-10.0.255.255".to_string()),
            "{names:?}"
        );
        assert!(
            names.contains(&"10.2.0.0-10.255.255.255".to_string()),
            "{names:?}"
        );
        // A block split by a later, larger one keeps its remaining intervals together.
        let res = disjoint_ip_blocks(
            &[IpBlock::from_cidr("10.1.0.0/16").unwrap()],
            &[
                IpBlock::from_cidr("10.1.128.0/17").unwrap(),
                IpBlock::from_cidr("10.0.0.0/8").unwrap(),
            ],
        );
        let names: Vec<String> = res.iter().map(IpBlock::to_ip_ranges).collect();
        assert_eq!(names.len(), 4, "{names:?}");
    }
}
