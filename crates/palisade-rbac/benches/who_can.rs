//! who-can, can-i, can-i --list and risks over a generated policy of 100,000 bindings.
//!
//! Run: `cargo bench -p palisade-rbac --bench who_can` (results in BENCHMARKS.md, "RBAC").

use std::fmt::Write;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use palisade_model::{load_text, AccessRequest, Authorizer, LoadOptions, Object};
use palisade_rbac::{impersonate, Rbac, Scope};

const NAMESPACES: usize = 2_000;
const ROLES_PER_NAMESPACE: usize = 5;
const CLUSTER_ROLES: usize = 100;
const ROLE_BINDINGS: usize = 95_000;
const CLUSTER_ROLE_BINDINGS: usize = 5_000;

const RESOURCES: &[&str] = &[
    "pods",
    "pods/log",
    "pods/exec",
    "services",
    "configmaps",
    "secrets",
    "deployments",
    "replicasets",
    "statefulsets",
    "jobs",
    "cronjobs",
    "ingresses",
    "networkpolicies",
    "serviceaccounts",
    "persistentvolumeclaims",
    "events",
    "endpoints",
    "leases",
];
const VERBS: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];

/// A small deterministic generator, so every run measures the same policy.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn rules(out: &mut String, rng: &mut Lcg, count: usize) {
    out.push_str("rules:\n");
    for _ in 0..count {
        let r1 = RESOURCES[rng.next(RESOURCES.len())];
        let r2 = RESOURCES[rng.next(RESOURCES.len())];
        let v1 = VERBS[rng.next(VERBS.len())];
        let v2 = VERBS[rng.next(VERBS.len())];
        let _ = writeln!(
            out,
            "- {{apiGroups: ['', apps, batch], resources: [{r1}, {r2}], verbs: [{v1}, {v2}]}}"
        );
    }
}

fn policy() -> String {
    let mut rng = Lcg(42);
    let mut out = String::with_capacity(40 << 20);
    for c in 0..CLUSTER_ROLES {
        let _ = writeln!(out, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: cr-{c}}}");
        rules(&mut out, &mut rng, 4);
    }
    // One ClusterRole with non-resource URLs, bound cluster-wide below.
    out.push_str("---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: probes}\nrules:\n- {nonResourceURLs: [/healthz, /livez, /readyz], verbs: [get]}\n");
    for n in 0..NAMESPACES {
        for r in 0..ROLES_PER_NAMESPACE {
            let _ = writeln!(out, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: role-{r}, namespace: ns-{n}}}");
            rules(&mut out, &mut rng, 3);
        }
    }
    for b in 0..ROLE_BINDINGS {
        let n = b % NAMESPACES;
        let role_ref = if rng.next(3) == 0 {
            format!(
                "{{kind: ClusterRole, name: cr-{}, apiGroup: rbac.authorization.k8s.io}}",
                rng.next(CLUSTER_ROLES)
            )
        } else {
            format!(
                "{{kind: Role, name: role-{}, apiGroup: rbac.authorization.k8s.io}}",
                rng.next(ROLES_PER_NAMESPACE)
            )
        };
        let _ = writeln!(
            out,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: rb-{b}, namespace: ns-{n}}}\nsubjects:\n- {{kind: User, name: user-{}}}\n- {{kind: ServiceAccount, name: sa-{}}}\nroleRef: {role_ref}",
            rng.next(20_000),
            rng.next(10)
        );
    }
    for b in 0..CLUSTER_ROLE_BINDINGS {
        let role = if b == 0 {
            "probes".to_string()
        } else {
            format!("cr-{}", rng.next(CLUSTER_ROLES))
        };
        let _ = writeln!(
            out,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: crb-{b}}}\nsubjects:\n- {{kind: Group, name: group-{}}}\n- {{kind: ServiceAccount, name: sa-{}, namespace: ns-{}}}\nroleRef: {{kind: ClusterRole, name: {role}, apiGroup: rbac.authorization.k8s.io}}",
            rng.next(500),
            rng.next(10),
            rng.next(NAMESPACES)
        );
    }
    out
}

fn objects() -> Vec<Object> {
    let loaded = load_text("generated.yaml", policy(), &LoadOptions::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors.first());
    loaded.objects
}

fn resource(verb: &str, resource: &str, sub: &str, ns: &str) -> AccessRequest {
    AccessRequest::Resource {
        verb: verb.into(),
        group: String::new(),
        resource: resource.into(),
        subresource: sub.into(),
        namespace: ns.into(),
        name: String::new(),
    }
}

fn bench(c: &mut Criterion) {
    let objects = objects();
    let bindings = objects
        .iter()
        .filter(|o| o.id.kind.ends_with("Binding"))
        .count();
    assert_eq!(bindings, ROLE_BINDINGS + CLUSTER_ROLE_BINDINGS);

    let mut build = c.benchmark_group("build");
    build.sample_size(10);
    build.bench_function("Rbac::from_objects (100k bindings)", |b| {
        b.iter(|| Rbac::from_objects(black_box(&objects)))
    });
    build.finish();

    let rbac = Rbac::from_objects(&objects);
    let get_secrets = resource("get", "secrets", "", "ns-42");
    let exec = resource("create", "pods", "exec", "");
    let healthz = AccessRequest::NonResource {
        verb: "get".into(),
        path: "/healthz".into(),
    };
    eprintln!(
        "answers: get secrets -n ns-42: {}, create pods/exec -A: {}, get /healthz: {}",
        rbac.who_can(&get_secrets, Scope::Request).entries.len(),
        rbac.who_can(&exec, Scope::AllNamespaces).entries.len(),
        rbac.who_can(&healthz, Scope::Request).entries.len()
    );

    let mut g = c.benchmark_group("query (100k bindings)");
    g.bench_function("who-can get secrets -n ns-42", |b| {
        b.iter(|| rbac.who_can(black_box(&get_secrets), Scope::Request))
    });
    g.bench_function("who-can create pods/exec -A", |b| {
        b.iter(|| rbac.who_can(black_box(&exec), Scope::AllNamespaces))
    });
    g.bench_function("who-can get /healthz", |b| {
        b.iter(|| rbac.who_can(black_box(&healthz), Scope::Request))
    });
    let sa = impersonate("system:serviceaccount:ns-42:sa-3", &[]);
    g.bench_function("can-i (authorize) as a ServiceAccount", |b| {
        b.iter(|| rbac.authorize(black_box(&sa), black_box(&get_secrets)))
    });
    g.bench_function("can-i --list as a ServiceAccount", |b| {
        b.iter(|| rbac.list(black_box(&sa), "ns-42").kubectl_table())
    });
    g.finish();

    let risks = rbac.risks();
    eprintln!(
        "risks: {} (of which {} critical), findings over {} objects",
        risks.len(),
        risks
            .iter()
            .filter(|r| r.severity == palisade_model::Severity::Critical)
            .count(),
        objects.len()
    );
    let mut r = c.benchmark_group("risks (100k bindings)");
    r.sample_size(10);
    r.bench_function("Rbac::risks", |b| b.iter(|| black_box(&rbac).risks()));
    r.bench_function("risk_findings (risks located as scan findings)", |b| {
        b.iter(|| palisade_rbac::risk_findings(black_box(&rbac), &objects))
    });
    r.bench_function("risks table", |b| {
        b.iter(|| rbac.risks_table(black_box(&risks)))
    });
    r.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
