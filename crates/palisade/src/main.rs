//! The `palisade` binary: flag definitions and glue. Analysis lives in the layer crates.

mod cli;
mod commands;
mod registry;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::FromArgMatches;

use cli::{Cli, ColorChoice, Command};

/// Exit status for usage and input errors, as documented in `--help`.
pub const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    no_error_backtraces();
    // As a kubectl plugin (`kubectl-palisade`), help and errors say `kubectl palisade`.
    let argv0 = std::env::args_os().next();
    let matches = cli::command_for(argv0.as_deref()).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    let result = match cli.command {
        Command::Scan(args) => commands::scan::run(&args, color),
        Command::Policy(cli::PolicyCommand::Verify(args)) => commands::policy::verify(&args),
        Command::Policy(cli::PolicyCommand::Test(args)) => commands::policy::test(&args, color),
        Command::Policy(cli::PolicyCommand::Audit(args)) => commands::policy::audit(&args),
        Command::Snapshot(args) => commands::snapshot::run(&args),
        Command::Pss(command) => commands::pss::run(&command),
        Command::Incident(command) => commands::incident::run(&command),
        Command::Detect(args) => commands::detect::run(&args),
        Command::Netpol(command) => commands::netpol::run(&command),
        Command::Rbac(command) => commands::rbac::run(&command),
        Command::Serve(args) => commands::serve::run(&args),
        Command::Install(command) => commands::install::run(&command),
        Command::Report(args) => commands::report::run(&args),
        Command::Completions(args) => cli::completions(&args, &mut std::io::stdout().lock())
            .map(|()| ExitCode::SUCCESS)
            .map_err(anyhow::Error::from),
        Command::Man(args) => cli::man(&args, &mut std::io::stdout().lock())
            .map(|()| ExitCode::SUCCESS)
            .map_err(anyhow::Error::from),
        Command::Rules(args) => commands::rules::list(&args),
        Command::Explain(args) => commands::rules::explain(&args),
    };
    match result {
        Ok(code) => code,
        // `palisade rules | head`: the reader left; nothing is wrong with the run.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Library errors are values here, not bugs: regorus reports an undefined
/// lookup (`object.get` on a non-object, say) as an `anyhow` error, and with
/// `RUST_BACKTRACE=1` in the environment each one captured a stack trace: 6%
/// of a webhook request's Rego time. `RUST_LIB_BACKTRACE=0` stops that for
/// errors while panics still honour `RUST_BACKTRACE`; a value the user set wins.
fn no_error_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // Before any thread exists, so nothing reads the environment meanwhile.
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
}
