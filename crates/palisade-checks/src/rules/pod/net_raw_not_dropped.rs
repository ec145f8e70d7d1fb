//! ## What it finds
//!
//! A container whose `securityContext.capabilities.drop` contains neither
//! `NET_RAW` nor `ALL`, so it keeps the `NET_RAW` capability that Docker and
//! containerd grant by default.
//!
//! Containers that add `NET_RAW` explicitly are reported by
//! `pss/capabilities_baseline`; privileged containers by `pss/privileged`;
//! Windows pods are not reported.
//!
//! Optional: at the Pod Security `restricted` level (the default),
//! `pss/capabilities_restricted` already asks for `drop: ["ALL"]` on every
//! container, so this rule would report the same containers twice. Enable it
//! (`--enable pod/net-raw-not-dropped`) when scanning at `--level baseline`.
//!
//! ## Why it matters
//!
//! `NET_RAW` lets a process forge packets: ARP and DNS spoofing against
//! other pods on the node, and traffic that NetworkPolicies implemented at
//! layer 3/4 may not see. Very few programs need it (`ping` works without it
//! on current kernels and runtimes).
//!
//! ## How to fix it
//!
//! Drop `ALL` capabilities and add back only what the program needs, or at
//! least drop `NET_RAW`.
//!
//! ## Example
//!
//! ```yaml
//! securityContext:
//!   capabilities:
//!     drop: ["ALL"]
//! ```

use palisade_model::{pod_template, Control, Object, RuleMeta, Severity};

use super::util::{capability_list, is_privileged, is_windows};
use crate::rule::{each_container, rule_docs, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "pod/net-raw-not-dropped",
        title: "Containers should drop the NET_RAW capability",
        severity: Severity::Low,
        category: "pod",
        docs: rule_docs!(),
        help_uri: "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-capabilities-for-a-container",
        controls: &[Control::cis("5.2.8"), Control::nsa("pod-security")],
    },
    kinds: Kinds::Workloads,
    optional: true,
    check,
};

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    if pod_template(object).is_some_and(|pod| is_windows(&pod)) {
        return;
    }
    each_container(object, |c| {
        if is_privileged(c) {
            return;
        }
        if capability_list(c, "add")
            .iter()
            .any(|(_, _, name)| name == "NET_RAW" || name == "ALL")
        {
            return;
        }
        if capability_list(c, "drop")
            .iter()
            .any(|(_, _, name)| name == "NET_RAW" || name == "ALL")
        {
            return;
        }
        let capabilities = c.security().get("capabilities").map(|(n, _)| n);
        let (node, field) = match capabilities {
            Some(caps) => match caps.get("drop") {
                Some(drop) => (drop, c.field("securityContext.capabilities.drop")),
                None => (caps, c.field("securityContext.capabilities")),
            },
            None => c.anchor(),
        };
        sink.report(
            node,
            field,
            format!("{} does not drop NET_RAW", c.describe()),
            "Set securityContext.capabilities.drop: [\"ALL\"] (or at least NET_RAW).",
        );
    });
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::testing::{positions, run};

    #[test]
    fn flags_containers_keeping_net_raw() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  initContainers:\n  - name: i\n    image: x\n  containers:\n  - name: a\n    image: x\n    securityContext:\n      capabilities:\n        drop: [CHOWN]\n  - name: b\n    image: x\n    securityContext: {capabilities: {drop: [net_raw]}}\n  - name: c\n    image: x\n    securityContext: {capabilities: {drop: [ALL]}}\n",
        );
        assert_eq!(positions(&findings), [(6, 5), (13, 15)]);
        assert!(findings[0].message.contains("init container \"i\""));
        assert_eq!(
            findings[1].location.field.as_deref(),
            Some("spec.containers[0].securityContext.capabilities.drop")
        );
    }

    #[test]
    fn leaves_added_net_raw_and_privileged_to_pss() {
        let findings = run(
            &RULE,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext: {capabilities: {add: [NET_RAW]}}\n  - name: b\n    image: x\n    securityContext: {privileged: true}\n",
        );
        assert!(findings.is_empty());
    }
}
