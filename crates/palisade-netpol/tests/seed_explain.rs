//! Acceptance test on the shared seed example's NetworkPolicy: `explain`
//! must show why an `app: nginx-ingress` pod of `production` reaches
//! `web-service` on 8080 (the pod-only peer of ingress rule #1 matches pods
//! of the policy's own namespace), and what stays denied.

use std::path::{Path, PathBuf};

use palisade_model::{load_inputs, load_text, Input, LoadOptions, Object};
use palisade_netpol::explain::{explain, render_text, Explanation, PortQuery};
use palisade_netpol::{read_resources, Analyzer};

fn seed_path() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/seed-examples/02-networkpolicy.yaml");
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("seed example missing at {}", path.display());
    }
    eprintln!("skipping: seed example not found at {}", path.display());
    None
}

/// The workloads the seed policy is about. Namespaces carry only the labels
/// Kubernetes sets (`kubernetes.io/metadata.name`), as in a real cluster.
const WORKLOADS: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: production, labels: {kubernetes.io/metadata.name: production}}
---
apiVersion: v1
kind: Namespace
metadata: {name: api-gateway, labels: {kubernetes.io/metadata.name: api-gateway}}
---
apiVersion: v1
kind: Namespace
metadata: {name: monitoring, labels: {kubernetes.io/metadata.name: monitoring}}
---
apiVersion: v1
kind: Pod
metadata: {name: web-service, namespace: production, labels: {app: web-service, tier: frontend}}
spec: {containers: [{name: web, ports: [{containerPort: 8080}, {containerPort: 9090}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: nginx-ingress, namespace: production, labels: {app: nginx-ingress}}
spec: {containers: [{name: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: production, labels: {app: other}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: gateway-nginx, namespace: api-gateway, labels: {app: nginx-ingress}}
spec: {containers: [{name: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: prometheus, namespace: monitoring, labels: {app: prometheus}}
spec: {containers: [{name: prom}]}
";

fn analyzer(seed: &Path) -> Analyzer {
    let loaded = load_inputs(&[Input::Path(seed.to_path_buf())], &LoadOptions::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let extra = load_text("workloads.yaml", WORKLOADS, &LoadOptions::default());
    assert!(extra.errors.is_empty(), "{:?}", extra.errors);
    let objects: Vec<Object> = loaded.objects.into_iter().chain(extra.objects).collect();
    Analyzer::new(read_resources(&objects), false).expect("analyzer")
}

fn ask(an: &Analyzer, src: &str, dst: &str, port: &str) -> Explanation {
    let q = PortQuery::parse(port).expect("port");
    explain(an, src, dst, Some(&q)).expect("explain")
}

#[test]
fn nginx_ingress_in_production_reaches_web_service_on_8080() {
    let Some(seed) = seed_path() else { return };
    let an = analyzer(&seed);
    let e = ask(
        &an,
        "production/nginx-ingress",
        "production/web-service",
        "8080",
    );
    let text = render_text(&e);
    assert_eq!(e.port_allowed, Some(true), "{text}");
    assert!(
        text.starts_with(
            "production/nginx-ingress[Pod] => production/web-service[Pod] on TCP/8080: ALLOWED\n"
        ),
        "{text}"
    );
    // Egress of nginx-ingress: no policy selects it, so egress is open.
    assert!(e.egress.policies.is_empty(), "{text}");
    assert_eq!(e.egress.allowed, "All Connections", "{text}");
    // Ingress of web-service: the seed policy, whose rule #1 matches through
    // its pod-only peer and covers 8080; rule #2 (monitoring) does not match.
    assert_eq!(e.ingress.policies.len(), 1, "{text}");
    let p = &e.ingress.policies[0];
    assert_eq!(p.name, "production/web-service-netpol");
    assert_eq!(p.rules.len(), 2, "{text}");
    assert!(p.rules[0].peer_matches, "{text}");
    assert_eq!(p.rules[0].covers_port, Some(true), "{text}");
    assert_eq!(p.rules[0].ports, "TCP 8080", "{text}");
    assert!(!p.rules[1].peer_matches, "{text}");
    assert_eq!(e.ingress.allowed, "TCP 8080", "{text}");
    assert_eq!(e.allowed, "TCP 8080", "{text}");
    assert!(
        text.contains("ingress rule #1 (line 17): allow TCP 8080 <- covers the port"),
        "{text}"
    );
}

#[test]
fn what_the_seed_policy_still_denies() {
    let Some(seed) = seed_path() else { return };
    let an = analyzer(&seed);
    // Another port of the same pair: only 8080 is allowed by rule #1.
    let e = ask(
        &an,
        "production/nginx-ingress",
        "production/web-service",
        "9090",
    );
    assert_eq!(e.port_allowed, Some(false), "{}", render_text(&e));
    // A production pod without the label.
    let e = ask(&an, "production/other", "production/web-service", "8080");
    assert_eq!(e.port_allowed, Some(false), "{}", render_text(&e));
    assert_eq!(e.allowed, "No Connections");
    // The pod-only peer is confined to the policy's namespace: the same label
    // in api-gateway does not match it, and `name: api-gateway` matches no
    // namespace (only kubernetes.io/metadata.name is set), so it is denied.
    let e = ask(
        &an,
        "api-gateway/gateway-nginx",
        "production/web-service",
        "8080",
    );
    assert_eq!(e.port_allowed, Some(false), "{}", render_text(&e));
    assert!(!e.ingress.policies[0].rules[0].peer_matches);
    // Monitoring: `name: monitoring` matches no namespace either.
    let e = ask(
        &an,
        "monitoring/prometheus",
        "production/web-service",
        "9090",
    );
    assert_eq!(e.port_allowed, Some(false), "{}", render_text(&e));
    // web-service's egress: 443 to anywhere (rule #2 has `to: []`), 5432 to
    // nothing present (no `name: database` namespace, no postgresql pod), and
    // no DNS.
    let e = ask(&an, "production/web-service", "203.0.113.7", "443");
    assert_eq!(e.port_allowed, Some(true), "{}", render_text(&e));
    let e = ask(&an, "production/web-service", "production/other", "80");
    assert_eq!(e.port_allowed, Some(true), "{}", render_text(&e));
    let e = ask(&an, "production/web-service", "203.0.113.7", "53/UDP");
    assert_eq!(e.port_allowed, Some(false), "{}", render_text(&e));
}

#[test]
fn labelling_the_namespaces_with_name_opens_the_or_peer() {
    // With the `name` label the seed expects, the namespace-only peer of rule
    // #1 admits every pod of api-gateway (OR), whatever its labels.
    let Some(seed) = seed_path() else { return };
    let loaded = load_inputs(&[Input::Path(seed)], &LoadOptions::default());
    let extra = load_text(
        "w.yaml",
        "
apiVersion: v1
kind: Namespace
metadata: {name: api-gateway, labels: {name: api-gateway}}
---
apiVersion: v1
kind: Pod
metadata: {name: web-service, namespace: production, labels: {app: web-service, tier: frontend}}
spec: {containers: [{name: web}]}
---
apiVersion: v1
kind: Pod
metadata: {name: anything, namespace: api-gateway, labels: {app: anything}}
spec: {containers: [{name: c}]}
",
        &LoadOptions::default(),
    );
    let objects: Vec<Object> = loaded.objects.into_iter().chain(extra.objects).collect();
    let an = Analyzer::new(read_resources(&objects), false).expect("analyzer");
    let e = ask(
        &an,
        "api-gateway/anything",
        "production/web-service",
        "8080",
    );
    assert_eq!(e.port_allowed, Some(true), "{}", render_text(&e));
    assert_eq!(e.allowed, "TCP 8080");
}
