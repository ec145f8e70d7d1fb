//! The lint rules about cluster address ranges, protocols and Service ports.

use palisade_model::{load_text, Finding, LoadOptions};
use palisade_netpol::lint::{lint, lint_with, LintOptions};
use palisade_netpol::{read_resources, Analyzer};

fn findings_with(yaml: &str, opts: Option<&LintOptions>) -> Vec<Finding> {
    let loaded = load_text("t.yaml", yaml, &LoadOptions::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let an = Analyzer::new(read_resources(&loaded.objects), false).expect("analyzer");
    match opts {
        Some(o) => lint_with(&loaded.objects, &an, o),
        None => lint(&loaded.objects, &an),
    }
}

fn of_rule(fs: &[Finding], rule: &str) -> Vec<String> {
    fs.iter()
        .filter(|f| f.rule == rule)
        .map(|f| f.location.field.clone().unwrap_or_default())
        .collect()
}

const PODS: &str = "
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: dns, namespace: a, labels: {app: dns}}
spec: {containers: [{name: c, ports: [{containerPort: 53, protocol: UDP}, {containerPort: 5353, protocol: UDP}, {containerPort: 5353, protocol: TCP}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: a}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-named, namespace: a}
spec: {selector: {app: web}, ports: [{port: 81, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: syslog, namespace: a}
spec: {selector: {app: dns}, ports: [{port: 514, targetPort: 1514, protocol: UDP}]}
";

fn policy(spec: &str) -> String {
    format!(
        "{PODS}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: a}}\nspec:\n{spec}"
    )
}

const CIDR: &str = "netpol/ipblock-covers-cluster-cidr";
const PROTO: &str = "netpol/port-without-protocol-on-udp";
const SVC: &str = "netpol/service-port-instead-of-target-port";

#[test]
fn ipblocks_on_pod_or_service_cidrs() {
    let y = policy(
        "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.244.3.0/24}\n    - ipBlock: {cidr: 10.100.0.0/16}\n    - ipBlock: {cidr: 10.0.0.0/8, except: [10.244.0.0/16, 10.96.0.0/12]}\n    - ipBlock: {cidr: 0.0.0.0/0}\n    - ipBlock: {cidr: 203.0.113.0/24}\n    - ipBlock: {cidr: '10.0.0.0/8', except: [10.244.0.0/17, 10.96.0.0/12]}\n",
    );
    let fs = findings_with(&y, None);
    assert_eq!(
        of_rule(&fs, CIDR),
        vec![
            "spec.egress[0].to[0].ipBlock",
            "spec.egress[0].to[1].ipBlock",
            "spec.egress[0].to[5].ipBlock",
        ]
    );
    let f = fs.iter().find(|f| f.rule == CIDR).expect("finding");
    assert!(
        f.message.contains("the pod CIDR 10.244.0.0/16"),
        "{}",
        f.message
    );
    assert_eq!(f.location.span.start.line, 35);
    // Configurable: with the cluster's own ranges the findings follow them.
    let opts = LintOptions::new(
        &["192.168.0.0/16".into()],
        &["172.20.0.0/16".into(), "fd00::/108".into()],
    )
    .expect("options");
    let fs = findings_with(&y, Some(&opts));
    assert_eq!(
        of_rule(&fs, CIDR),
        Vec::<String>::new(),
        "10.0.0.0/8 blocks are outside 192.168/16 and 172.20/16"
    );
    let y2 =
        policy("  podSelector: {}\n  ingress:\n  - from: [{ipBlock: {cidr: 172.20.5.5/32}}]\n");
    assert_eq!(
        of_rule(&findings_with(&y2, Some(&opts)), CIDR),
        vec!["spec.ingress[0].from[0].ipBlock"]
    );
    assert!(LintOptions::new(&["10.0.0.0/33".into()], &[]).is_err());
}

#[test]
fn ports_without_protocol_toward_udp_destinations() {
    let y = policy(
        "  podSelector: {matchLabels: {app: dns}}\n  policyTypes: [Ingress]\n  ingress:\n  - ports:\n    - port: 53\n    - port: 5353\n    - {port: 53, protocol: UDP}\n    - port: 1514\n    - port: 9999\n",
    );
    let fs = findings_with(&y, None);
    // 53: UDP only (container port); 5353 has TCP too; 1514 is the UDP
    // Service's targetPort; 9999 is served by nothing.
    assert_eq!(
        of_rule(&fs, PROTO),
        vec!["spec.ingress[0].ports[0]", "spec.ingress[0].ports[3]"]
    );
    assert!(fs
        .iter()
        .any(|f| f.rule == PROTO && f.message.contains("over UDP")));
    // Egress toward the dns pods: same rule, destinations from the peers.
    let y = policy(
        "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{podSelector: {matchLabels: {app: dns}}}]\n    ports: [{port: 53}, {port: 53, protocol: UDP}]\n",
    );
    assert_eq!(
        of_rule(&findings_with(&y, None), PROTO),
        vec!["spec.egress[0].ports[0]"]
    );
    // Toward the web pods, TCP is right.
    let y =
        policy("  podSelector: {matchLabels: {app: web}}\n  ingress: [{ports: [{port: 8080}]}]\n");
    assert!(of_rule(&findings_with(&y, None), PROTO).is_empty());
}

#[test]
fn service_port_instead_of_target_port() {
    let y = policy(
        "  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - ports: [{port: 80}, {port: 8080}, {port: 81}, {port: 443}]\n",
    );
    let fs = findings_with(&y, None);
    assert_eq!(
        of_rule(&fs, SVC),
        vec!["spec.ingress[0].ports[0]", "spec.ingress[0].ports[2]"]
    );
    let f = fs.iter().find(|f| f.rule == SVC).expect("finding");
    assert!(f.message.contains("Service a/web"), "{}", f.message);
    assert!(f.message.contains("targetPort 8080"), "{}", f.message);
    // A pod that also listens on the Service port: no confusion.
    let y = y.replace(
        "ports: [{containerPort: 8080, name: http}]",
        "ports: [{containerPort: 8080, name: http}, {containerPort: 80}, {containerPort: 81}]",
    );
    assert!(of_rule(&findings_with(&y, None), SVC).is_empty());
    // Egress to the Service's pods on its port.
    let y = policy(
        "  podSelector: {matchLabels: {app: dns}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 80, protocol: TCP}]\n",
    );
    assert_eq!(
        of_rule(&findings_with(&y, None), SVC),
        vec!["spec.egress[0].ports[0]"]
    );
}
