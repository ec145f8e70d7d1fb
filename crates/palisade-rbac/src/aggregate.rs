//! ClusterRole aggregation, as the clusterrole-aggregation controller leaves it.
//!
//! For each ClusterRole with an `aggregationRule`, the controller lists, per
//! selector in order, the ClusterRoles whose labels match (sorted by name,
//! the role itself skipped) and collects their rules, skipping rules equal to
//! one already collected. The result *replaces* the role's rules. Because the
//! controller re-syncs on every ClusterRole change, chains (admin ← edit ←
//! view) settle at a fixed point; this runs the same sync until nothing changes.

use crate::model::{Role, RoleKind, Rule};

pub(crate) fn aggregate(roles: &mut [Role]) {
    let mut aggregated: Vec<usize> = (0..roles.len())
        .filter(|&i| roles[i].kind == RoleKind::ClusterRole && roles[i].aggregation.is_some())
        .collect();
    if aggregated.is_empty() {
        return;
    }
    aggregated.sort_by(|&a, &b| roles[a].name.cmp(&roles[b].name));
    let mut cluster_roles: Vec<usize> = (0..roles.len())
        .filter(|&i| roles[i].kind == RoleKind::ClusterRole)
        .collect();
    cluster_roles.sort_by(|&a, &b| roles[a].name.cmp(&roles[b].name));

    // Each pass can only add what the previous one settled, so a chain of n
    // aggregated roles settles within n + 1 passes; a cycle of roles selecting
    // each other settles too (rules are only copied). The bound guards against
    // anything else.
    for _ in 0..=aggregated.len() {
        let mut changed = false;
        for &target in &aggregated {
            let Some(selectors) = roles[target].aggregation.clone() else {
                continue;
            };
            let mut new_rules: Vec<Rule> = Vec::new();
            for selector in &selectors {
                for &source in &cluster_roles {
                    if source == target || !selector.matches(&roles[source].labels) {
                        continue;
                    }
                    for (i, rule) in roles[source].rules.iter().enumerate() {
                        if new_rules.iter().any(|r| r.rule == rule.rule) {
                            continue;
                        }
                        new_rules.push(Rule {
                            rule: rule.rule.clone(),
                            location: rule.location.clone(),
                            // Keep the rule's first declaration through chains.
                            origin: Some(rule.origin.unwrap_or((source, i))),
                            empty_resource_names: rule.empty_resource_names.clone(),
                        });
                    }
                }
            }
            let same = new_rules.len() == roles[target].rules.len()
                && new_rules
                    .iter()
                    .zip(&roles[target].rules)
                    .all(|(a, b)| a.rule == b.rule);
            if !same {
                roles[target].rules = new_rules;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}
