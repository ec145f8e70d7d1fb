//! The check registry: every upstream check, one module each.
//!
//! [`CHECKS`] is the data the evaluator works from. Its order is upstream's
//! evaluation order (baseline ids, then restricted ids, each sorted
//! byte-wise), which is also the order of the reasons in admission messages.

use crate::check::Check;

mod allow_privilege_escalation;
mod app_armor_profile;
mod capabilities_baseline;
mod capabilities_restricted;
mod host_namespaces;
mod host_path_volumes;
mod host_ports;
mod host_probes_and_host_lifecycle;
mod privileged;
mod proc_mount;
mod proc_mount_restricted;
mod restricted_volumes;
mod run_as_non_root;
mod run_as_user;
mod se_linux_options;
mod seccomp_profile_baseline;
mod seccomp_profile_restricted;
mod sysctls;
mod windows_host_process;

pub(crate) static CHECKS: &[&Check] = &[
    // Baseline.
    &app_armor_profile::CHECK,
    &capabilities_baseline::CHECK,
    &host_namespaces::CHECK,
    &host_path_volumes::CHECK,
    &host_ports::CHECK,
    &host_probes_and_host_lifecycle::CHECK,
    &privileged::CHECK,
    &proc_mount::CHECK,
    &se_linux_options::CHECK,
    &seccomp_profile_baseline::CHECK,
    &sysctls::CHECK,
    &windows_host_process::CHECK,
    // Restricted.
    &allow_privilege_escalation::CHECK,
    &capabilities_restricted::CHECK,
    &proc_mount_restricted::CHECK,
    &restricted_volumes::CHECK,
    &run_as_non_root::CHECK,
    &run_as_user::CHECK,
    &seccomp_profile_restricted::CHECK,
];

/// Every rule: the checks' in the order of [`CHECKS`], then the namespace-label rule.
/// (`palisade explain` reads these.)
pub(crate) static RULES: [palisade_model::RuleMeta; 20] = [
    app_armor_profile::RULE,
    capabilities_baseline::RULE,
    host_namespaces::RULE,
    host_path_volumes::RULE,
    host_ports::RULE,
    host_probes_and_host_lifecycle::RULE,
    privileged::RULE,
    proc_mount::RULE,
    se_linux_options::RULE,
    seccomp_profile_baseline::RULE,
    sysctls::RULE,
    windows_host_process::RULE,
    allow_privilege_escalation::RULE,
    capabilities_restricted::RULE,
    proc_mount_restricted::RULE,
    restricted_volumes::RULE,
    run_as_non_root::RULE,
    run_as_user::RULE,
    seccomp_profile_restricted::RULE,
    crate::scanner::NAMESPACE_LABELS_RULE,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Level;

    #[test]
    fn registry_is_in_upstream_order_and_consistent() {
        let baseline: Vec<&str> = CHECKS
            .iter()
            .filter(|c| c.level == Level::Baseline)
            .map(|c| c.id)
            .collect();
        let restricted: Vec<&str> = CHECKS
            .iter()
            .filter(|c| c.level == Level::Restricted)
            .map(|c| c.id)
            .collect();
        let mut sorted = baseline.clone();
        sorted.sort();
        assert_eq!(baseline, sorted);
        let mut sorted = restricted.clone();
        sorted.sort();
        assert_eq!(restricted, sorted);
        assert_eq!(
            [baseline, restricted].concat(),
            CHECKS.iter().map(|c| c.id).collect::<Vec<_>>()
        );

        for (check, rule) in CHECKS.iter().zip(RULES.iter()) {
            assert_eq!(rule.id, format!("pss/{}", check.id));
            assert_eq!(check.rule.id, rule.id);
            assert!(
                check.versions.windows(2).all(|w| w[0].since < w[1].since),
                "{}",
                check.id
            );
            for section in [
                "## What it finds",
                "## Why it matters",
                "## How to fix it",
                "## Example",
            ] {
                assert!(
                    rule.docs.contains(section),
                    "{} docs lack {section}",
                    rule.id
                );
            }
            for versioned in check.versions {
                if !versioned.overrides.is_empty() {
                    assert_eq!(check.level, Level::Restricted, "{}", check.id);
                }
                for id in versioned.overrides {
                    let overridden = CHECKS.iter().find(|c| c.id == *id);
                    assert_eq!(overridden.map(|c| c.level), Some(Level::Baseline), "{id}");
                }
            }
        }
    }
}
