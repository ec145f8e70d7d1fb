#![doc = include_str!("docs/sysctls.md")]

use palisade_model::{PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/sysctls.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/sysctls",
    title: "Pods may set only the safe, namespaced sysctls",
    severity: Severity::High,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[palisade_model::Control::nsa("pod-security")],
};

pub(crate) const CHECK: Check = Check {
    id: "sysctls",
    level: Level::Baseline,
    rule: &RULE,
    versions: &[
        version(0, sysctls_1_0),
        version(27, sysctls_1_27),
        version(29, sysctls_1_29),
        version(32, sysctls_1_32),
        version(37, sysctls_1_37),
    ],
};

const REASON: &str = "forbidden sysctls";

/// The safe set grows over releases; each entry is (first minor, sysctls added then).
const SAFE_SYSCTLS: &[(u32, &[&str])] = &[
    (
        0,
        &[
            "kernel.shm_rmid_forced",
            "net.ipv4.ip_local_port_range",
            "net.ipv4.tcp_syncookies",
            "net.ipv4.ping_group_range",
            "net.ipv4.ip_unprivileged_port_start",
        ],
    ),
    (27, &["net.ipv4.ip_local_reserved_ports"]),
    (
        29,
        &[
            "net.ipv4.tcp_keepalive_time",
            "net.ipv4.tcp_fin_timeout",
            "net.ipv4.tcp_keepalive_intvl",
            "net.ipv4.tcp_keepalive_probes",
        ],
    ),
    (32, &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]),
    (
        37,
        &[
            "net.ipv4.tcp_slow_start_after_idle",
            "net.ipv4.tcp_notsent_lowat",
        ],
    ),
];

fn sysctls_1_0<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    sysctls(pod, 0)
}

fn sysctls_1_27<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    sysctls(pod, 27)
}

fn sysctls_1_29<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    sysctls(pod, 29)
}

fn sysctls_1_32<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    sysctls(pod, 32)
}

fn sysctls_1_37<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    sysctls(pod, 37)
}

fn is_safe(name: &str, minor: u32) -> bool {
    SAFE_SYSCTLS
        .iter()
        .any(|(since, names)| *since <= minor && names.contains(&name))
}

fn sysctls<'a>(pod: &PodTemplate<'a>, minor: u32) -> Outcome<'a> {
    let mut forbidden = Vec::new();
    let mut violations = Vec::new();
    for (index, sysctl) in list(pod_context(pod), "sysctls").iter().enumerate() {
        let (node, name) = string(Some(sysctl), "name").unwrap_or((sysctl, ""));
        if is_safe(name, minor) {
            continue;
        }
        forbidden.push(name);
        violations.push(Violation {
            node,
            field: pod.field_path(&format!("securityContext.sysctls[{index}].name")),
            message: reason_detail(REASON, name),
            remediation:
                "Remove the sysctl, or move the workload to a namespace whose policy allows it.",
        });
    }
    if forbidden.is_empty() {
        return Outcome::allowed();
    }
    // Upstream lists them in spec order, duplicates included.
    Outcome::forbidden(REASON, forbidden.join(", "), violations)
}
