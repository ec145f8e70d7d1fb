#![doc = include_str!("docs/procMount_restricted.md")]

use palisade_model::{RuleMeta, Severity};

use super::proc_mount;
use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/procMount_restricted.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/procMount_restricted",
    title: "Containers must keep the default /proc masks, even in a user namespace",
    severity: Severity::Medium,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[palisade_model::Control::nsa("pod-security")],
};

/// Introduced in 1.35, when baseline started allowing unmasked /proc in user
/// namespaces: restricted replaces the baseline check with the strict 1.0 rule.
pub(crate) const CHECK: Check = Check {
    id: "procMount_restricted",
    level: Level::Restricted,
    rule: &RULE,
    versions: &[overriding(
        35,
        proc_mount::proc_mount_1_0,
        &[proc_mount::ID],
    )],
};
