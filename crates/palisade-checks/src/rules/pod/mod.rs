//! Pod security hardening beyond the Pod Security Standards.

pub mod container_runtime_socket;
pub mod credentials_host_path;
pub mod dangerous_capabilities;
pub mod host_aliases;
pub mod host_users;
pub mod low_user_id;
pub mod missing_security_context;
pub mod net_raw_not_dropped;
pub mod privilege_escalation_conflict;
pub mod privileged_port;
pub mod read_only_root_filesystem;
pub mod run_as_root_group;
pub mod runtime_class;
pub mod sensitive_host_path;
pub mod share_process_namespace;
pub mod ssh_port;
pub mod sudo_in_command;
pub mod sys_admin_capability;
pub(crate) mod util;
pub mod writable_host_path;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[
    &container_runtime_socket::RULE,
    &sensitive_host_path::RULE,
    &credentials_host_path::RULE,
    &writable_host_path::RULE,
    &sys_admin_capability::RULE,
    &dangerous_capabilities::RULE,
    &net_raw_not_dropped::RULE,
    &privilege_escalation_conflict::RULE,
    &run_as_root_group::RULE,
    &read_only_root_filesystem::RULE,
    &sudo_in_command::RULE,
    &ssh_port::RULE,
    &share_process_namespace::RULE,
    &host_aliases::RULE,
    &low_user_id::RULE,
    &host_users::RULE,
    &missing_security_context::RULE,
    &privileged_port::RULE,
    &runtime_class::RULE,
];
