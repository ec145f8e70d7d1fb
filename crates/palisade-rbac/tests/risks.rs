//! Risk checks: the seed example, scopes, defaults, findings, and the peers'
//! catalogues (krane's rules, the scanners' service-account rows) mapped to
//! Palisade's checks.

use std::path::PathBuf;
use std::sync::Arc;

use palisade_model::{
    load_inputs, load_text, Input, LoadOptions, Node, Object, Severity, SourceFile,
};
use palisade_rbac::{risk_findings, risk_findings_with, rules, Rbac, Risk, RiskOptions};

fn load(yaml: &str) -> Vec<Object> {
    let loaded = load_text("t.yaml", yaml.to_string(), &LoadOptions::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.objects
}

fn risks_of(yaml: &str) -> Vec<Risk> {
    Rbac::from_objects(&load(yaml)).risks()
}

fn ids(risks: &[Risk]) -> Vec<&'static str> {
    let mut ids: Vec<_> = risks.iter().map(|r| r.check).collect();
    ids.sort();
    ids.dedup();
    ids
}

fn find<'a>(risks: &'a [Risk], id: &str) -> &'a Risk {
    risks
        .iter()
        .find(|r| r.check == id)
        .unwrap_or_else(|| panic!("no {id} in {:?}", ids(risks)))
}

fn shared(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
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

const RB: &str = "rbac.authorization.k8s.io";

fn cluster_role(name: &str, rules: &str) -> String {
    format!(
        "---\napiVersion: {RB}/v1\nkind: ClusterRole\nmetadata: {{name: {name}}}\nrules:\n{rules}"
    )
}

fn crb(name: &str, role: &str, subject: &str) -> String {
    format!("---\napiVersion: {RB}/v1\nkind: ClusterRoleBinding\nmetadata: {{name: {name}}}\nroleRef: {{kind: ClusterRole, name: {role}, apiGroup: {RB}}}\nsubjects: [{subject}]\n")
}

fn rb(ns: &str, name: &str, kind: &str, role: &str, subject: &str) -> String {
    format!("---\napiVersion: {RB}/v1\nkind: RoleBinding\nmetadata: {{name: {name}, namespace: {ns}}}\nroleRef: {{kind: {kind}, name: {role}, apiGroup: {RB}}}\nsubjects: [{subject}]\n")
}

const ALICE: &str = "{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}";

#[test]
fn seed_role_reports_secrets_exec_and_empty_resource_names() {
    let Some(path) = shared("seed-examples/01-rbac.yaml") else {
        return;
    };
    let text = std::fs::read_to_string(&path).expect("read seed");
    let objects = load(&text);
    let rbac = Rbac::from_objects(&objects);
    let risks = rbac.risks();
    assert_eq!(
        ids(&risks),
        [
            "rbac-risk/create-workloads",
            "rbac-risk/delete-resources",
            "rbac-risk/empty-resource-names",
            "rbac-risk/manage-configmaps",
            "rbac-risk/manage-network",
            "rbac-risk/pod-exec",
            "rbac-risk/read-secrets",
            "rbac-risk/write-secrets",
        ]
    );
    let read = find(&risks, "rbac-risk/read-secrets");
    assert_eq!(read.grants, ["get, list secrets"]);
    assert_eq!(read.severity, Severity::High, "held in one namespace");
    assert_eq!(read.location.line, 8);
    assert_eq!(read.holders.len(), 1);
    assert_eq!(read.holders[0].namespace.as_deref(), Some("dev-team-a"));
    assert!(
        read.message.contains("User \"dev-team-a-members\""),
        "{}",
        read.message
    );
    let write = find(&risks, "rbac-risk/write-secrets");
    assert_eq!(write.grants, ["create, update, patch, delete secrets"]);
    let exec = find(&risks, "rbac-risk/pod-exec");
    assert_eq!(exec.grants, ["create, get pods/exec"]);
    assert_eq!(exec.location.line, 14);
    assert!(!exec.message.contains("1.35"), "create is granted too");
    let empty = find(&risks, "rbac-risk/empty-resource-names");
    assert_eq!(empty.location.line, 17, "at the resourceNames line");
    assert_eq!(empty.field.as_deref(), Some("rules[2].resourceNames"));
    assert!(
        empty.message.contains("restricts nothing"),
        "{}",
        empty.message
    );

    let findings = risk_findings(&rbac, &objects);
    assert_eq!(findings.len(), risks.len());
    let f = findings
        .iter()
        .find(|f| f.rule == "rbac-risk/empty-resource-names")
        .expect("finding");
    assert_eq!(f.location.span.start.line, 17);
    assert_eq!(f.location.field.as_deref(), Some("rules[2].resourceNames"));
    assert_eq!(f.object.kind, "Role");
    let details = f.details.as_ref().expect("details");
    assert_eq!(
        details["holders"][0]["subjects"][0]["name"],
        "dev-team-a-members"
    );
}

#[test]
fn get_on_exec_is_reported_for_clusters_before_1_35() {
    let yaml = cluster_role(
        "r",
        "- {apiGroups: [''], resources: [pods/exec, pods/attach], verbs: [get]}\n",
    ) + &crb("b", "r", ALICE);
    let risks = risks_of(&yaml);
    let exec = find(&risks, "rbac-risk/pod-exec");
    assert_eq!(exec.grants, ["get pods/exec", "get pods/attach"]);
    assert!(
        exec.message.contains("before Kubernetes 1.35"),
        "{}",
        exec.message
    );
    assert_eq!(exec.severity, Severity::Critical, "cluster-wide");
}

fn at_version(version: &str) -> RiskOptions {
    RiskOptions {
        kubernetes_version: Some(version.parse().expect("version")),
    }
}

#[test]
fn get_on_exec_depends_on_the_kubernetes_version_given() {
    let get_only = cluster_role(
        "r",
        "- {apiGroups: [''], resources: [pods/exec, pods/attach, pods/portforward], verbs: [get]}\n",
    ) + &crb("b", "r", ALICE);
    let objects = load(&get_only);
    let rbac = Rbac::from_objects(&objects);
    // 1.34: `get` is still enough, and the message says why for this version.
    let risks = rbac.risks_with(&at_version("v1.34.2"));
    let exec = find(&risks, "rbac-risk/pod-exec");
    assert_eq!(exec.grants, ["get pods/exec", "get pods/attach"]);
    assert!(
        exec.message.contains("Kubernetes 1.34 authorizes"),
        "{}",
        exec.message
    );
    assert!(!exec.message.contains("not given"), "{}", exec.message);
    find(&risks, "rbac-risk/port-forward");
    // Unknown version: reported, saying the version was not given.
    let exec = find(&rbac.risks(), "rbac-risk/pod-exec").clone();
    assert!(
        exec.message.contains("version was not given"),
        "{}",
        exec.message
    );
    // 1.35 and later also require `create`: `get` alone opens nothing.
    for version in ["1.35", "1.36.1"] {
        let risks = rbac.risks_with(&at_version(version));
        assert!(
            risks
                .iter()
                .all(|r| r.check != "rbac-risk/pod-exec" && r.check != "rbac-risk/port-forward"),
            "{version}: {:?}",
            ids(&risks)
        );
        assert!(risk_findings_with(&rbac, &objects, &at_version(version))
            .iter()
            .all(|f| f.rule != "rbac-risk/pod-exec"));
    }
    assert!(risk_findings(&rbac, &objects)
        .iter()
        .any(|f| f.rule == "rbac-risk/pod-exec"));
    // With `create` too, 1.35 still reports the rule, for `create` only.
    let both = cluster_role(
        "r",
        "- {apiGroups: [''], resources: [pods/exec], verbs: [get, create]}\n",
    ) + &crb("b", "r", ALICE);
    let rbac = Rbac::from_objects(&load(&both));
    let exec = find(&rbac.risks_with(&at_version("1.35")), "rbac-risk/pod-exec").clone();
    assert_eq!(exec.grants, ["create pods/exec"]);
    let exec = find(&rbac.risks(), "rbac-risk/pod-exec").clone();
    assert_eq!(exec.grants, ["create, get pods/exec"]);
}

#[test]
fn cluster_scoped_grants_need_a_cluster_role_binding() {
    let role = cluster_role(
        "kubelet-api",
        "- {apiGroups: [''], resources: [nodes/proxy], verbs: [get]}\n",
    );
    // Bound only by a RoleBinding: nodes are cluster-scoped, nothing is granted.
    let risks = risks_of(&(role.clone() + &rb("dev", "b", "ClusterRole", "kubelet-api", ALICE)));
    assert!(
        risks.iter().all(|r| r.check != "rbac-risk/nodes-proxy"),
        "{:?}",
        ids(&risks)
    );
    // Through a ClusterRoleBinding it is.
    let risks = risks_of(&(role.clone() + &crb("b", "kubelet-api", ALICE)));
    let proxy = find(&risks, "rbac-risk/nodes-proxy");
    assert_eq!(proxy.severity, Severity::Critical);
    assert_eq!(proxy.holders.len(), 1);
    assert!(proxy.holders[0].namespace.is_none());
    // Unbound: reported as latent, without holders.
    let risks = risks_of(&role);
    let proxy = find(&risks, "rbac-risk/nodes-proxy");
    assert!(proxy.holders.is_empty());
    assert!(proxy.message.contains("no binding"), "{}", proxy.message);
    // A Role naming a cluster-scoped resource grants nothing.
    let risks = risks_of(&format!("apiVersion: {RB}/v1\nkind: Role\nmetadata: {{name: r, namespace: dev}}\nrules:\n- {{apiGroups: [''], resources: [nodes/proxy], verbs: [get]}}\n"));
    assert!(risks.is_empty(), "{:?}", ids(&risks));
}

#[test]
fn impersonation_through_a_role_binding_is_service_accounts_only() {
    let role = cluster_role(
        "imp",
        "- {apiGroups: [''], resources: [users, groups, serviceaccounts], verbs: [impersonate]}\n",
    );
    let risks = risks_of(&(role.clone() + &rb("dev", "b", "ClusterRole", "imp", ALICE)));
    let imp = find(&risks, "rbac-risk/impersonate");
    assert_eq!(imp.grants, ["impersonate serviceaccounts"]);
    assert_eq!(imp.severity, Severity::High);
    let risks = risks_of(&(role + &crb("b", "imp", ALICE)));
    let imp = find(&risks, "rbac-risk/impersonate");
    assert_eq!(
        imp.grants,
        [
            "impersonate users",
            "impersonate groups",
            "impersonate serviceaccounts"
        ]
    );
    assert_eq!(imp.severity, Severity::Critical);
}

#[test]
fn coredns_only_in_kube_system_and_by_name() {
    let role = |ns: &str, names: &str| {
        format!("---\napiVersion: {RB}/v1\nkind: Role\nmetadata: {{name: cm, namespace: {ns}}}\nrules:\n- {{apiGroups: [''], resources: [configmaps], verbs: [get, update]{names}}}\n")
            + &rb(ns, "b", "Role", "cm", ALICE)
    };
    let has = |yaml: &str| {
        risks_of(yaml)
            .iter()
            .any(|r| r.check == "rbac-risk/coredns-config")
    };
    assert!(has(&role("kube-system", "")));
    assert!(has(&role("kube-system", ", resourceNames: [coredns]")));
    assert!(!has(&role("kube-system", ", resourceNames: [leader]")));
    assert!(!has(&role("dev", "")));
    // A ClusterRole through a RoleBinding elsewhere does not reach kube-system.
    let cr = cluster_role(
        "cm",
        "- {apiGroups: [''], resources: [configmaps], verbs: [patch]}\n",
    );
    assert!(!has(
        &(cr.clone() + &rb("dev", "b", "ClusterRole", "cm", ALICE))
    ));
    assert!(has(&(cr + &crb("b", "cm", ALICE))));
}

#[test]
fn full_access_is_reported_once_and_scoped() {
    let role = cluster_role(
        "all",
        "- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n",
    );
    let risks = risks_of(&(role.clone() + &rb("dev", "b", "ClusterRole", "all", ALICE)));
    assert_eq!(
        ids(&risks),
        ["rbac-risk/cluster-admin-binding", "rbac-risk/full-access"],
        "other grant checks stay quiet for a rule granting everything"
    );
    assert_eq!(
        find(&risks, "rbac-risk/full-access").severity,
        Severity::High
    );
    assert_eq!(
        find(&risks, "rbac-risk/cluster-admin-binding").severity,
        Severity::Medium
    );
    let risks = risks_of(&(role + &crb("b", "all", ALICE)));
    assert_eq!(
        find(&risks, "rbac-risk/full-access").severity,
        Severity::Critical
    );
    assert_eq!(
        find(&risks, "rbac-risk/cluster-admin-binding").severity,
        Severity::High
    );
}

#[test]
fn binding_checks() {
    let view = cluster_role(
        "viewer",
        "- {apiGroups: [''], resources: [pods], verbs: [get]}\n",
    );
    let yaml = view.clone()
        + &crb(
            "anon",
            "viewer",
            "{kind: User, name: 'system:anonymous'}, {kind: Group, name: 'system:authenticated'}",
        )
        + &crb("masters", "viewer", "{kind: Group, name: 'system:masters'}")
        + &crb(
            "admins",
            "cluster-admin",
            "{kind: User, name: bob}, {kind: Group, name: 'system:kube-controller-manager'}",
        )
        + &rb(
            "shop",
            "dflt",
            "ClusterRole",
            "viewer",
            "{kind: ServiceAccount, name: default}, {kind: ServiceAccount, name: web}",
        )
        + &crb(
            "pub",
            "system:public-info-viewer",
            "{kind: Group, name: 'system:unauthenticated'}",
        );
    let risks = risks_of(&yaml);
    let anon: Vec<&Risk> = risks
        .iter()
        .filter(|r| r.check == "rbac-risk/binding-to-anonymous")
        .collect();
    assert_eq!(
        anon.len(),
        2,
        "anonymous and authenticated, not the discovery role"
    );
    assert_eq!(anon[0].severity, Severity::Critical);
    assert_eq!(anon[0].subject, Some(0));
    assert_eq!(anon[1].severity, Severity::High);
    let masters = find(&risks, "rbac-risk/binding-to-system-masters");
    assert!(masters.message.contains("bypass RBAC"));
    let admin: Vec<&Risk> = risks
        .iter()
        .filter(|r| r.check == "rbac-risk/cluster-admin-binding")
        .collect();
    assert_eq!(admin.len(), 1, "bob, not the system: group");
    assert!(admin[0].message.contains("User \"bob\""));
    let missing = find(&risks, "rbac-risk/missing-role");
    assert!(
        missing.message.contains("\"cluster-admin\""),
        "cluster-admin is not in the input"
    );
    let dflt: Vec<&Risk> = risks
        .iter()
        .filter(|r| r.check == "rbac-risk/default-service-account")
        .collect();
    assert_eq!(dflt.len(), 1);
    assert_eq!(dflt[0].field.as_deref(), Some("subjects[0]"));
    assert!(dflt[0].message.contains("namespace shop"));
}

#[test]
fn default_policy_alone_has_no_risks_and_its_roles_count_when_bound() {
    let Some(dir) = shared("conformance/rbac/kubernetes-bootstrap-policy") else {
        return;
    };
    let loaded = load_inputs(&[Input::Path(dir)], &LoadOptions::default());
    let rbac = Rbac::from_objects(&loaded.objects);
    assert!(rbac.roles.len() > 30);
    let risks = rbac.risks();
    assert!(
        risks.is_empty(),
        "{:?}",
        risks.iter().map(|r| &r.message).take(3).collect::<Vec<_>>()
    );

    // alice gets `edit` in dev: the aggregated rules of edit are hers there.
    let mut objects = loaded.objects.clone();
    objects.extend(load(&rb("dev", "alice-edit", "ClusterRole", "edit", ALICE)));
    let rbac = Rbac::from_objects(&objects);
    let risks = rbac.risks();
    for id in [
        "rbac-risk/read-secrets",
        "rbac-risk/write-secrets",
        "rbac-risk/create-workloads",
        "rbac-risk/pod-exec",
        "rbac-risk/impersonate",
    ] {
        let r = find(&risks, id);
        assert_eq!(r.holders.len(), 1, "{id}");
        assert_eq!(r.holders[0].namespace.as_deref(), Some("dev"));
        assert!(r.message.contains("aggregated"), "{}", r.message);
    }
    // As findings they point at alice's binding, the object the user wrote.
    let findings = risk_findings(&rbac, &objects);
    assert!(!findings.is_empty());
    assert!(
        findings.iter().all(|f| f.object.name == "alice-edit"),
        "{:?}",
        findings.iter().map(|f| &f.object.name).collect::<Vec<_>>()
    );
}

#[test]
fn rules_are_documented_and_do_not_reuse_check_ids() {
    let metas = rules();
    assert!(metas.len() >= 25);
    let mut seen = std::collections::HashSet::new();
    for m in metas {
        assert!(m.id.starts_with("rbac-risk/"), "{}", m.id);
        assert!(seen.insert(m.id), "duplicate {}", m.id);
        for section in [
            "## What it finds",
            "## Why it matters",
            "## How to fix it",
            "## Example",
        ] {
            assert!(m.docs.contains(section), "{} lacks {section}", m.id);
        }
        assert!(m.help_uri.starts_with("https://"), "{}", m.id);
    }
    // The rule ids palisade-checks already uses (its per-object rbac/ and sa/ checks).
    let checks = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../palisade-checks/src/rules");
    for dir in ["rbac", "sa"] {
        let Ok(entries) = std::fs::read_dir(checks.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for line in text.lines() {
                if let Some(id) = line.trim().strip_prefix("id: \"") {
                    let id = id.trim_end_matches("\",");
                    assert!(!seen.contains(id), "{id} is already a palisade-checks rule");
                }
            }
        }
    }
}

/// How Palisade covers each of krane's 53 rules: the check a role matching
/// the rule's `match_rules` (or the fixture given) triggers, or why none does.
const KRANE: &[(&str, Result<&str, &str>)] = &[
    ("example-rule", Err("a disabled example, not a check")),
    ("unauthenticated-subject-access", Ok("rbac-risk/binding-to-anonymous")),
    ("subjects-with-privileged-psp-not-scoped-to-ns", Err("PodSecurityPolicy was removed in Kubernetes 1.25; privileged pods are Pod Security admission's (palisade-pss)")),
    ("subjects-with-open-cluster-wide-access", Ok("rbac-risk/full-access")),
    ("subjects-with-open-ns-level-access", Ok("rbac-risk/full-access")),
    ("subjects-with-rbac-management", Ok("rbac-risk/manage-rbac")),
    ("subjects-with-non-existing-roles", Ok("rbac-risk/missing-role")),
    ("subjects-with-many-roles", Err("a count heuristic (more than 4 roles), not a risky grant; `rbac can-i --list` and `rbac graph` show a subject's roles")),
    ("namespaces-with-many-subjects", Err("a count heuristic (more than 5 subjects), not a risky grant; `rbac who-can -n NS` lists them")),
    ("risky-get-secrets", Ok("rbac-risk/read-secrets")),
    ("risky-list-secrets", Ok("rbac-risk/read-secrets")),
    ("risky-impersonate-privileged-groups", Ok("rbac-risk/impersonate")),
    ("risky-any-verb-secrets", Ok("rbac-risk/read-secrets")),
    ("risky-any-verb-pods", Ok("rbac-risk/create-workloads")),
    ("risky-any-verb-deployments", Ok("rbac-risk/create-workloads")),
    ("risky-any-verb-daemonsets", Ok("rbac-risk/create-workloads")),
    ("risky-any-verb-statefulsets", Ok("rbac-risk/create-workloads")),
    ("risky-any-verb-replicationcontrollers", Ok("rbac-risk/create-workloads")),
    ("risky-any-verb-replicasets", Ok("rbac-risk/create-workloads")),
    ("risky-any-verb-cronjobs", Ok("rbac-risk/create-workloads")),
    ("risky-any-verb-jobs", Ok("rbac-risk/create-workloads")),
    ("risky-any-verb-roles", Ok("rbac-risk/escalate")),
    ("risky-any-verb-clusterroles", Ok("rbac-risk/escalate")),
    ("risky-any-verb-rolebindings", Ok("rbac-risk/manage-rbac")),
    ("risky-any-verb-clusterrolebindings", Ok("rbac-risk/manage-rbac")),
    ("risky-any-verb-users", Ok("rbac-risk/impersonate")),
    ("risky-any-verb-groups", Ok("rbac-risk/impersonate")),
    ("risky-any-resource-delete", Ok("rbac-risk/wildcard")),
    ("risky-any-resource-deletecollection", Ok("rbac-risk/wildcard")),
    ("risky-any-resource-create", Ok("rbac-risk/create-workloads")),
    ("risky-any-resource-list", Ok("rbac-risk/read-secrets")),
    ("risky-any-resource-get", Ok("rbac-risk/read-secrets")),
    ("risky-any-resource-impersonate", Ok("rbac-risk/impersonate")),
    ("risky-create-deployments", Ok("rbac-risk/create-workloads")),
    ("risky-update-deployments", Ok("rbac-risk/create-workloads")),
    ("risky-create-daemonsets", Ok("rbac-risk/create-workloads")),
    ("risky-update-daemonsets", Ok("rbac-risk/create-workloads")),
    ("risky-create-statefulsets", Ok("rbac-risk/create-workloads")),
    ("risky-update-statefulsets", Ok("rbac-risk/create-workloads")),
    ("risky-create-replicationcontrollers", Ok("rbac-risk/create-workloads")),
    ("risky-update-replicationcontrollers", Ok("rbac-risk/create-workloads")),
    ("risky-create-replicasets", Ok("rbac-risk/create-workloads")),
    ("risky-update-replicasets", Ok("rbac-risk/create-workloads")),
    ("risky-create-jobs", Ok("rbac-risk/create-workloads")),
    ("risky-update-jobs", Ok("rbac-risk/create-workloads")),
    ("risky-create-cronjobs", Ok("rbac-risk/create-workloads")),
    ("risky-update-cronjobs", Ok("rbac-risk/create-workloads")),
    ("risky-create-rolebinding-role", Ok("rbac-risk/bind")),
    ("risky-create-rolebinding-clusterrole", Ok("rbac-risk/bind")),
    ("risky-create-clusterrolebinding", Ok("rbac-risk/manage-rbac")),
    ("risky-exec-pods", Ok("rbac-risk/pod-exec")),
    ("risky-attach-pods", Ok("rbac-risk/pod-exec")),
    ("risky-add-rolebinding", Ok("rbac-risk/manage-rbac")),
];

/// A fixture for krane's template rules (those without `match_rules`).
fn krane_fixture(id: &str) -> Option<String> {
    let all = cluster_role(
        "all",
        "- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n",
    );
    Some(match id {
        "unauthenticated-subject-access" => {
            cluster_role("reader", "- {apiGroups: [''], resources: [pods], verbs: [get]}\n")
                + &crb("anon", "reader", "{kind: User, name: 'system:anonymous'}")
        }
        "subjects-with-open-cluster-wide-access" => all + &crb("b", "all", ALICE),
        "subjects-with-open-ns-level-access" => all + &rb("dev", "b", "ClusterRole", "all", ALICE),
        "subjects-with-rbac-management" => {
            cluster_role("rbac", "- {apiGroups: [rbac.authorization.k8s.io], resources: [roles, rolebindings], verbs: [create]}\n")
                + &rb("dev", "b", "ClusterRole", "rbac", ALICE)
        }
        "subjects-with-non-existing-roles" => crb("b", "nowhere", ALICE),
        _ => return None,
    })
}

/// krane's `match_rules` as a role's rules (flow-style YAML).
fn match_rules_yaml(match_rules: &Node) -> String {
    let list = |n: Option<&Node>| {
        let items: Vec<String> = n
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(Node::as_str)
            .map(|s| format!("'{s}'"))
            .collect();
        format!("[{}]", items.join(", "))
    };
    match_rules
        .items()
        .iter()
        .map(|r| {
            format!(
                "- {{apiGroups: {}, resources: {}, verbs: {}}}\n",
                list(r.get("apiGroups")),
                list(r.get("resources")),
                list(r.get("verbs"))
            )
        })
        .collect()
}

#[test]
fn krane_rules_map_to_palisade_checks() {
    let Some(path) = shared("conformance/rbac/krane/config/rules.yaml") else {
        return;
    };
    let text = std::fs::read_to_string(&path).expect("read krane rules");
    let source = Arc::new(SourceFile::new("rules.yaml", text));
    let (docs, errors) = palisade_model::yaml::parse_stream(&source);
    assert!(errors.is_empty(), "{errors:?}");
    let krane_rules: Vec<&Node> = docs
        .iter()
        .flat_map(|d| d.root.get("rules").map(Node::items).unwrap_or(&[]))
        .collect();
    assert_eq!(krane_rules.len(), 53, "krane's catalogue");
    assert_eq!(KRANE.len(), 53);
    let known: Vec<&str> = rules().iter().map(|m| m.id).collect();
    let mut covered = 0;
    for rule in &krane_rules {
        let id = rule.get("id").and_then(Node::as_str).expect("id");
        let (_, mapping) = KRANE
            .iter()
            .find(|(k, _)| *k == id)
            .unwrap_or_else(|| panic!("krane rule {id} is not mapped"));
        let check = match mapping {
            Ok(check) => *check,
            Err(reason) => {
                assert!(!reason.is_empty());
                continue;
            }
        };
        assert!(known.contains(&check), "{check} is not a Palisade check");
        let yaml = match rule.get("match_rules") {
            Some(m) => cluster_role("krane", &match_rules_yaml(m)) + &crb("b", "krane", ALICE),
            None => krane_fixture(id).unwrap_or_else(|| panic!("no fixture for {id}")),
        };
        let risks = risks_of(&yaml);
        assert!(
            risks.iter().any(|r| r.check == check),
            "krane {id}: expected {check}, got {:?}",
            ids(&risks)
        );
        covered += 1;
    }
    assert_eq!(covered, 49, "4 of 53 are not grant risks (see KRANE)");
}

/// The service-account & RBAC rows (37-60) of the scanners' merged topic
/// table: the checks that cover each (every one is triggered below by a
/// policy granting what the row is about), or why the row is not a grant.
type Row = (
    u32,
    &'static str,
    Result<&'static [&'static str], &'static str>,
);

const SCANNER_ROWS: &[Row] = &[
    (37, "automountServiceAccountToken", Err("a Pod setting: palisade-checks sa/automount-token")),
    (38, "default SA", Ok(&["rbac-risk/default-service-account"])),
    (39, "deprecated serviceAccount", Err("a Pod field: palisade-checks sa/deprecated-service-account-field")),
    (40, "does not exist", Err("a Pod reference: palisade-checks sa/missing-service-account")),
    (41, "cluster-admin", Ok(&["rbac-risk/cluster-admin-binding", "rbac-risk/full-access"])),
    (42, "wildcard", Ok(&["rbac-risk/wildcard"])),
    (43, "secrets", Ok(&["rbac-risk/read-secrets"])),
    (44, "create pods", Ok(&["rbac-risk/create-workloads"])),
    (45, "pods/exec", Ok(&["rbac-risk/pod-exec"])),
    (46, "nodes/proxy", Ok(&["rbac-risk/nodes-proxy"])),
    (47, "impersonate", Ok(&["rbac-risk/impersonate"])),
    (48, "bind / escalate", Ok(&["rbac-risk/bind", "rbac-risk/escalate"])),
    (49, "admission webhook", Ok(&["rbac-risk/admission-webhooks"])),
    (50, "approve CSRs", Ok(&["rbac-risk/approve-csr"])),
    (51, "serviceaccount tokens", Ok(&["rbac-risk/service-account-token"])),
    (52, "PersistentVolumes", Ok(&["rbac-risk/create-persistent-volumes"])),
    (53, "services/status", Ok(&["rbac-risk/services-status"])),
    // Deleting pods/log is not an API operation (only get is served): no check for it.
    (54, "delete pod logs / events", Ok(&["rbac-risk/delete-events", "rbac-risk/delete-resources"])),
    (55, "CoreDNS", Ok(&["rbac-risk/coredns-config"])),
    (56, "port-forward", Ok(&["rbac-risk/port-forward"])),
    (57, "configmaps / networking", Ok(&["rbac-risk/manage-configmaps", "rbac-risk/manage-network"])),
    (58, "system:anonymous", Ok(&["rbac-risk/binding-to-anonymous", "rbac-risk/binding-to-system-masters"])),
    (59, "SCC", Err("OpenShift SecurityContextConstraints objects, not a grant: palisade-checks rbac/scc-privileged-container")),
    (60, "graph", Err("escalation chains rather than a check: `palisade rbac paths` (tested in tests/paths.rs)")),
];

/// A policy that grants what check `id` is about, to alice.
fn scanner_fixture(id: &str) -> String {
    let granted = |rules: &str| cluster_role("r", rules) + &crb("b", "r", ALICE);
    match id {
        "rbac-risk/default-service-account" => {
            cluster_role("r", "- {apiGroups: [''], resources: [pods], verbs: [get]}\n")
                + &rb("shop", "b", "ClusterRole", "r", "{kind: ServiceAccount, name: default}")
        }
        "rbac-risk/cluster-admin-binding" | "rbac-risk/full-access" => cluster_role(
            "cluster-admin",
            "- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n",
        ) + &crb("b", "cluster-admin", ALICE),
        "rbac-risk/wildcard" => granted("- {apiGroups: [''], resources: [pods], verbs: ['*']}\n"),
        "rbac-risk/read-secrets" => granted("- {apiGroups: [''], resources: [secrets], verbs: [list]}\n"),
        "rbac-risk/create-workloads" => granted("- {apiGroups: [''], resources: [pods], verbs: [create]}\n"),
        "rbac-risk/pod-exec" => granted("- {apiGroups: [''], resources: [pods/exec], verbs: [create]}\n"),
        "rbac-risk/nodes-proxy" => granted("- {apiGroups: [''], resources: [nodes/proxy], verbs: [get]}\n"),
        "rbac-risk/impersonate" => granted("- {apiGroups: [''], resources: [users], verbs: [impersonate]}\n"),
        "rbac-risk/bind" => granted("- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind]}\n"),
        "rbac-risk/escalate" => granted("- {apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [escalate]}\n"),
        "rbac-risk/admission-webhooks" => granted("- {apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [patch]}\n"),
        "rbac-risk/approve-csr" => granted("- {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update]}\n"),
        "rbac-risk/service-account-token" => granted("- {apiGroups: [''], resources: [serviceaccounts/token], verbs: [create]}\n"),
        "rbac-risk/create-persistent-volumes" => granted("- {apiGroups: [''], resources: [persistentvolumes], verbs: [create]}\n"),
        "rbac-risk/services-status" => granted("- {apiGroups: [''], resources: [services/status], verbs: [patch]}\n"),
        "rbac-risk/delete-events" => granted("- {apiGroups: [events.k8s.io], resources: [events], verbs: [delete]}\n"),
        "rbac-risk/delete-resources" => granted("- {apiGroups: [apps], resources: [statefulsets], verbs: [deletecollection]}\n"),
        "rbac-risk/coredns-config" => granted("- {apiGroups: [''], resources: [configmaps], resourceNames: [coredns], verbs: [update]}\n"),
        "rbac-risk/port-forward" => granted("- {apiGroups: [''], resources: [pods/portforward], verbs: [create]}\n"),
        "rbac-risk/manage-configmaps" => granted("- {apiGroups: [''], resources: [configmaps], verbs: [patch]}\n"),
        "rbac-risk/manage-network" => granted("- {apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [delete]}\n"),
        "rbac-risk/binding-to-anonymous" => {
            cluster_role("r", "- {apiGroups: [''], resources: [pods], verbs: [get]}\n")
                + &crb("b", "r", "{kind: Group, name: 'system:unauthenticated'}")
        }
        "rbac-risk/binding-to-system-masters" => {
            cluster_role("r", "- {apiGroups: [''], resources: [pods], verbs: [get]}\n")
                + &crb("b", "r", "{kind: Group, name: 'system:masters'}")
        }
        other => panic!("no fixture for {other}"),
    }
}

#[test]
fn scanner_service_account_rows_are_covered() {
    let Some(path) = shared("reference/scanner-check-topics.md") else {
        return;
    };
    let text = std::fs::read_to_string(&path).expect("read topics");
    let known: Vec<&str> = rules().iter().map(|m| m.id).collect();
    let mut triggered = 0;
    for (row, keyword, mapping) in SCANNER_ROWS {
        let prefix = format!("| {row} | Service account & RBAC | ");
        let line = text
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("row {row} not found"));
        assert!(
            line.contains(keyword),
            "row {row} is not about {keyword}: {line}"
        );
        let checks = match mapping {
            Ok(checks) => *checks,
            Err(reason) => {
                assert!(!reason.is_empty());
                continue;
            }
        };
        for check in checks {
            assert!(known.contains(check), "row {row}: {check} is not a check");
            let risks = risks_of(&scanner_fixture(check));
            assert!(
                risks.iter().any(|r| r.check == *check),
                "row {row}: {check} not reported, got {:?}",
                ids(&risks)
            );
            triggered += 1;
        }
    }
    assert_eq!(triggered, 24);
    assert_eq!(SCANNER_ROWS.len(), 24);
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("| Service account & RBAC |"))
            .count(),
        24
    );
}

#[test]
fn reading_or_scoped_grants_stay_out_of_the_new_write_checks() {
    // Read access and the CoreDNS name alone do not make manage-configmaps
    // quiet the wrong way: reading is not managing; the named ConfigMap still is.
    let read = cluster_role(
        "r",
        "- {apiGroups: ['', networking.k8s.io, apps], resources: [configmaps, services, networkpolicies, deployments, pods], verbs: [get, list, watch]}\n",
    ) + &crb("b", "r", ALICE);
    let risks = risks_of(&read);
    for id in [
        "rbac-risk/manage-configmaps",
        "rbac-risk/manage-network",
        "rbac-risk/delete-resources",
    ] {
        assert!(
            risks.iter().all(|r| r.check != id),
            "{id}: {:?}",
            ids(&risks)
        );
    }
    // `core` is not the core group: no grant on core Services.
    let core = cluster_role(
        "r",
        "- {apiGroups: [core], resources: [services, pods], verbs: [delete]}\n",
    ) + &crb("b", "r", ALICE);
    assert!(risks_of(&core)
        .iter()
        .all(|r| r.check != "rbac-risk/manage-network" && r.check != "rbac-risk/delete-resources"));
    // Deleting in one namespace is low; cluster-wide medium.
    let delete = cluster_role(
        "r",
        "- {apiGroups: [''], resources: [pods], verbs: [delete]}\n",
    );
    let ns = risks_of(&(delete.clone() + &rb("dev", "b", "ClusterRole", "r", ALICE)));
    assert_eq!(
        find(&ns, "rbac-risk/delete-resources").severity,
        Severity::Low
    );
    let all = risks_of(&(delete + &crb("b", "r", ALICE)));
    assert_eq!(
        find(&all, "rbac-risk/delete-resources").severity,
        Severity::Medium
    );
}

/// Every risk the issue names, each reported on a policy granting just that.
#[test]
fn every_risk_the_issue_names_is_reported() {
    let granted = |rules: &str| cluster_role("r", rules) + &crb("b", "r", ALICE);
    let cases: &[(&str, String, &str)] = &[
        (
            "wildcards",
            scanner_fixture("rbac-risk/wildcard"),
            "rbac-risk/wildcard",
        ),
        (
            "reading Secrets",
            scanner_fixture("rbac-risk/read-secrets"),
            "rbac-risk/read-secrets",
        ),
        (
            "creating pods",
            scanner_fixture("rbac-risk/create-workloads"),
            "rbac-risk/create-workloads",
        ),
        (
            "creating workloads",
            granted("- {apiGroups: [batch], resources: [cronjobs], verbs: [create]}\n"),
            "rbac-risk/create-workloads",
        ),
        (
            "pods/exec",
            scanner_fixture("rbac-risk/pod-exec"),
            "rbac-risk/pod-exec",
        ),
        (
            "attach",
            granted("- {apiGroups: [''], resources: [pods/attach], verbs: [create]}\n"),
            "rbac-risk/pod-exec",
        ),
        (
            "portforward",
            scanner_fixture("rbac-risk/port-forward"),
            "rbac-risk/port-forward",
        ),
        (
            "get is enough before 1.35",
            granted("- {apiGroups: [''], resources: ['*/exec'], verbs: [get]}\n"),
            "rbac-risk/pod-exec",
        ),
        (
            "nodes/proxy",
            scanner_fixture("rbac-risk/nodes-proxy"),
            "rbac-risk/nodes-proxy",
        ),
        (
            "escalate",
            scanner_fixture("rbac-risk/escalate"),
            "rbac-risk/escalate",
        ),
        ("bind", scanner_fixture("rbac-risk/bind"), "rbac-risk/bind"),
        (
            "impersonate",
            scanner_fixture("rbac-risk/impersonate"),
            "rbac-risk/impersonate",
        ),
        (
            "ServiceAccount tokens",
            scanner_fixture("rbac-risk/service-account-token"),
            "rbac-risk/service-account-token",
        ),
        (
            "approving CSRs",
            scanner_fixture("rbac-risk/approve-csr"),
            "rbac-risk/approve-csr",
        ),
        (
            "admission webhooks",
            scanner_fixture("rbac-risk/admission-webhooks"),
            "rbac-risk/admission-webhooks",
        ),
        (
            "nodes/checkpoint",
            granted("- {apiGroups: [''], resources: [nodes/checkpoint], verbs: [create]}\n"),
            "rbac-risk/nodes-checkpoint",
        ),
        (
            "services/status",
            scanner_fixture("rbac-risk/services-status"),
            "rbac-risk/services-status",
        ),
        (
            "CoreDNS config",
            scanner_fixture("rbac-risk/coredns-config"),
            "rbac-risk/coredns-config",
        ),
        (
            "system:anonymous",
            cluster_role(
                "r",
                "- {apiGroups: [''], resources: [pods], verbs: [get]}\n",
            ) + &crb("b", "r", "{kind: User, name: 'system:anonymous'}"),
            "rbac-risk/binding-to-anonymous",
        ),
        (
            "system:unauthenticated",
            scanner_fixture("rbac-risk/binding-to-anonymous"),
            "rbac-risk/binding-to-anonymous",
        ),
        (
            "system:masters",
            scanner_fixture("rbac-risk/binding-to-system-masters"),
            "rbac-risk/binding-to-system-masters",
        ),
        (
            "cluster-admin bound to non-system subjects",
            scanner_fixture("rbac-risk/cluster-admin-binding"),
            "rbac-risk/cluster-admin-binding",
        ),
        (
            "the default ServiceAccount holding permissions",
            scanner_fixture("rbac-risk/default-service-account"),
            "rbac-risk/default-service-account",
        ),
    ];
    for (what, yaml, check) in cases {
        let risks = risks_of(yaml);
        assert!(
            risks.iter().any(|r| r.check == *check),
            "{what}: expected {check}, got {:?}",
            ids(&risks)
        );
    }
    // Bound to a system: component, cluster-admin is not reported as a risky binding.
    let system = cluster_role(
        "cluster-admin",
        "- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n",
    ) + &crb(
        "b",
        "cluster-admin",
        "{kind: Group, name: 'system:kube-controller-manager'}",
    );
    assert!(risks_of(&system)
        .iter()
        .all(|r| r.check != "rbac-risk/cluster-admin-binding"));
}
