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

const PROBES: &[Probe] = &[
    Probe::ns("create", "", "services"),
    Probe::ns("update", "", "services"),
    Probe::ns("patch", "", "services"),
    Probe::ns("delete", "", "services"),
    Probe::ns("deletecollection", "", "services"),
    Probe::ns("create", "", "endpoints"),
    Probe::ns("update", "", "endpoints"),
    Probe::ns("patch", "", "endpoints"),
    Probe::ns("delete", "", "endpoints"),
    Probe::ns("deletecollection", "", "endpoints"),
    Probe::ns("create", "discovery.k8s.io", "endpointslices"),
    Probe::ns("update", "discovery.k8s.io", "endpointslices"),
    Probe::ns("patch", "discovery.k8s.io", "endpointslices"),
    Probe::ns("delete", "discovery.k8s.io", "endpointslices"),
    Probe::ns("deletecollection", "discovery.k8s.io", "endpointslices"),
    Probe::ns("create", "networking.k8s.io", "ingresses"),
    Probe::ns("update", "networking.k8s.io", "ingresses"),
    Probe::ns("patch", "networking.k8s.io", "ingresses"),
    Probe::ns("delete", "networking.k8s.io", "ingresses"),
    Probe::ns("deletecollection", "networking.k8s.io", "ingresses"),
    Probe::ns("create", "networking.k8s.io", "networkpolicies"),
    Probe::ns("update", "networking.k8s.io", "networkpolicies"),
    Probe::ns("patch", "networking.k8s.io", "networkpolicies"),
    Probe::ns("delete", "networking.k8s.io", "networkpolicies"),
    Probe::ns("deletecollection", "networking.k8s.io", "networkpolicies"),
];
