//! CEL's `authorizer` variable, as the API server provides it to admission
//! policies (k8s.io/apiserver `library/authz.go`):
//!
//! ```text
//! authorizer.group('apps').resource('deployments').namespace('ns').name('x').check('update').allowed()
//! authorizer.path('/healthz').check('get').allowed()
//! authorizer.serviceAccount('ns', 'sa').group('').resource('secrets').check('get').reason()
//! authorizer.requestResource.subresource('scale').check('update').errored()
//! ```
//!
//! Values are CEL maps tagged with `@authz` (authorizer, path, group,
//! resource, decision); the methods are registered functions that check the
//! tag. Checks are answered by the [`Authorizer`] installed with
//! [`with_authorizer`] for the current thread. Without one, or when the
//! requester is not known (offline, there is no real request), a check marks
//! the evaluation not evaluable offline rather than guessing.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{Context, ExecutionError, FunctionContext, Value};
use palisade_model::{AccessRequest, Authorizer, AuthzDecision, UserInfo};

use super::{arg, STATE};

/// The resource attributes of the request under review, for `requestResource`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestAttributes {
    pub group: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
}

/// What answers `authorizer` checks during one evaluation.
#[derive(Clone)]
pub struct AuthzContext {
    pub authorizer: Arc<dyn Authorizer>,
    /// The requester (`request.userInfo`); `None` when unknown (offline
    /// evaluation of manifests): checks on it are not evaluable, checks on
    /// `authorizer.serviceAccount(..)` still are.
    pub user: Option<UserInfo>,
    pub request: RequestAttributes,
}

thread_local! {
    static AUTHZ: RefCell<Option<AuthzContext>> = const { RefCell::new(None) };
}

/// Runs `f` with `context` answering `authorizer` checks on this thread.
pub fn with_authorizer<R>(context: Option<AuthzContext>, f: impl FnOnce() -> R) -> R {
    let previous = AUTHZ.with(|a| a.replace(context));
    let result = f();
    AUTHZ.with(|a| *a.borrow_mut() = previous);
    result
}

const TAG: &str = "@authz";

fn key(k: &str) -> Key {
    Key::String(Arc::new(k.to_string()))
}

fn text(v: &str) -> Value {
    Value::String(Arc::new(v.to_string()))
}

fn tagged(kind: &str, fields: Vec<(&str, Value)>) -> Value {
    let mut map: HashMap<Key, Value> = fields.into_iter().map(|(k, v)| (key(k), v)).collect();
    map.insert(key(TAG), text(kind));
    Value::Map(Map { map: Arc::new(map) })
}

fn kind_of(v: &Value) -> Option<&str> {
    match v {
        Value::Map(m) => match m.map.get(&key(TAG)) {
            Some(Value::String(s)) => Some(s.as_str()),
            _ => None,
        },
        _ => None,
    }
}

fn field(v: &Value, name: &str) -> Option<Value> {
    match v {
        Value::Map(m) => m.map.get(&key(name)).cloned(),
        _ => None,
    }
}

fn field_text(v: &Value, name: &str) -> String {
    match field(v, name) {
        Some(Value::String(s)) => s.to_string(),
        _ => String::new(),
    }
}

fn with_field(v: &Value, name: &str, value: Value) -> Value {
    match v {
        Value::Map(m) => {
            let mut map = (*m.map).clone();
            map.insert(key(name), value);
            Value::Map(Map { map: Arc::new(map) })
        }
        other => other.clone(),
    }
}

fn this_of(ftx: &FunctionContext, want: &[&str], method: &str) -> Result<Value, ExecutionError> {
    let this = ftx
        .this
        .clone()
        .ok_or_else(ExecutionError::missing_argument_or_target)?;
    match kind_of(&this) {
        Some(kind) if want.contains(&kind) => Ok(this),
        _ => Err(ExecutionError::function_error(
            method,
            format!("no such overload: {method} on this value"),
        )),
    }
}

fn string_arg(ftx: &FunctionContext, i: usize, method: &str) -> Result<String, ExecutionError> {
    match arg(ftx, i)? {
        Value::String(s) => Ok(s.to_string()),
        _ => Err(ExecutionError::function_error(
            method,
            "expects a string argument",
        )),
    }
}

fn not_evaluable(why: String) -> ExecutionError {
    STATE.with(|s| s.borrow_mut().not_evaluable = Some(why.clone()));
    ExecutionError::function_error("authorizer", why)
}

/// The identity checks run as: `user` of the value (a service account), or the requester.
fn identity(value: &Value) -> Option<UserInfo> {
    match field(value, "serviceAccount") {
        Some(Value::List(parts)) => match (parts.first(), parts.get(1)) {
            (Some(Value::String(ns)), Some(Value::String(name))) => {
                Some(UserInfo::service_account(ns, name))
            }
            _ => None,
        },
        _ => AUTHZ.with(|a| a.borrow().as_ref().and_then(|c| c.user.clone())),
    }
}

fn check(ftx: &FunctionContext) -> Result<Value, ExecutionError> {
    let this = this_of(ftx, &["path", "resource"], "check")?;
    let verb = string_arg(ftx, 0, "check")?;
    let Some(authorizer) = AUTHZ.with(|a| a.borrow().as_ref().map(|c| c.authorizer.clone())) else {
        return Err(not_evaluable(
            "the expression uses `authorizer`, and no RBAC objects were given to answer it".into(),
        ));
    };
    let Some(user) = identity(&this) else {
        return Err(not_evaluable(
            "`authorizer` checks the requester, who is not known offline".into(),
        ));
    };
    let request = if kind_of(&this) == Some("path") {
        AccessRequest::NonResource {
            verb,
            path: field_text(&this, "path"),
        }
    } else {
        AccessRequest::Resource {
            verb,
            group: field_text(&this, "group"),
            resource: field_text(&this, "resource"),
            subresource: field_text(&this, "subresource"),
            namespace: field_text(&this, "namespace"),
            name: field_text(&this, "name"),
        }
    };
    let (allowed, reason, error) = match authorizer.authorize(&user, &request) {
        AuthzDecision::Allow { reason } => (true, reason, String::new()),
        AuthzDecision::NoOpinion { reason } => (false, reason, String::new()),
        AuthzDecision::Error { message } => (false, String::new(), message),
    };
    Ok(tagged(
        "decision",
        vec![
            ("allowed", Value::Bool(allowed)),
            ("reason", text(&reason)),
            ("error", text(&error)),
        ],
    ))
}

/// Registers `@authz_root`, `@authz_request_resource` and the methods.
pub(super) fn register(ctx: &mut Context<'static>) {
    ctx.add_function(
        "@authz_root",
        |_ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            Ok(tagged("authorizer", vec![]))
        },
    );
    ctx.add_function(
        "@authz_request_resource",
        |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            let authorizer = arg(ftx, 0)?;
            let request = AUTHZ.with(|a| a.borrow().as_ref().map(|c| c.request.clone()));
            let Some(r) = request else {
                return Err(not_evaluable(
                    "`authorizer.requestResource` needs a real admission request".into(),
                ));
            };
            let mut fields = vec![
                ("group", text(&r.group)),
                ("resource", text(&r.resource)),
                ("subresource", text(&r.subresource)),
                ("namespace", text(&r.namespace)),
                ("name", text(&r.name)),
            ];
            if let Some(sa) = field(&authorizer, "serviceAccount") {
                fields.push(("serviceAccount", sa));
            }
            Ok(tagged("resource", fields))
        },
    );
    ctx.add_function(
        "serviceAccount",
        |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            this_of(ftx, &["authorizer"], "serviceAccount")?;
            let ns = string_arg(ftx, 0, "serviceAccount")?;
            let name = string_arg(ftx, 1, "serviceAccount")?;
            Ok(tagged(
                "authorizer",
                vec![(
                    "serviceAccount",
                    Value::List(Arc::new(vec![text(&ns), text(&name)])),
                )],
            ))
        },
    );
    ctx.add_function(
        "path",
        |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            let this = this_of(ftx, &["authorizer"], "path")?;
            let path = string_arg(ftx, 0, "path")?;
            let mut fields = vec![("path", text(&path))];
            if let Some(sa) = field(&this, "serviceAccount") {
                fields.push(("serviceAccount", sa));
            }
            Ok(tagged("path", fields))
        },
    );
    ctx.add_function(
        "group",
        |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            let this = this_of(ftx, &["authorizer"], "group")?;
            let group = string_arg(ftx, 0, "group")?;
            let mut fields = vec![("group", text(&group))];
            if let Some(sa) = field(&this, "serviceAccount") {
                fields.push(("serviceAccount", sa));
            }
            Ok(tagged("group", fields))
        },
    );
    ctx.add_function(
        "resource",
        |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            let this = this_of(ftx, &["group"], "resource")?;
            let resource = string_arg(ftx, 0, "resource")?;
            let mut out = with_field(&this, "resource", text(&resource));
            out = with_field(&out, TAG, text("resource"));
            Ok(out)
        },
    );
    for setter in ["subresource", "namespace", "name"] {
        ctx.add_function(
            setter,
            move |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
                let this = this_of(ftx, &["resource"], setter)?;
                let value = string_arg(ftx, 0, setter)?;
                Ok(with_field(&this, setter, text(&value)))
            },
        );
    }
    ctx.add_function("check", check);
    ctx.add_function(
        "allowed",
        |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            let this = this_of(ftx, &["decision"], "allowed")?;
            Ok(field(&this, "allowed").unwrap_or(Value::Bool(false)))
        },
    );
    ctx.add_function(
        "reason",
        |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            let this = this_of(ftx, &["decision"], "reason")?;
            Ok(text(&field_text(&this, "reason")))
        },
    );
    ctx.add_function(
        "errored",
        |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            let this = this_of(ftx, &["decision"], "errored")?;
            Ok(Value::Bool(!field_text(&this, "error").is_empty()))
        },
    );
    ctx.add_function(
        "error",
        |ftx: &FunctionContext| -> Result<Value, ExecutionError> {
            let this = this_of(ftx, &["decision"], "error")?;
            Ok(text(&field_text(&this, "error")))
        },
    );
}
