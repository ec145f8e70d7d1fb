//! The logic of `palisade detect`, kept here so the command file stays a thin
//! argument parser and everything is testable in this crate.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::engine::{Engine, RuleMatching};
use crate::input::{read_audit_events, AuditInput, ReadOptions};
use crate::output::Alert;
use crate::priority::Priority;
use crate::source::FieldSource;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: alerts at or above `--fail-on` while reading a finite log.
pub const EXIT_ALERTS: u8 = 1;
/// Exit code: a rules file had an error.
pub const EXIT_RULE_ERRORS: u8 = 2;

/// Alert format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertFormat {
    /// Falco's text line.
    #[default]
    Text,
    /// Falco's JSON object, one per line.
    Json,
}

/// Everything `palisade detect` can be asked.
#[derive(Debug, Clone, Default)]
pub struct DetectOptions {
    /// Rules files, loaded in order.
    pub rules: Vec<PathBuf>,
    /// Audit log to read (`-` for standard input).
    pub audit_log: Option<String>,
    /// Follow the log like `tail -F`.
    pub follow: bool,
    /// Any rules error stops the run before reading events.
    pub strict: bool,
    /// Alert format.
    pub format: AlertFormat,
    /// Also append alerts to this file.
    pub out: Option<PathBuf>,
    /// Also post each alert (Falco's JSON) to this HTTP(S) endpoint.
    pub alert_webhook: Option<String>,
    /// Only load the rules and report problems.
    pub validate: bool,
    /// Print the fields of a source (`None`: all sources) and exit.
    pub list_fields: Option<Option<String>>,
    /// Print the loaded rules and exit.
    pub list: bool,
    /// Enable only rules with one of these tags.
    pub enable_tags: Vec<String>,
    /// Disable rules with one of these tags.
    pub disable_tags: Vec<String>,
    /// Disable rules less severe than this.
    pub min_priority: Option<Priority>,
    /// Exit with 1 when an alert at or above this priority is raised (finite input).
    pub fail_on: Option<Priority>,
    /// Fire every matching rule, not only the first.
    pub all_matches: bool,
    /// Per-rule rate limit: alerts per second and burst.
    pub rate_limit: Option<(f64, f64)>,
    /// Print warnings too, not only errors.
    pub verbose: bool,
    /// Serve the counters in Prometheus' format on this address at `/metrics`.
    pub metrics_addr: Option<SocketAddr>,
}

/// The alert outputs besides standard output: a file (`--out`, in the
/// chosen format) and an HTTP(S) webhook (`--alert-webhook`, Falco's JSON).
/// Shared by the log reader and the audit webhook endpoint (as an
/// [`Engine::set_alert_sink`] sink), hence `Sync`.
pub struct AlertOutputs {
    format: AlertFormat,
    file: Option<Mutex<File>>,
    /// Taken by [`AlertOutputs::finish`], which may run while a server
    /// still holds the outputs as an alert sink.
    webhook: Mutex<Option<crate::webhook::WebhookSink>>,
    file_error: Mutex<Option<io::Error>>,
}

impl AlertOutputs {
    /// Opens the file (appending) and starts the webhook poster of `opts`.
    pub fn open(opts: &DetectOptions) -> anyhow::Result<AlertOutputs> {
        let file = match &opts.out {
            Some(p) => Some(Mutex::new(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", p.display()))?,
            )),
            None => None,
        };
        let webhook = match &opts.alert_webhook {
            Some(url) => Some(
                crate::webhook::WebhookSink::start(url, |e| eprintln!("warning: {e}"))
                    .map_err(anyhow::Error::msg)?,
            ),
            None => None,
        };
        Ok(AlertOutputs {
            format: opts.format,
            file,
            webhook: Mutex::new(webhook),
            file_error: Mutex::new(None),
        })
    }

    /// The alert as one line of the chosen format.
    pub fn line(&self, alert: &Alert) -> String {
        match self.format {
            AlertFormat::Text => alert.to_text(),
            AlertFormat::Json => alert.to_json(),
        }
    }

    /// Writes the alert to the file and queues it for the webhook. The
    /// first write error is kept (see [`AlertOutputs::finish`]); later
    /// alerts are not written to the file.
    pub fn send(&self, alert: &Alert) {
        if let Some(file) = &self.file {
            if let (Ok(mut f), Ok(mut err)) = (file.lock(), self.file_error.lock()) {
                if err.is_none() {
                    if let Err(e) = writeln!(f, "{}", self.line(alert)) {
                        *err = Some(e);
                    }
                }
            }
        }
        if let Ok(webhook) = self.webhook.lock() {
            if let Some(sink) = webhook.as_ref() {
                sink.send(alert.to_json());
            }
        }
    }

    /// Waits for the webhook to drain and reports what could not be
    /// delivered, then the first write error of the file. Alerts sent
    /// afterwards still go to the file, no longer to the webhook.
    pub fn finish(&self, stderr: &mut dyn Write) -> anyhow::Result<()> {
        let webhook = self.webhook.lock().ok().and_then(|mut w| w.take());
        if let Some(sink) = webhook {
            let stats = sink.finish();
            let (failed, dropped) = (
                stats.failed.load(Ordering::Relaxed),
                stats.dropped.load(Ordering::Relaxed),
            );
            if failed + dropped > 0 {
                writeln!(
                    stderr,
                    "alert webhook: {failed} alert(s) not delivered, {dropped} dropped (queue full)"
                )?;
            }
        }
        let err = self.file_error.lock().ok().and_then(|mut e| e.take());
        if let Some(e) = err {
            anyhow::bail!("cannot write alerts: {e}");
        }
        Ok(())
    }
}

/// Serves `engine`'s counters at `GET /metrics` (and `GET /healthz`) on
/// `addr`, from a background thread, until `stop` is set. Returns the
/// address bound (useful with port 0).
pub fn serve_metrics(
    addr: SocketAddr,
    engine: Arc<Engine>,
    stop: Arc<AtomicBool>,
) -> io::Result<SocketAddr> {
    serve_metrics_text(addr, "detect-metrics", stop, move || {
        engine.metrics().snapshot().prometheus_text()
    })
}

/// A minimal HTTP/1.1 endpoint for Prometheus: `GET /metrics` answers with
/// what `render` returns (text exposition format), `GET /healthz` with "ok",
/// anything else 404; one request per connection, from a background thread
/// named `thread`, until `stop` is set. Returns the address bound. Shared by
/// `palisade detect` and the syscall sensor, which add no HTTP stack for it.
pub fn serve_metrics_text(
    addr: SocketAddr,
    thread: &str,
    stop: Arc<AtomicBool>,
    render: impl Fn() -> String + Send + 'static,
) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let local = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    std::thread::Builder::new()
        .name(thread.into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                };
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 1024];
                let n = conn.read(&mut buf).unwrap_or(0);
                let request = &buf[..n];
                let (status, body) = if request.starts_with(b"GET /metrics") {
                    ("200 OK", render())
                } else if request.starts_with(b"GET /healthz") {
                    ("200 OK", "ok\n".to_string())
                } else {
                    ("404 Not Found", "not found\n".to_string())
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        })?;
    Ok(local)
}

/// Runs `palisade detect`; returns the exit code.
pub fn run(
    opts: &DetectOptions,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<u8> {
    if let Some(which) = &opts.list_fields {
        let engine = Engine::builder().build();
        list_fields(&engine, which.as_deref(), stdout)?;
        return Ok(EXIT_OK);
    }
    let (engine, errors) = build_engine(opts, stderr)?;
    let counts = engine.counts();
    if opts.validate {
        writeln!(
            stdout,
            "{} rules, {} macros, {} lists loaded from {} file(s); {} error(s)",
            counts.rules,
            counts.macros,
            counts.lists,
            opts.rules.len(),
            errors
        )?;
        return Ok(if errors > 0 {
            EXIT_RULE_ERRORS
        } else {
            EXIT_OK
        });
    }
    if errors > 0 && opts.strict {
        writeln!(stderr, "{errors} rules error(s); stopping (--strict)")?;
        return Ok(EXIT_RULE_ERRORS);
    }
    run_with_engine(opts, engine, errors, stdout, stderr)
}

/// Loads the rules files of `opts`, prints their problems to `stderr`, and
/// applies the rule selection options (tags, minimum priority, rate limit).
/// Returns the engine and the number of errors.
pub fn build_engine(
    opts: &DetectOptions,
    stderr: &mut dyn Write,
) -> anyhow::Result<(Engine, usize)> {
    if opts.rules.is_empty() {
        anyhow::bail!("no rules file given: use -r/--rules FILE (repeatable)");
    }
    let mut builder = Engine::builder().rule_matching(if opts.all_matches {
        RuleMatching::All
    } else {
        RuleMatching::First
    });
    for path in &opts.rules {
        builder = builder
            .rules_file(path)
            .map_err(|e| anyhow::anyhow!("cannot read rules file {}: {e}", path.display()))?;
    }
    let mut engine = builder.build();
    let mut errors = 0;
    for d in engine.diagnostics() {
        if d.is_error() {
            errors += 1;
            writeln!(stderr, "{d}")?;
        } else if opts.verbose || opts.validate {
            writeln!(stderr, "{d}")?;
        }
    }
    if !opts.enable_tags.is_empty() {
        // Only the rules with one of the tags stay enabled.
        let all: Vec<String> = engine.rules().into_iter().map(|r| r.name).collect();
        for name in &all {
            engine.set_enabled_by_name(name, false);
        }
        engine.set_enabled_by_tags(&opts.enable_tags, true);
    }
    if !opts.disable_tags.is_empty() {
        engine.set_enabled_by_tags(&opts.disable_tags, false);
    }
    if let Some(p) = opts.min_priority {
        engine.set_min_priority(p);
    }
    if let Some((rate, burst)) = opts.rate_limit {
        engine.set_rate_limit(rate, burst);
    }
    Ok((engine, errors))
}

fn run_with_engine(
    opts: &DetectOptions,
    engine: Engine,
    errors: usize,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<u8> {
    if opts.list {
        for r in engine.rules() {
            writeln!(
                stdout,
                "{}\t{}\t{}\t{}\t[{}]",
                r.name,
                r.source,
                r.priority,
                if r.enabled { "enabled" } else { "disabled" },
                r.tags.join(", ")
            )?;
        }
        return Ok(if errors > 0 {
            EXIT_RULE_ERRORS
        } else {
            EXIT_OK
        });
    }
    let Some(log) = &opts.audit_log else {
        anyhow::bail!(
            "nothing to read: give --audit-log FILE (or - for standard input), or --validate"
        );
    };
    let outputs = AlertOutputs::open(opts)?;
    let engine = Arc::new(engine);
    let stop = Arc::new(AtomicBool::new(false));
    if let Some(addr) = opts.metrics_addr {
        let bound = serve_metrics(addr, engine.clone(), stop.clone())
            .map_err(|e| anyhow::anyhow!("cannot serve metrics on {addr}: {e}"))?;
        if opts.verbose {
            writeln!(stderr, "metrics on http://{bound}/metrics")?;
        }
    }
    let input = AuditInput::parse(log);
    let options = ReadOptions {
        follow: opts.follow,
        poll: Duration::from_millis(250),
        stop: Arc::new(AtomicBool::new(false)),
    };
    let mut failed = false;
    let mut io_error: Option<io::Error> = None;
    let mut bad_lines = 0u64;
    let mut emit = |alert: &Alert| -> io::Result<()> {
        writeln!(stdout, "{}", outputs.line(alert))?;
        outputs.send(alert);
        Ok(())
    };
    let stats = read_audit_events(
        &input,
        &options,
        |event| {
            for alert in engine.evaluate(&event) {
                if opts.fail_on.is_some_and(|p| alert.priority <= p) {
                    failed = true;
                }
                if io_error.is_none() {
                    if let Err(e) = emit(&alert) {
                        io_error = Some(e);
                    }
                }
            }
        },
        |line, e| {
            bad_lines += 1;
            if bad_lines <= 10 {
                let _ = writeln!(stderr, "{log}:{line}: skipped: {e}");
            }
        },
    )
    .map_err(|e| anyhow::anyhow!("cannot read {log}: {e}"))?;
    stop.store(true, Ordering::Relaxed);
    outputs.finish(stderr)?;
    if let Some(e) = io_error {
        return Err(anyhow::anyhow!("cannot write alerts: {e}"));
    }
    if bad_lines > 10 {
        writeln!(stderr, "{log}: {bad_lines} line(s) skipped in total")?;
    }
    if opts.verbose {
        writeln!(
            stderr,
            "{} event(s) from {} line(s); {} alert(s)",
            stats.events,
            stats.lines,
            engine
                .metrics()
                .snapshot()
                .alerts_by_rule
                .values()
                .map(|r| r.alerts)
                .sum::<u64>()
        )?;
    }
    Ok(if errors > 0 {
        EXIT_RULE_ERRORS
    } else if failed && !opts.follow {
        EXIT_ALERTS
    } else {
        EXIT_OK
    })
}

fn list_fields(engine: &Engine, which: Option<&str>, out: &mut dyn Write) -> anyhow::Result<()> {
    let sources: Vec<&Arc<dyn FieldSource>> = engine
        .sources()
        .iter()
        .filter(|s| which.is_none_or(|w| w == s.name()))
        .collect();
    if sources.is_empty() {
        let names: Vec<&str> = engine.sources().iter().map(|s| s.name()).collect();
        anyhow::bail!(
            "unknown source '{}'; sources: {}",
            which.unwrap_or(""),
            names.join(", ")
        );
    }
    for s in sources {
        writeln!(out, "# source: {}", s.name())?;
        for f in s.catalogue().iter() {
            let mut flags = Vec::new();
            if f.flags.list {
                flags.push("list");
            }
            if f.flags.arg_required {
                flags.push("arg required");
            } else if f.flags.arg_allowed {
                flags.push("arg allowed");
            }
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!(" ({})", flags.join(", "))
            };
            writeln!(
                out,
                "{}\t{}{}\t{}",
                f.name, f.type_name, flags, f.description
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = "- rule: exec\n  desc: d\n  condition: ka.target.subresource = exec\n  output: exec by %ka.user.name\n  priority: WARNING\n  source: k8s_audit\n  tags: [k8s]\n";
    const EV: &str = r#"{"kind":"Event","auditID":"1","user":{"username":"bob"},"objectRef":{"resource":"pods","subresource":"exec"},"stageTimestamp":"2024-01-01T00:00:00Z"}"#;

    fn run_with(opts: DetectOptions) -> (u8, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run(&opts, &mut out, &mut err).unwrap();
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn alerts_go_to_the_webhook_too() {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/falco", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .unwrap();
            String::from_utf8(body).unwrap()
        });
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("r.yaml");
        std::fs::write(&rules, RULES).unwrap();
        let log = dir.path().join("audit.log");
        std::fs::write(&log, format!("{EV}\n")).unwrap();
        let (code, _, stderr) = run_with(DetectOptions {
            rules: vec![rules],
            audit_log: Some(log.display().to_string()),
            alert_webhook: Some(url),
            ..Default::default()
        });
        assert_eq!(code, EXIT_OK, "{stderr}");
        let posted: serde_json::Value = serde_json::from_str(&server.join().unwrap()).unwrap();
        assert_eq!(posted["rule"], "exec");
        assert!(posted["output_fields"].is_object());
    }

    #[test]
    fn finite_log_exit_codes_and_json() {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("r.yaml");
        std::fs::write(&rules, RULES).unwrap();
        let log = dir.path().join("audit.log");
        std::fs::write(&log, format!("{EV}\n")).unwrap();
        let out = dir.path().join("alerts.json");
        let opts = DetectOptions {
            rules: vec![rules.clone()],
            audit_log: Some(log.display().to_string()),
            format: AlertFormat::Json,
            out: Some(out.clone()),
            fail_on: Some(Priority::Warning),
            ..Default::default()
        };
        let (code, stdout, _) = run_with(opts.clone());
        assert_eq!(code, EXIT_ALERTS);
        let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(v["rule"], "exec");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), stdout);
        // Below the threshold: exit 0.
        let (code, _, _) = run_with(DetectOptions {
            fail_on: Some(Priority::Error),
            out: None,
            ..opts.clone()
        });
        assert_eq!(code, EXIT_OK);
        // Disabled by tag: no alert.
        let (code, stdout, _) = run_with(DetectOptions {
            disable_tags: vec!["k8s".into()],
            out: None,
            ..opts
        });
        assert_eq!((code, stdout.as_str()), (EXIT_OK, ""));
    }

    #[test]
    fn validate_and_strict() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.yaml");
        std::fs::write(&good, RULES).unwrap();
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, "- rule: b\n  desc: d\n  condition: ka.nope = 1\n  output: o\n  priority: info\n  source: k8s_audit\n").unwrap();
        let (code, stdout, stderr) = run_with(DetectOptions {
            rules: vec![good.clone(), bad.clone()],
            validate: true,
            ..Default::default()
        });
        assert_eq!(code, EXIT_RULE_ERRORS);
        assert!(stdout.starts_with("1 rules"), "{stdout}");
        assert!(
            stderr.contains("bad.yaml:3:14: error in rule 'b': nonexistent field 'ka.nope'"),
            "{stderr}"
        );
        let log = dir.path().join("audit.log");
        std::fs::write(&log, format!("{EV}\n")).unwrap();
        let (code, stdout, _) = run_with(DetectOptions {
            rules: vec![good, bad],
            audit_log: Some(log.display().to_string()),
            strict: true,
            ..Default::default()
        });
        assert_eq!((code, stdout.as_str()), (EXIT_RULE_ERRORS, ""));
    }

    #[test]
    fn metrics_are_served_in_prometheus_format() {
        let mut engine = Engine::builder().rules_text("r.yaml", RULES).build();
        engine.set_rate_limit(1.0, 1.0);
        let event = crate::AuditEvent::from_json(EV).unwrap();
        for _ in 0..3 {
            engine.evaluate(&event);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let addr = serve_metrics(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(engine),
            stop.clone(),
        )
        .unwrap();
        let get = |path: &str| {
            let mut conn = std::net::TcpStream::connect(addr).unwrap();
            write!(conn, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut response = String::new();
            conn.read_to_string(&mut response).unwrap();
            response
        };
        let body = get("/metrics");
        assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
        // Three events, one alert (the rate limiter drops two).
        assert!(
            body.contains("palisade_detect_events_total{rule=\"exec\",priority=\"Warning\",source=\"k8s_audit\"} 1\n"),
            "{body}"
        );
        assert!(
            body.contains("palisade_audit_events_total{source=\"k8s_audit\"} 3\n"),
            "{body}"
        );
        assert!(
            body.contains("palisade_detect_rate_limited_total 2\n"),
            "{body}"
        );
        assert!(get("/nope").starts_with("HTTP/1.1 404"));
        stop.store(true, Ordering::Relaxed);
    }

    #[test]
    fn alert_outputs_attach_to_the_engine_as_a_sink() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("alerts.log");
        let outputs = Arc::new(
            AlertOutputs::open(&DetectOptions {
                out: Some(out.clone()),
                ..Default::default()
            })
            .unwrap(),
        );
        let mut engine = Engine::builder().rules_text("r.yaml", RULES).build();
        let sink = outputs.clone();
        engine.set_alert_sink(Arc::new(move |alert| sink.send(alert)));
        let event = crate::AuditEvent::from_json(EV).unwrap();
        let alerts = engine.evaluate(&event);
        assert_eq!(alerts.len(), 1);
        drop(engine);
        let written = std::fs::read_to_string(&out).unwrap();
        assert_eq!(
            written, "00:00:00.000000000: Warning exec by bob\n",
            "text format, one line per alert"
        );
        let mut stderr = Vec::new();
        outputs.finish(&mut stderr).unwrap();
        assert!(stderr.is_empty());
    }

    /// `--listen` finishes its outputs while the server's engine may still
    /// hold them: a failed write is reported all the same.
    #[test]
    fn alert_outputs_finish_while_shared_reports_a_failed_write() {
        if !std::path::Path::new("/dev/full").exists() {
            eprintln!("skipping: no /dev/full");
            return;
        }
        let outputs = Arc::new(
            AlertOutputs::open(&DetectOptions {
                out: Some("/dev/full".into()),
                ..Default::default()
            })
            .unwrap(),
        );
        let mut engine = Engine::builder().rules_text("r.yaml", RULES).build();
        let sink = outputs.clone();
        engine.set_alert_sink(Arc::new(move |alert| sink.send(alert)));
        let event = crate::AuditEvent::from_json(EV).unwrap();
        assert_eq!(engine.evaluate(&event).len(), 1);
        let err = outputs.finish(&mut Vec::new()).unwrap_err();
        assert!(err.to_string().starts_with("cannot write alerts"), "{err}");
        // The engine still holds the outputs; later alerts are harmless.
        assert_eq!(engine.evaluate(&event).len(), 1);
    }

    #[test]
    fn lists_fields() {
        let (code, stdout, _) = run_with(DetectOptions {
            list_fields: Some(Some("k8s_audit".into())),
            ..Default::default()
        });
        assert_eq!(code, EXIT_OK);
        assert!(stdout.contains("ka.user.name\tCHARBUF\t"));
        assert!(!stdout.contains("proc.name"));
    }
}
