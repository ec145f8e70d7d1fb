//! ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2): the Admin tier
//! before NetworkPolicies, the Baseline tier after them, priorities within a
//! tier, Accept/Deny/Pass, and `protocols` port matching.

use palisade_model::{load_text, LoadOptions};
use palisade_netpol::explain::{explain, PortQuery};
use palisade_netpol::explainlist::render_explained;
use palisade_netpol::{read_resources, Analyzer, ListOptions};

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

/// A ClusterNetworkPolicy selecting namespace `subject_ns`, with ingress rules.
fn cnp(name: &str, tier: &str, priority: i64, subject_ns: &str, ingress: &str) -> String {
    format!(
        "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n  tier: {tier}\n  priority: {priority}\n  subject:\n    namespaces: {{matchLabels: {{kubernetes.io/metadata.name: {subject_ns}}}}}\n  ingress:\n{ingress}---\n"
    )
}

/// An ingress rule from namespace `from_ns`.
fn rule(name: &str, action: &str, from_ns: &str, protocols: &str) -> String {
    let mut r = format!(
        "  - name: {name}\n    action: {action}\n    from:\n    - namespaces: {{matchLabels: {{kubernetes.io/metadata.name: {from_ns}}}}}\n"
    );
    if !protocols.is_empty() {
        r.push_str(&format!("    protocols: {protocols}\n"));
    }
    r
}

const DENY_ALL_NP: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: srv}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n---\n";
const ALLOW_ALL_NP: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow, namespace: srv}\nspec: {podSelector: {}, ingress: [{}]}\n---\n";

fn base() -> String {
    ns("srv", "")
        + &ns("cli", "")
        + &pod(
            "web",
            "srv",
            "app: web",
            "{name: http, containerPort: 8080}, {name: dns, containerPort: 53, protocol: UDP}",
        )
        + &pod("client", "cli", "app: client", "")
}

fn analyzer(yaml: &str) -> Analyzer {
    let loaded = load_text("t.yaml", yaml.to_string(), &LoadOptions::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    Analyzer::new(read_resources(&loaded.objects), false).expect("analyzer")
}

fn allowed(yaml: &str) -> String {
    explain(&analyzer(yaml), "cli/client", "srv/web", None)
        .expect("explain")
        .allowed
}

fn port_allowed(yaml: &str, port: &str) -> bool {
    let q = PortQuery::parse(port).expect("port");
    explain(&analyzer(yaml), "cli/client", "srv/web", Some(&q))
        .expect("explain")
        .port_allowed
        .expect("port result")
}

#[test]
fn admin_tier_accept_overrides_a_networkpolicy_deny() {
    let yaml = base() + DENY_ALL_NP;
    assert_eq!(allowed(&yaml), "No Connections");
    let yaml = yaml + &cnp("a", "Admin", 10, "srv", &rule("r", "Accept", "cli", ""));
    assert_eq!(allowed(&yaml), "All Connections");
}

#[test]
fn admin_tier_deny_overrides_a_networkpolicy_allow() {
    let yaml = base()
        + ALLOW_ALL_NP
        + &cnp(
            "a",
            "Admin",
            10,
            "srv",
            &rule(
                "r",
                "Deny",
                "cli",
                "[{tcp: {destinationPort: {number: 8080}}}]",
            ),
        );
    assert!(!port_allowed(&yaml, "8080/tcp"));
    assert!(port_allowed(&yaml, "8081/tcp"));
    assert!(port_allowed(&yaml, "53/udp"));
}

#[test]
fn admin_tier_pass_delegates_to_networkpolicies() {
    // Pass at priority 1 skips the Deny at priority 2; the NetworkPolicy decides.
    let yaml = base()
        + ALLOW_ALL_NP
        + &cnp("deny", "Admin", 2, "srv", &rule("d", "Deny", "cli", ""))
        + &cnp("pass", "Admin", 1, "srv", &rule("p", "Pass", "cli", ""));
    assert_eq!(allowed(&yaml), "All Connections");
    let yaml =
        base() + DENY_ALL_NP + &cnp("pass", "Admin", 1, "srv", &rule("p", "Pass", "cli", ""));
    assert_eq!(allowed(&yaml), "No Connections");
}

#[test]
fn lower_priority_number_wins_within_the_admin_tier() {
    let accept = cnp("accept", "Admin", 5, "srv", &rule("a", "Accept", "cli", ""));
    let deny = cnp("deny", "Admin", 7, "srv", &rule("d", "Deny", "cli", ""));
    assert_eq!(
        allowed(&(base() + DENY_ALL_NP + &accept + &deny)),
        "All Connections"
    );
    let accept = cnp("accept", "Admin", 9, "srv", &rule("a", "Accept", "cli", ""));
    assert_eq!(
        allowed(&(base() + DENY_ALL_NP + &accept + &deny)),
        "No Connections"
    );
}

#[test]
fn admin_tier_cnp_and_anp_share_one_priority_order() {
    let anp = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: anp}\nspec:\n  priority: 3\n  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: srv}}}\n  ingress: [{name: allow, action: Allow, from: [{namespaces: {}}]}]\n---\n";
    let deny_first = cnp("deny", "Admin", 2, "srv", &rule("d", "Deny", "cli", ""));
    assert_eq!(allowed(&(base() + anp + &deny_first)), "No Connections");
    let deny_later = cnp("deny", "Admin", 4, "srv", &rule("d", "Deny", "cli", ""));
    assert_eq!(allowed(&(base() + anp + &deny_later)), "All Connections");
}

#[test]
fn baseline_tier_applies_only_where_no_networkpolicy_selects() {
    let deny = cnp("base", "Baseline", 1, "srv", &rule("d", "Deny", "cli", ""));
    assert_eq!(allowed(&(base() + &deny)), "No Connections");
    // A NetworkPolicy selecting the pod overrides the baseline.
    assert_eq!(allowed(&(base() + ALLOW_ALL_NP + &deny)), "All Connections");
}

#[test]
fn baseline_tier_pass_goes_to_the_default_allow() {
    let pass = cnp(
        "pass",
        "Baseline",
        1,
        "srv",
        &rule(
            "p",
            "Pass",
            "cli",
            "[{tcp: {destinationPort: {number: 8080}}}]",
        ),
    );
    let deny = cnp("deny", "Baseline", 2, "srv", &rule("d", "Deny", "cli", ""));
    let yaml = base() + &pass + &deny;
    assert!(port_allowed(&yaml, "8080/tcp"));
    assert!(!port_allowed(&yaml, "8081/tcp"));
    assert!(!port_allowed(&yaml, "53/udp"));
}

#[test]
fn baseline_cnps_come_before_the_baseline_admin_network_policy() {
    let banp = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n  ingress: [{name: deny, action: Deny, from: [{namespaces: {}}]}]\n---\n";
    assert_eq!(allowed(&(base() + banp)), "No Connections");
    let accept = cnp(
        "accept",
        "Baseline",
        900,
        "srv",
        &rule("a", "Accept", "cli", ""),
    );
    assert_eq!(allowed(&(base() + banp + &accept)), "All Connections");
}

#[test]
fn protocols_match_ports_ranges_named_ports_and_whole_protocols() {
    let deny_rest = cnp("rest", "Admin", 9, "srv", &rule("d", "Deny", "cli", ""));
    let yaml = |protocols: &str| {
        base()
            + &cnp(
                "a",
                "Admin",
                1,
                "srv",
                &rule("a", "Accept", "cli", protocols),
            )
            + &deny_rest
    };
    let range = yaml("[{tcp: {destinationPort: {range: {start: 8000, end: 8100}}}}]");
    assert!(port_allowed(&range, "8050/tcp"));
    assert!(!port_allowed(&range, "8101/tcp"));
    assert!(!port_allowed(&range, "8050/udp"));
    let named = yaml("[{destinationNamedPort: dns}]");
    assert!(port_allowed(&named, "53/udp"));
    assert!(!port_allowed(&named, "53/tcp"));
    let whole = yaml("[{udp: {}}]");
    assert!(port_allowed(&whole, "9999/udp"));
    assert!(!port_allowed(&whole, "9999/tcp"));
}

#[test]
fn equal_priorities_are_allowed_with_a_warning() {
    let a = cnp("a", "Admin", 1, "srv", &rule("a", "Accept", "cli", ""));
    let b = cnp("b", "Admin", 1, "srv", &rule("d", "Deny", "cli", ""));
    let an = analyzer(&(base() + &a + &b));
    assert!(an
        .engine
        .warnings()
        .iter()
        .any(|w| w.contains("\"a\"") && w.contains("same priority")));
    // Input order decides between them.
    assert_eq!(
        explain(&an, "cli/client", "srv/web", None)
            .expect("explain")
            .allowed,
        "All Connections"
    );
}

#[test]
fn an_unknown_tier_skips_the_policy_with_a_warning() {
    let bad = cnp("bad", "Override", 1, "srv", &rule("d", "Deny", "cli", ""));
    let loaded = load_text("t.yaml", base() + &bad, &LoadOptions::default());
    let res = read_resources(&loaded.objects);
    assert!(
        res.warnings.iter().any(|w| w.contains("spec.tier")),
        "{:?}",
        res.warnings
    );
    let an = Analyzer::new(res, false).expect("analyzer");
    assert_eq!(
        explain(&an, "cli/client", "srv/web", None)
            .expect("explain")
            .allowed,
        "All Connections"
    );
}

#[test]
fn allow_is_not_a_v1alpha2_action() {
    let bad = cnp("bad", "Admin", 1, "srv", &rule("r", "Allow", "cli", ""));
    let an = analyzer(&(base() + &bad));
    assert!(explain(&an, "cli/client", "srv/web", None).is_err());
}

#[test]
fn list_and_explain_name_the_cluster_network_policy() {
    let yaml = base()
        + DENY_ALL_NP
        + &cnp(
            "open-dns",
            "Admin",
            1,
            "srv",
            &rule(
                "dns",
                "Accept",
                "cli",
                "[{udp: {destinationPort: {number: 53}}}]",
            ),
        );
    let an = analyzer(&yaml);
    let list = an.list(&ListOptions::default()).expect("list");
    let c = list
        .connections
        .iter()
        .find(|c| c.src.display == "cli/client[Pod]" && c.dst.display == "srv/web[Pod]")
        .expect("listed");
    assert_eq!(c.conns.to_string(), "UDP 53");
    let text = render_explained(
        &an.list_explained(&ListOptions::default(), None)
            .expect("explain"),
    );
    assert!(
        text.contains("ClusterNetworkPolicy 'open-dns' allows connections by Ingress rule dns"),
        "{text}"
    );
}
