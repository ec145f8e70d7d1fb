//! Resource names as kubectl resolves them: `po` → pods, `deploy` →
//! deployments.apps, `deployments.apps`, `jobs.v1.batch`.
//!
//! kubectl asks the server's discovery; offline, a static table of the
//! built-in resources of current Kubernetes stands in for it, extended with
//! the CustomResourceDefinitions found in the input. A name in neither is taken
//! as written (`widgets.example.com` → resource `widgets` in group
//! `example.com`), with a warning, where kubectl would warn "the server
//! doesn't have a resource type".

use palisade_model::{AccessRequest, Node, Object};

/// A resource type: its group, plural name, singular name, short names and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    pub group: String,
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub namespaced: bool,
}

/// (group, plural, singular, short names, namespaced), in discovery's
/// priority order: when two groups share a name (`events`), the first wins,
/// as kubectl prefers the core group.
const BUILTIN: &[(&str, &str, &str, &[&str], bool)] = &[
    ("", "bindings", "binding", &[], true),
    ("", "componentstatuses", "componentstatus", &["cs"], false),
    ("", "configmaps", "configmap", &["cm"], true),
    ("", "endpoints", "endpoints", &["ep"], true),
    ("", "events", "event", &["ev"], true),
    ("", "limitranges", "limitrange", &["limits"], true),
    ("", "namespaces", "namespace", &["ns"], false),
    ("", "nodes", "node", &["no"], false),
    (
        "",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        &["pvc"],
        true,
    ),
    ("", "persistentvolumes", "persistentvolume", &["pv"], false),
    ("", "pods", "pod", &["po"], true),
    ("", "podtemplates", "podtemplate", &[], true),
    (
        "",
        "replicationcontrollers",
        "replicationcontroller",
        &["rc"],
        true,
    ),
    ("", "resourcequotas", "resourcequota", &["quota"], true),
    ("", "secrets", "secret", &[], true),
    ("", "serviceaccounts", "serviceaccount", &["sa"], true),
    ("", "services", "service", &["svc"], true),
    // Not served, but authorized: the impersonation filter checks these.
    ("", "users", "user", &[], false),
    ("", "groups", "group", &[], false),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
        &[],
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
        "validatingadmissionpolicy",
        &[],
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
        "validatingadmissionpolicybinding",
        &[],
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
        &[],
        false,
    ),
    (
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "customresourcedefinition",
        &["crd", "crds"],
        false,
    ),
    (
        "apiregistration.k8s.io",
        "apiservices",
        "apiservice",
        &[],
        false,
    ),
    (
        "apps",
        "controllerrevisions",
        "controllerrevision",
        &[],
        true,
    ),
    ("apps", "daemonsets", "daemonset", &["ds"], true),
    ("apps", "deployments", "deployment", &["deploy"], true),
    ("apps", "replicasets", "replicaset", &["rs"], true),
    ("apps", "statefulsets", "statefulset", &["sts"], true),
    (
        "authentication.k8s.io",
        "selfsubjectreviews",
        "selfsubjectreview",
        &[],
        false,
    ),
    (
        "authentication.k8s.io",
        "tokenreviews",
        "tokenreview",
        &[],
        false,
    ),
    (
        "authorization.k8s.io",
        "localsubjectaccessreviews",
        "localsubjectaccessreview",
        &[],
        true,
    ),
    (
        "authorization.k8s.io",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        &[],
        false,
    ),
    (
        "authorization.k8s.io",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        &[],
        false,
    ),
    (
        "authorization.k8s.io",
        "subjectaccessreviews",
        "subjectaccessreview",
        &[],
        false,
    ),
    (
        "autoscaling",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        &["hpa"],
        true,
    ),
    ("batch", "cronjobs", "cronjob", &["cj"], true),
    ("batch", "jobs", "job", &[], true),
    (
        "certificates.k8s.io",
        "certificatesigningrequests",
        "certificatesigningrequest",
        &["csr"],
        false,
    ),
    ("coordination.k8s.io", "leases", "lease", &[], true),
    (
        "discovery.k8s.io",
        "endpointslices",
        "endpointslice",
        &[],
        true,
    ),
    ("events.k8s.io", "events", "event", &["ev"], true),
    (
        "flowcontrol.apiserver.k8s.io",
        "flowschemas",
        "flowschema",
        &[],
        false,
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        "prioritylevelconfigurations",
        "prioritylevelconfiguration",
        &[],
        false,
    ),
    (
        "networking.k8s.io",
        "ingressclasses",
        "ingressclass",
        &[],
        false,
    ),
    ("networking.k8s.io", "ingresses", "ingress", &["ing"], true),
    (
        "networking.k8s.io",
        "ipaddresses",
        "ipaddress",
        &["ip"],
        false,
    ),
    (
        "networking.k8s.io",
        "networkpolicies",
        "networkpolicy",
        &["netpol"],
        true,
    ),
    (
        "networking.k8s.io",
        "servicecidrs",
        "servicecidr",
        &[],
        false,
    ),
    ("node.k8s.io", "runtimeclasses", "runtimeclass", &[], false),
    (
        "policy",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        &["pdb"],
        true,
    ),
    (
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        "clusterrolebinding",
        &[],
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "clusterroles",
        "clusterrole",
        &[],
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "rolebindings",
        "rolebinding",
        &[],
        true,
    ),
    ("rbac.authorization.k8s.io", "roles", "role", &[], true),
    (
        "resource.k8s.io",
        "deviceclasses",
        "deviceclass",
        &[],
        false,
    ),
    (
        "resource.k8s.io",
        "resourceclaims",
        "resourceclaim",
        &[],
        true,
    ),
    (
        "resource.k8s.io",
        "resourceclaimtemplates",
        "resourceclaimtemplate",
        &[],
        true,
    ),
    (
        "resource.k8s.io",
        "resourceslices",
        "resourceslice",
        &[],
        false,
    ),
    (
        "scheduling.k8s.io",
        "priorityclasses",
        "priorityclass",
        &["pc"],
        false,
    ),
    ("storage.k8s.io", "csidrivers", "csidriver", &[], false),
    ("storage.k8s.io", "csinodes", "csinode", &[], false),
    (
        "storage.k8s.io",
        "csistoragecapacities",
        "csistoragecapacity",
        &[],
        true,
    ),
    (
        "storage.k8s.io",
        "storageclasses",
        "storageclass",
        &["sc"],
        false,
    ),
    (
        "storage.k8s.io",
        "volumeattachments",
        "volumeattachment",
        &[],
        false,
    ),
    (
        "storage.k8s.io",
        "volumeattributesclasses",
        "volumeattributesclass",
        &["vac"],
        false,
    ),
];

/// The resource types a request's resource argument is resolved against.
#[derive(Debug, Clone)]
pub struct ResourceTable {
    types: Vec<ResourceType>,
}

/// A resource argument resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedResource {
    pub group: String,
    pub resource: String,
    /// `None` when the type is unknown.
    pub namespaced: Option<bool>,
    /// Said when the name is not a known type (kubectl's "the server doesn't have ...").
    pub warning: Option<String>,
}

impl Default for ResourceTable {
    fn default() -> Self {
        ResourceTable::builtin()
    }
}

impl ResourceTable {
    /// The built-in resources of current Kubernetes.
    pub fn builtin() -> ResourceTable {
        ResourceTable {
            types: BUILTIN
                .iter()
                .map(
                    |&(group, plural, singular, short, namespaced)| ResourceType {
                        group: group.to_string(),
                        plural: plural.to_string(),
                        singular: singular.to_string(),
                        short_names: short.iter().map(|s| s.to_string()).collect(),
                        namespaced,
                    },
                )
                .collect(),
        }
    }

    /// Adds the types of CustomResourceDefinitions among `objects`.
    pub fn add_crds<'a>(&mut self, objects: impl IntoIterator<Item = &'a Object>) {
        for object in objects {
            if object.id.kind != "CustomResourceDefinition" {
                continue;
            }
            let Some(spec) = object.root.get("spec") else {
                continue;
            };
            let text = |n: Option<&Node>| n.and_then(Node::as_str).unwrap_or("").to_lowercase();
            let names = spec.get("names");
            let plural = text(names.and_then(|n| n.get("plural")));
            let group = text(spec.get("group"));
            if plural.is_empty() || group.is_empty() {
                continue;
            }
            let mut singular = text(names.and_then(|n| n.get("singular")));
            if singular.is_empty() {
                singular = text(names.and_then(|n| n.get("kind")));
            }
            let short_names = names
                .and_then(|n| n.get("shortNames"))
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .filter_map(Node::as_str)
                .map(str::to_lowercase)
                .collect();
            let namespaced = spec.get("scope").and_then(Node::as_str) != Some("Cluster");
            self.types.push(ResourceType {
                group,
                plural,
                singular,
                short_names,
                namespaced,
            });
        }
    }

    fn find(&self, group: Option<&str>, name: &str) -> Option<&ResourceType> {
        let in_group = |t: &&ResourceType| group.is_none_or(|g| t.group == g);
        // Plural names first, then singular, then short names, as the REST
        // mapper and kubectl's shortcut expander try them.
        self.types
            .iter()
            .filter(in_group)
            .find(|t| t.plural == name)
            .or_else(|| {
                self.types
                    .iter()
                    .filter(in_group)
                    .find(|t| t.singular == name)
            })
            .or_else(|| {
                self.types
                    .iter()
                    .filter(in_group)
                    .find(|t| t.short_names.iter().any(|s| s == name))
            })
    }

    /// Resolves `pods`, `po`, `pod`, `deployments.apps`, `deployments.v1.apps`, `*`.
    pub fn resolve(&self, arg: &str) -> ResolvedResource {
        if arg == "*" {
            return ResolvedResource {
                group: String::new(),
                resource: "*".into(),
                namespaced: Some(true),
                warning: None,
            };
        }
        let lower = arg.to_lowercase();
        let found = match lower.split_once('.') {
            None => self.find(None, &lower),
            Some((name, rest)) => self.find(Some(rest), name).or_else(|| {
                // resource.version.group
                rest.split_once('.')
                    .and_then(|(_version, group)| self.find(Some(group), name))
            }),
        };
        match found {
            Some(t) => ResolvedResource {
                group: t.group.clone(),
                resource: t.plural.clone(),
                namespaced: Some(t.namespaced),
                warning: None,
            },
            None => {
                let (resource, group) = lower.split_once('.').unwrap_or((&lower, ""));
                let warning = if group.is_empty() {
                    format!("resource type '{resource}' is not a built-in one nor in the input's CRDs; taken as written in the core group")
                } else {
                    format!("resource type '{resource}' in group '{group}' is not a built-in one nor in the input's CRDs; taken as written")
                };
                ResolvedResource {
                    group: group.to_string(),
                    resource: resource.to_string(),
                    namespaced: None,
                    warning: Some(warning),
                }
            }
        }
    }
}

/// A request as given on a command line.
#[derive(Debug, Clone, Default)]
pub struct RequestArgs {
    pub verb: String,
    /// `RESOURCE`, `RESOURCE/SUBRESOURCE`, or a non-resource URL starting with `/`.
    pub target: String,
    pub name: Option<String>,
    /// `--subresource`, for kubectl's spelling.
    pub subresource: Option<String>,
    /// `-n`; `None` means `default_namespace`.
    pub namespace: Option<String>,
    /// The namespace without `-n`: the kubeconfig context's for a live cluster,
    /// as kubectl takes it; `None` means `default`. Unlike `-n`, it draws no
    /// warning for a cluster-scoped resource.
    pub default_namespace: Option<String>,
    /// `-A`: a cluster-wide question (namespace `""`).
    pub all_namespaces: bool,
}

/// The request built from [`RequestArgs`], with what the user should know about it.
#[derive(Debug, Clone)]
pub struct BuiltRequest {
    pub request: AccessRequest,
    pub warnings: Vec<String>,
}

/// Builds the request kubectl would send for these arguments.
///
/// One departure from kubectl, on purpose: a namespace given for a
/// cluster-scoped built-in resource (`nodes`, `clusterroles`) is dropped with a
/// warning. Real requests for such resources never carry a namespace, so only
/// ClusterRoleBindings can grant them; kubectl would ask with the namespace and
/// could answer "yes" from a RoleBinding that grants nothing in practice.
pub fn build_request(args: &RequestArgs, table: &ResourceTable) -> Result<BuiltRequest, String> {
    if args.verb.is_empty() {
        return Err("a verb is required".into());
    }
    let mut warnings = Vec::new();
    if args.target.starts_with('/') {
        if args.name.is_some() || args.subresource.is_some() {
            return Err("a non-resource URL takes neither a NAME nor --subresource".into());
        }
        if !NON_RESOURCE_VERBS.contains(&args.verb.as_str()) {
            warnings.push(format!("verb '{}' is not a known verb", args.verb));
        }
        return Ok(BuiltRequest {
            request: AccessRequest::NonResource {
                verb: args.verb.clone(),
                path: args.target.clone(),
            },
            warnings,
        });
    }
    if args.target.is_empty() {
        return Err("a resource is required (e.g. pods, deployments.apps, pods/exec) or a URL starting with /".into());
    }
    let (resource_arg, sub_in_target) = match args.target.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (args.target.as_str(), None),
    };
    let subresource = match (sub_in_target, args.subresource.as_deref()) {
        (Some(a), Some(b)) if a != b => {
            return Err(format!("subresource given twice: '{a}' and '{b}'"))
        }
        (Some(s), _) | (None, Some(s)) => s.to_string(),
        (None, None) => String::new(),
    };
    let resolved = table.resolve(resource_arg);
    warnings.extend(resolved.warning.clone());
    if !RESOURCE_VERBS.contains(&args.verb.as_str()) {
        warnings.push(format!("verb '{}' is not a known verb", args.verb));
    }
    let mut namespace = if args.all_namespaces {
        String::new()
    } else {
        args.namespace
            .clone()
            .or_else(|| args.default_namespace.clone())
            .unwrap_or_else(|| "default".to_string())
    };
    if resolved.namespaced == Some(false) && !namespace.is_empty() {
        if args.namespace.is_some() {
            warnings.push(format!(
                "resource '{}' is not namespace scoped; checked cluster-wide (only ClusterRoleBindings can grant it)",
                resolved.resource
            ));
        }
        namespace.clear();
    }
    Ok(BuiltRequest {
        request: AccessRequest::Resource {
            verb: args.verb.clone(),
            group: resolved.group,
            resource: resolved.resource,
            subresource,
            namespace,
            name: args.name.clone().unwrap_or_default(),
        },
        warnings,
    })
}

/// The verbs kubectl knows for resources (it warns on others, and still asks).
const RESOURCE_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "use",
    "bind",
    "impersonate",
    "*",
    "approve",
    "sign",
    "escalate",
    "attest",
];
const NON_RESOURCE_VERBS: &[&str] = &[
    "get", "put", "post", "head", "options", "delete", "patch", "*",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn r(arg: &str) -> (String, String) {
        let x = ResourceTable::builtin().resolve(arg);
        (x.group, x.resource)
    }

    #[test]
    fn short_singular_and_grouped_names() {
        assert_eq!(r("po"), ("".into(), "pods".into()));
        assert_eq!(r("Pod"), ("".into(), "pods".into()));
        assert_eq!(r("deploy"), ("apps".into(), "deployments".into()));
        assert_eq!(r("deployments.apps"), ("apps".into(), "deployments".into()));
        assert_eq!(
            r("deployments.v1.apps"),
            ("apps".into(), "deployments".into())
        );
        assert_eq!(
            r("ingresses.networking.k8s.io"),
            ("networking.k8s.io".into(), "ingresses".into())
        );
        assert_eq!(r("cj"), ("batch".into(), "cronjobs".into()));
        assert_eq!(r("events"), ("".into(), "events".into()));
        assert_eq!(
            r("events.events.k8s.io"),
            ("events.k8s.io".into(), "events".into())
        );
        assert_eq!(
            r("widgets.example.com"),
            ("example.com".into(), "widgets".into())
        );
        assert!(ResourceTable::builtin()
            .resolve("widgets")
            .warning
            .is_some());
    }

    #[test]
    fn requests_from_arguments() {
        let table = ResourceTable::builtin();
        let args = RequestArgs {
            verb: "create".into(),
            target: "pods/exec".into(),
            namespace: Some("dev".into()),
            ..RequestArgs::default()
        };
        let built = build_request(&args, &table).expect("valid");
        assert_eq!(
            built.request,
            AccessRequest::Resource {
                verb: "create".into(),
                group: "".into(),
                resource: "pods".into(),
                subresource: "exec".into(),
                namespace: "dev".into(),
                name: "".into(),
            }
        );
        let args = RequestArgs {
            verb: "list".into(),
            target: "nodes".into(),
            namespace: Some("dev".into()),
            ..RequestArgs::default()
        };
        let built = build_request(&args, &table).expect("valid");
        assert!(
            matches!(&built.request, AccessRequest::Resource { namespace, .. } if namespace.is_empty())
        );
        assert_eq!(built.warnings.len(), 1);
        let args = RequestArgs {
            verb: "get".into(),
            target: "/healthz".into(),
            ..RequestArgs::default()
        };
        assert!(matches!(
            build_request(&args, &table).expect("valid").request,
            AccessRequest::NonResource { .. }
        ));
        let args = RequestArgs {
            verb: "get".into(),
            target: "/healthz".into(),
            name: Some("x".into()),
            ..RequestArgs::default()
        };
        assert!(build_request(&args, &table).is_err());
    }
}
