//! ## What it finds
//!
//! A rule that allows `create`, `update`, `patch`, `delete` or
//! `deletecollection` on Services, Endpoints, EndpointSlices, Ingresses or
//! NetworkPolicies, held where a binding grants it.
//!
//! ## Why it matters
//!
//! These objects decide where traffic goes and what is allowed: changing a
//! Service's selector or its Endpoints redirects its clients to another
//! Pod, a Service with `externalIPs` captures traffic for any address
//! (CVE-2020-8554), an Ingress exposes a Service to the internet, and
//! deleting a NetworkPolicy opens what it closed.
//!
//! ## How to fix it
//!
//! Give these permissions to the deployment pipeline and the controllers
//! that own them (ingress, service mesh); give people read access.
//!
//! ## Example
//!
//! ```yaml
//! rules:
//! - apiGroups: ["", networking.k8s.io]
//!   resources: [services, ingresses, networkpolicies]
//!   verbs: [get, list, watch]
//! ```

use palisade_model::{Control, RuleMeta, Severity};

use super::check_docs;
use crate::risks::{Check, Eval, Probe};

pub(crate) const CHECK: Check = Check {
    meta: RuleMeta {
        id: "rbac-risk/manage-network",
        title: "A role lets its subjects change Services, Endpoints, Ingresses or NetworkPolicies",
        severity: Severity::Low,
        category: "rbac",
        docs: check_docs!(),
        help_uri: "https://kubernetes.io/docs/concepts/services-networking/",
        controls: &[Control::nsa("rbac"), Control::nsa("network-separation")],
    },
    eval: Eval::Grants(PROBES),
    in_namespace: Severity::Low,
    consequence: "change where traffic goes and what is allowed: redirect Services, expose them through Ingresses, remove NetworkPolicies",
    remediation: "Keep networking changes to the deployment pipeline and the controllers that own them; give other subjects read access.",
};

macro_rules! writes {
    ($group:literal, $resource:literal) => {
        [
            Probe::ns("create", $group, $resource),
            Probe::ns("update", $group, $resource),
            Probe::ns("patch", $group, $resource),
            Probe::ns("delete", $group, $resource),
            Probe::ns("deletecollection", $group, $resource),
        ]
    };
}

const PROBES: &[Probe] = &concat_probes();

const fn concat_probes() -> [Probe; 25] {
    let groups: [[Probe; 5]; 5] = [
        writes!("", "services"),
        writes!("", "endpoints"),
        writes!("discovery.k8s.io", "endpointslices"),
        writes!("networking.k8s.io", "ingresses"),
        writes!("networking.k8s.io", "networkpolicies"),
    ];
    let mut out = [Probe::ns("", "", ""); 25];
    let mut i = 0;
    while i < 25 {
        out[i] = groups[i / 5][i % 5];
        i += 1;
    }
    out
}
