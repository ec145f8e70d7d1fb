//! `palisade rules` and `palisade explain`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Result};

use crate::cli::{ExplainArgs, ListFormat, RulesArgs};
use palisade_model::RuleMeta;

use crate::registry::{all_rules, find};

pub fn list(args: &RulesArgs) -> Result<ExitCode> {
    let rules = all_rules();
    let mut out = std::io::stdout().lock();
    match args.format {
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rules)?;
            writeln!(out)?;
        }
        ListFormat::Markdown => write!(out, "{}", markdown_table(&rules))?,
        ListFormat::Table => {
            let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
            writeln!(
                out,
                "{:width$}  {:8}  {:7}  {:14}  TITLE",
                "ID", "SEVERITY", "DEFAULT", "CATEGORY"
            )?;
            for rule in &rules {
                writeln!(
                    out,
                    "{:width$}  {:8}  {:7}  {:14}  {}",
                    rule.id,
                    rule.severity.as_str(),
                    default_state(rule),
                    rule.category,
                    rule.title
                )?;
            }
            writeln!(
                out,
                "\n{} rules. `palisade explain ID` prints a rule's documentation.",
                rules.len()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn explain(args: &ExplainArgs) -> Result<ExitCode> {
    let Some(rule) = find(&args.rule) else {
        let needle = args.rule.to_ascii_lowercase();
        let tail = needle.rsplit('/').next().unwrap_or(&needle).to_string();
        let similar: Vec<&str> = all_rules()
            .into_iter()
            .map(|r| r.id)
            .filter(|id| id.to_ascii_lowercase().contains(&tail))
            .collect();
        if similar.is_empty() {
            bail!("no rule {:?}; `palisade rules` lists them all", args.rule);
        }
        bail!(
            "no rule {:?}; did you mean {}?",
            args.rule,
            similar.join(", ")
        );
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "# {}: {}\n", rule.id, rule.title)?;
    writeln!(
        out,
        "Severity: {}   Category: {}\n",
        rule.severity, rule.category
    )?;
    writeln!(out, "{}", rule.docs.trim_end())?;
    if !rule.help_uri.is_empty() {
        writeln!(out, "\nReference: {}", rule.help_uri)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The rule list as a Markdown table, one row per rule, with its framework controls.
pub fn markdown_table(rules: &[&RuleMeta]) -> String {
    let mut out = String::from(
        "| rule | severity | default | what it checks | frameworks |\n|---|---|---|---|---|\n",
    );
    for rule in rules {
        let controls: Vec<String> = rule
            .controls
            .iter()
            .map(|c| format!("{} {}", c.framework, c.id))
            .collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            rule.id,
            rule.severity,
            default_state(rule),
            rule.title.replace('|', "\\|"),
            controls.join(", ")
        ));
    }
    out
}

/// `off` for optional rules (enabled with `--enable`), `on` for the others.
fn default_state(rule: &RuleMeta) -> &'static str {
    if crate::registry::is_optional(rule.id) {
        "off"
    } else {
        "on"
    }
}
