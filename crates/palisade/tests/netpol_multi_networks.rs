//! `palisade netpol list --multiple-networks` and `palisade netpol isolate --admin`.

use std::process::{Command, Output};

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .output()
        .expect("run palisade")
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write manifest");
    path.display().to_string()
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("palisade-netpol-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

const UDN: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: blue
  labels: {k8s.ovn.org/primary-user-defined-network: \"\"}
---
apiVersion: k8s.ovn.org/v1
kind: UserDefinedNetwork
metadata: {name: net, namespace: blue}
spec: {topology: Layer2, layer2: {role: Primary}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: blue, labels: {app: a}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: plain, labels: {app: b}}
spec: {containers: [{name: c}]}
";

#[test]
fn list_with_multiple_networks_sections_the_output() {
    let dir = tempdir("udn");
    let file = write(&dir, "udn.yaml", UDN);
    let out = palisade(&["netpol", "list", &file, "--multiple-networks"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Permitted connectivity analyzed in primary UDN blue:"),
        "{text}"
    );
    assert!(text.contains("Workload-to-Networks Mapping:"), "{text}");
    assert!(!text.contains("blue[udn]/a[Pod] => plain/b[Pod]"), "{text}");
    // Without the flag the UDN is ignored.
    let flat = palisade(&["netpol", "list", &file]);
    let flat = String::from_utf8_lossy(&flat.stdout);
    assert!(
        flat.contains("blue/a[Pod] => plain/b[Pod] : All Connections"),
        "{flat}"
    );
    let csv = palisade(&["netpol", "list", &file, "--multiple-networks", "-o", "csv"]);
    assert!(String::from_utf8_lossy(&csv.stdout).starts_with("src,dst,conn,network\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

const SHOP: &str = "apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {containers: [{name: c, ports: [{containerPort: 5432}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: c}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 5432}]}]
";

#[test]
fn isolate_reports_other_policies_and_admin_overrides_them() {
    let dir = tempdir("isolate");
    let file = write(&dir, "shop.yaml", SHOP);
    let plain = palisade(&["netpol", "isolate", &file, "-n", "shop", "--pod", "db"]);
    let err = String::from_utf8_lossy(&plain.stderr);
    assert_eq!(plain.status.code(), Some(1), "{err}");
    assert!(err.contains("isolation is incomplete"), "{err}");
    assert!(err.contains("--admin"), "{err}");
    assert!(
        err.contains("still allowed: shop/api[Pod] => shop/db[Pod] : TCP 5432"),
        "{err}"
    );
    let admin = palisade(&[
        "netpol", "isolate", &file, "-n", "shop", "--pod", "db", "--admin",
    ]);
    let out = String::from_utf8_lossy(&admin.stdout);
    let err = String::from_utf8_lossy(&admin.stderr);
    assert_eq!(admin.status.code(), Some(0), "{err}");
    assert!(out.contains("kind: AdminNetworkPolicy"), "{out}");
    assert!(out.contains("action: Deny"), "{out}");
    assert!(!err.contains("still allowed"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
