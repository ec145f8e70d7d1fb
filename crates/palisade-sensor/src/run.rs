//! The sensor's main loop: records → process table → rules engine → alerts,
//! with the counters read every second for `/metrics` and the drop alert.

// Without the loader (`bpf` feature off) the helpers of the loop are unused;
// they are kept compiled so that both builds check the same code.
#![cfg_attr(not(feature = "bpf"), allow(dead_code, unused_imports))]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use palisade_detect::{Alert, Engine};

use crate::cri::{CriOptions, LookupStats, Metadata};
use crate::drops::{Counters, DropMonitor};
use crate::state::State;
use crate::syscalls::ExitHook;

/// How the loop runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Host name alerts carry.
    pub hostname: String,
    /// Where /proc is.
    pub proc_root: String,
    /// The host's root, for its passwd and group files.
    pub host_root: String,
    /// Serve Prometheus metrics on this address (`GET /metrics`).
    pub metrics_addr: Option<SocketAddr>,
    /// Set to stop the loop.
    pub stop: Arc<AtomicBool>,
    /// Share of dropped records in one second above which the drop alert fires.
    pub drop_threshold: f64,
    /// Capture every known syscall, not only those the rules need.
    pub all_syscalls: bool,
    /// How syscall exits are hooked in the kernel.
    pub exit_hook: ExitHook,
    /// Where container and pod metadata come from.
    pub cri: CriOptions,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            hostname: std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into()),
            proc_root: "/proc".into(),
            host_root: "/".into(),
            metrics_addr: None,
            stop: Arc::new(AtomicBool::new(false)),
            drop_threshold: 0.1,
            all_syscalls: false,
            exit_hook: ExitHook::Auto,
            cri: CriOptions::default(),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    /// Records processed.
    pub records: u64,
    /// Final counters.
    pub counters: Counters,
    /// Syscalls captured.
    pub syscalls: Vec<&'static str>,
    /// How syscall exits were hooked (`Fexit` or `Tracepoint`).
    pub exit_hook: ExitHook,
    /// Why per-syscall hooks were not used, when `Auto` fell back.
    pub fallback_reason: Option<String>,
    /// Why syscall records were sent one by one rather than in per-CPU
    /// batches, if they were.
    pub unbatched_reason: Option<String>,
    /// Lookups of container metadata.
    pub cri: LookupStats,
}

/// Shared with the metrics endpoint.
#[derive(Debug, Default)]
struct Shared {
    counters: Counters,
    records: u64,
    processes: usize,
    cri: LookupStats,
}

fn serve_metrics(
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    engine_metrics: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<SocketAddr> {
    palisade_detect::cli_support::serve_metrics_text(addr, "sensor-metrics", stop, move || {
        let mut body = match shared.lock() {
            Ok(s) => {
                let mut b = s.counters.prometheus();
                b.push_str(&format!(
                    "# HELP palisade_sensor_records_processed_total Records processed by user space.\n# TYPE palisade_sensor_records_processed_total counter\npalisade_sensor_records_processed_total {}\n# HELP palisade_sensor_processes Processes in the process table.\n# TYPE palisade_sensor_processes gauge\npalisade_sensor_processes {}\n",
                    s.records, s.processes
                ));
                let c = s.cri;
                b.push_str("# HELP palisade_sensor_cri_lookups_total Container metadata lookups on the CRI socket, by result.\n# TYPE palisade_sensor_cri_lookups_total counter\n");
                for (result, n) in [
                    ("found", c.found),
                    ("not_found", c.not_found),
                    ("failed", c.failed),
                ] {
                    b.push_str(&format!(
                        "palisade_sensor_cri_lookups_total{{result=\"{result}\"}} {n}\n"
                    ));
                }
                b
            }
            Err(_) => String::new(),
        };
        if let Ok(e) = engine_metrics.lock() {
            body.push_str(&e);
        }
        body
    })
}

/// The engine's counters in Prometheus' text format: the names and labels the
/// webhook's `/audit` and `palisade detect --listen` export too, so one alert
/// rule covers every source.
fn engine_metrics_text(engine: &Engine) -> String {
    engine.metrics().snapshot().prometheus_text()
}

/// Runs the sensor with `engine` until `opts.stop` is set; every alert goes
/// to `on_alert`. `on_ready` is called once the programs are attached and the
/// process table is seeded (activity from then on is seen).
#[cfg(feature = "bpf")]
pub fn run(
    engine: &Engine,
    opts: &RunOptions,
    on_ready: impl FnOnce(&[&'static str], Option<SocketAddr>),
    mut on_alert: impl FnMut(Alert),
) -> anyhow::Result<RunStats> {
    use crate::bpf::{Sensor, SensorConfig};
    let event_types = if opts.all_syscalls {
        None
    } else {
        engine.event_types("syscall")
    };
    let config = SensorConfig {
        event_types,
        exit_hook: opts.exit_hook,
        ..SensorConfig::default()
    };
    let mut sensor = Sensor::start(&config)?;
    // Attach first, seed after: a process started in between is in /proc
    // or in the records, never in neither.
    let meta = Metadata::start(&opts.cri)?;
    let mut state =
        State::new(&opts.proc_root, &opts.host_root, opts.hostname.clone()).with_metadata(meta);
    state.seed();
    let shared = Arc::new(Mutex::new(Shared::default()));
    let engine_text = Arc::new(Mutex::new(String::new()));
    let metrics_addr = match opts.metrics_addr {
        Some(a) => Some(serve_metrics(
            a,
            shared.clone(),
            engine_text.clone(),
            opts.stop.clone(),
        )?),
        None => None,
    };
    on_ready(&sensor.syscalls, metrics_addr);
    let mut monitor =
        DropMonitor::with(opts.drop_threshold, 1.0 / 30.0, 1.0, opts.hostname.clone());
    let mut stats = RunStats {
        syscalls: sensor.syscalls.clone(),
        exit_hook: sensor.exit_hook,
        fallback_reason: sensor.fallback_reason.clone(),
        unbatched_reason: sensor.unbatched_reason.clone(),
        ..Default::default()
    };
    if let Some(why) = &stats.unbatched_reason {
        eprintln!("warning: syscall records are sent one by one, at a higher cost: {why}");
    }
    let mut last_tick = Instant::now();
    while !opts.stop.load(Ordering::Relaxed) {
        let records = sensor.poll(Duration::from_millis(20))?;
        handle_records(&records, &mut stats, &mut state, engine, &mut on_alert);
        if last_tick.elapsed() >= Duration::from_secs(1) {
            last_tick = Instant::now();
            sensor.refresh_flush_ticks();
            let counters = sensor.counters();
            stats.counters = counters;
            let now_ns = state.table.epoch_ns(boot_ns());
            if let Some(a) = monitor.tick(counters, now_ns) {
                on_alert(a);
            }
            if let Ok(mut s) = shared.lock() {
                s.counters = counters;
                s.records = stats.records;
                s.processes = state.table.len();
                s.cri = state.meta.stats();
            }
            if let Ok(mut t) = engine_text.lock() {
                *t = engine_metrics_text(engine);
            }
        }
    }
    handle_records(
        &sensor.take_held(),
        &mut stats,
        &mut state,
        engine,
        &mut on_alert,
    );
    stats.counters = sensor.counters();
    stats.cri = state.meta.stats();
    Ok(stats)
}

/// Turns records into events and their alerts.
#[cfg(feature = "bpf")]
fn handle_records(
    records: &[crate::wire::Record],
    stats: &mut RunStats,
    state: &mut State,
    engine: &Engine,
    on_alert: &mut impl FnMut(Alert),
) {
    let now = Instant::now();
    for r in records {
        stats.records += 1;
        if let Some(alerts) = state.handle_at(r, now, |evt| engine.evaluate(evt)) {
            for a in alerts {
                on_alert(a);
            }
        }
    }
}

/// Without the `bpf` feature there is no sensor to run.
#[cfg(not(feature = "bpf"))]
pub fn run(
    _engine: &Engine,
    _opts: &RunOptions,
    _on_ready: impl FnOnce(&[&'static str], Option<SocketAddr>),
    _on_alert: impl FnMut(Alert),
) -> anyhow::Result<RunStats> {
    anyhow::bail!(
        "this build of palisade has no syscall sensor: rebuild with the default features \
         (needs clang, bpftool and libelf: apt-get install clang bpftool libelf-dev)"
    )
}

/// CLOCK_BOOTTIME now, in ns: the clock of the records' times.
pub(crate) fn boot_ns() -> u64 {
    u64::try_from(crate::process::clock_ns(libc::CLOCK_BOOTTIME)).unwrap_or(0)
}

/// A sensor running on its own thread, for embedding and tests.
#[derive(Debug)]
pub struct Running {
    /// Alerts as they are raised.
    pub alerts: mpsc::Receiver<Alert>,
    /// Syscalls captured.
    pub syscalls: Vec<&'static str>,
    /// Where metrics are served.
    pub metrics_addr: Option<SocketAddr>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<RunStats>>>,
}

impl Running {
    /// Starts the sensor on a thread and waits until it sees activity.
    pub fn spawn(engine: Arc<Engine>, opts: RunOptions) -> anyhow::Result<Running> {
        let (alert_tx, alerts) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let stop = opts.stop.clone();
        let thread = std::thread::spawn(move || {
            let ready = ready_tx.clone();
            let result = run(
                &engine,
                &opts,
                move |syscalls, addr| {
                    let _ = ready.send(Ok((syscalls.to_vec(), addr)));
                },
                |a| {
                    let _ = alert_tx.send(a);
                },
            );
            if let Err(e) = &result {
                let _ = ready_tx.send(Err(format!("{e:#}")));
            }
            result
        });
        match ready_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok((syscalls, metrics_addr))) => Ok(Running {
                alerts,
                syscalls,
                metrics_addr,
                stop,
                thread: Some(thread),
            }),
            Ok(Err(e)) => anyhow::bail!("{e}"),
            Err(_) => anyhow::bail!("the sensor did not start within 60 s"),
        }
    }

    /// Stops the sensor and returns its statistics.
    pub fn stop(mut self) -> anyhow::Result<RunStats> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => anyhow::bail!("the sensor thread panicked"),
            None => Ok(RunStats::default()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

static STOP_FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();

extern "C" fn on_stop_signal(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    if let Some(f) = STOP_FLAG.get() {
        f.store(true, Ordering::Relaxed);
    }
}

/// Sets `stop` on SIGINT and SIGTERM, so that the loop ends and the
/// programs are detached cleanly. Only the first flag given is used.
pub fn stop_on_signals(stop: Arc<AtomicBool>) {
    let _ = STOP_FLAG.set(stop);
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only performs an atomic store.
        unsafe {
            libc::signal(
                sig,
                on_stop_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
}
