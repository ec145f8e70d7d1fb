//! Availability and reliability.

pub mod hpa_max_below_min;
pub mod hpa_min_replicas;
pub mod hpa_target_missing;
pub mod node_affinity;
pub mod pdb_blocks_eviction;
pub mod pdb_unhealthy_eviction;
pub mod pod_disruption_budget;
pub mod priority_class;
pub mod recreate_strategy;
pub mod replicas_not_spread;
pub mod replicas_under_hpa;
pub mod rolling_update_unavailable;
pub mod selector_mismatch;
pub mod single_replica;
pub mod statefulset_service;
pub(crate) mod util;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[
    &single_replica::RULE,
    &pod_disruption_budget::RULE,
    &pdb_blocks_eviction::RULE,
    &pdb_unhealthy_eviction::RULE,
    &replicas_not_spread::RULE,
    &node_affinity::RULE,
    &hpa_min_replicas::RULE,
    &hpa_max_below_min::RULE,
    &hpa_target_missing::RULE,
    &replicas_under_hpa::RULE,
    &recreate_strategy::RULE,
    &rolling_update_unavailable::RULE,
    &priority_class::RULE,
    &selector_mismatch::RULE,
    &statefulset_service::RULE,
];
