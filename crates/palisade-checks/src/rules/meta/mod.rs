//! Namespaces, labels, API versions.

pub mod default_namespace;
pub mod invalid_label;
pub mod kube_system_workload;
pub mod namespace_missing;
pub mod removed_api_version;
pub mod required_labels;
pub(crate) mod util;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[
    &default_namespace::RULE,
    &namespace_missing::RULE,
    &kube_system_workload::RULE,
    &invalid_label::RULE,
    &required_labels::RULE,
    &removed_api_version::RULE,
];
