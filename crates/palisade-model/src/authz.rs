//! The question an authorizer answers: may this user do this?
//!
//! Several layers need Kubernetes authorization without depending on each
//! other: ValidatingAdmissionPolicy's `authorizer` variable (policy layer) is
//! answered by the RBAC layer's evaluator, and the front ends connect the two.
//! The types follow `authorization.k8s.io/v1` SubjectAccessReview attributes.

/// Who is asking: the authenticated identity as the API server sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub username: String,
    /// Groups exactly as the authenticator produced them; an authorizer does
    /// not add implicit groups (the authenticator already did).
    pub groups: Vec<String>,
}

impl UserInfo {
    /// A ServiceAccount's identity with the groups the token authenticator
    /// gives it: `system:serviceaccounts`, `system:serviceaccounts:<ns>` and
    /// `system:authenticated`.
    pub fn service_account(namespace: &str, name: &str) -> UserInfo {
        UserInfo {
            username: format!("system:serviceaccount:{namespace}:{name}"),
            groups: vec![
                "system:serviceaccounts".to_string(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".to_string(),
            ],
        }
    }
}

/// What is asked: a verb on a resource, or on a non-resource URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessRequest {
    Resource {
        verb: String,
        /// API group; `""` is the core group.
        group: String,
        resource: String,
        /// `""` when none (`exec` for `pods/exec`).
        subresource: String,
        /// `""` for cluster-scoped requests or all namespaces.
        namespace: String,
        /// `""` when the request is not about one named object.
        name: String,
    },
    NonResource {
        verb: String,
        path: String,
    },
}

/// An authorizer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthzDecision {
    /// Allowed; the reason names the binding and role that allow it.
    Allow { reason: String },
    /// No rule allows it (RBAC never denies explicitly).
    NoOpinion { reason: String },
    /// The authorizer could not decide, e.g. the input lacks the objects it needs.
    Error { message: String },
}

impl AuthzDecision {
    pub fn allowed(&self) -> bool {
        matches!(self, AuthzDecision::Allow { .. })
    }
}

/// Something that answers authorization questions (e.g. RBAC over the
/// Roles and bindings in the input).
pub trait Authorizer: Send + Sync {
    fn authorize(&self, user: &UserInfo, request: &AccessRequest) -> AuthzDecision;
}
