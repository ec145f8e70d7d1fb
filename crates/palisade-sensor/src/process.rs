//! The process table: seeded from /proc at start, then kept by the fork,
//! exec, exit and chdir records. Rules read `proc.*` from it, including the
//! parent and ancestors (`proc.pname`, `proc.aname[N]`).
//!
//! What the kernel sends at exec (argv, the path given to exec, cgroups, the
//! tty) is authoritative; /proc is read only for processes that started
//! before the sensor or whose records were lost, and a value that cannot be
//! known stays unknown (`<NA>` in outputs) rather than guessed.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::container::{self, ContainerRef};
use crate::wire::{ExecRecord, ForkRecord};

/// One process (thread group).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Process {
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: u32,
    /// Pid in its own pid namespace (0: unknown).
    pub vpid: u32,
    /// Session id.
    pub sid: u32,
    /// Process group id.
    pub pgid: u32,
    /// `comm`: the executable's name, at most 15 bytes (`proc.name`).
    pub comm: String,
    /// `argv[0]` (`proc.exe`).
    pub exe: String,
    /// The executable's full path (`proc.exepath`); empty when unknown.
    pub exepath: String,
    /// argv[1..] (`proc.args`).
    pub args: Vec<String>,
    /// Working directory, when known.
    pub cwd: Option<String>,
    /// Controlling terminal, encoded (0: none).
    pub tty: u32,
    /// Audit login uid (`u32::MAX`: unset).
    pub loginuid: u32,
    /// The container, `None` on the host.
    pub container: Option<ContainerRef>,
    /// Start time, ns since the epoch (0: unknown).
    pub start_ns: u64,
    /// Start of the init process of its pid namespace, ns since the epoch
    /// (0: unknown): `proc.pidns_init_start_ts`, `container.start_ts`.
    pub pidns_init_start_ns: u64,
    /// The executable is a memfd.
    pub exe_from_memfd: bool,
    /// Inode of the executable (0: unknown).
    pub exe_ino: u64,
    /// Whether its image is known (from an exec record or /proc).
    pub known: bool,
    /// When its exit was seen.
    pub exited: Option<Instant>,
}

impl Process {
    /// `proc.cmdline`: name and arguments, space separated.
    pub fn cmdline(&self) -> String {
        let mut s = self.comm.clone();
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }
}

/// How long an exited process stays, for records of it still in flight on
/// other CPUs' buffers.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// Hashing of pids: every record looks its process up several times, and
/// SipHash was a visible share of that. Pids are small integers the kernel
/// hands out, not keys a process can choose, so a multiplicative hash is
/// enough.
#[derive(Debug, Default, Clone, Copy)]
struct PidHasher(u64);

impl std::hash::Hasher for PidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(n)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type PidHash = std::hash::BuildHasherDefault<PidHasher>;

/// The table.
#[derive(Debug, Default)]
pub struct ProcessTable {
    procs: HashMap<u32, Process, PidHash>,
    exits: VecDeque<(u32, Instant)>,
    /// Where /proc is (tests point it elsewhere).
    proc_root: String,
    /// Added to CLOCK_BOOTTIME to get the epoch time, ns.
    boot_to_epoch_ns: i128,
}

fn argv(bytes: &[u8]) -> Vec<String> {
    let trimmed = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// Makes `path` absolute against `cwd` and normalises `.` and `..`, as
/// libsinsp does for paths given to syscalls. A relative path with no known
/// directory stays relative.
pub fn absolute(path: &str, cwd: Option<&str>) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        match cwd {
            Some(c) => format!("{}/{}", c.trim_end_matches('/'), path),
            None => return path.to_string(),
        }
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in joined.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = String::with_capacity(joined.len());
    for p in &parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

fn comm_of(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or(path);
    // The kernel keeps the first 15 bytes; cut on a character boundary.
    let mut end = base.len().min(15);
    while !base.is_char_boundary(end) {
        end -= 1;
    }
    base[..end].to_string()
}

impl ProcessTable {
    /// An empty table reading /proc at `proc_root`.
    pub fn new(proc_root: &str) -> ProcessTable {
        ProcessTable {
            procs: HashMap::default(),
            exits: VecDeque::new(),
            proc_root: proc_root.trim_end_matches('/').to_string(),
            boot_to_epoch_ns: boot_to_epoch_ns(),
        }
    }

    /// Converts a CLOCK_BOOTTIME timestamp to ns since the epoch.
    pub fn epoch_ns(&self, boot_ns: u64) -> u64 {
        u64::try_from(i128::from(boot_ns) + self.boot_to_epoch_ns).unwrap_or(0)
    }

    /// Reads every process of /proc.
    pub fn seed(&mut self) {
        let Ok(dir) = std::fs::read_dir(&self.proc_root) else {
            return;
        };
        for entry in dir.flatten() {
            if let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            {
                if let Some(p) = self.read_proc(pid) {
                    self.procs.insert(pid, p);
                }
            }
        }
        self.seed_pidns_init_starts();
    }

    /// Fills `pidns_init_start_ns` of the seeded processes: the start of the
    /// process that is pid 1 in the same pid namespace, when it is seen.
    fn seed_pidns_init_starts(&mut self) {
        let ns_of = |root: &str, pid: u32| -> Option<String> {
            std::fs::read_link(format!("{root}/{pid}/ns/pid"))
                .ok()
                .map(|l| l.to_string_lossy().into_owned())
        };
        let mut namespaces: HashMap<u32, String> = HashMap::new();
        let mut init_starts: HashMap<String, u64> = HashMap::new();
        for p in self.procs.values() {
            let Some(ns) = ns_of(&self.proc_root, p.pid) else {
                continue;
            };
            if p.vpid == 1 && p.start_ns != 0 {
                init_starts.insert(ns.clone(), p.start_ns);
            }
            namespaces.insert(p.pid, ns);
        }
        for p in self.procs.values_mut() {
            if let Some(start) = namespaces.get(&p.pid).and_then(|ns| init_starts.get(ns)) {
                p.pidns_init_start_ns = *start;
            }
        }
    }

    /// Number of processes.
    pub fn len(&self) -> usize {
        self.procs.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.procs.is_empty()
    }

    /// Every process.
    pub fn iter(&self) -> impl Iterator<Item = &Process> {
        self.procs.values()
    }

    /// A process by pid.
    pub fn get(&self, pid: u32) -> Option<&Process> {
        self.procs.get(&pid)
    }

    /// Inserts or replaces a process.
    pub fn insert(&mut self, p: Process) {
        self.procs.insert(p.pid, p);
    }

    /// The process, read from /proc if it is not in the table yet.
    pub fn get_or_load(&mut self, pid: u32) -> Option<&Process> {
        if !self.procs.contains_key(&pid) {
            let p = self.read_proc(pid)?;
            self.procs.insert(pid, p);
        }
        self.procs.get(&pid)
    }

    /// The `n`-th ancestor (1: parent), if known.
    pub fn ancestor<'a>(&'a self, p: &'a Process, n: usize) -> Option<&'a Process> {
        let mut cur = p;
        for _ in 0..n {
            if cur.ppid == 0 || cur.ppid == cur.pid {
                return None;
            }
            cur = self.procs.get(&cur.ppid)?;
        }
        Some(cur)
    }

    /// A new process: a copy of its parent (same image, directory, container).
    pub fn fork(&mut self, r: &ForkRecord) {
        let parent = self.get_or_load(r.hdr.tgid).cloned();
        let mut child = match parent {
            Some(p) => p,
            None => self.read_proc(r.child).unwrap_or_default(),
        };
        child.pid = r.child;
        child.ppid = r.ppid;
        child.vpid = 0;
        child.start_ns = self.epoch_ns(r.start_ns);
        // The kernel's value for the child: its parent's namespace, or its
        // own start when CLONE_NEWPID made it the init of a new one.
        if r.pidns_init_start_ns != 0 {
            child.pidns_init_start_ns = self.epoch_ns(r.pidns_init_start_ns);
        }
        child.exited = None;
        self.procs.insert(r.child, child);
    }

    /// A successful exec: the new image, straight from the kernel.
    pub fn exec(&mut self, r: &ExecRecord) {
        let pid = r.hdr.tgid;
        let mut p = match self.procs.remove(&pid) {
            Some(p) => p,
            None => self.read_proc(pid).unwrap_or_default(),
        };
        if p.cwd.is_none() {
            p.cwd = self.read_link(pid, "cwd");
        }
        let argv = argv(&r.args);
        let filename = String::from_utf8_lossy(&r.filename).into_owned();
        p.pid = pid;
        p.ppid = r.ppid;
        p.vpid = r.vpid;
        p.sid = r.sid;
        p.pgid = r.pgid;
        p.comm = if r.comm.is_empty() {
            comm_of(&filename)
        } else {
            r.comm.clone()
        };
        p.exe = argv.first().cloned().unwrap_or_else(|| filename.clone());
        p.args = argv.into_iter().skip(1).collect();
        p.exepath = if filename.is_empty() {
            String::new()
        } else {
            absolute(&filename, p.cwd.as_deref())
        };
        p.tty = r.tty;
        p.loginuid = r.hdr.loginuid;
        if r.start_ns != 0 {
            p.start_ns = self.epoch_ns(r.start_ns);
        }
        if r.pidns_init_start_ns != 0 {
            p.pidns_init_start_ns = self.epoch_ns(r.pidns_init_start_ns);
        }
        p.exe_from_memfd = r.exe_from_memfd;
        p.exe_ino = r.exe_ino;
        p.known = true;
        p.exited = None;
        let v2 = container::join_leaf_first(&r.cgroup2);
        let v1 = container::join_leaf_first(&r.cgroup1);
        p.container = container::from_cgroup_path(&v2).or_else(|| container::from_cgroup_path(&v1));
        if p.container.is_none() && r.cgroup2.is_empty() && r.cgroup1.is_empty() {
            // The kernel could not read the cgroups: ask /proc.
            p.container = self.read_container(pid);
        }
        self.procs.insert(pid, p);
    }

    /// A successful chdir/fchdir.
    pub fn chdir(&mut self, pid: u32, path: Option<&str>) {
        let from_proc = self.read_link(pid, "cwd");
        if let Some(p) = self.procs.get_mut(&pid) {
            p.cwd = match path {
                Some(path) if path.starts_with('/') || p.cwd.is_some() => {
                    Some(absolute(path, p.cwd.as_deref()))
                }
                _ => from_proc,
            };
        }
    }

    /// The process exited; it is removed after a grace period.
    pub fn exit(&mut self, pid: u32, now: Instant) {
        if let Some(p) = self.procs.get_mut(&pid) {
            p.exited = Some(now);
            self.exits.push_back((pid, now));
        }
    }

    /// Removes processes whose grace period is over.
    pub fn purge(&mut self, now: Instant) {
        while let Some(&(pid, at)) = self.exits.front() {
            if now.duration_since(at) < EXIT_GRACE {
                break;
            }
            self.exits.pop_front();
            // A pid reused since keeps its new entry.
            if self.procs.get(&pid).is_some_and(|p| p.exited == Some(at)) {
                self.procs.remove(&pid);
            }
        }
    }

    fn read_link(&self, pid: u32, what: &str) -> Option<String> {
        std::fs::read_link(format!("{}/{pid}/{what}", self.proc_root))
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    }

    fn read_container(&self, pid: u32) -> Option<ContainerRef> {
        let text = std::fs::read_to_string(format!("{}/{pid}/cgroup", self.proc_root)).ok()?;
        container::from_proc_cgroup(&text)
    }

    /// A process as /proc shows it now.
    pub fn read_proc(&self, pid: u32) -> Option<Process> {
        let base = format!("{}/{pid}", self.proc_root);
        let stat = std::fs::read_to_string(format!("{base}/stat")).ok()?;
        // comm is in parentheses and may itself contain spaces and ')'.
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat.get(open + 1..close)?.to_string();
        let rest: Vec<&str> = stat.get(close + 2..)?.split(' ').collect();
        let field = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        // After comm: state(0) ppid(1) pgrp(2) session(3) tty_nr(4) ... starttime(19).
        let ppid = field(1) as u32;
        let pgid = field(2) as u32;
        let sid = field(3) as u32;
        let tty = field(4) as u32;
        let start_ticks = field(19);
        let cmdline = std::fs::read(format!("{base}/cmdline")).unwrap_or_default();
        let argv = argv(&cmdline);
        let exepath = self.read_link(pid, "exe").unwrap_or_default();
        let loginuid = std::fs::read_to_string(format!("{base}/loginuid"))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(u32::MAX);
        let vpid = std::fs::read_to_string(format!("{base}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("NSpid:"))
                    .and_then(|v| v.split_whitespace().last().and_then(|n| n.parse().ok()))
            })
            .unwrap_or(0);
        // Kernel threads have no cmdline: libsinsp names them by comm.
        let (exe, args) = match argv.split_first() {
            Some((first, rest)) => (first.clone(), rest.to_vec()),
            None => (comm.clone(), Vec::new()),
        };
        let ticks = clock_ticks();
        let start_ns = if start_ticks > 0 && ticks > 0 {
            self.epoch_ns(start_ticks.saturating_mul(1_000_000_000 / ticks))
        } else {
            0
        };
        Some(Process {
            pid,
            ppid,
            vpid,
            sid,
            pgid,
            comm,
            exe,
            exepath,
            args,
            cwd: self.read_link(pid, "cwd"),
            tty,
            loginuid,
            container: self.read_container(pid),
            start_ns,
            // Known for the seeded processes (see seed), not for one read alone.
            pidns_init_start_ns: 0,
            exe_from_memfd: false,
            exe_ino: 0,
            known: true,
            exited: None,
        })
    }
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(t).unwrap_or(100)
}

/// The offset from CLOCK_BOOTTIME to the epoch, ns.
fn boot_to_epoch_ns() -> i128 {
    let real = clock_ns(libc::CLOCK_REALTIME);
    let boot = clock_ns(libc::CLOCK_BOOTTIME);
    real - boot
}

/// A clock's time now, in ns.
pub(crate) fn clock_ns(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Header;

    #[test]
    fn paths_are_made_absolute() {
        assert_eq!(absolute("/etc/../etc/./shadow", None), "/etc/shadow");
        assert_eq!(absolute("x/y", Some("/tmp/")), "/tmp/x/y");
        assert_eq!(absolute("../..", Some("/a")), "/");
        assert_eq!(absolute("rel", None), "rel");
    }

    #[test]
    fn fork_exec_exit_keep_the_tree() {
        let mut t = ProcessTable::new("/nonexistent-proc");
        t.insert(Process {
            pid: 100,
            ppid: 1,
            comm: "bash".into(),
            exe: "-bash".into(),
            cwd: Some("/root".into()),
            pidns_init_start_ns: 777,
            known: true,
            ..Default::default()
        });
        t.insert(Process {
            pid: 1,
            comm: "systemd".into(),
            known: true,
            ..Default::default()
        });
        t.fork(&ForkRecord {
            hdr: Header {
                tgid: 100,
                ..Default::default()
            },
            child: 200,
            ppid: 100,
            start_ns: 5,
            pidns_init_start_ns: 0,
        });
        assert_eq!(t.get(200).unwrap().comm, "bash");
        // Unknown from the kernel: the parent's namespace.
        assert_eq!(t.get(200).unwrap().pidns_init_start_ns, 777);
        let id = "3f1e0c6e1a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";
        t.exec(&ExecRecord {
            hdr: Header {
                tgid: 200,
                loginuid: 1000,
                ..Default::default()
            },
            ppid: 100,
            comm: "cat".into(),
            filename: b"bin/cat".to_vec(),
            args: b"cat\0/etc/shadow\0".to_vec(),
            pidns_init_start_ns: 9,
            cgroup2: vec![
                format!("docker-{id}.scope").into_bytes(),
                b"system.slice".to_vec(),
                Vec::new(),
            ],
            ..Default::default()
        });
        let p = t.get(200).unwrap();
        assert_eq!(p.cmdline(), "cat /etc/shadow");
        assert_eq!(p.exepath, "/root/bin/cat");
        assert_eq!(p.container.as_ref().map(|c| c.id()), Some(&id[..12]));
        assert_eq!(p.pidns_init_start_ns, t.epoch_ns(9));
        let p = p.clone();
        assert_eq!(t.ancestor(&p, 1).unwrap().comm, "bash");
        assert_eq!(t.ancestor(&p, 2).unwrap().comm, "systemd");
        assert!(t.ancestor(&p, 3).is_none());
        let now = Instant::now();
        t.exit(200, now);
        t.purge(now + Duration::from_secs(1));
        assert!(t.get(200).is_some(), "kept during the grace period");
        t.purge(now + Duration::from_secs(6));
        assert!(t.get(200).is_none());
    }

    #[test]
    fn seeds_from_proc() {
        let mut t = ProcessTable::new("/proc");
        t.seed();
        let me = t.get(std::process::id()).expect("own process seeded");
        assert!(!me.comm.is_empty());
        assert!(me.exepath.starts_with('/'));
        assert!(t.len() > 1);
        // This /proc is our pid namespace's: its pid 1 is the namespace's init.
        let ns = |pid: u32| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
        if let Some(init) = t.get(1).filter(|i| i.vpid == 1 && i.start_ns != 0) {
            if ns(1).is_some() && ns(1) == ns(std::process::id()) {
                assert_eq!(me.pidns_init_start_ns, init.start_ns);
            }
        }
    }
}
