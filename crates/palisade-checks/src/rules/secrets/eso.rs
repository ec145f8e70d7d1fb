//! Helpers for External Secrets Operator objects.

use palisade_model::Object;

/// Whether an object belongs to External Secrets Operator (`external-secrets.io`, any version).
pub(crate) fn is_eso(object: &Object) -> bool {
    object.id.group() == "external-secrets.io"
}

/// Parses a Go `time.Duration` string (`1h30m`, `15m`, `0`, `720h0m0s`) into seconds.
pub(crate) fn go_duration_seconds(text: &str) -> Option<f64> {
    let t = text.trim();
    if t == "0" {
        return Some(0.0);
    }
    let (negative, mut rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return None;
        }
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += number * factor;
        rest = &rest[unit_len..];
    }
    Some(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::go_duration_seconds;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration_seconds("1h"), Some(3600.0));
        assert_eq!(go_duration_seconds("1h30m"), Some(5400.0));
        assert_eq!(go_duration_seconds("0"), Some(0.0));
        assert_eq!(go_duration_seconds("0s"), Some(0.0));
        assert_eq!(go_duration_seconds("720h0m0s"), Some(2_592_000.0));
        assert_eq!(go_duration_seconds("1d"), None);
        assert_eq!(go_duration_seconds("15"), None);
    }
}
