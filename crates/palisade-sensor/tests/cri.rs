//! The CRI client against a fake runtime (tonic's server on a unix socket):
//! the fields rules see, `<NA>` when nothing is known, the cache, retries,
//! eviction, and that a slow runtime never holds up events.
#![cfg(feature = "cri")]

#[path = "common/fake_cri.rs"]
mod fake_cri;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fake_cri::{FakeServer, POD_UID};
use palisade_detect::Engine;
use palisade_sensor::container::{ContainerRef, Runtime};
use palisade_sensor::cri::{CriOptions, Metadata};
use palisade_sensor::process::Process;
use palisade_sensor::state::State;
use palisade_sensor::syscalls;
use palisade_sensor::wire::{Record, SysRecord};

const CID: &str = "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc";
const SID: &str = "5a4db0c5112233445566778899aabbccddeeff00112233445566778899aabbcc";

fn opts(path: PathBuf) -> CriOptions {
    CriOptions {
        sockets: vec![path],
        timeout: Duration::from_millis(500),
        max_attempts: 2,
        retry_delay: Duration::from_millis(100),
        ..Default::default()
    }
}

/// Polls `m` until `id` is known or failed, at most 5 s.
fn settle(
    m: &mut Metadata,
    id: &str,
) -> Option<std::sync::Arc<palisade_sensor::container::ContainerMeta>> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        m.poll(Instant::now());
        if m.failure(id).is_some() {
            return None;
        }
        if let Some(meta) = m.get(id, Instant::now()) {
            return Some(meta);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no answer for {id} within 5 s");
}

fn server_with_pod() -> FakeServer {
    let s = FakeServer::start();
    s.fake.add_container(
        CID,
        SID,
        "web",
        "docker.io/library/nginx:1.27",
        "web-0",
        "shop",
    );
    s.fake.add_sandbox(SID, "web-0", "shop", "10.1.2.3");
    s
}

#[test]
fn container_and_pod_from_the_runtime() {
    let server = server_with_pod();
    let mut m = Metadata::start(&opts(server.path.clone())).unwrap();
    assert!(m.enabled());
    // The first sight starts the lookup and answers nothing yet.
    assert!(m.get(CID, Instant::now()).is_none());
    let meta = settle(&mut m, CID).expect("found");
    assert_eq!(meta.name, "web");
    assert_eq!(meta.runtime, Some("containerd"));
    assert_eq!(meta.image, "docker.io/library/nginx:1.27");
    assert_eq!(meta.image_repository, "docker.io/library/nginx");
    assert_eq!(meta.image_tag, "1.27");
    assert_eq!(meta.image_digest, format!("sha256:{}", "ab".repeat(32)));
    assert_eq!(meta.pod_name(), Some("web-0"));
    assert_eq!(meta.pod_namespace(), Some("shop"));
    assert_eq!(meta.pod_uid(), Some(POD_UID));
    assert_eq!(meta.pod_sandbox_id, SID);
    assert_eq!(meta.ip, "10.1.2.3");
    assert_eq!(
        meta.pod_labels.get("tier").map(String::as_str),
        Some("backend")
    );
    // Asked once each, the way Falco does; later gets come from the cache.
    for _ in 0..100 {
        assert!(m.get(CID, Instant::now()).is_some());
    }
    let f = &server.fake;
    assert_eq!(f.count("ListContainers", CID), 1);
    assert_eq!(f.count("ContainerStatus", CID), 1);
    assert_eq!(f.count("PodSandboxStatus", SID), 1);
    assert_eq!(m.stats().started, 1);
    assert_eq!(m.stats().found, 1);
}

#[test]
fn a_pod_sandbox_id_gives_the_pod_only() {
    let server = server_with_pod();
    let mut m = Metadata::start(&opts(server.path.clone())).unwrap();
    let _ = m.get(SID, Instant::now());
    let meta = settle(&mut m, SID).expect("the sandbox is known");
    assert!(meta.is_sandbox);
    assert_eq!(meta.pod_name(), Some("web-0"));
    assert_eq!(meta.name, "");
}

#[test]
fn unknown_container_is_not_found_and_retried_a_few_times() {
    let server = server_with_pod();
    let other = "0".repeat(64);
    let mut m = Metadata::start(&CriOptions {
        retry_delay: Duration::from_millis(400),
        ..opts(server.path.clone())
    })
    .unwrap();
    let _ = m.get(&other, Instant::now());
    assert!(settle(&mut m, &other).is_none());
    assert_eq!(m.failure(&other), Some("not found"));
    assert_eq!(server.fake.count("ListContainers", &other), 1);
    // Not retried before the delay...
    assert!(m.get(&other, Instant::now()).is_none());
    assert_eq!(m.stats().started, 1);
    // ...then once more (max_attempts = 2), then never again.
    std::thread::sleep(Duration::from_millis(450));
    let _ = m.get(&other, Instant::now());
    assert_eq!(m.stats().started, 2);
    std::thread::sleep(Duration::from_millis(50));
    assert!(settle(&mut m, &other).is_none());
    std::thread::sleep(Duration::from_millis(1000));
    for _ in 0..10 {
        assert!(m.get(&other, Instant::now()).is_none());
    }
    m.poll(Instant::now());
    assert_eq!(m.stats().started, 2);
    assert_eq!(m.stats().not_found, 2);
    assert_eq!(server.fake.count("ListContainers", &other), 2);
}

#[test]
fn no_socket_or_server_error_leaves_fields_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Metadata::start(&opts(dir.path().join("absent.sock"))).unwrap();
    let _ = m.get(CID, Instant::now());
    assert!(settle(&mut m, CID).is_none());
    assert!(
        m.failure(CID).is_some_and(|w| w.contains("no such socket")),
        "{:?}",
        m.failure(CID)
    );

    let server = server_with_pod();
    *server.fake.status_error.lock().unwrap() = Some(tonic::Status::internal("disk on fire"));
    let mut m = Metadata::start(&opts(server.path.clone())).unwrap();
    let _ = m.get(CID, Instant::now());
    assert!(settle(&mut m, CID).is_none());
    let why = m.failure(CID).unwrap_or_default().to_string();
    assert!(
        why.contains("Internal") && why.contains("disk on fire"),
        "{why}"
    );
    assert_eq!(m.stats().failed, 1);

    let off = Metadata::start(&CriOptions {
        disabled: true,
        ..Default::default()
    })
    .unwrap();
    assert!(!off.enabled());
}

#[test]
fn a_slow_runtime_does_not_hold_up_events() {
    let server = server_with_pod();
    *server.fake.delay.lock().unwrap() = Duration::from_secs(3);
    let mut state = state_with_container(Metadata::start(&opts(server.path.clone())).unwrap());
    let engine = engine();
    let rec = openat_record();
    let t = Instant::now();
    for _ in 0..50 {
        let alerts = state.handle(&rec, |e| engine.evaluate(e)).unwrap();
        assert_eq!(alerts.len(), 1);
        assert!(
            alerts[0].message.starts_with("name=<NA> image=<NA>"),
            "{}",
            alerts[0].message
        );
    }
    // Blocking would take the server's 3 s; the bound leaves room for a
    // loaded CI machine.
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "50 events took {:?}",
        t.elapsed()
    );
    // The lookup gives up at the client's timeout, not the server's pace.
    assert!(settle(&mut state.meta, CID).is_none());
    assert!(
        t.elapsed() < Duration::from_millis(2500),
        "{:?}",
        t.elapsed()
    );
    assert!(
        state
            .meta
            .failure(CID)
            .is_some_and(|w| w.contains("no answer within 500 ms")),
        "{:?}",
        state.meta.failure(CID)
    );
    // Stopping does not wait for the runtime either.
    let t = Instant::now();
    let _ = state.meta.get(&"1".repeat(64), Instant::now());
    drop(state);
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
}

const RULES: &str = r#"
- rule: open in container
  desc: shows the runtime's fields
  condition: evt.type=openat and container.id != host
  output: "name=%container.name image=%container.image.repository tag=%container.image.tag pod=%k8s.pod.name ns=%k8s.ns.name uid=%k8s.pod.uid app=%k8s.pod.label[app] tier=%k8s.pod.label.tier labels=(%k8s.pod.labels) type=%container.type sandbox=%k8s.pod.sandbox_id ip=%k8s.pod.ip cname=%container.label[io.kubernetes.container.name] priv=%container.privileged"
  priority: INFO
"#;

fn engine() -> Engine {
    let e = Engine::builder().rules_text("r.yaml", RULES).build();
    assert!(!e.has_errors(), "{:?}", e.diagnostics());
    e
}

fn state_with_container(meta: Metadata) -> State {
    let mut state = State::new("/nonexistent", "/nonexistent", "h").with_metadata(meta);
    state.table.insert(Process {
        pid: 4242,
        ppid: 1,
        comm: "nginx".into(),
        exe: "nginx".into(),
        known: true,
        container: Some(ContainerRef {
            full_id: CID.into(),
            runtime: Runtime::Cri,
            pod_uid: Some(POD_UID.into()),
        }),
        ..Default::default()
    });
    state
}

fn openat_record() -> Record {
    let sc = syscalls::by_name("openat").unwrap();
    let mut r = SysRecord::default();
    r.hdr.nr = syscalls::number(sc).unwrap();
    r.hdr.tgid = 4242;
    r.hdr.tid = 4242;
    r.hdr.ret = 3;
    r.hdr.args = [(-100i64) as u64, 0, 0, 0, 0, 0];
    r.strs[0] = Some(b"/etc/hostname".to_vec());
    Record::Sys(r)
}

#[test]
fn rules_see_the_runtime_fields_once_known() {
    let server = server_with_pod();
    let mut state = state_with_container(Metadata::start(&opts(server.path.clone())).unwrap());
    let engine = engine();
    let rec = openat_record();
    // First event: the lookup starts, nothing known yet but the cgroup's.
    let first = state.handle(&rec, |e| engine.evaluate(e)).unwrap();
    assert_eq!(
        first[0].message,
        format!(
            "name=<NA> image=<NA> tag=<NA> pod=<NA> ns=<NA> uid={POD_UID} app=<NA> tier=<NA> labels=(<NA>) type=cri sandbox=<NA> ip=<NA> cname=<NA> priv=<NA>"
        )
    );
    assert!(settle(&mut state.meta, CID).is_some());
    let later = state.handle(&rec, |e| engine.evaluate(e)).unwrap();
    assert_eq!(
        later[0].message,
        format!(
            "name=web image=docker.io/library/nginx tag=1.27 pod=web-0 ns=shop uid={POD_UID} app=web-0 tier=backend labels=(app:web-0, tier:backend) type=containerd sandbox={} ip=10.1.2.3 cname=web priv=false",
            &SID[..12]
        )
    );
    assert_eq!(
        later[0].output_fields.get("k8s.pod.name"),
        Some(&serde_json::json!("web-0"))
    );

    // Once the container's last process is gone, its entry goes too.
    let t0 = Instant::now();
    state.table.exit(4242, t0);
    state.table.purge(t0 + Duration::from_secs(6));
    assert_eq!(state.meta.len(), 1);
    state.evict_gone_containers();
    assert_eq!(state.meta.len(), 0);
    assert_eq!(state.meta.stats().evicted, 1);
}

#[test]
fn host_processes_have_no_pod() {
    let mut state = State::new("/nonexistent", "/nonexistent", "h");
    state.table.insert(Process {
        pid: 7,
        ppid: 1,
        comm: "sshd".into(),
        known: true,
        ..Default::default()
    });
    let rules = r#"
- rule: host open
  desc: d
  condition: evt.type=openat and container.id=host
  output: "name=%container.name type=%container.type image=[%container.image] pod=%k8s.pod.name ns=%k8s.ns.name label=%k8s.pod.label[app]"
  priority: INFO
"#;
    let engine = Engine::builder().rules_text("r.yaml", rules).build();
    assert!(!engine.has_errors(), "{:?}", engine.diagnostics());
    let Record::Sys(mut r) = openat_record() else {
        unreachable!()
    };
    r.hdr.tgid = 7;
    r.hdr.tid = 7;
    let alerts = state
        .handle(&Record::Sys(r), |e| engine.evaluate(e))
        .unwrap();
    assert_eq!(
        alerts[0].message,
        "name=host type=host image=[] pod=<NA> ns=<NA> label=<NA>"
    );
}
