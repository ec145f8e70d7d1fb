//! Quarantine: the NetworkPolicy that cuts all ingress and egress of some
//! pods (one workload, or the pods a label selector picks), optionally
//! keeping ingress from one namespace (for forensics).
//!
//! The policy selects the pods by labels and isolates both directions with
//! no rule (or one ingress rule from the forensics namespace). NetworkPolicies
//! are additive, so it denies only what no other policy allows: other
//! NetworkPolicies selecting the pods, and AdminNetworkPolicies that allow,
//! still apply. [`verify`] evaluates the input with the policy added and
//! reports every connection of the selected pods that stays allowed, and
//! [`Isolation::still_allowing`] names the NetworkPolicies responsible.
//! Pods with `hostNetwork: true` are not subject to NetworkPolicies at all.
//!
//! With [`IsolateOptions::admin`], an AdminNetworkPolicy is emitted too: its
//! Deny rules take precedence over every NetworkPolicy, so the traffic other
//! NetworkPolicies allow is cut as well (an AdminNetworkPolicy cannot name
//! external sources on ingress: those stay governed by NetworkPolicies).

use std::fmt::Write as _;

use serde::Serialize;

use crate::connlist::{Analyzer, ConnList, Workload};
use crate::eval::{PodCtx, R};
use crate::model::NS_NAME_LABEL;
use crate::selector::{validate_label_key, validate_label_value, Expression, LabelSelector};

/// Which pods to isolate.
#[derive(Debug, Clone)]
pub enum Target {
    /// A pod or workload name (a Deployment, StatefulSet, … or a bare Pod).
    Pod(String),
    /// A label selector in kubectl syntax (`app=web,tier in (a,b),!canary`).
    Selector(String),
}

/// Options of [`isolate`].
#[derive(Debug, Clone)]
pub struct IsolateOptions {
    pub namespace: String,
    pub target: Target,
    /// Keep ingress from every pod of this namespace.
    pub allow_from_namespace: Option<String>,
    /// The policy's name (default `palisade-isolate-…`).
    pub name: Option<String>,
    /// Also emit an AdminNetworkPolicy denying the pods' traffic, which
    /// overrides the NetworkPolicies that allow some of it.
    pub admin: bool,
}

/// The AdminNetworkPolicy of an isolation (`--admin`).
#[derive(Debug, Clone, Serialize)]
pub struct AdminIsolation {
    pub name: String,
    /// Lower is stronger: the strongest priority no input policy uses.
    pub priority: i64,
}

/// The isolating policy and what it selects.
#[derive(Debug, Clone, Serialize)]
pub struct Isolation {
    pub name: String,
    pub namespace: String,
    #[serde(skip)]
    pub selector: LabelSelector,
    /// The workloads asked for (`ns/name[Kind]`).
    pub targets: Vec<String>,
    /// Every workload of the input the policy selects.
    pub selected: Vec<String>,
    /// Selected workloads that were not asked for (labels could not tell them apart).
    pub also_selected: Vec<String>,
    pub allow_from_namespace: Option<String>,
    /// NetworkPolicies that select the pods and allow some traffic: the
    /// isolating NetworkPolicy does not override them (the admin policy does).
    pub still_allowing: Vec<String>,
    /// The AdminNetworkPolicy emitted with `admin`.
    pub admin: Option<AdminIsolation>,
    pub warnings: Vec<String>,
}

fn split_terms(s: &str) -> R<Vec<String>> {
    let mut terms = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return Err(format!("unbalanced parentheses in selector {s:?}"));
        }
        if c == ',' && depth == 0 {
            terms.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    if depth != 0 {
        return Err(format!("unbalanced parentheses in selector {s:?}"));
    }
    terms.push(cur);
    Ok(terms)
}

fn set_values(rest: &str, whole: &str) -> R<Vec<String>> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("expected (v1,v2,...) in {whole:?}"))?;
    let values: Vec<String> = inner.split(',').map(|v| v.trim().to_string()).collect();
    Ok(values)
}

/// Parses a label selector in kubectl syntax into a `LabelSelector`:
/// `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`.
pub fn parse_selector(s: &str) -> R<LabelSelector> {
    let mut sel = LabelSelector::default();
    if s.trim().is_empty() {
        return Err("empty selector: it would select every pod of the namespace".to_string());
    }
    for term in split_terms(s)? {
        let t = term.trim();
        if t.is_empty() {
            return Err(format!("empty term in selector {s:?}"));
        }
        let (key, expr) = if let Some(k) = t.strip_prefix('!') {
            (k.trim().to_string(), Some(("DoesNotExist", Vec::new())))
        } else if let Some((k, v)) = t.split_once("!=") {
            (
                k.trim().to_string(),
                Some(("NotIn", vec![v.trim().to_string()])),
            )
        } else if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
            let (k, v) = (k.trim(), v.trim());
            validate_label_key(k)?;
            validate_label_value(k, v)?;
            if sel
                .match_labels
                .insert(k.to_string(), v.to_string())
                .is_some()
            {
                return Err(format!("label {k:?} given twice in selector {s:?}"));
            }
            continue;
        } else if let Some((k, rest)) = t.split_once(" notin ") {
            (k.trim().to_string(), Some(("NotIn", set_values(rest, t)?)))
        } else if let Some((k, rest)) = t.split_once(" in ") {
            (k.trim().to_string(), Some(("In", set_values(rest, t)?)))
        } else {
            (t.to_string(), Some(("Exists", Vec::new())))
        };
        validate_label_key(&key)?;
        if let Some((op, values)) = expr {
            for v in &values {
                validate_label_value(&key, v)?;
            }
            sel.match_expressions.push(Expression {
                key,
                operator: op.to_string(),
                values,
            });
        }
    }
    // Validate as Kubernetes would (e.g. `in ()`).
    sel.requirements()?;
    Ok(sel)
}

fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let mut out = out.trim_matches('-').to_string();
    out.truncate(253 - "palisade-isolate-".len());
    out.trim_end_matches('-').to_string()
}

/// The pod selector that selects `target` among `others` (same namespace):
/// its labels, plus `DoesNotExist` for keys that only look-alikes carry.
fn selector_for(target: &Workload, others: &[&Workload]) -> LabelSelector {
    let mut sel = LabelSelector {
        match_labels: target.labels.clone(),
        match_expressions: Vec::new(),
    };
    let mut absent: std::collections::BTreeSet<String> = Default::default();
    for o in others {
        let lookalike = target
            .labels
            .iter()
            .all(|(k, v)| o.labels.get(k) == Some(v));
        if lookalike {
            if let Some(k) = o.labels.keys().find(|k| !target.labels.contains_key(*k)) {
                absent.insert(k.clone());
            }
        }
    }
    for key in absent {
        sel.match_expressions.push(Expression {
            key,
            operator: "DoesNotExist".to_string(),
            values: Vec::new(),
        });
    }
    sel
}

fn pod_ctx<'a>(analyzer: &'a Analyzer, w: &'a Workload) -> PodCtx<'a> {
    PodCtx {
        namespace: &w.namespace,
        labels: &w.labels,
        ports: &w.ports,
        ns_labels: analyzer.engine.namespaces.get(&w.namespace),
        rep: None,
        fake: false,
        selected_by: None,
    }
}

/// Builds the isolating policy for `opts.target` in `opts.namespace`.
pub fn isolate(analyzer: &Analyzer, opts: &IsolateOptions) -> R<Isolation> {
    let ns = opts.namespace.as_str();
    let in_ns: Vec<&Workload> = analyzer
        .workloads
        .iter()
        .filter(|w| !w.fake && w.namespace == ns)
        .collect();
    let mut warnings = Vec::new();
    let (selector, targets, default_name) = match &opts.target {
        Target::Pod(name) => {
            // A workload name, or the name of one of its pods.
            let pod_owner: Option<(String, String)> = analyzer
                .resources
                .pods
                .iter()
                .find(|p| p.namespace == ns && p.name == *name)
                .map(|p| match &p.owner {
                    Some(o) if !o.name.is_empty() => (o.name.clone(), o.kind.clone()),
                    _ => (p.name.clone(), "Pod".to_string()),
                });
            let matches: Vec<&Workload> = in_ns
                .iter()
                .copied()
                .filter(|w| {
                    w.name == *name
                        || pod_owner
                            .as_ref()
                            .is_some_and(|(n, k)| w.name == *n && (k.is_empty() || w.kind == *k))
                })
                .collect();
            let target = match matches.as_slice() {
                [one] => *one,
                [] => return Err(format!("no pod or workload {name:?} in namespace {ns}")),
                many => {
                    return Err(format!(
                        "{name:?} is ambiguous in namespace {ns}: {}",
                        many.iter()
                            .map(|w| w.display())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            };
            if target.labels.is_empty() {
                warnings.push(format!(
                    "{} has no labels: the policy selects it with an empty podSelector plus DoesNotExist terms; label the pod (e.g. quarantine=true) and isolate by -l for an exact selection",
                    target.display()
                ));
            }
            if target.kind != "Pod" {
                warnings.push(format!(
                    "{} is a {}: its pods share their labels, so the policy isolates all of its pods",
                    target.display(),
                    target.kind
                ));
            }
            let others: Vec<&Workload> = in_ns
                .iter()
                .copied()
                .filter(|w| !std::ptr::eq(*w, target))
                .collect();
            (
                selector_for(target, &others),
                vec![target.display()],
                sanitize(&target.name),
            )
        }
        Target::Selector(s) => {
            let sel = parse_selector(s)?;
            let mut targets = Vec::new();
            for w in &in_ns {
                if sel.matches(&w.labels)? {
                    targets.push(w.display());
                }
            }
            if targets.is_empty() {
                warnings.push(format!(
                    "selector {s:?} matches no workload of namespace {ns} in the input"
                ));
            }
            (sel, targets, sanitize(s))
        }
    };
    if selector.is_empty() {
        return Err(format!(
            "the pods cannot be told apart by labels in namespace {ns}: the policy would select every pod of the namespace"
        ));
    }
    let mut selected = Vec::new();
    let mut still_allowing = std::collections::BTreeSet::new();
    for w in &in_ns {
        if !selector.matches(&w.labels)? {
            continue;
        }
        selected.push(w.display());
        let pod = pod_ctx(analyzer, w);
        for ingress in [true, false] {
            for i in analyzer.engine.netpols_selecting(&pod, ingress)? {
                if let Some(np) = analyzer.engine.netpols.get(i) {
                    let rules = if ingress { &np.ingress } else { &np.egress };
                    if !rules.is_empty() {
                        still_allowing.insert(format!(
                            "NetworkPolicy {} ({})",
                            np.full_name(),
                            if ingress { "ingress" } else { "egress" }
                        ));
                    }
                }
            }
        }
    }
    let also_selected: Vec<String> = selected
        .iter()
        .filter(|s| !targets.contains(s))
        .cloned()
        .collect();
    if !also_selected.is_empty() {
        warnings.push(format!(
            "the policy also selects {} (same labels)",
            also_selected.join(", ")
        ));
    }
    let has_admin = !analyzer.resources.anps.is_empty()
        || analyzer.resources.banp.is_some()
        || !analyzer.resources.baseline_cnps.is_empty();
    if has_admin {
        warnings.push(
            "the input has admin network policies: an Allow (or Pass) there is not overridden by a NetworkPolicy; check the verification"
                .to_string(),
        );
    }
    for p in &still_allowing {
        if opts.admin {
            warnings.push(format!(
                "{p} also selects the pods and allows traffic: the AdminNetworkPolicy's Deny rules override it (except ingress from IP blocks, which an AdminNetworkPolicy cannot deny)"
            ));
        } else {
            warnings.push(format!(
                "{p} also selects the pods and allows traffic: NetworkPolicies add up, so it stays allowed unless that policy is changed"
            ));
        }
    }
    if !still_allowing.is_empty() && !opts.admin {
        warnings.push(format!(
            "the isolation is incomplete: {} other NetworkPolicy rule set(s) select the pods and allow traffic, and a NetworkPolicy cannot deny what another allows; use --admin to add an AdminNetworkPolicy with Deny rules, which takes precedence over NetworkPolicies",
            still_allowing.len()
        ));
    }
    let name = opts
        .name
        .clone()
        .unwrap_or_else(|| format!("palisade-isolate-{default_name}"));
    let admin = if opts.admin {
        // The strongest priority (lowest number) no input admin policy uses:
        // two AdminNetworkPolicies of one priority are ambiguous.
        let used: std::collections::BTreeSet<i64> =
            analyzer.resources.anps.iter().map(|a| a.priority).collect();
        let priority = (crate::eval::MIN_ANP_PRIORITY..=crate::eval::MAX_ANP_PRIORITY)
            .find(|p| !used.contains(p))
            .ok_or_else(|| "every AdminNetworkPolicy priority is in use".to_string())?;
        if let Some(stronger) = used.iter().find(|p| **p < priority) {
            warnings.push(format!(
                "input AdminNetworkPolicies have stronger priorities (from {stronger}) than the isolating one ({priority}): their Allow rules still apply; check the verification"
            ));
        }
        if ns == "kube-system" || ns.starts_with("openshift-") {
            warnings.push(format!(
                "isolating pods of {ns} with an AdminNetworkPolicy can cut cluster components"
            ));
        }
        Some(AdminIsolation {
            name: name.clone(),
            priority,
        })
    } else {
        None
    };
    Ok(Isolation {
        name,
        namespace: ns.to_string(),
        selector,
        targets,
        selected,
        also_selected,
        allow_from_namespace: opts.allow_from_namespace.clone(),
        still_allowing: still_allowing.into_iter().collect(),
        admin,
        warnings,
    })
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

fn selector_json(sel: &LabelSelector) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    if !sel.match_labels.is_empty() {
        m.insert(
            "matchLabels".to_string(),
            serde_json::to_value(&sel.match_labels).unwrap_or_default(),
        );
    }
    if !sel.match_expressions.is_empty() {
        let exprs: Vec<serde_json::Value> = sel
            .match_expressions
            .iter()
            .map(|e| {
                let mut x = serde_json::json!({"key": e.key, "operator": e.operator});
                if !e.values.is_empty() {
                    x["values"] = serde_json::json!(e.values);
                }
                x
            })
            .collect();
        m.insert("matchExpressions".to_string(), serde_json::json!(exprs));
    }
    serde_json::Value::Object(m)
}

/// The AdminNetworkPolicy of an isolation: its subject is the pods, with
/// (forensics) an Allow from one namespace, then Deny of all ingress from
/// the cluster and all egress.
fn admin_json(iso: &Isolation, admin: &AdminIsolation) -> serde_json::Value {
    let mut ingress = Vec::new();
    if let Some(f) = &iso.allow_from_namespace {
        ingress.push(serde_json::json!({
            "name": "allow-forensics",
            "action": "Allow",
            "from": [{"namespaces": {"matchLabels": {NS_NAME_LABEL: f}}}],
        }));
    }
    ingress.push(serde_json::json!({
        "name": "deny-all-ingress",
        "action": "Deny",
        "from": [{"namespaces": {}}],
    }));
    serde_json::json!({
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {
            "name": admin.name,
            "labels": {"app.kubernetes.io/managed-by": "palisade"},
        },
        "spec": {
            "priority": admin.priority,
            "subject": {"pods": {
                "namespaceSelector": {"matchLabels": {NS_NAME_LABEL: iso.namespace}},
                "podSelector": selector_json(&iso.selector),
            }},
            "ingress": ingress,
            "egress": [{
                "name": "deny-all-egress",
                "action": "Deny",
                "to": [{"namespaces": {}}, {"networks": ["0.0.0.0/0", "::/0"]}],
            }],
        },
    })
}

/// The policies as Kubernetes objects (JSON): the NetworkPolicy, or with
/// `--admin` a List of it and the AdminNetworkPolicy.
pub fn to_json(iso: &Isolation) -> serde_json::Value {
    let np = np_json(iso);
    match &iso.admin {
        None => np,
        Some(admin) => serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "items": [np, admin_json(iso, admin)],
        }),
    }
}

/// The isolating NetworkPolicy (JSON).
fn np_json(iso: &Isolation) -> serde_json::Value {
    let ingress: Vec<serde_json::Value> = match &iso.allow_from_namespace {
        Some(ns) => vec![serde_json::json!({
            "from": [{"namespaceSelector": {"matchLabels": {NS_NAME_LABEL: ns}}}]
        })],
        None => Vec::new(),
    };
    let mut spec = serde_json::json!({
        "podSelector": selector_json(&iso.selector),
        "policyTypes": ["Ingress", "Egress"],
    });
    if !ingress.is_empty() {
        spec["ingress"] = serde_json::json!(ingress);
    }
    serde_json::json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": iso.name,
            "namespace": iso.namespace,
            "labels": {"app.kubernetes.io/managed-by": "palisade"},
        },
        "spec": spec,
    })
}

/// The policy as YAML, with comments naming what it selects.
pub fn to_yaml(iso: &Isolation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# isolates {}", iso.targets.join(", "));
    if !iso.also_selected.is_empty() {
        let _ = writeln!(out, "# also selects {}", iso.also_selected.join(", "));
    }
    for w in &iso.warnings {
        let _ = writeln!(out, "# warning: {w}");
    }
    let _ = writeln!(out, "apiVersion: networking.k8s.io/v1");
    let _ = writeln!(out, "kind: NetworkPolicy");
    let _ = writeln!(out, "metadata:");
    let _ = writeln!(out, "  name: {}", q(&iso.name));
    let _ = writeln!(out, "  namespace: {}", q(&iso.namespace));
    let _ = writeln!(
        out,
        "  labels: {{\"app.kubernetes.io/managed-by\": palisade}}"
    );
    let _ = writeln!(out, "spec:");
    let _ = writeln!(out, "  podSelector:");
    if !iso.selector.match_labels.is_empty() {
        let _ = writeln!(out, "    matchLabels:");
        for (k, v) in &iso.selector.match_labels {
            let _ = writeln!(out, "      {}: {}", q(k), q(v));
        }
    }
    if !iso.selector.match_expressions.is_empty() {
        let _ = writeln!(out, "    matchExpressions:");
        for e in &iso.selector.match_expressions {
            let values: Vec<String> = e.values.iter().map(|v| q(v)).collect();
            if values.is_empty() {
                let _ = writeln!(
                    out,
                    "    - {{key: {}, operator: {}}}",
                    q(&e.key),
                    e.operator
                );
            } else {
                let _ = writeln!(
                    out,
                    "    - {{key: {}, operator: {}, values: [{}]}}",
                    q(&e.key),
                    e.operator,
                    values.join(", ")
                );
            }
        }
    }
    let _ = writeln!(out, "  policyTypes: [Ingress, Egress]");
    match &iso.allow_from_namespace {
        Some(ns) => {
            let _ = writeln!(out, "  ingress:");
            let _ = writeln!(out, "  - from:");
            let _ = writeln!(out, "    - namespaceSelector:");
            let _ = writeln!(
                out,
                "        matchLabels: {{{}: {}}}",
                q(NS_NAME_LABEL),
                q(ns)
            );
        }
        None => {
            let _ = writeln!(out, "  # no ingress or egress rules: nothing is allowed");
        }
    }
    if let Some(admin) = &iso.admin {
        write_admin_yaml(&mut out, iso, admin);
    }
    out
}

fn write_selector_yaml(out: &mut String, sel: &LabelSelector, indent: &str) {
    if sel.is_empty() {
        let _ = writeln!(out, "{indent}{{}}");
        return;
    }
    if !sel.match_labels.is_empty() {
        let _ = writeln!(out, "{indent}matchLabels:");
        for (k, v) in &sel.match_labels {
            let _ = writeln!(out, "{indent}  {}: {}", q(k), q(v));
        }
    }
    if !sel.match_expressions.is_empty() {
        let _ = writeln!(out, "{indent}matchExpressions:");
        for e in &sel.match_expressions {
            let values: Vec<String> = e.values.iter().map(|v| q(v)).collect();
            if values.is_empty() {
                let _ = writeln!(
                    out,
                    "{indent}- {{key: {}, operator: {}}}",
                    q(&e.key),
                    e.operator
                );
            } else {
                let _ = writeln!(
                    out,
                    "{indent}- {{key: {}, operator: {}, values: [{}]}}",
                    q(&e.key),
                    e.operator,
                    values.join(", ")
                );
            }
        }
    }
}

/// The AdminNetworkPolicy document (see [`admin_json`]).
fn write_admin_yaml(out: &mut String, iso: &Isolation, admin: &AdminIsolation) {
    let _ = writeln!(out, "---");
    let _ = writeln!(
        out,
        "# Deny rules of an AdminNetworkPolicy take precedence over every NetworkPolicy"
    );
    let _ = writeln!(out, "apiVersion: policy.networking.k8s.io/v1alpha1");
    let _ = writeln!(out, "kind: AdminNetworkPolicy");
    let _ = writeln!(out, "metadata:");
    let _ = writeln!(out, "  name: {}", q(&admin.name));
    let _ = writeln!(
        out,
        "  labels: {{\"app.kubernetes.io/managed-by\": palisade}}"
    );
    let _ = writeln!(out, "spec:");
    let _ = writeln!(out, "  priority: {}", admin.priority);
    let _ = writeln!(out, "  subject:");
    let _ = writeln!(out, "    pods:");
    let _ = writeln!(out, "      namespaceSelector:");
    let _ = writeln!(
        out,
        "        matchLabels: {{{}: {}}}",
        q(NS_NAME_LABEL),
        q(&iso.namespace)
    );
    let _ = writeln!(out, "      podSelector:");
    write_selector_yaml(out, &iso.selector, "        ");
    let _ = writeln!(out, "  ingress:");
    if let Some(f) = &iso.allow_from_namespace {
        let _ = writeln!(out, "  - name: allow-forensics");
        let _ = writeln!(out, "    action: Allow");
        let _ = writeln!(out, "    from:");
        let _ = writeln!(
            out,
            "    - namespaces: {{matchLabels: {{{}: {}}}}}",
            q(NS_NAME_LABEL),
            q(f)
        );
    }
    let _ = writeln!(out, "  - name: deny-all-ingress");
    let _ = writeln!(out, "    action: Deny");
    let _ = writeln!(out, "    from: [{{namespaces: {{}}}}]");
    let _ = writeln!(out, "  egress:");
    let _ = writeln!(out, "  - name: deny-all-egress");
    let _ = writeln!(out, "    action: Deny");
    let _ = writeln!(out, "    to:");
    let _ = writeln!(out, "    - namespaces: {{}}");
    let _ = writeln!(out, "    - networks: [\"0.0.0.0/0\", \"::/0\"]");
}

/// The connections of `objects` with the isolating policy added.
pub fn list_with_isolation(objects: &[palisade_model::Object], iso: &Isolation) -> R<ConnList> {
    let loaded = palisade_model::load_text("isolate.yaml", to_yaml(iso), &Default::default());
    if let Some(e) = loaded.errors.first() {
        return Err(format!("the isolating policy does not parse: {e:?}"));
    }
    let mut all: Vec<palisade_model::Object> = objects.to_vec();
    all.extend(loaded.objects);
    let res = crate::read_resources(&all);
    if let Some(w) = res.warnings.iter().find(|w| w.contains("isolate.yaml")) {
        return Err(format!("the isolating policy is unreadable: {w}"));
    }
    Analyzer::new(res, false)?.list(&Default::default())
}

/// Connections of the selected workloads that stay allowed with the policy
/// (ingress from the forensics namespace excepted), as `src => dst : conns`.
pub fn verify(objects: &[palisade_model::Object], iso: &Isolation) -> R<Vec<String>> {
    let list = list_with_isolation(objects, iso)?;
    let mut left = Vec::new();
    for c in &list.connections {
        if c.conns.is_empty() {
            continue;
        }
        let src_sel = !c.src.is_ip && iso.selected.contains(&c.src.display);
        let dst_sel = !c.dst.is_ip && iso.selected.contains(&c.dst.display);
        if !src_sel && !dst_sel {
            continue;
        }
        let forensic = !src_sel
            && !c.src.is_ip
            && iso
                .allow_from_namespace
                .as_deref()
                .is_some_and(|ns| c.src.namespace == ns);
        if forensic {
            continue;
        }
        left.push(format!(
            "{} => {} : {}",
            c.src.display, c.dst.display, c.conns
        ));
    }
    Ok(left)
}
