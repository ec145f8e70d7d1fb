//! The shared seed example's NetworkPolicy has mistakes a reviewer misses:
//! the lint must find each of them.

use std::path::Path;

use palisade_model::{load_inputs, Input, LoadOptions};
use palisade_netpol::{lint::lint, read_resources, Analyzer};

#[test]
fn seed_networkpolicy_mistakes_are_found() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/seed-examples/02-networkpolicy.yaml");
    if !path.is_file() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("seed example missing at {}", path.display());
        }
        eprintln!("skipping: seed example not found at {}", path.display());
        return;
    }
    let loaded = load_inputs(&[Input::Path(path)], &LoadOptions::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let analyzer = Analyzer::new(read_resources(&loaded.objects), false).expect("analyzer");
    let findings = lint(&loaded.objects, &analyzer);
    let mut got: Vec<(&str, String)> = findings
        .iter()
        .map(|f| (f.rule, f.location.field.clone().unwrap_or_default()))
        .collect();
    got.sort();
    for f in &findings {
        eprintln!(
            "{} {} line {}: {}",
            f.rule,
            f.location.field.as_deref().unwrap_or(""),
            f.location.span.start.line,
            f.message
        );
    }
    let expected: Vec<(&str, &str)> = vec![
        ("netpol/egress-blocks-dns", "spec.egress"),
        ("netpol/egress-rule-to-anywhere", "spec.egress[1]"),
        (
            "netpol/namespace-selector-custom-name-label",
            "spec.egress[0].to[0].namespaceSelector",
        ),
        (
            "netpol/namespace-selector-custom-name-label",
            "spec.ingress[0].from[0].namespaceSelector",
        ),
        (
            "netpol/namespace-selector-custom-name-label",
            "spec.ingress[1].from[0].namespaceSelector",
        ),
        (
            "netpol/separate-namespace-and-pod-peers",
            "spec.egress[0].to",
        ),
        (
            "netpol/separate-namespace-and-pod-peers",
            "spec.ingress[0].from",
        ),
    ];
    let got_ref: Vec<(&str, &str)> = got.iter().map(|(r, f)| (*r, f.as_str())).collect();
    assert_eq!(got_ref, expected);
    // The OR finding points at the second peer of the first ingress rule (line 21 of the seed).
    let or = findings
        .iter()
        .find(|f| {
            f.rule == "netpol/separate-namespace-and-pod-peers"
                && f.location.field.as_deref() == Some("spec.ingress[0].from")
        })
        .expect("finding");
    assert_eq!(or.location.span.start.line, 21);
    // The rule without `to` opens 80 and 443 to everything, and says so.
    let anywhere = findings
        .iter()
        .find(|f| f.rule == "netpol/egress-rule-to-anywhere")
        .expect("finding");
    assert!(
        anywhere.message.contains("its ports (TCP 80,443) are allowed to every pod of every namespace and every IP address"),
        "{}",
        anywhere.message
    );
    assert_eq!(anywhere.location.span.start.line, 48);
    // The `name:` labels: the AND/OR finding and the label finding are separate.
    let dns = findings
        .iter()
        .find(|f| f.rule == "netpol/egress-blocks-dns")
        .expect("finding");
    assert!(
        dns.message.contains("production/web-service-netpol"),
        "{}",
        dns.message
    );
}
