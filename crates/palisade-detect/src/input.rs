//! Reading audit events: JSON-lines files (optionally followed like
//! `tail -F`, across rotation and truncation) and standard input.
//!
//! The API server's log backend writes one `Event` per line; a line holding
//! an `EventList` (as some collectors write) is accepted too. A line that is
//! not an audit event is reported to the caller and skipped.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::k8saudit::{decode_audit_batch_lossy, AuditError, AuditEvent};

/// Where audit events come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditInput {
    /// Standard input, until it ends.
    Stdin,
    /// A JSON-lines file.
    File(PathBuf),
}

impl AuditInput {
    /// `-` is standard input; anything else a path.
    pub fn parse(arg: &str) -> AuditInput {
        if arg == "-" {
            AuditInput::Stdin
        } else {
            AuditInput::File(PathBuf::from(arg))
        }
    }
}

/// How to read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Keep reading as the file grows, reopening it when rotated or truncated.
    pub follow: bool,
    /// How often to look for new data when following.
    pub poll: Duration,
    /// Set to stop following.
    pub stop: Arc<AtomicBool>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            follow: false,
            poll: Duration::from_millis(200),
            stop: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// What reading found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReadStats {
    /// Non-empty lines read.
    pub lines: u64,
    /// Events decoded.
    pub events: u64,
    /// Lines or items that were not audit events.
    pub errors: u64,
    /// Times the followed file was reopened (rotation or truncation).
    pub reopened: u64,
}

/// Reads events from `input`, calling `on_event` for each event and
/// `on_error` for each line that is not one (with its line number).
pub fn read_audit_events(
    input: &AuditInput,
    options: &ReadOptions,
    mut on_event: impl FnMut(AuditEvent),
    mut on_error: impl FnMut(u64, AuditError),
) -> io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut handle_line = |line: &[u8], stats: &mut ReadStats| {
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            return;
        }
        stats.lines += 1;
        match decode_audit_batch_lossy(trimmed) {
            Ok((events, errors)) => {
                for e in events {
                    stats.events += 1;
                    on_event(e.with_number(stats.events));
                }
                for e in errors {
                    stats.errors += 1;
                    on_error(stats.lines, e);
                }
            }
            Err(e) => {
                stats.errors += 1;
                on_error(stats.lines, e);
            }
        }
    };
    match input {
        AuditInput::Stdin => {
            let stdin = io::stdin();
            let mut lock = stdin.lock();
            let mut buf = Vec::new();
            loop {
                buf.clear();
                if lock.read_until(b'\n', &mut buf)? == 0 {
                    break;
                }
                handle_line(&buf, &mut stats);
            }
        }
        AuditInput::File(path) => {
            if options.follow {
                follow(path, options, &mut stats, &mut handle_line)?;
            } else {
                let mut reader = BufReader::new(File::open(path)?);
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    if reader.read_until(b'\n', &mut buf)? == 0 {
                        break;
                    }
                    handle_line(&buf, &mut stats);
                }
            }
        }
    }
    Ok(stats)
}

/// The identity of a file, to notice that the path now names another one.
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        (0, 0)
    }
}

fn follow(
    path: &Path,
    options: &ReadOptions,
    stats: &mut ReadStats,
    handle_line: &mut impl FnMut(&[u8], &mut ReadStats),
) -> io::Result<()> {
    let stopped = || options.stop.load(Ordering::Relaxed);
    // Like `tail -F`, wait for the file to appear.
    let mut file = loop {
        match File::open(path) {
            Ok(f) => break f,
            Err(e) if e.kind() == io::ErrorKind::NotFound && !stopped() => {
                std::thread::sleep(options.poll)
            }
            Err(e) => {
                if stopped() {
                    return Ok(());
                }
                return Err(e);
            }
        }
    };
    let mut id = identity(&file.metadata()?);
    let mut pos: u64 = 0;
    let mut partial: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut chunk)?;
        if n > 0 {
            pos += n as u64;
            let mut data = &chunk[..n];
            while let Some(nl) = memchr::memchr(b'\n', data) {
                if partial.is_empty() {
                    handle_line(&data[..nl], stats);
                } else {
                    partial.extend_from_slice(&data[..nl]);
                    handle_line(&partial, stats);
                    partial.clear();
                }
                data = &data[nl + 1..];
            }
            partial.extend_from_slice(data);
            continue;
        }
        if stopped() {
            if !partial.is_empty() {
                handle_line(&partial, stats);
            }
            return Ok(());
        }
        std::thread::sleep(options.poll);
        // Rotation: the path names a new file. Truncation: it shrank.
        match std::fs::metadata(path) {
            Ok(meta) => {
                let new_id = identity(&meta);
                if new_id != id {
                    // Drain what the old file still has, then switch.
                    let mut rest = Vec::new();
                    file.read_to_end(&mut rest)?;
                    partial.extend_from_slice(&rest);
                    if !partial.is_empty() {
                        handle_line(&partial, stats);
                        partial.clear();
                    }
                    if let Ok(f) = File::open(path) {
                        file = f;
                        id = new_id;
                        pos = 0;
                        stats.reopened += 1;
                    }
                } else if meta.len() < pos {
                    file.seek(SeekFrom::Start(0))?;
                    pos = 0;
                    partial.clear();
                    stats.reopened += 1;
                }
            }
            // Moved away and not yet recreated: keep the old handle.
            Err(_) => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const EV: &str =
        r#"{"kind":"Event","auditID":"1","verb":"get","stageTimestamp":"2024-05-01T10:00:00Z"}"#;

    #[test]
    fn reads_lines_and_reports_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, format!("{EV}\n\nnot json\n{EV}")).unwrap();
        let mut events = 0;
        let mut errors = Vec::new();
        let stats = read_audit_events(
            &AuditInput::File(path),
            &ReadOptions::default(),
            |_| events += 1,
            |line, _| errors.push(line),
        )
        .unwrap();
        assert_eq!(events, 2);
        assert_eq!(errors, vec![2]);
        assert_eq!(stats.lines, 3);
    }

    #[test]
    fn follows_growth_rotation_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, format!("{EV}\n")).unwrap();
        let options = ReadOptions {
            follow: true,
            poll: Duration::from_millis(10),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let stop = options.stop.clone();
        let p = path.clone();
        let writer = std::thread::spawn(move || {
            let wait = || std::thread::sleep(Duration::from_millis(80));
            wait();
            // Growth, with a line written in two parts.
            let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
            f.write_all(&EV.as_bytes()[..20]).unwrap();
            f.flush().unwrap();
            wait();
            f.write_all(format!("{}\n", &EV[20..]).as_bytes()).unwrap();
            drop(f);
            wait();
            // Rotation: rename away, create anew.
            std::fs::rename(&p, p.with_extension("1")).unwrap();
            std::fs::write(&p, format!("{EV}\n{EV}\n")).unwrap();
            wait();
            // Truncation.
            std::fs::write(&p, format!("{EV}\n")).unwrap();
            wait();
            wait();
            stop.store(true, Ordering::Relaxed);
        });
        let mut events = 0;
        let stats = read_audit_events(
            &AuditInput::File(path),
            &options,
            |_| events += 1,
            |_, _| {},
        )
        .unwrap();
        writer.join().unwrap();
        assert_eq!(events, 5, "{stats:?}");
        assert!(stats.reopened >= 2, "{stats:?}");
    }
}
