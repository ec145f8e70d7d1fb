//! Who `--as` and `--as-group` make you: the identity the API server's
//! impersonation filter builds.
//!
//! - `--as system:serviceaccount:NS:NAME` (a valid namespace and name) is that
//!   ServiceAccount; without `--as-group` it gets `system:serviceaccounts` and
//!   `system:serviceaccounts:NS`.
//! - `--as-group` values are the groups (for a ServiceAccount, instead of its own).
//! - Any user but `system:anonymous` also gets `system:authenticated`, unless
//!   `system:authenticated` or `system:unauthenticated` is already a group;
//!   `system:anonymous` gets `system:unauthenticated`.

use palisade_model::names::{is_dns1123_label, is_dns1123_subdomain};
use palisade_model::UserInfo;

pub const AUTHENTICATED: &str = "system:authenticated";
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
pub const ANONYMOUS: &str = "system:anonymous";
pub const SERVICE_ACCOUNTS: &str = "system:serviceaccounts";
const SA_PREFIX: &str = "system:serviceaccount:";

/// Builds the identity of `--as USER [--as-group GROUP]...`.
pub fn impersonate(username: &str, groups: &[String]) -> UserInfo {
    let mut all: Vec<String> = groups.to_vec();
    if groups.is_empty() {
        if let Some((namespace, _)) = split_service_account(username) {
            all = vec![
                SERVICE_ACCOUNTS.to_string(),
                format!("{SERVICE_ACCOUNTS}:{namespace}"),
            ];
        }
    }
    if username != ANONYMOUS {
        if !all
            .iter()
            .any(|g| g == AUTHENTICATED || g == UNAUTHENTICATED)
        {
            all.push(AUTHENTICATED.to_string());
        }
    } else if !all.iter().any(|g| g == UNAUTHENTICATED) {
        all.push(UNAUTHENTICATED.to_string());
    }
    UserInfo {
        username: username.to_string(),
        groups: all,
    }
}

/// `system:serviceaccount:NS:NAME` → (NS, NAME), when NS is a valid namespace
/// name (DNS label) and NAME a valid ServiceAccount name (DNS subdomain), as
/// upstream `SplitUsername` requires. Otherwise the username is a plain user.
pub fn split_service_account(username: &str) -> Option<(&str, &str)> {
    let rest = username.strip_prefix(SA_PREFIX)?;
    let mut parts = rest.split(':');
    let namespace = parts.next()?;
    let name = parts.next()?;
    if parts.next().is_some() || !is_dns1123_label(namespace) || !is_dns1123_subdomain(name) {
        return None;
    }
    Some((namespace, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_gets_its_groups() {
        let u = impersonate("system:serviceaccount:default:default", &[]);
        assert_eq!(
            u.groups,
            vec![
                "system:serviceaccounts",
                "system:serviceaccounts:default",
                "system:authenticated"
            ]
        );
        assert_eq!(u, UserInfo::service_account("default", "default"));
    }

    #[test]
    fn explicit_groups_replace_service_account_groups() {
        let u = impersonate("system:serviceaccount:ns:sa", &["devs".to_string()]);
        assert_eq!(u.groups, vec!["devs", "system:authenticated"]);
    }

    #[test]
    fn authenticated_is_added_once_and_not_to_unauthenticated() {
        assert_eq!(
            impersonate("alice", &[]).groups,
            vec!["system:authenticated"]
        );
        let g = vec!["system:unauthenticated".to_string()];
        assert_eq!(impersonate("alice", &g).groups, g);
        let g = vec!["system:authenticated".to_string()];
        assert_eq!(impersonate("alice", &g).groups, g);
    }

    #[test]
    fn anonymous_is_unauthenticated() {
        assert_eq!(
            impersonate("system:anonymous", &[]).groups,
            vec!["system:unauthenticated"]
        );
    }

    #[test]
    fn malformed_service_account_names_are_plain_users() {
        assert_eq!(
            split_service_account("system:serviceaccount:ns:sa"),
            Some(("ns", "sa"))
        );
        assert_eq!(split_service_account("system:serviceaccount:ns"), None);
        assert_eq!(split_service_account("system:serviceaccount:ns:sa:x"), None);
        assert_eq!(split_service_account("system:serviceaccount:NS:sa"), None);
        assert_eq!(split_service_account("system:serviceaccount::sa"), None);
        assert_eq!(
            impersonate("system:serviceaccount:NS:sa", &[]).groups,
            vec!["system:authenticated"]
        );
    }
}
