pub mod detect;
pub mod install;
pub mod netpol;
mod output;
pub mod policy;
pub mod rbac;
pub mod rules;
pub mod scan;
pub mod serve;
