//! Builds the eBPF programs (feature `bpf`): `vmlinux.h` is generated from the
//! build machine's kernel BTF with bpftool (never committed: it is large and
//! kernel-specific; CO-RE relocations make the object portable anyway), then
//! clang compiles `src/bpf/sensor.bpf.c` and libbpf-cargo writes the Rust
//! skeleton into `OUT_DIR`.

fn main() {
    println!("cargo:rerun-if-changed=src/bpf/sensor.bpf.c");
    println!("cargo:rerun-if-changed=src/bpf/events.h");
    println!("cargo:rerun-if-env-changed=PALISADE_VMLINUX_H");
    println!("cargo:rerun-if-env-changed=BPFTOOL");
    println!("cargo:rerun-if-env-changed=CLANG");
    #[cfg(feature = "bpf")]
    bpf::build();
}

#[cfg(feature = "bpf")]
mod bpf {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    const HELP: &str = "palisade-sensor: building the eBPF sensor needs clang, bpftool and libelf \
(Debian/Ubuntu: apt-get install clang bpftool libelf-dev zlib1g-dev pkg-config) and the kernel's \
BTF at /sys/kernel/btf/vmlinux (or PALISADE_VMLINUX_H=/path/to/vmlinux.h). To build Palisade \
without the syscall sensor: cargo build -p palisade --no-default-features";

    fn fail(msg: &str) -> ! {
        // A build script reports errors by failing; the message is what users see.
        panic!("{msg}\n{HELP}");
    }

    fn find_tool(env: &str, name: &str, extra: &[&str]) -> Option<PathBuf> {
        if let Ok(p) = std::env::var(env) {
            return Some(PathBuf::from(p));
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .chain(extra.iter().map(PathBuf::from))
            .find(|p| p.is_file())
    }

    fn vmlinux_h(out: &Path) -> PathBuf {
        let dir = out.join("vmlinux");
        if let Err(e) = std::fs::create_dir_all(&dir) {
            fail(&format!("cannot create {}: {e}", dir.display()));
        }
        let header = dir.join("vmlinux.h");
        if let Ok(given) = std::env::var("PALISADE_VMLINUX_H") {
            if let Err(e) = std::fs::copy(&given, &header) {
                fail(&format!("cannot copy PALISADE_VMLINUX_H={given}: {e}"));
            }
            return dir;
        }
        let btf = "/sys/kernel/btf/vmlinux";
        if !Path::new(btf).exists() {
            fail(&format!("{btf} not found: this kernel has no BTF"));
        }
        let Some(bpftool) = find_tool("BPFTOOL", "bpftool", &["/usr/sbin/bpftool"]) else {
            fail("bpftool not found");
        };
        let output = Command::new(&bpftool)
            .args(["btf", "dump", "file", btf, "format", "c"])
            .output()
            .unwrap_or_else(|e| fail(&format!("cannot run {}: {e}", bpftool.display())));
        if !output.status.success() {
            fail(&format!(
                "bpftool btf dump failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        if let Err(e) = std::fs::write(&header, &output.stdout) {
            fail(&format!("cannot write {}: {e}", header.display()));
        }
        dir
    }

    pub fn build() {
        let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
        let Some(clang) = find_tool("CLANG", "clang", &[]) else {
            fail("clang not found");
        };
        let include = vmlinux_h(&out);
        let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
        let src = manifest.join("src/bpf/sensor.bpf.c");
        let skel = out.join("sensor.skel.rs");
        let result = libbpf_cargo::SkeletonBuilder::new()
            .source(&src)
            .clang(&clang)
            .clang_args([
                "-I".into(),
                include.into_os_string(),
                "-I".into(),
                manifest.join("src/bpf").into_os_string(),
                "-Wall".into(),
            ])
            .build_and_generate(&skel);
        if let Err(e) = result {
            fail(&format!("compiling {} failed: {e:#}", src.display()));
        }
    }
}
