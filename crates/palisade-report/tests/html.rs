//! The HTML report: escaping, redaction, self-containment, and (with
//! Debian's `chromium`) rendering and filtering in a real headless browser.

use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_model::{load_text, Finding, LoadOptions, Loaded, Pos, RuleMeta, Severity, Span};
use palisade_report::html::{self, GraphEdge, HtmlExtras, NamespacePosture, NetworkSection};
use palisade_report::Report;

static PRIVILEGED: RuleMeta = RuleMeta {
    id: "pss/privileged",
    title: "Privileged containers",
    severity: Severity::Critical,
    category: "pod-security",
    docs: "",
    help_uri: "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
    controls: &[],
};
static LIMITS: RuleMeta = RuleMeta {
    id: "reliability/limits",
    title: "Resource limits",
    severity: Severity::Medium,
    category: "reliability",
    docs: "",
    help_uri: "",
    controls: &[],
};
static SECRET_RULE: RuleMeta = RuleMeta {
    id: "secrets/literal",
    title: "Literal credential",
    severity: Severity::High,
    category: "secrets",
    docs: "",
    help_uri: "",
    controls: &[],
};

/// The secret value that must never appear in a report.
const SECRET_VALUE: &str = "hunter2-TOPSECRET";

const MANIFESTS: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
  - name: app
    securityContext: {privileged: true}
---
apiVersion: v1
kind: Pod
metadata: {name: \"x</script><img src=x onerror=alert(1)>\", namespace: dev}
spec:
  containers:
  - name: \"<b>bold</b>\"
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: shop}
stringData:
  password: hunter2-TOPSECRET
";

fn loaded() -> Loaded {
    load_text("app.yaml", MANIFESTS, &LoadOptions::default())
}

fn findings(loaded: &Loaded) -> Vec<Finding> {
    let at = |line, col, end| Span::new(Pos::new(line, col), Pos::new(line, end));
    vec![
        Finding::new(
            &PRIVILEGED,
            &loaded.objects[0],
            at(7, 23, 33),
            None,
            "container \"app\" must not set securityContext.privileged=true".into(),
            "remove securityContext.privileged".into(),
        ),
        Finding::new(
            &LIMITS,
            &loaded.objects[0],
            at(6, 5, 14),
            None,
            "container \"app\" has no memory limit".into(),
            "set resources.limits.memory".into(),
        ),
        Finding::new(
            &LIMITS,
            &loaded.objects[1],
            at(14, 5, 24),
            None,
            "container \"<b>bold</b>\" has no memory limit </script><script>alert(2)</script>"
                .into(),
            "set resources.limits.memory".into(),
        ),
        Finding::new(
            &SECRET_RULE,
            &loaded.objects[2],
            at(20, 13, 30),
            None,
            "Secret shop/creds holds a literal password".into(),
            "use an external secret store".into(),
        ),
    ]
}

fn extras() -> HtmlExtras {
    HtmlExtras {
        title: "Test <report>".into(),
        namespaces: vec![NamespacePosture {
            name: "shop".into(),
            enforce: Some("restricted:latest".into()),
            audit: None,
            warn: None,
        }],
        network: Some(NetworkSection {
            connections: vec![GraphEdge {
                from: "shop/web[Pod]".into(),
                to: "dev/<evil>[Pod]".into(),
                label: "TCP 80".into(),
            }],
            ..NetworkSection::default()
        }),
        rbac: None,
    }
}

fn render() -> String {
    let loaded = loaded();
    let findings = findings(&loaded);
    let rules = [&PRIVILEGED, &LIMITS, &SECRET_RULE];
    let report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::Low);
    html::render_to_string(&report, &extras())
}

#[test]
fn manifest_content_cannot_inject_markup() {
    let page = render();
    // Our own two script elements, and no other.
    assert_eq!(page.matches("<script").count(), 2, "{page}");
    assert_eq!(page.matches("</script>").count(), 2);
    assert!(!page.contains("<img"));
    assert!(!page.contains("<b>bold"));
    assert!(!page.contains("<evil>"));
    // The title is escaped in the static shell.
    assert!(page.contains("<title>Test &lt;report&gt;</title>"));
    // The data still holds the text, escaped for the script element.
    assert!(page.contains("\\u003cb\\u003ebold\\u003c/b\\u003e"));
}

#[test]
fn secret_values_are_redacted_as_in_the_table() {
    let page = render();
    assert!(!page.contains(SECRET_VALUE), "secret value in the report");
    assert!(page.contains("password: \\u003credacted\\u003e"), "{page}");
    // The table shows the same line the same way.
    let loaded = loaded();
    let findings = findings(&loaded);
    let rules = [&PRIVILEGED, &LIMITS, &SECRET_RULE];
    let report = Report::new("0.1.0", &loaded, &findings, &rules, Severity::Low);
    let table = palisade_report::render_to_string(
        &report,
        palisade_report::Format::Table,
        &palisade_report::RenderOptions { color: false },
    );
    assert!(!table.contains(SECRET_VALUE));
    assert!(table.contains("password: <redacted>"));
}

#[test]
fn the_page_needs_no_network() {
    let page = render();
    let lower = page.to_ascii_lowercase();
    for needle in [
        "<link",
        "src=\"http",
        "src='http",
        "@import",
        "url(http",
        "fetch(",
        "xmlhttprequest",
    ] {
        assert!(!lower.contains(needle), "{needle} in the page");
    }
    // The content security policy forbids any load even if something slipped in.
    assert!(page.contains("default-src 'none'"));
}

/// Debian's chromium, if installed.
fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .filter_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            })
        })
        .next()
}

fn headless(browser: &Path, profile: &Path, extra: &[&str], url: &str) -> std::process::Output {
    let mut command = Command::new(browser);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url);
    match command.output() {
        Ok(output) => output,
        Err(e) => panic!("cannot run {}: {e}", browser.display()),
    }
}

/// Console messages chromium logged (`INFO:CONSOLE(..)] "message", source: ...`)
/// and uncaught exceptions.
fn console_problems(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

#[test]
fn renders_and_filters_in_headless_chromium() {
    let Some(browser) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("chromium is not installed (apt-get install -y chromium) and CI=true");
        }
        eprintln!("skipped: chromium is not installed (apt-get install -y chromium)");
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let file = dir.join("report.html");
    std::fs::write(&file, render()).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let url = format!("file://{}", file.display());

    // Unfiltered: every active finding listed, the script finished, no console output.
    let all = headless(&browser, &dir.join("profile-1"), &["--dump-dom"], &url);
    let dom = String::from_utf8_lossy(&all.stdout);
    let stderr = String::from_utf8_lossy(&all.stderr);
    assert!(all.status.success(), "chromium failed: {stderr}");
    assert!(
        dom.contains("data-ready=\"1\""),
        "the script did not finish: {stderr}\n{dom}"
    );
    assert_eq!(console_problems(&stderr), Vec::<&str>::new());
    assert!(dom.contains("data-count=\"4\""), "{dom}");
    assert!(dom.contains("4 of 4 findings"));
    // Text from the manifest is shown as text (escaped in the DOM), not as markup.
    assert!(dom.contains("&lt;b&gt;bold&lt;/b&gt;"));
    assert!(!dom.contains("<img"));
    assert!(!dom.contains(SECRET_VALUE));

    // A filter in the fragment is applied on load: high and above in namespace shop.
    let filtered = headless(
        &browser,
        &dir.join("profile-2"),
        &["--dump-dom"],
        &format!("{url}#severity=high&ns=shop"),
    );
    let dom = String::from_utf8_lossy(&filtered.stdout);
    assert!(dom.contains("data-count=\"2\""), "{dom}");
    assert!(dom.contains("data-rule=\"pss/privileged\""));
    assert!(dom.contains("data-rule=\"secrets/literal\""));
    assert!(!dom.contains("data-rule=\"reliability/limits\""));
    // Search narrows further.
    let searched = headless(
        &browser,
        &dir.join("profile-3"),
        &["--dump-dom"],
        &format!("{url}#q=memory%20limit&ns=dev"),
    );
    let dom = String::from_utf8_lossy(&searched.stdout);
    assert!(dom.contains("data-count=\"1\""), "{dom}");

    // The console check itself works with this chromium: a page that logs and
    // throws is caught.
    let broken = dir.join("broken.html");
    std::fs::write(
        &broken,
        "<script>console.error('boom'); undefinedFn();</script>",
    )
    .unwrap_or_else(|e| panic!("{}: {e}", broken.display()));
    let output = headless(
        &browser,
        &dir.join("profile-0"),
        &["--dump-dom"],
        &format!("file://{}", broken.display()),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(console_problems(&stderr).len(), 2, "{stderr}");

    // The screenshot is kept as a test artifact.
    let shot = dir.join("report.png");
    let screenshot = headless(
        &browser,
        &dir.join("profile-4"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600",
            "--hide-scrollbars",
        ],
        &url,
    );
    assert!(screenshot.status.success());
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 10_000,
        "screenshot {} is {size} bytes",
        shot.display()
    );
    eprintln!("screenshot: {}", shot.display());
}
