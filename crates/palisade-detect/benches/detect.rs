//! Throughput of the k8saudit rules on audit events, and rule-load time.
//!
//! Run: `cargo bench -p palisade-detect --bench detect`. Needs the conformance
//! rules files (`../shared/conformance/falco-rules/`); skipped without them.

use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use palisade_detect::{AuditEvent, Engine, RuleMatching};
use serde_json::json;

fn conformance(rel: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/falco-rules")
        .join(rel);
    match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(_) => {
            eprintln!("skipping: {} not found", path.display());
            None
        }
    }
}

/// A mix shaped like a real cluster's audit log: mostly controller traffic
/// at Metadata level, some user requests, a pod creation with its body.
fn events() -> Vec<String> {
    let meta = |verb: &str,
                user: &str,
                resource: &str,
                name: &str,
                ns: &str,
                code: u16,
                stage: &str| {
        json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
            "auditID": "0b7f5c1e-6a3b-4d8e-9a51-0c6f0e8b3c11", "stage": stage,
            "requestURI": format!("/apis/coordination.k8s.io/v1/namespaces/{ns}/{resource}/{name}"),
            "verb": verb,
            "user": {"username": user, "groups": ["system:authenticated"]},
            "sourceIPs": ["10.0.0.12"], "userAgent": "kube-controller-manager/v1.30.0 (linux/amd64) kubernetes/7c48c2b/leader-election",
            "objectRef": {"resource": resource, "namespace": ns, "name": name, "apiGroup": "coordination.k8s.io", "apiVersion": "v1"},
            "responseStatus": {"metadata": {}, "code": code},
            "requestReceivedTimestamp": "2024-05-01T10:00:00.000000Z",
            "stageTimestamp": "2024-05-01T10:00:00.003000Z",
            "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": "RBAC: allowed by ClusterRoleBinding \"system:kube-controller-manager\""}
        })
        .to_string()
    };
    let pod = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": "9c1f5c1e-6a3b-4d8e-9a51-0c6f0e8b3c11", "stage": "ResponseComplete",
        "requestURI": "/api/v1/namespaces/default/pods?fieldManager=kubectl-client-side-apply",
        "verb": "create", "user": {"username": "alice", "groups": ["dev", "system:authenticated"]},
        "sourceIPs": ["192.168.1.20"], "userAgent": "kubectl/v1.30.0 (linux/amd64) kubernetes/7c48c2b",
        "objectRef": {"resource": "pods", "namespace": "default", "name": "web", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 201},
        "requestObject": {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"hostNetwork": false, "securityContext": {"runAsNonRoot": true},
                "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "web"}}],
                "containers": [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
                    "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true},
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                    {"name": "sidecar", "image": "busybox:1.36", "command": ["sh", "-c", "sleep 3600"]}]}},
        "responseObject": {"kind": "Pod", "metadata": {"name": "web", "namespace": "default", "uid": "f3a1"}},
        "requestReceivedTimestamp": "2024-05-01T10:00:00.000000Z",
        "stageTimestamp": "2024-05-01T10:00:00.020000Z",
        "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": "RBAC: allowed by RoleBinding"}
    })
    .to_string();
    vec![
        meta(
            "update",
            "system:kube-controller-manager",
            "leases",
            "kube-controller-manager",
            "kube-system",
            200,
            "ResponseComplete",
        ),
        meta(
            "get",
            "system:kube-scheduler",
            "leases",
            "kube-scheduler",
            "kube-system",
            200,
            "ResponseComplete",
        ),
        meta(
            "watch",
            "system:node:node-1",
            "configmaps",
            "kube-root-ca.crt",
            "default",
            200,
            "ResponseStarted",
        ),
        meta(
            "get",
            "bob",
            "secrets",
            "db-password",
            "prod",
            200,
            "ResponseComplete",
        ),
        meta(
            "list",
            "system:serviceaccount:kube-system:coredns",
            "endpointslices",
            "",
            "",
            200,
            "ResponseComplete",
        ),
        meta(
            "update",
            "system:kube-controller-manager",
            "leases",
            "kube-controller-manager",
            "kube-system",
            200,
            "ResponseComplete",
        ),
        meta(
            "get",
            "minikube",
            "pods",
            "web",
            "default",
            404,
            "ResponseComplete",
        ),
        pod,
    ]
}

fn bench(c: &mut Criterion) {
    let Some(k8s) = conformance("k8saudit-plugin/k8s_audit_rules.yaml") else {
        return;
    };
    let lines = events();
    let decoded: Vec<AuditEvent> = lines
        .iter()
        .map(|l| AuditEvent::from_json(l.as_str()).expect("bench event"))
        .collect();
    let bytes: usize = lines.iter().map(String::len).sum();
    eprintln!(
        "event mix: {} events, {} bytes on average",
        lines.len(),
        bytes / lines.len()
    );
    for (label, matching) in [("first", RuleMatching::First), ("all", RuleMatching::All)] {
        let engine = Engine::builder()
            .rule_matching(matching)
            .rules_text("k8s_audit_rules.yaml", k8s.clone())
            .build();
        assert!(!engine.has_errors());
        let mut g = c.benchmark_group(format!("k8saudit_{label}_match"));
        g.throughput(Throughput::Elements(decoded.len() as u64));
        g.bench_function("evaluate", |b| {
            b.iter(|| {
                let mut n = 0;
                for e in &decoded {
                    n += engine.evaluate(black_box(e)).len();
                }
                n
            })
        });
        g.bench_function("decode_and_evaluate", |b| {
            b.iter(|| {
                let mut n = 0;
                for l in &lines {
                    if let Ok(e) = AuditEvent::from_json(black_box(l.as_str())) {
                        n += engine.evaluate(&e).len();
                    }
                }
                n
            })
        });
        g.finish();
        // The costliest event of the mix on its own: a pod creation at
        // RequestResponse level meets every pod rule and reads its body.
        let pod = lines.last().expect("the mix ends with the pod creation");
        let mut g = c.benchmark_group(format!("k8saudit_{label}_match"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("decode_and_evaluate_pod_creation", |b| {
            b.iter(|| match AuditEvent::from_json(black_box(pod.as_str())) {
                Ok(e) => engine.evaluate(&e).len(),
                Err(_) => 0,
            })
        });
        g.finish();
    }
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("audit_event_json", |b| {
        b.iter(|| {
            lines
                .iter()
                .filter(|l| AuditEvent::from_json(black_box(l.as_str())).is_ok())
                .count()
        })
    });
    g.finish();

    if let Some(stable) = conformance("falcosecurity-rules/falco_rules.yaml") {
        let mut g = c.benchmark_group("load");
        g.sample_size(20);
        g.bench_function("stable_syscall_rules", |b| {
            b.iter(|| {
                let e = Engine::builder()
                    .rules_text("falco_rules.yaml", black_box(stable.clone()))
                    .build();
                assert_eq!(e.counts().rules, 25);
                e
            })
        });
        g.bench_function("k8saudit_rules", |b| {
            b.iter(|| {
                Engine::builder()
                    .rules_text("k8s_audit_rules.yaml", black_box(k8s.clone()))
                    .build()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
