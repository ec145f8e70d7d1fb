//! CPU, memory and storage requests and limits.

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[];
