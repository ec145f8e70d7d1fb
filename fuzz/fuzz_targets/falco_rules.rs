//! Fuzzes the Falco rules loader and condition compiler: any text as a rules
//! file, built into an engine (with and without the value index, which must
//! not change which rules fire), evaluated on fixed audit events, and every
//! diagnostic rendered with its position. The first line is also compiled
//! as the condition of a rule beside a few lists and macros, to reach the
//! condition grammar past YAML. Nothing may panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use palisade_detect::{condition, AuditEvent, Engine, RuleMatching};

const EVENTS: [&str; 3] = [
    r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods?fieldManager=kubectl","verb":"create","user":{"username":"alice","groups":["dev","system:authenticated"]},"sourceIPs":["192.168.1.20"],"userAgent":"kubectl/v1.30.0","objectRef":{"resource":"pods","namespace":"default","name":"web","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestObject":{"kind":"Pod","metadata":{"name":"web","labels":{"app":"web"}},"spec":{"hostNetwork":true,"volumes":[{"name":"etc","hostPath":{"path":"/etc"}}],"containers":[{"name":"web","image":"nginx:1.25","securityContext":{"privileged":true},"ports":[{"containerPort":80,"hostPort":80}]}]}},"responseObject":{"metadata":{"name":"web"}},"requestReceivedTimestamp":"2024-05-01T10:00:00.000000Z","stageTimestamp":"2024-05-01T10:00:00.020000Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC"}}"#,
    r#"{"kind":"Event","auditID":"2","verb":"create","user":{"username":"bob"},"objectRef":{"resource":"pods","subresource":"exec","namespace":"kube-system","name":"etcd"},"requestURI":"/api/v1/namespaces/kube-system/pods/etcd/exec?command=sh","responseStatus":{"code":101},"stageTimestamp":"2024-01-01T00:00:00Z"}"#,
    r#"{"kind":"Event","auditID":"3","verb":"get","user":{"username":"system:anonymous","groups":["system:unauthenticated"]},"objectRef":{"resource":"secrets","name":"db"},"responseStatus":{"code":403},"annotations":{"authorization.k8s.io/decision":"forbid"},"stageTimestamp":"2024-01-01T00:00:01.5+02:00"}"#,
];

fn events() -> &'static [AuditEvent] {
    static E: OnceLock<Vec<AuditEvent>> = OnceLock::new();
    E.get_or_init(|| {
        EVENTS
            .iter()
            .enumerate()
            .map(|(i, t)| {
                AuditEvent::from_json(*t)
                    .expect("fixed event")
                    .with_number(i as u64 + 1)
            })
            .collect()
    })
}

const PRELUDE: &str = "- list: users\n  items: [alice, \"bob\"]\n- macro: kevt\n  condition: (jevt.value[/stage] in (ResponseComplete))\n- macro: kcreate\n  condition: ka.verb=create\n";

/// `s` as a YAML double-quoted scalar.
fn yaml_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20
                || c == '\u{7f}'
                || c == '\u{feff}'
                || ('\u{80}'..='\u{9f}').contains(&c) =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn check(name: &str, text: &str) {
    // Line breaks as YAML counts them: CR LF, LF, or a lone CR.
    let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count() as u32;
    let build = |index: bool| {
        Engine::builder()
            .hostname("fuzz")
            .rule_matching(RuleMatching::All)
            .value_index(index)
            .rules_text(name, text)
            .build()
    };
    let engine = build(true);
    let _ = engine.counts();
    for d in engine.diagnostics() {
        let _ = d.to_string();
        if d.file == name {
            assert!(d.line <= lines + 1, "line {} of {lines}: {d}", d.line);
        }
    }
    for r in engine.rules() {
        let _ = engine.rule_condition(&r.name);
    }
    for source in ["k8s_audit", "syscall"] {
        let _ = engine.event_types(source);
        let _ = engine.indexed_field(source);
    }
    let plain = build(false);
    for ev in events() {
        let a: Vec<_> = engine
            .evaluate(ev)
            .into_iter()
            .map(|a| a.to_json())
            .collect();
        let b: Vec<_> = plain
            .evaluate(ev)
            .into_iter()
            .map(|a| a.to_json())
            .collect();
        assert_eq!(a, b, "the value index changed the result");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check("fuzz.yaml", text);
    let first = text.lines().next().unwrap_or_default();
    if let Err(e) = condition::parse(first) {
        let _ = e.to_string();
    }
    let rule = format!(
        "{PRELUDE}- rule: fuzzed\n  desc: d\n  condition: {}\n  output: \"%ka.user.name %ka.verb %jevt.value[/objectRef/name]\"\n  priority: WARNING\n  source: k8s_audit\n",
        yaml_quoted(first)
    );
    check("cond.yaml", &rule);
});
