//! Palisade's eBPF syscall sensor: the `syscall` event source of
//! `palisade detect`.
//!
//! BPF programs (`src/bpf/sensor.bpf.c`, built with clang and loaded with
//! libbpf-rs) report syscall exits (per-syscall `fexit` programs, or the
//! generic `sys_exit` tracepoint where the kernel refuses them: see
//! [`syscalls::ExitHook`]), execs, forks and exits into one ring buffer per
//! CPU; [`wire`] decodes the records, [`state::State`] keeps the
//! process table ([`process`]) and turns records into
//! [`event::SyscallEvent`]s, which implement `palisade_detect::Event` with
//! libsinsp's field semantics. The kernel side only sends the syscalls some
//! loaded rule can match (see [`syscalls`]).
//!
//! Two economies on the kernel side, because on kernels with return-thunk
//! mitigations every BPF helper call costs (see BENCHMARKS.md):
//! - Syscall records are gathered per CPU and sent as one ring record when
//!   the batch is full, before any other record of that CPU (so the ring
//!   keeps each CPU's order), by a program on a 10 ms CPU-clock timer on
//!   every online CPU ([`bpf::FLUSH_PERIOD`]; set up again when the online
//!   CPUs change, and a CPU without one sends each record at once), and when
//!   the CPU goes idle (the timer does not run in idle).
//! - A syscall record may reuse its CPU's last clock reading: only while the
//!   same task runs without a context switch, no drain of the rings and no
//!   chdir of any task has happened since, and fewer than 16 records ago;
//!   exec, fork, exit and chdir read the clock exactly. `evt.time` is then
//!   at most that much early (in a tight loop, tens of µs). Both economies
//!   are on with the generic tracepoint only (its programs run with
//!   preemption off; fexit programs can be preempted).
//!
//! User space merges the CPUs' records by time, holding each back
//! [`bpf::HOLD_BACK`] (100 ms) so that a record still in a batch or reused
//! reading cannot be overtaken: a task moved to another CPU reads the clock
//! afresh there, after everything it did before. Alerts therefore come about
//! 100 ms after their syscall.
//!
//! Container and pod names come from the CRI runtime socket ([`cri`], the
//! `cri` feature, on by default), asked in the background.
//!
//! Everything but the loader builds without clang: the `bpf` feature (on by
//! default) brings the loader, [`bpf::Sensor`].

#[cfg(feature = "bpf")]
pub mod bpf;
pub mod container;
pub mod cri;
pub mod drops;
pub mod event;
pub mod process;
pub mod run;
pub mod state;
pub mod syscalls;
pub mod users;
pub mod wire;

/// Whether this build includes the BPF loader.
pub const BPF_ENABLED: bool = cfg!(feature = "bpf");
