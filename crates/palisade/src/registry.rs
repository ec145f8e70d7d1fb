//! Every rule of every layer, for `palisade rules` and `palisade explain`.

use palisade_model::{RuleMeta, INPUT_RULES};

/// All rules, layer by layer; input errors last.
pub fn all_rules() -> Vec<&'static RuleMeta> {
    palisade_pss::rules()
        .iter()
        .chain(palisade_checks::rules())
        .chain(palisade_rbac::rules())
        .chain(palisade_netpol::rules::ALL.iter().copied())
        .chain(INPUT_RULES.iter())
        .collect()
}

/// The rule with this id, compared without regard to case.
pub fn find(id: &str) -> Option<&'static RuleMeta> {
    all_rules()
        .into_iter()
        .find(|r| r.id.eq_ignore_ascii_case(id))
}

/// Whether a rule runs in `palisade scan` only when enabled (`--enable`, or
/// `enable:` in the configuration).
pub fn is_optional(id: &str) -> bool {
    palisade_checks::is_optional(id)
        || id.starts_with("rbac-risk/")
        || crate::commands::analysis::NETPOL_RULES_OPTIONAL_IN_SCAN.contains(&id)
}

/// Whether any analyzer looks at objects of `kind` (the report marks the others "no checks").
pub fn is_checked_kind(kind: &str) -> bool {
    kind == "Namespace"
        || palisade_model::is_workload_kind(kind)
        || palisade_checks::checks_kind(kind)
}
