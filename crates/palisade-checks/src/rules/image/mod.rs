//! Container images.

pub mod latest_tag;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[&latest_tag::RULE];
