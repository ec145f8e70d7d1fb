//! Builds `crates/palisade/src/commands/detect.rs` standalone, so the command
//! compiles and runs before it is wired into the `palisade` binary:
//! `cargo run -p palisade-detect --example detect_cli -- -r rules.yaml --audit-log audit.log`.

#[path = "../../palisade/src/commands/detect.rs"]
mod detect;

use clap::Parser;

#[derive(Parser)]
#[command(name = "palisade-detect")]
struct Cli {
    #[command(flatten)]
    args: detect::DetectArgs,
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    detect::run(&Cli::parse().args)
}
