//! Admission policies in the input: mistakes in Gatekeeper ConstraintTemplates.

pub mod rego_fails_open;
pub mod template_schema_ignored;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[&rego_fails_open::RULE, &template_schema_ignored::RULE];
