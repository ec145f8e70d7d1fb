//! Input errors: what could not be read, and exactly where.

use std::fmt;

use serde::Serialize;

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
        }
    }
}

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
