//! The field catalogue: every field a rule may name, with its type and flags.
//!
//! The catalogue is data (`fields/*.tsv`, derived from the upstream field
//! tables of libsinsp and of the Falco plugins), so a field the upstream rules
//! use is known even when no event source in Palisade can fill it yet: the
//! rules compile, and only their evaluation waits for the source.

use std::collections::HashMap;
use std::fmt;

/// The value type of a field, as libsinsp names it (`CHARBUF`, `UINT64`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// A string (`CHARBUF`, `FSPATH`, `FSRELPATH`).
    Str,
    /// A byte buffer (`BYTEBUF`).
    Bytes,
    /// A boolean.
    Bool,
    /// An unsigned integer (`UINT8`..`UINT64`, flags, modes, times, ports).
    Uint,
    /// A signed integer (`INT8`..`INT64`, fds, pids, errnos).
    Int,
    /// A floating point number.
    Double,
    /// An IPv4 or IPv6 address.
    IpAddr,
    /// An IP network (address and prefix length).
    IpNet,
    /// A type only known per event (`evt.rawarg`); compared as a string here.
    Dyn,
}

impl FieldType {
    /// Maps a libsinsp type name to its comparison class.
    pub fn from_sinsp(name: &str) -> Option<FieldType> {
        Some(match name {
            "CHARBUF" | "FSPATH" | "FSRELPATH" => FieldType::Str,
            "BYTEBUF" => FieldType::Bytes,
            "BOOL" => FieldType::Bool,
            "UINT8" | "UINT16" | "UINT32" | "UINT64" | "RELTIME" | "ABSTIME" | "PORT"
            | "FLAGS8" | "FLAGS16" | "FLAGS32" | "MODE" | "ENUMFLAGS8" | "ENUMFLAGS16"
            | "ENUMFLAGS32" | "SYSCALLID" | "SIGTYPE" | "UID" | "GID" | "L4PROTO" => {
                FieldType::Uint
            }
            "INT8" | "INT16" | "INT32" | "INT64" | "ERRNO" | "FD" | "PID" => FieldType::Int,
            "DOUBLE" => FieldType::Double,
            "IPADDR" | "IPV4ADDR" | "IPV6ADDR" => FieldType::IpAddr,
            "IPNET" | "IPV4NET" | "IPV6NET" => FieldType::IpNet,
            "DYN" => FieldType::Dyn,
            _ => return None,
        })
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldType::Str => "string",
            FieldType::Bytes => "bytes",
            FieldType::Bool => "bool",
            FieldType::Uint => "unsigned integer",
            FieldType::Int => "integer",
            FieldType::Double => "double",
            FieldType::IpAddr => "ip address",
            FieldType::IpNet => "ip network",
            FieldType::Dyn => "dynamic",
        })
    }
}

/// Properties of a field, as the upstream `EPF_*` flags give them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FieldFlags {
    /// The field yields a list of values.
    pub list: bool,
    /// The field takes an argument (`f[arg]`), optional.
    pub arg_allowed: bool,
    /// The field requires an argument.
    pub arg_required: bool,
    /// The argument may be a numeric index.
    pub arg_index: bool,
    /// The argument may be a string key.
    pub arg_key: bool,
    /// The field cannot be the right-hand side of a comparison.
    pub no_rhs: bool,
    /// Transformers (`tolower(...)`) cannot be applied to the field.
    pub no_transformer: bool,
    /// The field can be used in conditions but not in outputs.
    pub filter_only: bool,
    /// The field is for tables only (not in conditions).
    pub table_only: bool,
    /// The field is deprecated upstream.
    pub deprecated: bool,
}

impl FieldFlags {
    fn parse(text: &str) -> FieldFlags {
        let mut flags = FieldFlags::default();
        for flag in text.split(',').map(str::trim) {
            match flag {
                "list" => flags.list = true,
                "arg_allowed" => flags.arg_allowed = true,
                "arg_required" => flags.arg_required = true,
                "arg_index" => flags.arg_index = true,
                "arg_key" => flags.arg_key = true,
                "no_rhs" => flags.no_rhs = true,
                "no_transformer" => flags.no_transformer = true,
                "filter_only" => flags.filter_only = true,
                "table_only" => flags.table_only = true,
                "deprecated" => flags.deprecated = true,
                _ => {}
            }
        }
        flags
    }

    /// Whether `f[arg]` is accepted at all.
    pub fn takes_arg(&self) -> bool {
        self.arg_allowed || self.arg_required
    }
}

/// One field of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldInfo {
    /// Full name, e.g. `ka.user.name`.
    pub name: String,
    /// Comparison class of the value.
    pub ty: FieldType,
    /// The upstream type name (`CHARBUF`, `UINT64`, ...), for listings.
    pub type_name: String,
    /// Flags.
    pub flags: FieldFlags,
    /// Where the field comes from (`syscall`, `container`, `generic`, `k8s_audit`, `json`).
    pub scope: String,
    /// One-line description.
    pub description: String,
}

/// An ordered set of fields with lookup by name.
#[derive(Debug, Clone, Default)]
pub struct FieldCatalogue {
    fields: Vec<FieldInfo>,
    by_name: HashMap<String, usize>,
}

/// The syscall source's catalogue (libsinsp, container plugin, generic `evt.*`).
pub const SYSCALL_FIELDS_TSV: &str = include_str!("../fields/syscall.tsv");
/// The k8s_audit source's catalogue (k8saudit and json plugins).
pub const K8SAUDIT_FIELDS_TSV: &str = include_str!("../fields/k8saudit.tsv");

impl FieldCatalogue {
    /// Parses the tab-separated catalogue format of `fields/*.tsv`:
    /// `scope, name, type, flags, description`; `#` starts a comment line.
    /// Malformed lines are skipped (the data ships with the binary and is
    /// checked by tests), so parsing never fails.
    pub fn parse_tsv(text: &str) -> FieldCatalogue {
        let mut catalogue = FieldCatalogue::default();
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut cols = line.split('\t');
            let (Some(scope), Some(name), Some(ty), Some(flags)) =
                (cols.next(), cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            let Some(class) = FieldType::from_sinsp(ty) else {
                continue;
            };
            catalogue.push(FieldInfo {
                name: name.to_string(),
                ty: class,
                type_name: ty.to_string(),
                flags: FieldFlags::parse(flags),
                scope: scope.to_string(),
                description: cols.next().unwrap_or("").to_string(),
            });
        }
        catalogue
    }

    /// Adds a field; a second field of the same name is ignored.
    pub fn push(&mut self, info: FieldInfo) {
        if self.by_name.contains_key(&info.name) {
            return;
        }
        self.by_name.insert(info.name.clone(), self.fields.len());
        self.fields.push(info);
    }

    /// Adds every field of `other` not already present.
    pub fn extend(&mut self, other: &FieldCatalogue) {
        for f in &other.fields {
            self.push(f.clone());
        }
    }

    /// The id (position) and description of a field by exact name.
    pub fn get(&self, name: &str) -> Option<(u32, &FieldInfo)> {
        let index = *self.by_name.get(name)?;
        Some((index as u32, &self.fields[index]))
    }

    /// The field with id `id`.
    pub fn by_id(&self, id: u32) -> Option<&FieldInfo> {
        self.fields.get(id as usize)
    }

    /// Every field, in catalogue order.
    pub fn iter(&self) -> impl Iterator<Item = &FieldInfo> {
        self.fields.iter()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the catalogue is empty.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalogues_parse_completely() {
        for text in [SYSCALL_FIELDS_TSV, K8SAUDIT_FIELDS_TSV] {
            let data_lines = text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .count();
            let catalogue = FieldCatalogue::parse_tsv(text);
            assert_eq!(catalogue.len(), data_lines, "every line has a known type");
        }
    }

    #[test]
    fn flags_and_types() {
        let c = FieldCatalogue::parse_tsv(K8SAUDIT_FIELDS_TSV);
        let (_, image) = c.get("ka.req.pod.containers.image").unwrap();
        assert!(image.flags.list && image.flags.arg_index && !image.flags.arg_required);
        let (_, param) = c.get("ka.uri.param").unwrap();
        assert!(param.flags.arg_required && param.flags.arg_key && !param.flags.list);
        let s = FieldCatalogue::parse_tsv(SYSCALL_FIELDS_TSV);
        assert_eq!(s.get("fd.net").unwrap().1.ty, FieldType::IpNet);
        assert_eq!(s.get("proc.pid").unwrap().1.ty, FieldType::Int);
        assert!(s.get("fd.net.ip").is_none());
    }
}
