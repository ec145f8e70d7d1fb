//! Source rewrites that close parsing differences between regorus and OPA on
//! Rego v0 as Gatekeeper templates write it. Every rewrite keeps line numbers
//! (it only edits within a line), so error positions still point at the source.

/// Where a left-to-right scan of Rego source stands with respect to string
/// literals (`"..."` with escapes, and raw `` `...` `` strings), so that code
/// characters inside them are not taken for code.
#[derive(Default)]
struct Literals {
    in_str: bool,
    escaped: bool,
    in_raw: bool,
}

impl Literals {
    /// Feeds `c`; true when `c` belongs to a string literal (delimiters included).
    fn skip(&mut self, c: char) -> bool {
        if self.in_raw {
            self.in_raw = c != '`';
            return true;
        }
        if self.in_str {
            if self.escaped {
                self.escaped = false;
            } else if c == '\\' {
                self.escaped = true;
            } else if c == '"' {
                self.in_str = false;
            }
            return true;
        }
        match c {
            '"' => self.in_str = true,
            '`' => self.in_raw = true,
            _ => return false,
        }
        true
    }
}

/// The code part of a line and the offset where its trailing comment starts
/// (strings, including raw strings, are skipped). A raw string may span lines:
/// `in_raw` carries that state from one line to the next.
fn code_end(line: &str, in_raw: &mut bool) -> usize {
    let mut literals = Literals {
        in_raw: *in_raw,
        ..Literals::default()
    };
    for (i, c) in line.char_indices() {
        if !literals.skip(c) && c == '#' {
            *in_raw = literals.in_raw;
            return i;
        }
    }
    *in_raw = literals.in_raw;
    line.len()
}

/// Net nesting change of a code fragment (strings skipped), and the byte offset
/// of the last `{` that opens at nesting 0 relative to the fragment's start.
fn nesting(code: &str) -> (i64, Option<usize>) {
    let mut depth = 0i64;
    let mut last_open = None;
    let mut literals = Literals::default();
    for (i, c) in code.char_indices() {
        if literals.skip(c) {
            continue;
        }
        match c {
            '{' | '[' | '(' => {
                if c == '{' && depth == 0 {
                    last_open = Some(i);
                }
                depth += 1;
            }
            '}' | ']' | ')' => depth -= 1,
            _ => {}
        }
    }
    (depth, last_open)
}

/// OPA ends an expression at a line break; regorus reads `a\n(b)` as the call
/// `a(b)`. Ends the previous code line with `;` when a line starts with `(` and
/// the previous line ends like an expression (identifier, number, `)`, `]`, string).
pub fn separate_paren_lines(rego: &str) -> String {
    let mut lines: Vec<String> = rego.lines().map(str::to_string).collect();
    let mut in_raw = false;
    let mut code_ends: Vec<usize> = Vec::with_capacity(lines.len());
    for line in &lines {
        code_ends.push(code_end(line, &mut in_raw));
    }
    let mut prev_code: Option<usize> = None;
    for i in 0..lines.len() {
        let code = lines[i].get(..code_ends[i]).unwrap_or("").trim();
        if code.is_empty() {
            continue;
        }
        if code.starts_with('(') {
            if let Some(p) = prev_code {
                let end = code_ends[p];
                let prev = lines[p].get(..end).unwrap_or("").trim_end();
                let ends_expr = prev.chars().last().is_some_and(|c| {
                    c.is_alphanumeric() || matches!(c, '_' | ')' | ']' | '"' | '`')
                });
                if ends_expr {
                    let at = prev.len();
                    lines[p].insert(at, ';');
                    code_ends[p] += 1;
                }
            }
        }
        prev_code = Some(i);
    }
    let mut out = lines.join("\n");
    if rego.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// OPA accepts several bodies after one head (`p[x] { a } { b }`), meaning one
/// rule per body; regorus rejects it for set rules. Repeats the head before each
/// further body: `} {` becomes `} <head> {`, and a line holding only `{` after a
/// closed body becomes `<head> {`. Only single-line heads are handled.
pub fn split_multi_body_rules(rego: &str) -> String {
    let mut out = String::with_capacity(rego.len() + 256);
    let mut depth = 0i64;
    let mut head: Option<String> = None;
    let mut in_raw = false;
    let mut prev_closed_body = false;
    for line in rego.split_inclusive('\n') {
        let end = code_end(line, &mut in_raw);
        let code = line.get(..end).unwrap_or("");
        let trimmed = code.trim();
        let mut rewritten: Option<String> = None;
        if depth == 0 && !trimmed.is_empty() {
            let first = trimmed.chars().next().unwrap_or(' ');
            if first.is_alphabetic() || first == '_' {
                let (_, open) = nesting(code);
                head = open.map(|o| code.get(..o).unwrap_or("").trim().to_string());
            } else if trimmed == "{" && prev_closed_body {
                if let Some(h) = &head {
                    rewritten = Some(line.replacen('{', &format!("{h} {{"), 1));
                }
            }
        } else if depth == 1 && trimmed.starts_with('}') {
            let rest = trimmed.get(1..).unwrap_or("").trim_start();
            if rest == "{" {
                if let Some(h) = &head {
                    let brace = code.rfind('{').unwrap_or(code.len());
                    let mut l = line.to_string();
                    l.insert_str(brace, &format!("{h} "));
                    rewritten = Some(l);
                }
            }
        }
        let (delta, _) = nesting(code);
        let new_depth = depth + delta;
        if !trimmed.is_empty() {
            prev_closed_body = new_depth == 0 && trimmed.ends_with('}');
        }
        depth = new_depth.max(0);
        out.push_str(rewritten.as_deref().unwrap_or(line));
    }
    out
}

/// Splits `args` at top-level commas (strings and nesting respected).
fn split_args(args: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut depth = 0i64;
    let mut literals = Literals::default();
    let mut start = 0;
    for (i, c) in args.char_indices() {
        // Raw strings are not handled here: give up on the rewrite.
        if c == '`' && !literals.in_str {
            return None;
        }
        if literals.skip(c) {
            continue;
        }
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(args.get(start..i)?);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    out.push(args.get(start..)?);
    Some(out)
}

/// Whether `arg` is a reference into a document (`a.b`, `a[x].b`), not a plain
/// variable, literal or call.
fn is_dynamic_ref(arg: &str) -> bool {
    let arg = arg.trim();
    let starts_ident = arg
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    starts_ident
        && (arg.contains('.') || arg.contains('['))
        && !arg.contains('(')
        && !arg.contains(' ')
}

/// OPA evaluates the reference arguments of a call before the call, outside a
/// negation (its compiler hoists them into their own expressions), so
/// `not f(x, params.missing)` is *undefined* (the body fails) when
/// `params.missing` is undefined; regorus makes the call undefined and the
/// negation true. For a line `not f(args)` where `f` is a function the policy
/// defines, hoists each reference argument: `__pal_<line>_<k> := ref; not f(..)`.
pub fn hoist_negated_call_refs(rego: &str, functions: &[String]) -> String {
    let mut in_raw = false;
    let mut out = String::with_capacity(rego.len() + 64);
    for (n, line) in rego.split_inclusive('\n').enumerate() {
        let was_raw = in_raw;
        let end = code_end(line, &mut in_raw);
        let rewritten = (!was_raw)
            .then(|| hoist_line(line.get(..end)?, n, functions))
            .flatten();
        match rewritten {
            Some(code) => {
                out.push_str(&code);
                out.push_str(line.get(end..).unwrap_or(""));
            }
            None => out.push_str(line),
        }
    }
    out
}

fn hoist_line(code: &str, n: usize, functions: &[String]) -> Option<String> {
    let indent_len = code.len() - code.trim_start().len();
    let (indent, rest) = code.split_at(indent_len);
    let trailing = rest.get(rest.trim_end().len()..).unwrap_or("");
    let rest = rest.trim_end();
    let call = rest.strip_prefix("not ")?.trim_start();
    let open = call.find('(')?;
    let name = call.get(..open)?;
    let short = name.rsplit('.').next()?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        || !functions.iter().any(|f| f == short)
    {
        return None;
    }
    let args = call.get(open + 1..)?.strip_suffix(')')?;
    let parts = split_args(args)?;
    let mut hoisted = String::new();
    let mut new_args = Vec::with_capacity(parts.len());
    for (k, part) in parts.iter().enumerate() {
        if is_dynamic_ref(part) {
            let var = format!("__pal_{n}_{k}");
            // `=` rather than `:=`: the same for a fresh variable, and regorus's
            // VM does not fail a body on `x := <undefined>` (it does on `x = ...`).
            hoisted.push_str(&format!("{var} = {}; ", part.trim()));
            new_args.push(var);
        } else {
            new_args.push(part.trim().to_string());
        }
    }
    if hoisted.is_empty() {
        return None;
    }
    Some(format!(
        "{indent}{hoisted}not {name}({}){trailing}",
        new_args.join(", ")
    ))
}

/// Names of the functions (rules with arguments) the sources define.
pub fn defined_functions(sources: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for source in sources {
        for line in source.lines() {
            if line.starts_with(char::is_whitespace) {
                continue;
            }
            let Some(open) = line.find('(') else { continue };
            let name = line.get(..open).unwrap_or("");
            if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                out.push(name.to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// OPA's `sprintf` prints `%!v(MISSING)` for a verb without an argument (Go's
/// `fmt`); regorus raises an error, so the message (and the violation) vanishes.
/// Installed as an extension named `sprintf` (extensions are looked up before
/// builtins): it formats what has arguments with regorus' own `sprintf` and
/// appends Go's `%!<verb>(MISSING)` for the rest. Any error gives undefined, as
/// OPA's non-strict builtin errors do.
pub fn install_sprintf(engine: &mut regorus::Engine) -> Result<(), String> {
    let mut helper = regorus::Engine::new();
    helper.set_strict_builtin_errors(false);
    engine
        .add_extension(
            "sprintf".to_string(),
            2,
            Box::new(move |args: Vec<regorus::Value>| {
                Ok(sprintf_compat(&mut helper, &args).unwrap_or(regorus::Value::Undefined))
            }),
        )
        .map_err(|e| e.to_string())
}

/// The verbs of a format string as regorus scans them: (start of `%`, end after the verb, verb).
/// `None` when regorus' own scanner would fail (or panic: non-ASCII digits).
fn format_verbs(format: &str) -> Option<Vec<(usize, usize, char)>> {
    let mut verbs = Vec::new();
    let mut it = format.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c != '%' {
            continue;
        }
        match it.next() {
            Some((_, '%')) => {}
            Some((_, w)) if w == '.' || w.is_numeric() => {
                if w != '.' && !w.is_ascii_digit() {
                    return None;
                }
                while let Some(&(_, d)) = it.peek() {
                    if !d.is_numeric() {
                        break;
                    }
                    if !d.is_ascii_digit() {
                        return None;
                    }
                    it.next();
                }
                let (j, v) = it.next()?;
                verbs.push((i, j + v.len_utf8(), v));
            }
            Some((j, v)) => verbs.push((i, j + v.len_utf8(), v)),
            None => return None,
        }
    }
    Some(verbs)
}

fn builtin_sprintf(
    helper: &mut regorus::Engine,
    format: &str,
    args: regorus::Value,
) -> Option<regorus::Value> {
    let mut input = regorus::Value::new_object();
    let map = input.as_object_mut().ok()?;
    map.insert(regorus::Value::from("f"), regorus::Value::from(format));
    map.insert(regorus::Value::from("a"), args);
    helper.set_input(input);
    let results = helper
        .eval_query("sprintf(input.f, input.a)".to_string(), false)
        .ok()?;
    let value = results.result.first()?.expressions.first()?.value.clone();
    Some(value)
}

fn sprintf_compat(helper: &mut regorus::Engine, args: &[regorus::Value]) -> Option<regorus::Value> {
    with_missing_arguments(args, |format, list| {
        builtin_sprintf(helper, format, list.clone())
    })
}

/// Formats `args` (`[format, list]`) with `format_with` (regorus's own
/// `sprintf`) as far as there are arguments, and appends Go's
/// `%!<verb>(MISSING)` for the verbs left without one.
fn with_missing_arguments(
    args: &[regorus::Value],
    mut format_with: impl FnMut(&str, &regorus::Value) -> Option<regorus::Value>,
) -> Option<regorus::Value> {
    let [format, list] = args else {
        return None;
    };
    let format = format.as_string().ok()?.clone();
    let items = list.as_array().ok()?;
    let verbs = format_verbs(&format)?;
    if verbs.len() <= items.len() {
        return format_with(&format, list);
    }
    let cut = verbs.get(items.len())?.0;
    let head = format_with(format.get(..cut)?, list)?;
    let mut out = head.as_string().ok()?.to_string();
    let mut pos = cut;
    for &(start, end, verb) in verbs.get(items.len()..)? {
        out.push_str(&format.get(pos..start)?.replace("%%", "%"));
        out.push_str(&format!("%!{verb}(MISSING)"));
        pos = end;
    }
    out.push_str(&format.get(pos..)?.replace("%%", "%"));
    Some(regorus::Value::from(out.as_str()))
}

/// The names a package defines at the top level (rules and functions) and the
/// names its imports bind: a local `:=` may shadow them, `=` would compare.
pub fn top_level_names(sources: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for source in sources {
        for line in source.lines() {
            if line.starts_with(char::is_whitespace) {
                continue;
            }
            let line = line.strip_prefix("default ").unwrap_or(line);
            if let Some(rest) = line.strip_prefix("import ") {
                let rest = rest.split('#').next().unwrap_or("").trim();
                let alias = match rest.split_once(" as ") {
                    Some((_, alias)) => alias.trim(),
                    None => rest.rsplit('.').next().unwrap_or(""),
                };
                out.push(alias.to_string());
                continue;
            }
            let name: String = line
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != "package" {
                out.push(name);
            }
        }
    }
    out.extend(["input".to_string(), "data".to_string()]);
    out.sort();
    out.dedup();
    out
}

/// Every `:=` turned into `=`, for regorus's bytecode VM, which does not fail
/// a rule body on `x := <undefined>` (the interpreter and OPA do; on `x = ...`
/// the VM does too). For a fresh local, as every `:=` target is (OPA rejects a
/// redeclaration), unification binds exactly as assignment does. `None` when a
/// `:=` target is a name `=` would compare against instead: a rule, function
/// or import of the package (`protected`).
pub fn assignments_as_unification(source: &str, protected: &[String]) -> Option<String> {
    let mut out = String::with_capacity(source.len());
    let mut lits = Literals::default();
    let mut chars = source.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if lits.skip(c) {
            out.push(c);
            continue;
        }
        if c == '#' {
            // A comment runs to the end of the line.
            out.push(c);
            while let Some(&(_, d)) = chars.peek() {
                if d == '\n' {
                    break;
                }
                out.push(d);
                chars.next();
            }
            continue;
        }
        if c == ':' && chars.peek().is_some_and(|&(_, d)| d == '=') {
            let target: String = source[..i]
                .trim_end()
                .chars()
                .rev()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if protected.contains(&target) {
                return None;
            }
            chars.next();
            out.push('=');
            continue;
        }
        out.push(c);
    }
    Some(out)
}

/// A program of regorus's bytecode VM, with OPA's `sprintf` behaviour.
pub struct VmProgram {
    pub policy: regorus::CompiledPolicy,
    pub program: std::sync::Arc<regorus::rvm::program::Program>,
}

impl std::fmt::Debug for VmProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VmProgram")
    }
}

/// Compiles `rule` of `engine` for the VM and puts [`vm_sprintf`] in place of
/// regorus's `sprintf` (the VM calls builtins directly, not extensions).
pub fn compile_vm(engine: &regorus::Engine, rule: &str) -> Result<VmProgram, String> {
    let mut engine = engine.clone();
    let entry: regorus::Rc<str> = regorus::Rc::from(rule);
    let policy = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine.compile_with_entrypoint(&entry)
    }))
    .map_err(|_| "regorus crashed compiling for its VM".to_string())?
    .map_err(|e| format!("cannot compile for the VM: {e}"))?;
    let program = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        regorus::languages::rego::compiler::Compiler::compile_from_policy(&policy, &[rule])
    }))
    .map_err(|_| "regorus crashed compiling for its VM".to_string())?
    .map_err(|e| format!("cannot compile for the VM: {e}"))?;
    let mut program: regorus::rvm::program::Program = (*program).clone();
    for (i, info) in program.builtin_info_table.iter().enumerate() {
        if info.name == "sprintf" {
            if let Some(slot) = program.resolved_builtins.get_mut(i) {
                slot.0 = vm_sprintf;
            }
        }
    }
    Ok(VmProgram {
        policy,
        program: std::sync::Arc::new(program),
    })
}

fn regorus_sprintf(
    span: &regorus::unstable::Span,
    params: &[regorus::unstable::Ref<regorus::unstable::Expr>],
    format: &str,
    list: &regorus::Value,
) -> Option<regorus::Value> {
    let (f, _) = regorus::unstable::BUILTINS.get("sprintf").copied()?;
    let args = [regorus::Value::from(format), list.clone()];
    f(span, params, &args, false)
        .ok()
        .filter(|v| *v != regorus::Value::Undefined)
}

/// [`sprintf_compat`] as a VM builtin (a plain function).
pub fn vm_sprintf(
    span: &regorus::unstable::Span,
    params: &[regorus::unstable::Ref<regorus::unstable::Expr>],
    args: &[regorus::Value],
    _strict: bool,
) -> anyhow::Result<regorus::Value> {
    let formatted = with_missing_arguments(args, |format, list| {
        regorus_sprintf(span, params, format, list)
    });
    Ok(formatted.unwrap_or(regorus::Value::Undefined))
}

#[cfg(test)]
mod tests {

    #[test]
    fn assignments_become_unification_unless_they_shadow() {
        let src = "p {\n  x := input.a # a := b\n  y := \"s:=t\"\n}\n";
        let names = top_level_names(&[src.to_string()]);
        assert_eq!(
            assignments_as_unification(src, &names).as_deref(),
            Some("p {\n  x = input.a # a := b\n  y = \"s:=t\"\n}\n")
        );
        let shadow = "q := 1\np {\n  q := 2\n}\n";
        let names = top_level_names(&[shadow.to_string()]);
        assert!(names.contains(&"q".to_string()));
        assert_eq!(assignments_as_unification(shadow, &names), None);
        let import = "import data.lib.helpers as h\np {\n  h := 1\n}\n";
        assert_eq!(
            assignments_as_unification(import, &top_level_names(&[import.to_string()])),
            None
        );
    }
    use super::*;

    #[test]
    fn paren_lines_get_a_separator() {
        let src = "p {\n  x := input.a\n  (x - 1) >= 2 # why\n}\n";
        assert_eq!(
            separate_paren_lines(src),
            "p {\n  x := input.a;\n  (x - 1) >= 2 # why\n}\n"
        );
        let src = "p {\n  x := f(1, # c\n  (2))\n}\n";
        assert_eq!(separate_paren_lines(src), src);
        let src = "p {\n  x := input.a # note (\n  (x) > 1\n}";
        assert_eq!(
            separate_paren_lines(src),
            "p {\n  x := input.a; # note (\n  (x) > 1\n}"
        );
    }

    #[test]
    fn sprintf_with_missing_arguments() {
        let mut helper = regorus::Engine::new();
        let f = |h: &mut regorus::Engine, fmt: &str, args: serde_json::Value| {
            sprintf_compat(h, &[regorus::Value::from(fmt), regorus::Value::from(args)])
                .map(|v| v.as_string().map(|s| s.to_string()).unwrap_or_default())
        };
        assert_eq!(
            f(&mut helper, "a %v b %d%%", serde_json::json!([1, 2])).as_deref(),
            Some("a 1 b 2%")
        );
        assert_eq!(
            f(&mut helper, "a %v b %v, 100%% %d", serde_json::json!(["x"])).as_deref(),
            Some("a x b %!v(MISSING), 100% %!d(MISSING)")
        );
        assert_eq!(f(&mut helper, "%\u{663}v", serde_json::json!([1])), None);
    }

    #[test]
    fn negated_call_refs_are_hoisted() {
        let src =
            "f(a, b) {\n  a == b\n}\np {\n  not f(x, params.ranges) # c\n  not g(params.y)\n}\n";
        let functions = defined_functions(&[src.to_string()]);
        assert_eq!(functions, vec!["f".to_string()]);
        assert_eq!(
            hoist_negated_call_refs(src, &functions),
            "f(a, b) {\n  a == b\n}\np {\n  __pal_4_1 = params.ranges; not f(x, __pal_4_1) # c\n  not g(params.y)\n}\n"
        );
    }

    #[test]
    fn multi_body_rules_are_split() {
        let src = "violation[{\"msg\": msg}] {\n  a\n  msg := \"x\"\n} {\n  b\n  msg := \"y\"\n}\n";
        assert_eq!(
            split_multi_body_rules(src),
            "violation[{\"msg\": msg}] {\n  a\n  msg := \"x\"\n} violation[{\"msg\": msg}] {\n  b\n  msg := \"y\"\n}\n"
        );
        let plain = "p {\n  true\n}\n\nq {\n  false\n}\n";
        assert_eq!(split_multi_body_rules(plain), plain);
    }
}
