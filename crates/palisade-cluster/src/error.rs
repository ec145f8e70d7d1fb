//! API errors, explained: what was asked, what went wrong, and what to do.
//!
//! Every call to the API server goes through [`ApiCall::explain`], so that an
//! unreachable cluster, rejected credentials and RBAC denials read the same
//! everywhere: `cannot list secrets in namespace "x": needs `list` on `secrets``.

use std::fmt;

/// What kind of failure an API call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No connection to the API server (refused, DNS, TLS, timeout).
    Unreachable,
    /// 401: the credentials were rejected (expired token or certificate).
    Unauthorized,
    /// 403: RBAC (or another authorizer) denied the request.
    Forbidden,
    /// 404: no such object, or the API is not served.
    NotFound,
    /// 409: a conflict (the object changed meanwhile, or already exists).
    Conflict,
    /// 410: a list continue token expired.
    Gone,
    /// Anything else.
    Other,
}

/// A failed API call, with a message that says what to do.
#[derive(Debug, Clone)]
pub struct ClusterError {
    pub kind: ErrorKind,
    /// The HTTP status code, when the server answered.
    pub code: Option<u16>,
    pub message: String,
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ClusterError {}

/// One API call as RBAC sees it: verb, resource (plural, with its group when
/// not core), optional subresource, namespace and name.
#[derive(Debug, Clone)]
pub struct ApiCall<'a> {
    pub verb: &'a str,
    pub group: &'a str,
    pub resource: &'a str,
    pub subresource: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
}

impl<'a> ApiCall<'a> {
    pub fn new(verb: &'a str, group: &'a str, resource: &'a str) -> Self {
        ApiCall {
            verb,
            group,
            resource,
            subresource: None,
            namespace: None,
            name: None,
        }
    }

    pub fn namespace(mut self, namespace: Option<&'a str>) -> Self {
        self.namespace = namespace;
        self
    }

    pub fn name(mut self, name: &'a str) -> Self {
        self.name = Some(name);
        self
    }

    pub fn subresource(mut self, subresource: &'a str) -> Self {
        self.subresource = Some(subresource);
        self
    }

    /// `secrets`, `deployments.apps`, `pods/log`: as RBAC rules and kubectl name it.
    pub fn resource_name(&self) -> String {
        let mut name = self.resource.to_string();
        if !self.group.is_empty() {
            name.push('.');
            name.push_str(self.group);
        }
        if let Some(sub) = self.subresource {
            name.push('/');
            name.push_str(sub);
        }
        name
    }

    /// "list secrets in namespace \"x\"", "get nodes \"n1\"", "list clusterroles cluster-wide".
    pub fn describe(&self) -> String {
        let mut text = format!("{} {}", self.verb, self.resource_name());
        if let Some(name) = self.name {
            text.push_str(&format!(" {name:?}"));
        }
        match self.namespace {
            Some(ns) => text.push_str(&format!(" in namespace {ns:?}")),
            None if self.name.is_none() => text.push_str(" cluster-wide"),
            None => {}
        }
        text
    }

    /// Explains what `error` means for this call.
    pub fn explain(&self, error: kube::Error) -> ClusterError {
        match error {
            kube::Error::Api(status) => self.explain_status(status.code, &status.message),
            kube::Error::Auth(e) => ClusterError {
                kind: ErrorKind::Unauthorized,
                code: None,
                message: format!(
                    "cannot {}: the kubeconfig's credentials could not be obtained ({e}); log in again or refresh the kubeconfig",
                    self.describe()
                ),
            },
            e @ (kube::Error::HyperError(_) | kube::Error::Service(_)) => ClusterError {
                kind: ErrorKind::Unreachable,
                code: None,
                message: format!(
                    "cannot reach the cluster's API server ({}); is it running, and is the kubeconfig's server address right? (`kubectl cluster-info`)",
                    error_chain(&e)
                ),
            },
            e => ClusterError {
                kind: ErrorKind::Other,
                code: None,
                message: format!("cannot {}: {}", self.describe(), error_chain(&e)),
            },
        }
    }

    /// The message for an error status the server returned.
    pub fn explain_status(&self, code: u16, server_message: &str) -> ClusterError {
        let what = self.describe();
        let (kind, message) = match code {
            401 => (
                ErrorKind::Unauthorized,
                format!(
                    "cannot {what}: the API server rejected the credentials (401 Unauthorized): the token or certificate has expired or is invalid; log in again or refresh the kubeconfig"
                ),
            ),
            403 => (
                ErrorKind::Forbidden,
                format!(
                    "cannot {what}: needs `{}` on `{}`{} (the API server said: {})",
                    self.verb,
                    self.resource_name(),
                    match self.namespace {
                        Some(ns) => format!(" in namespace {ns:?}"),
                        None => " cluster-wide (a ClusterRoleBinding)".to_string(),
                    },
                    server_message.trim()
                ),
            ),
            404 => (
                ErrorKind::NotFound,
                format!("cannot {what}: not found ({})", server_message.trim()),
            ),
            409 => (
                ErrorKind::Conflict,
                format!("cannot {what}: conflict ({})", server_message.trim()),
            ),
            410 => (
                ErrorKind::Gone,
                format!("cannot {what}: expired ({})", server_message.trim()),
            ),
            _ => (
                ErrorKind::Other,
                format!(
                    "cannot {what}: the API server answered {code} ({})",
                    server_message.trim()
                ),
            ),
        };
        ClusterError {
            kind,
            code: Some(code),
            message,
        }
    }
}

/// An error and its causes, `: `-separated (hyper's errors hide the useful part in a source).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_names_the_missing_permission() {
        let call = ApiCall::new("list", "", "secrets").namespace(Some("x"));
        let e = call.explain_status(403, "secrets is forbidden: User \"bob\" cannot list resource \"secrets\" in API group \"\" in the namespace \"x\"");
        assert_eq!(e.kind, ErrorKind::Forbidden);
        assert!(
            e.message
                .starts_with("cannot list secrets in namespace \"x\": needs `list` on `secrets` in namespace \"x\""),
            "{}",
            e.message
        );
        let call = ApiCall::new("get", "", "nodes").name("n1");
        let e = call.explain_status(403, "");
        assert!(
            e.message.contains("needs `get` on `nodes` cluster-wide"),
            "{}",
            e.message
        );
        let call = ApiCall::new("list", "apps", "deployments").subresource("scale");
        assert_eq!(call.resource_name(), "deployments.apps/scale");
    }

    #[test]
    fn unauthorized_says_to_log_in_again() {
        let e = ApiCall::new("list", "", "pods").explain_status(401, "Unauthorized");
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert!(e.message.contains("expired"));
    }
}
