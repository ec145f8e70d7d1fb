pub mod cluster_input;
pub mod detect;
pub mod incident;
// Printed by `palisade install monitoring` once install.rs hooks it in.
pub mod install;
#[allow(dead_code)]
pub mod monitoring;
pub mod netpol;
mod output;
pub mod policy;
pub mod pss;
pub mod rbac;
pub mod report;
pub mod rules;
pub mod scan;
pub mod serve;
pub mod snapshot;
