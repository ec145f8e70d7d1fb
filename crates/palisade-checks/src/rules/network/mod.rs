//! Networking: NetworkPolicy coverage, Services, Ingress.

pub mod pod_not_isolated;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[&pod_not_isolated::RULE];
