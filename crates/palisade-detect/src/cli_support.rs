//! The logic of `palisade detect`, kept here so the command file stays a thin
//! argument parser and everything is testable in this crate.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
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
    let mut out_file = match &opts.out {
        Some(p) => Some(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", p.display()))?,
        ),
        None => None,
    };
    let webhook = match &opts.alert_webhook {
        Some(url) => Some(
            crate::webhook::WebhookSink::start(url, |e| eprintln!("warning: {e}"))
                .map_err(anyhow::Error::msg)?,
        ),
        None => None,
    };
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
        let line = match opts.format {
            AlertFormat::Text => alert.to_text(),
            AlertFormat::Json => alert.to_json(),
        };
        writeln!(stdout, "{line}")?;
        if let Some(f) = out_file.as_mut() {
            writeln!(f, "{line}")?;
        }
        if let Some(sink) = &webhook {
            sink.send(alert.to_json());
        }
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
    if let Some(sink) = webhook {
        let stats = sink.finish();
        let (failed, dropped) = (
            stats.failed.load(std::sync::atomic::Ordering::Relaxed),
            stats.dropped.load(std::sync::atomic::Ordering::Relaxed),
        );
        if failed + dropped > 0 {
            writeln!(
                stderr,
                "alert webhook: {failed} alert(s) not delivered, {dropped} dropped (queue full)"
            )?;
        }
    }
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
                .map(|(_, n)| n)
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
