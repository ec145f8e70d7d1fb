//! From the collected lists, macros and rules to compiled rules.
//!
//! The steps are Falco's (`rule_loader_compiler.cpp`): lists referencing
//! earlier lists are expanded one level; list names are substituted into
//! condition text (whole words delimited by blanks, `(`, `)`, `,` or `=`,
//! each item quoted when it has a space); a rule's exceptions become
//! `and not (...)` clauses; macros are inlined, a macro seeing only macros
//! defined before it; then every check is resolved against the rule's source.
//! Unlike Falco, which stops at the first error, every item is compiled on
//! its own: an error drops that item only, and all errors are reported.

// Errors here are one per rules item, on the cold path, and carry the
// whole diagnostic; boxing them would buy nothing measurable.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::condition::{self, Expr, Rhs};
use crate::diagnostic::{Context, Diagnostic, Level};
use crate::loader::{Collection, Entry, ExceptionInfo};
use crate::output::OutputFormat;
use crate::priority::Priority;
use crate::program::{CheckError, CompiledOperand, Node, Op, Program};
use crate::source::FieldSource;
use crate::text::Text;

/// A rule ready to evaluate.
#[derive(Debug)]
pub struct CompiledRule {
    /// Rule name.
    pub name: String,
    /// Description.
    pub desc: String,
    /// Priority.
    pub priority: Priority,
    /// Source name.
    pub source: String,
    /// Tags.
    pub tags: BTreeSet<String>,
    /// Whether the rule is enabled (in the rules files).
    pub enabled: bool,
    /// The condition's entry point in the program's flat code.
    pub(crate) entry: u32,
    /// Fields (by cache slot) the rule needs to have one of a set of values
    /// to match; see [`value_guards`].
    pub(crate) value_guards: BTreeMap<u32, (CompiledOperand, BTreeSet<String>)>,
    /// The output format.
    pub(crate) output: OutputFormat,
    /// Event types the rule can match (`None`: any).
    pub(crate) event_types: Option<BTreeSet<String>>,
    /// The condition after list expansion, exceptions and before macro inlining.
    pub condition: String,
    /// Where the rule is defined.
    pub file: Arc<str>,
    /// Line of the rule's definition.
    pub line: u32,
}

/// Counts of what compiled.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Rules compiled (including disabled ones).
    pub rules: usize,
    /// Macros that parsed and resolved.
    pub macros: usize,
    /// Lists.
    pub lists: usize,
}

struct MacroState {
    name: String,
    text: Text,
    ast: Option<Expr>,
    index: u32,
    visibility: u32,
    ctx: Context,
    used: bool,
}

/// Compiles a collection.
pub(crate) fn compile(
    col: &Collection,
    sources: &[Arc<dyn FieldSource>],
    program: &mut Program,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<CompiledRule>, Counts) {
    let mut counts = Counts::default();
    // 1. Lists: items naming an earlier list take its items (one level).
    let mut lists: Vec<(String, Vec<String>)> = Vec::with_capacity(col.lists.items.len());
    let mut list_used = vec![false; col.lists.items.len()];
    for list in &col.lists.items {
        let mut items = Vec::with_capacity(list.items.len());
        for item in &list.items {
            match col.lists.get(item) {
                Some(r) if r.index < list.visibility => {
                    if let Some(p) = col.lists.position(item) {
                        list_used[p] = true;
                    }
                    items.extend(r.items.iter().cloned());
                }
                _ => items.push(item.clone()),
            }
        }
        lists.push((list.name.clone(), items));
    }
    counts.lists = lists.len();

    // 2. Macros: substitute lists, parse.
    let mut macros: Vec<MacroState> = Vec::with_capacity(col.macros.items.len());
    for m in &col.macros.items {
        let text = substitute_lists(&m.cond, &lists, &mut list_used);
        let ast = match condition::parse(&text.text) {
            Ok(ast) => Some(ast),
            Err(e) => {
                diags.push(m.ctx.diag(
                    Level::Error,
                    "LOAD_ERR_COMPILE_CONDITION",
                    e.message,
                    text.locate(e.pos),
                ));
                None
            }
        };
        macros.push(MacroState {
            name: m.name.clone(),
            text,
            ast,
            index: m.index,
            visibility: m.visibility,
            ctx: m.ctx.clone(),
            used: false,
        });
    }
    let by_name: HashMap<String, usize> = macros
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.clone(), i))
        .collect();
    // Macro references: undefined names and loops are errors of the macro.
    let mut macro_ok = vec![true; macros.len()];
    for i in 0..macros.len() {
        let Some(ast) = macros[i].ast.clone() else {
            macro_ok[i] = false;
            continue;
        };
        let mut errors = Vec::new();
        let mut used = Vec::new();
        let mut stack = vec![i];
        check_refs(
            &ast,
            i,
            macros[i].visibility,
            &macros,
            &by_name,
            &mut stack,
            &mut errors,
            &mut used,
        );
        for u in used {
            macros[u].used = true;
        }
        if !errors.is_empty() {
            macro_ok[i] = false;
            for (msg, origin, pos) in errors {
                let m = &macros[origin];
                diags.push(macros[i].ctx.diag(
                    Level::Error,
                    "LOAD_ERR_VALIDATE",
                    msg,
                    m.text.locate(pos),
                ));
            }
        }
    }
    counts.macros = macro_ok.iter().filter(|ok| **ok).count();

    // 3. Rules.
    let mut rules = Vec::new();
    let mut used_macros: BTreeSet<usize> = BTreeSet::new();
    for r in &col.rules.items {
        if r.unknown_source {
            continue;
        }
        let Some(source) = sources.iter().find(|s| s.name() == r.source) else {
            continue;
        };
        let mut cond = r.cond.clone();
        if !r.exceptions.is_empty() {
            match exceptions_condition(&cond, &r.exceptions) {
                Ok(c) => cond = c,
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            }
        }
        let cond = substitute_lists(&cond, &lists, &mut list_used);
        let ast = match condition::parse(&cond.text) {
            Ok(a) => a,
            Err(e) => {
                diags.push(r.ctx.diag(
                    Level::Error,
                    "LOAD_ERR_COMPILE_CONDITION",
                    e.message,
                    cond.locate(e.pos),
                ));
                continue;
            }
        };
        let mut lower = Lowering {
            program,
            source: source.as_ref(),
            macros: &macros,
            macro_ok: &macro_ok,
            by_name: &by_name,
            rule_text: &cond,
            stack: Vec::new(),
            errors: Vec::new(),
            used: Vec::new(),
        };
        let node = lower.lower(&ast, None);
        let used = std::mem::take(&mut lower.used);
        let errors = std::mem::take(&mut lower.errors);
        used_macros.extend(used);
        let mut failed = !errors.is_empty();
        if failed {
            let all_unknown_fields = errors.iter().all(|e| e.unknown_field);
            let level = if r.skip_if_unknown_filter && all_unknown_fields {
                Level::Warning
            } else {
                Level::Error
            };
            let code = if level == Level::Warning {
                "LOAD_UNKNOWN_FILTER"
            } else {
                "LOAD_ERR_COMPILE_CONDITION"
            };
            let mut seen = BTreeSet::new();
            for e in errors {
                if !seen.insert((
                    e.message.clone(),
                    e.located.clone().map(|(f, p)| (f.to_string(), p)),
                )) {
                    continue;
                }
                let mut message = e.message;
                if let Some(m) = e.in_macro {
                    message.push_str(&format!(" (in macro '{m}')"));
                }
                diags.push(r.ctx.diag(level, code, message, e.located));
            }
        }
        let output = match OutputFormat::compile(&r.output.text, program, source.as_ref()) {
            Ok(o) => Some(o),
            Err(e) => {
                let level = if r.skip_if_unknown_filter && e.unknown_field {
                    Level::Warning
                } else {
                    Level::Error
                };
                diags.push(r.ctx.diag(
                    level,
                    if level == Level::Error {
                        "LOAD_ERR_COMPILE_OUTPUT"
                    } else {
                        "LOAD_UNKNOWN_FILTER"
                    },
                    e.message,
                    r.output.locate(e.pos),
                ));
                failed = true;
                None
            }
        };
        let (Some(node), Some(output), false) = (node, output, failed) else {
            continue;
        };
        let event_types = source
            .event_type_field()
            .and_then(|f| event_types(&node, program, f).into_set());
        let entry = program.flatten(&node);
        let value_guards = value_guards(&node, program);
        rules.push(CompiledRule {
            name: r.name.clone(),
            desc: r.desc.clone(),
            priority: r.priority,
            source: r.source.clone(),
            tags: r.tags.clone(),
            enabled: r.enabled,
            entry,
            value_guards,
            output,
            event_types,
            condition: cond.text.clone(),
            file: r.ctx.file.clone(),
            line: r.ctx.pos.line,
        });
    }
    counts.rules = rules.len();

    // 4. Unused items, as Falco warns about them.
    for (i, m) in macros.iter().enumerate() {
        if !m.used && !used_macros.contains(&i) {
            diags.push(m.ctx.diag(
                Level::Warning,
                "LOAD_UNUSED_MACRO",
                "Macro not referred to by any other rule/macro",
                None,
            ));
        }
    }
    for (i, l) in col.lists.items.iter().enumerate() {
        if !list_used[i] {
            diags.push(l.ctx.diag(
                Level::Warning,
                "LOAD_UNUSED_LIST",
                "List not referred to by any other rule/macro",
                None,
            ));
        }
    }
    (rules, counts)
}

/// Checks the macro references of macro `top`'s AST.
#[allow(clippy::too_many_arguments)]
fn check_refs(
    e: &Expr,
    origin: usize,
    visibility: u32,
    macros: &[MacroState],
    by_name: &HashMap<String, usize>,
    stack: &mut Vec<usize>,
    errors: &mut Vec<(String, usize, usize)>,
    used: &mut Vec<usize>,
) {
    match e {
        Expr::And(c, _) | Expr::Or(c, _) => {
            for x in c {
                check_refs(x, origin, visibility, macros, by_name, stack, errors, used);
            }
        }
        Expr::Not(c, _) => check_refs(c, origin, visibility, macros, by_name, stack, errors, used),
        Expr::Ident(name, pos) => {
            let found = by_name
                .get(name.as_str())
                .copied()
                .filter(|&j| macros[j].index < visibility);
            let Some(j) = found else {
                errors.push((
                    format!("Undefined macro '{name}' used in filter."),
                    origin,
                    *pos,
                ));
                return;
            };
            if stack.contains(&j) {
                errors.push((format!("reference loop in macro '{name}'"), origin, *pos));
                return;
            }
            used.push(j);
            if let Some(ast) = &macros[j].ast {
                stack.push(j);
                check_refs(ast, j, visibility, macros, by_name, stack, errors, used);
                stack.pop();
            }
        }
        Expr::Unary { .. } | Expr::Binary { .. } => {}
    }
}

struct LowerError {
    message: String,
    located: Option<(Arc<str>, palisade_model::Pos)>,
    unknown_field: bool,
    in_macro: Option<String>,
}

struct Lowering<'a> {
    program: &'a mut Program,
    source: &'a dyn FieldSource,
    macros: &'a [MacroState],
    macro_ok: &'a [bool],
    by_name: &'a HashMap<String, usize>,
    rule_text: &'a Text,
    stack: Vec<usize>,
    errors: Vec<LowerError>,
    used: Vec<usize>,
}

impl Lowering<'_> {
    fn text(&self, origin: Option<usize>) -> &Text {
        match origin {
            Some(m) => &self.macros[m].text,
            None => self.rule_text,
        }
    }

    fn error(&mut self, origin: Option<usize>, e: CheckError) {
        let located = self.text(origin).locate(e.pos);
        self.errors.push(LowerError {
            message: e.message,
            located,
            unknown_field: e.unknown_field,
            in_macro: origin.map(|m| self.macros[m].name.clone()),
        });
    }

    /// Lowers an expression of the rule (`origin` None) or of a macro.
    fn lower(&mut self, e: &Expr, origin: Option<usize>) -> Option<Node> {
        match e {
            Expr::And(children, _) | Expr::Or(children, _) => {
                let is_and = matches!(e, Expr::And(..));
                let mut out = Vec::with_capacity(children.len());
                let mut ok = true;
                for c in children {
                    match self.lower(c, origin) {
                        // Inlined macros nest `and`s in `and`s; flattening
                        // them saves a level of the tree walk per event.
                        Some(Node::And(inner)) if is_and => out.extend(inner.into_vec()),
                        Some(Node::Or(inner)) if !is_and => out.extend(inner.into_vec()),
                        Some(n) => out.push(n),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                Some(if out.len() == 1 {
                    out.remove(0)
                } else if is_and {
                    Node::And(out.into_boxed_slice())
                } else {
                    Node::Or(out.into_boxed_slice())
                })
            }
            Expr::Not(c, _) => Some(Node::Not(Box::new(self.lower(c, origin)?))),
            Expr::Ident(name, pos) => {
                let found = self.by_name.get(name.as_str()).copied();
                let Some(j) = found else {
                    self.error(
                        origin,
                        CheckError {
                            message: format!("Undefined macro '{name}' used in filter."),
                            pos: *pos,
                            unknown_field: false,
                        },
                    );
                    return None;
                };
                if self.stack.contains(&j) {
                    self.error(
                        origin,
                        CheckError {
                            message: format!("reference loop in macro '{name}'"),
                            pos: *pos,
                            unknown_field: false,
                        },
                    );
                    return None;
                }
                self.used.push(j);
                let (true, Some(ast)) = (self.macro_ok[j], self.macros[j].ast.as_ref()) else {
                    self.error(
                        origin,
                        CheckError {
                            message: format!("macro '{name}' has errors and cannot be used"),
                            pos: *pos,
                            unknown_field: false,
                        },
                    );
                    return None;
                };
                self.stack.push(j);
                let node = self.lower(ast, Some(j));
                self.stack.pop();
                node
            }
            Expr::Unary { lhs, op, pos } => {
                let lhs = match self.program.operand(self.source, lhs, false) {
                    Ok(l) => l,
                    Err(e) => {
                        self.error(origin, e);
                        return None;
                    }
                };
                match self.program.check(lhs, op, None, None, *pos, *pos) {
                    Ok(id) => Some(Node::Check(id)),
                    Err(e) => {
                        self.error(origin, e);
                        None
                    }
                }
            }
            Expr::Binary { lhs, op, rhs, pos } => {
                let lhs_c = match self.program.operand(self.source, lhs, false) {
                    Ok(l) => Some(l),
                    Err(e) => {
                        self.error(origin, e);
                        None
                    }
                };
                let (rhs_field, values): (Option<_>, Option<Vec<String>>) = match rhs {
                    Rhs::Value(v, _) => (None, Some(vec![v.clone()])),
                    Rhs::List(vs, _) => (None, Some(vs.clone())),
                    Rhs::Operand(o) => match self.program.operand(self.source, o, true) {
                        Ok(c) => (Some(c), None),
                        Err(e) => {
                            self.error(origin, e);
                            return None;
                        }
                    },
                };
                let lhs_c = lhs_c?;
                match self
                    .program
                    .check(lhs_c, op, rhs_field, values.as_deref(), *pos, rhs.pos())
                {
                    Ok(id) => Some(Node::Check(id)),
                    Err(e) => {
                        self.error(origin, e);
                        None
                    }
                }
            }
        }
    }
}

/// Falco's textual list substitution (`resolve_list`), over every list in order.
fn substitute_lists(text: &Text, lists: &[(String, Vec<String>)], used: &mut [bool]) -> Text {
    let mut cur = text.clone();
    for (i, (name, items)) in lists.iter().enumerate() {
        if name.is_empty() || !cur.text.contains(name.as_str()) {
            continue;
        }
        if let Some(next) = resolve_list(&cur, name, items) {
            cur = next;
            used[i] = true;
        }
    }
    cur
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_delim(b: u8) -> bool {
    is_blank(b) || matches!(b, b'(' | b')' | b',' | b'=')
}

/// Quotes an item with a space, unless it is already quoted.
fn quote_item(item: &str) -> String {
    if item.contains(' ') && !item.starts_with('"') && !item.starts_with('\'') {
        format!("\"{item}\"")
    } else {
        item.to_string()
    }
}

fn resolve_list(text: &Text, name: &str, items: &[String]) -> Option<Text> {
    let mut cur = text.clone();
    let mut used = false;
    let mut from = 0usize;
    let sub = items
        .iter()
        .map(|i| quote_item(i))
        .collect::<Vec<_>>()
        .join(", ");
    while let Some(found) = cur.text.get(from..).and_then(|t| t.find(name)) {
        let mut start = from + found;
        let mut end = start + name.len();
        let b = cur.text.as_bytes();
        let before_ok = start == 0 || is_delim(b[start - 1]);
        let after_ok = end >= b.len() || is_delim(b[end]);
        if before_ok && after_ok {
            while start > 0 && is_blank(b[start - 1]) {
                start -= 1;
            }
            while end < b.len() && is_blank(b[end]) {
                end += 1;
            }
            if sub.is_empty() {
                if start > 0 && b[start - 1] == b',' {
                    start -= 1;
                } else if end < b.len() && b[end] == b',' {
                    end += 1;
                }
            }
            let replacement = if start > 0 {
                format!(" {sub} ")
            } else {
                format!("{sub} ")
            };
            cur = cur.replace_range(start..end, &replacement);
            // Falco continues the search from `start + sub.len() + 1`, plus one.
            start += sub.len() + 1;
            used = true;
            from = start + 1;
        } else {
            from = start + 1;
        }
        // Stay on a character boundary.
        while from < cur.text.len() && !cur.text.is_char_boundary(from) {
            from += 1;
        }
        if from > cur.text.len() {
            break;
        }
    }
    used.then_some(cur)
}

/// Falco's `build_rule_exception_infos`: the condition wrapped in
/// parentheses, followed by `and not (...)` per exception.
fn exceptions_condition(cond: &Text, exceptions: &[ExceptionInfo]) -> Result<Text, Diagnostic> {
    let mut out = cond.parenthesized();
    for ex in exceptions {
        let err = |msg: &str| ex.ctx.diag(Level::Error, "LOAD_ERR_VALIDATE", msg, None);
        let mut icond = String::new();
        match (&ex.fields, &ex.comps) {
            (Some(Entry::Item(field)), comp) => {
                let comp = match comp {
                    Some(Entry::Item(c)) => c.as_str(),
                    _ => "in",
                };
                for val in &ex.values {
                    let Entry::Item(v) = val else {
                        return Err(err("Expected values array to contain a list of strings"));
                    };
                    if icond.is_empty() {
                        icond.push_str(&format!("({field} {comp} ("));
                    } else {
                        icond.push_str(", ");
                    }
                    icond.push_str(&quote_item(v));
                }
                if !icond.is_empty() {
                    icond.push_str("))");
                }
            }
            (Some(Entry::List(fields)), Some(Entry::List(comps))) => {
                icond.push('(');
                for values in &ex.values {
                    let Entry::List(vals) = values else {
                        return Err(err("Fields and values lists must have equal length"));
                    };
                    if vals.len() != fields.len() {
                        return Err(err("Fields and values lists must have equal length"));
                    }
                    if icond != "(" {
                        icond.push_str(" or ");
                    }
                    icond.push('(');
                    for (k, field) in fields.iter().enumerate() {
                        let (Entry::Item(field), Some(Entry::Item(comp))) = (field, comps.get(k))
                        else {
                            return Err(err("Fields and values lists must have equal length"));
                        };
                        if k > 0 {
                            icond.push_str(" and ");
                        }
                        let istr = match &vals[k] {
                            Entry::List(items) => {
                                let mut s = String::from("(");
                                for (n, v) in items.iter().enumerate() {
                                    if n > 0 {
                                        s.push_str(", ");
                                    }
                                    if let Entry::Item(v) = v {
                                        s.push_str(&quote_item(v));
                                    }
                                }
                                s.push(')');
                                s
                            }
                            Entry::Item(v) => {
                                let list_op = Op::parse(comp).is_some_and(|o| {
                                    matches!(o, Op::In | Op::Intersects | Op::PMatch)
                                }) || condition::is_op_with_modifier(comp);
                                if list_op {
                                    if v.starts_with('(') {
                                        v.clone()
                                    } else {
                                        format!("({v})")
                                    }
                                } else {
                                    quote_item(v)
                                }
                            }
                        };
                        icond.push_str(&format!(" {field} {comp} {istr}"));
                    }
                    icond.push(')');
                }
                icond.push(')');
                if icond == "()" {
                    icond.clear();
                }
            }
            _ => {
                return Err(err(
                    "Rule exception must have fields property with a list of fields",
                ))
            }
        }
        if !icond.is_empty() {
            out.push_text(&Text::generated(
                &format!(" and not {icond}"),
                ex.map.clone(),
            ));
        }
    }
    Ok(out)
}

/// The set of event types a tree can match, for indexing.
#[derive(Debug, Clone, PartialEq)]
enum TypeSet {
    Any,
    Only(BTreeSet<String>),
    AllBut(BTreeSet<String>),
}

impl TypeSet {
    fn into_set(self) -> Option<BTreeSet<String>> {
        match self {
            TypeSet::Only(s) => Some(s),
            _ => None,
        }
    }

    fn and(self, other: TypeSet) -> TypeSet {
        match (self, other) {
            (TypeSet::Any, x) | (x, TypeSet::Any) => x,
            (TypeSet::Only(a), TypeSet::Only(b)) => {
                TypeSet::Only(a.intersection(&b).cloned().collect())
            }
            (TypeSet::Only(a), TypeSet::AllBut(b)) | (TypeSet::AllBut(b), TypeSet::Only(a)) => {
                TypeSet::Only(a.difference(&b).cloned().collect())
            }
            (TypeSet::AllBut(a), TypeSet::AllBut(b)) => {
                TypeSet::AllBut(a.union(&b).cloned().collect())
            }
        }
    }

    fn or(self, other: TypeSet) -> TypeSet {
        match (self, other) {
            (TypeSet::Any, _) | (_, TypeSet::Any) => TypeSet::Any,
            (TypeSet::Only(a), TypeSet::Only(b)) => TypeSet::Only(a.union(&b).cloned().collect()),
            (TypeSet::Only(a), TypeSet::AllBut(b)) | (TypeSet::AllBut(b), TypeSet::Only(a)) => {
                TypeSet::AllBut(b.difference(&a).cloned().collect())
            }
            (TypeSet::AllBut(a), TypeSet::AllBut(b)) => {
                TypeSet::AllBut(a.intersection(&b).cloned().collect())
            }
        }
    }
}

/// For each field (by operand slot) that must have one of a set of string
/// values for `node` to hold, that set. Only positive `=`/`in` checks count
/// (a missing value makes them false); `and` intersects, `or` unites when
/// every branch constrains the field, `not` constrains nothing. The sets are
/// necessary conditions, so skipping a rule whose set misses the event's
/// value never changes a result.
pub(crate) fn value_guards(
    node: &Node,
    program: &Program,
) -> BTreeMap<u32, (CompiledOperand, BTreeSet<String>)> {
    match node {
        Node::Check(id) => program
            .value_guard(*id)
            .map(|(op, values)| (op.slot, (op.clone(), values.iter().cloned().collect())))
            .into_iter()
            .collect(),
        Node::Not(_) => BTreeMap::new(),
        Node::And(children) => {
            let mut out: BTreeMap<u32, (CompiledOperand, BTreeSet<String>)> = BTreeMap::new();
            for c in children.iter() {
                for (slot, (op, set)) in value_guards(c, program) {
                    match out.get_mut(&slot) {
                        Some((_, have)) => have.retain(|v| set.contains(v)),
                        None => {
                            out.insert(slot, (op, set));
                        }
                    }
                }
            }
            out
        }
        Node::Or(children) => {
            let mut branches = children.iter().map(|c| value_guards(c, program));
            let Some(mut out) = branches.next() else {
                return BTreeMap::new();
            };
            for b in branches {
                out.retain(|slot, _| b.contains_key(slot));
                for (slot, (_, set)) in b {
                    if let Some((_, have)) = out.get_mut(&slot) {
                        have.extend(set);
                    }
                }
            }
            out
        }
    }
}

/// Event types of a tree: exact for checks on the type field, `Any` for
/// other checks; `not` inverts only exact sets, so the result always
/// contains every type the rule can match.
fn event_types(node: &Node, program: &Program, field: &str) -> TypeSet {
    fn go(node: &Node, program: &Program, field: &str) -> (TypeSet, bool) {
        match node {
            Node::And(c) => c.iter().fold((TypeSet::Any, true), |(acc, exact), n| {
                let (s, e) = go(n, program, field);
                (acc.and(s), exact && e)
            }),
            Node::Or(c) => {
                let mut it = c.iter().map(|n| go(n, program, field));
                let Some(first) = it.next() else {
                    return (TypeSet::Any, false);
                };
                it.fold(first, |(acc, exact), (s, e)| (acc.or(s), exact && e))
            }
            Node::Not(c) => match go(c, program, field) {
                (TypeSet::Only(s), true) => (TypeSet::AllBut(s), true),
                (TypeSet::AllBut(s), true) => (TypeSet::Only(s), true),
                _ => (TypeSet::Any, false),
            },
            Node::Check(id) => match program.check_lhs(*id) {
                Some((lhs, op, values)) if lhs.display == field && lhs.transforms.is_empty() => {
                    match op {
                        Op::Eq | Op::In => (TypeSet::Only(values.into_iter().collect()), true),
                        Op::Ne => (TypeSet::AllBut(values.into_iter().collect()), true),
                        _ => (TypeSet::Any, false),
                    }
                }
                _ => (TypeSet::Any, false),
            },
        }
    }
    go(node, program, field).0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Text {
        Text::generated(s, None)
    }

    #[test]
    fn list_substitution_is_textual_like_falco() {
        let lists = vec![
            (
                "shells".to_string(),
                vec!["bash".to_string(), "sh".to_string()],
            ),
            ("empty".to_string(), vec![]),
            ("spaced".to_string(), vec!["a b".to_string()]),
        ];
        let mut used = vec![false; 3];
        let out = substitute_lists(&t("proc.name in (shells)"), &lists, &mut used);
        assert_eq!(out.text, "proc.name in ( bash, sh )");
        let out = substitute_lists(&t("proc.name in (shells_x, shells)"), &lists, &mut used);
        assert_eq!(out.text, "proc.name in (shells_x, bash, sh )");
        let out = substitute_lists(&t("x.y in (a, empty)"), &lists, &mut used);
        assert_eq!(out.text, "x.y in (a  )");
        assert!(condition::parse(&out.text).is_ok());
        let out = substitute_lists(&t("x.y in (spaced)"), &lists, &mut used);
        assert_eq!(out.text, "x.y in ( \"a b\" )");
        assert_eq!(used, vec![true, true, true]);
    }

    #[test]
    fn exception_clauses_match_falco_text() {
        let ctx = Context {
            file: Arc::from("f"),
            pos: palisade_model::Pos::new(1, 1),
            kind: crate::diagnostic::ItemKind::Rule,
            name: "r".into(),
        };
        let ex = |fields: Entry, comps: Entry, values: Vec<Entry>| ExceptionInfo {
            name: "e".into(),
            fields: Some(fields),
            comps: Some(comps),
            values,
            ctx: ctx.clone(),
            map: None,
        };
        let i = |s: &str| Entry::Item(s.into());
        let l = |v: Vec<Entry>| Entry::List(v);
        let one = ex(i("proc.name"), i("in"), vec![i("a"), i("b c")]);
        let out = exceptions_condition(&t("c.d = 1"), &[one]).unwrap();
        assert_eq!(out.text, "(c.d = 1) and not (proc.name in (a, \"b c\"))");
        let two = ex(
            l(vec![i("proc.name"), i("fd.name")]),
            l(vec![i("="), i("in")]),
            vec![
                l(vec![i("x"), i("lst")]),
                l(vec![i("y"), l(vec![i("p"), i("q")])]),
            ],
        );
        let out = exceptions_condition(&t("c"), &[two]).unwrap();
        assert_eq!(
            out.text,
            "(c) and not (( proc.name = x and  fd.name in (lst)) or ( proc.name = y and  fd.name in (p, q)))"
        );
    }
}
