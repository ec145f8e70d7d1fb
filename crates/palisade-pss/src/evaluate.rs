//! The exact admission layer: which checks run for a policy, their results,
//! and the aggregated admission message.

use palisade_model::{Node, PodTemplate, RuleMeta};

use crate::check::{Check, CheckFn, CheckResult, Violation};
use crate::checks::CHECKS;
use crate::policy::{Level, Policy};

/// The newest minor version with a policy change; later versions behave as it.
pub fn newest_policy_minor() -> u32 {
    CHECKS
        .iter()
        .filter_map(|c| c.versions.last())
        .map(|v| v.since)
        .max()
        .unwrap_or(0)
}

/// A check that runs for a given policy.
#[derive(Debug, Clone, Copy)]
pub struct ActiveCheck {
    /// Upstream check id.
    pub id: &'static str,
    pub level: Level,
    /// Baseline checks this one replaces at this version.
    pub overrides: &'static [&'static str],
    pub rule: &'static RuleMeta,
}

/// The checks that run for `policy`, in evaluation order: at `restricted`,
/// every baseline check not replaced by a restricted one, then the
/// restricted checks. `privileged` runs nothing.
pub fn active_checks(policy: Policy) -> Vec<ActiveCheck> {
    resolve(policy)
        .into_iter()
        .map(|(check, _, overrides)| ActiveCheck {
            id: check.id,
            level: check.level,
            overrides,
            rule: check.rule,
        })
        .collect()
}

type Resolved = (&'static Check, CheckFn, &'static [&'static str]);

fn resolve(policy: Policy) -> Vec<Resolved> {
    let minor = policy.version.effective_minor(newest_policy_minor());
    let in_force = |level: Level| {
        CHECKS
            .iter()
            .filter(move |c| c.level == level)
            .filter_map(move |c| c.at(minor).map(|v| (*c, v.run, v.overrides)))
    };
    match policy.level {
        Level::Privileged => Vec::new(),
        Level::Baseline => in_force(Level::Baseline).collect(),
        Level::Restricted => {
            let restricted: Vec<Resolved> = in_force(Level::Restricted).collect();
            let overridden = |id: &str| restricted.iter().any(|(_, _, o)| o.contains(&id));
            let mut checks: Vec<Resolved> = in_force(Level::Baseline)
                .filter(|(c, _, _)| !overridden(c.id))
                .collect();
            checks.extend(restricted.iter().copied());
            checks
        }
    }
}

/// A pod given as loose metadata and spec, as an admission request carries it.
fn loose_pod<'a>(metadata: Option<&'a Node>, spec: &'a Node) -> PodTemplate<'a> {
    PodTemplate {
        metadata,
        spec,
        spec_path: "spec",
        is_template: false,
    }
}

/// Evaluates a pod's metadata and spec against `policy`, exactly as Pod
/// Security Admission does: one result per check that runs, allowed ones included.
///
/// The spec is read as the API server hands it to admission, after defaulting:
/// a volume with no source counts as an `emptyDir`.
pub fn evaluate(policy: Policy, metadata: Option<&Node>, spec: &Node) -> Vec<CheckResult> {
    let pod = loose_pod(metadata, spec);
    resolve(policy)
        .into_iter()
        .map(|(check, run, _)| {
            let outcome = run(&pod);
            let (allowed, forbidden_reason, forbidden_detail) = match outcome.forbidden {
                Some((reason, detail)) => (false, reason, detail),
                None => (true, String::new(), String::new()),
            };
            CheckResult {
                check: check.id,
                allowed,
                forbidden_reason,
                forbidden_detail,
            }
        })
        .collect()
}

/// The offending fields of a pod template for `policy`, with the rule of each.
pub(crate) fn violations<'a>(
    policy: Policy,
    pod: &PodTemplate<'a>,
) -> Vec<(&'static RuleMeta, Violation<'a>)> {
    resolve(policy)
        .into_iter()
        .flat_map(|(check, run, _)| {
            run(pod)
                .violations
                .into_iter()
                .map(move |v| (check.rule, v))
        })
        .collect()
}

/// Reason used when a failed check gave none, as upstream does.
const UNKNOWN_FORBIDDEN_REASON: &str = "unknown forbidden reason";

/// The failed checks of an evaluation, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aggregate {
    pub allowed: bool,
    pub forbidden_reasons: Vec<String>,
    /// Parallel to `forbidden_reasons`; may hold empty strings.
    pub forbidden_details: Vec<String>,
}

impl Aggregate {
    /// The reasons joined: `privileged, host namespaces`.
    pub fn forbidden_reason(&self) -> String {
        self.forbidden_reasons.join(", ")
    }

    /// `reason (detail), reason (detail)`, the body of admission messages.
    pub fn forbidden_detail(&self) -> String {
        self.forbidden_reasons
            .iter()
            .zip(&self.forbidden_details)
            .map(|(reason, detail)| crate::check::reason_detail(reason, detail))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Collects the failed checks of `results`.
pub fn aggregate(results: &[CheckResult]) -> Aggregate {
    let failed: Vec<&CheckResult> = results.iter().filter(|r| !r.allowed).collect();
    Aggregate {
        allowed: failed.is_empty(),
        forbidden_reasons: failed
            .iter()
            .map(|r| {
                if r.forbidden_reason.is_empty() {
                    UNKNOWN_FORBIDDEN_REASON.to_string()
                } else {
                    r.forbidden_reason.clone()
                }
            })
            .collect(),
        forbidden_details: failed.iter().map(|r| r.forbidden_detail.clone()).collect(),
    }
}

/// The error an enforcing admission returns:
/// `violates PodSecurity "restricted:latest": privileged (container "x" must not set securityContext.privileged=true)`.
/// `None` when the pod is allowed.
pub fn admission_error(policy: Policy, results: &[CheckResult]) -> Option<String> {
    admission_message("violates", policy, results)
}

/// The warning (warn mode) or audit annotation (audit mode) text:
/// `would violate PodSecurity "baseline:v1.30": ...`. `None` when allowed.
pub fn admission_warning(policy: Policy, results: &[CheckResult]) -> Option<String> {
    admission_message("would violate", policy, results)
}

fn admission_message(verb: &str, policy: Policy, results: &[CheckResult]) -> Option<String> {
    let aggregate = aggregate(results);
    // The policy is printed with Go's %q; its text never needs escaping.
    (!aggregate.allowed).then(|| {
        format!(
            "{verb} PodSecurity \"{policy}\": {}",
            aggregate.forbidden_detail()
        )
    })
}
