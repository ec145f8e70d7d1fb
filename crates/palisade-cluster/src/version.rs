//! The API server's version (`GET /version`), which analyses that depend on
//! the release (RBAC: from 1.35 `get` alone no longer opens `pods/exec`)
//! take when no version is given.

use serde_json::Value as Json;

use crate::error::{ApiCall, ClusterError, ErrorKind};

/// What `GET /version` says, as the server spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVersion {
    /// `v1.34.2-gke.1200`: the one field every distribution fills the same way
    /// (`minor` is `34+` on some), so the one analyses read.
    pub git_version: String,
    pub major: String,
    pub minor: String,
    /// `linux/amd64`.
    pub platform: String,
}

/// Reads the server's version. A server that serves no `/version` (404) or
/// whose answer has no usable `gitVersion` is an error of kind `NotFound` / `Other`.
pub async fn server_version(client: &kube::Client) -> Result<ServerVersion, ClusterError> {
    let call = ApiCall::new("get", "", "/version");
    let info = crate::snapshot::get_json(client, "/version")
        .await
        .map_err(|e| call.explain(e))?;
    parse(&info).ok_or_else(|| ClusterError {
        kind: ErrorKind::Other,
        code: None,
        message: format!(
            "cannot {}: the answer has no gitVersion ({})",
            call.describe(),
            truncate(&info.to_string(), 200)
        ),
    })
}

/// The fields of a `version.Info` object; `None` without a non-empty `gitVersion`.
fn parse(info: &Json) -> Option<ServerVersion> {
    let field = |name: &str| info[name].as_str().unwrap_or_default().to_string();
    // A version is one token (it goes into the snapshot's header comment).
    let git_version = field("gitVersion");
    if git_version.is_empty()
        || git_version
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    Some(ServerVersion {
        git_version,
        major: field("major"),
        minor: field("minor"),
        platform: field("platform"),
    })
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_git_version_and_refuses_an_answer_without_it() {
        let info = json!({"major": "1", "minor": "34+", "gitVersion": "v1.34.2-gke.1200",
            "gitCommit": "abc", "platform": "linux/amd64"});
        let version = parse(&info).expect("parsed");
        assert_eq!(version.git_version, "v1.34.2-gke.1200");
        assert_eq!(version.minor, "34+");
        assert_eq!(version.platform, "linux/amd64");
        assert_eq!(parse(&json!({"major": "1", "minor": "34"})), None);
        assert_eq!(parse(&json!({"gitVersion": " "})), None);
        assert_eq!(
            parse(&json!({"gitVersion": "v1.34.2\n# server version v9.9"})),
            None
        );
        assert_eq!(parse(&json!("v1.34.2")), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_the_servers_version_and_explains_failures() {
        use crate::snapshot::{self, NoProgress, SnapshotOptions};
        use crate::testing::FakeApiServer;

        let server = FakeApiServer::start();
        server.state().git_version = Some("v1.34.2-gke.1200".into());
        let client = server.client();
        let version = server_version(&client).await.expect("version");
        assert_eq!(version.git_version, "v1.34.2-gke.1200");
        assert_eq!(
            (version.major.as_str(), version.minor.as_str()),
            ("1", "34")
        );
        let cluster = crate::Cluster::from_client(client.clone(), &server.url());
        assert_eq!(cluster.server_version().await.expect("version"), version);

        // A snapshot reads it only when asked, and records it.
        let only = Some(vec!["Namespace".to_string()]);
        let options = SnapshotOptions {
            only: only.clone(),
            ..SnapshotOptions::default()
        };
        server.state().requests.clear();
        let snap = snapshot::take(&client, &options, &NoProgress)
            .await
            .expect("snapshot");
        assert_eq!(snap.server_version, None);
        assert!(!server.state().requests.iter().any(|r| r.path == "/version"));
        let options = SnapshotOptions {
            only,
            server_version: true,
            ..SnapshotOptions::default()
        };
        let snap = snapshot::take(&client, &options, &NoProgress)
            .await
            .expect("snapshot");
        assert_eq!(snap.server_version.as_ref(), Some(&version));
        assert!(snap.server_version_error.is_none());
        assert_eq!(
            snapshot::recorded_server_version(&snap.to_yaml("test")),
            Some("v1.34.2-gke.1200")
        );

        // Denied (the non-resource URL): the missing permission is named, and
        // the snapshot is still taken, without a version.
        server.state().deny("get", "/version", None);
        let e = server_version(&client).await.expect_err("denied");
        assert_eq!(e.kind, ErrorKind::Forbidden);
        assert!(
            e.message.contains("needs `get` on `/version`"),
            "{}",
            e.message
        );
        let snap = snapshot::take(&client, &options, &NoProgress)
            .await
            .expect("snapshot");
        assert_eq!(snap.server_version, None);
        assert_eq!(
            snap.server_version_error.as_ref().map(|e| e.kind),
            Some(ErrorKind::Forbidden)
        );
        assert!(snap.problems.is_empty(), "{:?}", snap.problems);
        assert_eq!(
            snapshot::recorded_server_version(&snap.to_yaml("test")),
            None
        );

        // Not served.
        server.state().denials.clear();
        server.state().git_version = None;
        let e = server_version(&client).await.expect_err("404");
        assert_eq!(e.kind, ErrorKind::NotFound);

        // Rejected credentials end the snapshot, as for any other call.
        server.state().unauthorized = true;
        let e = snapshot::take(&client, &options, &NoProgress)
            .await
            .expect_err("401");
        assert_eq!(e.kind, ErrorKind::Unauthorized);
    }
}
