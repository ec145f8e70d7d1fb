//! The CEL engine shared by ValidatingAdmissionPolicy and Gatekeeper's
//! `K8sNativeValidation` engine.
//!
//! Built on the `cel` crate re-exported by `kube-cel` (kube-cel 0.8 is built
//! against cel 0.13, so its `KubeCelExt` only registers into that version's
//! `Context`; the crate's direct `cel` 0.15 dependency is a different type).
//!
//! The `cel` interpreter has no cost tracking, so each expression is rewritten
//! once, at compile time, into an instrumented tree:
//!
//! - every call `f(..)` becomes `@c(f(..))`, which charges 1 plus the size of
//!   the result (strings count a tenth per byte, lists and maps one per item),
//! - every comprehension step (`map`, `all`, `exists`, `filter`...) becomes
//!   `@t(step)`, charging one per iteration,
//! - functions whose output can be much larger than their input
//!   (`lists.range`, `replace`, `join`, `format`) check the remaining budget
//!   before they allocate,
//! - `variables.name` becomes `@var(name)`, evaluated lazily and once,
//! - `authorizer` becomes `@authz_root()`, an authorizer value whose
//!   methods (`group`, `resource`, `check`, `allowed`...) are answered by the
//!   [`Authorizer`] installed with [`with_authorizer`] (RBAC objects of the
//!   input, through the RBAC layer); without one, or for a requester that is
//!   not known offline, the evaluation is marked not evaluable,
//! - escaped field names (`__namespace__`, `foo__dash__bar`) are unescaped as
//!   the API server does.
//!
//! Once the budget (the API server's per-expression limit, 1,000,000) is
//! spent, every further call fails at once, so evaluation stops in time
//! bounded by the size of the expression; the result is then a cost error even
//! if `||` or `&&` absorbed the failure. Costs approximate cel-go's: they are
//! of the same order, not identical, so an expression close to the limit may
//! be judged differently from the API server.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;

use kube_cel::cel::common::ast::{CallExpr, Expr, IdedExpr};
use kube_cel::cel::parser::Parser;
use kube_cel::cel::{objects::Key, objects::Map, Context, ExecutionError, FunctionContext, Value};
use kube_cel::KubeCelExt;

/// The API server's per-expression runtime cost limit (`PerCallLimit`).
pub const PER_EXPRESSION_COST_LIMIT: u64 = 1_000_000;

/// Longest expression accepted (the API server limits expressions to 5 KiB in
/// most places; this is generous and only protects the parser).
const MAX_EXPRESSION_LEN: usize = 64 * 1024;

/// A compiled expression: parsed, checked and instrumented once.
#[derive(Debug, Clone)]
pub struct CompiledExpr {
    source: String,
    expr: IdedExpr,
    uses_authorizer: bool,
}

impl CompiledExpr {
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the expression mentions `authorizer` (not evaluable offline).
    pub fn uses_authorizer(&self) -> bool {
        self.uses_authorizer
    }
}

/// Why an evaluation gave no value.
#[derive(Debug, Clone, PartialEq)]
pub enum EvalError {
    /// The per-expression cost limit was exceeded.
    CostLimit,
    /// The expression needs the cluster (`authorizer`).
    NotEvaluableOffline(String),
    /// A runtime error (no such key, bad type, division by zero...).
    Runtime(String),
    /// The policy's total budget (the API server's `RuntimeCELCostBudget`,
    /// shared by all expressions of one policy evaluation) ran out.
    PolicyBudget,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::CostLimit => write!(
                f,
                "operation cancelled: actual cost limit exceeded (limit {PER_EXPRESSION_COST_LIMIT})"
            ),
            EvalError::NotEvaluableOffline(what) => write!(f, "not evaluable offline: {what}"),
            EvalError::Runtime(message) => f.write_str(message),
            EvalError::PolicyBudget => f.write_str(
                "validation failed due to running out of cost budget, no further validation rules will be run",
            ),
        }
    }
}

const COST_MARKER: &str = "@cost-limit-exceeded";

/// Compiles `source`. `variables` are the names `variables.<name>` may use.
pub fn compile(source: &str, variables: &[String]) -> Result<CompiledExpr, String> {
    if source.len() > MAX_EXPRESSION_LEN {
        return Err(format!(
            "expression is {} bytes long, more than the {MAX_EXPRESSION_LEN} accepted",
            source.len()
        ));
    }
    // The ANTLR parser recurses deeply: parse on a thread with a large stack,
    // then refuse trees deeper than evaluation can safely recurse.
    let owned = source.to_string();
    let vars = variables.to_vec();
    let worker = std::thread::Builder::new()
        .name("cel-compile".into())
        .stack_size(256 * 1024 * 1024)
        .spawn(move || -> Result<(IdedExpr, bool), String> {
            let parsed = match catch_unwind(|| Parser::default().parse(&owned))
                .map_err(|_| "the CEL parser failed on this expression".to_string())?
            {
                Ok(parsed) => parsed,
                // Valid CEL the parser of the `cel` crate does not know (`.?`,
                // `[?`): not evaluable offline rather than a broken policy.
                Err(e) if e.to_string().contains("unsupported syntax") => {
                    let what = e.to_string().replace('\n', " ");
                    return Ok((call("@unsupported", vec![ident(&what)]), false));
                }
                Err(e) => return Err(format!("compilation failed: {e}")),
            };
            let depth = depth(&parsed);
            if depth > MAX_DEPTH {
                return Err(format!(
                    "expression nests {depth} levels deep, more than the {MAX_DEPTH} supported"
                ));
            }
            let mut uses_authorizer = false;
            let expr = rewrite(parsed, &vars, &mut uses_authorizer)?;
            Ok((expr, uses_authorizer))
        })
        .map_err(|e| format!("cannot start the CEL compiler: {e}"))?;
    let (expr, uses_authorizer) = worker
        .join()
        .map_err(|_| "the CEL compiler failed on this expression".to_string())??;
    Ok(CompiledExpr {
        source: source.to_string(),
        expr,
        uses_authorizer,
    })
}

/// Deepest AST accepted; evaluation recurses once (or a few times) per level.
const MAX_DEPTH: usize = 500;

fn depth(e: &IdedExpr) -> usize {
    use kube_cel::cel::common::ast::EntryExpr;
    1 + match &e.expr {
        Expr::Call(c) => c
            .target
            .iter()
            .map(|t| depth(t))
            .chain(c.args.iter().map(depth))
            .max()
            .unwrap_or(0),
        Expr::Comprehension(c) => [
            &c.iter_range,
            &c.accu_init,
            &c.loop_cond,
            &c.loop_step,
            &c.result,
        ]
        .into_iter()
        .map(depth)
        .max()
        .unwrap_or(0),
        Expr::List(l) => l.elements.iter().map(depth).max().unwrap_or(0),
        Expr::Map(m) => m
            .entries
            .iter()
            .map(|en| match &en.expr {
                EntryExpr::MapEntry(me) => depth(&me.key).max(depth(&me.value)),
                EntryExpr::StructField(f) => depth(&f.value),
            })
            .max()
            .unwrap_or(0),
        Expr::Select(s) => depth(&s.operand),
        Expr::Struct(s) => s
            .entries
            .iter()
            .map(|en| match &en.expr {
                EntryExpr::MapEntry(me) => depth(&me.key).max(depth(&me.value)),
                EntryExpr::StructField(f) => depth(&f.value),
            })
            .max()
            .unwrap_or(0),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => 0,
    }
}

fn call(name: &str, args: Vec<IdedExpr>) -> IdedExpr {
    IdedExpr {
        id: 0,
        expr: Expr::Call(CallExpr {
            func_name: name.to_string(),
            target: None,
            args,
        }),
    }
}

fn ident(name: &str) -> IdedExpr {
    IdedExpr {
        id: 0,
        expr: Expr::Ident(name.to_string()),
    }
}

/// Kubernetes escapes property names that are not CEL identifiers.
fn unescape_field(field: &str) -> String {
    const RESERVED: [&str; 23] = [
        "true",
        "false",
        "null",
        "in",
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
        "int",
        "bool",
    ];
    if !field.contains("__") {
        return field.to_string();
    }
    if let Some(inner) = field.strip_prefix("__").and_then(|f| f.strip_suffix("__")) {
        if RESERVED.contains(&inner) {
            return inner.to_string();
        }
    }
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while !rest.is_empty() {
        let mut matched = false;
        for (escape, plain) in [
            ("__underscores__", "__"),
            ("__dot__", "."),
            ("__dash__", "-"),
            ("__slash__", "/"),
        ] {
            if let Some(after) = rest.strip_prefix(escape) {
                out.push_str(plain);
                rest = after;
                matched = true;
                break;
            }
        }
        if !matched {
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
        }
    }
    out
}

fn rewrite(e: IdedExpr, vars: &[String], authz: &mut bool) -> Result<IdedExpr, String> {
    let id = e.id;
    let expr = match e.expr {
        Expr::Unspecified => return Err("unsupported empty expression".into()),
        Expr::Struct(s) => {
            return Err(format!(
                "message construction ({} {{...}}) is not supported",
                s.type_name
            ))
        }
        Expr::Literal(l) => Expr::Literal(l),
        Expr::Ident(name) if name == "authorizer" => {
            *authz = true;
            return Ok(call("@authz_root", vec![]));
        }
        Expr::Ident(name) => Expr::Ident(name),
        Expr::Select(mut s) => {
            if let Expr::Ident(root) = &s.operand.expr {
                if root == "variables" {
                    if s.test {
                        let known = vars.contains(&s.field);
                        return Ok(IdedExpr {
                            id,
                            expr: Expr::Literal(kube_cel::cel::common::ast::LiteralValue::Boolean(
                                known.into(),
                            )),
                        });
                    }
                    if !vars.contains(&s.field) {
                        return Err(format!("undeclared reference to variables.{}", s.field));
                    }
                    return Ok(call("@var", vec![ident(&s.field)]));
                }
            }
            s.field = unescape_field(&s.field);
            s.operand = Box::new(rewrite(*s.operand, vars, authz)?);
            if is_authz(&s.operand) {
                if s.field == "requestResource" && !s.test {
                    return Ok(call("@authz_request_resource", vec![*s.operand]));
                }
                return Err(format!("undefined field '{}' of the authorizer", s.field));
            }
            Expr::Select(s)
        }
        Expr::List(mut l) => {
            l.elements = l
                .elements
                .into_iter()
                .map(|x| rewrite(x, vars, authz))
                .collect::<Result<_, _>>()?;
            Expr::List(l)
        }
        Expr::Map(mut m) => {
            for entry in &mut m.entries {
                match &mut entry.expr {
                    kube_cel::cel::common::ast::EntryExpr::MapEntry(me) => {
                        me.key = rewrite(std::mem::take(&mut me.key), vars, authz)?;
                        me.value = rewrite(std::mem::take(&mut me.value), vars, authz)?;
                    }
                    kube_cel::cel::common::ast::EntryExpr::StructField(_) => {
                        return Err("message construction is not supported".into())
                    }
                }
            }
            Expr::Map(m)
        }
        Expr::Comprehension(mut c) => {
            c.iter_range = rewrite(std::mem::take(&mut c.iter_range), vars, authz)?;
            c.accu_init = rewrite(std::mem::take(&mut c.accu_init), vars, authz)?;
            c.loop_cond = rewrite(std::mem::take(&mut c.loop_cond), vars, authz)?;
            let step = rewrite(std::mem::take(&mut c.loop_step), vars, authz)?;
            c.loop_step = call("@t", vec![step]);
            c.result = rewrite(std::mem::take(&mut c.result), vars, authz)?;
            Expr::Comprehension(c)
        }
        Expr::Call(mut c) => {
            if let Some(what) = unsupported_call(&c) {
                return Ok(call("@unsupported", vec![ident(&what)]));
            }
            if let Some(target) = c.target.take() {
                // Keep namespace idents (`sets.contains`) as they are.
                let t = match target.expr {
                    Expr::Ident(name) if name != "authorizer" => IdedExpr {
                        id: target.id,
                        expr: Expr::Ident(name),
                    },
                    _ => rewrite(*target, vars, authz)?,
                };
                c.target = Some(Box::new(t));
            }
            c.args = c
                .args
                .into_iter()
                .map(|x| rewrite(x, vars, authz))
                .collect::<Result<_, _>>()?;
            let inner = IdedExpr {
                id,
                expr: Expr::Call(c),
            };
            return Ok(call("@c", vec![inner]));
        }
    };
    Ok(IdedExpr { id, expr })
}

/// Macros the `cel` crate does not expand (they would fail as undeclared
/// functions): `cel.bind`, two-variable comprehensions, `sortBy`, transforms.
fn unsupported_call(c: &CallExpr) -> Option<String> {
    let has_target = c.target.is_some();
    let name = c.func_name.as_str();
    let two_var = match name {
        "all" | "exists" | "exists_one" | "existsOne" => c.args.len() == 3,
        "map" | "filter" => c.args.len() == 4 || (name == "filter" && c.args.len() == 3),
        _ => false,
    };
    let target_is = |n: &str| {
        c.target
            .as_ref()
            .is_some_and(|t| matches!(&t.expr, Expr::Ident(i) if i == n))
    };
    if two_var && has_target {
        Some(format!("the two-variable comprehension `{name}`"))
    } else if name == "bind" && target_is("cel") {
        Some("`cel.bind`".into())
    } else if has_target
        && matches!(
            name,
            "transformList" | "transformMap" | "transformMapEntry" | "sortBy"
        )
    {
        Some(format!("the `{name}` macro"))
    } else {
        None
    }
}

/// Whether `e` is the authorizer itself (`authorizer`, or
/// `authorizer.serviceAccount(..)`), whose only field is `requestResource`.
fn is_authz(e: &IdedExpr) -> bool {
    match &e.expr {
        Expr::Call(c) if c.func_name == "@authz_root" => true,
        Expr::Call(c) if c.func_name == "serviceAccount" => {
            c.target.as_deref().is_some_and(is_authz)
        }
        Expr::Call(c) if c.func_name == "@c" => c.args.first().is_some_and(is_authz),
        _ => false,
    }
}

/// Variables visible to an expression (`object`, `request`...), as CEL values.
pub type Activation = Vec<(&'static str, Value)>;

/// Lazily evaluated `variables`, shared by every expression of one evaluation.
pub struct VarScope {
    names: Vec<String>,
    exprs: Vec<Result<CompiledExpr, String>>,
    cache: RefCell<Vec<Option<Result<Value, EvalError>>>>,
    in_progress: RefCell<Vec<bool>>,
    activation: Activation,
}

impl VarScope {
    /// `variables[i]` is `(name, compiled expression or compile error)`.
    pub fn new(
        variables: &[(String, Result<CompiledExpr, String>)],
        activation: Activation,
    ) -> Rc<Self> {
        let n = variables.len();
        Rc::new(VarScope {
            names: variables.iter().map(|(n, _)| n.clone()).collect(),
            exprs: variables.iter().map(|(_, e)| e.clone()).collect(),
            cache: RefCell::new(vec![None; n]),
            in_progress: RefCell::new(vec![false; n]),
            activation,
        })
    }

    /// Sets a variable's value directly (Gatekeeper's `variables.params`).
    pub fn preset(&self, name: &str, value: Value) {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            if let Some(slot) = self.cache.borrow_mut().get_mut(i) {
                *slot = Some(Ok(value));
            }
        }
    }

    pub fn activation(&self) -> &Activation {
        &self.activation
    }
}

#[derive(Default)]
struct EvalState {
    used: u64,
    exceeded: bool,
    /// Why the evaluation depends on something not available offline.
    not_evaluable: Option<String>,
    scope: Option<Rc<VarScope>>,
}

mod authz;
pub use authz::{with_authorizer, AuthzContext, RequestAttributes};

thread_local! {
    static STATE: RefCell<EvalState> = RefCell::new(EvalState::default());
    static ROOT: Context<'static> = root_context();
    static RAW: Context<'static> = Context::default().with_all();
    static DELEGATES: RefCell<HashMap<(String, usize), Rc<IdedExpr>>> = RefCell::new(HashMap::new());
}

fn cost_error() -> ExecutionError {
    ExecutionError::function_error(COST_MARKER, "cost limit exceeded")
}

/// Adds `amount` to the budget; errors once over the limit.
fn charge(amount: u64) -> Result<(), ExecutionError> {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.used = s.used.saturating_add(amount);
        if s.used > PER_EXPRESSION_COST_LIMIT {
            s.exceeded = true;
        }
        if s.exceeded {
            Err(cost_error())
        } else {
            Ok(())
        }
    })
}

fn remaining() -> u64 {
    STATE.with(|s| {
        let s = s.borrow();
        if s.exceeded {
            0
        } else {
            PER_EXPRESSION_COST_LIMIT.saturating_sub(s.used)
        }
    })
}

fn shallow_cost(v: &Value) -> u64 {
    let n = match v {
        Value::String(s) => s.len() / 10,
        Value::Bytes(b) => b.len() / 10,
        Value::List(l) => l.len(),
        Value::Map(m) => m.map.len(),
        _ => 0,
    };
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Text bytes held in a value (strings in lists and maps included).
fn deep_text(v: &Value, limit: usize) -> usize {
    fn walk(v: &Value, total: &mut usize, limit: usize) {
        if *total > limit {
            return;
        }
        match v {
            Value::String(s) => *total += s.len(),
            Value::Bytes(b) => *total += b.len(),
            Value::List(l) => {
                for x in l.iter() {
                    *total += 1;
                    walk(x, total, limit);
                }
            }
            Value::Map(m) => {
                for (k, x) in m.map.iter() {
                    if let Key::String(k) = k {
                        *total += k.len();
                    }
                    walk(x, total, limit);
                }
            }
            _ => *total += 8,
        }
    }
    let mut total = 0;
    walk(v, &mut total, limit);
    total
}

/// Fails when producing `bytes` more text would exceed the budget.
fn reserve_text(bytes: usize) -> Result<(), ExecutionError> {
    let allowed = remaining().saturating_mul(10);
    if u64::try_from(bytes).unwrap_or(u64::MAX) > allowed {
        STATE.with(|s| s.borrow_mut().exceeded = true);
        return Err(cost_error());
    }
    Ok(())
}

fn arg(ftx: &FunctionContext, i: usize) -> Result<Value, ExecutionError> {
    let e = ftx
        .args
        .get(i)
        .ok_or_else(|| ExecutionError::invalid_argument_count(i + 1, ftx.args.len()))?;
    Value::resolve(e, ftx.ptx)
}

fn root_context() -> Context<'static> {
    let mut ctx = Context::default().with_all();
    ctx.add_function(
        "@c",
        |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            charge(1)?;
            let v = arg(ftx, 0)?;
            charge(shallow_cost(&v))?;
            Ok(v)
        },
    );
    ctx.add_function(
        "@t",
        |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            charge(1)?;
            arg(ftx, 0)
        },
    );
    authz::register(&mut ctx);
    ctx.add_function("@var", eval_variable);
    ctx.add_function(
        "@unsupported",
        |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            let what = match ftx.args.first().map(|e| &e.expr) {
                Some(Expr::Ident(what)) => what.clone(),
                _ => "this construct".to_string(),
            };
            let message = format!("{what} is not supported by the offline CEL engine");
            STATE.with(|s| s.borrow_mut().not_evaluable = Some(message.clone()));
            Err(ExecutionError::function_error("unsupported", message))
        },
    );
    ctx.add_function("dyn", |v: Value| -> Result<Value, ExecutionError> { Ok(v) });
    ctx.add_function("lists.range", |n: i64| -> Result<Value, ExecutionError> {
        let count = u64::try_from(n).unwrap_or(0);
        if count > remaining() {
            STATE.with(|s| s.borrow_mut().exceeded = true);
            return Err(cost_error());
        }
        Ok(Value::List(Arc::new(
            (0..n.max(0)).map(Value::Int).collect(),
        )))
    });
    ctx.add_function("replace", guarded_replace);
    for method in ["matches", "find", "findAll"] {
        ctx.add_function(
            method,
            move |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
                // `s.matches(re)` or `matches(s, re)`.
                let mut values = Vec::with_capacity(ftx.args.len() + 1);
                if let Some(this) = &ftx.this {
                    values.push(this.clone());
                }
                for i in 0..ftx.args.len() {
                    values.push(arg(ftx, i)?);
                }
                if values.is_empty() {
                    return Err(ExecutionError::missing_argument_or_target());
                }
                let this = values.remove(0);
                if let Some(Value::String(pattern)) = values.first() {
                    // Compiling a regex costs in proportion to its expanded
                    // size: `((a{100}){100}){10}` is short but huge.
                    let text = match &this {
                        Value::String(t) => t.len(),
                        _ => 0,
                    };
                    let cost =
                        regex_size(pattern) / 10 + u64::try_from(text / 10).unwrap_or(u64::MAX);
                    charge(cost)?;
                }
                delegate(method, this, values)
            },
        );
    }
    ctx.add_function(
        "join",
        |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            let this = ftx
                .this
                .clone()
                .ok_or_else(ExecutionError::missing_argument_or_target)?;
            let sep = match ftx.args.first() {
                Some(e) => Some(Value::resolve(e, ftx.ptx)?),
                None => None,
            };
            let limit = usize::try_from(remaining().saturating_mul(10)).unwrap_or(usize::MAX);
            let mut bytes = deep_text(&this, limit);
            if let (Some(Value::String(s)), Value::List(l)) = (&sep, &this) {
                bytes = bytes.saturating_add(s.len().saturating_mul(l.len()));
            }
            reserve_text(bytes)?;
            delegate("join", this, sep.into_iter().collect())
        },
    );
    ctx.add_function(
        "format",
        |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            let this = ftx
                .this
                .clone()
                .ok_or_else(ExecutionError::missing_argument_or_target)?;
            let args = arg(ftx, 0)?;
            if let Value::String(f) = &this {
                check_format_precision(f)?;
            }
            let limit = usize::try_from(remaining().saturating_mul(10)).unwrap_or(usize::MAX);
            reserve_text(deep_text(&this, limit).saturating_add(deep_text(&args, limit)))?;
            delegate("format", this, vec![args])
        },
    );
    ctx
}

/// The size of a regex once counted repetitions are expanded (an estimate).
fn regex_size(pattern: &str) -> u64 {
    // Frames: (size of the group so far, size of its last item).
    let mut stack: Vec<(u64, u64)> = vec![(0, 0)];
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '(' => stack.push((0, 0)),
            ')' => {
                if stack.len() > 1 {
                    let (size, _) = stack.pop().unwrap_or((0, 0));
                    if let Some(top) = stack.last_mut() {
                        top.0 = top.0.saturating_add(size);
                        top.1 = size;
                    }
                }
            }
            '{' => {
                let mut body = String::new();
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                    body.push(d);
                }
                let bound = body
                    .split(',')
                    .filter_map(|n| n.trim().parse::<u64>().ok())
                    .max()
                    .unwrap_or(1)
                    .max(1);
                if let Some(top) = stack.last_mut() {
                    top.0 = top.0.saturating_add(top.1.saturating_mul(bound - 1));
                    top.1 = top.1.saturating_mul(bound);
                }
            }
            '[' => {
                let mut escaped = false;
                for d in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if d == '\\' {
                        escaped = true;
                    } else if d == ']' {
                        break;
                    }
                }
                if let Some(top) = stack.last_mut() {
                    top.0 = top.0.saturating_add(1);
                    top.1 = 1;
                }
            }
            '*' | '+' | '?' | '|' | '^' | '$' => {}
            other => {
                if other == '\\' {
                    chars.next();
                }
                if let Some(top) = stack.last_mut() {
                    top.0 = top.0.saturating_add(1);
                    top.1 = 1;
                }
            }
        }
    }
    stack
        .iter()
        .fold(0u64, |acc, (size, _)| acc.saturating_add(*size))
}

fn check_format_precision(f: &str) -> Result<(), ExecutionError> {
    let bytes = f.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%' && bytes.get(i + 1) == Some(&b'.') {
            let digits: String = bytes
                .get(i + 2..)
                .unwrap_or(&[])
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .map(|&c| char::from(c))
                .collect();
            if digits.len() > 3 {
                return Err(ExecutionError::function_error(
                    "format",
                    "precision larger than 999 is not supported",
                ));
            }
        }
    }
    Ok(())
}

/// Calls kube-cel's own implementation of a method we guard.
fn delegate(method: &str, this: Value, args: Vec<Value>) -> Result<Value, ExecutionError> {
    // Function values cannot become variables (the interpreter would panic).
    if matches!(this, Value::Function(..)) || args.iter().any(|a| matches!(a, Value::Function(..)))
    {
        return Err(ExecutionError::NoSuchOverload);
    }
    let names: Vec<String> = (0..args.len()).map(|i| format!("a{i}")).collect();
    let key = (method.to_string(), args.len());
    let cached = DELEGATES.with(|d| d.borrow().get(&key).cloned());
    let program = match cached {
        Some(p) => p,
        None => {
            let src = format!("t.{method}({})", names.join(", "));
            let parsed = Rc::new(
                Parser::default()
                    .parse(&src)
                    .map_err(|e| ExecutionError::function_error(method, e))?,
            );
            DELEGATES.with(|d| d.borrow_mut().insert(key, parsed.clone()));
            parsed
        }
    };
    RAW.with(|raw| {
        let mut ctx = raw.new_inner_scope();
        ctx.add_variable_from_value("t", this);
        for (n, v) in names.iter().zip(args) {
            ctx.add_variable_from_value(n.as_str(), v);
        }
        Value::resolve(&program, &ctx)
    })
}

fn guarded_replace(ftx: &FunctionContext) -> Result<Value, ExecutionError> {
    let this = match &ftx.this {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(ExecutionError::NoSuchOverload),
        None => return Err(ExecutionError::missing_argument_or_target()),
    };
    let old = match arg(ftx, 0)? {
        Value::String(s) => s,
        _ => return Err(ExecutionError::NoSuchOverload),
    };
    let new = match arg(ftx, 1)? {
        Value::String(s) => s,
        _ => return Err(ExecutionError::NoSuchOverload),
    };
    let limit = if ftx.args.len() > 2 {
        match arg(ftx, 2)? {
            Value::Int(n) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            Value::Int(_) => None,
            _ => return Err(ExecutionError::NoSuchOverload),
        }
    } else {
        None
    };
    let occurrences = if old.is_empty() {
        this.chars().count() + 1
    } else {
        this.matches(old.as_str()).count()
    };
    let occurrences = limit.map_or(occurrences, |l| l.min(occurrences));
    let size = this
        .len()
        .saturating_add(occurrences.saturating_mul(new.len()));
    reserve_text(size)?;
    let out = match limit {
        Some(n) => this.replacen(old.as_str(), new.as_str(), n),
        None => this.replace(old.as_str(), new.as_str()),
    };
    Ok(Value::String(Arc::new(out)))
}

fn eval_variable(ftx: &FunctionContext) -> Result<Value, ExecutionError> {
    let name = match ftx.args.first().map(|e| &e.expr) {
        Some(Expr::Ident(name)) => name.clone(),
        _ => {
            return Err(ExecutionError::function_error(
                "variables",
                "bad variable reference",
            ))
        }
    };
    let scope = STATE
        .with(|s| s.borrow().scope.clone())
        .ok_or_else(|| ExecutionError::function_error("variables", "no variables here"))?;
    let index = scope
        .names
        .iter()
        .position(|n| *n == name)
        .ok_or_else(|| ExecutionError::undeclared_reference(&format!("variables.{name}")))?;
    if let Some(Some(cached)) = scope.cache.borrow().get(index) {
        return cached.clone().map_err(|e| match e {
            EvalError::CostLimit => cost_error(),
            EvalError::NotEvaluableOffline(why) => {
                STATE.with(|s| s.borrow_mut().not_evaluable = Some(why.clone()));
                ExecutionError::function_error(&format!("variables.{name}"), why)
            }
            other => ExecutionError::function_error(&format!("variables.{name}"), other),
        });
    }
    {
        let mut busy = scope.in_progress.borrow_mut();
        match busy.get_mut(index) {
            Some(true) => {
                return Err(ExecutionError::function_error(
                    &format!("variables.{name}"),
                    "the variable refers to itself",
                ))
            }
            Some(flag) => *flag = true,
            None => {}
        }
    }
    let result = match scope.exprs.get(index) {
        Some(Ok(compiled)) => {
            let mut ctx = ftx.ptx.new_inner_scope();
            for (k, v) in &scope.activation {
                ctx.add_variable_from_value(*k, v.clone());
            }
            Value::resolve(&compiled.expr, &ctx)
        }
        Some(Err(e)) => Err(ExecutionError::function_error(
            &format!("variables.{name}"),
            e,
        )),
        None => Err(ExecutionError::undeclared_reference(&name)),
    };
    if let Some(flag) = scope.in_progress.borrow_mut().get_mut(index) {
        *flag = false;
    }
    let not_evaluable = STATE.with(|s| s.borrow().not_evaluable.clone());
    let stored = result.clone().map_err(|e| match not_evaluable {
        Some(why) => EvalError::NotEvaluableOffline(why),
        None => classify(&e),
    });
    if let Some(slot) = scope.cache.borrow_mut().get_mut(index) {
        *slot = Some(stored);
    }
    result
}

fn classify(e: &ExecutionError) -> EvalError {
    match e {
        ExecutionError::FunctionError { function, .. } if function == COST_MARKER => {
            EvalError::CostLimit
        }
        other => EvalError::Runtime(other.to_string()),
    }
}

/// Evaluates a compiled expression with `activation` and lazily evaluated
/// `variables` from `scope`. Never panics; bounded by the cost limit.
/// Call it inside [`on_large_stack`]: the interpreter recurses per level of
/// the expression (up to 500 levels are accepted).
pub fn evaluate(
    expr: &CompiledExpr,
    activation: &Activation,
    scope: Option<&Rc<VarScope>>,
) -> Result<Value, EvalError> {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.used = 0;
        s.exceeded = false;
        s.not_evaluable = None;
        s.scope = scope.cloned();
    });
    let result = catch_unwind(AssertUnwindSafe(|| {
        ROOT.with(|root| {
            let mut ctx = root.new_inner_scope();
            for (k, v) in activation {
                ctx.add_variable_from_value(*k, v.clone());
            }
            Value::resolve(&expr.expr, &ctx)
        })
    }));
    let (exceeded, not_evaluable) = STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.scope = None;
        (s.exceeded, s.not_evaluable.take())
    });
    if exceeded {
        return Err(EvalError::CostLimit);
    }
    if let Some(why) = not_evaluable {
        return Err(EvalError::NotEvaluableOffline(why));
    }
    match result {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(classify(&e)),
        Err(_) => Err(EvalError::Runtime(
            "the CEL interpreter failed on this expression".into(),
        )),
    }
}

/// The cost spent by the last [`evaluate`] on this thread (variables it
/// evaluated included).
pub fn last_cost() -> u64 {
    STATE.with(|s| s.borrow().used)
}

/// Stack for evaluation threads: the interpreter recurses several frames per
/// level of the expression tree, and debug builds use large frames. Only the
/// touched part of the reservation is ever committed.
pub const EVAL_STACK: usize = 256 * 1024 * 1024;

/// Runs `f` on a scoped thread with a large stack, so that deep (but accepted)
/// expressions cannot overflow the caller's stack.
pub fn on_large_stack<R: Send>(f: impl FnOnce() -> R + Send) -> Result<R, String> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("cel-eval".into())
            .stack_size(EVAL_STACK)
            .spawn_scoped(scope, f)
            .map_err(|e| format!("cannot start the CEL evaluator: {e}"))?
            .join()
            .map_err(|_| "the CEL evaluator failed".to_string())
    })
}

/// Converts JSON to a CEL value (objects become maps with string keys).
pub fn json_to_cel(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::UInt(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(json_to_cel).collect()))
        }
        serde_json::Value::Object(map) => {
            let m: HashMap<Key, Value> = map
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), json_to_cel(v)))
                .collect();
            Value::Map(Map { map: Arc::new(m) })
        }
    }
}

/// Renders a CEL value for messages (strings without quotes).
pub fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_inputs_give_errors_not_panics() {
        for src in [
            "'abc'.substring(5, 2)",
            "'abc'.charAt(-1)",
            "[1,2][5]",
            "{'a':1}['b']",
            "quantity('1e999999')",
            "quantity('99999999999999999999999999999999Ei').asInteger()",
            "semver('x')",
            "'a'.matches('(')",
            "math.bitShiftLeft(1, 99999)",
            "'abc'.indexOf('', 99)",
            "lists.range(-5)",
            "[1].slice(3, 1)",
            "base64.decode('@@@')",
            "'%'.format([])",
            "'%d'.format(['x'])",
            "'%s %s %s'.format([1])",
            "duration('9999999999999h')",
            "timestamp('x')",
            "-9223372036854775807 - 2",
            "int('99999999999999999999')",
            "double('x')",
            "'x'.replace('', 'y', -5)",
            "cidr('1.2.3.4/99')",
            "url('::').getHost()",
            "quantity('1').join(',')",
            "[quantity('1')].join(',')",
            "'a'.format([quantity('1')])",
            "[].min()",
            "['a', 1].sort()",
            "'é'.substring(0, 1)",
            "'abc'.split('', -2)",
        ] {
            let c = match compile(src, &[]) {
                Ok(c) => c,
                Err(_) => continue,
            };
            let r = on_large_stack(move || evaluate(&c, &vec![], None).map(|v| display(&v)));
            assert!(r.is_ok(), "{src}: the evaluator thread failed");
        }
    }

    fn run(src: &str) -> Result<Value, EvalError> {
        let c = compile(src, &[]).map_err(EvalError::Runtime)?;
        on_large_stack(move || evaluate(&c, &vec![], None).map(|v| display(&v)))
            .map_err(EvalError::Runtime)?
            .map(|s| match s.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(Arc::new(s)),
            })
    }

    #[test]
    fn basics_and_libraries() {
        assert_eq!(run("1 + 2 == 3"), Ok(Value::Bool(true)));
        assert_eq!(
            run("[1,2,3].map(x, x * 2) == [2,4,6]"),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            run("quantity('1Gi').isGreaterThan(quantity('500Mi'))"),
            Ok(Value::Bool(true))
        );
        assert_eq!(run("[1,2,3].isSorted()"), Ok(Value::Bool(true)));
        assert_eq!(
            run("url('https://a.b/c').getHost() == 'a.b'"),
            Ok(Value::Bool(true))
        );
        assert_eq!(run("'abc'.matches('^a')"), Ok(Value::Bool(true)));
        assert_eq!(
            run("'a-b'.replace('-', '_') == 'a_b'"),
            Ok(Value::Bool(true))
        );
        assert_eq!(run("['a','b'].join(',') == 'a,b'"), Ok(Value::Bool(true)));
        assert_eq!(
            run("'%s=%d'.format(['a', 1]) == 'a=1'"),
            Ok(Value::Bool(true))
        );
        assert_eq!(run("dyn(1) == 1"), Ok(Value::Bool(true)));
        assert_eq!(run("lists.range(3) == [0,1,2]"), Ok(Value::Bool(true)));
    }

    #[test]
    fn hostile_expressions_stop() {
        let deep =
            "lists.range(1000).all(a, lists.range(1000).all(b, lists.range(1000).all(c, true)))";
        assert_eq!(run(deep), Err(EvalError::CostLimit));
        assert_eq!(
            run("lists.range(100000000).size() > 0"),
            Err(EvalError::CostLimit)
        );
        assert!(run("'%.999999999f'.format([1.0]) == ''").is_err());
        let blow = "lists.range(20).map(i, 'x').join('').replace('x', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx').replace('x', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx').replace('x', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx').replace('x','xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') != ''";
        assert_eq!(run(blow), Err(EvalError::CostLimit));
        // A cost error is not absorbed by `||`.
        assert_eq!(run(&format!("{deep} || true")), Err(EvalError::CostLimit));
    }

    #[test]
    fn unsupported_and_hostile_syntax_does_not_panic() {
        assert!(compile("Foo{a: 1}", &[]).is_err());
        assert!(compile("((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))", &[]).is_err());
        assert!(run("1 / 0").is_err());
        let chain = vec!["1"; 5000].join(" + ");
        assert!(compile(&chain, &[]).is_err());
    }

    #[test]
    fn deep_but_accepted_expressions_evaluate() {
        let ors = vec!["1 == 2"; 200].join(" || ") + " || true";
        assert_eq!(run(&ors), Ok(Value::Bool(true)));
        let nested = format!("{}1{}", "[".repeat(60), "]".repeat(60));
        assert!(run(&nested).is_ok());
        let calls = format!("{}'a'{}", "string(".repeat(60), ")".repeat(60));
        assert_eq!(run(&calls), Ok(Value::String(Arc::new("a".into()))));
        assert!(run("authorizer.group('').resource('pods').check('get').allowed()").is_err());
    }

    #[test]
    fn unsupported_constructs_are_not_evaluable() {
        for src in [
            "cel.bind(x, 1, x + 1) == 2",
            "[1, 2].all(i, v, v > 0)",
            "{'a': 1}.transformMap(k, v, v + 1) == {'a': 2}",
        ] {
            assert!(
                matches!(run(src), Err(EvalError::NotEvaluableOffline(_))),
                "{src}: {:?}",
                run(src)
            );
        }
        assert!(matches!(
            run("{'a': 1}.?a.orValue(2) == 1"),
            Err(EvalError::NotEvaluableOffline(_))
        ));
        // Short-circuited before the unsupported part: evaluable.
        assert_eq!(run("true || cel.bind(x, 1, x == 1)"), Ok(Value::Bool(true)));
    }

    #[test]
    fn expensive_regexes_are_charged() {
        assert_eq!(regex_size("abc"), 3);
        assert_eq!(regex_size("(a{100}){100}"), 10_000);
        assert_eq!(regex_size("[a-z]{10}x"), 11);
        let c = compile("'b'.matches('(a{100}){100}')", &[]).map_err(EvalError::Runtime);
        let cost = c.and_then(|c| {
            on_large_stack(move || {
                let _ = evaluate(&c, &vec![], None);
                last_cost()
            })
            .map_err(EvalError::Runtime)
        });
        assert!(matches!(cost, Ok(c) if c >= 1000), "{cost:?}");
        assert_eq!(run("'abc'.matches('^a.c$')"), Ok(Value::Bool(true)));
        assert_eq!(run("matches('abc', 'b')"), Ok(Value::Bool(true)));
        assert_eq!(
            run("'abc123'.find('[0-9]+') == '123'"),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            run("'a1b2'.findAll('[0-9]') == ['1', '2']"),
            Ok(Value::Bool(true))
        );
    }

    #[test]
    fn escaped_fields() {
        assert_eq!(unescape_field("__namespace__"), "namespace");
        assert_eq!(unescape_field("foo__dash__bar"), "foo-bar");
        assert_eq!(unescape_field("a__dot__b__slash__c"), "a.b/c");
        assert_eq!(unescape_field("my_field"), "my_field");
    }
}
