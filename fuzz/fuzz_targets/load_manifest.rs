//! Fuzzes the whole manifest loader: text → YAML stream → objects → type checks,
//! then walks everything the analyzers would touch.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_model::{load_text, pod_template, LoadOptions, Source, Span};

fn check_span(source: &Source, span: &Span) {
    // Showing the source line of any reported position must never panic.
    let _ = source.line(span.start.line);
    let _ = source.line(span.end.line);
    let _ = source.line_offset(span.start.line);
}

fuzz_target!(|data: &[u8]| {
    // load_bytes (private) refuses non-UTF-8 input before parsing; do the same.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let options = LoadOptions {
        default_namespace: if data.len() % 2 == 0 { None } else { Some("fuzz".into()) },
    };
    let loaded = load_text("fuzz.yaml", text, &options);
    let _ = load_text("fuzz.yaml", text, &LoadOptions::default());

    for source in &loaded.sources {
        let _ = source.line_count();
        let _ = source.line(0);
        let _ = source.line(u32::MAX);
    }

    // Documents recognised as another format (Falco, Prometheus, kustomization).
    for foreign in &loaded.foreign {
        let _ = foreign.format.description();
    }

    for object in &loaded.objects {
        let _ = object.id.to_string();
        let _ = object.id.group();
        let _ = object.labels().count();
        let _ = object.annotations().count();
        let _ = object.label("app");
        let json = object.root.to_json();
        let _ = serde_json::to_string(&json);
        check_span(&object.source, &object.root.span);
        if let Some(pod) = pod_template(object) {
            let _ = pod.security_context();
            let _ = pod.annotation("container.apparmor.security.beta.kubernetes.io/app");
            let _ = pod.field_path("containers");
            check_span(&object.source, &pod.spec.span);
            for container in pod.containers() {
                let _ = container.name();
                let _ = container.path();
                check_span(&object.source, &container.node.span);
                if let Some(sc) = container.security_context() {
                    let _ = sc.get("privileged").and_then(|n| n.as_bool());
                    let _ = sc.get("runAsUser").and_then(|n| n.as_i64());
                    check_span(&object.source, &sc.span);
                }
            }
        }
    }

    for error in &loaded.errors {
        let _ = error.to_string();
        let _ = error.kind.code();
        if let Some(source) = &error.source {
            check_span(source, &error.span);
            if let Some(related) = &error.related {
                check_span(source, related);
            }
        }
    }
});
