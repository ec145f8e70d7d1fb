//! User and group names, from the passwd and group files of the process's
//! own root: the host's for host processes, the container's (through
//! `/proc/PID/root`) for containers, as libsinsp does. Files are read on
//! first use and re-read on a miss at most every few seconds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One passwd entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Home directory.
    pub home: String,
    /// Login shell.
    pub shell: String,
}

#[derive(Debug, Default)]
struct Db {
    users: HashMap<u32, Arc<User>>,
    groups: HashMap<u32, String>,
    loaded: Option<Instant>,
}

/// Cached passwd/group databases, one per root.
#[derive(Debug)]
pub struct UserDb {
    host_root: PathBuf,
    dbs: HashMap<String, Db>,
    /// Recently started processes of each container: other ways into its
    /// files when the event's process has already exited.
    members: HashMap<String, Vec<u32>>,
    reload_after: Duration,
    /// Bumped whenever a database is (re)loaded or dropped, so that callers
    /// caching answers know when to ask again.
    generation: u64,
}

/// Parses passwd lines: `name:x:uid:gid:gecos:home:shell`.
pub fn parse_passwd(text: &str) -> HashMap<u32, User> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 7 || line.starts_with('#') {
            continue;
        }
        let Ok(uid) = f[2].parse::<u32>() else {
            continue;
        };
        // The first entry for a uid wins, as getpwuid() returns it.
        out.entry(uid).or_insert_with(|| User {
            name: f[0].to_string(),
            home: f[5].to_string(),
            shell: f[6].to_string(),
        });
    }
    out
}

/// Parses group lines: `name:x:gid:members`.
pub fn parse_group(text: &str) -> HashMap<u32, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 3 || line.starts_with('#') {
            continue;
        }
        if let Ok(gid) = f[2].parse::<u32>() {
            out.entry(gid).or_insert_with(|| f[0].to_string());
        }
    }
    out
}

impl UserDb {
    /// Host files under `host_root` (`/` normally; the host's root mounted
    /// elsewhere when running in a container).
    pub fn new(host_root: impl Into<PathBuf>) -> UserDb {
        UserDb {
            host_root: host_root.into(),
            dbs: HashMap::new(),
            members: HashMap::new(),
            reload_after: Duration::from_secs(5),
            generation: 0,
        }
    }

    fn db(
        &mut self,
        pids: &[u32],
        container: Option<&str>,
        missing: impl Fn(&Db) -> bool,
    ) -> Option<&Db> {
        // This runs for every event: the common case (a loaded database
        // that has the id) allocates nothing.
        let key = container.unwrap_or("host");
        let reload_after = self.reload_after;
        let needs_load = match self.dbs.get(key) {
            None => true,
            Some(db) => {
                db.loaded.is_none()
                    || (missing(db) && db.loaded.is_some_and(|t| t.elapsed() > reload_after))
            }
        };
        if needs_load {
            self.generation += 1;
            let roots: Vec<PathBuf> = match container {
                // A container's files are seen through the root of one of
                // its processes: the event's, or its parent's when the
                // event's process is already gone.
                Some(c) => pids
                    .iter()
                    .chain(self.members.get(c).into_iter().flatten())
                    .map(|p| PathBuf::from(format!("/proc/{p}/root")))
                    .collect(),
                None => vec![self.host_root.clone()],
            };
            let db = self.dbs.entry(key.to_string()).or_default();
            for root in roots {
                if load(db, &root) {
                    break;
                }
            }
        }
        self.dbs.get(key)
    }

    /// Changes whenever a database is loaded or dropped.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Notes that `pid` runs in `container` (kept: the last few per container).
    pub fn note_member(&mut self, container: &str, pid: u32) {
        const KEEP: usize = 4;
        match self.members.get_mut(container) {
            Some(v) => {
                v.retain(|&p| p != pid);
                v.insert(0, pid);
                v.truncate(KEEP);
            }
            None => {
                self.members.insert(container.to_string(), vec![pid]);
            }
        }
    }

    /// Forgets a container's database and members (none of its processes is left).
    pub fn forget(&mut self, container: &str) {
        self.generation += 1;
        self.dbs.remove(container);
        self.members.remove(container);
    }

    /// The user with effective id `uid` for a process (`pids`: the process,
    /// then others of the same container to read its files through).
    pub fn user(&mut self, pids: &[u32], container: Option<&str>, uid: u32) -> Option<Arc<User>> {
        self.db(pids, container, |d| !d.users.contains_key(&uid))?
            .users
            .get(&uid)
            .cloned()
    }

    /// The name of group `gid` for a process (as for [`UserDb::user`]).
    pub fn group(&mut self, pids: &[u32], container: Option<&str>, gid: u32) -> Option<String> {
        self.db(pids, container, |d| !d.groups.contains_key(&gid))?
            .groups
            .get(&gid)
            .cloned()
    }
}

/// Reads the files under `root`; false when the passwd file cannot be read
/// (the database then stays unloaded, to be tried again).
fn load(db: &mut Db, root: &Path) -> bool {
    let Ok(t) = std::fs::read_to_string(root.join("etc/passwd")) else {
        return false;
    };
    db.loaded = Some(Instant::now());
    db.users = parse_passwd(&t)
        .into_iter()
        .map(|(k, v)| (k, Arc::new(v)))
        .collect();
    if let Ok(t) = std::fs::read_to_string(root.join("etc/group")) {
        db.groups = parse_group(&t);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reads_roots() {
        let users = parse_passwd("root:x:0:0:root:/root:/bin/bash\nbad line\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\ndup:x:0:0::/:/bin/sh\n");
        assert_eq!(users[&0].name, "root");
        assert_eq!(users[&33].home, "/var/www");
        assert_eq!(users.len(), 2);
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "alice:x:1000:1000::/home/alice:/bin/zsh\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("etc/group"), "staff:x:50:\n").unwrap();
        let mut db = UserDb::new(dir.path());
        assert_eq!(db.user(&[1], None, 1000).unwrap().shell, "/bin/zsh");
        assert_eq!(db.user(&[1], None, 4242), None);
        assert_eq!(db.group(&[1], None, 50).as_deref(), Some("staff"));
        // A container whose first process is gone: read through the next one.
        let gone = u32::MAX - 1;
        let me = std::process::id();
        assert!(db.user(&[gone, me], Some("c1"), 0).is_some());
        // None readable: nothing cached, tried again next time.
        assert!(db.user(&[gone], Some("c2"), 0).is_none());
        assert!(db.user(&[me], Some("c2"), 0).is_some());
    }

    #[test]
    fn generation_changes_only_when_a_database_does() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/passwd"), "a:x:1:1::/:/bin/sh\n").unwrap();
        let mut db = UserDb::new(dir.path());
        db.reload_after = Duration::ZERO;
        assert!(db.user(&[1], None, 1).is_some());
        let g = db.generation();
        // Hits read nothing: what callers cached stays valid.
        assert!(db.user(&[1], None, 1).is_some());
        assert_eq!(db.generation(), g);
        // A miss re-reads the files: cached answers must be asked again.
        assert!(db.user(&[1], None, 2).is_none());
        assert_ne!(db.generation(), g);
        let g = db.generation();
        db.forget("c1");
        assert_ne!(db.generation(), g);
    }
}
