//! `isolate`: the generated policy, fed back with the input to the
//! evaluator, denies every connection of the isolated pods, and changes
//! nothing else.

use palisade_model::{load_text, LoadOptions, Object};
use palisade_netpol::connlist::ConnList;
use palisade_netpol::generate::compare;
use palisade_netpol::isolate::{
    isolate, list_with_isolation, parse_selector, to_json, to_yaml, verify, IsolateOptions, Target,
};
use palisade_netpol::{read_resources, Analyzer, ListOptions};

const CLUSTER: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: forensics}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-canary, namespace: shop, labels: {app: web, track: canary}}
spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: c, ports: [{containerPort: 9000}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {containers: [{name: c, ports: [{containerPort: 5432}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: toolbox, namespace: forensics, labels: {app: toolbox}}
spec: {containers: [{name: c}]}
";

fn objects(extra: &str) -> Vec<Object> {
    let loaded = load_text(
        "c.yaml",
        format!("{CLUSTER}---\n{extra}"),
        &LoadOptions::default(),
    );
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.objects
}

fn analyzer(objs: &[Object]) -> Analyzer {
    Analyzer::new(read_resources(objs), false).expect("analyzer")
}

fn list(objs: &[Object]) -> ConnList {
    analyzer(objs).list(&ListOptions::default()).expect("list")
}

fn opts(target: Target, allow: Option<&str>) -> IsolateOptions {
    IsolateOptions {
        namespace: "shop".to_string(),
        target,
        allow_from_namespace: allow.map(str::to_string),
        name: None,
        admin: false,
    }
}

fn admin_opts(target: Target, allow: Option<&str>) -> IsolateOptions {
    IsolateOptions {
        admin: true,
        ..opts(target, allow)
    }
}

const DB_FROM_API: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db-from-api, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Ingress, Egress]\n  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 5432}]}]\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}}]}]\n";

/// The connections of `l` not touching any of `peers`.
fn without(l: &ConnList, peers: &[String]) -> Vec<palisade_netpol::Connection> {
    l.connections
        .iter()
        .filter(|c| !peers.contains(&c.src.display) && !peers.contains(&c.dst.display))
        .cloned()
        .collect()
}

fn touching(l: &ConnList, peer: &str) -> Vec<String> {
    l.connections
        .iter()
        .filter(|c| !c.conns.is_empty() && (c.src.display == peer || c.dst.display == peer))
        .map(|c| format!("{} => {} : {}", c.src.display, c.dst.display, c.conns))
        .collect()
}

#[test]
fn isolating_one_pod_cuts_all_of_its_connections_and_nothing_else() {
    let objs = objects("");
    let an = analyzer(&objs);
    let iso = isolate(&an, &opts(Target::Pod("web".into()), None)).expect("isolate");
    // web's labels also match web-canary; a DoesNotExist term tells them apart.
    assert_eq!(iso.targets, vec!["shop/web[Pod]"]);
    assert_eq!(iso.selected, vec!["shop/web[Pod]"]);
    assert!(iso.also_selected.is_empty());
    assert_eq!(iso.name, "palisade-isolate-web");
    let yaml = to_yaml(&iso);
    assert!(
        yaml.contains("- {key: \"track\", operator: DoesNotExist}"),
        "{yaml}"
    );
    assert!(yaml.contains("policyTypes: [Ingress, Egress]"), "{yaml}");
    let before = list(&objs);
    assert!(!touching(&before, "shop/web[Pod]").is_empty());
    let after = list_with_isolation(&objs, &iso).expect("list");
    assert_eq!(touching(&after, "shop/web[Pod]"), Vec::<String>::new());
    assert!(verify(&objs, &iso).expect("verify").is_empty());
    // Everything not involving web is unchanged (including web-canary).
    let keep = vec!["shop/web[Pod]".to_string()];
    let diffs = compare(&without(&before, &keep), &without(&after, &keep));
    assert!(diffs.is_empty(), "{diffs:?}");
    assert!(!touching(&after, "shop/web-canary[Pod]").is_empty());
}

#[test]
fn selector_isolation_and_pods_of_a_workload() {
    let objs = objects("");
    let an = analyzer(&objs);
    // By label: both web pods.
    let iso = isolate(&an, &opts(Target::Selector("app=web".into()), None)).expect("isolate");
    assert_eq!(iso.selected, vec!["shop/web[Pod]", "shop/web-canary[Pod]"]);
    let after = list_with_isolation(&objs, &iso).expect("list");
    assert!(touching(&after, "shop/web[Pod]").is_empty());
    assert!(touching(&after, "shop/web-canary[Pod]").is_empty());
    assert!(!touching(&after, "shop/db[Pod]").is_empty());
    // A Deployment by name: all of its pods (one workload), with a warning.
    let iso = isolate(&an, &opts(Target::Pod("api".into()), None)).expect("isolate");
    assert_eq!(iso.selected, vec!["shop/api[Deployment]"]);
    assert!(iso
        .warnings
        .iter()
        .any(|w| w.contains("isolates all of its pods")));
    assert!(verify(&objs, &iso).expect("verify").is_empty());
    // Unknown names and selectors matching nothing.
    assert!(isolate(&an, &opts(Target::Pod("nope".into()), None)).is_err());
    let none = isolate(&an, &opts(Target::Selector("app=nope".into()), None)).expect("iso");
    assert!(none.selected.is_empty());
    assert!(none
        .warnings
        .iter()
        .any(|w| w.contains("matches no workload")));
}

#[test]
fn look_alikes_with_the_same_labels_are_listed() {
    let objs = objects(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: db-copy, namespace: shop, labels: {app: db}}\nspec: {containers: [{name: c}]}\n",
    );
    let an = analyzer(&objs);
    let iso = isolate(&an, &opts(Target::Pod("db".into()), None)).expect("isolate");
    assert_eq!(iso.also_selected, vec!["shop/db-copy[Pod]"]);
    assert!(to_yaml(&iso).contains("# also selects shop/db-copy[Pod]"));
    assert!(verify(&objs, &iso).expect("verify").is_empty());
}

#[test]
fn forensics_namespace_keeps_ingress_only() {
    let objs = objects("");
    let an = analyzer(&objs);
    let iso = isolate(&an, &opts(Target::Pod("db".into()), Some("forensics"))).expect("isolate");
    let after = list_with_isolation(&objs, &iso).expect("list");
    let t = touching(&after, "shop/db[Pod]");
    assert_eq!(
        t,
        vec!["forensics/toolbox[Pod] => shop/db[Pod] : All Connections"]
    );
    assert!(verify(&objs, &iso).expect("verify").is_empty());
    let json = to_json(&iso);
    assert_eq!(
        json["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]
            ["kubernetes.io/metadata.name"],
        "forensics"
    );
    assert!(json["spec"].get("egress").is_none());
    assert_eq!(json["spec"]["podSelector"]["matchLabels"]["app"], "db");
}

#[test]
fn existing_allow_policies_are_reported_not_hidden() {
    // NetworkPolicies add up: an existing allow keeps working.
    let objs = objects(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db-from-api, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Ingress]\n  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 5432}]}]\n",
    );
    let an = analyzer(&objs);
    let iso = isolate(&an, &opts(Target::Pod("db".into()), None)).expect("isolate");
    assert_eq!(
        iso.still_allowing,
        vec!["NetworkPolicy shop/db-from-api (ingress)"]
    );
    let left = verify(&objs, &iso).expect("verify");
    assert_eq!(
        left,
        vec!["shop/api[Deployment] => shop/db[Pod] : TCP 5432"]
    );
    // Said plainly, with the way out.
    assert!(
        iso.warnings
            .iter()
            .any(|w| w.contains("isolation is incomplete") && w.contains("--admin")),
        "{:?}",
        iso.warnings
    );
    assert!(iso.admin.is_none());
}

#[test]
fn admin_isolation_overrides_other_network_policies() {
    let objs = objects(DB_FROM_API);
    let an = analyzer(&objs);
    let plain = isolate(&an, &opts(Target::Pod("db".into()), None)).expect("isolate");
    assert_eq!(
        verify(&objs, &plain).expect("verify"),
        vec![
            "shop/api[Deployment] => shop/db[Pod] : TCP 5432",
            "shop/db[Pod] => 10.0.0.0-10.255.255.255[External] : All Connections",
        ]
    );
    let iso = isolate(&an, &admin_opts(Target::Pod("db".into()), None)).expect("isolate");
    let admin = iso.admin.as_ref().expect("admin policy");
    assert_eq!(admin.priority, 0);
    assert!(!iso
        .warnings
        .iter()
        .any(|w| w.contains("isolation is incomplete")));
    let yaml = to_yaml(&iso);
    assert!(yaml.contains("kind: NetworkPolicy\n"), "{yaml}");
    assert!(yaml.contains("---\n"), "{yaml}");
    assert!(yaml.contains("kind: AdminNetworkPolicy\n"), "{yaml}");
    assert!(yaml.contains("    action: Deny\n"), "{yaml}");
    // The admin Deny wins over the other policy's allows, both ways.
    assert_eq!(verify(&objs, &iso).expect("verify"), Vec::<String>::new());
    let after = list_with_isolation(&objs, &iso).expect("list");
    assert_eq!(touching(&after, "shop/db[Pod]"), Vec::<String>::new());
    // Nothing else changes.
    let keep = vec!["shop/db[Pod]".to_string()];
    let diffs = compare(&without(&list(&objs), &keep), &without(&after, &keep));
    assert!(diffs.is_empty(), "{diffs:?}");
    // JSON: a List of both policies.
    let json = to_json(&iso);
    assert_eq!(json["kind"], "List");
    assert_eq!(json["items"][1]["kind"], "AdminNetworkPolicy");
    assert_eq!(json["items"][1]["spec"]["ingress"][0]["action"], "Deny");
    assert_eq!(
        json["items"][1]["spec"]["subject"]["pods"]["podSelector"]["matchLabels"]["app"],
        "db"
    );
}

#[test]
fn admin_isolation_keeps_forensics_and_avoids_used_priorities() {
    let anp = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: existing}\nspec:\n  priority: 0\n  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: other}}}\n  ingress: [{name: a, action: Allow, from: [{namespaces: {}}]}]\n";
    let objs = objects(&format!("{DB_FROM_API}---\n{anp}"));
    let an = analyzer(&objs);
    let iso = isolate(
        &an,
        &admin_opts(Target::Pod("db".into()), Some("forensics")),
    )
    .expect("isolate");
    assert_eq!(iso.admin.as_ref().map(|a| a.priority), Some(1));
    assert!(
        iso.warnings
            .iter()
            .any(|w| w.contains("stronger priorities")),
        "{:?}",
        iso.warnings
    );
    let after = list_with_isolation(&objs, &iso).expect("list");
    assert_eq!(
        touching(&after, "shop/db[Pod]"),
        vec!["forensics/toolbox[Pod] => shop/db[Pod] : All Connections"]
    );
    assert!(verify(&objs, &iso).expect("verify").is_empty());
}

#[test]
fn kubectl_selector_syntax() {
    let s = parse_selector("app=web,tier in (a, b),!canary,env!=dev,team").expect("parse");
    assert_eq!(s.match_labels.get("app").map(String::as_str), Some("web"));
    let ops: Vec<(&str, &str)> = s
        .match_expressions
        .iter()
        .map(|e| (e.key.as_str(), e.operator.as_str()))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("tier", "In"),
            ("canary", "DoesNotExist"),
            ("env", "NotIn"),
            ("team", "Exists")
        ]
    );
    let labels = [("app", "web"), ("tier", "b"), ("team", "x")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert!(s.matches(&labels).expect("match"));
    assert!(parse_selector("").is_err());
    assert!(parse_selector("a=b,,c=d").is_err());
    assert!(parse_selector("tier in (a").is_err());
    assert!(parse_selector("bad key=x").is_err());
}
