//! JUnit XML, read back with an XML parser.

mod common;

use std::collections::BTreeMap;

use palisade_model::{load_text, Finding, LoadOptions, Severity};
use palisade_report::{render_to_string, Format, RenderOptions, Report};
use quick_xml::events::Event;
use quick_xml::Reader;

#[derive(Debug, Default)]
struct Parsed {
    /// Attributes of every element, in document order, by element name.
    elements: Vec<(String, BTreeMap<String, String>)>,
    /// Text of every <failure>, <error> and <system-out>.
    texts: Vec<String>,
}

impl Parsed {
    fn named(&self, name: &str) -> Vec<&BTreeMap<String, String>> {
        self.elements
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, a)| a)
            .collect()
    }
}

fn parse(xml: &str) -> Parsed {
    let mut reader = Reader::from_str(xml);
    let mut parsed = Parsed::default();
    let mut in_text = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let attributes = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("attribute");
                        (
                            String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                            a.unescape_value().expect("escaped value").into_owned(),
                        )
                    })
                    .collect();
                in_text = name == "failure" || name == "error" || name == "system-out";
                if in_text {
                    parsed.texts.push(String::new());
                }
                parsed.elements.push((name, attributes));
            }
            Event::Text(t) if in_text => {
                let text = t.decode().expect("UTF-8 text");
                parsed.texts.last_mut().unwrap().push_str(&text);
            }
            Event::GeneralRef(r) if in_text => {
                let resolved = match r.resolve_char_ref().expect("character reference") {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().expect("UTF-8 name");
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .expect("predefined entity")
                            .to_string()
                    }
                };
                parsed.texts.last_mut().unwrap().push_str(&resolved);
            }
            Event::End(_) => in_text = false,
            Event::Eof => break,
            _ => {}
        }
    }
    parsed
}

#[test]
fn suites_cases_failures_and_errors() {
    let loaded = common::loaded();
    let findings = common::findings(&loaded);
    let rules = common::rules();
    let report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::High);
    let xml = render_to_string(&report, Format::Junit, &RenderOptions::default());
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
    let parsed = parse(&xml);

    let root = parsed.named("testsuites")[0];
    assert_eq!(root["name"], "palisade");
    // 4 objects + 1 input error; 2 objects with findings; 1 error case.
    assert_eq!(
        (&*root["tests"], &*root["failures"], &*root["errors"]),
        ("5", "2", "1")
    );

    let suites = parsed.named("testsuite");
    let names: Vec<&str> = suites.iter().map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["deploy/web.yaml", "pods/debug.yaml"]);
    assert_eq!((&*suites[0]["tests"], &*suites[0]["failures"]), ("2", "1"));
    assert_eq!(
        (
            &*suites[1]["tests"],
            &*suites[1]["failures"],
            &*suites[1]["errors"]
        ),
        ("3", "1", "1")
    );

    let cases: Vec<(&str, &str)> = parsed
        .named("testcase")
        .iter()
        .map(|c| (c["classname"].as_str(), c["name"].as_str()))
        .collect();
    assert_eq!(
        cases,
        [
            ("deploy/web.yaml", "Deployment prod/web"),
            ("deploy/web.yaml", "ConfigMap prod/settings"),
            ("pods/debug.yaml", "Pod debug-2"),
            ("pods/debug.yaml", "Pod tools"),
            ("pods/debug.yaml", "input/duplicate-key at 5:3"),
        ]
    );

    let failures = parsed.named("failure");
    let types: Vec<&str> = failures.iter().map(|f| f["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "pss/host-namespaces",
            "pss/privileged",
            "pss/capabilities",
            "pss/run-as-non-root"
        ]
    );
    assert_eq!(
        failures[1]["message"],
        "[high] container \"app\" must not set securityContext.privileged=true"
    );
    let errors = parsed.named("error");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["type"], "input/duplicate-key");
    assert!(parsed.texts[1].contains("help: remove securityContext.privileged"));
    assert!(parsed.texts[1].starts_with("high pss/privileged at deploy/web.yaml:14:11\n"));
}

#[test]
fn markup_in_messages_is_escaped() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: \"a<b>&c\"}\nspec: {}\n";
    let loaded = load_text("we\"ird<&>.yaml", text, &LoadOptions::default());
    let message = "<![CDATA[ x ]]> & </failure><error/> \"q\" 'a'\nline\u{1}".to_string();
    let findings = vec![Finding::new(
        &common::PRIVILEGED,
        &loaded.objects[0],
        common::span_of(text, 2, "Pod"),
        None,
        message.clone(),
        "]]>".into(),
    )];
    let report = Report::new("0.1.0", &loaded, &findings, &[], Severity::High);
    let xml = render_to_string(&report, Format::Junit, &RenderOptions::default());
    let parsed = parse(&xml);
    let case = parsed.named("testcase")[0];
    assert_eq!(case["classname"], "we\"ird<&>.yaml");
    assert_eq!(case["name"], "Pod a<b>&c");
    let failure = parsed.named("failure")[0];
    assert_eq!(
        failure["message"],
        format!("[high] {}", message.replace('\u{1}', "\u{fffd}"))
    );
    assert!(parsed.texts[0].ends_with("help: ]]>"));
}

#[test]
fn exempted_findings_do_not_fail_test_cases() {
    let loaded = common::loaded();
    let findings = common::exempted_findings(&loaded);
    let rules = common::rules();
    let report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::High);
    let xml = render_to_string(&report, Format::Junit, &RenderOptions::default());
    let parsed = parse(&xml);

    // Pod tools has only an exempted finding: it passes now.
    let root = parsed.named("testsuites")[0];
    assert_eq!(
        (&*root["tests"], &*root["failures"], &*root["errors"]),
        ("5", "1", "1")
    );
    let suites = parsed.named("testsuite");
    assert_eq!((&*suites[0]["tests"], &*suites[0]["failures"]), ("2", "1"));
    assert_eq!((&*suites[1]["tests"], &*suites[1]["failures"]), ("3", "0"));

    let types: Vec<&str> = parsed
        .named("failure")
        .iter()
        .map(|f| f["type"].as_str())
        .collect();
    assert_eq!(types, ["pss/host-namespaces", "pss/capabilities"]);

    // Listed in <system-out> of their test case, with reason and origin.
    assert_eq!(parsed.named("system-out").len(), 2);
    let outs: Vec<&String> = parsed
        .texts
        .iter()
        .filter(|t| t.starts_with("exempted: "))
        .collect();
    assert_eq!(
        outs,
        [
            &format!(
                "exempted: high pss/privileged at deploy/web.yaml:14:11: container \"app\" must not set securityContext.privileged=true (reason: {}; .palisade.yaml:7)\n",
                common::EXTERNAL_REASON
            ),
            &format!(
                "exempted: low pss/run-as-non-root at pods/debug.yaml:16:52: container \"tools\" must not run as UID 0 (reason: {}; annotation palisade.dev/ignore)\n",
                common::IN_SOURCE_REASON
            ),
        ]
    );
    // The order of the elements of a test case: failures, then system-out.
    let order: Vec<&str> = parsed.elements.iter().map(|(n, _)| n.as_str()).collect();
    let web = &order[2..6];
    assert_eq!(web, ["testcase", "failure", "failure", "system-out"]);
}
