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
//!
//! What only the runtime knows (names, image, pod) is a [`ContainerMeta`],
//! filled by the CRI client (`crate::cri`).

use std::collections::BTreeMap;

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

/// What the container runtime says about a container (CRI `ContainerStatus`
/// and its pod's `PodSandboxStatus`), as Falco's container plugin keeps it.
/// Strings the runtime left empty stay empty, as in Falco.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerMeta {
    /// `container.type` as the runtime names itself (`containerd`, `cri-o`,
    /// `cri`); `None` keeps the cgroup layout's.
    pub runtime: Option<&'static str>,
    /// `container.name`: the container's name in the pod spec.
    pub name: String,
    /// `container.image`.
    pub image: String,
    /// `container.image.repository`.
    pub image_repository: String,
    /// `container.image.tag`.
    pub image_tag: String,
    /// `container.image.digest`.
    pub image_digest: String,
    /// `container.image.id`.
    pub image_id: String,
    /// `container.privileged`.
    pub privileged: bool,
    /// `container.ip`, `k8s.pod.ip`: the sandbox's primary address.
    pub ip: String,
    /// `container.host_pid`, `container.host_network`, `container.host_ipc`.
    pub host_pid: bool,
    /// See `host_pid`.
    pub host_network: bool,
    /// See `host_pid`.
    pub host_ipc: bool,
    /// The container's labels (`container.label[K]`), with the pod's name,
    /// namespace and uid under kubelet's `io.kubernetes.pod.*` keys.
    pub labels: BTreeMap<String, String>,
    /// The full id of the pod sandbox (`k8s.pod.full_sandbox_id`).
    pub pod_sandbox_id: String,
    /// The pod's labels (`k8s.pod.label[K]`).
    pub pod_labels: BTreeMap<String, String>,
    /// The id is a pod sandbox's (its "pause" process), not a container's.
    pub is_sandbox: bool,
}

/// Labels longer than this are left out, as Falco's `label_max_len` default.
pub const LABEL_MAX_LEN: usize = 100;

impl ContainerMeta {
    /// A label of the container.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }

    /// `k8s.pod.name`.
    pub fn pod_name(&self) -> Option<&str> {
        self.label("io.kubernetes.pod.name")
    }

    /// `k8s.ns.name`.
    pub fn pod_namespace(&self) -> Option<&str> {
        self.label("io.kubernetes.pod.namespace")
    }

    /// `k8s.pod.uid` (and the legacy `k8s.pod.id`).
    pub fn pod_uid(&self) -> Option<&str> {
        self.label("io.kubernetes.pod.uid")
    }
}

/// `container.labels`, `k8s.pod.labels`: `key:value` pairs in key order,
/// joined with `", "`, leaving out kubelet's own `io.kubernetes.*` and
/// `annotation.*` keys (Falco's `concatenate_container_labels`).
pub fn join_labels(labels: &BTreeMap<String, String>) -> String {
    let mut s = String::new();
    for (k, v) in labels {
        if k.starts_with("annotation.") || k.starts_with("io.kubernetes.") {
            continue;
        }
        if !s.is_empty() {
            s.push_str(", ");
        }
        s.push_str(k);
        if !v.is_empty() {
            s.push(':');
            s.push_str(v);
        }
    }
    s
}

/// Splits an image reference into repository and tag, dropping a digest
/// (`@sha256:...`); a colon before the last slash is a registry port.
pub fn image_repo_tag(image: &str) -> (&str, &str) {
    let image = match image.find('@') {
        Some(at) => &image[..at],
        None => image,
    };
    let last_slash = image.rfind('/');
    match image.rfind(':') {
        Some(colon) if last_slash.is_none_or(|s| colon > s) => {
            (&image[..colon], &image[colon + 1..])
        }
        _ => (image, ""),
    }
}

/// The image fields from a CRI status's `image.image`, `image_ref` and the
/// image name annotations runtimes put in the verbose info (Falco's rules:
/// the digest comes from `image_ref`, the tag from the image as specified).
pub fn image_fields(
    spec_image: &str,
    image_ref: &str,
    annotations: &BTreeMap<String, String>,
) -> (String, String, String, String) {
    let mut name = spec_image.to_string();
    let mut digest = String::new();
    let mut tag_from_spec = false;
    match image_ref.find("sha256:") {
        Some(0) => digest = image_ref.to_string(),
        Some(i) if image_ref.as_bytes().get(i - 1) == Some(&b'@') => {
            name = image_ref[..i - 1].to_string();
            digest = image_ref[i..].to_string();
            tag_from_spec = true;
        }
        _ => {}
    }
    if name.is_empty() || name.starts_with("sha256") {
        let annotated = [
            "io.kubernetes.cri.image-name",
            "io.kubernetes.cri-o.Image",
            "io.kubernetes.cri-o.ImageName",
        ]
        .iter()
        .find_map(|k| annotations.get(*k));
        if let Some(a) = annotated {
            name = a.clone();
            tag_from_spec = false;
        }
    }
    let (repo, tag) = image_repo_tag(&name);
    let (repo, mut tag) = (repo.to_string(), tag.to_string());
    if tag_from_spec {
        let (_, spec_tag) = image_repo_tag(spec_image);
        if !spec_tag.is_empty() {
            tag = spec_tag.to_string();
            name = format!("{name}:{tag}");
        }
    }
    (name, repo, tag, digest)
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

    #[test]
    fn image_references() {
        assert_eq!(image_repo_tag("nginx:1.27"), ("nginx", "1.27"));
        assert_eq!(
            image_repo_tag("registry:5000/team/app"),
            ("registry:5000/team/app", "")
        );
        assert_eq!(
            image_repo_tag("registry:5000/team/app:v2@sha256:ab"),
            ("registry:5000/team/app", "v2")
        );
        assert_eq!(image_repo_tag(""), ("", ""));
        let none = BTreeMap::new();
        // containerd: the digest from image_ref, the tag from the spec.
        let (name, repo, tag, digest) = image_fields(
            "docker.io/library/nginx:1.27",
            "docker.io/library/nginx@sha256:0123",
            &none,
        );
        assert_eq!(name, "docker.io/library/nginx:1.27");
        assert_eq!(repo, "docker.io/library/nginx");
        assert_eq!(tag, "1.27");
        assert_eq!(digest, "sha256:0123");
        // Only an image id: the runtime's annotation names the image.
        let ann: BTreeMap<String, String> = [(
            "io.kubernetes.cri.image-name".to_string(),
            "quay.io/x/y:3".to_string(),
        )]
        .into();
        let (name, repo, tag, digest) = image_fields("sha256:feed", "sha256:feed", &ann);
        assert_eq!(
            (name.as_str(), repo.as_str(), tag.as_str()),
            ("quay.io/x/y:3", "quay.io/x/y", "3")
        );
        assert_eq!(digest, "sha256:feed");
        // Nothing known: nothing invented.
        assert_eq!(
            image_fields("", "", &none),
            (String::new(), String::new(), String::new(), String::new())
        );
        // A malformed reference does not panic.
        let _ = image_fields("@", "sha256:", &none);
        let _ = image_fields(":", "x@sha256:", &none);
    }

    #[test]
    fn label_lists() {
        let labels: BTreeMap<String, String> = [
            ("io.kubernetes.pod.name", "web-0"),
            ("app", "web"),
            ("annotation.x", "y"),
            ("flag", ""),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(join_labels(&labels), "app:web, flag");
        let meta = ContainerMeta {
            labels,
            ..Default::default()
        };
        assert_eq!(meta.pod_name(), Some("web-0"));
        assert_eq!(meta.pod_namespace(), None);
    }
}
