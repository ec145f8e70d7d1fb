//! Isolation coverage: workloads no policy selects, namespaces without a default deny.

use std::collections::BTreeMap;

use palisade_model::{Finding, Object};
use serde::Serialize;

use crate::connlist::Analyzer;
use crate::eval::{Engine, PeerRef, PodCtx};
use crate::lint::{node_at, ObjectIndex, Seg};
use crate::model::{AdminPolicy, NetworkPolicy};
use crate::rules;
use crate::selector::Labels;

/// Whether a workload is isolated per direction, and by which policies.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadCoverage {
    pub workload: String,
    pub namespace: String,
    pub ingress_policies: Vec<String>,
    pub egress_policies: Vec<String>,
}

impl WorkloadCoverage {
    pub fn ingress_isolated(&self) -> bool {
        !self.ingress_policies.is_empty()
    }
    pub fn egress_isolated(&self) -> bool {
        !self.egress_policies.is_empty()
    }
}

/// A namespace's default-deny policies per direction.
#[derive(Debug, Clone, Serialize)]
pub struct NamespaceCoverage {
    pub namespace: String,
    pub default_deny_ingress: Option<String>,
    pub default_deny_egress: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Coverage {
    pub workloads: Vec<WorkloadCoverage>,
    pub namespaces: Vec<NamespaceCoverage>,
}

/// A NetworkPolicy selecting every pod of its namespace that allows nothing in a direction.
fn np_default_deny(np: &NetworkPolicy, ingress: bool) -> bool {
    np.pod_selector.is_empty()
        && np.affects(ingress)
        && if ingress {
            np.ingress.is_empty()
        } else {
            np.egress.is_empty()
        }
}

/// An admin policy selecting the namespace whose first rule denies everything from everywhere.
fn admin_default_deny(p: &AdminPolicy, ns_labels: &Labels, ns: &str, ingress: bool) -> bool {
    let rules = if ingress { &p.ingress } else { &p.egress };
    let subject_all_ns_pods = match (&p.subject.namespaces, &p.subject.pods) {
        (Some(sel), None) => sel.matches(ns_labels).unwrap_or(false),
        (None, Some(pods)) => {
            pods.pod_selector.is_empty()
                && pods.namespace_selector.matches(ns_labels).unwrap_or(false)
        }
        _ => false,
    };
    let _ = ns;
    subject_all_ns_pods
        && rules.iter().any(|r| {
            r.action == "Deny"
                && r.ports.is_none()
                && r.peers.iter().any(|peer| {
                    peer.namespaces.as_ref().is_some_and(|s| s.is_empty())
                        || peer.pods.as_ref().is_some_and(|x| {
                            x.namespace_selector.is_empty() && x.pod_selector.is_empty()
                        })
                })
        })
}

/// Computes coverage over the analysed input.
pub fn coverage(analyzer: &Analyzer) -> Coverage {
    let engine = &analyzer.engine;
    let empty = Labels::new();
    let mut res = Coverage::default();
    for w in &analyzer.workloads {
        let pod = PodCtx {
            namespace: &w.namespace,
            labels: &w.labels,
            ports: &w.ports,
            ns_labels: Some(engine.namespaces.get(&w.namespace).unwrap_or(&empty)),
            rep: None,
            fake: false,
            selected_by: None,
        };
        let peer = PeerRef::Pod(pod);
        let mut per_dir = [Vec::new(), Vec::new()];
        for (d, ingress) in [true, false].into_iter().enumerate() {
            for p in &engine.anps {
                if Engine::admin_selects(p, &peer, ingress).unwrap_or(false) {
                    per_dir[d].push(format!("{} {}", p.kind_label(), p.name));
                }
            }
            for i in engine.netpols_selecting(&pod, ingress).unwrap_or_default() {
                per_dir[d].push(format!("NetworkPolicy {}", engine.netpols[i].full_name()));
            }
            for b in engine.baseline_cnps.iter().chain(engine.banp.iter()) {
                if Engine::admin_selects(b, &peer, ingress).unwrap_or(false) {
                    per_dir[d].push(format!("{} {}", b.kind_label(), b.name));
                }
            }
        }
        let [ingress_policies, egress_policies] = per_dir;
        res.workloads.push(WorkloadCoverage {
            workload: w.display(),
            namespace: w.namespace.clone(),
            ingress_policies,
            egress_policies,
        });
    }
    let mut namespaces: BTreeMap<&str, ()> = BTreeMap::new();
    for w in &analyzer.workloads {
        namespaces.insert(&w.namespace, ());
    }
    for ns in namespaces.keys() {
        let labels = engine.namespaces.get(*ns).unwrap_or(&empty);
        let find = |ingress: bool| -> Option<String> {
            engine
                .netpols
                .iter()
                .find(|np| np.namespace == *ns && np_default_deny(np, ingress))
                .map(|np| format!("NetworkPolicy {}", np.full_name()))
                .or_else(|| {
                    engine
                        .anps
                        .iter()
                        .chain(engine.baseline_cnps.iter())
                        .chain(engine.banp.iter())
                        .find(|p| admin_default_deny(p, labels, ns, ingress))
                        .map(|p| format!("{} {}", p.kind_label(), p.name))
                })
        };
        res.namespaces.push(NamespaceCoverage {
            namespace: ns.to_string(),
            default_deny_ingress: find(true),
            default_deny_egress: find(false),
        });
    }
    res
}

/// Coverage gaps as findings, located on the workloads (and on a namespace's
/// Namespace object, or its first workload when the input has none).
pub fn coverage_findings(objects: &[Object], analyzer: &Analyzer, cov: &Coverage) -> Vec<Finding> {
    let index = ObjectIndex::new(objects);
    let mut out = Vec::new();
    for (w, c) in analyzer.workloads.iter().zip(&cov.workloads) {
        let Some(object) = w.source.as_ref().and_then(|id| index.get(id)) else {
            continue;
        };
        let mut dirs = Vec::new();
        if !c.ingress_isolated() {
            dirs.push("ingress");
        }
        if !c.egress_isolated() {
            dirs.push("egress");
        }
        if dirs.is_empty() {
            continue;
        }
        let span = node_at(&object.root, &[Seg::Key("metadata"), Seg::Key("name")]).span;
        out.push(Finding::new(
            &rules::WORKLOAD_NOT_ISOLATED,
            object,
            span,
            Some("metadata.name".to_string()),
            format!(
                "{} is not isolated for {}: no policy selects it, so all such traffic is allowed",
                c.workload,
                dirs.join(" and ")
            ),
            "Add a default-deny NetworkPolicy to the namespace and allow the needed traffic."
                .to_string(),
        ));
    }
    for n in &cov.namespaces {
        let mut dirs = Vec::new();
        if n.default_deny_ingress.is_none() {
            dirs.push("ingress");
        }
        if n.default_deny_egress.is_none() {
            dirs.push("egress");
        }
        if dirs.is_empty() {
            continue;
        }
        let ns_object = objects
            .iter()
            .find(|o| o.kind() == "Namespace" && o.id.name == n.namespace)
            .or_else(|| {
                analyzer
                    .workloads
                    .iter()
                    .find(|w| w.namespace == n.namespace)
                    .and_then(|w| w.source.as_ref())
                    .and_then(|id| index.get(id))
            });
        let Some(object) = ns_object else {
            continue;
        };
        let span = node_at(&object.root, &[Seg::Key("metadata")]).span;
        out.push(Finding::new(
            &rules::NO_DEFAULT_DENY,
            object,
            span,
            None,
            format!("namespace {} has no default-deny policy for {}", n.namespace, dirs.join(" and ")),
            "Add a NetworkPolicy with `podSelector: {}` and the direction in policyTypes, with no rules for it.".to_string(),
        ));
    }
    out
}
