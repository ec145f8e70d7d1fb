//! Shared helpers: ordering, fingerprints, URIs.

use std::cmp::Ordering;

use palisade_model::{Finding, InputError, SuppressionKind};

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
pub(crate) fn fingerprint(finding: &Finding) -> String {
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
    format!("{hash:016x}")
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
    fn camel() {
        assert_eq!(upper_camel("pss/run-as-non-root"), "PssRunAsNonRoot");
        assert_eq!(upper_camel("input/type"), "InputType");
    }
}
