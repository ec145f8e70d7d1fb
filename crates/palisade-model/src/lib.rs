//! The manifest model every Palisade analyzer works on.
//!
//! Palisade reads Kubernetes manifests once, here, and every layer (Pod
//! Security Standards, hardening checks, policies, RBAC, NetworkPolicy) works
//! on the same tree. Every value in that tree knows its file, line and column,
//! so a finding can point at the exact field it is about, and every input
//! problem is reported at its position instead of stopping the run.
//!
//! ```
//! use palisade_model::{load_text, pod_template, LoadOptions};
//!
//! let loaded = load_text(
//!     "pod.yaml",
//!     "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - name: app\n    securityContext: {privileged: yes}\n",
//!     &LoadOptions::default(),
//! );
//! let pod = pod_template(&loaded.objects[0]).unwrap();
//! let container = pod.containers().next().unwrap();
//! let privileged = container.security_context().unwrap().get("privileged").unwrap();
//! assert_eq!(privileged.as_bool(), Some(true)); // YAML 1.1, as kubectl reads it
//! assert_eq!(privileged.span.start.line, 7);
//! ```
//!
//! The flow is one way: load → model → analyze → findings → render. This crate
//! holds the first two and the [`Finding`] type the analyzers produce.

pub mod authz;
mod diagnostic;
mod finding;
mod loader;
pub mod names;
mod node;
mod object;
mod schema;
pub mod selector;
mod source;
mod workload;
pub mod yaml;

pub use authz::{AccessRequest, Authorizer, AuthzDecision, UserInfo};
pub use diagnostic::{InputError, InputErrorKind, INPUT_RULES};
pub use finding::{
    Control, Finding, Framework, Location, RuleMeta, Severity, Suppression, SuppressionKind,
};
pub use loader::{
    load_inputs, load_text, ForeignDocument, ForeignFormat, Input, LoadOptions, Loaded,
    CLUSTER_SCOPED_KINDS, MANIFEST_EXTENSIONS,
};
pub use node::{resolve_plain, Node, Value, ValueKind};
pub use object::{string_pairs, Object, ObjectId};
pub use source::{Pos, Source, SourceFile, Span};
pub use workload::{
    is_workload_kind, pod_template, pod_template_in, Container, ContainerKind, PodTemplate,
};
