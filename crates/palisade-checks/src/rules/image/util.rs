//! Image references, read as container runtimes read them.

/// The parts of an image reference (`registry/repository:tag@digest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ImageRef<'a> {
    /// The registry host as written (`ghcr.io`, `localhost:5000`); `None` when implicit.
    pub registry: Option<&'a str>,
    /// The repository path without registry, tag or digest (`nginx`, `org/app`).
    pub repository: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// Docker Hub's other names.
const DOCKER_HUB: &[&str] = &[
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

impl<'a> ImageRef<'a> {
    /// The registry host, lower case, with Docker Hub's aliases as `docker.io`.
    pub(crate) fn host(&self) -> String {
        match self.registry {
            None => "docker.io".to_string(),
            Some(r) => canonical_host(r),
        }
    }

    /// The fully qualified name as containerd resolves it, lower case:
    /// `docker.io/library/nginx:1.25`, `ghcr.io/org/app@sha256:...`.
    pub(crate) fn canonical(&self) -> String {
        let host = self.host();
        let mut name = if host == "docker.io" && !self.repository.contains('/') {
            format!("{host}/library/{}", self.repository)
        } else {
            format!("{host}/{}", self.repository)
        };
        if let Some(tag) = self.tag {
            name.push(':');
            name.push_str(tag);
        }
        if let Some(digest) = self.digest {
            name.push('@');
            name.push_str(digest);
        }
        name.to_ascii_lowercase()
    }
}

/// A registry host in lower case, with Docker Hub's aliases as `docker.io`.
pub(crate) fn canonical_host(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    if DOCKER_HUB.contains(&host.as_str()) {
        "docker.io".to_string()
    } else {
        host
    }
}

/// Parses an image reference; `None` when it is empty or not a literal
/// (unrendered templates such as `{{ .Values.image }}` or `${IMAGE}`).
pub(crate) fn parse(image: &str) -> Option<ImageRef<'_>> {
    let image = image.trim();
    if image.is_empty()
        || image.contains(char::is_whitespace)
        || image.contains("{{")
        || image.contains("${")
        || image.contains("$(")
    {
        return None;
    }
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    let (registry, rest) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match rest[last_slash..].split_once(':') {
        Some((_, tag)) => (&rest[..rest.len() - tag.len() - 1], Some(tag)),
        None => (rest, None),
    };
    if repository.is_empty() {
        return None;
    }
    Some(ImageRef {
        registry,
        repository,
        tag,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let r = parse("nginx").unwrap();
        assert_eq!(
            (r.registry, r.repository, r.tag, r.digest),
            (None, "nginx", None, None)
        );
        assert_eq!(r.canonical(), "docker.io/library/nginx");
        let r = parse("localhost:5000/team/app:v2@sha256:abc").unwrap();
        assert_eq!(
            (r.registry, r.repository, r.tag, r.digest),
            (
                Some("localhost:5000"),
                "team/app",
                Some("v2"),
                Some("sha256:abc")
            )
        );
        let r = parse("bitnami/redis:7.2").unwrap();
        assert_eq!(r.canonical(), "docker.io/bitnami/redis:7.2");
        assert_eq!(
            parse("Index.Docker.io/library/nginx:1").unwrap().host(),
            "docker.io"
        );
        assert_eq!(parse("{{ .Values.image }}"), None);
        assert_eq!(parse(""), None);
    }
}
