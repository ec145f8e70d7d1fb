//! TEMPORARY (deleted before hand-back): loop with the sensor, prints per-prog stats.
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use palisade_detect::Engine;
use palisade_sensor::run::{RunOptions, Running};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--loop") {
        let n: u64 = args[2].parse().unwrap();
        let path = std::ffi::CString::new("/etc/hostname").unwrap();
        let t = std::time::Instant::now();
        for _ in 0..n { unsafe { let fd = libc::open(path.as_ptr(), libc::O_RDONLY); if fd >= 0 { libc::close(fd); } } }
        println!("{:.0} ns/iter", t.elapsed().as_nanos() as f64 / n as f64);
        return;
    }
    let engine = Arc::new(Engine::builder().rules_file(&args[1]).unwrap().build());
    let running = Running::spawn(engine, RunOptions::default()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let _ = Command::new("sysctl").args(["-q", "-w", "kernel.bpf_stats_enabled=1"]).status();
    let exe = std::env::current_exe().unwrap();
    for _ in 0..3 {
        let out = Command::new(&exe).args(["--loop", "1000000"]).output().unwrap();
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
    let out = Command::new("bpftool").args(["prog", "show", "name", "pal_sys_exit"]).output().unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    let _ = Command::new("sysctl").args(["-q", "-w", "kernel.bpf_stats_enabled=0"]).status();
    let f: Vec<&str> = s.split_whitespace().collect();
    let get = |k: &str| f.iter().position(|x| *x == k).and_then(|i| f.get(i + 1)).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    println!("prog: {:.1} ns/run over {} runs", get("run_time_ns") / get("run_cnt").max(1.0), get("run_cnt"));
    let st = running.stop().unwrap();
    println!("records {}", st.records);
}
