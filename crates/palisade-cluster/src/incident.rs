//! Incident response: quarantine a pod, collect evidence, release it.
//!
//! `quarantine` runs, in this order, each step reported as it happens:
//!
//! 1. **network-policy**: a NetworkPolicy `palisade-quarantine-<pod>` denying
//!    all ingress and egress to the pods labelled
//!    `palisade.dev/quarantine=<this pod's uid>` (ingress from one forensics
//!    namespace optionally allowed), applied with server-side apply. One
//!    policy per pod, selecting that pod only: releasing one pod never lifts
//!    another's isolation (the seed script named its policy per pod but
//!    selected every quarantined pod, so deleting "its" policy could leave
//!    or lift others arbitrarily).
//! 2. **label-pod**: one merge patch that adds the quarantine label, the
//!    annotations (reason, time, operator, case, policy) and removes the
//!    labels the namespace's Services select the pod by, remembering them in
//!    an annotation. The pod becomes isolated and leaves every Service's
//!    endpoints in the same write (the seed script left it selected by its
//!    Services, so clients kept being sent to an isolated pod that dropped
//!    their traffic). If the pod's controller selects it by those labels,
//!    the controller releases it and starts a replacement: the service keeps
//!    its capacity while the quarantined pod keeps running for forensics.
//! 3. **evidence**: the pod (now, and as read before it was labelled: its
//!    controller may already have released it), its owner chain, events, logs of every
//!    container (init and ephemeral too, and the previous instance of each
//!    restarted one), the node, the ServiceAccount and the RBAC objects
//!    binding it, the NetworkPolicies of the namespace, image digests, and
//!    optionally kubelet checkpoints. Each item is collected or its error is
//!    recorded: evidence collection never stops at the first denial.
//! 4. **cordon** (optional): marks the node unschedulable, noting why.
//!
//! Re-running is idempotent: an existing identical policy, a pod already
//! labelled, a node already cordoned are reported `unchanged` and not
//! written; the first quarantine's time, operator and remembered labels are
//! kept. `release` patches the pod back (quarantine label and annotations
//! removed, remembered labels restored) and then deletes the policy; the
//! evidence bundles are never touched.

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use crate::bundle::EvidenceFile;
use crate::error::{ApiCall, ClusterError, ErrorKind};
use crate::snapshot::{encode, get_json};
use crate::Cluster;

/// The label selecting quarantined pods; its value is the pod's uid.
pub const QUARANTINE_LABEL: &str = "palisade.dev/quarantine";
pub const REASON_ANNOTATION: &str = "palisade.dev/quarantine-reason";
pub const TIME_ANNOTATION: &str = "palisade.dev/quarantined-at";
pub const OPERATOR_ANNOTATION: &str = "palisade.dev/quarantined-by";
pub const CASE_ANNOTATION: &str = "palisade.dev/quarantine-case";
pub const POLICY_ANNOTATION: &str = "palisade.dev/quarantine-policy";
/// The labels removed from the pod (JSON object), restored by `release`.
pub const REMOVED_LABELS_ANNOTATION: &str = "palisade.dev/quarantine-removed-labels";
/// On a node Palisade cordoned: the pod (`ns/name`) it was cordoned for.
pub const CORDON_ANNOTATION: &str = "palisade.dev/cordoned-for";
/// The field manager of Palisade's writes.
pub const FIELD_MANAGER: &str = "palisade";

const QUARANTINE_ANNOTATIONS: [&str; 6] = [
    REASON_ANNOTATION,
    TIME_ANNOTATION,
    OPERATOR_ANNOTATION,
    CASE_ANNOTATION,
    POLICY_ANNOTATION,
    REMOVED_LABELS_ANNOTATION,
];

/// What to quarantine, and how.
#[derive(Debug, Clone, Default)]
pub struct QuarantineOptions {
    pub namespace: String,
    pub pod: String,
    pub reason: String,
    /// The case id (default: generated from the time).
    pub case_id: Option<String>,
    /// A namespace whose pods may still connect to the quarantined pod.
    pub forensics_namespace: Option<String>,
    /// Keep the labels Services select the pod by (it stays an endpoint).
    pub keep_service_labels: bool,
    pub cordon: bool,
    pub checkpoint: bool,
    /// Allow kube-system and Palisade's own pods.
    pub force: bool,
    pub dry_run: bool,
    /// At most this many bytes of each log (the newest); `None`: all.
    pub max_log_bytes: Option<i64>,
}

/// The outcome of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    /// Dry run: what would be done.
    Planned,
    Done,
    /// Already as wanted: nothing written.
    Unchanged,
    Skipped,
    Failed,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Planned => "planned",
            StepStatus::Done => "done",
            StepStatus::Unchanged => "unchanged",
            StepStatus::Skipped => "skipped",
            StepStatus::Failed => "failed",
        }
    }
}

/// One step, as printed and appended to the audit trail.
#[derive(Debug, Clone)]
pub struct Step {
    /// `network-policy`, `label-pod`, `evidence`, `cordon`, `unlabel-pod`, ...
    pub name: &'static str,
    pub status: StepStatus,
    pub message: String,
    /// The object created or the patch sent (or that would be).
    pub object: Option<Json>,
    pub time: String,
}

/// Receives each step as it happens.
pub trait StepSink {
    fn step(&mut self, step: &Step);
    /// Before the first step: the case id and the operator the steps are
    /// recorded under (for audit trails).
    fn begin(&mut self, _case_id: &str, _operator: &str) {}
}

impl<F: FnMut(&Step)> StepSink for F {
    fn step(&mut self, step: &Step) {
        self(step)
    }
}

fn emit(
    sink: &mut dyn StepSink,
    name: &'static str,
    status: StepStatus,
    message: String,
    object: Option<Json>,
) -> Step {
    let step = Step {
        name,
        status,
        message,
        object,
        time: crate::now(),
    };
    sink.step(&step);
    step
}

/// What was collected in step 3, for the caller to complete (RBAC analysis,
/// policies that apply) and write as a bundle.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub files: Vec<EvidenceFile>,
    /// Items that could not be collected, and why.
    pub errors: Vec<(String, String)>,
    /// The pod as read after isolation.
    pub pod: Json,
    /// The pod's labels before quarantine (what selected it during the incident).
    pub original_labels: BTreeMap<String, String>,
    /// Roles, ClusterRoles and bindings of the namespace and cluster (typed).
    pub rbac_objects: Vec<Json>,
    /// The namespace's NetworkPolicies (typed).
    pub network_policies: Vec<Json>,
    /// The namespace object, if readable (typed).
    pub namespace: Option<Json>,
    pub service_account: String,
}

/// What quarantine did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub steps: Vec<Step>,
    pub case_id: String,
    pub operator: String,
    pub policy_name: String,
    pub evidence: Option<Evidence>,
    pub started_at: String,
}

/// `palisade-quarantine-<pod>`, or with the uid when the pod name is too long.
pub fn policy_name(pod: &str, uid: &str) -> String {
    let name = format!("palisade-quarantine-{pod}");
    if name.len() <= 253 {
        name
    } else {
        format!("palisade-quarantine-{uid}")
    }
}

/// The NetworkPolicy isolating the pod with this uid.
pub fn quarantine_policy(
    namespace: &str,
    name: &str,
    uid: &str,
    pod: &str,
    case_id: &str,
    forensics: Option<&str>,
) -> Json {
    let ingress = match forensics {
        Some(ns) => {
            json!([{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}]}])
        }
        None => json!([]),
    };
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "palisade", QUARANTINE_LABEL: uid},
            "annotations": {"palisade.dev/quarantined-pod": pod, CASE_ANNOTATION: case_id},
        },
        "spec": {
            "podSelector": {"matchLabels": {QUARANTINE_LABEL: uid}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": [],
        }
    })
}

fn labels_of(object: &Json) -> BTreeMap<String, String> {
    object["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether Palisade refuses to touch this pod without `--force`.
pub fn protected(namespace: &str, pod: &Json) -> Option<String> {
    if namespace == "kube-system" {
        return Some(
            "it is in kube-system, where isolating a pod can take the cluster down".into(),
        );
    }
    let labels = labels_of(pod);
    let ours = ["app.kubernetes.io/name", "app.kubernetes.io/part-of"]
        .iter()
        .any(|k| labels.get(*k).map(String::as_str) == Some("palisade"));
    ours.then(|| {
        "it is one of Palisade's own pods (admission webhook or detector): isolating it can block admission or blind detection".into()
    })
}

async fn request_json(
    cluster: &Cluster,
    method: http::Method,
    path: &str,
    content_type: Option<&str>,
    body: Option<&Json>,
) -> Result<Json, kube::Error> {
    let mut builder = http::Request::builder().method(method).uri(path);
    if let Some(ct) = content_type {
        builder = builder.header(http::header::CONTENT_TYPE, ct);
    }
    let body = body
        .map(|b| serde_json::to_vec(b).unwrap_or_default())
        .unwrap_or_default();
    let request = builder.body(body).map_err(kube::Error::HttpError)?;
    cluster.client.request::<Json>(request).await
}

/// A patch a response step makes, and what the step says when planned
/// (`--dry-run`), done, or failed.
struct PatchStep<'a> {
    step: &'static str,
    call: ApiCall<'a>,
    path: &'a str,
    content_type: &'static str,
    patch: Json,
    planned: String,
    done: String,
    /// What a failure leaves behind, after the API's error message.
    on_failure: &'static str,
}

/// Plans the patch under `--dry-run`, else sends it; records the step either
/// way. A failed patch ends the response.
async fn patch_step(
    cluster: &Cluster,
    sink: &mut dyn StepSink,
    steps: &mut Vec<Step>,
    dry_run: bool,
    p: PatchStep<'_>,
) -> Result<(), ClusterError> {
    if dry_run {
        steps.push(emit(
            sink,
            p.step,
            StepStatus::Planned,
            p.planned,
            Some(p.patch),
        ));
        return Ok(());
    }
    let sent = request_json(
        cluster,
        http::Method::PATCH,
        p.path,
        Some(p.content_type),
        Some(&p.patch),
    )
    .await;
    match sent {
        Ok(_) => {
            steps.push(emit(sink, p.step, StepStatus::Done, p.done, Some(p.patch)));
            Ok(())
        }
        Err(e) => {
            let e = p.call.explain(e);
            let message = format!("{}{}", e.message, p.on_failure);
            steps.push(emit(
                sink,
                p.step,
                StepStatus::Failed,
                message,
                Some(p.patch),
            ));
            Err(e)
        }
    }
}

async fn get_text(cluster: &Cluster, path: &str) -> Result<String, kube::Error> {
    let request = http::Request::get(path)
        .body(Vec::new())
        .map_err(kube::Error::HttpError)?;
    cluster.client.request_text(request).await
}

fn pod_path(namespace: &str, pod: &str) -> String {
    format!(
        "/api/v1/namespaces/{}/pods/{}",
        encode(namespace),
        encode(pod)
    )
}

fn policy_path(namespace: &str, name: &str) -> String {
    format!(
        "/apis/networking.k8s.io/v1/namespaces/{}/networkpolicies/{}",
        encode(namespace),
        encode(name)
    )
}

/// Who is acting: the API server's answer to a SelfSubjectReview, else the
/// kubeconfig's user entry, else the local user.
pub async fn operator_identity(cluster: &Cluster, ask_server: bool) -> String {
    if ask_server {
        let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
        if let Ok(answer) = request_json(
            cluster,
            http::Method::POST,
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            Some("application/json"),
            Some(&review),
        )
        .await
        {
            if let Some(name) = answer["status"]["userInfo"]["username"].as_str() {
                return name.to_string();
            }
        }
    }
    let local = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    match &cluster.kubeconfig_user {
        Some(user) => format!("kubeconfig user {user} (local user {local})"),
        None => format!("local user {local}"),
    }
}

/// The labels of `pod` that the namespace's Services select it by, and the Services.
fn service_labels(
    pod_labels: &BTreeMap<String, String>,
    services: &[Json],
) -> (BTreeMap<String, String>, Vec<String>) {
    let mut labels = BTreeMap::new();
    let mut names = Vec::new();
    for service in services {
        let Some(selector) = service["spec"]["selector"].as_object() else {
            continue;
        };
        if selector.is_empty() {
            continue;
        }
        let selects = selector
            .iter()
            .all(|(k, v)| pod_labels.get(k).map(String::as_str) == v.as_str());
        if selects {
            names.push(
                service["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            );
            for k in selector.keys() {
                if let Some(v) = pod_labels.get(k) {
                    labels.insert(k.clone(), v.clone());
                }
            }
        }
    }
    (labels, names)
}

/// Quarantines a pod (see the module documentation), reporting each step to `sink`.
/// Errors end the run where they happen (after reporting the failed step),
/// except in evidence collection, where they are recorded and collection goes on.
pub async fn quarantine(
    cluster: &Cluster,
    options: &QuarantineOptions,
    sink: &mut dyn StepSink,
) -> Result<Outcome, ClusterError> {
    let ns = options.namespace.as_str();
    let started_at = crate::now();
    let pod_call = ApiCall::new("get", "", "pods")
        .namespace(Some(ns))
        .name(&options.pod);
    let pod = get_json(&cluster.client, &pod_path(ns, &options.pod))
        .await
        .map_err(|e| pod_call.explain(e))?;
    if let Some(why) = protected(ns, &pod) {
        if !options.force {
            return Err(ClusterError {
                kind: ErrorKind::Other,
                code: None,
                message: format!(
                    "refusing to quarantine pod {ns}/{}: {why}; use --force if you mean it",
                    options.pod
                ),
            });
        }
    }
    let uid = pod["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if uid.is_empty() {
        return Err(ClusterError {
            kind: ErrorKind::Other,
            code: None,
            message: format!(
                "pod {ns}/{} has no uid: not an object read from an API server",
                options.pod
            ),
        });
    }
    let labels = labels_of(&pod);
    let annotations = pod["metadata"]["annotations"].clone();
    let already = labels.get(QUARANTINE_LABEL).is_some_and(|v| *v == uid);
    let case_id = options
        .case_id
        .clone()
        .or_else(|| annotations[CASE_ANNOTATION].as_str().map(str::to_string))
        .unwrap_or_else(|| format!("case-{}", started_at.replace([':', '-'], "").to_lowercase()));
    let operator = operator_identity(cluster, !options.dry_run).await;
    let name = policy_name(&options.pod, &uid);
    sink.begin(&case_id, &operator);
    let mut outcome = Outcome {
        case_id: case_id.clone(),
        operator: operator.clone(),
        policy_name: name.clone(),
        started_at: started_at.clone(),
        ..Outcome::default()
    };
    let planned = |status| {
        if options.dry_run {
            StepStatus::Planned
        } else {
            status
        }
    };

    if pod["spec"]["hostNetwork"].as_bool() == Some(true) {
        outcome.steps.push(emit(
            sink,
            "warning",
            StepStatus::Skipped,
            "the pod uses the host's network: NetworkPolicies do not apply to it, so it is NOT network-isolated; cordon the node and consider deleting the pod once the evidence is collected".into(),
            None,
        ));
    }

    // 1. The NetworkPolicy.
    let policy = quarantine_policy(
        ns,
        &name,
        &uid,
        &options.pod,
        &case_id,
        options.forensics_namespace.as_deref(),
    );
    let policy_call = ApiCall::new("patch", "networking.k8s.io", "networkpolicies")
        .namespace(Some(ns))
        .name(&name);
    let existing = match get_json(&cluster.client, &policy_path(ns, &name)).await {
        Ok(p) => Some(p),
        Err(e) => {
            let e = ApiCall::new("get", "networking.k8s.io", "networkpolicies")
                .namespace(Some(ns))
                .name(&name)
                .explain(e);
            if e.kind != ErrorKind::NotFound {
                outcome.steps.push(emit(
                    sink,
                    "network-policy",
                    StepStatus::Failed,
                    e.message.clone(),
                    Some(policy),
                ));
                return Err(e);
            }
            None
        }
    };
    let same = existing
        .as_ref()
        .is_some_and(|p| p["spec"] == policy["spec"]);
    if same {
        outcome.steps.push(emit(
            sink,
            "network-policy",
            StepStatus::Unchanged,
            format!("NetworkPolicy {ns}/{name} already isolates the pod"),
            Some(policy),
        ));
    } else {
        let path = format!(
            "{}?fieldManager={FIELD_MANAGER}&force=true",
            policy_path(ns, &name)
        );
        let except = options
            .forensics_namespace
            .as_deref()
            .map(|f| format!(" (except from namespace {f})"))
            .unwrap_or_default();
        let step = PatchStep {
            step: "network-policy",
            call: policy_call,
            path: &path,
            content_type: "application/apply-patch+yaml",
            patch: policy,
            planned: format!("would apply NetworkPolicy {ns}/{name}: deny all ingress{except} and all egress for pods labelled {QUARANTINE_LABEL}={uid}"),
            done: format!("applied NetworkPolicy {ns}/{name}: all ingress{except} and egress denied to pods labelled {QUARANTINE_LABEL}={uid}"),
            on_failure: "",
        };
        patch_step(cluster, sink, &mut outcome.steps, options.dry_run, step).await?;
    }

    // 2. Label and annotate the pod, out of its Services, in one write.
    let (original_labels, removed) = if already {
        let removed: BTreeMap<String, String> = annotations[REMOVED_LABELS_ANNOTATION]
            .as_str()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        let mut original = labels.clone();
        original.remove(QUARANTINE_LABEL);
        original.extend(removed.clone());
        (original, removed)
    } else {
        let removed = if options.keep_service_labels {
            BTreeMap::new()
        } else {
            let services_call = ApiCall::new("list", "", "services").namespace(Some(ns));
            match get_json(
                &cluster.client,
                &format!("/api/v1/namespaces/{}/services", encode(ns)),
            )
            .await
            {
                Ok(list) => {
                    let services: Vec<Json> = list["items"].as_array().cloned().unwrap_or_default();
                    let (removed, names) = service_labels(&labels, &services);
                    if !names.is_empty() {
                        outcome.steps.push(emit(sink, "services", planned(StepStatus::Done), format!("selected by Service(s) {}: removing label(s) {} takes the pod out of their endpoints{}", names.join(", "), removed.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "), controller_note(&pod)), None));
                    }
                    removed
                }
                Err(e) => {
                    let e = services_call.explain(e);
                    if matches!(e.kind, ErrorKind::Unreachable | ErrorKind::Unauthorized) {
                        return Err(e);
                    }
                    outcome.steps.push(emit(sink, "services", StepStatus::Failed, format!("{}; the pod stays selected by its Services (traffic sent to it is dropped)", e.message), None));
                    BTreeMap::new()
                }
            }
        };
        (labels.clone(), removed)
    };
    if already {
        outcome.steps.push(emit(
            sink,
            "label-pod",
            StepStatus::Unchanged,
            format!(
                "pod {ns}/{} is already quarantined (since {}, by {})",
                options.pod,
                annotations[TIME_ANNOTATION].as_str().unwrap_or("?"),
                annotations[OPERATOR_ANNOTATION].as_str().unwrap_or("?")
            ),
            None,
        ));
    } else {
        let mut label_patch = serde_json::Map::new();
        label_patch.insert(QUARANTINE_LABEL.into(), json!(uid));
        for k in removed.keys() {
            label_patch.insert(k.clone(), Json::Null);
        }
        let patch = json!({"metadata": {
            "labels": label_patch,
            "annotations": {
                REASON_ANNOTATION: options.reason,
                TIME_ANNOTATION: started_at,
                OPERATOR_ANNOTATION: operator,
                CASE_ANNOTATION: case_id,
                POLICY_ANNOTATION: name,
                REMOVED_LABELS_ANNOTATION: serde_json::to_string(&removed).unwrap_or_default(),
            }
        }});
        let path = pod_path(ns, &options.pod);
        let step = PatchStep {
            step: "label-pod",
            call: ApiCall::new("patch", "", "pods")
                .namespace(Some(ns))
                .name(&options.pod),
            path: &path,
            content_type: "application/merge-patch+json",
            patch,
            planned: format!("would label pod {ns}/{} {QUARANTINE_LABEL}={uid} (isolating it) and annotate it with the reason, time, operator and case, in one merge patch", options.pod),
            done: format!(
                "labelled pod {ns}/{} {QUARANTINE_LABEL}={uid}: isolated from now on",
                options.pod
            ),
            on_failure: " (the NetworkPolicy exists but selects nothing until the label is set)",
        };
        patch_step(cluster, sink, &mut outcome.steps, options.dry_run, step).await?;
    }

    // 3. Evidence.
    if options.dry_run {
        outcome.steps.push(emit(sink, "evidence", StepStatus::Planned, "would collect: the pod, its owner chain, events, logs of every container (init, ephemeral, previous instances), the node, the ServiceAccount and its RBAC, the namespace's NetworkPolicies, image digests".to_string() + if options.checkpoint { ", kubelet checkpoints" } else { "" }, None));
    } else {
        // The pod as read before this run labelled it: its controller may
        // release it (dropping its ownerReferences) as soon as the Service
        // labels are gone, before the evidence is read.
        let before = (!already).then_some(&pod);
        let evidence = collect_evidence(cluster, options, &original_labels, before).await;
        let message = format!(
            "collected {} files{}",
            evidence.files.len(),
            if evidence.errors.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} items could not be collected: {}",
                    evidence.errors.len(),
                    evidence
                        .errors
                        .iter()
                        .map(|(i, m)| format!("{i}: {m}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            }
        );
        outcome
            .steps
            .push(emit(sink, "evidence", StepStatus::Done, message, None));
        outcome.evidence = Some(evidence);
    }

    // 4. Cordon.
    if options.cordon {
        let node = pod["spec"]["nodeName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if node.is_empty() {
            outcome.steps.push(emit(
                sink,
                "cordon",
                StepStatus::Skipped,
                "the pod is not scheduled on a node".into(),
                None,
            ));
        } else {
            let node_path = format!("/api/v1/nodes/{}", encode(&node));
            let current = get_json(&cluster.client, &node_path).await;
            let unschedulable = current
                .as_ref()
                .ok()
                .and_then(|n| n["spec"]["unschedulable"].as_bool())
                == Some(true);
            let patch = json!({"spec": {"unschedulable": true}, "metadata": {"annotations": {CORDON_ANNOTATION: format!("{ns}/{}", options.pod), CASE_ANNOTATION: case_id}}});
            if unschedulable {
                outcome.steps.push(emit(
                    sink,
                    "cordon",
                    StepStatus::Unchanged,
                    format!("node {node} is already cordoned"),
                    None,
                ));
            } else {
                let step = PatchStep {
                    step: "cordon",
                    call: ApiCall::new("patch", "", "nodes").name(&node),
                    path: &node_path,
                    content_type: "application/merge-patch+json",
                    patch,
                    planned: format!("would cordon node {node}"),
                    done: format!("cordoned node {node}: no new pods are scheduled there"),
                    on_failure: "",
                };
                patch_step(cluster, sink, &mut outcome.steps, options.dry_run, step).await?;
            }
        }
    }
    Ok(outcome)
}

fn controller_note(pod: &Json) -> String {
    let controller = pod["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["controller"].as_bool() == Some(true));
    match controller {
        Some(o) => format!(
            "; its controller {} {} may release it and start a replacement (the quarantined pod keeps running)",
            o["kind"].as_str().unwrap_or("?"),
            o["name"].as_str().unwrap_or("?")
        ),
        None => String::new(),
    }
}

fn typed(mut item: Json, api_version: &str, kind: &str) -> Json {
    if let Some(map) = item.as_object_mut() {
        map.insert("apiVersion".into(), json!(api_version));
        map.insert("kind".into(), json!(kind));
        if let Some(meta) = map.get_mut("metadata").and_then(Json::as_object_mut) {
            meta.remove("managedFields");
        }
    }
    item
}

/// The plural of `kind` in `api_version`, from discovery.
async fn plural_of(cluster: &Cluster, api_version: &str, kind: &str) -> Option<(String, bool)> {
    let path = if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    };
    let list = get_json(&cluster.client, &path).await.ok()?;
    list["resources"].as_array()?.iter().find_map(|r| {
        let name = r["name"].as_str()?;
        (r["kind"].as_str() == Some(kind) && !name.contains('/'))
            .then(|| (name.to_string(), r["namespaced"].as_bool().unwrap_or(true)))
    })
}

/// Step 3: everything about the pod, each item collected or its error recorded.
/// `before` is the pod as read before this run labelled it (`None` when it was
/// already quarantined): kept as `pod-before-quarantine.json`, and its owner
/// chain is followed when the controller has let the pod go meanwhile.
pub async fn collect_evidence(
    cluster: &Cluster,
    options: &QuarantineOptions,
    original_labels: &BTreeMap<String, String>,
    before: Option<&Json>,
) -> Evidence {
    let ns = options.namespace.as_str();
    let pod_name = options.pod.as_str();
    let mut ev = Evidence {
        original_labels: original_labels.clone(),
        ..Evidence::default()
    };
    let fail = |ev: &mut Evidence, item: &str, e: ClusterError| {
        ev.errors.push((item.to_string(), e.message))
    };

    // The pod.
    let path = pod_path(ns, pod_name);
    let pod = match get_json(&cluster.client, &path).await {
        Ok(p) => typed(p, "v1", "Pod"),
        Err(e) => {
            fail(
                &mut ev,
                "pod.json",
                ApiCall::new("get", "", "pods")
                    .namespace(Some(ns))
                    .name(pod_name)
                    .explain(e),
            );
            return ev;
        }
    };
    ev.files.push(EvidenceFile::json("pod.json", &pod, &path));
    if let Some(before) = before {
        ev.files.push(EvidenceFile::json(
            "pod-before-quarantine.json",
            &typed(before.clone(), "v1", "Pod"),
            &path,
        ));
    }
    ev.pod = pod.clone();
    let uid = pod["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // The owner chain (controllers, up to five levels), from the pod as it
    // was before quarantine if its controller has released it since.
    let owned = |p: &Json| {
        p["metadata"]["ownerReferences"]
            .as_array()
            .is_some_and(|o| !o.is_empty())
    };
    let mut current = match before {
        Some(b) if !owned(&pod) && owned(b) => b.clone(),
        _ => pod.clone(),
    };
    for depth in 1..=5 {
        let Some(owner) = current["metadata"]["ownerReferences"]
            .as_array()
            .and_then(|os| {
                os.iter()
                    .find(|o| o["controller"].as_bool() == Some(true))
                    .or_else(|| os.first())
            })
            .cloned()
        else {
            break;
        };
        let (api_version, kind, name) = (
            owner["apiVersion"].as_str().unwrap_or_default().to_string(),
            owner["kind"].as_str().unwrap_or_default().to_string(),
            owner["name"].as_str().unwrap_or_default().to_string(),
        );
        let item = format!("owners/{depth}-{kind}-{name}.json");
        let Some((plural, namespaced)) = plural_of(cluster, &api_version, &kind).await else {
            ev.errors.push((
                item,
                format!("{kind} ({api_version}) is not served by the API server"),
            ));
            break;
        };
        let base = if api_version.contains('/') {
            format!("/apis/{api_version}")
        } else {
            format!("/api/{api_version}")
        };
        let path = if namespaced {
            format!(
                "{base}/namespaces/{}/{plural}/{}",
                encode(ns),
                encode(&name)
            )
        } else {
            format!("{base}/{plural}/{}", encode(&name))
        };
        let group = api_version.split_once('/').map_or("", |(g, _)| g);
        match get_json(&cluster.client, &path).await {
            Ok(o) => {
                let o = typed(o, &api_version, &kind);
                ev.files.push(EvidenceFile::json(&item, &o, &path));
                current = o;
            }
            Err(e) => {
                fail(
                    &mut ev,
                    &item,
                    ApiCall::new("get", group, &plural)
                        .namespace(namespaced.then_some(ns))
                        .name(&name)
                        .explain(e),
                );
                break;
            }
        }
    }

    // Events about the pod.
    let path = format!(
        "/api/v1/namespaces/{}/events?fieldSelector={}",
        encode(ns),
        encode(&format!("involvedObject.uid={uid}"))
    );
    match get_json(&cluster.client, &path).await {
        Ok(list) => {
            let items: Vec<Json> = list["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|e| typed(e, "v1", "Event"))
                .collect();
            ev.files.push(EvidenceFile::json(
                "events.json",
                &json!({"apiVersion": "v1", "kind": "List", "items": items}),
                &path,
            ));
        }
        Err(e) => fail(
            &mut ev,
            "events.json",
            ApiCall::new("list", "", "events")
                .namespace(Some(ns))
                .explain(e),
        ),
    }

    // Logs of every container, and of the previous instance of restarted ones.
    let statuses: Vec<Json> = [
        "initContainerStatuses",
        "containerStatuses",
        "ephemeralContainerStatuses",
    ]
    .iter()
    .flat_map(|k| pod["status"][*k].as_array().cloned().unwrap_or_default())
    .collect();
    let containers: Vec<(String, &str)> = [
        ("initContainers", "init"),
        ("containers", "app"),
        ("ephemeralContainers", "ephemeral"),
    ]
    .iter()
    .flat_map(|(key, role)| {
        pod["spec"][*key]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter_map(move |c| c["name"].as_str().map(|n| (n.to_string(), *role)))
    })
    .collect();
    let mut log_index = Vec::new();
    for (container, role) in &containers {
        let status = statuses
            .iter()
            .find(|s| s["name"].as_str() == Some(container.as_str()));
        let restarted = status.is_some_and(|s| {
            s["restartCount"].as_u64().unwrap_or(0) > 0 || s["lastState"]["terminated"].is_object()
        });
        let instances: &[bool] = if restarted { &[false, true] } else { &[false] };
        for &previous in instances {
            let mut path = format!(
                "{path}/log?container={}&timestamps=true",
                encode(container),
                path = pod_path(ns, pod_name)
            );
            if previous {
                path.push_str("&previous=true");
            }
            if let Some(limit) = options.max_log_bytes {
                path.push_str(&format!("&limitBytes={limit}"));
            }
            let file = if previous {
                format!("logs/{container}.previous.log")
            } else {
                format!("logs/{container}.log")
            };
            match get_text(cluster, &path).await {
                Ok(text) => {
                    log_index.push(json!({"container": container, "role": role, "previous": previous, "file": file, "bytes": text.len()}));
                    ev.files.push(EvidenceFile::text(&file, text, &path));
                }
                Err(e) => fail(
                    &mut ev,
                    &file,
                    ApiCall::new("get", "", "pods")
                        .subresource("log")
                        .namespace(Some(ns))
                        .name(pod_name)
                        .explain(e),
                ),
            }
        }
    }

    // Images and their digests, as the kubelet reports them.
    let images: Vec<Json> = containers
        .iter()
        .map(|(name, role)| {
            let spec_image = ["initContainers", "containers", "ephemeralContainers"]
                .iter()
                .flat_map(|k| pod["spec"][*k].as_array().cloned().unwrap_or_default())
                .find(|c| c["name"].as_str() == Some(name.as_str()))
                .map(|c| c["image"].clone())
                .unwrap_or(Json::Null);
            let status = statuses
                .iter()
                .find(|s| s["name"].as_str() == Some(name.as_str()));
            let image_id = status.map(|s| s["imageID"].clone()).unwrap_or(Json::Null);
            let digest = image_id.as_str().and_then(|id| {
                id.rsplit_once('@')
                    .map(|(_, d)| d.to_string())
                    .or_else(|| id.starts_with("sha256:").then(|| id.to_string()))
            });
            json!({
                "container": name, "role": role, "image": spec_image,
                "imageID": image_id, "digest": digest,
                "containerID": status.map(|s| s["containerID"].clone()).unwrap_or(Json::Null),
            })
        })
        .collect();
    ev.files.push(EvidenceFile::json(
        "images.json",
        &json!(images),
        "pod status",
    ));

    // The node.
    let node = pod["spec"]["nodeName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if node.is_empty() {
        ev.errors.push((
            "node.json".into(),
            "the pod is not scheduled on a node".into(),
        ));
    } else {
        ev.files.push(EvidenceFile::text(
            "node-name.txt",
            format!("{node}\n"),
            "pod spec.nodeName",
        ));
        let path = format!("/api/v1/nodes/{}", encode(&node));
        match get_json(&cluster.client, &path).await {
            Ok(n) => ev.files.push(EvidenceFile::json(
                "node.json",
                &typed(n, "v1", "Node"),
                &path,
            )),
            Err(e) => fail(
                &mut ev,
                "node.json",
                ApiCall::new("get", "", "nodes").name(&node).explain(e),
            ),
        }
    }

    // The namespace (its Pod Security labels, for the record).
    let path = format!("/api/v1/namespaces/{}", encode(ns));
    match get_json(&cluster.client, &path).await {
        Ok(n) => {
            let n = typed(n, "v1", "Namespace");
            ev.files
                .push(EvidenceFile::json("namespace.json", &n, &path));
            ev.namespace = Some(n);
        }
        Err(e) => fail(
            &mut ev,
            "namespace.json",
            ApiCall::new("get", "", "namespaces").name(ns).explain(e),
        ),
    }

    // The ServiceAccount, and the RBAC objects that can bind it.
    let sa = pod["spec"]["serviceAccountName"]
        .as_str()
        .unwrap_or("default")
        .to_string();
    ev.service_account = sa.clone();
    let path = format!(
        "/api/v1/namespaces/{}/serviceaccounts/{}",
        encode(ns),
        encode(&sa)
    );
    match get_json(&cluster.client, &path).await {
        Ok(o) => ev.files.push(EvidenceFile::json(
            "serviceaccount.json",
            &typed(o, "v1", "ServiceAccount"),
            &path,
        )),
        Err(e) => fail(
            &mut ev,
            "serviceaccount.json",
            ApiCall::new("get", "", "serviceaccounts")
                .namespace(Some(ns))
                .name(&sa)
                .explain(e),
        ),
    }
    let rbac = "rbac.authorization.k8s.io";
    for (plural, kind, namespaced) in [
        ("rolebindings", "RoleBinding", true),
        ("roles", "Role", true),
        ("clusterrolebindings", "ClusterRoleBinding", false),
        ("clusterroles", "ClusterRole", false),
    ] {
        let path = if namespaced {
            format!("/apis/{rbac}/v1/namespaces/{}/{plural}", encode(ns))
        } else {
            format!("/apis/{rbac}/v1/{plural}")
        };
        match list_all(cluster, &path).await {
            Ok(items) => ev.rbac_objects.extend(
                items
                    .into_iter()
                    .map(|i| typed(i, &format!("{rbac}/v1"), kind)),
            ),
            Err(e) => fail(
                &mut ev,
                &format!("rbac/{plural}"),
                ApiCall::new("list", rbac, plural)
                    .namespace(namespaced.then_some(ns))
                    .explain(e),
            ),
        }
    }
    let naming: Vec<Json> = ev
        .rbac_objects
        .iter()
        .filter(|o| {
            o["subjects"].as_array().into_iter().flatten().any(|s| {
                (s["kind"] == "ServiceAccount" && s["name"] == sa.as_str() && s["namespace"] == ns)
                    || (s["kind"] == "Group"
                        && matches!(s["name"].as_str(), Some(g) if g == "system:serviceaccounts" || g == format!("system:serviceaccounts:{ns}") || g == "system:authenticated"))
            })
        })
        .cloned()
        .collect();
    ev.files.push(EvidenceFile::json(
        "rbac/bindings.json",
        &json!({"apiVersion": "v1", "kind": "List", "items": naming}),
        "rbac.authorization.k8s.io bindings naming the ServiceAccount",
    ));

    // The namespace's NetworkPolicies (the caller says which apply).
    let path = format!(
        "/apis/networking.k8s.io/v1/namespaces/{}/networkpolicies",
        encode(ns)
    );
    match list_all(cluster, &path).await {
        Ok(items) => {
            ev.network_policies = items
                .into_iter()
                .map(|i| typed(i, "networking.k8s.io/v1", "NetworkPolicy"))
                .collect();
        }
        Err(e) => fail(
            &mut ev,
            "network-policies.json",
            ApiCall::new("list", "networking.k8s.io", "networkpolicies")
                .namespace(Some(ns))
                .explain(e),
        ),
    }

    // Kubelet checkpoints, through the API server's node proxy.
    if options.checkpoint && !node.is_empty() {
        let mut results = Vec::new();
        for (container, role) in &containers {
            if *role != "app" {
                continue;
            }
            let path = format!(
                "/api/v1/nodes/{}/proxy/checkpoint/{}/{}/{}",
                encode(&node),
                encode(ns),
                encode(pod_name),
                encode(container)
            );
            match request_json(cluster, http::Method::POST, &path, None, None).await {
                Ok(answer) => results.push(json!({"container": container, "archives": answer["items"], "note": "the archive is on the node, under the kubelet's checkpoint directory"})),
                Err(e) => {
                    let e = ApiCall::new("create", "", "nodes").subresource("proxy").name(&node).explain(e);
                    let message = if e.kind == ErrorKind::NotFound {
                        "the kubelet checkpoint API is not available (ContainerCheckpoint feature gate, and a container runtime that supports it)".to_string()
                    } else {
                        e.message
                    };
                    ev.errors.push((format!("checkpoint/{container}"), message.clone()));
                    results.push(json!({"container": container, "error": message}));
                }
            }
        }
        ev.files.push(EvidenceFile::json(
            "checkpoints.json",
            &json!(results),
            "kubelet checkpoint API",
        ));
    }
    ev.files.push(EvidenceFile::json(
        "logs/index.json",
        &json!(log_index),
        "palisade",
    ));
    ev
}

/// Every page of a list.
async fn list_all(cluster: &Cluster, path: &str) -> Result<Vec<Json>, kube::Error> {
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut p = format!("{path}?limit=500");
        if let Some(t) = &token {
            p.push_str(&format!("&continue={}", encode(t)));
        }
        let page = get_json(&cluster.client, &p).await?;
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        token = page["metadata"]["continue"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(items);
        }
    }
}

/// What to release.
#[derive(Debug, Clone, Default)]
pub struct ReleaseOptions {
    pub namespace: String,
    pub pod: String,
    /// Also uncordon the node, if Palisade cordoned it for this pod.
    pub uncordon: bool,
    pub dry_run: bool,
    pub force: bool,
}

/// Undoes a quarantine: the pod's labels first (which lifts the isolation
/// and puts it back in its Services in one write), then the policy.
pub async fn release(
    cluster: &Cluster,
    options: &ReleaseOptions,
    sink: &mut dyn StepSink,
) -> Result<Vec<Step>, ClusterError> {
    let ns = options.namespace.as_str();
    let mut steps = Vec::new();
    let pod = match get_json(&cluster.client, &pod_path(ns, &options.pod)).await {
        Ok(p) => Some(p),
        Err(e) => {
            let e = ApiCall::new("get", "", "pods")
                .namespace(Some(ns))
                .name(&options.pod)
                .explain(e);
            if e.kind != ErrorKind::NotFound {
                return Err(e);
            }
            steps.push(emit(
                sink,
                "unlabel-pod",
                StepStatus::Skipped,
                format!("pod {ns}/{} no longer exists", options.pod),
                None,
            ));
            None
        }
    };
    if let Some(pod) = &pod {
        if let Some(why) = protected(ns, pod) {
            if !options.force {
                return Err(ClusterError {
                    kind: ErrorKind::Other,
                    code: None,
                    message: format!(
                        "refusing to change pod {ns}/{}: {why}; use --force if you mean it",
                        options.pod
                    ),
                });
            }
        }
    }
    let uid = pod
        .as_ref()
        .and_then(|p| p["metadata"]["uid"].as_str())
        .unwrap_or_default()
        .to_string();
    let annotations = pod
        .as_ref()
        .map(|p| p["metadata"]["annotations"].clone())
        .unwrap_or(Json::Null);
    let name = annotations[POLICY_ANNOTATION]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| policy_name(&options.pod, &uid));
    if let Some(pod) = &pod {
        let quarantined = pod["metadata"]["labels"].get(QUARANTINE_LABEL).is_some()
            || QUARANTINE_ANNOTATIONS
                .iter()
                .any(|a| annotations.get(*a).is_some());
        if quarantined {
            let removed: BTreeMap<String, String> = annotations[REMOVED_LABELS_ANNOTATION]
                .as_str()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default();
            let mut labels = serde_json::Map::new();
            labels.insert(QUARANTINE_LABEL.into(), Json::Null);
            for (k, v) in &removed {
                labels.insert(k.clone(), json!(v));
            }
            let mut notes = serde_json::Map::new();
            for a in QUARANTINE_ANNOTATIONS {
                notes.insert(a.into(), Json::Null);
            }
            let patch = json!({"metadata": {"labels": labels, "annotations": notes}});
            let restored = if removed.is_empty() {
                String::new()
            } else {
                format!(
                    "; restored label(s) {}",
                    removed
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let path = pod_path(ns, &options.pod);
            let step = PatchStep {
                step: "unlabel-pod",
                call: ApiCall::new("patch", "", "pods")
                    .namespace(Some(ns))
                    .name(&options.pod),
                path: &path,
                content_type: "application/merge-patch+json",
                patch,
                planned: format!("would remove the quarantine label and annotations from pod {ns}/{}{restored}", options.pod),
                done: format!("removed the quarantine label and annotations from pod {ns}/{}{restored}: no longer isolated", options.pod),
                on_failure: "",
            };
            patch_step(cluster, sink, &mut steps, options.dry_run, step).await?;
        } else {
            steps.push(emit(
                sink,
                "unlabel-pod",
                StepStatus::Unchanged,
                format!("pod {ns}/{} is not quarantined", options.pod),
                None,
            ));
        }
    }
    // The policy.
    let path = policy_path(ns, &name);
    if options.dry_run {
        steps.push(emit(
            sink,
            "network-policy",
            StepStatus::Planned,
            format!("would delete NetworkPolicy {ns}/{name}"),
            None,
        ));
    } else {
        let call = ApiCall::new("delete", "networking.k8s.io", "networkpolicies")
            .namespace(Some(ns))
            .name(&name);
        match request_json(cluster, http::Method::DELETE, &path, None, None).await {
            Ok(_) => steps.push(emit(
                sink,
                "network-policy",
                StepStatus::Done,
                format!("deleted NetworkPolicy {ns}/{name}"),
                None,
            )),
            Err(e) => {
                let e = call.explain(e);
                if e.kind == ErrorKind::NotFound {
                    steps.push(emit(
                        sink,
                        "network-policy",
                        StepStatus::Unchanged,
                        format!("NetworkPolicy {ns}/{name} does not exist"),
                        None,
                    ));
                } else {
                    steps.push(emit(
                        sink,
                        "network-policy",
                        StepStatus::Failed,
                        e.message.clone(),
                        None,
                    ));
                    return Err(e);
                }
            }
        }
    }
    // The node.
    if options.uncordon {
        let node = pod
            .as_ref()
            .and_then(|p| p["spec"]["nodeName"].as_str())
            .unwrap_or_default()
            .to_string();
        if node.is_empty() {
            steps.push(emit(
                sink,
                "uncordon",
                StepStatus::Skipped,
                "the pod's node is unknown".into(),
                None,
            ));
        } else {
            let node_path = format!("/api/v1/nodes/{}", encode(&node));
            let current = get_json(&cluster.client, &node_path)
                .await
                .map_err(|e| ApiCall::new("get", "", "nodes").name(&node).explain(e))?;
            let ours = current["metadata"]["annotations"][CORDON_ANNOTATION].as_str()
                == Some(format!("{ns}/{}", options.pod).as_str());
            if !ours {
                steps.push(emit(
                    sink,
                    "uncordon",
                    StepStatus::Skipped,
                    format!("node {node} was not cordoned by Palisade for this pod: left as it is"),
                    None,
                ));
            } else {
                let patch = json!({"spec": {"unschedulable": null}, "metadata": {"annotations": {CORDON_ANNOTATION: null, CASE_ANNOTATION: null}}});
                let step = PatchStep {
                    step: "uncordon",
                    call: ApiCall::new("patch", "", "nodes").name(&node),
                    path: &node_path,
                    content_type: "application/merge-patch+json",
                    patch,
                    planned: format!("would uncordon node {node}"),
                    done: format!("uncordoned node {node}"),
                    on_failure: "",
                };
                patch_step(cluster, sink, &mut steps, options.dry_run, step).await?;
            }
        }
    }
    Ok(steps)
}
