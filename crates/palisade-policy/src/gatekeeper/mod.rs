//! OPA Gatekeeper, offline: ConstraintTemplates, Constraints, gator suites.
//!
//! # Design
//!
//! - **Templates** ([`ConstraintTemplate`]) are parsed from the manifest model
//!   (`templates.gatekeeper.sh` v1, v1beta1, v1alpha1). The Rego (`targets[0].rego`
//!   and `libs`, or the newer `code: [{engine: Rego, source: {rego, libs}}]`) is
//!   compiled **once per template** into one regorus [`regorus::Engine`], in Rego v0
//!   syntax and with non-strict builtin errors (OPA's behaviour: a builtin error makes
//!   the expression undefined). An evaluation clones that engine (cheap: the compiled
//!   modules are shared) and adds `data.inventory` once, then evaluates
//!   `data.<package>.violation` for every (constraint, object) pair that matches.
//!   `K8sNativeValidation` (CEL) code blocks are compiled once too and run instead
//!   of the Rego when [`PolicySet::engine`] is [`Engine::Cel`] (`--engine cel`),
//!   with the same matching, parameters and suites.
//! - **Constraints** ([`Constraint`]) carry `spec.parameters`, `spec.match` and the
//!   enforcement action. [`PolicySet::verify`] refuses what the constraint framework's
//!   `ValidateCR` refuses: a name that is not a DNS-1123 subdomain of at most 63
//!   characters, fields the constraint CRD lacks (`spec.paramters`, `spec.match.namespace`),
//!   and parameters that fail the template's `openAPIV3Schema` (types, enums, required,
//!   bounds; unknown fields too, unless the schema is a legacy one: `legacySchema`
//!   defaults to false in v1 templates and true in v1beta1/v1alpha1). The schema's
//!   `default`s are then applied to the parameters, as the framework does when it adds
//!   the constraint. [`Match::matches`] follows Gatekeeper's matcher (`pkg/mutation/match`):
//!   kinds (with `*`; an empty `apiGroups` or `kinds` list is a wildcard, as
//!   `kindsMatch` has it), scope (an unknown value matches both scopes, with a note),
//!   namespaces / excludedNamespaces with `prefix*` / `*suffix` globs (a Namespace
//!   object is matched by its own name; other cluster-scoped objects pass the
//!   namespace criteria), labelSelector, namespaceSelector (needs the Namespace in
//!   the input: when absent the object is not matched and a note is recorded), name
//!   (glob, also against `metadata.generateName`) and source (offline objects are
//!   originals). A request with an `oldObject` matches when either object matches.
//! - **`input.review`** ([`Review`]) is the AdmissionRequest of a CREATE of the
//!   object: `{kind: {group, version, kind}, resource: {group, version, resource},
//!   name, namespace, operation: "CREATE", userInfo: {}, dryRun: false, object}`, plus
//!   `namespaceObject` when the Namespace is known. (Gatekeeper's audit and gator
//!   leave `operation` and `resource` empty; templates compare `operation` with
//!   `"UPDATE"` or `"DELETE"`, where both readings agree.) An `AdmissionReview` document is reviewed as its `request` (DELETE:
//!   `object` = `oldObject`).
//! - **`data.inventory`** ([`Inventory`]) holds `cluster[apiVersion][kind][name]` and
//!   `namespace[ns][apiVersion][kind][name]`.
//! - **Run-time failures** (a Rego conflict such as two containers with one name in
//!   an object rule, a CEL expression error) are violations of each matched
//!   constraint of the template on that object, with the error as the message
//!   ([`Violation::evaluation_error`]), as Gatekeeper's drivers report them: the
//!   audit counts them, gator assertions see them, and a scan reports them as
//!   findings of the constraint's severity instead of failing as an input error.
//!   Only an unreadable `AdmissionReview` is an error of the input.
//! - **Findings**: [`Evaluation::findings`] turns violations into
//!   [`palisade_model::Finding`]s with rule id `gatekeeper/<ConstraintKind>/<name>`.
//!   `RuleMeta` wants `&'static str`s: constraints live for the whole process, so each
//!   distinct id and title is leaked once, through an interner (a set of leaked
//!   strings), so re-evaluating the same constraints never leaks again. Severity comes
//!   from the enforcement action: deny = high, warn = medium, dryrun = info.
//! - **Suites**: [`run_suite`] runs a gator `Suite` file (`test.gatekeeper.sh/v1alpha1`):
//!   `violations: yes|no|N`, `message` as an unanchored regular expression (through
//!   regorus' `regex.match`), `inventory` files as `data.inventory`, `invalid: true`
//!   tests, `skip` on suites, tests and cases, and gator's errors for a case without
//!   assertions or whose object file holds more than one object. `expansion`
//!   templates are not supported (such a test fails, saying so).
//! - **OPA compatibility** (`rego_compat`): regorus differs from OPA in a few places
//!   Gatekeeper templates hit; the adapter closes them without changing line numbers:
//!   a line starting with `(` is a new expression (not a call of the previous line),
//!   `sprintf` with missing arguments prints Go's `%!v(MISSING)`, several bodies after
//!   one set-rule head (`p[x] { a } { b }`) are split into rules, and reference
//!   arguments of a negated call of a policy-defined function are evaluated before the
//!   negation (`not f(params.missing)` fails the body, as in OPA). Builtin errors are
//!   non-strict (undefined), each evaluation has a time limit, and a panic inside
//!   regorus becomes an error for that object.

mod admission;
mod constraint;
mod rego_compat;
mod review;
mod schema;
mod suite;
mod template;

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use rayon::prelude::*;

use palisade_model::names::is_dns1123_subdomain;
use palisade_model::{
    load_inputs, Finding, Input, LoadOptions, Loaded, Object, ObjectId, RuleMeta, Severity, Span,
};
use serde_json::Value as Json;

pub use admission::{AdmissionEvaluator, RequestNamespace, RequestOutcome, RequestViolation};
pub use constraint::{
    is_constraint, wildcard_matches, Constraint, Enforcement, EnforcementAction, KindSelector,
    LabelSelector, Match, MatchOutcome, MatchTarget, Requirement, Scope, Source, CONSTRAINT_GROUP,
    ENFORCEMENT_POINTS, WEBHOOK_ENFORCEMENT_POINT,
};
pub use review::{
    is_admission_review, object_json, object_span, Inventory, KnownNamespace, Review,
};
pub use suite::{run_suite, run_suite_with, CaseResult, SuiteResult, TestResult};
pub use template::{
    is_template, ConstraintTemplate, OtherEngineCode, ADMISSION_TARGET, TEMPLATE_GROUP,
};

/// A problem or note about a policy or an object, at a position in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub file: String,
    pub span: Span,
    /// The object it is about (boxed to keep `Result<_, Issue>` small).
    pub object: Option<Box<ObjectId>>,
    pub message: String,
}

impl Issue {
    pub fn at(object: &Object, span: Span, message: String) -> Issue {
        Issue {
            file: object.source.name.clone(),
            span,
            object: Some(Box::new(object.id.clone())),
            message,
        }
    }

    pub fn in_file(file: &str, message: String) -> Issue {
        Issue {
            file: file.to_string(),
            span: Span::default(),
            object: None,
            message,
        }
    }
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if self.span.start.line > 0 {
            write!(f, ":{}", self.span.start)?;
        }
        if let Some(id) = &self.object {
            write!(f, " ({id})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Which of a template's engines evaluates it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Engine {
    /// The Rego code (`targets[0].rego` or a `Rego` code block), as Gatekeeper does by default.
    #[default]
    Rego,
    /// The `K8sNativeValidation` (CEL) code block; templates without one are not evaluated.
    Cel,
}

/// Templates and constraints, ready to evaluate.
#[derive(Debug, Default, Clone)]
pub struct PolicySet {
    /// The engine used by [`PolicySet::evaluate`].
    pub engine: Engine,
    pub templates: Vec<ConstraintTemplate>,
    pub constraints: Vec<Constraint>,
    /// Templates or constraints that could not be used (compile errors, bad fields).
    pub errors: Vec<Issue>,
    /// Things worth telling (CEL blocks not evaluated, ...).
    pub notes: Vec<Issue>,
}

/// Whether `object` is a ConstraintTemplate or a Constraint.
pub fn is_policy_object(object: &Object) -> bool {
    is_template(object) || is_constraint(object)
}

impl PolicySet {
    /// Reads templates and constraints from files and directories.
    /// Objects that are neither are ignored; the [`Loaded`] is returned for its input errors.
    pub fn load(inputs: &[Input]) -> (PolicySet, Loaded) {
        let loaded = load_inputs(inputs, &LoadOptions::default());
        let set = PolicySet::from_objects(&loaded.objects);
        (set, loaded)
    }

    /// Reads templates and constraints among `objects` (others are ignored).
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a Object>) -> PolicySet {
        let mut set = PolicySet::default();
        let objects: Vec<&Object> = objects.into_iter().collect();
        for object in objects.iter().filter(|o| is_template(o)) {
            set.add_template(object);
        }
        for object in objects.iter().filter(|o| is_constraint(o)) {
            set.add_constraint(object);
        }
        set
    }

    /// Adds a template (replacing one of the same kind, as the cluster would).
    pub fn add_template(&mut self, object: &Object) {
        match ConstraintTemplate::from_object(object) {
            Ok(template) => {
                for other in template
                    .other_engines
                    .iter()
                    .filter(|o| o.engine != template::CEL_ENGINE)
                {
                    self.notes.push(Issue::at(
                        object,
                        object.root.span,
                        format!(
                            "ConstraintTemplate {}: {} code block: {}",
                            template.name, other.engine, other.note
                        ),
                    ));
                }
                if template.rego.is_none() {
                    self.notes.push(Issue::at(
                        object,
                        object.root.span,
                        format!(
                            "ConstraintTemplate {} has no Rego: its constraints are not evaluated",
                            template.name
                        ),
                    ));
                }
                self.templates.retain(|t| t.kind != template.kind);
                for c in self
                    .constraints
                    .iter_mut()
                    .filter(|c| c.kind == template.kind)
                {
                    apply_parameter_defaults(&template, c);
                }
                self.templates.push(template);
            }
            Err(issue) => self.errors.push(issue),
        }
    }

    /// Adds a constraint. Its template should be added first (see [`PolicySet::verify`]).
    pub fn add_constraint(&mut self, object: &Object) {
        match Constraint::from_object(object) {
            Ok(mut c) => {
                for (span, note) in &c.notes {
                    self.notes.push(Issue::at(
                        object,
                        *span,
                        format!("{} {}: {note}", c.kind, c.name),
                    ));
                }
                if let Some(template) = self.templates.iter().find(|t| t.kind == c.kind) {
                    apply_parameter_defaults(template, &mut c);
                }
                self.constraints.push(c);
            }
            Err(issue) => self.errors.push(issue),
        }
    }

    /// The template of a constraint kind.
    pub fn template(&self, kind: &str) -> Option<&ConstraintTemplate> {
        self.templates.iter().find(|t| t.kind == kind)
    }

    /// Every problem that makes a policy unusable: load errors, plus constraints
    /// whose kind no template defines. Empty means every policy will be evaluated
    /// (except CEL-only templates, listed in `notes`).
    pub fn verify(&self) -> Vec<Issue> {
        let mut issues = self.errors.clone();
        for c in &self.constraints {
            if let Some(template) = self.template(&c.kind) {
                let problems = constraint_problems(template, c);
                if !problems.is_empty() {
                    let span = c
                        .object
                        .root
                        .path(&["spec", "parameters"])
                        .map_or(c.object.root.span, |n| n.span);
                    issues.push(Issue::at(
                        &c.object,
                        span,
                        format!(
                            "{} {}: does not match the schema of ConstraintTemplate {}: {}",
                            c.kind,
                            c.name,
                            template.name,
                            problems.join("; ")
                        ),
                    ));
                }
            } else {
                issues.push(Issue::at(
                    &c.object,
                    c.object.root.span,
                    format!(
                        "no ConstraintTemplate defines kind {} (constraint {})",
                        c.kind, c.name
                    ),
                ));
            }
        }
        issues
    }

    /// Evaluates every constraint against `objects`. `data.inventory` holds the
    /// `inventory` objects (pass `objects` again for an audit of a whole input).
    /// Namespaces for `namespaceSelector` are looked up in both.
    pub fn evaluate(&self, objects: &[Object], inventory: &[Object]) -> Evaluation {
        let mut out = Evaluation::default();
        let inv = Inventory::of(inventory);
        let namespaces = Inventory::of(
            objects
                .iter()
                .filter(|o| o.id.kind == "Namespace" && !inventory.iter().any(|i| i.id == o.id)),
        );
        let reviews: Vec<Option<Review>> = objects
            .iter()
            .map(|o| match Review::of(o) {
                Ok(mut r) => {
                    if let Some((ns, _)) = inv
                        .namespace(&r.namespace)
                        .or_else(|| namespaces.namespace(&r.namespace))
                    {
                        r.set_namespace_object(ns);
                    }
                    Some(r)
                }
                Err(issue) => {
                    out.errors.push(issue);
                    None
                }
            })
            .collect();
        let review_values: Vec<regorus::Value> = reviews
            .iter()
            .map(|r| {
                r.as_ref().map_or(regorus::Value::Undefined, |r| {
                    regorus::Value::from(r.json.clone())
                })
            })
            .collect();
        let data = regorus::Value::from(serde_json::json!({ "inventory": inv.json }));
        // Templates are independent: each clones its own engine, so they run in
        // parallel; results are merged in template order, so output is stable.
        let parts: Vec<Evaluation> = self
            .templates
            .par_iter()
            .map(|template| {
                self.evaluate_template(
                    template,
                    objects,
                    &reviews,
                    &review_values,
                    &inv,
                    &namespaces,
                    &data,
                )
            })
            .collect();
        for part in parts {
            out.violations.extend(part.violations);
            out.errors.extend(part.errors);
            out.notes.extend(part.notes);
        }
        out
    }

    /// The violations of one template's constraints on every object.
    #[allow(clippy::too_many_arguments)]
    fn evaluate_template(
        &self,
        template: &ConstraintTemplate,
        objects: &[Object],
        reviews: &[Option<Review>],
        review_values: &[regorus::Value],
        inv: &Inventory,
        namespaces: &Inventory,
        data: &regorus::Value,
    ) -> Evaluation {
        let mut out = Evaluation::default();
        let constraints: Vec<&Constraint> = self
            .constraints
            .iter()
            .filter(|c| c.kind == template.kind)
            .collect();
        if constraints.is_empty() {
            return out;
        }
        if self.engine == Engine::Cel {
            evaluate_cel(
                template,
                &constraints,
                objects,
                reviews,
                inv,
                namespaces,
                &mut out,
            );
            return out;
        }
        let Some(base) = &template.engine else {
            return out;
        };
        let mut engine = base.clone();
        if let Err(e) = engine.add_data(data.clone()) {
            out.errors.push(Issue::at(
                &template.object,
                template.object.root.span,
                format!("cannot load data.inventory: {e}"),
            ));
            return out;
        }
        let parameters: Vec<regorus::Value> = constraints
            .iter()
            .map(|c| regorus::Value::from(c.parameters.clone()))
            .collect();
        for (index, ((object, review), review_value)) in
            objects.iter().zip(reviews).zip(review_values).enumerate()
        {
            let Some(review) = review else { continue };
            // Gatekeeper's Rego driver evaluates the matched constraints of one kind
            // together; when that evaluation fails, every one of them gets the error
            // as its violation (frameworks' `Query`), so audit and gator report it.
            let mut found = Vec::new();
            let mut failure: Option<String> = None;
            for (constraint, parameters) in constraints.iter().zip(&parameters) {
                if !matched(constraint, object, review, inv, namespaces, &mut out) {
                    continue;
                }
                match eval_violations(&mut engine, template, review_value, parameters) {
                    Ok(list) => found.push((*constraint, list)),
                    Err(message) => {
                        failure.get_or_insert(message);
                        found.push((*constraint, Vec::new()));
                    }
                }
            }
            for (constraint, list) in found {
                let list = match &failure {
                    Some(message) => vec![(message.clone(), Json::Null)],
                    None => list,
                };
                for (message, details) in list {
                    out.violations.push(Violation {
                        constraint_kind: constraint.kind.clone(),
                        constraint_name: constraint.name.clone(),
                        message,
                        details,
                        actions: constraint.enforcement.offline_actions(),
                        object: index,
                        evaluation_error: failure.is_some(),
                    });
                }
            }
        }
        out
    }
}

/// Whether `constraint` matches the review; a namespaceSelector that needs a
/// Namespace the input lacks is a note on the object, and no match.
fn matched(
    constraint: &Constraint,
    object: &Object,
    review: &Review,
    inv: &Inventory,
    namespaces: &Inventory,
    out: &mut Evaluation,
) -> bool {
    match match_review(constraint, review, inv, namespaces) {
        MatchOutcome::Matches => true,
        MatchOutcome::NoMatch => false,
        MatchOutcome::NamespaceUnknown => {
            out.notes.push(Issue::at(
                object,
                object_span(object),
                format!(
                    "not checked against {} {}: its namespaceSelector needs Namespace {:?}, which is not in the input",
                    constraint.kind, constraint.name, review.namespace
                ),
            ));
            false
        }
    }
}

/// Evaluates a template's `K8sNativeValidation` block for its constraints, as
/// Gatekeeper's CEL driver does (parameters as `variables.params`).
fn evaluate_cel(
    template: &ConstraintTemplate,
    constraints: &[&Constraint],
    objects: &[Object],
    reviews: &[Option<Review>],
    inv: &Inventory,
    namespaces: &Inventory,
    out: &mut Evaluation,
) {
    let Some(compiled) = &template.cel else {
        return;
    };
    let cel = match &compiled.0 {
        Ok(cel) => cel,
        Err(e) => {
            out.errors.push(Issue::at(
                &template.object,
                template.object.root.span,
                format!(
                    "ConstraintTemplate {}: CEL code does not compile: {e}",
                    template.name
                ),
            ));
            return;
        }
    };
    for constraint in constraints {
        let actions = constraint.enforcement.offline_actions();
        for (index, (object, review)) in objects.iter().zip(reviews).enumerate() {
            let Some(review) = review else { continue };
            if !matched(constraint, object, review, inv, namespaces, out) {
                continue;
            }
            match cel_outcomes(cel, constraint, review) {
                Ok(outcomes) => out
                    .violations
                    .extend(outcomes.into_iter().map(|o| Violation {
                        constraint_kind: constraint.kind.clone(),
                        constraint_name: constraint.name.clone(),
                        message: o.message,
                        details: Json::Null,
                        actions: actions.clone(),
                        object: index,
                        evaluation_error: o.error,
                    })),
                Err(message) => out.errors.push(Issue::at(
                    object,
                    object_span(object),
                    format!(
                        "evaluating {} {} (CEL): {message}",
                        constraint.kind, constraint.name
                    ),
                )),
            }
        }
    }
}

/// The fields of a Constraint's `spec` (the constraint CRD's schema).
const SPEC_FIELDS: &[&str] = &[
    "match",
    "enforcementAction",
    "scopedEnforcementActions",
    "parameters",
];
/// The fields of `spec.match` (Gatekeeper's match schema).
const MATCH_FIELDS: &[&str] = &[
    "kinds",
    "scope",
    "namespaces",
    "excludedNamespaces",
    "labelSelector",
    "namespaceSelector",
    "name",
    "source",
];

/// Why the constraint framework would refuse `c` (`ValidateCR`): a name that is
/// not a DNS-1123 subdomain of at most 63 characters, fields the constraint CRD
/// does not have, and parameters that do not match the template's schema (with
/// unknown parameter fields unless the template's schema is a legacy one).
fn constraint_problems(template: &ConstraintTemplate, c: &Constraint) -> Vec<String> {
    let mut problems = Vec::new();
    // Stricter than an object name's 253: ValidateCR caps it at 63.
    if !is_dns1123_subdomain(&c.name) || c.name.len() > 63 {
        problems.push(format!(
            "metadata.name {:?} must be a lowercase DNS-1123 subdomain of at most 63 characters",
            c.name
        ));
    }
    let spec = c
        .object
        .root
        .get_set("spec")
        .map(palisade_model::Node::to_json);
    let mut unknown = Vec::new();
    if let Some(Json::Object(spec)) = &spec {
        for key in spec.keys() {
            let known = SPEC_FIELDS.contains(&key.as_str())
                && (key != "parameters"
                    || template.parameters_schema.is_some()
                    || template.legacy_schema);
            if !known {
                unknown.push(format!("spec.{key}"));
            }
        }
        if let Some(Json::Object(m)) = spec.get("match") {
            unknown.extend(
                m.keys()
                    .filter(|k| !MATCH_FIELDS.contains(&k.as_str()))
                    .map(|k| format!("spec.match.{k}")),
            );
        }
    }
    if let Some(schema) = &template.parameters_schema {
        // Validated as written (defaults are applied after validation).
        let written = spec
            .as_ref()
            .and_then(|s| s.get("parameters"))
            .cloned()
            .unwrap_or(Json::Null);
        schema::check(schema, &written, "spec.parameters", &mut problems);
        if !template.legacy_schema {
            schema::unknown_fields(schema, &written, "spec.parameters", &mut unknown);
        }
    }
    if !unknown.is_empty() {
        problems.push(format!("unknown fields: {}", unknown.join(", ")));
    }
    problems
}

/// The template's schema defaults in the constraint's parameters, as the
/// constraint framework applies them when it adds the constraint.
fn apply_parameter_defaults(template: &ConstraintTemplate, c: &mut Constraint) {
    let Some(schema) = &template.parameters_schema else {
        return;
    };
    if c.parameters.is_null() {
        // No `parameters` object: only a default for the whole object applies.
        if let Some(default) = schema.get("default") {
            c.parameters = default.clone();
        }
    }
    schema::apply_defaults(schema, &mut c.parameters);
}

fn match_review(
    constraint: &Constraint,
    review: &Review,
    inv: &Inventory,
    extra_namespaces: &Inventory,
) -> MatchOutcome {
    let ns_labels = inv
        .namespace(&review.namespace)
        .or_else(|| extra_namespaces.namespace(&review.namespace))
        .map(|(_, labels)| labels);
    match_with_namespace(constraint, review, ns_labels)
}

/// Gatekeeper matches a request when the object or the old object matches.
fn match_with_namespace(
    constraint: &Constraint,
    review: &Review,
    namespace_labels: Option<&[(String, String)]>,
) -> MatchOutcome {
    let mut target = MatchTarget {
        group: &review.group,
        kind: &review.kind,
        name: &review.name,
        generate_name: &review.generate_name,
        namespace: &review.namespace,
        labels: &review.labels,
        namespace_labels,
    };
    let first = constraint.match_.matches(&target);
    if first == MatchOutcome::Matches {
        return first;
    }
    if let Some(old) = &review.old_labels {
        target.labels = old;
        let second = constraint.match_.matches(&target);
        if second == MatchOutcome::Matches {
            return second;
        }
    }
    first
}

/// The outcomes of a `K8sNativeValidation` block for one constraint on one
/// review, as Gatekeeper's CEL driver gives them (parameters as `variables.params`).
fn cel_outcomes(
    cel: &crate::vap::GatekeeperCel,
    constraint: &Constraint,
    review: &Review,
) -> Result<Vec<crate::vap::CelOutcome>, String> {
    let json = &review.json;
    let old = json.get("oldObject").filter(|o| !o.is_null());
    let operation = json
        .get("operation")
        .and_then(Json::as_str)
        .unwrap_or("CREATE");
    let object = json.get("object").unwrap_or(&Json::Null);
    let namespace = json.get("namespaceObject").filter(|n| !n.is_null());
    cel.evaluate_request(object, old, &constraint.parameters, operation, namespace)
}

/// Runs `violation` for one input; returns (msg, details) pairs.
fn eval_violations(
    engine: &mut regorus::Engine,
    template: &ConstraintTemplate,
    review: &regorus::Value,
    parameters: &regorus::Value,
) -> Result<Vec<(String, Json)>, String> {
    let mut input = regorus::Value::new_object();
    if let Ok(map) = input.as_object_mut() {
        map.insert(regorus::Value::from("review"), review.clone());
        map.insert(regorus::Value::from("parameters"), parameters.clone());
    }
    engine.set_input(input);
    let rule = template.violation_rule.clone();
    // A panic inside regorus must not take the scan down: it becomes an error
    // for this object (the engine clone is dropped with the evaluation).
    let value = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.eval_rule(rule)))
        .map_err(|_| "the Rego engine crashed on this input".to_string())?
        .map_err(|e| e.to_string())?;
    violations_of(&value)
}

/// The (msg, details) pairs of a `violation` set.
fn violations_of(value: &regorus::Value) -> Result<Vec<(String, Json)>, String> {
    if *value == regorus::Value::Undefined {
        return Ok(Vec::new());
    }
    let json = serde_json::to_value(value).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for item in json.as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let message = match item.get("msg") {
            Some(Json::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let details = item.get("details").cloned().unwrap_or(Json::Null);
        out.push((message, details));
    }
    Ok(out)
}

/// One violation of one constraint by one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub constraint_kind: String,
    pub constraint_name: String,
    /// The `msg` of the violation.
    pub message: String,
    /// The `details` of the violation (`null` when absent).
    pub details: Json,
    /// The enforcement actions that apply at an offline audit (empty: the
    /// constraint is scoped to other enforcement points only).
    pub actions: Vec<EnforcementAction>,
    /// Index of the object in the slice given to [`PolicySet::evaluate`].
    pub object: usize,
    /// The template's code failed on this object (a Rego runtime error such as
    /// a rule conflict, or a CEL expression error): `message` is the error.
    /// Gatekeeper reports such failures as violations of the constraint.
    pub evaluation_error: bool,
}

impl Violation {
    /// `gatekeeper/<ConstraintKind>/<constraint-name>`.
    pub fn rule_id(&self) -> String {
        format!(
            "gatekeeper/{}/{}",
            self.constraint_kind, self.constraint_name
        )
    }

    /// The strongest action (deny > warn > dryrun), if any applies offline.
    pub fn action(&self) -> Option<EnforcementAction> {
        self.actions.iter().copied().min()
    }

    /// The finding for this violation, located on `object` (`metadata.name`).
    /// `None` when no enforcement action applies offline.
    pub fn to_finding(&self, object: &Object) -> Option<Finding> {
        let action = self.action()?;
        let severity = match action {
            EnforcementAction::Deny => Severity::High,
            EnforcementAction::Warn => Severity::Medium,
            EnforcementAction::Dryrun => Severity::Info,
        };
        let meta = RuleMeta {
            id: intern(&self.rule_id()),
            title: intern(&format!(
                "Gatekeeper constraint {} {}",
                self.constraint_kind, self.constraint_name
            )),
            severity,
            category: "policy",
            docs: "",
            help_uri: "https://open-policy-agent.github.io/gatekeeper/website/docs/howto",
            controls: &[],
        };
        let (message, remediation) = if self.evaluation_error {
            (
                format!("the template's code failed on this object, which Gatekeeper reports as a violation: {}", self.message),
                format!(
                    "Fix the object (e.g. duplicate names that make the template's rules conflict) or the template of {} {}.",
                    self.constraint_kind, self.constraint_name
                ),
            )
        } else {
            (
                self.message.clone(),
                format!(
                    "Change the object to satisfy {} {} (enforcementAction: {}).",
                    self.constraint_kind,
                    self.constraint_name,
                    action.as_str()
                ),
            )
        };
        let mut finding = Finding::new(
            &meta,
            object,
            object_span(object),
            None,
            message,
            remediation,
        );
        let has_details =
            !(self.details.is_null() || self.details.as_object().is_some_and(|m| m.is_empty()));
        finding.details = has_details.then(|| self.details.clone());
        Some(finding)
    }
}

/// Leaks each distinct string once and returns the same `&'static str` for it afterwards.
fn intern(text: &str) -> &'static str {
    static STRINGS: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut set = STRINGS
        .get_or_init(|| Mutex::new(HashSet::new()))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(existing) = set.get(text) {
        return existing;
    }
    let leaked: &'static str = Box::leak(text.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// The result of [`PolicySet::evaluate`].
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub violations: Vec<Violation>,
    /// Evaluation errors (bad `AdmissionReview`s, Rego runtime errors).
    pub errors: Vec<Issue>,
    /// Objects not checked, and why.
    pub notes: Vec<Issue>,
}

impl Evaluation {
    /// Findings for the violations, `objects` being the slice that was evaluated.
    pub fn findings(&self, objects: &[Object]) -> Vec<Finding> {
        self.violations
            .iter()
            .filter_map(|v| v.to_finding(objects.get(v.object)?))
            .collect()
    }
}

/// Loads policies from `policy_inputs` and evaluates them against `manifests`
/// (the whole input is the inventory), as `palisade policy test` / `scan --policies`.
pub fn check_manifests(
    policy_inputs: &[Input],
    manifests: &[Object],
) -> (PolicySet, Loaded, Evaluation) {
    let (set, loaded) = PolicySet::load(policy_inputs);
    let evaluation = set.evaluate(manifests, manifests);
    (set, loaded, evaluation)
}

/// Every `suite.yaml` under `dir`, sorted (for `palisade policy test` and the conformance test).
pub fn find_suites(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "suite.yaml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
