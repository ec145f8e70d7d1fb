//! ## What it finds
//!
//! A container that adds a capability that breaks container isolation or
//! controls the node's kernel: `SYS_MODULE`, `SYS_PTRACE`, `SYS_RAWIO`,
//! `SYS_BOOT`, `SYS_TIME`, `NET_ADMIN`, `BPF`, `PERFMON`, `DAC_READ_SEARCH`,
//! `MAC_ADMIN`, `MAC_OVERRIDE`, `SYSLOG`, `AUDIT_CONTROL`. Names are read as
//! runtimes read them (`cap_net_admin`, `CAP_NET_ADMIN`).
//!
//! `SYS_ADMIN` and `ALL` are reported by `pod/sys-admin-capability`, `NET_RAW`
//! by `pss/capabilities_baseline`; privileged containers (`pss/privileged`)
//! and Windows pods are not reported.
//!
//! ## Why it matters
//!
//! Each of these undoes a part of the sandbox: `SYS_MODULE` loads kernel
//! code; `SYS_RAWIO` reads and writes raw memory and disks; `DAC_READ_SEARCH`
//! allowed the classic "shocker" escape through `open_by_handle_at`;
//! `SYS_PTRACE` injects code into other processes (the host's too, with
//! `hostPID`); `BPF` and `PERFMON` load programs into the kernel and read
//! kernel memory; `NET_ADMIN` rewrites firewall rules and routes, bypassing
//! NetworkPolicies and intercepting traffic; `MAC_ADMIN`/`MAC_OVERRIDE`
//! disable AppArmor and SELinux; `SYS_TIME` and `SYS_BOOT` change the node's
//! clock or reboot it; `SYSLOG` leaks kernel addresses; `AUDIT_CONTROL`
//! hides activity from the node's audit log.
//!
//! ## How to fix it
//!
//! Remove the capability. Programs that need it are node agents (CNI
//! plugins, eBPF tools, profilers): run them in a dedicated namespace with
//! the finding suppressed there explicitly, never in application pods.
//!
//! ## Example
//!
//! ```yaml
//! securityContext:
//!   capabilities:
//!     drop: ["ALL"]        # and no NET_ADMIN / SYS_PTRACE in add
//! ```

use palisade_model::{pod_template, Control, Object, RuleMeta, Severity};

use super::util::{capability_list, is_privileged, is_windows};
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/dangerous-capabilities",
        title: "Containers should not add capabilities that break isolation",
        severity: Severity::High,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://man7.org/linux/man-pages/man7/capabilities.7.html",
        controls: &[
            Control::cis("5.2.9"),
            Control::nsa("pod-security"),
            Control::mitre("T1611"),
            Control::mitre("T1068"),
        ],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

/// The capabilities reported, with what each one gives.
const DANGEROUS: &[(&str, &str)] = &[
    ("SYS_MODULE", "loads kernel modules"),
    ("SYS_PTRACE", "traces and injects code into other processes"),
    ("SYS_RAWIO", "reads and writes raw memory and devices"),
    ("SYS_BOOT", "reboots the node or loads a new kernel"),
    ("SYS_TIME", "sets the node's clock"),
    (
        "NET_ADMIN",
        "rewrites firewall rules, routes and interfaces",
    ),
    ("BPF", "loads eBPF programs into the kernel"),
    ("PERFMON", "reads kernel performance data and memory"),
    (
        "DAC_READ_SEARCH",
        "reads any file and opens files by handle (the \"shocker\" escape)",
    ),
    ("MAC_ADMIN", "reconfigures AppArmor or SELinux"),
    ("MAC_OVERRIDE", "bypasses AppArmor or SELinux"),
    ("SYSLOG", "reads the kernel log and kernel addresses"),
    ("AUDIT_CONTROL", "changes the node's audit rules"),
];

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if pod_template(object).is_some_and(|pod| is_windows(&pod)) {
        return;
    }
    each_container(object, |c| {
        if is_privileged(c) {
            return;
        }
        for (index, node, name) in capability_list(c, "add") {
            let Some((cap, gives)) = DANGEROUS.iter().find(|(cap, _)| *cap == name) else {
                continue;
            };
            sink.report(
                node,
                c.field(&format!("securityContext.capabilities.add[{index}]")),
                format!("{} adds {cap}, which {gives}", c.describe()),
                "Remove the capability from securityContext.capabilities.add; run node agents that need it in a dedicated namespace.",
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_dangerous_capabilities() {
        let findings = run(
            &RULE,
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: a\n            image: x\n            securityContext:\n              capabilities:\n                add: [CAP_NET_admin, CHOWN, SYS_ADMIN, sys_ptrace]\n",
        );
        assert_eq!(positions(&findings), [(15, 23), (15, 56)]);
        assert!(findings[0].message.contains("adds NET_ADMIN"));
        assert_eq!(
            findings[1].location.field.as_deref(),
            Some("spec.jobTemplate.spec.template.spec.containers[0].securityContext.capabilities.add[3]")
        );
    }

    #[test]
    fn passes_default_capabilities() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext: {capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}\n",
        );
        assert!(findings.is_empty());
    }
}
