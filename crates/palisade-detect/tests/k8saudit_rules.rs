//! Every rule of the upstream k8saudit rules file, driven by hand-made audit
//! events in the shape the API server writes them: one event that must fire
//! the rule and one that must not.

mod common;

use std::collections::BTreeSet;

use palisade_detect::{AuditEvent, Engine, RuleMatching};
use serde_json::{json, Value};

/// A `audit.k8s.io/v1` Event with the parts the rules look at.
#[derive(Clone)]
struct Ev {
    stage: &'static str,
    verb: &'static str,
    user: &'static str,
    resource: &'static str,
    subresource: Option<&'static str>,
    name: &'static str,
    namespace: Option<&'static str>,
    code: u16,
    uri: &'static str,
    request: Option<Value>,
    decision: &'static str,
}

impl Ev {
    fn new(verb: &'static str, resource: &'static str, name: &'static str) -> Ev {
        Ev {
            stage: "ResponseComplete",
            verb,
            user: "minikube",
            resource,
            subresource: None,
            name,
            namespace: Some("default"),
            code: if verb == "create" { 201 } else { 200 },
            uri: "/api/v1/namespaces/default/things",
            request: None,
            decision: "allow",
        }
    }
    fn user(mut self, u: &'static str) -> Self {
        self.user = u;
        self
    }
    fn stage(mut self, s: &'static str) -> Self {
        self.stage = s;
        self
    }
    fn sub(mut self, s: &'static str) -> Self {
        self.subresource = Some(s);
        self
    }
    fn ns(mut self, n: &'static str) -> Self {
        self.namespace = Some(n);
        self
    }
    fn code(mut self, c: u16) -> Self {
        self.code = c;
        self
    }
    fn uri(mut self, u: &'static str) -> Self {
        self.uri = u;
        self
    }
    fn req(mut self, r: Value) -> Self {
        self.request = Some(r);
        self
    }
    fn json(&self) -> String {
        let mut object_ref =
            json!({"resource": self.resource, "name": self.name, "apiVersion": "v1"});
        if let Some(ns) = self.namespace {
            object_ref["namespace"] = json!(ns);
        }
        if let Some(s) = self.subresource {
            object_ref["subresource"] = json!(s);
        }
        let mut ev = json!({
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "RequestResponse",
            "auditID": "4a0f7c1e-8a3b-4d8e-9a51-0c6f0e8b3c11",
            "stage": self.stage,
            "requestURI": self.uri,
            "verb": self.verb,
            "user": {"username": self.user, "groups": ["system:authenticated"]},
            "sourceIPs": ["192.168.49.1"],
            "userAgent": "kubectl/v1.30.0 (linux/amd64) kubernetes/7c48c2b",
            "objectRef": object_ref,
            "responseStatus": {"metadata": {}, "code": self.code},
            "requestReceivedTimestamp": "2024-05-01T10:00:00.000000Z",
            "stageTimestamp": "2024-05-01T10:00:00.020000Z",
            "annotations": {
                "authorization.k8s.io/decision": self.decision,
                "authorization.k8s.io/reason": "RBAC: allowed by ClusterRoleBinding"
            }
        });
        if let Some(r) = &self.request {
            ev["requestObject"] = r.clone();
        }
        if self.verb == "create" && self.code < 300 {
            ev["responseObject"] = json!({"metadata": {"name": self.name}});
        }
        ev.to_string()
    }
}

fn pod(image: &str, extra_spec: Value, container_extra: Value) -> Value {
    let mut container = json!({"name": "app", "image": image});
    if let (Some(c), Some(extra)) = (container.as_object_mut(), container_extra.as_object()) {
        for (k, v) in extra {
            c.insert(k.clone(), v.clone());
        }
    }
    let mut spec = json!({"containers": [container]});
    if let (Some(s), Some(extra)) = (spec.as_object_mut(), extra_spec.as_object()) {
        for (k, v) in extra {
            s.insert(k.clone(), v.clone());
        }
    }
    json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "web"}, "spec": spec})
}

fn role(verbs: &[&str], resources: &[&str]) -> Value {
    json!({"kind": "ClusterRole", "rules": [{"apiGroups": [""], "verbs": verbs, "resources": resources}]})
}

/// Overrides that make the rules disabled by design (`never_true`) fire.
const ENABLE_ALL: &str = r#"
- macro: allowed_k8s_containers
  condition: (ka.req.pod.containers.image.repository in (nginx))
  override:
    condition: replace
- macro: consider_all_events
  condition: (k8s_audit_always_true)
  override:
    condition: replace
- macro: allowed_full_admin_users
  condition: (k8s_audit_never_true)
  override:
    condition: replace
- macro: allow_all_k8s_nodes
  condition: (k8s_audit_never_true)
  override:
    condition: replace
"#;

fn engine(extra: Option<&str>) -> Option<Engine> {
    let dir = common::conformance_dir()?;
    let (name, text) = common::read(&dir, common::K8S);
    let mut b = Engine::builder()
        .rule_matching(RuleMatching::All)
        .rules_text(name, text);
    if let Some(extra) = extra {
        b = b.rules_text("enable-all.yaml", extra);
    }
    let e = b.build();
    let errors: Vec<_> = e.diagnostics().iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    Some(e)
}

fn fired(engine: &Engine, ev: &Ev) -> BTreeSet<String> {
    let event = AuditEvent::from_json(ev.json()).expect("valid event");
    engine
        .evaluate(&event)
        .into_iter()
        .map(|a| a.rule)
        .collect()
}

type Case = (&'static str, Ev, Ev);

fn cases() -> Vec<Case> {
    let none = json!({});
    let privileged = json!({"securityContext": {"privileged": true}});
    let mut v: Vec<Case> = vec![
        (
            "Disallowed K8s User",
            Ev::new("get", "pods", "web").user("mallory"),
            Ev::new("get", "pods", "web").user("minikube"),
        ),
        (
            "Create Disallowed Pod",
            Ev::new("create", "pods", "web").req(pod("evil/miner:1", none.clone(), none.clone())),
            Ev::new("create", "pods", "web").req(pod("nginx:1.25", none.clone(), none.clone())),
        ),
        (
            "Create Privileged Pod",
            Ev::new("create", "pods", "web").req(pod("evil/miner:1", none.clone(), privileged.clone())),
            Ev::new("create", "pods", "web").req(pod("falcosecurity/falco:0.38", none.clone(), privileged.clone())),
        ),
        (
            "Create Sensitive Mount Pod",
            Ev::new("create", "pods", "web").req(pod(
                "nginx",
                json!({"volumes": [{"name": "etc", "hostPath": {"path": "/etc", "type": "Directory"}}]}),
                none.clone(),
            )),
            Ev::new("create", "pods", "web").req(pod(
                "nginx",
                json!({"volumes": [{"name": "data", "hostPath": {"path": "/data"}}]}),
                none.clone(),
            )),
        ),
        (
            "Create HostNetwork Pod",
            Ev::new("create", "pods", "web").req(pod("nginx", json!({"hostNetwork": true}), none.clone())),
            Ev::new("create", "pods", "web").req(pod("nginx", json!({"hostNetwork": false}), none.clone())),
        ),
        (
            "Create HostPid Pod",
            Ev::new("create", "pods", "web").req(pod("nginx", json!({"hostPID": true}), none.clone())),
            Ev::new("create", "pods", "web").req(pod("nginx", none.clone(), none.clone())),
        ),
        (
            "Create HostIPC Pod",
            Ev::new("create", "pods", "web").req(pod("nginx", json!({"hostIPC": true}), none.clone())),
            Ev::new("create", "pods", "web").req(pod("nginx", json!({"hostIPC": false}), none.clone())),
        ),
        (
            "Create NodePort Service",
            Ev::new("create", "services", "svc").req(json!({"kind": "Service", "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}})),
            Ev::new("create", "services", "svc").req(json!({"kind": "Service", "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}})),
        ),
        (
            "Create/Modify Configmap With Private Credentials",
            Ev::new("update", "configmaps", "cfg").req(json!({"kind": "ConfigMap", "data": {"aws_access_key_id": "AKIA..."}})),
            Ev::new("update", "configmaps", "cfg").req(json!({"kind": "ConfigMap", "data": {"log_level": "debug"}})),
        ),
        (
            "Anonymous Request Allowed",
            Ev::new("get", "namespaces", "").user("system:anonymous").uri("/api/v1/namespaces"),
            Ev::new("get", "namespaces", "").user("system:anonymous").uri("/healthz"),
        ),
        (
            "Attach/Exec Pod",
            Ev::new("create", "pods", "web").sub("exec").stage("ResponseStarted").uri("/api/v1/namespaces/default/pods/web/exec?command=sh&container=app&stdin=true"),
            Ev::new("create", "pods", "web").sub("exec").stage("ResponseComplete"),
        ),
        (
            "port-forward",
            Ev::new("create", "pods", "web").sub("portforward"),
            Ev::new("create", "pods", "web").sub("log"),
        ),
        (
            "EphemeralContainers Created",
            Ev::new("patch", "pods", "web").sub("ephemeralcontainers"),
            Ev::new("get", "pods", "web").sub("ephemeralcontainers"),
        ),
        (
            "Create Disallowed Namespace",
            Ev::new("create", "namespaces", "crypto").ns(""),
            Ev::new("create", "namespaces", "kube-public").ns(""),
        ),
        (
            "Pod Created in Kube Namespace",
            Ev::new("create", "pods", "web").ns("kube-system").req(pod("evil/miner", none.clone(), none.clone())),
            Ev::new("create", "pods", "web").ns("kube-system").req(pod("registry.k8s.io/kube-apiserver:v1.30.0", none.clone(), none.clone())),
        ),
        (
            "Service Account Created in Kube Namespace",
            Ev::new("create", "serviceaccounts", "backdoor").ns("kube-system"),
            Ev::new("create", "serviceaccounts", "coredns").ns("kube-system"),
        ),
        (
            "System ClusterRole Modified/Deleted",
            Ev::new("update", "clusterroles", "system:node"),
            Ev::new("update", "clusterroles", "system:coredns"),
        ),
        (
            "Attach to cluster-admin Role",
            Ev::new("create", "clusterrolebindings", "b").req(json!({"kind": "ClusterRoleBinding", "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": [{"kind": "User", "name": "eve"}]})),
            Ev::new("create", "clusterrolebindings", "b").req(json!({"kind": "ClusterRoleBinding", "roleRef": {"kind": "ClusterRole", "name": "view"}, "subjects": [{"kind": "User", "name": "eve"}]})),
        ),
        (
            "ClusterRole With Wildcard Created",
            Ev::new("create", "clusterroles", "r").req(role(&["*"], &["pods"])),
            Ev::new("create", "clusterroles", "r").req(role(&["get"], &["pods"])),
        ),
        (
            "ClusterRole With Write Privileges Created",
            Ev::new("create", "roles", "r").req(role(&["get", "patch"], &["pods"])),
            Ev::new("create", "roles", "r").req(role(&["get", "list"], &["pods"])),
        ),
        (
            "ClusterRole With Pod Exec Created",
            Ev::new("create", "clusterroles", "r").req(role(&["get"], &["pods/exec"])),
            Ev::new("create", "clusterroles", "r").req(role(&["get"], &["pods/log"])),
        ),
        (
            "K8s Secret Get Successfully",
            Ev::new("get", "secrets", "db"),
            Ev::new("get", "secrets", "db").code(403),
        ),
        (
            "K8s Secret Get Unsuccessfully Tried",
            Ev::new("get", "secrets", "db").code(403),
            Ev::new("get", "secrets", "db"),
        ),
        (
            "All K8s Audit Events",
            Ev::new("list", "pods", ""),
            Ev::new("list", "pods", "").stage("RequestReceived"),
        ),
        (
            "Full K8s Administrative Access",
            Ev::new("list", "pods", "").user("kubernetes-admin"),
            Ev::new("list", "pods", "").user("minikube"),
        ),
        (
            "Ingress Object without TLS Certificate Created",
            Ev::new("create", "ingresses", "web").req(json!({"kind": "Ingress", "spec": {"rules": [{"host": "a.example"}]}})),
            Ev::new("create", "ingresses", "web").req(json!({"kind": "Ingress", "spec": {"tls": [{"hosts": ["a.example"], "secretName": "tls"}]}})),
        ),
        (
            "Untrusted Node Successfully Joined the Cluster",
            Ev::new("create", "nodes", "node-9").ns("").user("system:node:node-9"),
            Ev::new("create", "nodes", "node-9").ns("").user("system:node:node-9").code(403),
        ),
        (
            "Untrusted Node Unsuccessfully Tried to Join the Cluster",
            Ev::new("create", "nodes", "node-9").ns("").user("system:node:node-9").code(403),
            Ev::new("create", "nodes", "node-9").ns("").user("system:node:node-9"),
        ),
    ];
    // The activity rules: created (201) or deleted (200), and not when forbidden.
    let activity: &[(&str, &'static str, &str)] = &[
        ("Deployment", "deployments", "default"),
        ("Service", "services", "default"),
        ("ConfigMap", "configmaps", "default"),
        ("Namespace", "namespaces", ""),
        ("Serviceaccount", "serviceaccounts", "default"),
        ("Role", "roles", "default"),
        ("ClusterRole", "clusterroles", ""),
        ("RoleBinding", "rolebindings", "default"),
        ("ClusterRoleBinding", "clusterrolebindings", ""),
        ("Secret", "secrets", "default"),
    ];
    for &(kind, resource, _) in activity {
        let created: &'static str = Box::leak(format!("K8s {kind} Created").into_boxed_str());
        let deleted: &'static str = Box::leak(format!("K8s {kind} Deleted").into_boxed_str());
        v.push((
            created,
            Ev::new("create", resource, "x"),
            Ev::new("create", resource, "x").code(403),
        ));
        v.push((
            deleted,
            Ev::new("delete", resource, "x"),
            Ev::new("delete", resource, "x").code(403),
        ));
    }
    v
}

/// Rules that cannot fire with the upstream macros (they are templates
/// meant to be overridden); each needs the overrides of [`ENABLE_ALL`].
const NEED_OVERRIDE: &[&str] = &[
    "Create Disallowed Pod",
    "All K8s Audit Events",
    "Full K8s Administrative Access",
    "Untrusted Node Successfully Joined the Cluster",
    "Untrusted Node Unsuccessfully Tried to Join the Cluster",
];

#[test]
fn every_k8saudit_rule_fires_and_does_not_fire() {
    let (Some(plain), Some(enabled)) = (engine(None), engine(Some(ENABLE_ALL))) else {
        return;
    };
    let cases = cases();
    let rule_names: BTreeSet<String> = plain.rules().into_iter().map(|r| r.name).collect();
    let covered: BTreeSet<String> = cases.iter().map(|c| c.0.to_string()).collect();
    assert_eq!(rule_names.len(), 48);
    assert_eq!(
        rule_names.difference(&covered).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "every rule has a case"
    );
    for (rule, fire, quiet) in &cases {
        let e = if NEED_OVERRIDE.contains(rule) {
            &enabled
        } else {
            &plain
        };
        let got = fired(e, fire);
        assert!(
            got.contains(*rule),
            "{rule} should fire on {}; fired {got:?}",
            fire.json()
        );
        let got = fired(e, quiet);
        assert!(
            !got.contains(*rule),
            "{rule} should not fire on {}; fired {got:?}",
            quiet.json()
        );
        if NEED_OVERRIDE.contains(rule) {
            // As shipped, the rule is a template that never fires.
            assert!(
                !fired(&plain, fire).contains(*rule),
                "{rule} fires without the override"
            );
        }
    }
}

#[test]
fn alert_output_and_json_shape() {
    let Some(e) = engine(None) else { return };
    let ev = Ev::new("create", "pods", "web").user("mallory").req(pod(
        "evil/miner:1",
        json!({"hostNetwork": true}),
        json!({}),
    ));
    let event = AuditEvent::from_json(ev.json()).unwrap();
    let alerts = e.evaluate(&event);
    let a = alerts
        .iter()
        .find(|a| a.rule == "Create HostNetwork Pod")
        .expect("hostnetwork alert");
    assert_eq!(
        a.message,
        "Pod started using host network (user=mallory pod=web resource=pods ns=default images=(evil/miner:1))"
    );
    assert_eq!(
        a.output,
        format!("10:00:00.020000000: Warning {}", a.message)
    );
    let j: Value = serde_json::from_str(&a.to_json()).unwrap();
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "hostname",
            "output",
            "output_fields",
            "priority",
            "rule",
            "source",
            "tags",
            "time"
        ]
    );
    assert_eq!(j["priority"], "Warning");
    assert_eq!(j["source"], "k8s_audit");
    assert_eq!(j["time"], "2024-05-01T10:00:00.020000000Z");
    assert_eq!(j["tags"], json!(["k8s"]));
    assert_eq!(j["output_fields"]["ka.user.name"], "mallory");
    assert_eq!(
        j["output_fields"]["ka.req.pod.containers.image"],
        json!(["evil/miner:1"])
    );
    assert_eq!(
        j["output_fields"]["evt.time"],
        json!(1_714_557_600_020_000_000u64)
    );
    // A missing value prints as <NA> and is null in JSON.
    let attach = Ev::new("create", "pods", "web")
        .sub("exec")
        .stage("ResponseStarted");
    let alerts = e.evaluate(&AuditEvent::from_json(attach.json()).unwrap());
    let a = alerts.iter().find(|a| a.rule == "Attach/Exec Pod").unwrap();
    assert!(a.message.ends_with("command=<NA>)"), "{}", a.message);
    assert_eq!(a.output_fields["ka.uri.param[command]"], Value::Null);
}

#[test]
fn first_match_is_the_default_and_metrics_count() {
    let Some(dir) = common::conformance_dir() else {
        return;
    };
    let (name, text) = common::read(&dir, common::K8S);
    let e = Engine::builder().rules_text(name, text).build();
    // A privileged pod by an unknown user matches several rules; Falco's
    // default fires only the first in file order.
    let ev = Ev::new("create", "pods", "web").user("mallory").req(pod(
        "evil/miner",
        json!({"hostNetwork": true}),
        json!({"securityContext": {"privileged": true}}),
    ));
    let event = AuditEvent::from_json(ev.json()).unwrap();
    let alerts = e.evaluate(&event);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].rule, "Disallowed K8s User");
    e.evaluate(&event);
    let snap = e.metrics().snapshot();
    assert_eq!(snap.events_by_source["k8s_audit"], 2);
    assert_eq!(snap.alerts_by_rule["Disallowed K8s User"].alerts, 2);
    assert_eq!(
        snap.alerts_by_priority[&palisade_detect::Priority::Warning],
        2
    );
}

#[test]
fn rate_limit_per_rule() {
    let Some(mut e) = engine(None) else { return };
    e.set_rate_limit(1.0, 2.0);
    let ev = Ev::new("get", "secrets", "db");
    let event = AuditEvent::from_json(ev.json()).unwrap();
    let n: usize = (0..5)
        .map(|_| {
            e.evaluate(&event)
                .iter()
                .filter(|a| a.rule == "K8s Secret Get Successfully")
                .count()
        })
        .sum();
    assert_eq!(n, 2, "a burst of 2, then no tokens at the same instant");
    assert!(e.metrics().snapshot().rate_limited >= 3);
}

/// Alerts as (rule, output) pairs, in order.
fn alerts(engine: &Engine, json: &str) -> Vec<(String, String)> {
    let event = AuditEvent::from_json(json).expect("valid event");
    engine
        .evaluate(&event)
        .into_iter()
        .map(|a| (a.rule, a.message))
        .collect()
}

fn build(texts: &[(&str, &str)], matching: RuleMatching, index: bool) -> Engine {
    let mut b = Engine::builder().rule_matching(matching).value_index(index);
    for (name, text) in texts {
        b = b.rules_text(*name, *text);
    }
    let e = b.build();
    let errors: Vec<_> = e.diagnostics().iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    e
}

#[test]
fn indexing_rules_by_resource_changes_no_result() {
    let Some(dir) = common::conformance_dir() else {
        return;
    };
    let (name, text) = common::read(&dir, common::K8S);
    let mut events: Vec<String> = cases()
        .iter()
        .flat_map(|(_, fire, quiet)| [fire.json(), quiet.json()])
        .collect();
    // Shapes the index must handle like the rules do: no objectRef, a
    // resource that is not a string, an escaped one, a duplicate key (the
    // first wins), and no auditID (no `ka.*` field has a value).
    let base = Ev::new("create", "pods", "web").user("alice").json();
    let mut v: Value = serde_json::from_str(&base).unwrap();
    v.as_object_mut().unwrap().remove("objectRef");
    events.push(v.to_string());
    v["objectRef"] = json!({"resource": 5, "name": "web"});
    events.push(v.to_string());
    events.push(base.replace(r#""resource":"pods""#, r#""resource":"pod\u0073""#));
    events.push(base.replacen('{', r#"{"objectRef":{"resource":"secrets"},"#, 1));
    events.push(base.replace(r#""auditID""#, r#""auditId""#));
    for files in [
        vec![(name.as_str(), text.as_str())],
        vec![
            (name.as_str(), text.as_str()),
            ("enable-all.yaml", ENABLE_ALL),
        ],
    ] {
        for matching in [RuleMatching::All, RuleMatching::First] {
            let indexed = build(&files, matching, true);
            let plain = build(&files, matching, false);
            assert_eq!(
                indexed.indexed_field("k8s_audit"),
                Some("ka.target.resource")
            );
            assert_eq!(plain.indexed_field("k8s_audit"), None);
            let mut fired = 0;
            for json in &events {
                let got = alerts(&indexed, json);
                assert_eq!(got, alerts(&plain, json), "{json}");
                fired += got.len();
            }
            assert!(fired > events.len() / 2, "the events fire rules: {fired}");
        }
    }
}

#[test]
fn value_index_keeps_or_not_and_in_semantics() {
    // Each rule constrains the resource differently; all rules must be
    // evaluated exactly as without the index.
    let rules = r#"
- rule: eq
  desc: d
  condition: ka.target.resource = pods and ka.verb = create
  output: eq %ka.target.resource
  priority: INFO
  source: k8s_audit
- rule: in
  desc: d
  condition: ka.target.resource in (pods, secrets) and ka.verb != delete
  output: in %ka.target.resource
  priority: INFO
  source: k8s_audit
- rule: or_both
  desc: d
  condition: (ka.target.resource = configmaps or ka.target.resource = secrets) and ka.verb exists
  output: or_both %ka.target.resource
  priority: INFO
  source: k8s_audit
- rule: or_one
  desc: d
  condition: ka.target.resource = configmaps or ka.verb = get
  output: or_one %ka.target.resource
  priority: INFO
  source: k8s_audit
- rule: not
  desc: d
  condition: not ka.target.resource = pods
  output: not %ka.target.resource
  priority: INFO
  source: k8s_audit
- rule: and_disjoint
  desc: d
  condition: ka.target.resource = pods and ka.target.resource in (secrets)
  output: never
  priority: INFO
  source: k8s_audit
- rule: transformed
  desc: d
  condition: toupper(ka.target.resource) = PODS
  output: transformed %ka.target.resource
  priority: INFO
  source: k8s_audit
"#;
    let events: Vec<String> = [
        Ev::new("create", "pods", "a"),
        Ev::new("get", "pods", "a"),
        Ev::new("delete", "secrets", "a"),
        Ev::new("get", "secrets", "a"),
        Ev::new("update", "configmaps", "a"),
        Ev::new("get", "nodes", "a"),
        Ev::new("get", "Pods", "a"),
    ]
    .iter()
    .map(Ev::json)
    .chain([{
        let mut v: Value = serde_json::from_str(&Ev::new("get", "x", "a").json()).unwrap();
        v.as_object_mut().unwrap().remove("objectRef");
        v.to_string()
    }])
    .collect();
    let indexed = build(&[("r.yaml", rules)], RuleMatching::All, true);
    let plain = build(&[("r.yaml", rules)], RuleMatching::All, false);
    assert_eq!(
        indexed.indexed_field("k8s_audit"),
        Some("ka.target.resource")
    );
    let expected: [&[&str]; 8] = [
        &["eq", "in", "transformed"],
        &["in", "or_one", "transformed"],
        &["or_both", "not"],
        &["in", "or_both", "or_one", "not"],
        &["or_both", "or_one", "not"],
        &["or_one", "not"],
        &["or_one", "not", "transformed"],
        &["or_one", "not"],
    ];
    for (json, want) in events.iter().zip(expected) {
        let got = alerts(&indexed, json);
        assert_eq!(got, alerts(&plain, json), "{json}");
        let names: Vec<&str> = got.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(names, want, "{json}");
    }
}
