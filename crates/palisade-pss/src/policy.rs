//! Levels, versions and the `level:version` pair a pod is evaluated against.

use std::fmt;
use std::str::FromStr;

/// A Pod Security Standards level, from least to most strict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// No restrictions; evaluating it never reports anything.
    Privileged,
    Baseline,
    /// Baseline plus the hardening checks.
    Restricted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// Parses a level exactly as the admission plugin reads a namespace label:
    /// lowercase only, no surrounding space.
    pub fn parse_label(text: &str) -> Option<Level> {
        match text {
            "privileged" => Some(Level::Privileged),
            "baseline" => Some(Level::Baseline),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;

    /// Accepts any ASCII case (`Restricted`), for command lines.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::parse_label(&s.trim().to_ascii_lowercase()).ok_or_else(|| {
            format!(
                "unknown Pod Security level {s:?} (expected privileged, baseline or restricted)"
            )
        })
    }
}

/// A policy version: the Kubernetes minor release whose rules apply, or `latest`.
///
/// Only Kubernetes 1.x exists, so a version is its minor number. A version
/// newer than the newest one with policy changes behaves as `latest`, as
/// upstream does, but keeps its own name in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `v1.<minor>`.
    V1(u32),
    Latest,
}

impl Version {
    /// Parses a version exactly as the admission plugin reads a namespace
    /// label: `latest` or `v1.<minor>` without leading zeros.
    pub fn parse_label(text: &str) -> Option<Version> {
        if text == "latest" {
            return Some(Version::Latest);
        }
        let minor = text.strip_prefix("v1.")?;
        let well_formed = !minor.is_empty()
            && minor.bytes().all(|b| b.is_ascii_digit())
            && (minor == "0" || !minor.starts_with('0'));
        if !well_formed {
            return None;
        }
        minor.parse().ok().map(Version::V1)
    }

    /// The minor version whose rules apply, given the newest minor with policy changes.
    pub(crate) fn effective_minor(self, newest: u32) -> u32 {
        match self {
            Version::V1(minor) => minor.min(newest),
            Version::Latest => newest,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::V1(minor) => write!(f, "v1.{minor}"),
            Version::Latest => f.write_str("latest"),
        }
    }
}

impl FromStr for Version {
    type Err = String;

    /// Accepts `latest`, `v1.25` and `1.25`, for command lines.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.eq_ignore_ascii_case("latest") {
            return Ok(Version::Latest);
        }
        let unprefixed = text
            .strip_prefix('v')
            .or_else(|| text.strip_prefix('V'))
            .unwrap_or(text);
        unprefixed
            .strip_prefix("1.")
            .filter(|minor| !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|minor| minor.parse().ok())
            .map(Version::V1)
            .ok_or_else(|| {
                format!("unknown Pod Security version {s:?} (expected latest or v1.<minor>, e.g. v1.30)")
            })
    }
}

/// What a pod is evaluated against: a level at a version (`restricted:v1.30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Policy {
    pub level: Level,
    pub version: Version,
}

impl Policy {
    pub const fn new(level: Level, version: Version) -> Self {
        Policy { level, version }
    }

    /// `level:latest`.
    pub const fn latest(level: Level) -> Self {
        Policy {
            level,
            version: Version::Latest,
        }
    }
}

impl Default for Policy {
    /// `restricted:latest`, the command line's default.
    fn default() -> Self {
        Policy::latest(Level::Restricted)
    }
}

impl fmt::Display for Policy {
    /// `restricted:v1.30`, as the admission messages name a policy.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.version)
    }
}

impl FromStr for Policy {
    type Err = String;

    /// `restricted:v1.30`, `baseline:latest`, or a bare level meaning `level:latest`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            Some((level, version)) => Ok(Policy::new(level.parse()?, version.parse()?)),
            None => Ok(Policy::latest(s.parse()?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_from_command_lines_and_labels() {
        assert_eq!("v1.25".parse::<Version>(), Ok(Version::V1(25)));
        assert_eq!("1.25".parse::<Version>(), Ok(Version::V1(25)));
        assert_eq!("latest".parse::<Version>(), Ok(Version::Latest));
        assert!("2.1".parse::<Version>().is_err());
        assert!("v1.".parse::<Version>().is_err());
        assert!("v1.x".parse::<Version>().is_err());

        assert_eq!(Version::parse_label("v1.0"), Some(Version::V1(0)));
        assert_eq!(Version::parse_label("v1.30"), Some(Version::V1(30)));
        assert_eq!(Version::parse_label("1.30"), None);
        assert_eq!(Version::parse_label("v1.030"), None);
        assert_eq!(Version::parse_label("Latest"), None);
        assert_eq!(Version::parse_label("v1.99999999999999999999"), None);
    }

    #[test]
    fn policies_round_trip() {
        for text in ["restricted:v1.30", "baseline:latest", "privileged:v1.0"] {
            let policy: Policy = text.parse().unwrap();
            assert_eq!(policy.to_string(), text);
        }
        assert_eq!(
            "baseline".parse::<Policy>(),
            Ok(Policy::latest(Level::Baseline))
        );
        assert!("strict:latest".parse::<Policy>().is_err());
        assert_eq!(Level::parse_label("Baseline"), None);
        assert_eq!("Baseline".parse::<Level>(), Ok(Level::Baseline));
    }

    #[test]
    fn future_versions_behave_as_latest() {
        assert_eq!(Version::V1(99).effective_minor(37), 37);
        assert_eq!(Version::Latest.effective_minor(37), 37);
        assert_eq!(Version::V1(20).effective_minor(37), 20);
    }
}
