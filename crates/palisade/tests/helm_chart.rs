//! The Helm chart (deploy/helm/palisade) rendered without Helm, which cannot
//! run here: a small renderer for exactly the Go template constructs the chart
//! uses fails on anything else, so a template change that needs more fails
//! here instead of rendering wrongly. The rendered objects must equal what
//! `palisade install webhook --tls cert-manager` / `install detector` print
//! (where the two are meant to agree), and `palisade scan` of them must find
//! nothing above low.
//!
//! Supported: text, `{{ }}` with `{{-`/`-}}` trimming, `if` / `else` / `end`,
//! fields (`.Values.a.b`, `.Release.Namespace`, `.Chart.AppVersion`), string and
//! integer literals, pipelines, and the functions `eq`, `ne`, `quote`,
//! `required`, `toYaml` and `nindent`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use serde_json::{json, Value};

mod gotmpl {
    //! The Go template subset.

    use serde_json::Value;

    #[derive(Debug, Clone, PartialEq)]
    enum Word {
        Field(Vec<String>),
        Str(String),
        Int(i64),
        Func(String),
        Pipe,
    }

    #[derive(Debug)]
    enum Node {
        Text(String),
        Print(Vec<Vec<Word>>),
        If {
            cond: Vec<Vec<Word>>,
            then: Vec<Node>,
            otherwise: Vec<Node>,
        },
    }

    enum Piece {
        Text(String),
        Action(String),
    }

    /// Splits the text from the actions, applying the trim markers.
    fn lex(src: &str) -> Result<Vec<Piece>, String> {
        let mut pieces = Vec::new();
        let mut rest = src;
        let mut trim_next = false;
        while let Some(start) = rest.find("{{") {
            let mut text = &rest[..start];
            if trim_next {
                text = text.trim_start();
            }
            let after = &rest[start + 2..];
            let (trim_left, after) = match after.strip_prefix("- ") {
                Some(a) => (true, a),
                None if after.starts_with('-') => {
                    return Err("`{{-` must be followed by a space".into())
                }
                None => (false, after),
            };
            if trim_left {
                text = text.trim_end();
            }
            pieces.push(Piece::Text(text.to_string()));
            let end = after
                .find("}}")
                .ok_or_else(|| format!("unclosed action: {{{{{}", &after[..after.len().min(40)]))?;
            let mut inner = &after[..end];
            trim_next = inner.ends_with(" -");
            if trim_next {
                inner = &inner[..inner.len() - 2];
            }
            pieces.push(Piece::Action(inner.trim().to_string()));
            rest = &after[end + 2..];
        }
        let text = if trim_next { rest.trim_start() } else { rest };
        pieces.push(Piece::Text(text.to_string()));
        Ok(pieces)
    }

    /// The words of an action, split into the commands of its pipeline.
    fn pipeline(action: &str) -> Result<Vec<Vec<Word>>, String> {
        let mut words = Vec::new();
        let chars: Vec<char> = action.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
            } else if c == '|' {
                words.push(Word::Pipe);
                i += 1;
            } else if c == '"' {
                let start = i;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                if i >= chars.len() {
                    return Err(format!("unterminated string in {action:?}"));
                }
                i += 1;
                let literal: String = chars[start..i].iter().collect();
                // Go's escapes in the strings the chart uses are JSON's.
                let text: String =
                    serde_json::from_str(&literal).map_err(|e| format!("string {literal}: {e}"))?;
                words.push(Word::Str(text));
            } else {
                let start = i;
                while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '|' {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if let Some(path) = word.strip_prefix('.') {
                    if path.is_empty()
                        || !path.split('.').all(|p| {
                            !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_')
                        })
                    {
                        return Err(format!("unsupported field {word:?}"));
                    }
                    words.push(Word::Field(path.split('.').map(str::to_string).collect()));
                } else if let Ok(n) = word.parse::<i64>() {
                    words.push(Word::Int(n));
                } else if word.chars().all(|c| c.is_ascii_alphabetic()) {
                    words.push(Word::Func(word));
                } else {
                    // Variables ($x), parentheses, method calls...
                    return Err(format!("unsupported word {word:?} in {action:?}"));
                }
            }
        }
        let commands: Vec<Vec<Word>> = words
            .split(|w| *w == Word::Pipe)
            .map(<[Word]>::to_vec)
            .collect();
        if commands.iter().any(Vec::is_empty) {
            return Err(format!("empty command in {action:?}"));
        }
        Ok(commands)
    }

    /// What ended a block.
    enum Closer {
        Else,
        End,
        Eof,
    }

    fn block(pieces: &mut std::vec::IntoIter<Piece>) -> Result<(Vec<Node>, Closer), String> {
        let mut nodes = Vec::new();
        while let Some(piece) = pieces.next() {
            let action = match piece {
                Piece::Text(text) => {
                    nodes.push(Node::Text(text));
                    continue;
                }
                Piece::Action(action) => action,
            };
            let keyword = action.split_whitespace().next().unwrap_or("");
            match keyword {
                "end" if action == "end" => return Ok((nodes, Closer::End)),
                "else" if action == "else" => return Ok((nodes, Closer::Else)),
                "if" => {
                    let cond = pipeline(action["if".len()..].trim())?;
                    let (then, end) = block(pieces)?;
                    let otherwise = match end {
                        Closer::End => Vec::new(),
                        Closer::Else => match block(pieces)? {
                            (otherwise, Closer::End) => otherwise,
                            _ => return Err(format!("`{{{{ {action} }}}}` has no end")),
                        },
                        Closer::Eof => return Err(format!("`{{{{ {action} }}}}` has no end")),
                    };
                    nodes.push(Node::If {
                        cond,
                        then,
                        otherwise,
                    });
                }
                "" => return Err("empty action {{ }}".into()),
                "range" | "with" | "define" | "template" | "block" | "include" | "else" | "end"
                | "break" | "continue" => {
                    return Err(format!("unsupported action `{{{{ {action} }}}}`"))
                }
                _ if action.starts_with("/*") => {
                    return Err(format!("unsupported comment `{{{{ {action} }}}}`"))
                }
                _ => nodes.push(Node::Print(pipeline(&action)?)),
            }
        }
        Ok((nodes, Closer::Eof))
    }

    fn parse(src: &str) -> Result<Vec<Node>, String> {
        let mut pieces = lex(src)?.into_iter();
        match block(&mut pieces)? {
            (nodes, Closer::Eof) => Ok(nodes),
            (_, Closer::Else) => Err("`else` outside `if`".into()),
            (_, Closer::End) => Err("`end` outside `if`".into()),
        }
    }

    fn field(context: &Value, path: &[String]) -> Result<Value, String> {
        let mut current = context;
        for (i, key) in path.iter().enumerate() {
            match current.as_object().and_then(|m| m.get(key)) {
                Some(v) => current = v,
                // A missing last key is nil (Go's map lookup); one before it is an error.
                None if i + 1 == path.len() && current.is_object() => return Ok(Value::Null),
                None => return Err(format!("nil pointer evaluating .{}", path[..=i].join("."))),
            }
        }
        Ok(current.clone())
    }

    fn same_kind(a: &Value, b: &Value) -> bool {
        matches!(
            (a, b),
            (Value::String(_), Value::String(_))
                | (Value::Number(_), Value::Number(_))
                | (Value::Bool(_), Value::Bool(_))
        )
    }

    fn text(value: &Value) -> Result<String, String> {
        match value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Null => Err("printing a missing value (<no value>)".into()),
            other => Err(format!("printing a map or list ({other}): use toYaml")),
        }
    }

    fn call(name: &str, args: Vec<Value>) -> Result<Value, String> {
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!("{name} takes {n} arguments, got {}", args.len()))
            }
        };
        match name {
            "eq" | "ne" => {
                arity(2)?;
                if !same_kind(&args[0], &args[1]) {
                    return Err(format!(
                        "{name}: incompatible types for comparison: {} and {}",
                        args[0], args[1]
                    ));
                }
                Ok(Value::Bool((args[0] == args[1]) == (name == "eq")))
            }
            "quote" => {
                arity(1)?;
                let s = text(&args[0])?;
                // Go's %q and JSON agree on printable ASCII.
                Ok(Value::String(Value::String(s).to_string()))
            }
            "required" => {
                arity(2)?;
                match &args[1] {
                    Value::Null => Err(text(&args[0])?),
                    Value::String(s) if s.is_empty() => Err(text(&args[0])?),
                    v => Ok(v.clone()),
                }
            }
            "toYaml" => {
                arity(1)?;
                Ok(Value::String(super::to_yaml(&args[0])))
            }
            "nindent" => {
                arity(2)?;
                let n = args[0]
                    .as_u64()
                    .ok_or_else(|| format!("nindent: {} is not a count", args[0]))?;
                let pad = " ".repeat(n as usize);
                let body = text(&args[1])?;
                let lines: Vec<String> = body.split('\n').map(|l| format!("{pad}{l}")).collect();
                Ok(Value::String(format!("\n{}", lines.join("\n"))))
            }
            other => Err(format!("unsupported function {other:?}")),
        }
    }

    fn eval(commands: &[Vec<Word>], context: &Value) -> Result<Value, String> {
        let mut piped: Option<Value> = None;
        for command in commands {
            let operand = |w: &Word| match w {
                Word::Field(path) => field(context, path),
                Word::Str(s) => Ok(Value::String(s.clone())),
                Word::Int(n) => Ok(Value::from(*n)),
                Word::Func(f) => Err(format!("function {f} used as an argument")),
                Word::Pipe => Err("stray |".into()),
            };
            let value = match &command[0] {
                Word::Func(name) => {
                    let mut args = command[1..]
                        .iter()
                        .map(operand)
                        .collect::<Result<Vec<_>, _>>()?;
                    args.extend(piped.take());
                    call(name, args)?
                }
                first if command.len() == 1 && piped.is_none() => operand(first)?,
                _ => return Err("arguments given to a non-function".into()),
            };
            piped = Some(value);
        }
        piped.ok_or_else(|| "empty pipeline".into())
    }

    fn truthy(value: &Value) -> bool {
        match value {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(m) => !m.is_empty(),
        }
    }

    fn run(nodes: &[Node], context: &Value, out: &mut String) -> Result<(), String> {
        for node in nodes {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Print(p) => out.push_str(&text(&eval(p, context)?)?),
                Node::If {
                    cond,
                    then,
                    otherwise,
                } => {
                    let branch = if truthy(&eval(cond, context)?) {
                        then
                    } else {
                        otherwise
                    };
                    run(branch, context, out)?;
                }
            }
        }
        Ok(())
    }

    /// Renders `src` with `context` (`{"Values": ..., "Release": ..., "Chart": ...}`).
    pub fn render(src: &str, context: &Value) -> Result<String, String> {
        let nodes = parse(src)?;
        let mut out = String::new();
        run(&nodes, context, &mut out)?;
        Ok(out)
    }
}

/// Helm's `toYaml` (through sigs.k8s.io/yaml): block style, keys sorted,
/// sequences in mappings not indented, no final newline.
fn to_yaml(value: &Value) -> String {
    fn scalar(value: &Value) -> String {
        match value {
            Value::String(s) => {
                let plain = !s.is_empty()
                    && s.trim() == s
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._/-: ".contains(c))
                    && !s.starts_with(['-', ':', ' '])
                    && !s.contains(": ")
                    && !s.ends_with(':')
                    && matches!(
                        palisade_model::resolve_plain(s),
                        palisade_model::Value::Str { .. }
                    );
                if plain {
                    s.clone()
                } else {
                    Value::String(s.clone()).to_string()
                }
            }
            Value::Object(m) if m.is_empty() => "{}".into(),
            Value::Array(a) if a.is_empty() => "[]".into(),
            other => other.to_string(),
        }
    }
    fn block(value: &Value) -> Vec<String> {
        match value {
            Value::Object(m) if !m.is_empty() => {
                let sorted: std::collections::BTreeMap<&String, &Value> = m.iter().collect();
                let mut lines = Vec::new();
                for (k, v) in sorted {
                    let key = scalar(&Value::String(k.clone()));
                    match v {
                        Value::Object(inner) if !inner.is_empty() => {
                            lines.push(format!("{key}:"));
                            lines.extend(block(v).into_iter().map(|l| format!("  {l}")));
                        }
                        Value::Array(inner) if !inner.is_empty() => {
                            lines.push(format!("{key}:"));
                            lines.extend(block(v));
                        }
                        _ => lines.push(format!("{key}: {}", scalar(v))),
                    }
                }
                lines
            }
            Value::Array(a) if !a.is_empty() => {
                let mut lines = Vec::new();
                for item in a {
                    for (i, line) in block(item).into_iter().enumerate() {
                        lines.push(if i == 0 {
                            format!("- {line}")
                        } else {
                            format!("  {line}")
                        });
                    }
                }
                lines
            }
            other => vec![scalar(other)],
        }
    }
    block(value).join("\n")
}

fn chart_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/helm/palisade")
}

/// A YAML file as JSON (values.yaml and Chart.yaml are not Kubernetes objects).
fn yaml_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let source = Arc::new(palisade_model::SourceFile::new(
        path.display().to_string(),
        text,
    ));
    let (documents, errors) = palisade_model::yaml::parse_stream(&source);
    assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    assert_eq!(documents.len(), 1, "{}", path.display());
    documents[0].root.to_json()
}

/// `--set`: `overrides` merged into `values` (maps merge, anything else replaces).
fn merge(values: &mut Value, overrides: &Value) {
    match (values, overrides) {
        (Value::Object(v), Value::Object(o)) => {
            for (k, o) in o {
                merge(v.entry(k.clone()).or_insert(Value::Null), o);
            }
        }
        (v, o) => *v = o.clone(),
    }
}

/// `helm template palisade deploy/helm/palisade -n NAMESPACE` with value
/// overrides: every template, in name order, with Helm's `# Source:` headers.
fn render(namespace: &str, overrides: Value) -> Result<String, String> {
    let dir = chart_dir();
    let chart = yaml_file(&dir.join("Chart.yaml"));
    let mut values = yaml_file(&dir.join("values.yaml"));
    merge(&mut values, &overrides);
    let context = json!({
        "Values": values,
        "Release": {"Name": "palisade", "Namespace": namespace, "Service": "Helm"},
        "Chart": {
            "Name": chart["name"],
            "Version": chart["version"],
            "AppVersion": chart["appVersion"],
        },
    });
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("templates"))
        .map_err(|e| e.to_string())?
        .map(|e| e.map(|e| e.path()).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut out = String::new();
    for file in files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        // Helpers (_*.tpl) and NOTES.txt need constructs this renderer lacks.
        if !name.ends_with(".yaml") || name.starts_with('_') {
            return Err(format!(
                "templates/{name}: not supported by this test's renderer"
            ));
        }
        let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
        let rendered =
            gotmpl::render(&text, &context).map_err(|e| format!("templates/{name}: {e}"))?;
        if rendered.trim().is_empty() {
            continue;
        }
        out.push_str(&format!("---\n# Source: palisade/templates/{name}\n"));
        out.push_str(rendered.trim_start_matches('\n'));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

fn rendered(namespace: &str, overrides: Value) -> String {
    render(namespace, overrides).unwrap_or_else(|e| panic!("render: {e}"))
}

/// (kind, namespace, name) → the object, parsed as `palisade scan` parses input.
fn objects(text: &str) -> BTreeMap<(String, String, String), Value> {
    let loaded = palisade_model::load_text(
        "rendered.yaml",
        text,
        &palisade_model::LoadOptions::default(),
    );
    assert!(loaded.errors.is_empty(), "{:?}\n{text}", loaded.errors);
    let mut map = BTreeMap::new();
    for object in &loaded.objects {
        let json = object.root.to_json();
        let key = (
            json["kind"].as_str().unwrap_or_default().to_string(),
            json["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            json["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        assert!(map.insert(key.clone(), json).is_none(), "{key:?} twice");
    }
    map
}

fn palisade(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run palisade");
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.unwrap_or("").as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("palisade output")
}

fn printed(args: &[&str]) -> String {
    let out = palisade(args, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `palisade scan` of the rendered chart: nothing above low, no input errors.
fn assert_scans_clean(text: &str, what: &str) {
    let out = palisade(
        &[
            "scan",
            "-",
            "--no-config",
            "--fail-on",
            "medium",
            "-o",
            "json",
        ],
        Some(text),
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: scan output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(out.status.code(), Some(0), "{what}: {report:#}");
    assert_eq!(report["summary"]["result"], "pass", "{what}: {report:#}");
    assert_eq!(report["summary"]["inputErrors"], 0, "{what}: {report:#}");
}

fn kinds(objects: &BTreeMap<(String, String, String), Value>) -> Vec<String> {
    objects
        .keys()
        .map(|(kind, ns, name)| format!("{kind} {ns}/{name}"))
        .collect()
}

#[test]
fn default_values_render_what_install_webhook_prints() {
    let chart = rendered("palisade", json!({}));
    assert!(!chart.contains("{{") && !chart.contains("}}"), "{chart}");
    let chart = objects(&chart);
    let mut install = objects(&printed(&["install", "webhook", "--tls", "cert-manager"]));
    // The release's namespace is Helm's (`--create-namespace`), not the chart's.
    let namespace = install.remove(&("Namespace".into(), String::new(), "palisade".into()));
    assert!(namespace.is_some());
    assert_eq!(kinds(&chart), kinds(&install));
    for (key, printed) in &install {
        assert_eq!(&chart[key], printed, "{key:?} differs from install webhook");
    }
    // No detector by default.
    assert!(!chart.keys().any(|(kind, _, _)| kind == "DaemonSet"));
}

#[test]
fn the_detector_renders_what_install_detector_prints() {
    let overrides = json!({
        "webhook": {"enabled": false},
        "detector": {"enabled": true, "audit": {"enabled": true}},
    });
    let chart = objects(&rendered("palisade", overrides));
    let install = objects(&printed(&[
        "install",
        "detector",
        "--audit-rules-configmap",
        "palisade-audit-rules",
    ]));
    assert_eq!(kinds(&chart), kinds(&install));
    for (key, printed) in &install {
        assert_eq!(
            &chart[key], printed,
            "{key:?} differs from install detector"
        );
    }
    let sensor = &chart[&(
        "DaemonSet".to_string(),
        "palisade-detect".to_string(),
        "palisade-detector".to_string(),
    )];
    let context = &sensor["spec"]["template"]["spec"]["containers"][0]["securityContext"];
    assert_eq!(context["privileged"], false);
    assert_eq!(
        context["capabilities"]["add"],
        json!([
            "BPF",
            "PERFMON",
            "SYS_RESOURCE",
            "SYS_PTRACE",
            "DAC_READ_SEARCH"
        ])
    );

    // Without the audit receiver: the sensor, its namespace, account and metrics Service.
    let chart = objects(&rendered(
        "palisade",
        json!({"webhook": {"enabled": false}, "detector": {"enabled": true}}),
    ));
    let install = objects(&printed(&["install", "detector"]));
    assert_eq!(kinds(&chart), kinds(&install));
    assert_eq!(chart, install);

    // The CRI socket: CRI-O's, or none, the same way in both.
    for socket in ["/run/crio/crio.sock", ""] {
        let chart = objects(&rendered(
            "palisade",
            json!({"webhook": {"enabled": false}, "detector": {"enabled": true, "criSocket": socket}}),
        ));
        let install = objects(&printed(&[
            "install",
            "detector",
            &format!("--cri-socket={socket}"),
        ]));
        assert_eq!(chart, install, "criSocket {socket:?}");
        let text = format!("{chart:?}");
        assert_eq!(
            text.contains("--cri /host/run/crio/crio.sock"),
            !socket.is_empty()
        );
        assert_eq!(text.contains("cri-socket"), !socket.is_empty());
    }
}

#[test]
fn existing_secret_tls_matches_install_webhook_self_signed() {
    let chart = objects(&rendered(
        "palisade",
        json!({"webhook": {"tls": {"mode": "existingSecret", "caBundle": "Q0EK"}}}),
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = dir.path().join("certs");
    let mut install = objects(&printed(&[
        "install",
        "webhook",
        "--tls",
        "self-signed",
        "--cert-dir",
        certs.to_str().expect("utf-8"),
    ]));
    install.remove(&("Namespace".into(), String::new(), "palisade".into()));
    let key = (
        "ValidatingWebhookConfiguration".to_string(),
        String::new(),
        "palisade".to_string(),
    );
    let bundle = &mut install.get_mut(&key).expect("webhook configuration")["webhooks"][0]
        ["clientConfig"]["caBundle"];
    // A CA generated now: the chart takes the bundle from values.
    assert!(bundle.as_str().is_some_and(|b| !b.is_empty()));
    *bundle = json!("Q0EK");
    assert_eq!(kinds(&chart), kinds(&install));
    assert_eq!(chart, install);
    assert!(!chart
        .keys()
        .any(|(kind, _, _)| kind == "Certificate" || kind == "Issuer"));

    // Without a bundle, the chart refuses to render, saying which value is missing.
    let error = render(
        "palisade",
        json!({"webhook": {"tls": {"mode": "existingSecret"}}}),
    )
    .expect_err("caBundle is required");
    assert!(error.contains("webhook.tls.caBundle"), "{error}");
}

#[test]
fn value_overrides_reach_the_objects() {
    let text = rendered(
        "security",
        json!({
            "webhook": {
                "replicas": 3,
                "image": {"repository": "registry.example/palisade", "tag": "1.2.3"},
                "resources": {"limits": {"memory": "1Gi"}},
                "policies": {"configMap": "team-policies"},
                "apiServerPeers": [{"ipBlock": {"cidr": "10.0.0.1/32"}}, {"ipBlock": {"cidr": "10.0.0.2/32"}}],
            },
            "detector": {
                "enabled": true,
                "createNamespace": false,
                "namespace": "sensors",
                "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "security", "effect": "NoSchedule"}],
                "resources": {"requests": {"cpu": "50m"}},
                "rules": {"configMap": "my-rules"},
                "metricsPort": 9500,
            },
        }),
    );
    let objects = objects(&text);
    let key =
        |kind: &str, ns: &str, name: &str| (kind.to_string(), ns.to_string(), name.to_string());
    let webhook = &objects[&key("Deployment", "security", "palisade")];
    assert_eq!(webhook["spec"]["replicas"], 3);
    let pod = &webhook["spec"]["template"]["spec"];
    assert_eq!(
        pod["containers"][0]["image"],
        "registry.example/palisade:1.2.3"
    );
    assert_eq!(pod["containers"][0]["resources"]["limits"]["memory"], "1Gi");
    assert_eq!(
        pod["containers"][0]["resources"]["requests"]["memory"],
        "128Mi"
    );
    assert_eq!(pod["volumes"][1]["configMap"]["name"], "team-policies");
    let binding = &objects[&key("ClusterRoleBinding", "", "palisade-reader")];
    assert_eq!(binding["subjects"][0]["namespace"], "security");
    let policy = &objects[&key("NetworkPolicy", "security", "palisade")];
    assert_eq!(
        policy["spec"]["egress"][1]["to"],
        json!([{"ipBlock": {"cidr": "10.0.0.1/32"}}, {"ipBlock": {"cidr": "10.0.0.2/32"}}])
    );
    let webhooks = &objects[&key("ValidatingWebhookConfiguration", "", "palisade")]["webhooks"][0];
    assert_eq!(webhooks["clientConfig"]["service"]["namespace"], "security");
    assert_eq!(
        webhooks["namespaceSelector"]["matchExpressions"][0]["values"],
        json!(["kube-system", "kube-node-lease", "security"])
    );
    assert_eq!(
        objects[&key("Certificate", "security", "palisade-tls")]["spec"]["dnsNames"][0],
        "palisade.security.svc"
    );

    // The detector in an existing namespace: no Namespace object at all.
    assert!(!objects.keys().any(|(kind, _, _)| kind == "Namespace"));
    let sensor =
        &objects[&key("DaemonSet", "sensors", "palisade-detector")]["spec"]["template"]["spec"];
    assert_eq!(
        sensor["tolerations"],
        json!([{"effect": "NoSchedule", "key": "dedicated", "operator": "Equal", "value": "security"}])
    );
    assert_eq!(
        sensor["containers"][0]["resources"]["requests"]["cpu"],
        "50m"
    );
    assert_eq!(sensor["containers"][0]["resources"]["limits"]["cpu"], "1");
    assert_eq!(sensor["containers"][0]["ports"][0]["containerPort"], 9500);
    assert!(sensor["containers"][0]["args"][0]
        .as_str()
        .is_some_and(|a| a.contains("--metrics-addr 0.0.0.0:9500 ")));
    assert_eq!(sensor["volumes"][0]["configMap"]["name"], "my-rules");
    assert_eq!(
        objects[&key("Service", "sensors", "palisade-detector-metrics")]["spec"]["ports"][0]
            ["port"],
        9500
    );

    // Nothing enabled: nothing rendered.
    let empty = rendered(
        "palisade",
        json!({"webhook": {"enabled": false}, "detector": {"enabled": false}}),
    );
    assert_eq!(empty, "");
}

#[test]
fn palisade_scan_finds_nothing_above_low_in_the_chart() {
    assert_scans_clean(&rendered("palisade", json!({})), "default values");
    assert_scans_clean(
        &rendered(
            "palisade",
            json!({"detector": {"enabled": true, "audit": {"enabled": true}}}),
        ),
        "webhook and detector",
    );
    assert_scans_clean(
        &rendered(
            "palisade",
            json!({"webhook": {"tls": {"mode": "existingSecret", "caBundle": "Q0EK"}}}),
        ),
        "existing secret",
    );
}

#[test]
fn chart_versions_follow_the_crate() {
    let dir = chart_dir();
    let chart = yaml_file(&dir.join("Chart.yaml"));
    let values = yaml_file(&dir.join("values.yaml"));
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(chart["appVersion"], version);
    // The images `palisade install` prints by default.
    assert_eq!(values["webhook"]["image"]["tag"], version);
    assert_eq!(values["detector"]["image"]["tag"], version);
    assert_eq!(values["webhook"]["enabled"], true);
    assert_eq!(values["detector"]["enabled"], false);
}

#[test]
fn the_renderer_refuses_what_it_does_not_support() {
    let context =
        json!({"Values": {"a": {"b": "x", "num": 2, "list": [1]}}, "Release": {"Namespace": "ns"}});
    let ok = |src: &str| gotmpl::render(src, &context).unwrap_or_else(|e| panic!("{src}: {e}"));
    let err = |src: &str| gotmpl::render(src, &context).expect_err(src);
    // Supported.
    assert_eq!(ok("a: {{ .Values.a.b }}\n"), "a: x\n");
    assert_eq!(
        ok("a:\n  {{- if eq .Values.a.b \"x\" }} yes{{ else }} no{{ end }}"),
        "a: yes"
    );
    assert_eq!(
        ok("{{ if ne .Values.a.b \"x\" }}1{{ else }}2{{ end }}"),
        "2"
    );
    assert_eq!(ok("{{ .Values.a.num | quote }}"), "\"2\"");
    assert_eq!(
        ok("x:\n  {{- toYaml .Values.a | nindent 2 }}"),
        "x:\n  b: x\n  list:\n  - 1\n  num: 2"
    );
    assert_eq!(ok("{{ if .Values.a.missing }}1{{ end }}"), "");
    assert_eq!(ok("a\n\n{{- \" b \" -}}\n\nc"), "a b c");
    // Refused, loudly.
    assert!(err("{{ range .Values.a.list }}{{ end }}").contains("unsupported action"));
    assert!(err("{{ include \"x\" . }}").contains("unsupported action"));
    assert!(err("{{ .Values.a.b | upper }}").contains("unsupported function"));
    assert!(err("{{ $x := 1 }}").contains("unsupported word"));
    assert!(err("{{ (eq 1 1) }}").contains("unsupported word"));
    assert!(err("{{/* note */}}").contains("unsupported"));
    assert!(err("{{ if .Values.a.b }}").contains("no end"));
    assert!(err("{{ end }}").contains("outside"));
    assert!(err("{{ .Values.a.missing }}").contains("missing value"));
    assert!(err("{{ .Values.nothing.here }}").contains("nil pointer"));
    assert!(err("{{ .Values.a }}").contains("toYaml"));
    assert!(err("{{ eq .Values.a.num \"2\" }}").contains("incompatible"));
    assert!(err("{{ required \"need b\" .Values.a.none }}").contains("need b"));
}
