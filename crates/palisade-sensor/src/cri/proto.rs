//! The few messages of the CRI API (`runtime.v1`, k8s.io/cri-api
//! `pkg/apis/runtime/v1/api.proto`) the client needs, written by hand so that
//! the build needs no protoc. Field numbers are upstream's; fields left out
//! are skipped on decoding, as protobuf allows. Enums are kept as their
//! `int32` wire values.

use std::collections::BTreeMap;

/// `rpc Version(VersionRequest) returns (VersionResponse)`.
pub const VERSION: &str = "/runtime.v1.RuntimeService/Version";
/// `rpc ListContainers(ListContainersRequest) returns (ListContainersResponse)`.
pub const LIST_CONTAINERS: &str = "/runtime.v1.RuntimeService/ListContainers";
/// `rpc ContainerStatus(ContainerStatusRequest) returns (ContainerStatusResponse)`.
pub const CONTAINER_STATUS: &str = "/runtime.v1.RuntimeService/ContainerStatus";
/// `rpc PodSandboxStatus(PodSandboxStatusRequest) returns (PodSandboxStatusResponse)`.
pub const POD_SANDBOX_STATUS: &str = "/runtime.v1.RuntimeService/PodSandboxStatus";

/// `NamespaceMode.NODE`: the host's namespace.
pub const NAMESPACE_MODE_NODE: i32 = 2;

/// `VersionRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct VersionRequest {
    /// Version of the kubelet runtime API.
    #[prost(string, tag = "1")]
    pub version: String,
}

/// `VersionResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct VersionResponse {
    /// Version of the kubelet runtime API.
    #[prost(string, tag = "1")]
    pub version: String,
    /// Name of the container runtime (`containerd`, `cri-o`).
    #[prost(string, tag = "2")]
    pub runtime_name: String,
    /// Version of the container runtime.
    #[prost(string, tag = "3")]
    pub runtime_version: String,
    /// API version of the container runtime.
    #[prost(string, tag = "4")]
    pub runtime_api_version: String,
}

/// `ContainerFilter` (fields combined with AND).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContainerFilter {
    /// ID of the container.
    #[prost(string, tag = "1")]
    pub id: String,
    /// ID of the pod sandbox.
    #[prost(string, tag = "3")]
    pub pod_sandbox_id: String,
    /// Labels to match.
    #[prost(btree_map = "string, string", tag = "4")]
    pub label_selector: BTreeMap<String, String>,
}

/// `ListContainersRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListContainersRequest {
    /// The filter.
    #[prost(message, optional, tag = "1")]
    pub filter: Option<ContainerFilter>,
}

/// `ContainerMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContainerMetadata {
    /// Name of the container, as in the pod spec.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Attempt number of creating the container.
    #[prost(uint32, tag = "2")]
    pub attempt: u32,
}

/// `ImageSpec`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ImageSpec {
    /// The container's image field (image name, id or digest).
    #[prost(string, tag = "1")]
    pub image: String,
    /// Annotations.
    #[prost(btree_map = "string, string", tag = "2")]
    pub annotations: BTreeMap<String, String>,
    /// The image reference as the user gave it.
    #[prost(string, tag = "18")]
    pub user_specified_image: String,
    /// Runtime handler.
    #[prost(string, tag = "19")]
    pub runtime_handler: String,
    /// Digest of the image.
    #[prost(string, tag = "20")]
    pub image_ref: String,
}

/// `Container`, as `ListContainers` returns it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Container {
    /// ID of the container.
    #[prost(string, tag = "1")]
    pub id: String,
    /// ID of its pod sandbox.
    #[prost(string, tag = "2")]
    pub pod_sandbox_id: String,
    /// Metadata.
    #[prost(message, optional, tag = "3")]
    pub metadata: Option<ContainerMetadata>,
    /// Image.
    #[prost(message, optional, tag = "4")]
    pub image: Option<ImageSpec>,
    /// Digested reference to the image.
    #[prost(string, tag = "5")]
    pub image_ref: String,
    /// `ContainerState`.
    #[prost(int32, tag = "6")]
    pub state: i32,
    /// Creation time, ns.
    #[prost(int64, tag = "7")]
    pub created_at: i64,
    /// Labels.
    #[prost(btree_map = "string, string", tag = "8")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[prost(btree_map = "string, string", tag = "9")]
    pub annotations: BTreeMap<String, String>,
    /// Image id on the node.
    #[prost(string, tag = "10")]
    pub image_id: String,
}

/// `ListContainersResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListContainersResponse {
    /// The containers.
    #[prost(message, repeated, tag = "1")]
    pub containers: Vec<Container>,
}

/// `ContainerStatusRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContainerStatusRequest {
    /// ID of the container.
    #[prost(string, tag = "1")]
    pub container_id: String,
    /// Ask for the `info` map too.
    #[prost(bool, tag = "2")]
    pub verbose: bool,
}

/// `ContainerStatus` (mounts, resources, user and stop signal left out).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContainerStatus {
    /// ID of the container.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Metadata.
    #[prost(message, optional, tag = "2")]
    pub metadata: Option<ContainerMetadata>,
    /// `ContainerState`.
    #[prost(int32, tag = "3")]
    pub state: i32,
    /// Creation time, ns.
    #[prost(int64, tag = "4")]
    pub created_at: i64,
    /// Start time, ns.
    #[prost(int64, tag = "5")]
    pub started_at: i64,
    /// Finish time, ns.
    #[prost(int64, tag = "6")]
    pub finished_at: i64,
    /// Exit code.
    #[prost(int32, tag = "7")]
    pub exit_code: i32,
    /// Image.
    #[prost(message, optional, tag = "8")]
    pub image: Option<ImageSpec>,
    /// Digested reference to the image.
    #[prost(string, tag = "9")]
    pub image_ref: String,
    /// Why the container is in its state.
    #[prost(string, tag = "10")]
    pub reason: String,
    /// Details of `reason`.
    #[prost(string, tag = "11")]
    pub message: String,
    /// Labels.
    #[prost(btree_map = "string, string", tag = "12")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[prost(btree_map = "string, string", tag = "13")]
    pub annotations: BTreeMap<String, String>,
    /// Log path.
    #[prost(string, tag = "15")]
    pub log_path: String,
    /// Image id on the node.
    #[prost(string, tag = "17")]
    pub image_id: String,
}

/// `ContainerStatusResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContainerStatusResponse {
    /// Status.
    #[prost(message, optional, tag = "1")]
    pub status: Option<ContainerStatus>,
    /// Verbose information, values in JSON (containerd and CRI-O: `info`).
    #[prost(btree_map = "string, string", tag = "2")]
    pub info: BTreeMap<String, String>,
}

/// `PodSandboxStatusRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodSandboxStatusRequest {
    /// ID of the sandbox.
    #[prost(string, tag = "1")]
    pub pod_sandbox_id: String,
    /// Ask for the `info` map too.
    #[prost(bool, tag = "2")]
    pub verbose: bool,
}

/// `PodSandboxMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodSandboxMetadata {
    /// Pod name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Pod uid.
    #[prost(string, tag = "2")]
    pub uid: String,
    /// Pod namespace.
    #[prost(string, tag = "3")]
    pub namespace: String,
    /// Attempt number of creating the sandbox.
    #[prost(uint32, tag = "4")]
    pub attempt: u32,
}

/// `PodIP`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodIp {
    /// The address.
    #[prost(string, tag = "1")]
    pub ip: String,
}

/// `PodSandboxNetworkStatus`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodSandboxNetworkStatus {
    /// Primary address.
    #[prost(string, tag = "1")]
    pub ip: String,
    /// Other addresses.
    #[prost(message, repeated, tag = "2")]
    pub additional_ips: Vec<PodIp>,
}

/// `NamespaceOption` (modes as `NamespaceMode` values).
#[derive(Clone, PartialEq, prost::Message)]
pub struct NamespaceOption {
    /// Network namespace mode.
    #[prost(int32, tag = "1")]
    pub network: i32,
    /// PID namespace mode.
    #[prost(int32, tag = "2")]
    pub pid: i32,
    /// IPC namespace mode.
    #[prost(int32, tag = "3")]
    pub ipc: i32,
    /// Target container of `TARGET` mode.
    #[prost(string, tag = "4")]
    pub target_id: String,
}

/// `Namespace`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Namespace {
    /// Options.
    #[prost(message, optional, tag = "2")]
    pub options: Option<NamespaceOption>,
}

/// `LinuxPodSandboxStatus`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LinuxPodSandboxStatus {
    /// Namespaces.
    #[prost(message, optional, tag = "1")]
    pub namespaces: Option<Namespace>,
}

/// `PodSandboxStatus`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodSandboxStatus {
    /// ID of the sandbox.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Metadata.
    #[prost(message, optional, tag = "2")]
    pub metadata: Option<PodSandboxMetadata>,
    /// `PodSandboxState`.
    #[prost(int32, tag = "3")]
    pub state: i32,
    /// Creation time, ns.
    #[prost(int64, tag = "4")]
    pub created_at: i64,
    /// Network.
    #[prost(message, optional, tag = "5")]
    pub network: Option<PodSandboxNetworkStatus>,
    /// Linux specifics.
    #[prost(message, optional, tag = "6")]
    pub linux: Option<LinuxPodSandboxStatus>,
    /// The pod's labels.
    #[prost(btree_map = "string, string", tag = "7")]
    pub labels: BTreeMap<String, String>,
    /// The pod's annotations.
    #[prost(btree_map = "string, string", tag = "8")]
    pub annotations: BTreeMap<String, String>,
    /// Runtime handler.
    #[prost(string, tag = "9")]
    pub runtime_handler: String,
}

/// `PodSandboxStatusResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PodSandboxStatusResponse {
    /// Status.
    #[prost(message, optional, tag = "1")]
    pub status: Option<PodSandboxStatus>,
    /// Verbose information.
    #[prost(btree_map = "string, string", tag = "2")]
    pub info: BTreeMap<String, String>,
    /// Statuses of the sandbox's containers.
    #[prost(message, repeated, tag = "3")]
    pub containers_statuses: Vec<ContainerStatus>,
    /// When the statuses were taken, ns.
    #[prost(int64, tag = "4")]
    pub timestamp: i64,
}
