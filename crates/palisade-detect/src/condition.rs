//! Falco's condition language: the AST and a parser with positions.
//!
//! The grammar is libsinsp's (`userspace/libsinsp/filter/parser.h`):
//! `not` binds tighter than `and`, which binds tighter than `or`; `and` and
//! `or` must be followed by a blank or `(`; word operators (`contains`,
//! `startswith`, ...) need a blank after them; a bare word in check position
//! is a macro reference. Every node remembers the byte offset where it starts
//! in the condition text, and errors carry the offset where parsing stopped,
//! as libsinsp reports them.

use std::fmt;

/// Deepest nesting accepted, as Falco's rule loader sets it (libsinsp's own default is 100).
pub const MAX_DEPTH: u32 = 1000;

/// A boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All children hold.
    And(Vec<Expr>, usize),
    /// Any child holds.
    Or(Vec<Expr>, usize),
    /// The child does not hold.
    Not(Box<Expr>, usize),
    /// A macro reference.
    Ident(String, usize),
    /// `operand exists`.
    Unary {
        /// The field or transformer checked.
        lhs: Operand,
        /// The operator (`exists`).
        op: String,
        /// Start of the check.
        pos: usize,
    },
    /// `operand op value`.
    Binary {
        /// The field or transformer compared.
        lhs: Operand,
        /// The operator, with its modifier if any (`startswith oneof`).
        op: String,
        /// The right-hand side.
        rhs: Rhs,
        /// Start of the check.
        pos: usize,
    },
}

impl Expr {
    /// Byte offset where the expression starts.
    pub fn pos(&self) -> usize {
        match self {
            Expr::And(_, p) | Expr::Or(_, p) | Expr::Not(_, p) | Expr::Ident(_, p) => *p,
            Expr::Unary { pos, .. } | Expr::Binary { pos, .. } => *pos,
        }
    }
}

/// A value producer: a field, or a transformer applied to operands.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `name` or `name[arg]`.
    Field {
        /// Field name as written.
        name: String,
        /// The bracketed argument, unescaped when quoted.
        arg: Option<String>,
        /// Where the field starts.
        pos: usize,
    },
    /// `transformer(args...)` with an optional `[arg]` after it.
    Transformer {
        /// `tolower`, `toupper`, `b64`, `basename`, `len`, `val`, `join`, `concat`, `getopt`.
        name: String,
        /// The arguments.
        args: Vec<TransformerArg>,
        /// An index or key after the closing parenthesis.
        arg: Option<String>,
        /// Where the transformer starts.
        pos: usize,
    },
}

impl Operand {
    /// Byte offset where the operand starts.
    pub fn pos(&self) -> usize {
        match self {
            Operand::Field { pos, .. } | Operand::Transformer { pos, .. } => *pos,
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Field { name, arg, .. } => {
                f.write_str(name)?;
                if let Some(arg) = arg {
                    write!(f, "[{arg}]")?;
                }
                Ok(())
            }
            Operand::Transformer {
                name, args, arg, ..
            } => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match a {
                        TransformerArg::Operand(o) => write!(f, "{o}")?,
                        TransformerArg::Value(v, _) => write!(f, "{v:?}")?,
                        TransformerArg::List(items, _) => write!(f, "{items:?}")?,
                    }
                }
                f.write_str(")")?;
                if let Some(arg) = arg {
                    write!(f, "[{arg}]")?;
                }
                Ok(())
            }
        }
    }
}

/// An argument of a transformer.
#[derive(Debug, Clone, PartialEq)]
pub enum TransformerArg {
    /// A field or a nested transformer.
    Operand(Operand),
    /// A quoted string or a number.
    Value(String, usize),
    /// A parenthesised list of arguments.
    List(Vec<TransformerArg>, usize),
}

/// The right-hand side of a binary check.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// One value (a bare word, a quoted string, a number, or a list name).
    Value(String, usize),
    /// A parenthesised list of values.
    List(Vec<String>, usize),
    /// A field through `val(...)` or a transformer.
    Operand(Operand),
}

impl Rhs {
    /// Byte offset where the right-hand side starts.
    pub fn pos(&self) -> usize {
        match self {
            Rhs::Value(_, p) | Rhs::List(_, p) => *p,
            Rhs::Operand(o) => o.pos(),
        }
    }
}

/// A syntax error at a byte offset of the condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What was expected.
    pub message: String,
    /// Byte offset where parsing stopped.
    pub pos: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

const UNARY_OPS: &[&str] = &["exists"];
const NUM_OPS: &[&str] = &["<=", "<", ">=", ">"];
/// String operators; a trailing space means "a blank must follow".
const STR_OPS: &[&str] = &[
    "==",
    "=",
    "!=",
    "glob ",
    "iglob ",
    "contains ",
    "icontains ",
    "bcontains ",
    "startswith ",
    "bstartswith ",
    "endswith ",
    "regex ",
];
const STR_MODIFIERS: &[&str] = &["oneof ", "anyof ", "allof "];
const LIST_OPS: &[&str] = &["intersects", "in", "pmatch"];
const TRANSFORMERS: &[&str] = &[
    "tolower(",
    "toupper(",
    "b64(",
    "basename(",
    "len(",
    "join(",
    "concat(",
    "getopt(",
];

/// Every comparison operator, as `supported_operators()` lists them.
pub fn supported_operators() -> Vec<&'static str> {
    let mut ops: Vec<&'static str> = Vec::new();
    ops.extend(UNARY_OPS);
    ops.extend(NUM_OPS);
    ops.extend(STR_OPS.iter().map(|s| s.trim_end()));
    ops.extend(LIST_OPS);
    ops
}

/// Whether `op` is an operator with a modifier (`startswith oneof`).
pub fn is_op_with_modifier(op: &str) -> bool {
    let mut parts = op.split(' ');
    let (Some(base), Some(modifier), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    STR_OPS.iter().any(|o| o.trim_end() == base)
        && STR_MODIFIERS.iter().any(|m| m.trim_end() == modifier)
}

/// Parses a whole condition.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    // Deeply nested input recurses up to MAX_DEPTH frames; give it a stack
    // that is large enough whatever thread calls (test threads have 2 MiB).
    if input.bytes().filter(|&b| b == b'(').count() > 64 {
        let owned = input.to_string();
        let handle = std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || parse_here(&owned));
        if let Ok(Ok(result)) = handle.map(|h| h.join()) {
            return result;
        }
    }
    parse_here(input)
}

fn parse_here(input: &str) -> Result<Expr, ParseError> {
    if input.is_empty() {
        return Err(ParseError {
            message: "filter input string is empty".into(),
            pos: 0,
        });
    }
    let mut p = Parser::new(input);
    let expr = p.parse_or()?;
    if p.pos != input.len() {
        return Err(p.err(format!(
            "unexpected token after '{}', expecting 'or', 'and'",
            p.last
        )));
    }
    Ok(expr)
}

/// Parses a field or a transformer at the start of `input` (for output
/// formats); returns the operand and the bytes it used.
pub fn parse_operand_prefix(input: &str) -> Result<(Operand, usize), ParseError> {
    let mut p = Parser::new(input);
    let pos = p.pos;
    if p.lex_field_name() {
        let name = p.last.clone();
        let op = p.field_remainder(name, pos)?;
        return Ok((op, p.pos));
    }
    if let Some(t) = p.lex_transformer() {
        p.lex_blank();
        let op = p.transformer_remainder(t, pos)?;
        return Ok((op, p.pos));
    }
    Err(p.err(format!("unexpected token after '{}'", p.last)))
}

struct Parser<'a> {
    input: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
    last: String,
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\x08' | b'\r' | b'\n')
}

/// POSIX `[[:space:]]`.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        Parser {
            input,
            bytes: input.as_bytes(),
            pos: 0,
            depth: 0,
            last: String::new(),
        }
    }

    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
            pos: self.pos,
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(self.err(format!("exceeded max depth limit of {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.pos..]
    }

    fn lex_blank(&mut self) -> bool {
        let start = self.pos;
        while self.pos < self.bytes.len() && is_blank(self.bytes[self.pos]) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn lex_str(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s.as_bytes()) {
            self.pos += s.len();
            self.last = s.to_string();
            true
        } else {
            false
        }
    }

    fn take(&mut self, len: usize) -> bool {
        if len == 0 {
            return false;
        }
        self.last = self.input[self.pos..self.pos + len].to_string();
        self.pos += len;
        true
    }

    /// `[a-zA-Z]+[a-zA-Z0-9_]*`, returns its length at `at`.
    fn ident_len_at(&self, at: usize) -> usize {
        let b = &self.bytes[at..];
        if b.first().is_none_or(|c| !c.is_ascii_alphabetic()) {
            return 0;
        }
        b.iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
            .unwrap_or(b.len())
    }

    fn lex_identifier(&mut self) -> bool {
        let len = self.ident_len_at(self.pos);
        self.take(len)
    }

    /// `ident(\.ident)+`.
    fn lex_field_name(&mut self) -> bool {
        let mut len = self.ident_len_at(self.pos);
        if len == 0 {
            return false;
        }
        let mut parts = 1;
        loop {
            let dot = self.pos + len;
            if self.bytes.get(dot) != Some(&b'.') {
                break;
            }
            let next = self.ident_len_at(dot + 1);
            if next == 0 {
                break;
            }
            len += 1 + next;
            parts += 1;
        }
        parts > 1 && self.take(len)
    }

    /// `[^][\"'[:space:]]+`.
    fn lex_field_arg_bare(&mut self) -> bool {
        let len = self
            .rest()
            .iter()
            .position(|&c| matches!(c, b'[' | b']' | b'"' | b'\'') || is_space(c))
            .unwrap_or(self.rest().len());
        self.take(len)
    }

    fn lex_hex_num(&mut self) -> bool {
        let r = self.rest();
        if r.len() > 2 && r[0] == b'0' && (r[1] == b'x' || r[1] == b'X') {
            let digits = r[2..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
            if digits > 0 {
                return self.take(2 + digits);
            }
        }
        false
    }

    /// `[+\-]?[0-9]+[\.]?[0-9]*([eE][+\-][0-9]+)?`.
    fn lex_num(&mut self) -> bool {
        let r = self.rest();
        let mut i = 0;
        if matches!(r.first(), Some(b'+') | Some(b'-')) {
            i += 1;
        }
        let digits = r[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        i += digits;
        if r.get(i) == Some(&b'.') {
            i += 1;
        }
        i += r[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if matches!(r.get(i), Some(b'e') | Some(b'E'))
            && matches!(r.get(i + 1), Some(b'+') | Some(b'-'))
        {
            let exp = r[i + 2..].iter().take_while(|c| c.is_ascii_digit()).count();
            if exp > 0 {
                i += 2 + exp;
            }
        }
        self.take(i)
    }

    /// A quoted string with backslash escapes; `last` holds it unescaped.
    fn lex_quoted_str(&mut self) -> Result<bool, ParseError> {
        let Some(&delim) = self.rest().first() else {
            return Ok(false);
        };
        if delim != b'"' && delim != b'\'' {
            return Ok(false);
        }
        let start = self.pos;
        let mut prev = b'\\';
        let mut i = start;
        while i < self.bytes.len() {
            let c = self.bytes[i];
            if c == delim && prev != b'\\' && i > start {
                let raw = &self.input[start..=i];
                let unescaped = unescape(raw).map_err(|m| ParseError {
                    message: m,
                    pos: start,
                })?;
                self.pos = i + 1;
                self.last = unescaped;
                return Ok(true);
            }
            prev = c;
            i += 1;
        }
        Ok(false)
    }

    /// `[^()\"'[:space:]=,]+`.
    fn lex_bare_str(&mut self) -> bool {
        let len = self
            .rest()
            .iter()
            .position(|&c| matches!(c, b'(' | b')' | b'"' | b'\'' | b'=' | b',') || is_space(c))
            .unwrap_or(self.rest().len());
        self.take(len)
    }

    /// Operators from `list`; those ending in a space need a blank after them.
    fn lex_operator(&mut self, list: &[&str]) -> bool {
        for op in list {
            if let Some(word) = op.strip_suffix(' ') {
                let saved = (self.pos, self.last.clone());
                if self.lex_str(word) {
                    if self.lex_blank() {
                        return true;
                    }
                    (self.pos, self.last) = saved;
                }
            } else if self.lex_str(op) {
                return true;
            }
        }
        false
    }

    fn lex_transformer(&mut self) -> Option<String> {
        for t in TRANSFORMERS {
            if self.lex_str(t) {
                return Some(t.trim_end_matches('(').to_string());
            }
        }
        None
    }

    fn parse_or(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let pos = self.pos;
        self.lex_blank();
        let mut children = vec![self.parse_and()?];
        self.lex_blank();
        while self.lex_str("or") {
            let child = if !self.lex_blank() {
                if self.lex_str("(") {
                    self.parse_embedded()?
                } else {
                    return Err(self.err("expected blank or '(' after 'or'"));
                }
            } else {
                self.parse_and()?
            };
            children.push(child);
            self.lex_blank();
        }
        self.leave();
        Ok(if children.len() > 1 {
            Expr::Or(children, pos)
        } else {
            children.remove(0)
        })
    }

    fn parse_and(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let pos = self.pos;
        self.lex_blank();
        let mut children = vec![self.parse_not()?];
        self.lex_blank();
        while self.lex_str("and") {
            let child = if !self.lex_blank() {
                if self.lex_str("(") {
                    self.parse_embedded()?
                } else {
                    return Err(self.err("expected blank or '(' after 'and'"));
                }
            } else {
                self.parse_not()?
            };
            children.push(child);
            self.lex_blank();
        }
        self.leave();
        Ok(if children.len() > 1 {
            Expr::And(children, pos)
        } else {
            children.remove(0)
        })
    }

    fn lex_not_blank(&mut self) -> bool {
        let r = self.rest();
        if r.starts_with(b"not") && r.get(3).is_some_and(|&c| is_space(c)) {
            let spaces = r[3..].iter().take_while(|&&c| is_space(c)).count();
            return self.take(3 + spaces);
        }
        false
    }

    fn parse_not(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let pos = self.pos;
        self.lex_blank();
        let mut negated = false;
        while self.lex_not_blank() {
            negated = !negated;
        }
        let child = if self.lex_str("not(") {
            negated = !negated;
            self.parse_embedded()?
        } else {
            self.parse_check()?
        };
        self.leave();
        Ok(if negated {
            Expr::Not(Box::new(child), pos)
        } else {
            child
        })
    }

    /// After a `(`: an expression and its `)`.
    fn parse_embedded(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        self.lex_blank();
        let child = self.parse_or()?;
        self.lex_blank();
        if !self.lex_str(")") {
            return Err(self.err("expected a ')' token"));
        }
        self.leave();
        Ok(child)
    }

    fn parse_check(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let pos = self.pos;
        self.lex_blank();
        let res = if self.lex_str("(") {
            self.parse_embedded()?
        } else if self.lex_field_name() {
            let name = self.last.clone();
            let lhs = self.field_remainder(name, pos)?;
            self.parse_condition(lhs, pos)?
        } else if let Some(t) = self.lex_transformer() {
            self.lex_blank();
            let lhs = self.transformer_remainder(t, pos)?;
            self.parse_condition(lhs, pos)?
        } else if self.lex_identifier() {
            Expr::Ident(self.last.clone(), pos)
        } else {
            return Err(self.err("expected a '(' token, a field check, or an identifier"));
        };
        self.leave();
        Ok(res)
    }

    fn field_remainder(&mut self, name: String, pos: usize) -> Result<Operand, ParseError> {
        let arg = self.optional_field_arg()?;
        Ok(Operand::Field { name, arg, pos })
    }

    fn optional_field_arg(&mut self) -> Result<Option<String>, ParseError> {
        if !self.lex_str("[") {
            return Ok(None);
        }
        if !self.lex_quoted_str()? && !self.lex_field_arg_bare() {
            return Err(
                self.err("expected a valid field argument: a quoted string or a bare string")
            );
        }
        let arg = self.last.clone();
        if !self.lex_str("]") {
            return Err(self.err("expected a ']' token"));
        }
        Ok(Some(arg))
    }

    fn transformer_remainder(&mut self, name: String, pos: usize) -> Result<Operand, ParseError> {
        self.enter()?;
        self.lex_blank();
        let mut args = Vec::new();
        loop {
            let at = self.pos;
            args.push(self.transformer_arg(at)?);
            self.lex_blank();
            if !self.lex_str(",") {
                break;
            }
        }
        self.lex_blank();
        if !self.lex_str(")") {
            return Err(self.err("expected a ')' token closing the transformer"));
        }
        let arg = self.optional_field_arg()?;
        self.leave();
        Ok(Operand::Transformer {
            name,
            args,
            arg,
            pos,
        })
    }

    fn transformer_arg(&mut self, pos: usize) -> Result<TransformerArg, ParseError> {
        self.enter()?;
        self.lex_blank();
        let at = self.pos;
        let res = if self.lex_hex_num() || self.lex_num() || self.lex_quoted_str()? {
            TransformerArg::Value(self.last.clone(), at)
        } else if self.lex_str("(") {
            self.transformer_list(pos)?
        } else if let Some(t) = self.lex_transformer() {
            TransformerArg::Operand(self.transformer_remainder(t, at)?)
        } else if self.lex_field_name() {
            let name = self.last.clone();
            TransformerArg::Operand(self.field_remainder(name, at)?)
        } else {
            return Err(self.err(
                "expected field transformer argument: field, transformer, quoted string, number, or transformer list",
            ));
        };
        self.leave();
        Ok(res)
    }

    fn transformer_list(&mut self, pos: usize) -> Result<TransformerArg, ParseError> {
        let mut items = Vec::new();
        self.lex_blank();
        if self.lex_str(")") {
            return Ok(TransformerArg::List(items, pos));
        }
        loop {
            self.lex_blank();
            let at = self.pos;
            let item = if self.lex_field_name() {
                let name = self.last.clone();
                TransformerArg::Operand(self.field_remainder(name, at)?)
            } else if let Some(t) = self.lex_transformer() {
                self.lex_blank();
                TransformerArg::Operand(self.transformer_remainder(t, at)?)
            } else if self.lex_quoted_str()? || self.lex_hex_num() || self.lex_num() {
                TransformerArg::Value(self.last.clone(), at)
            } else {
                return Err(self.err(
                    "expected transformer list argument: field, transformer, quoted string, or number",
                ));
            };
            items.push(item);
            self.lex_blank();
            if !self.lex_str(",") {
                break;
            }
        }
        if !self.lex_str(")") {
            return Err(self.err("expected ')'"));
        }
        Ok(TransformerArg::List(items, pos))
    }

    fn list_value_follows(&self) -> bool {
        self.rest().first() == Some(&b'(') || self.ident_len_at(self.pos) > 0
    }

    fn bool_keyword_follows(&self) -> bool {
        let r = self.rest();
        ["and", "or", "not"].iter().any(|kw| {
            r.starts_with(kw.as_bytes())
                && r.get(kw.len()).is_none_or(|c| !c.is_ascii_alphanumeric())
        })
    }

    fn parse_condition(&mut self, lhs: Operand, pos: usize) -> Result<Expr, ParseError> {
        self.enter()?;
        self.lex_blank();
        if self.lex_operator(UNARY_OPS) {
            let op = self.last.trim().to_string();
            self.leave();
            return Ok(Expr::Unary { lhs, op, pos });
        }
        self.lex_blank();
        let (op, rhs);
        if self.lex_operator(NUM_OPS) {
            op = self.last.clone();
            rhs = self.num_value_or_transformer()?;
        } else if self.lex_operator(STR_OPS) {
            let base = self.last.trim().to_string();
            let had_blank = base.as_bytes()[0].is_ascii_alphabetic() || self.lex_blank();
            let saved = (self.pos, self.last.clone());
            if had_blank
                && self.lex_operator(STR_MODIFIERS)
                && self.list_value_follows()
                && !self.bool_keyword_follows()
            {
                op = format!("{base} {}", self.last.trim());
                rhs = self.list_value()?;
            } else {
                (self.pos, self.last) = saved;
                op = base;
                rhs = self.str_value_or_transformer(false)?;
            }
        } else if self.lex_operator(LIST_OPS) {
            op = self.last.clone();
            rhs = self.list_value_or_transformer()?;
        } else {
            let ops = supported_operators()
                .iter()
                .map(|o| format!("'{o}'"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(self.err(format!("expected a valid check operator: one of {ops}")));
        }
        self.leave();
        Ok(Expr::Binary {
            lhs,
            op: op.trim().to_string(),
            rhs,
            pos,
        })
    }

    fn transformers_hint() -> String {
        std::iter::once("'val'".to_string())
            .chain(
                TRANSFORMERS
                    .iter()
                    .map(|t| format!("'{}'", t.trim_end_matches('('))),
            )
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn num_value_or_transformer(&mut self) -> Result<Rhs, ParseError> {
        self.lex_blank();
        let pos = self.pos;
        if let Some(op) = self.try_transformer_or_val()? {
            return Ok(Rhs::Operand(op));
        }
        if self.lex_hex_num() || self.lex_num() {
            return Ok(Rhs::Value(self.last.clone(), pos));
        }
        Err(self.err(format!(
            "expected a number value or a field with a valid transformer: {}",
            Self::transformers_hint()
        )))
    }

    fn str_value_or_transformer(&mut self, no_transformer: bool) -> Result<Rhs, ParseError> {
        self.lex_blank();
        let pos = self.pos;
        if !no_transformer {
            if let Some(op) = self.try_transformer_or_val()? {
                return Ok(Rhs::Operand(op));
            }
        }
        if self.lex_quoted_str()? || self.lex_bare_str() {
            return Ok(Rhs::Value(self.last.clone(), pos));
        }
        if no_transformer {
            return Err(self.err("expected a string value"));
        }
        Err(self.err(format!(
            "expected a string value or a field with a valid transformer: {}",
            Self::transformers_hint()
        )))
    }

    fn try_list(&mut self) -> Result<Option<Rhs>, ParseError> {
        let pos = self.pos;
        if !self.lex_str("(") {
            return Ok(None);
        }
        let mut values = Vec::new();
        self.lex_blank();
        let saved = (self.pos, self.last.clone());
        match self.str_value_or_transformer(true) {
            Ok(Rhs::Value(v, _)) => {
                values.push(v);
                self.lex_blank();
                while self.lex_str(",") {
                    match self.str_value_or_transformer(true)? {
                        Rhs::Value(v, _) => values.push(v),
                        _ => return Err(self.err("expected a string value")),
                    }
                    self.lex_blank();
                }
            }
            Ok(_) => return Err(self.err("expected a string value")),
            Err(_) => {
                // An empty list: libsinsp catches the failure and expects `)`.
                (self.pos, self.last) = saved;
            }
        }
        if !self.lex_str(")") {
            return Err(self.err("expected a ')' token"));
        }
        Ok(Some(Rhs::List(values, pos)))
    }

    fn list_value(&mut self) -> Result<Rhs, ParseError> {
        self.lex_blank();
        let pos = self.pos;
        if let Some(list) = self.try_list()? {
            return Ok(list);
        }
        if self.lex_identifier() {
            return Ok(Rhs::Value(self.last.clone(), pos));
        }
        Err(self.err("expected a list or an identifier"))
    }

    fn list_value_or_transformer(&mut self) -> Result<Rhs, ParseError> {
        self.lex_blank();
        let pos = self.pos;
        if let Some(list) = self.try_list()? {
            return Ok(list);
        }
        if let Some(op) = self.try_transformer_or_val()? {
            return Ok(Rhs::Operand(op));
        }
        if self.lex_identifier() {
            return Ok(Rhs::Value(self.last.clone(), pos));
        }
        Err(self.err(format!(
            "expected a list, an identifier, or a field with a valid transformer: {}",
            Self::transformers_hint()
        )))
    }

    fn try_transformer_or_val(&mut self) -> Result<Option<Operand>, ParseError> {
        self.enter()?;
        self.lex_blank();
        let pos = self.pos;
        let res = if self.lex_str("val(") {
            self.lex_blank();
            let field_pos = self.pos;
            if !self.lex_field_name() {
                return Err(self.err("expected a field within 'val' transformer"));
            }
            let name = self.last.clone();
            let field = self.field_remainder(name, field_pos)?;
            self.lex_blank();
            if !self.lex_str(")") {
                return Err(self.err("expected a ')' token closing the transformer"));
            }
            let arg = self.optional_field_arg()?;
            Some(Operand::Transformer {
                name: "val".into(),
                args: vec![TransformerArg::Operand(field)],
                arg,
                pos,
            })
        } else if let Some(t) = self.lex_transformer() {
            self.lex_blank();
            Some(self.transformer_remainder(t, pos)?)
        } else {
            None
        };
        self.leave();
        Ok(res)
    }
}

/// Unescapes a quoted string token (quotes included), as libsinsp's `unescape_str`.
pub fn unescape(token: &str) -> Result<String, String> {
    let bytes = token.as_bytes();
    if bytes.len() < 2 {
        return Ok(String::new());
    }
    let quote = bytes[0];
    let body = &bytes[1..bytes.len() - 1];
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&e) = body.get(i) else {
            // A trailing backslash before the closing quote cannot happen:
            // the lexer would have treated the quote as escaped.
            break;
        };
        match e {
            b'b' => out.push(b'\x08'),
            b'f' => out.push(b'\x0c'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b' ' | b'\\' => out.push(b'\\'),
            b'/' => out.push(b'/'),
            b'"' => {
                if quote != b'"' {
                    return Err("invalid \\\" escape in '-quoted string".into());
                }
                out.push(b'"');
            }
            b'\'' => {
                if quote != b'\'' {
                    return Err("invalid \\' escape in \"-quoted string".into());
                }
                out.push(b'\'');
            }
            b'x' => {
                let hex = body
                    .get(i + 1..i + 3)
                    .ok_or("truncated hex char escape sequence")?;
                let text = std::str::from_utf8(hex).unwrap_or("");
                let v = u8::from_str_radix(text, 16)
                    .map_err(|_| format!("invalid hex char escape sequence: {text}"))?;
                out.push(v);
                i += 2;
            }
            other => {
                return Err(format!(
                    "unsupported string escape sequence: \\{}",
                    other as char
                ))
            }
        }
        i += 1;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, pos: usize) -> Operand {
        Operand::Field {
            name: name.into(),
            arg: None,
            pos,
        }
    }

    #[test]
    fn precedence_not_and_or() {
        let e = parse("a or b and not c").unwrap();
        let Expr::Or(children, _) = e else {
            panic!("{e:?}")
        };
        assert_eq!(children[0], Expr::Ident("a".into(), 0));
        let Expr::And(and, _) = &children[1] else {
            panic!()
        };
        assert!(matches!(&and[1], Expr::Not(inner, _) if **inner == Expr::Ident("c".into(), 15)));
    }

    #[test]
    fn checks_and_operators() {
        let e = parse("proc.name in (cat, \"a b\") and fd.name startswith /etc").unwrap();
        let Expr::And(c, _) = e else { panic!() };
        assert_eq!(
            c[0],
            Expr::Binary {
                lhs: field("proc.name", 0),
                op: "in".into(),
                rhs: Rhs::List(vec!["cat".into(), "a b".into()], 13),
                pos: 0
            }
        );
        assert!(
            matches!(&c[1], Expr::Binary { op, rhs: Rhs::Value(v, _), .. } if op == "startswith" && v == "/etc")
        );
        // `containsx` is not an operator; `contains` needs a blank.
        assert!(parse("proc.name containsx").is_err());
        assert!(parse("proc.name exists").is_ok());
        assert!(parse("proc.name=bash").is_ok());
        assert!(parse("proc.name==bash").is_ok());
        assert!(parse("evt.num>=10").is_ok());
    }

    #[test]
    fn field_args_and_transformers() {
        let e = parse("proc.aname[2]=sshd and jevt.value[/stage] = x").unwrap();
        let Expr::And(c, _) = e else { panic!() };
        assert!(
            matches!(&c[0], Expr::Binary { lhs: Operand::Field { arg: Some(a), .. }, .. } if a == "2")
        );
        assert!(
            matches!(&c[1], Expr::Binary { lhs: Operand::Field { arg: Some(a), .. }, .. } if a == "/stage")
        );
        let e = parse("tolower(proc.name) = val(proc.pname)").unwrap();
        assert!(matches!(
            e,
            Expr::Binary {
                lhs: Operand::Transformer { .. },
                rhs: Rhs::Operand(_),
                ..
            }
        ));
        let e = parse("len(b64(fd.name)) > 3").unwrap();
        assert!(matches!(e, Expr::Binary { .. }));
    }

    #[test]
    fn errors_have_positions() {
        let err = parse("proc.name = bash and").unwrap_err();
        assert_eq!(err.pos, 20);
        let err = parse("proc.name in (a, b").unwrap_err();
        assert_eq!(err.message, "expected a ')' token");
        let err = parse("proc.name bogus x").unwrap_err();
        assert!(err.message.starts_with("expected a valid check operator"));
        assert_eq!(err.pos, 10);
        let err = parse("a and b c").unwrap_err();
        assert!(err.message.contains("unexpected token after 'b'"), "{err}");
        assert!(parse("").is_err());
    }

    #[test]
    fn empty_lists_and_modifiers() {
        assert!(
            matches!(parse("a.b in ()").unwrap(), Expr::Binary { rhs: Rhs::List(v, _), .. } if v.is_empty())
        );
        let e = parse("proc.name startswith oneof (a, b)").unwrap();
        assert!(matches!(e, Expr::Binary { ref op, .. } if op == "startswith oneof"));
        // `oneof` followed by a boolean keyword is a plain value.
        let e = parse("proc.name = oneof and x").unwrap();
        assert!(matches!(e, Expr::And(..)));
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(r#""a\"b""#).unwrap(), "a\"b");
        assert_eq!(unescape(r#"'\x41'"#).unwrap(), "A");
        assert!(unescape(r#""\q""#).is_err());
        let e = parse(r#"proc.cmdline contains "a\"b""#).unwrap();
        assert!(matches!(e, Expr::Binary { rhs: Rhs::Value(v, _), .. } if v == "a\"b"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "(".repeat(5000) + "a" + &")".repeat(5000);
        assert!(parse(&deep).unwrap_err().message.contains("max depth"));
    }

    #[test]
    fn not_forms() {
        assert!(matches!(parse("not(a)").unwrap(), Expr::Not(..)));
        assert!(matches!(parse("not not a").unwrap(), Expr::Ident(..)));
        // `nota` is an identifier, not a negation.
        assert!(matches!(parse("nota").unwrap(), Expr::Ident(ref n, _) if n == "nota"));
    }
}
