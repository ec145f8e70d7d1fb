//! Least-privilege generation against audit2rbac: its 13 generation cases
//! (`pkg/process_test.go`) and the README's role for alice from the demo log.

use std::path::PathBuf;

use palisade_model::{load_text, LoadOptions, UserInfo};
use palisade_rbac::{
    discovery_policy, generate, parse_audit_log, GenerateOptions, Generated, GeneratedBinding,
    GeneratedRole, LoggedRequest, Rbac,
};
use serde_json::{json, Value};

fn shared(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/rbac/audit2rbac")
        .join(path);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("conformance data missing at {}", p.display());
    }
    eprintln!("skipping: {} not found", p.display());
    None
}

/// The policy every case of process_test.go starts from.
fn existing() -> Rbac {
    let yaml = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cluster-admin}
rules:
- {verbs: ['*'], apiGroups: ['*'], resources: ['*']}
- {verbs: ['*'], nonResourceURLs: ['*']}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: cluster-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: 'system:masters'}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: 'system:discovery'}
rules:
- {verbs: [get], nonResourceURLs: [/healthz, /version, /swaggerapi, /swaggerapi/*, /api, /api/*, /apis, /apis/*]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: 'system:discovery'}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: 'system:discovery'}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: 'system:authenticated'}]
";
    let loaded = load_text("existing.yaml", yaml, &LoadOptions::default());
    assert!(loaded.errors.is_empty());
    Rbac::from_objects(&loaded.objects)
}

fn s(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

fn request(v: &Value) -> LoggedRequest {
    let user = &v["User"];
    let groups = user["groups"]
        .as_array()
        .map(|g| {
            g.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    LoggedRequest {
        user: UserInfo {
            username: s(user, "name"),
            groups,
        },
        resource_request: v["ResourceRequest"].as_bool().unwrap_or(false),
        verb: s(v, "Verb"),
        api_group: s(v, "APIGroup"),
        api_version: s(v, "APIVersion"),
        resource: s(v, "Resource"),
        subresource: s(v, "Subresource"),
        namespace: s(v, "Namespace"),
        name: s(v, "Name"),
        path: s(v, "Path"),
    }
}

fn options(v: &Value) -> GenerateOptions {
    let verb_expansions = v["VerbExpansions"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, vs)| {
                    let verbs = vs
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    (k.clone(), verbs)
                })
                .collect()
        })
        .unwrap_or_default();
    GenerateOptions {
        verb_expansions,
        expand_multiple_names_to_unnamed: v["ExpandMultipleNamesToUnnamed"]
            .as_bool()
            .unwrap_or(false),
        expand_multiple_namespaces_to_cluster_scoped: v["ExpandMultipleNamespacesToClusterScoped"]
            .as_bool()
            .unwrap_or(false),
        name: s(v, "Name"),
        ..GenerateOptions::default()
    }
}

/// Generated objects in the transcription's shape (`omitempty` applied).
fn as_expected(g: &Generated) -> Value {
    fn strip(v: &mut Value) {
        if let Value::Object(m) = v {
            m.retain(|_, x| !matches!(x, Value::Array(a) if a.is_empty()));
            m.values_mut().for_each(strip);
        } else if let Value::Array(a) = v {
            a.iter_mut().for_each(strip);
        }
    }
    let role = |r: &GeneratedRole| {
        let mut meta = json!({"name": r.name});
        if let Some(ns) = &r.namespace {
            meta["namespace"] = ns.clone().into();
        }
        json!({"metadata": meta, "rules": r.rules})
    };
    let binding = |b: &GeneratedBinding| {
        let mut meta = json!({"name": b.name});
        if let Some(ns) = &b.namespace {
            meta["namespace"] = ns.clone().into();
        }
        json!({"metadata": meta,
               "roleRef": {"name": b.role_name, "kind": b.role_kind, "apiGroup": "rbac.authorization.k8s.io"},
               "subjects": b.subjects})
    };
    let mut out = serde_json::Map::new();
    let mut put = |key: &str, items: Vec<Value>| {
        if !items.is_empty() {
            out.insert(key.to_string(), Value::Array(items));
        }
    };
    put("Roles", g.roles.iter().map(role).collect());
    put("ClusterRoles", g.cluster_roles.iter().map(role).collect());
    put(
        "RoleBindings",
        g.role_bindings.iter().map(binding).collect(),
    );
    put(
        "ClusterRoleBindings",
        g.cluster_role_bindings.iter().map(binding).collect(),
    );
    let mut v = Value::Object(out);
    strip(&mut v);
    v
}

#[test]
fn audit2rbac_generation_cases() {
    let Some(path) = shared("process_test_cases.json") else {
        return;
    };
    let data: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    let cases = data["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 13);
    let existing = existing();
    let mut passed = Vec::new();
    for case in cases {
        let name = s(case, "name");
        let requests: Vec<LoggedRequest> = case["requests"]
            .as_array()
            .map(|r| r.iter().map(request).collect())
            .unwrap_or_default();
        let generated = generate(&existing, &requests, &options(&case["options"]));
        let got = as_expected(&generated);
        assert_eq!(
            got,
            case["expected"],
            "case {name:?}:\n got {}\nwant {}",
            serde_json::to_string(&got).unwrap_or_default(),
            serde_json::to_string(&case["expected"]).unwrap_or_default()
        );
        // Whatever is generated allows every request of the case.
        let mut objects = Vec::new();
        let yaml = generated.to_yaml();
        if !yaml.is_empty() {
            let loaded = load_text("generated.yaml", yaml, &LoadOptions::default());
            assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
            objects = loaded.objects;
        }
        let both = Rbac::from_objects(existing_objects().iter().chain(&objects));
        for r in &requests {
            let access = access(r);
            assert!(
                palisade_model::Authorizer::authorize(&both, &r.user, &access).allowed(),
                "case {name:?}: {access:?} not covered"
            );
        }
        passed.push(name);
    }
    assert_eq!(passed.len(), 13);
}

fn existing_objects() -> Vec<palisade_model::Object> {
    // The same policy as `existing()`, as objects to combine with generated ones.
    let yaml = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: 'system:discovery'}
rules:
- {verbs: [get], nonResourceURLs: [/healthz, /version, /swaggerapi, /swaggerapi/*, /api, /api/*, /apis, /apis/*]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: 'system:discovery'}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: 'system:discovery'}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: 'system:authenticated'}]
";
    load_text("existing.yaml", yaml, &LoadOptions::default()).objects
}

fn access(r: &LoggedRequest) -> palisade_model::AccessRequest {
    if r.resource_request {
        palisade_model::AccessRequest::Resource {
            verb: r.verb.clone(),
            group: r.api_group.clone(),
            resource: r.resource.clone(),
            subresource: r.subresource.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
        }
    } else {
        palisade_model::AccessRequest::NonResource {
            verb: r.verb.clone(),
            path: r.path.clone(),
        }
    }
}

fn demo_requests(user: &str) -> Option<Vec<LoggedRequest>> {
    let path = shared("testdata/demo.log")?;
    let log = parse_audit_log("demo.log", &std::fs::read_to_string(path).expect("read"));
    assert!(log.errors.is_empty(), "{:?}", log.errors);
    assert_eq!(log.events.len(), 37);
    Some(
        log.of_user(user)
            .map(|e| LoggedRequest::new(e.user.clone(), &e.request, &e.api_version))
            .collect(),
    )
}

#[test]
fn demo_log_alice_matches_the_readme_byte_for_byte() {
    let Some(requests) = demo_requests("alice") else {
        return;
    };
    let Some(expected) = shared("expected_alice_from_README.yaml") else {
        return;
    };
    let expected: String = std::fs::read_to_string(expected)
        .expect("read")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    // audit2rbac's names and labels for --user alice.
    let options = GenerateOptions {
        name: "audit2rbac:alice".into(),
        labels: vec![
            ("audit2rbac.liggitt.net/user".into(), "alice".into()),
            ("audit2rbac.liggitt.net/generated".into(), "true".into()),
        ],
        ..GenerateOptions::default()
    };
    let generated = generate(&discovery_policy(), &requests, &options);
    assert_eq!(generated.to_yaml(), expected);

    // Palisade's own names: the same roles.
    let ours = generate(
        &discovery_policy(),
        &requests,
        &GenerateOptions::for_user("alice"),
    );
    assert_eq!(ours.roles.len(), 1);
    assert_eq!(ours.roles[0].rules, generated.roles[0].rules);
    assert_eq!(ours.roles[0].name, "palisade:alice");
    assert!(ours.to_yaml().contains("palisade.dev/user: alice"));
}

#[test]
fn demo_log_service_account_and_bob() {
    let Some(requests) = demo_requests("system:serviceaccount:ns1:sa1") else {
        return;
    };
    assert!(!requests.is_empty());
    let g = generate(
        &discovery_policy(),
        &requests,
        &GenerateOptions::for_user("system:serviceaccount:ns1:sa1"),
    );
    assert!(!g.is_empty());
    let subject = g
        .role_bindings
        .iter()
        .chain(&g.cluster_role_bindings)
        .map(|b| &b.subjects[0])
        .next()
        .expect("a binding");
    assert_eq!(
        (
            subject.kind.as_str(),
            subject.name.as_str(),
            subject.namespace.as_str()
        ),
        ("ServiceAccount", "sa1", "ns1")
    );
    assert!(subject.api_group.is_empty());
    let Some(bob) = demo_requests("bob") else {
        return;
    };
    let g = generate(&discovery_policy(), &bob, &GenerateOptions::for_user("bob"));
    // Everything bob did is covered by what is generated.
    let loaded = load_text("g.yaml", g.to_yaml(), &LoadOptions::default());
    let rbac = Rbac::from_objects(&loaded.objects);
    for r in &bob {
        let allowed = palisade_model::Authorizer::authorize(&rbac, &r.user, &access(r)).allowed()
            || palisade_model::Authorizer::authorize(&discovery_policy(), &r.user, &access(r))
                .allowed();
        assert!(allowed, "{r:?}");
    }
}
