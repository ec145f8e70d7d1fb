//! The RBAC authorizer's rules, one behaviour per test, on small manifests.

use palisade_model::{load_text, AccessRequest, Authorizer, AuthzDecision, LoadOptions, UserInfo};
use palisade_rbac::{impersonate, Rbac, Scope, SubjectKind};

fn rbac(yaml: &str) -> Rbac {
    let loaded = load_text("rbac.yaml", yaml, &LoadOptions::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    Rbac::from_objects(&loaded.objects)
}

fn res(verb: &str, group: &str, resource: &str, sub: &str, ns: &str, name: &str) -> AccessRequest {
    AccessRequest::Resource {
        verb: verb.into(),
        group: group.into(),
        resource: resource.into(),
        subresource: sub.into(),
        namespace: ns.into(),
        name: name.into(),
    }
}

fn url(verb: &str, path: &str) -> AccessRequest {
    AccessRequest::NonResource {
        verb: verb.into(),
        path: path.into(),
    }
}

fn user(name: &str) -> UserInfo {
    impersonate(name, &[])
}

const CLUSTER_ROLE_WITH_URLS: &str = "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules:
- apiGroups: ['']
  resources: [pods, pods/log]
  verbs: [get, list]
- nonResourceURLs: [/metrics, /logs/*]
  verbs: [get]
";

#[test]
fn rolebinding_to_clusterrole_is_scoped_to_its_namespace() {
    let r = rbac(&format!(
        "{CLUSTER_ROLE_WITH_URLS}---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: rb, namespace: team}}
subjects: [{{kind: User, name: alice}}]
roleRef: {{kind: ClusterRole, name: reader, apiGroup: rbac.authorization.k8s.io}}
"
    ));
    let alice = user("alice");
    assert!(r
        .authorize(&alice, &res("get", "", "pods", "", "team", ""))
        .allowed());
    assert!(r
        .authorize(&alice, &res("get", "", "pods", "log", "team", "p"))
        .allowed());
    assert!(!r
        .authorize(&alice, &res("get", "", "pods", "", "other", ""))
        .allowed());
    // All namespaces (cluster-wide) is not granted by a RoleBinding.
    assert!(!r
        .authorize(&alice, &res("list", "", "pods", "", "", ""))
        .allowed());
    // Non-resource URLs are only granted through ClusterRoleBindings.
    assert!(!r.authorize(&alice, &url("get", "/metrics")).allowed());
    let list = r.list(&alice, "team");
    assert_eq!(list.non_resource_rules.len(), 0);
    assert_eq!(
        list.ineffective.len(),
        1,
        "kubectl would list it; it never applies"
    );
    assert!(r
        .who_can(&url("get", "/metrics"), Scope::AllNamespaces)
        .entries
        .is_empty());
}

#[test]
fn clusterrolebinding_grants_everywhere_and_urls_with_prefixes() {
    let r = rbac(&format!(
        "{CLUSTER_ROLE_WITH_URLS}---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: crb}}
subjects: [{{kind: Group, name: readers}}]
roleRef: {{kind: ClusterRole, name: reader, apiGroup: rbac.authorization.k8s.io}}
"
    ));
    let bob = impersonate("bob", &["readers".to_string()]);
    assert!(r
        .authorize(&bob, &res("list", "", "pods", "", "", ""))
        .allowed());
    assert!(r
        .authorize(&bob, &res("list", "", "pods", "", "any", ""))
        .allowed());
    assert!(r.authorize(&bob, &url("get", "/metrics")).allowed());
    assert!(r
        .authorize(&bob, &url("get", "/logs/kube-apiserver.log"))
        .allowed());
    assert!(!r.authorize(&bob, &url("get", "/logs")).allowed());
    assert!(!r.authorize(&bob, &url("post", "/metrics")).allowed());
    assert!(!r
        .authorize(&user("carol"), &url("get", "/metrics"))
        .allowed());
    let who = r.who_can(&url("get", "/metrics"), Scope::Request);
    assert_eq!(who.entries.len(), 1);
    assert_eq!(who.entries[0].kind, SubjectKind::Group);
    assert_eq!(who.entries[0].name, "readers");
}

#[test]
fn service_account_subjects_and_their_default_namespace() {
    let r = rbac(
        "
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cm, namespace: app}
rules: [{apiGroups: [''], resources: [configmaps], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb, namespace: app}
subjects:
- {kind: ServiceAccount, name: builder}
- {kind: ServiceAccount, name: deployer, namespace: ci}
roleRef: {kind: Role, name: cm, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: no-ns}
subjects: [{kind: ServiceAccount, name: builder}]
roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}
",
    );
    let get = res("get", "", "configmaps", "", "app", "settings");
    // No namespace in a RoleBinding's subject: the binding's namespace.
    assert!(r
        .authorize(&user("system:serviceaccount:app:builder"), &get)
        .allowed());
    assert!(!r
        .authorize(&user("system:serviceaccount:other:builder"), &get)
        .allowed());
    assert!(r
        .authorize(&user("system:serviceaccount:ci:deployer"), &get)
        .allowed());
    assert!(!r
        .authorize(&user("system:serviceaccount:app:deployer"), &get)
        .allowed());
    // The username is what matters, not the groups.
    let fake = UserInfo {
        username: "builder".into(),
        groups: vec!["system:serviceaccounts:app".into()],
    };
    assert!(!r.authorize(&fake, &get).allowed());
    let who = r.who_can(&get, Scope::Request);
    let subjects: Vec<_> = who
        .entries
        .iter()
        .map(|e| (e.name.as_str(), e.namespace.as_deref()))
        .collect();
    assert_eq!(
        subjects,
        vec![("builder", Some("app")), ("deployer", Some("ci"))]
    );
    // A ClusterRoleBinding's ServiceAccount without a namespace matches nobody, and is reported;
    // so is the missing ClusterRole.
    assert!(r
        .issues
        .iter()
        .any(|i| i.message.contains("has no namespace: it matches nobody")));
    assert!(r.issues.iter().any(|i| i
        .message
        .contains("ClusterRole \"view\", which is not in the input")));
}

#[test]
fn missing_roles_are_reported_as_upstream_does() {
    let r = rbac(
        "
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb, namespace: app}
subjects: [{kind: User, name: alice}]
roleRef: {kind: Role, name: gone, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: crb-to-role}
subjects: [{kind: User, name: alice}]
roleRef: {kind: Role, name: gone, apiGroup: rbac.authorization.k8s.io}
",
    );
    let d = r.authorize(&user("alice"), &res("get", "", "pods", "", "app", ""));
    match d {
        AuthzDecision::NoOpinion { reason } => {
            assert!(reason.starts_with("RBAC: ["), "{reason}");
            assert!(reason.contains("RoleBinding \"rb/app\""), "{reason}");
            assert!(
                reason.contains("ClusterRoleBinding \"crb-to-role\""),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(r
        .issues
        .iter()
        .any(|i| i.message.contains("cannot refer to a Role")));
}

#[test]
fn reasons_name_the_binding_role_and_rule_with_positions() {
    let r = rbac(
        "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: deployer}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get]
- apiGroups: [apps]
  resources: [deployments, deployments/scale]
  verbs: [update, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci-deployer}
subjects: [{kind: ServiceAccount, name: ci, namespace: tools}]
roleRef: {kind: ClusterRole, name: deployer, apiGroup: rbac.authorization.k8s.io}
",
    );
    let d = r.authorize(
        &user("system:serviceaccount:tools:ci"),
        &res("update", "apps", "deployments", "scale", "prod", "web"),
    );
    let AuthzDecision::Allow { reason } = d else {
        panic!("{d:?}")
    };
    assert_eq!(
        reason,
        "RBAC: allowed by ClusterRoleBinding \"ci-deployer\" of ClusterRole \"deployer\" to \
         ServiceAccount \"ci/tools\" (binding at rbac.yaml:12, rule #2 at rbac.yaml:8)"
    );
}

#[test]
fn aggregation_follows_chains_and_selector_expressions() {
    let r = rbac(
        "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: top}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {agg/top: 'true'}
rules: [{apiGroups: [''], resources: [nodes], verbs: [delete]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: middle
  labels: {agg/top: 'true'}
aggregationRule:
  clusterRoleSelectors:
  - matchExpressions: [{key: tier, operator: In, values: [base, extra]}, {key: skip, operator: DoesNotExist}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: base, labels: {tier: base}}
rules: [{apiGroups: [''], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: skipped, labels: {tier: base, skip: 'yes'}}
rules: [{apiGroups: [''], resources: [secrets], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: b}
subjects: [{kind: User, name: u}]
roleRef: {kind: ClusterRole, name: top, apiGroup: rbac.authorization.k8s.io}
",
    );
    let u = user("u");
    let d = r.authorize(&u, &res("get", "", "pods", "", "x", ""));
    let AuthzDecision::Allow { reason } = d else {
        panic!("{d:?}")
    };
    assert!(
        reason.contains("aggregated from ClusterRole \"base\" rule #1"),
        "{reason}"
    );
    assert!(!r
        .authorize(&u, &res("get", "", "secrets", "", "x", ""))
        .allowed());
    // The aggregated role's own rules are replaced by the controller.
    assert!(!r
        .authorize(&u, &res("delete", "", "nodes", "", "", "n1"))
        .allowed());
    assert!(r
        .issues
        .iter()
        .any(|i| i.message.contains("replaces its 1 written rule")));
    assert_eq!(r.cluster_role("middle").map(|m| m.rules.len()), Some(1));
}

#[test]
fn invalid_aggregation_selector_leaves_rules_as_written() {
    let r = rbac(
        "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: agg}
aggregationRule:
  clusterRoleSelectors: [{matchExpressions: [{key: a, operator: Bogus}]}]
rules: [{apiGroups: [''], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: other, labels: {a: b}}
rules: [{apiGroups: [''], resources: [secrets], verbs: [get]}]
",
    );
    let agg = r.cluster_role("agg").expect("agg");
    assert_eq!(agg.rules.len(), 1);
    assert_eq!(agg.rules[0].rule.resources, vec!["pods"]);
    assert!(r
        .issues
        .iter()
        .any(|i| i.message.contains("invalid clusterRoleSelector")));
}

#[test]
fn older_api_versions_and_later_definitions() {
    let r = rbac(
        "
apiVersion: rbac.authorization.k8s.io/v1beta1
kind: Role
metadata: {name: r, namespace: dev}
rules: [{apiGroups: [''], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1alpha1
kind: RoleBinding
metadata: {name: b, namespace: dev}
subjects: [{kind: User, name: u}]
roleRef: {kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: dev}
rules: [{apiGroups: [''], resources: [services], verbs: [get]}]
---
apiVersion: example.com/v1
kind: Role
metadata: {name: r, namespace: dev}
rules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]
",
    );
    let u = user("u");
    assert!(!r
        .authorize(&u, &res("get", "", "pods", "", "dev", ""))
        .allowed());
    assert!(r
        .authorize(&u, &res("get", "", "services", "", "dev", ""))
        .allowed());
    assert!(!r
        .authorize(&u, &res("delete", "", "services", "", "dev", ""))
        .allowed());
    assert_eq!(r.roles.len(), 1);
    assert!(r.issues.iter().any(|i| i.message.contains("defined again")));
}

#[test]
fn type_errors_in_rules_are_reported_not_guessed() {
    let r = rbac(
        "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: c}
rules:
- apiGroups: ['']
  resources: [pods]
  verbs: [get, on]
- resources: [pods]
  verbs: [list]
- 42
",
    );
    let role = r.cluster_role("c").expect("c");
    assert_eq!(role.rules.len(), 2);
    assert_eq!(role.rules[0].rule.verbs, vec!["get"]);
    let messages: Vec<&str> = r.issues.iter().map(|i| i.message.as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains("`true` is a boolean")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("at least one api group")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("rules[2] is a integer")),
        "{messages:?}"
    );
    assert!(r.issues.iter().all(|i| i.location.line > 0));
}

#[test]
fn who_can_scopes_and_the_authorizer_agree() {
    let r = rbac(
        "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secrets}
rules: [{apiGroups: [''], resources: [secrets], verbs: [get], resourceNames: [db]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: a, namespace: one}
subjects: [{kind: User, name: ann}]
roleRef: {kind: ClusterRole, name: secrets, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: two}
subjects: [{kind: User, name: ben}, {kind: Group, name: ops}]
roleRef: {kind: ClusterRole, name: secrets, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: c}
subjects: [{kind: User, name: cid}]
roleRef: {kind: ClusterRole, name: secrets, apiGroup: rbac.authorization.k8s.io}
",
    );
    let get_db = |ns: &str| res("get", "", "secrets", "", ns, "db");
    let names = |w: palisade_rbac::WhoCan| -> Vec<String> {
        w.entries.into_iter().map(|e| e.name).collect()
    };
    assert_eq!(
        names(r.who_can(&get_db("one"), Scope::Request)),
        vec!["ann", "cid"]
    );
    assert_eq!(
        names(r.who_can(&get_db("two"), Scope::Request)),
        vec!["ben", "cid", "ops"]
    );
    assert_eq!(names(r.who_can(&get_db(""), Scope::Request)), vec!["cid"]);
    assert_eq!(
        names(r.who_can(&get_db(""), Scope::AllNamespaces)),
        vec!["ann", "ben", "cid", "ops"]
    );
    // Another name: nobody.
    assert!(r
        .who_can(
            &res("get", "", "secrets", "", "one", "other"),
            Scope::AllNamespaces
        )
        .entries
        .is_empty());
    // Every who-can answer is an allow of the authorizer, and the reverse.
    for ns in ["one", "two", "three"] {
        let who = r.who_can(&get_db(ns), Scope::Request);
        for u in ["ann", "ben", "cid", "dan"] {
            let listed = who.entries.iter().any(|e| e.name == u);
            assert_eq!(
                listed,
                r.authorize(&user(u), &get_db(ns)).allowed(),
                "{u} in {ns}"
            );
        }
        let ops = impersonate("x", &["ops".to_string()]);
        let listed = who.entries.iter().any(|e| e.name == "ops");
        assert_eq!(
            listed,
            r.authorize(&ops, &get_db(ns)).allowed(),
            "ops in {ns}"
        );
    }
}

#[test]
fn can_i_lists_every_allowing_binding() {
    let r = rbac(
        "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: all}
rules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: by-group}
subjects: [{kind: Group, name: system:authenticated}]
roleRef: {kind: ClusterRole, name: all, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: by-user, namespace: dev}
subjects: [{kind: User, name: u}]
roleRef: {kind: ClusterRole, name: all, apiGroup: rbac.authorization.k8s.io}
",
    );
    let d = r.can_i(
        &user("u"),
        &res("delete", "apps", "deployments", "", "dev", "x"),
    );
    assert!(d.allowed);
    assert_eq!(d.grants.len(), 2);
    // ClusterRoleBindings are visited first.
    assert_eq!(r.bindings[d.grants[0].binding].name, "by-group");
    assert_eq!(r.bindings[d.grants[1].binding].name, "by-user");
    // Without the implicit group, only the RoleBinding.
    let bare = UserInfo {
        username: "u".into(),
        groups: vec![],
    };
    assert_eq!(
        r.can_i(&bare, &res("get", "", "pods", "", "dev", ""))
            .grants
            .len(),
        1
    );
    assert!(
        !r.can_i(&bare, &res("get", "", "pods", "", "qa", ""))
            .allowed
    );
    let text = r.decision_text(&d);
    assert!(text.starts_with("yes\n"), "{text}");
    let json = r.decision_json(&d);
    assert_eq!(json["grants"][0]["binding"]["name"], "by-group");
    assert_eq!(json["grants"][1]["rule"]["number"], 1);
}

#[test]
fn the_evaluator_serves_as_a_shared_authorizer() {
    let r = rbac(CLUSTER_ROLE_WITH_URLS);
    let shared: std::sync::Arc<dyn Authorizer> = std::sync::Arc::new(r);
    assert!(!shared
        .authorize(&user("x"), &res("get", "", "pods", "", "dev", ""))
        .allowed());
}

#[test]
fn malformed_objects_are_reported_never_panic() {
    let r = rbac(
        "
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: a}
rules: not-a-list
aggregationRule: {clusterRoleSelectors: [7, {matchLabels: [x]}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: b}
rules: [{verbs: get, apiGroups: {x: y}, resources: [[pods]], nonResourceURLs: [/x]}]
aggregationRule: {}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: c}
subjects: {kind: User, name: u}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: d}
subjects: [null, 3, {kind: Robot, name: r2}, {kind: User}]
roleRef: {kind: Secret, name: x}
",
    );
    assert!(r.issues.len() >= 8, "{:#?}", r.issues);
    // Each issue reads `file:line:column: message`, as the loader's errors do.
    for issue in &r.issues {
        let text = issue.to_string();
        let mut parts = text.splitn(4, ':');
        let (file, line, column) = (parts.next(), parts.next(), parts.next());
        assert_eq!(file, Some(&*issue.location.file), "{text}");
        assert_eq!(
            line,
            Some(issue.location.line.to_string().as_str()),
            "{text}"
        );
        assert_eq!(
            column,
            Some(issue.location.column.to_string().as_str()),
            "{text}"
        );
        assert!(
            issue.location.line > 1 && issue.location.column >= 1,
            "{text}"
        );
    }
    // `rules: not-a-list` is reported where it is written.
    assert!(
        r.issues
            .iter()
            .any(|i| (i.location.line, i.location.column) == (5, 8)),
        "{:#?}",
        r.issues
    );
    let u = user("u");
    for req in [
        res("get", "", "pods", "", "default", ""),
        res("get", "", "pods", "", "", ""),
        url("get", "/x"),
    ] {
        assert!(!r.authorize(&u, &req).allowed());
        assert!(r.who_can(&req, Scope::AllNamespaces).entries.is_empty());
    }
    assert!(r.list(&u, "default").kubectl_rules().is_empty());
}
