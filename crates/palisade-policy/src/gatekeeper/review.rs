//! `input.review` and `data.inventory`, as Gatekeeper builds them.

use palisade_model::{Node, Object};
use serde_json::{json, Map, Value as Json};

use super::Issue;

/// One object under review, in the shape Gatekeeper gives templates.
#[derive(Debug, Clone)]
pub struct Review {
    /// `input.review`.
    pub json: Json,
    /// The object's API group, kind, name, namespace and labels, for matching.
    pub group: String,
    pub kind: String,
    pub name: String,
    /// `metadata.generateName` (empty when unset), which `match.name` also tries.
    pub generate_name: String,
    pub namespace: String,
    pub labels: Vec<(String, String)>,
    /// Labels of `oldObject` (an UPDATE or DELETE `AdmissionReview`): Gatekeeper
    /// matches a request when either the object or the old object matches.
    pub old_labels: Option<Vec<(String, String)>>,
}

/// The object as JSON. When its namespace came from the command line (`-n`), it is
/// written into `metadata.namespace`, as `kubectl apply -n` would send it.
pub fn object_json(object: &Object) -> Json {
    let mut body = object.root.to_json();
    if object.namespace_defaulted {
        if let (Some(ns), Json::Object(map)) = (&object.id.namespace, &mut body) {
            let metadata = map
                .entry("metadata")
                .or_insert_with(|| Json::Object(Map::new()));
            if let Json::Object(metadata) = metadata {
                metadata.insert("namespace".into(), Json::String(ns.clone()));
            }
        }
    }
    body
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

fn labels_of(object: &Json) -> Vec<(String, String)> {
    object
        .pointer("/metadata/labels")
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn str_at<'a>(value: &'a Json, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Json::as_str).unwrap_or("")
}

/// Whether `object` is an `AdmissionReview` (gator accepts them as test objects).
pub fn is_admission_review(object: &Object) -> bool {
    object.id.kind == "AdmissionReview" && object.id.group() == "admission.k8s.io"
}

impl Review {
    /// The review of an object under audit (or an `AdmissionReview`'s request).
    pub fn of(object: &Object) -> Result<Review, Issue> {
        if is_admission_review(object) {
            return Self::of_admission_review(object);
        }
        let body = object_json(object);
        let (group, version) = split_api_version(&object.id.api_version);
        let name = str_at(&body, "/metadata/name").to_string();
        let namespace = object.id.namespace.clone().unwrap_or_default();
        let mut review = Map::new();
        review.insert(
            "kind".into(),
            json!({"group": group, "version": version, "kind": object.id.kind}),
        );
        if !name.is_empty() {
            review.insert("name".into(), Json::String(name.clone()));
        }
        if !namespace.is_empty() {
            review.insert("namespace".into(), Json::String(namespace.clone()));
        }
        // The resource of a CREATE of this object (Gatekeeper's audit leaves it
        // empty; a request from the API server names it).
        let (resource, _) = crate::vap::resource_for_kind(&object.id.kind);
        review.insert(
            "resource".into(),
            json!({"group": group, "version": version, "resource": resource}),
        );
        review.insert("operation".into(), Json::String("CREATE".into()));
        review.insert("userInfo".into(), json!({}));
        review.insert("dryRun".into(), Json::Bool(false));
        let labels = labels_of(&body);
        let generate_name = str_at(&body, "/metadata/generateName").to_string();
        review.insert("object".into(), body);
        Ok(Review {
            json: Json::Object(review),
            group: group.to_string(),
            kind: object.id.kind.clone(),
            name,
            generate_name,
            namespace,
            labels,
            old_labels: None,
        })
    }

    fn of_admission_review(object: &Object) -> Result<Review, Issue> {
        let Some(request) = object.root.get_set("request") else {
            return Err(Issue::at(
                object,
                object.root.span,
                "AdmissionReview has no `request`".into(),
            ));
        };
        Review::from_request(request.to_json())
            .map_err(|message| Issue::at(object, request.span, message))
    }

    /// The review of an `AdmissionRequest` (an AdmissionReview's `request`),
    /// as Gatekeeper's webhook builds it.
    pub fn from_request(request: Json) -> Result<Review, String> {
        let Json::Object(mut review) = request else {
            return Err("AdmissionReview `request` must be an object".into());
        };
        let present = |v: Option<&Json>| v.is_some_and(|v| !v.is_null());
        if !present(review.get("object")) && !present(review.get("oldObject")) {
            return Err("AdmissionRequest has neither `object` nor `oldObject` to review".into());
        }
        // As Gatekeeper does on DELETE: the object under review is the old object.
        let operation = review.get("operation").and_then(Json::as_str).unwrap_or("");
        if operation == "DELETE" && !present(review.get("object")) {
            if let Some(old) = review.get("oldObject").cloned() {
                review.insert("object".into(), old);
            }
        }
        let body = review
            .get("object")
            .filter(|v| !v.is_null())
            .or_else(|| review.get("oldObject"))
            .cloned()
            .unwrap_or(Json::Null);
        let (group, version) = split_api_version(str_at(&body, "/apiVersion"));
        let (group, version) = (group.to_string(), version.to_string());
        let kind = str_at(&body, "/kind").to_string();
        // The API server always sets `kind`; fill it from the object when a hand-written
        // request leaves it out, so templates that read `input.review.kind` work.
        if !present(review.get("kind")) {
            review.insert(
                "kind".into(),
                json!({"group": group, "version": version, "kind": kind}),
            );
        }
        let name = str_at(&body, "/metadata/name").to_string();
        let generate_name = str_at(&body, "/metadata/generateName").to_string();
        let namespace = match str_at(&body, "/metadata/namespace") {
            "" => review
                .get("namespace")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string(),
            ns => ns.to_string(),
        };
        let labels = labels_of(&body);
        let old_labels = review
            .get("oldObject")
            .filter(|v| !v.is_null())
            .map(labels_of);
        review.entry("userInfo").or_insert_with(|| json!({}));
        Ok(Review {
            json: Json::Object(review),
            group,
            kind,
            name,
            generate_name,
            namespace,
            labels,
            old_labels,
        })
    }

    /// Adds `namespaceObject` (the object's Namespace) to the review.
    pub fn set_namespace_object(&mut self, namespace: &Json) {
        if let Json::Object(review) = &mut self.json {
            review.insert("namespaceObject".into(), namespace.clone());
        }
    }
}

/// The objects of `data.inventory`, and the Namespaces by name.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// `{"cluster": {gv: {kind: {name: obj}}}, "namespace": {ns: {gv: {kind: {name: obj}}}}}`.
    pub json: Json,
    /// The Namespace objects among the inventory.
    pub namespaces: Vec<KnownNamespace>,
}

/// A Namespace of the input: its name, JSON and labels.
#[derive(Debug, Clone)]
pub struct KnownNamespace {
    pub name: String,
    pub json: Json,
    pub labels: Vec<(String, String)>,
}

impl Inventory {
    /// Builds the inventory Gatekeeper would have synced from these objects.
    pub fn of<'a>(objects: impl IntoIterator<Item = &'a Object>) -> Inventory {
        let mut cluster = Map::new();
        let mut namespaced = Map::new();
        let mut namespaces = Vec::new();
        for object in objects {
            let body = object_json(object);
            let name = object.id.name.clone();
            if object.id.kind == "Namespace" && object.id.group().is_empty() {
                namespaces.push(KnownNamespace {
                    name: name.clone(),
                    json: body.clone(),
                    labels: labels_of(&body),
                });
            }
            let map = match &object.id.namespace {
                Some(ns) => {
                    let entry = namespaced
                        .entry(ns.clone())
                        .or_insert_with(|| Json::Object(Map::new()));
                    match entry {
                        Json::Object(m) => m,
                        _ => continue,
                    }
                }
                None => &mut cluster,
            };
            let by_gv = map
                .entry(object.id.api_version.clone())
                .or_insert_with(|| Json::Object(Map::new()));
            if let Json::Object(by_gv) = by_gv {
                let by_kind = by_gv
                    .entry(object.id.kind.clone())
                    .or_insert_with(|| Json::Object(Map::new()));
                if let Json::Object(by_kind) = by_kind {
                    by_kind.insert(name, body);
                }
            }
        }
        Inventory {
            json: json!({"cluster": cluster, "namespace": namespaced}),
            namespaces,
        }
    }

    /// The Namespace named `name`: its JSON and labels.
    pub fn namespace(&self, name: &str) -> Option<(&Json, &[(String, String)])> {
        self.namespaces
            .iter()
            .find(|n| n.name == name)
            .map(|n| (&n.json, n.labels.as_slice()))
    }
}

/// The span a finding about `object` points at: `metadata.name`, else the object.
pub fn object_span(object: &Object) -> palisade_model::Span {
    object
        .root
        .path(&["metadata", "name"])
        .map_or(object.root.span, |n: &Node| n.span)
}
