//! Reading rules files into the collection of lists, macros and rules, with
//! Falco's semantics for `append`, `override`, `enabled` and redefinition.
//!
//! This mirrors Falco's rule loader (`rule_loader_reader.cpp` and
//! `rule_loader_collector.cpp`): items are read in file order, files in the
//! order given; a redefinition replaces an item in place (keeping its
//! position), `append` extends it, `override: {key: append|replace}` updates
//! single keys. Each item also gets an index and a visibility, which decide
//! which macros and lists an item may reference (only those defined before it).
//! One deliberate difference: Falco stops reading a file at its first error;
//! here the item is reported and skipped, and reading goes on, so one run
//! reports every problem.

// Errors here are one per rules item, on the cold path, and carry the
// whole diagnostic; boxing them would buy nothing measurable.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use palisade_model::{yaml::parse_stream, Node, Source, SourceFile, Value};

use crate::diagnostic::{Context, Diagnostic, ItemKind, Level};
use crate::priority::Priority;
use crate::text::{ScalarMap, Text};

/// The Falco engine version whose rules language Palisade implements.
pub const ENGINE_VERSION: (u64, u64, u64) = (0, 63, 0);

/// An ordered collection with lookup by name, like Falco's `indexed_vector`.
#[derive(Debug, Clone)]
pub(crate) struct Indexed<T> {
    pub items: Vec<T>,
    by_name: HashMap<String, usize>,
}

impl<T> Default for Indexed<T> {
    fn default() -> Self {
        Indexed {
            items: Vec::new(),
            by_name: HashMap::new(),
        }
    }
}

impl<T> Indexed<T> {
    pub fn get(&self, name: &str) -> Option<&T> {
        self.by_name.get(name).map(|&i| &self.items[i])
    }
    pub fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        self.by_name.get(name).map(|&i| &mut self.items[i])
    }
    pub fn position(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }
    fn insert(&mut self, name: &str, item: T) {
        match self.by_name.get(name) {
            Some(&i) => self.items[i] = item,
            None => {
                self.by_name.insert(name.to_string(), self.items.len());
                self.items.push(item);
            }
        }
    }
}

/// A `list` as collected.
#[derive(Debug, Clone)]
pub(crate) struct ListInfo {
    pub name: String,
    pub items: Vec<String>,
    pub index: u32,
    pub visibility: u32,
    pub ctx: Context,
}

/// A `macro` as collected.
#[derive(Debug, Clone)]
pub(crate) struct MacroInfo {
    pub name: String,
    pub cond: Text,
    pub index: u32,
    pub visibility: u32,
    pub ctx: Context,
}

/// One entry of an exception's `fields`, `comps` or `values`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Entry {
    Item(String),
    List(Vec<Entry>),
}

/// A rule exception as collected.
#[derive(Debug, Clone)]
pub(crate) struct ExceptionInfo {
    pub name: String,
    pub fields: Option<Entry>,
    pub comps: Option<Entry>,
    pub values: Vec<Entry>,
    pub ctx: Context,
    pub map: Option<Arc<ScalarMap>>,
}

/// A `rule` as collected.
#[derive(Debug, Clone)]
pub(crate) struct RuleInfo {
    pub name: String,
    pub cond: Text,
    pub output: Text,
    pub desc: String,
    pub priority: Priority,
    pub source: String,
    pub enabled: bool,
    pub tags: BTreeSet<String>,
    pub exceptions: Vec<ExceptionInfo>,
    pub skip_if_unknown_filter: bool,
    pub unknown_source: bool,
    pub index: u32,
    pub visibility: u32,
    pub ctx: Context,
}

/// A required plugin and its accepted alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRequirement {
    /// `(name, version)` pairs; any one satisfies the requirement.
    pub alternatives: Vec<(String, String)>,
}

/// Everything read from the rules files, before compilation.
#[derive(Debug, Default)]
pub(crate) struct Collection {
    pub lists: Indexed<ListInfo>,
    pub macros: Indexed<MacroInfo>,
    pub rules: Indexed<RuleInfo>,
    pub required_engine_version: Option<(u64, u64, u64)>,
    pub required_plugins: Vec<PluginRequirement>,
    cur_index: u32,
}

/// Reads rules files in order into a [`Collection`], gathering diagnostics.
#[derive(Debug)]
pub(crate) struct Reader<'s> {
    pub col: Collection,
    pub diags: Vec<Diagnostic>,
    pub files: Vec<Source>,
    known_sources: &'s [String],
}

type R<T> = Result<T, Diagnostic>;

/// The update an `append` or `override` brings to a rule.
#[derive(Debug, Default)]
struct RuleUpdate {
    cond: Option<Text>,
    output: Option<Text>,
    desc: Option<String>,
    tags: Option<BTreeSet<String>>,
    exceptions: Option<Vec<ExceptionInfo>>,
    priority: Option<Priority>,
    enabled: Option<bool>,
    skip_if_unknown_filter: Option<bool>,
    replaced_other: bool,
}

impl RuleUpdate {
    fn has_any_value(&self) -> bool {
        self.cond.is_some()
            || self.output.is_some()
            || self.desc.is_some()
            || self.tags.is_some()
            || self.exceptions.is_some()
            || self.priority.is_some()
            || self.enabled.is_some()
            || self.skip_if_unknown_filter.is_some()
            || self.replaced_other
    }
}

const RULE_APPENDABLE: &[&str] = &["condition", "output", "desc", "tags", "exceptions"];
const RULE_REPLACEABLE: &[&str] = &[
    "condition",
    "output",
    "desc",
    "priority",
    "capture",
    "capture_duration",
    "tags",
    "exceptions",
    "enabled",
    "warn_evttypes",
    "skip-if-unknown-filter",
];

impl<'s> Reader<'s> {
    pub fn new(known_sources: &'s [String]) -> Self {
        Reader {
            col: Collection::default(),
            diags: Vec::new(),
            files: Vec::new(),
            known_sources,
        }
    }

    /// Reads one rules file's text. Returns whether it had no error.
    pub fn read(&mut self, name: &str, text: String) -> bool {
        let source: Source = Arc::new(SourceFile::new(name, text));
        self.files.push(source.clone());
        let errors_before = self.error_count();
        let (docs, yaml_errors) = parse_stream(&source);
        for e in yaml_errors {
            self.diags.push(Diagnostic {
                level: Level::Error,
                code: "LOAD_ERR_YAML_PARSE",
                message: e.message,
                file: name.to_string(),
                line: e.span.start.line,
                column: e.span.start.column,
                item_kind: ItemKind::Other,
                item_name: String::new(),
                source_line: None,
            });
        }
        let file: Arc<str> = Arc::from(name);
        for doc in docs {
            let root = &doc.root;
            if root.is_null() {
                continue;
            }
            let ctx = Context {
                file: file.clone(),
                pos: root.span.start,
                kind: ItemKind::Other,
                name: String::new(),
            };
            let Some(items) = root.as_seq() else {
                let msg = if root.as_map().is_some() {
                    "Rules content is not yaml array of objects"
                } else {
                    "Rules content is not yaml"
                };
                self.diags
                    .push(ctx.diag(Level::Error, "LOAD_ERR_YAML_VALIDATE", msg, None));
                continue;
            };
            for item in items {
                if item.is_null() {
                    continue;
                }
                if let Err(d) = self.read_item(&source, &file, item) {
                    self.diags.push(d);
                }
            }
        }
        self.error_count() == errors_before
    }

    fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    fn warn(&mut self, ctx: &Context, code: &'static str, msg: impl Into<String>) {
        self.diags.push(ctx.diag(Level::Warning, code, msg, None));
    }

    fn read_item(&mut self, src: &SourceFile, file: &Arc<str>, item: &Node) -> R<()> {
        let mut ctx = Context {
            file: file.clone(),
            pos: item.span.start,
            kind: ItemKind::Other,
            name: String::new(),
        };
        if item.as_map().is_none() {
            return Err(ctx.diag(
                Level::Error,
                "LOAD_ERR_YAML_VALIDATE",
                "Unexpected element type. Each element should be a yaml associative array.",
                None,
            ));
        }
        if item.get("required_engine_version").is_some() {
            ctx.kind = ItemKind::RequiredEngineVersion;
            self.read_engine_version(src, item, &ctx)?;
            self.warn_unknown_keys(item, &["required_engine_version"], &ctx);
        } else if let Some(plugins) = item.get("required_plugin_versions") {
            ctx.kind = ItemKind::RequiredPluginVersions;
            self.read_plugin_versions(src, plugins, &ctx)?;
            self.warn_unknown_keys(item, &["required_plugin_versions"], &ctx);
        } else if item.get("list").is_some() {
            ctx.kind = ItemKind::List;
            ctx.name = decode_str(src, item, "list", &ctx)?;
            self.read_list(src, item, &ctx)?;
            self.warn_unknown_keys(item, &["list", "items", "append", "override"], &ctx);
        } else if item.get("macro").is_some() {
            ctx.kind = ItemKind::Macro;
            ctx.name = decode_str(src, item, "macro", &ctx)?;
            self.read_macro(src, item, &ctx)?;
            self.warn_unknown_keys(item, &["macro", "condition", "append", "override"], &ctx);
        } else if item.get("rule").is_some() {
            ctx.kind = ItemKind::Rule;
            ctx.name = decode_str(src, item, "rule", &ctx)?;
            self.read_rule(src, item, &ctx)?;
            self.warn_unknown_keys(
                item,
                &[
                    "rule",
                    "condition",
                    "output",
                    "desc",
                    "priority",
                    "source",
                    "enabled",
                    "capture",
                    "capture_duration",
                    "warn_evttypes",
                    "skip-if-unknown-filter",
                    "tags",
                    "exceptions",
                    "override",
                    "append",
                ],
                &ctx,
            );
        } else {
            self.warn(&ctx, "LOAD_UNKNOWN_ITEM", "Unknown top level item");
        }
        Ok(())
    }

    fn warn_unknown_keys(&mut self, item: &Node, expected: &[&str], ctx: &Context) {
        for (k, _) in item.entries() {
            let key = k.key_text();
            if !expected.contains(&key.as_str()) {
                self.warn(
                    ctx,
                    "LOAD_UNKNOWN_KEY",
                    format!("Unknown key '{key}'. The key will be ignored."),
                );
            }
        }
    }

    fn read_engine_version(&mut self, src: &SourceFile, item: &Node, ctx: &Context) -> R<()> {
        let text = decode_str(src, item, "required_engine_version", ctx)?;
        let version = if let Ok(minor) = text.parse::<u64>() {
            (0, minor, 0)
        } else {
            parse_semver(&text).ok_or_else(|| {
                ctx.diag(
                    Level::Error,
                    "LOAD_ERR_YAML_VALIDATE",
                    format!("Unable to parse engine version '{text}' as a semver string. Expected \"x.y.z\" semver format."),
                    None,
                )
            })?
        };
        let engine = ENGINE_VERSION;
        if version.0 != engine.0 || version > engine {
            return Err(ctx.diag(
                Level::Error,
                "LOAD_ERR_VALIDATE",
                format!(
                    "Rules require engine version {}.{}.{}, but engine version is {}.{}.{}",
                    version.0, version.1, version.2, engine.0, engine.1, engine.2
                ),
                None,
            ));
        }
        if self.col.required_engine_version.is_none_or(|v| v < version) {
            self.col.required_engine_version = Some(version);
        }
        Ok(())
    }

    fn read_plugin_versions(&mut self, src: &SourceFile, plugins: &Node, ctx: &Context) -> R<()> {
        let err = |msg: String, node: &Node| {
            ctx.diag(
                Level::Error,
                "LOAD_ERR_YAML_VALIDATE",
                msg,
                Some((ctx.file.clone(), node.span.start)),
            )
        };
        let Some(list) = plugins.as_seq() else {
            return Err(err(
                "Value of required_plugin_versions must be a sequence".into(),
                plugins,
            ));
        };
        for plugin in list {
            if plugin.as_map().is_none() {
                return Err(err("Plugin version must be a mapping".into(), plugin));
            }
            let mut req = PluginRequirement {
                alternatives: Vec::new(),
            };
            let mut entries = vec![plugin];
            if let Some(alts) = plugin.get("alternatives") {
                let Some(alts) = alts.as_seq() else {
                    return Err(err(
                        "Value of plugin version alternatives must be a sequence".into(),
                        alts,
                    ));
                };
                for alt in alts {
                    if alt.as_map().is_none() {
                        return Err(err(
                            "Plugin version alternative must be a mapping".into(),
                            alt,
                        ));
                    }
                    entries.push(alt);
                }
            }
            for e in entries {
                let name = decode_str(src, e, "name", ctx)?;
                let version = decode_str(src, e, "version", ctx)?;
                if parse_semver(&version).is_none() {
                    return Err(err(
                        format!("Invalid required version '{version}' for plugin '{name}'"),
                        e,
                    ));
                }
                if req.alternatives.iter().any(|(n, _)| *n == name) {
                    return Err(err(
                        format!(
                            "Defined multiple alternative version requirements for plugin '{name}'"
                        ),
                        e,
                    ));
                }
                req.alternatives.push((name, version));
            }
            self.col.required_plugins.push(req);
        }
        Ok(())
    }

    /// Reads how an item changes an earlier one of its name: the deprecated
    /// `append: true` (warned about) or `override:` keys, never both. Returns
    /// the append flag and the keys to append and to replace.
    fn read_change_mode(
        &mut self,
        src: &SourceFile,
        item: &Node,
        appendable: &[&str],
        replaceable: &[&str],
        ctx: &Context,
    ) -> R<(bool, Vec<String>, Vec<String>)> {
        let append_flag = decode_opt_bool(src, item, "append", ctx)?.unwrap_or(false);
        if append_flag {
            self.warn(ctx, "LOAD_DEPRECATED_ITEM", WARNING_APPEND);
        }
        let (ov_append, ov_replace) =
            self.read_overrides(src, item, appendable, replaceable, ctx)?;
        if append_flag && (!ov_append.is_empty() || !ov_replace.is_empty()) {
            return Err(ctx.diag(
                Level::Error,
                "LOAD_ERR_YAML_VALIDATE",
                ERROR_OVERRIDE_APPEND,
                None,
            ));
        }
        Ok((append_flag, ov_append, ov_replace))
    }

    /// Reads `override:`; returns the keys to append and to replace.
    fn read_overrides(
        &mut self,
        src: &SourceFile,
        item: &Node,
        appendable: &[&str],
        replaceable: &[&str],
        ctx: &Context,
    ) -> R<(Vec<String>, Vec<String>)> {
        let (mut append, mut replace) = (Vec::new(), Vec::new());
        let Some(ov) = item.get("override") else {
            return Ok((append, replace));
        };
        for (k, v) in ov.entries() {
            let key = k.key_text();
            let at = Some((ctx.file.clone(), k.span.start));
            let operation = scalar_text(src, v).unwrap_or_default();
            let can_append = appendable.contains(&key.as_str());
            let can_replace = replaceable.contains(&key.as_str());
            match operation.as_str() {
                "append" => {
                    if !can_append {
                        return Err(ctx.diag(
                            Level::Error,
                            "LOAD_ERR_YAML_VALIDATE",
                            format!("Key '{key}' cannot be appended to, use 'replace' instead"),
                            at,
                        ));
                    }
                    append.push(key);
                }
                "replace" => {
                    if !can_replace {
                        return Err(ctx.diag(
                            Level::Error,
                            "LOAD_ERR_YAML_VALIDATE",
                            format!("Key '{key}' cannot be replaced"),
                            at,
                        ));
                    }
                    replace.push(key);
                }
                other => {
                    let mut allowed = String::new();
                    if can_append {
                        allowed.push_str("append ");
                    }
                    if can_replace {
                        allowed.push_str("replace ");
                    }
                    return Err(ctx.diag(
                        Level::Error,
                        "LOAD_ERR_YAML_VALIDATE",
                        format!("Invalid override operation for key '{key}': '{other}'. Allowed values are: {allowed}"),
                        Some((ctx.file.clone(), v.span.start)),
                    ));
                }
            }
        }
        Ok((append, replace))
    }

    fn read_list(&mut self, src: &SourceFile, item: &Node, ctx: &Context) -> R<()> {
        if !is_bare_str(&ctx.name) {
            self.warn(
                ctx,
                "LOAD_INVALID_LIST_NAME",
                "List has an invalid name. List names should match a regular expression: ([^()\"'[:space:]=,]+)",
            );
        }
        let items = decode_items(src, item, ctx)?;
        let (append_flag, ov_append, _) =
            self.read_change_mode(src, item, &["items"], &["items"], ctx)?;
        let append = append_flag || !ov_append.is_empty();
        let id = self.col.cur_index;
        self.col.cur_index += 1;
        if append {
            let Some(prev) = self.col.lists.get_mut(&ctx.name) else {
                return Err(ctx.diag(
                    Level::Error,
                    "LOAD_ERR_VALIDATE",
                    ERROR_NO_PREVIOUS_LIST,
                    None,
                ));
            };
            prev.items.extend(items);
            prev.visibility = id;
        } else {
            let index = self.col.lists.get(&ctx.name).map_or(id, |p| p.index);
            let name = ctx.name.clone();
            self.col.lists.insert(
                &name,
                ListInfo {
                    name: name.clone(),
                    items,
                    index,
                    visibility: id,
                    ctx: ctx.clone(),
                },
            );
        }
        Ok(())
    }

    fn read_macro(&mut self, src: &SourceFile, item: &Node, ctx: &Context) -> R<()> {
        if !is_identifier(&ctx.name) {
            self.warn(
                ctx,
                "LOAD_INVALID_MACRO_NAME",
                "Macro has an invalid name. Macro names should match a regular expression: ([a-zA-Z]+[a-zA-Z0-9_]*)",
            );
        }
        let cond = decode_text(src, item, "condition", ctx)?;
        let (append_flag, ov_append, _) =
            self.read_change_mode(src, item, &["condition"], &["condition"], ctx)?;
        let append = append_flag || !ov_append.is_empty();
        let id = self.col.cur_index;
        self.col.cur_index += 1;
        if append {
            let Some(prev) = self.col.macros.get_mut(&ctx.name) else {
                return Err(ctx.diag(
                    Level::Error,
                    "LOAD_ERR_VALIDATE",
                    ERROR_NO_PREVIOUS_MACRO,
                    None,
                ));
            };
            prev.cond.push_str(" ");
            prev.cond.push_text(&cond);
            prev.visibility = id;
        } else {
            let index = self.col.macros.get(&ctx.name).map_or(id, |p| p.index);
            let name = ctx.name.clone();
            self.col.macros.insert(
                &name,
                MacroInfo {
                    name: name.clone(),
                    cond,
                    index,
                    visibility: id,
                    ctx: ctx.clone(),
                },
            );
        }
        Ok(())
    }

    /// The keys an override may append to or replace alike; `take(key)`
    /// says whether the override names `key` (an error if the item lacks it).
    fn read_rule_update(
        &mut self,
        src: &SourceFile,
        item: &Node,
        ctx: &Context,
        append: bool,
        take: &mut dyn FnMut(&str) -> R<bool>,
    ) -> R<RuleUpdate> {
        let mut update = RuleUpdate::default();
        if take("condition")? {
            update.cond = Some(decode_text(src, item, "condition", ctx)?);
        }
        if take("exceptions")? {
            update.exceptions = Some(self.read_exceptions(src, item, ctx, append)?);
        }
        if take("output")? {
            update.output = Some(decode_text(src, item, "output", ctx)?);
        }
        if take("desc")? {
            update.desc = Some(decode_str(src, item, "desc", ctx)?);
        }
        if take("tags")? {
            update.tags = Some(decode_tags(src, item, ctx)?);
        }
        Ok(update)
    }

    fn read_rule(&mut self, src: &SourceFile, item: &Node, ctx: &Context) -> R<()> {
        let source = decode_opt_str(src, item, "source", ctx, true)?.unwrap_or_default();
        let (append_flag, ov_append, ov_replace) =
            self.read_change_mode(src, item, RULE_APPENDABLE, RULE_REPLACEABLE, ctx)?;
        let has_overrides = !ov_append.is_empty() || !ov_replace.is_empty();
        if has_overrides {
            // Keys present that may be overridden must each have an override entry.
            let mut expected: BTreeSet<&str> = RULE_APPENDABLE
                .iter()
                .chain(RULE_REPLACEABLE)
                .copied()
                .filter(|k| item.get(k).is_some())
                .collect();
            let mut take = |key: &str, kind: &str, set: &[String]| -> R<bool> {
                if !set.iter().any(|s| s == key) {
                    return Ok(false);
                }
                if !expected.remove(key) {
                    return Err(ctx.diag(
                        Level::Error,
                        "LOAD_ERR_YAML_VALIDATE",
                        format!("An {kind} override for '{key}' was specified but '{key}' is not defined"),
                        None,
                    ));
                }
                Ok(true)
            };
            let mut append_update = RuleUpdate::default();
            if !ov_append.is_empty() {
                append_update = self.read_rule_update(src, item, ctx, true, &mut |key| {
                    take(key, "append", &ov_append)
                })?;
            }
            let mut replace_update = RuleUpdate::default();
            if !ov_replace.is_empty() {
                replace_update = self.read_rule_update(src, item, ctx, false, &mut |key| {
                    take(key, "replace", &ov_replace)
                })?;
                if take("priority", "replace", &ov_replace)? {
                    replace_update.priority = Some(decode_priority(src, item, ctx)?);
                }
                if take("enabled", "replace", &ov_replace)? {
                    replace_update.enabled = decode_opt_bool(src, item, "enabled", ctx)?;
                }
                if take("skip-if-unknown-filter", "replace", &ov_replace)? {
                    replace_update.skip_if_unknown_filter =
                        decode_opt_bool(src, item, "skip-if-unknown-filter", ctx)?;
                }
                for key in ["capture", "capture_duration", "warn_evttypes"] {
                    if take(key, "replace", &ov_replace)? {
                        // Accepted for compatibility; they do not apply to Palisade.
                        replace_update.replaced_other = true;
                    }
                }
            }
            if let Some(key) = expected.iter().next() {
                let at = item
                    .entry(key)
                    .map(|(k, _)| (ctx.file.clone(), k.span.start));
                return Err(ctx.diag(
                    Level::Error,
                    "LOAD_ERR_YAML_VALIDATE",
                    format!("Unexpected key '{key}': no corresponding entry under 'override' is defined."),
                    at,
                ));
            }
            if !ov_append.is_empty() {
                self.append_rule(ctx, &source, append_update)?;
            }
            if !ov_replace.is_empty() {
                self.replace_rule(ctx, &source, replace_update)?;
            }
            return Ok(());
        }
        if append_flag {
            let mut update = RuleUpdate::default();
            if item.get("condition").is_some() {
                update.cond = Some(decode_text(src, item, "condition", ctx)?);
            }
            if item.get("exceptions").is_some() {
                update.exceptions = Some(self.read_exceptions(src, item, ctx, true)?);
            }
            return self.append_rule(ctx, &source, update);
        }
        if item.get("condition").is_none()
            && item.get("output").is_none()
            && item.get("desc").is_none()
            && item.get("priority").is_none()
        {
            // A bare `enabled:` toggles an earlier rule.
            let enabled = decode_bool(src, item, "enabled", ctx)?;
            self.warn(ctx, "LOAD_DEPRECATED_ITEM", WARNING_ENABLED);
            let Some(prev) = self.col.rules.get_mut(&ctx.name) else {
                return Err(ctx.diag(
                    Level::Error,
                    "LOAD_ERR_VALIDATE",
                    "Rule has 'enabled' key but no rule by that name already exists",
                    None,
                ));
            };
            prev.enabled = enabled;
            return Ok(());
        }
        let cond = decode_text(src, item, "condition", ctx)?;
        let mut output = decode_text(src, item, "output", ctx)?;
        let trimmed = output.text.trim();
        if trimmed.len() != output.text.len() {
            let lead = output.text.len() - output.text.trim_start().len();
            let end = lead + trimmed.len();
            let kept = output.text[lead..end].to_string();
            output = output.replace_range(end..output.text.len(), "");
            output = output.replace_range(0..lead, "");
            debug_assert_eq!(output.text, kept);
        }
        let desc = decode_str(src, item, "desc", ctx)?;
        let priority = decode_priority(src, item, ctx)?;
        let source = if source.is_empty() {
            "syscall".to_string()
        } else {
            source
        };
        let enabled = decode_opt_bool(src, item, "enabled", ctx)?.unwrap_or(true);
        let skip = decode_opt_bool(src, item, "skip-if-unknown-filter", ctx)?.unwrap_or(false);
        for key in ["capture", "warn_evttypes"] {
            decode_opt_bool(src, item, key, ctx)?;
        }
        let tags = decode_tags(src, item, ctx)?;
        let exceptions = self.read_exceptions(src, item, ctx, false)?;
        if let Some(prev) = self.col.rules.get(&ctx.name) {
            if prev.source != source {
                return Err(ctx.diag(
                    Level::Error,
                    "LOAD_ERR_VALIDATE",
                    "Rule has been re-defined with a different source",
                    None,
                ));
            }
        }
        let unknown_source = !self.known_sources.contains(&source);
        if unknown_source {
            self.warn(
                ctx,
                "LOAD_UNKNOWN_SOURCE",
                format!("Unknown source {source}, skipping"),
            );
        }
        for ex in &exceptions {
            if ex.fields.is_none() {
                return Err(ex.ctx.diag(
                    Level::Error,
                    "LOAD_ERR_VALIDATE",
                    "Rule exception item must have fields property with a list of fields",
                    None,
                ));
            }
        }
        let mut exceptions = exceptions;
        for ex in &mut exceptions {
            validate_exception(ex)?;
        }
        let id = self.col.cur_index;
        self.col.cur_index += 1;
        let index = self.col.rules.get(&ctx.name).map_or(id, |p| p.index);
        let name = ctx.name.clone();
        self.col.rules.insert(
            &name,
            RuleInfo {
                name: name.clone(),
                cond,
                output,
                desc,
                priority,
                source,
                enabled,
                tags,
                exceptions,
                skip_if_unknown_filter: skip,
                unknown_source,
                index,
                visibility: id,
                ctx: ctx.clone(),
            },
        );
        Ok(())
    }

    fn prev_rule(&mut self, ctx: &Context, source: &str, missing: &str) -> R<&mut RuleInfo> {
        let Some(prev) = self.col.rules.get_mut(&ctx.name) else {
            return Err(ctx.diag(Level::Error, "LOAD_ERR_VALIDATE", missing.to_string(), None));
        };
        if !source.is_empty() && prev.source != source {
            return Err(ctx.diag(
                Level::Error,
                "LOAD_ERR_VALIDATE",
                "Rule has been re-defined with a different source",
                None,
            ));
        }
        Ok(prev)
    }

    fn append_rule(&mut self, ctx: &Context, source: &str, update: RuleUpdate) -> R<()> {
        let id = self.col.cur_index;
        self.col.cur_index += 1;
        let has_value = update.has_any_value();
        let prev = self.prev_rule(ctx, source, ERROR_NO_PREVIOUS_RULE_APPEND)?;
        if !has_value {
            return Err(ctx.diag(
                Level::Error,
                "LOAD_ERR_VALIDATE",
                "Appended rule must have exceptions or condition property",
                None,
            ));
        }
        if let Some(cond) = update.cond.filter(|c| !c.text.is_empty()) {
            prev.cond.push_str(" ");
            prev.cond.push_text(&cond);
        }
        if let Some(output) = update.output.filter(|c| !c.text.is_empty()) {
            prev.output.push_str(" ");
            prev.output.push_text(&output);
        }
        if let Some(desc) = update.desc.filter(|c| !c.is_empty()) {
            prev.desc.push(' ');
            prev.desc.push_str(&desc);
        }
        if let Some(tags) = update.tags {
            prev.tags.extend(tags);
        }
        if let Some(exceptions) = update.exceptions {
            for mut ex in exceptions {
                match prev.exceptions.iter_mut().find(|e| e.name == ex.name) {
                    None => {
                        if ex.fields.is_none() {
                            return Err(ex.ctx.diag(
                                Level::Error,
                                "LOAD_ERR_VALIDATE",
                                "Rule exception must have fields property with a list of fields",
                                None,
                            ));
                        }
                        if ex.values.is_empty() {
                            return Err(ex.ctx.diag(
                                Level::Error,
                                "LOAD_ERR_VALIDATE",
                                "Rule exception must have values property with a list of values",
                                None,
                            ));
                        }
                        validate_exception(&mut ex)?;
                        prev.exceptions.push(ex);
                    }
                    Some(existing) => {
                        if ex.fields.is_some() {
                            return Err(ex.ctx.diag(
                                Level::Error,
                                "LOAD_ERR_VALIDATE",
                                "Can not append exception fields to existing exception, only values",
                                None,
                            ));
                        }
                        if ex.comps.is_some() {
                            return Err(ex.ctx.diag(
                                Level::Error,
                                "LOAD_ERR_VALIDATE",
                                "Can not append exception comps to existing exception, only values",
                                None,
                            ));
                        }
                        existing.values.extend(ex.values);
                    }
                }
            }
        }
        prev.visibility = id;
        Ok(())
    }

    fn replace_rule(&mut self, ctx: &Context, source: &str, update: RuleUpdate) -> R<()> {
        let id = self.col.cur_index;
        self.col.cur_index += 1;
        let has_value = update.has_any_value();
        let prev = self.prev_rule(ctx, source, ERROR_NO_PREVIOUS_RULE_REPLACE)?;
        if !has_value {
            return Err(ctx.diag(
                Level::Error,
                "LOAD_ERR_VALIDATE",
                "The rule must have at least one field that can be replaced",
                None,
            ));
        }
        if let Some(v) = update.cond {
            prev.cond = v;
        }
        if let Some(v) = update.output {
            prev.output = v;
        }
        if let Some(v) = update.desc {
            prev.desc = v;
        }
        if let Some(v) = update.tags {
            prev.tags = v;
        }
        if let Some(mut v) = update.exceptions {
            for ex in &mut v {
                validate_exception(ex)?;
            }
            prev.exceptions = v;
        }
        if let Some(v) = update.priority {
            prev.priority = v;
        }
        if let Some(v) = update.enabled {
            prev.enabled = v;
        }
        if let Some(v) = update.skip_if_unknown_filter {
            prev.skip_if_unknown_filter = v;
        }
        prev.visibility = id;
        Ok(())
    }

    fn read_exceptions(
        &mut self,
        src: &SourceFile,
        item: &Node,
        parent: &Context,
        append: bool,
    ) -> R<Vec<ExceptionInfo>> {
        let mut out: Vec<ExceptionInfo> = Vec::new();
        let Some(exs) = item.get("exceptions") else {
            return Ok(out);
        };
        if exs.is_null() {
            return Ok(out);
        }
        let at = |n: &Node| Some((parent.file.clone(), n.span.start));
        let Some(list) = exs.as_seq() else {
            return Err(parent.diag(
                Level::Error,
                "LOAD_ERR_YAML_VALIDATE",
                "Rule exceptions must be a sequence",
                at(exs),
            ));
        };
        for ex in list {
            if ex.as_map().is_none() {
                return Err(parent.diag(
                    Level::Error,
                    "LOAD_ERR_YAML_VALIDATE",
                    "Rule exception must be a mapping",
                    at(ex),
                ));
            }
            let name = decode_str(src, ex, "name", parent)?;
            let ctx = Context {
                file: parent.file.clone(),
                pos: ex.span.start,
                kind: parent.kind,
                name: parent.name.clone(),
            };
            if out.iter().any(|e| e.name == name) {
                self.warn(
                    &ctx,
                    "LOAD_EXCEPTION_NAME_NOT_UNIQUE",
                    format!("Multiple definitions of exception '{name}' in the same rule"),
                );
            }
            let fields = match ex.get("fields") {
                None if append => None,
                None => {
                    return Err(ctx.diag(
                        Level::Error,
                        "LOAD_ERR_YAML_VALIDATE",
                        "Item has no mapping for key 'fields'",
                        None,
                    ))
                }
                Some(node) => Some(decode_entry(src, node, &ctx)?),
            };
            let comps = ex
                .get("comps")
                .map(|node| decode_entry(src, node, &ctx))
                .transpose()?;
            let mut values = Vec::new();
            match ex.get("values") {
                Some(vals) => {
                    let Some(vals_list) = vals.as_seq() else {
                        if vals.is_null() {
                            // An empty `values:` is an empty list.
                            out.push(ExceptionInfo {
                                name,
                                fields,
                                comps,
                                values,
                                ctx,
                                map: Some(Arc::new(ScalarMap::at(
                                    parent.file.clone(),
                                    ex.span.start,
                                ))),
                            });
                            continue;
                        }
                        return Err(ctx.diag(
                            Level::Error,
                            "LOAD_ERR_YAML_VALIDATE",
                            "Rule exception values must be a sequence",
                            at(vals),
                        ));
                    };
                    for v in vals_list {
                        values.push(decode_entry(src, v, &ctx)?);
                    }
                }
                None if append => self.warn(
                    &ctx,
                    "LOAD_APPEND_NO_VALUES",
                    "Overriding/appending exception with no values",
                ),
                None => {}
            }
            out.push(ExceptionInfo {
                name,
                fields,
                comps,
                values,
                map: Some(Arc::new(ScalarMap::at(parent.file.clone(), ex.span.start))),
                ctx,
            });
        }
        Ok(out)
    }
}

/// Checks and completes an exception as Falco's collector does: default
/// comparators (`=` per field, or `in` for a single field), equal lengths,
/// known operators.
fn validate_exception(ex: &mut ExceptionInfo) -> R<()> {
    let err = |msg: String| ex.ctx.diag(Level::Error, "LOAD_ERR_VALIDATE", msg, None);
    match &ex.fields {
        Some(Entry::List(fields)) => {
            let comps = match &ex.comps {
                None => {
                    let v = vec![Entry::Item("=".into()); fields.len()];
                    ex.comps = Some(Entry::List(v.clone()));
                    v
                }
                Some(Entry::List(c)) => c.clone(),
                Some(Entry::Item(_)) => {
                    return Err(err("Fields and comps lists must have equal length".into()))
                }
            };
            if comps.len() != fields.len() {
                return Err(err("Fields and comps lists must have equal length".into()));
            }
            let mut normalized = Vec::with_capacity(comps.len());
            for c in comps {
                let Entry::Item(op) = c else {
                    return Err(err("Fields and comps lists must have equal length".into()));
                };
                let op = op.trim().to_string();
                if !crate::condition::supported_operators().contains(&op.as_str())
                    && !crate::condition::is_op_with_modifier(&op)
                {
                    return Err(err(format!(
                        "'{op}' is not a supported comparison operator"
                    )));
                }
                normalized.push(Entry::Item(op));
            }
            ex.comps = Some(Entry::List(normalized));
        }
        Some(Entry::Item(_)) => {
            let comp = match &ex.comps {
                None => "in".to_string(),
                Some(Entry::Item(c)) => c.trim().to_string(),
                Some(Entry::List(_)) => {
                    return Err(err("Fields and comps must both be strings".into()))
                }
            };
            if !matches!(comp.as_str(), "in" | "pmatch" | "intersects")
                && !crate::condition::is_op_with_modifier(&comp)
            {
                return Err(err("When fields is a single value, comps must be one of (in, pmatch, intersects) or a modifier operator (e.g. startswith oneof)".into()));
            }
            ex.comps = Some(Entry::Item(comp));
        }
        None => {}
    }
    Ok(())
}

const WARNING_APPEND: &str = "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const WARNING_ENABLED: &str = "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace').";
const ERROR_OVERRIDE_APPEND: &str = "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";
const ERROR_NO_PREVIOUS_MACRO: &str =
    "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists";
const ERROR_NO_PREVIOUS_LIST: &str =
    "List uses 'append' or 'override.items: append' but no list by that name already exists";
const ERROR_NO_PREVIOUS_RULE_APPEND: &str =
    "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists";
const ERROR_NO_PREVIOUS_RULE_REPLACE: &str =
    "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists";

/// `x.y.z` (a leading `v` and a pre-release suffix tolerated).
fn parse_semver(text: &str) -> Option<(u64, u64, u64)> {
    let t = text.trim().trim_start_matches('v');
    let core = t.split(['-', '+']).next()?;
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((major, minor, patch))
}

fn is_identifier(name: &str) -> bool {
    let b = name.as_bytes();
    b.first().is_some_and(|c| c.is_ascii_alphabetic())
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

fn is_bare_str(name: &str) -> bool {
    !name.is_empty()
        && !name.bytes().any(|c| {
            matches!(c, b'(' | b')' | b'"' | b'\'' | b'=' | b',') || c.is_ascii_whitespace()
        })
}

/// The text of a scalar as Falco's YAML library gives it: a string's value,
/// or for a plain scalar that YAML resolves to a number or boolean, the text
/// as written (`0755` stays `0755`, `yes` stays `yes`).
pub(crate) fn scalar_text(src: &SourceFile, node: &Node) -> Option<String> {
    match &node.value {
        Value::Str { text } => Some(text.to_string()),
        Value::Seq(_) | Value::Map(_) => None,
        Value::Null => Some(String::new()),
        _ => {
            let from = crate::text::byte_of(src, node.span.start)?;
            let to = crate::text::byte_of(src, node.span.end)?;
            let raw = src.text.get(from..to.max(from))?.trim();
            if raw.is_empty() {
                Some(node.display_value())
            } else {
                Some(raw.to_string())
            }
        }
    }
}

fn value_err(ctx: &Context, node: &Node, msg: impl Into<String>) -> Diagnostic {
    ctx.diag(
        Level::Error,
        "LOAD_ERR_YAML_VALIDATE",
        msg,
        Some((ctx.file.clone(), node.span.start)),
    )
}

fn required<'n>(item: &'n Node, key: &str, ctx: &Context) -> R<&'n Node> {
    item.get(key).ok_or_else(|| {
        ctx.diag(
            Level::Error,
            "LOAD_ERR_YAML_VALIDATE",
            format!("Item has no mapping for key '{key}'"),
            None,
        )
    })
}

fn decode_str(src: &SourceFile, item: &Node, key: &str, ctx: &Context) -> R<String> {
    let node = required(item, key, ctx)?;
    decode_node_str(src, node, key, ctx, false)
}

fn decode_node_str(
    src: &SourceFile,
    node: &Node,
    key: &str,
    ctx: &Context,
    can_be_empty: bool,
) -> R<String> {
    if node.is_null() {
        if can_be_empty {
            return Ok(String::new());
        }
        return Err(value_err(
            ctx,
            node,
            format!("Mapping for key '{key}' is empty"),
        ));
    }
    let Some(text) = scalar_text(src, node) else {
        return Err(value_err(ctx, node, "Value is not a scalar value"));
    };
    if text.is_empty() && !can_be_empty {
        return Err(value_err(ctx, node, "Value must be non-empty"));
    }
    Ok(text)
}

fn decode_opt_str(
    src: &SourceFile,
    item: &Node,
    key: &str,
    ctx: &Context,
    can_be_empty: bool,
) -> R<Option<String>> {
    match item.get(key) {
        None => Ok(None),
        Some(node) => decode_node_str(src, node, key, ctx, can_be_empty).map(Some),
    }
}

/// A condition or output: the string, with the map to its file positions.
fn decode_text(src: &SourceFile, item: &Node, key: &str, ctx: &Context) -> R<Text> {
    let node = required(item, key, ctx)?;
    let value = decode_node_str(src, node, key, ctx, false)?;
    let map = Arc::new(ScalarMap::build(src, node, &value));
    Ok(Text::scalar(&value, map))
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

fn decode_bool(src: &SourceFile, item: &Node, key: &str, ctx: &Context) -> R<bool> {
    let node = required(item, key, ctx)?;
    let text = decode_node_str(src, node, key, ctx, false)?;
    parse_bool(&text).ok_or_else(|| value_err(ctx, node, "Can't decode YAML scalar value"))
}

fn decode_opt_bool(src: &SourceFile, item: &Node, key: &str, ctx: &Context) -> R<Option<bool>> {
    if item.get(key).is_none() {
        return Ok(None);
    }
    decode_bool(src, item, key, ctx).map(Some)
}

fn decode_priority(src: &SourceFile, item: &Node, ctx: &Context) -> R<Priority> {
    let node = required(item, "priority", ctx)?;
    let text = decode_node_str(src, node, "priority", ctx, false)?;
    Priority::parse(&text).ok_or_else(|| value_err(ctx, node, "Invalid priority"))
}

fn decode_seq_strings(src: &SourceFile, node: &Node, key: &str, ctx: &Context) -> R<Vec<String>> {
    let Some(items) = node.as_seq() else {
        return Err(value_err(ctx, node, "Value is not a sequence"));
    };
    let mut out = Vec::with_capacity(items.len());
    for v in items {
        if v.is_null() {
            // yaml-cpp gives `~` as the text of a null item.
            out.push(String::new());
            continue;
        }
        let Some(text) = scalar_text(src, v) else {
            return Err(value_err(
                ctx,
                v,
                format!("sequence value is not scalar (in '{key}')"),
            ));
        };
        out.push(text);
    }
    Ok(out)
}

fn decode_items(src: &SourceFile, item: &Node, ctx: &Context) -> R<Vec<String>> {
    let node = required(item, "items", ctx)?;
    decode_seq_strings(src, node, "items", ctx)
}

fn decode_tags(src: &SourceFile, item: &Node, ctx: &Context) -> R<BTreeSet<String>> {
    match item.get("tags") {
        None => Ok(BTreeSet::new()),
        Some(node) => Ok(decode_seq_strings(src, node, "tags", ctx)?
            .into_iter()
            .collect()),
    }
}

fn decode_entry(src: &SourceFile, node: &Node, ctx: &Context) -> R<Entry> {
    if let Some(items) = node.as_seq() {
        let mut out = Vec::with_capacity(items.len());
        for i in items {
            out.push(decode_entry(src, i, ctx)?);
        }
        return Ok(Entry::List(out));
    }
    if node.as_map().is_some() {
        return Err(value_err(ctx, node, "Value is not a scalar value"));
    }
    let text = scalar_text(src, node).unwrap_or_default();
    if text.is_empty() {
        return Err(value_err(ctx, node, "Value must be non-empty"));
    }
    Ok(Entry::Item(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(files: &[(&str, &str)]) -> (Collection, Vec<Diagnostic>) {
        let sources = vec!["syscall".to_string(), "k8s_audit".to_string()];
        let mut r = Reader::new(&sources);
        for (name, text) in files {
            r.read(name, text.to_string());
        }
        (r.col, r.diags)
    }

    #[test]
    fn redefinition_keeps_position_and_append_extends() {
        let (col, diags) = read(&[(
            "a.yaml",
            "- list: l\n  items: [a]\n- list: m\n  items: [b]\n- list: l\n  items: [c]\n- list: l\n  items: [d]\n  override:\n    items: append\n",
        )]);
        assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
        assert_eq!(col.lists.items[0].name, "l");
        assert_eq!(col.lists.items[0].items, vec!["c", "d"]);
        assert_eq!(col.lists.items[0].index, 0);
        assert_eq!(col.lists.items[0].visibility, 3);
    }

    #[test]
    fn override_rules() {
        let base = "- rule: r\n  desc: d\n  condition: a.b = 1\n  output: o\n  priority: info\n  tags: [x]\n";
        let over = "- rule: r\n  condition: and c.d = 2\n  priority: ERROR\n  tags: [y]\n  override:\n    condition: append\n    priority: replace\n    tags: append\n";
        let (col, diags) = read(&[("a.yaml", base), ("b.yaml", over)]);
        assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
        let r = col.rules.get("r").unwrap();
        assert_eq!(r.cond.text, "a.b = 1 and c.d = 2");
        assert_eq!(r.priority, Priority::Error);
        assert_eq!(r.tags.len(), 2);
        // The appended part points into the second file.
        let (file, pos) = r.cond.locate(12).unwrap();
        assert_eq!((&*file, pos.line), ("b.yaml", 2));
    }

    #[test]
    fn override_errors() {
        let base = "- rule: r\n  desc: d\n  condition: a.b = 1\n  output: o\n  priority: info\n";
        let bad = "- rule: r\n  priority: info\n  override:\n    priority: append\n";
        let (_, diags) = read(&[("a.yaml", base), ("b.yaml", bad)]);
        assert!(diags
            .iter()
            .any(|d| d.message.contains("cannot be appended to")));
        let missing = "- rule: r\n  desc: x\n  condition: a\n  override:\n    condition: replace\n";
        let (_, diags) = read(&[("a.yaml", base), ("b.yaml", missing)]);
        assert!(
            diags
                .iter()
                .any(|d| d.message.contains("Unexpected key 'desc'")),
            "{diags:?}"
        );
        let nothing = "- rule: nope\n  condition: a\n  override:\n    condition: append\n";
        let (_, diags) = read(&[("b.yaml", nothing)]);
        assert!(diags
            .iter()
            .any(|d| d.message == ERROR_NO_PREVIOUS_RULE_APPEND));
    }

    #[test]
    fn scalar_text_keeps_yaml11_spellings() {
        let (col, _) = read(&[("a.yaml", "- list: l\n  items: [yes, 0755, 1.10, \"x y\"]\n")]);
        assert_eq!(col.lists.items[0].items, vec!["yes", "0755", "1.10", "x y"]);
    }

    #[test]
    fn missing_keys_and_bad_priority() {
        let (_, diags) = read(&[(
            "a.yaml",
            "- rule: r\n  desc: d\n  condition: a\n  output: o\n  priority: loud\n",
        )]);
        let d = diags.iter().find(|d| d.is_error()).unwrap();
        assert_eq!(d.message, "Invalid priority");
        assert_eq!((d.line, d.column), (5, 13));
        let (_, diags) = read(&[(
            "a.yaml",
            "- rule: r\n  desc: d\n  output: o\n  priority: info\n",
        )]);
        assert!(diags
            .iter()
            .any(|d| d.message == "Item has no mapping for key 'condition'"));
    }
}
