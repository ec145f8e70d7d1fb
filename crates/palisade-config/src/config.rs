//! `.palisade.yaml`: rule sets, severity overrides, exemptions, check options.
//!
//! ```yaml
//! rules:
//!   disable: [reliability/*]            # rule ids or globs
//!   enable: [pod/run-as-high-uid]       # optional rules to turn on
//! severity:
//!   image/latest-tag: high              # override a rule's severity
//! exemptions:
//! - rules: [pss/hostNamespaces, pss/hostPathVolumes]
//!   namespaces: [monitoring]            # globs; optional
//!   objects: [DaemonSet/node-exporter]  # Kind/name globs; optional
//!   containers: [node-exporter]         # optional
//!   reason: node-exporter reads host network and filesystem statistics
//!   expires: 2027-06-30                 # optional, YYYY-MM-DD
//! inManifestExemptions: true            # honour palisade.dev/ignore annotations
//! peerAnnotations: false                # honour kube-score, kube-linter, Checkov, Polaris annotations
//! allowedRegistries: [registry.example.com/]
//! requiredLabels: [app.kubernetes.io/name]
//! pss: {level: restricted, version: latest}
//! failOn: medium
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_model::{
    yaml::parse_stream, InputError, InputErrorKind, Node, Severity, Source, SourceFile,
};

use crate::pattern::Pattern;

/// The file name looked for, upward from the scanned path.
pub const CONFIG_FILE_NAMES: &[&str] = &[".palisade.yaml", ".palisade.yml"];

/// Everything `.palisade.yaml` can say. The default is "no configuration".
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this came from, for messages.
    pub origin: Option<String>,
    pub disable: Vec<Pattern>,
    pub enable: Vec<Pattern>,
    pub severity: Vec<(Pattern, Severity)>,
    pub exemptions: Vec<Exemption>,
    pub in_manifest_exemptions: bool,
    pub peer_annotations: bool,
    pub allowed_registries: Vec<String>,
    pub required_labels: Vec<String>,
    pub pss_level: Option<String>,
    pub pss_version: Option<String>,
    pub fail_on: Option<Severity>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            origin: None,
            disable: Vec::new(),
            enable: Vec::new(),
            severity: Vec::new(),
            exemptions: Vec::new(),
            in_manifest_exemptions: true,
            peer_annotations: false,
            allowed_registries: Vec::new(),
            required_labels: Vec::new(),
            pss_level: None,
            pss_version: None,
            fail_on: None,
        }
    }
}

/// One exemption of the configuration file.
#[derive(Debug, Clone)]
pub struct Exemption {
    pub rules: Vec<Pattern>,
    pub namespaces: Vec<Pattern>,
    /// `Kind/name` patterns.
    pub objects: Vec<Pattern>,
    pub containers: Vec<Pattern>,
    pub reason: String,
    /// `YYYY-MM-DD`; the exemption stops applying after that day.
    pub expires: Option<String>,
    /// `file:line`, shown with exempted findings.
    pub origin: String,
}

impl Config {
    /// Whether the rule is switched off.
    pub fn is_disabled(&self, rule: &str) -> bool {
        self.disable.iter().any(|p| p.matches(rule))
            && !self.enable.iter().any(|p| p.as_str() == rule)
    }

    /// Whether an optional rule is switched on.
    pub fn is_enabled(&self, rule: &str) -> bool {
        self.enable.iter().any(|p| p.matches(rule))
    }

    /// The severity the configuration gives `rule`, if any (the last matching entry wins).
    pub fn severity_of(&self, rule: &str) -> Option<Severity> {
        self.severity
            .iter()
            .rev()
            .find(|(p, _)| p.matches(rule))
            .map(|(_, s)| *s)
    }
}

/// Finds the configuration file: the first of [`CONFIG_FILE_NAMES`] in `start`
/// (or its folder, when it is a file) or any parent folder.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let absolute = std::fs::canonicalize(start).ok()?;
    let mut dir = if absolute.is_dir() {
        Some(absolute.as_path())
    } else {
        absolute.parent()
    };
    while let Some(d) = dir {
        for name in CONFIG_FILE_NAMES {
            let candidate = d.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        dir = d.parent();
    }
    None
}

/// Reads and parses a configuration file.
pub fn load(path: &Path) -> Result<Config, Vec<InputError>> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&name, &text),
        Err(e) => Err(vec![InputError {
            kind: InputErrorKind::Config,
            message: format!("cannot read the configuration file: {e}"),
            source: None,
            file: name,
            span: Default::default(),
            related: None,
        }]),
    }
}

/// Parses configuration text; every problem is reported with its position.
pub fn parse(name: &str, text: &str) -> Result<Config, Vec<InputError>> {
    let source: Source = Arc::new(SourceFile::new(name, text));
    let (documents, mut errors) = parse_stream(&source);
    for e in &mut errors {
        e.kind = InputErrorKind::Config;
    }
    let mut config = Config {
        origin: Some(name.to_string()),
        ..Config::default()
    };
    let Some(root) = documents.into_iter().map(|d| d.root).find(|r| !r.is_null()) else {
        return if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        };
    };
    let mut p = Parser {
        source: &source,
        errors,
    };
    for (key, value) in p.mapping(&root, "the configuration") {
        match key.as_str() {
            "rules" => {
                for (k, v) in p.mapping(value, "rules") {
                    match k.as_str() {
                        "disable" => {
                            config.disable = p
                                .strings(v, "rules.disable")
                                .iter()
                                .map(|s| Pattern::rule(s))
                                .collect()
                        }
                        "enable" => {
                            config.enable = p
                                .strings(v, "rules.enable")
                                .iter()
                                .map(|s| Pattern::rule(s))
                                .collect()
                        }
                        other => p.unknown(v, "rules", other, &["disable", "enable"]),
                    }
                }
            }
            "severity" => {
                for (rule, v) in p.mapping(value, "severity") {
                    if let Some(severity) = p.severity(v) {
                        config.severity.push((Pattern::rule(&rule), severity));
                    }
                }
            }
            "exemptions" => {
                for item in p.list(value, "exemptions") {
                    if let Some(exemption) = p.exemption(item) {
                        config.exemptions.push(exemption);
                    }
                }
            }
            "inManifestExemptions" => {
                config.in_manifest_exemptions = p.boolean(value).unwrap_or(true)
            }
            "peerAnnotations" => config.peer_annotations = p.boolean(value).unwrap_or(false),
            "allowedRegistries" => {
                config.allowed_registries = p.strings(value, "allowedRegistries")
            }
            "requiredLabels" => config.required_labels = p.strings(value, "requiredLabels"),
            "failOn" => config.fail_on = p.severity(value),
            "pss" => {
                for (k, v) in p.mapping(value, "pss") {
                    match k.as_str() {
                        "level" => config.pss_level = p.string(v),
                        "version" => config.pss_version = p.string(v),
                        other => p.unknown(v, "pss", other, &["level", "version"]),
                    }
                }
            }
            other => p.unknown(
                value,
                "the configuration",
                other,
                &[
                    "rules",
                    "severity",
                    "exemptions",
                    "inManifestExemptions",
                    "peerAnnotations",
                    "allowedRegistries",
                    "requiredLabels",
                    "pss",
                    "failOn",
                ],
            ),
        }
    }
    if p.errors.is_empty() {
        Ok(config)
    } else {
        Err(p.errors)
    }
}

struct Parser<'s> {
    source: &'s Source,
    errors: Vec<InputError>,
}

impl Parser<'_> {
    fn error(&mut self, node: &Node, message: String) {
        self.errors.push(InputError::new(
            InputErrorKind::Config,
            self.source,
            node.span,
            message,
        ));
    }

    fn mapping<'n>(&mut self, node: &'n Node, what: &str) -> Vec<(String, &'n Node)> {
        match node.as_map() {
            Some(entries) => entries.iter().map(|(k, v)| (k.key_text(), v)).collect(),
            None => {
                if !node.is_null() {
                    self.error(
                        node,
                        format!("{what} must be a mapping, found {}", node.kind()),
                    );
                }
                Vec::new()
            }
        }
    }

    fn list<'n>(&mut self, node: &'n Node, what: &str) -> &'n [Node] {
        match node.as_seq() {
            Some(items) => items,
            None => {
                if !node.is_null() {
                    self.error(
                        node,
                        format!("{what} must be a list, found {}", node.kind()),
                    );
                }
                &[]
            }
        }
    }

    fn string(&mut self, node: &Node) -> Option<String> {
        match &node.value {
            palisade_model::Value::Str { text, .. } => Some(text.to_string()),
            palisade_model::Value::Int(_) | palisade_model::Value::Float(_) => {
                Some(node.display_value())
            }
            _ => {
                self.error(node, format!("expected a string, found {}", node.kind()));
                None
            }
        }
    }

    /// A list of strings, or a single string.
    fn strings(&mut self, node: &Node, what: &str) -> Vec<String> {
        if node.as_str().is_some() {
            return self.string(node).into_iter().collect();
        }
        let items = self.list(node, what).to_vec();
        items.iter().filter_map(|n| self.string(n)).collect()
    }

    fn boolean(&mut self, node: &Node) -> Option<bool> {
        let value = node.as_bool();
        if value.is_none() {
            self.error(
                node,
                format!("expected true or false, found {}", node.kind()),
            );
        }
        value
    }

    fn severity(&mut self, node: &Node) -> Option<Severity> {
        let text = self.string(node)?;
        match text.parse() {
            Ok(s) => Some(s),
            Err(e) => {
                self.error(node, e);
                None
            }
        }
    }

    fn unknown(&mut self, node: &Node, within: &str, key: &str, known: &[&str]) {
        self.error(
            node,
            format!(
                "unknown key {key:?} in {within} (known: {})",
                known.join(", ")
            ),
        );
    }

    fn exemption(&mut self, item: &Node) -> Option<Exemption> {
        let mut exemption = Exemption {
            rules: Vec::new(),
            namespaces: Vec::new(),
            objects: Vec::new(),
            containers: Vec::new(),
            reason: String::new(),
            expires: None,
            origin: format!("{}:{}", self.source.name, item.span.start.line),
        };
        for (key, value) in self.mapping(item, "an exemption") {
            match key.as_str() {
                "rules" => {
                    exemption.rules = self
                        .strings(value, "rules")
                        .iter()
                        .map(|s| Pattern::rule(s))
                        .collect()
                }
                "namespaces" => {
                    exemption.namespaces = self
                        .strings(value, "namespaces")
                        .iter()
                        .map(|s| Pattern::exact(s))
                        .collect()
                }
                "objects" => {
                    exemption.objects = self
                        .strings(value, "objects")
                        .iter()
                        .map(|s| Pattern::exact(s))
                        .collect()
                }
                "containers" => {
                    exemption.containers = self
                        .strings(value, "containers")
                        .iter()
                        .map(|s| Pattern::exact(s))
                        .collect()
                }
                "reason" => exemption.reason = self.string(value).unwrap_or_default(),
                "expires" => {
                    let text = self.string(value).unwrap_or_default();
                    if crate::date::parse(&text).is_none() {
                        self.error(
                            value,
                            format!("expires must be a date YYYY-MM-DD, found {text:?}"),
                        );
                    }
                    exemption.expires = Some(text);
                }
                other => self.unknown(
                    value,
                    "an exemption",
                    other,
                    &[
                        "rules",
                        "namespaces",
                        "objects",
                        "containers",
                        "reason",
                        "expires",
                    ],
                ),
            }
        }
        if exemption.rules.is_empty() {
            self.error(
                item,
                "an exemption needs `rules` (use [\"*\"] for every rule)".into(),
            );
            return None;
        }
        if exemption.reason.trim().is_empty() {
            self.error(
                item,
                "an exemption needs a `reason`, so that it can be reviewed".into(),
            );
            return None;
        }
        Some(exemption)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_configuration() {
        let config = parse(
            ".palisade.yaml",
            "rules:\n  disable: [reliability/*]\n  enable: pod/run-as-high-uid\nseverity:\n  image/latest-tag: high\nexemptions:\n- rules: [pss/hostNamespaces]\n  namespaces: [monitoring]\n  objects: [DaemonSet/node-exporter]\n  reason: host network statistics\n  expires: 2027-06-30\ninManifestExemptions: false\nallowedRegistries: [registry.example.com/]\npss: {level: baseline, version: v1.30}\nfailOn: medium\n",
        )
        .expect("valid");
        assert!(config.is_disabled("reliability/pdb"));
        assert!(!config.is_disabled("pod/x"));
        assert!(config.is_enabled("pod/run-as-high-uid"));
        assert_eq!(config.severity_of("image/latest-tag"), Some(Severity::High));
        assert_eq!(config.exemptions.len(), 1);
        assert_eq!(config.exemptions[0].origin, ".palisade.yaml:7");
        assert!(!config.in_manifest_exemptions);
        assert_eq!(config.pss_version.as_deref(), Some("v1.30"));
        assert_eq!(config.fail_on, Some(Severity::Medium));
    }

    #[test]
    fn errors_name_their_position() {
        let errors = parse(
            "c.yaml",
            "rules:\n  disabel: [x]\nexemptions:\n- rules: [a]\nfailOn: severe\n",
        )
        .expect_err("invalid");
        let positions: Vec<(u32, u32)> = errors
            .iter()
            .map(|e| (e.span.start.line, e.span.start.column))
            .collect();
        assert_eq!(positions, [(2, 12), (4, 3), (5, 9)], "{errors:?}");
        assert!(errors[0].message.contains("disabel"));
        assert!(errors[1].message.contains("reason"));
    }
}
