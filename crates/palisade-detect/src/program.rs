//! Compiled checks and their evaluation.
//!
//! A condition compiles to a tree of `and`/`or`/`not` over check ids; each
//! check holds its resolved field, its transformers and its constants parsed
//! into the field's type (sets for `in`, compiled regexes and globs). Checks
//! and field extractions are shared across rules (deduplicated by their text),
//! and evaluation caches both per event, so the `kevt` macro that 45 audit
//! rules start with is computed once per event.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

use ahash::AHashSet;
use base64::Engine as _;

use crate::condition::{Operand, TransformerArg};
use crate::fields::FieldType;
use crate::source::{BoundField, Event, FieldSource, Value};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `=`, `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `contains`.
    Contains,
    /// `icontains`.
    IContains,
    /// `bcontains`.
    BContains,
    /// `startswith`.
    StartsWith,
    /// `bstartswith`.
    BStartsWith,
    /// `endswith`.
    EndsWith,
    /// `glob`.
    Glob,
    /// `iglob`.
    IGlob,
    /// `in`.
    In,
    /// `intersects`.
    Intersects,
    /// `pmatch`.
    PMatch,
    /// `exists`.
    Exists,
    /// `regex`.
    Regex,
}

impl Op {
    /// Parses an operator name.
    pub fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "=" | "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "contains" => Op::Contains,
            "icontains" => Op::IContains,
            "bcontains" => Op::BContains,
            "startswith" => Op::StartsWith,
            "bstartswith" => Op::BStartsWith,
            "endswith" => Op::EndsWith,
            "glob" => Op::Glob,
            "iglob" => Op::IGlob,
            "in" => Op::In,
            "intersects" => Op::Intersects,
            "pmatch" => Op::PMatch,
            "exists" => Op::Exists,
            "regex" => Op::Regex,
            _ => return None,
        })
    }

    /// The operator as written.
    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "contains",
            Op::IContains => "icontains",
            Op::BContains => "bcontains",
            Op::StartsWith => "startswith",
            Op::BStartsWith => "bstartswith",
            Op::EndsWith => "endswith",
            Op::Glob => "glob",
            Op::IGlob => "iglob",
            Op::In => "in",
            Op::Intersects => "intersects",
            Op::PMatch => "pmatch",
            Op::Exists => "exists",
            Op::Regex => "regex",
        }
    }

    fn is_set_op(self) -> bool {
        matches!(self, Op::In | Op::Intersects | Op::PMatch)
    }
}

/// `oneof`, `anyof`, `allof` after a string operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    /// Exactly one right-hand value matches.
    OneOf,
    /// At least one matches.
    AnyOf,
    /// All match.
    AllOf,
}

/// Whether `op` applies to a field of type `ty` (list or not), as libsinsp's
/// `flt_is_comparable`; the error says why not.
pub fn is_comparable(
    op: Op,
    modifier: Option<Modifier>,
    ty: FieldType,
    list: bool,
) -> Result<(), String> {
    if op == Op::Exists {
        return Ok(());
    }
    let name = op.name();
    if list {
        return match ty {
            FieldType::Str
            | FieldType::Uint
            | FieldType::Bool
            | FieldType::IpAddr
            | FieldType::IpNet => {
                if matches!(op, Op::In | Op::Intersects) {
                    Ok(())
                } else {
                    Err(format!("'{name}' operator not supported list filters"))
                }
            }
            _ => Err(format!("list filters are not supported for type '{ty}'")),
        };
    }
    let ok = match ty {
        FieldType::Uint | FieldType::Int | FieldType::Double => matches!(
            op,
            Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::In | Op::Intersects
        ),
        FieldType::Bool => matches!(op, Op::Eq | Op::Ne | Op::In | Op::Intersects),
        FieldType::IpAddr | FieldType::IpNet => {
            matches!(op, Op::Eq | Op::Ne | Op::In | Op::Intersects)
        }
        FieldType::Str | FieldType::Dyn => !matches!(op, Op::BContains | Op::BStartsWith),
        FieldType::Bytes => matches!(
            op,
            Op::Eq
                | Op::Ne
                | Op::Contains
                | Op::In
                | Op::StartsWith
                | Op::EndsWith
                | Op::Intersects
                | Op::BContains
                | Op::BStartsWith
        ),
    };
    if !ok {
        let what = match ty {
            FieldType::Uint | FieldType::Int | FieldType::Double | FieldType::Bool => "numeric",
            FieldType::IpAddr | FieldType::IpNet => "ip address and network",
            FieldType::Bytes => "buffer",
            _ => "string",
        };
        let suffix = if modifier.is_some() && matches!(ty, FieldType::IpAddr | FieldType::IpNet) {
            " with modifier"
        } else {
            ""
        };
        return Err(format!(
            "'{name}' operator{suffix} not supported for {what} filters"
        ));
    }
    Ok(())
}

/// A value transformation applied after extraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transform {
    /// ASCII lower case.
    ToLower,
    /// ASCII upper case.
    ToUpper,
    /// Base64 decoding (padding optional); undecodable values are missing.
    B64,
    /// The last path component.
    Basename,
    /// String or buffer length.
    Len,
    /// Number of list items.
    Count,
}

/// A compiled operand: a field through transformers, with its cache slot.
#[derive(Debug, Clone)]
pub struct CompiledOperand {
    /// Per-event extraction cache slot (shared by identical operands).
    pub slot: u32,
    /// The field.
    pub field: BoundField,
    /// Transformers, innermost first.
    pub transforms: Vec<Transform>,
    /// Type after transformers.
    pub ty: FieldType,
    /// Whether it yields a list after transformers.
    pub list: bool,
    /// Whether the field may be used as a right-hand side.
    pub no_rhs: bool,
    /// The operand as written, for outputs and cache keys.
    pub display: String,
}

/// A parsed constant of a non-string type.
#[derive(Debug, Clone, PartialEq)]
enum Const {
    Uint(u64),
    Int(i64),
    Bool(bool),
    Double(f64),
    Ip(IpAddr),
    Net(IpAddr, u8),
    Bytes(Vec<u8>),
}

/// Right-hand constants, prepared for the operator.
#[derive(Debug, Default)]
struct Consts {
    strs: Vec<String>,
    set: AHashSet<String>,
    lower: Vec<String>,
    regexes: Vec<regex::Regex>,
    globs: Vec<Glob>,
    paths: Vec<Vec<String>>,
    typed: Vec<Const>,
}

#[derive(Debug)]
enum Rhs {
    None,
    Consts(Consts),
    Field(CompiledOperand),
}

/// One compiled check.
#[derive(Debug)]
pub struct Check {
    lhs: CompiledOperand,
    op: Op,
    modifier: Option<Modifier>,
    rhs: Rhs,
}

/// A boolean tree over checks.
#[derive(Debug, Clone)]
pub enum Node {
    /// All hold.
    And(Box<[Node]>),
    /// Any holds.
    Or(Box<[Node]>),
    /// Negation.
    Not(Box<Node>),
    /// Check by id.
    Check(u32),
}

/// A node of a condition laid out in pre-order in one array (`Program::code`),
/// so evaluating the rules walks contiguous memory instead of chasing boxes.
/// `end` is the index just past the node's subtree.
#[derive(Debug, Clone, Copy)]
enum Flat {
    And { end: u32 },
    Or { end: u32 },
    Not { end: u32 },
    Check(u32),
}

/// Every check and operand slot of an engine, shared by its rules.
#[derive(Debug, Default)]
pub struct Program {
    pub(crate) checks: Vec<Check>,
    code: Vec<Flat>,
    check_ids: HashMap<String, u32>,
    pub(crate) slots: u32,
    slot_ids: HashMap<String, u32>,
}

/// A compile error at a byte offset of the condition.
#[derive(Debug, Clone)]
pub struct CheckError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub pos: usize,
    /// Whether it is an unknown field (skippable with `skip-if-unknown-filter`).
    pub unknown_field: bool,
}

impl Program {
    /// Compiles an operand against `source`.
    pub fn operand(
        &mut self,
        source: &dyn FieldSource,
        op: &Operand,
        allow_val: bool,
    ) -> Result<CompiledOperand, CheckError> {
        let err = |message: String, pos: usize, unknown_field: bool| CheckError {
            message,
            pos,
            unknown_field,
        };
        match op {
            Operand::Field { name, arg, pos } => {
                let field = source.resolve(name, arg.as_deref()).map_err(|m| {
                    let unknown = m.starts_with("nonexistent field");
                    err(m, *pos, unknown)
                })?;
                let info = source.catalogue().by_id(field.id);
                let no_rhs = info.is_some_and(|i| i.flags.no_rhs);
                let display = field.display.to_string();
                Ok(CompiledOperand {
                    slot: self.slot(&display),
                    ty: field.ty,
                    list: field.list,
                    field,
                    transforms: Vec::new(),
                    no_rhs,
                    display,
                })
            }
            Operand::Transformer {
                name,
                args,
                arg,
                pos,
            } => {
                if arg.is_some() {
                    return Err(err(
                        format!("an argument after transformer '{name}' is not supported"),
                        *pos,
                        false,
                    ));
                }
                let transform = match name.as_str() {
                    "tolower" => Some(Transform::ToLower),
                    "toupper" => Some(Transform::ToUpper),
                    "b64" => Some(Transform::B64),
                    "basename" => Some(Transform::Basename),
                    "len" => Some(Transform::Len),
                    "val" if allow_val => None,
                    "val" => {
                        return Err(err(
                            "'val' can only be used on the right-hand side of a comparison".into(),
                            *pos,
                            false,
                        ))
                    }
                    other => {
                        return Err(err(
                            format!("transformer '{other}' is not supported yet"),
                            *pos,
                            false,
                        ))
                    }
                };
                let [TransformerArg::Operand(inner)] = args.as_slice() else {
                    return Err(err(
                        format!("transformer '{name}' takes exactly one field or transformer"),
                        *pos,
                        false,
                    ));
                };
                let mut c = self.operand(source, inner, false)?;
                let Some(t) = transform else {
                    return Ok(c);
                };
                if let Some(info) = source.catalogue().by_id(c.field.id) {
                    if info.flags.no_transformer {
                        return Err(err(
                            format!("field '{}' does not support transformers", info.name),
                            *pos,
                            false,
                        ));
                    }
                }
                let (ty, list) = (c.ty, c.list);
                let new = match t {
                    Transform::ToLower | Transform::ToUpper | Transform::Basename => {
                        (ty == FieldType::Str).then_some((ty, list))
                    }
                    Transform::B64 => {
                        matches!(ty, FieldType::Str | FieldType::Bytes).then_some((ty, list))
                    }
                    Transform::Len | Transform::Count => {
                        if list || matches!(ty, FieldType::Str | FieldType::Bytes) {
                            Some((FieldType::Uint, false))
                        } else {
                            None
                        }
                    }
                };
                let t = if t == Transform::Len && list {
                    Transform::Count
                } else {
                    t
                };
                let Some((ty, list)) = new else {
                    return Err(err(
                        format!(
                            "can't add field transformer: type '{}' is not supported by '{name}' transformer applied on {}field '{}'",
                            c.ty,
                            if c.list { "list " } else { "" },
                            c.field.display
                        ),
                        *pos,
                        false,
                    ));
                };
                c.transforms.push(t);
                c.ty = ty;
                c.list = list;
                c.display = format!("{name}({})", c.display);
                c.slot = self.slot(&c.display);
                Ok(c)
            }
        }
    }

    fn slot(&mut self, key: &str) -> u32 {
        if let Some(&s) = self.slot_ids.get(key) {
            return s;
        }
        let s = self.slots;
        self.slots += 1;
        self.slot_ids.insert(key.to_string(), s);
        s
    }

    /// Compiles `lhs op rhs` into a check id (shared with identical checks).
    pub fn check(
        &mut self,
        lhs: CompiledOperand,
        op_text: &str,
        rhs_field: Option<CompiledOperand>,
        values: Option<&[String]>,
        pos: usize,
        rhs_pos: usize,
    ) -> Result<u32, CheckError> {
        let err = |message: String, at: usize| CheckError {
            message,
            pos: at,
            unknown_field: false,
        };
        let mut parts = op_text.split(' ');
        let base = parts.next().unwrap_or("");
        let modifier = match parts.next() {
            None => None,
            Some("oneof") => Some(Modifier::OneOf),
            Some("anyof") => Some(Modifier::AnyOf),
            Some("allof") => Some(Modifier::AllOf),
            Some(m) => {
                return Err(err(
                    format!("unrecognized filter comparison modifier '{m}'"),
                    pos,
                ))
            }
        };
        let op = Op::parse(base).ok_or_else(|| {
            err(
                format!("unrecognized filter comparison operator '{base}'"),
                pos,
            )
        })?;
        is_comparable(op, modifier, lhs.ty, lhs.list).map_err(|m| err(m, pos))?;
        let key = {
            let mut k = format!("{}\u{1}{}", lhs.display, op_text);
            if let Some(r) = &rhs_field {
                k.push_str("\u{1}field\u{1}");
                k.push_str(&r.display);
            }
            if let Some(vs) = values {
                for v in vs {
                    k.push('\u{1}');
                    k.push_str(v);
                }
            }
            k
        };
        if let Some(&id) = self.check_ids.get(&key) {
            return Ok(id);
        }
        let rhs = if op == Op::Exists {
            Rhs::None
        } else if let Some(r) = rhs_field {
            if matches!(op, Op::PMatch | Op::Regex) {
                return Err(err(
                    format!(
                        "operator '{}' doesn't support right-hand side fields",
                        op.name()
                    ),
                    rhs_pos,
                ));
            }
            if lhs.ty == FieldType::IpNet {
                return Err(err(
                    "field type 'IPNET' doesn't support right-hand side fields".into(),
                    rhs_pos,
                ));
            }
            if lhs.no_rhs && lhs.transforms.is_empty() {
                return Err(err(
                    format!(
                        "field '{}' doesn't support right-hand side fields",
                        lhs.display
                    ),
                    pos,
                ));
            }
            if r.no_rhs && r.transforms.is_empty() {
                return Err(err(
                    format!(
                        "field '{}' can't be used as a right-hand side field",
                        r.display
                    ),
                    rhs_pos,
                ));
            }
            if r.ty != lhs.ty || r.list != lhs.list {
                return Err(err(
                    format!(
                        "field '{}' has type '{}{}' while the right-hand side field '{}' has incompatible type '{}{}'",
                        lhs.display,
                        lhs.ty,
                        if lhs.list { " (list)" } else { "" },
                        r.display,
                        r.ty,
                        if r.list { " (list)" } else { "" }
                    ),
                    rhs_pos,
                ));
            }
            Rhs::Field(r)
        } else {
            let vs = values.unwrap_or(&[]);
            Rhs::Consts(build_consts(op, lhs.ty, vs).map_err(|m| err(m, rhs_pos))?)
        };
        let id = self.checks.len() as u32;
        self.checks.push(Check {
            lhs,
            op,
            modifier,
            rhs,
        });
        self.check_ids.insert(key, id);
        Ok(id)
    }

    /// When check `id` can only hold if its field has one of a set of string
    /// values (`f = v` or `f in (...)` on a string field, no transformer, no
    /// modifier), the field and those values; used to index rules by value.
    /// A missing value makes such a check false, as does a non-string value.
    pub(crate) fn value_guard(&self, id: u32) -> Option<(&CompiledOperand, &[String])> {
        let c = self.checks.get(id as usize)?;
        let Rhs::Consts(k) = &c.rhs else {
            return None;
        };
        let eligible = matches!(c.op, Op::Eq | Op::In)
            && c.modifier.is_none()
            && c.lhs.transforms.is_empty()
            && !c.lhs.list
            && c.lhs.ty == FieldType::Str;
        eligible.then_some((&c.lhs, k.strs.as_slice()))
    }

    /// The field of check `id`'s left side (for event-type indexing).
    pub(crate) fn check_lhs(&self, id: u32) -> Option<(&CompiledOperand, Op, Vec<String>)> {
        let c = self.checks.get(id as usize)?;
        let values = match &c.rhs {
            Rhs::Consts(k) => k.strs.clone(),
            _ => Vec::new(),
        };
        Some((&c.lhs, c.op, values))
    }
}

fn build_consts(op: Op, ty: FieldType, values: &[String]) -> Result<Consts, String> {
    let mut c = Consts::default();
    for v in values {
        if v.as_bytes().contains(&0) {
            return Err("filter error: filter value cannot contain a NUL byte (\\x00)".into());
        }
        c.strs.push(v.clone());
    }
    match ty {
        FieldType::Str | FieldType::Dyn => {
            for v in values {
                match op {
                    Op::Regex => {
                        let re = regex::Regex::new(&format!("^(?:{v})$"))
                            .map_err(|e| format!("invalid regex pattern: {e}"))?;
                        c.regexes.push(re);
                    }
                    Op::Glob => c.globs.push(Glob::new(v, false)),
                    Op::IGlob => c.globs.push(Glob::new(v, true)),
                    Op::PMatch => c.paths.push(path_components(v)),
                    Op::IContains => c.lower.push(v.to_ascii_lowercase()),
                    _ => {}
                }
                c.set.insert(v.clone());
            }
        }
        _ => {
            for v in values {
                c.typed.push(parse_const(op, ty, v)?);
            }
        }
    }
    Ok(c)
}

fn parse_const(op: Op, ty: FieldType, v: &str) -> Result<Const, String> {
    let parse_int = |v: &str| -> Option<i128> {
        let t = v.trim();
        if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            return i128::from_str_radix(h, 16).ok();
        }
        t.parse::<i128>().ok()
    };
    Ok(match ty {
        FieldType::Uint => {
            let n = parse_int(v)
                .or_else(|| service_port(v).map(i128::from))
                .ok_or_else(|| format!("filter error: could not parse '{v}' as a number"))?;
            Const::Uint(
                u64::try_from(n).map_err(|_| format!("filter error: '{v}' is out of range"))?,
            )
        }
        FieldType::Int => {
            let n = parse_int(v)
                .ok_or_else(|| format!("filter error: could not parse '{v}' as a number"))?;
            Const::Int(
                i64::try_from(n).map_err(|_| format!("filter error: '{v}' is out of range"))?,
            )
        }
        FieldType::Double => {
            let n = parse_int(v)
                .ok_or_else(|| format!("filter error: could not parse '{v}' as a number"))?;
            Const::Double(n as f64)
        }
        FieldType::Bool => match v {
            "true" => Const::Bool(true),
            "false" => Const::Bool(false),
            _ => return Err(format!("filter error: unrecognized boolean value {v}")),
        },
        FieldType::IpAddr => Const::Ip(
            v.parse()
                .map_err(|_| format!("unrecognized IP address {v}"))?,
        ),
        FieldType::IpNet => parse_net(v).ok_or_else(|| format!("unrecognized IP network {v}"))?,
        FieldType::Bytes => match op {
            Op::BContains | Op::BStartsWith => Const::Bytes(unhex(v).ok_or(
                "filter error: bcontains and bstartswith operator support hex strings only",
            )?),
            _ => Const::Bytes(v.as_bytes().to_vec()),
        },
        FieldType::Str | FieldType::Dyn => Const::Bytes(v.as_bytes().to_vec()),
    })
}

fn parse_net(v: &str) -> Option<Const> {
    match v.split_once('/') {
        Some((addr, len)) => {
            let ip: IpAddr = addr.parse().ok()?;
            let len: u8 = len.parse().ok()?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            (len <= max).then_some(Const::Net(ip, len))
        }
        None => {
            let ip: IpAddr = v.parse().ok()?;
            Some(Const::Net(ip, if ip.is_ipv4() { 32 } else { 128 }))
        }
    }
}

fn in_net(ip: &IpAddr, net: &IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            u32::from(*a) & mask == u32::from(*n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            u128::from(*a) & mask == u128::from(*n) & mask
        }
        _ => false,
    }
}

/// Well-known service names accepted for port fields (libsinsp uses `getservbyname`).
fn service_port(name: &str) -> Option<u16> {
    Some(match name {
        "ftp" => 21,
        "ssh" => 22,
        "telnet" => 23,
        "smtp" => 25,
        "domain" => 53,
        "http" => 80,
        "pop3" => 110,
        "imap" => 143,
        "https" => 443,
        _ => return None,
    })
}

fn unhex(v: &str) -> Option<Vec<u8>> {
    let b = v.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

fn path_components(p: &str) -> Vec<String> {
    p.split('/')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// A `glob`/`iglob` pattern with fnmatch(3) semantics without flags: `*`
/// and `?` also match `/`; `[...]` classes with `!` or `^` negation and
/// ranges; a backslash quotes the next character.
#[derive(Debug, Clone)]
pub struct Glob {
    pattern: Vec<char>,
    fold: bool,
}

impl Glob {
    /// Compiles a pattern; `fold` makes it case-insensitive.
    pub fn new(pattern: &str, fold: bool) -> Glob {
        Glob {
            pattern: if fold {
                pattern.chars().flat_map(char::to_lowercase).collect()
            } else {
                pattern.chars().collect()
            },
            fold,
        }
    }

    /// Whether `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        let t: Vec<char> = if self.fold {
            text.chars().flat_map(char::to_lowercase).collect()
        } else {
            text.chars().collect()
        };
        glob_match(&self.pattern, &t)
    }
}

fn glob_match(p: &[char], t: &[char]) -> bool {
    // Iterative matching with backtracking to the last `*`.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class_match(p, pi, t[ti]) {
                        if matched {
                            pi = next;
                            ti += 1;
                            continue;
                        }
                    } else if t[ti] == '[' {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() => {
                    if p[pi + 1] == t[ti] {
                        pi += 2;
                        ti += 1;
                        continue;
                    }
                }
                c => {
                    if c == t[ti] {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class starting at `p[at] == '['`; returns whether
/// it matched and where the pattern continues, or `None` for an unclosed class.
fn class_match(p: &[char], at: usize, c: char) -> Option<(bool, usize)> {
    let mut i = at + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            break;
        }
        first = false;
        let lo = if ch == '\\' {
            i += 1;
            *p.get(i)?
        } else {
            ch
        };
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&h| h != ']') {
            let hi = *p.get(i + 2)?;
            if lo <= c && c <= hi {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
    Some((matched != negate, i + 1))
}

/// Per-event state: extraction and check caches.
pub struct Scratch<'a> {
    slots: Vec<(u32, u32, u8)>,
    values: Vec<Value<'a>>,
    checks: Vec<u8>,
    tmp: Vec<Value<'a>>,
}

const UNKNOWN: u8 = 0;
const MISSING: u8 = 1;
const PRESENT: u8 = 2;

type Pooled = (
    Vec<(u32, u32, u8)>,
    Vec<u8>,
    Vec<Value<'static>>,
    Vec<Value<'static>>,
);

thread_local! {
    /// Cache arrays reused across events on each thread. They are pooled
    /// empty, so the value arena holds no borrowed data between events.
    static POOL: std::cell::RefCell<Option<Pooled>> = const { std::cell::RefCell::new(None) };
}

/// Reuses an empty vector's allocation for values of another lifetime (the
/// standard library collects `into_iter().map()` in place when the element
/// layout is the same, which it is here; otherwise this just allocates).
// `filter_map` (not `filter`) is what changes the element type.
#[allow(clippy::unnecessary_filter_map)]
fn relifetime<'x, 'y>(mut v: Vec<Value<'x>>) -> Vec<Value<'y>> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

impl<'a> Scratch<'a> {
    /// Fresh caches for a program.
    pub fn new(program: &Program) -> Scratch<'a> {
        let (mut slots, mut checks, values, tmp) =
            POOL.with(|p| p.borrow_mut().take()).unwrap_or_default();
        slots.clear();
        slots.resize(program.slots as usize, (0, 0, UNKNOWN));
        checks.clear();
        checks.resize(program.checks.len(), UNKNOWN);
        let mut values = relifetime(values);
        values.reserve(32);
        Scratch {
            slots,
            values,
            checks,
            tmp: relifetime(tmp),
        }
    }

    /// The values of `op` for `evt`, extracting and transforming on first use.
    pub fn values<E: Event + ?Sized>(
        &mut self,
        evt: &'a E,
        op: &CompiledOperand,
    ) -> Option<&[Value<'a>]> {
        let (start, len) = self.fetch(evt, op)?;
        Some(&self.values[start..start + len])
    }

    /// Like [`Scratch::values`], as a range of the value arena.
    fn fetch<E: Event + ?Sized>(
        &mut self,
        evt: &'a E,
        op: &CompiledOperand,
    ) -> Option<(usize, usize)> {
        let slot = op.slot as usize;
        if slot >= self.slots.len() {
            self.slots.resize(slot + 1, (0, 0, UNKNOWN));
        }
        let (start, len, state) = self.slots[slot];
        match state {
            PRESENT => return Some((start as usize, len as usize)),
            MISSING => return None,
            _ => {}
        }
        self.tmp.clear();
        let mut ok = evt.extract(&op.field, &mut self.tmp) && !self.tmp.is_empty();
        if ok {
            for t in &op.transforms {
                if !apply_transform(*t, &mut self.tmp) {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            self.slots[slot] = (0, 0, MISSING);
            return None;
        }
        let start = self.values.len();
        let len = self.tmp.len();
        self.values.append(&mut self.tmp);
        self.slots[slot] = (start as u32, len as u32, PRESENT);
        Some((start, len))
    }
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        let pooled = (
            std::mem::take(&mut self.slots),
            std::mem::take(&mut self.checks),
            relifetime(std::mem::take(&mut self.values)),
            relifetime(std::mem::take(&mut self.tmp)),
        );
        POOL.with(|p| *p.borrow_mut() = Some(pooled));
    }
}

fn apply_transform(t: Transform, vals: &mut Vec<Value<'_>>) -> bool {
    if t == Transform::Count {
        let n = vals.len() as u64;
        vals.clear();
        vals.push(Value::Uint(n));
        return true;
    }
    if t == Transform::Len {
        let n = match vals.first() {
            // libsinsp measures up to the first NUL (`strnlen`).
            Some(Value::Str(s)) => s.bytes().position(|b| b == 0).unwrap_or(s.len()) as u64,
            Some(Value::Bytes(b)) => b.len() as u64,
            _ => return false,
        };
        vals.clear();
        vals.push(Value::Uint(n));
        return true;
    }
    for v in vals.iter_mut() {
        let new = match (&*v, t) {
            (Value::Str(s), Transform::ToLower) => Value::Str(Cow::Owned(s.to_ascii_lowercase())),
            (Value::Str(s), Transform::ToUpper) => Value::Str(Cow::Owned(s.to_ascii_uppercase())),
            (Value::Str(s), Transform::Basename) => {
                let base = s.rsplit('/').next().unwrap_or("");
                Value::Str(Cow::Owned(base.to_string()))
            }
            (Value::Str(s), Transform::B64) => match b64_decode(s.as_bytes()) {
                Some(d) => Value::Str(Cow::Owned(String::from_utf8_lossy(&d).into_owned())),
                None => return false,
            },
            (Value::Bytes(b), Transform::B64) => match b64_decode(b) {
                Some(d) => Value::Bytes(Cow::Owned(d)),
                None => return false,
            },
            _ => return false,
        };
        *v = new;
    }
    true
}

fn b64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(input).ok()
}

impl Program {
    /// Lays out `node` in the flat code array; returns its entry point for
    /// [`Program::eval_entry`].
    pub fn flatten(&mut self, node: &Node) -> u32 {
        let at = self.code.len();
        match node {
            Node::Check(id) => {
                self.code.push(Flat::Check(*id));
                return at as u32;
            }
            Node::And(_) => self.code.push(Flat::And { end: 0 }),
            Node::Or(_) => self.code.push(Flat::Or { end: 0 }),
            Node::Not(_) => self.code.push(Flat::Not { end: 0 }),
        }
        match node {
            Node::And(children) | Node::Or(children) => {
                for c in children.iter() {
                    self.flatten(c);
                }
            }
            Node::Not(child) => {
                self.flatten(child);
            }
            Node::Check(_) => {}
        }
        let end = self.code.len() as u32;
        match &mut self.code[at] {
            Flat::And { end: e } | Flat::Or { end: e } | Flat::Not { end: e } => *e = end,
            Flat::Check(_) => {}
        }
        at as u32
    }

    /// Evaluates the condition laid out at `entry` by [`Program::flatten`];
    /// the same result as [`Program::eval`] on the node.
    pub fn eval_entry<'a, E: Event + ?Sized>(
        &self,
        entry: u32,
        evt: &'a E,
        s: &mut Scratch<'a>,
    ) -> bool {
        self.run(entry as usize, evt, s).0
    }

    /// Evaluates the node at `at`; returns its result and the index past it.
    fn run<'a, E: Event + ?Sized>(
        &self,
        at: usize,
        evt: &'a E,
        s: &mut Scratch<'a>,
    ) -> (bool, usize) {
        let Some(&node) = self.code.get(at) else {
            return (false, at + 1);
        };
        match node {
            Flat::Check(id) => (self.eval_check(id, evt, s), at + 1),
            Flat::Not { end } => (!self.run(at + 1, evt, s).0, end as usize),
            // `And` stops at the first false child, `Or` at the first true one.
            Flat::And { end } => (self.run_children(at, end, false, evt, s), end as usize),
            Flat::Or { end } => (self.run_children(at, end, true, evt, s), end as usize),
        }
    }

    /// Evaluates the children of the `And`/`Or` at `at` until one yields
    /// `stop_on`; checks and negated checks, most children, are evaluated
    /// here without a call per child.
    fn run_children<'a, E: Event + ?Sized>(
        &self,
        at: usize,
        end: u32,
        stop_on: bool,
        evt: &'a E,
        s: &mut Scratch<'a>,
    ) -> bool {
        let end = end as usize;
        let mut child = at + 1;
        while child < end {
            let (ok, next) = match self.code.get(child..child + 2) {
                Some([Flat::Check(id), _]) => (self.eval_check(*id, evt, s), child + 1),
                Some([Flat::Not { end: e }, Flat::Check(id)]) if *e as usize == child + 2 => {
                    (!self.eval_check(*id, evt, s), child + 2)
                }
                _ => self.run(child, evt, s),
            };
            if ok == stop_on {
                return stop_on;
            }
            child = next;
        }
        !stop_on
    }

    fn eval_check<'a, E: Event + ?Sized>(&self, id: u32, evt: &'a E, s: &mut Scratch<'a>) -> bool {
        let idx = id as usize;
        if idx >= s.checks.len() {
            s.checks.resize(idx + 1, UNKNOWN);
        }
        match s.checks[idx] {
            PRESENT => return true,
            MISSING => return false,
            _ => {}
        }
        let Some(check) = self.checks.get(idx) else {
            return false;
        };
        let result = compare(check, evt, s);
        s.checks[idx] = if result { PRESENT } else { MISSING };
        result
    }
}

fn compare<'a, E: Event + ?Sized>(check: &Check, evt: &'a E, s: &mut Scratch<'a>) -> bool {
    let Some((ls, ll)) = s.fetch(evt, &check.lhs) else {
        return false;
    };
    if check.op == Op::Exists {
        return true;
    }
    match &check.rhs {
        Rhs::None => true,
        Rhs::Consts(c) => compare_consts(check, &s.values[ls..ls + ll], c),
        Rhs::Field(r) => {
            let Some((rs, rl)) = s.fetch(evt, r) else {
                return false;
            };
            compare_fields(check, &s.values[ls..ls + ll], &s.values[rs..rs + rl])
        }
    }
}

fn compare_consts(check: &Check, lhs: &[Value<'_>], c: &Consts) -> bool {
    if check.lhs.list {
        return match check.op {
            Op::In => lhs.iter().all(|v| in_set(v, c)),
            Op::Intersects => lhs.iter().any(|v| in_set(v, c)),
            _ => false,
        };
    }
    let Some(v) = lhs.first() else {
        return false;
    };
    // A scalar field with two values is one of libsinsp's "either end"
    // fields (`fd.ip`, `fd.net`, `fd.port`: client or server): `=` and `in`
    // hold when either end matches, `!=` when neither does.
    if lhs.len() > 1 && check.modifier.is_none() {
        let one = |v: &Value<'_>| match check.op {
            Op::In => in_set(v, c),
            op => !c.strs.is_empty() && one_const(op, v, c, 0),
        };
        match check.op {
            Op::Eq | Op::In => return lhs.iter().any(one),
            Op::Ne => return lhs.iter().all(one),
            _ => {}
        }
    }
    if let Some(m) = check.modifier {
        let n = c.strs.len();
        if n == 0 {
            return false;
        }
        let matches = |i: usize| one_const(check.op, v, c, i);
        return match m {
            Modifier::OneOf => (0..n).filter(|&i| matches(i)).take(2).count() == 1,
            Modifier::AnyOf => (0..n).any(matches),
            Modifier::AllOf => (0..n).all(matches),
        };
    }
    match check.op {
        Op::In | Op::Intersects => in_set(v, c),
        Op::PMatch => match v {
            Value::Str(s) => {
                let comps = path_components(s);
                c.paths
                    .iter()
                    .any(|p| comps.len() >= p.len() && comps[..p.len()] == p[..])
            }
            _ => false,
        },
        Op::Regex => match v {
            Value::Str(s) => c.regexes.first().is_some_and(|r| r.is_match(s)),
            _ => false,
        },
        _ => !c.strs.is_empty() && one_const(check.op, v, c, 0),
    }
}

fn in_set(v: &Value<'_>, c: &Consts) -> bool {
    match v {
        Value::Str(s) => c.set.contains(s.as_ref()),
        _ => c.typed.iter().any(|k| typed_cmp(Op::Eq, v, k)),
    }
}

/// Compares `v` with constant `i` of `c` under `op`.
fn one_const(op: Op, v: &Value<'_>, c: &Consts, i: usize) -> bool {
    match v {
        Value::Str(s) => {
            let k = &c.strs[i];
            match op {
                Op::Regex => c.regexes.get(i).is_some_and(|r| r.is_match(s)),
                Op::Glob | Op::IGlob => c.globs.get(i).is_some_and(|g| g.matches(s)),
                Op::IContains => c.lower.get(i).is_some_and(|l| icontains(s, l)),
                _ => str_cmp(op, s, k),
            }
        }
        _ => c.typed.get(i).is_some_and(|k| typed_cmp(op, v, k)),
    }
}

fn icontains(haystack: &str, lower_needle: &str) -> bool {
    if lower_needle.is_empty() {
        return true;
    }
    let h = haystack.as_bytes();
    let n = lower_needle.as_bytes();
    h.windows(n.len())
        .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

fn str_cmp(op: Op, a: &str, b: &str) -> bool {
    match op {
        Op::Eq | Op::In | Op::Intersects => a == b,
        Op::Ne => a != b,
        Op::Contains => memchr::memmem::find(a.as_bytes(), b.as_bytes()).is_some(),
        Op::IContains => icontains(a, &b.to_ascii_lowercase()),
        Op::StartsWith => a.as_bytes().starts_with(b.as_bytes()),
        Op::EndsWith => a.as_bytes().ends_with(b.as_bytes()),
        Op::Glob => Glob::new(b, false).matches(a),
        Op::IGlob => Glob::new(b, true).matches(a),
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        _ => false,
    }
}

fn ord_op<T: PartialOrd>(op: Op, a: T, b: T) -> bool {
    match op {
        Op::Eq | Op::In | Op::Intersects => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        _ => false,
    }
}

fn typed_cmp(op: Op, v: &Value<'_>, k: &Const) -> bool {
    match (v, k) {
        (Value::Uint(a), Const::Uint(b)) => ord_op(op, *a, *b),
        (Value::Int(a), Const::Int(b)) => ord_op(op, *a, *b),
        (Value::Uint(a), Const::Int(b)) => ord_op(op, i128::from(*a), i128::from(*b)),
        (Value::Int(a), Const::Uint(b)) => ord_op(op, i128::from(*a), i128::from(*b)),
        (Value::Double(a), Const::Double(b)) => ord_op(op, *a, *b),
        (Value::Bool(a), Const::Bool(b)) => match op {
            Op::Eq | Op::In | Op::Intersects => a == b,
            Op::Ne => a != b,
            _ => false,
        },
        (Value::Ip(a), Const::Ip(b)) => match op {
            Op::Eq | Op::In | Op::Intersects => a == b,
            Op::Ne => a != b,
            _ => false,
        },
        (Value::Ip(a), Const::Net(n, l)) => match op {
            Op::Eq | Op::In | Op::Intersects => in_net(a, n, *l),
            Op::Ne => !in_net(a, n, *l),
            _ => false,
        },
        (Value::Bytes(a), Const::Bytes(b)) => bytes_cmp(op, a, b),
        (Value::Str(a), Const::Bytes(b)) => bytes_cmp(op, a.as_bytes(), b),
        // A value of another type than the field's: not equal.
        _ => op == Op::Ne,
    }
}

fn bytes_cmp(op: Op, a: &[u8], b: &[u8]) -> bool {
    match op {
        Op::Eq | Op::In | Op::Intersects => a == b,
        Op::Ne => a != b,
        Op::Contains | Op::BContains => memchr::memmem::find(a, b).is_some(),
        Op::StartsWith | Op::BStartsWith => a.starts_with(b),
        Op::EndsWith => a.ends_with(b),
        _ => false,
    }
}

fn value_cmp(op: Op, a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => str_cmp(op, x, y),
        (Value::Uint(x), Value::Uint(y)) => ord_op(op, *x, *y),
        (Value::Int(x), Value::Int(y)) => ord_op(op, *x, *y),
        (Value::Double(x), Value::Double(y)) => ord_op(op, *x, *y),
        (Value::Bool(x), Value::Bool(y)) => ord_op(op, *x, *y),
        (Value::Ip(x), Value::Ip(y)) => match op {
            Op::Eq | Op::In | Op::Intersects => x == y,
            Op::Ne => x != y,
            _ => false,
        },
        (Value::Bytes(x), Value::Bytes(y)) => bytes_cmp(op, x, y),
        _ => op == Op::Ne,
    }
}

fn compare_fields(check: &Check, lhs: &[Value<'_>], rhs: &[Value<'_>]) -> bool {
    let op = check.op;
    if check.lhs.list {
        return match op {
            Op::In => lhs
                .iter()
                .all(|v| rhs.iter().any(|r| value_cmp(Op::Eq, v, r))),
            Op::Intersects => lhs
                .iter()
                .any(|v| rhs.iter().any(|r| value_cmp(Op::Eq, v, r))),
            _ => false,
        };
    }
    let Some(v) = lhs.first() else {
        return false;
    };
    if let Some(m) = check.modifier {
        let hits = rhs.iter().filter(|r| value_cmp(op, v, r)).count();
        return match m {
            Modifier::OneOf => hits == 1,
            Modifier::AnyOf => hits > 0,
            Modifier::AllOf => !rhs.is_empty() && hits == rhs.len(),
        };
    }
    if op.is_set_op() {
        return rhs.iter().any(|r| value_cmp(Op::Eq, v, r));
    }
    rhs.first().is_some_and(|r| value_cmp(op, v, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_semantics_follow_fnmatch() {
        let g = |p: &str, t: &str| Glob::new(p, false).matches(t);
        assert!(g("/etc/*", "/etc/a/b"));
        assert!(g("*.sh", "x.sh"));
        assert!(!g("*.sh", "x.shx"));
        assert!(g("a?c", "abc"));
        assert!(g("[a-c]x", "bx"));
        assert!(!g("[!a-c]x", "bx"));
        assert!(g("\\*", "*"));
        assert!(!g("\\*", "a"));
        assert!(g("a*b*c", "aXbYbZc"));
        assert!(Glob::new("*.SH", true).matches("run.sh"));
        assert!(g("[", "["));
    }

    #[test]
    fn comparability_matches_libsinsp() {
        assert!(is_comparable(Op::Contains, None, FieldType::Uint, false).is_err());
        assert!(is_comparable(Op::Eq, None, FieldType::Str, true).is_err());
        assert!(is_comparable(Op::Intersects, None, FieldType::Str, true).is_ok());
        assert!(is_comparable(Op::Exists, None, FieldType::IpNet, true).is_ok());
        assert!(is_comparable(Op::BContains, None, FieldType::Str, false).is_err());
        assert!(is_comparable(Op::BContains, None, FieldType::Bytes, false).is_ok());
    }

    #[test]
    fn networks() {
        let Some(Const::Net(n, l)) = parse_net("10.0.0.0/8") else {
            panic!()
        };
        assert!(in_net(&"10.1.2.3".parse().unwrap(), &n, l));
        assert!(!in_net(&"11.1.2.3".parse().unwrap(), &n, l));
        assert!(parse_net("10.0.0.0/33").is_none());
        assert!(parse_net("cluster_ip_range").is_none());
    }
}
