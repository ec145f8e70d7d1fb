//! Lists the allowed connections of a directory of manifests:
//! `cargo run -p palisade-netpol --example list -- DIR [txt|json|csv|md|dot] [--exposure]`.

use palisade_model::{load_inputs, Input, LoadOptions};
use palisade_netpol::format::{render, Format};
use palisade_netpol::{analyze_objects, ListOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: list DIR [txt|json|csv|md|dot] [--exposure]");
        std::process::exit(2);
    };
    let format = args
        .get(1)
        .and_then(|f| Format::parse(f))
        .unwrap_or(Format::Txt);
    let opts = ListOptions {
        exposure: args.iter().any(|a| a == "--exposure"),
        ..ListOptions::default()
    };
    let loaded = load_inputs(&[Input::parse(dir)], &LoadOptions::default());
    for e in &loaded.errors {
        eprintln!("input error: {}: {}", e.file, e.message);
    }
    match analyze_objects(&loaded.objects, &opts) {
        Ok(list) => {
            for w in &list.warnings {
                eprintln!("warning: {w}");
            }
            print!("{}", render(&list, format));
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
