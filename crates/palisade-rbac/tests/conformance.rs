//! Conformance with the tools users already trust, read from
//! `../shared/conformance/rbac/` (never copied here), and with Kubernetes where
//! a tool disagrees with it. Missing data fails under `CI=true`, else skips.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use palisade_model::{
    load_inputs, load_text, AccessRequest, Authorizer, Input, LoadOptions, Object,
};
use palisade_rbac::{
    build_request, impersonate, load_bootstrap_policy, PolicyRule, Rbac, RequestArgs,
    ResourceTable, Scope, SubjectKind,
};
use serde_json::Value;

fn shared(rel: &str) -> Option<PathBuf> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")).join(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is missing; CI needs the shared conformance data",
        path.display()
    );
    eprintln!("skipping: {} not found", path.display());
    None
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn policy_rule(v: &Value) -> PolicyRule {
    PolicyRule {
        verbs: strings(&v["verbs"]),
        api_groups: strings(&v["apiGroups"]),
        resources: strings(&v["resources"]),
        resource_names: strings(&v["resourceNames"]),
        non_resource_urls: strings(&v["nonResourceURLs"]),
    }
}

/// A ClusterRole with `rules`, bound cluster-wide to user `u`, as manifests (JSON is YAML).
fn bound_role(rules: &[PolicyRule]) -> Rbac {
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            let mut m = serde_json::Map::new();
            for (k, v) in [
                ("verbs", &r.verbs),
                ("apiGroups", &r.api_groups),
                ("resources", &r.resources),
                ("resourceNames", &r.resource_names),
                ("nonResourceURLs", &r.non_resource_urls),
            ] {
                if !v.is_empty() {
                    m.insert(k.into(), serde_json::json!(v));
                }
            }
            Value::Object(m)
        })
        .collect();
    let role = serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "r"}, "rules": rules,
    });
    let binding = serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "b"},
        "subjects": [{"kind": "User", "name": "u", "apiGroup": "rbac.authorization.k8s.io"}],
        "roleRef": {"kind": "ClusterRole", "name": "r", "apiGroup": "rbac.authorization.k8s.io"},
    });
    let loaded = load_text(
        "case.json",
        format!("{role}\n---\n{binding}\n"),
        &LoadOptions::default(),
    );
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    Rbac::from_objects(&loaded.objects)
}

fn resource_request(
    verb: &str,
    group: &str,
    resource: &str,
    sub: &str,
    name: &str,
) -> AccessRequest {
    AccessRequest::Resource {
        verb: verb.into(),
        group: group.into(),
        resource: resource.into(),
        subresource: sub.into(),
        namespace: "ns".into(),
        name: name.into(),
    }
}

#[test]
fn kubectl_who_can_matcher_cases() {
    let Some(path) = shared("conformance/rbac/kubectl-who-can/matcher_cases.json") else {
        return;
    };
    let data = read_json(&path);
    let cases = data["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 17, "the transcription has 17 cases");
    let user = impersonate("u", &[]);
    for case in cases {
        let scenario = case["scenario"].as_str().unwrap_or("?");
        let rules: Vec<PolicyRule> = match &case["rule"] {
            Value::Array(items) => items.iter().map(policy_rule).collect(),
            single => vec![policy_rule(single)],
        };
        let r = &case["request"];
        let text = |k: &str| r[k].as_str().unwrap_or("").to_string();
        let request = if r.get("nonResourceURL").is_some() {
            AccessRequest::NonResource {
                verb: text("verb"),
                path: text("nonResourceURL"),
            }
        } else {
            resource_request(
                &text("verb"),
                &text("group"),
                &text("resource"),
                &text("subresource"),
                &text("name"),
            )
        };
        let expected = case["matches"].as_bool().expect("matches");
        let by_rule = rules.iter().any(|rule| rule.allows(&request));
        assert_eq!(by_rule, expected, "scenario {scenario}: rule matching");
        // The same through manifests, the authorizer and who-can.
        let rbac = bound_role(&rules);
        assert_eq!(
            rbac.authorize(&user, &request).allowed(),
            expected,
            "scenario {scenario}: authorizer"
        );
        let who = rbac.who_can(&request, Scope::Request);
        assert_eq!(
            !who.entries.is_empty(),
            expected,
            "scenario {scenario}: who-can"
        );
    }
}

#[test]
fn rakkess_match_rules_cases() {
    let Some(path) = shared("conformance/rbac/rakkess/match_rules_cases.json") else {
        return;
    };
    let data = read_json(&path);
    let valid_verbs = strings(&data["valid_verbs"]);
    let cases = data["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 8, "the transcription has 8 cases");
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let resource_name = case["resourceName"].as_str().unwrap_or("");
        let mut rule = policy_rule(&case["rule"]);
        // rakkess's matcher ignores apiGroups; Kubernetes requires them, and a
        // rule without any matches nothing at all.
        assert!(rule.api_groups.is_empty());
        for verb in &valid_verbs {
            let request = resource_request(verb, "apps", "deployments", "", resource_name);
            assert!(
                !rule.allows(&request),
                "{name}: a rule without apiGroups allows nothing"
            );
        }
        // With the group the request is for, the verbs match as rakkess expects.
        rule.api_groups = vec!["apps".into()];
        let allowed: Vec<&String> = valid_verbs
            .iter()
            .filter(|verb| {
                rule.allows(&resource_request(
                    verb,
                    "apps",
                    "deployments",
                    "",
                    resource_name,
                ))
            })
            .collect();
        let expected = case["expectedVerbs"]
            .as_array()
            .map(|_| strings(&case["expectedVerbs"]));
        match expected {
            None => assert!(
                allowed.is_empty(),
                "{name}: expected no access, got {allowed:?}"
            ),
            Some(expected) => {
                let mut got: BTreeSet<String> =
                    strings(&case["initialVerbs"]).into_iter().collect();
                got.extend(allowed.into_iter().cloned());
                let expected: BTreeSet<String> = expected.into_iter().collect();
                assert_eq!(got, expected, "{name}");
            }
        }
    }
}

fn load(paths: &[PathBuf]) -> Vec<Object> {
    let inputs: Vec<Input> = paths.iter().cloned().map(Input::Path).collect();
    let loaded = load_inputs(&inputs, &LoadOptions::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.objects
}

/// who-can rows as rbac-tool prints them: TYPE, SUBJECT, NAMESPACE (trailing empties trimmed).
fn who_can_rows(rbac: &Rbac, verb: &str, target: &str, grep: &str) -> BTreeSet<Vec<String>> {
    // rbac-tool's `RESOURCE/NAME` names an object (kubectl's form).
    let (resource, name) = match target.split_once('/') {
        Some((r, n)) if !target.starts_with('/') => (r.to_string(), Some(n.to_string())),
        _ => (target.to_string(), None),
    };
    let args = RequestArgs {
        verb: verb.into(),
        target: resource,
        name,
        all_namespaces: true,
        ..RequestArgs::default()
    };
    let built = build_request(&args, &ResourceTable::builtin()).expect("request");
    let who = rbac.who_can(&built.request, Scope::AllNamespaces);
    who.entries
        .iter()
        .filter(|e| e.name.contains(grep))
        .map(|e| {
            let mut row = vec![e.kind.as_str().to_string(), e.name.clone()];
            if let Some(ns) = &e.namespace {
                row.push(ns.clone());
            }
            row
        })
        .collect()
}

fn trimmed(row: &Value) -> Vec<String> {
    let mut row = strings(row);
    while row.last().is_some_and(|c| c.is_empty()) {
        row.pop();
    }
    row
}

#[test]
fn rbac_tool_expectations() {
    let Some(dir) = shared("conformance/rbac/rbac-tool") else {
        return;
    };
    let Some(bootstrap) = shared("conformance/rbac/kubernetes-bootstrap-policy") else {
        return;
    };
    let data = read_json(&dir.join("expected_from_testdata_comments.json"));
    let cases = data["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 8);
    let mut checked = 0;
    for case in cases {
        let input = case["input"].as_str().expect("input");
        // The live cluster rbac-tool ran on had the default policy (system:masters).
        let rbac = Rbac::from_objects(&load(&[bootstrap.clone(), dir.join(input)]));
        let expected: BTreeSet<Vec<String>> = case["expected_rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(trimmed)
            .collect();
        for command in strings(&case["commands"]) {
            let (cmd, grep) = command.split_once('|').unwrap_or((&command, ""));
            let grep = grep.trim().strip_prefix("grep ").unwrap_or("").trim();
            let words: Vec<&str> = cmd.split_whitespace().collect();
            match words.get(1..) {
                Some(["who-can", verb, target]) => {
                    let got = who_can_rows(&rbac, verb, target, grep);
                    match input {
                        // rbac-tool expects get on gateways from a role with only
                        // create/update/delete/patch; Kubernetes allows no get. (Its
                        // cluster resolved `gateways` to gateway.networking.k8s.io.)
                        "testdata/whocan/gatewat-api-operator.yaml" => {
                            assert!(who_can_rows(
                                &rbac,
                                verb,
                                "gateways.gateway.networking.k8s.io",
                                grep
                            )
                            .is_empty());
                            let create = who_can_rows(
                                &rbac,
                                "create",
                                "gateways.gateway.networking.k8s.io",
                                grep,
                            );
                            assert_eq!(create, expected, "{command} (as create)");
                        }
                        // rbac-tool expects the RoleBinding's user to get a
                        // non-resource URL; Kubernetes only grants non-resource URLs
                        // through ClusterRoleBindings, so only system:masters can.
                        "testdata/whocan/nonresourceurl-reader.yaml" => {
                            let kubernetes: BTreeSet<Vec<String>> = expected
                                .iter()
                                .filter(|r| r[1] != "test-nonresourceurl-reader")
                                .cloned()
                                .collect();
                            assert_eq!(kubernetes.len(), 1);
                            assert_eq!(got, kubernetes, "{command}");
                        }
                        _ => assert_eq!(got, expected, "{command}"),
                    }
                    checked += 1;
                }
                Some(["policy-rules", "-e", subject]) => {
                    let got = policy_rule_rows(&rbac, subject);
                    assert_eq!(got, expected, "{command}");
                    checked += 1;
                }
                other => panic!("unexpected command {other:?}"),
            }
        }
    }
    assert_eq!(checked, 9, "every command of every case was checked");
}

/// rbac-tool `policy-rules -e SUBJECT` rows for the ServiceAccounts named SUBJECT,
/// from `list` (the rules `kubectl auth can-i --list` is built from).
/// rbac-tool prints the core group `""` as `core`; that is display only: in
/// Kubernetes a rule naming group `core` does not cover core resources (tested below).
fn policy_rule_rows(rbac: &Rbac, subject: &str) -> BTreeSet<Vec<String>> {
    let mut rows = BTreeSet::new();
    let mut accounts: BTreeSet<(String, String)> = BTreeSet::new();
    for b in &rbac.bindings {
        for s in &b.subjects {
            if s.kind == SubjectKind::ServiceAccount && s.name == subject {
                if let Some(ns) = b.subject_namespace(s) {
                    accounts.insert((ns.to_string(), s.name.clone()));
                }
            }
        }
    }
    for (ns, name) in accounts {
        let user = impersonate(&format!("system:serviceaccount:{ns}:{name}"), &[]);
        for r in rbac.list(&user, &ns).resource_rules {
            // rbac-tool lists the bindings that name the subject, not those that
            // apply through groups (system:authenticated's defaults).
            let binding = &rbac.bindings[r.grant.binding];
            if binding.subjects[r.grant.subject].kind != SubjectKind::ServiceAccount {
                continue;
            }
            let role = &rbac.roles[r.grant.role];
            let origin = format!(
                "{}>>{}/{}",
                if role.namespace.is_some() {
                    "Roles"
                } else {
                    "ClusterRoles"
                },
                role.namespace.as_deref().unwrap_or(""),
                role.name
            );
            for verb in &r.rule.verbs {
                for group in &r.rule.api_groups {
                    for resource in &r.rule.resources {
                        rows.insert(vec![
                            "ServiceAccount".to_string(),
                            name.clone(),
                            verb.clone(),
                            ns.clone(),
                            if group.is_empty() {
                                "core".into()
                            } else {
                                group.clone()
                            },
                            resource.clone(),
                            r.rule.resource_names.join(","),
                            String::new(),
                            origin.clone(),
                        ]);
                    }
                }
            }
        }
    }
    rows
}

#[test]
fn core_is_not_a_group_name_in_kubernetes() {
    let rule = PolicyRule {
        verbs: vec!["get".into()],
        api_groups: vec!["core".into()],
        resources: vec!["pods".into()],
        ..PolicyRule::default()
    };
    assert!(!rule.allows(&resource_request("get", "", "pods", "", "")));
}

fn bootstrap() -> Option<Rbac> {
    let dir = shared("conformance/rbac/kubernetes-bootstrap-policy")?;
    let loaded = load_bootstrap_policy(&dir).expect("bootstrap policy");
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    Some(Rbac::from_objects(&loaded.objects))
}

#[test]
fn bootstrap_policy_loads_and_aggregates() {
    let Some(rbac) = bootstrap() else { return };
    assert_eq!(rbac.roles.len(), 31);
    assert_eq!(rbac.bindings.len(), 10);
    // The defaults resolve: every binding names a role that is there, no rule is invalid.
    assert!(rbac.issues.is_empty(), "{:#?}", rbac.issues);
    let rules = |name: &str| rbac.cluster_role(name).map(|r| r.rules.len()).unwrap_or(0);
    assert!(rules("view") > 0 && rules("edit") > rules("view") && rules("admin") > rules("edit"));
    let in_ns = |role: &str, verb: &str, group: &str, resource: &str, sub: &str| {
        let id = rbac.cluster_role_id(role).expect("role");
        let request = AccessRequest::Resource {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            namespace: "team".into(),
            name: String::new(),
        };
        rbac.roles[id].rules.iter().any(|r| r.rule.allows(&request))
    };
    assert!(in_ns("view", "list", "", "pods", ""));
    assert!(
        !in_ns("view", "get", "", "secrets", ""),
        "view never reads secrets"
    );
    assert!(in_ns("edit", "get", "", "secrets", ""));
    assert!(in_ns("edit", "create", "", "pods", "exec"));
    assert!(!in_ns(
        "edit",
        "create",
        "rbac.authorization.k8s.io",
        "rolebindings",
        ""
    ));
    assert!(in_ns(
        "admin",
        "create",
        "rbac.authorization.k8s.io",
        "rolebindings",
        ""
    ));
    assert!(
        in_ns("admin", "list", "", "pods", ""),
        "admin has view's rules through edit"
    );
    assert!(!in_ns("admin", "create", "", "namespaces", ""));
    // system:masters is cluster-admin, everywhere and for every URL.
    let masters = impersonate("someone", &["system:masters".to_string()]);
    let d = rbac.authorize(
        &masters,
        &AccessRequest::NonResource {
            verb: "get".into(),
            path: "/anything".into(),
        },
    );
    assert!(d.allowed());
}

#[test]
fn service_account_list_on_the_bootstrap_policy() {
    let Some(rbac) = bootstrap() else { return };
    let user = impersonate("system:serviceaccount:default:default", &[]);
    let table = rbac.list(&user, "default").kubectl_table();
    // What `kubectl auth can-i --list --as system:serviceaccount:default:default`
    // prints on a cluster with these defaults (system:basic-user, system:discovery
    // and system:public-info-viewer through system:authenticated; /healthz etc.
    // twice because two roles grant them, as kubectl shows).
    let expected = "\
Resources                                       Non-Resource URLs   Resource Names   Verbs
selfsubjectreviews.authentication.k8s.io        []                  []               [create]
selfsubjectaccessreviews.authorization.k8s.io   []                  []               [create]
selfsubjectrulesreviews.authorization.k8s.io    []                  []               [create]
                                                [/api/*]            []               [get]
                                                [/api]              []               [get]
                                                [/apis/*]           []               [get]
                                                [/apis]             []               [get]
                                                [/healthz]          []               [get]
                                                [/healthz]          []               [get]
                                                [/livez]            []               [get]
                                                [/livez]            []               [get]
                                                [/openapi/*]        []               [get]
                                                [/openapi]          []               [get]
                                                [/readyz]           []               [get]
                                                [/readyz]           []               [get]
                                                [/version/]         []               [get]
                                                [/version/]         []               [get]
                                                [/version]          []               [get]
                                                [/version]          []               [get]
";
    assert_eq!(table, expected, "\n{table}");
    // The default ServiceAccount can do nothing else.
    let pods = AccessRequest::Resource {
        verb: "list".into(),
        group: String::new(),
        resource: "pods".into(),
        subresource: String::new(),
        namespace: "default".into(),
        name: String::new(),
    };
    assert!(!rbac.authorize(&user, &pods).allowed());
}

#[test]
fn seed_example_dev_team() {
    let Some(seed) = shared("seed-examples/01-rbac.yaml") else {
        return;
    };
    let rbac = Rbac::from_objects(&load(&[seed]));
    let args = RequestArgs {
        verb: "create".into(),
        target: "pods/exec".into(),
        namespace: Some("dev-team-a".into()),
        ..RequestArgs::default()
    };
    let built = build_request(&args, &ResourceTable::builtin()).expect("request");
    let who = rbac.who_can(&built.request, Scope::Request);
    assert_eq!(who.entries.len(), 1);
    let entry = &who.entries[0];
    assert_eq!(
        (entry.kind.clone(), entry.name.as_str()),
        (SubjectKind::User, "dev-team-a-members")
    );
    let table = rbac.who_can_table(&who);
    assert!(table.contains("dev-team-a-members"), "{table}");
    assert!(
        table.contains("RoleBinding \"dev-team-binding/dev-team-a\""),
        "{table}"
    );
    assert!(table.contains("rule #3 at"), "{table}");
    // `resourceNames: []` is every name.
    let members = impersonate("dev-team-a-members", &[]);
    let named = AccessRequest::Resource {
        verb: "create".into(),
        group: String::new(),
        resource: "pods".into(),
        subresource: "exec".into(),
        namespace: "dev-team-a".into(),
        name: "web-0".into(),
    };
    assert!(rbac.authorize(&members, &named).allowed());
    let mut elsewhere = named.clone();
    if let AccessRequest::Resource { namespace, .. } = &mut elsewhere {
        *namespace = "dev-team-b".into();
    }
    assert!(!rbac.authorize(&members, &elsewhere).allowed());
    // pods/log allows get and create only; deployments are in apps, not core.
    let args = RequestArgs {
        verb: "delete".into(),
        target: "deploy".into(),
        namespace: Some("dev-team-a".into()),
        ..RequestArgs::default()
    };
    let built = build_request(&args, &ResourceTable::builtin()).expect("request");
    assert!(rbac.authorize(&members, &built.request).allowed());
    let args = RequestArgs {
        verb: "deletecollection".into(),
        ..args
    };
    let built = build_request(&args, &ResourceTable::builtin()).expect("request");
    assert!(!rbac.authorize(&members, &built.request).allowed());
}
