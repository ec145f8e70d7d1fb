//! Admission policies, evaluated offline exactly as the cluster would.
//!
//! - [`gatekeeper`]: OPA Gatekeeper ConstraintTemplates (Rego, with regorus)
//!   and their Constraints: match semantics, `input.review`, parameters,
//!   enforcement actions, `data.inventory`, and gator `Suite` files.
//! - [`vap`]: Kubernetes ValidatingAdmissionPolicy and its bindings (CEL).
//!
//! Known limits: CEL expressions are parsed, not type-checked, at load (a type
//! error shows when the expression runs, as a runtime error under the policy's
//! `failurePolicy`); CEL cost units approximate the API server's; Gatekeeper
//! `expansion` templates are not run.

pub mod gatekeeper;
pub mod vap;
