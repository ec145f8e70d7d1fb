//! Secret hygiene: Secret objects, literal credentials, references to
//! ConfigMaps and Secrets, External Secrets Operator configuration.

pub mod credential_in_command;
pub mod credential_in_configmap;
pub mod duplicate_env_var;
pub(crate) mod eso;
pub mod eso_cluster_store_unrestricted;
pub mod eso_insecure_provider;
pub mod eso_refresh_interval;
pub mod eso_store_missing;
pub mod hardcoded_env_credential;
pub mod missing_env_reference;
pub mod missing_image_pull_secret;
pub mod missing_volume_reference;
pub(crate) mod refs;
pub mod secret_env_var;
pub mod secret_in_manifest;
pub(crate) mod util;

use crate::rule::Rule;

/// This category's checks, in the order `palisade rules` lists them.
pub(crate) static RULES: &[&Rule] = &[
    &hardcoded_env_credential::RULE,
    &credential_in_command::RULE,
    &credential_in_configmap::RULE,
    &secret_in_manifest::RULE,
    &secret_env_var::RULE,
    &eso_insecure_provider::RULE,
    &eso_cluster_store_unrestricted::RULE,
    &eso_store_missing::RULE,
    &eso_refresh_interval::RULE,
    &missing_env_reference::RULE,
    &missing_volume_reference::RULE,
    &missing_image_pull_secret::RULE,
    &duplicate_env_var::RULE,
];

#[cfg(test)]
mod seed_tests {
    use crate::testing::run;

    const SEED: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/seed-examples/06-external-secrets.yaml"
    );

    fn seed() -> Option<String> {
        match std::fs::read_to_string(SEED) {
            Ok(text) => Some(text),
            Err(e) => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "seed example {SEED} is required in CI: {e}"
                );
                eprintln!("skipping: seed example {SEED} not readable: {e}");
                None
            }
        }
    }

    /// The External Secrets seed (a Vault SecretStore over https and an
    /// ExternalSecret refreshing hourly from it) is a good configuration: no
    /// secrets or network rule, optional ones included, has anything to say.
    #[test]
    fn external_secrets_seed_is_clean() {
        let Some(text) = seed() else { return };
        for rule in super::RULES.iter().chain(crate::rules::network::RULES) {
            let findings = run(rule, &text);
            assert!(findings.is_empty(), "{}: {findings:?}", rule.meta.id);
        }
    }

    /// The same seed, broken the ways these checks know: plain HTTP to Vault,
    /// a misspelt store, refreshing disabled.
    #[test]
    fn external_secrets_seed_broken_is_caught() {
        let Some(text) = seed() else { return };
        assert!(text.contains("\"https://vault.company.com\""));
        let broken = text
            .replace(
                "\"https://vault.company.com\"",
                "\"http://vault.company.com\"",
            )
            .replace(
                "    name: vault-secret-store\n    kind: SecretStore",
                "    name: vault-store\n    kind: SecretStore",
            )
            .replace("refreshInterval: 1h", "refreshInterval: \"0\"");
        let ids: Vec<&str> = super::RULES
            .iter()
            .filter(|r| !run(r, &broken).is_empty())
            .map(|r| r.meta.id)
            .collect();
        assert_eq!(
            ids,
            [
                "secrets/eso-insecure-provider",
                "secrets/eso-store-missing",
                "secrets/eso-refresh-interval"
            ]
        );
    }
}
