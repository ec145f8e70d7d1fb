//! Connectivity diff between two versions of the manifests (netpol-analyzer's `diff`).
//!
//! Both lists are computed, IP-block peers are refined to blocks both sides
//! agree on (then merged back where the two sides treat them alike), and each
//! source/destination pair is classified as added, removed, changed or unchanged.

use std::collections::{BTreeMap, BTreeSet};

use crate::conn::ConnSet;
use crate::connlist::{ConnList, Connection, PeerInfo, INGRESS_CONTROLLER_NAME};
use crate::format::{list_conn_string, Format};
use crate::ipset::{disjoint_ip_blocks, IntervalSet, IpBlock};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DiffType {
    Changed,
    Removed,
    Added,
    Unchanged,
}

impl DiffType {
    pub fn as_str(self) -> &'static str {
        match self {
            DiffType::Changed => "changed",
            DiffType::Removed => "removed",
            DiffType::Added => "added",
            DiffType::Unchanged => "unchanged",
        }
    }
}

/// One source/destination pair and its connections in both versions.
#[derive(Debug, Clone)]
pub struct DiffItem {
    pub src: PeerInfo,
    pub dst: PeerInfo,
    pub ref1: Option<ConnSet>,
    pub ref2: Option<ConnSet>,
    pub kind: DiffType,
    /// The source (destination) workload exists in only one version.
    pub src_new_or_removed: bool,
    pub dst_new_or_removed: bool,
}

/// The diff, by category.
#[derive(Debug, Clone, Default)]
pub struct ConnDiff {
    pub changed: Vec<DiffItem>,
    pub added: Vec<DiffItem>,
    pub removed: Vec<DiffItem>,
    pub unchanged: Vec<DiffItem>,
}

impl ConnDiff {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }
}

fn ip_peer(block: IpBlock) -> PeerInfo {
    PeerInfo {
        display: format!("{}[External]", block.to_ip_ranges()),
        name: String::new(),
        namespace: String::new(),
        kind: String::new(),
        is_ip: true,
        ip: Some(block),
    }
}

/// For each original block, its pieces in the refinement of both sides' blocks.
fn disjoint_map(set1: &[IpBlock], set2: &[IpBlock]) -> BTreeMap<String, Vec<IpBlock>> {
    let mut res: BTreeMap<String, BTreeMap<String, IpBlock>> = BTreeMap::new();
    for piece in disjoint_ip_blocks(set1, set2) {
        for set in [set1, set2] {
            if let Some(orig) = set.iter().find(|b| piece.is_subset(b)) {
                res.entry(orig.to_ip_ranges())
                    .or_default()
                    .insert(piece.to_ip_ranges(), piece.clone());
            }
        }
    }
    res.into_iter()
        .map(|(k, v)| (k, v.into_values().collect()))
        .collect()
}

fn ip_blocks(conns: &[Connection], src: bool) -> Vec<IpBlock> {
    let mut seen: BTreeMap<String, IpBlock> = BTreeMap::new();
    for c in conns {
        let p = if src { &c.src } else { &c.dst };
        if let Some(ip) = &p.ip {
            seen.insert(p.display.clone(), ip.clone());
        }
    }
    seen.into_values().collect()
}

fn refine(
    conns: &[Connection],
    src_map: &BTreeMap<String, Vec<IpBlock>>,
    dst_map: &BTreeMap<String, Vec<IpBlock>>,
) -> Vec<Connection> {
    let mut out = Vec::new();
    for c in conns {
        if let Some(ip) = &c.src.ip {
            for piece in src_map.get(&ip.to_ip_ranges()).into_iter().flatten() {
                out.push(Connection {
                    src: ip_peer(piece.clone()),
                    dst: c.dst.clone(),
                    conns: c.conns.clone(),
                    network: c.network.clone(),
                });
            }
        } else if let Some(ip) = &c.dst.ip {
            for piece in dst_map.get(&ip.to_ip_ranges()).into_iter().flatten() {
                out.push(Connection {
                    src: c.src.clone(),
                    dst: ip_peer(piece.clone()),
                    conns: c.conns.clone(),
                    network: c.network.clone(),
                });
            }
        } else {
            out.push(c.clone());
        }
    }
    out
}

type Pair = (Option<Connection>, Option<Connection>);

fn key(c: &Connection) -> String {
    format!("{};{}", c.src.display, c.dst.display)
}

/// Computes the diff from `ref1` to `ref2`; `workloads*` are the workloads of each version.
pub fn diff_lists(
    ref1: &ConnList,
    ref2: &ConnList,
    workloads1: &[PeerInfo],
    workloads2: &[PeerInfo],
) -> ConnDiff {
    let names1: BTreeSet<&str> = workloads1.iter().map(|p| p.display.as_str()).collect();
    let names2: BTreeSet<&str> = workloads2.iter().map(|p| p.display.as_str()).collect();
    let src_map = disjoint_map(
        &ip_blocks(&ref1.connections, true),
        &ip_blocks(&ref2.connections, true),
    );
    let dst_map = disjoint_map(
        &ip_blocks(&ref1.connections, false),
        &ip_blocks(&ref2.connections, false),
    );
    let c1 = refine(&ref1.connections, &src_map, &dst_map);
    let c2 = refine(&ref2.connections, &src_map, &dst_map);
    let mut pairs: BTreeMap<String, Pair> = BTreeMap::new();
    for c in c1 {
        let k = key(&c);
        pairs.entry(k).or_default().0 = Some(c);
    }
    for c in c2 {
        let k = key(&c);
        pairs.entry(k).or_default().1 = Some(c);
    }
    // Merge IP blocks that both versions treat alike, per non-IP peer.
    let mut merged: BTreeMap<String, Pair> = BTreeMap::new();
    let mut groups: BTreeMap<(bool, String), Vec<Pair>> = BTreeMap::new();
    for (k, pair) in pairs {
        let Some(any) = pair.0.as_ref().or(pair.1.as_ref()) else {
            continue;
        };
        let conn_str =
            |c: &Option<Connection>| c.as_ref().map(|c| c.conns.to_string()).unwrap_or_default();
        if any.dst.is_ip {
            let gk = format!(
                "{};{};{}",
                any.src.display,
                conn_str(&pair.0),
                conn_str(&pair.1)
            );
            groups.entry((true, gk)).or_default().push(pair);
        } else if any.src.is_ip {
            let gk = format!(
                "{};{};{}",
                any.dst.display,
                conn_str(&pair.0),
                conn_str(&pair.1)
            );
            groups.entry((false, gk)).or_default().push(pair);
        } else {
            merged.insert(k, pair);
        }
    }
    for ((dst_is_ip, _), group) in groups {
        let mut union = IntervalSet::new();
        for (a, b) in &group {
            let Some(c) = a.as_ref().or(b.as_ref()) else {
                continue;
            };
            let p = if dst_is_ip { &c.dst } else { &c.src };
            if let Some(ip) = &p.ip {
                union = union.union(&ip.set);
            }
        }
        let first = &group[0];
        for piece in (IpBlock { set: union }).split() {
            for (slot, conn) in [(0usize, &first.0), (1, &first.1)] {
                let Some(c) = conn else {
                    continue;
                };
                let new = if dst_is_ip {
                    Connection {
                        src: c.src.clone(),
                        dst: ip_peer(piece.clone()),
                        conns: c.conns.clone(),
                        network: c.network.clone(),
                    }
                } else {
                    Connection {
                        src: ip_peer(piece.clone()),
                        dst: c.dst.clone(),
                        conns: c.conns.clone(),
                        network: c.network.clone(),
                    }
                };
                let e = merged.entry(key(&new)).or_default();
                if slot == 0 {
                    e.0 = Some(new);
                } else {
                    e.1 = Some(new);
                }
            }
        }
    }
    let mut res = ConnDiff::default();
    let new_or_lost = |p: &PeerInfo, names: &BTreeSet<&str>| {
        !p.is_ip && p.name != INGRESS_CONTROLLER_NAME && !names.contains(p.display.as_str())
    };
    for (_, (a, b)) in merged {
        match (a, b) {
            (Some(a), Some(b)) => {
                let same = a.conns.equal(&b.conns);
                let item = DiffItem {
                    src: a.src.clone(),
                    dst: a.dst.clone(),
                    ref1: Some(a.conns),
                    ref2: Some(b.conns),
                    kind: if same {
                        DiffType::Unchanged
                    } else {
                        DiffType::Changed
                    },
                    src_new_or_removed: false,
                    dst_new_or_removed: false,
                };
                if same {
                    res.unchanged.push(item);
                } else {
                    res.changed.push(item);
                }
            }
            (Some(a), None) => res.removed.push(DiffItem {
                src_new_or_removed: new_or_lost(&a.src, &names2),
                dst_new_or_removed: new_or_lost(&a.dst, &names2),
                src: a.src,
                dst: a.dst,
                ref1: Some(a.conns),
                ref2: None,
                kind: DiffType::Removed,
            }),
            (None, Some(b)) => res.added.push(DiffItem {
                src_new_or_removed: new_or_lost(&b.src, &names1),
                dst_new_or_removed: new_or_lost(&b.dst, &names1),
                src: b.src,
                dst: b.dst,
                ref1: None,
                ref2: Some(b.conns),
                kind: DiffType::Added,
            }),
            (None, None) => {}
        }
    }
    res
}

struct Fields {
    kind: &'static str,
    src: String,
    dst: String,
    ref1: String,
    ref2: String,
    info: String,
}

fn fields(d: &DiffItem) -> Fields {
    let s = |c: &Option<ConnSet>| {
        c.as_ref()
            .map_or_else(|| "No Connections".to_string(), list_conn_string)
    };
    let mut info = String::new();
    if d.src_new_or_removed || d.dst_new_or_removed {
        info.push_str("workload ");
        if d.src_new_or_removed {
            info.push_str(&d.src.display);
        }
        if d.dst_new_or_removed {
            if d.src_new_or_removed {
                info.push_str(" and ");
            }
            info.push_str(&d.dst.display);
        }
        info.push(' ');
        info.push_str(d.kind.as_str());
    }
    Fields {
        kind: d.kind.as_str(),
        src: d.src.display.clone(),
        dst: d.dst.display.clone(),
        ref1: s(&d.ref1),
        ref2: s(&d.ref2),
        info,
    }
}

fn ordered_lines(diff: &ConnDiff, line: impl Fn(&Fields) -> String) -> Vec<String> {
    let mut netpol: Vec<Vec<String>> = Vec::new();
    let mut ingress: Vec<Vec<String>> = Vec::new();
    for items in [&diff.changed, &diff.added, &diff.removed] {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for d in items {
            let l = line(&fields(d));
            if d.src.name == INGRESS_CONTROLLER_NAME {
                b.push(l);
            } else {
                a.push(l);
            }
        }
        a.sort();
        b.sort();
        netpol.push(a);
        ingress.push(b);
    }
    netpol.into_iter().chain(ingress).flatten().collect()
}

fn csv_field(f: &str) -> String {
    let needs = !f.is_empty()
        && (f == "\\."
            || f.contains([',', '"', '\r', '\n'])
            || f.chars().next().is_some_and(char::is_whitespace));
    if needs {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f.to_string()
    }
}

/// Renders the diff (`ref1`/`ref2` name the two versions). Empty when nothing changed.
pub fn render_diff(
    diff: &ConnDiff,
    format: Format,
    ref1: &str,
    ref2: &str,
) -> Result<String, String> {
    if diff.is_empty() {
        return Ok(String::new());
    }
    Ok(match format {
        Format::Txt => {
            let mut lines = vec!["Connectivity diff:".to_string()];
            lines.extend(ordered_lines(diff, |f| {
                let mut l = format!(
                    "diff-type: {}, source: {}, destination: {}, {ref1}: {}, {ref2}: {}",
                    f.kind, f.src, f.dst, f.ref1, f.ref2
                );
                if !f.info.is_empty() {
                    l.push_str(", workloads-diff-info: ");
                    l.push_str(&f.info);
                }
                l
            }));
            lines.join("\n") + "\n"
        }
        Format::Csv => {
            let mut out = String::new();
            let header = [
                "diff-type",
                "source",
                "destination",
                ref1,
                ref2,
                "workloads-diff-info",
            ];
            out.push_str(
                &header
                    .iter()
                    .map(|h| csv_field(h))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
            for l in ordered_lines(diff, |f| {
                format!(
                    "{};{};{};{};{};{}",
                    f.kind, f.src, f.dst, f.ref1, f.ref2, f.info
                )
            }) {
                out.push_str(&l.split(';').map(csv_field).collect::<Vec<_>>().join(","));
                out.push('\n');
            }
            out
        }
        Format::Md => {
            let mut lines = vec![format!(
                "| diff-type | source | destination | {ref1} | {ref2} | workloads-diff-info |\n|-----------|--------|-------------|------|------|---------------------|"
            )];
            lines.extend(ordered_lines(diff, |f| {
                format!(
                    "| {} | {} | {} | {} | {} | {} |",
                    f.kind, f.src, f.dst, f.ref1, f.ref2, f.info
                )
            }));
            lines.join("\n")
        }
        Format::Dot => render_diff_dot(diff, ref1),
        Format::Json => {
            return Err("json is not a diff output format (use txt, csv, md or dot)".to_string())
        }
    })
}

fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn render_diff_dot(diff: &ConnDiff, ref1: &str) -> String {
    let mut visited: BTreeSet<String> = BTreeSet::new();
    let mut ns_peers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut external: Vec<String> = Vec::new();
    let mut edges: Vec<String> = Vec::new();
    let mut ingress_edges: Vec<String> = Vec::new();
    for items in [&diff.unchanged, &diff.changed, &diff.added, &diff.removed] {
        for d in items {
            for (p, new_or_lost) in [
                (&d.src, d.src_new_or_removed),
                (&d.dst, d.dst_new_or_removed),
            ] {
                if !visited.insert(p.display.clone()) {
                    continue;
                }
                let external_peer = p.is_ip || p.name == INGRESS_CONTROLLER_NAME;
                let label = if external_peer {
                    p.display.clone()
                } else {
                    format!("{}[{}]", p.name, p.kind)
                };
                let color = match (new_or_lost, d.kind) {
                    (true, DiffType::Added) => "#008000",
                    (true, DiffType::Removed) => "red",
                    _ => "blue",
                };
                let line = format!(
                    "\t{} [label={} color={} fontcolor={}]",
                    q(&p.display),
                    q(&label),
                    q(color),
                    q(color)
                );
                if external_peer {
                    external.push(line);
                } else {
                    ns_peers
                        .entry(format!("{}[namespace]", p.namespace))
                        .or_default()
                        .push(format!("\t{line}"));
                }
            }
            let f = fields(d);
            let (label, color) = match d.kind {
                DiffType::Unchanged => (f.ref1.clone(), "grey"),
                DiffType::Changed => (format!("{} ({ref1}: {})", f.ref2, f.ref1), "magenta"),
                DiffType::Removed => (f.ref1.clone(), "red2"),
                DiffType::Added => (f.ref2.clone(), "#008000"),
            };
            let weight = if f.src <= f.dst { "0.5" } else { "1" };
            let edge = format!(
                "\t{} -> {} [label={} color={} fontcolor={} weight={weight}]",
                q(&f.src),
                q(&f.dst),
                q(&label),
                q(color),
                q(color)
            );
            if d.src.name == INGRESS_CONTROLLER_NAME {
                ingress_edges.push(edge);
            } else {
                edges.push(edge);
            }
        }
    }
    external.sort();
    edges.sort();
    ingress_edges.sort();
    let mut all = vec!["digraph {".to_string()];
    for (ns, lines) in &ns_peers {
        let mut lines = lines.clone();
        lines.sort();
        all.push(format!(
            "\tsubgraph \"cluster_{}\" {{",
            ns.replace('-', "_")
        ));
        all.push("\t\tcolor=\"black\"".to_string());
        all.push("\t\tfontcolor=\"black\"".to_string());
        all.extend(lines);
        all.push(format!("\t\tlabel=\"{ns}\""));
        all.push("\t}".to_string());
    }
    all.extend(external);
    all.extend(edges);
    all.extend(ingress_edges);
    all.extend(legend());
    all.push("}".to_string());
    all.join("\n")
}

fn legend() -> Vec<String> {
    let mut v = vec![
        "\tnodesep=0.5".to_string(),
        "\tsubgraph cluster_legend {".to_string(),
        "\t\tlabel=\"Legend\"".to_string(),
        "\t\tfontsize = 10".to_string(),
        "\t\tmargin=0".to_string(),
    ];
    for n in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        v.push(format!("\t\t{n} [style=invis height=0 width=0]"));
    }
    v.push("\t\t{rank=source a b c d}".to_string());
    v.push("\t\t{rank=same e f g h}".to_string());
    for (a, b, label, color) in [
        ("a", "b", "added connection", "#008000"),
        ("c", "d", "removed connection", "red2"),
        ("e", "f", "changed connection", "magenta"),
        ("g", "h", "unchanged connection", "grey"),
    ] {
        v.push(format!(
            "\t\t{a} -> {b} [label=\"{label}\", color=\"{color}\" fontcolor=\"{color}\" fontsize = 10 arrowsize=0.2]"
        ));
    }
    for (n, label, color) in [
        ("np", "new peer", "#008000"),
        ("lp", "lost peer", "red"),
        ("pp", "persistent peer", "blue"),
    ] {
        v.push(format!(
            "\t\t{n} [label=\"{label}\" color=\"{color}\" fontcolor=\"{color}\" fontsize = 10]"
        ));
    }
    v.push("\t\t{rank=sink np lp pp}".to_string());
    v.push("\t\tnp->lp [style=invis]".to_string());
    v.push("\t\tlp->pp [style=invis]".to_string());
    v.push("\t}".to_string());
    v
}
