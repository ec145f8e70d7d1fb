//! Service accounts and their tokens.

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[];
