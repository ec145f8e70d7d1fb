//! Behaviour the upstream fixtures do not pin down: exact messages, version
//! boundaries, Windows and user-namespace exemptions, finding locations and
//! namespace labels.

use palisade_model::{load_text, pod_template, Finding, LoadOptions, Object};
use palisade_pss::{
    active_checks, admission_error, admission_warning, evaluate, findings, rule, rules,
    CheckResult, Level, Policy, Scanner, Version,
};

fn load(yaml: &str) -> Vec<Object> {
    let loaded = load_text("test.yaml", yaml, &LoadOptions::default());
    assert!(!loaded.objects.is_empty(), "no object in {yaml}");
    loaded.objects
}

/// A Pod with `spec` (YAML text indented by two spaces under `spec:`).
fn pod(spec: &str) -> Object {
    let indented: String = spec.lines().map(|l| format!("  {l}\n")).collect();
    load(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n{indented}"
    ))
    .remove(0)
}

fn results(policy: &str, object: &Object) -> Vec<CheckResult> {
    let policy: Policy = policy.parse().unwrap();
    let template = pod_template(object).unwrap();
    evaluate(policy, template.metadata, template.spec)
}

/// `check: reason (detail)` for every failed check.
fn failures(policy: &str, object: &Object) -> Vec<String> {
    results(policy, object)
        .into_iter()
        .filter(|r| !r.allowed)
        .map(|r| {
            format!(
                "{}: {} ({})",
                r.check, r.forbidden_reason, r.forbidden_detail
            )
        })
        .collect()
}

fn failed_checks(policy: &str, object: &Object) -> Vec<&'static str> {
    results(policy, object)
        .into_iter()
        .filter(|r| !r.allowed)
        .map(|r| r.check)
        .collect()
}

const RESTRICTED_CONTAINER: &str =
    "securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}";

#[test]
fn baseline_messages_match_upstream_wording() {
    let object = pod(r#"
hostNetwork: true
hostPID: true
hostIPC: true
securityContext:
  seLinuxOptions: {type: foo, user: u, role: r}
initContainers:
- name: a
  ports: [{containerPort: 80, hostPort: 30}, {containerPort: 81, hostPort: 10}]
containers:
- name: b
  ports: [{containerPort: 80, hostPort: 20}]
  securityContext:
    privileged: true
    capabilities: {add: [FOO, CHOWN, BAR]}
    seLinuxOptions: {type: bar}
- name: c
  securityContext:
    privileged: true
    capabilities: {add: [BAZ, FOO]}
    procMount: Unmasked
"#);
    assert_eq!(
        failures("baseline:latest", &object),
        [
            r#"capabilities_baseline: non-default capabilities (containers "b", "c" must not include "BAR", "BAZ", "FOO" in securityContext.capabilities.add)"#,
            "hostNamespaces: host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)",
            r#"hostPorts: hostPort (containers "a", "b" use hostPorts 10, 20, 30)"#,
            r#"privileged: privileged (containers "b", "c" must not set securityContext.privileged=true)"#,
            r#"procMount: procMount (container "c" must not set securityContext.procMount to "Unmasked")"#,
            r#"seLinuxOptions: seLinuxOptions (pod and container "b" set forbidden securityContext.seLinuxOptions: types "bar", "foo"; user may not be set; role may not be set)"#,
        ]
    );
    let policy: Policy = "baseline:v1.30".parse().unwrap();
    let template = pod_template(&object).unwrap();
    let all = evaluate(policy, template.metadata, template.spec);
    let error = admission_error(policy, &all).unwrap();
    assert!(error.starts_with(r#"violates PodSecurity "baseline:v1.30": non-default capabilities (containers "b", "c" must"#), "{error}");
    assert!(
        error.contains(
            r#"), host namespaces (hostNetwork=true, hostPID=true, hostIPC=true), hostPort ("#
        ),
        "{error}"
    );
    let warning = admission_warning(policy, &all).unwrap();
    assert!(
        warning.starts_with(r#"would violate PodSecurity "baseline:v1.30": "#),
        "{warning}"
    );
}

#[test]
fn restricted_messages_match_upstream_wording() {
    let object = pod(r#"
securityContext: {runAsNonRoot: false, runAsUser: 0}
containers:
- name: a
  securityContext: {capabilities: {add: [FOO, CHOWN]}}
- name: b
  securityContext: {capabilities: {add: [BAR, NET_BIND_SERVICE], drop: [NET_RAW]}, runAsNonRoot: false, runAsUser: 0}
- name: c
  securityContext:
    allowPrivilegeEscalation: false
    capabilities: {drop: [ALL], add: [BAZ]}
    seccompProfile: {type: Unconfined}
volumes:
- {name: x, nfs: {server: s, path: /}}
- {name: y, hostPath: {path: /}, emptyDir: {}}
- {name: z, iscsi: {}}
"#);
    assert_eq!(
        failures("restricted:v1.30", &object),
        [
            r#"allowPrivilegeEscalation: allowPrivilegeEscalation != false (containers "a", "b" must set securityContext.allowPrivilegeEscalation=false)"#,
            r#"capabilities_restricted: unrestricted capabilities (containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; containers "a", "b", "c" must not include "BAR", "BAZ", "CHOWN", "FOO" in securityContext.capabilities.add)"#,
            r#"restrictedVolumes: restricted volume types (volumes "x", "z" use restricted volume types "iscsi", "nfs")"#,
            r#"runAsNonRoot: runAsNonRoot != true (pod and container "b" must not set securityContext.runAsNonRoot=false)"#,
            r#"runAsUser: runAsUser=0 (pod and container "b" must not set runAsUser=0)"#,
            r#"seccompProfile_restricted: seccompProfile (container "c" must not set securityContext.seccompProfile.type to "Unconfined")"#,
        ]
    );
    let implicit = pod("containers:\n- name: a\n- name: b\n");
    let messages = failures("restricted:latest", &implicit);
    assert!(messages.contains(&r#"runAsNonRoot: runAsNonRoot != true (pod or containers "a", "b" must set securityContext.runAsNonRoot=true)"#.to_string()), "{messages:?}");
    assert!(messages.contains(&r#"seccompProfile_restricted: seccompProfile (pod or containers "a", "b" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#.to_string()), "{messages:?}");
}

#[test]
fn annotation_checks_before_1_19_and_app_armor() {
    let object = load(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: unconfined
    container.seccomp.security.alpha.kubernetes.io/b: unknown
    container.seccomp.security.alpha.kubernetes.io/a: unconfined
    container.apparmor.security.beta.kubernetes.io/a: unconfined
    container.apparmor.security.beta.kubernetes.io/b: localhost/custom
spec:
  containers: [{name: a}, {name: b}]
  securityContext: {seccompProfile: {type: Unconfined}}
"#,
    )
    .remove(0);
    assert_eq!(
        failures("baseline:v1.18", &object),
        [
            r#"appArmorProfile: forbidden AppArmor profile (annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/a="unconfined"")"#,
            r#"seccompProfile_baseline: seccompProfile (forbidden annotations container.seccomp.security.alpha.kubernetes.io/a="unconfined", container.seccomp.security.alpha.kubernetes.io/b="unknown", seccomp.security.alpha.kubernetes.io/pod="unconfined")"#,
        ]
    );
    // From 1.19 the fields count, not the annotations.
    assert!(failures("baseline:v1.19", &object).contains(
        &r#"seccompProfile_baseline: seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")"#.to_string()
    ));
}

#[test]
fn checks_start_at_their_upstream_versions() {
    let bare =
        pod("containers: [{name: a}]\nsecurityContext: {runAsNonRoot: true, runAsUser: 0}\n");
    assert_eq!(failed_checks("restricted:v1.7", &bare), Vec::<&str>::new());
    assert_eq!(
        failed_checks("restricted:v1.8", &bare),
        ["allowPrivilegeEscalation"]
    );
    assert_eq!(
        failed_checks("restricted:v1.19", &bare),
        ["allowPrivilegeEscalation", "seccompProfile_restricted"]
    );
    assert_eq!(
        failed_checks("restricted:v1.22", &bare),
        [
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "seccompProfile_restricted"
        ]
    );
    assert_eq!(
        failed_checks("restricted:v1.23", &bare),
        [
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "runAsUser",
            "seccompProfile_restricted"
        ]
    );

    let probe_host = pod("containers:\n- name: a\n  livenessProbe: {httpGet: {host: 8.8.8.8, port: 80}}\n  lifecycle: {preStop: {tcpSocket: {host: 8.8.8.8, port: 80}}}\n");
    assert!(failures("baseline:v1.33", &probe_host).is_empty());
    assert_eq!(
        failures("baseline:v1.34", &probe_host),
        [
            r#"hostProbesAndHostLifecycle: probe or lifecycle host (container "a" uses probe or lifecycle host "8.8.8.8")"#
        ]
    );
}

#[test]
fn windows_pods_are_exempt_from_linux_only_checks_from_1_25() {
    let windows = pod(r#"
os: {name: windows}
securityContext: {runAsNonRoot: true}
containers:
- name: a
  securityContext: {capabilities: {add: [SYS_ADMIN]}}
"#);
    assert_eq!(
        failed_checks("restricted:v1.24", &windows),
        [
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "seccompProfile_restricted"
        ]
    );
    // The restricted capabilities check still replaces the baseline one, so
    // even SYS_ADMIN passes at restricted for a Windows pod, as upstream.
    assert_eq!(
        failed_checks("restricted:v1.25", &windows),
        Vec::<&str>::new()
    );
    assert_eq!(
        failed_checks("baseline:v1.25", &windows),
        ["capabilities_baseline"]
    );

    let linux =
        pod("os: {name: linux}\nsecurityContext: {runAsNonRoot: true}\ncontainers: [{name: a}]\n");
    assert_eq!(
        failed_checks("restricted:v1.25", &linux),
        [
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "seccompProfile_restricted"
        ]
    );
}

#[test]
fn se_linux_container_engine_type_is_allowed_from_1_31() {
    let object = pod(
        "containers:\n- name: a\n  securityContext: {seLinuxOptions: {type: container_engine_t}}\n",
    );
    assert_eq!(
        failures("baseline:v1.30", &object),
        [
            r#"seLinuxOptions: seLinuxOptions (container "a" set forbidden securityContext.seLinuxOptions: type "container_engine_t")"#
        ]
    );
    assert!(failures("baseline:v1.31", &object).is_empty());
    assert!(failures("baseline:latest", &object).is_empty());
}

#[test]
fn user_namespace_pods_are_relaxed_from_1_35() {
    let spec = |host_users: &str| {
        pod(&format!(
            "hostUsers: {host_users}\nsecurityContext: {{runAsNonRoot: false, runAsUser: 0, seccompProfile: {{type: RuntimeDefault}}}}\ncontainers:\n- name: a\n  {RESTRICTED_CONTAINER}\n- name: b\n  securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}, procMount: Unmasked}}\n"
        ))
    };
    let user_ns = spec("false");
    assert_eq!(
        failed_checks("restricted:v1.34", &user_ns),
        ["procMount", "runAsNonRoot", "runAsUser"]
    );
    assert_eq!(
        failed_checks("restricted:v1.35", &user_ns),
        ["procMount_restricted"]
    );
    assert_eq!(failed_checks("baseline:v1.34", &user_ns), ["procMount"]);
    assert!(failed_checks("baseline:v1.35", &user_ns).is_empty());

    let host_users = spec("true");
    assert_eq!(failed_checks("baseline:v1.35", &host_users), ["procMount"]);
    assert_eq!(
        failed_checks("restricted:v1.35", &host_users),
        ["procMount_restricted", "runAsNonRoot", "runAsUser"]
    );
    let restricted_135: Vec<&str> = active_checks("restricted:v1.35".parse().unwrap())
        .iter()
        .map(|c| c.id)
        .collect();
    assert!(!restricted_135.contains(&"procMount"));
    assert!(!restricted_135.contains(&"capabilities_baseline"));
    assert!(!restricted_135.contains(&"hostPathVolumes"));
    assert!(!restricted_135.contains(&"seccompProfile_baseline"));
}

#[test]
fn sysctls_follow_the_growing_safe_set_and_future_versions_act_as_latest() {
    let object = pod("securityContext:\n  sysctls:\n  - {name: net.ipv4.tcp_rmem, value: x}\n  - {name: net.ipv4.tcp_notsent_lowat, value: x}\n  - {name: kernel.msgmax, value: x}\ncontainers: [{name: a}]\n");
    assert_eq!(
        failures("baseline:v1.31", &object),
        ["sysctls: forbidden sysctls (net.ipv4.tcp_rmem, net.ipv4.tcp_notsent_lowat, kernel.msgmax)"]
    );
    assert_eq!(
        failures("baseline:v1.32", &object),
        ["sysctls: forbidden sysctls (net.ipv4.tcp_notsent_lowat, kernel.msgmax)"]
    );
    assert_eq!(
        failures("baseline:v1.37", &object),
        ["sysctls: forbidden sysctls (kernel.msgmax)"]
    );
    assert_eq!(
        failures("baseline:latest", &object),
        failures("baseline:v1.99", &object)
    );

    let policy = Policy::new(Level::Baseline, Version::V1(99));
    let template = pod_template(&object).unwrap();
    let error =
        admission_error(policy, &evaluate(policy, template.metadata, template.spec)).unwrap();
    assert!(
        error.starts_with(r#"violates PodSecurity "baseline:v1.99": forbidden sysctls"#),
        "{error}"
    );
    assert!(evaluate(
        Policy::latest(Level::Privileged),
        template.metadata,
        template.spec
    )
    .is_empty());
}

fn only(findings: &[Finding], rule: &str) -> Vec<Finding> {
    findings
        .iter()
        .filter(|f| f.rule == rule)
        .cloned()
        .collect()
}

#[test]
fn findings_point_at_the_offending_field() {
    let objects = load(
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: first
        image: nginx
      - name: second
        image: nginx
        securityContext:
          privileged: true
",
    );
    let found = findings(Policy::latest(Level::Baseline), &objects[0]);
    assert_eq!(found.len(), 1, "{found:?}");
    let finding = &found[0];
    assert_eq!(finding.rule, "pss/privileged");
    assert_eq!(
        (
            finding.location.span.start.line,
            finding.location.span.start.column
        ),
        (13, 23)
    );
    assert_eq!(
        finding.location.field.as_deref(),
        Some("spec.template.spec.containers[1].securityContext.privileged")
    );
    assert_eq!(
        finding.message,
        r#"privileged (container "second" must not set securityContext.privileged=true)"#
    );
    assert!(!finding.remediation.is_empty());
    assert_eq!(finding.severity, rule("pss/privileged").unwrap().severity);

    // Missing fields point at the nearest enclosing node that exists.
    let restricted = findings(Policy::latest(Level::Restricted), &objects[0]);
    let escalation = only(&restricted, "pss/allowPrivilegeEscalation");
    assert_eq!(escalation.len(), 2);
    assert_eq!(
        escalation[0].location.span.start.line, 8,
        "container mapping of `first`"
    );
    assert_eq!(
        escalation[1].location.span.start.line, 13,
        "securityContext of `second`"
    );
    assert_eq!(
        escalation[1].location.field.as_deref(),
        Some("spec.template.spec.containers[1].securityContext.allowPrivilegeEscalation")
    );
    assert_eq!(only(&restricted, "pss/runAsNonRoot").len(), 2);
}

#[test]
fn findings_name_each_item_and_cronjob_paths() {
    let objects = load(
        "apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  jobTemplate:
    spec:
      template:
        metadata:
          annotations:
            container.apparmor.security.beta.kubernetes.io/a: unconfined
        spec:
          volumes:
          - name: host
            hostPath: {path: /}
          initContainers:
          - name: a
            securityContext:
              capabilities:
                add: [CHOWN, SYS_ADMIN, NET_RAW]
",
    );
    let found = findings(Policy::latest(Level::Baseline), &objects[0]);
    let fields: Vec<(&str, &str, u32)> = found
        .iter()
        .map(|f| {
            (
                f.rule,
                f.location.field.as_deref().unwrap_or(""),
                f.location.span.start.line,
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            (
                "pss/appArmorProfile",
                r#"spec.jobTemplate.spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/a"]"#,
                10
            ),
            ("pss/capabilities_baseline", "spec.jobTemplate.spec.template.spec.initContainers[0].securityContext.capabilities.add[1]", 19),
            ("pss/capabilities_baseline", "spec.jobTemplate.spec.template.spec.initContainers[0].securityContext.capabilities.add[2]", 19),
            ("pss/hostPathVolumes", "spec.jobTemplate.spec.template.spec.volumes[0].hostPath", 14),
        ]
    );
    assert_eq!(
        found[2].message,
        r#"non-default capabilities (container "a" must not include "NET_RAW" in securityContext.capabilities.add)"#
    );
}

#[test]
fn namespace_labels_drive_per_mode_findings() {
    let objects = load(
        "apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    pod-security.kubernetes.io/enforce: baseline
    pod-security.kubernetes.io/warn: restricted
    pod-security.kubernetes.io/warn-version: v1.30
---
apiVersion: v1
kind: Namespace
metadata:
  name: tools
  labels:
    pod-security.kubernetes.io/enforce: privileged
---
apiVersion: v1
kind: Namespace
metadata:
  name: broken
  labels:
    pod-security.kubernetes.io/enforce: Baseline
    pod-security.kubernetes.io/audit-version: '1.30'
---
apiVersion: v1
kind: Namespace
metadata: {name: plain, labels: {team: a}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: shop}
spec:
  containers:
  - name: app
    securityContext: {privileged: true}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: tools}
spec:
  containers:
  - name: app
    securityContext: {privileged: true}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: plain}
spec:
  containers:
  - name: app
    securityContext: {privileged: true}
---
apiVersion: v1
kind: Pod
metadata: {name: d, namespace: broken}
spec:
  containers:
  - name: app
",
    );
    let scanner = Scanner::new(&objects, Policy::latest(Level::Baseline));

    let shop = scanner.scan(&objects[4]);
    let privileged = only(&shop, "pss/privileged");
    assert_eq!(
        privileged.len(),
        1,
        "one finding although enforce and warn both report it"
    );
    assert_eq!(
        privileged[0].message,
        r#"privileged (container "app" must not set securityContext.privileged=true) [enforce baseline:latest, warn restricted:v1.30]"#
    );
    let non_root = only(&shop, "pss/runAsNonRoot");
    assert_eq!(non_root.len(), 1);
    assert!(
        non_root[0].message.ends_with(" [warn restricted:v1.30]"),
        "{}",
        non_root[0].message
    );

    assert!(scanner.scan(&objects[5]).is_empty(), "privileged namespace");
    // A namespace without Pod Security labels gets the default policy, untagged.
    let plain = scanner.scan(&objects[6]);
    assert_eq!(plain.len(), 1);
    assert!(
        plain[0]
            .message
            .ends_with("securityContext.privileged=true)"),
        "{}",
        plain[0].message
    );

    // Invalid enforce level fails closed: restricted.
    let broken = scanner.scan(&objects[7]);
    assert!(
        broken
            .iter()
            .all(|f| f.message.ends_with("[enforce restricted:latest]")),
        "{broken:?}"
    );
    assert!(!only(&broken, "pss/allowPrivilegeEscalation").is_empty());
    let policy = scanner.namespace_policy("broken").unwrap();
    assert_eq!(policy.enforce, Policy::latest(Level::Restricted));
    assert_eq!(
        policy.warn.level,
        Level::Privileged,
        "an invalid enforce level does not raise warn"
    );

    let label_findings = scanner.scan(&objects[2]);
    let lines: Vec<(&str, u32)> = label_findings
        .iter()
        .map(|f| (f.rule, f.location.span.start.line))
        .collect();
    assert_eq!(
        lines,
        [("pss/namespace-labels", 22), ("pss/namespace-labels", 23)]
    );
    assert!(
        label_findings[0].message.contains("\"Baseline\""),
        "{}",
        label_findings[0].message
    );
    assert!(scanner.scan(&objects[0]).is_empty());
}

#[test]
fn scanner_is_shareable_across_threads() {
    fn assert_sync<T: Sync + Send>() {}
    assert_sync::<Scanner>();
}

#[test]
fn malformed_input_never_panics() {
    let objects = load(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: x, annotations: {container.apparmor.security.beta.kubernetes.io/a: 5}}
spec:
  hostNetwork: "yes"
  os: windows
  securityContext: 7
  volumes: [null, 3, {name: v}, {name: w, hostPath: null}, {name: u, nfs: []}]
  initContainers: "none"
  containers:
  - null
  - 42
  - name: [1]
    ports: [{hostPort: "80"}, 9, {hostPort: 0}]
    securityContext:
      privileged: "true"
      capabilities: {add: [1, null, {a: b}], drop: "ALL"}
      seLinuxOptions: {type: 5, user: ""}
      seccompProfile: {}
      appArmorProfile: {type: null}
      runAsUser: "0"
      procMount: 3
    livenessProbe: {httpGet: {host: ""}}
"#,
    );
    for policy in [
        "baseline:v1.0",
        "baseline:latest",
        "restricted:v1.18",
        "restricted:latest",
    ] {
        let found = findings(policy.parse().unwrap(), &objects[0]);
        let checks = failed_checks(policy, &objects[0]);
        for check in &checks {
            assert!(
                found.iter().any(|f| f.rule.ends_with(check)),
                "{policy}: {check} without finding"
            );
        }
    }
    // Go reads an empty seccompProfile as type "", which is forbidden; the
    // wrongly typed container name reads as "" too.
    assert!(failures("baseline:latest", &objects[0]).contains(
        &r#"seccompProfile_baseline: seccompProfile (container "" must not set securityContext.seccompProfile.type to "")"#
            .to_string()
    ));
}

#[test]
fn every_rule_is_documented() {
    assert_eq!(rules().len(), 20);
    for rule in rules() {
        assert!(rule.id.starts_with("pss/"));
        assert!(rule.docs.contains("## How to fix it"), "{}", rule.id);
        assert!(rule.help_uri.starts_with("https://kubernetes.io/"));
    }
    assert!(rule("pss/privileged")
        .unwrap()
        .docs
        .contains("securityContext.privileged"));
    assert!(rule("pss/nope").is_none());
}
