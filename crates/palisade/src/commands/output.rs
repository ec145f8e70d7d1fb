//! Writing a report where the user asked, in the format they asked.

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::{Context, Result};
use palisade_report::{Format, RenderOptions, Report};

use crate::cli::{OutputArgs, OutputFormat};

/// Renders `report` to `--out FILE` (never coloured) or to standard output.
pub fn write_report(report: &Report, output: &OutputArgs, color: bool) -> Result<()> {
    let format = match output.format {
        OutputFormat::Table => Format::Table,
        OutputFormat::Json => Format::Json,
        OutputFormat::Yaml => Format::Yaml,
        OutputFormat::Sarif => Format::Sarif,
        OutputFormat::Junit => Format::Junit,
    };
    match &output.out {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            let mut out = BufWriter::new(file);
            palisade_report::render(report, format, &RenderOptions { color: false }, &mut out)?;
            out.flush()?;
        }
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            palisade_report::render(report, format, &RenderOptions { color }, &mut out)?;
            out.flush()?;
        }
    }
    Ok(())
}
