//! Kubernetes name formats (apimachinery's `validation` package), shared by
//! every layer that validates a name, so they all agree with the API server.

/// The longest DNS-1123 subdomain (`DNS1123SubdomainMaxLength`).
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
/// The longest DNS-1123 label (`DNS1123LabelMaxLength`).
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;

/// `IsDNS1123Subdomain`: at most 253 characters of dot-separated DNS-1123
/// labels (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`). The name format of most objects,
/// and of a label key's prefix.
pub fn is_dns1123_subdomain(name: &str) -> bool {
    name.len() <= DNS1123_SUBDOMAIN_MAX_LENGTH && name.split('.').all(is_label_shape)
}

/// `IsDNS1123Label`: one label of at most 63 characters, no dots. The name
/// format of a Namespace (and so the namespace part of a service account).
pub fn is_dns1123_label(name: &str) -> bool {
    name.len() <= DNS1123_LABEL_MAX_LENGTH && is_label_shape(name)
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, of any length.
fn is_label_shape(label: &str) -> bool {
    let b = label.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    b.first().is_some_and(alnum)
        && b.last().is_some_and(alnum)
        && b.iter().all(|c| alnum(c) || *c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains() {
        for ok in ["a", "web-1", "tls.shop", "example.com", "0.a-b.c9"] {
            assert!(is_dns1123_subdomain(ok), "{ok}");
        }
        for bad in [
            "", ".", "a.", ".a", "a..b", "-a", "a-", "a.-b", "A", "a_b", "a/b", "ä",
        ] {
            assert!(!is_dns1123_subdomain(bad), "{bad:?}");
        }
        let longest = format!("{}.{}", "a".repeat(126), "b".repeat(126));
        assert_eq!(longest.len(), 253);
        assert!(is_dns1123_subdomain(&longest));
        assert!(!is_dns1123_subdomain(&format!("{longest}c")));
    }

    #[test]
    fn labels() {
        assert!(is_dns1123_label("kube-system"));
        assert!(is_dns1123_label(&"a".repeat(63)));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        for bad in ["", "a.b", "-a", "a-", "A"] {
            assert!(!is_dns1123_label(bad), "{bad:?}");
        }
    }
}
