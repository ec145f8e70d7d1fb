//! Privileged pods running in the cluster, by namespace: the gauge
//! `palisade_privileged_pods`.
//!
//! Fed by a watch of the cluster's Pods (the front end plugs the cluster
//! client in through [`PrivilegedPods::replace_all`] / [`PrivilegedPods::apply`] /
//! [`PrivilegedPods::delete`], as for namespaces), so this crate needs no
//! Kubernetes client. Only a set of pod names is kept, not the pods.
//!
//! A pod counts while it is `Pending` or `Running` (or has no phase yet) and
//! the Pod Security `privileged` check finds a container, init container or
//! ephemeral container with `securityContext.privileged: true`: the same
//! check admission applies, so the gauge and the webhook's verdicts agree.
//! A namespace without such pods has no series (as kube-state-metrics does
//! for objects that are gone), which keeps the series to the namespaces that
//! matter.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use palisade_model::{load_text, LoadOptions, Node};
use palisade_pss::{Level, Policy, Version};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use serde_json::Value as Json;

use crate::metrics::NamespaceLabels;

/// The counted pods, and the gauge they set.
#[derive(Debug)]
pub struct PrivilegedPods {
    inner: Mutex<Inner>,
    gauge: Family<NamespaceLabels, Gauge>,
    synced: AtomicBool,
}

#[derive(Debug, Default)]
struct Inner {
    /// (namespace, name) of every pod that counts.
    counted: HashSet<(String, String)>,
    by_namespace: HashMap<String, i64>,
}

impl PrivilegedPods {
    /// Counts into `gauge` (the server's `privileged_pods` family).
    pub fn new(gauge: Family<NamespaceLabels, Gauge>) -> PrivilegedPods {
        PrivilegedPods {
            inner: Mutex::new(Inner::default()),
            gauge,
            synced: AtomicBool::new(false),
        }
    }

    /// A pod was added or changed (a watch event).
    pub fn apply(&self, pod: &Json) {
        let Some(key) = pod_key(pod) else {
            return;
        };
        let counts = counts(pod);
        let mut inner = self.lock();
        let was = inner.counted.contains(&key);
        if counts == was {
            return;
        }
        let namespace = key.0.clone();
        if counts {
            inner.counted.insert(key);
        } else {
            inner.counted.remove(&key);
        }
        let n = {
            let n = inner.by_namespace.entry(namespace.clone()).or_insert(0);
            *n += if counts { 1 } else { -1 };
            *n
        };
        if n <= 0 {
            inner.by_namespace.remove(&namespace);
        }
        self.publish(&namespace, n);
    }

    /// A pod was deleted.
    pub fn delete(&self, namespace: &str, name: &str) {
        let mut inner = self.lock();
        if !inner
            .counted
            .remove(&(namespace.to_string(), name.to_string()))
        {
            return;
        }
        let n = match inner.by_namespace.get_mut(namespace) {
            Some(n) => {
                *n -= 1;
                *n
            }
            None => 0,
        };
        if n <= 0 {
            inner.by_namespace.remove(namespace);
        }
        self.publish(namespace, n);
    }

    /// Every pod (a watch's initial list, or a relist): what is not in it is gone.
    pub fn replace_all(&self, pods: impl IntoIterator<Item = Json>) {
        let mut fresh = Inner::default();
        for pod in pods {
            if let Some(key) = pod_key(&pod).filter(|_| counts(&pod)) {
                *fresh.by_namespace.entry(key.0.clone()).or_insert(0) += 1;
                fresh.counted.insert(key);
            }
        }
        let mut inner = self.lock();
        for namespace in inner.by_namespace.keys() {
            if !fresh.by_namespace.contains_key(namespace) {
                self.publish(namespace, 0);
            }
        }
        for (namespace, n) in &fresh.by_namespace {
            self.publish(namespace, *n);
        }
        *inner = fresh;
    }

    /// The watch has delivered its first complete list.
    pub fn mark_synced(&self) {
        self.synced.store(true, Ordering::Release);
    }

    pub fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    /// Privileged pods running in `namespace`.
    pub fn count(&self, namespace: &str) -> i64 {
        self.lock()
            .by_namespace
            .get(namespace)
            .copied()
            .unwrap_or(0)
    }

    /// Privileged pods running in the cluster.
    pub fn total(&self) -> i64 {
        self.lock().by_namespace.values().sum()
    }

    fn publish(&self, namespace: &str, n: i64) {
        let labels = NamespaceLabels {
            namespace: namespace.to_string(),
        };
        if n > 0 {
            self.gauge.get_or_create(&labels).set(n);
        } else {
            self.gauge.remove(&labels);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn pod_key(pod: &Json) -> Option<(String, String)> {
    let metadata = pod.get("metadata")?;
    Some((
        metadata.get("namespace")?.as_str()?.to_string(),
        metadata.get("name")?.as_str()?.to_string(),
    ))
}

/// Whether a pod counts: not finished, and privileged.
pub fn counts(pod: &Json) -> bool {
    let phase = pod
        .pointer("/status/phase")
        .and_then(Json::as_str)
        .unwrap_or("");
    // No phase yet: just created, about to be Pending.
    matches!(phase, "" | "Pending" | "Running") && is_privileged(pod)
}

/// Whether the Pod Security `privileged` check (baseline, latest) refuses the
/// pod: some container, init container or ephemeral container is privileged.
pub fn is_privileged(pod: &Json) -> bool {
    // The checks read model nodes; a pod from the watch is JSON, which is YAML.
    let Ok(text) = serde_json::to_string(pod) else {
        return false;
    };
    let loaded = load_text("pod", text, &LoadOptions::default());
    let Some(object) = loaded.objects.first() else {
        return false;
    };
    let Some(spec) = object.root.get("spec").filter(|s| !Node::is_null(s)) else {
        return false;
    };
    let policy = Policy {
        level: Level::Baseline,
        version: Version::Latest,
    };
    palisade_pss::evaluate(policy, object.root.get("metadata"), spec)
        .iter()
        .any(|result| result.check == "privileged" && !result.allowed)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(namespace: &str, name: &str, spec: Json, phase: Option<&str>) -> Json {
        let mut pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        });
        if let Some(phase) = phase {
            pod["status"] = json!({ "phase": phase });
        }
        pod
    }

    fn privileged(key: &str) -> Json {
        json!({
            "containers": [{"name": "app", "image": "x"}],
            key: [{"name": "p", "image": "x", "securityContext": {"privileged": true}}],
        })
    }

    fn plain() -> Json {
        json!({"containers": [{"name": "app", "image": "x", "securityContext": {"privileged": false}}]})
    }

    fn encoded(pods: &PrivilegedPods) -> String {
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register("privileged_pods", "test", pods.gauge.clone());
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry).unwrap();
        out
    }

    #[test]
    fn every_kind_of_container_is_checked() {
        for key in ["containers", "initContainers", "ephemeralContainers"] {
            assert!(
                is_privileged(&pod("a", "p", privileged(key), Some("Running"))),
                "{key}"
            );
        }
        assert!(!is_privileged(&pod("a", "p", plain(), Some("Running"))));
        assert!(!is_privileged(&json!({"metadata": {"name": "x"}})));
        assert!(!is_privileged(&json!("not a pod")));
    }

    #[test]
    fn only_pending_and_running_pods_count() {
        for (phase, expected) in [
            (Some("Pending"), true),
            (Some("Running"), true),
            (None, true),
            (Some("Succeeded"), false),
            (Some("Failed"), false),
            (Some("Unknown"), false),
        ] {
            assert_eq!(
                counts(&pod("a", "p", privileged("containers"), phase)),
                expected,
                "{phase:?}"
            );
        }
    }

    #[test]
    fn the_gauge_follows_adds_changes_deletes_and_relists() {
        let pods = PrivilegedPods::new(Family::default());
        pods.replace_all([
            pod("a", "one", privileged("containers"), Some("Running")),
            pod("a", "two", privileged("initContainers"), Some("Pending")),
            pod("b", "web", plain(), Some("Running")),
        ]);
        assert_eq!((pods.count("a"), pods.count("b"), pods.total()), (2, 0, 2));
        let text = encoded(&pods);
        assert!(
            text.contains("privileged_pods{namespace=\"a\"} 2\n"),
            "{text}"
        );
        assert!(!text.contains("namespace=\"b\""), "{text}");

        // Changed: b/web becomes privileged; a/one finishes.
        pods.apply(&pod(
            "b",
            "web",
            privileged("ephemeralContainers"),
            Some("Running"),
        ));
        pods.apply(&pod(
            "a",
            "one",
            privileged("containers"),
            Some("Succeeded"),
        ));
        // The same event twice counts once.
        pods.apply(&pod(
            "b",
            "web",
            privileged("ephemeralContainers"),
            Some("Running"),
        ));
        assert_eq!((pods.count("a"), pods.count("b")), (1, 1));

        // Deleted, and deleting an unknown pod changes nothing.
        pods.delete("a", "two");
        pods.delete("a", "never-seen");
        assert_eq!((pods.count("a"), pods.count("b")), (0, 1));
        let text = encoded(&pods);
        assert!(!text.contains("namespace=\"a\""), "{text}");
        assert!(
            text.contains("privileged_pods{namespace=\"b\"} 1\n"),
            "{text}"
        );

        // A relist without b/web drops its series.
        pods.replace_all([pod("c", "x", privileged("containers"), None)]);
        assert_eq!((pods.count("b"), pods.count("c"), pods.total()), (0, 1, 1));
        let text = encoded(&pods);
        assert!(!text.contains("namespace=\"b\""), "{text}");
        assert!(
            text.contains("privileged_pods{namespace=\"c\"} 1\n"),
            "{text}"
        );
    }
}
