//! Helpers shared by the pod checks: host paths, capabilities and pod facts.

use palisade_model::{pod_template, Node, Object, PodTemplate};

use crate::rule::{each_container, ContainerCx};

/// Whether the pod declares itself a Windows pod (`spec.os.name: windows`);
/// Linux-only settings (capabilities, UIDs, privileged ports) do not apply to it.
pub(crate) fn is_windows(pod: &PodTemplate<'_>) -> bool {
    pod.spec.path(&["os", "name"]).and_then(Node::as_str) == Some("windows")
}

/// Whether the container sets `privileged: true` (it then has every capability;
/// `pss/privileged` reports it, so capability checks stay quiet).
pub(crate) fn is_privileged(c: &ContainerCx<'_>) -> bool {
    c.security().bool("privileged") == Some(true)
}

/// A capability name as container runtimes read it: upper case, without `CAP_`.
pub(crate) fn capability(name: &str) -> String {
    let upper = name.trim().to_ascii_uppercase();
    match upper.strip_prefix("CAP_") {
        Some(rest) => rest.to_string(),
        None => upper,
    }
}

/// `(index, node, normalized name)` of each string in `capabilities.<list>`.
pub(crate) fn capability_list<'a>(
    c: &ContainerCx<'a>,
    list: &str,
) -> Vec<(usize, &'a Node, String)> {
    let Some((caps, _)) = c.security().get("capabilities") else {
        return Vec::new();
    };
    caps.get(list)
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.as_str().map(|s| (i, n, capability(s))))
        .collect()
}

/// A declared container port.
pub(crate) struct Port<'a> {
    pub index: usize,
    /// The `containerPort` node.
    pub node: &'a Node,
    pub number: i64,
    pub name: &'a str,
    pub protocol: &'a str,
}

/// The container's `ports` with an integer `containerPort`.
pub(crate) fn ports<'a>(c: &ContainerCx<'a>) -> Vec<Port<'a>> {
    c.node()
        .get("ports")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .filter_map(|(index, port)| {
            let node = port.get("containerPort")?;
            Some(Port {
                index,
                node,
                number: node.as_i64()?,
                name: port.get("name").and_then(Node::as_str).unwrap_or(""),
                protocol: port.get("protocol").and_then(Node::as_str).unwrap_or("TCP"),
            })
        })
        .collect()
}

/// Lexically normalized absolute host path (`//var/./run/` → `/var/run`);
/// `None` for relative or Windows paths, which these checks do not judge.
pub(crate) fn normalize(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// Whether `path` is `base` or inside it (both normalized).
pub(crate) fn is_under(path: &str, base: &str) -> bool {
    base == "/"
        || path == base
        || (path.len() > base.len()
            && path.starts_with(base)
            && path.as_bytes().get(base.len()) == Some(&b'/'))
}

/// The container runtime sockets kubelets are configured with.
const RUNTIME_SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/dockershim.sock",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/run/k3s/containerd/containerd.sock",
    "/var/snap/microk8s/common/run/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/run/podman/podman.sock",
    "/var/run/podman/podman.sock",
];

/// Runtime state directories: sockets of the runtime and its shims, container root filesystems.
const RUNTIME_DIRS: &[&str] = &[
    "/run/containerd",
    "/var/run/containerd",
    "/run/k3s/containerd",
    "/run/crio",
    "/var/run/crio",
    "/run/podman",
    "/var/run/podman",
    "/run/docker",
    "/var/run/docker",
];

/// File names of runtime sockets, wherever they are (docker-in-docker sidecars and the like).
const SOCKET_NAMES: &[&str] = &[
    "docker.sock",
    "containerd.sock",
    "crio.sock",
    "podman.sock",
    "cri-dockerd.sock",
];

/// Cluster and cloud credentials on nodes.
const CREDENTIAL_PATHS: &[&str] = &[
    "/etc/kubernetes",
    "/var/lib/kubelet/pki",
    "/var/lib/kubelet/kubeconfig",
    "/var/lib/kubelet/config.json",
    "/etc/srv/kubernetes",
    "/etc/gce.conf",
    "/etc/rancher/k3s",
    "/etc/rancher/rke2",
    "/var/lib/rancher/k3s/server",
    "/var/lib/rancher/rke2/server",
    "/var/lib/waagent",
    "/etc/eks",
];

/// Directory names that hold user credentials (`~/.aws`, `~/.kube`, ...).
const CREDENTIAL_DIR_NAMES: &[&str] = &[".aws", ".azure", ".kube", ".docker", ".ssh", "gcloud"];

/// Host directories that give host or cluster takeover when mounted.
const SENSITIVE_DIRS: &[&str] = &[
    "/etc",
    "/proc",
    "/sys",
    "/boot",
    "/dev",
    "/root",
    "/home",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/containers",
    "/var/lib/kubelet",
    "/var/lib/etcd",
];

/// Paths inside sensitive directories that are safe to share (public CA bundles,
/// time zone, harmless device nodes).
const BENIGN_PATHS: &[&str] = &[
    "/etc/ssl/certs",
    "/etc/pki/ca-trust",
    "/etc/pki/tls/certs",
    "/etc/ca-certificates",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/machine-id",
    "/etc/os-release",
    "/dev/null",
    "/dev/zero",
    "/dev/random",
    "/dev/urandom",
    "/dev/fuse",
    "/dev/net/tun",
];

/// What a host path gives a container; at most one class per path, most specific first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostClass {
    /// The path is, contains or lies in the runtime's socket or state (the socket named).
    RuntimeSocket(String),
    /// The path is or lies in a credential location (the location named).
    Credentials(String),
    /// The path is, contains or lies in a sensitive host directory (the directory named).
    Sensitive(String),
}

/// Classifies a normalized absolute host path.
pub(crate) fn classify(path: &str) -> Option<HostClass> {
    if path == "/" {
        return Some(HostClass::Sensitive("/".to_string()));
    }
    // Equal to, or an ancestor of, a runtime socket (`/run`, `/var/run`, `/var`).
    if let Some(socket) = RUNTIME_SOCKETS.iter().find(|s| is_under(s, path)) {
        return Some(HostClass::RuntimeSocket((*socket).to_string()));
    }
    if let Some(dir) = RUNTIME_DIRS.iter().find(|d| is_under(path, d)) {
        return Some(HostClass::RuntimeSocket((*dir).to_string()));
    }
    let file_name = path.rsplit('/').next().unwrap_or(path);
    if SOCKET_NAMES.contains(&file_name) {
        return Some(HostClass::RuntimeSocket(path.to_string()));
    }
    if let Some(location) = CREDENTIAL_PATHS.iter().find(|c| is_under(path, c)) {
        return Some(HostClass::Credentials((*location).to_string()));
    }
    let mut prefix = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        prefix.push('/');
        prefix.push_str(part);
        if CREDENTIAL_DIR_NAMES.contains(&part) {
            return Some(HostClass::Credentials(prefix));
        }
    }
    if BENIGN_PATHS.iter().any(|b| is_under(path, b)) {
        return None;
    }
    // Inside a sensitive directory, or an ancestor of one (`/var/lib` holds `/var/lib/kubelet`).
    SENSITIVE_DIRS
        .iter()
        .find(|d| is_under(path, d) || is_under(d, path))
        .map(|d| HostClass::Sensitive((*d).to_string()))
}

/// A hostPath volume of a pod.
pub(crate) struct HostVolume<'a> {
    pub index: usize,
    pub name: &'a str,
    /// The `hostPath.path` node.
    pub path_node: &'a Node,
    /// The path as written.
    pub path: &'a str,
    /// `hostPath.type` (`Socket`, `CharDevice`, `DirectoryOrCreate`, ...).
    pub kind: Option<&'a str>,
}

/// The hostPath volumes of a pod spec.
pub(crate) fn host_volumes<'a>(pod: &PodTemplate<'a>) -> Vec<HostVolume<'a>> {
    pod.spec
        .get("volumes")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .filter_map(|(index, volume)| {
            let host_path = volume.get_set("hostPath")?;
            let path_node = host_path.get("path")?;
            Some(HostVolume {
                index,
                name: volume.get("name").and_then(Node::as_str).unwrap_or(""),
                path_node,
                path: path_node.as_str()?,
                kind: host_path.get("type").and_then(Node::as_str),
            })
        })
        .collect()
}

/// One container's mount of a hostPath volume.
pub(crate) struct HostMount<'a, 'v> {
    pub volume: &'v HostVolume<'a>,
    pub index: usize,
    pub node: &'a Node,
    /// `subPath`, when set to a non-empty string (`subPathExpr` is not resolved).
    pub sub_path: Option<&'a Node>,
    pub read_only: bool,
    pub mount_path: &'a str,
}

/// The mounts of `volumes` by container `c`.
pub(crate) fn host_mounts<'a, 'v>(
    c: &ContainerCx<'a>,
    volumes: &'v [HostVolume<'a>],
) -> Vec<HostMount<'a, 'v>> {
    let mut mounts = Vec::new();
    if volumes.is_empty() {
        return mounts;
    }
    for (index, node) in c
        .node()
        .get("volumeMounts")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let Some(name) = node.get("name").and_then(Node::as_str) else {
            continue;
        };
        let Some(volume) = volumes.iter().find(|v| v.name == name) else {
            continue;
        };
        mounts.push(HostMount {
            volume,
            index,
            node,
            sub_path: node
                .get("subPath")
                .filter(|n| n.as_str().is_some_and(|s| !s.is_empty())),
            read_only: node.get("readOnly").and_then(Node::as_bool) == Some(true),
            mount_path: node.get("mountPath").and_then(Node::as_str).unwrap_or(""),
        });
    }
    mounts
}

/// What a pod exposes of the host: a hostPath volume (mounted whole by the
/// named containers) or one `subPath` of it (mounted by one container).
pub(crate) struct Exposure<'a> {
    /// Where to report: the volume's `hostPath.path`, or the mount's `subPath`.
    pub node: &'a Node,
    pub field: String,
    pub volume: &'a str,
    /// The normalized host path the containers see.
    pub host_path: String,
    pub containers: Vec<String>,
}

impl Exposure<'_> {
    /// `volume "docker" (host path /var/run/docker.sock), mounted by container "a"`.
    pub(crate) fn describe(&self) -> String {
        format!(
            "volume {:?} (host path {}) mounted by {}",
            self.volume,
            self.host_path,
            self.containers.join(", ")
        )
    }
}

/// Every host path a workload's containers actually see. Volumes no container
/// mounts expose nothing and are left out; a `subPath` mount exposes only its
/// sub-path, so it is judged on its own.
pub(crate) fn exposures(object: &Object) -> Vec<Exposure<'_>> {
    let Some(pod) = pod_template(object) else {
        return Vec::new();
    };
    let volumes = host_volumes(&pod);
    if volumes.is_empty() {
        return Vec::new();
    }
    let mut whole: Vec<Vec<String>> = vec![Vec::new(); volumes.len()];
    let mut parts = Vec::new();
    each_container(object, |c| {
        for mount in host_mounts(c, &volumes) {
            let Some(slot) = volumes.iter().position(|v| v.index == mount.volume.index) else {
                continue;
            };
            match mount.sub_path {
                Some(sub) => {
                    let joined = format!("{}/{}", mount.volume.path, sub.as_str().unwrap_or(""));
                    if let Some(host_path) = normalize(&joined) {
                        parts.push(Exposure {
                            node: sub,
                            field: c.field(&format!("volumeMounts[{}].subPath", mount.index)),
                            volume: mount.volume.name,
                            host_path,
                            containers: vec![c.describe()],
                        });
                    }
                }
                None => {
                    let who = c.describe();
                    if !whole[slot].contains(&who) {
                        whole[slot].push(who);
                    }
                }
            }
        }
    });
    let mut out: Vec<Exposure<'_>> = volumes
        .iter()
        .zip(whole)
        .filter(|(_, containers)| !containers.is_empty())
        .filter_map(|(v, containers)| {
            Some(Exposure {
                node: v.path_node,
                field: pod.field_path(&format!("volumes[{}].hostPath.path", v.index)),
                volume: v.name,
                host_path: normalize(v.path)?,
                containers,
            })
        })
        .collect();
    out.extend(parts);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_lexically() {
        assert_eq!(normalize("//var/./run/").as_deref(), Some("/var/run"));
        assert_eq!(normalize("/var/lib/../run").as_deref(), Some("/var/run"));
        assert_eq!(normalize("/").as_deref(), Some("/"));
        assert_eq!(normalize("C:\\data"), None);
        assert_eq!(normalize("data"), None);
    }

    #[test]
    fn under_respects_component_boundaries() {
        assert!(is_under("/etc/ssl", "/etc"));
        assert!(is_under("/etc", "/etc"));
        assert!(!is_under("/etcd", "/etc"));
        assert!(is_under("/anything", "/"));
    }

    #[test]
    fn classification() {
        use HostClass::*;
        let class = |p: &str| classify(p);
        assert_eq!(
            class("/var/run/docker.sock"),
            Some(RuntimeSocket("/var/run/docker.sock".into()))
        );
        assert_eq!(
            class("/var"),
            Some(RuntimeSocket("/var/run/docker.sock".into()))
        );
        assert_eq!(
            class("/run/containerd/io.containerd.runtime.v2.task"),
            Some(RuntimeSocket("/run/containerd".into()))
        );
        assert_eq!(
            class("/var/run/dind/docker.sock"),
            Some(RuntimeSocket("/var/run/dind/docker.sock".into()))
        );
        assert_eq!(class("/run/xtables.lock"), None);
        assert_eq!(class("/var/log"), None);
        assert_eq!(class("/data/app"), None);
        assert_eq!(
            class("/etc/kubernetes/azure.json"),
            Some(Credentials("/etc/kubernetes".into()))
        );
        assert_eq!(
            class("/home/ci/.aws/credentials"),
            Some(Credentials("/home/ci/.aws".into()))
        );
        assert_eq!(class("/etc"), Some(Sensitive("/etc".into())));
        assert_eq!(class("/etc/shadow"), Some(Sensitive("/etc".into())));
        assert_eq!(class("/etc/ssl/certs"), None);
        assert_eq!(class("/etc/ssl/private"), Some(Sensitive("/etc".into())));
        assert_eq!(class("/var/lib"), Some(Sensitive("/var/lib/docker".into())));
        assert_eq!(class("/dev/fuse"), None);
        assert_eq!(class("/dev/sda"), Some(Sensitive("/dev".into())));
        assert_eq!(class("/"), Some(Sensitive("/".into())));
        assert_eq!(capability("cap_sys_admin"), "SYS_ADMIN");
        assert_eq!(capability("NET_RAW"), "NET_RAW");
    }
}
