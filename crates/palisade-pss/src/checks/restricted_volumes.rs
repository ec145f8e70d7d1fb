#![doc = include_str!("docs/restrictedVolumes.md")]

use palisade_model::{PodTemplate, RuleMeta, Severity};

use super::host_path_volumes;
use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/restrictedVolumes.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/restrictedVolumes",
    title: "Pods may use only ephemeral, projected and claim-based volume types",
    severity: Severity::Medium,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[palisade_model::Control::nsa("pod-security")],
};

pub(crate) const CHECK: Check = Check {
    id: "restrictedVolumes",
    level: Level::Restricted,
    rule: &RULE,
    versions: &[overriding(
        0,
        restricted_volumes_1_0,
        &[host_path_volumes::ID],
    )],
};

const REASON: &str = "restricted volume types";

/// A volume with any of these sources is allowed, whatever else it sets.
const ALLOWED_SOURCES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Forbidden sources in the order upstream names the first one found.
const RESTRICTED_SOURCES: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

fn restricted_volumes_1_0<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    let mut names = Vec::new();
    let mut types = Vec::new();
    let mut violations = Vec::new();
    for (index, volume) in list(Some(pod.spec), "volumes").iter().enumerate() {
        if ALLOWED_SOURCES
            .iter()
            .any(|source| object(Some(volume), source).is_some())
        {
            continue;
        }
        let name = text(Some(volume), "name");
        // The API server defaults a volume without any source to an emptyDir
        // before admission runs, so such a volume is allowed. (Upstream's
        // "unknown" type is thus unreachable: the two lists cover every source.)
        let Some((volume_type, node)) = RESTRICTED_SOURCES
            .iter()
            .find_map(|source| object(Some(volume), source).map(|node| (*source, node)))
        else {
            continue;
        };
        let field = format!("volumes[{index}].{volume_type}");
        names.push(name);
        types.push(volume_type);
        violations.push(Violation {
            node,
            field: pod.field_path(&field),
            message: reason_detail(REASON, &detail(&[name], &[volume_type.to_string()])),
            remediation: "Use a configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral, image or persistentVolumeClaim volume instead.",
        });
    }
    if names.is_empty() {
        return Outcome::allowed();
    }
    Outcome::forbidden(REASON, detail(&names, &sorted_set(types)), violations)
}

fn detail(names: &[&str], types: &[String]) -> String {
    format!(
        "{} {} {} {} {}",
        pluralize("volume", "volumes", names.len()),
        join_quote(names),
        pluralize("uses", "use", names.len()),
        pluralize(
            "restricted volume type",
            "restricted volume types",
            types.len()
        ),
        join_quote(types)
    )
}
