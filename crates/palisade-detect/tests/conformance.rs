//! The upstream rules files load and compile with no error, and the seed
//! example behaves as the issue says.

mod common;

use std::collections::BTreeSet;

use palisade_detect::{
    fields::FieldCatalogue, Counts, Engine, Event, FieldSource, K8sAuditSource, SyscallSource,
};

fn load(files: &[&str]) -> Option<Engine> {
    let dir = common::conformance_dir()?;
    let mut b = Engine::builder();
    for f in files {
        let (name, text) = common::read(&dir, f);
        b = b.rules_text(name, text);
    }
    Some(b.build())
}

fn assert_clean(e: &Engine) {
    let errors: Vec<String> = e
        .diagnostics()
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn every_rules_file_compiles_with_the_expected_counts() {
    use common::*;
    let cases: &[(&[&str], Counts)] = &[
        (
            &[STABLE],
            Counts {
                rules: 25,
                macros: 87,
                lists: 49,
            },
        ),
        (
            &[INCUBATING],
            Counts {
                rules: 31,
                macros: 82,
                lists: 54,
            },
        ),
        (
            &[SANDBOX],
            Counts {
                rules: 37,
                macros: 183,
                lists: 60,
            },
        ),
        (
            &[STABLE, INCUBATING],
            Counts {
                rules: 56,
                macros: 157,
                lists: 83,
            },
        ),
        (
            &[STABLE, INCUBATING, SANDBOX],
            Counts {
                rules: 93,
                macros: 315,
                lists: 118,
            },
        ),
        (
            &[K8S],
            Counts {
                rules: 48,
                macros: 45,
                lists: 18,
            },
        ),
        // The GKE file only appends to the k8saudit file's items.
        (
            &[K8S, K8S_GKE],
            Counts {
                rules: 48,
                macros: 45,
                lists: 18,
            },
        ),
    ];
    for (files, expected) in cases {
        let Some(e) = load(files) else { return };
        assert_clean(&e);
        assert_eq!(e.counts(), *expected, "{files:?}");
    }
}

#[test]
fn counts_match_the_files_items() {
    // Independent of the loader: count top-level items in the text.
    let Some(dir) = common::conformance_dir() else {
        return;
    };
    for f in [
        common::STABLE,
        common::INCUBATING,
        common::SANDBOX,
        common::K8S,
    ] {
        let (_, text) = common::read(&dir, f);
        // Top-level items start at `- `; their keys are `- key:` on the
        // first line or `  key:` on the following ones (any order).
        let mut items: Vec<Vec<String>> = Vec::new();
        for line in text.lines() {
            let key_of = |rest: &str| rest.split(':').next().unwrap_or("").trim().to_string();
            if let Some(rest) = line.strip_prefix("- ") {
                items.push(vec![key_of(rest)]);
            } else if line.trim_end() == "-" {
                items.push(Vec::new());
            } else if let Some(rest) = line.strip_prefix("  ") {
                if !rest.starts_with(' ') && rest.contains(':') {
                    if let Some(item) = items.last_mut() {
                        item.push(key_of(rest));
                    }
                }
            }
        }
        let count = |key: &str| {
            items
                .iter()
                .filter(|keys| keys.iter().any(|k| k == key))
                .count()
        };
        let e = load(&[f]).unwrap();
        let c = e.counts();
        assert_eq!(c.rules, count("rule"), "{f}");
        assert_eq!(c.macros, count("macro"), "{f}");
        // Redefinitions of a list keep one entry.
        let names: BTreeSet<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("- list:"))
            .map(str::trim)
            .collect();
        assert_eq!(c.lists, names.len(), "{f}");
    }
}

#[test]
fn gke_overrides_append_to_the_k8saudit_items() {
    let Some(e) = load(&[common::K8S, common::K8S_GKE]) else {
        return;
    };
    let cond = e.rule_condition("Disallowed K8s User").unwrap();
    assert!(
        cond.contains(
            "ka.user.name endswith (\"@container-engine-robot.iam.gserviceaccount.com\")"
        ) || cond.contains("@container-engine-robot.iam.gserviceaccount.com"),
        "{cond}"
    );
    assert!(
        cond.starts_with('('),
        "exceptions wrap the condition: {cond}"
    );
    let cond = e.rule_condition("Create Privileged Pod").unwrap();
    assert!(
        cond.contains("gke.gcr.io/netd"),
        "list append reached the rule: {cond}"
    );
}

#[test]
fn every_field_the_upstream_rules_use_is_in_the_catalogue() {
    let Some(dir) = common::conformance_dir() else {
        return;
    };
    let read = |f: &str| std::fs::read_to_string(dir.join("fields").join(f)).unwrap();
    let syscall = SyscallSource::default();
    let k8s = K8sAuditSource;
    for name in read("k8saudit_fields.txt")
        .lines()
        .filter(|l| !l.is_empty())
    {
        assert!(k8s.catalogue().get(name).is_some(), "{name}");
    }
    for name in read("container_plugin_fields.txt")
        .lines()
        .filter(|l| !l.is_empty())
    {
        assert!(syscall.catalogue().get(name).is_some(), "{name}");
    }
    let mut n = 0;
    for line in read("libsinsp_fields.txt").lines() {
        let mut cols = line.split('\t');
        let (Some(name), Some(ty)) = (cols.next(), cols.next()) else {
            continue;
        };
        if name == "NA" || name.trim().is_empty() {
            continue;
        }
        let (_, info) = syscall
            .catalogue()
            .get(name)
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(info.type_name, ty, "{name}");
        n += 1;
    }
    assert!(n > 200, "{n}");
    let _ = FieldCatalogue::default();
}

#[test]
fn seed_first_rule_loads_with_stable_and_fires() {
    let Some(dir) = common::conformance_dir() else {
        return;
    };
    let seed = dir.join("../../seed-examples/05-falco-rules.yaml");
    let seed_text = std::fs::read_to_string(&seed).expect("seed example");
    let (name, stable) = common::read(&dir, common::STABLE);
    let e = Engine::builder()
        .rule_matching(palisade_detect::RuleMatching::All)
        .rules_text(name, stable)
        .rules_text("05-falco-rules.yaml", seed_text.clone())
        .build();
    let rules: Vec<String> = e.rules().into_iter().map(|r| r.name).collect();
    assert!(rules.contains(&"Sensitive File Access in Container".to_string()));
    assert!(!rules.contains(&"Unexpected Network Traffic".to_string()));
    let errors: Vec<_> = e.diagnostics().iter().filter(|d| d.is_error()).collect();
    assert!(
        errors
            .iter()
            .all(|d| d.item_name == "Unexpected Network Traffic"),
        "{errors:#?}"
    );

    // Fire it with a synthetic syscall event carrying the fields it reads.
    let event = FakeSyscall::open_read("/etc/shadow", "python3");
    let alerts = e.evaluate(&event);
    let seed = alerts
        .iter()
        .find(|a| a.rule == "Sensitive File Access in Container")
        .unwrap_or_else(|| panic!("{alerts:?}"));
    assert!(
        seed.message.contains("file=/etc/shadow"),
        "{}",
        seed.message
    );
    assert!(
        seed.message.contains("image=docker.io/library/python"),
        "{}",
        seed.message
    );
    // Not for an allowed process, nor for another file.
    let fires = |ev: &FakeSyscall| {
        e.evaluate(ev)
            .iter()
            .any(|a| a.rule == "Sensitive File Access in Container")
    };
    assert!(!fires(&FakeSyscall::open_read("/etc/shadow", "cat")));
    assert!(!fires(&FakeSyscall::open_read("/tmp/x", "python3")));
}

#[test]
fn seed_second_rule_is_rejected_with_clear_errors() {
    let Some(dir) = common::conformance_dir() else {
        return;
    };
    let seed = dir.join("../../seed-examples/05-falco-rules.yaml");
    let seed_text = std::fs::read_to_string(&seed).expect("seed example");
    let (name, stable) = common::read(&dir, common::STABLE);
    let e = Engine::builder()
        .rules_text(name.clone(), stable.clone())
        .rules_text("05-falco-rules.yaml", seed_text.clone())
        .build();
    let errors: Vec<_> = e.diagnostics().iter().filter(|d| d.is_error()).collect();
    let undefined = errors
        .iter()
        .find(|d| d.message == "Undefined macro 'inbound_outbound' used in filter.")
        .expect("undefined macro error");
    assert_eq!(undefined.item_name, "Unexpected Network Traffic");
    assert_eq!(
        (undefined.file.as_str(), undefined.line, undefined.column),
        ("05-falco-rules.yaml", 18, 5)
    );
    let field = errors
        .iter()
        .find(|d| d.message == "nonexistent field 'fd.net.ip'")
        .expect("unknown field error");
    assert_eq!((field.line, field.column), (20, 9));
    let line = field.source_line.as_deref().unwrap();
    assert_eq!(&line[(field.column as usize - 1)..][..9], "fd.net.ip");
    let output = errors
        .iter()
        .find(|d| d.code == "LOAD_ERR_COMPILE_OUTPUT")
        .expect("output error");
    assert!(output.message.contains("fd.net.ip"), "{}", output.message);

    // With the incubating rules, the macro exists: only the field is wrong.
    let (iname, inc) = common::read(&dir, common::INCUBATING);
    let e = Engine::builder()
        .rules_text(name, stable)
        .rules_text(iname, inc)
        .rules_text("05-falco-rules.yaml", seed_text)
        .build();
    let errors: Vec<_> = e.diagnostics().iter().filter(|d| d.is_error()).collect();
    assert!(
        errors
            .iter()
            .all(|d| !d.message.contains("Undefined macro")),
        "{errors:#?}"
    );
    assert!(errors
        .iter()
        .any(|d| d.message == "nonexistent field 'fd.net.ip'"));
}

/// A syscall event carrying a few fields, to run syscall rules without the
/// eBPF source.
struct FakeSyscall {
    fields: Vec<(&'static str, String)>,
    ids: Vec<(u32, &'static str)>,
}

impl FakeSyscall {
    fn open_read(file: &str, proc_name: &str) -> FakeSyscall {
        let s = SyscallSource::default();
        let fields = vec![
            ("evt.type", "openat".to_string()),
            ("evt.dir", "<".to_string()),
            ("evt.is_open_read", "true".to_string()),
            ("fd.typechar", "f".to_string()),
            ("fd.num", "3".to_string()),
            ("fd.name", file.to_string()),
            ("proc.name", proc_name.to_string()),
            ("proc.cmdline", format!("{proc_name} app.py")),
            ("user.name", "root".to_string()),
            ("container.id", "0123456789ab".to_string()),
            ("container.name", "app".to_string()),
            (
                "container.image.repository",
                "docker.io/library/python".to_string(),
            ),
        ];
        let ids = fields
            .iter()
            .map(|(n, _)| (s.catalogue().get(n).unwrap().0, *n))
            .collect();
        FakeSyscall { fields, ids }
    }
}

impl Event for FakeSyscall {
    fn source(&self) -> &str {
        "syscall"
    }
    fn timestamp_ns(&self) -> u64 {
        1_700_000_000_000_000_000
    }
    fn event_type(&self) -> Option<&str> {
        Some("openat")
    }
    fn extract<'a>(
        &'a self,
        field: &palisade_detect::BoundField,
        out: &mut Vec<palisade_detect::Value<'a>>,
    ) -> bool {
        use palisade_detect::{fields::FieldType, Value};
        let Some((_, name)) = self.ids.iter().find(|(id, _)| *id == field.id) else {
            return false;
        };
        let Some((_, v)) = self.fields.iter().find(|(n, _)| n == name) else {
            return false;
        };
        out.push(match field.ty {
            FieldType::Bool => Value::Bool(v == "true"),
            FieldType::Int => Value::Int(v.parse().unwrap_or(0)),
            FieldType::Uint => Value::Uint(v.parse().unwrap_or(0)),
            _ => Value::Str(v.as_str().into()),
        });
        true
    }
}
