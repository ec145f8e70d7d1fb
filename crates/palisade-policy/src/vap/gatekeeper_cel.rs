//! Gatekeeper's `K8sNativeValidation` engine: a ConstraintTemplate's CEL
//! block (`validations`, `variables`, `matchConditions`), evaluated as
//! Gatekeeper does, with the constraint's parameters as `variables.params`
//! and `variables.anyObject` (the object, or `oldObject` on DELETE).

use serde_json::{json, Value as J};

use super::cel::{
    compile, evaluate, json_to_cel, on_large_stack, CompiledExpr, EvalError, VarScope,
};

/// A compiled `K8sNativeValidation` source block, reusable across objects.
pub struct GatekeeperCel {
    variables: Vec<(String, Result<CompiledExpr, String>)>,
    match_conditions: Vec<(String, CompiledExpr)>,
    validations: Vec<(CompiledExpr, Option<String>, Option<CompiledExpr>)>,
}

impl GatekeeperCel {
    /// Compiles the engine's `source` block. Any expression that does not
    /// compile is an error (Gatekeeper rejects such templates).
    pub fn compile(source: &J) -> Result<GatekeeperCel, String> {
        let mut names: Vec<String> = vec!["params".into(), "anyObject".into()];
        names.extend(
            source
                .get("variables")
                .and_then(J::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.get("name").and_then(J::as_str).map(str::to_string)),
        );
        let mut variables = vec![
            (
                "params".to_string(),
                Err("params is set by the constraint".to_string()),
            ),
            (
                "anyObject".to_string(),
                Err("anyObject is set by Gatekeeper".to_string()),
            ),
        ];
        for v in source
            .get("variables")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
        {
            let name = v.get("name").and_then(J::as_str).unwrap_or("").to_string();
            let src = v
                .get("expression")
                .and_then(J::as_str)
                .ok_or_else(|| format!("variable {name} has no expression"))?;
            let c = compile(src, &names).map_err(|e| format!("variable {name}: {e}"))?;
            variables.push((name, Ok(c)));
        }
        let mut match_conditions = Vec::new();
        for m in source
            .get("matchConditions")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
        {
            let name = m.get("name").and_then(J::as_str).unwrap_or("").to_string();
            let src = m
                .get("expression")
                .and_then(J::as_str)
                .ok_or_else(|| format!("matchCondition {name} has no expression"))?;
            let c = compile(src, &names).map_err(|e| format!("matchCondition {name}: {e}"))?;
            match_conditions.push((name, c));
        }
        let mut validations = Vec::new();
        for (i, v) in source
            .get("validations")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let src = v
                .get("expression")
                .and_then(J::as_str)
                .ok_or_else(|| format!("validations[{i}] has no expression"))?;
            let c = compile(src, &names).map_err(|e| format!("validations[{i}]: {e}"))?;
            let message = v.get("message").and_then(J::as_str).map(str::to_string);
            let message_expr = match v.get("messageExpression").and_then(J::as_str) {
                Some(src) => Some(
                    compile(src, &names)
                        .map_err(|e| format!("validations[{i}].messageExpression: {e}"))?,
                ),
                None => None,
            };
            validations.push((c, message, message_expr));
        }
        Ok(GatekeeperCel {
            variables,
            match_conditions,
            validations,
        })
    }

    /// Evaluates on `object` (`oldObject` and `operation` as in the admission
    /// request; `operation` defaults to CREATE). Returns the violation
    /// messages; an expression error is an `Err` (the first one).
    pub fn evaluate(
        &self,
        object: &J,
        old_object: Option<&J>,
        params: &J,
        operation: &str,
    ) -> Result<Vec<String>, String> {
        let outcomes = self.evaluate_request(object, old_object, params, operation, None)?;
        if let Some(error) = outcomes.iter().find(|o| o.error) {
            return Err(error.message.clone());
        }
        Ok(outcomes.into_iter().map(|o| o.message).collect())
    }

    /// Evaluates as Gatekeeper's CEL driver does for one constraint: every
    /// validation that fails is a violation, and, as the validator's
    /// `failurePolicy: Fail`, every expression that errs is one too (with
    /// the error as its message). On DELETE, `object` is null (the driver
    /// unsets it; `variables.anyObject` is the old object).
    /// `namespace_object` is the object's Namespace when known. `Err` only
    /// when the evaluation thread could not run.
    pub fn evaluate_request(
        &self,
        object: &J,
        old_object: Option<&J>,
        params: &J,
        operation: &str,
        namespace_object: Option<&J>,
    ) -> Result<Vec<CelOutcome>, String> {
        on_large_stack(|| {
            self.evaluate_inner(object, old_object, params, operation, namespace_object)
        })
    }

    fn evaluate_inner(
        &self,
        object: &J,
        old_object: Option<&J>,
        params: &J,
        operation: &str,
        namespace_object: Option<&J>,
    ) -> Vec<CelOutcome> {
        let object = if operation == "DELETE" {
            &J::Null
        } else {
            object
        };
        let any = if object.is_null() {
            old_object.unwrap_or(&J::Null)
        } else {
            object
        };
        let kind = any.get("kind").and_then(J::as_str).unwrap_or("");
        let api_version = any.get("apiVersion").and_then(J::as_str).unwrap_or("");
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let meta = any.get("metadata");
        let request = json!({
            "uid": "palisade-offline",
            "kind": {"group": group, "version": version, "kind": kind},
            "name": meta.and_then(|m| m.get("name")).cloned().unwrap_or(J::Null),
            "namespace": meta.and_then(|m| m.get("namespace")).cloned().unwrap_or(J::Null),
            "operation": operation,
            "userInfo": {"username": "palisade:offline"},
        });
        let activation = vec![
            ("object", json_to_cel(object)),
            (
                "oldObject",
                old_object.map_or(kube_cel::cel::Value::Null, json_to_cel),
            ),
            ("request", json_to_cel(&request)),
            ("params", json_to_cel(params)),
            (
                "namespaceObject",
                namespace_object.map_or(kube_cel::cel::Value::Null, json_to_cel),
            ),
        ];
        let scope = VarScope::new(&self.variables, activation);
        scope.preset("params", json_to_cel(params));
        scope.preset("anyObject", json_to_cel(any));
        let act = scope.activation();
        let error = |message: String| CelOutcome {
            message,
            error: true,
        };
        for (name, cond) in &self.match_conditions {
            match evaluate(cond, act, Some(&scope)) {
                Ok(kube_cel::cel::Value::Bool(true)) => {}
                Ok(kube_cel::cel::Value::Bool(false)) => return Vec::new(),
                Ok(other) => {
                    return vec![error(format!(
                        "matchCondition {name} returned {other:?}, not a bool"
                    ))]
                }
                Err(e) => return vec![error(format!("matchCondition {name}: {e}"))],
            }
        }
        let mut out = Vec::new();
        for (expr, message, message_expr) in &self.validations {
            let source = expr.source().trim();
            match evaluate(expr, act, Some(&scope)) {
                Ok(kube_cel::cel::Value::Bool(true)) => {}
                Ok(kube_cel::cel::Value::Bool(false)) => {
                    let mut text = message
                        .clone()
                        .unwrap_or_else(|| format!("failed expression: {source}"));
                    if let Some(me) = message_expr {
                        if let Ok(kube_cel::cel::Value::String(s)) = evaluate(me, act, Some(&scope))
                        {
                            if !s.trim().is_empty() {
                                text = s.to_string();
                            }
                        }
                    }
                    out.push(CelOutcome {
                        message: text,
                        error: false,
                    });
                }
                Ok(other) => out.push(error(format!(
                    "expression '{source}' returned {other:?}, not a bool"
                ))),
                Err(EvalError::NotEvaluableOffline(w)) => out.push(error(format!(
                    "expression '{source}' is not evaluable offline: {w}"
                ))),
                Err(e) => out.push(error(format!(
                    "expression '{source}' resulted in error: {e}"
                ))),
            }
        }
        out
    }
}

/// One result of a `K8sNativeValidation` block: a failed validation, or an
/// expression that erred (which Gatekeeper also reports as a violation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CelOutcome {
    pub message: String,
    /// The expression erred (the message says how) rather than returned false.
    pub error: bool,
}

/// One-shot helper: compiles `source` (the engine's `source` block) and
/// evaluates it on `object` with the constraint's `params`.
/// `old_object` is `oldObject`; `operation` is `request.operation`.
pub fn evaluate_gatekeeper_cel(
    source: &J,
    object: &J,
    old_object: Option<&J>,
    params: &J,
    operation: &str,
) -> Result<Vec<String>, String> {
    GatekeeperCel::compile(source)?.evaluate(object, old_object, params, operation)
}
