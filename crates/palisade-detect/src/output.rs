//! Rule outputs: `%field` substitution, Falco's text and JSON alert shapes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::condition::{parse_operand_prefix, Operand};
use crate::priority::Priority;
use crate::program::{CheckError, CompiledOperand, Program, Scratch};
use crate::source::{Event, FieldSource, Value};

/// What a missing field prints as.
pub const NOT_AVAILABLE: &str = "<NA>";

#[derive(Debug)]
enum Token {
    Literal(String),
    Field { op: CompiledOperand, width: usize },
}

/// A compiled output format string.
#[derive(Debug)]
pub struct OutputFormat {
    tokens: Vec<Token>,
}

impl OutputFormat {
    /// Compiles `format` against `source`, as libsinsp's formatter parses it:
    /// `%` then an optional width, then the longest field (or transformer)
    /// the source knows.
    pub fn compile(
        format: &str,
        program: &mut Program,
        source: &dyn FieldSource,
    ) -> Result<OutputFormat, CheckError> {
        let mut tokens = Vec::new();
        let mut literal = String::new();
        let bytes = format.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'%' {
                let next = format[i..].find('%').map_or(format.len(), |n| i + n);
                literal.push_str(&format[i..next]);
                i = next;
                continue;
            }
            let at = i;
            i += 1;
            if i >= bytes.len() {
                return Err(CheckError {
                    message: "invalid formatting syntax: formatting cannot end with a %".into(),
                    pos: at,
                    unknown_field: false,
                });
            }
            let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            let width = format[i..i + digits].parse::<usize>().unwrap_or(0);
            i += digits;
            let (op, used) = longest_field(&format[i..], program, source).map_err(|mut e| {
                e.pos += i;
                e
            })?;
            if !literal.is_empty() {
                tokens.push(Token::Literal(std::mem::take(&mut literal)));
            }
            tokens.push(Token::Field { op, width });
            i += used;
        }
        if !literal.is_empty() {
            tokens.push(Token::Literal(literal));
        }
        Ok(OutputFormat { tokens })
    }

    /// Renders the text and collects the field values (for JSON).
    pub fn render<'a, E: Event + ?Sized>(
        &self,
        evt: &'a E,
        scratch: &mut Scratch<'a>,
    ) -> (String, BTreeMap<String, serde_json::Value>) {
        let mut text = String::new();
        let mut fields = BTreeMap::new();
        for t in &self.tokens {
            match t {
                Token::Literal(s) => text.push_str(s),
                Token::Field { op, width } => {
                    let values = scratch.values(evt, op);
                    let json = match values {
                        None => serde_json::Value::Null,
                        Some(vs) => values_json(vs, op.list),
                    };
                    if *width > 0 {
                        let mut rendered = String::new();
                        write_values(&mut rendered, values, op.list);
                        let mut s: String = rendered.chars().take(*width).collect();
                        while s.chars().count() < *width {
                            s.push(' ');
                        }
                        text.push_str(&s);
                    } else {
                        write_values(&mut text, values, op.list);
                    }
                    fields.insert(op.display.clone(), json);
                }
            }
        }
        (text, fields)
    }

    /// The fields the format names, as written.
    pub fn field_names(&self) -> Vec<&str> {
        self.tokens
            .iter()
            .filter_map(|t| match t {
                Token::Field { op, .. } => Some(op.display.as_str()),
                Token::Literal(_) => None,
            })
            .collect()
    }
}

/// Appends a field's values as text: a list as `(a,b)`, a scalar as its
/// first value, `<NA>` when there is none.
fn write_values(out: &mut String, vs: Option<&[Value<'_>]>, list: bool) {
    match (vs, list) {
        (Some(vs), true) => {
            out.push('(');
            for (i, v) in vs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, v);
            }
            out.push(')');
        }
        (Some([v, ..]), false) => write_value(out, v),
        _ => out.push_str(NOT_AVAILABLE),
    }
}

fn write_value(out: &mut String, v: &Value<'_>) {
    match v {
        Value::Str(s) => out.push_str(s),
        v => {
            let _ = write!(out, "{v}");
        }
    }
}

/// A field's values for the JSON output.
fn values_json(vs: &[Value<'_>], list: bool) -> serde_json::Value {
    if list {
        serde_json::Value::Array(vs.iter().map(Value::to_json).collect())
    } else {
        vs.first().map_or(serde_json::Value::Null, Value::to_json)
    }
}

/// Finds the longest field at the start of `rest` that `source` knows.
fn longest_field(
    rest: &str,
    program: &mut Program,
    source: &dyn FieldSource,
) -> Result<(CompiledOperand, usize), CheckError> {
    let unknown = |name: &str| CheckError {
        message: format!("nonexistent field '{name}' in output"),
        pos: 0,
        unknown_field: true,
    };
    let (op, used) = parse_operand_prefix(rest).map_err(|e| CheckError {
        message: format!("invalid formatting token: {}", e.message),
        pos: 0,
        unknown_field: false,
    })?;
    let first_error = match program.operand(source, &op, false) {
        Ok(c) => return check_display(c, source).map(|c| (c, used)),
        Err(e) => e,
    };
    // Like libsinsp, try ever shorter prefixes of a plain field name
    // (`%ka.user.namex` is `%ka.user.name` followed by `x`).
    if let Operand::Field { name, .. } = &op {
        for len in (1..name.len()).rev() {
            let Some(candidate) = name.get(..len) else {
                continue;
            };
            let Ok((shorter, used)) = parse_operand_prefix(candidate) else {
                continue;
            };
            if used != len {
                continue;
            }
            if let Ok(c) = program.operand(source, &shorter, false) {
                if let Ok(c) = check_display(c, source) {
                    return Ok((c, used));
                }
            }
        }
        if first_error.unknown_field {
            return Err(unknown(name));
        }
    }
    Err(first_error)
}

fn check_display(
    c: CompiledOperand,
    source: &dyn FieldSource,
) -> Result<CompiledOperand, CheckError> {
    if let Some(info) = source.catalogue().by_id(c.field.id) {
        if info.flags.filter_only {
            return Err(CheckError {
                message: format!(
                    "{} is filter only and cannot be used as a display field",
                    info.name
                ),
                pos: 0,
                unknown_field: false,
            });
        }
    }
    Ok(c)
}

/// An alert: a rule matched an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Event time, RFC 3339 in UTC with nanoseconds (Falco's `time`).
    pub time: String,
    /// Event time in nanoseconds since the epoch.
    #[serde(skip)]
    pub time_ns: u64,
    /// Rule name.
    pub rule: String,
    /// Rule priority.
    pub priority: Priority,
    /// The rendered output message (without time and priority).
    #[serde(skip)]
    pub message: String,
    /// `<time>: <Priority> <message>`, as Falco's `output`.
    pub output: String,
    /// Field values named by the output, plus `evt.time`.
    pub output_fields: BTreeMap<String, serde_json::Value>,
    /// Source of the event.
    pub source: String,
    /// Rule tags.
    pub tags: Vec<String>,
    /// Host name.
    pub hostname: String,
}

impl Alert {
    /// Falco's JSON output (keys sorted, as Falco's JSON library orders them).
    pub fn to_json(&self) -> String {
        let mut obj = serde_json::Map::new();
        obj.insert("hostname".into(), self.hostname.clone().into());
        obj.insert("output".into(), self.output.clone().into());
        obj.insert(
            "output_fields".into(),
            serde_json::Value::Object(self.output_fields.clone().into_iter().collect()),
        );
        obj.insert("priority".into(), self.priority.name().into());
        obj.insert("rule".into(), self.rule.clone().into());
        obj.insert("source".into(), self.source.clone().into());
        obj.insert(
            "tags".into(),
            serde_json::Value::Array(self.tags.iter().map(|t| t.clone().into()).collect()),
        );
        obj.insert("time".into(), self.time.clone().into());
        serde_json::Value::Object(obj).to_string()
    }

    /// Falco's text output line.
    pub fn to_text(&self) -> String {
        self.output.clone()
    }
}

/// Formats nanoseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
pub fn iso8601(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let nanos = ns % 1_000_000_000;
    let (y, mo, d) = civil_from_days((secs / 86_400) as i64);
    let mut out = String::with_capacity(30);
    // Years before 1970 cannot come from a u64 of nanoseconds.
    push_padded(&mut out, y.max(0) as u64, 4);
    out.push('-');
    push_padded(&mut out, u64::from(mo), 2);
    out.push('-');
    push_padded(&mut out, u64::from(d), 2);
    out.push('T');
    push_clock(&mut out, secs % 86_400, nanos);
    out.push('Z');
    out
}

/// Appends `v` in decimal, zero-padded to at least `width` digits (what
/// `format!("{v:0width$}")` writes, without the formatting machinery: alert
/// times are written for every alert).
fn push_padded(out: &mut String, v: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut n = v;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
        if n == 0 {
            break;
        }
    }
    for _ in len..width {
        out.push('0');
    }
    for &c in digits[..len].iter().rev() {
        out.push(char::from(c));
    }
}

/// `HH:MM:SS.nnnnnnnnn` for `rem` seconds into the day.
fn push_clock(out: &mut String, rem: u64, nanos: u64) {
    push_padded(out, rem / 3600, 2);
    out.push(':');
    push_padded(out, (rem % 3600) / 60, 2);
    out.push(':');
    push_padded(out, rem % 60, 2);
    out.push('.');
    push_padded(out, nanos, 9);
}

/// `HH:MM:SS.nnnnnnnnn` in UTC, Falco's `%evt.time`.
pub fn clock_time(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let nanos = ns % 1_000_000_000;
    let mut out = String::with_capacity(18);
    push_clock(&mut out, secs % 86_400, nanos);
    out
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A civil date and time to nanoseconds since the epoch.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats() {
        // 2021-04-16T17:38:45.811437000Z
        let ns = 1_618_594_725_811_437_000u64;
        assert_eq!(iso8601(ns), "2021-04-16T17:38:45.811437000Z");
        assert_eq!(clock_time(ns), "17:38:45.811437000");
        assert_eq!(days_from_civil(2021, 4, 16), 18_733);
        assert_eq!(civil_from_days(18_733), (2021, 4, 16));
    }

    /// The hand-written formatting writes what `format!` wrote, over the
    /// whole range of a u64 of nanoseconds.
    #[test]
    fn time_formats_match_format_macro() {
        let reference = |ns: u64| {
            let secs = ns / 1_000_000_000;
            let nanos = ns % 1_000_000_000;
            let (y, mo, d) = civil_from_days((secs / 86_400) as i64);
            let rem = secs % 86_400;
            let clock = format!(
                "{:02}:{:02}:{:02}.{nanos:09}",
                rem / 3600,
                (rem % 3600) / 60,
                rem % 60
            );
            (format!("{y:04}-{mo:02}-{d:02}T{clock}Z"), clock)
        };
        let mut ns = 0u64;
        for step in [
            0,
            1,
            999_999_999,
            86_399_000_000_001,
            31_556_952_123_456_789,
        ] {
            for _ in 0..200 {
                ns = ns
                    .wrapping_add(step)
                    .wrapping_mul(6_364_136_223_846_793_005)
                    >> 1;
                for t in [ns, 0, u64::MAX, 1_700_000_000_999_999_999] {
                    assert_eq!((iso8601(t), clock_time(t)), reference(t), "{t}");
                }
            }
        }
    }
}
