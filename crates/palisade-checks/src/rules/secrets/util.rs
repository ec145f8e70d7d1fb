//! Helpers shared by the secret-hygiene checks: credential-like names,
//! placeholders, known credential formats, and fingerprints that never show a
//! secret.
//!
//! Fingerprints: a value of 16 characters or more is shown as its first 4
//! characters and its length (`ghp_…, 40 chars`: for known formats these are
//! the format's public prefix); a shorter value only as its length, since 4
//! characters of an 8-character password is half of it.

use palisade_model::{Node, Object};

use crate::rule::{ContainerCx, Cx};

/// How sure a name is to hold a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameClass {
    /// `*_PASSWORD`, `*_TOKEN`, `*_SECRET`, `*_API_KEY`...: any literal value is a credential.
    Credential,
    /// `*_KEY` of another kind (`ENCRYPTION_KEY` is a credential, `SORT_KEY` is not):
    /// only a long, random-looking value counts.
    Key,
}

/// The words of an identifier: `dbPassword`, `DB_PASSWORD`, `db.password`,
/// `APIKey` all split into lowercase words.
pub(crate) fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !current.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push(std::mem::take(&mut current));
            }
        }
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Whether a name (env var, config key, flag) names a credential. The name
/// must END with the credential word: `DB_PASSWORD` does, `PASSWORD_FILE`,
/// `TOKEN_URL`, `SECRET_NAME` and `PASSWORD_MIN_LENGTH` do not.
pub(crate) fn classify_name(name: &str) -> Option<NameClass> {
    let w = words(name);
    if w.iter()
        .any(|x| matches!(x.as_str(), "public" | "publishable" | "pub"))
    {
        return None;
    }
    let last = w.last()?.as_str();
    let prev = if w.len() >= 2 {
        w[w.len() - 2].as_str()
    } else {
        ""
    };
    match last {
        "password" | "passwd" | "passphrase" | "secret" | "token" | "apikey" | "credential"
        | "credentials" | "creds" | "privatekey" | "secretkey" | "accesskey" | "accesstoken"
        | "authtoken" | "clientsecret" | "refreshtoken" => Some(NameClass::Credential),
        "pwd" | "pass" if w.len() > 1 => Some(NameClass::Credential),
        "key" => match prev {
            "api" | "access" | "private" | "secret" | "signing" | "encryption" | "master"
            | "hmac" | "auth" => Some(NameClass::Credential),
            _ => Some(NameClass::Key),
        },
        _ => None,
    }
}

/// Whether a credential name is password-like (any literal is a password,
/// even one that looks like an object name).
fn password_like(name: &str) -> bool {
    words(name).last().is_some_and(|l| {
        matches!(
            l.as_str(),
            "password" | "passwd" | "passphrase" | "pwd" | "pass"
        )
    })
}

/// Values that stand for a credential without being one: empty, masked,
/// template placeholders, references to a secret manager, switches.
/// Weak real passwords (`changeme`, `admin`, `password`) are NOT placeholders:
/// deployed as is, they are the credential.
pub(crate) fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    if v.starts_with('$')
        || v.contains("$(")
        || v.contains("${")
        || v.contains("{{")
        || v.contains("#{")
        || v.contains("%(")
        || (v.starts_with('<') && v.ends_with('>'))
        || (v.starts_with('%') && v.ends_with('%'))
    {
        return true;
    }
    if v.chars()
        .all(|c| matches!(c, 'x' | 'X' | '*' | '.' | '-' | '_' | '#' | '•'))
    {
        return true;
    }
    const WORDS: &[&str] = &[
        "none",
        "null",
        "nil",
        "undefined",
        "disabled",
        "enabled",
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "auto",
        "default",
        "unset",
        "empty",
        "n/a",
        "na",
        "tbd",
        "todo",
        "fixme",
        "redacted",
        "0",
        "1",
        "dummy",
        "placeholder",
    ];
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    const PREFIXES: &[&str] = &[
        "your",
        "replace",
        "insert",
        "enter-",
        "enter_",
        "put-",
        "put_",
        "enc[",
        "ref+",
        "arn:aws:",
        "vault:",
        "secretref",
        "sm://",
        "gcp:",
        "azkv:",
        "op://",
        "projects/",
        "kms:",
        "akv:",
        "{cipher}",
        "awssm:",
        "file:",
        "/",
        "./",
        "../",
        "~/",
    ];
    PREFIXES.iter().any(|p| lower.starts_with(p))
        || lower.contains("example")
        || lower.contains("placeholder")
}

/// A Kubernetes object name (`db-credentials`, `tls.shop`): under a `*_SECRET`
/// or `*_TOKEN` name, most likely the name of a Secret, not its value.
fn looks_like_object_name(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= 253
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.')
        && b.iter().any(|c| *c == b'-' || *c == b'.')
        && b.iter().any(|c| c.is_ascii_lowercase())
        && !is_uuid(v)
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

fn is_uuid(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|c| c.is_ascii_hexdigit()))
}

/// Shannon entropy of a string, in bits per character.
pub(crate) fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut total = 0u32;
    for b in s.bytes() {
        counts[b as usize] += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    let total = f64::from(total);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / total;
            -p * p.log2()
        })
        .sum()
}

/// A long random-looking string: at least 16 characters, no spaces, at least
/// 3.5 bits of entropy per character (English words and identifiers score
/// lower, keys and tokens higher).
pub(crate) fn random_looking(v: &str) -> bool {
    v.chars().count() >= 16 && !v.contains(char::is_whitespace) && entropy(v) >= 3.5
}

/// Whether `value`, found under `name`, is a literal credential. Returns a
/// short description of why, without the value.
pub(crate) fn literal_under_name(name: &str, value: &str) -> Option<&'static str> {
    let class = classify_name(name)?;
    let v = value.trim();
    if is_placeholder(v) || (v.contains(char::is_whitespace) && v.split_whitespace().count() > 3) {
        return None;
    }
    // A URL is a credential only with a password in it (found by `find_credentials`).
    if v.contains("://") {
        return None;
    }
    match class {
        NameClass::Credential => {
            if !password_like(name) && looks_like_object_name(v) {
                return None;
            }
            Some("a literal value under a credential name")
        }
        NameClass::Key => random_looking(v).then_some("a random-looking value under a key name"),
    }
}

/// A credential found in a text, described without its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub kind: &'static str,
    pub fingerprint: String,
}

impl Found {
    pub(crate) fn describe(&self) -> String {
        format!("{} ({})", self.kind, self.fingerprint)
    }
}

/// `abcd…, 40 chars` for values of 16 characters or more, `8 chars` below.
pub(crate) fn fingerprint(value: &str) -> String {
    let n = value.chars().count();
    if n >= 16 {
        let head: String = value.chars().take(4).collect();
        format!("{head}…, {n} chars")
    } else {
        format!("{n} chars")
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn boundary_before(bytes: &[u8], at: usize) -> bool {
    at == 0 || !is_word_byte(bytes[at - 1])
}

/// Length of the run of bytes satisfying `ok` starting at `from`.
fn run_len(bytes: &[u8], from: usize, ok: impl Fn(u8) -> bool) -> usize {
    bytes[from.min(bytes.len())..]
        .iter()
        .take_while(|&&b| ok(b))
        .count()
}

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Token formats: (prefix, kind, body charset, minimum body length, exact length).
type Format = (
    &'static str,
    &'static str,
    fn(u8) -> bool,
    usize,
    Option<usize>,
);

fn upper_digit(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

fn alnum_underscore(b: u8) -> bool {
    alnum(b) || b == b'_'
}

fn alnum_dash(b: u8) -> bool {
    alnum(b) || b == b'-'
}

const FORMATS: &[Format] = &[
    ("AKIA", "AWS access key id", upper_digit, 16, Some(16)),
    (
        "ASIA",
        "AWS temporary access key id",
        upper_digit,
        16,
        Some(16),
    ),
    ("ghp_", "GitHub personal access token", alnum, 36, None),
    ("gho_", "GitHub OAuth token", alnum, 36, None),
    ("ghu_", "GitHub user-to-server token", alnum, 36, None),
    ("ghs_", "GitHub server-to-server token", alnum, 36, None),
    ("ghr_", "GitHub refresh token", alnum, 36, None),
    (
        "github_pat_",
        "GitHub fine-grained token",
        alnum_underscore,
        40,
        None,
    ),
    ("glpat-", "GitLab personal access token", b64url, 20, None),
    ("xoxb-", "Slack bot token", alnum_dash, 10, None),
    ("xoxa-", "Slack app token", alnum_dash, 10, None),
    ("xoxp-", "Slack user token", alnum_dash, 10, None),
    ("xoxr-", "Slack refresh token", alnum_dash, 10, None),
    ("xoxs-", "Slack session token", alnum_dash, 10, None),
    ("sk_live_", "Stripe live secret key", alnum, 20, None),
    ("rk_live_", "Stripe live restricted key", alnum, 20, None),
    ("AIza", "Google API key", b64url, 35, Some(35)),
];

/// Known credential formats in `text`: cloud and SaaS tokens, private keys,
/// JWTs, URLs with a password. Each is described without its value.
pub(crate) fn find_credentials(text: &str) -> Vec<Found> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    for (prefix, kind, ok, min, exact) in FORMATS {
        for (at, _) in text.match_indices(prefix) {
            if !boundary_before(bytes, at) {
                continue;
            }
            let body_start = at + prefix.len();
            let len = run_len(bytes, body_start, ok);
            let fits = match exact {
                Some(n) => {
                    len == *n
                        && !bytes
                            .get(body_start + len)
                            .is_some_and(|b| is_word_byte(*b))
                }
                None => len >= *min,
            };
            let token = &text[at..body_start + len];
            if fits && !token.contains("EXAMPLE") {
                found.push(Found {
                    kind,
                    fingerprint: fingerprint(token),
                });
            }
        }
    }
    find_jwts(text, &mut found);
    find_private_keys(text, &mut found);
    find_url_passwords(text, &mut found);
    found
}

fn find_jwts(text: &str, found: &mut Vec<Found>) {
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices("eyJ") {
        if at > 0 && b64url(bytes[at - 1]) {
            continue;
        }
        let first = run_len(bytes, at, b64url);
        let second_start = at + first + 1;
        if bytes.get(at + first) != Some(&b'.')
            || !text[second_start.min(text.len())..].starts_with("eyJ")
        {
            continue;
        }
        let second = run_len(bytes, second_start, b64url);
        let third_start = second_start + second + 1;
        if bytes.get(second_start + second) != Some(&b'.') {
            continue;
        }
        let third = run_len(bytes, third_start, b64url);
        if first >= 10 && second >= 10 && third >= 16 {
            found.push(Found {
                kind: "JSON Web Token",
                fingerprint: format!("{} chars", third_start + third - at),
            });
        }
    }
}

fn find_private_keys(text: &str, found: &mut Vec<Found>) {
    for (at, _) in text.match_indices("-----BEGIN ") {
        let rest = &text[at + 11..];
        let Some(end) = rest.find("-----") else {
            continue;
        };
        let label = &rest[..end];
        if !(label.ends_with("PRIVATE KEY") || label.ends_with("PRIVATE KEY BLOCK")) {
            continue;
        }
        let body = &rest[end + 5..];
        let body = body.split("-----END").next().unwrap_or("");
        let material = body
            .bytes()
            .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
            .count();
        if material >= 32 {
            found.push(Found {
                kind: "private key",
                fingerprint: format!("{label}, {material} characters of key material"),
            });
        }
    }
}

fn find_url_passwords(text: &str, found: &mut Vec<Found>) {
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices("://") {
        let scheme_len = bytes[..at]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
            .count();
        let scheme = &text[at - scheme_len..at];
        if !scheme.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let rest = &text[at + 3..];
        let end = rest
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '`')
            })
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        let Some((userinfo, host)) = authority.rsplit_once('@') else {
            continue;
        };
        let Some((_, password)) = userinfo.split_once(':') else {
            continue;
        };
        if is_placeholder(password) || host.is_empty() {
            continue;
        }
        let lower = scheme.to_ascii_lowercase();
        let kind = match lower.as_str() {
            "postgres" | "postgresql" | "mysql" | "mariadb" | "mongodb" | "mongodb+srv"
            | "redis" | "rediss" | "sqlserver" | "mssql" | "jdbc:postgresql" | "jdbc:mysql"
            | "clickhouse" | "cockroachdb" => "database URL with a password",
            "amqp" | "amqps" | "nats" | "kafka" | "mqtt" | "mqtts" => {
                "message broker URL with a password"
            }
            _ => "URL with an embedded password",
        };
        found.push(Found {
            kind,
            fingerprint: format!(
                "{lower}://…@{host}, password of {} chars",
                password.chars().count()
            ),
        });
    }
}

/// Credentials in a configuration text (properties, INI, YAML, `.env`, JSON):
/// `key = value` lines whose key names a credential and whose value is a
/// literal, with the 1-based line number in the text.
pub(crate) fn find_in_config_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with(['#', ';', '!']) || line.starts_with("//") {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let line = line.strip_prefix("- ").unwrap_or(line);
        let Some(sep) = line.find(['=', ':']) else {
            continue;
        };
        let key = line[..sep].trim().trim_matches(['"', '\'']);
        if key.is_empty() || key.contains(char::is_whitespace) {
            continue;
        }
        let mut value = line[sep + 1..].trim();
        // Nested blocks, YAML tags and anchors, and code (`os.environ["X"]`,
        // `getenv("X")`, `process.env.X`) are not literal values.
        if value.starts_with(['{', '[', '|', '>', '&', '*', '=', '!'])
            || value.contains(['(', '['])
            || value.contains("process.env")
        {
            continue;
        }
        value = value.strip_suffix(',').unwrap_or(value).trim();
        let quoted = value.len() >= 2
            && ((value.starts_with('"') && value.ends_with('"'))
                || (value.starts_with('\'') && value.ends_with('\'')));
        if quoted {
            value = &value[1..value.len() - 1];
        } else if let Some(hash) = value.find(" #") {
            value = value[..hash].trim();
        }
        if let Some(reason) = literal_under_name(key, value) {
            let _ = reason;
            out.push((i + 1, format!("{key} ({})", fingerprint(value))));
        }
    }
    out
}

/// The env list of a container with each entry's name: `(index, entry, name)`.
pub(crate) fn env_entries<'a>(
    c: &ContainerCx<'a>,
) -> impl Iterator<Item = (usize, &'a Node, &'a str)> {
    c.node()
        .get("env")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.get("name").and_then(Node::as_str).map(|n| (i, e, n)))
}

/// Whether a reference node says `optional: true`.
pub(crate) fn is_optional(reference: &Node) -> bool {
    reference.get("optional").and_then(Node::as_bool) == Some(true)
}

/// Whether the input has objects of `kind` in `namespace`.
pub(crate) fn has_in_namespace(cx: &Cx<'_>, namespace: &str, kind: &str) -> bool {
    cx.index.in_namespace(namespace, kind).next().is_some()
}

/// Whether an object of the input will create the Secret `name` in
/// `namespace`: an ExternalSecret, SealedSecret, cert-manager Certificate,
/// Secrets Store CSI SecretProviderClass, Vault Secrets Operator secret or
/// 1Password item.
pub(crate) fn secret_produced(cx: &Cx<'_>, namespace: &str, name: &str) -> bool {
    let str_at =
        |o: &Object, path: &[&str]| o.root.path(path).and_then(Node::as_str).map(str::to_string);
    let named = |o: &Object| o.id.name == name;
    cx.index
        .in_namespace(namespace, "ExternalSecret")
        .any(|o| str_at(o, &["spec", "target", "name"]).map_or(named(o), |n| n == name))
        || cx.index.in_namespace(namespace, "SealedSecret").any(|o| {
            str_at(o, &["spec", "template", "metadata", "name"]).map_or(named(o), |n| n == name)
        })
        || cx
            .index
            .in_namespace(namespace, "Certificate")
            .any(|o| str_at(o, &["spec", "secretName"]).as_deref() == Some(name))
        || cx
            .index
            .in_namespace(namespace, "SecretProviderClass")
            .any(|o| {
                o.root
                    .path(&["spec", "secretObjects"])
                    .map(Node::items)
                    .unwrap_or(&[])
                    .iter()
                    .any(|s| s.get("secretName").and_then(Node::as_str) == Some(name))
            })
        || ["VaultStaticSecret", "VaultDynamicSecret", "VaultPKISecret"]
            .iter()
            .any(|k| {
                cx.index
                    .in_namespace(namespace, k)
                    .any(|o| str_at(o, &["spec", "destination", "name"]).as_deref() == Some(name))
            })
        || cx
            .index
            .in_namespace(namespace, "OnePasswordItem")
            .any(named)
}

/// The keys of a Secret (`data`, `stringData`) or ConfigMap (`data`,
/// `binaryData`); `None` when the object lists none (filled by a controller).
pub(crate) fn object_keys(object: &Object) -> Option<Vec<&str>> {
    let fields: &[&str] = if object.kind() == "Secret" {
        &["data", "stringData"]
    } else {
        &["data", "binaryData"]
    };
    let keys: Vec<&str> = fields
        .iter()
        .filter_map(|f| object.root.get(f))
        .flat_map(Node::entries)
        .filter_map(|(k, _)| k.as_str())
        .collect();
    (!keys.is_empty()).then_some(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(words("dbPassword"), ["db", "password"]);
        assert_eq!(words("APIKey"), ["api", "key"]);
        assert_eq!(
            words("spring.datasource.password"),
            ["spring", "datasource", "password"]
        );
        for n in [
            "DB_PASSWORD",
            "GITHUB_TOKEN",
            "apiKey",
            "AWS_SECRET_ACCESS_KEY",
            "client-secret",
            "DB_PASS",
            "JWT_SECRET",
        ] {
            assert_eq!(classify_name(n), Some(NameClass::Credential), "{n}");
        }
        for n in [
            "PASSWORD_FILE",
            "TOKEN_URL",
            "SECRET_NAME",
            "PASSWORD_MIN_LENGTH",
            "AWS_ACCESS_KEY_ID",
            "PWD",
            "STRIPE_PUBLISHABLE_KEY",
            "PUBLIC_KEY",
        ] {
            assert_eq!(classify_name(n), None, "{n}");
        }
        assert_eq!(classify_name("ENCRYPTION_KEY"), Some(NameClass::Credential));
        assert_eq!(classify_name("SORT_KEY"), Some(NameClass::Key));
    }

    #[test]
    fn literal_values() {
        assert!(literal_under_name("DB_PASSWORD", "hunter2").is_some());
        assert!(literal_under_name("DB_PASSWORD", "changeme").is_some());
        for v in [
            "",
            "$(DB_PASSWORD)",
            "${DB_PASSWORD}",
            "{{ .Values.pw }}",
            "<password>",
            "xxxx",
            "/run/secrets/pw",
            "ENC[AES256_GCM,data:abc]",
            "true",
        ] {
            assert!(literal_under_name("DB_PASSWORD", v).is_none(), "{v}");
        }
        assert!(literal_under_name("TLS_SECRET", "shop-tls").is_none());
        assert!(literal_under_name("DB_PASSWORD", "shop-tls").is_some());
        assert!(literal_under_name("SORT_KEY", "createdAt").is_none());
        assert!(literal_under_name("LICENSE_KEY", "Zx8fQ2mP9vL4rT7wK1nB").is_some());
    }

    #[test]
    fn credential_formats() {
        let kinds = |t: &str| {
            find_credentials(t)
                .into_iter()
                .map(|f| f.kind)
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds("id=AKIAZ3MHALE4FJ2KQ7XN"), ["AWS access key id"]);
        assert!(kinds("AKIAIOSFODNN7EXAMPLE").is_empty());
        assert!(kinds("XAKIAZ3MHALE4FJ2KQ7XN").is_empty());
        assert_eq!(
            kinds("ghp_0123456789abcdefghijABCDEFGHIJ012345"),
            ["GitHub personal access token"]
        );
        assert_eq!(
            kinds("glpat-abcdefghij0123456789"),
            ["GitLab personal access token"]
        );
        assert_eq!(kinds("xoxb-1234567890-abcdef"), ["Slack bot token"]);
        assert_eq!(
            kinds("AIzaSyA1234567890abcdefghijklmnopqrstuv"),
            ["Google API key"]
        );
        assert_eq!(
            kinds("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
            ["JSON Web Token"]
        );
        assert_eq!(
            kinds("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----"),
            ["private key"]
        );
        assert_eq!(
            kinds("postgres://app:s3cr3t@db:5432/shop"),
            ["database URL with a password"]
        );
        assert!(kinds("postgres://app:${PW}@db/shop https://example.com/a:b@c").is_empty());
        let f = find_credentials("amqp://u:p4ss@rabbit/");
        assert!(!f[0].describe().contains("p4ss"));
    }

    #[test]
    fn config_lines() {
        let text = "spring.datasource.url=jdbc:postgresql://db/shop\nspring.datasource.password=hunter2\n# password=commented\npassword_file: /etc/pw\ndb:\n  password: \"s3cr3t\"\n  token: ${TOKEN}\npassword = os.environ[\"PW\"]\nsecret: !vault |\ncache_key: 1\n";
        let hits = find_in_config_lines(text);
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [2, 6]);
        assert!(!hits[1].1.contains("s3cr3t"));
    }

    #[test]
    fn fingerprints_hide_short_values() {
        assert_eq!(fingerprint("hunter2"), "7 chars");
        assert_eq!(fingerprint("ghp_0123456789abcdefghij"), "ghp_…, 24 chars");
        assert!(entropy("aaaa") < 0.1 && entropy("abcd") > 1.9);
    }
}
