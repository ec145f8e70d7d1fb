//! CPU, memory and storage requests and limits.

pub mod cpu_limits;
pub mod cpu_requests;
pub mod ephemeral_storage;
pub mod invalid_quantity;
pub mod limit_below_request;
pub mod memory_limits;
pub mod memory_requests;
pub mod namespace_without_limit_range;
pub mod namespace_without_resource_quota;
pub mod requests_equal_limits;
pub(crate) mod util;
pub mod volume_claim_template;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[
    &cpu_requests::RULE,
    &memory_requests::RULE,
    &memory_limits::RULE,
    &cpu_limits::RULE,
    &limit_below_request::RULE,
    &invalid_quantity::RULE,
    &requests_equal_limits::RULE,
    &ephemeral_storage::RULE,
    &namespace_without_resource_quota::RULE,
    &namespace_without_limit_range::RULE,
    &volume_claim_template::RULE,
];
