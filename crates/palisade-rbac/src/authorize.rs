//! The RBAC authorizer: may this user do this? And which bindings say so?
//!
//! Evaluation order and scope are those of the upstream rule resolver
//! (`VisitRulesFor`): first every ClusterRoleBinding, then — only when the
//! request has a namespace — the RoleBindings of that namespace. So a
//! RoleBinding never grants a non-resource URL or a cluster-wide request, even
//! when it binds a ClusterRole that names one. RBAC never denies: without an
//! allowing rule the answer is "no opinion".

use palisade_model::{AccessRequest, Authorizer, AuthzDecision, UserInfo};
use serde::Serialize;

use crate::model::{BindingId, BindingKind, Rbac, RoleId};

/// One way a request is allowed: this binding's subject, through this role's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Grant {
    pub binding: BindingId,
    /// 0-based index of the matching subject in the binding.
    pub subject: usize,
    pub role: RoleId,
    /// 0-based index of the rule in the role's (aggregated) rules.
    pub rule: usize,
}

/// The answer of [`Rbac::can_i`]: allowed or not, with every grant that allows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Decision {
    pub allowed: bool,
    /// Every allowing (binding, rule), in the authorizer's visiting order; the
    /// first is the one the API server's reason would name.
    pub grants: Vec<Grant>,
    /// Bindings that apply to the user but whose role is missing, as upstream
    /// reports them when nothing allows the request.
    pub errors: Vec<String>,
}

impl Rbac {
    /// The bindings that apply to `user` for a request in `namespace` (`""`:
    /// cluster-wide), in upstream visiting order, each with the index of the
    /// first subject that applies.
    pub(crate) fn applicable_bindings(
        &self,
        user: &UserInfo,
        namespace: &str,
    ) -> Vec<(BindingId, usize)> {
        let mut candidates: Vec<BindingId> = Vec::new();
        if let Some(ids) = self.index.by_user.get(&user.username) {
            candidates.extend(ids);
        }
        for group in &user.groups {
            if let Some(ids) = self.index.by_group.get(group) {
                candidates.extend(ids);
            }
        }
        candidates.sort_unstable_by_key(|&id| {
            let b = &self.bindings[id];
            (b.kind != BindingKind::ClusterRoleBinding, id)
        });
        candidates.dedup();
        candidates
            .into_iter()
            .filter(|&id| {
                let b = &self.bindings[id];
                match b.kind {
                    BindingKind::ClusterRoleBinding => true,
                    BindingKind::RoleBinding => {
                        !namespace.is_empty() && b.namespace.as_deref() == Some(namespace)
                    }
                }
            })
            .filter_map(|id| {
                self.bindings[id]
                    .applies_to(&user.username, &user.groups)
                    .map(|subject| (id, subject))
            })
            .collect()
    }

    /// Whether `user` may make `request`, with every binding and rule that allows it.
    /// `user.groups` are taken as given; see [`crate::impersonate`] for the groups an
    /// authenticator adds.
    pub fn can_i(&self, user: &UserInfo, request: &AccessRequest) -> Decision {
        self.decide(user, request, false)
    }

    fn decide(&self, user: &UserInfo, request: &AccessRequest, first_only: bool) -> Decision {
        let namespace = match request {
            AccessRequest::Resource { namespace, .. } => namespace.as_str(),
            AccessRequest::NonResource { .. } => "",
        };
        let mut decision = Decision::default();
        for (binding_id, subject) in self.applicable_bindings(user, namespace) {
            let binding = &self.bindings[binding_id];
            let Some(role_id) = binding.role else {
                decision.errors.push(format!(
                    "{} of {} {:?} to {}: {} not found",
                    binding.describe(),
                    binding.role_ref.kind,
                    binding.role_ref.name,
                    binding.describe_subject(&binding.subjects[subject]),
                    binding.role_ref.kind.to_lowercase()
                ));
                continue;
            };
            for (i, rule) in self.roles[role_id].rules.iter().enumerate() {
                if rule.rule.allows(request) {
                    decision.grants.push(Grant {
                        binding: binding_id,
                        subject,
                        role: role_id,
                        rule: i,
                    });
                    if first_only {
                        decision.allowed = true;
                        return decision;
                    }
                    // One grant per binding: the first rule that allows, as
                    // the authorizer stops at it.
                    break;
                }
            }
        }
        decision.allowed = !decision.grants.is_empty();
        decision
    }

    /// The upstream reason text for a grant, plus where the binding and rule are:
    /// `RBAC: allowed by RoleBinding "b/ns" of Role "r" to User "u" (binding at
    /// f.yaml:20, rule #3 at f.yaml:14)`.
    pub fn grant_reason(&self, grant: &Grant) -> String {
        let Some(binding) = self.bindings.get(grant.binding) else {
            return String::new();
        };
        let subject = binding
            .subjects
            .get(grant.subject)
            .map(|s| binding.describe_subject(s))
            .unwrap_or_default();
        format!(
            "RBAC: allowed by {} of {} {:?} to {} (binding at {}, {})",
            binding.describe(),
            binding.role_ref.kind,
            binding.role_ref.name,
            subject,
            binding.location,
            self.describe_rule(grant.role, grant.rule)
        )
    }

    /// `rule #3 at f.yaml:14`, or for an aggregated rule
    /// `rule #3, from ClusterRole "x" rule #1 at f.yaml:14`. Rule numbers are 1-based.
    pub fn describe_rule(&self, role: RoleId, rule: usize) -> String {
        let Some(r) = self.roles.get(role).and_then(|r| r.rules.get(rule)) else {
            return format!("rule #{}", rule + 1);
        };
        match r
            .origin
            .and_then(|(origin, i)| self.roles.get(origin).map(|o| (o, i)))
        {
            Some((origin, i)) => format!(
                "rule #{}, aggregated from {} rule #{} at {}",
                rule + 1,
                origin.describe(),
                i + 1,
                r.location
            ),
            None => format!("rule #{} at {}", rule + 1, r.location),
        }
    }
}

impl Authorizer for Rbac {
    /// Exactly the upstream RBAC authorizer's decision; the reason of an
    /// allow names the first allowing binding in its visiting order.
    fn authorize(&self, user: &UserInfo, request: &AccessRequest) -> AuthzDecision {
        let decision = self.decide(user, request, true);
        match decision.grants.first() {
            Some(grant) => AuthzDecision::Allow {
                reason: self.grant_reason(grant),
            },
            None if decision.errors.is_empty() => AuthzDecision::NoOpinion {
                reason: String::new(),
            },
            // Upstream reports resolution errors as the reason of a
            // no-opinion, not as an evaluation error: RBAC rules only add, so
            // what was found still stands.
            None => AuthzDecision::NoOpinion {
                reason: format!("RBAC: [{}]", decision.errors.join(", ")),
            },
        }
    }
}
