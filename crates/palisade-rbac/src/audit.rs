//! Kubernetes audit logs (`audit.k8s.io` `Event`s, v1, v1beta1 or v1alpha1)
//! read into the requests the authorizer was asked to decide.
//!
//! The log backend writes one JSON object per line; any JSON stream (objects
//! separated by whitespace) is read, as are `EventList`s (the webhook
//! backend's batches). A line that is not JSON, or an object that is not an
//! audit event, is reported and skipped: one bad line does not hide the rest.
//!
//! The request is rebuilt as audit2rbac does: the user is the impersonated one
//! when there is one; an event with an `objectRef` is a resource request
//! (namespace, API group, resource, subresource, name), otherwise a
//! non-resource request for the request URI's path. The name of a `create`
//! is cleared: audit records it for successful creates, but the authorizer is
//! never given it.

use palisade_model::{AccessRequest, UserInfo};
use serde_json::Value;

/// One audit event, as an authorization request.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// 1-based line where the event starts.
    pub line: usize,
    /// The user the request was authorized as (the impersonated user when set).
    pub user: UserInfo,
    pub request: AccessRequest,
    /// `objectRef.apiVersion`, which audit2rbac compares when it merges requests.
    pub api_version: String,
    /// `ResponseComplete`, `RequestReceived`...
    pub stage: String,
    /// `stageTimestamp`, else `requestReceivedTimestamp`, else `timestamp`.
    pub timestamp: String,
    /// `responseStatus.code`, when recorded.
    pub code: Option<u16>,
}

/// What [`parse_audit_log`] read.
#[derive(Debug, Clone, Default)]
pub struct AuditLog {
    pub events: Vec<AuditEvent>,
    /// `file:line: message` for every part that could not be read.
    pub errors: Vec<String>,
}

impl AuditLog {
    /// The events of one user (by username, after impersonation).
    pub fn of_user<'a>(&'a self, username: &'a str) -> impl Iterator<Item = &'a AuditEvent> + 'a {
        self.events
            .iter()
            .filter(move |e| e.user.username == username)
    }

    /// The first and last timestamps, as written (RFC 3339 sorts as text).
    pub fn window(&self) -> Option<(&str, &str)> {
        let mut stamps = self
            .events
            .iter()
            .map(|e| e.timestamp.as_str())
            .filter(|t| !t.is_empty());
        let first = stamps.next()?;
        let (min, max) = stamps.fold((first, first), |(lo, hi), t| (lo.min(t), hi.max(t)));
        Some((min, max))
    }
}

/// Reads an audit log. `name` prefixes error messages.
pub fn parse_audit_log(name: &str, text: &str) -> AuditLog {
    let mut log = AuditLog::default();
    let mut offset = 0usize;
    let mut line_base = 0usize;
    while offset < text.len() {
        let rest = &text[offset..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        loop {
            let start = stream.byte_offset();
            match stream.next() {
                None => {
                    offset = text.len();
                    break;
                }
                Some(Ok(value)) => {
                    let skipped = rest[start..]
                        .len()
                        .saturating_sub(rest[start..].trim_start().len());
                    let line = line_base + 1 + rest[..start + skipped].matches('\n').count();
                    add_value(&mut log, name, line, &value);
                }
                Some(Err(e)) => {
                    let line = line_base + e.line();
                    log.errors
                        .push(format!("{name}:{line}: not a JSON audit event: {e}"));
                    // Resume at the line after the error.
                    let mut seen = 1usize;
                    let mut next = rest.len();
                    for (i, c) in rest.char_indices() {
                        if c == '\n' {
                            if seen == e.line() {
                                next = i + 1;
                                break;
                            }
                            seen += 1;
                        }
                    }
                    line_base += rest[..next].matches('\n').count();
                    offset += next;
                    break;
                }
            }
        }
    }
    log
}

fn add_value(log: &mut AuditLog, name: &str, line: usize, value: &Value) {
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    match kind {
        "Event" => match event(value, line) {
            Ok(e) => log.events.push(e),
            Err(msg) => log.errors.push(format!("{name}:{line}: {msg}")),
        },
        "EventList" | "List" => {
            let items = value.get("items").and_then(Value::as_array);
            for item in items.into_iter().flatten() {
                add_value(log, name, line, item);
            }
        }
        other => log.errors.push(format!(
            "{name}:{line}: expected an audit.k8s.io Event, found kind {other:?}; skipped"
        )),
    }
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn user(value: &Value) -> Option<UserInfo> {
    let username = value.get("username")?.as_str()?.to_string();
    let groups = value
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Some(UserInfo { username, groups })
}

fn event(value: &Value, line: usize) -> Result<AuditEvent, String> {
    let user = value
        .get("impersonatedUser")
        .filter(|v| !v.is_null())
        .and_then(user)
        .or_else(|| value.get("user").and_then(user))
        .ok_or("audit event without user.username; skipped")?;
    let verb = text(value, "verb").to_string();
    if verb.is_empty() {
        return Err("audit event without verb; skipped".into());
    }
    let object = value.get("objectRef").filter(|v| v.is_object());
    let mut api_version = String::new();
    let request = match object {
        Some(o) => {
            api_version = text(o, "apiVersion").to_string();
            AccessRequest::Resource {
                name: if verb == "create" {
                    String::new()
                } else {
                    text(o, "name").to_string()
                },
                verb,
                group: text(o, "apiGroup").to_string(),
                resource: text(o, "resource").to_string(),
                subresource: text(o, "subresource").to_string(),
                namespace: text(o, "namespace").to_string(),
            }
        }
        None => {
            let uri = text(value, "requestURI");
            // The authorizer sees the path, not the query.
            let path = uri.split(['?', '#']).next().unwrap_or("").to_string();
            AccessRequest::NonResource { verb, path }
        }
    };
    let timestamp = ["stageTimestamp", "requestReceivedTimestamp", "timestamp"]
        .iter()
        .map(|k| text(value, k))
        .find(|t| !t.is_empty())
        .unwrap_or("")
        .to_string();
    let code = value
        .get("responseStatus")
        .and_then(|s| s.get("code"))
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok());
    Ok(AuditEvent {
        line,
        user,
        request,
        api_version,
        stage: text(value, "stage").to_string(),
        timestamp,
        code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_lists_and_skips_garbage() {
        let text = concat!(
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"create","requestURI":"/api/v1/namespaces/a/pods","user":{"username":"bob","groups":["g"]},"objectRef":{"resource":"pods","namespace":"a","name":"p","apiVersion":"v1"},"responseStatus":{"code":201},"stageTimestamp":"2024-01-01T00:00:02Z"}"#,
            "\nnot json at all\n",
            r#"{"kind":"EventList","items":[{"kind":"Event","verb":"get","requestURI":"/version?timeout=32s","user":{"username":"x"},"impersonatedUser":{"username":"alice","groups":["system:authenticated"]},"timestamp":"2024-01-01T00:00:01Z"}]}"#,
            "\n",
            r#"{"kind":"Pod"}"#,
            "\n"
        );
        let log = parse_audit_log("a.log", text);
        assert_eq!(log.events.len(), 2, "{:?}", log.errors);
        assert_eq!(log.errors.len(), 2, "{:?}", log.errors);
        assert!(log.errors[0].starts_with("a.log:2:"), "{}", log.errors[0]);
        assert!(log.errors[1].starts_with("a.log:4:"), "{}", log.errors[1]);
        let create = &log.events[0];
        assert_eq!(create.line, 1);
        assert_eq!(create.code, Some(201));
        assert!(matches!(&create.request, AccessRequest::Resource { name, .. } if name.is_empty()));
        let get = &log.events[1];
        assert_eq!(get.line, 3);
        assert_eq!(get.user.username, "alice");
        assert_eq!(
            get.request,
            AccessRequest::NonResource {
                verb: "get".into(),
                path: "/version".into()
            }
        );
        assert_eq!(
            log.window(),
            Some(("2024-01-01T00:00:01Z", "2024-01-01T00:00:02Z"))
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in ["", "{", "}", "[]", "{\"kind\":\"Event\"}", "\u{feff}{}", "1 2 3", "{\"kind\":\"Event\",\"verb\":\"get\",\"user\":{\"username\":\"a\"},\"objectRef\":[]}\n\n\n{"] {
            let log = parse_audit_log("x", text);
            assert!(log.events.len() <= 1);
        }
    }
}
