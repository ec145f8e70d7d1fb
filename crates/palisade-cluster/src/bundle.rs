//! Evidence bundles: a gzipped tar of the collected files, with a manifest of
//! SHA-256 hashes and collection times, written atomically.
//!
//! Layout (everything under one directory named after the bundle):
//!
//! ```text
//! <name>/manifest.json   what was collected, when, by whom, from where; per file:
//!                        path, size, sha256, collectedAt, source (the API path)
//! <name>/SHA256SUMS      `sha256sum -c` format, for every file but itself
//! <name>/...             the files
//! ```
//!
//! The bundle is written to a temporary file in the target directory, synced,
//! and hard-linked into place, which never replaces an existing bundle: a
//! bundle either exists whole or not at all (on a filesystem without hard
//! links it is copied into a newly created file instead). Its own SHA-256 is
//! returned (and recorded by the caller in the audit trail).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

/// One collected file.
#[derive(Debug, Clone)]
pub struct EvidenceFile {
    /// Path inside the bundle (`pod.json`, `logs/app.log`).
    pub path: String,
    pub bytes: Vec<u8>,
    /// When it was collected (RFC 3339).
    pub collected_at: String,
    /// Where it came from: an API path, or `palisade` for derived files.
    pub source: String,
}

impl EvidenceFile {
    pub fn json(path: &str, value: &Json, source: &str) -> EvidenceFile {
        let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
        bytes.push(b'\n');
        EvidenceFile {
            path: path.to_string(),
            bytes,
            collected_at: crate::now(),
            source: source.to_string(),
        }
    }

    pub fn text(path: &str, text: impl Into<String>, source: &str) -> EvidenceFile {
        EvidenceFile {
            path: path.to_string(),
            bytes: text.into().into_bytes(),
            collected_at: crate::now(),
            source: source.to_string(),
        }
    }
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A written bundle.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
    pub manifest: Json,
}

/// Writes `files` and their manifest as `dir/name.tar.gz`, atomically, never
/// replacing an existing bundle: if that name is taken (a re-run within the
/// same second), `name-2`, `name-3`, … is used. `meta` goes into the manifest
/// as is (case, pod, operator, times, errors).
pub fn write(dir: &Path, name: &str, meta: Json, files: &[EvidenceFile]) -> Result<Written> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the evidence directory {}", dir.display()))?;
    let entries: Vec<Json> = files
        .iter()
        .map(|f| {
            json!({
                "path": f.path,
                "size": f.bytes.len(),
                "sha256": sha256_hex(&f.bytes),
                "collectedAt": f.collected_at,
                "source": f.source,
            })
        })
        .collect();
    let mut manifest = meta;
    manifest["files"] = Json::Array(entries);
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    manifest_bytes.push(b'\n');
    let mut sums = String::new();
    for f in files {
        sums.push_str(&format!("{}  {}\n", sha256_hex(&f.bytes), f.path));
    }
    sums.push_str(&format!("{}  manifest.json\n", sha256_hex(&manifest_bytes)));

    for attempt in 1..=1000 {
        let name = if attempt == 1 {
            name.to_string()
        } else {
            format!("{name}-{attempt}")
        };
        let final_path = dir.join(format!("{name}.tar.gz"));
        if final_path.exists() {
            continue;
        }
        let temp_path = dir.join(format!(".{name}.tar.gz.partial-{}", std::process::id()));
        if let Err(e) = write_archive(&temp_path, &name, &manifest_bytes, &sums, files) {
            let _ = std::fs::remove_file(&temp_path);
            return Err(e);
        }
        let placed = place_without_replacing(&temp_path, &final_path, |from, to| {
            std::fs::hard_link(from, to)
        });
        let _ = std::fs::remove_file(&temp_path);
        match placed {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot move {} to {}",
                        temp_path.display(),
                        final_path.display()
                    )
                })
            }
        }
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        let bytes = std::fs::read(&final_path)
            .with_context(|| format!("cannot read back {}", final_path.display()))?;
        let sha256 = sha256_hex(&bytes);
        // A sidecar with the bundle's own hash, in `sha256sum -c` format.
        let sidecar = dir.join(format!("{name}.tar.gz.sha256"));
        std::fs::write(&sidecar, format!("{sha256}  {name}.tar.gz\n"))
            .with_context(|| format!("cannot write {}", sidecar.display()))?;
        return Ok(Written {
            path: final_path,
            sha256,
            size: bytes.len() as u64,
            manifest,
        });
    }
    anyhow::bail!(
        "cannot find a free name for the bundle {name} in {}",
        dir.display()
    )
}

/// Puts the finished `temp_path` at `final_path` only if that name is still
/// free: `Ok(false)` when it is taken (by a bundle written since the name was
/// chosen, which must never be replaced). `link` is [`std::fs::hard_link`]
/// (a parameter for the tests): a hard link is atomic and never replaces.
/// On a filesystem without hard links the bytes are copied into a file
/// created with `create_new`, which never replaces either; any other error
/// is returned. `temp_path` is left for the caller to remove.
fn place_without_replacing(
    temp_path: &Path,
    final_path: &Path,
    link: impl FnOnce(&Path, &Path) -> std::io::Result<()>,
) -> std::io::Result<bool> {
    match link(temp_path, final_path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) if links_unsupported(&e) => copy_without_replacing(temp_path, final_path),
        Err(e) => Err(e),
    }
}

/// Whether a hard-link error says the filesystem has no hard links
/// (`EOPNOTSUPP`/`ENOTSUP`, or what the standard library maps to `Unsupported`).
fn links_unsupported(e: &std::io::Error) -> bool {
    if e.kind() == std::io::ErrorKind::Unsupported {
        return true;
    }
    // The errno values of "operation not supported", which the standard
    // library does not map to `Unsupported` on every platform.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const NOT_SUPPORTED: &[i32] = &[95];
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    const NOT_SUPPORTED: &[i32] = &[45, 102];
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd"
    )))]
    const NOT_SUPPORTED: &[i32] = &[];
    e.raw_os_error()
        .is_some_and(|code| NOT_SUPPORTED.contains(&code))
}

/// Copies `temp_path` to `final_path`, which must not exist (`Ok(false)` if
/// it does); synced. A copy that fails half-way is removed: the file is ours.
fn copy_without_replacing(temp_path: &Path, final_path: &Path) -> std::io::Result<bool> {
    let mut target = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(final_path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(e),
    };
    let copied = File::open(temp_path)
        .and_then(|mut source| std::io::copy(&mut source, &mut target))
        .and_then(|_| target.sync_all());
    match copied {
        Ok(()) => Ok(true),
        Err(e) => {
            drop(target);
            let _ = std::fs::remove_file(final_path);
            Err(e)
        }
    }
}

/// The gzipped tar, everything under `name/`, synced to disk.
fn write_archive(
    temp_path: &Path,
    name: &str,
    manifest_bytes: &[u8],
    sums: &str,
    files: &[EvidenceFile],
) -> Result<()> {
    let file =
        File::create(temp_path).with_context(|| format!("cannot write {}", temp_path.display()))?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mtime = jiff::Timestamp::now().as_second().max(0) as u64;
    let mut add = |path: &str, bytes: &[u8]| -> Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("{name}/{path}"), bytes)
            .with_context(|| format!("cannot add {path} to the bundle"))?;
        Ok(())
    };
    add("manifest.json", manifest_bytes)?;
    add("SHA256SUMS", sums.as_bytes())?;
    for f in files {
        add(&f.path, &f.bytes)?;
    }
    let gz = tar.into_inner().context("cannot finish the tar archive")?;
    let mut file = gz.finish().context("cannot finish the gzip stream")?;
    file.flush()?;
    file.sync_all()
        .with_context(|| format!("cannot sync {}", temp_path.display()))?;
    Ok(())
}

/// Reads a bundle back: every file (manifest and sums included) by its path
/// inside the bundle directory. For tests and `verify`.
pub fn read(path: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    use std::io::Read;
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().into_owned();
        let inner = name
            .split_once('/')
            .map_or(name.clone(), |(_, p)| p.to_string());
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        out.push((inner, bytes));
    }
    Ok(out)
}

/// Checks every file of a bundle against its manifest; the problems found.
pub fn verify(path: &Path) -> Result<Vec<String>> {
    let files = read(path)?;
    let manifest: Json = files
        .iter()
        .find(|(p, _)| p == "manifest.json")
        .map(|(_, b)| serde_json::from_slice(b))
        .transpose()?
        .context("the bundle has no manifest.json")?;
    let mut problems = Vec::new();
    for entry in manifest["files"].as_array().into_iter().flatten() {
        let p = entry["path"].as_str().unwrap_or_default();
        match files.iter().find(|(q, _)| q == p) {
            None => problems.push(format!("{p}: listed in the manifest, missing")),
            Some((_, bytes)) => {
                if entry["sha256"].as_str() != Some(sha256_hex(bytes).as_str()) {
                    problems.push(format!("{p}: SHA-256 differs from the manifest"));
                }
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_links(_: &Path, _: &Path) -> std::io::Result<()> {
        Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
    }

    #[test]
    fn without_hard_links_copies_into_a_new_file_and_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let temp = dir.path().join(".b.tar.gz.partial");
        let target = dir.path().join("b.tar.gz");
        std::fs::write(&temp, b"new bundle").unwrap();

        assert!(place_without_replacing(&temp, &target, no_links).unwrap());
        assert_eq!(std::fs::read(&target).unwrap(), b"new bundle");

        // The name taken meanwhile: nothing is written, the bundle there stays.
        std::fs::write(&target, b"earlier bundle").unwrap();
        assert!(!place_without_replacing(&temp, &target, no_links).unwrap());
        assert_eq!(std::fs::read(&target).unwrap(), b"earlier bundle");

        // "Operation not supported" as an errno counts as no hard links too.
        #[cfg(target_os = "linux")]
        {
            let other = dir.path().join("c.tar.gz");
            let eopnotsupp = |_: &Path, _: &Path| Err(std::io::Error::from_raw_os_error(95));
            assert!(place_without_replacing(&temp, &other, eopnotsupp).unwrap());
            assert_eq!(std::fs::read(&other).unwrap(), b"new bundle");
        }
    }

    #[test]
    fn other_link_errors_are_returned_without_a_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let temp = dir.path().join(".b.tar.gz.partial");
        let target = dir.path().join("b.tar.gz");
        std::fs::write(&temp, b"new bundle").unwrap();
        let denied =
            |_: &Path, _: &Path| Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        let err = place_without_replacing(&temp, &target, denied).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
        assert!(!target.exists());

        // A real hard link onto a taken name: reported as taken, not replaced.
        std::fs::write(&target, b"earlier bundle").unwrap();
        let placed = place_without_replacing(&temp, &target, |a, b| std::fs::hard_link(a, b));
        assert!(!placed.unwrap());
        assert_eq!(std::fs::read(&target).unwrap(), b"earlier bundle");
    }

    #[test]
    fn writes_atomically_with_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![
            EvidenceFile::text("logs/app.log", "hello\n", "/api/v1/namespaces/x/pods/p/log"),
            EvidenceFile::json(
                "pod.json",
                &json!({"kind": "Pod"}),
                "/api/v1/namespaces/x/pods/p",
            ),
        ];
        let written = write(dir.path(), "case-1", json!({"case": "1"}), &files).unwrap();
        assert!(written.path.ends_with("case-1.tar.gz"));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("partial"))
            .collect();
        assert!(leftovers.is_empty());
        let read_back = read(&written.path).unwrap();
        let names: Vec<&str> = read_back.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            ["manifest.json", "SHA256SUMS", "logs/app.log", "pod.json"]
        );
        let sums = String::from_utf8(read_back[1].1.clone()).unwrap();
        assert!(sums.contains(&format!("{}  logs/app.log", sha256_hex(b"hello\n"))));
        assert_eq!(
            written.manifest["files"][0]["sha256"],
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        );
        assert!(verify(&written.path).unwrap().is_empty());
        let sidecar = std::fs::read_to_string(dir.path().join("case-1.tar.gz.sha256")).unwrap();
        assert_eq!(sidecar, format!("{}  case-1.tar.gz\n", written.sha256));

        // The same name again: a second bundle beside the first, which is untouched.
        let first = std::fs::read(&written.path).unwrap();
        let again = write(dir.path(), "case-1", json!({"case": "1"}), &files[..1]).unwrap();
        assert!(again.path.ends_with("case-1-2.tar.gz"), "{:?}", again.path);
        assert_eq!(std::fs::read(&written.path).unwrap(), first);
        let names: Vec<String> = read(&again.path)
            .unwrap()
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(names, ["manifest.json", "SHA256SUMS", "logs/app.log"]);
        let sidecar = std::fs::read_to_string(dir.path().join("case-1-2.tar.gz.sha256")).unwrap();
        assert_eq!(sidecar, format!("{}  case-1-2.tar.gz\n", again.sha256));
    }
}
