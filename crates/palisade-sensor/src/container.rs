//! Container ids from cgroup paths, as Falco's container plugin recognises
//! them (its runc-style matchers): a 64-hex-digit id at the end of the path,
//! between a runtime's prefix and suffix.
//!
//! Recognised layouts: Docker (`/<id>`, `/docker-<id>.scope`), containerd
//! and CRI-O under Kubernetes (`/<id>`, `/crio-<id>`, `/cri-containerd-<id>.scope`,
//! `/crio-<id>.scope`, `:cri-containerd:<id>`, `/nerdctl-<id>.scope`) and
//! Podman (`/libpod-<id>.scope`, `/libpod-<id>.scope/container`, `/libpod-<id>`).
//! Falco's containerd matcher for `ctr`-created containers (any short name
//! under any "namespace" directory) is left out: it also matches ordinary
//! cgroups such as systemd services' and sandboxes', which would put host
//! processes "in a container".

/// The runtime that created a container, as `container.type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// Docker.
    Docker,
    /// A CRI runtime (containerd, CRI-O).
    Cri,
    /// Podman.
    Podman,
}

impl Runtime {
    /// `container.type`.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Cri => "cri",
            Runtime::Podman => "podman",
        }
    }
}

const LAYOUTS: &[(&str, &str, Runtime)] = &[
    ("/docker-", ".scope", Runtime::Docker),
    ("/cri-containerd-", ".scope", Runtime::Cri),
    ("/crio-", ".scope", Runtime::Cri),
    ("/crio-", "", Runtime::Cri),
    (":cri-containerd:", "", Runtime::Cri),
    ("/nerdctl-", ".scope", Runtime::Cri),
    ("/libpod-", ".scope/container", Runtime::Podman),
    ("/libpod-", ".scope", Runtime::Podman),
    ("/libpod-payload-", ".scope", Runtime::Podman),
    ("/libpod-", "", Runtime::Podman),
    // Plain `/<id>` last: it is what both Docker and Kubernetes' cgroupfs
    // driver use; under /kubepods it is a CRI container.
    ("/", "", Runtime::Docker),
];

/// A container found in a cgroup path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRef {
    /// The full 64-digit id.
    pub full_id: String,
    /// Runtime.
    pub runtime: Runtime,
    /// The Kubernetes pod uid, when the path has one (`pod<uid>`).
    pub pod_uid: Option<String>,
}

impl ContainerRef {
    /// `container.id`: the first 12 digits.
    pub fn id(&self) -> &str {
        self.full_id.get(..12).unwrap_or(&self.full_id)
    }
}

fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The container of one cgroup path, if any.
pub fn from_cgroup_path(path: &str) -> Option<ContainerRef> {
    for &(prefix, suffix, runtime) in LAYOUTS {
        let Some(rest) = path.strip_suffix(suffix) else {
            continue;
        };
        let Some(start) = rest.rfind(prefix) else {
            continue;
        };
        let id = &rest[start + prefix.len()..];
        if !is_id(id) {
            continue;
        }
        let runtime = if runtime == Runtime::Docker && path.contains("kubepods") {
            Runtime::Cri
        } else {
            runtime
        };
        return Some(ContainerRef {
            full_id: id.to_ascii_lowercase(),
            runtime,
            pod_uid: pod_uid(path),
        });
    }
    None
}

/// The pod uid in a kubelet cgroup path: `pod<uid>` (cgroupfs driver) or
/// `kubepods-<qos>-pod<uid_with_underscores>.slice` (systemd driver).
fn pod_uid(path: &str) -> Option<String> {
    for comp in path.split('/') {
        let comp = comp.strip_suffix(".slice").unwrap_or(comp);
        if let Some(i) = comp.rfind("pod") {
            let uid = comp[i + 3..].replace('_', "-");
            if uid.len() == 36 && uid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
                return Some(uid);
            }
        }
    }
    None
}

/// The container of a process from the lines of `/proc/PID/cgroup`
/// (`hierarchy:controllers:path`), the first match in file order.
pub fn from_proc_cgroup(text: &str) -> Option<ContainerRef> {
    text.lines()
        .filter_map(|l| l.splitn(3, ':').nth(2))
        .find_map(from_cgroup_path)
}

/// Joins cgroup path components given leaf first (as the kernel sends them)
/// into a path. The root's empty name is dropped.
pub fn join_leaf_first(components: &[Vec<u8>]) -> String {
    let mut parts: Vec<String> = components
        .iter()
        .rev()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .filter(|c| !c.is_empty() && c != "/")
        .collect();
    if parts.is_empty() {
        return "/".to_string();
    }
    parts.insert(0, String::new());
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f1e0c6e1a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";

    #[test]
    fn runtime_layouts() {
        let cases = [
            (format!("/docker/{ID}"), Runtime::Docker),
            (format!("/system.slice/docker-{ID}.scope"), Runtime::Docker),
            (
                format!("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_1111_2222_3333_444455556666.slice/cri-containerd-{ID}.scope"),
                Runtime::Cri,
            ),
            (format!("/kubepods/burstable/pod0a1b2c3d-1111-2222-3333-444455556666/{ID}"), Runtime::Cri),
            (format!("/kubepods.slice/crio-{ID}.scope"), Runtime::Cri),
            (format!("/machine.slice/libpod-{ID}.scope/container"), Runtime::Podman),
        ];
        for (path, rt) in cases {
            let c = from_cgroup_path(&path).unwrap_or_else(|| panic!("{path}"));
            assert_eq!(c.full_id, ID, "{path}");
            assert_eq!(c.id(), &ID[..12]);
            assert_eq!(c.runtime, rt, "{path}");
        }
        let c = from_cgroup_path(&format!(
            "/kubepods/burstable/pod0a1b2c3d-1111-2222-3333-444455556666/{ID}"
        ))
        .unwrap();
        assert_eq!(
            c.pod_uid.as_deref(),
            Some("0a1b2c3d-1111-2222-3333-444455556666")
        );
    }

    #[test]
    fn host_cgroups_are_not_containers() {
        for path in [
            "/",
            "/user.slice/user-1000.slice/session-2.scope",
            "/system.slice/containerd.service",
            // 32 digits: a sandbox id, not a container id.
            "/process_api/c288eb8c9ee3649d9738784932503033",
            &format!("/docker/{}", &ID[..63]),
            &format!("/docker/{ID}x"),
        ] {
            assert_eq!(from_cgroup_path(path), None, "{path}");
        }
        let text = format!(
            "4:memory:/process_api/c288eb8c9ee3649d9738784932503033\n0::/\n3:pids:/docker/{ID}\n"
        );
        assert_eq!(
            from_proc_cgroup(&text).map(|c| c.full_id),
            Some(ID.to_string())
        );
    }

    #[test]
    fn joins_kernel_components() {
        let comps = vec![b"leaf".to_vec(), b"mid".to_vec(), Vec::new()];
        assert_eq!(join_leaf_first(&comps), "/mid/leaf");
        assert_eq!(join_leaf_first(&[Vec::new()]), "/");
    }
}
