//! `list` on a generated cluster: 200 namespaces, 5,000 pods (1,000
//! Deployments of 5 replicas), 1,000 NetworkPolicies (5 per namespace:
//! default deny, same-app ingress on a port, monitoring ingress on a named
//! port, DNS egress, egress to an external CIDR).
//!
//! `cargo bench -p palisade-netpol --bench list`

use criterion::{criterion_group, criterion_main, Criterion};
use palisade_model::{load_text, LoadOptions, Object};
use palisade_netpol::format::{render, Format};
use palisade_netpol::{read_resources, Analyzer, ListOptions};

pub const NAMESPACES: usize = 200;
pub const DEPLOYMENTS_PER_NS: usize = 5;
pub const REPLICAS: usize = 5;

/// The generated manifests.
pub fn cluster_yaml() -> String {
    let mut y = String::new();
    for n in 0..NAMESPACES {
        let ns = format!("ns-{n}");
        let tier = if n % 2 == 0 { "frontend" } else { "backend" };
        y.push_str(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{tier: {tier}, env: prod}}}}\n---\n"
        ));
        for d in 0..DEPLOYMENTS_PER_NS {
            y.push_str(&format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{d}, namespace: {ns}}}\nspec:\n  replicas: {REPLICAS}\n  template:\n    metadata: {{labels: {{app: app-{d}, team: team-{}}}}}\n    spec: {{containers: [{{name: c, ports: [{{name: http, containerPort: 8080}}, {{name: metrics, containerPort: 9090}}]}}]}}\n---\n",
                n % 7
            ));
        }
        y.push_str(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: default-deny, namespace: {ns}}}\nspec: {{podSelector: {{}}, policyTypes: [Ingress, Egress]}}\n---\n"
        ));
        y.push_str(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: same-app, namespace: {ns}}}\nspec:\n  podSelector: {{matchLabels: {{app: app-{}}}}}\n  ingress:\n  - from: [{{namespaceSelector: {{matchLabels: {{tier: frontend}}}}, podSelector: {{matchLabels: {{app: app-0}}}}}}]\n    ports: [{{port: 8080}}]\n---\n",
            n % DEPLOYMENTS_PER_NS
        ));
        y.push_str(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: monitoring, namespace: {ns}}}\nspec:\n  podSelector: {{matchExpressions: [{{key: team, operator: In, values: [team-1, team-2, team-3]}}]}}\n  ingress:\n  - from: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: ns-0}}}}}}]\n    ports: [{{port: metrics}}]\n---\n"
        ));
        y.push_str(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: dns, namespace: {ns}}}\nspec:\n  podSelector: {{}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: ns-1}}}}, podSelector: {{matchLabels: {{app: app-1}}}}}}]\n    ports: [{{port: 53, protocol: UDP}}, {{port: 53, protocol: TCP}}]\n---\n"
        ));
        y.push_str(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: external, namespace: {ns}}}\nspec:\n  podSelector: {{matchLabels: {{app: app-{}}}}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{{ipBlock: {{cidr: 10.{}.0.0/16, except: [10.{}.1.0/24]}}}}, {{namespaceSelector: {{matchLabels: {{tier: backend}}}}}}]\n    ports: [{{port: 443}}]\n---\n",
            (n + 1) % DEPLOYMENTS_PER_NS,
            n % 250,
            n % 250
        ));
    }
    y
}

fn objects() -> Vec<Object> {
    let loaded = load_text("cluster.yaml", cluster_yaml(), &LoadOptions::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors.first());
    loaded.objects
}

fn bench(c: &mut Criterion) {
    let objects = objects();
    let mut group = c.benchmark_group("netpol");
    group.sample_size(10);
    group.bench_function("list_5000_pods_1000_policies", |b| {
        b.iter(|| {
            let analyzer = Analyzer::new(read_resources(&objects), false).expect("analyzer");
            let list = analyzer.list(&ListOptions::default()).expect("list");
            assert!(!list.connections.is_empty());
            list.connections.len()
        })
    });
    let analyzer = Analyzer::new(read_resources(&objects), false).expect("analyzer");
    let list = analyzer.list(&ListOptions::default()).expect("list");
    group.bench_function("render_txt", |b| {
        b.iter(|| render(&list, Format::Txt).len())
    });
    group.bench_function("list_exposure", |b| {
        b.iter(|| {
            let analyzer = Analyzer::new(read_resources(&objects), true).expect("analyzer");
            analyzer
                .list(&ListOptions {
                    exposure: true,
                    ..ListOptions::default()
                })
                .expect("list")
                .connections
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
