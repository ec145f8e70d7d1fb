//! Probes and lifecycle.

pub mod cronjob_starting_deadline;
pub mod identical_probes;
pub mod job_restart_policy;
pub mod job_ttl;
pub mod liveness_probe;
pub mod naked_pod;
pub mod probe_port;
pub mod readiness_probe;
pub(crate) mod util;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[
    &liveness_probe::RULE,
    &readiness_probe::RULE,
    &identical_probes::RULE,
    &probe_port::RULE,
    &job_restart_policy::RULE,
    &cronjob_starting_deadline::RULE,
    &job_ttl::RULE,
    &naked_pod::RULE,
];
