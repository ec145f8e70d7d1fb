//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The Falco conformance data, or `None` (with a message) when it is absent
/// outside CI; in CI (`CI=true`) its absence fails the test.
pub fn conformance_dir() -> Option<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/falco-rules");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("conformance data missing at {}", dir.display());
    }
    eprintln!("skipping: conformance data not found at {}", dir.display());
    None
}

/// Reads a conformance file.
pub fn read(dir: &std::path::Path, rel: &str) -> (String, String) {
    let path = dir.join(rel);
    let text = std::fs::read_to_string(&path).expect("conformance file readable");
    (rel.to_string(), text)
}

pub const STABLE: &str = "falcosecurity-rules/falco_rules.yaml";
pub const INCUBATING: &str = "falcosecurity-rules/falco-incubating_rules.yaml";
pub const SANDBOX: &str = "falcosecurity-rules/falco-sandbox_rules.yaml";
pub const K8S: &str = "k8saudit-plugin/k8s_audit_rules.yaml";
pub const K8S_GKE: &str = "k8saudit-plugin/k8s_audit_rules_gke.yaml";
