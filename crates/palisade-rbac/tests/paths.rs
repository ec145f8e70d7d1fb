//! Escalation paths and the dot graph.

use palisade_model::{load_text, LoadOptions};
use palisade_rbac::{DotOptions, Identity, Rbac, RiskOptions};

fn rbac(yaml: &str) -> Rbac {
    let loaded = load_text("p.yaml", yaml, &LoadOptions::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    Rbac::from_objects(&loaded.objects)
}

const POLICY: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: dev}
rules:
- {apiGroups: [apps], resources: [deployments], verbs: [create, get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-deploys, namespace: dev}
roleRef: {kind: Role, name: deployer, apiGroup: rbac.authorization.k8s.io}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
rules:
- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci-admin}
roleRef: {kind: ClusterRole, name: everything, apiGroup: rbac.authorization.k8s.io}
subjects: [{kind: ServiceAccount, name: ci, namespace: dev}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules:
- {apiGroups: [''], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web-reads, namespace: prod}
roleRef: {kind: ClusterRole, name: reader, apiGroup: rbac.authorization.k8s.io}
subjects: [{kind: ServiceAccount, name: web}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bob-impersonates}
roleRef: {kind: ClusterRole, name: impersonator, apiGroup: rbac.authorization.k8s.io}
subjects: [{kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: impersonator}
rules:
- {apiGroups: [''], resources: [groups], verbs: [impersonate]}
";

#[test]
fn workload_creation_leads_to_the_namespace_service_accounts_and_on() {
    let rbac = rbac(POLICY);
    let paths = rbac.escalation_paths();
    let alice = Identity::User {
        name: "alice".into(),
    };
    let from_alice: Vec<_> = paths.iter().filter(|p| p.start == alice).collect();
    assert_eq!(
        from_alice.len(),
        1,
        "the path to dev/ci is the start of this one: {from_alice:#?}"
    );
    // First the path to cluster-admin: alice → dev/ci → cluster-admin.
    let top = from_alice[0];
    assert!(top.cluster_admin);
    assert_eq!(top.steps.len(), 2);
    assert_eq!(
        top.steps[0].to,
        Identity::ServiceAccount {
            namespace: "dev".into(),
            name: "ci".into()
        }
    );
    assert!(
        top.steps[0]
            .capability
            .contains("create Pods or workloads in namespace dev"),
        "{}",
        top.steps[0].capability
    );
    assert_eq!(top.steps[1].to, Identity::ClusterAdmin);
    assert!(top.steps[1].capability.contains("* on *.*"));
    // The ServiceAccount of prod is out of alice's reach.
    assert!(paths.iter().all(|p| p.steps.iter().all(|s| s.to
        != Identity::ServiceAccount {
            namespace: "prod".into(),
            name: "web".into()
        })));
    // Impersonating groups is cluster-admin in one step.
    let bob: Vec<_> = paths
        .iter()
        .filter(|p| p.start == Identity::User { name: "bob".into() })
        .collect();
    assert_eq!(bob.len(), 1);
    assert!(bob[0].cluster_admin && bob[0].steps.len() == 1);
    assert!(bob[0].steps[0].capability.contains("system:masters"));
    let text = rbac.paths_text(&paths);
    assert!(
        text.contains("User \"alice\" → cluster-admin (everything) [cluster-admin]"),
        "{text}"
    );
    assert!(
        text.contains("RoleBinding \"alice-deploys/dev\" (p.yaml:"),
        "{text}"
    );
    // The reader in prod escalates nowhere.
    assert!(paths.iter().all(|p| p.start
        != Identity::ServiceAccount {
            namespace: "prod".into(),
            name: "web".into()
        }));
}

#[test]
fn dot_graph_has_subjects_bindings_and_coloured_roles() {
    let rbac = rbac(POLICY);
    let risks = rbac.risks();
    let dot = rbac.dot(&risks, &DotOptions::default());
    assert!(dot.starts_with("digraph rbac {"));
    assert!(dot.trim_end().ends_with('}'));
    assert!(dot.contains("\"user:alice\" -> \"binding:0\""), "{dot}");
    assert!(dot.contains("\"binding:0\" -> \"role:0\""), "{dot}");
    assert!(dot.contains("\"sa:dev/ci\" [shape=component"), "{dot}");
    // The everything role is critical: red.
    let everything = dot
        .lines()
        .find(|l| l.contains("ClusterRole\\neverything"))
        .expect("role node");
    assert!(
        everything.contains("#f4a3a3") && everything.contains("[critical]"),
        "{everything}"
    );
    // Balanced quotes on every line.
    assert!(dot
        .lines()
        .all(|l| l.matches('"').count() % 2 == 0 || l.contains("\\\"")));
    let only_prod = rbac.dot(
        &risks,
        &DotOptions {
            namespace: Some("prod".into()),
            ..DotOptions::default()
        },
    );
    assert!(!only_prod.contains("user:alice"));
    assert!(only_prod.contains("sa:prod/web"));
}

#[test]
fn group_of_a_namespace_is_any_service_account_there() {
    let yaml = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev-can-deploy, namespace: dev}
roleRef: {kind: ClusterRole, name: edit, apiGroup: rbac.authorization.k8s.io}
subjects: [{kind: User, name: carol}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: edit}
rules:
- {apiGroups: [''], resources: [pods], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: dev-sas-read-secrets}
roleRef: {kind: ClusterRole, name: secrets, apiGroup: rbac.authorization.k8s.io}
subjects: [{kind: Group, name: 'system:serviceaccounts:dev'}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secrets}
rules:
- {apiGroups: [''], resources: [secrets], verbs: [list]}
";
    let rbac = rbac(yaml);
    let paths = rbac.escalation_paths();
    let carol: Vec<_> = paths
        .iter()
        .filter(|p| {
            p.start
                == Identity::User {
                    name: "carol".into(),
                }
        })
        .collect();
    assert_eq!(carol.len(), 1, "{paths:#?}");
    assert_eq!(
        carol[0].steps[0].to,
        Identity::ServiceAccount {
            namespace: "dev".into(),
            name: "*".into()
        }
    );
    assert_eq!(
        carol[0].end_severity,
        Some(palisade_model::Severity::Critical),
        "list secrets cluster-wide"
    );
    assert!(rbac
        .paths_text(&paths)
        .contains("any ServiceAccount of namespace dev"));
    // No path repeats the beginning of another.
    let alice_like = rbac.escalation_paths();
    assert!(alice_like.iter().all(|p| !p.steps.is_empty()));
}

#[test]
fn get_on_exec_leads_to_service_accounts_only_before_1_35() {
    let policy = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: exec-get, namespace: dev}
rules:
- {apiGroups: [''], resources: [pods/exec], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: carol-exec, namespace: dev}
roleRef: {kind: Role, name: exec-get, apiGroup: rbac.authorization.k8s.io}
subjects: [{kind: User, name: carol, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: deployer-admin}
roleRef: {kind: ClusterRole, name: everything, apiGroup: rbac.authorization.k8s.io}
subjects: [{kind: ServiceAccount, name: deployer, namespace: dev}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
rules:
- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}
";
    let rbac = rbac(policy);
    let carol = Identity::User {
        name: "carol".into(),
    };
    let from_carol = |options: &RiskOptions| -> Vec<_> {
        rbac.escalation_paths_with(options)
            .into_iter()
            .filter(|p| p.start == carol)
            .collect()
    };
    let unknown = from_carol(&RiskOptions::default());
    assert_eq!(unknown.len(), 1, "{unknown:#?}");
    assert!(unknown[0].cluster_admin);
    assert!(unknown[0].steps[0]
        .capability
        .contains("exec into running Pods"));
    let v134 = RiskOptions {
        kubernetes_version: Some("1.34".parse().expect("version")),
    };
    assert_eq!(from_carol(&v134).len(), 1);
    let v135 = RiskOptions {
        kubernetes_version: Some("1.35".parse().expect("version")),
    };
    assert!(
        from_carol(&v135).is_empty(),
        "get alone opens nothing on 1.35"
    );
}
