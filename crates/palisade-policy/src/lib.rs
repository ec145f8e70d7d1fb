//! Admission policies, evaluated offline exactly as the cluster would.
//!
//! - [`gatekeeper`]: OPA Gatekeeper ConstraintTemplates (Rego, with regorus)
//!   and their Constraints: match semantics, `input.review`, parameters,
//!   enforcement actions, `data.inventory`, and gator `Suite` files.
//! - [`vap`]: Kubernetes ValidatingAdmissionPolicy and its bindings (CEL).
//!
//! Work in progress: see the issue notes for what is done.

pub mod gatekeeper;
pub mod vap;
