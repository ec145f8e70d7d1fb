//! Exact Kubernetes NetworkPolicy semantics and the analyses built on them.
//!
//! The crate reads NetworkPolicies, AdminNetworkPolicies,
//! BaselineAdminNetworkPolicies, ClusterNetworkPolicies (v1alpha2), workloads, namespaces, Services, Ingresses
//! and Routes from manifests (through `palisade-model`), and answers:
//!
//! - [`Analyzer::list`]: which connections are allowed between workloads and IP
//!   blocks, in netpol-analyzer's formats ([`mod@format`]), with its focus and
//!   exposure options;
//! - [`explain`]: why a connection is allowed or denied, per direction;
//! - [`explainlist`]: netpol-analyzer's `list --explain` (every pair, with the
//!   rules behind each port range, over the reason-carrying sets of [`xconn`]);
//! - [`generate`]: least-permissive NetworkPolicies allowing exactly a desired
//!   connectivity list, with a round-trip check;
//! - [`isolate`]: the NetworkPolicy that quarantines a pod (all ingress and
//!   egress cut, optionally ingress kept from a forensics namespace);
//! - [`diff`]: how connectivity changes between two versions of the manifests;
//! - [`networks`]: with [`ListOptions::multiple_networks`], primary
//!   (Cluster)UserDefinedNetworks, secondary networks with
//!   MultiNetworkPolicies and VirtualMachines, listed per network;
//! - [`coverage`] and [`lint`]: isolation gaps and policy mistakes, as findings
//!   documented in [`rules`].
//!
//! The semantics ([`eval`]) follow Kubernetes and the network-policy API:
//! AdminNetworkPolicies and Admin-tier ClusterNetworkPolicies by priority
//! (Allow/Accept, Deny, Pass), then NetworkPolicies (isolation per direction,
//! union of allows), then Baseline-tier ClusterNetworkPolicies by priority and
//! the BaselineAdminNetworkPolicy, then allow. Output and corner cases follow
//! np-guard/netpol-analyzer, whose test cases are the conformance suite.
//!
//! ```
//! use palisade_netpol::{analyze_objects, ListOptions, format::{render, Format}};
//! let loaded = palisade_model::load_text("t.yaml", "
//! apiVersion: v1
//! kind: Pod
//! metadata: {name: a, namespace: ns, labels: {app: a}}
//! spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
//! ---
//! apiVersion: v1
//! kind: Pod
//! metadata: {name: b, namespace: ns, labels: {app: b}}
//! spec: {containers: [{name: c}]}
//! ---
//! apiVersion: networking.k8s.io/v1
//! kind: NetworkPolicy
//! metadata: {name: only-b, namespace: ns}
//! spec:
//!   podSelector: {matchLabels: {app: a}}
//!   ingress: [{from: [{podSelector: {matchLabels: {app: b}}}], ports: [{port: 80}]}]
//! ", &Default::default());
//! let list = analyze_objects(&loaded.objects, &ListOptions::default()).unwrap();
//! let txt = render(&list, Format::Txt);
//! assert!(txt.contains("ns/b[Pod] => ns/a[Pod] : TCP 80"));
//! assert!(!txt.contains("ns/a[Pod] => ns/b[Pod] : TCP"), "{txt}");
//! ```

pub mod conn;
pub mod connlist;
pub mod coverage;
pub mod diff;
pub mod eval;
pub mod explain;
pub mod explainlist;
pub mod format;
pub mod generate;
pub mod ipset;
pub mod isolate;
pub mod lint;
pub mod model;
pub mod networks;
pub mod rules;
pub mod selector;
pub mod xconn;

pub use connlist::{Analyzer, ConnList, Connection, ListOptions, PeerInfo};
pub use model::{read_resources, read_resources_with, Resources};

use palisade_model::Object;

/// Reads `objects` and lists the allowed connections.
pub fn analyze_objects(objects: &[Object], opts: &ListOptions) -> Result<ConnList, String> {
    let res = read_resources_with(objects, opts.multiple_networks);
    let analyzer = Analyzer::new(res, opts.exposure)?;
    analyzer.list(opts)
}
