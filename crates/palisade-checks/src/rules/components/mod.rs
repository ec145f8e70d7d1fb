//! Known-dangerous components.

pub mod dashboard_insecure;
pub mod git_sync_injection;
pub mod kubernetes_dashboard;
pub mod tiller;
pub(crate) mod util;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[
    &tiller::RULE,
    &dashboard_insecure::RULE,
    &kubernetes_dashboard::RULE,
    &git_sync_injection::RULE,
];
