//! A small streaming YAML writer: a serde [`Serializer`] that writes any
//! `Serialize` value (the JSON report document in practice) as one YAML
//! document, straight to an [`io::Write`], without building a tree.
//!
//! The layout is fixed and simple:
//!
//! - block mappings and block sequences, indented by two spaces per level;
//!   a sequence item that is a mapping or a sequence starts on the line of its `- `;
//! - empty collections inline, as `{}` and `[]`;
//! - strings plain when no YAML 1.1 or 1.2 reader can take them for anything
//!   else, otherwise quoted (see [`yaml_string`]);
//! - `null`, `true`/`false` and integers as themselves; floats are not supported.
//!
//! Map keys and struct field names are written like string values.

use std::fmt;
use std::io::{self, Write};

use serde::ser::{self, Impossible, Serialize};

/// Writes `value` as a YAML stream of one document, starting with `---`.
pub(crate) fn to_writer<W: Write, T: Serialize + ?Sized>(out: &mut W, value: &T) -> io::Result<()> {
    out.write_all(b"---\n")?;
    value
        .serialize(ValueSerializer {
            out,
            place: Place::Top,
        })
        .map_err(Error::into_io)
}

/// The document as a string, for tests.
#[cfg(test)]
pub(crate) fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    if let Err(error) = to_writer(&mut out, value) {
        return format!("error: {error}");
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why writing failed: the writer's error, or a value YAML output does not support.
#[derive(Debug)]
pub(crate) enum Error {
    Io(io::Error),
    Unsupported(String),
}

impl Error {
    fn into_io(self) -> io::Error {
        match self {
            Error::Io(error) => error,
            Error::Unsupported(message) => io::Error::new(io::ErrorKind::InvalidData, message),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(error) => error.fmt(f),
            Error::Unsupported(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Unsupported(msg.to_string())
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        Error::Io(error)
    }
}

fn unsupported(what: &str) -> Error {
    Error::Unsupported(format!("YAML output does not support {what}"))
}

/// Where a value goes, which decides what precedes it.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// The whole document, right after `---`.
    Top,
    /// The value of a key whose line is indented by this much; `key:` is written.
    AfterKey(usize),
    /// An item of a sequence whose `- ` is indented by this much and written.
    AfterDash(usize),
}

impl Place {
    /// The indentation of a block collection's entries in this place.
    fn child_indent(self) -> usize {
        match self {
            Place::Top => 0,
            Place::AfterKey(indent) | Place::AfterDash(indent) => indent + 2,
        }
    }
}

fn pad<W: Write + ?Sized>(out: &mut W, indent: usize) -> io::Result<()> {
    const SPACES: &[u8; 64] = &[b' '; 64];
    let mut left = indent;
    while left > 0 {
        let n = left.min(SPACES.len());
        out.write_all(&SPACES[..n])?;
        left -= n;
    }
    Ok(())
}

/// Serializes one value in its [`Place`].
struct ValueSerializer<'w, W: Write> {
    out: &'w mut W,
    place: Place,
}

impl<'w, W: Write> ValueSerializer<'w, W> {
    /// A scalar (or an empty collection) on the current line.
    fn scalar(self, text: &str) -> Result<(), Error> {
        if let Place::AfterKey(_) = self.place {
            self.out.write_all(b" ")?;
        }
        self.out.write_all(text.as_bytes())?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    fn block(self, kind: Block) -> Collection<'w, W> {
        Collection {
            indent: self.place.child_indent(),
            out: self.out,
            place: self.place,
            kind,
            empty: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Map,
    Seq,
}

/// A block mapping or sequence being written; entries at `indent`.
struct Collection<'w, W: Write> {
    out: &'w mut W,
    place: Place,
    kind: Block,
    indent: usize,
    empty: bool,
}

impl<W: Write> Collection<'_, W> {
    /// Starts an entry: the line break after `key:` before the first entry,
    /// the indentation of every entry but the first one after a `- `.
    fn start_entry(&mut self) -> io::Result<()> {
        let first = std::mem::replace(&mut self.empty, false);
        match self.place {
            Place::AfterKey(_) if first => {
                self.out.write_all(b"\n")?;
                pad(self.out, self.indent)
            }
            Place::AfterDash(_) if first => Ok(()),
            _ => pad(self.out, self.indent),
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.start_entry()?;
        self.out.write_all(b"- ")?;
        value.serialize(ValueSerializer {
            out: self.out,
            place: Place::AfterDash(self.indent),
        })
    }

    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.start_entry()?;
        key.serialize(KeySerializer { out: self.out })?;
        self.out.write_all(b":")?;
        Ok(())
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(ValueSerializer {
            out: self.out,
            place: Place::AfterKey(self.indent),
        })
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.key(key)?;
        self.value(value)
    }

    fn finish(self) -> Result<(), Error> {
        if self.empty {
            let text = match self.kind {
                Block::Map => "{}",
                Block::Seq => "[]",
            };
            ValueSerializer {
                out: self.out,
                place: self.place,
            }
            .scalar(text)?;
        }
        Ok(())
    }
}

impl<'w, W: Write> ser::Serializer for ValueSerializer<'w, W> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Collection<'w, W>;
    type SerializeTuple = Collection<'w, W>;
    type SerializeTupleStruct = Collection<'w, W>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Collection<'w, W>;
    type SerializeStruct = Collection<'w, W>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.scalar(if v { "true" } else { "false" })
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.scalar(&v.to_string())
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.scalar(&v.to_string())
    }

    fn serialize_f32(self, _v: f32) -> Result<(), Error> {
        Err(unsupported("floating-point numbers"))
    }

    fn serialize_f64(self, _v: f64) -> Result<(), Error> {
        Err(unsupported("floating-point numbers"))
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        if let Place::AfterKey(_) = self.place {
            self.out.write_all(b" ")?;
        }
        write_string(self.out, v)?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(unsupported("byte strings"))
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.scalar("null")
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.scalar("null")
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.scalar("null")
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let mut map = self.block(Block::Map);
        map.field(variant, value)?;
        map.finish()
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Collection<'w, W>, Error> {
        Ok(self.block(Block::Seq))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Collection<'w, W>, Error> {
        Ok(self.block(Block::Seq))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Collection<'w, W>, Error> {
        Ok(self.block(Block::Seq))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(unsupported("tuple variants"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Collection<'w, W>, Error> {
        Ok(self.block(Block::Map))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Collection<'w, W>, Error> {
        Ok(self.block(Block::Map))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(unsupported("struct variants"))
    }
}

impl<W: Write> ser::SerializeSeq for Collection<'_, W> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl<W: Write> ser::SerializeTuple for Collection<'_, W> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl<W: Write> ser::SerializeTupleStruct for Collection<'_, W> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl<W: Write> ser::SerializeMap for Collection<'_, W> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.value(value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl<W: Write> ser::SerializeStruct for Collection<'_, W> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// Writes a map key: strings (and characters) only.
struct KeySerializer<'w, W: Write> {
    out: &'w mut W,
}

macro_rules! unsupported_keys {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(
            fn $method(self, $(_: $arg),*) -> Result<(), Error> {
                Err(unsupported("map keys that are not strings"))
            }
        )*
    };
}

impl<W: Write> ser::Serializer for KeySerializer<'_, W> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_string(self.out, v)?;
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    unsupported_keys! {
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
        Err(unsupported("map keys that are not strings"))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(unsupported("map keys that are not strings"))
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(unsupported("map keys that are not strings"))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(unsupported("map keys that are not strings"))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(unsupported("map keys that are not strings"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(unsupported("map keys that are not strings"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(unsupported("map keys that are not strings"))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(unsupported("map keys that are not strings"))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(unsupported("map keys that are not strings"))
    }
}

/// Words that some YAML parser (1.1 or 1.2) reads as something other than a string.
const RESERVED: &[&str] = &[
    "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n",
];

/// A string as a YAML scalar: plain when no YAML 1.1 or 1.2 parser can read it
/// as anything but this string, single-quoted when that is enough, double-quoted
/// (with JSON escapes, which YAML shares) otherwise.
#[cfg(test)]
pub(crate) fn yaml_string(s: &str) -> String {
    let mut out = Vec::new();
    let _ = write_string(&mut out, s);
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes `s` as a YAML scalar (see [`yaml_string`]).
fn write_string<W: Write + ?Sized>(out: &mut W, s: &str) -> io::Result<()> {
    if is_plain_safe(s) {
        return out.write_all(s.as_bytes());
    }
    // Printable ASCII needs no closer look.
    let printable = s.bytes().all(|b| (b' '..=b'~').contains(&b))
        || s.chars()
            .all(|c| !c.is_control() && c != '\u{feff}' && !is_line_separator(c));
    if printable && !s.starts_with(' ') && !s.ends_with(' ') {
        // Single quotes keep everything literally; a quote is doubled.
        out.write_all(b"'")?;
        for (i, part) in s.split('\'').enumerate() {
            if i > 0 {
                out.write_all(b"''")?;
            }
            out.write_all(part.as_bytes())?;
        }
        return out.write_all(b"'");
    }
    out.write_all(b"\"")?;
    let mut rest = s;
    while let Some((at, c)) = rest.char_indices().find(|&(_, c)| needs_escape(c)) {
        out.write_all(&rest.as_bytes()[..at])?;
        match c {
            '"' => out.write_all(b"\\\"")?,
            '\\' => out.write_all(b"\\\\")?,
            '\n' => out.write_all(b"\\n")?,
            '\r' => out.write_all(b"\\r")?,
            '\t' => out.write_all(b"\\t")?,
            c => write!(out, "\\u{:04X}", u32::from(c))?,
        }
        rest = &rest[at + c.len_utf8()..];
    }
    out.write_all(rest.as_bytes())?;
    out.write_all(b"\"")
}

/// Characters written escaped inside double quotes.
fn needs_escape(c: char) -> bool {
    matches!(c, '"' | '\\') || c.is_control() || c == '\u{feff}' || is_line_separator(c)
}

fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Plain scalars are kept to a conservative alphabet: a letter, `_` or `/`
/// first (so never a number, date, indicator or `.inf`), then letters,
/// digits, `.`, `_`, `/`, `-` and inner single spaces; never a boolean or null word.
fn is_plain_safe(s: &str) -> bool {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == b'_' || first == b'/') {
        return false;
    }
    if s.ends_with(' ') {
        return false;
    }
    let mut after_space = false;
    for &b in bytes {
        let space = b == b' ';
        if (space && after_space)
            || !(space || b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
        {
            return false;
        }
        after_space = space;
    }
    // The reserved words are at most five characters long.
    s.len() > 5 || !RESERVED.iter().any(|word| s.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(yaml_string("web"), "web");
        assert_eq!(yaml_string("pss/privileged"), "pss/privileged");
        assert_eq!(yaml_string("Deployment prod/web"), "Deployment prod/web");
        assert_eq!(yaml_string("yes"), "'yes'");
        assert_eq!(yaml_string("No"), "'No'");
        assert_eq!(yaml_string("1.0"), "'1.0'");
        assert_eq!(yaml_string("0755"), "'0755'");
        assert_eq!(yaml_string(""), "''");
        assert_eq!(yaml_string("a: b"), "'a: b'");
        assert_eq!(yaml_string("it's"), "'it''s'");
        assert_eq!(yaml_string("''"), "''''''");
        assert_eq!(yaml_string("-x"), "'-x'");
        assert_eq!(yaml_string("two\nlines"), "\"two\\nlines\"");
        assert_eq!(yaml_string(" lead"), "\" lead\"");
        assert_eq!(yaml_string("bell\u{7}"), "\"bell\\u0007\"");
        assert_eq!(
            yaml_string("\"q\" \\ é\u{2028}x\t"),
            "\"\\\"q\\\" \\\\ é\\u2028x\\t\""
        );
    }

    #[test]
    fn reserved_words_are_short() {
        // `is_plain_safe` relies on it.
        assert!(RESERVED.iter().all(|word| word.len() <= 5));
        assert_eq!(yaml_string("False"), "'False'");
        assert_eq!(yaml_string("falsey"), "falsey");
    }

    #[test]
    fn blocks() {
        // serde_json's maps keep keys sorted, which is the order written here.
        let doc = serde_json::json!({
            "a": 1,
            "empty": [],
            "list": [
                { "x": "1", "z": ["p", [true]] },
                null,
            ],
            "m": { "k": {} },
        });
        assert_eq!(
            to_string(&doc),
            "---\na: 1\nempty: []\nlist:\n  - x: '1'\n    z:\n      - p\n      - - true\n  - null\nm:\n  k: {}\n"
        );
    }

    #[test]
    fn top_level_scalars_and_empty_collections() {
        assert_eq!(to_string(&Option::<u32>::None), "---\nnull\n");
        assert_eq!(to_string("yes"), "---\n'yes'\n");
        assert_eq!(to_string(&Vec::<u32>::new()), "---\n[]\n");
        assert_eq!(to_string(&[[1, 2]]), "---\n- - 1\n  - 2\n");
        assert!(to_string(&1.5f64).starts_with("error: "));
    }
}
