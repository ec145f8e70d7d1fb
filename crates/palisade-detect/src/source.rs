//! Event sources: the fields they define and the events they produce.
//!
//! A [`FieldSource`] describes one event source (`syscall`, `k8s_audit`): its
//! field catalogue, and how a field name written in a rule resolves to a
//! [`BoundField`] (an extractor id plus a parsed argument). Rules are compiled
//! against the source they name, once; an [`Event`] of that source then
//! answers extraction requests by id, with no name lookup per event. A new
//! source (the eBPF syscall source) plugs in by implementing both traits.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use crate::fields::{FieldCatalogue, FieldInfo, FieldType};

/// A field argument as written (`[2]`, `[/stage]`, `.flags`), parsed for the
/// forms the field accepts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FieldArg {
    /// The argument text, if any.
    pub text: Option<String>,
    /// The argument as an index, when it is a number and the field takes indexes.
    pub index: Option<u64>,
}

/// A field resolved at compile time: what an event needs to extract it.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundField {
    /// The extractor id (the field's position in its source's catalogue).
    pub id: u32,
    /// The argument.
    pub arg: FieldArg,
    /// Value type.
    pub ty: FieldType,
    /// Whether the field yields a list.
    pub list: bool,
    /// The field as written (`ka.req.pod.containers.image[0]`), for outputs.
    pub display: Arc<str>,
}

/// One extracted value. Strings borrow from the event when they can.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// A string.
    Str(Cow<'a, str>),
    /// A byte buffer.
    Bytes(Cow<'a, [u8]>),
    /// An unsigned number.
    Uint(u64),
    /// A signed number.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A floating point number.
    Double(f64),
    /// An IP address.
    Ip(IpAddr),
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Bytes(b) => f.write_str(&String::from_utf8_lossy(b)),
            Value::Uint(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Bool(v) => f.write_str(if *v { "true" } else { "false" }),
            Value::Double(v) => write!(f, "{v:.1}"),
            Value::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

impl Value<'_> {
    /// The value as JSON, as Falco's JSON output renders field values.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::Bytes(b) => serde_json::Value::String(String::from_utf8_lossy(b).into_owned()),
            Value::Uint(v) => serde_json::Value::from(*v),
            Value::Int(v) => serde_json::Value::from(*v),
            Value::Bool(v) => serde_json::Value::Bool(*v),
            Value::Double(v) => serde_json::Value::from(*v),
            Value::Ip(ip) => serde_json::Value::String(ip.to_string()),
        }
    }
}

/// An event source's description: its name and fields.
pub trait FieldSource: Send + Sync {
    /// The source name rules use in `source:` (`syscall`, `k8s_audit`).
    fn name(&self) -> &str;

    /// Every field of the source.
    fn catalogue(&self) -> &FieldCatalogue;

    /// Resolves `name[arg]` to a bound field, or says why it cannot.
    fn resolve(&self, name: &str, arg: Option<&str>) -> Result<BoundField, String> {
        resolve_in(self.catalogue(), name, arg)
    }

    /// The field whose value classifies events for rule indexing (the
    /// syscall source's `evt.type`); `None` when events are not typed.
    fn event_type_field(&self) -> Option<&str> {
        None
    }
}

/// An event: extracts bound fields of its source.
pub trait Event {
    /// The name of the source the event comes from.
    fn source(&self) -> &str;

    /// Event time in nanoseconds since the Unix epoch.
    fn timestamp_ns(&self) -> u64;

    /// The event's type for rule indexing, when its source is typed.
    fn event_type(&self) -> Option<&str> {
        None
    }

    /// Appends the values of `field` to `out`; returns false when the field
    /// has no value in this event (the comparison is then false).
    fn extract<'a>(&'a self, field: &BoundField, out: &mut Vec<Value<'a>>) -> bool;
}

/// Falco's field name resolution over a catalogue: an exact name, with an
/// argument only where the field takes one and always where it needs one.
pub fn resolve_in(
    catalogue: &FieldCatalogue,
    name: &str,
    arg: Option<&str>,
) -> Result<BoundField, String> {
    let display = match arg {
        Some(a) => format!("{name}[{a}]"),
        None => name.to_string(),
    };
    if let Some((id, info)) = catalogue.get(name) {
        return bind(id, info, arg, display);
    }
    // The label fields also take their key after a dot, as Falco allows:
    // `k8s.pod.label.app` is `k8s.pod.label[app]`.
    if arg.is_none() {
        for (base, key) in dotted_label_splits(name) {
            if let Some((id, info)) = catalogue.get(base) {
                if info.flags.arg_key {
                    return bind(id, info, Some(key), display);
                }
            }
        }
    }
    Err(format!("nonexistent field '{display}'"))
}

/// `(field, key)` splits of a dotted label reference such as
/// `k8s.pod.label.app`: the field ends in `.label`, the key is the rest.
fn dotted_label_splits(name: &str) -> impl Iterator<Item = (&str, &str)> {
    name.match_indices(".label.").filter_map(move |(at, _)| {
        let base = &name[..at + ".label".len()];
        let key = &name[at + ".label.".len()..];
        (!key.is_empty()).then_some((base, key))
    })
}

/// Binds field `info` (id `id`) with an optional argument.
pub fn bind(
    id: u32,
    info: &FieldInfo,
    arg: Option<&str>,
    display: String,
) -> Result<BoundField, String> {
    let flags = info.flags;
    let mut bound_arg = FieldArg::default();
    match arg {
        Some(a) => {
            if !flags.takes_arg() {
                return Err(format!(
                    "field '{}' does not allow nor require an argument but one is provided: {a}",
                    info.name
                ));
            }
            let index = a.parse::<u64>().ok();
            if flags.arg_index && !flags.arg_key && index.is_none() {
                return Err(format!(
                    "field '{}' needs a numeric index argument, found '{a}'",
                    info.name
                ));
            }
            bound_arg = FieldArg {
                text: Some(a.to_string()),
                index: if flags.arg_index || !flags.arg_key {
                    index
                } else {
                    None
                },
            };
        }
        None if flags.arg_required => {
            return Err(format!(
                "field '{}' requires an argument but none provided",
                info.name
            ));
        }
        None => {}
    }
    if flags.table_only {
        return Err(format!("field '{}' can only be used in tables", info.name));
    }
    Ok(BoundField {
        id,
        arg: bound_arg,
        ty: info.ty,
        list: flags.list,
        display: Arc::from(display),
    })
}

/// The syscall source: libsinsp's fields, the container plugin's, and the
/// generic `evt.*` ones. It defines the fields so the upstream syscall rules
/// compile; events come with the eBPF source (a later issue).
#[derive(Debug, Clone)]
pub struct SyscallSource {
    catalogue: FieldCatalogue,
}

impl Default for SyscallSource {
    fn default() -> Self {
        SyscallSource {
            catalogue: FieldCatalogue::parse_tsv(crate::fields::SYSCALL_FIELDS_TSV),
        }
    }
}

impl FieldSource for SyscallSource {
    fn name(&self) -> &str {
        "syscall"
    }

    fn catalogue(&self) -> &FieldCatalogue {
        &self.catalogue
    }

    fn resolve(&self, name: &str, arg: Option<&str>) -> Result<BoundField, String> {
        // libsinsp also accepts the argument of a few `evt.*` fields after a
        // dot (`evt.arg.flags`, `evt.rawarg.res`, `evt.type.is.open`).
        if arg.is_none() {
            for base in ["evt.arg", "evt.rawarg", "evt.type.is", "evt.around"] {
                if let Some(rest) = name.strip_prefix(base).and_then(|r| r.strip_prefix('.')) {
                    if let Some((id, info)) = self.catalogue.get(base) {
                        return bind(id, info, Some(rest), name.to_string());
                    }
                }
            }
            for (sub, base) in [
                ("evt.abspath.src", "evt.abspath"),
                ("evt.abspath.dst", "evt.abspath"),
            ] {
                if name == sub {
                    if let Some((id, info)) = self.catalogue.get(base) {
                        let arg = sub.rsplit('.').next();
                        return bind(id, info, arg, name.to_string());
                    }
                }
            }
        }
        resolve_in(&self.catalogue, name, arg)
    }

    fn event_type_field(&self) -> Option<&str> {
        Some("evt.type")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syscall_resolution() {
        let s = SyscallSource::default();
        assert!(s.resolve("proc.name", None).is_ok());
        assert!(s.resolve("proc.aname", Some("2")).is_ok());
        assert!(s.resolve("proc.aname", None).is_ok());
        let f = s.resolve("evt.arg.flags", None).unwrap();
        assert_eq!(f.arg.text.as_deref(), Some("flags"));
        assert_eq!(&*f.display, "evt.arg.flags");
        let e = s.resolve("fd.net.ip", None).unwrap_err();
        assert_eq!(e, "nonexistent field 'fd.net.ip'");
        assert!(s.resolve("proc.name", Some("1")).is_err());
        assert!(s
            .resolve("evt.arg", None)
            .unwrap_err()
            .contains("requires an argument"));
    }

    #[test]
    fn label_keys_after_a_dot() {
        let s = SyscallSource::default();
        let bracket = s.resolve("k8s.pod.label", Some("app")).unwrap();
        let dotted = s.resolve("k8s.pod.label.app", None).unwrap();
        assert_eq!(
            (dotted.id, &dotted.arg.text),
            (bracket.id, &bracket.arg.text)
        );
        assert_eq!(&*dotted.display, "k8s.pod.label.app");
        let f = s
            .resolve("container.label.io.kubernetes.pod.name", None)
            .unwrap();
        assert_eq!(f.arg.text.as_deref(), Some("io.kubernetes.pod.name"));
        // Only label fields take a dotted key; a trailing dot names nothing.
        assert!(s.resolve("proc.name.x", None).is_err());
        assert!(s.resolve("k8s.pod.labels.x", None).is_err());
        assert!(s.resolve("k8s.pod.label.", None).is_err());
    }
}
