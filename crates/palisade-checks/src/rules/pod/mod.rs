//! Pod security hardening beyond the Pod Security Standards.

pub mod read_only_root_filesystem;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[&read_only_root_filesystem::RULE];
