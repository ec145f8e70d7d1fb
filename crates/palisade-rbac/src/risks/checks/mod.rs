//! The risk checks, one file each; `CHECKS` is the registry, in the order
//! `palisade rules` lists them.

mod admission_webhooks;
mod approve_csr;
mod bind;
mod binding_to_anonymous;
mod binding_to_system_masters;
mod cluster_admin_binding;
mod coredns_config;
mod create_persistent_volumes;
mod create_workloads;
mod default_service_account;
mod delete_events;
mod delete_resources;
mod empty_resource_names;
mod escalate;
mod full_access;
mod impersonate;
mod manage_configmaps;
mod manage_network;
mod manage_rbac;
mod missing_role;
mod modify_namespaces;
mod nodes_checkpoint;
mod nodes_proxy;
mod pod_exec;
mod port_forward;
mod read_secrets;
mod service_account_token;
mod services_status;
mod wildcard;
mod write_secrets;

use crate::rule::{PolicyRule, ALL};

use super::Check;

/// `docs` of a check: its file's `//!` comment, extracted by `build.rs`.
macro_rules! check_docs {
    () => {
        include_str!(concat!(env!("OUT_DIR"), "/", module_path!(), ".md"))
    };
}
pub(crate) use check_docs;

pub(crate) const FULL_ACCESS: &str = "rbac-risk/full-access";
pub(crate) const EMPTY_RESOURCE_NAMES: &str = "rbac-risk/empty-resource-names";

pub(crate) static CHECKS: &[&Check] = &[
    &full_access::CHECK,
    &cluster_admin_binding::CHECK,
    &binding_to_anonymous::CHECK,
    &binding_to_system_masters::CHECK,
    &escalate::CHECK,
    &bind::CHECK,
    &impersonate::CHECK,
    &nodes_proxy::CHECK,
    &read_secrets::CHECK,
    &write_secrets::CHECK,
    &create_workloads::CHECK,
    &pod_exec::CHECK,
    &service_account_token::CHECK,
    &approve_csr::CHECK,
    &admission_webhooks::CHECK,
    &create_persistent_volumes::CHECK,
    &coredns_config::CHECK,
    &manage_rbac::CHECK,
    &port_forward::CHECK,
    &nodes_checkpoint::CHECK,
    &services_status::CHECK,
    &modify_namespaces::CHECK,
    &default_service_account::CHECK,
    &wildcard::CHECK,
    &empty_resource_names::CHECK,
    &delete_events::CHECK,
    &delete_resources::CHECK,
    &manage_configmaps::CHECK,
    &manage_network::CHECK,
    &missing_role::CHECK,
];

/// Every verb on every resource of every group, on any object.
pub(crate) fn full_access(rule: &PolicyRule) -> bool {
    let all = |items: &[String]| items.iter().any(|i| i == ALL);
    all(&rule.verbs)
        && all(&rule.api_groups)
        && all(&rule.resources)
        && rule.resource_names.is_empty()
}

/// The discovery roles every cluster binds to everyone: binding them is not a risk.
pub(crate) const DISCOVERY_ROLES: &[&str] = &[
    "system:public-info-viewer",
    "system:discovery",
    "system:basic-user",
    "kubeadm:bootstrap-signer-clusterinfo",
];
