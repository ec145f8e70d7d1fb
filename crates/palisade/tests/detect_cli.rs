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

/// Stops `child` with SIGTERM (as a service manager would) and waits for it,
/// returning its exit status and standard error.
fn terminate(mut child: std::process::Child) -> (std::process::ExitStatus, String) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    let status = child.wait().expect("palisade ends");
    (status, stderr)
}

/// `--listen` finishes its alert outputs when stopped: a failed `--out`
/// write (here /dev/full) is reported and the exit code says so.
#[test]
fn listen_reports_a_failed_out_write_when_stopped() {
    if Command::new("curl").arg("--version").output().is_err() || !Path::new("/dev/full").exists() {
        eprintln!("skipping: curl or /dev/full not found");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = write_rules(dir.path());
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
        .args(["--out", "/dev/full"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
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
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{}]}}"#,
        event("create", "exec", "mallory")
    );
    let answer = curl(&format!("{base}/audit"), Some(&batch));
    let (status, stderr) = terminate(child);
    assert!(answer.is_some_and(|a| a.contains("\"alerts\":1")));
    assert!(!status.success(), "{status:?}: {stderr}");
    assert!(stderr.contains("cannot write alerts"), "{stderr}");
}

/// A one-thread HTTP server that answers 200 to every POST and keeps the bodies.
fn alert_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/alerts", listener.local_addr().expect("addr"));
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Ok(clone) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(clone);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            kept.lock()
                .expect("bodies")
                .push(String::from_utf8_lossy(&body).into_owned());
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (url, bodies)
}

/// `--source syscall` sends its alerts to --out and --alert-webhook too.
/// Needs root and a kernel with BTF (the CI has both).
#[test]
fn syscall_source_alerts_go_to_out_and_the_webhook() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root || !Path::new("/sys/kernel/btf/vmlinux").exists() {
        assert!(!ci, "the syscall source test needs root and BPF under CI");
        eprintln!("skipping: needs root and kernel BTF");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("syscall.yaml");
    std::fs::write(
        &rules,
        "- rule: Sleep Started\n  desc: d\n  condition: evt.type = execve and evt.dir = < and proc.name = sleep\n  output: sleep started (cmdline=%proc.cmdline)\n  priority: NOTICE\n",
    )
    .expect("rules written");
    let alerts_file = dir.path().join("alerts.json");
    let (url, bodies) = alert_receiver();
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["detect", "--source", "syscall", "-o", "json"])
        .args(["-r", &rules.display().to_string()])
        .args(["--out", &alerts_file.display().to_string()])
        .args(["--alert-webhook", &url])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("palisade runs");
    let marker = "0.0417";
    let seen = |text: &str| text.lines().any(|l| l.contains(marker));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut written = String::new();
    // The sensor needs a moment to attach: exec until the alert shows up.
    while Instant::now() < deadline {
        let _ = Command::new("sleep").arg(marker).status();
        written = std::fs::read_to_string(&alerts_file).unwrap_or_default();
        if seen(&written) && bodies.lock().expect("bodies").iter().any(|b| seen(b)) {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let (_, stderr) = terminate(child);
            panic!("palisade stopped: {status:?}: {stderr}");
        }
    }
    let (status, stderr) = terminate(child);
    assert!(status.success(), "{status:?}: {stderr}");
    let line = written
        .lines()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no alert in --out: {written:?}; {stderr}"));
    let alert: serde_json::Value = serde_json::from_str(line).expect("JSON alert in --out");
    assert_eq!(alert["rule"], "Sleep Started");
    assert_eq!(alert["source"], "syscall");
    let posted = bodies.lock().expect("bodies").clone();
    let body = posted
        .iter()
        .find(|b| seen(b))
        .unwrap_or_else(|| panic!("no alert posted: {posted:?}"));
    let alert: serde_json::Value = serde_json::from_str(body).expect("JSON alert posted");
    assert_eq!(alert["rule"], "Sleep Started");
}
