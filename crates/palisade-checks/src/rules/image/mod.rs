//! Container images.

pub mod deprecated_registry;
pub mod digest_not_pinned;
pub mod implicit_registry;
pub mod latest_tag;
pub mod pull_policy_not_always;
pub mod untrusted_registry;
pub(crate) mod util;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[
    &latest_tag::RULE,
    &pull_policy_not_always::RULE,
    &untrusted_registry::RULE,
    &deprecated_registry::RULE,
    &digest_not_pinned::RULE,
    &implicit_registry::RULE,
];
