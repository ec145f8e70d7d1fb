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
                    let (rendered, json) = match values {
                        None => (NOT_AVAILABLE.to_string(), serde_json::Value::Null),
                        Some(vs) => render_values(vs, op.list),
                    };
                    if *width > 0 {
                        let mut s: String = rendered.chars().take(*width).collect();
                        while s.chars().count() < *width {
                            s.push(' ');
                        }
                        text.push_str(&s);
                    } else {
                        text.push_str(&rendered);
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

fn render_values(vs: &[Value<'_>], list: bool) -> (String, serde_json::Value) {
    if list {
        let mut s = String::from("(");
        for (i, v) in vs.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "{v}");
        }
        s.push(')');
        let json = serde_json::Value::Array(vs.iter().map(Value::to_json).collect());
        (s, json)
    } else {
        match vs.first() {
            Some(v) => (v.to_string(), v.to_json()),
            None => (NOT_AVAILABLE.to_string(), serde_json::Value::Null),
        }
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
    let rem = secs % 86_400;
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// `HH:MM:SS.nnnnnnnnn` in UTC, Falco's `%evt.time`.
pub fn clock_time(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let nanos = ns % 1_000_000_000;
    let rem = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{nanos:09}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
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
}
