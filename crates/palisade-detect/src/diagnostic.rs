//! Load errors and warnings, with the file, the item and the position.

use std::fmt;
use std::sync::Arc;

use palisade_model::Pos;
use serde::Serialize;

/// Error or warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The item is not loaded.
    Error,
    /// The item is loaded; something deserves attention.
    Warning,
}

/// The kind of item a diagnostic is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A `rule`.
    Rule,
    /// A `macro`.
    Macro,
    /// A `list`.
    List,
    /// `required_engine_version`.
    RequiredEngineVersion,
    /// `required_plugin_versions`.
    RequiredPluginVersions,
    /// Anything else (the document itself, an unknown item).
    Other,
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ItemKind::Rule => "rule",
            ItemKind::Macro => "macro",
            ItemKind::List => "list",
            ItemKind::RequiredEngineVersion => "required_engine_version",
            ItemKind::RequiredPluginVersions => "required_plugin_versions",
            ItemKind::Other => "item",
        })
    }
}

/// One problem found while loading or compiling rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub level: Level,
    /// Falco's code for the problem (`LOAD_ERR_COMPILE_CONDITION`, `LOAD_UNUSED_MACRO`, ...).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// The file.
    pub file: String,
    /// Where in the file (1-based; 0 when unknown).
    pub line: u32,
    /// Column (1-based, in characters; 0 when unknown).
    pub column: u32,
    /// The kind of item.
    pub item_kind: ItemKind,
    /// The item's name (empty when it has none).
    pub item_name: String,
    /// The source line the position is on, for display.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        write!(f, ": {level}")?;
        if !self.item_name.is_empty() {
            write!(f, " in {} '{}'", self.item_kind, self.item_name)?;
        }
        write!(f, ": {} [{}]", self.message, self.code)?;
        if let Some(line) = &self.source_line {
            let col = self.column.max(1) as usize;
            let pad: String = line
                .chars()
                .take(col - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(f, "\n  | {line}\n  | {pad}^")?;
        }
        Ok(())
    }
}

/// Where an item is, for diagnostics about it.
#[derive(Debug, Clone)]
pub struct Context {
    /// The file.
    pub file: Arc<str>,
    /// The item's position.
    pub pos: Pos,
    /// The item's kind.
    pub kind: ItemKind,
    /// The item's name.
    pub name: String,
}

impl Context {
    /// A diagnostic about this item at `pos` (in `file`, which may differ
    /// from the item's own file for appended conditions).
    pub fn diag(
        &self,
        level: Level,
        code: &'static str,
        message: impl Into<String>,
        at: Option<(Arc<str>, Pos)>,
    ) -> Diagnostic {
        let (file, pos) = at.unwrap_or_else(|| (self.file.clone(), self.pos));
        Diagnostic {
            level,
            code,
            message: message.into(),
            file: file.to_string(),
            line: pos.line,
            column: pos.column,
            item_kind: self.kind,
            item_name: self.name.clone(),
            source_line: None,
        }
    }
}
