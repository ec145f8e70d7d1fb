//! Broken input never panics: truncated rules files, every prefix of real
//! conditions, truncated audit events.

mod common;

use palisade_detect::{condition, decode_audit_batch, AuditEvent, Engine};

#[test]
fn truncated_rules_files_load_without_panicking() {
    let Some(dir) = common::conformance_dir() else {
        return;
    };
    let (_, text) = common::read(&dir, common::K8S);
    let mut cut = 0;
    while cut < text.len() {
        if text.is_char_boundary(cut) {
            let e = Engine::builder().rules_text("t.yaml", &text[..cut]).build();
            let _ = e.counts();
        }
        cut += 211;
    }
}

#[test]
fn every_prefix_of_real_conditions_parses_or_errors() {
    let conditions = [
        "kevt and pod and kcreate and ka.req.pod.host_network intersects (true) and not ka.req.pod.containers.image.repository in (k8s_audit_hostnetwork_images)",
        r#"(proc.cmdline contains "a\"b" or tolower(proc.name) = val(proc.pname)) and not fd.name pmatch (/etc, '/var/x') and evt.num >= 0x10"#,
        "proc.name startswith oneof (a, b) and len(proc.aname[2]) > 3 and not(b64(evt.buffer) bcontains 6869)",
    ];
    for c in conditions {
        for end in 0..=c.len() {
            if let Some(prefix) = c.get(..end) {
                let _ = condition::parse(prefix);
            }
        }
        assert!(condition::parse(c).is_ok(), "{c}");
    }
}

#[test]
fn truncated_and_mangled_events_are_errors() {
    let ev = r#"{"kind":"Event","auditID":"1","verb":"get","objectRef":{"resource":"pods"},"stageTimestamp":"2024-05-01T10:00:00Z"}"#;
    assert!(AuditEvent::from_json(ev).is_ok());
    for end in 0..ev.len() {
        assert!(AuditEvent::from_json(&ev[..end]).is_err(), "{}", &ev[..end]);
        let _ = decode_audit_batch(&ev.as_bytes()[..end]);
    }
    let mut bytes = ev.as_bytes().to_vec();
    for i in 0..bytes.len() {
        let saved = bytes[i];
        bytes[i] = b'"';
        let _ = decode_audit_batch(&bytes);
        bytes[i] = saved;
    }
}
