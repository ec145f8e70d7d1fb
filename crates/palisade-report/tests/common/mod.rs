//! A small scan shared by the integration tests: two files, four objects,
//! four findings and one input error.
#![allow(dead_code)]

use palisade_model::{
    load_text, Control, Finding, LoadOptions, Loaded, Object, Pos, RuleMeta, Severity, Span,
    Suppression, SuppressionKind,
};

pub static PRIVILEGED: RuleMeta = RuleMeta {
    id: "pss/privileged",
    title: "Privileged containers",
    severity: Severity::High,
    category: "pod-security",
    docs: "## What it finds\n\nContainers with `securityContext.privileged: true`.\n",
    help_uri: "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
    controls: &[
        Control::cis("5.2.2"),
        Control::nsa("pod-security"),
        Control::mitre("T1611"),
    ],
};

pub static CAPABILITIES: RuleMeta = RuleMeta {
    id: "pss/capabilities",
    title: "Added capabilities",
    severity: Severity::Medium,
    category: "pod-security",
    docs: "## What it finds\n\nCapabilities beyond the default set.\n",
    help_uri: "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
    controls: &[
        Control::cis("5.2.9"),
        Control::cis("5.2.10"),
        Control::nsa("pod-security"),
    ],
};

pub static HOST_NETWORK: RuleMeta = RuleMeta {
    id: "pss/host-namespaces",
    title: "Host namespaces",
    severity: Severity::Critical,
    category: "pod-security",
    docs: "## What it finds\n\n`hostNetwork`, `hostPID` or `hostIPC`.\n",
    help_uri: "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
    controls: &[
        Control::cis("5.2.5"),
        Control::nsa("pod-security"),
        Control::mitre("T1611"),
    ],
};

pub static RUN_AS_NON_ROOT: RuleMeta = RuleMeta {
    id: "pss/run-as-non-root",
    title: "Running as root",
    severity: Severity::Low,
    category: "pod-security",
    docs: "",
    help_uri: "",
    controls: &[Control::cis("5.2.7"), Control::nsa("pod-security")],
};

pub fn rules() -> Vec<&'static RuleMeta> {
    vec![&PRIVILEGED, &CAPABILITIES, &HOST_NETWORK, &RUN_AS_NON_ROOT]
}

pub const WEB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  template:
    spec:
      hostNetwork: true
      containers:
      - name: app
        image: nginx:1.27
        securityContext:
          privileged: true
          capabilities:
            add: [\"NET_ADMIN\", \"SYS_TIME\"]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: prod}
data: {mode: fast}
";

pub const POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: debug
  name: debug-2
spec:
  containers:
  - name: shell
    image: busybox
---
apiVersion: v1
kind: Pod
metadata: {name: tools}
spec:
  containers:
  - {name: tools, image: alpine, securityContext: {runAsUser: 0}}
";

/// The span of `needle` on 1-based `line` of `text` (columns in characters).
pub fn span_of(text: &str, line: u32, needle: &str) -> Span {
    let source = text.lines().nth(line as usize - 1).expect("line exists");
    let byte = source.find(needle).expect("needle on line");
    let column = source[..byte].chars().count() as u32 + 1;
    let len = needle.chars().count() as u32;
    Span::new(Pos::new(line, column), Pos::new(line, column + len))
}

pub fn loaded() -> Loaded {
    let options = LoadOptions::default();
    let mut all = Loaded::default();
    for (name, text) in [("deploy/web.yaml", WEB), ("pods/debug.yaml", POD)] {
        let one = load_text(name, text, &options);
        all.objects.extend(one.objects);
        all.errors.extend(one.errors);
        all.sources.extend(one.sources);
        all.documents += one.documents;
    }
    all
}

pub fn object<'a>(loaded: &'a Loaded, name: &str) -> &'a Object {
    loaded
        .objects
        .iter()
        .find(|o| o.id.name == name)
        .expect("object exists")
}

pub fn findings(loaded: &Loaded) -> Vec<Finding> {
    let web = object(loaded, "web");
    let tools = object(loaded, "tools");
    vec![
        Finding::new(
            &PRIVILEGED,
            web,
            span_of(WEB, 14, "privileged: true"),
            Some("spec.template.spec.containers[0].securityContext.privileged".into()),
            "container \"app\" must not set securityContext.privileged=true".into(),
            "remove securityContext.privileged or set it to false".into(),
        ),
        Finding::new(
            &CAPABILITIES,
            web,
            span_of(WEB, 16, "\"NET_ADMIN\""),
            Some("spec.template.spec.containers[0].securityContext.capabilities.add[0]".into()),
            "container \"app\" must not add capability NET_ADMIN".into(),
            "drop NET_ADMIN from capabilities.add".into(),
        ),
        Finding::new(
            &HOST_NETWORK,
            web,
            span_of(WEB, 9, "hostNetwork: true"),
            Some("spec.template.spec.hostNetwork".into()),
            "pod must not use the host network".into(),
            "remove spec.hostNetwork or set it to false".into(),
        ),
        Finding::new(
            &RUN_AS_NON_ROOT,
            tools,
            span_of(POD, 16, "runAsUser: 0"),
            Some("spec.containers[0].securityContext.runAsUser".into()),
            "container \"tools\" must not run as UID 0".into(),
            "set runAsUser to a non-zero UID and runAsNonRoot: true".into(),
        ),
    ]
}

/// Removes ANSI escape sequences.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The reason of the exemption [`exempted_findings`] puts on `pss/privileged`.
pub const EXTERNAL_REASON: &str = "the CNI agent needs it";
/// The reason of the exemption [`exempted_findings`] puts on `pss/run-as-non-root`.
pub const IN_SOURCE_REASON: &str = "legacy image, tracked in OPS-12";

/// [`findings`], with two exempted: `pss/privileged` on Deployment prod/web
/// by the configuration, and the only finding of Pod tools by an annotation.
pub fn exempted_findings(loaded: &Loaded) -> Vec<Finding> {
    let mut findings = findings(loaded);
    for finding in &mut findings {
        finding.suppression = match finding.rule {
            "pss/privileged" => Some(Suppression {
                kind: SuppressionKind::External,
                reason: EXTERNAL_REASON.into(),
                origin: ".palisade.yaml:7".into(),
            }),
            "pss/run-as-non-root" => Some(Suppression {
                kind: SuppressionKind::InSource,
                reason: IN_SOURCE_REASON.into(),
                origin: "annotation palisade.dev/ignore".into(),
            }),
            _ => None,
        };
    }
    findings
}
