//! `generate` round trips: the input's workloads with the generated policies
//! (and no other policy) list exactly the desired connections.

use std::path::{Path, PathBuf};

use palisade_model::{load_inputs, load_text, Input, LoadOptions, Object};
use palisade_netpol::format::{render, Format};
use palisade_netpol::generate::{
    compare, generate, list_with_generated, parse_desired, to_yaml, verify, GenerateOptions,
};
use palisade_netpol::{read_resources, Analyzer, ListOptions};

fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/netpol-analyzer/tests");
    dir.is_dir().then_some(dir)
}

fn load_dir(dir: &Path) -> Vec<Object> {
    load_inputs(&[Input::Path(dir.to_path_buf())], &LoadOptions::default()).objects
}

fn analyzer(objects: &[Object]) -> Analyzer {
    Analyzer::new(read_resources(objects), false).expect("analyzer")
}

/// Current connectivity → generated policies → the same connectivity; and
/// the txt list is the same text when no IP block had to be re-split.
fn round_trip_current(objects: &[Object]) -> (String, String, String) {
    let a = analyzer(objects);
    let current = a.list(&ListOptions::default()).expect("list");
    let generated =
        generate(&a, &current.connections, &GenerateOptions::default()).expect("generate");
    let diffs = verify(objects, &current.connections, &generated).expect("verify");
    assert!(diffs.is_empty(), "{diffs:#?}\n{}", to_yaml(&generated));
    let after = list_with_generated(objects, &generated).expect("list after");
    (
        render(&current, Format::Txt),
        render(&after, Format::Txt),
        to_yaml(&generated),
    )
}

#[test]
fn conformance_inputs_round_trip() {
    let Some(root) = data_dir() else {
        eprintln!("skipping: conformance data not found");
        return;
    };
    let mut exact = 0;
    let cases = [
        "onlineboutique",
        "acs-security-demos",
        "netpol-demo",
        "ipblockstest",
        "k8s_ingress_test_new",
        "demo_app_with_routes_and_ingress",
        "anp_banp_blog_demo",
        "anp_test_10",
        "netpol_named_port_test",
        "new_online_boutique",
        "multiple_topology_resources_2",
    ];
    for case in cases {
        let dir = root.join(case);
        let objects = load_dir(&dir);
        let (before, after, yaml) = round_trip_current(&objects);
        if case == "onlineboutique" {
            // ReplicaSets told apart by `app`: the rollout hash is left out.
            assert!(before.contains("default/frontend-99684f7f8[ReplicaSet]"));
            assert!(!yaml.contains("pod-template-hash"), "{yaml}");
            assert!(
                yaml.contains("podSelector: {matchLabels: {\"app\": \"frontend\"}}"),
                "{yaml}"
            );
        }
        if before == after {
            exact += 1;
        } else {
            // Only IP-block lines may differ (blocks are split differently).
            let strip = |s: &str| -> Vec<String> {
                s.lines()
                    .filter(|l| !l.contains("[External]"))
                    .map(str::to_string)
                    .collect()
            };
            assert_eq!(strip(&before), strip(&after), "{case}");
        }
    }
    assert!(exact >= cases.len() - 3, "only {exact} exact");
}

const SHOP: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: ops}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-canary, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web, track: canary}}
    spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, ports: [{containerPort: 5432}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: prom, namespace: ops, labels: {app: prom}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec: {defaultBackend: {service: {name: web, port: {number: 80}}}}
";

const DESIRED: &str = "\
shop/web[Deployment] => shop/db[Deployment] : TCP 5432
shop/web-canary[Deployment] => shop/db[Deployment] : TCP 5432
ops/prom[Pod] => shop/web[Deployment] : TCP 9090-9100
ops/prom[Pod] => shop/db[Deployment] : TCP 9187,UDP 53
shop/web[Deployment] => 10.0.0.0-10.255.255.255[External] : TCP 443
shop/db[Deployment] => 1.2.3.5-1.2.3.9[External] : All Connections
0.0.0.0-255.255.255.255[External] => shop/web-canary[Deployment] : TCP 8080
{ingress-controller} => shop/web[Deployment] : TCP 8080
";

#[test]
fn desired_txt_list_round_trips_exactly() {
    let objects = load_text("shop.yaml", SHOP.to_string(), &LoadOptions::default()).objects;
    let a = analyzer(&objects);
    let desired = parse_desired(DESIRED).expect("parse");
    let generated = generate(&a, &desired, &GenerateOptions::default()).expect("generate");
    let yaml = to_yaml(&generated);
    // The canary carries web's labels plus one: web's selector must exclude it.
    assert!(
        yaml.contains("podSelector: {matchLabels: {\"app\": \"web\"}, matchExpressions: [{key: \"track\", operator: DoesNotExist}]}"),
        "{yaml}"
    );
    assert!(
        yaml.contains("- {protocol: TCP, port: 9090, endPort: 9100}"),
        "{yaml}"
    );
    assert!(yaml.contains("ipBlock: {cidr: \"1.2.3.0/28\", except: [\"1.2.3.0/30\", \"1.2.3.4/32\", \"1.2.3.10/31\", \"1.2.3.12/30\"]}"), "{yaml}");
    assert!(verify(&objects, &desired, &generated)
        .expect("verify")
        .is_empty());
    let after = list_with_generated(&objects, &generated).expect("list");
    let mut lines: Vec<&str> = DESIRED.lines().collect();
    lines.sort();
    let txt = render(&after, Format::Txt);
    assert_eq!(txt.lines().collect::<Vec<_>>(), lines, "{yaml}");
}

#[test]
fn a_missing_connection_is_reported_by_compare() {
    let desired = parse_desired(DESIRED).expect("parse");
    let fewer = parse_desired(&DESIRED.replace(
        "ops/prom[Pod] => shop/db[Deployment] : TCP 9187,UDP 53\n",
        "ops/prom[Pod] => shop/db[Deployment] : TCP 9187\n",
    ))
    .expect("parse");
    let diffs = compare(&desired, &fewer);
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert!(diffs[0].contains("ops/prom[Pod] => shop/db[Deployment]"));
    // IP blocks are compared by address.
    let split = parse_desired("a/x[Pod] => 10.0.0.0-10.127.255.255[External] : TCP 443\na/x[Pod] => 10.128.0.0-10.255.255.255[External] : TCP 443\n").expect("parse");
    let whole = parse_desired("a/x[Pod] => 10.0.0.0/8 : TCP 443\n").expect("parse");
    assert!(compare(&split, &whole).is_empty());
    let wider = parse_desired("a/x[Pod] => 10.0.0.0/7 : TCP 443\n").expect("parse");
    assert_eq!(compare(&split, &wider).len(), 1);
}

#[test]
fn workloads_with_the_same_labels_must_share_connections() {
    let yaml = SHOP.replace("{app: web, track: canary}", "{app: web}");
    let objects = load_text("shop.yaml", yaml, &LoadOptions::default()).objects;
    let a = analyzer(&objects);
    let desired = parse_desired(DESIRED).expect("parse");
    let err = generate(&a, &desired, &GenerateOptions::default()).expect_err("ambiguous");
    assert!(err.contains("same labels"), "{err}");
    // Agreeing connections are fine: one policy selects both.
    let agree = parse_desired(
        "shop/web[Deployment] => shop/db[Deployment] : TCP 5432\nshop/web-canary[Deployment] => shop/db[Deployment] : TCP 5432\n",
    )
    .expect("parse");
    let g = generate(&a, &agree, &GenerateOptions::default()).expect("generate");
    assert!(verify(&objects, &agree, &g).expect("verify").is_empty());
    assert!(!g.warnings.is_empty());
}

#[test]
fn unknown_workloads_are_errors() {
    let objects = load_text("shop.yaml", SHOP.to_string(), &LoadOptions::default()).objects;
    let a = analyzer(&objects);
    let desired = parse_desired("shop/nope[Pod] => shop/db[Deployment] : TCP 1\n").expect("parse");
    assert!(generate(&a, &desired, &GenerateOptions::default()).is_err());
}

#[test]
fn json_lists_are_read() {
    let d = parse_desired(
        r#"[{"src": "shop/web[Deployment]", "dst": "shop/db[Deployment]", "conn": "TCP 5432"}]"#,
    )
    .expect("json");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].conns.to_string(), "TCP 5432");
}
