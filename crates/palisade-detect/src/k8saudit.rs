//! The `k8s_audit` source: Kubernetes audit events (`audit.k8s.io/v1`) and
//! the `ka.*` / `jevt.*` fields of Falco's k8saudit and json plugins.
//!
//! Extraction follows the plugins' Go code (`plugins/k8saudit/pkg/k8saudit/
//! extract.go`, `plugins/json/pkg/json/json.go`): the same JSON paths, the
//! same rendering of non-string values as compact JSON, the same treatment
//! of missing values (no value, so the comparison is false), including the
//! quirks rules depend on (`ka.req.binding.subject.has_name` is always
//! `true`; `ka.*` fields are only extracted from objects with an `auditID`).

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use crate::fields::{FieldCatalogue, FieldInfo, FieldType};
use crate::json::{Doc, Id, Kind};
use crate::output::{clock_time, days_from_civil, iso8601};
use crate::source::{BoundField, Event, FieldSource, Value};

/// The source name rules use.
pub const SOURCE: &str = "k8s_audit";

/// Generic `evt.*` fields that plugin sources have in Falco.
const GENERIC_FIELDS: &[&str] = &[
    "evt.num",
    "evt.time",
    "evt.time.s",
    "evt.time.iso8601",
    "evt.datetime",
    "evt.datetime.s",
    "evt.rawtime",
    "evt.rawtime.s",
    "evt.rawtime.ns",
    "evt.source",
    "evt.pluginname",
    "evt.hostname",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContainerField {
    Args,
    Command,
    Name,
    Image,
    ImageRepository,
    HostPort,
    Privileged,
    AllowPrivilegeEscalation,
    ReadOnlyFs,
    RunAsUser,
    EffRunAsUser,
    RunAsGroup,
    EffRunAsGroup,
    ProcMount,
    AddCapabilities,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Generic {
    Num,
    Time,
    TimeS,
    TimeIso,
    Datetime,
    DatetimeS,
    Rawtime,
    RawtimeS,
    RawtimeNs,
    Source,
    PluginName,
    Hostname,
}

/// How each field is extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ex {
    Keys(&'static [&'static str]),
    UriParam,
    TargetPodName,
    Subjects(&'static str),
    SubjectHasName,
    FirstContainerImage,
    FirstContainerRepository,
    AnyContainerPrivileged,
    Container(&'static str, ContainerField),
    RulesField(&'static str),
    ServicePorts,
    VolumeHostpathMatch,
    Volumes(&'static [&'static str]),
    VolumeTypes,
    JsonValue,
    JsonObj,
    JsonRawtime,
    Generic(Generic),
    Unknown,
}

fn extractor(name: &str) -> Ex {
    use ContainerField as C;
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let prefix = format!("ka.req.pod.{list}.");
        if let Some(field) = name.strip_prefix(&prefix) {
            let list: &'static str = match list {
                "containers" => "containers",
                "initContainers" => "initContainers",
                _ => "ephemeralContainers",
            };
            let f = match field {
                "args" => C::Args,
                "command" => C::Command,
                "name" => C::Name,
                "image" => C::Image,
                "image.repository" => C::ImageRepository,
                "host_port" => C::HostPort,
                "privileged" => C::Privileged,
                "allow_privilege_escalation" => C::AllowPrivilegeEscalation,
                "read_only_fs" => C::ReadOnlyFs,
                "run_as_user" => C::RunAsUser,
                "eff_run_as_user" => C::EffRunAsUser,
                "run_as_group" => C::RunAsGroup,
                "eff_run_as_group" => C::EffRunAsGroup,
                "proc_mount" => C::ProcMount,
                "add_capabilities" => C::AddCapabilities,
                _ => return Ex::Unknown,
            };
            return Ex::Container(list, f);
        }
    }
    match name {
        "ka.auditid" => Ex::Keys(&["auditID"]),
        "ka.stage" => Ex::Keys(&["stage"]),
        "ka.auth.decision" => Ex::Keys(&["annotations", "authorization.k8s.io/decision"]),
        "ka.auth.reason" => Ex::Keys(&["annotations", "authorization.k8s.io/reason"]),
        "ka.auth.openshift.decision" => {
            Ex::Keys(&["annotations", "authentication.openshift.io/decision"])
        }
        "ka.auth.openshift.username" => {
            Ex::Keys(&["annotations", "authentication.openshift.io/username"])
        }
        "ka.validations.admission.policy.failure" => Ex::Keys(&[
            "annotations",
            "validation.policy.admission.k8s.io/validation_failure",
        ]),
        "ka.security.pod.violations" => {
            Ex::Keys(&["annotations", "pod-security.kubernetes.io/audit-violations"])
        }
        "ka.user.name" => Ex::Keys(&["user", "username"]),
        "ka.user.groups" => Ex::Keys(&["user", "groups"]),
        "ka.impuser.name" => Ex::Keys(&["impersonatedUser", "username"]),
        "ka.verb" => Ex::Keys(&["verb"]),
        "ka.uri" => Ex::Keys(&["requestURI"]),
        "ka.uri.param" => Ex::UriParam,
        "ka.target.name" => Ex::Keys(&["objectRef", "name"]),
        "ka.target.namespace" => Ex::Keys(&["objectRef", "namespace"]),
        "ka.target.resource" => Ex::Keys(&["objectRef", "resource"]),
        "ka.target.subresource" => Ex::Keys(&["objectRef", "subresource"]),
        "ka.target.pod.name" => Ex::TargetPodName,
        "ka.req.binding.subjects" => Ex::Keys(&["requestObject", "subjects"]),
        "ka.req.binding.subjects.user_names" => Ex::Subjects("User"),
        "ka.req.binding.subjects.serviceaccount_names" => Ex::Subjects("ServiceAccount"),
        "ka.req.binding.subjects.serviceaccount_ns_names" => {
            Ex::Subjects("NamespacedServiceAccount")
        }
        "ka.req.binding.subjects.group_names" => Ex::Subjects("Group"),
        "ka.req.binding.role" => Ex::Keys(&["requestObject", "roleRef", "name"]),
        "ka.req.binding.subject.has_name" => Ex::SubjectHasName,
        "ka.req.configmap.name" => Ex::Keys(&["objectRef", "name"]),
        "ka.req.configmap.obj" => Ex::Keys(&["requestObject", "data"]),
        "ka.req.container.image" => Ex::FirstContainerImage,
        "ka.req.container.image.repository" => Ex::FirstContainerRepository,
        "ka.req.pod.host_ipc" => Ex::Keys(&["requestObject", "spec", "hostIPC"]),
        "ka.req.pod.host_network" | "ka.req.container.host_network" => {
            Ex::Keys(&["requestObject", "spec", "hostNetwork"])
        }
        "ka.req.pod.host_pid" => Ex::Keys(&["requestObject", "spec", "hostPID"]),
        "ka.req.container.privileged" => Ex::AnyContainerPrivileged,
        "ka.req.pod.run_as_user" => {
            Ex::Keys(&["requestObject", "spec", "securityContext", "runAsUser"])
        }
        "ka.req.pod.run_as_group" => {
            Ex::Keys(&["requestObject", "spec", "securityContext", "runAsGroup"])
        }
        "ka.req.role.rules" => Ex::Keys(&["requestObject", "rules"]),
        "ka.req.role.rules.apiGroups" => Ex::RulesField("apiGroups"),
        "ka.req.role.rules.nonResourceURLs" => Ex::RulesField("nonResourceURLs"),
        "ka.req.role.rules.verbs" => Ex::RulesField("verbs"),
        "ka.req.role.rules.resources" => Ex::RulesField("resources"),
        "ka.req.pod.fs_group" => Ex::Keys(&["requestObject", "spec", "securityContext", "fsGroup"]),
        "ka.req.pod.supplemental_groups" => Ex::Keys(&[
            "requestObject",
            "spec",
            "securityContext",
            "supplementalGroups",
        ]),
        "ka.req.service.type" => Ex::Keys(&["requestObject", "spec", "type"]),
        "ka.req.service.ports" => Ex::ServicePorts,
        "ka.req.volume.hostpath" => Ex::VolumeHostpathMatch,
        "ka.req.pod.volumes.hostpath" => Ex::Volumes(&["hostPath", "path"]),
        "ka.req.pod.volumes.flexvolume_driver" => Ex::Volumes(&["flexVolume", "driver"]),
        "ka.req.pod.volumes.volume_type" => Ex::VolumeTypes,
        "ka.resp.name" => Ex::Keys(&["responseObject", "metadata", "name"]),
        "ka.response.code" => Ex::Keys(&["responseStatus", "code"]),
        "ka.response.reason" => Ex::Keys(&["responseStatus", "reason"]),
        "ka.useragent" => Ex::Keys(&["userAgent"]),
        // The plugin reads `requestObject.rules[].sourceIPs` here (sic), so
        // this field never has a value; kept as is for compatibility.
        "ka.sourceips" => Ex::RulesField("sourceIPs"),
        "ka.cluster.name" => Ex::Keys(&["annotations", "cluster_name"]),
        "jevt.value" | "json.value" => Ex::JsonValue,
        "jevt.obj" | "json.obj" => Ex::JsonObj,
        "jevt.rawtime" | "json.rawtime" => Ex::JsonRawtime,
        "evt.num" => Ex::Generic(Generic::Num),
        "evt.time" => Ex::Generic(Generic::Time),
        "evt.time.s" => Ex::Generic(Generic::TimeS),
        "evt.time.iso8601" => Ex::Generic(Generic::TimeIso),
        "evt.datetime" => Ex::Generic(Generic::Datetime),
        "evt.datetime.s" => Ex::Generic(Generic::DatetimeS),
        "evt.rawtime" => Ex::Generic(Generic::Rawtime),
        "evt.rawtime.s" => Ex::Generic(Generic::RawtimeS),
        "evt.rawtime.ns" => Ex::Generic(Generic::RawtimeNs),
        "evt.source" => Ex::Generic(Generic::Source),
        "evt.pluginname" => Ex::Generic(Generic::PluginName),
        "evt.hostname" => Ex::Generic(Generic::Hostname),
        _ => Ex::Unknown,
    }
}

/// Top-level members of an event that fields read. Each event indexes them
/// once when decoded, so a field lookup does not walk the event's members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Top {
    AuditId,
    Stage,
    StageTimestamp,
    Annotations,
    User,
    ImpersonatedUser,
    Verb,
    RequestUri,
    ObjectRef,
    RequestObject,
    ResponseObject,
    ResponseStatus,
    UserAgent,
}

const TOP_COUNT: usize = Top::UserAgent as usize + 1;

fn top_of(key: &str) -> Option<Top> {
    Some(match key {
        "auditID" => Top::AuditId,
        "stage" => Top::Stage,
        "stageTimestamp" => Top::StageTimestamp,
        "annotations" => Top::Annotations,
        "user" => Top::User,
        "impersonatedUser" => Top::ImpersonatedUser,
        "verb" => Top::Verb,
        "requestURI" => Top::RequestUri,
        "objectRef" => Top::ObjectRef,
        "requestObject" => Top::RequestObject,
        "responseObject" => Top::ResponseObject,
        "responseStatus" => Top::ResponseStatus,
        "userAgent" => Top::UserAgent,
        _ => return None,
    })
}

struct Table {
    catalogue: FieldCatalogue,
    extractors: Vec<Ex>,
    /// For `Ex::Keys`, the indexed member its path starts with.
    key_tops: Vec<Option<Top>>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut catalogue = FieldCatalogue::parse_tsv(crate::fields::K8SAUDIT_FIELDS_TSV);
        let syscall = FieldCatalogue::parse_tsv(crate::fields::SYSCALL_FIELDS_TSV);
        for name in GENERIC_FIELDS {
            if let Some((_, info)) = syscall.get(name) {
                catalogue.push(info.clone());
            } else {
                catalogue.push(FieldInfo {
                    name: name.to_string(),
                    ty: FieldType::Str,
                    type_name: "CHARBUF".into(),
                    flags: Default::default(),
                    scope: "generic".into(),
                    description: String::new(),
                });
            }
        }
        let extractors: Vec<Ex> = catalogue.iter().map(|f| extractor(&f.name)).collect();
        let key_tops = extractors
            .iter()
            .map(|ex| match ex {
                Ex::Keys(keys) => keys.first().and_then(|k| top_of(k)),
                _ => None,
            })
            .collect();
        Table {
            catalogue,
            extractors,
            key_tops,
        }
    })
}

/// The `k8s_audit` event source.
#[derive(Debug, Clone, Copy, Default)]
pub struct K8sAuditSource;

impl FieldSource for K8sAuditSource {
    fn name(&self) -> &str {
        SOURCE
    }

    fn catalogue(&self) -> &FieldCatalogue {
        &table().catalogue
    }
}

/// An error decoding audit events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditError {
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AuditError {}

/// One Kubernetes audit event.
#[derive(Clone)]
pub struct AuditEvent {
    doc: Doc,
    root: Id,
    /// The value of each indexed top-level member (0, the root, if absent).
    top: [Id; TOP_COUNT],
    ts_ns: u64,
    num: u64,
    hostname: Option<Arc<str>>,
}

impl fmt::Debug for AuditEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditEvent")
            .field("ts_ns", &self.ts_ns)
            .field("bytes", &self.doc.text().len())
            .finish()
    }
}

impl AuditEvent {
    /// Decodes one `Event` object.
    pub fn from_json(text: impl Into<Box<str>>) -> Result<AuditEvent, AuditError> {
        let doc = Doc::parse(text).map_err(|e| AuditError {
            message: format!("invalid JSON: {e}"),
        })?;
        AuditEvent::from_doc(doc)
    }

    fn from_doc(doc: Doc) -> Result<AuditEvent, AuditError> {
        let root = doc.root();
        if doc.kind(root) != Kind::Object {
            return Err(AuditError {
                message: "data not recognized as a k8s audit event".into(),
            });
        }
        // The first of duplicate members wins, as in `Doc::get`.
        let mut top = [0; TOP_COUNT];
        for (key, value) in doc.members(root) {
            if let Some(t) = top_of(&key) {
                if top[t as usize] == 0 {
                    top[t as usize] = value;
                }
            }
        }
        let ts = top[Top::StageTimestamp as usize];
        if ts == 0 {
            return Err(AuditError {
                message: "can't read stageTimestamp".into(),
            });
        }
        let text = doc.as_str(ts).unwrap_or_default();
        let ts_ns = parse_rfc3339(&text).ok_or_else(|| AuditError {
            message: format!("can't parse stageTimestamp '{text}'"),
        })?;
        Ok(AuditEvent {
            doc,
            root,
            top,
            ts_ns,
            num: 0,
            hostname: None,
        })
    }

    /// Sets the event number (`evt.num`).
    pub fn with_number(mut self, num: u64) -> Self {
        self.num = num;
        self
    }

    /// Sets the host name (`evt.hostname`).
    pub fn with_hostname(mut self, hostname: Arc<str>) -> Self {
        self.hostname = Some(hostname);
        self
    }

    /// The event as JSON text.
    pub fn json(&self) -> &str {
        self.doc.text()
    }

    /// A string member by path, for tools that need a quick look (`verb`, `auditID`).
    pub fn get_str(&self, path: &[&str]) -> Option<Cow<'_, str>> {
        let id = self.path(path)?;
        self.doc.as_str(id)
    }

    /// An indexed top-level member.
    fn top(&self, t: Top) -> Option<Id> {
        let id = self.top[t as usize];
        (id != 0).then_some(id)
    }

    /// A top-level member, through the index when it is an indexed one.
    fn member(&self, key: &str) -> Option<Id> {
        match top_of(key) {
            Some(t) => self.top(t),
            None => self.doc.get(self.root, key),
        }
    }

    /// Follows a path of object keys from the root.
    fn path(&self, keys: &[&str]) -> Option<Id> {
        let (first, rest) = keys.split_first()?;
        self.doc.path(self.member(first)?, rest)
    }

    /// Follows a path from the indexed member `t`.
    fn path_from(&self, t: Top, keys: &[&str]) -> Option<Id> {
        self.doc.path(self.top(t)?, keys)
    }

    /// `values_recursive` from `requestObject` (the root is an object, so
    /// starting there is the same as starting from the root).
    fn request_values(&self, index: Option<usize>, keys: &[&str]) -> Lookup {
        match self.top(Top::RequestObject) {
            Some(at) => self.values_recursive(at, index, keys),
            None => Lookup::NotAvailable,
        }
    }
}

/// Decodes a webhook body or a log line: an `EventList`, a single `Event`,
/// or a JSON array of either, as the k8saudit plugin accepts. Items that
/// are not valid events are skipped; a body that is not JSON, or not audit
/// events at all, is an error.
pub fn decode_audit_batch(body: &[u8]) -> Result<Vec<AuditEvent>, AuditError> {
    let (events, errors) = decode_audit_batch_lossy(body)?;
    if events.is_empty() {
        if let Some(e) = errors.into_iter().next() {
            return Err(e);
        }
    }
    Ok(events)
}

/// Like [`decode_audit_batch`], also returning the errors of skipped items.
pub fn decode_audit_batch_lossy(
    body: &[u8],
) -> Result<(Vec<AuditEvent>, Vec<AuditError>), AuditError> {
    let text = std::str::from_utf8(body).map_err(|e| AuditError {
        message: format!("body is not UTF-8: {e}"),
    })?;
    let doc = Doc::parse(text).map_err(|e| AuditError {
        message: format!("invalid JSON: {e}"),
    })?;
    let mut events = Vec::new();
    let mut errors = Vec::new();
    collect(&doc, doc.root(), &mut events, &mut errors, true)?;
    Ok((events, errors))
}

fn collect(
    doc: &Doc,
    id: Id,
    events: &mut Vec<AuditEvent>,
    errors: &mut Vec<AuditError>,
    top: bool,
) -> Result<(), AuditError> {
    let unrecognized = || AuditError {
        message: "data not recognized as a k8s audit event".into(),
    };
    match doc.kind(id) {
        Kind::Array => {
            for item in doc.items(id) {
                collect(doc, item, events, errors, false)?;
            }
            Ok(())
        }
        Kind::Object => {
            let kind = doc.get(id, "kind").and_then(|k| doc.as_str(k));
            match kind.as_deref() {
                Some("EventList") => {
                    let items = doc.get(id, "items").filter(|&i| doc.kind(i) == Kind::Array);
                    let Some(items) = items else {
                        return if top { Err(unrecognized()) } else { Ok(()) };
                    };
                    for item in doc.items(items) {
                        single(doc, item, events, errors);
                    }
                    Ok(())
                }
                Some("Event") => {
                    if top && id == doc.root() {
                        match AuditEvent::from_doc(doc.clone()) {
                            Ok(e) => events.push(e),
                            Err(e) => errors.push(e),
                        }
                    } else {
                        single(doc, id, events, errors);
                    }
                    Ok(())
                }
                _ => Err(unrecognized()),
            }
        }
        _ => Err(unrecognized()),
    }
}

fn single(doc: &Doc, id: Id, events: &mut Vec<AuditEvent>, errors: &mut Vec<AuditError>) {
    // Each event keeps its own compact copy, as the plugin re-marshals it.
    match AuditEvent::from_json(doc.compact(id)) {
        Ok(e) => events.push(e),
        Err(e) => errors.push(e),
    }
}

/// Parses RFC 3339 time (`2024-05-01T10:00:00.123456Z`, offsets allowed) to ns.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { parse_int(b.get(r)?) };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let frac = &s[i..i + digits.min(9)];
        nanos = frac.parse::<i64>().ok()? * 10i64.pow(9 - frac.len() as u32);
        i += digits;
    }
    let offset = match b.get(i) {
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset;
    u64::try_from(secs)
        .ok()?
        .checked_mul(1_000_000_000)?
        .checked_add(nanos as u64)
}

/// An integer as `str::parse::<i64>` reads a short field (an optional sign,
/// then at least one digit), without the UTF-8 and overflow machinery.
fn parse_int(b: &[u8]) -> Option<i64> {
    let (negative, digits) = match b.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut n: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(c - b'0');
    }
    Some(if negative { -n } else { n })
}

/// Decodes `%XX` escapes and `+` as space (Go's `url.QueryUnescape`).
fn query_unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Result of a plugin-style lookup.
enum Lookup {
    Values(Vec<Option<Id>>),
    NotAvailable,
}

impl AuditEvent {
    /// `getValuesRecursive`: walks `keys`, fanning out over arrays (or
    /// picking item `index` of each array when an index is given).
    fn values_recursive(&self, mut at: Id, index: Option<usize>, keys: &[&str]) -> Lookup {
        let d = &self.doc;
        for (i, k) in keys.iter().enumerate() {
            if d.kind(at) == Kind::Array {
                match index {
                    None => {
                        let mut res = Vec::new();
                        for item in d.items(at) {
                            match self.values_recursive(item, index, &keys[i..]) {
                                Lookup::Values(v) => res.extend(v),
                                Lookup::NotAvailable => res.push(None),
                            }
                        }
                        return Lookup::Values(res);
                    }
                    Some(n) => match d.item(at, n) {
                        Some(item) => at = item,
                        None => return Lookup::NotAvailable,
                    },
                }
            }
            if !k.is_empty() {
                match d.get(at, k) {
                    Some(v) => at = v,
                    None => return Lookup::NotAvailable,
                }
            } else if d.kind(at) != Kind::Object {
                return Lookup::NotAvailable;
            }
        }
        Lookup::Values(vec![Some(at)])
    }

    fn container_values(
        &self,
        list: &str,
        index: Option<usize>,
        sub: &[&str],
    ) -> Option<Vec<Option<Id>>> {
        let mut keys = Vec::with_capacity(5);
        keys.extend_from_slice(&["spec", list]);
        keys.extend_from_slice(sub);
        match self.request_values(index, &keys) {
            Lookup::Values(v) => Some(v),
            Lookup::NotAvailable => None,
        }
    }

    fn texts_skip_nil<'a>(&'a self, ids: &[Option<Id>], out: &mut Vec<Value<'a>>) {
        for id in ids.iter().flatten() {
            out.push(Value::Str(self.doc.as_text(*id)));
        }
    }

    /// `arrayAsStrings`: fails on a missing item.
    fn texts_strict(&self, ids: &[Option<Id>]) -> Option<Vec<Cow<'_, str>>> {
        ids.iter()
            .map(|id| id.map(|i| self.doc.as_text(i)))
            .collect()
    }

    fn images(&self, list: &str, index: Option<usize>) -> Option<Vec<Cow<'_, str>>> {
        let ids = self.container_values(list, index, &["image"])?;
        self.texts_strict(&ids)
    }

    fn join_string_arrays<'a>(&'a self, ids: &[Option<Id>], out: &mut Vec<Value<'a>>) -> bool {
        let d = &self.doc;
        let mut any = false;
        for id in ids.iter().flatten() {
            if d.kind(*id) != Kind::Array {
                return false;
            }
            let mut parts = Vec::new();
            for item in d.items(*id) {
                let Some(s) = d.as_str(item) else {
                    return false;
                };
                parts.push(s);
            }
            out.push(Value::Str(Cow::Owned(parts.join(" "))));
            any = true;
        }
        any
    }

    fn extract_keys<'a>(
        &'a self,
        first: Option<Top>,
        keys: &[&str],
        list: bool,
        out: &mut Vec<Value<'a>>,
    ) -> bool {
        let d = &self.doc;
        let found = match first {
            Some(t) => self.path_from(t, &keys[1..]),
            None => self.path(keys),
        };
        let Some(v) = found else {
            return false;
        };
        if list {
            if d.kind(v) != Kind::Array {
                return false;
            }
            for item in d.items(v) {
                out.push(Value::Str(d.as_text(item)));
            }
        } else {
            out.push(Value::Str(d.as_text(v)));
        }
        true
    }

    fn generic(&self, g: Generic, out: &mut Vec<Value<'_>>) -> bool {
        let ns = self.ts_ns;
        let date = |ns: u64| iso8601(ns).replacen('T', " ", 1);
        out.push(match g {
            Generic::Num => Value::Uint(self.num),
            Generic::Time => Value::Str(Cow::Owned(clock_time(ns))),
            Generic::TimeS => Value::Str(Cow::Owned(clock_time(ns)[..8].to_string())),
            Generic::TimeIso => Value::Str(Cow::Owned(iso8601(ns))),
            Generic::Datetime => {
                let s = date(ns);
                Value::Str(Cow::Owned(s.trim_end_matches('Z').to_string()))
            }
            Generic::DatetimeS => Value::Str(Cow::Owned(date(ns)[..19].to_string())),
            Generic::Rawtime => Value::Uint(ns),
            Generic::RawtimeS => Value::Uint(ns / 1_000_000_000),
            Generic::RawtimeNs => Value::Uint(ns % 1_000_000_000),
            Generic::Source => Value::Str(Cow::Borrowed(SOURCE)),
            Generic::PluginName => Value::Str(Cow::Borrowed("k8saudit")),
            Generic::Hostname => match &self.hostname {
                Some(h) => Value::Str(Cow::Owned(h.to_string())),
                None => return false,
            },
        });
        true
    }
}

impl Event for AuditEvent {
    fn source(&self) -> &str {
        SOURCE
    }

    fn timestamp_ns(&self) -> u64 {
        self.ts_ns
    }

    fn extract<'a>(&'a self, field: &BoundField, out: &mut Vec<Value<'a>>) -> bool {
        let t = table();
        let Some(&ex) = t.extractors.get(field.id as usize) else {
            return false;
        };
        let d = &self.doc;
        let index = field.arg.index.map(|i| i as usize);
        match ex {
            Ex::JsonValue => return self.json_value(field, out),
            Ex::JsonObj => {
                out.push(Value::Str(Cow::Owned(d.indented(self.root))));
                return true;
            }
            Ex::JsonRawtime => {
                out.push(Value::Str(Cow::Owned(self.ts_ns.to_string())));
                return true;
            }
            Ex::Generic(g) => return self.generic(g, out),
            _ => {}
        }
        // The k8saudit plugin ignores JSON that is not an audit event.
        if self.top(Top::AuditId).is_none() {
            return false;
        }
        use ContainerField as C;
        match ex {
            Ex::Keys(keys) => {
                let first = t.key_tops.get(field.id as usize).copied().flatten();
                self.extract_keys(first, keys, field.list, out)
            }
            Ex::UriParam => {
                let Some(uri) = self.top(Top::RequestUri).map(|u| d.as_text(u)) else {
                    return false;
                };
                let Some(key) = field.arg.text.as_deref() else {
                    return false;
                };
                let query = uri.split_once('?').map_or("", |(_, q)| q);
                let query = query.split('#').next().unwrap_or("");
                for pair in query.split(['&', ';']).filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    let (Some(k), Some(v)) = (query_unescape(k), query_unescape(v)) else {
                        return false;
                    };
                    if k == key {
                        out.push(Value::Str(Cow::Owned(v)));
                        return true;
                    }
                }
                false
            }
            Ex::TargetPodName => {
                let res = self
                    .path_from(Top::ObjectRef, &["resource"])
                    .and_then(|v| d.as_str(v));
                let sub = self
                    .path_from(Top::ObjectRef, &["subresource"])
                    .and_then(|v| d.as_str(v))
                    .unwrap_or_default();
                if res.as_deref() == Some("pods") && sub.is_empty() {
                    return self.extract_keys(
                        Some(Top::ResponseObject),
                        &["responseObject", "metadata", "name"],
                        false,
                        out,
                    );
                }
                false
            }
            Ex::Subjects(kind) => {
                let Some(subjects) = self.path_from(Top::RequestObject, &["subjects"]) else {
                    return false;
                };
                if d.kind(subjects) != Kind::Array {
                    return false;
                }
                let (kind, namespaced) = match kind {
                    "NamespacedServiceAccount" => ("ServiceAccount", true),
                    k => (k, false),
                };
                for s in d.items(subjects) {
                    let (Some(k), Some(n)) = (d.get(s, "kind"), d.get(s, "name")) else {
                        continue;
                    };
                    if d.as_text(k) != kind {
                        continue;
                    }
                    let name = d.as_text(n);
                    if namespaced {
                        let Some(ns) = d.get(s, "namespace") else {
                            continue;
                        };
                        out.push(Value::Str(Cow::Owned(format!(
                            "{}:{}",
                            d.as_text(ns),
                            name
                        ))));
                    } else {
                        out.push(Value::Str(name));
                    }
                }
                true
            }
            Ex::SubjectHasName => {
                out.push(Value::Str(Cow::Borrowed("true")));
                true
            }
            Ex::FirstContainerImage => match self.images("containers", None) {
                Some(images) if !images.is_empty() => {
                    out.push(Value::Str(images.into_iter().next().unwrap_or_default()));
                    true
                }
                _ => false,
            },
            Ex::FirstContainerRepository => match self.images("containers", None) {
                Some(images) if !images.is_empty() => {
                    out.push(Value::Str(Cow::Owned(repository(&images[0]).to_string())));
                    true
                }
                _ => false,
            },
            Ex::AnyContainerPrivileged => {
                let Some(ids) =
                    self.container_values("containers", None, &["securityContext", "privileged"])
                else {
                    return false;
                };
                let any = ids
                    .iter()
                    .flatten()
                    .any(|&i| d.kind(i) == Kind::Bool && d.raw(i) == "true");
                out.push(Value::Str(Cow::Borrowed(if any {
                    "true"
                } else {
                    "false"
                })));
                true
            }
            Ex::Container(list, f) => {
                let sub: &[&str] = match f {
                    C::Args => &["args"],
                    C::Command => &["command"],
                    C::Name => &["name"],
                    C::Image | C::ImageRepository => &["image"],
                    C::HostPort => &["ports"],
                    C::Privileged => &["securityContext", "privileged"],
                    C::AllowPrivilegeEscalation => &["securityContext", "allowPrivilegeEscalation"],
                    C::ReadOnlyFs => &["securityContext", "readOnlyRootFilesystem"],
                    C::RunAsUser => &["securityContext", "runAsUser"],
                    C::RunAsGroup => &["securityContext", "runAsGroup"],
                    // The plugin reads `containers[].runAsUser` and
                    // `spec.runAsUser` (not under securityContext) here; kept as is.
                    C::EffRunAsUser => &["runAsUser"],
                    C::EffRunAsGroup => &["runAsGroup"],
                    C::ProcMount => &["securityContext", "procMount"],
                    C::AddCapabilities => &["securityContext", "capabilities", "add"],
                };
                let Some(ids) = self.container_values(list, index, sub) else {
                    return false;
                };
                match f {
                    C::Args | C::Command => self.join_string_arrays(&ids, out),
                    C::Name | C::Image => match self.texts_strict(&ids) {
                        Some(v) => {
                            out.extend(v.into_iter().map(Value::Str));
                            true
                        }
                        None => false,
                    },
                    C::ImageRepository => match self.texts_strict(&ids) {
                        Some(v) => {
                            for image in v {
                                out.push(Value::Str(Cow::Owned(repository(&image).to_string())));
                            }
                            true
                        }
                        None => false,
                    },
                    C::HostPort => {
                        for ports in ids.iter().flatten() {
                            if d.kind(*ports) != Kind::Array {
                                return false;
                            }
                            for port in d.items(*ports) {
                                if let Some(p) = d.get(port, "hostPort") {
                                    out.push(Value::Str(d.as_text(p)));
                                } else if let Some(p) = d.get(port, "containerPort") {
                                    out.push(Value::Str(d.as_text(p)));
                                }
                            }
                        }
                        true
                    }
                    C::EffRunAsUser | C::EffRunAsGroup => {
                        let key = if f == C::EffRunAsUser {
                            "runAsUser"
                        } else {
                            "runAsGroup"
                        };
                        let pod = self
                            .path_from(Top::RequestObject, &["spec", key])
                            .map_or(Cow::Borrowed("0"), |v| d.as_text(v));
                        for id in &ids {
                            out.push(Value::Str(match id {
                                Some(i) => d.as_text(*i),
                                None => pod.clone(),
                            }));
                        }
                        true
                    }
                    _ => {
                        self.texts_skip_nil(&ids, out);
                        true
                    }
                }
            }
            Ex::RulesField(key) => {
                let ids = match self.request_values(index, &["rules", key]) {
                    Lookup::Values(v) => v,
                    Lookup::NotAvailable => return false,
                };
                for id in ids.iter().flatten() {
                    if d.kind(*id) == Kind::Array {
                        for item in d.items(*id) {
                            out.push(Value::Str(d.as_text(item)));
                        }
                    }
                }
                true
            }
            Ex::ServicePorts => match self.request_values(index, &["spec", "ports"]) {
                Lookup::Values(ids) => {
                    self.texts_skip_nil(&ids, out);
                    true
                }
                Lookup::NotAvailable => false,
            },
            Ex::VolumeHostpathMatch => {
                let ids = match self.request_values(None, &["spec", "volumes", "hostPath", "path"])
                {
                    Lookup::Values(v) => v,
                    Lookup::NotAvailable => return false,
                };
                let arg = field.arg.text.as_deref().unwrap_or("");
                let prefix = arg.strip_suffix('*');
                let hit = ids.iter().flatten().any(|&i| {
                    let v = d.as_text(i);
                    prefix.is_some_and(|p| v.starts_with(p)) || v == arg
                });
                out.push(Value::Str(Cow::Borrowed(if hit {
                    "true"
                } else {
                    "false"
                })));
                true
            }
            Ex::Volumes(sub) => {
                let mut keys = vec!["spec", "volumes"];
                keys.extend_from_slice(sub);
                match self.request_values(index, &keys) {
                    Lookup::Values(ids) => {
                        self.texts_skip_nil(&ids, out);
                        true
                    }
                    Lookup::NotAvailable => false,
                }
            }
            Ex::VolumeTypes => {
                let ids = match self.request_values(index, &["spec", "volumes", ""]) {
                    Lookup::Values(v) => v,
                    Lookup::NotAvailable => return false,
                };
                for id in ids.iter().flatten() {
                    for (k, _) in d.members(*id) {
                        if k != "name" {
                            out.push(Value::Str(k));
                        }
                    }
                }
                true
            }
            Ex::JsonValue | Ex::JsonObj | Ex::JsonRawtime | Ex::Generic(_) | Ex::Unknown => false,
        }
    }
}

impl AuditEvent {
    /// `jevt.value[/json/pointer]`.
    fn json_value<'a>(&'a self, field: &BoundField, out: &mut Vec<Value<'a>>) -> bool {
        let d = &self.doc;
        let arg = field.arg.text.as_deref().unwrap_or("");
        if arg.is_empty() {
            out.push(Value::Str(Cow::Owned(d.compact(self.root))));
            return true;
        }
        let ptr = arg.strip_prefix('/').unwrap_or(arg);
        let mut at = self.root;
        for token in ptr.split('/') {
            let key = if token.contains('~') {
                Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
            } else {
                Cow::Borrowed(token)
            };
            let next = match d.kind(at) {
                Kind::Object if at == self.root => self.member(&key),
                Kind::Object => d.get(at, &key),
                Kind::Array => key.parse::<usize>().ok().and_then(|i| d.item(at, i)),
                _ => None,
            };
            match next {
                Some(n) => at = n,
                None => return false,
            }
        }
        out.push(Value::Str(d.as_text(at)));
        true
    }
}

/// The repository part of an image reference, as the plugin computes it:
/// up to the first `:` and then up to the first `@`.
fn repository(image: &str) -> &str {
    let before_colon = image.split(':').next().unwrap_or(image);
    before_colon.split('@').next().unwrap_or(before_colon)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FieldSource;

    fn ev(json: &str) -> AuditEvent {
        AuditEvent::from_json(json).unwrap()
    }

    fn get(e: &AuditEvent, name: &str, arg: Option<&str>) -> Option<Vec<String>> {
        let f = K8sAuditSource.resolve(name, arg).unwrap();
        let mut out = Vec::new();
        e.extract(&f, &mut out)
            .then(|| out.iter().map(|v| v.to_string()).collect())
    }

    const POD: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods?fieldManager=kubectl&dryRun=All","verb":"create","user":{"username":"alice","groups":["dev","system:authenticated"]},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"pods","namespace":"default","name":"web","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestObject":{"kind":"Pod","spec":{"hostNetwork":true,"securityContext":{"runAsUser":1000},"volumes":[{"name":"a","hostPath":{"path":"/etc"}},{"name":"b","emptyDir":{}}],"containers":[{"name":"c1","image":"nginx:1.25","command":["sh","-c","x"],"securityContext":{"privileged":true},"ports":[{"containerPort":80}]},{"name":"c2","image":"docker.io/library/redis@sha256:abc","securityContext":{"runAsUser":0}}]}},"responseObject":{"metadata":{"name":"web"}},"stageTimestamp":"2024-05-01T10:00:00.123456Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC"}}"#;

    #[test]
    fn parse_int_reads_as_str_parse_does() {
        for s in [
            "0",
            "07",
            "2024",
            "+5",
            "-5",
            "-",
            "+",
            "",
            "5-",
            "1a",
            " 1",
            "1 ",
            "é",
            "--1",
            "+-1",
            "999999999",
        ] {
            assert_eq!(parse_int(s.as_bytes()), s.parse::<i64>().ok(), "{s:?}");
        }
        assert_eq!(
            parse_rfc3339("2024-05-01T10:00:00.5+02:00"),
            Some(1_714_550_400_500_000_000)
        );
        assert_eq!(parse_rfc3339("2024-05-01T10:00:0xZ"), None);
        assert_eq!(parse_rfc3339("2024-13-01T10:00:00Z"), None);
    }

    /// The index of top-level members answers as a walk of the members
    /// would: the first of duplicate keys, escaped keys unescaped, and
    /// non-indexed members still found.
    #[test]
    fn top_level_index_matches_member_lookup() {
        let e = ev(
            r#"{"obj\u0065ctRef":{"resource":"secrets"},"verb":"get","auditID":"1","objectRef":{"resource":"pods"},"verb":"list","level":"Metadata","stageTimestamp":"2024-05-01T10:00:00Z","stageTimestamp":"bad"}"#,
        );
        assert_eq!(
            get(&e, "ka.target.resource", None),
            Some(vec!["secrets".into()])
        );
        assert_eq!(get(&e, "ka.verb", None), Some(vec!["get".into()]));
        assert_eq!(
            get(&e, "jevt.value", Some("/verb")),
            Some(vec!["get".into()])
        );
        assert_eq!(
            get(&e, "jevt.value", Some("/level")),
            Some(vec!["Metadata".into()])
        );
        assert_eq!(
            e.get_str(&["objectRef", "resource"]).as_deref(),
            Some("secrets")
        );
        assert_eq!(e.get_str(&["level"]).as_deref(), Some("Metadata"));
        assert_eq!(e.timestamp_ns(), 1_714_557_600_000_000_000);
        // Without an auditID, no `ka.*` field has a value.
        let e = ev(r#"{"verb":"get","stageTimestamp":"2024-05-01T10:00:00Z"}"#);
        assert_eq!(get(&e, "ka.verb", None), None);
        assert_eq!(
            get(&e, "jevt.value", Some("/verb")),
            Some(vec!["get".into()])
        );
    }

    #[test]
    fn ka_fields_follow_the_plugin() {
        let e = ev(POD);
        assert_eq!(e.timestamp_ns(), 1_714_557_600_123_456_000);
        let s = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(get(&e, "ka.verb", None), s(&["create"]));
        assert_eq!(
            get(&e, "ka.user.groups", None),
            s(&["dev", "system:authenticated"])
        );
        assert_eq!(get(&e, "ka.response.code", None), s(&["201"]));
        assert_eq!(get(&e, "ka.req.pod.host_network", None), s(&["true"]));
        assert_eq!(get(&e, "ka.req.pod.host_pid", None), None);
        assert_eq!(get(&e, "ka.target.subresource", None), None);
        assert_eq!(
            get(&e, "ka.req.pod.containers.image", None),
            s(&["nginx:1.25", "docker.io/library/redis@sha256:abc"])
        );
        assert_eq!(
            get(&e, "ka.req.pod.containers.image", Some("1")),
            s(&["docker.io/library/redis@sha256:abc"])
        );
        assert_eq!(
            get(&e, "ka.req.pod.containers.image.repository", None),
            s(&["nginx", "docker.io/library/redis"])
        );
        assert_eq!(
            get(&e, "ka.req.pod.containers.privileged", None),
            s(&["true"])
        );
        assert_eq!(get(&e, "ka.req.container.privileged", None), s(&["true"]));
        assert_eq!(
            get(&e, "ka.req.pod.containers.command", None),
            s(&["sh -c x"])
        );
        // Upstream reads `runAsUser` outside securityContext, so the default wins.
        assert_eq!(
            get(&e, "ka.req.pod.containers.eff_run_as_user", None),
            s(&["0", "0"])
        );
        assert_eq!(
            get(&e, "ka.req.pod.containers.run_as_user", None),
            s(&["0"])
        );
        assert_eq!(get(&e, "ka.req.pod.containers.host_port", None), s(&["80"]));
        assert_eq!(get(&e, "ka.req.pod.volumes.hostpath", None), s(&["/etc"]));
        assert_eq!(
            get(&e, "ka.req.pod.volumes.volume_type", None),
            s(&["hostPath", "emptyDir"])
        );
        assert_eq!(get(&e, "ka.req.volume.hostpath", Some("/e*")), s(&["true"]));
        assert_eq!(get(&e, "ka.uri.param", Some("dryRun")), s(&["All"]));
        assert_eq!(get(&e, "ka.uri.param", Some("nope")), None);
        assert_eq!(get(&e, "ka.target.pod.name", None), s(&["web"]));
        assert_eq!(
            get(&e, "jevt.value", Some("/stage")),
            s(&["ResponseComplete"])
        );
        assert_eq!(
            get(&e, "jevt.value", Some("/requestObject/spec/volumes/1")),
            s(&["{\"name\":\"b\",\"emptyDir\":{}}"])
        );
        assert_eq!(get(&e, "jevt.rawtime", None), s(&["1714557600123456000"]));
        assert_eq!(get(&e, "evt.time", None), s(&["10:00:00.123456000"]));
        // `ka.sourceips` reads requestObject.rules (as upstream), so it has no value here.
        assert_eq!(get(&e, "ka.sourceips", None), None);
        assert_eq!(
            get(&e, "ka.req.binding.subject.has_name", Some("x")),
            s(&["true"])
        );
    }

    #[test]
    fn bindings_and_roles() {
        let e = ev(
            r#"{"kind":"Event","auditID":"x","stageTimestamp":"2024-05-01T10:00:00Z","requestObject":{"roleRef":{"name":"cluster-admin"},"subjects":[{"kind":"User","name":"bob"},{"kind":"ServiceAccount","name":"sa","namespace":"ns"}],"rules":[{"verbs":["get","*"],"resources":["pods"]},{"verbs":["create"]}]}}"#,
        );
        let s = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            get(&e, "ka.req.binding.subjects.user_names", None),
            s(&["bob"])
        );
        assert_eq!(
            get(&e, "ka.req.binding.subjects.serviceaccount_ns_names", None),
            s(&["ns:sa"])
        );
        assert_eq!(
            get(&e, "ka.req.role.rules.verbs", None),
            s(&["get", "*", "create"])
        );
        assert_eq!(
            get(&e, "ka.req.role.rules.verbs", Some("1")),
            s(&["create"])
        );
        assert_eq!(get(&e, "ka.req.binding.role", None), s(&["cluster-admin"]));
        assert_eq!(
            get(&e, "ka.req.binding.subjects", None),
            s(&[
                "{\"kind\":\"User\",\"name\":\"bob\"}",
                "{\"kind\":\"ServiceAccount\",\"name\":\"sa\",\"namespace\":\"ns\"}"
            ])
        );
    }

    #[test]
    fn batches() {
        let list = format!(
            r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{POD},{POD},{{"kind":"Event"}}]}}"#
        );
        let (events, errors) = decode_audit_batch_lossy(list.as_bytes()).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(errors.len(), 1);
        assert_eq!(decode_audit_batch(POD.as_bytes()).unwrap().len(), 1);
        assert!(decode_audit_batch(b"{\"kind\":\"Pod\"}").is_err());
        assert!(decode_audit_batch(b"not json").is_err());
        assert!(decode_audit_batch(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01Z"), Some(1_000_000_000));
        assert_eq!(
            parse_rfc3339("1970-01-01T01:00:01+01:00"),
            Some(1_000_000_000)
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.5Z"), Some(500_000_000));
        assert_eq!(parse_rfc3339("garbage"), None);
        assert_eq!(parse_rfc3339("2024-13-01T00:00:00Z"), None);
    }
}
