//! Field types of the parts of an object that analyzers read, checked as the
//! API server's decoder would check them.
//!
//! A wrong type (`privileged: "true"`, `runAsUser: root`) is an input error
//! naming the field, its line and column, and what was found: the API server
//! would reject the object, so guessing what the user meant would hide a bug.
//! Fields not described here are not checked.

use crate::diagnostic::{InputError, InputErrorKind};
use crate::node::{Node, Value, ValueKind};
use crate::object::Object;
use crate::workload::pod_template;

/// The expected type of a field.
#[derive(Debug)]
enum Ty {
    Bool,
    Int,
    Str,
    /// Kubernetes' IntOrString (ports, quantities).
    IntOrStr,
    List(&'static Ty),
    Obj(&'static [(&'static str, Ty)]),
    /// A mapping of strings to strings (labels, annotations, nodeSelector).
    StrMap,
}

const STR_LIST: Ty = Ty::List(&Ty::Str);

const SECCOMP: Ty = Ty::Obj(&[("type", Ty::Str), ("localhostProfile", Ty::Str)]);
const APPARMOR: Ty = Ty::Obj(&[("type", Ty::Str), ("localhostProfile", Ty::Str)]);
const SELINUX: Ty = Ty::Obj(&[
    ("user", Ty::Str),
    ("role", Ty::Str),
    ("type", Ty::Str),
    ("level", Ty::Str),
]);
const WINDOWS: Ty = Ty::Obj(&[
    ("hostProcess", Ty::Bool),
    ("runAsUserName", Ty::Str),
    ("gmsaCredentialSpecName", Ty::Str),
    ("gmsaCredentialSpec", Ty::Str),
]);

const CONTAINER_SECURITY_CONTEXT: Ty = Ty::Obj(&[
    ("privileged", Ty::Bool),
    ("allowPrivilegeEscalation", Ty::Bool),
    ("readOnlyRootFilesystem", Ty::Bool),
    ("runAsNonRoot", Ty::Bool),
    ("runAsUser", Ty::Int),
    ("runAsGroup", Ty::Int),
    ("procMount", Ty::Str),
    (
        "capabilities",
        Ty::Obj(&[("add", STR_LIST), ("drop", STR_LIST)]),
    ),
    ("seccompProfile", SECCOMP),
    ("seLinuxOptions", SELINUX),
    ("appArmorProfile", APPARMOR),
    ("windowsOptions", WINDOWS),
]);

const POD_SECURITY_CONTEXT: Ty = Ty::Obj(&[
    ("runAsNonRoot", Ty::Bool),
    ("runAsUser", Ty::Int),
    ("runAsGroup", Ty::Int),
    ("fsGroup", Ty::Int),
    ("supplementalGroups", Ty::List(&Ty::Int)),
    ("fsGroupChangePolicy", Ty::Str),
    ("supplementalGroupsPolicy", Ty::Str),
    ("seLinuxChangePolicy", Ty::Str),
    (
        "sysctls",
        Ty::List(&Ty::Obj(&[("name", Ty::Str), ("value", Ty::Str)])),
    ),
    ("seccompProfile", SECCOMP),
    ("seLinuxOptions", SELINUX),
    ("appArmorProfile", APPARMOR),
    ("windowsOptions", WINDOWS),
]);

const HANDLER_FIELDS: &[(&str, Ty)] = &[
    (
        "httpGet",
        Ty::Obj(&[
            ("host", Ty::Str),
            ("port", Ty::IntOrStr),
            ("path", Ty::Str),
            ("scheme", Ty::Str),
        ]),
    ),
    (
        "tcpSocket",
        Ty::Obj(&[("host", Ty::Str), ("port", Ty::IntOrStr)]),
    ),
    ("exec", Ty::Obj(&[("command", STR_LIST)])),
    ("grpc", Ty::Obj(&[("port", Ty::Int), ("service", Ty::Str)])),
    ("sleep", Ty::Obj(&[("seconds", Ty::Int)])),
];

const PROBE: Ty = Ty::Obj(HANDLER_FIELDS);
const RESOURCE_LIST: Ty = Ty::Obj(&[]);

const CONTAINER: Ty = Ty::Obj(&[
    ("name", Ty::Str),
    ("image", Ty::Str),
    ("imagePullPolicy", Ty::Str),
    ("command", STR_LIST),
    ("args", STR_LIST),
    ("workingDir", Ty::Str),
    (
        "ports",
        Ty::List(&Ty::Obj(&[
            ("name", Ty::Str),
            ("containerPort", Ty::Int),
            ("hostPort", Ty::Int),
            ("protocol", Ty::Str),
            ("hostIP", Ty::Str),
        ])),
    ),
    ("securityContext", CONTAINER_SECURITY_CONTEXT),
    ("livenessProbe", PROBE),
    ("readinessProbe", PROBE),
    ("startupProbe", PROBE),
    (
        "lifecycle",
        Ty::Obj(&[("postStart", PROBE), ("preStop", PROBE)]),
    ),
    (
        "resources",
        Ty::Obj(&[("limits", RESOURCE_LIST), ("requests", RESOURCE_LIST)]),
    ),
    ("stdin", Ty::Bool),
    ("tty", Ty::Bool),
]);

const VOLUME: Ty = Ty::Obj(&[
    ("name", Ty::Str),
    ("hostPath", Ty::Obj(&[("path", Ty::Str), ("type", Ty::Str)])),
]);

const POD_SPEC: Ty = Ty::Obj(&[
    ("hostNetwork", Ty::Bool),
    ("hostPID", Ty::Bool),
    ("hostIPC", Ty::Bool),
    ("hostUsers", Ty::Bool),
    ("shareProcessNamespace", Ty::Bool),
    ("automountServiceAccountToken", Ty::Bool),
    ("serviceAccountName", Ty::Str),
    ("serviceAccount", Ty::Str),
    ("runtimeClassName", Ty::Str),
    ("priorityClassName", Ty::Str),
    ("nodeName", Ty::Str),
    ("nodeSelector", Ty::StrMap),
    ("os", Ty::Obj(&[("name", Ty::Str)])),
    ("securityContext", POD_SECURITY_CONTEXT),
    ("containers", Ty::List(&CONTAINER)),
    ("initContainers", Ty::List(&CONTAINER)),
    ("ephemeralContainers", Ty::List(&CONTAINER)),
    ("volumes", Ty::List(&VOLUME)),
]);

const METADATA: Ty = Ty::Obj(&[
    ("name", Ty::Str),
    ("namespace", Ty::Str),
    ("generateName", Ty::Str),
    ("labels", Ty::StrMap),
    ("annotations", Ty::StrMap),
]);

/// Checks the types of the object's metadata and, for workloads, of its pod template.
pub fn check_types(object: &Object, errors: &mut Vec<InputError>) {
    if let Some(meta) = object.root.get("metadata") {
        check(object, meta, &METADATA, "metadata", errors);
    }
    let Some(template) = pod_template(object) else {
        return;
    };
    if template.is_template {
        if let Some(meta) = template.metadata {
            let holder = template.spec_path.strip_suffix(".spec").unwrap_or_default();
            check(
                object,
                meta,
                &METADATA,
                &format!("{holder}.metadata"),
                errors,
            );
        }
    }
    check(object, template.spec, &POD_SPEC, template.spec_path, errors);
}

fn check(object: &Object, node: &Node, ty: &Ty, path: &str, errors: &mut Vec<InputError>) {
    if node.is_null() {
        return;
    }
    let ok = match (ty, &node.value) {
        (Ty::Bool, Value::Bool(_)) => true,
        (Ty::Int, _) => node.as_i64().is_some(),
        (Ty::Str, Value::Str { .. }) => true,
        (Ty::IntOrStr, Value::Str { .. }) => true,
        (Ty::IntOrStr, _) => node.as_i64().is_some(),
        (Ty::List(item), Value::Seq(items)) => {
            for (i, child) in items.iter().enumerate() {
                check(object, child, item, &format!("{path}[{i}]"), errors);
            }
            true
        }
        (Ty::Obj(fields), Value::Map(entries)) => {
            for (key, value) in entries {
                let Some(name) = key.as_str() else { continue };
                if let Some((_, field_ty)) = fields.iter().find(|(f, _)| *f == name) {
                    check(object, value, field_ty, &format!("{path}.{name}"), errors);
                }
            }
            true
        }
        (Ty::StrMap, Value::Map(entries)) => {
            for (key, value) in entries {
                if !value.is_null() && value.as_str().is_none() {
                    let name = key.key_text();
                    type_error(object, value, "string", &format!("{path}.{name}"), errors);
                }
            }
            true
        }
        _ => false,
    };
    if !ok {
        type_error(object, node, expected(ty), path, errors);
    }
}

fn expected(ty: &Ty) -> &'static str {
    match ty {
        Ty::Bool => "boolean",
        Ty::Int => "integer",
        Ty::Str => "string",
        Ty::IntOrStr => "integer or string",
        Ty::List(_) => "list",
        Ty::Obj(_) | Ty::StrMap => "object",
    }
}

fn type_error(
    object: &Object,
    node: &Node,
    expected: &str,
    path: &str,
    errors: &mut Vec<InputError>,
) {
    let found = match node.kind() {
        ValueKind::Str => format!("string {:?}", node.display_value()),
        ValueKind::Seq | ValueKind::Map => node.kind().to_string(),
        kind => format!("{kind} {}", node.display_value()),
    };
    let hint = match (expected, &node.value) {
        ("boolean", Value::Str { text, .. })
            if matches!(
                text.as_str(),
                "true" | "false" | "yes" | "no" | "on" | "off"
            ) =>
        {
            " (remove the quotes to make it a boolean)"
        }
        ("integer", Value::Str { text, .. }) if text.parse::<i64>().is_ok() => {
            " (remove the quotes to make it a number)"
        }
        _ => "",
    };
    errors.push(InputError::new(
        InputErrorKind::Type,
        &object.source,
        node.span,
        format!(
            "{} {}: {path}: expected {expected}, found {found}{hint}",
            object.id.kind, object.id.name
        ),
    ));
}
