//! Loading the BPF programs and consuming their ring buffers.

use std::cell::RefCell;
use std::collections::{BTreeSet, VecDeque};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use libbpf_rs::libbpf_sys;
use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags, MapHandle, MapType, OpenObject, RingBuffer, RingBufferBuilder};

use crate::drops::Counters;
use crate::syscalls::{self, ExitHook, SYSCALLS};
use crate::wire::{self, Record};

mod skel {
    #![allow(
        clippy::all,
        clippy::pedantic,
        missing_docs,
        non_camel_case_types,
        unused
    )]
    include!(concat!(env!("OUT_DIR"), "/sensor.skel.rs"));
}

use skel::{SensorSkel, SensorSkelBuilder};

/// Ring buffer size per CPU (`PAL_RING_BYTES`).
pub const RING_BYTES: u32 = 8 * 1024 * 1024;

/// What to capture.
#[derive(Debug, Clone)]
pub struct SensorConfig {
    /// Event types (syscall names) rules need; `None`: every syscall the
    /// sensor knows. The state syscalls (exec, chdir) are always added.
    pub event_types: Option<BTreeSet<String>>,
    /// A process whose events are ignored (the sensor's own), 0 for none.
    pub ignore_tgid: u32,
    /// Wake the consumer early once a ring holds this many bytes.
    pub wakeup_bytes: u64,
    /// How syscall exits are hooked.
    pub exit_hook: ExitHook,
}

impl Default for SensorConfig {
    fn default() -> Self {
        SensorConfig {
            event_types: None,
            ignore_tgid: std::process::id(),
            wakeup_bytes: u64::from(RING_BYTES / 4),
            exit_hook: ExitHook::Auto,
        }
    }
}

/// The syscalls a configuration captures, by name.
pub fn selected_syscalls(
    event_types: Option<&BTreeSet<String>>,
) -> Vec<&'static syscalls::Syscall> {
    SYSCALLS
        .iter()
        .filter(|s| syscalls::number(s).is_some())
        .filter(|s| {
            syscalls::STATE_SYSCALLS.contains(&s.name)
                || event_types.is_none_or(|t| t.contains(s.name))
        })
        .collect()
}

/// Whether this process may load the sensor: root, or CAP_BPF with
/// CAP_PERFMON (and CAP_SYS_RESOURCE on kernels that charge memlock).
pub fn check_privileges() -> Result<()> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let cap_eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    const CAP_SYS_ADMIN: u64 = 1 << 21;
    const CAP_PERFMON: u64 = 1 << 38;
    const CAP_BPF: u64 = 1 << 39;
    if cap_eff & CAP_SYS_ADMIN != 0 || (cap_eff & CAP_BPF != 0 && cap_eff & CAP_PERFMON != 0) {
        return Ok(());
    }
    bail!(
        "the syscall sensor needs root, or the capabilities CAP_BPF and CAP_PERFMON \
         (this process has neither): run it with sudo, or grant them with \
         `setcap cap_bpf,cap_perfmon,cap_sys_resource+ep $(command -v palisade)`"
    )
}

/// The loaded sensor.
pub struct Sensor {
    // Field order matters for drop order: the ring buffer reader and maps go
    // before the skeleton (which detaches the programs).
    ring: RingBuffer<'static>,
    _inner: Vec<MapHandle>,
    /// Drained records not handed out yet (see [`HOLD_BACK`]), in time order.
    held: VecDeque<Record>,
    /// The periodic batch flush on each CPU (each link owns its perf event).
    ticks: Vec<libbpf_rs::Link>,
    pending: Rc<RefCell<Vec<Record>>>,
    decode_errors: Rc<RefCell<u64>>,
    skel: SensorSkel<'static>,
    /// Syscalls captured.
    pub syscalls: Vec<&'static str>,
    /// How syscall exits are hooked (`Fexit` or `Tracepoint`).
    pub exit_hook: ExitHook,
    /// Why per-syscall hooks were not used, when `Auto` fell back.
    pub fallback_reason: Option<String>,
    /// Why syscall records are sent one by one instead of in per-CPU
    /// batches (the periodic flush could not be set up), if they are.
    pub unbatched_reason: Option<String>,
    /// The CPUs the flush timers were set up for.
    online: Vec<u32>,
}

impl std::fmt::Debug for Sensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sensor")
            .field("syscalls", &self.syscalls)
            .field("exit_hook", &self.exit_hook)
            .field("fallback_reason", &self.fallback_reason)
            .field("unbatched_reason", &self.unbatched_reason)
            .finish()
    }
}

fn spec_bytes(s: &syscalls::Syscall) -> [u8; 16] {
    let mut b = [syscalls::NONE; 16];
    b[0] = 1;
    b[1] = s.category;
    b[2] = s.special;
    b[3] = s.fd_arg;
    b[4..7].copy_from_slice(&s.str_args);
    b[7] = s.addr_arg;
    b[8] = s.addr_len_arg;
    // The working directory is the process's, shared by its threads: the
    // records of the others are read against it (see pal_time).
    b[9] = u8::from(matches!(s.name, "chdir" | "fchdir"));
    for x in &mut b[10..] {
        *x = 0;
    }
    b
}

/// How long a drained record is held back before it is handed out. The CPUs'
/// rings are merged by time, but a record can reach its ring late: it waits
/// in its CPU's batch for up to one flush period, and its time may be a
/// reading up to one drain older than the syscall (see `pal_time` in
/// sensor.bpf.c). A record is handed out once every record with an earlier
/// time has had that long to arrive, so that, for instance, an open made on
/// one CPU before an exec on another is never seen after it.
pub const HOLD_BACK: Duration = Duration::from_millis(100);

/// How often each CPU sends its batch of syscall records (see `struct batch`
/// in sensor.bpf.c): the most a record waits there.
pub const FLUSH_PERIOD: Duration = Duration::from_millis(10);

/// The online CPUs.
fn online_cpus() -> Result<Vec<u32>> {
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online")
        .context("cannot read the online CPUs")?;
    parse_cpu_list(&online)
        .with_context(|| format!("cannot parse the online CPUs {:?}", online.trim()))
}

/// Attaches the batch flush to a CPU-clock timer event on each of `cpus`.
fn attach_flush_ticks(skel: &SensorSkel<'_>, cpus: &[u32]) -> Result<Vec<libbpf_rs::Link>> {
    let mut ticks = Vec::with_capacity(cpus.len());
    for &cpu in cpus {
        let fd = open_cpu_clock(cpu, FLUSH_PERIOD)
            .with_context(|| format!("cannot open a CPU-clock timer on CPU {cpu}"))?;
        let link = skel
            .progs
            .pal_flush_tick
            .attach_perf_event(fd.as_raw_fd())
            .with_context(|| format!("cannot attach the batch flush on CPU {cpu}"))?;
        // The link owns the event now: libbpf closes it when the link goes.
        let _ = fd.into_raw_fd();
        ticks.push(link);
    }
    Ok(ticks)
}

/// A sampling CPU-clock perf event on `cpu` (all tasks) firing every `period`.
fn open_cpu_clock(cpu: u32, period: Duration) -> std::io::Result<OwnedFd> {
    // SAFETY: perf_event_attr is plain data, valid all zeros.
    let mut attr: libbpf_sys::perf_event_attr = unsafe { std::mem::zeroed() };
    attr.type_ = libbpf_sys::PERF_TYPE_SOFTWARE;
    attr.size = std::mem::size_of::<libbpf_sys::perf_event_attr>() as u32;
    attr.config = u64::from(libbpf_sys::PERF_COUNT_SW_CPU_CLOCK);
    // The CPU clock counts nanoseconds: the period is in ns.
    attr.__bindgen_anon_1.sample_period = period.as_nanos() as u64;
    // SAFETY: a valid attr, pid -1 with a cpu (every task on it), no group.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const libbpf_sys::perf_event_attr,
            -1 as libc::pid_t,
            cpu as libc::c_int,
            -1 as libc::c_int,
            libc::c_ulong::from(libbpf_sys::PERF_FLAG_FD_CLOEXEC),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Merges `fresh` (one drain, each CPU's records in ring order) into `held`
/// (in time order) and takes out the records up to `cutoff`, in order.
/// Stable: records with equal times keep their order of arrival (their
/// ring's order). Records are moved a few times each, never the whole
/// backlog per drain: only the part of it that fresh records fall into is
/// sorted again.
fn release_until(held: &mut VecDeque<Record>, mut fresh: Vec<Record>, cutoff: u64) -> Vec<Record> {
    fresh.sort_by_key(Record::ts);
    if let Some(first) = fresh.first().map(Record::ts) {
        // held[..at] stays in front: no fresh record goes before them.
        let at = held.partition_point(|r| r.ts() <= first);
        let mut tail = held.split_off(at);
        tail.extend(fresh);
        tail.make_contiguous().sort_by_key(Record::ts);
        held.append(&mut tail);
    }
    let ready = held.partition_point(|r| r.ts() <= cutoff);
    held.drain(..ready).collect()
}

/// CPU numbers from a kernel CPU list such as `0-3,8,10-11`.
fn parse_cpu_list(text: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
                if a > b || b - a > 65_536 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The index of a cgroup v1 controller to report besides the v2 path: the
/// order of /proc/cgroups is the kernel's controller numbering.
fn v1_subsys_id() -> i32 {
    let Ok(text) = std::fs::read_to_string("/proc/cgroups") else {
        return -1;
    };
    let names: Vec<(String, u32)> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let name = f.next()?.to_string();
            let hierarchy = f.next()?.parse::<u32>().ok()?;
            Some((name, hierarchy))
        })
        .collect();
    // A controller mounted in a v1 hierarchy (hierarchy id > 0) that every
    // container runtime puts containers in.
    for wanted in ["pids", "cpu", "memory", "cpuset"] {
        if let Some(i) = names.iter().position(|(n, h)| n == wanted && *h > 0) {
            return i as i32;
        }
    }
    -1
}

/// The `fexit` program of a syscall, when it has one and its target
/// function is in this kernel's BTF; the reason otherwise.
fn fexit_program(
    btf: &libbpf_rs::btf::Btf<'_>,
    s: &syscalls::Syscall,
) -> std::result::Result<String, String> {
    let Some(func) = syscalls::fexit_function(s) else {
        return Err(format!("{} is reported by the generic hook only", s.name));
    };
    let target = format!("{}{func}", syscalls::SYSCALL_PREFIX);
    if btf
        .type_by_name::<libbpf_rs::btf::types::Func<'_>>(&target)
        .is_none()
    {
        return Err(format!("{target} is not in the kernel's BTF"));
    }
    Ok(format!("pal_fx_{}", s.name))
}

/// The programs hooking the exits of `selected` with `fexit`, or why not.
fn fexit_programs(
    selected: &[&'static syscalls::Syscall],
) -> std::result::Result<BTreeSet<String>, String> {
    let btf = libbpf_rs::btf::Btf::from_vmlinux()
        .map_err(|e| format!("cannot read the kernel's BTF: {e}"))?;
    selected.iter().map(|s| fexit_program(&btf, s)).collect()
}

/// libbpf's messages while `quietly` runs.
static QUIET_LOG: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn collect_message(_level: libbpf_rs::PrintLevel, msg: String) {
    if let Ok(mut log) = QUIET_LOG.lock() {
        log.push(msg.trim_end().to_string());
    }
}

/// Runs `f` with libbpf's warnings collected rather than printed: a failed
/// attempt at the fexit programs is expected on some kernels, and its
/// messages (which suggest raising `ulimit -l` whatever the cause) would
/// only mislead. The caller decides what to do with them.
fn quietly<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    if let Ok(mut log) = QUIET_LOG.lock() {
        log.clear();
    }
    let previous = libbpf_rs::set_print(Some((libbpf_rs::PrintLevel::Warn, collect_message)));
    let out = f();
    libbpf_rs::set_print(previous);
    let log = QUIET_LOG
        .lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default();
    (out, log)
}

impl Sensor {
    /// Loads and attaches the programs. With `ExitHook::Auto`, per-syscall
    /// `fexit` programs are tried first and the generic tracepoint is the
    /// fallback (the reason is kept in `fallback_reason`).
    pub fn start(config: &SensorConfig) -> Result<Sensor> {
        check_privileges()?;
        let selected = selected_syscalls(config.event_types.as_ref());
        let fexit = match config.exit_hook {
            ExitHook::Tracepoint => return Self::load(config, &selected, None),
            ExitHook::Auto | ExitHook::Fexit => fexit_programs(&selected),
        };
        let reason = match fexit {
            Ok(progs) => match quietly(|| Self::load(config, &selected, Some(&progs))) {
                (Ok(sensor), log) => {
                    if let Some((_, print)) = libbpf_rs::get_print() {
                        for msg in log {
                            print(libbpf_rs::PrintLevel::Warn, msg);
                        }
                    }
                    return Ok(sensor);
                }
                (Err(e), log) if config.exit_hook == ExitHook::Auto => match log.first() {
                    Some(first) => format!("{e:#} ({first})"),
                    None => format!("{e:#}"),
                },
                (Err(e), _) => return Err(e),
            },
            Err(reason) if config.exit_hook == ExitHook::Auto => reason,
            Err(reason) => bail!("cannot hook syscalls with fexit: {reason}"),
        };
        let mut sensor = Self::load(config, &selected, None)?;
        sensor.fallback_reason = Some(reason);
        Ok(sensor)
    }

    /// Loads and attaches the programs: the `fexit` programs named in
    /// `fexit`, or the generic tracepoint when `None`.
    fn load(
        config: &SensorConfig,
        selected: &[&'static syscalls::Syscall],
        fexit: Option<&BTreeSet<String>>,
    ) -> Result<Sensor> {
        // The skeleton borrows its open object for its whole life; a sensor
        // lives as long as the process in practice, so the few bytes are
        // leaked rather than tying the sensor to a stack frame.
        let storage: &'static mut MaybeUninit<OpenObject> =
            Box::leak(Box::new(MaybeUninit::uninit()));
        let builder = SensorSkelBuilder::default();
        let mut open = builder
            .open(storage)
            .context("cannot open the sensor's BPF object")?;
        let ncpus = libbpf_rs::num_possible_cpus().context("cannot count CPUs")?;
        open.maps
            .rings
            .set_max_entries(ncpus as u32)
            .context("cannot size the ring buffer array")?;
        let rodata = open
            .maps
            .rodata_data
            .as_deref_mut()
            .context("the BPF object has no read-only data")?;
        rodata.ignore_tgid = config.ignore_tgid;
        rodata.v1_subsys_id = v1_subsys_id();
        rodata.wakeup_bytes = config.wakeup_bytes;
        // Only the programs of the chosen hook are loaded (and so attached).
        let mut found = 0;
        for mut prog in open.open_object_mut().progs_mut() {
            let name = prog.name().to_string_lossy().into_owned();
            let load = if name == "pal_sys_exit" {
                fexit.is_none()
            } else if name.starts_with("pal_fx_") {
                fexit.is_some_and(|f| f.contains(&name))
            } else {
                true
            };
            if load && name.starts_with("pal_fx_") {
                found += 1;
            }
            prog.set_autoload(load);
        }
        if let Some(f) = fexit {
            if found != f.len() {
                bail!("the BPF object lacks some of the fexit programs {f:?}");
            }
        }
        let mut skel = open.load().with_context(|| match fexit {
            Some(_) => "cannot load the per-syscall fexit programs".to_string(),
            None => "cannot load the sensor's BPF programs (a kernel of 5.15 or later with BTF \
                     is needed)"
                .to_string(),
        })?;
        for s in selected {
            let Some(nr) = syscalls::number(s) else {
                continue;
            };
            skel.maps
                .syscall_specs
                .update(&nr.to_ne_bytes(), &spec_bytes(s), MapFlags::ANY)
                .with_context(|| format!("cannot enable {}", s.name))?;
        }
        let mut inner = Vec::new();
        for cpu in 0..ncpus as u32 {
            let opts = libbpf_sys::bpf_map_create_opts {
                sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as libbpf_sys::size_t,
                ..Default::default()
            };
            let rb = MapHandle::create(
                MapType::RingBuf,
                Some(format!("pal_rb{cpu}")),
                0,
                0,
                RING_BYTES,
                &opts,
            )
            .context("cannot create a ring buffer")?;
            let fd = rb.as_fd();
            use std::os::fd::AsRawFd;
            let raw = fd.as_raw_fd();
            skel.maps
                .rings
                .update(&cpu.to_ne_bytes(), &raw.to_ne_bytes(), MapFlags::ANY)
                .context("cannot install a ring buffer")?;
            inner.push(rb);
        }
        let pending = Rc::new(RefCell::new(Vec::with_capacity(4096)));
        let decode_errors = Rc::new(RefCell::new(0u64));
        let mut builder = RingBufferBuilder::new();
        for rb in &inner {
            let p = pending.clone();
            let e = decode_errors.clone();
            builder
                .add(rb, move |data: &[u8]| {
                    // One record, or a CPU's batch of them.
                    for r in wire::decode_all(data) {
                        match r {
                            Ok(r) => p.borrow_mut().push(r),
                            Err(_) => *e.borrow_mut() += 1,
                        }
                    }
                    0
                })
                .context("cannot watch a ring buffer")?;
        }
        let ring = builder
            .build()
            .context("cannot build the ring buffer reader")?;
        skel.attach().with_context(|| match fexit {
            Some(_) => "cannot attach the per-syscall fexit programs",
            None => "cannot attach the sensor's programs",
        })?;
        let exit_hook = if fexit.is_some() {
            ExitHook::Fexit
        } else {
            ExitHook::Tracepoint
        };
        // `inner` maps are moved into the struct after the reader that
        // borrows them; MapHandle owns its fd, so moving it is fine.
        let inner_static: Vec<MapHandle> = inner;
        let mut sensor = Sensor {
            ring,
            _inner: inner_static,
            held: VecDeque::new(),
            ticks: Vec::new(),
            pending,
            decode_errors,
            skel,
            syscalls: selected.iter().map(|s| s.name).collect(),
            exit_hook,
            fallback_reason: None,
            unbatched_reason: None,
            online: Vec::new(),
        };
        if exit_hook == ExitHook::Tracepoint {
            // Tracepoint programs run with preemption off, so per-CPU state
            // is theirs alone while they run: the clock reading can be
            // reused and records batched. fexit programs can be preempted.
            if let Some(bss) = sensor.skel.maps.bss_data.as_deref_mut() {
                bss.clock_reuse = 1;
            }
            sensor.refresh_flush_ticks();
        } else {
            sensor.unbatched_reason =
                Some("per-syscall fexit programs can be preempted".to_string());
        }
        Ok(sensor)
    }

    /// Sets up the batch flush on every online CPU, again when the online
    /// CPUs changed since the last call (a CPU brought online has no timer,
    /// and one taken offline loses it): each CPU batches its records only
    /// while its timer runs. Call it now and then (the sensor's run loop
    /// does, every second).
    pub fn refresh_flush_ticks(&mut self) {
        if self.exit_hook != ExitHook::Tracepoint {
            return;
        }
        let cpus = match online_cpus() {
            Ok(cpus) => cpus,
            Err(e) => {
                self.unbatched_reason = Some(format!("{e:#}"));
                return;
            }
        };
        if cpus == self.online && self.unbatched_reason.is_none() {
            return;
        }
        // Every CPU sends records at once while the timers are replaced.
        let Some(bss) = self.skel.maps.bss_data.as_deref_mut() else {
            self.unbatched_reason = Some("the BPF object has no .bss".to_string());
            return;
        };
        bss.batching_cpu.fill(0);
        self.ticks.clear();
        self.online = cpus.clone();
        match attach_flush_ticks(&self.skel, &cpus) {
            Ok(ticks) => {
                self.ticks = ticks;
                if let Some(bss) = self.skel.maps.bss_data.as_deref_mut() {
                    for &cpu in &cpus {
                        if let Some(flag) = bss.batching_cpu.get_mut(cpu as usize) {
                            *flag = 1;
                        }
                    }
                }
                self.unbatched_reason = None;
            }
            Err(e) => self.unbatched_reason = Some(format!("{e:#}")),
        }
    }

    /// Waits up to `timeout` for records, then drains every ring; returns
    /// the records in time order (rings are per CPU, so their merge is sorted).
    pub fn poll(&mut self, timeout: Duration) -> Result<Vec<Record>> {
        // Wake-ups are rare by design: the wait usually times out, and
        // consume() then drains whatever accumulated.
        // A signal (Ctrl-C) interrupting the wait is not an error: the
        // caller checks its stop flag next.
        let interrupted = |e: &libbpf_rs::Error| e.kind() == libbpf_rs::ErrorKind::Interrupted;
        match self.ring.poll(timeout) {
            Err(e) if !interrupted(&e) => return Err(e).context("ring buffer poll failed"),
            _ => {}
        }
        match self.ring.consume() {
            Err(e) if !interrupted(&e) => return Err(e).context("ring buffer consume failed"),
            _ => {}
        }
        // Records after this drain read the clock afresh (see pal_time in
        // sensor.bpf.c): a reused reading is never older than one drain.
        // The map's memory is mapped into this process.
        if let Some(bss) = self.skel.maps.bss_data.as_deref_mut() {
            bss.drain_gen = bss.drain_gen.wrapping_add(1);
        }
        let fresh = std::mem::take(&mut *self.pending.borrow_mut());
        let cutoff = crate::run::boot_ns().saturating_sub(HOLD_BACK.as_nanos() as u64);
        Ok(release_until(&mut self.held, fresh, cutoff))
    }

    /// The records still held back, in time order: for the end of a run.
    pub fn take_held(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.held).into()
    }

    /// The counters, summed over CPUs.
    pub fn counters(&self) -> Counters {
        let mut c = Counters::default();
        for key in 0..8u32 {
            let Ok(Some(values)) = self
                .skel
                .maps
                .counters
                .lookup_percpu(&key.to_ne_bytes(), MapFlags::ANY)
            else {
                continue;
            };
            let total: u64 = values
                .iter()
                .filter_map(|v| v.get(..8).and_then(|b| b.try_into().ok()))
                .map(u64::from_ne_bytes)
                .sum();
            let cat = (key / 2) as usize;
            if key % 2 == 0 {
                c.sent[cat] = total;
            } else {
                c.dropped[cat] = total;
            }
        }
        c.decode_errors = *self.decode_errors.borrow();
        c
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_cpu_list, release_until};
    use crate::wire::{Header, Record};
    use std::collections::VecDeque;

    #[test]
    fn held_records_come_out_in_time_order_once_old_enough() {
        let rec = |ts: u64, tgid: u32| {
            Record::Exit(Header {
                ts,
                tgid,
                ..Default::default()
            })
        };
        let ids = |rs: &[Record]| -> Vec<(u64, u32)> {
            rs.iter()
                .map(|r| match r {
                    Record::Exit(h) => (h.ts, h.tgid),
                    _ => unreachable!(),
                })
                .collect()
        };
        // One drain: CPU 0's ring, then CPU 1's; a late record of CPU 0
        // (time 5) comes in the next drain.
        let mut held = VecDeque::new();
        let drain = vec![rec(10, 1), rec(30, 2), rec(20, 3), rec(30, 4)];
        assert_eq!(
            ids(&release_until(&mut held, drain, 25)),
            [(10, 1), (20, 3)]
        );
        // Equal times keep their order of arrival, a held one first.
        let drain = vec![rec(5, 5), rec(40, 6), rec(30, 7)];
        assert_eq!(
            ids(&release_until(&mut held, drain, 35)),
            [(5, 5), (30, 2), (30, 4), (30, 7)]
        );
        assert_eq!(ids(held.make_contiguous()), [(40, 6)]);
        assert!(release_until(&mut held, Vec::new(), 39).is_empty());
        // All newer than what is held: appended as they are.
        let drain = vec![rec(50, 8), rec(45, 9)];
        assert!(release_until(&mut held, drain, 0).is_empty());
        assert_eq!(ids(held.make_contiguous()), [(40, 6), (45, 9), (50, 8)]);
    }

    #[test]
    fn cpu_lists_as_the_kernel_writes_them() {
        assert_eq!(parse_cpu_list("0-1\n"), Some(vec![0, 1]));
        assert_eq!(parse_cpu_list("0"), Some(vec![0]));
        assert_eq!(parse_cpu_list("0-2,5,7-8"), Some(vec![0, 1, 2, 5, 7, 8]));
        // Nothing online, or garbage: no list (the sensor then sends records one by one).
        assert_eq!(parse_cpu_list(""), None);
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("a-b"), None);
        assert_eq!(parse_cpu_list("0-4294967295"), None);
    }
}
