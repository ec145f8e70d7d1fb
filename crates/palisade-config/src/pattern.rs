//! Glob patterns for rule ids, names and namespaces: `*` matches any run of characters.

/// A pattern compared case-insensitively (rule ids) or exactly (names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    case_insensitive: bool,
}

impl Pattern {
    pub fn exact(text: &str) -> Self {
        Pattern {
            text: text.to_string(),
            case_insensitive: false,
        }
    }

    /// A rule-id pattern: `pod/*`, `pss/privileged`, `*`.
    pub fn rule(text: &str) -> Self {
        Pattern {
            text: text.to_ascii_lowercase(),
            case_insensitive: true,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, candidate: &str) -> bool {
        if self.case_insensitive {
            glob(
                self.text.as_bytes(),
                candidate.to_ascii_lowercase().as_bytes(),
            )
        } else {
            glob(self.text.as_bytes(), candidate.as_bytes())
        }
    }
}

/// Iterative glob with `*` only; linear backtracking on the last star.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(Pattern::rule("pod/*").matches("pod/read-only-root-filesystem"));
        assert!(Pattern::rule("PSS/Privileged").matches("pss/privileged"));
        assert!(!Pattern::rule("pod/*").matches("pss/privileged"));
        assert!(Pattern::exact("kube-*").matches("kube-system"));
        assert!(!Pattern::exact("kube-*").matches("Kube-system"));
        assert!(Pattern::exact("*").matches(""));
        assert!(Pattern::exact("a*b*c").matches("axxbyyc"));
        assert!(!Pattern::exact("a*b*c").matches("axxbyy"));
    }
}
