//! Multiple networks (netpol-analyzer's `--multiple-networks`): primary
//! (Cluster)UserDefinedNetworks, NetworkAttachmentDefinitions with
//! MultiNetworkPolicies, and VirtualMachines.

use palisade_netpol::explainlist::render_explained;
use palisade_netpol::format::{render, Format};
use palisade_netpol::model::parse_networks_annotation;
use palisade_netpol::networks::NetworkKind;
use palisade_netpol::{analyze_objects, read_resources_with, Analyzer, ConnList, ListOptions};

fn objects(yaml: &str) -> Vec<palisade_model::Object> {
    palisade_model::load_text("t.yaml", yaml, &Default::default()).objects
}

fn multi() -> ListOptions {
    ListOptions {
        multiple_networks: true,
        ..ListOptions::default()
    }
}

fn list(yaml: &str, opts: &ListOptions) -> ConnList {
    analyze_objects(&objects(yaml), opts).expect("analysis")
}

fn has(l: &ConnList, src: &str, dst: &str, network: &str) -> bool {
    l.connections
        .iter()
        .any(|c| c.src.display == src && c.dst.display == dst && c.network.name == network)
}

fn pod(name: &str, ns: &str, annotations: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {{app: {name}}}\n  annotations: {{{annotations}}}\nspec: {{containers: [{{name: c, ports: [{{containerPort: 80}}]}}]}}\n"
    )
}

fn udn_ns(ns: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels: {{k8s.ovn.org/primary-user-defined-network: \"\"}}\n---\napiVersion: k8s.ovn.org/v1\nkind: UserDefinedNetwork\nmetadata: {{name: net, namespace: {ns}}}\nspec: {{topology: Layer2, layer2: {{role: Primary}}}}\n"
    )
}

#[test]
fn primary_udns_isolate_their_namespaces() {
    let yaml = format!(
        "{}{}{}{}{}",
        udn_ns("blue"),
        udn_ns("green"),
        pod("a", "blue", ""),
        pod("b", "blue", ""),
        pod("c", "green", "")
    );
    let l = list(&yaml, &multi());
    assert!(has(&l, "blue/a[Pod]", "blue/b[Pod]", "blue"));
    assert!(!l
        .connections
        .iter()
        .any(|c| c.src.namespace == "blue" && c.dst.namespace == "green"));
    assert!(l
        .connections
        .iter()
        .all(|c| c.network.kind == NetworkKind::Udn));
    let txt = render(&l, Format::Txt);
    assert!(
        txt.contains("\nPermitted connectivity analyzed in primary UDN blue:\n"),
        "{txt}"
    );
    assert!(
        txt.contains("\nblue[udn]/a[Pod] => blue[udn]/b[Pod] : All Connections\n"),
        "{txt}"
    );
    assert!(
        txt.contains("all input workloads are configured with (C)UDN"),
        "{txt}"
    );
    assert!(
        txt.contains("blue/a[Pod]: \n\tPrimary Network: blue[UDN]\n"),
        "{txt}"
    );
    // Without the option the UDNs are ignored: one flat pod network.
    let flat = list(&yaml, &ListOptions::default());
    assert!(has(&flat, "blue/a[Pod]", "green/c[Pod]", "pod-network"));
    assert!(!render(&flat, Format::Txt).contains("[udn]"));
}

#[test]
fn udn_needs_the_namespace_label() {
    let yaml = format!(
        "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: blue}}\n---\napiVersion: k8s.ovn.org/v1\nkind: UserDefinedNetwork\nmetadata: {{name: net, namespace: blue}}\nspec: {{topology: Layer2, layer2: {{role: Primary}}}}\n{}{}",
        pod("a", "blue", ""),
        pod("c", "other", "")
    );
    let res = read_resources_with(&objects(&yaml), true);
    let analyzer = Analyzer::new(res, false).expect("analyzer");
    assert!(
        analyzer
            .warnings
            .iter()
            .any(|w| w.contains("lacks the label")),
        "{:?}",
        analyzer.warnings
    );
    let l = analyzer.list(&multi()).expect("list");
    assert!(has(&l, "blue/a[Pod]", "other/c[Pod]", "pod-network"));
}

#[test]
fn invalid_udns_are_errors() {
    let in_default = "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n  labels: {k8s.ovn.org/primary-user-defined-network: \"\"}\n---\napiVersion: k8s.ovn.org/v1\nkind: UserDefinedNetwork\nmetadata: {name: net, namespace: default}\nspec: {topology: Layer2, layer2: {role: Primary}}\n";
    let e = analyze_objects(
        &objects(&(in_default.to_string() + &pod("a", "default", ""))),
        &multi(),
    )
    .expect_err("UDN in default");
    assert!(e.contains("default"), "{e}");
    let two = format!(
        "{}---\napiVersion: k8s.ovn.org/v1\nkind: UserDefinedNetwork\nmetadata: {{name: net2, namespace: blue}}\nspec: {{topology: Layer3, layer3: {{role: Primary}}}}\n{}",
        udn_ns("blue"),
        pod("a", "blue", "")
    );
    let e = analyze_objects(&objects(&two), &multi()).expect_err("two primaries");
    assert!(e.contains("two primary"), "{e}");
    let bad_topology = udn_ns("blue").replace("topology: Layer2", "topology: Layer9");
    let e = analyze_objects(&objects(&(bad_topology + &pod("a", "blue", ""))), &multi())
        .expect_err("bad topology");
    assert!(e.contains("Layer9"), "{e}");
}

#[test]
fn a_cudn_joins_namespaces() {
    let ns = |n: &str| {
        format!("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {n}\n  labels: {{k8s.ovn.org/primary-user-defined-network: \"\", tenant: happy}}\n")
    };
    let yaml = format!(
        "{}{}---\napiVersion: k8s.ovn.org/v1\nkind: ClusterUserDefinedNetwork\nmetadata: {{name: happy}}\nspec:\n  namespaceSelector: {{matchLabels: {{tenant: happy}}}}\n  network: {{topology: Layer2, layer2: {{role: Primary}}}}\n{}{}{}",
        ns("red"),
        ns("blue"),
        pod("a", "red", ""),
        pod("b", "blue", ""),
        pod("c", "plain", "")
    );
    let l = list(&yaml, &multi());
    assert!(has(&l, "red/a[Pod]", "blue/b[Pod]", "happy"));
    assert!(!l.connections.iter().any(|c| (c.src.namespace == "plain")
        != (c.dst.namespace == "plain")
        && !c.src.is_ip
        && !c.dst.is_ip));
    let txt = render(&l, Format::Txt);
    assert!(
        txt.contains("Permitted connectivity analyzed in primary CUDN happy:\n"),
        "{txt}"
    );
    assert!(
        txt.contains("red/a[Pod]: \n\tPrimary Network: happy[CUDN]\n"),
        "{txt}"
    );
    let dot = render(&l, Format::Dot);
    assert!(
        dot.contains("subgraph \"cluster_happy\" {\n\tlabel=\"happy[cluster-udn]\""),
        "{dot}"
    );
    assert!(dot.contains("subgraph \"cluster_pod_network\""), "{dot}");
}

const NADS: &str = "---\napiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata: {name: l2, namespace: ns1}\n---\napiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata: {name: l2, namespace: ns2}\n";

#[test]
fn secondary_network_with_multi_network_policy() {
    let mnp = "---\napiVersion: k8s.cni.cncf.io/v1beta1\nkind: MultiNetworkPolicy\nmetadata:\n  name: only-80\n  namespace: ns1\n  annotations: {k8s.v1.cni.cncf.io/policy-for: l2}\nspec:\n  podSelector: {matchLabels: {app: a}}\n  policyTypes: [Ingress]\n  ingress: [{from: [{namespaceSelector: {}}], ports: [{port: 80}]}]\n";
    let yaml = format!(
        "{NADS}{mnp}{}{}{}",
        pod("a", "ns1", "k8s.v1.cni.cncf.io/networks: l2"),
        pod("b", "ns2", "k8s.v1.cni.cncf.io/networks: l2"),
        pod("c", "ns2", "")
    );
    let l = list(&yaml, &multi());
    // On the pod network everything is allowed; on l2 only TCP 80 into a.
    assert!(has(&l, "ns2/b[Pod]", "ns1/a[Pod]", "pod-network"));
    let on_l2: Vec<_> = l
        .connections
        .iter()
        .filter(|c| c.network.name == "l2")
        .map(|c| {
            (
                c.src.display.as_str(),
                c.dst.display.as_str(),
                c.conns.to_string(),
            )
        })
        .collect();
    assert_eq!(
        on_l2,
        vec![
            ("ns1/a[Pod]", "ns2/b[Pod]", "All Connections".to_string()),
            ("ns2/b[Pod]", "ns1/a[Pod]", "TCP 80".to_string()),
        ]
    );
    let csv = render(&l, Format::Csv);
    assert!(csv.starts_with("src,dst,conn,network\n"), "{csv}");
    assert!(csv.contains("ns2/b[Pod],ns1/a[Pod],TCP 80,l2\n"), "{csv}");
    let md = render(&l, Format::Md);
    assert!(
        md.contains("| ns2/b[Pod] | ns1/a[Pod] | TCP 80 | l2 | "),
        "{md}"
    );
    let dot = render(&l, Format::Dot);
    assert!(
        dot.contains("\"ns2/b[Pod]l2\" -> \"ns1/a[Pod]l2\""),
        "{dot}"
    );
    // The explanation names the MultiNetworkPolicy.
    let res = read_resources_with(&objects(&yaml), true);
    let x = Analyzer::new(res, false)
        .and_then(|a| a.list_explained(&multi(), None))
        .expect("explain");
    let text = render_explained(&x);
    assert!(
        text.contains("Specific connections and their reasons in secondary NAD l2"),
        "{text}"
    );
    assert!(
        text.contains("MultiNetworkPolicy 'ns1/only-80' allows connections by Ingress rule #1"),
        "{text}"
    );
}

#[test]
fn nad_must_exist_in_the_pods_namespace() {
    // b asks for l2 but there is no NAD l2 in ns3: no secondary connection.
    let yaml = format!(
        "{NADS}{}{}",
        pod("a", "ns1", "k8s.v1.cni.cncf.io/networks: l2"),
        pod("b", "ns3", "k8s.v1.cni.cncf.io/networks: l2"),
    );
    let l = list(&yaml, &multi());
    assert!(has(&l, "ns1/a[Pod]", "ns3/b[Pod]", "pod-network"));
    assert!(l.connections.iter().all(|c| c.network.name != "l2"));
    // The mapping still lists what b asks for.
    assert!(l
        .workload_networks
        .iter()
        .any(|(w, _, s)| w == "ns3/b[Pod]" && s == &vec!["l2[NAD]".to_string()]));
}

#[test]
fn same_labels_different_networks_are_not_one_class() {
    // Two pods alike for policies, but only one on l2.
    let yaml = format!(
        "{NADS}{}{}{}",
        pod("a", "ns1", "k8s.v1.cni.cncf.io/networks: l2"),
        pod("px", "ns1", "k8s.v1.cni.cncf.io/networks: l2").replace("app: px", "app: same"),
        pod("py", "ns1", "").replace("app: py", "app: same"),
    );
    let l = list(&yaml, &multi());
    assert!(has(&l, "ns1/a[Pod]", "ns1/px[Pod]", "l2"));
    assert!(!has(&l, "ns1/a[Pod]", "ns1/py[Pod]", "l2"));
    assert!(has(&l, "ns1/a[Pod]", "ns1/py[Pod]", "pod-network"));
}

#[test]
fn multi_network_policy_needs_policy_for() {
    let mnp = "---\napiVersion: k8s.cni.cncf.io/v1beta1\nkind: MultiNetworkPolicy\nmetadata: {name: p, namespace: ns1}\nspec:\n  podSelector: {}\n  ingress: []\n";
    let yaml = format!(
        "{NADS}{mnp}{}{}",
        pod("a", "ns1", "k8s.v1.cni.cncf.io/networks: l2"),
        pod("b", "ns2", "k8s.v1.cni.cncf.io/networks: l2"),
    );
    let e = analyze_objects(&objects(&yaml), &multi()).expect_err("no policy-for");
    assert!(e.contains("policy-for"), "{e}");
}

#[test]
fn virtual_machines_are_workloads_selected_by_ip_block_only() {
    let vm = |name: &str, ip: &str| {
        format!("---\napiVersion: kubevirt.io/v1\nkind: VirtualMachine\nmetadata: {{name: {name}, namespace: ns1}}\nspec:\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      networks:\n      - {{name: default, pod: {{}}}}\n      - {{name: sec, multus: {{networkName: l2}}}}\n      volumes:\n      - name: cloudinit\n        cloudInitNoCloud:\n          networkData: |\n            ethernets:\n              eth1:\n                addresses:\n                - {ip}/24\n")
    };
    // Ingress to vm-a on l2: from pods labelled app=vm-b (cannot select a
    // VM) or from 10.0.0.0/30 (vm-c's address only).
    let mnp = "---\napiVersion: k8s.cni.cncf.io/v1beta1\nkind: MultiNetworkPolicy\nmetadata:\n  name: p\n  namespace: ns1\n  annotations: {k8s.v1.cni.cncf.io/policy-for: l2}\nspec:\n  podSelector: {matchLabels: {app: vm-a}}\n  policyTypes: [Ingress]\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: vm-b}}}, {ipBlock: {cidr: 10.0.0.0/30}}]\n";
    let yaml = format!(
        "{NADS}{mnp}{}{}{}",
        vm("vm-a", "10.0.0.1"),
        vm("vm-b", "10.0.1.1"),
        vm("vm-c", "10.0.0.2")
    );
    let l = list(&yaml, &multi());
    assert!(has(
        &l,
        "ns1/vm-c[VirtualMachine]",
        "ns1/vm-a[VirtualMachine]",
        "l2"
    ));
    assert!(!has(
        &l,
        "ns1/vm-b[VirtualMachine]",
        "ns1/vm-a[VirtualMachine]",
        "l2"
    ));
    assert!(has(
        &l,
        "ns1/vm-b[VirtualMachine]",
        "ns1/vm-a[VirtualMachine]",
        "pod-network"
    ));
    // Without multiple networks, VirtualMachines are not read at all.
    assert!(list(&yaml, &ListOptions::default()).connections.is_empty());
}

#[test]
fn cross_network_pairs_are_left_out_of_explanations() {
    let yaml = format!(
        "{}{}{}{}",
        udn_ns("blue"),
        udn_ns("green"),
        pod("a", "blue", ""),
        pod("c", "green", "")
    );
    let res = read_resources_with(&objects(&yaml), true);
    let analyzer = Analyzer::new(res, false).expect("analyzer");
    let text = render_explained(&analyzer.list_explained(&multi(), None).expect("explain"));
    assert!(!text.contains("blue[udn]/a[Pod] => green"), "{text}");
    assert!(
        text.contains("*** Note: Connections between any peers from separate isolated networks"),
        "{text}"
    );
    // With a focus port the isolation is the reason given.
    let focused = ListOptions {
        focus_conn: Some("tcp-80".to_string()),
        ..multi()
    };
    let text = render_explained(&analyzer.list_explained(&focused, None).expect("explain"));
    assert!(
        text.contains("Denied TCP:[80] due to existence of user defined networks:\n\t\tEgress \n\t\t\tUserDefinedNetwork 'blue' isolates blue[udn]/a[Pod]; and UserDefinedNetwork 'green' isolates green[udn]/c[Pod]"),
        "{text}"
    );
}

#[test]
fn networks_annotation_forms() {
    let m = parse_networks_annotation("first, other/second@net1").expect("list form");
    assert_eq!(m.keys().collect::<Vec<_>>(), vec!["first", "second"]);
    assert_eq!(m["second"].namespace, "other");
    assert_eq!(m["first"].namespace, "");
    let j =
        parse_networks_annotation(r#"[{"name": "l2", "namespace": "ns", "ips": ["2.2.5.12/24"]}]"#)
            .expect("json form");
    assert_eq!(j["l2"].ips, vec!["2.2.5.12/24".to_string()]);
    assert!(parse_networks_annotation("[{oops").is_err());
}
