#![doc = include_str!("docs/seLinuxOptions.md")]

use palisade_model::{Node, PodTemplate, RuleMeta, Severity};

use crate::check::*;
use crate::policy::Level;

pub(crate) const DOCS: &str = include_str!("docs/seLinuxOptions.md");

pub(crate) const RULE: RuleMeta = RuleMeta {
    id: "pss/seLinuxOptions",
    title: "SELinux options must not set a custom user, role or an unexpected type",
    severity: Severity::High,
    category: "pod-security",
    docs: DOCS,
    help_uri: HELP_URI,
    controls: &[palisade_model::Control::nsa("pod-security")],
};

pub(crate) const CHECK: Check = Check {
    id: "seLinuxOptions",
    level: Level::Baseline,
    rule: &RULE,
    versions: &[
        version(0, se_linux_options_1_0),
        version(31, se_linux_options_1_31),
    ],
};

const REASON: &str = "seLinuxOptions";

/// `""` means "the runtime's default type".
const ALLOWED_TYPES_1_0: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t"];
/// 1.31 also allows the type used by container engines running in containers.
const ALLOWED_TYPES_1_31: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn se_linux_options_1_0<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    se_linux_options(pod, ALLOWED_TYPES_1_0)
}

fn se_linux_options_1_31<'a>(pod: &PodTemplate<'a>) -> Outcome<'a> {
    se_linux_options(pod, ALLOWED_TYPES_1_31)
}

/// What is wrong with one `seLinuxOptions` object, shared across setters as upstream aggregates it.
#[derive(Default)]
struct Problems<'s> {
    types: Vec<&'s str>,
    user: bool,
    role: bool,
}

impl Problems<'_> {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.types.is_empty() {
            let types = sorted_set(self.types.iter());
            parts.push(format!(
                "{} {}",
                pluralize("type", "types", types.len()),
                join_quote(&types)
            ));
        }
        if self.user {
            parts.push("user may not be set".to_string());
        }
        if self.role {
            parts.push("role may not be set".to_string());
        }
        parts.join("; ")
    }
}

/// Records the forbidden fields of one `seLinuxOptions`; false if any was found.
fn inspect<'a>(
    options: &'a Node,
    allowed_types: &[&str],
    setter: &str,
    field_prefix: &str,
    all: &mut Problems<'a>,
    violations: &mut Vec<Violation<'a>>,
) -> bool {
    let mut valid = true;
    let mut report = |node: &'a Node, field: &str, problem: Problems<'_>| {
        violations.push(Violation {
            node,
            field: format!("{field_prefix}.{field}"),
            message: reason_detail(REASON, &detail(setter, &problem.describe())),
            remediation: "Remove seLinuxOptions.user and seLinuxOptions.role, and use one of the container_* types or none.",
        });
    };
    let (type_node, se_type) = string(Some(options), "type").unwrap_or((options, ""));
    if !allowed_types.contains(&se_type) {
        valid = false;
        all.types.push(se_type);
        report(
            type_node,
            "type",
            Problems {
                types: vec![se_type],
                ..Problems::default()
            },
        );
    }
    if let Some((node, _)) = string(Some(options), "user").filter(|(_, s)| !s.is_empty()) {
        valid = false;
        all.user = true;
        report(
            node,
            "user",
            Problems {
                user: true,
                ..Problems::default()
            },
        );
    }
    if let Some((node, _)) = string(Some(options), "role").filter(|(_, s)| !s.is_empty()) {
        valid = false;
        all.role = true;
        report(
            node,
            "role",
            Problems {
                role: true,
                ..Problems::default()
            },
        );
    }
    valid
}

fn se_linux_options<'a>(pod: &PodTemplate<'a>, allowed_types: &[&str]) -> Outcome<'a> {
    let mut problems = Problems::default();
    let mut violations = Vec::new();

    let mut pod_bad = false;
    if let Some(options) = object(pod_context(pod), "seLinuxOptions") {
        let prefix = pod.field_path("securityContext.seLinuxOptions");
        pod_bad = !inspect(
            options,
            allowed_types,
            "pod",
            &prefix,
            &mut problems,
            &mut violations,
        );
    }
    let mut names = Vec::new();
    for container in pod.containers() {
        if let Some(options) = object(container_context(&container), "seLinuxOptions") {
            let setter = containers_phrase(&[container.name()]);
            let prefix = container_field(pod, &container, "securityContext.seLinuxOptions");
            if !inspect(
                options,
                allowed_types,
                &setter,
                &prefix,
                &mut problems,
                &mut violations,
            ) {
                names.push(container.name());
            }
        }
    }
    if !pod_bad && names.is_empty() {
        return Outcome::allowed();
    }
    Outcome::forbidden(
        REASON,
        detail(&setters_phrase(pod_bad, &names), &problems.describe()),
        violations,
    )
}

fn detail(setters: &str, problems: &str) -> String {
    format!("{setters} set forbidden securityContext.seLinuxOptions: {problems}")
}
