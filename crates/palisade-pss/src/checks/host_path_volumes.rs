#![doc = include_str!("docs/hostPathVolumes.md")]

use palisade_model::{PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/hostPathVolumes.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/hostPathVolumes",
    title: "Pods must not mount hostPath volumes",
    severity: Severity::High,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[
        palisade_model::Control::cis("5.2.12"),
        palisade_model::Control::nsa("pod-security"),
        palisade_model::Control::mitre("T1611"),
    ],
};

pub(crate) const ID: &str = "hostPathVolumes";

pub(crate) const CHECK: Check = Check {
    id: ID,
    level: Level::Baseline,
    rule: &RULE,
    versions: &[version(0, host_path_volumes_1_0)],
};

const REASON: &str = "hostPath volumes";

fn host_path_volumes_1_0<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut names = Vec::new();
    let mut violations = Vec::new();
    for (index, volume) in list(Some(pod.spec), "volumes").iter().enumerate() {
        if let Some(host_path) = object(Some(volume), "hostPath") {
            let name = text(Some(volume), "name");
            names.push(name);
            violations.push(Violation {
                node: host_path,
                field: pod.field_path(&format!("volumes[{index}].hostPath")),
                message: reason_detail(REASON, &detail(&[name])),
                remediation: "Replace the hostPath volume with a persistentVolumeClaim, configMap, secret or emptyDir volume.",
            });
        }
    }
    if names.is_empty() {
        return Outcome::allowed();
    }
    Outcome::forbidden(REASON, detail(&names), violations)
}

fn detail(names: &[&str]) -> String {
    format!(
        "{} {}",
        pluralize("volume", "volumes", names.len()),
        join_quote(names)
    )
}
