//! Input errors: what could not be read, and exactly where.

use std::fmt;

use serde::Serialize;

use crate::finding::{RuleMeta, Severity};
use crate::source::{Source, Span};

/// The kind of an input error; its [`InputErrorKind::code`] is stable and appears in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputErrorKind {
    /// A file or stdin could not be read (missing, permission, not UTF-8).
    Io,
    /// The YAML or JSON is not well formed.
    Syntax,
    /// A mapping has the same key twice.
    DuplicateKey,
    /// A document is not a Kubernetes object (no `kind`, no `apiVersion`, not a mapping).
    NotAnObject,
    /// A field has the wrong type (`privileged: "true"`).
    Type,
    /// An alias expands past the size limit (a "billion laughs" document).
    TooLarge,
    /// Palisade's own configuration (`.palisade.yaml`, exemption annotations) is invalid.
    Config,
}

impl InputErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            InputErrorKind::Io => "input/io",
            InputErrorKind::Syntax => "input/syntax",
            InputErrorKind::DuplicateKey => "input/duplicate-key",
            InputErrorKind::NotAnObject => "input/not-an-object",
            InputErrorKind::Type => "input/type",
            InputErrorKind::TooLarge => "input/too-large",
            InputErrorKind::Config => "input/config",
        }
    }
}

impl InputErrorKind {
    pub const ALL: [InputErrorKind; 7] = [
        InputErrorKind::Io,
        InputErrorKind::Syntax,
        InputErrorKind::DuplicateKey,
        InputErrorKind::NotAnObject,
        InputErrorKind::Type,
        InputErrorKind::TooLarge,
        InputErrorKind::Config,
    ];

    /// The documentation of this kind of input error, for `palisade explain`.
    pub fn meta(self) -> &'static RuleMeta {
        &INPUT_RULES[self as usize]
    }
}

const fn input_rule(id: &'static str, title: &'static str, docs: &'static str) -> RuleMeta {
    RuleMeta {
        id,
        title,
        severity: Severity::High,
        category: "input",
        docs,
        help_uri: "https://kubernetes.io/docs/concepts/overview/working-with-objects/",
        controls: &[],
    }
}

/// One entry per [`InputErrorKind`], in declaration order.
pub static INPUT_RULES: [RuleMeta; 7] = [
    input_rule(
        "input/io",
        "An input could not be read",
        "## What it finds\nA file, directory or standard input that could not be read: it does not exist, \
         permissions deny it, or it is not UTF-8 text.\n\n## Why it matters\nA manifest that is not read is not \
         checked. Palisade never skips an input silently: the run ends with exit code 2.\n\n## How to fix it\n\
         Check the path, the permissions, and that the file is UTF-8 (Kubernetes requires UTF-8).\n\n## Example\n\
         ```\npalisade scan k8s/   # k8s/app.yaml: cannot read: Permission denied (os error 13)\n```\n",
    ),
    input_rule(
        "input/syntax",
        "The YAML or JSON is not well formed",
        "## What it finds\nA document that the YAML parser rejects: bad indentation, an unclosed bracket or quote, \
         a tab used for indentation.\n\n## Why it matters\n`kubectl apply` would reject the file, and nothing in the \
         broken document can be checked. Palisade reports the position and goes on with the next document.\n\n\
         ## How to fix it\nCorrect the YAML at the reported line and column.\n\n## Example\n```yaml\n\
         containers: [ {name: app, image: nginx}   # missing ]\n```\n",
    ),
    input_rule(
        "input/duplicate-key",
        "A mapping sets the same key twice",
        "## What it finds\nA mapping in which one key appears twice.\n\n## Why it matters\nOnly one of the two values \
         takes effect, and which one depends on the tool reading the file: a reviewer can read \
         `privileged: false` while the cluster gets `privileged: true` further down.\n\n## How to fix it\n\
         Keep one occurrence of the key. Both positions are reported.\n\n## Example\n```yaml\nsecurityContext:\n  \
         privileged: false\n  privileged: true   # duplicate key\n```\n",
    ),
    input_rule(
        "input/not-an-object",
        "A document is not a Kubernetes object",
        "## What it finds\nA document that is not a mapping, or that lacks `apiVersion` or `kind`.\n\n\
         ## Why it matters\nThe API server rejects such a document; often it is a values file or a template that \
         was not rendered.\n\n## How to fix it\nAdd `apiVersion` and `kind`, or keep non-manifest YAML out of the \
         scanned paths (render Helm charts with `helm template` first).\n\n## Example\n```yaml\nmetadata:\n  \
         name: web   # no apiVersion, no kind\n```\n",
    ),
    input_rule(
        "input/type",
        "A field has the wrong type",
        "## What it finds\nA field whose value has a type the Kubernetes API does not accept there, such as \
         `privileged: \"true\"` (a string where a boolean belongs) or `runAsUser: root`.\n\n## Why it matters\n\
         The API server rejects the object. Guessing what was meant would hide the mistake, so Palisade reports \
         it and treats the field as unset. Plain `yes`, `on` and `y` are booleans, as kubectl reads them.\n\n\
         ## How to fix it\nUse the type the API expects: remove the quotes around booleans and numbers.\n\n\
         ## Example\n```yaml\nsecurityContext:\n  privileged: \"false\"   # use: privileged: false\n```\n",
    ),
    input_rule(
        "input/too-large",
        "Aliases expand a document beyond the size limit",
        "## What it finds\nA document whose anchors and aliases expand to more than two million values.\n\n\
         ## Why it matters\nThis is the \"billion laughs\" pattern: a few lines that expand to gigabytes. \
         Palisade refuses the document instead of running out of memory.\n\n## How to fix it\nExpand the \
         aliases by hand or simplify the document.\n\n## Example\n```yaml\na: &a [x, x, x, x, x, x, x, x, x]\n\
         b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n# ... nine more levels\n```\n",
    ),
    input_rule(
        "input/config",
        "Palisade's configuration or an exemption is invalid",
        "## What it finds\nAn unknown key or a wrong value in `.palisade.yaml`, or an exemption annotation \
         (`palisade.dev/ignore`) without the `palisade.dev/ignore-reason` that must explain it.\n\n\
         ## Why it matters\nA mistyped setting would silently change what is checked; an exemption without a \
         reason cannot be reviewed. Palisade refuses both and says where they are.\n\n## How to fix it\n\
         Correct the key or value at the reported position; give every exemption a reason.\n\n## Example\n\
         ```yaml\nmetadata:\n  annotations:\n    palisade.dev/ignore: pss/hostNamespaces\n    \
         palisade.dev/ignore-reason: node-exporter reads host network statistics\n```\n",
    ),
];

/// An input error with the file and position it is about.
#[derive(Debug, Clone)]
pub struct InputError {
    pub kind: InputErrorKind,
    pub message: String,
    /// `None` only for inputs that could not be opened at all and have no text.
    pub source: Option<Source>,
    /// The file name, also for inputs that could not be opened.
    pub file: String,
    pub span: Span,
    /// A second place the error is about (the first occurrence of a duplicate key).
    pub related: Option<Span>,
}

impl InputError {
    pub fn new(kind: InputErrorKind, source: &Source, span: Span, message: String) -> Self {
        InputError {
            kind,
            message,
            source: Some(source.clone()),
            file: source.name.clone(),
            span,
            related: None,
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.span.start.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.span.start, self.message)
        }
    }
}

impl std::error::Error for InputError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_documentation() {
        for kind in InputErrorKind::ALL {
            assert_eq!(kind.meta().id, kind.code());
        }
    }
}
