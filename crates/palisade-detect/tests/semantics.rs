//! The rules language, evaluated: every operator, field arguments,
//! transformers, list and macro references, exceptions, `append` and
//! `override`, missing values, and errors with their positions. Each case
//! states what Falco does with the same rule and event.

use palisade_detect::{
    AuditEvent, BoundField, Diagnostic, Engine, Event, FieldSource, RuleMatching, SyscallSource,
    Value,
};

/// One audit event with a value for most kinds of field.
const EVENT: &str = r#"{
  "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
  "auditID": "0b7f5c1e-6a3b-4d8e-9a51-0c6f0e8b3c11", "stage": "ResponseComplete",
  "requestURI": "/api/v1/namespaces/dev/pods?fieldManager=kubectl&data=aGVsbG8%3D",
  "verb": "create",
  "user": {"username": "Alice", "groups": ["dev", "system:authenticated"]},
  "impersonatedUser": {"username": "web"},
  "sourceIPs": ["10.0.0.7"],
  "objectRef": {"resource": "pods", "namespace": "dev", "name": "web", "apiVersion": "v1"},
  "responseStatus": {"metadata": {}, "code": 201},
  "requestObject": {"kind": "Pod", "spec": {
    "volumes": [{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}],
    "containers": [{"name": "app", "image": "nginx:1.25"}, {"name": "side", "image": "busybox:1.36"}]}},
  "stageTimestamp": "2024-05-01T10:00:00.500000Z",
  "annotations": {"authorization.k8s.io/decision": "allow"}
}"#;

fn rule(name: &str, condition: &str) -> String {
    format!(
        "- rule: {name}\n  desc: d\n  condition: |-\n    {condition}\n  output: \"{name} by %ka.user.name\"\n  priority: WARNING\n  source: k8s_audit\n"
    )
}

fn build(files: &[(&str, &str)]) -> Engine {
    let mut b = Engine::builder().rule_matching(RuleMatching::All);
    for (name, text) in files {
        b = b.rules_text(*name, *text);
    }
    b.build()
}

fn errors(e: &Engine) -> Vec<&Diagnostic> {
    e.diagnostics().iter().filter(|d| d.is_error()).collect()
}

fn event() -> AuditEvent {
    AuditEvent::from_json(EVENT).expect("test event")
}

/// Whether a rule with `condition` fires on [`EVENT`]; the rule must compile.
fn fires(condition: &str) -> bool {
    let e = build(&[("r.yaml", &rule("r", condition))]);
    let errs = errors(&e);
    assert!(errs.is_empty(), "{condition}: {errs:#?}");
    e.evaluate(&event()).iter().any(|a| a.rule == "r")
}

/// The first error a rule with `condition` gets.
fn compile_error(condition: &str) -> Diagnostic {
    let e = build(&[("r.yaml", &rule("r", condition))]);
    let err = errors(&e).into_iter().next().cloned();
    err.unwrap_or_else(|| panic!("{condition} should not compile"))
}

fn fired_rules(files: &[(&str, &str)]) -> Vec<String> {
    let e = build(files);
    let errs = errors(&e);
    assert!(errs.is_empty(), "{errs:#?}");
    e.evaluate(&event()).into_iter().map(|a| a.rule).collect()
}

#[test]
fn every_comparison_operator() {
    let cases: &[(&str, bool)] = &[
        ("ka.verb = create", true),
        ("ka.verb == create", true),
        ("ka.verb = get", false),
        ("ka.verb != get", true),
        ("ka.verb != create", false),
        // 2024-05-01T10:00:00Z is 1714557600 s.
        ("evt.rawtime.s > 1714557599", true),
        ("evt.rawtime.s > 1714557600", false),
        ("evt.rawtime.s >= 1714557600", true),
        ("evt.rawtime.s < 1714557600", false),
        ("evt.rawtime.s < 1714557601", true),
        ("evt.rawtime.s <= 1714557600", true),
        ("evt.rawtime.s <= 1714557599", false),
        ("evt.rawtime.ns = 500000000", true),
        ("evt.rawtime.s > 0x10", true),
        ("ka.user.name contains lic", true),
        ("ka.user.name contains LIC", false),
        ("ka.user.name icontains LIC", true),
        ("ka.user.name icontains bob", false),
        ("ka.uri startswith /api/v1/", true),
        ("ka.uri startswith /apis", false),
        ("ka.uri endswith %3D", true),
        ("ka.uri endswith pods", false),
        ("ka.target.name glob w?b", true),
        // `*` crosses `/`, as fnmatch without FNM_PATHNAME.
        ("ka.uri glob \"/api/*/pods*\"", true),
        ("ka.target.name glob W*", false),
        ("ka.target.name iglob W*", true),
        ("ka.target.name iglob X*", false),
        ("ka.verb in (get, create)", true),
        ("ka.verb in (get, list)", false),
        ("ka.verb in ()", false),
        // A list field: `in` needs every value in the set, `intersects` one.
        ("ka.user.groups in (dev, system:authenticated, ops)", true),
        ("ka.user.groups in (dev)", false),
        ("ka.user.groups intersects (ops, dev)", true),
        ("ka.user.groups intersects (ops)", false),
        // Path prefixes by whole components.
        ("ka.uri pmatch (/tmp, /api/v1/namespaces)", true),
        ("ka.uri pmatch (/api/v)", false),
        ("ka.uri pmatch (/apis)", false),
        ("ka.impuser.name exists", true),
        ("ka.auth.reason exists", false),
        // `regex` matches the whole value (RE2, anchored at both ends).
        ("ka.user.name regex \"A[a-z]+\"", true),
        ("ka.user.name regex lic", false),
        ("ka.user.name regex \".*lic.*\"", true),
        // Operators with a modifier.
        ("ka.target.name startswith anyof (x, w)", true),
        ("ka.target.name startswith allof (w, we)", true),
        ("ka.target.name startswith allof (w, x)", false),
        ("ka.target.name contains oneof (eb, zz)", true),
    ];
    let mut wrong = Vec::new();
    for (cond, want) in cases {
        if fires(cond) != *want {
            wrong.push(format!("{cond}: expected {want}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn operators_a_type_does_not_support_are_errors() {
    let d = compile_error("ka.user.name bcontains 416c");
    assert_eq!(
        d.message,
        "'bcontains' operator not supported for string filters"
    );
    let d = compile_error("evt.rawtime.s contains 1");
    assert_eq!(
        d.message,
        "'contains' operator not supported for numeric filters"
    );
    let d = compile_error("ka.user.groups = dev");
    assert!(d.message.contains("'=' operator not supported"), "{d}");
    let d = compile_error("evt.rawtime.s > abc");
    assert!(d.message.contains("expected a number value"), "{d}");
    let d = compile_error("ka.user.name regex \"(\"");
    assert!(d.message.starts_with("invalid regex pattern"), "{d}");
}

#[test]
fn field_arguments() {
    let cases: &[(&str, bool)] = &[
        // An index picks one value; the field stays a list (as in libsinsp),
        // so it takes `in` and `intersects`.
        ("ka.req.pod.containers.image[0] in (nginx:1.25)", true),
        (
            "ka.req.pod.containers.image[1] intersects (busybox:1.36)",
            true,
        ),
        ("ka.req.pod.containers.image[1] in (nginx:1.25)", false),
        ("ka.req.pod.containers.name[1] in (side)", true),
        ("ka.req.pod.containers.image[7] exists", false),
        (
            "ka.req.pod.containers.image intersects (busybox:1.36)",
            true,
        ),
        ("ka.uri.param[data] = \"aGVsbG8=\"", true),
        ("ka.uri.param[dryRun] exists", false),
        ("jevt.value[/objectRef/name] = web", true),
        (
            "jevt.value[/requestObject/spec/containers/1/name] = side",
            true,
        ),
        ("jevt.value[/responseStatus/code] = 201", true),
        ("jevt.value[/nope] exists", false),
        ("ka.req.volume.hostpath[/var/run/*] = true", true),
        ("ka.req.volume.hostpath[/etc] = true", false),
    ];
    let mut wrong = Vec::new();
    for (cond, want) in cases {
        if fires(cond) != *want {
            wrong.push(format!("{cond}: expected {want}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    let d = compile_error("ka.user.name[1] = x");
    assert!(
        d.message.contains("does not allow nor require an argument"),
        "{d}"
    );
    let d = compile_error("ka.uri.param = x");
    assert!(d.message.contains("requires an argument"), "{d}");
    let d = compile_error("ka.req.pod.containers.image[0] = nginx");
    assert_eq!(d.message, "'=' operator not supported list filters");
    let d = compile_error("ka.req.pod.containers.image[first] in (x)");
    assert!(d.message.contains("numeric index"), "{d}");
}

#[test]
fn transformers() {
    let cases: &[(&str, bool)] = &[
        ("tolower(ka.user.name) = alice", true),
        ("tolower(ka.user.name) = Alice", false),
        ("toupper(ka.verb) = CREATE", true),
        ("toupper(ka.verb) = create", false),
        ("b64(ka.uri.param[data]) = hello", true),
        ("b64(ka.uri.param[data]) = \"aGVsbG8=\"", false),
        (
            "basename(ka.req.pod.volumes.hostpath) intersects (docker.sock)",
            true,
        ),
        (
            "basename(ka.req.pod.volumes.hostpath) intersects (run)",
            false,
        ),
        ("len(ka.user.name) = 5", true),
        ("len(ka.user.name) > 5", false),
        // On a list, `len` counts the values.
        ("len(ka.user.groups) = 2", true),
        ("len(ka.req.pod.containers.image) >= 3", false),
        ("tolower(toupper(ka.verb)) = create", true),
        ("len(tolower(ka.user.name)) = 5", true),
        // `val(field)` compares with another field of the same event.
        ("ka.impuser.name = val(ka.target.name)", true),
        ("ka.verb = val(ka.target.name)", false),
        // A transformer of a missing value is missing: false.
        ("tolower(ka.auth.reason) = x", false),
        ("len(ka.auth.reason) = 0", false),
    ];
    let mut wrong = Vec::new();
    for (cond, want) in cases {
        if fires(cond) != *want {
            wrong.push(format!("{cond}: expected {want}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // A value that is not base64 has no decoding: the comparison is false.
    let e = build(&[("r.yaml", &rule("r", "b64(ka.user.name) = x"))]);
    assert!(errors(&e).is_empty());
    assert!(e.evaluate(&event()).is_empty());
    let d = compile_error("len(evt.rawtime.s) = 1");
    assert!(d.message.contains("not supported by 'len'"), "{d}");
    let d = compile_error("val(ka.user.name) = x");
    assert!(
        d.message.contains("unexpected token") || d.message.contains("expected"),
        "{d}"
    );
}

#[test]
fn missing_values_make_every_comparison_false() {
    // The event has no `authorization.k8s.io/reason` annotation.
    for cond in [
        "ka.auth.reason = x",
        "ka.auth.reason != x",
        "ka.auth.reason in (x, y)",
        "ka.auth.reason contains x",
        "ka.auth.reason exists",
        "ka.auth.reason startswith x",
        "ka.target.subresource != exec",
    ] {
        assert!(!fires(cond), "{cond}");
    }
    // Negating the check is true, as in Falco.
    assert!(fires("not ka.auth.reason = x"));
    assert!(fires("not ka.target.subresource exists"));
}

#[test]
fn boolean_precedence_not_and_or() {
    // `or` binds loosest: create or (get and bob).
    assert!(fires(
        "ka.verb = create or ka.verb = get and ka.user.name = bob"
    ));
    // `not` binds tightest: (not create) and get.
    assert!(!fires("not ka.verb = create and ka.verb = get"));
    assert!(fires("not (ka.verb = create and ka.verb = get)"));
    assert!(fires(
        "(ka.verb = get or ka.verb = create) and not ka.user.name = bob"
    ));
    assert!(fires("not not ka.verb = create"));
}

#[test]
fn lists_macros_and_unknown_names_in_sets() {
    // With no list of that name, `dev` inside `in (...)` is a literal.
    assert!(fires("ka.target.namespace in (dev)"));
    assert!(fires("ka.verb in (not_a_list, create)"));
    // With a list named `dev`, its items replace the name.
    let shadow = format!(
        "- list: dev\n  items: [prod]\n{}",
        rule("r", "ka.target.namespace in (dev)")
    );
    assert!(fired_rules(&[("r.yaml", &shadow)]).is_empty());
    // Lists nest: an item naming an earlier list takes its items.
    let nested = format!(
        "- list: inner\n  items: [dev, staging]\n- list: outer\n  items: [inner, prod]\n\
- macro: in_outer\n  condition: ka.target.namespace in (outer)\n\
- macro: creating\n  condition: ka.verb = create and in_outer\n{}",
        rule("r", "creating and not ka.user.name in (outer)")
    );
    assert_eq!(fired_rules(&[("r.yaml", &nested)]), ["r"]);
    // A list item with a space is quoted when substituted.
    let spaced = format!(
        "- list: names\n  items: [\"a b\", web]\n{}",
        rule("r", "ka.target.name in (names)")
    );
    assert_eq!(fired_rules(&[("r.yaml", &spaced)]), ["r"]);
}

const BASE: &str = "
- list: namespaces
  items: [prod]
- macro: creating
  condition: ka.verb = create
- rule: r
  desc: base rule
  condition: creating and ka.target.namespace in (namespaces)
  output: created %ka.target.name
  priority: INFO
  source: k8s_audit
  tags: [base]
";

#[test]
fn append_and_override_follow_falco() {
    let e = build(&[("base.yaml", BASE)]);
    assert!(
        e.evaluate(&event()).is_empty(),
        "namespace dev is not listed"
    );

    // `override: items: append` and the deprecated `append: true` extend a list.
    for list_append in [
        "- list: namespaces\n  items: [dev]\n  override:\n    items: append\n",
        "- list: namespaces\n  items: [dev]\n  append: true\n",
    ] {
        let e = build(&[("base.yaml", BASE), ("local.yaml", list_append)]);
        assert!(errors(&e).is_empty(), "{:#?}", errors(&e));
        let alerts = e.evaluate(&event());
        assert_eq!(alerts.len(), 1, "{list_append}");
        assert_eq!(alerts[0].message, "created web");
    }
    let e = build(&[
        ("base.yaml", BASE),
        (
            "local.yaml",
            "- list: namespaces\n  items: [dev]\n  append: true\n",
        ),
    ]);
    assert!(e
        .diagnostics()
        .iter()
        .any(|d| d.code == "LOAD_DEPRECATED_ITEM" && !d.is_error()));

    // A redefinition in a later file replaces the item.
    let e = build(&[
        ("base.yaml", BASE),
        ("local.yaml", "- list: namespaces\n  items: [staging]\n"),
    ]);
    assert!(e.evaluate(&event()).is_empty());
    let e = build(&[
        ("base.yaml", BASE),
        (
            "local.yaml",
            "- macro: creating\n  condition: ka.verb = delete\n",
        ),
        ("more.yaml", "- list: namespaces\n  items: [dev]\n"),
    ]);
    assert!(e.evaluate(&event()).is_empty(), "the macro was replaced");

    // Macro append: the text is appended (here turning `and` into `or`).
    let e = build(&[
        ("base.yaml", BASE),
        (
            "local.yaml",
            "- macro: creating\n  condition: or ka.verb = get\n  override:\n    condition: append\n\
- list: namespaces\n  items: [dev]\n  override:\n    items: append\n",
        ),
    ]);
    assert_eq!(e.evaluate(&event()).len(), 1);

    // Rule overrides: append to condition, output, desc and tags; replace
    // priority; in one item.
    let over = "
- list: namespaces
  items: [dev]
  override:
    items: append
- rule: r
  condition: and ka.user.name = Alice
  output: (by %ka.user.name)
  desc: and more
  tags: [local]
  priority: CRITICAL
  override:
    condition: append
    output: append
    desc: append
    tags: append
    priority: replace
";
    let e = build(&[("base.yaml", BASE), ("local.yaml", over)]);
    assert!(errors(&e).is_empty(), "{:#?}", errors(&e));
    assert_eq!(
        e.rule_condition("r"),
        Some("creating and ka.target.namespace in ( prod, dev ) and ka.user.name = Alice")
    );
    let summary = e.rules().into_iter().find(|r| r.name == "r").unwrap();
    assert_eq!(summary.desc, "base rule and more");
    assert_eq!(summary.tags, ["base", "local"]);
    assert_eq!(summary.priority, palisade_detect::Priority::Critical);
    let alerts = e.evaluate(&event());
    assert_eq!(alerts[0].message, "created web (by Alice)");
    assert_eq!(alerts[0].priority, palisade_detect::Priority::Critical);

    // Replace: the condition and the output.
    let replace = "
- rule: r
  condition: ka.verb = create
  output: replaced
  override:
    condition: replace
    output: replace
";
    let e = build(&[("base.yaml", BASE), ("local.yaml", replace)]);
    assert_eq!(e.evaluate(&event())[0].message, "replaced");

    // The deprecated `append: true` on a rule appends to its condition.
    let e = build(&[
        ("base.yaml", BASE),
        (
            "local.yaml",
            "- list: namespaces\n  items: [dev]\n  append: true\n- rule: r\n  condition: and ka.user.name = bob\n  append: true\n",
        ),
    ]);
    assert!(errors(&e).is_empty(), "{:#?}", errors(&e));
    assert!(e.evaluate(&event()).is_empty());

    // `enabled: false`, with `override: enabled: replace` or alone (deprecated).
    for disable in [
        "- rule: r\n  enabled: false\n  override:\n    enabled: replace\n",
        "- rule: r\n  enabled: false\n",
    ] {
        let e = build(&[
            ("base.yaml", BASE),
            ("local.yaml", "- list: namespaces\n  items: [dev]\n"),
            ("off.yaml", disable),
        ]);
        assert!(errors(&e).is_empty(), "{:#?}", errors(&e));
        assert!(e.evaluate(&event()).is_empty(), "{disable}");
        assert!(!e.rules()[0].enabled);
    }
}

#[test]
fn override_errors_are_falcos() {
    let cases: &[(&str, &str)] = &[
        (
            "- rule: r\n  priority: debug\n  override:\n    priority: append\n",
            "Key 'priority' cannot be appended to, use 'replace' instead",
        ),
        (
            "- rule: r\n  source: syscall\n  override:\n    source: replace\n",
            "Key 'source' cannot be replaced",
        ),
        (
            "- list: namespaces\n  items: [x]\n  override:\n    items: merge\n",
            "Invalid override operation for key 'items': 'merge'. Allowed values are: append replace ",
        ),
        (
            "- rule: r\n  condition: and x.y = 1\n  append: true\n  override:\n    condition: append\n",
            "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.",
        ),
        (
            "- rule: r\n  condition: and ka.verb = get\n  override:\n    condition: append\n    desc: append\n",
            "An append override for 'desc' was specified but 'desc' is not defined",
        ),
        (
            "- rule: r\n  condition: and ka.verb = get\n  output: x\n  override:\n    condition: append\n",
            "Unexpected key 'output': no corresponding entry under 'override' is defined.",
        ),
        (
            "- rule: nope\n  condition: and ka.verb = get\n  override:\n    condition: append\n",
            "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists",
        ),
        (
            "- rule: nope\n  condition: ka.verb = get\n  override:\n    condition: replace\n",
            "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists",
        ),
        (
            "- list: nope\n  items: [x]\n  override:\n    items: append\n",
            "List uses 'append' or 'override.items: append' but no list by that name already exists",
        ),
        (
            "- macro: nope\n  condition: x.y = 1\n  append: true\n",
            "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists",
        ),
        (
            "- rule: r\n  desc: d\n  condition: ka.verb = get\n  output: o\n  priority: info\n  source: syscall\n",
            "Rule has been re-defined with a different source",
        ),
    ];
    for (local, message) in cases {
        let e = build(&[("base.yaml", BASE), ("local.yaml", local)]);
        let errs = errors(&e);
        assert!(
            errs.iter()
                .any(|d| d.message == *message && d.file == "local.yaml"),
            "{local}\nexpected: {message}\ngot: {errs:#?}"
        );
        // The base rule still loads: an error only drops its own item.
        assert!(e.rules().iter().any(|r| r.name == "r"), "{local}");
    }
}

/// A rule firing on [`EVENT`] unless an exception applies.
fn with_exceptions(exceptions: &str) -> String {
    format!(
        "- list: system_namespaces\n  items: [kube-system, dev]\n\
- rule: r\n  desc: d\n  condition: ka.verb = create\n  output: o\n  priority: info\n  source: k8s_audit\n  exceptions:\n{exceptions}"
    )
}

#[test]
fn exceptions_become_and_not_clauses() {
    let cases: &[(&str, bool)] = &[
        // Several fields, comparators per field; a value may be a list.
        (
            "  - name: user_ns\n    fields: [ka.user.name, ka.target.namespace]\n    comps: [=, in]\n    values:\n      - [Bob, [dev, prod]]\n",
            true,
        ),
        (
            "  - name: user_ns\n    fields: [ka.user.name, ka.target.namespace]\n    comps: [=, in]\n    values:\n      - [Bob, [dev]]\n      - [Alice, [prod, dev]]\n",
            false,
        ),
        // `in` with a scalar value: the value is parenthesised (a list name expands).
        (
            "  - name: ns\n    fields: [ka.target.namespace]\n    comps: [in]\n    values:\n      - [system_namespaces]\n",
            false,
        ),
        // Comparators default to `=`.
        (
            "  - name: name\n    fields: [ka.target.name, ka.verb]\n    values:\n      - [web, create]\n",
            false,
        ),
        (
            "  - name: name\n    fields: [ka.target.name, ka.verb]\n    values:\n      - [web, get]\n",
            true,
        ),
        // One field (not a list): comps defaults to `in`, values are the set.
        (
            "  - name: users\n    fields: ka.user.name\n    values: [bob, Alice]\n",
            false,
        ),
        (
            "  - name: users\n    fields: ka.user.name\n    values: [bob, carol]\n",
            true,
        ),
        (
            "  - name: uri\n    fields: ka.uri\n    comps: pmatch\n    values: [/api/v1/namespaces]\n",
            false,
        ),
        // Other operators.
        (
            "  - name: prefix\n    fields: [ka.target.name]\n    comps: [startswith]\n    values:\n      - [we]\n",
            false,
        ),
        (
            "  - name: glob\n    fields: [ka.uri, ka.user.name]\n    comps: [glob, icontains]\n    values:\n      - [\"/api/*\", LIC]\n",
            false,
        ),
        // An exception with no values adds nothing.
        (
            "  - name: empty\n    fields: [ka.user.name]\n    comps: [=]\n",
            true,
        ),
    ];
    for (exceptions, want) in cases {
        let text = with_exceptions(exceptions);
        let e = build(&[("r.yaml", &text)]);
        assert!(errors(&e).is_empty(), "{exceptions}: {:#?}", errors(&e));
        let fired = !e.evaluate(&event()).is_empty();
        assert_eq!(
            fired,
            *want,
            "{exceptions}\ncondition: {:?}",
            e.rule_condition("r")
        );
    }
}

#[test]
fn exception_values_can_be_appended() {
    let base = with_exceptions(
        "  - name: user_ns\n    fields: [ka.user.name, ka.target.namespace]\n    comps: [=, in]\n    values:\n      - [Bob, [dev]]\n",
    );
    assert_eq!(fired_rules(&[("base.yaml", &base)]), ["r"]);
    for append in [
        "- rule: r\n  exceptions:\n    - name: user_ns\n      values:\n        - [Alice, [dev]]\n  override:\n    exceptions: append\n",
        "- rule: r\n  exceptions:\n    - name: user_ns\n      values:\n        - [Alice, [dev]]\n  append: true\n",
        // A new exception, with its fields, may be appended too.
        "- rule: r\n  exceptions:\n    - name: by_verb\n      fields: ka.verb\n      values: [create]\n  override:\n    exceptions: append\n",
    ] {
        assert!(
            fired_rules(&[("base.yaml", &base), ("local.yaml", append)]).is_empty(),
            "{append}"
        );
    }
    // Only values may be appended to an existing exception.
    let e = build(&[
        ("base.yaml", &base),
        (
            "local.yaml",
            "- rule: r\n  exceptions:\n    - name: user_ns\n      fields: [ka.verb]\n      values:\n        - [get]\n  override:\n    exceptions: append\n",
        ),
    ]);
    assert!(
        errors(&e)
            .iter()
            .any(|d| d.message
                == "Can not append exception fields to existing exception, only values")
    );
    // Replacing the exceptions drops the old ones.
    let e = build(&[
        ("base.yaml", &base),
        (
            "local.yaml",
            "- rule: r\n  exceptions:\n    - name: other\n      fields: [ka.verb]\n      values:\n        - [get]\n  override:\n    exceptions: replace\n",
        ),
    ]);
    assert!(errors(&e).is_empty(), "{:#?}", errors(&e));
    assert!(!e.rule_condition("r").unwrap().contains("Bob"));
}

#[test]
fn malformed_exceptions_are_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "  - name: x\n    fields: [ka.user.name, ka.verb]\n    comps: [=]\n    values:\n      - [a, b]\n",
            "Fields and comps lists must have equal length",
        ),
        (
            "  - name: x\n    fields: [ka.user.name, ka.verb]\n    values:\n      - [a]\n",
            "Fields and values lists must have equal length",
        ),
        (
            "  - name: x\n    fields: [ka.user.name]\n    comps: [like]\n    values:\n      - [a]\n",
            "'like' is not a supported comparison operator",
        ),
        (
            "  - name: x\n    fields: ka.user.name\n    comps: =\n    values: [a]\n",
            "When fields is a single value, comps must be one of (in, pmatch, intersects) or a modifier operator (e.g. startswith oneof)",
        ),
        (
            "  - name: x\n    values: [a]\n",
            "Item has no mapping for key 'fields'",
        ),
    ];
    for (exceptions, message) in cases {
        let e = build(&[("r.yaml", &with_exceptions(exceptions))]);
        let errs = errors(&e);
        assert!(
            errs.iter().any(|d| d.message == *message),
            "{exceptions}\nexpected: {message}\ngot: {errs:#?}"
        );
    }
    // An unknown field in an exception is a compile error of the rule.
    let e = build(&[(
        "r.yaml",
        &with_exceptions("  - name: x\n    fields: [ka.nope]\n    values:\n      - [a]\n"),
    )]);
    assert!(errors(&e)
        .iter()
        .any(|d| d.message == "nonexistent field 'ka.nope'" && d.item_name == "r"));
}

#[test]
fn errors_name_the_file_rule_and_position_in_the_condition() {
    let text = "\
- macro: bad_macro
  condition: ka.verb = create and ka.nope = 1
- rule: syntax
  desc: d
  condition: >
    ka.verb = create and
    ka.user.name bogus x
  output: o
  priority: info
  source: k8s_audit
- rule: undefined
  desc: d
  condition: >
    ka.verb = create
    and not_a_macro
  output: o
  priority: info
  source: k8s_audit
- rule: field_in_macro
  desc: d
  condition: ka.verb = get or bad_macro
  output: o
  priority: info
  source: k8s_audit
- rule: good
  desc: d
  condition: ka.verb = create
  output: o
  priority: info
  source: k8s_audit
";
    let e = build(&[("f.yaml", text)]);
    let errs = errors(&e);
    let find = |rule: &str| {
        errs.iter()
            .find(|d| d.item_name == rule)
            .unwrap_or_else(|| panic!("no error for {rule}: {errs:#?}"))
    };
    let d = find("syntax");
    assert!(
        d.message.starts_with("expected a valid check operator"),
        "{d}"
    );
    assert_eq!((d.file.as_str(), d.line, d.column), ("f.yaml", 7, 18));
    assert!(
        d.to_string()
            .starts_with("f.yaml:7:18: error in rule 'syntax': expected a valid check operator"),
        "{d}"
    );
    let d = find("undefined");
    assert_eq!(d.message, "Undefined macro 'not_a_macro' used in filter.");
    assert_eq!((d.line, d.column), (15, 9));
    let d = find("field_in_macro");
    assert_eq!(
        d.message,
        "nonexistent field 'ka.nope' (in macro 'bad_macro')"
    );
    // The position points into the macro's condition, where the field is.
    assert_eq!((d.line, d.column), (2, 35));
    assert_eq!(&d.source_line.as_deref().unwrap()[34..41], "ka.nope");
    // As in Falco, fields are resolved in the rules that use a macro; the
    // good rule still loads.
    assert_eq!(
        e.rules().into_iter().map(|r| r.name).collect::<Vec<_>>(),
        ["good"]
    );
    assert_eq!(
        fired_rules(&[("g.yaml", &rule("good", "ka.verb = create"))]),
        ["good"]
    );
}

#[test]
fn outputs_substitute_fields_and_mark_missing_ones() {
    let text = "- rule: r\n  desc: d\n  condition: ka.verb = create\n  output: \"%ka.user.name made %ka.target.resource/%ka.target.name image=%ka.req.pod.containers.image[0] reason=%ka.auth.reason groups=%ka.user.groups\"\n  priority: notice\n  source: k8s_audit\n";
    let e = build(&[("r.yaml", text)]);
    assert!(errors(&e).is_empty(), "{:#?}", errors(&e));
    let a = &e.evaluate(&event())[0];
    assert_eq!(
        a.message,
        "Alice made pods/web image=(nginx:1.25) reason=<NA> groups=(dev,system:authenticated)"
    );
    assert_eq!(
        a.output,
        format!("10:00:00.500000000: Notice {}", a.message)
    );
    let json: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
    assert_eq!(json["time"], "2024-05-01T10:00:00.500000000Z");
    assert_eq!(json["priority"], "Notice");
    assert_eq!(
        json["output_fields"]["ka.auth.reason"],
        serde_json::Value::Null
    );
    assert_eq!(
        json["output_fields"]["ka.req.pod.containers.image[0]"],
        serde_json::json!(["nginx:1.25"])
    );
    assert_eq!(
        json["output_fields"]["evt.time"],
        serde_json::json!(1_714_557_600_500_000_000u64)
    );
    // An unknown field in an output is an error of the rule.
    let bad = "- rule: r\n  desc: d\n  condition: ka.verb = create\n  output: \"user=%ka.user.nam3\"\n  priority: notice\n  source: k8s_audit\n";
    let e = build(&[("r.yaml", bad)]);
    let d = errors(&e)[0].clone();
    assert_eq!(d.code, "LOAD_ERR_COMPILE_OUTPUT");
    assert!(d.message.contains("ka.user.nam3"), "{d}");
    assert_eq!((d.line, d.column), (4, 18));
}

#[test]
fn priorities_are_case_insensitive() {
    for (written, name) in [
        ("EMERGENCY", "Emergency"),
        ("alert", "Alert"),
        ("Critical", "Critical"),
        ("error", "Error"),
        ("WARNING", "Warning"),
        ("notice", "Notice"),
        ("info", "Informational"),
        ("INFORMATIONAL", "Informational"),
        ("Debug", "Debug"),
    ] {
        let text = format!("- rule: r\n  desc: d\n  condition: ka.verb = create\n  output: o\n  priority: {written}\n  source: k8s_audit\n");
        let e = build(&[("r.yaml", &text)]);
        assert!(errors(&e).is_empty(), "{written}");
        assert_eq!(e.evaluate(&event())[0].priority.name(), name);
    }
}

#[test]
fn required_versions_are_checked() {
    let ok = "- required_engine_version: 0.26.0\n- required_plugin_versions:\n  - name: k8saudit\n    version: 0.7.0\n    alternatives:\n      - name: k8saudit-eks\n        version: 0.4.0\n";
    let e = build(&[("r.yaml", ok)]);
    assert!(errors(&e).is_empty(), "{:#?}", errors(&e));
    assert_eq!(e.required_plugins()[0].alternatives.len(), 2);
    let e = build(&[("r.yaml", "- required_engine_version: 99.0.0\n")]);
    assert!(errors(&e)[0]
        .message
        .starts_with("Rules require engine version 99.0.0"));
}

/// A syscall event with a byte buffer and process ancestry, for the
/// operators and arguments only syscall fields have.
struct Syscall {
    source: SyscallSource,
}

impl Event for Syscall {
    fn source(&self) -> &str {
        "syscall"
    }
    fn timestamp_ns(&self) -> u64 {
        1_700_000_000_000_000_000
    }
    fn event_type(&self) -> Option<&str> {
        Some("read")
    }
    fn extract<'a>(&'a self, field: &BoundField, out: &mut Vec<Value<'a>>) -> bool {
        let Some(info) = self.source.catalogue().by_id(field.id) else {
            return false;
        };
        match info.name.as_str() {
            "evt.type" => out.push(Value::Str("read".into())),
            "evt.buffer" => out.push(Value::Bytes(b"GET /secret\x00HTTP"[..].into())),
            "proc.name" => out.push(Value::Str("curl".into())),
            "proc.aname" => {
                let ancestry = ["curl", "bash", "sshd"];
                match field.arg.index {
                    Some(i) => match ancestry.get(i as usize) {
                        Some(name) => out.push(Value::Str((*name).into())),
                        None => return false,
                    },
                    None => out.extend(ancestry.iter().map(|n| Value::Str((*n).into()))),
                }
            }
            _ => return false,
        }
        true
    }
}

fn syscall_fires(condition: &str) -> bool {
    let text =
        format!("- rule: s\n  desc: d\n  condition: {condition}\n  output: o\n  priority: info\n");
    let e = build(&[("s.yaml", &text)]);
    let errs = errors(&e);
    assert!(errs.is_empty(), "{condition}: {errs:#?}");
    let evt = Syscall {
        source: SyscallSource::default(),
    };
    !e.evaluate(&evt).is_empty()
}

#[test]
fn byte_operators_and_ancestor_arguments() {
    let cases: &[(&str, bool)] = &[
        // `GET ` in hex.
        ("evt.buffer bcontains 47455420", true),
        ("evt.buffer bcontains 2f736563726574", true),
        ("evt.buffer bcontains 00485454", true),
        ("evt.buffer bcontains 504f5354", false),
        ("evt.buffer bstartswith 474554", true),
        ("evt.buffer bstartswith 4554", false),
        ("evt.buffer contains secret", true),
        ("evt.buffer startswith GET", true),
        ("proc.aname[2] = sshd", true),
        ("proc.aname[1] = sshd", false),
        ("proc.aname[9] exists", false),
        ("proc.aname = sshd", true),
        ("evt.type = read and proc.name = curl", true),
        ("evt.type = open and proc.name = curl", false),
    ];
    let mut wrong = Vec::new();
    for (cond, want) in cases {
        if syscall_fires(cond) != *want {
            wrong.push(format!("{cond}: expected {want}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    let text = "- rule: s\n  desc: d\n  condition: evt.buffer bcontains GET\n  output: o\n  priority: info\n";
    let e = build(&[("s.yaml", text)]);
    assert!(errors(&e)[0].message.contains("hex strings only"));
    // Rules are indexed by event type: only `read` rules meet a read event.
    let text = "- rule: a\n  desc: d\n  condition: evt.type in (open, openat)\n  output: o\n  priority: info\n- rule: b\n  desc: d\n  condition: evt.type = read or evt.type = write\n  output: o\n  priority: info\n";
    let e = build(&[("s.yaml", text)]);
    assert_eq!(
        e.event_types("syscall")
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        ["open", "openat", "read", "write"]
    );
}
