//! RBAC grants in Roles, ClusterRoles and bindings.

pub mod admission_control;
pub mod approve_csr;
pub mod bind_escalate;
pub mod binding_to_system_group;
pub mod cluster_admin_binding;
pub mod coredns_configmap;
pub mod create_persistent_volumes;
pub mod create_pods;
pub mod create_service_account_token;
pub mod delete_events;
pub mod full_access_rule;
pub mod impersonate;
pub mod manage_configmaps;
pub mod manage_network;
pub mod modify_service_status;
pub mod nodes_proxy;
pub mod pod_exec_attach;
pub mod port_forward;
pub mod read_secrets;
pub mod scc_privileged_container;
pub(crate) mod util;
pub mod wildcard_in_rules;
pub mod workload_permissions;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[
    &cluster_admin_binding::RULE,
    &binding_to_system_group::RULE,
    &full_access_rule::RULE,
    &wildcard_in_rules::RULE,
    &read_secrets::RULE,
    &create_pods::RULE,
    &pod_exec_attach::RULE,
    &nodes_proxy::RULE,
    &impersonate::RULE,
    &bind_escalate::RULE,
    &admission_control::RULE,
    &approve_csr::RULE,
    &create_service_account_token::RULE,
    &create_persistent_volumes::RULE,
    &modify_service_status::RULE,
    &delete_events::RULE,
    &coredns_configmap::RULE,
    &port_forward::RULE,
    &manage_configmaps::RULE,
    &manage_network::RULE,
    &workload_permissions::RULE,
    &scc_privileged_container::RULE,
];
