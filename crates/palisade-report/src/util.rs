//! Shared helpers: ordering, fingerprints, URIs.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::io;

use palisade_model::{Finding, InputError, SuppressionKind};
use serde::{Serialize, Serializer};

/// `inSource` or `external`, as JSON and SARIF (`suppression.kind`) spell it.
pub(crate) fn suppression_kind(kind: SuppressionKind) -> &'static str {
    match kind {
        SuppressionKind::InSource => "inSource",
        SuppressionKind::External => "external",
    }
}

/// File, line, column, rule; then object, message, so the order is total.
pub(crate) fn finding_order(a: &Finding, b: &Finding) -> Ordering {
    a.location
        .file
        .cmp(&b.location.file)
        .then_with(|| a.location.span.start.cmp(&b.location.span.start))
        .then_with(|| a.rule.cmp(b.rule))
        .then_with(|| a.object.cmp(&b.object))
        .then_with(|| a.message.cmp(&b.message))
}

/// File, line, column, code, message.
pub(crate) fn error_order(a: &InputError, b: &InputError) -> Ordering {
    a.file
        .cmp(&b.file)
        .then_with(|| a.span.start.cmp(&b.span.start))
        .then_with(|| a.kind.code().cmp(b.kind.code()))
        .then_with(|| a.message.cmp(&b.message))
}

/// A stable identity of a finding that does not change when lines move:
/// rule, file, object and field (or message when there is no field).
/// FNV-1a 64, so it is the same on every platform and Rust version.
pub(crate) fn fingerprint(finding: &Finding) -> Fingerprint {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let parts = [
        finding.rule,
        finding.location.file.as_str(),
        finding.object.kind.as_str(),
        finding.object.namespace.as_deref().unwrap_or(""),
        finding.object.name.as_str(),
        finding
            .location
            .field
            .as_deref()
            .unwrap_or(finding.message.as_str()),
    ];
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0u8)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    Fingerprint(hash)
}

/// A finding's [`fingerprint`], written as 16 lowercase hex digits without
/// allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint(u64);

impl Fingerprint {
    fn hex(self) -> [u8; 16] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 16];
        for (i, digit) in out.iter_mut().enumerate() {
            let nibble = (self.0 >> (60 - 4 * i)) & 0xf;
            *digit = DIGITS[nibble as usize];
        }
        out
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let hex = self.hex();
        let text = std::str::from_utf8(&hex).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(text)
    }
}

/// Writes `value` as pretty-printed JSON (two-space indentation, exactly as
/// `serde_json::to_writer_pretty`), followed by a line break.
pub(crate) fn write_json<W: io::Write, T: Serialize + ?Sized>(out: W, value: &T) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, Pretty::default());
    value.serialize(&mut serializer)?;
    serializer.into_inner().write_all(b"\n")
}

/// `serde_json`'s `PrettyFormatter` with an indent of two spaces, but writing
/// each line break and its indentation at once rather than one level at a
/// time (deeply nested SARIF spent most of its time there).
#[derive(Default)]
struct Pretty {
    depth: usize,
    has_value: bool,
}

impl Pretty {
    /// A line break and the indentation of the current depth.
    fn newline<W: ?Sized + io::Write>(&self, out: &mut W) -> io::Result<()> {
        const LINE: &[u8; 129] = b"\n                                                                                                                                ";
        let mut width = 1 + 2 * self.depth;
        let mut chunk: &[u8] = LINE;
        while width > 0 {
            let n = width.min(chunk.len());
            out.write_all(&chunk[..n])?;
            width -= n;
            // Further chunks are spaces only.
            chunk = &LINE[1..];
        }
        Ok(())
    }

    fn begin<W: ?Sized + io::Write>(&mut self, out: &mut W, open: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        out.write_all(open)
    }

    fn end<W: ?Sized + io::Write>(&mut self, out: &mut W, close: &[u8]) -> io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        if self.has_value {
            self.newline(out)?;
        }
        out.write_all(close)
    }

    fn item<W: ?Sized + io::Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        if !first {
            out.write_all(b",")?;
        }
        self.newline(out)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + io::Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.begin(out, b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.end(out, b"]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(out, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.begin(out, b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.end(out, b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(out, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Serializes as a sequence of `view(item)` for every item of a slice; the
/// views are made one at a time while writing.
pub(crate) struct Each<'s, T, F>(&'s [T], F);

pub(crate) fn each<'s, T, V: Serialize, F: Fn(&'s T) -> V>(
    items: &'s [T],
    view: F,
) -> Each<'s, T, F> {
    Each(items, view)
}

impl<'s, T, V: Serialize, F: Fn(&'s T) -> V> Serialize for Each<'s, T, F> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(&self.1))
    }
}

/// `items` grouped by file (in name order), each group in the order of `items`.
pub(crate) fn by_file<'r, T: ?Sized>(
    items: impl IntoIterator<Item = &'r T>,
    file: impl Fn(&'r T) -> &'r str,
) -> BTreeMap<&'r str, Vec<&'r T>> {
    let mut groups: BTreeMap<&str, Vec<&T>> = BTreeMap::new();
    // Runs of one file (the items are sorted) are gathered before a look-up.
    let mut run: Option<(&str, Vec<&T>)> = None;
    for item in items {
        let name = file(item);
        match &mut run {
            Some((current, run)) if *current == name => run.push(item),
            _ => {
                if let Some((current, items)) = run.replace((name, vec![item])) {
                    groups.entry(current).or_default().extend(items);
                }
            }
        }
    }
    if let Some((current, items)) = run {
        groups.entry(current).or_default().extend(items);
    }
    groups
}

/// A file name as a URI: relative paths become relative references (with
/// forward slashes, without a leading `./`) and say so with `true`; absolute
/// paths become `file://` URIs.
pub(crate) fn file_uri(path: &str) -> (String, bool) {
    let mut path = path.replace('\\', "/");
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.to_string();
    }
    let bytes = path.as_bytes();
    let windows_drive =
        bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'/';
    if path.starts_with('/') {
        (format!("file://{}", percent_encode(&path, true)), false)
    } else if windows_drive {
        let (drive, rest) = path.split_at(2);
        (
            format!("file:///{drive}{}", percent_encode(rest, true)),
            false,
        )
    } else {
        (percent_encode(&path, true), true)
    }
}

/// Percent-encodes everything but unreserved characters (and `/` if `keep_slash`).
pub(crate) fn percent_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && byte == b'/');
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `pss/run-as-non-root` → `PssRunAsNonRoot`, for SARIF's rule `name`.
pub(crate) fn upper_camel(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// "1 finding", "2 findings".
pub(crate) fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("{count} {one}")
    } else {
        format!("{count} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(
            file_uri("./deploy/web app.yaml"),
            ("deploy/web%20app.yaml".to_string(), true)
        );
        assert_eq!(
            file_uri("k8s\\pod.yaml"),
            ("k8s/pod.yaml".to_string(), true)
        );
        assert_eq!(
            file_uri("/srv/k8s/pod.yaml"),
            ("file:///srv/k8s/pod.yaml".to_string(), false)
        );
        assert_eq!(
            file_uri("C:\\k8s\\pod.yaml"),
            ("file:///C:/k8s/pod.yaml".to_string(), false)
        );
        assert_eq!(file_uri("<stdin>"), ("%3Cstdin%3E".to_string(), true));
        assert_eq!(file_uri("é.yaml").0, "%C3%A9.yaml");
    }

    #[test]
    fn fingerprint_hex() {
        let fingerprint = Fingerprint(0x0123_4567_89ab_cdef);
        assert_eq!(&fingerprint.hex(), b"0123456789abcdef");
        assert_eq!(fingerprint.to_string(), "0123456789abcdef");
        assert_eq!(Fingerprint(0xa).to_string(), "000000000000000a");
        assert_eq!(
            serde_json::to_string(&Fingerprint(u64::MAX))
                .ok()
                .as_deref(),
            Some("\"ffffffffffffffff\"")
        );
    }

    #[test]
    fn pretty_is_serde_json_pretty() {
        let deep = (0..80).fold(
            serde_json::json!([1, {}, [], "x"]),
            |inner, i| serde_json::json!({ "k": i, "v": [inner, null], "e": {} }),
        );
        for value in [
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!(1),
            deep,
        ] {
            let mut ours = Vec::new();
            assert!(write_json(&mut ours, &value).is_ok());
            let mut theirs = serde_json::to_vec_pretty(&value).unwrap_or_default();
            theirs.push(b'\n');
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs)
            );
        }
    }

    #[test]
    fn camel() {
        assert_eq!(upper_camel("pss/run-as-non-root"), "PssRunAsNonRoot");
        assert_eq!(upper_camel("input/type"), "InputType");
    }
}
