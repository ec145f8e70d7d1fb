//! A fake CRI runtime for the tests: tonic's server on a unix socket in a
//! temporary directory, answering `Version`, `ListContainers`,
//! `ContainerStatus` and `PodSandboxStatus` from tables the test fills, and
//! recording every call.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use palisade_sensor::cri::proto::{
    self, Container, ContainerMetadata, ContainerStatus, ContainerStatusRequest,
    ContainerStatusResponse, ImageSpec, ListContainersRequest, ListContainersResponse,
    PodSandboxMetadata, PodSandboxNetworkStatus, PodSandboxStatus, PodSandboxStatusRequest,
    PodSandboxStatusResponse, VersionRequest, VersionResponse,
};
use tonic::body::Body;
use tonic::Status;

/// What the fake knows and how it behaves.
#[derive(Default)]
pub struct Fake {
    /// Containers by full id: as listed, and their status.
    pub containers: Mutex<HashMap<String, (Container, ContainerStatusResponse)>>,
    /// Pod sandboxes by full id.
    pub sandboxes: Mutex<HashMap<String, PodSandboxStatus>>,
    /// Wait this long before answering any call.
    pub delay: Mutex<Duration>,
    /// Answer `ContainerStatus` with this error.
    pub status_error: Mutex<Option<Status>>,
    /// Calls received: (method, id asked about).
    pub calls: Mutex<Vec<(&'static str, String)>>,
}

impl Fake {
    /// How many calls of `method` asked about `id`.
    pub fn count(&self, method: &str, id: &str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, i)| *m == method && i == id)
            .count()
    }

    fn record(&self, method: &'static str, id: &str) {
        self.calls.lock().unwrap().push((method, id.to_string()));
    }

    /// Adds a Kubernetes container of pod `pod` (namespace `ns`) in
    /// sandbox `sandbox_id`, labelled as the kubelet does.
    pub fn add_container(
        &self,
        id: &str,
        sandbox_id: &str,
        name: &str,
        image: &str,
        pod: &str,
        ns: &str,
    ) {
        let labels: BTreeMap<String, String> = [
            ("io.kubernetes.pod.name", pod),
            ("io.kubernetes.pod.namespace", ns),
            ("io.kubernetes.container.name", name),
            ("io.kubernetes.pod.uid", POD_UID),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let repo = image.split(':').next().unwrap_or(image);
        let listed = Container {
            id: id.into(),
            pod_sandbox_id: sandbox_id.into(),
            metadata: Some(ContainerMetadata {
                name: name.into(),
                attempt: 0,
            }),
            labels: labels.clone(),
            ..Default::default()
        };
        let status = ContainerStatusResponse {
            status: Some(ContainerStatus {
                id: id.into(),
                metadata: Some(ContainerMetadata {
                    name: name.into(),
                    attempt: 0,
                }),
                state: 1,
                image: Some(ImageSpec {
                    image: image.into(),
                    ..Default::default()
                }),
                image_ref: format!("{repo}@sha256:{}", "ab".repeat(32)),
                labels,
                ..Default::default()
            }),
            info: [(
                "info".to_string(),
                r#"{"config":{"linux":{"security_context":{"privileged":false}}}}"#.to_string(),
            )]
            .into(),
        };
        self.containers
            .lock()
            .unwrap()
            .insert(id.into(), (listed, status));
    }

    /// Adds a pod sandbox with labels `app=<pod>` and `tier=backend`.
    pub fn add_sandbox(&self, id: &str, pod: &str, ns: &str, ip: &str) {
        let s = PodSandboxStatus {
            id: id.into(),
            metadata: Some(PodSandboxMetadata {
                name: pod.into(),
                uid: POD_UID.into(),
                namespace: ns.into(),
                attempt: 0,
            }),
            network: Some(PodSandboxNetworkStatus {
                ip: ip.into(),
                additional_ips: vec![],
            }),
            labels: [
                ("app".to_string(), pod.to_string()),
                ("tier".to_string(), "backend".to_string()),
            ]
            .into(),
            ..Default::default()
        };
        self.sandboxes.lock().unwrap().insert(id.into(), s);
    }
}

/// The pod uid of the fake's pods.
pub const POD_UID: &str = "0a1b2c3d-1111-2222-3333-444455556666";

#[derive(Clone)]
struct Svc(Arc<Fake>);

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Decodes one request, answers it with `f`, encodes the answer.
async fn unary<Req, Resp>(
    req: http::Request<Body>,
    f: impl Fn(Req) -> Result<Resp, Status> + Clone + Send + 'static,
) -> http::Response<Body>
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
{
    let svc = tower::service_fn(move |r: tonic::Request<Req>| {
        let f = f.clone();
        async move { f(r.into_inner()).map(tonic::Response::new) }
    });
    let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::<Resp, Req>::default());
    grpc.unary(svc, req).await
}

impl tower::Service<http::Request<Body>> for Svc {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let fake = self.0.clone();
        Box::pin(async move {
            let delay = *fake.delay.lock().unwrap();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let path = req.uri().path().to_string();
            let f = fake.clone();
            let resp = match path.as_str() {
                proto::VERSION => {
                    unary(req, move |_: VersionRequest| {
                        f.record("Version", "");
                        Ok(VersionResponse {
                            version: "0.1.0".into(),
                            runtime_name: "containerd".into(),
                            runtime_version: "v2.1.0".into(),
                            runtime_api_version: "v1".into(),
                        })
                    })
                    .await
                }
                proto::LIST_CONTAINERS => {
                    unary(req, move |r: ListContainersRequest| {
                        let id = r.filter.map(|f| f.id).unwrap_or_default();
                        f.record("ListContainers", &id);
                        let containers = f
                            .containers
                            .lock()
                            .unwrap()
                            .get(&id)
                            .map(|(c, _)| vec![c.clone()])
                            .unwrap_or_default();
                        Ok(ListContainersResponse { containers })
                    })
                    .await
                }
                proto::CONTAINER_STATUS => {
                    unary(req, move |r: ContainerStatusRequest| {
                        f.record("ContainerStatus", &r.container_id);
                        if let Some(e) = f.status_error.lock().unwrap().clone() {
                            return Err(e);
                        }
                        f.containers
                            .lock()
                            .unwrap()
                            .get(&r.container_id)
                            .map(|(_, s)| s.clone())
                            .ok_or_else(|| Status::not_found("no such container"))
                    })
                    .await
                }
                proto::POD_SANDBOX_STATUS => {
                    unary(req, move |r: PodSandboxStatusRequest| {
                        f.record("PodSandboxStatus", &r.pod_sandbox_id);
                        let status = f
                            .sandboxes
                            .lock()
                            .unwrap()
                            .get(&r.pod_sandbox_id)
                            .cloned()
                            .ok_or_else(|| Status::not_found("no such sandbox"))?;
                        Ok(PodSandboxStatusResponse {
                            status: Some(status),
                            ..Default::default()
                        })
                    })
                    .await
                }
                _ => Status::unimplemented(path).into_http(),
            };
            Ok(resp)
        })
    }
}

/// A running fake runtime; stopped when dropped.
pub struct FakeServer {
    /// Its socket.
    pub path: PathBuf,
    /// Its tables and calls.
    pub fake: Arc<Fake>,
    rt: Option<tokio::runtime::Runtime>,
    _dir: tempfile::TempDir,
}

impl FakeServer {
    /// Starts a fake runtime on a new socket.
    pub fn start() -> FakeServer {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cri.sock");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let fake = Arc::new(Fake::default());
        let listener = {
            let _g = rt.enter();
            tokio::net::UnixListener::bind(&path).unwrap()
        };
        let svc = Svc(fake.clone());
        rt.spawn(async move {
            let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
            let _ = tonic::transport::Server::builder()
                .serve_with_incoming(svc, incoming)
                .await;
        });
        FakeServer {
            path,
            fake,
            rt: Some(rt),
            _dir: dir,
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}
