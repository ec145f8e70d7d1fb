//! `palisade scan`: load → Pod Security Standards → report.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use palisade_model::{load_inputs, Finding, Input, LoadOptions};
use rayon::prelude::*;

use crate::cli::{OutputFormat, ScanArgs};
use crate::registry::all_rules;

pub fn run(args: &ScanArgs, color: bool) -> Result<ExitCode> {
    let inputs: Vec<Input> = args
        .paths
        .iter()
        .chain(&args.filenames)
        .map(|p| Input::parse(p))
        .collect();
    if inputs.is_empty() {
        bail!("nothing to scan: give a PATH, `-f PATH`, or `-` for standard input (see `palisade scan --help`)");
    }
    let policy = palisade_pss::Policy::new(
        args.level
            .parse()
            .map_err(|e| anyhow::anyhow!("--level: {e}"))?,
        args.pss_version
            .parse()
            .map_err(|e| anyhow::anyhow!("--pss-version: {e}"))?,
    );

    let progress = progress_bar();
    progress.set_message("reading manifests");
    let options = LoadOptions {
        default_namespace: args.namespace.clone(),
    };
    let loaded = load_inputs(&inputs, &options);

    progress.set_length(loaded.objects.len() as u64);
    progress.set_message("checking");
    let scanner = palisade_pss::Scanner::new(&loaded.objects, policy);
    let check_options = palisade_checks::CheckOptions::default();
    let checker = palisade_checks::Checker::new(&loaded.objects, &check_options);
    let mut findings: Vec<Finding> = loaded
        .objects
        .par_iter()
        .flat_map_iter(|object| {
            let mut found = scanner.scan(object);
            found.extend(checker.check(object));
            progress.inc(1);
            found
        })
        .collect();
    progress.finish_and_clear();
    findings.sort_by(|a, b| {
        (&a.location.file, a.location.span.start, a.rule).cmp(&(
            &b.location.file,
            b.location.span.start,
            b.rule,
        ))
    });

    let rules = all_rules();
    let report = palisade_report::Report::new(
        env!("CARGO_PKG_VERSION"),
        &loaded,
        &findings,
        &rules,
        args.fail_on,
    );
    let format = match args.output.format {
        OutputFormat::Table => palisade_report::Format::Table,
        OutputFormat::Json => palisade_report::Format::Json,
        OutputFormat::Yaml => palisade_report::Format::Yaml,
        OutputFormat::Sarif => palisade_report::Format::Sarif,
        OutputFormat::Junit => palisade_report::Format::Junit,
    };
    match &args.output.out {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            let mut out = BufWriter::new(file);
            let options = palisade_report::RenderOptions { color: false };
            palisade_report::render(&report, format, &options, &mut out)?;
            out.flush()?;
        }
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            let options = palisade_report::RenderOptions { color };
            palisade_report::render(&report, format, &options, &mut out)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// A progress bar on standard error when it is a terminal; hidden in pipes and CI logs.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos}/{len} objects")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
