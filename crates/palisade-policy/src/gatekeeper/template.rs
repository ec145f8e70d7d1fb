//! ConstraintTemplates: parsing and compiling their Rego once.

use palisade_model::{Node, Object};
use regorus::Engine;
use serde_json::Value as Json;

use super::{rego_compat, Issue};

/// The API group of ConstraintTemplates.
pub const TEMPLATE_GROUP: &str = "templates.gatekeeper.sh";
/// The only target Gatekeeper evaluates for Kubernetes objects.
pub const ADMISSION_TARGET: &str = "admission.k8s.gatekeeper.sh";

/// The longest one evaluation (one object, one constraint) may run; a template that
/// takes longer gets an error for that object instead of hanging the scan.
pub const EVALUATION_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The engine name of a template's CEL code block.
pub const CEL_ENGINE: &str = "K8sNativeValidation";

/// A `code` block of a template target other than Rego (CEL, or an engine
/// Palisade does not run).
#[derive(Debug, Clone)]
pub struct OtherEngineCode {
    /// `K8sNativeValidation` (CEL) or any other engine name.
    pub engine: String,
    /// The block's `source`, as JSON, for the CEL engine to pick up.
    pub source: Json,
    /// Why it is not evaluated, e.g. "CEL engine not yet evaluated".
    pub note: String,
}

/// A ConstraintTemplate, parsed and (when it has Rego) compiled.
#[derive(Debug, Clone)]
pub struct ConstraintTemplate {
    /// `metadata.name`.
    pub name: String,
    /// `spec.crd.spec.names.kind`: the kind of its Constraints.
    pub kind: String,
    /// `apiVersion` (v1, v1beta1 or v1alpha1).
    pub api_version: String,
    /// `spec.crd.spec.validation.openAPIV3Schema`; nothing else there counts, as
    /// Gatekeeper prunes any other field of `validation`.
    pub parameters_schema: Option<Json>,
    /// `spec.crd.spec.validation.legacySchema`: defaults to false in v1 and to
    /// true in v1beta1 and v1alpha1. A legacy schema keeps unknown parameter
    /// fields (Gatekeeper marks every object level of it to preserve them);
    /// otherwise they are rejected.
    pub legacy_schema: bool,
    /// The Rego source (`targets[0].rego`, else the `code` block with `engine: Rego`).
    pub rego: Option<String>,
    /// The Rego libraries (`libs`).
    pub libs: Vec<String>,
    /// Code blocks for other engines (CEL), kept but not evaluated here.
    pub other_engines: Vec<OtherEngineCode>,
    /// The object the template was read from.
    pub object: Object,
    /// The compiled policy: `None` when the template has no Rego or it did not compile.
    pub(crate) engine: Option<Engine>,
    /// `data.<package>.violation`.
    pub(crate) violation_rule: String,
    /// The `K8sNativeValidation` block, compiled once (or why it did not compile).
    pub(crate) cel: Option<std::sync::Arc<CompiledCel>>,
}

/// A template's compiled CEL block; `Err` holds the compile error.
pub(crate) struct CompiledCel(pub(crate) Result<crate::vap::GatekeeperCel, String>);

impl std::fmt::Debug for CompiledCel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Ok(_) => f.write_str("CompiledCel(Ok)"),
            Err(e) => write!(f, "CompiledCel(Err({e:?}))"),
        }
    }
}

/// Whether `object` is a ConstraintTemplate.
pub fn is_template(object: &Object) -> bool {
    object.id.kind == "ConstraintTemplate" && object.id.group() == TEMPLATE_GROUP
}

fn json_at<'a>(node: &'a Node, path: &[&str]) -> Option<&'a Node> {
    node.path(path).filter(|n| !n.is_null())
}

impl ConstraintTemplate {
    /// Parses and compiles a template. Problems that make it unusable are errors;
    /// problems with one part (a CEL block) are kept as notes on the template.
    pub fn from_object(object: &Object) -> Result<ConstraintTemplate, Issue> {
        let root = &object.root;
        let err = |node: &Node, message: String| Issue::at(object, node.span, message);
        let name = object.id.name.clone();
        let kind = match json_at(root, &["spec", "crd", "spec", "names", "kind"]) {
            Some(node) => match node.as_str() {
                Some(k) if !k.is_empty() => k.to_string(),
                _ => {
                    return Err(err(
                        node,
                        "spec.crd.spec.names.kind must be a non-empty string".into(),
                    ))
                }
            },
            None => {
                return Err(err(
                    root,
                    format!("ConstraintTemplate {name} has no spec.crd.spec.names.kind"),
                ))
            }
        };
        // Gatekeeper's `Validation` has only `openAPIV3Schema` and `legacySchema`:
        // a schema placed directly under `validation` is pruned by the API server,
        // so the template has none (the `policy/template-schema-ignored` lint says so).
        let validation = json_at(root, &["spec", "crd", "spec", "validation"]);
        let parameters_schema = validation
            .and_then(|v| v.get_set("openAPIV3Schema"))
            .map(Node::to_json);
        let legacy_schema = validation
            .and_then(|v| v.get_set("legacySchema"))
            .and_then(Node::as_bool)
            .unwrap_or_else(|| object.id.api_version != format!("{TEMPLATE_GROUP}/v1"));
        let targets = root
            .path(&["spec", "targets"])
            .map(Node::items)
            .unwrap_or(&[]);
        let Some(target) = targets.first() else {
            return Err(err(
                root,
                format!("ConstraintTemplate {name} has no spec.targets"),
            ));
        };
        if targets.len() > 1 {
            return Err(err(
                &targets[1],
                "Gatekeeper accepts exactly one target per ConstraintTemplate".into(),
            ));
        }
        if let Some(t) = target.get("target").and_then(Node::as_str) {
            if t != ADMISSION_TARGET {
                return Err(err(
                    target,
                    format!("unknown target {t:?} (expected {ADMISSION_TARGET})"),
                ));
            }
        }
        let strings = |node: Option<&Node>| -> Vec<String> {
            node.map(Node::items)
                .unwrap_or(&[])
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        };
        let mut rego = target
            .get("rego")
            .and_then(Node::as_str)
            .map(str::to_string);
        let mut libs = strings(target.get("libs"));
        let mut other_engines = Vec::new();
        for code in target.get("code").map(Node::items).unwrap_or(&[]) {
            let engine = code.get("engine").and_then(Node::as_str).unwrap_or("");
            let source = code.get("source");
            if engine == "Rego" {
                // `targets[0].rego` wins when both are given: Gatekeeper requires them to agree.
                if rego.is_none() {
                    rego = source
                        .and_then(|s| s.get("rego"))
                        .and_then(Node::as_str)
                        .map(str::to_string);
                    libs = strings(source.and_then(|s| s.get("libs")));
                }
            } else {
                let note = if engine == CEL_ENGINE {
                    "evaluated with --engine cel".to_string()
                } else {
                    format!("engine {engine:?} is not supported")
                };
                other_engines.push(OtherEngineCode {
                    engine: engine.to_string(),
                    source: source.map_or(Json::Null, Node::to_json),
                    note,
                });
            }
        }
        let mut template = ConstraintTemplate {
            name,
            kind,
            api_version: object.id.api_version.clone(),
            parameters_schema,
            legacy_schema,
            rego,
            libs,
            other_engines,
            object: object.clone(),
            engine: None,
            violation_rule: String::new(),
            cel: None,
        };
        template.cel = template
            .other_engines
            .iter()
            .find(|e| e.engine == CEL_ENGINE)
            .map(|block| {
                std::sync::Arc::new(CompiledCel(crate::vap::GatekeeperCel::compile(
                    &block.source,
                )))
            });
        if template.rego.is_some() {
            let span = target.get("rego").map_or(target.span, |n| n.span);
            template
                .compile()
                .map_err(|message| Issue::at(object, span, message))?;
        }
        Ok(template)
    }

    /// A fresh engine with the template's Rego (first) and libraries; returns its package.
    fn load_sources(&self, sources: &[String]) -> Result<(Engine, String), String> {
        let mut engine = Engine::new();
        engine.set_rego_v0(true);
        engine.set_strict_builtin_errors(false);
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: EVALUATION_TIME_LIMIT,
            check_interval: std::num::NonZeroU32::new(64).unwrap_or(std::num::NonZeroU32::MIN),
        });
        rego_compat::install_sprintf(&mut engine)?;
        let mut package = String::new();
        for (i, source) in sources.iter().enumerate() {
            let (path, what) = if i == 0 {
                (format!("{}.rego", self.name), "Rego".to_string())
            } else {
                (
                    format!("{}.lib{}.rego", self.name, i - 1),
                    format!("library {}", i - 1),
                )
            };
            let p = engine.add_policy(path, source.clone()).map_err(|e| {
                format!(
                    "{what} of ConstraintTemplate {} does not compile: {e}",
                    self.name
                )
            })?;
            if i == 0 {
                package = p;
            }
        }
        Ok((engine, package))
    }

    /// Whether the template has compiled Rego to evaluate.
    /// Whether the template carries a `K8sNativeValidation` (CEL) code block.
    pub fn has_cel(&self) -> bool {
        self.other_engines.iter().any(|e| e.engine == CEL_ENGINE)
    }

    pub fn has_rego(&self) -> bool {
        self.engine.is_some()
    }

    /// Compiles the Rego and libraries into one engine, as Gatekeeper runs them:
    /// Rego v0 syntax, and builtin errors make the expression undefined (OPA's
    /// non-strict mode) instead of failing the whole evaluation.
    fn compile(&mut self) -> Result<(), String> {
        if self.rego.is_none() {
            return Ok(());
        }
        let (engine, rule) = self.build_adapted(false)?;
        self.engine = Some(engine);
        self.violation_rule = rule;
        Ok(())
    }

    /// The template for regorus's bytecode VM, which the admission webhook
    /// uses for speed: the same sources and adapters as [`Self::compile`], with
    /// every `:=` as `=` (see [`rego_compat::assignments_as_unification`]).
    /// An error means the template stays on the interpreter.
    pub(crate) fn compile_vm(&self) -> Result<rego_compat::VmProgram, String> {
        let (engine, rule) = self.build_adapted(true)?;
        rego_compat::compile_vm(&engine, &rule)
    }

    /// The Rego and libraries through the adapters for regorus (and, `for_vm`,
    /// with assignments as unification), built into an engine; retried with
    /// multi-body rules split, which regorus does not accept.
    fn build_adapted(&self, for_vm: bool) -> Result<(Engine, String), String> {
        let Some(rego) = &self.rego else {
            return Err("no Rego".into());
        };
        let sources: Vec<String> = std::iter::once(rego)
            .chain(&self.libs)
            .map(|s| rego_compat::separate_paren_lines(s))
            .collect();
        let functions = rego_compat::defined_functions(&sources);
        let protected = rego_compat::top_level_names(&sources);
        let sources: Vec<String> = sources
            .iter()
            .map(|s| {
                let s = rego_compat::hoist_negated_call_refs(s, &functions);
                if !for_vm {
                    return Ok(s);
                }
                rego_compat::assignments_as_unification(&s, &protected).ok_or_else(|| {
                    "a `:=` shadows a rule, function or import of the package".to_string()
                })
            })
            .collect::<Result<_, String>>()?;
        match self.build_guarded(&sources) {
            Ok(built) => Ok(built),
            Err(first_error) => {
                let split: Vec<String> = sources
                    .iter()
                    .map(|s| rego_compat::split_multi_body_rules(s))
                    .collect();
                if split == sources {
                    return Err(first_error);
                }
                self.build_guarded(&split).map_err(|_| first_error)
            }
        }
    }

    /// [`Self::build`], with a panic inside regorus turned into an error.
    fn build_guarded(&self, sources: &[String]) -> Result<(Engine, String), String> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.build(sources)))
            .unwrap_or_else(|_| {
                Err(format!(
                    "Rego of ConstraintTemplate {} crashed the Rego engine while compiling",
                    self.name
                ))
            })
    }

    /// Loads the sources, checks for `violation`, and analyses them once (so every
    /// clone starts prepared and errors show at load). Returns the rule path.
    fn build(&self, sources: &[String]) -> Result<(Engine, String), String> {
        let (mut engine, package) = self.load_sources(sources)?;
        let rule = format!("{package}.violation");
        // Gatekeeper rejects templates without a `violation` rule.
        let path = format!("{}.rego", self.name);
        match engine.has_declared_rule_rooted_at(&path, "violation") {
            Ok(true) => {}
            Ok(false) => {
                return Err(format!(
                    "Rego of ConstraintTemplate {} has no `violation` rule",
                    self.name
                ))
            }
            Err(e) => return Err(format!("Rego of ConstraintTemplate {}: {e}", self.name)),
        }
        engine.set_input(regorus::Value::new_object());
        engine.eval_rule(rule.clone()).map_err(|e| {
            format!(
                "Rego of ConstraintTemplate {} does not compile: {e}",
                self.name
            )
        })?;
        Ok((engine, rule))
    }
}
