//! `palisade detect` end to end: audit events from standard input, and the
//! audit webhook endpoint (`--listen`) with its alert outputs.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RULES: &str = "- rule: Exec Into Pod\n  desc: d\n  condition: ka.target.subresource = exec\n  output: exec by %ka.user.name into %ka.target.name\n  priority: CRITICAL\n  source: k8s_audit\n  tags: [k8s]\n";

fn event(verb: &str, subresource: &str, user: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a-{verb}-{subresource}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/dev/pods/web/{subresource}","verb":"{verb}","user":{{"username":"{user}"}},"objectRef":{{"resource":"pods","namespace":"dev","name":"web","subresource":"{subresource}"}},"responseStatus":{{"code":200}},"stageTimestamp":"2024-05-01T10:00:00.000001Z"}}"#
    )
}

fn write_rules(dir: &Path) -> String {
    let path = dir.join("rules.yaml");
    std::fs::write(&path, RULES).expect("rules written");
    path.display().to_string()
}

#[test]
fn audit_events_from_standard_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = write_rules(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["detect", "-r", &rules, "--audit-log", "-", "-o", "json"])
        .args(["--fail-on", "critical"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("palisade runs");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        let input = format!(
            "{}\nnot json\n{}\n",
            event("create", "exec", "mallory"),
            event("get", "log", "bob")
        );
        stdin.write_all(input.as_bytes()).expect("events written");
    }
    let out = child.wait_with_output().expect("palisade ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "critical alert: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let alert: serde_json::Value = serde_json::from_str(lines[0]).expect("JSON alert");
    assert_eq!(alert["rule"], "Exec Into Pod");
    assert_eq!(alert["priority"], "Critical");
    assert_eq!(alert["output_fields"]["ka.user.name"], "mallory");
    assert_eq!(alert["time"], "2024-05-01T10:00:00.000001000Z");
    // The bad line is reported with its number, and skipped.
    assert!(stderr.contains("-:2: skipped"), "{stderr}");
}

/// Posts `body` to `url` with curl (which the test needs for HTTPS).
fn curl(url: &str, body: Option<&str>) -> Option<String> {
    let mut cmd = Command::new("curl");
    cmd.args(["-sk", "--max-time", "5", url]);
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "--data-binary", b]);
    }
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn listen_serves_the_audit_webhook_with_alert_outputs() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("skipping: curl not found");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = write_rules(dir.path());
    let alerts_file = dir.path().join("alerts.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["detect", "-r", &rules])
        .args(["--listen", &format!("127.0.0.1:{port}"), "--self-signed"])
        .args([
            "--cert-dir",
            &dir.path().join("certs").display().to_string(),
        ])
        .args(["--out", &alerts_file.display().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("palisade runs");
    let base = format!("https://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while curl(&format!("{base}/healthz"), None).is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the endpoint did not come up");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let batch = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{},{},{}]}}"#,
        event("create", "exec", "mallory"),
        event("get", "log", "bob"),
        event("create", "exec", "eve")
    );
    let answer = curl(&format!("{base}/audit"), Some(&batch));
    let metrics = curl(&format!("{base}/metrics"), None).unwrap_or_default();
    let written = std::fs::read_to_string(&alerts_file).unwrap_or_default();
    let _ = child.kill();
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    let _ = child.wait();
    let answer: serde_json::Value =
        serde_json::from_str(&answer.expect("POST /audit answered")).expect("JSON answer");
    assert_eq!(answer["events"], 3);
    assert_eq!(answer["alerts"], 2);
    // Alerts: Falco's JSON on standard output, the chosen format in --out.
    let json_lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(json_lines.len(), 2, "{stdout}");
    assert_eq!(
        written.lines().collect::<Vec<_>>(),
        [
            "10:00:00.000001000: Critical exec by mallory into web",
            "10:00:00.000001000: Critical exec by eve into web"
        ]
    );
    assert!(
        metrics.contains(
            "palisade_detect_events_total{rule=\"Exec Into Pod\",priority=\"Critical\",source=\"k8s_audit\"} 2"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_audit_events_total{source=\"k8s_audit\"} 3"),
        "{metrics}"
    );
}
