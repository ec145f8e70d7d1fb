//! User-space state driven by the records: the process table and the user
//! databases. Each record updates the state, then (for syscall and exec
//! records) becomes a [`SyscallEvent`] for the rules.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::cri::Metadata;
use crate::event::{fd_view, Identity, Kind, SyscallEvent};
use crate::process::ProcessTable;
use crate::syscalls;
use crate::users::UserDb;
use crate::wire::{Header, Record};

/// The state.
#[derive(Debug)]
pub struct State {
    /// Processes.
    pub table: ProcessTable,
    users: UserDb,
    num: u64,
    hostname: String,
    last_purge: Instant,
    /// Container metadata from the runtime.
    pub meta: Metadata,
    last_evict: Instant,
    /// The last complete identity: (uid, gid, loginuid, user database
    /// generation), container, names.
    last_identity: Option<(IdentityKey, Option<String>, Identity)>,
}

type IdentityKey = (u32, u32, u32, u64);

/// How often the metadata of containers with no process left is dropped.
const EVICT_EVERY: Duration = Duration::from_secs(10);

impl State {
    /// A state reading /proc at `proc_root` and host users under `host_root`.
    pub fn new(proc_root: &str, host_root: &str, hostname: impl Into<String>) -> State {
        State {
            table: ProcessTable::new(proc_root),
            users: UserDb::new(host_root),
            num: 0,
            hostname: hostname.into(),
            last_purge: Instant::now(),
            meta: Metadata::disabled(),
            last_evict: Instant::now(),
            last_identity: None,
        }
    }

    /// The same state, with container metadata from `meta`.
    pub fn with_metadata(mut self, meta: Metadata) -> State {
        self.meta = meta;
        self
    }

    /// Seeds the process table from /proc.
    pub fn seed(&mut self) {
        self.table.seed();
        let members: Vec<(String, u32)> = self
            .table
            .iter()
            .filter_map(|p| p.container.as_ref().map(|c| (c.full_id.clone(), p.pid)))
            .collect();
        // Ask the runtime about the containers already running now, rather
        // than at their first event.
        let now = Instant::now();
        for (c, pid) in members {
            let _ = self.meta.get(&c, now);
            self.users.note_member(&c, pid);
        }
    }

    /// Drops the metadata of containers without a process in the table
    /// (done every few seconds by [`State::handle`]).
    pub fn evict_gone_containers(&mut self) {
        let live: HashSet<&str> = self
            .table
            .iter()
            .filter_map(|p| p.container.as_ref().map(|c| c.full_id.as_str()))
            .collect();
        self.meta.retain(|id| live.contains(id));
    }

    /// Applies one record, and hands its event (if it is one rules see) to `f`.
    pub fn handle<R>(&mut self, rec: &Record, f: impl FnOnce(&SyscallEvent<'_>) -> R) -> Option<R> {
        self.handle_at(rec, Instant::now(), f)
    }

    /// [`State::handle`] with the time given: a batch of records shares one
    /// clock read (a measurable share of the per-record cost).
    pub fn handle_at<R>(
        &mut self,
        rec: &Record,
        now: Instant,
        f: impl FnOnce(&SyscallEvent<'_>) -> R,
    ) -> Option<R> {
        if now.duration_since(self.last_purge).as_secs() >= 1 {
            self.table.purge(now);
            self.last_purge = now;
        }
        if now.duration_since(self.last_evict) >= EVICT_EVERY {
            self.evict_gone_containers();
            self.last_evict = now;
        }
        self.meta.poll(now);
        let (tgid, hdr, kind) = match rec {
            Record::Fork(r) => {
                self.table.fork(r);
                return None;
            }
            Record::Exit(h) => {
                self.table.exit(h.tgid, now);
                return None;
            }
            Record::Exec(r) => {
                self.table.exec(r);
                if let Some(c) = self
                    .table
                    .get(r.hdr.tgid)
                    .and_then(|p| p.container.as_ref())
                {
                    let id = c.full_id.clone();
                    self.users.note_member(&id, r.hdr.tgid);
                }
                (r.hdr.tgid, &r.hdr, Kind::Exec(r))
            }
            Record::Sys(r) => {
                let sc = syscalls::by_number(r.hdr.nr)?;
                // Keep the working directory current: relative paths of
                // later syscalls are resolved against it.
                if r.hdr.ret == 0 && matches!(sc.name, "chdir" | "fchdir") {
                    self.table.get_or_load(r.hdr.tgid);
                    let path = r.strs[0]
                        .as_ref()
                        .map(|s| String::from_utf8_lossy(s).into_owned());
                    self.table.chdir(r.hdr.tgid, path.as_deref());
                }
                (r.hdr.tgid, &r.hdr, Kind::Sys(r, sc))
            }
        };
        self.table.get_or_load(tgid);
        let (container, ppid) = match self.table.get(tgid) {
            Some(p) => (p.container.as_ref().map(|c| c.full_id.clone()), p.ppid),
            None => (None, 0),
        };
        // The parent is another way into the container's files, when it is
        // in the same container (a runtime's shim is not).
        let parent_same = self.table.get(ppid).is_some_and(|pp| {
            pp.container.as_ref().map(|c| c.full_id.as_str()) == container.as_deref()
        });
        let pids = if parent_same {
            vec![tgid, ppid]
        } else {
            vec![tgid]
        };
        let meta = container.as_deref().and_then(|c| self.meta.get(c, now));
        let container = container.as_deref();
        let identity = self.identity(&pids, container, hdr);
        self.num += 1;
        let proc = self.table.get(tgid);
        let fd = match kind {
            Kind::Sys(r, sc) => fd_view(r, sc, proc),
            Kind::Exec(_) => None,
        };
        let evt = SyscallEvent {
            kind,
            proc,
            table: &self.table,
            num: self.num,
            ts: self.table.epoch_ns(hdr.ts),
            fd,
            identity,
            hostname: &self.hostname,
            meta: meta.as_deref(),
        };
        Some(f(&evt))
    }

    /// The names of the event's user, group and login user. Consecutive events mostly
    /// come from the same user of the same root: the last answer is reused
    /// while the databases are unchanged, and only when every name was found
    /// (a miss must reach the database, which re-reads its files).
    fn identity(&mut self, pids: &[u32], container: Option<&str>, hdr: &Header) -> Identity {
        let key = (hdr.uid, hdr.gid, hdr.loginuid, self.users.generation());
        if let Some((k, c, id)) = &self.last_identity {
            if *k == key && c.as_deref() == container {
                return id.clone();
            }
        }
        let identity = Identity {
            user: self.users.user(pids, container, hdr.uid),
            group: self.users.group(pids, container, hdr.gid),
            loginname: if hdr.loginuid == u32::MAX {
                None
            } else {
                self.users
                    .user(pids, container, hdr.loginuid)
                    .map(|u| u.name.clone())
            },
        };
        let complete = identity.user.is_some()
            && identity.group.is_some()
            && (hdr.loginuid == u32::MAX || identity.loginname.is_some());
        self.last_identity = complete.then(|| {
            // The generation after the lookups, which may have loaded a database.
            let key = (hdr.uid, hdr.gid, hdr.loginuid, self.users.generation());
            (key, container.map(str::to_string), identity.clone())
        });
        identity
    }
}
