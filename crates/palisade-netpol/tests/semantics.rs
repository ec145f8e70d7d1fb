//! Kubernetes NetworkPolicy semantics, including the odd corners.

use palisade_model::{load_text, LoadOptions};
use palisade_netpol::explain::{explain, PortQuery};
use palisade_netpol::{analyze_objects, read_resources, Analyzer, ListOptions};

fn pod(name: &str, ns: &str, labels: &str, ports: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: {{{labels}}}}}\nspec: {{containers: [{{name: c, ports: [{ports}]}}]}}\n---\n"
    )
}

fn ns(name: &str, labels: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{{labels}}}}}\n---\n"
    )
}

fn analyzer(yaml: &str) -> Analyzer {
    let loaded = load_text("t.yaml", yaml.to_string(), &LoadOptions::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    Analyzer::new(read_resources(&loaded.objects), false).expect("analyzer")
}

/// The allowed connections from `src` to `dst` (workload names or IPs).
fn allowed(yaml: &str, src: &str, dst: &str) -> String {
    explain(&analyzer(yaml), src, dst, None)
        .expect("explain")
        .allowed
}

fn allowed_port(yaml: &str, src: &str, dst: &str, port: &str) -> bool {
    let q = PortQuery::parse(port).expect("port");
    explain(&analyzer(yaml), src, dst, Some(&q))
        .expect("explain")
        .port_allowed
        .expect("port result")
}

fn base() -> String {
    ns("a", "team: tx")
        + &ns("b", "team: ty")
        + &pod("web", "a", "app: web", "{name: http, containerPort: 8080}")
        + &pod("client", "a", "app: client", "")
        + &pod(
            "other",
            "b",
            "app: client",
            "{name: http, containerPort: 9090, protocol: UDP}",
        )
}

#[test]
fn no_policy_allows_everything() {
    assert_eq!(allowed(&base(), "a/client", "a/web"), "All Connections");
    assert_eq!(allowed(&base(), "10.1.2.3", "a/web"), "All Connections");
}

#[test]
fn policy_types_default_to_ingress_and_egress_only_with_egress_rules() {
    // No policyTypes and no egress rules: ingress isolated, egress open.
    let y = base() + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {podSelector: {matchLabels: {app: web}}}\n";
    assert_eq!(allowed(&y, "a/client", "a/web"), "No Connections");
    assert_eq!(allowed(&y, "a/web", "a/client"), "All Connections");
    // With an egress rule and no policyTypes, egress is isolated too.
    let y = base() + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  egress: [{ports: [{port: 53, protocol: UDP}]}]\n";
    assert_eq!(allowed(&y, "a/web", "a/client"), "UDP 53");
    // policyTypes [Egress] only: ingress rules are dead, ingress stays open.
    let y = base() + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  ingress: [{from: [{podSelector: {matchLabels: {app: nobody}}}]}]\n";
    assert_eq!(allowed(&y, "a/client", "a/web"), "All Connections");
    assert_eq!(allowed(&y, "a/web", "a/client"), "No Connections");
}

#[test]
fn empty_rule_and_empty_peers_allow_all() {
    // `ingress: [{}]` allows everything from everywhere.
    let y = base() + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {podSelector: {}, ingress: [{}]}\n";
    assert_eq!(allowed(&y, "b/other", "a/web"), "All Connections");
    assert_eq!(allowed(&y, "8.8.8.8", "a/web"), "All Connections");
    // `from: []` with ports: those ports from everywhere.
    let y = base() + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {podSelector: {}, ingress: [{from: [], ports: [{port: 8080}]}]}\n";
    assert_eq!(allowed(&y, "b/other", "a/web"), "TCP 8080");
    assert_eq!(allowed(&y, "8.8.8.8", "a/web"), "TCP 8080");
    // `ingress: []`: deny all ingress.
    let y = base() + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {podSelector: {}, ingress: []}\n";
    assert_eq!(allowed(&y, "a/client", "a/web"), "No Connections");
}

#[test]
fn namespace_and_pod_selector_in_one_peer_is_and_separate_peers_are_or() {
    let and = base() + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: ty}}\n      podSelector: {matchLabels: {app: client}}\n";
    assert_eq!(allowed(&and, "b/other", "a/web"), "All Connections");
    // a/client has app=client but namespace a is not team=y.
    assert_eq!(allowed(&and, "a/client", "a/web"), "No Connections");
    let or = base() + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: ty}}\n    - podSelector: {matchLabels: {app: client}}\n";
    assert_eq!(allowed(&or, "b/other", "a/web"), "All Connections");
    assert_eq!(allowed(&or, "a/client", "a/web"), "All Connections");
}

#[test]
fn pod_selector_alone_means_the_policy_namespace_and_metadata_name_is_automatic() {
    let y = base() + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}]}]\n";
    assert_eq!(allowed(&y, "a/client", "a/web"), "All Connections");
    assert_eq!(allowed(&y, "b/other", "a/web"), "No Connections");
    let y = base() + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: b}}}]}]\n";
    assert_eq!(allowed(&y, "b/other", "a/web"), "All Connections");
}

#[test]
fn ip_blocks_with_except_and_pods_are_not_ip_blocks() {
    let y = base() + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}]\n";
    assert_eq!(allowed(&y, "10.2.3.4", "a/web"), "All Connections");
    assert_eq!(allowed(&y, "10.1.3.4", "a/web"), "No Connections");
    assert_eq!(allowed(&y, "11.0.0.1", "a/web"), "No Connections");
    // A CIDR only partly inside the block is not selected.
    assert_eq!(allowed(&y, "10.0.0.0/7", "a/web"), "No Connections");
    // Pods are never matched by ipBlock (their IPs are cluster-internal).
    assert_eq!(allowed(&y, "a/client", "a/web"), "No Connections");
    // The listed external peers are the disjoint blocks the policy mentions,
    // one per address range (as netpol-analyzer splits them).
    let loaded = load_text("t.yaml", y, &LoadOptions::default());
    let list = analyze_objects(&loaded.objects, &ListOptions::default()).expect("list");
    let txt = palisade_netpol::format::render(&list, palisade_netpol::format::Format::Txt);
    assert!(
        txt.contains("10.0.0.0-10.0.255.255[External] => a/web[Pod] : All Connections"),
        "{txt}"
    );
    assert!(
        txt.contains("10.2.0.0-10.255.255.255[External] => a/web[Pod] : All Connections"),
        "{txt}"
    );
    assert!(
        !txt.contains("10.1.0.0-10.1.255.255[External] => a/web"),
        "{txt}"
    );
}

#[test]
fn ports_protocol_defaults_named_ports_and_end_port() {
    let y = base() + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {}\n  ingress: [{ports: [{port: http}, {port: 1000, endPort: 1002, protocol: UDP}, {protocol: SCTP, port: 7}]}]\n";
    // `http` resolves to 8080/TCP on web (protocol defaults to TCP).
    assert_eq!(
        allowed(&y, "a/client", "a/web"),
        "SCTP 7,TCP 8080,UDP 1000-1002"
    );
    assert!(allowed_port(&y, "a/client", "a/web", "8080/tcp"));
    assert!(!allowed_port(&y, "a/client", "a/web", "8080/udp"));
    assert!(allowed_port(&y, "a/client", "a/web", "1001/udp"));
    assert!(!allowed_port(&y, "a/client", "a/web", "1003/udp"));
    // client has no port named http: only the numbered ports.
    assert_eq!(allowed(&y, "a/web", "a/client"), "SCTP 7,UDP 1000-1002");
}

#[test]
fn named_port_protocol_must_match_the_container_port() {
    // other's `http` is UDP: a TCP rule on `http` allows nothing to it.
    let y = base() + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: b}\nspec:\n  podSelector: {}\n  ingress: [{ports: [{port: http}]}]\n";
    assert_eq!(allowed(&y, "a/client", "b/other"), "No Connections");
    let y = y.replace("{port: http}", "{port: http, protocol: UDP}");
    assert_eq!(allowed(&y, "a/client", "b/other"), "UDP 9090");
}

#[test]
fn allows_of_several_policies_are_unioned_and_both_directions_must_allow() {
    let y = base()
        + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p1, namespace: a}\nspec: {podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: 80}]}]}\n---\n"
        + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p2, namespace: a}\nspec: {podSelector: {}, ingress: [{ports: [{port: 443}]}]}\n---\n"
        + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: e, namespace: a}\nspec: {podSelector: {matchLabels: {app: client}}, policyTypes: [Egress], egress: [{ports: [{port: 443}, {port: 8443}]}]}\n";
    assert_eq!(allowed(&y, "b/other", "a/web"), "TCP 80,443");
    assert_eq!(allowed(&y, "a/client", "a/web"), "TCP 443");
}

const ANP_DENY: &str = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: deny-b}\nspec:\n  priority: 10\n  subject: {namespaces: {matchLabels: {team: tx}}}\n  ingress:\n  - {name: deny-from-b, action: Deny, from: [{namespaces: {matchLabels: {team: ty}}}]}\n  - {name: pass-rest, action: Pass, from: [{namespaces: {}}]}\n";

#[test]
fn admin_policies_take_precedence_over_network_policies() {
    // A NetworkPolicy allowing everything cannot override an ANP Deny.
    let y = base() + ANP_DENY + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: all, namespace: a}\nspec: {podSelector: {}, ingress: [{}]}\n";
    assert_eq!(allowed(&y, "b/other", "a/web"), "No Connections");
    // Passed traffic goes to the NetworkPolicies.
    assert_eq!(allowed(&y, "a/client", "a/web"), "All Connections");
    let y2 = base() + ANP_DENY + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: none, namespace: a}\nspec: {podSelector: {}, ingress: []}\n";
    assert_eq!(allowed(&y2, "a/client", "a/web"), "No Connections");
}

#[test]
fn baseline_applies_only_when_no_network_policy_selects_the_pod() {
    let banp = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n  ingress: [{name: deny-all, action: Deny, from: [{namespaces: {}}]}]\n";
    let y = base() + banp;
    assert_eq!(allowed(&y, "a/client", "a/web"), "No Connections");
    // External traffic is not matched by a namespaces peer: allowed by default.
    assert_eq!(allowed(&y, "1.2.3.4", "a/web"), "All Connections");
    let y = y + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: 8080}]}]}\n";
    assert_eq!(allowed(&y, "a/client", "a/web"), "TCP 8080");
}

#[test]
fn equal_priority_admin_policies_are_an_error() {
    let y = base() + ANP_DENY + "---\n" + &ANP_DENY.replace("deny-b", "other");
    let loaded = load_text("t.yaml", y, &LoadOptions::default());
    let err = Analyzer::new(read_resources(&loaded.objects), false)
        .err()
        .expect("error");
    assert!(err.contains("same priority"), "{err}");
}

#[test]
fn workloads_with_replicas_are_one_peer_and_self_connections_are_not_listed() {
    let y = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: s}\nspec:\n  replicas: 3\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: c}]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: s}\nspec: {podSelector: {}, ingress: []}\n";
    let loaded = load_text("t.yaml", y, &LoadOptions::default());
    let list = analyze_objects(&loaded.objects, &ListOptions::default()).expect("list");
    let txt = palisade_netpol::format::render(&list, palisade_netpol::format::Format::Txt);
    assert_eq!(
        txt,
        "s/api[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections\n"
    );
}

#[test]
fn invalid_selectors_and_cidrs_are_reported_not_panicked() {
    for spec in [
        "podSelector: {matchExpressions: [{key: app, operator: In, values: []}]}",
        "podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/40}}]}]",
        "podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]",
        "podSelector: {}\n  ingress: [{ports: [{port: http, endPort: 90}]}]",
    ] {
        let y = base() + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  " + spec + "\n";
        let loaded = load_text("t.yaml", y, &LoadOptions::default());
        let res = analyze_objects(&loaded.objects, &ListOptions::default());
        assert!(res.is_err(), "{spec} should be rejected");
    }
}

#[test]
fn coverage_reports_unisolated_workloads_and_missing_default_deny() {
    let y = base()
        + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: a}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n";
    let loaded = load_text("t.yaml", y, &LoadOptions::default());
    let analyzer = Analyzer::new(read_resources(&loaded.objects), false).expect("analyzer");
    let cov = palisade_netpol::coverage::coverage(&analyzer);
    let web = cov
        .workloads
        .iter()
        .find(|w| w.workload == "a/web[Pod]")
        .expect("web");
    assert!(web.ingress_isolated() && !web.egress_isolated());
    let other = cov
        .workloads
        .iter()
        .find(|w| w.workload == "b/other[Pod]")
        .expect("other");
    assert!(!other.ingress_isolated() && !other.egress_isolated());
    let a = cov
        .namespaces
        .iter()
        .find(|n| n.namespace == "a")
        .expect("ns a");
    assert_eq!(
        a.default_deny_ingress.as_deref(),
        Some("NetworkPolicy a/deny")
    );
    assert_eq!(a.default_deny_egress, None);
    let findings = palisade_netpol::coverage::coverage_findings(&loaded.objects, &analyzer, &cov);
    let rules: Vec<&str> = findings.iter().map(|f| f.rule).collect();
    assert_eq!(
        rules
            .iter()
            .filter(|r| **r == "netpol/workload-not-isolated")
            .count(),
        3
    );
    assert_eq!(
        rules
            .iter()
            .filter(|r| **r == "netpol/namespace-without-default-deny")
            .count(),
        2
    );
}

#[test]
fn diff_classifies_added_removed_and_changed() {
    let before = base()
        + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {podSelector: {matchLabels: {app: web}}, ingress: [{from: [{podSelector: {}}], ports: [{port: 80}]}]}\n";
    let after = before.replace("port: 80", "port: 8080");
    let list = |y: &str| {
        let loaded = load_text("t.yaml", y.to_string(), &LoadOptions::default());
        analyze_objects(&loaded.objects, &ListOptions::default()).expect("list")
    };
    let (l1, l2) = (list(&before), list(&after));
    let d = palisade_netpol::diff::diff_lists(&l1, &l2, &l1.peers, &l2.peers);
    assert_eq!(d.changed.len(), 1, "{d:?}");
    assert!(d.added.is_empty() && d.removed.is_empty());
    let txt =
        palisade_netpol::diff::render_diff(&d, palisade_netpol::format::Format::Txt, "old", "new")
            .expect("render");
    assert_eq!(
        txt,
        "Connectivity diff:\ndiff-type: changed, source: a/client[Pod], destination: a/web[Pod], old: TCP 80, new: TCP 8080\n"
    );
    let same = palisade_netpol::diff::diff_lists(&l1, &l1, &l1.peers, &l1.peers);
    assert!(same.is_empty());
}
