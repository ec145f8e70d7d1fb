//! Service accounts and their tokens.

pub mod automount_token;
pub mod default_service_account;
pub mod default_service_account_bound;
pub mod deprecated_service_account_field;
pub mod missing_service_account;
pub(crate) mod util;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[
    &automount_token::RULE,
    &default_service_account::RULE,
    &missing_service_account::RULE,
    &deprecated_service_account_field::RULE,
    &default_service_account_bound::RULE,
];
