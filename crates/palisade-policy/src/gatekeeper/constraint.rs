//! Constraints: parameters, `spec.match` and enforcement actions, with
//! Gatekeeper's matching semantics (`pkg/mutation/match`, `pkg/target`).

pub use palisade_model::selector::{LabelSelector, Requirement};
use palisade_model::{Node, Object};
use serde_json::Value as Json;

use super::Issue;

/// The API group of Constraints.
pub const CONSTRAINT_GROUP: &str = "constraints.gatekeeper.sh";

/// The enforcement point Palisade reports for (an offline audit, like gator).
pub const ENFORCEMENT_POINTS: &[&str] = &["audit.gatekeeper.sh", "gator.gatekeeper.sh"];

/// The enforcement point of Gatekeeper's validating webhook, which `palisade serve` is.
pub const WEBHOOK_ENFORCEMENT_POINT: &str = "validation.gatekeeper.sh";

/// What Gatekeeper does with a violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EnforcementAction {
    Deny,
    Warn,
    Dryrun,
}

impl EnforcementAction {
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "deny" => Some(EnforcementAction::Deny),
            "warn" => Some(EnforcementAction::Warn),
            "dryrun" => Some(EnforcementAction::Dryrun),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EnforcementAction::Deny => "deny",
            EnforcementAction::Warn => "warn",
            EnforcementAction::Dryrun => "dryrun",
        }
    }
}

/// `spec.enforcementAction` (and `scopedEnforcementActions` when it is `scoped`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enforcement {
    One(EnforcementAction),
    /// `scoped`: each action with the enforcement points it applies to
    /// (`*` for all). Empty point list means all points.
    Scoped(Vec<(EnforcementAction, Vec<String>)>),
}

impl Enforcement {
    /// The actions that apply at an offline audit (`audit.gatekeeper.sh` /
    /// `gator.gatekeeper.sh`). Empty when the constraint does not act there.
    pub fn offline_actions(&self) -> Vec<EnforcementAction> {
        self.actions_at(ENFORCEMENT_POINTS)
    }

    /// The actions that apply at any of `points` (an admission webhook is
    /// [`WEBHOOK_ENFORCEMENT_POINT`]). Empty when the constraint does not act there.
    pub fn actions_at(&self, enforcement_points: &[&str]) -> Vec<EnforcementAction> {
        match self {
            Enforcement::One(a) => vec![*a],
            Enforcement::Scoped(scoped) => {
                let mut out: Vec<EnforcementAction> = scoped
                    .iter()
                    .filter(|(_, points)| {
                        points.is_empty()
                            || points
                                .iter()
                                .any(|p| p == "*" || enforcement_points.contains(&p.as_str()))
                    })
                    .map(|(a, _)| *a)
                    .collect();
                out.sort();
                out.dedup();
                out
            }
        }
    }
}

/// Reads a Constraint's `match.labelSelector` / `match.namespaceSelector`;
/// an invalid selector is an issue at the offending field, as Gatekeeper
/// rejects the Constraint.
fn parse_selector(node: &Node, object: &Object, what: &str) -> Result<LabelSelector, Issue> {
    LabelSelector::from_node(node)
        .map_err(|e| Issue::at(object, e.span.unwrap_or(node.span), format!("{what}: {e}")))
}

/// One entry of `match.kinds`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KindSelector {
    pub api_groups: Vec<String>,
    pub kinds: Vec<String>,
}

/// `match.scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    #[default]
    All,
    Cluster,
    Namespaced,
}

/// `spec.match` of a Constraint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Match {
    pub kinds: Vec<KindSelector>,
    pub scope: Scope,
    pub namespaces: Vec<String>,
    pub excluded_namespaces: Vec<String>,
    pub label_selector: Option<LabelSelector>,
    pub namespace_selector: Option<LabelSelector>,
    pub name: Option<String>,
}

/// Gatekeeper's wildcard: `prefix*`, `*suffix`, `*infix*`, or an exact string.
pub fn wildcard_matches(pattern: &str, candidate: &str) -> bool {
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(rest), Some(_)) => {
            let infix = rest.strip_suffix('*').unwrap_or(rest);
            candidate.contains(infix)
        }
        (Some(suffix), None) => candidate.ends_with(suffix),
        (None, Some(prefix)) => candidate.starts_with(prefix),
        (None, None) => pattern == candidate,
    }
}

/// What the matcher needs to know about one object under review.
#[derive(Debug, Clone, Copy)]
pub struct MatchTarget<'a> {
    /// The object's API group (empty for core).
    pub group: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    /// `metadata.namespace`; empty for cluster-scoped objects.
    pub namespace: &'a str,
    pub labels: &'a [(String, String)],
    /// The labels of the object's Namespace, when the Namespace is known.
    pub namespace_labels: Option<&'a [(String, String)]>,
}

/// The outcome of matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchOutcome {
    Matches,
    NoMatch,
    /// Not matched because the answer needs the object's Namespace, which the
    /// input does not contain (Gatekeeper would look it up in the cluster).
    NamespaceUnknown,
}

impl Match {
    /// Gatekeeper's match: every criterion given must hold.
    pub fn matches(&self, t: &MatchTarget<'_>) -> MatchOutcome {
        let is_namespace = t.kind == "Namespace" && t.group.is_empty();
        // For a Namespace object, the namespace criteria apply to its own name.
        let ns_name = if is_namespace { t.name } else { t.namespace };
        let cluster_scoped = t.namespace.is_empty() && !is_namespace;

        // kinds: empty list or empty fields are wildcards.
        if !self.kinds.is_empty()
            && !self.kinds.iter().any(|k| {
                (k.kinds.is_empty() || k.kinds.iter().any(|x| x == "*" || x == t.kind))
                    && (k.api_groups.is_empty()
                        || k.api_groups.iter().any(|g| g == "*" || g == t.group))
            })
        {
            return MatchOutcome::NoMatch;
        }
        let namespaced = !t.namespace.is_empty();
        match self.scope {
            Scope::All => {}
            Scope::Cluster if namespaced => return MatchOutcome::NoMatch,
            Scope::Namespaced if !namespaced => return MatchOutcome::NoMatch,
            _ => {}
        }
        // Cluster-scoped objects (other than Namespaces) always pass the namespace criteria.
        if !cluster_scoped {
            if !self.namespaces.is_empty()
                && !self.namespaces.iter().any(|p| wildcard_matches(p, ns_name))
            {
                return MatchOutcome::NoMatch;
            }
            if self
                .excluded_namespaces
                .iter()
                .any(|p| wildcard_matches(p, ns_name))
            {
                return MatchOutcome::NoMatch;
            }
        }
        if let Some(sel) = &self.label_selector {
            if !sel.matches(t.labels) {
                return MatchOutcome::NoMatch;
            }
        }
        if let Some(name) = &self.name {
            if !wildcard_matches(name, t.name) {
                return MatchOutcome::NoMatch;
            }
        }
        if let Some(sel) = &self.namespace_selector {
            if is_namespace {
                if !sel.matches(t.labels) {
                    return MatchOutcome::NoMatch;
                }
            } else if !cluster_scoped {
                match t.namespace_labels {
                    Some(labels) => {
                        if !sel.matches(labels) {
                            return MatchOutcome::NoMatch;
                        }
                    }
                    None => return MatchOutcome::NamespaceUnknown,
                }
            }
        }
        MatchOutcome::Matches
    }
}

/// A Constraint: an instance of a template's kind.
#[derive(Debug, Clone)]
pub struct Constraint {
    /// The template's kind (`K8sRequiredLabels`).
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.parameters` (`null` when absent).
    pub parameters: Json,
    pub match_: Match,
    pub enforcement: Enforcement,
    /// The object the constraint was read from.
    pub object: Object,
}

/// Whether `object` is a Constraint (any kind in `constraints.gatekeeper.sh`).
pub fn is_constraint(object: &Object) -> bool {
    object.id.group() == CONSTRAINT_GROUP
}

fn strings(node: Option<&Node>) -> Vec<String> {
    node.map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect()
}

impl Constraint {
    pub fn from_object(object: &Object) -> Result<Constraint, Issue> {
        let root = &object.root;
        let spec = root.get_set("spec");
        let parameters = spec
            .and_then(|s| s.get_set("parameters"))
            .map_or(Json::Null, Node::to_json);
        let mut m = Match::default();
        if let Some(node) = spec.and_then(|s| s.get_set("match")) {
            for k in node.get("kinds").map(Node::items).unwrap_or(&[]) {
                m.kinds.push(KindSelector {
                    api_groups: strings(k.get("apiGroups")),
                    kinds: strings(k.get("kinds")),
                });
            }
            if let Some(scope) = node.get_set("scope") {
                m.scope = match scope.as_str() {
                    Some("*") => Scope::All,
                    Some("Cluster") => Scope::Cluster,
                    Some("Namespaced") => Scope::Namespaced,
                    _ => {
                        return Err(Issue::at(
                            object,
                            scope.span,
                            format!(
                                "match.scope must be \"*\", \"Cluster\" or \"Namespaced\", not {}",
                                scope.display_value()
                            ),
                        ))
                    }
                };
            }
            m.namespaces = strings(node.get("namespaces"));
            m.excluded_namespaces = strings(node.get("excludedNamespaces"));
            if let Some(sel) = node.get_set("labelSelector") {
                m.label_selector = Some(parse_selector(sel, object, "match.labelSelector")?);
            }
            if let Some(sel) = node.get_set("namespaceSelector") {
                m.namespace_selector =
                    Some(parse_selector(sel, object, "match.namespaceSelector")?);
            }
            m.name = node.get("name").and_then(Node::as_str).map(str::to_string);
        }
        let action_node = spec.and_then(|s| s.get_set("enforcementAction"));
        let action_text = action_node.and_then(Node::as_str).unwrap_or("deny");
        let enforcement = if action_text.eq_ignore_ascii_case("scoped") {
            let mut scoped = Vec::new();
            for entry in spec
                .and_then(|s| s.get("scopedEnforcementActions"))
                .map(Node::items)
                .unwrap_or(&[])
            {
                let text = entry.get("action").and_then(Node::as_str).unwrap_or("");
                let Some(action) = EnforcementAction::parse(text) else {
                    return Err(Issue::at(
                        object,
                        entry.span,
                        format!("unknown scoped enforcement action {text:?}"),
                    ));
                };
                let points = entry
                    .get("enforcementPoints")
                    .map(Node::items)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|p| p.get("name").and_then(Node::as_str).map(str::to_string))
                    .collect();
                scoped.push((action, points));
            }
            Enforcement::Scoped(scoped)
        } else {
            match EnforcementAction::parse(action_text) {
                Some(a) => Enforcement::One(a),
                None => {
                    let span = action_node.map_or(root.span, |n| n.span);
                    return Err(Issue::at(
                        object,
                        span,
                        format!("unknown enforcementAction {action_text:?} (expected deny, dryrun, warn or scoped)"),
                    ));
                }
            }
        };
        Ok(Constraint {
            kind: object.id.kind.clone(),
            name: object.id.name.clone(),
            parameters,
            match_: m,
            enforcement,
            object: object.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_matches("kube-*", "kube-system"));
        assert!(!wildcard_matches("kube-*", "default"));
        assert!(wildcard_matches("*-system", "kube-system"));
        assert!(wildcard_matches("*sys*", "kube-system"));
        assert!(wildcard_matches("default", "default"));
        assert!(!wildcard_matches("default", "default2"));
        assert!(wildcard_matches("*", "anything"));
    }

    fn target<'a>(kind: &'a str, ns: &'a str, labels: &'a [(String, String)]) -> MatchTarget<'a> {
        MatchTarget {
            group: "",
            kind,
            name: "n",
            namespace: ns,
            labels,
            namespace_labels: None,
        }
    }

    #[test]
    fn namespaces_and_scope() {
        let m = Match {
            namespaces: vec!["prod*".into()],
            ..Match::default()
        };
        assert_eq!(
            m.matches(&target("Pod", "production", &[])),
            MatchOutcome::Matches
        );
        assert_eq!(
            m.matches(&target("Pod", "default", &[])),
            MatchOutcome::NoMatch
        );
        // Cluster-scoped objects are not subject to namespace criteria.
        assert_eq!(
            m.matches(&target("ClusterRole", "", &[])),
            MatchOutcome::Matches
        );
        let m = Match {
            scope: Scope::Namespaced,
            ..Match::default()
        };
        assert_eq!(
            m.matches(&target("ClusterRole", "", &[])),
            MatchOutcome::NoMatch
        );
        let m = Match {
            namespace_selector: Some(LabelSelector::default()),
            ..Match::default()
        };
        assert_eq!(
            m.matches(&target("Pod", "x", &[])),
            MatchOutcome::NamespaceUnknown
        );
    }

    #[test]
    fn selectors() {
        use palisade_model::selector::Operator;
        let labels = vec![("app".to_string(), "web".to_string())];
        let sel = LabelSelector {
            match_labels: vec![("app".into(), "web".into())],
            match_expressions: vec![Requirement {
                key: "tier".into(),
                operator: Operator::DoesNotExist,
                values: vec![],
            }],
        };
        assert!(sel.matches(labels.as_slice()));
        let sel = LabelSelector {
            match_expressions: vec![Requirement {
                key: "app".into(),
                operator: Operator::NotIn,
                values: vec!["web".into()],
            }],
            ..LabelSelector::default()
        };
        assert!(!sel.matches(labels.as_slice()));
    }

    #[test]
    fn invalid_selectors_are_issues_at_the_requirement() {
        use palisade_model::{load_text, LoadOptions, Pos};
        let constraint = |selector: &str| {
            let text = format!("apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sX\nmetadata: {{name: c}}\nspec:\n  match:\n    labelSelector:\n{selector}");
            let loaded = load_text("c.yaml", text, &LoadOptions::default());
            Constraint::from_object(&loaded.objects[0])
        };
        let issue = constraint("      matchExpressions:\n      - {key: a, operator: Exists}\n      - {key: b, operator: In}\n")
            .expect_err("In without values");
        assert_eq!(issue.span.start, Pos::new(9, 9));
        assert!(
            issue.message.starts_with("match.labelSelector: "),
            "{}",
            issue.message
        );
        let issue = constraint("      matchExpressions: [{key: a, operator: Gt, values: ['1']}]\n")
            .expect_err("unknown operator");
        assert_eq!(issue.span.start, Pos::new(7, 45));
        let ok = constraint("      matchLabels: {app: web}\n      matchExpressions: [{key: tier, operator: NotIn, values: [db]}]\n")
            .expect("valid");
        let sel = ok.match_.label_selector.expect("selector");
        assert!(sel.matches([("app".to_string(), "web".to_string())].as_slice()));
    }
}
