//! The gRPC side: one tokio runtime thread owned by the client, a lazily
//! connected channel per socket, lookups spawned onto it and answered
//! through a std channel that the event loop drains without waiting.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, OnceLock};
use std::time::Duration;

use tokio::sync::Semaphore;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use super::proto::{
    ContainerFilter, ContainerStatus, ContainerStatusRequest, ContainerStatusResponse,
    ListContainersRequest, ListContainersResponse, PodSandboxStatus, PodSandboxStatusRequest,
    PodSandboxStatusResponse, VersionRequest, VersionResponse, CONTAINER_STATUS, LIST_CONTAINERS,
    NAMESPACE_MODE_NODE, POD_SANDBOX_STATUS, VERSION,
};
use super::{CriOptions, Lookup};
use crate::container::{self, ContainerMeta, LABEL_MAX_LEN};

/// One runtime socket.
struct Runtime {
    path: PathBuf,
    channel: Channel,
    /// `container.type` from the runtime's `Version`, once it answered.
    kind: OnceLock<&'static str>,
}

struct Shared {
    runtimes: Vec<Runtime>,
    timeout: Duration,
    permits: Semaphore,
}

type Answer = (String, Lookup);

pub(crate) struct Client {
    rt: Option<tokio::runtime::Runtime>,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Answer>,
    rx: mpsc::Receiver<Answer>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let paths: Vec<_> = self.shared.runtimes.iter().map(|r| &r.path).collect();
        f.debug_struct("Client").field("sockets", &paths).finish()
    }
}

impl Client {
    pub(crate) fn start(sockets: Vec<PathBuf>, opts: &CriOptions) -> anyhow::Result<Client> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("palisade-cri")
            .enable_all()
            .build()?;
        let runtimes = {
            // Channels spawn their connection task: inside the runtime.
            let _guard = rt.enter();
            let mut v = Vec::new();
            for path in sockets {
                let channel = Endpoint::from_shared(format!("unix:{}", path.display()))?
                    .connect_timeout(opts.timeout)
                    .connect_lazy();
                v.push(Runtime {
                    path,
                    channel,
                    kind: OnceLock::new(),
                });
            }
            v
        };
        let (tx, rx) = mpsc::channel();
        Ok(Client {
            rt: Some(rt),
            shared: Arc::new(Shared {
                runtimes,
                timeout: opts.timeout,
                permits: Semaphore::new(opts.concurrency.max(1)),
            }),
            tx,
            rx,
        })
    }

    /// Starts a lookup of `id`; returns at once.
    pub(crate) fn request(&self, id: String) {
        let Some(rt) = &self.rt else { return };
        let shared = self.shared.clone();
        let tx = self.tx.clone();
        rt.spawn(async move {
            let _permit = shared.permits.acquire().await;
            let answer = match tokio::time::timeout(shared.timeout, lookup_all(&shared, &id)).await
            {
                Ok(a) => a,
                Err(_) => Lookup::Failed(format!(
                    "no answer within {} ms",
                    shared.timeout.as_millis()
                )),
            };
            let _ = tx.send((id, answer));
        });
    }

    /// An answer that arrived, if any.
    pub(crate) fn try_recv(&self) -> Option<Answer> {
        self.rx.try_recv().ok()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // Lookups in flight are abandoned, not waited for.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

async fn lookup_all(shared: &Shared, id: &str) -> Lookup {
    let mut errors = Vec::new();
    let mut answered = false;
    for rt in &shared.runtimes {
        if !rt.path.exists() {
            errors.push(format!("{}: no such socket", rt.path.display()));
            continue;
        }
        match lookup_one(rt, id).await {
            Ok(Some(meta)) => return Lookup::Found(Box::new(meta)),
            Ok(None) => answered = true,
            Err(s) => errors.push(format!(
                "{}: {:?}: {}",
                rt.path.display(),
                s.code(),
                s.message()
            )),
        }
    }
    if answered {
        Lookup::NotFound
    } else {
        Lookup::Failed(errors.join("; "))
    }
}

async fn call<Req, Resp>(ch: &Channel, method: &'static str, req: Req) -> Result<Resp, Status>
where
    Req: prost::Message + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    let mut grpc = tonic::client::Grpc::new(ch.clone());
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(format!("{e}")))?;
    let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
    grpc.unary(
        tonic::Request::new(req),
        http::uri::PathAndQuery::from_static(method),
        codec,
    )
    .await
    .map(tonic::Response::into_inner)
}

impl Runtime {
    /// `container.type` as Falco names a CRI runtime.
    async fn kind(&self) -> Result<&'static str, Status> {
        if let Some(k) = self.kind.get() {
            return Ok(k);
        }
        let v: VersionResponse = call(&self.channel, VERSION, VersionRequest::default()).await?;
        let k = match v.runtime_name.as_str() {
            "containerd" => "containerd",
            "cri-o" => "cri-o",
            _ => "cri",
        };
        Ok(self.kind.get_or_init(|| k))
    }

    async fn sandbox(&self, id: &str) -> Result<Option<PodSandboxStatus>, Status> {
        let req = PodSandboxStatusRequest {
            pod_sandbox_id: id.to_string(),
            verbose: false,
        };
        match call::<_, PodSandboxStatusResponse>(&self.channel, POD_SANDBOX_STATUS, req).await {
            Ok(r) => Ok(r.status),
            Err(s) if s.code() == Code::NotFound => Ok(None),
            Err(s) => Err(s),
        }
    }
}

/// What one runtime knows of `id`: `None` when it is not its container.
async fn lookup_one(rt: &Runtime, id: &str) -> Result<Option<ContainerMeta>, Status> {
    let kind = rt.kind().await?;
    let req = ListContainersRequest {
        filter: Some(ContainerFilter {
            id: id.to_string(),
            ..Default::default()
        }),
    };
    let list: ListContainersResponse = call(&rt.channel, LIST_CONTAINERS, req).await?;
    let Some(listed) = list.containers.into_iter().find(|c| c.id == id) else {
        // Not a container: perhaps a pod sandbox (its pause process).
        return Ok(rt
            .sandbox(id)
            .await?
            .filter(|s| s.id == id)
            .map(|s| meta_from_sandbox(kind, &s)));
    };
    let req = ContainerStatusRequest {
        container_id: id.to_string(),
        verbose: true,
    };
    let resp = match call::<_, ContainerStatusResponse>(&rt.channel, CONTAINER_STATUS, req).await {
        Ok(r) => r,
        // Removed since it was listed.
        Err(s) if s.code() == Code::NotFound => return Ok(None),
        Err(s) => return Err(s),
    };
    let Some(status) = resp.status.as_ref() else {
        return Ok(None);
    };
    // The pod's status only adds to what the container's labels say:
    // its failure leaves the container's own fields.
    let sandbox = if listed.pod_sandbox_id.is_empty() {
        None
    } else {
        rt.sandbox(&listed.pod_sandbox_id).await.ok().flatten()
    };
    Ok(Some(meta_from_status(
        kind,
        status,
        &resp.info,
        &listed.pod_sandbox_id,
        sandbox.as_ref(),
    )))
}

fn short_labels(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels
        .iter()
        .filter(|(_, v)| v.len() <= LABEL_MAX_LEN)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn json_str<'a>(v: &'a serde_json::Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

fn json_bool(v: &serde_json::Value, path: &[&str]) -> Option<bool> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_bool()
}

/// Adds what a pod sandbox's status tells to `meta`.
fn add_sandbox(meta: &mut ContainerMeta, s: &PodSandboxStatus) {
    if let Some(md) = &s.metadata {
        meta.labels
            .insert("io.kubernetes.pod.uid".into(), md.uid.clone());
        meta.labels
            .insert("io.kubernetes.pod.name".into(), md.name.clone());
        meta.labels
            .insert("io.kubernetes.pod.namespace".into(), md.namespace.clone());
    }
    meta.pod_labels = short_labels(&s.labels);
    if let Some(n) = &s.network {
        meta.ip = n.ip.clone();
    }
    if let Some(o) = s
        .linux
        .as_ref()
        .and_then(|l| l.namespaces.as_ref())
        .and_then(|n| n.options.as_ref())
    {
        meta.host_network = o.network == NAMESPACE_MODE_NODE;
        meta.host_pid = o.pid == NAMESPACE_MODE_NODE;
        meta.host_ipc = o.ipc == NAMESPACE_MODE_NODE;
    }
}

fn meta_from_sandbox(kind: &'static str, s: &PodSandboxStatus) -> ContainerMeta {
    let mut meta = ContainerMeta {
        runtime: Some(kind),
        pod_sandbox_id: s.id.clone(),
        is_sandbox: true,
        ..Default::default()
    };
    meta.labels
        .insert("io.kubernetes.sandbox.id".into(), s.id.clone());
    add_sandbox(&mut meta, s);
    meta
}

/// The metadata of a container from its CRI status (`info` is the verbose
/// map, whose `info` entry runtimes fill with JSON) and its pod sandbox's,
/// with Falco's container plugin's rules.
pub fn meta_from_status(
    kind: &'static str,
    st: &ContainerStatus,
    info: &BTreeMap<String, String>,
    sandbox_id: &str,
    sandbox: Option<&PodSandboxStatus>,
) -> ContainerMeta {
    let info: serde_json::Value = info
        .get("info")
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(serde_json::Value::Null);
    let annotations: BTreeMap<String, String> = info
        .get("runtimeSpec")
        .and_then(|r| r.get("annotations"))
        .and_then(|a| a.as_object())
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let spec_image = st.image.as_ref().map_or("", |i| i.image.as_str());
    let (image, image_repository, image_tag, image_digest) =
        container::image_fields(spec_image, &st.image_ref, &annotations);
    // The id is the hex of the image the runtime resolved ("sha256:<id>").
    let image_id = json_str(&info, &["config", "image", "image"])
        .map(|i| container::image_repo_tag(i).1.to_string())
        .filter(|i| !i.is_empty())
        .unwrap_or_else(|| st.image_id.clone());
    let privileged = json_bool(
        &info,
        &["runtimeSpec", "linux", "security_context", "privileged"],
    )
    .or_else(|| {
        json_bool(
            &info,
            &["config", "linux", "security_context", "privileged"],
        )
    })
    .or_else(|| json_bool(&info, &["privileged"]))
    .unwrap_or(false);
    let mut meta = ContainerMeta {
        runtime: Some(kind),
        name: st
            .metadata
            .as_ref()
            .map(|m| m.name.clone())
            .unwrap_or_default(),
        image,
        image_repository,
        image_tag,
        image_digest,
        image_id,
        privileged,
        labels: short_labels(&st.labels),
        pod_sandbox_id: sandbox_id.to_string(),
        ..Default::default()
    };
    if !sandbox_id.is_empty() {
        meta.labels
            .insert("io.kubernetes.sandbox.id".into(), sandbox_id.to_string());
    }
    if let Some(s) = sandbox {
        add_sandbox(&mut meta, s);
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cri::proto::{
        ContainerMetadata, ImageSpec, LinuxPodSandboxStatus, Namespace, NamespaceOption,
        PodSandboxMetadata, PodSandboxNetworkStatus,
    };

    #[test]
    fn containerd_status_to_meta() {
        let st = ContainerStatus {
            id: "c".repeat(64),
            metadata: Some(ContainerMetadata {
                name: "web".into(),
                attempt: 0,
            }),
            image: Some(ImageSpec {
                image: "docker.io/library/nginx:1.27".into(),
                ..Default::default()
            }),
            image_ref: "docker.io/library/nginx@sha256:abcd".into(),
            labels: [
                ("io.kubernetes.pod.name", "web-0"),
                ("io.kubernetes.pod.namespace", "shop"),
                ("io.kubernetes.container.name", "web"),
                ("huge", &"x".repeat(101)),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            ..Default::default()
        };
        let info: BTreeMap<String, String> = [(
            "info".to_string(),
            r#"{"config":{"image":{"image":"sha256:feedbeef"},"linux":{"security_context":{"privileged":true}}}}"#
                .to_string(),
        )]
        .into();
        let sandbox = PodSandboxStatus {
            id: "s".repeat(64),
            metadata: Some(PodSandboxMetadata {
                name: "web-0".into(),
                uid: "0a1b2c3d-1111-2222-3333-444455556666".into(),
                namespace: "shop".into(),
                attempt: 0,
            }),
            network: Some(PodSandboxNetworkStatus {
                ip: "10.1.2.3".into(),
                additional_ips: vec![],
            }),
            linux: Some(LinuxPodSandboxStatus {
                namespaces: Some(Namespace {
                    options: Some(NamespaceOption {
                        network: NAMESPACE_MODE_NODE,
                        ..Default::default()
                    }),
                }),
            }),
            labels: [("app".to_string(), "web".to_string())].into(),
            ..Default::default()
        };
        let m = meta_from_status("containerd", &st, &info, &sandbox.id, Some(&sandbox));
        assert_eq!(m.name, "web");
        assert_eq!(m.image, "docker.io/library/nginx:1.27");
        assert_eq!(m.image_repository, "docker.io/library/nginx");
        assert_eq!(m.image_tag, "1.27");
        assert_eq!(m.image_digest, "sha256:abcd");
        assert_eq!(m.image_id, "feedbeef");
        assert!(m.privileged);
        assert!(m.host_network && !m.host_pid);
        assert_eq!(m.ip, "10.1.2.3");
        assert_eq!(m.pod_name(), Some("web-0"));
        assert_eq!(m.pod_namespace(), Some("shop"));
        assert_eq!(m.pod_uid(), Some("0a1b2c3d-1111-2222-3333-444455556666"));
        assert_eq!(m.label("huge"), None);
        assert_eq!(m.pod_labels.get("app").map(String::as_str), Some("web"));
        // Without the sandbox and the verbose info: the container's labels.
        let m = meta_from_status("cri", &st, &BTreeMap::new(), "", None);
        assert_eq!(m.pod_name(), Some("web-0"));
        assert_eq!(m.pod_uid(), None);
        assert!(!m.privileged);
        assert!(m.pod_labels.is_empty());
        // Garbage in the verbose info is ignored.
        let bad: BTreeMap<String, String> = [("info".to_string(), "{not json".to_string())].into();
        assert_eq!(
            meta_from_status("cri", &st, &bad, "", None),
            meta_from_status("cri", &st, &BTreeMap::new(), "", None)
        );
    }
}
