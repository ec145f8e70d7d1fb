//! Fuzzes what the webhook does with a request body: AdmissionReview
//! decoding, then the whole verdict (Pod Security at the namespace's levels,
//! with policies), then the response JSON. Nothing may panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use palisade_server::admission::{decode, Judge};
use palisade_server::namespaces::{NamespaceCache, NamespaceSource};
use palisade_server::policies::PolicySnapshot;
use palisade_server::PodSecurityConfiguration;

const POLICIES: &str = include_str!("../fixtures/admission_policies.yaml");

fn policies() -> &'static PolicySnapshot {
    static SNAPSHOT: OnceLock<PolicySnapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let dir = std::env::temp_dir().join("palisade-fuzz-policies");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("policies.yaml"), POLICIES);
        PolicySnapshot::load(&[dir], &[], &[]).unwrap_or_else(|_| PolicySnapshot::empty())
    })
}

fn namespaces() -> &'static NamespaceCache {
    static CACHE: OnceLock<NamespaceCache> = OnceLock::new();
    CACHE.get_or_init(|| {
        let cache = NamespaceCache::new(NamespaceSource::Directory);
        cache.upsert(serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "prod", "labels": {"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "baseline"}}}));
        cache.mark_synced();
        cache
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = decode(data) else {
        return;
    };
    let config = PodSecurityConfiguration::default();
    let judge = Judge {
        pod_security: &config,
        namespaces: namespaces(),
        policies: policies(),
    };
    let verdict = judge.decide(&decoded, None);
    let _ = verdict.response_json(&decoded.uid).to_string();
});
