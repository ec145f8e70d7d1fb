//! Syscall overhead and throughput of the sensor (needs root).
//!
//! ```text
//! cargo run --release -p palisade-sensor --example sensor_bench -- RULES.yaml...
//! ```
//!
//! 1. open+close loop: ns per iteration in a child process, without and with
//!    the sensor (capturing the syscalls the rules need), as a ratio; both
//!    wall time and the child's own CPU time (user + system, which is what
//!    the kernel-side hooks add, whatever else runs on the machine), and the
//!    sensor process's CPU time per record (its user-space share);
//! 2. a realistic workload (a shell script spawning processes that read
//!    files, and a directory walk), wall time without and with the sensor;
//! 3. sustained rate: a child paced at 100,000 opens per second for 5 s;
//!    records processed and drops.
//!
//! `PALISADE_BENCH_HOOK=tracepoint` forces the generic `sys_exit` hook
//! (default: per-syscall `fexit` programs when the kernel allows).

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_detect::Engine;
use palisade_sensor::run::{RunOptions, Running};
use palisade_sensor::syscalls::ExitHook;

fn options() -> RunOptions {
    let exit_hook = match std::env::var("PALISADE_BENCH_HOOK").as_deref() {
        Ok("tracepoint") => ExitHook::Tracepoint,
        Ok("fexit") => ExitHook::Fexit,
        _ => ExitHook::Auto,
    };
    RunOptions {
        exit_hook,
        ..RunOptions::default()
    }
}

/// CPU time (user + system) of the calling process, in ns.
fn cpu_ns(who: libc::c_int) -> f64 {
    // SAFETY: an all-zero rusage is valid for getrusage to fill.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid rusage for the call to fill.
    unsafe { libc::getrusage(who, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 * 1e9 + t.tv_usec as f64 * 1e3;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn open_close_loop(n: u64, rate: Option<u64>) {
    let cpu0 = cpu_ns(libc::RUSAGE_SELF);
    let path = std::ffi::CString::new("/etc/hostname").unwrap_or_default();
    let start = Instant::now();
    for i in 0..n {
        // SAFETY: a valid C string; the fd is closed right away.
        unsafe {
            let fd = libc::open(path.as_ptr(), libc::O_RDONLY);
            if fd >= 0 {
                libc::close(fd);
            }
        }
        if let Some(r) = rate {
            // Pace to `r` per second, checking the clock every 100 opens.
            if i % 100 == 0 {
                let due = Duration::from_nanos(i * 1_000_000_000 / r);
                let el = start.elapsed();
                if due > el {
                    std::thread::sleep(due - el);
                }
            }
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    let cpu = (cpu_ns(libc::RUSAGE_SELF) - cpu0) / n as f64;
    println!("{ns:.1} {cpu:.1}");
}

/// Runs the loop in a child: (wall, CPU) ns per iteration.
fn child2(args: &[&str]) -> (f64, f64) {
    let exe = std::env::current_exe().unwrap_or_default();
    let out = Command::new(exe).args(args).output().expect("run child");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut f = text
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(f64::NAN));
    (f.next().unwrap_or(f64::NAN), f.next().unwrap_or(f64::NAN))
}

fn child(args: &[&str]) -> f64 {
    child2(args).0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn workload() -> f64 {
    let start = Instant::now();
    let st = Command::new("sh")
        .args([
            "-c",
            "for i in $(seq 300); do cat /etc/hostname /etc/passwd > /dev/null; done; \
             find /usr/share -maxdepth 3 -type f > /dev/null 2>&1; \
             for i in $(seq 100); do ls /usr/bin > /dev/null; done",
        ])
        .status()
        .expect("workload");
    assert!(st.success());
    start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--loop") {
        let n = args
            .get(2)
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000);
        let rate = args.get(3).and_then(|v| v.parse().ok());
        open_close_loop(n, rate);
        return;
    }
    let mut builder = Engine::builder();
    for f in &args[1..] {
        builder = builder.rules_file(f).expect("rules file");
    }
    let engine = Arc::new(builder.build());
    let n = "1000000";
    let runs = 5;

    let base: Vec<(f64, f64)> = (0..runs).map(|_| child2(&["--loop", n])).collect();
    let base_wl: Vec<f64> = if std::env::var("PALISADE_BENCH_ONLY").as_deref() == Ok("loop") {
        vec![1.0]
    } else {
        (0..3).map(|_| workload()).collect()
    };

    let running = Running::spawn(engine.clone(), options()).expect("sensor");
    println!("syscalls captured: {}", running.syscalls.join(","));
    // Let the table seed settle.
    std::thread::sleep(Duration::from_millis(500));
    // This process's CPU from here to the stop is the sensor's user-space
    // share (the children's is not counted by RUSAGE_SELF).
    let self_cpu0 = cpu_ns(libc::RUSAGE_SELF);
    let with: Vec<(f64, f64)> = (0..runs).map(|_| child2(&["--loop", n])).collect();
    // PALISADE_BENCH_ONLY=loop: the open+close loop alone (for quick A/B runs).
    let only_loop = std::env::var("PALISADE_BENCH_ONLY").as_deref() == Ok("loop");
    let with_wl: Vec<f64> = if only_loop {
        base_wl.clone()
    } else {
        (0..3).map(|_| workload()).collect()
    };
    let stats_before = running.stop().expect("stop");
    let consumer_ns = (cpu_ns(libc::RUSAGE_SELF) - self_cpu0) / stats_before.records.max(1) as f64;

    let wall = |v: &[(f64, f64)]| median(v.iter().map(|x| x.0).collect());
    let cpu = |v: &[(f64, f64)]| median(v.iter().map(|x| x.1).collect());
    let (b, w) = (wall(&base), wall(&with));
    println!(
        "open+close loop: {b:.0} ns/iter without, {w:.0} ns/iter with the sensor: {:.2}x",
        w / b
    );
    let (bc, wc) = (cpu(&base), cpu(&with));
    println!(
        "open+close loop, the loop's own CPU: {bc:.0} ns/iter without, {wc:.0} ns/iter with: {:.2}x",
        wc / bc
    );
    println!("sensor user space: {consumer_ns:.0} ns CPU per record (loops and workload)");
    let (bw, ww) = (median(base_wl), median(with_wl));
    println!(
        "workload: {bw:.3} s without, {ww:.3} s with the sensor: {:.2}x",
        ww / bw
    );
    println!(
        "exit hook: {}{}",
        stats_before.exit_hook,
        stats_before
            .fallback_reason
            .as_deref()
            .map(|r| format!(" (fallback: {r})"))
            .unwrap_or_default()
    );
    if let Some(why) = &stats_before.unbatched_reason {
        println!("records not batched: {why}");
    }
    println!(
        "records {} drops {}",
        stats_before.records,
        stats_before.counters.drops()
    );

    if only_loop {
        return;
    }

    // Sustained rate.
    let running = Running::spawn(engine, options()).expect("sensor");
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    child(&["--loop", "500000", "100000"]);
    let secs = start.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(1500));
    let stats = running.stop().expect("stop");
    println!(
        "paced 100k opens/s for {secs:.2} s: {} records ({:.0}/s), {} dropped, {} sent",
        stats.records,
        stats.records as f64 / secs,
        stats.counters.drops(),
        stats.counters.sent.iter().sum::<u64>()
    );

    // Unpaced: as fast as one core can open.
    let running = Running::spawn(
        Arc::new(Engine::builder().rules_text("x.yaml", "- rule: r\n  desc: d\n  condition: evt.type=openat and fd.name=/nonexistent\n  output: o\n  priority: INFO\n").build()),
        options(),
    )
    .expect("sensor");
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    child(&["--loop", "2000000"]);
    let secs = start.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(1500));
    let stats = running.stop().expect("stop");
    println!(
        "unpaced: {:.0} opens/s for {secs:.2} s: {} records, {} dropped",
        2_000_000.0 / secs,
        stats.records,
        stats.counters.drops()
    );
}
