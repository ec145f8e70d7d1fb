//! netpol-analyzer's output formats for the connectivity list: txt, json,
//! csv, md and dot, byte for byte.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::conn::{short_range, ConnSet, ALL_CONNS_STR, NO_CONNS_STR};
use crate::connlist::{ConnList, Connection, ExposedPeer, ExposureItem, PeerInfo};
use crate::model::NS_NAME_LABEL;
use crate::networks::{Network, NetworkKind};
use crate::selector::LabelSelector;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Txt,
    Json,
    Csv,
    Md,
    Dot,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "txt" | "text" => Some(Format::Txt),
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "md" => Some(Format::Md),
            "dot" => Some(Format::Dot),
            _ => None,
        }
    }

    pub const NAMES: &'static [&'static str] = &["txt", "json", "csv", "md", "dot"];
}

/// A listed connection as printed.
#[derive(Debug, Clone, Default)]
struct Line {
    src: String,
    dst: String,
    conn: String,
    /// The connection's network (the pod network for exposure lines).
    network: Network,
}

/// The connection as the list prints it: numbered ports only.
pub fn list_conn_string(c: &ConnSet) -> String {
    if c.all {
        return ALL_CONNS_STR.to_string();
    }
    let pp = c.protocols_and_ports();
    if c.protos.is_empty() {
        return NO_CONNS_STR.to_string();
    }
    let mut parts: Vec<String> = pp
        .iter()
        .map(|(proto, ports)| {
            let s = ports
                .ranges()
                .iter()
                .map(|&(a, b)| short_range(a, b))
                .collect::<Vec<_>>()
                .join(",");
            format!("{proto} {s}")
        })
        .collect();
    parts.sort();
    parts.join(",")
}

/// `ns/name[Kind]` as `ns[udn]/name[Kind]`: a peer isolated in its
/// namespace's UserDefinedNetwork.
pub(crate) fn udn_labelled(display: &str) -> String {
    match display.split_once('/') {
        Some((ns, rest)) => format!("{ns}[udn]/{rest}"),
        None => display.to_string(),
    }
}

/// How a connection's end prints: labelled when it is in the UDN of its
/// namespace.
pub(crate) fn peer_string(p: &PeerInfo, network: &Network) -> String {
    if network.kind == NetworkKind::Udn && !p.is_ip && p.namespace == network.name {
        udn_labelled(&p.display)
    } else {
        p.display.clone()
    }
}

fn line_of(c: &Connection) -> Line {
    Line {
        src: peer_string(&c.src, &c.network),
        dst: peer_string(&c.dst, &c.network),
        conn: list_conn_string(&c.conns),
        network: c.network.clone(),
    }
}

fn sort_lines(lines: &mut [Line], by_src: bool) {
    if by_src {
        lines.sort_by(|a, b| {
            a.src
                .cmp(&b.src)
                .then_with(|| a.dst.cmp(&b.dst))
                .then_with(|| a.network.name.cmp(&b.network.name))
        });
    } else {
        lines.sort_by(|a, b| {
            a.dst
                .cmp(&b.dst)
                .then_with(|| a.src.cmp(&b.src))
                .then_with(|| a.network.name.cmp(&b.network.name))
        });
    }
}

/// Connections from and to IP blocks, kept for the exposure sections.
#[derive(Default)]
struct IpMaps {
    from_ips: BTreeMap<String, Vec<Line>>,
    to_ips: BTreeMap<String, Vec<Line>>,
}

fn connlist_lines(list: &ConnList, ip_maps: &mut IpMaps) -> Vec<Line> {
    let mut lines = Vec::new();
    for c in &list.connections {
        let l = line_of(c);
        let empty = !c.conns.all && c.conns.protocols_and_ports().is_empty();
        if c.src.is_ip && !empty {
            ip_maps
                .from_ips
                .entry(c.dst.display.clone())
                .or_default()
                .push(l.clone());
        }
        if c.dst.is_ip && !empty {
            ip_maps
                .to_ips
                .entry(c.src.display.clone())
                .or_default()
                .push(l.clone());
        }
        if empty {
            continue;
        }
        lines.push(l);
    }
    sort_lines(&mut lines, true);
    lines
}

fn ns_string(sel: &LabelSelector, brackets: bool) -> String {
    if sel.match_labels.len() == 1 && sel.match_expressions.is_empty() {
        if let Some(name) = sel.match_labels.get(NS_NAME_LABEL) {
            return name.clone();
        }
    }
    let s = if sel.is_empty() {
        "all namespaces".to_string()
    } else {
        format!("namespace with {{{}}}", sel.display())
    };
    if brackets {
        format!("[{s}]")
    } else {
        s
    }
}

fn pod_string(sel: &LabelSelector, brackets: bool) -> String {
    let s = if sel.is_empty() {
        "all pods".to_string()
    } else {
        format!("pod with {{{}}}", sel.display())
    };
    if brackets {
        format!("[{s}]")
    } else {
        s
    }
}

const ENTIRE_CLUSTER: &str = "entire-cluster";

fn exposure_line(peer: &str, other: String, conn: String, ingress: bool) -> Line {
    if ingress {
        Line {
            src: other,
            dst: peer.to_string(),
            conn,
            ..Line::default()
        }
    } else {
        Line {
            src: peer.to_string(),
            dst: other,
            conn,
            ..Line::default()
        }
    }
}

fn item_line(peer: &str, item: &ExposureItem, ingress: bool) -> Line {
    let other = if item.entire_cluster {
        ENTIRE_CLUSTER.to_string()
    } else {
        format!(
            "{}/{}",
            ns_string(&item.namespace_labels, true),
            pod_string(&item.pod_labels, true)
        )
    };
    exposure_line(peer, other, item.conn.to_string(), ingress)
}

/// (ingress lines, egress lines, unprotected lines).
fn exposure_lines(
    exposed: &[ExposedPeer],
    ip_maps: &IpMaps,
) -> (Vec<Line>, Vec<Line>, Vec<String>) {
    let mut ing = Vec::new();
    let mut eg = Vec::new();
    let mut unprotected = Vec::new();
    for ep in exposed {
        let peer = &ep.peer.display;
        for (ingress, x, out) in [(true, &ep.ingress, &mut ing), (false, &ep.egress, &mut eg)] {
            let direction = if ingress { "Ingress" } else { "Egress" };
            if !x.protected {
                out.push(exposure_line(
                    peer,
                    ENTIRE_CLUSTER.to_string(),
                    ALL_CONNS_STR.to_string(),
                    ingress,
                ));
                unprotected.push(format!("{peer} is not protected on {direction}"));
            } else {
                for item in &x.items {
                    out.push(item_line(peer, item, ingress));
                }
            }
            let map = if ingress {
                &ip_maps.from_ips
            } else {
                &ip_maps.to_ips
            };
            if let Some(lines) = map.get(peer) {
                out.extend(lines.iter().cloned());
            }
        }
    }
    sort_lines(&mut ing, false);
    sort_lines(&mut eg, true);
    (ing, eg, unprotected)
}

fn subsection(lines: &[String], header: &str) -> String {
    if lines.is_empty() {
        return String::new();
    }
    format!("{header}{}\n", lines.join("\n"))
}

/// Renders the list in `format`.
pub fn render(list: &ConnList, format: Format) -> String {
    match format {
        Format::Txt => render_txt(list),
        Format::Json => render_json(list),
        Format::Csv => render_csv(list),
        Format::Md => render_md(list),
        Format::Dot => render_dot(list),
    }
}

/// Lines on the pod network, and per primary UDN, primary CUDN and
/// secondary NAD network (by name).
type Sections<'a> = (Vec<&'a Line>, [BTreeMap<&'a str, Vec<&'a Line>>; 3]);

fn sections(lines: &[Line]) -> Sections<'_> {
    let mut pod = Vec::new();
    let mut nets: [BTreeMap<&str, Vec<&Line>>; 3] = Default::default();
    for l in lines {
        let slot = match l.network.kind {
            NetworkKind::Pod => {
                pod.push(l);
                continue;
            }
            NetworkKind::Udn => 0,
            NetworkKind::Cudn => 1,
            NetworkKind::Nad => 2,
        };
        nets[slot].entry(&l.network.name).or_default().push(l);
    }
    (pod, nets)
}

/// The section titles of the networks, as [`sections`] orders them.
pub(crate) const NETWORK_TITLES: [&str; 3] = ["primary UDN", "primary CUDN", "secondary NAD"];

fn render_txt(list: &ConnList) -> String {
    let mut ip_maps = IpMaps::default();
    let lines = connlist_lines(list, &mut ip_maps);
    let mut res = String::new();
    let (pod, nets) = sections(&lines);
    let has_networks = nets.iter().any(|m| !m.is_empty());
    let write_line = |res: &mut String, l: &Line| {
        if list.focus_conn.is_some() {
            let _ = writeln!(res, "{} => {}", l.src, l.dst);
        } else {
            let _ = writeln!(res, "{} => {} : {}", l.src, l.dst, l.conn);
        }
    };
    if let Some(f) = &list.focus_conn {
        let _ = writeln!(res, "Permitted connections on {f}:");
        if has_networks && !pod.is_empty() {
            res.push_str("Permitted connectivity analyzed in Pod network:\n");
        }
    } else if has_networks {
        res.push_str("Permitted connectivity analyzed in Pod network:\n");
        if pod.is_empty() && list.multiple_networks {
            res.push_str(if list.pod_network_workloads == 0 {
                "all input workloads are configured with (C)UDN as their primary network interface\n"
            } else {
                "All connections are not allowed for the workloads in the pod-network\n"
            });
        }
    }
    for l in &pod {
        write_line(&mut res, l);
    }
    for (title, map) in NETWORK_TITLES.iter().zip(&nets) {
        for (name, lines) in map {
            let _ = write!(
                res,
                "\nPermitted connectivity analyzed in {title} {name}:\n"
            );
            for l in lines {
                write_line(&mut res, l);
            }
        }
    }
    if list.focus_conn.is_none() && list.multiple_networks && !list.workload_networks.is_empty() {
        res.push_str("\nWorkload-to-Networks Mapping:\n");
        for (w, primary, secondary) in &list.workload_networks {
            let _ = write!(res, "{w}: \n\tPrimary Network: {primary}\n");
            if !secondary.is_empty() {
                let _ = writeln!(res, "\tSecondary Networks: {}", secondary.join(","));
            }
        }
    }
    if list.exposure.is_none() {
        return res;
    }
    if !res.is_empty() && res != "\n" {
        res.push('\n');
    }
    res.push_str(&exposure_txt(list, &ip_maps));
    res
}

/// The txt exposure section for `list`, with the given connections from
/// and to IP blocks: `(src, dst, conn, src is an IP, dst is an IP)`.
pub fn render_exposure_txt(
    list: &ConnList,
    ip_lines: &[(String, String, String, bool, bool)],
) -> String {
    let mut ip_maps = IpMaps::default();
    for (src, dst, conn, src_ip, dst_ip) in ip_lines {
        let l = Line {
            src: src.clone(),
            dst: dst.clone(),
            conn: conn.clone(),
            ..Line::default()
        };
        if *src_ip {
            ip_maps
                .from_ips
                .entry(dst.clone())
                .or_default()
                .push(l.clone());
        }
        if *dst_ip {
            ip_maps.to_ips.entry(src.clone()).or_default().push(l);
        }
    }
    exposure_txt(list, &ip_maps)
}

fn exposure_txt(list: &ConnList, ip_maps: &IpMaps) -> String {
    let mut res = String::new();
    let Some(exposed) = &list.exposure else {
        return res;
    };
    let max = exposed
        .iter()
        .map(|e| e.peer.display.len())
        .max()
        .unwrap_or(0);
    let (ing, eg, mut unprotected) = exposure_lines(exposed, ip_maps);
    unprotected.sort();
    let fmt_line = |l: &Line, ingress: bool| -> String {
        let (peer, dir, other) = if ingress {
            (&l.dst, "<=", &l.src)
        } else {
            (&l.src, "=>", &l.dst)
        };
        match &list.focus_conn {
            Some(_) => format!("{peer:<max$} \t{dir} \t{other}"),
            None => format!("{peer:<max$} \t{dir} \t{other} : {}", l.conn),
        }
    };
    res.push_str("Exposure Analysis Result");
    if let Some(f) = &list.focus_conn {
        let _ = write!(res, " On {f}");
    }
    res.push_str(":\n");
    let eg_lines: Vec<String> = eg.iter().map(|l| fmt_line(l, false)).collect();
    let ing_lines: Vec<String> = ing.iter().map(|l| fmt_line(l, true)).collect();
    res.push_str(&subsection(&eg_lines, "Egress Exposure:\n"));
    let ing_head = if eg_lines.is_empty() {
        "Ingress Exposure:\n"
    } else {
        "\nIngress Exposure:\n"
    };
    res.push_str(&subsection(&ing_lines, ing_head));
    if list.focus_conn.is_none() {
        res.push_str(&subsection(
            &unprotected,
            "\nWorkloads not protected by network policies:\n",
        ));
    }
    res
}

/// A JSON string as Go's encoding/json writes it (HTML characters escaped).
pub fn go_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_items(lines: Option<&[Line]>, with_conn: bool, indent: &str) -> String {
    let Some(lines) = lines else {
        return "null".to_string();
    };
    if lines.is_empty() {
        return "[]".to_string();
    }
    let mut s = String::from("[\n");
    for (i, l) in lines.iter().enumerate() {
        let _ = write!(
            s,
            "{indent}  {{\n{indent}    \"src\": {},\n{indent}    \"dst\": {}",
            go_json_string(&l.src),
            go_json_string(&l.dst)
        );
        if with_conn {
            let _ = write!(s, ",\n{indent}    \"conn\": {}", go_json_string(&l.conn));
        }
        let _ = write!(s, "\n{indent}  }}");
        if i + 1 < lines.len() {
            s.push(',');
        }
        s.push('\n');
    }
    let _ = write!(s, "{indent}]");
    s
}

fn render_json(list: &ConnList) -> String {
    let mut ip_maps = IpMaps::default();
    let lines = connlist_lines(list, &mut ip_maps);
    let with_conn = list.focus_conn.is_none();
    let Some(exposed) = &list.exposure else {
        return json_items(Some(&lines), with_conn, "");
    };
    let (ing, eg, _) = exposure_lines(exposed, &ip_maps);
    // Go marshals an empty exposure list as null, but the focus-connection
    // variant copies it into a fresh (non-nil) slice: `[]`.
    let opt = |v: &Vec<Line>| {
        if v.is_empty() && with_conn {
            None
        } else {
            Some(v.clone())
        }
    };
    let (ing, eg) = (opt(&ing), opt(&eg));
    let (k1, k2) = if with_conn {
        ("connlist_results", "exposure_results")
    } else {
        ("connlist_conn_focus_results", "exposure_conn_focus_results")
    };
    format!(
        "{{\n  \"{k1}\": {},\n  \"{k2}\": {{\n    \"egress_exposure\": {},\n    \"ingress_exposure\": {}\n  }}\n}}",
        json_items(Some(&lines), with_conn, "  "),
        json_items(eg.as_deref(), with_conn, "    "),
        json_items(ing.as_deref(), with_conn, "    "),
    )
}

/// A CSV field as Go's encoding/csv writes it.
fn csv_field(f: &str) -> String {
    let needs = !f.is_empty()
        && (f == "\\."
            || f.contains([',', '"', '\r', '\n'])
            || f.chars().next().is_some_and(char::is_whitespace));
    if !needs {
        return f.to_string();
    }
    format!("\"{}\"", f.replace('"', "\"\""))
}

fn csv_row(out: &mut String, fields: &[&str]) {
    let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    out.push_str(&row.join(","));
    out.push('\n');
}

fn csv_rows(out: &mut String, lines: &[Line], src_first: bool, with_conn: bool, network: bool) {
    for l in lines {
        let (a, b) = if src_first {
            (&l.src, &l.dst)
        } else {
            (&l.dst, &l.src)
        };
        let mut row: Vec<&str> = vec![a, b];
        if with_conn {
            row.push(&l.conn);
        }
        if network {
            row.push(&l.network.name);
        }
        csv_row(out, &row);
    }
}

fn csv_header(out: &mut String, src_first: bool, with_conn: bool, network: bool) {
    let (a, b) = if src_first {
        ("src", "dst")
    } else {
        ("dst", "src")
    };
    let mut row = vec![a, b];
    if with_conn {
        row.push("conn");
    }
    if network {
        row.push("network");
    }
    csv_row(out, &row);
}

fn render_csv(list: &ConnList) -> String {
    let mut ip_maps = IpMaps::default();
    let lines = connlist_lines(list, &mut ip_maps);
    let with_conn = list.focus_conn.is_none();
    let mut out = String::new();
    csv_header(&mut out, true, with_conn, list.multiple_networks);
    csv_rows(&mut out, &lines, true, with_conn, list.multiple_networks);
    if let Some(exposed) = &list.exposure {
        let (ing, eg, _) = exposure_lines(exposed, &ip_maps);
        let mut head = "Exposure Analysis Result".to_string();
        if let Some(f) = &list.focus_conn {
            let _ = write!(head, " On {f}");
        }
        head.push(':');
        csv_row(&mut out, &[&head, "", ""]);
        for (ingress, lines) in [(false, &eg), (true, &ing)] {
            if lines.is_empty() {
                continue;
            }
            let sub = if ingress {
                "Ingress Exposure:"
            } else {
                "Egress Exposure:"
            };
            csv_row(&mut out, &[sub, "", ""]);
            csv_header(&mut out, !ingress, with_conn, false);
            csv_rows(&mut out, lines, !ingress, with_conn, false);
        }
    }
    out
}

fn md_header(src_first: bool, with_conn: bool) -> String {
    md_header_net(src_first, with_conn, false)
}

/// The md table header; `network` adds netpol-analyzer's network column
/// (with its trailing space when the connection column is there too).
fn md_header_net(src_first: bool, with_conn: bool, network: bool) -> String {
    let (a, b) = if src_first {
        ("src", "dst")
    } else {
        ("dst", "src")
    };
    if network {
        return if with_conn {
            format!("| {a} | {b} | conn | network | \n|-----|-----|------|------|")
        } else {
            format!("| {a} | {b} | network |\n|-----|-----|------|")
        };
    }
    if with_conn {
        format!("| {a} | {b} | conn |\n|-----|-----|------|")
    } else {
        format!("| {a} | {b} |\n|-----|-----|")
    }
}

fn md_lines(lines: &[Line], src_first: bool, with_conn: bool) -> Vec<String> {
    md_lines_net(lines, src_first, with_conn, false)
}

fn md_lines_net(lines: &[Line], src_first: bool, with_conn: bool, network: bool) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let (a, b) = if src_first {
                (&l.src, &l.dst)
            } else {
                (&l.dst, &l.src)
            };
            let net = &l.network.name;
            if network {
                return if with_conn {
                    format!("| {a} | {b} | {} | {net} | ", l.conn)
                } else {
                    format!("| {a} | {b} | {net} |")
                };
            }
            if with_conn {
                format!("| {a} | {b} | {} |", l.conn)
            } else {
                format!("| {a} | {b} |")
            }
        })
        .collect()
}

fn render_md(list: &ConnList) -> String {
    let mut ip_maps = IpMaps::default();
    let lines = connlist_lines(list, &mut ip_maps);
    let with_conn = list.focus_conn.is_none();
    let net = list.multiple_networks;
    let mut all = vec![md_header_net(true, with_conn, net)];
    all.extend(md_lines_net(&lines, true, with_conn, net));
    let Some(exposed) = &list.exposure else {
        return all.join("\n") + "\n";
    };
    let mut head = "## Exposure Analysis Result".to_string();
    if let Some(f) = &list.focus_conn {
        let _ = write!(head, " On {f}");
    }
    head.push(':');
    all.push(head);
    let (ing, eg, _) = exposure_lines(exposed, &ip_maps);
    all.push(subsection(
        &md_lines(&eg, true, with_conn),
        &format!("### Egress Exposure:\n{}\n", md_header(true, with_conn)),
    ));
    all.push(subsection(
        &md_lines(&ing, false, with_conn),
        &format!("### Ingress Exposure:\n{}\n", md_header(false, with_conn)),
    ));
    all.join("\n")
}

/// Go's `%q` for the plain strings used here.
fn q(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn dot_peer_line(id: &str, label: &str, color: &str) -> String {
    format!(
        "\t{} [label={} color={} fontcolor={}]",
        q(id),
        q(label),
        q(color),
        q(color)
    )
}

fn dot_add_to_ns(ns: &str, line: String, map: &mut BTreeMap<String, Vec<String>>) {
    map.entry(format!("{ns}[namespace]"))
        .or_default()
        .push(format!("\t{line}"));
}

fn dot_ns_groups(map: &BTreeMap<String, Vec<String>>, color: &str) -> Vec<String> {
    let mut res = Vec::new();
    for (ns, lines) in map {
        let mut lines = lines.clone();
        lines.sort();
        res.push(format!(
            "\tsubgraph \"cluster_{}\" {{",
            ns.replace('-', "_")
        ));
        res.push(format!("\t\tcolor={}", q(color)));
        res.push(format!("\t\tfontcolor={}", q(color)));
        res.extend(lines);
        res.push(format!("\t\tlabel=\"{ns}\""));
        res.push("\t}".to_string());
    }
    res
}

fn dot_edge(src: &str, dst: &str, conn: &str, color: &str, weight: &str, style: &str) -> String {
    format!(
        "\t{} -> {} [label={} color={} fontcolor=\"darkgreen\" weight={weight}{style}]",
        q(src),
        q(dst),
        q(conn),
        q(color)
    )
}

fn is_external(p: &PeerInfo) -> bool {
    p.is_ip || p.name == crate::connlist::INGRESS_CONTROLLER_NAME
}

fn render_dot(list: &ConnList) -> String {
    let mut ns_peers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut ns_rep_peers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Peers on a primary UDN (by namespace), and per CUDN and per NAD
    // network, by namespace.
    let mut udn_peers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut net_peers: [BTreeMap<String, BTreeMap<String, Vec<String>>>; 2] = Default::default();
    let mut external: Vec<String> = Vec::new();
    let mut edges: Vec<String> = Vec::new();
    let mut visited: std::collections::HashSet<String> = std::collections::HashSet::new();
    // A peer on a NAD network is a node of that network's group too: its
    // node name carries the network's name.
    let node_id = |p: &PeerInfo, net: Option<&Network>| match net {
        Some(n) if n.kind == NetworkKind::Nad => format!("{}{}", p.display, n.name),
        _ => p.display.clone(),
    };
    let mut add_peer = |p: &PeerInfo,
                        net: Option<&Network>,
                        ns_peers: &mut BTreeMap<String, Vec<String>>,
                        external: &mut Vec<String>| {
        let id = node_id(p, net);
        if !visited.insert(id.clone()) {
            return;
        }
        let (label, color) = if p.is_ip {
            (p.display.clone(), "red2")
        } else if p.name == crate::connlist::INGRESS_CONTROLLER_NAME {
            (p.display.clone(), "blue")
        } else {
            (format!("{}[{}]", p.name, p.kind), "blue")
        };
        let line = dot_peer_line(&id, &label, color);
        if is_external(p) {
            external.push(line);
            return;
        }
        match net.map(|n| (n.kind, n.name.as_str())) {
            Some((NetworkKind::Udn, _)) => udn_peers
                .entry(format!("{}[udn]", p.namespace))
                .or_default()
                .push(format!("\t{line}")),
            Some((NetworkKind::Cudn, name)) => dot_add_to_ns(
                &p.namespace,
                line,
                net_peers[0].entry(name.to_string()).or_default(),
            ),
            Some((NetworkKind::Nad, name)) => dot_add_to_ns(
                &p.namespace,
                line,
                net_peers[1].entry(name.to_string()).or_default(),
            ),
            _ => dot_add_to_ns(&p.namespace, line, ns_peers),
        }
    };
    for c in &list.connections {
        let net = Some(&c.network);
        let (s, d) = (node_id(&c.src, net), node_id(&c.dst, net));
        let weight = if s <= d { "0.5" } else { "1" };
        edges.push(dot_edge(
            &s,
            &d,
            &list_conn_string(&c.conns),
            "gold2",
            weight,
            "",
        ));
        add_peer(&c.src, net, &mut ns_peers, &mut external);
        add_peer(&c.dst, net, &mut ns_peers, &mut external);
    }
    for p in &list.peers {
        if !p.is_ip {
            add_peer(p, None, &mut ns_peers, &mut external);
        }
    }
    let mut rep_visited: std::collections::HashSet<String> = std::collections::HashSet::new();
    if let Some(exposed) = &list.exposure {
        for ep in exposed {
            let peer = &ep.peer.display;
            if !visited.contains(peer) {
                let line =
                    dot_peer_line(peer, &format!("{}[{}]", ep.peer.name, ep.peer.kind), "blue");
                dot_add_to_ns(&ep.peer.namespace, line, &mut ns_peers);
            }
            for (ingress, x) in [(true, &ep.ingress), (false, &ep.egress)] {
                let (color, weight) = if ingress {
                    ("darkorange2", "1")
                } else {
                    ("darkorange4", "0.5")
                };
                let mut edge = |other: &str, conn: String| {
                    let (a, b) = if ingress {
                        (other, peer.as_str())
                    } else {
                        (peer.as_str(), other)
                    };
                    edges.push(dot_edge(a, b, &conn, color, weight, " style=dashed"));
                };
                if !x.protected {
                    rep_visited.insert(ENTIRE_CLUSTER.to_string());
                    edge(ENTIRE_CLUSTER, ALL_CONNS_STR.to_string());
                    continue;
                }
                for item in &x.items {
                    if item.entire_cluster {
                        rep_visited.insert(ENTIRE_CLUSTER.to_string());
                        edge(ENTIRE_CLUSTER, item.conn.to_string());
                        continue;
                    }
                    let ns_label = ns_string(&item.namespace_labels, false);
                    let pod_label = pod_string(&item.pod_labels, false);
                    let rep_str = format!("{pod_label}_in_{ns_label}");
                    if rep_visited.insert(rep_str.clone()) {
                        let line = dot_peer_line(&rep_str, &pod_label, "red2");
                        if ns_peers.contains_key(&ns_label) {
                            dot_add_to_ns(&ns_label, line, &mut ns_peers);
                        } else {
                            dot_add_to_ns(&ns_label, line, &mut ns_rep_peers);
                        }
                    }
                    edge(&rep_str, item.conn.to_string());
                }
            }
        }
    }
    if rep_visited.contains(ENTIRE_CLUSTER) {
        external.push(format!(
            "\t{} [label={} color=\"red2\" fontcolor=\"red2\" shape=diamond]",
            q(ENTIRE_CLUSTER),
            q(ENTIRE_CLUSTER)
        ));
    }
    edges.sort();
    external.sort();
    let mut all = vec!["digraph {".to_string()];
    if udn_peers.is_empty() && net_peers.iter().all(BTreeMap::is_empty) {
        all.extend(dot_ns_groups(&ns_peers, "black"));
        all.extend(dot_ns_groups(&ns_rep_peers, "red2"));
    } else {
        // Grouped by network: the pod network, UDN namespaces, then each
        // CUDN and NAD network with its namespaces.
        if !ns_peers.is_empty() || !ns_rep_peers.is_empty() {
            all.push("\tsubgraph \"cluster_pod_network\" {".to_string());
            all.push("\tlabel=\"pod network\"".to_string());
            all.extend(dot_ns_groups(&ns_peers, "black"));
            all.extend(dot_ns_groups(&ns_rep_peers, "red2"));
            all.push("\t}".to_string());
        }
        all.extend(dot_ns_groups(&udn_peers, "black"));
        for (map, label) in net_peers.iter().zip(["[cluster-udn]", "[nad]"]) {
            for (name, groups) in map {
                all.push(format!("\tsubgraph \"cluster_{name}\" {{"));
                all.push(format!("\tlabel=\"{name}{label}\""));
                all.extend(dot_ns_groups(groups, "black"));
                all.push("\t}".to_string());
            }
        }
    }
    all.extend(external);
    all.extend(edges);
    all.push("}".to_string());
    all.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_escapes() {
        assert_eq!(
            go_json_string("a<b>&\"c\""),
            "\"a\\u003cb\\u003e\\u0026\\\"c\\\"\""
        );
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field(" lead"), "\" lead\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
