//! One folder per category, one file per check.

pub mod components;
pub mod image;
pub mod meta;
pub mod network;
pub mod pod;
pub mod policy;
pub mod probes;
pub mod rbac;
pub mod reliability;
pub mod resources;
pub mod sa;
pub mod secrets;
