//! ValidatingAdmissionPolicy evaluation, end to end from YAML.

use palisade_model::{load_text, LoadOptions, Object};
use palisade_policy::vap::{Action, Decision, DecisionKind, Operation, Policies};

fn objects(text: &str) -> Vec<Object> {
    let loaded = load_text("test.yaml", text.to_string(), &LoadOptions::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.objects
}

fn policies(text: &str) -> Policies {
    let (p, problems) = Policies::load(&objects(text));
    assert!(problems.is_empty(), "{problems:?}");
    p
}

fn run(p: &Policies, object: &str) -> Vec<Decision> {
    let objs = objects(object);
    p.evaluate(&objs[0], Operation::Create, None)
}

const DEPLOY_RULES: &str = "
  matchConstraints:
    resourceRules:
    - apiGroups: [apps]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [deployments]
";

fn deployment(replicas: i64) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: prod, labels: {{app: web}}}}\nspec:\n  replicas: {replicas}\n  template:\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.25\n        resources: {{limits: {{memory: 2Gi}}}}\n"
    )
}

fn policy(name: &str, spec_extra: &str, binding_extra: &str) -> String {
    format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {{name: {name}}}\nspec:{DEPLOY_RULES}{spec_extra}\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: {name}-binding}}\nspec:\n  policyName: {name}\n{binding_extra}\n"
    )
}

#[test]
fn replicas_limit_with_deny() {
    let p = policies(&policy(
        "max-replicas",
        "  validations:\n  - expression: object.spec.replicas <= 5\n    reason: Forbidden\n",
        "  validationActions: [Deny]",
    ));
    let d = run(&p, &deployment(9));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, DecisionKind::Violation);
    assert_eq!(d[0].policy, "max-replicas");
    assert_eq!(d[0].binding, "max-replicas-binding");
    assert_eq!(d[0].actions, vec![Action::Deny]);
    assert_eq!(d[0].reason, "Forbidden");
    assert_eq!(d[0].validation, Some(0));
    assert_eq!(d[0].message, "failed expression: object.spec.replicas <= 5");
    assert!(d[0].denies());
    assert!(run(&p, &deployment(3)).is_empty());
    // Not matched: a Pod, or a DELETE.
    assert!(run(
        &p,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n"
    )
    .is_empty());
    let objs = objects(&deployment(9));
    assert!(p.evaluate(&objs[0], Operation::Delete, None).is_empty());
    // A finding located on the object.
    let f = p.to_finding(&d[0], &objs[0]);
    assert_eq!(f.rule, "vap/max-replicas");
    assert_eq!(f.location.span.start.line, 3);
    assert!(f.message.contains("failed expression"));
}

#[test]
fn message_expression_and_variables() {
    let p = policies(&policy(
        "vars",
        "  variables:\n  - name: replicas\n    expression: object.spec.replicas\n  - name: limit\n    expression: '3'\n  - name: unused\n    expression: object.spec.nothing.here\n  validations:\n  - expression: variables.replicas <= variables.limit\n    message: static message\n    messageExpression: \"'replicas ' + string(variables.replicas) + ' > ' + string(variables.limit)\"\n",
        "  validationActions: [Deny]",
    ));
    let d = run(&p, &deployment(4));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].message, "replicas 4 > 3");
    // The erroring variable is never evaluated: lazy.
    assert!(run(&p, &deployment(2)).is_empty());
}

#[test]
fn match_conditions() {
    let p = policies(&policy(
        "only-labelled",
        "  matchConditions:\n  - name: is-web\n    expression: \"has(object.metadata.labels) && 'app' in object.metadata.labels && object.metadata.labels.app == 'web'\"\n  validations:\n  - expression: object.spec.replicas <= 1\n",
        "  validationActions: [Deny]",
    ));
    assert_eq!(run(&p, &deployment(2)).len(), 1);
    let other = deployment(2).replace("app: web", "app: api");
    assert!(run(&p, &other).is_empty());
}

const PARAM_POLICY: &str = "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: param-limit}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
  - expression: object.spec.replicas <= int(params.data.maxReplicas)
    messageExpression: \"'at most ' + params.data.maxReplicas + ' replicas'\"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: limits, namespace: prod, labels: {tier: gold}}
data: {maxReplicas: '4'}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: strict, namespace: prod, labels: {tier: gold}}
data: {maxReplicas: '2'}
";

#[test]
fn params_by_name_and_selector() {
    let by_name = format!("{PARAM_POLICY}---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: b}}\nspec:\n  policyName: param-limit\n  validationActions: [Deny]\n  paramRef: {{name: limits, parameterNotFoundAction: Deny}}\n");
    let p = policies(&by_name);
    let d = run(&p, &deployment(5));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].message, "at most 4 replicas");
    assert_eq!(d[0].param.as_deref(), Some("limits"));
    assert!(run(&p, &deployment(3)).is_empty());

    let by_selector = format!("{PARAM_POLICY}---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: b}}\nspec:\n  policyName: param-limit\n  validationActions: [Deny]\n  paramRef:\n    selector: {{matchLabels: {{tier: gold}}}}\n    parameterNotFoundAction: Deny\n");
    let p = policies(&by_selector);
    // Evaluated once per parameter object: 3 replicas fail only `strict`.
    let d = run(&p, &deployment(3));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].param.as_deref(), Some("strict"));
}

#[test]
fn parameter_not_found_action() {
    for (action, expected) in [("Deny", 1), ("Allow", 0)] {
        let text = format!("{PARAM_POLICY}---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: b}}\nspec:\n  policyName: param-limit\n  validationActions: [Deny]\n  paramRef: {{name: missing, parameterNotFoundAction: {action}}}\n");
        let p = policies(&text);
        let d = run(&p, &deployment(1));
        assert_eq!(d.len(), expected, "{action}: {d:?}");
        if expected == 1 {
            assert_eq!(d[0].kind, DecisionKind::Error);
            assert!(d[0].denies());
        }
    }
}

#[test]
fn namespace_selector() {
    let p = policies(&policy(
        "prod-only",
        "    namespaceSelector: {matchLabels: {env: prod}}\n  validations:\n  - expression: object.spec.replicas >= 2\n",
        "  validationActions: [Deny]",
    ));
    let objs = objects(&deployment(1));
    let prod =
        objects("apiVersion: v1\nkind: Namespace\nmetadata: {name: prod, labels: {env: prod}}\n");
    let dev =
        objects("apiVersion: v1\nkind: Namespace\nmetadata: {name: prod, labels: {env: dev}}\n");
    assert_eq!(
        p.evaluate(&objs[0], Operation::Create, Some(&prod[0]))
            .len(),
        1
    );
    assert!(p
        .evaluate(&objs[0], Operation::Create, Some(&dev[0]))
        .is_empty());
    // Without the Namespace, the selector cannot be judged: said, not silently skipped.
    let unknown = p.evaluate(&objs[0], Operation::Create, None);
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(unknown[0].kind, DecisionKind::NotEvaluable);
    assert!(
        unknown[0].message.contains("not in the input"),
        "{}",
        unknown[0].message
    );
    assert!(!unknown[0].denies());
    // namespaceObject is visible to expressions.
    let p = policies(&policy(
        "ns-object",
        "  validations:\n  - expression: namespaceObject.metadata.labels.env == 'prod'\n",
        "  validationActions: [Deny]",
    ));
    assert!(p
        .evaluate(&objs[0], Operation::Create, Some(&prod[0]))
        .is_empty());
    assert_eq!(
        p.evaluate(&objs[0], Operation::Create, Some(&dev[0])).len(),
        1
    );
}

#[test]
fn warn_versus_deny() {
    let p = policies(&policy(
        "warn",
        "  validations:\n  - expression: object.spec.replicas <= 5\n",
        "  validationActions: [Warn, Audit]",
    ));
    let d = run(&p, &deployment(9));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].actions, vec![Action::Warn, Action::Audit]);
    assert!(!d[0].denies());
    let objs = objects(&deployment(9));
    assert_eq!(
        p.to_finding(&d[0], &objs[0]).severity,
        palisade_model::Severity::Medium
    );
}

#[test]
fn failure_policy_on_runtime_error() {
    for (fp, expected) in [("Fail", 1), ("Ignore", 0)] {
        let p = policies(&policy(
            "err",
            &format!("  failurePolicy: {fp}\n  validations:\n  - expression: object.spec.missing.field == 1\n"),
            "  validationActions: [Deny]",
        ));
        let d = run(&p, &deployment(1));
        assert_eq!(d.len(), expected, "{fp}: {d:?}");
        if expected == 1 {
            assert_eq!(d[0].kind, DecisionKind::Error);
        }
    }
}

#[test]
fn kubernetes_libraries() {
    let p = policies(&policy(
        "libs",
        "  validations:\n  - expression: object.spec.template.spec.containers.all(c, quantity(c.resources.limits.memory).isLessThan(quantity('1Gi')))\n    message: memory\n  - expression: \"url('https://example.com/x').getHost() == 'example.com'\"\n  - expression: '[1, 2, 3].isSorted()'\n  - expression: object.spec.template.spec.containers.all(c, c.image.matches('^nginx:[0-9.]+$'))\n  - expression: \"isIP('10.0.0.1') && cidr('10.0.0.0/8').containsIP(ip('10.0.0.1'))\"\n  - expression: \"isSemver('1.2.3') && semver('1.2.3').isLessThan(semver('2.0.0'))\"\n  - expression: \"sets.contains(['a', 'b'], ['a'])\"\n  - expression: \"optional.of(object.metadata.labels.app).orValue('') == 'web'\"\n",
        "  validationActions: [Deny]",
    ));
    let d = run(&p, &deployment(1));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].message, "memory");
}

#[test]
fn cost_limit_stops_hostile_expressions() {
    let p = policies(&policy(
        "hostile",
        "  validations:\n  - expression: lists.range(2000).all(i, lists.range(2000).all(j, i + j >= 0))\n  - expression: \"lists.range(30).map(i, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa').join('').replace('a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa').replace('a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa').replace('a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa').size() > 0\"\n",
        "  validationActions: [Deny]",
    ));
    let start = std::time::Instant::now();
    let d = run(&p, &deployment(1));
    assert!(start.elapsed().as_secs() < 20);
    assert_eq!(d.len(), 2, "{d:?}");
    for x in &d {
        assert_eq!(x.kind, DecisionKind::Error);
        assert!(x.message.contains("cost limit"), "{}", x.message);
    }
}

#[test]
fn authorizer_is_not_evaluable_offline() {
    let p = policies(&policy(
        "authz",
        "  failurePolicy: Ignore\n  validations:\n  - expression: \"authorizer.group('apps').resource('deployments').namespace('prod').check('delete').allowed()\"\n  - expression: \"request.operation == 'CREATE' || authorizer.requestResource.check('x').allowed()\"\n",
        "  validationActions: [Deny]",
    ));
    let d = run(&p, &deployment(1));
    // The first needs the cluster; the second short-circuits before authorizer.
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].kind, DecisionKind::NotEvaluable);
    assert!(d[0].message.contains("not evaluable offline"));
    assert!(!d[0].denies());
}

#[test]
fn request_and_escaping() {
    let p = policies(&policy(
        "req",
        "  validations:\n  - expression: \"request.operation == 'CREATE' && request.kind.kind == 'Deployment' && request.resource.resource == 'deployments' && request.namespace == 'prod' && oldObject == null\"\n  - expression: object.metadata.__namespace__ == 'prod'\n",
        "  validationActions: [Deny]",
    ));
    assert!(run(&p, &deployment(1)).is_empty());
}

#[test]
fn load_problems_are_reported_not_fatal() {
    let text = policy(
        "broken",
        "  validations:\n  - expression: 'object.spec.replicas <='\n  - expression: 'Foo{a: 1}'\n",
        "  validationActions: [Deny]",
    );
    let (p, problems) = Policies::load(&objects(&text));
    assert_eq!(problems.len(), 2, "{problems:?}");
    // Uncompilable validations are errors under failurePolicy Fail.
    let d = run(&p, &deployment(1));
    assert_eq!(d.len(), 2);
    assert!(d.iter().all(|x| x.kind == DecisionKind::Error));
}

#[test]
fn binding_match_resources_narrows() {
    let p = policies(&policy(
        "narrow",
        "  validations:\n  - expression: 'false'\n",
        "  validationActions: [Deny]\n  matchResources:\n    objectSelector: {matchLabels: {app: api}}",
    ));
    assert!(run(&p, &deployment(1)).is_empty());
    let api = deployment(1).replace("app: web", "app: api");
    assert_eq!(run(&p, &api).len(), 1);
}

#[test]
fn audit_annotations_errors_follow_failure_policy() {
    let p = policies(&policy(
        "audit",
        "  auditAnnotations:\n  - key: replicas\n    valueExpression: \"'replicas: ' + string(object.spec.replicas)\"\n  - key: broken\n    valueExpression: object.spec.nothing.here\n",
        "  validationActions: [Audit]",
    ));
    let d = run(&p, &deployment(1));
    assert_eq!(d.len(), 2, "{d:?}");
    // The value of a working annotation is surfaced, under its key.
    assert_eq!(d[0].kind, DecisionKind::AuditAnnotation);
    assert_eq!(
        (d[0].reason.as_str(), d[0].message.as_str()),
        ("replicas", "replicas: 1")
    );
    assert_eq!(d[1].kind, DecisionKind::Error);
    assert!(d[1].message.contains("auditAnnotation broken"));
    // As a finding: informational, named `<policy>/<key>` as in the audit event.
    let objs = objects(&deployment(1));
    let finding = p.to_finding(&d[0], &objs[0]);
    assert_eq!(finding.severity, palisade_model::Severity::Info);
    assert!(
        finding
            .message
            .starts_with("audit annotation audit/replicas: replicas: 1"),
        "{}",
        finding.message
    );
}

#[test]
fn compile_errors_name_the_policy_and_the_expression() {
    let text = policy(
        "broken",
        "  variables:\n  - name: ok\n    expression: object.spec.replicas\n  - name: bad\n    expression: 'object.spec.'\n  validations:\n  - expression: 'true'\n  - expression: 'object.spec.replicas <='\n  - expression: 'true'\n    messageExpression: \"'a' +\"\n  auditAnnotations:\n  - key: k\n    valueExpression: '('\n",
        "  validationActions: [Deny]",
    );
    let (_, problems) = Policies::load(&objects(&text));
    let got: Vec<(String, u32)> = problems
        .iter()
        .map(|p| {
            assert!(
                p.object.contains("ValidatingAdmissionPolicy broken"),
                "{}",
                p.object
            );
            (
                p.message.split(':').next().unwrap_or("").to_string(),
                p.span.start.line,
            )
        })
        .collect();
    // Each problem names the expression by its place in the spec and points at it.
    assert_eq!(
        got,
        [
            ("variables[1] (variable bad)".to_string(), 15),
            ("validations[1].expression".to_string(), 18),
            ("validations[2].messageExpression".to_string(), 20),
            ("auditAnnotations[0] (key k)".to_string(), 23),
        ],
        "{problems:#?}"
    );
}

/// `matchPolicy: Equivalent` (the API server's default) matches a request made
/// through another group/version of the same resource, converted to the rule's;
/// `Exact` does not.
#[test]
fn match_policy_equivalent_converts_and_exact_does_not() {
    let spec = |match_policy: &str| {
        format!(
            "  validations:\n  - expression: \"request.kind.group == 'apps' && request.kind.version == 'v1' && request.requestKind.group == 'extensions' && request.resource.resource == 'deployments' && object.apiVersion == 'apps/v1'\"\n    message: converted\n  - expression: 'false'\n    message: matched\n{match_policy}"
        )
    };
    let old_deployment =
        deployment(1).replace("apiVersion: apps/v1", "apiVersion: extensions/v1beta1");
    // Default (Equivalent): matched, and the request and object are converted.
    let p = policies(&policy("eq", &spec(""), "  validationActions: [Deny]"));
    let d = run(&p, &old_deployment);
    let messages: Vec<&str> = d.iter().map(|x| x.message.as_str()).collect();
    assert_eq!(messages, ["matched"], "{d:?}");
    // The same object through apps/v1 matches as it is.
    assert_eq!(
        run(&p, &deployment(1)).len(),
        2,
        "request.requestKind is apps here"
    );
    // Exact: not matched.
    let exact = spec("").replace("  validations:", "  matchConstraints:\n    matchPolicy: Exact\n    resourceRules:\n    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}\n  validations:");
    let text =
        policy("exact", &exact, "  validationActions: [Deny]").replacen(DEPLOY_RULES, "\n", 1);
    let p = policies(&text);
    assert!(run(&p, &old_deployment).is_empty());
    assert_eq!(run(&p, &deployment(1)).len(), 2);

    // A custom resource: every version of its group that a rule names is equivalent.
    let crd_policy = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: widgets}\nspec:\n  matchConstraints:\n    resourceRules:\n    - {apiGroups: [example.com], apiVersions: [v2], operations: ['*'], resources: [widgets]}\n    excludeResourceRules:\n    - {apiGroups: [example.com], apiVersions: [v2], operations: ['*'], resources: [widgets], resourceNames: [skip]}\n  validations:\n  - expression: \"object.apiVersion == 'example.com/v2' && request.requestKind.version == 'v1'\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: widgets}\nspec: {policyName: widgets, validationActions: [Deny]}\n";
    let p = policies(crd_policy);
    let widget = |name: &str, api: &str| {
        format!("apiVersion: {api}\nkind: Widget\nmetadata: {{name: {name}, namespace: prod}}\n")
    };
    assert!(
        run(&p, &widget("w", "example.com/v1")).is_empty(),
        "converted to v2, the validation holds"
    );
    assert!(
        run(&p, &widget("skip", "example.com/v1")).is_empty(),
        "excluded through the equivalent too"
    );
    assert_eq!(
        run(&p, &widget("w", "example.com/v2")).len(),
        1,
        "as it is: requestKind is v2"
    );
    assert!(
        run(&p, &widget("w", "other.io/v2")).is_empty(),
        "another group is another resource"
    );
}

/// Bindings matched through equivalent versions each see the request converted
/// to their own policy's version, also when several share one conversion.
#[test]
fn equivalent_conversions_are_per_target_version() {
    let policy_for = |name: &str, group: &str, version: &str| {
        format!(
            "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {{name: {name}}}\nspec:\n  matchConstraints:\n    resourceRules:\n    - {{apiGroups: [{group}], apiVersions: [{version}], operations: [CREATE], resources: [deployments]}}\n  validations:\n  - expression: 'false'\n    messageExpression: \"object.apiVersion + ' ' + request.kind.version + ' from ' + request.requestKind.version\"\n"
        )
    };
    let binding = |name: &str, policy: &str| {
        format!("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: {name}}}\nspec: {{policyName: {policy}, validationActions: [Deny]}}\n")
    };
    let text = [
        policy_for("to-apps", "apps", "v1"),
        policy_for("to-extensions", "extensions", "v1beta1"),
        binding("a1", "to-apps"),
        binding("e1", "to-extensions"),
        binding("a2", "to-apps"),
    ]
    .join("---\n");
    let p = policies(&text);
    let through_beta2 = deployment(1).replace("apiVersion: apps/v1", "apiVersion: apps/v1beta2");
    let got: Vec<(String, String)> = run(&p, &through_beta2)
        .into_iter()
        .map(|d| (d.binding, d.message))
        .collect();
    let want = [
        ("a1", "apps/v1 v1 from v1beta2"),
        ("e1", "extensions/v1beta1 v1beta1 from v1beta2"),
        ("a2", "apps/v1 v1 from v1beta2"),
    ]
    .map(|(b, m)| (b.to_string(), m.to_string()));
    assert_eq!(got, want);
}

#[test]
fn policy_budget_and_update() {
    // Each expression stays under the per-expression limit; together they
    // exceed the policy's budget.
    let one = "  - expression: lists.range(400).all(i, lists.range(400).all(j, true))\n";
    let p = policies(&policy(
        "budget",
        &format!("  validations:\n{}", one.repeat(17)),
        "  validationActions: [Deny]",
    ));
    let d = run(&p, &deployment(1));
    assert!(!d.is_empty(), "{d:?}");
    assert!(d.iter().all(|x| x.kind == DecisionKind::Error));
    assert!(
        d[0].message.contains("running out of cost budget"),
        "{}",
        d[0].message
    );

    let p = policies(&policy(
        "no-scale-up",
        "  validations:\n  - expression: oldObject == null || object.spec.replicas <= oldObject.spec.replicas\n",
        "  validationActions: [Deny]",
    ));
    let new = objects(&deployment(5));
    let old = objects(&deployment(3));
    assert_eq!(p.evaluate_update(&new[0], &old[0], None).len(), 1);
    assert!(p.evaluate_update(&old[0], &new[0], None).is_empty());
}

#[test]
fn unsupported_cel_is_not_evaluable_not_a_denial() {
    let p = policies(&policy(
        "bind",
        "  variables:\n  - name: doubled\n    expression: cel.bind(r, object.spec.replicas, r * 2)\n  validations:\n  - expression: variables.doubled < 100\n  - expression: variables.doubled > 0\n  - expression: object.spec.replicas > 0\n",
        "  validationActions: [Deny]",
    ));
    let d = run(&p, &deployment(1));
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(d
        .iter()
        .all(|x| x.kind == DecisionKind::NotEvaluable && !x.denies()));
    assert!(d[0].message.contains("cel.bind"), "{}", d[0].message);
}

#[test]
fn batch_evaluation_matches_single() {
    let p = policies(&policy(
        "batch",
        "  validations:\n  - expression: object.spec.replicas <= 5\n",
        "  validationActions: [Deny]",
    ));
    let a = objects(&deployment(9));
    let b = objects(&deployment(2));
    let all = p.evaluate_all(&[(&a[0], None), (&b[0], None)], Operation::Create);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].len(), 1);
    assert!(all[1].is_empty());
}

#[test]
fn binding_without_policy_is_a_problem() {
    let text = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: orphan}\nspec: {policyName: nowhere, validationActions: [Deny]}\n";
    let (p, problems) = Policies::load(&objects(text));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].file, "test.yaml");
    assert!(problems[0].message.contains("nowhere"));
    assert!(run(&p, &deployment(1)).is_empty());
}

/// A toy authorizer: ServiceAccount `prod:deployer` may update deployments
/// in `prod`; user `alice` may get `/healthz`; nobody else may do anything.
struct ToyAuthorizer;

impl palisade_model::Authorizer for ToyAuthorizer {
    fn authorize(
        &self,
        user: &palisade_model::UserInfo,
        request: &palisade_model::AccessRequest,
    ) -> palisade_model::AuthzDecision {
        use palisade_model::{AccessRequest, AuthzDecision};
        let allowed = match request {
            AccessRequest::Resource {
                verb,
                group,
                resource,
                namespace,
                ..
            } => {
                user.username == "system:serviceaccount:prod:deployer"
                    && user
                        .groups
                        .iter()
                        .any(|g| g == "system:serviceaccounts:prod")
                    && verb == "update"
                    && group == "apps"
                    && resource == "deployments"
                    && namespace == "prod"
            }
            AccessRequest::NonResource { verb, path } => {
                user.username == "alice" && verb == "get" && path == "/healthz"
            }
        };
        if allowed {
            AuthzDecision::Allow {
                reason: "toy rule".into(),
            }
        } else {
            AuthzDecision::NoOpinion {
                reason: String::new(),
            }
        }
    }
}

#[test]
fn authorizer_checks_are_answered_by_the_installed_authorizer() {
    let mut p = policies(&policy(
        "authz",
        "  validations:\n  - expression: \"authorizer.serviceAccount('prod', 'deployer').group('apps').resource('deployments').namespace('prod').check('update').allowed()\"\n    message: deployer-can-update\n  - expression: \"!authorizer.serviceAccount('prod', 'other').group('apps').resource('deployments').namespace('prod').check('update').allowed()\"\n    message: other-cannot\n  - expression: \"authorizer.serviceAccount('prod', 'deployer').group('apps').resource('deployments').namespace('prod').check('update').reason() == 'toy rule'\"\n    message: reason\n  - expression: \"authorizer.path('/healthz').check('get').allowed()\"\n    message: requester-healthz\n",
        "  validationActions: [Deny]",
    ));
    // No authorizer: every check is not evaluable.
    let decisions = run(&p, &deployment(1));
    assert!(
        decisions
            .iter()
            .all(|d| d.kind == DecisionKind::NotEvaluable),
        "{decisions:?}"
    );

    p.set_authorizer(std::sync::Arc::new(ToyAuthorizer));
    let decisions = run(&p, &deployment(1));
    // The service account checks are answered; the requester is unknown offline.
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    assert_eq!(decisions[0].kind, DecisionKind::NotEvaluable);
    assert_eq!(decisions[0].validation, Some(3));

    // A real request: alice may get /healthz, so every validation holds.
    let object: serde_json::Value = objects(&deployment(1))[0].root.to_json();
    let request = serde_json::json!({
        "uid": "1", "operation": "CREATE", "name": "web", "namespace": "prod",
        "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "object": object,
    });
    let decisions = p.evaluate_request(&request, None);
    assert!(decisions.is_empty(), "{decisions:?}");
    let mut bob = request.clone();
    bob["userInfo"]["username"] = "bob".into();
    let decisions = p.evaluate_request(&bob, None);
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    assert_eq!(decisions[0].kind, DecisionKind::Violation);
    assert_eq!(decisions[0].message, "requester-healthz");
}

#[test]
fn request_resource_is_the_requests_resource() {
    let mut p = policies(&policy(
        "req",
        "  validations:\n  - expression: \"authorizer.serviceAccount('prod', 'deployer').requestResource.check('update').allowed()\"\n    message: sa-can-update-this\n",
        "  validationActions: [Deny]",
    ));
    p.set_authorizer(std::sync::Arc::new(ToyAuthorizer));
    let object: serde_json::Value = objects(&deployment(1))[0].root.to_json();
    let mut request = serde_json::json!({
        "uid": "1", "operation": "UPDATE", "name": "web", "namespace": "prod",
        "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "userInfo": {"username": "alice"},
        "object": object.clone(), "oldObject": object,
    });
    assert!(p.evaluate_request(&request, None).is_empty());
    request["namespace"] = "dev".into();
    let decisions = p.evaluate_request(&request, None);
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    assert_eq!(decisions[0].message, "sa-can-update-this");
}
