//! Image references and container arguments, for recognising components.

use palisade_model::Node;

use crate::rule::{strings, ContainerCx};

/// The repository path of an image reference, without registry, tag or
/// digest, split into segments: `gcr.io/kubernetes-helm/tiller:v2.16.1` →
/// `["kubernetes-helm", "tiller"]`.
pub(crate) fn path_segments(image: &str) -> Vec<&str> {
    let name = image.split('@').next().unwrap_or(image);
    let mut segments: Vec<&str> = name.split('/').collect();
    if segments.len() > 1 {
        let first = segments[0];
        if first.contains('.') || first.contains(':') || first == "localhost" {
            segments.remove(0);
        }
    }
    if let Some(last) = segments.last_mut() {
        *last = last.split(':').next().unwrap_or(last);
    }
    segments
}

/// The container's image node and text.
pub(crate) fn image<'a>(c: &ContainerCx<'a>) -> Option<(&'a Node, &'a str)> {
    let node = c.node().get("image")?;
    node.as_str().map(|s| (node, s))
}

/// Every string of the container's `command` and `args`, with its field path.
pub(crate) fn arguments<'a>(c: &ContainerCx<'a>) -> Vec<(&'a Node, String, &'a str)> {
    let mut out = Vec::new();
    for key in ["command", "args"] {
        for (i, (node, text)) in strings(c.node().get(key)).enumerate() {
            out.push((node, c.field(&format!("{key}[{i}]")), text));
        }
    }
    out
}

/// Whether a command-line argument turns the boolean flag `--name` on
/// (`--name`, `--name=true`, with Go's accepted spellings of true).
pub(crate) fn bool_flag_on(arg: &str, name: &str) -> bool {
    let Some(rest) = arg
        .strip_prefix("--")
        .or_else(|| arg.strip_prefix('-'))
        .and_then(|a| a.strip_prefix(name))
    else {
        return false;
    };
    match rest.strip_prefix('=') {
        None => rest.is_empty(),
        Some(value) => matches!(value, "1" | "t" | "T" | "true" | "TRUE" | "True"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_paths() {
        assert_eq!(
            path_segments("gcr.io/kubernetes-helm/tiller:v2.16.1"),
            ["kubernetes-helm", "tiller"]
        );
        assert_eq!(
            path_segments("kubernetesui/dashboard:v2.7.0"),
            ["kubernetesui", "dashboard"]
        );
        assert_eq!(path_segments("localhost:5000/tiller@sha256:00"), ["tiller"]);
        assert_eq!(path_segments("nginx"), ["nginx"]);
    }

    #[test]
    fn bool_flags() {
        assert!(bool_flag_on("--enable-skip-login", "enable-skip-login"));
        assert!(bool_flag_on(
            "--enable-skip-login=true",
            "enable-skip-login"
        ));
        assert!(!bool_flag_on(
            "--enable-skip-login=false",
            "enable-skip-login"
        ));
        assert!(!bool_flag_on("--enable-skip-login-x", "enable-skip-login"));
    }
}
