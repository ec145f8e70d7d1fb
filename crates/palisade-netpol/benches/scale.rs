//! `list` at scale: 10,000 pods (500 namespaces × 4 Deployments × 5
//! replicas, so 2,000 workloads) under 1,000 NetworkPolicies (2 per
//! namespace: a default deny and one allow policy, the allow kinds rotating
//! over namespaces), target < 1 s; and a growth check with the same pods
//! under 250, 500, 1,000 and 2,000 NetworkPolicies (policy `i` in namespace
//! `i % 500`; the four allow kinds rotate, no default deny), with a
//! BaselineAdminNetworkPolicy denying all pod-to-pod and egress traffic so that the
//! number of allowed connections (the output) stays small and the time
//! measures the evaluation of the policies.
//!
//! `cargo bench -p palisade-netpol --bench scale`

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use palisade_model::{load_text, LoadOptions, Object};
use palisade_netpol::{read_resources, Analyzer, ListOptions};

const NAMESPACES: usize = 500;
const DEPLOYMENTS_PER_NS: usize = 4;
const REPLICAS: usize = 5;

fn workloads_yaml(y: &mut String) {
    for n in 0..NAMESPACES {
        let tier = if n % 2 == 0 { "frontend" } else { "backend" };
        y.push_str(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: ns-{n}, labels: {{tier: {tier}, env: prod}}}}\n---\n"
        ));
        for d in 0..DEPLOYMENTS_PER_NS {
            y.push_str(&format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{d}, namespace: ns-{n}}}\nspec:\n  replicas: {REPLICAS}\n  template:\n    metadata: {{labels: {{app: app-{d}, team: team-{}}}}}\n    spec: {{containers: [{{name: c, ports: [{{name: http, containerPort: 8080}}, {{name: metrics, containerPort: 9090}}]}}]}}\n---\n",
                n % 7
            ));
        }
    }
}

/// Policy of kind `kind` in namespace `n` (names unique per namespace and kind).
fn policy_yaml(y: &mut String, n: usize, kind: usize) {
    let ns = format!("ns-{n}");
    match kind % 5 {
        0 => y.push_str(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: default-deny-{kind}, namespace: {ns}}}\nspec: {{podSelector: {{}}, policyTypes: [Ingress, Egress]}}\n---\n"
        )),
        1 => y.push_str(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: same-app-{kind}, namespace: {ns}}}\nspec:\n  podSelector: {{matchLabels: {{app: app-{}}}}}\n  policyTypes: [Ingress]\n  ingress:\n  - from: [{{namespaceSelector: {{matchLabels: {{tier: frontend}}}}, podSelector: {{matchLabels: {{app: app-0}}}}}}]\n    ports: [{{port: 8080}}]\n---\n",
            n % DEPLOYMENTS_PER_NS
        )),
        2 => y.push_str(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: dns-{kind}, namespace: {ns}}}\nspec:\n  podSelector: {{}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: ns-1}}}}, podSelector: {{matchLabels: {{app: app-1}}}}}}]\n    ports: [{{port: 53, protocol: UDP}}, {{port: 53, protocol: TCP}}]\n---\n"
        )),
        3 => y.push_str(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: monitoring-{kind}, namespace: {ns}}}\nspec:\n  podSelector: {{matchExpressions: [{{key: team, operator: In, values: [team-1, team-2, team-3]}}]}}\n  policyTypes: [Ingress]\n  ingress:\n  - from: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: ns-0}}}}}}]\n    ports: [{{port: metrics}}]\n---\n"
        )),
        _ => y.push_str(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: external-{kind}, namespace: {ns}}}\nspec:\n  podSelector: {{matchLabels: {{app: app-{}}}}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{{ipBlock: {{cidr: 10.{}.0.0/16, except: [10.{}.1.0/24]}}}}, {{namespaceSelector: {{matchLabels: {{tier: backend}}}}, podSelector: {{matchLabels: {{app: app-2}}}}}}]\n    ports: [{{port: 443}}]\n---\n",
            (n + 1) % DEPLOYMENTS_PER_NS,
            n % 250,
            n % 250
        )),
    }
}

/// The main cluster: per namespace a default deny and one allow policy.
fn cluster_1000() -> String {
    let mut y = String::new();
    workloads_yaml(&mut y);
    for n in 0..NAMESPACES {
        policy_yaml(&mut y, n, 0);
        policy_yaml(&mut y, n, 1 + n % 4);
    }
    y
}

/// The growth cluster: `policies` NetworkPolicies plus a baseline deny-all.
fn cluster_growth(policies: usize) -> String {
    let mut y = String::new();
    workloads_yaml(&mut y);
    y.push_str("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n  ingress: [{name: deny-all, action: Deny, from: [{namespaces: {}}]}]\n  egress: [{name: deny-all, action: Deny, to: [{namespaces: {}}, {networks: [0.0.0.0/0]}]}]\n---\n");
    for i in 0..policies {
        // The allow kinds rotate so that every size has all four, and a
        // namespace's policies have distinct kinds.
        let (n, round) = (i % NAMESPACES, i / NAMESPACES);
        policy_yaml(&mut y, n, 1 + (n + round) % 4);
    }
    y
}

fn objects(yaml: String) -> Vec<Object> {
    let loaded = load_text("cluster.yaml", yaml, &LoadOptions::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors.first());
    loaded.objects
}

fn list_len(objects: &[Object]) -> usize {
    let analyzer = Analyzer::new(read_resources(objects), false).expect("analyzer");
    let list = analyzer.list(&ListOptions::default()).expect("list");
    list.connections.len()
}

fn bench(c: &mut Criterion) {
    let main = objects(cluster_1000());
    let pods: usize = NAMESPACES * DEPLOYMENTS_PER_NS * REPLICAS;
    assert_eq!(pods, 10_000);
    assert_eq!(
        main.iter().filter(|o| o.kind() == "NetworkPolicy").count(),
        1_000
    );
    eprintln!(
        "scale: 10,000 pods / 1,000 policies: {} connections",
        list_len(&main)
    );
    let mut group = c.benchmark_group("netpol-scale");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("list_10000_pods_500_ns_1000_policies", |b| {
        b.iter(|| list_len(&main))
    });
    group.finish();

    let mut group = c.benchmark_group("netpol-growth");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    for policies in [250usize, 500, 1_000, 2_000] {
        let objs = objects(cluster_growth(policies));
        eprintln!(
            "growth: {policies} policies: {} connections",
            list_len(&objs)
        );
        group.bench_with_input(
            BenchmarkId::new("list_10000_pods", policies),
            &objs,
            |b, o| b.iter(|| list_len(o)),
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
