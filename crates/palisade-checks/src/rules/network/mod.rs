//! Networking: NetworkPolicy coverage, Services, Ingress, Gateway API.

pub mod container_ports;
pub mod dns_config;
pub mod gateway_backend_missing;
pub mod ingress_backend_missing;
pub mod ingress_nginx_snippet;
pub mod ingress_without_tls;
pub mod pod_not_isolated;
pub mod policy_peer_selects_no_pod;
pub mod policy_selects_no_pod;
pub mod service_external_ips;
pub mod service_load_balancer;
pub mod service_monitor_selects_no_service;
pub mod service_node_port;
pub mod service_selects_no_pod;
pub mod service_target_port;
pub(crate) mod util;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[
    &pod_not_isolated::RULE,
    &policy_selects_no_pod::RULE,
    &policy_peer_selects_no_pod::RULE,
    &service_external_ips::RULE,
    &service_load_balancer::RULE,
    &service_node_port::RULE,
    &service_selects_no_pod::RULE,
    &service_target_port::RULE,
    &ingress_nginx_snippet::RULE,
    &ingress_without_tls::RULE,
    &ingress_backend_missing::RULE,
    &gateway_backend_missing::RULE,
    &service_monitor_selects_no_service::RULE,
    &container_ports::RULE,
    &dns_config::RULE,
];
