//! OPA Gatekeeper: ConstraintTemplates, Constraints, suites.
