//! Container and pod metadata from the CRI runtime socket, as Falco's
//! container plugin gets them: for each container id first seen in a cgroup
//! path, `ListContainers` (for the pod sandbox id), `ContainerStatus`
//! (verbose, for the image annotations and privileged flag) and
//! `PodSandboxStatus` (for the pod's own labels), over gRPC on a unix socket.
//!
//! Lookups never block event processing: [`Metadata::get`] answers from the
//! cache and, for an id it has not seen, starts a lookup on the client's own
//! thread; until the answer arrives (and for good when none comes) the
//! runtime's fields are `<NA>`. Failures are cached too, retried a few times
//! with a growing delay, and entries are dropped once the container has no
//! process left ([`Metadata::retain`]).
//!
//! The gRPC client is the `cri` feature (on by default); without it
//! [`Metadata`] knows nothing and every lookup stays `<NA>`.

// Without the client, the cache is never filled; it is kept compiled so that
// both builds check the same code.
#![cfg_attr(not(feature = "cri"), allow(dead_code))]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::container::ContainerMeta;

#[cfg(feature = "cri")]
mod client;
#[cfg(feature = "cri")]
pub mod proto;

#[cfg(feature = "cri")]
pub use client::meta_from_status;

/// The sockets probed when none is given, as Falco's container plugin does
/// (containerd, CRI-O, k3s, and containerd's socket as mounted into a pod).
pub const DEFAULT_SOCKETS: &[&str] = &[
    "/run/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/run/k3s/containerd/containerd.sock",
    "/run/host-containerd/containerd.sock",
];

/// Whether this build has the CRI client.
pub const CRI_ENABLED: bool = cfg!(feature = "cri");

/// How the client talks to the runtimes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriOptions {
    /// Runtime sockets, asked in order. Empty: those of [`DEFAULT_SOCKETS`]
    /// that exist.
    pub sockets: Vec<PathBuf>,
    /// Do not ask any runtime.
    pub disabled: bool,
    /// Time allowed for one lookup (all its calls, on all sockets).
    pub timeout: Duration,
    /// Lookups of one id before its failure is final.
    pub max_attempts: u32,
    /// Delay before the first retry; doubled for each further one.
    pub retry_delay: Duration,
    /// Lookups in flight at once.
    pub concurrency: usize,
}

impl Default for CriOptions {
    fn default() -> Self {
        CriOptions {
            sockets: Vec::new(),
            disabled: false,
            timeout: Duration::from_secs(2),
            max_attempts: 3,
            retry_delay: Duration::from_secs(1),
            concurrency: 4,
        }
    }
}

impl CriOptions {
    /// The sockets to use: the given ones, else the default ones present.
    pub fn effective_sockets(&self) -> Vec<PathBuf> {
        if self.disabled {
            return Vec::new();
        }
        if !self.sockets.is_empty() {
            return self.sockets.clone();
        }
        DEFAULT_SOCKETS
            .iter()
            .map(PathBuf::from)
            .filter(|p| p.exists())
            .collect()
    }
}

/// The answer to one lookup.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// A runtime knows the id.
    Found(Box<ContainerMeta>),
    /// Every runtime answered, none knows the id.
    NotFound,
    /// No runtime answered (error, timeout).
    Failed(String),
}

#[derive(Debug)]
enum Entry {
    /// A lookup is in flight; `attempts` counts it.
    Pending {
        attempts: u32,
    },
    Known(Arc<ContainerMeta>),
    /// The last lookup found nothing; retried at `retry_at`, never when `None`.
    Missing {
        attempts: u32,
        retry_at: Option<Instant>,
        why: String,
    },
}

/// Counters of the lookups, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LookupStats {
    /// Lookups started.
    pub started: u64,
    /// Lookups that found the container.
    pub found: u64,
    /// Lookups whose id no runtime knew.
    pub not_found: u64,
    /// Lookups that failed (error, timeout).
    pub failed: u64,
    /// Entries dropped because their container was gone.
    pub evicted: u64,
}

/// The metadata cache, and the client that fills it.
#[derive(Debug)]
pub struct Metadata {
    entries: HashMap<String, Entry>,
    max_attempts: u32,
    retry_delay: Duration,
    stats: LookupStats,
    #[cfg(feature = "cri")]
    client: Option<client::Client>,
}

impl Metadata {
    /// Metadata that asks no runtime: every lookup stays unanswered.
    pub fn disabled() -> Metadata {
        Metadata {
            entries: HashMap::new(),
            max_attempts: 0,
            retry_delay: Duration::ZERO,
            stats: LookupStats::default(),
            #[cfg(feature = "cri")]
            client: None,
        }
    }

    /// Starts the client on the sockets of `opts` (none: disabled).
    #[cfg(feature = "cri")]
    pub fn start(opts: &CriOptions) -> anyhow::Result<Metadata> {
        let sockets = opts.effective_sockets();
        let mut m = Metadata::disabled();
        if sockets.is_empty() {
            return Ok(m);
        }
        m.max_attempts = opts.max_attempts.max(1);
        m.retry_delay = opts.retry_delay;
        m.client = Some(client::Client::start(sockets, opts)?);
        Ok(m)
    }

    /// Without the `cri` feature there is no client: an explicit socket is
    /// an error, the default probe finds nothing.
    #[cfg(not(feature = "cri"))]
    pub fn start(opts: &CriOptions) -> anyhow::Result<Metadata> {
        if !opts.disabled && !opts.sockets.is_empty() {
            anyhow::bail!(
                "this build has no CRI client (cargo feature `cri` of palisade-sensor): \
                 cannot use {}",
                opts.sockets[0].display()
            );
        }
        Ok(Metadata::disabled())
    }

    /// Whether a runtime is asked at all.
    pub fn enabled(&self) -> bool {
        #[cfg(feature = "cri")]
        {
            self.client.is_some()
        }
        #[cfg(not(feature = "cri"))]
        {
            false
        }
    }

    /// Lookup counters.
    pub fn stats(&self) -> LookupStats {
        self.stats
    }

    /// Takes in the answers that arrived. Cheap when there are none.
    pub fn poll(&mut self, now: Instant) {
        #[cfg(feature = "cri")]
        while let Some((id, answer)) = self.client.as_ref().and_then(|c| c.try_recv()) {
            self.answer(&id, answer, now);
        }
        #[cfg(not(feature = "cri"))]
        let _ = now;
    }

    /// Records the answer of a lookup of `id`. An answer for an id no
    /// longer pending (evicted meanwhile) is dropped.
    fn answer(&mut self, id: &str, answer: Lookup, now: Instant) {
        let Some(entry) = self.entries.get_mut(id) else {
            return;
        };
        let Entry::Pending { attempts } = *entry else {
            return;
        };
        let why = match answer {
            Lookup::Found(meta) => {
                self.stats.found += 1;
                *entry = Entry::Known(Arc::from(meta));
                return;
            }
            Lookup::NotFound => {
                self.stats.not_found += 1;
                "not found".to_string()
            }
            Lookup::Failed(why) => {
                self.stats.failed += 1;
                why
            }
        };
        let retry_at = (attempts < self.max_attempts).then(|| {
            let factor = 1u32 << attempts.saturating_sub(1).min(16);
            now + self.retry_delay.saturating_mul(factor)
        });
        *entry = Entry::Missing {
            attempts,
            retry_at,
            why,
        };
    }

    /// The metadata of container `full_id`, if known; starts a lookup when
    /// the id is new or a retry is due. Never waits for the runtime.
    pub fn get(&mut self, full_id: &str, now: Instant) -> Option<Arc<ContainerMeta>> {
        if !self.enabled() {
            return None;
        }
        let attempts = match self.entries.get(full_id) {
            Some(Entry::Known(m)) => return Some(m.clone()),
            Some(Entry::Pending { .. }) => return None,
            Some(Entry::Missing {
                attempts,
                retry_at: Some(t),
                ..
            }) if now >= *t => attempts + 1,
            Some(Entry::Missing { .. }) => return None,
            None => 1,
        };
        self.entries
            .insert(full_id.to_string(), Entry::Pending { attempts });
        self.stats.started += 1;
        #[cfg(feature = "cri")]
        if let Some(c) = &self.client {
            c.request(full_id.to_string());
        }
        None
    }

    /// Why `full_id` has no metadata, when a lookup said so.
    pub fn failure(&self, full_id: &str) -> Option<&str> {
        match self.entries.get(full_id) {
            Some(Entry::Missing { why, .. }) => Some(why),
            _ => None,
        }
    }

    /// Keeps the entries of the containers `live` accepts: the others have
    /// no process left, so their metadata is not needed any more (and is
    /// asked again should the id come back).
    pub fn retain(&mut self, live: impl Fn(&str) -> bool) {
        let before = self.entries.len();
        self.entries.retain(|id, _| live(id));
        self.stats.evicted += (before - self.entries.len()) as u64;
    }

    /// Entries cached (known, pending or missing).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache with a pretend client: `get` records requests, answers are
    /// fed with `answer`.
    fn cache() -> Metadata {
        let mut m = Metadata::disabled();
        m.max_attempts = 2;
        m.retry_delay = Duration::from_secs(1);
        m
    }

    #[test]
    fn answers_and_retries() {
        let mut m = cache();
        let t0 = Instant::now();
        // Disabled: nothing is asked, nothing cached.
        assert!(m.get("a", t0).is_none());
        assert!(m.is_empty());
        m.entries.insert("a".into(), Entry::Pending { attempts: 1 });
        m.answer("a", Lookup::Failed("boom".into()), t0);
        assert_eq!(m.failure("a"), Some("boom"));
        match &m.entries["a"] {
            Entry::Missing {
                retry_at: Some(t), ..
            } => assert_eq!(*t, t0 + Duration::from_secs(1)),
            e => panic!("{e:?}"),
        }
        m.entries.insert("a".into(), Entry::Pending { attempts: 2 });
        m.answer("a", Lookup::NotFound, t0);
        // The last attempt: final.
        assert!(matches!(
            m.entries["a"],
            Entry::Missing { retry_at: None, .. }
        ));
        // An answer for an id not pending is dropped.
        m.answer("b", Lookup::NotFound, t0);
        assert!(!m.entries.contains_key("b"));
        m.entries.insert("c".into(), Entry::Pending { attempts: 1 });
        m.answer("c", Lookup::Found(Box::default()), t0);
        assert!(matches!(m.entries["c"], Entry::Known(_)));
        assert_eq!(m.stats().found, 1);
        assert_eq!(m.stats().failed, 1);
        assert_eq!(m.stats().not_found, 1);
        m.retain(|id| id == "c");
        assert_eq!(m.len(), 1);
        assert_eq!(m.stats().evicted, 1);
    }

    #[test]
    fn default_sockets_only_when_none_given() {
        let opts = CriOptions {
            sockets: vec!["/nonexistent/cri.sock".into()],
            ..Default::default()
        };
        assert_eq!(
            opts.effective_sockets(),
            vec![PathBuf::from("/nonexistent/cri.sock")]
        );
        let off = CriOptions {
            disabled: true,
            ..opts
        };
        assert!(off.effective_sockets().is_empty());
    }
}
