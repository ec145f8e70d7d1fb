//! ## What it finds
//!
//! A container configured in a way that lets git-sync run a program other
//! than git, the command-injection path Akamai presented at DEF CON 32 (2024),
//! which Checkov's CKV_K8S_159 looks for:
//!
//! - `GITSYNC_GIT` / `GIT_SYNC_GIT` (or the `--git` flag) naming a binary
//!   other than the standard `git`, `/usr/bin/git`, `/bin/git` or
//!   `/usr/local/bin/git`; or taking its value from a ConfigMap or Secret
//!   (`valueFrom`), so that whoever can edit that object picks the binary;
//! - `GITSYNC_GIT_CONFIG` / `GIT_SYNC_GIT_CONFIG` (or `--git-config`) setting
//!   a git option that executes commands: `core.sshCommand`, `core.gitProxy`,
//!   `core.fsmonitor`, `core.hooksPath`, `core.askPass`, a `credential.helper`
//!   starting with `!`, `protocol.ext.allow`, or a `filter.*` driver.
//!
//! Unlike CKV_K8S_159, which fails any container that merely sets
//! `GITSYNC_GIT`, a standard git path is not reported. git-sync's
//! `--exechook-command` is a documented feature for running a command after
//! each sync and is not reported.
//!
//! ## Why it matters
//!
//! git-sync runs with the pod's identity and volumes. A `--git` pointing
//! into the synced repository, or a git option that runs a command, turns a
//! push to the repository (or an edit of the ConfigMap) into code execution
//! in the cluster, and usually in the pod that serves the synced content.
//!
//! ## How to fix it
//!
//! Leave `GITSYNC_GIT` unset (git-sync finds git on its PATH), set literal
//! values in the manifest rather than from ConfigMaps others can edit, and do
//! not pass command-running git options through `--git-config`.
//!
//! ## Example
//!
//! ```yaml
//! - name: git-sync
//!   image: registry.k8s.io/git-sync/git-sync:v4.2.4
//!   env:
//!   - {name: GITSYNC_REPO, value: "https://github.com/example/site"}
//!   - {name: GITSYNC_ROOT, value: /git}
//!   # no GITSYNC_GIT, no command-running GITSYNC_GIT_CONFIG
//! ```

use palisade_model::{Control, Node, Object, RuleMeta, Severity};

use super::util::arguments;
use crate::rule::{each_container, rule_docs, ContainerCx, Cx, Kinds, Rule, Sink};

pub(crate) const RULE: Rule = Rule {
    meta: RuleMeta {
        id: "components/git-sync-injection",
        title: "git-sync should not be configured to run programs other than git",
        severity: Severity::Medium,
        category: "components",
        docs: rule_docs!(),
        help_uri: "https://www.akamai.com/blog/security-research/2024-august-kubernetes-gitsync-command-injection-defcon",
        controls: &[Control::mitre("T1059")],
    },
    kinds: Kinds::Workloads,
    optional: false,
    check,
};

const GIT_VARS: &[&str] = &["GITSYNC_GIT", "GIT_SYNC_GIT"];
const CONFIG_VARS: &[&str] = &["GITSYNC_GIT_CONFIG", "GIT_SYNC_GIT_CONFIG"];
const STANDARD_GIT: &[&str] = &["git", "/usr/bin/git", "/bin/git", "/usr/local/bin/git"];
const FIX: &str = "Leave GITSYNC_GIT unset or standard, set it literally, and do not pass command-running git options.";

/// The command-running git options in a git-sync `key:value,key:value` list.
fn dangerous_options(config: &str) -> Vec<String> {
    config
        .split(',')
        .filter_map(|pair| {
            let (key, value) = pair.split_once(':').unwrap_or((pair, ""));
            let key = key.trim().trim_matches('"').to_ascii_lowercase();
            let value = value.trim().trim_matches('"');
            let bad = matches!(
                key.as_str(),
                "core.sshcommand"
                    | "core.gitproxy"
                    | "core.fsmonitor"
                    | "core.hookspath"
                    | "core.askpass"
                    | "protocol.ext.allow"
            ) || (key == "credential.helper" && value.starts_with('!'))
                || (key.starts_with("filter.")
                    && [".smudge", ".clean", ".process"]
                        .iter()
                        .any(|s| key.ends_with(s)));
            bad.then_some(key)
        })
        .collect()
}

fn report_git(sink: &mut Sink<'_>, c: &ContainerCx<'_>, node: &Node, field: String, value: &str) {
    if !STANDARD_GIT.contains(&value) {
        sink.report(
            node,
            field,
            format!(
                "{} makes git-sync run {value:?} instead of git",
                c.describe()
            ),
            FIX,
        );
    }
}

fn report_config(
    sink: &mut Sink<'_>,
    c: &ContainerCx<'_>,
    node: &Node,
    field: String,
    value: &str,
) {
    let options = dangerous_options(value);
    if !options.is_empty() {
        sink.report(
            node,
            field,
            format!(
                "{} passes git options that run commands to git-sync: {}",
                c.describe(),
                options.join(", ")
            ),
            FIX,
        );
    }
}

fn check(_: &Cx<'_>, object: &Object, sink: &mut Sink<'_>) {
    each_container(object, |c| {
        for (i, env) in c
            .node()
            .get("env")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let Some(name) = env.get("name").and_then(Node::as_str) else {
                continue;
            };
            let is_git = GIT_VARS.contains(&name);
            if !is_git && !CONFIG_VARS.contains(&name) {
                continue;
            }
            if let Some(from) = env.get_set("valueFrom") {
                if is_git {
                    sink.report(
                        from,
                        c.field(&format!("env[{i}].valueFrom")),
                        format!("{} reads {name} (the program git-sync runs as git) from another object, which whoever edits it controls", c.describe()),
                        FIX,
                    );
                }
                continue;
            }
            let Some(node) = env.get("value") else {
                continue;
            };
            let Some(value) = node.as_str() else { continue };
            let field = c.field(&format!("env[{i}].value"));
            if is_git {
                report_git(sink, c, node, field, value);
            } else {
                report_config(sink, c, node, field, value);
            }
        }
        let args = arguments(c);
        for (k, (node, field, arg)) in args.iter().enumerate() {
            let next = args.get(k + 1);
            if let Some(value) = arg.strip_prefix("--git=") {
                report_git(sink, c, node, field.clone(), value);
            } else if *arg == "--git" {
                if let Some((n, f, v)) = next {
                    report_git(sink, c, n, f.clone(), v);
                }
            } else if let Some(value) = arg.strip_prefix("--git-config=") {
                report_config(sink, c, node, field.clone(), value);
            } else if *arg == "--git-config" {
                if let Some((n, f, v)) = next {
                    report_config(sink, c, n, f.clone(), v);
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{dangerous_options, RULE};
    use crate::testing::{positions, run};

    fn pod(container: &str) -> String {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: git-sync\n    image: registry.k8s.io/git-sync/git-sync:v4.2.4\n{container}")
    }

    #[test]
    fn parses_git_config_lists() {
        assert_eq!(
            dangerous_options("core.sshCommand:ssh -i /x,http.sslVerify:false"),
            ["core.sshcommand"]
        );
        assert_eq!(
            dangerous_options("credential.helper:!/tmp/x"),
            ["credential.helper"]
        );
        assert!(dangerous_options("credential.helper:store,safe.directory:*").is_empty());
    }

    #[test]
    fn flags_non_git_binaries_and_command_options() {
        let findings = run(
            &RULE,
            &pod("    env:\n    - {name: GITSYNC_GIT, value: /git/repo/run.sh}\n    - {name: GIT_SYNC_GIT, valueFrom: {configMapKeyRef: {name: c, key: git}}}\n    - {name: GITSYNC_GIT_CONFIG, value: 'core.hooksPath:/git/hooks'}\n    args: [--git, /tmp/evil, '--git-config=core.fsmonitor:/x']\n"),
        );
        assert_eq!(
            positions(&findings),
            [(9, 34), (10, 39), (11, 41), (12, 19), (12, 30)]
        );
        assert_eq!(
            findings[3].location.field.as_deref(),
            Some("spec.containers[0].args[1]")
        );
    }

    #[test]
    fn passes_standard_git() {
        let findings = run(
            &RULE,
            &pod("    env:\n    - {name: GITSYNC_GIT, value: /usr/bin/git}\n    - {name: GITSYNC_GIT_CONFIG, value: 'safe.directory:*'}\n    args: [--git=git, --exechook-command=/bin/reload]\n"),
        );
        assert!(findings.is_empty());
    }
}
