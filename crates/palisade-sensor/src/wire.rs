//! Decoding of the records the BPF programs send (layouts in `src/bpf/events.h`).
//!
//! Records come from the kernel, but a decoder that trusts its input is one
//! bug away from a panic: every read is bounds-checked and a short or
//! inconsistent record is an error, never a panic.

use std::fmt;

/// `PAL_KIND_*`.
pub const KIND_SYSCALL: u16 = 1;
/// An exec (from `sched_process_exec`).
pub const KIND_EXEC: u16 = 2;
/// A new process (from `sched_process_fork`).
pub const KIND_FORK: u16 = 3;
/// A process ended (its last thread exited).
pub const KIND_EXIT: u16 = 4;

/// Sizes of the fixed parts, as in events.h.
pub const HDR_SIZE: usize = 120;
/// `struct pal_sys`.
pub const SYS_SIZE: usize = 224;
/// `struct pal_exec`.
pub const EXEC_SIZE: usize = 216;
/// `struct pal_fork`.
pub const FORK_SIZE: usize = 144;
/// `PAL_CGROUP_LEVELS`.
pub const CGROUP_LEVELS: usize = 6;

/// Why a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad sensor record: {}", self.0)
    }
}

impl std::error::Error for WireError {}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn bytes(&self, off: usize, len: usize) -> Result<&'a [u8], WireError> {
        off.checked_add(len)
            .and_then(|end| self.buf.get(off..end))
            .ok_or_else(|| WireError(format!("{len} bytes at {off} past {}", self.buf.len())))
    }
    fn u8(&self, off: usize) -> Result<u8, WireError> {
        Ok(self.bytes(off, 1)?[0])
    }
    fn u16(&self, off: usize) -> Result<u16, WireError> {
        let b = self.bytes(off, 2)?;
        Ok(u16::from_ne_bytes([b[0], b[1]]))
    }
    fn u32(&self, off: usize) -> Result<u32, WireError> {
        let b = self.bytes(off, 4)?;
        Ok(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&self, off: usize) -> Result<u64, WireError> {
        let b = self.bytes(off, 8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_ne_bytes(a))
    }
    fn arr16(&self, off: usize) -> Result<[u8; 16], WireError> {
        let mut a = [0u8; 16];
        a.copy_from_slice(self.bytes(off, 16)?);
        Ok(a)
    }
}

/// The header every record starts with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// CLOCK_BOOTTIME in nanoseconds.
    pub ts: u64,
    /// Record kind.
    pub kind: u16,
    /// Process (thread group) id.
    pub tgid: u32,
    /// Thread id.
    pub tid: u32,
    /// Effective user id.
    pub uid: u32,
    /// Effective group id.
    pub gid: u32,
    /// Audit login uid (`u32::MAX`: unset).
    pub loginuid: u32,
    /// Syscall number.
    pub nr: u32,
    /// Return value.
    pub ret: i64,
    /// Raw syscall arguments.
    pub args: [u64; 6],
    /// Effective capabilities.
    pub cap_eff: u64,
    /// Permitted capabilities.
    pub cap_prm: u64,
    /// CPU the event happened on.
    pub cpu: u32,
}

/// What the kernel found behind an fd.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FdInfo {
    /// Whether the fd was found.
    pub valid: bool,
    /// Socket state (`TCP_ESTABLISHED` = 1 ...).
    pub state: u8,
    /// Inode mode (type and permission bits).
    pub mode: u16,
    /// Socket family (`AF_INET` = 2, `AF_INET6` = 10, `AF_UNIX` = 1); 0 if not a socket.
    pub family: u16,
    /// Socket type (`SOCK_STREAM` = 1 ...).
    pub sock_type: u16,
    /// IP protocol (6 TCP, 17 UDP ...).
    pub proto: u16,
    /// Local port.
    pub lport: u16,
    /// Remote port.
    pub rport: u16,
    /// Inode number.
    pub ino: u64,
    /// Local address (4 or 16 bytes used).
    pub laddr: [u8; 16],
    /// Remote address.
    pub raddr: [u8; 16],
}

/// A syscall exit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SysRecord {
    /// Header.
    pub hdr: Header,
    /// The fd the syscall is about.
    pub fd: FdInfo,
    /// Decoded extras (openat2: flags, mode).
    pub x: [u64; 2],
    /// Family of the sockaddr argument (0: none).
    pub ua_family: u16,
    /// Its port.
    pub ua_port: u16,
    /// Its address.
    pub ua_addr: [u8; 16],
    /// String arguments (slots 0..3) and the unix socket path (slot 3), raw bytes.
    pub strs: [Option<Vec<u8>>; 4],
}

/// A successful exec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecRecord {
    /// Header (`nr` is execve's or execveat's number).
    pub hdr: Header,
    /// Parent process id.
    pub ppid: u32,
    /// Controlling terminal, encoded as in /proc/PID/stat.
    pub tty: u32,
    /// Session id.
    pub sid: u32,
    /// Process group id.
    pub pgid: u32,
    /// Pid in the process's own pid namespace.
    pub vpid: u32,
    /// Executable runs from a memfd.
    pub exe_from_memfd: bool,
    /// Process start, CLOCK_BOOTTIME ns.
    pub start_ns: u64,
    /// Inode of the executable.
    pub exe_ino: u64,
    /// Start of the init process of its pid namespace, CLOCK_BOOTTIME ns
    /// (0: unknown).
    pub pidns_init_start_ns: u64,
    /// `comm` after the exec.
    pub comm: String,
    /// The path given to exec (absolute or relative to the cwd).
    pub filename: Vec<u8>,
    /// argv, NUL separated.
    pub args: Vec<u8>,
    /// cgroup v2 path components, leaf first.
    pub cgroup2: Vec<Vec<u8>>,
    /// cgroup v1 path components (one controller), leaf first.
    pub cgroup1: Vec<Vec<u8>>,
}

/// A new process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForkRecord {
    /// Header of the parent's side.
    pub hdr: Header,
    /// The new process's id.
    pub child: u32,
    /// Its parent (not always the caller: CLONE_PARENT).
    pub ppid: u32,
    /// Its start time, CLOCK_BOOTTIME ns.
    pub start_ns: u64,
    /// Start of the init process of its pid namespace, CLOCK_BOOTTIME ns
    /// (0: unknown).
    pub pidns_init_start_ns: u64,
}

/// One decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A syscall exit.
    Sys(SysRecord),
    /// A successful exec.
    Exec(ExecRecord),
    /// A new process.
    Fork(ForkRecord),
    /// A process ended.
    Exit(Header),
}

impl Record {
    /// The record's timestamp (CLOCK_BOOTTIME ns).
    pub fn ts(&self) -> u64 {
        match self {
            Record::Sys(r) => r.hdr.ts,
            Record::Exec(r) => r.hdr.ts,
            Record::Fork(r) => r.hdr.ts,
            Record::Exit(h) => h.ts,
        }
    }
}

fn header(r: &Reader<'_>) -> Result<Header, WireError> {
    let mut args = [0u64; 6];
    for (i, a) in args.iter_mut().enumerate() {
        *a = r.u64(48 + 8 * i)?;
    }
    Ok(Header {
        ts: r.u64(0)?,
        kind: r.u16(8)?,
        tgid: r.u32(16)?,
        tid: r.u32(20)?,
        uid: r.u32(24)?,
        gid: r.u32(28)?,
        loginuid: r.u32(32)?,
        nr: r.u32(36)?,
        ret: r.u64(40)? as i64,
        args,
        cap_eff: r.u64(96)?,
        cap_prm: r.u64(104)?,
        cpu: r.u32(112)?,
    })
}

/// Reads consecutive strings. Each length is what the kernel consumed: the
/// string plus its NUL, or 0 when nothing was read.
fn strings(
    r: &Reader<'_>,
    mut off: usize,
    lens: &[u16],
) -> Result<Vec<Option<Vec<u8>>>, WireError> {
    let mut out = Vec::with_capacity(lens.len());
    for &len in lens {
        let len = usize::from(len);
        if len == 0 {
            out.push(None);
            continue;
        }
        out.push(Some(r.bytes(off, len - 1)?.to_vec()));
        off += len;
    }
    Ok(out)
}

/// Decodes the records of one ring record: one record, or a CPU's batch of
/// them back to back, each at an 8-byte boundary (`size` says where the
/// next starts). A malformed record ends the batch: its error is the last item.
pub fn decode_all(buf: &[u8]) -> impl Iterator<Item = Result<Record, WireError>> + '_ {
    let mut off = 0usize;
    std::iter::from_fn(move || {
        let rest = buf.get(off..).filter(|r| !r.is_empty())?;
        let size = Reader { buf: rest }.u32(12).map(|s| s as usize);
        let item = match size {
            Ok(size) if (HDR_SIZE..=rest.len()).contains(&size) => {
                off += size.next_multiple_of(8);
                decode(&rest[..size])
            }
            Ok(size) => Err(WireError(format!(
                "record size {size} outside {HDR_SIZE}..={}",
                rest.len()
            ))),
            Err(e) => Err(e),
        };
        if item.is_err() {
            off = buf.len();
        }
        Some(item)
    })
}

/// Decodes one record.
pub fn decode(buf: &[u8]) -> Result<Record, WireError> {
    let r = Reader { buf };
    let hdr = header(&r)?;
    match hdr.kind {
        KIND_SYSCALL => {
            let fd = FdInfo {
                valid: r.u8(120)? != 0,
                state: r.u8(121)?,
                mode: r.u16(122)?,
                family: r.u16(124)?,
                sock_type: r.u16(126)?,
                proto: r.u16(128)?,
                lport: r.u16(130)?,
                rport: r.u16(132)?,
                ino: r.u64(136)?,
                laddr: r.arr16(144)?,
                raddr: r.arr16(160)?,
            };
            // Straight into the slots: no intermediate vector per record.
            let mut slots: [Option<Vec<u8>>; 4] = Default::default();
            let mut off = SYS_SIZE;
            for (i, slot) in slots.iter_mut().enumerate() {
                let len = usize::from(r.u16(212 + 2 * i)?);
                if len > 0 {
                    *slot = Some(r.bytes(off, len - 1)?.to_vec());
                    off += len;
                }
            }
            Ok(Record::Sys(SysRecord {
                hdr,
                fd,
                x: [r.u64(176)?, r.u64(184)?],
                ua_family: r.u16(192)?,
                ua_port: r.u16(194)?,
                ua_addr: r.arr16(196)?,
                strs: slots,
            }))
        }
        KIND_EXEC => {
            let comm_raw = r.bytes(160, 16)?;
            let comm_end = comm_raw.iter().position(|&b| b == 0).unwrap_or(16);
            let filename_len = r.u16(176)?;
            let args_len = r.u16(178)?;
            let cg2 = usize::from(r.u8(180)?).min(CGROUP_LEVELS);
            let cg1 = usize::from(r.u8(181)?).min(CGROUP_LEVELS);
            let mut cg2_len = Vec::new();
            let mut cg1_len = Vec::new();
            for i in 0..CGROUP_LEVELS {
                cg2_len.push(r.u16(182 + 2 * i)?);
                cg1_len.push(r.u16(194 + 2 * i)?);
            }
            let filename_consumed = usize::from(filename_len);
            let filename = strings(&r, EXEC_SIZE, &[filename_len])?
                .pop()
                .flatten()
                .unwrap_or_default();
            let mut off = EXEC_SIZE + filename_consumed;
            // argv is copied raw: its length is exact and it has its own NULs.
            let args = r.bytes(off, usize::from(args_len))?.to_vec();
            off += usize::from(args_len);
            let cgroup2: Vec<Vec<u8>> = strings(&r, off, &cg2_len[..cg2])?
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect();
            off += cg2_len[..cg2]
                .iter()
                .map(|&l| usize::from(l))
                .sum::<usize>();
            let cgroup1: Vec<Vec<u8>> = strings(&r, off, &cg1_len[..cg1])?
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect();
            Ok(Record::Exec(ExecRecord {
                ppid: r.u32(120)?,
                tty: r.u32(124)?,
                sid: r.u32(128)?,
                pgid: r.u32(132)?,
                vpid: r.u32(136)?,
                exe_from_memfd: r.u32(140)? & 1 != 0,
                start_ns: r.u64(144)?,
                exe_ino: r.u64(152)?,
                pidns_init_start_ns: r.u64(208)?,
                comm: String::from_utf8_lossy(&comm_raw[..comm_end]).into_owned(),
                filename,
                args,
                cgroup2,
                cgroup1,
                hdr,
            }))
        }
        KIND_FORK => Ok(Record::Fork(ForkRecord {
            child: r.u32(120)?,
            ppid: r.u32(124)?,
            start_ns: r.u64(128)?,
            pidns_init_start_ns: r.u64(136)?,
            hdr,
        })),
        KIND_EXIT => Ok(Record::Exit(hdr)),
        k => Err(WireError(format!("unknown kind {k}"))),
    }
}

/// Builds a record's bytes; for tests and benchmarks of the user-space side.
pub mod encode {
    /// A syscall record with string slots.
    pub fn sys(hdr: &super::Header, strs: &[Option<&[u8]>; 4]) -> Vec<u8> {
        let mut b = vec![0u8; super::SYS_SIZE];
        put_hdr(&mut b, hdr, super::KIND_SYSCALL);
        for (i, s) in strs.iter().enumerate() {
            if let Some(s) = s {
                let len = s.len().min(4095);
                let consumed = (len + 1) as u16;
                b[212 + 2 * i..214 + 2 * i].copy_from_slice(&consumed.to_ne_bytes());
                b.extend_from_slice(&s[..len]);
                b.push(0);
            }
        }
        let size = b.len() as u32;
        b[12..16].copy_from_slice(&size.to_ne_bytes());
        b
    }

    /// Writes a header into the first bytes of `b`.
    pub fn put_hdr(b: &mut [u8], h: &super::Header, kind: u16) {
        b[0..8].copy_from_slice(&h.ts.to_ne_bytes());
        b[8..10].copy_from_slice(&kind.to_ne_bytes());
        b[16..20].copy_from_slice(&h.tgid.to_ne_bytes());
        b[20..24].copy_from_slice(&h.tid.to_ne_bytes());
        b[24..28].copy_from_slice(&h.uid.to_ne_bytes());
        b[28..32].copy_from_slice(&h.gid.to_ne_bytes());
        b[32..36].copy_from_slice(&h.loginuid.to_ne_bytes());
        b[36..40].copy_from_slice(&h.nr.to_ne_bytes());
        b[40..48].copy_from_slice(&h.ret.to_ne_bytes());
        for (i, a) in h.args.iter().enumerate() {
            b[48 + 8 * i..56 + 8 * i].copy_from_slice(&a.to_ne_bytes());
        }
        b[96..104].copy_from_slice(&h.cap_eff.to_ne_bytes());
        b[104..112].copy_from_slice(&h.cap_prm.to_ne_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syscall_record_round_trips() {
        let hdr = Header {
            ts: 7,
            kind: KIND_SYSCALL,
            tgid: 10,
            tid: 11,
            uid: 1000,
            nr: 257,
            ret: 3,
            args: [1, 2, 3, 4, 5, 6],
            ..Default::default()
        };
        let b = encode::sys(&hdr, &[Some(b"/etc/shadow"), None, Some(b"x"), None]);
        let Record::Sys(r) = decode(&b).unwrap() else {
            panic!("not a syscall record")
        };
        assert_eq!(r.hdr.tgid, 10);
        assert_eq!(r.hdr.ret, 3);
        assert_eq!(r.hdr.args[5], 6);
        assert_eq!(r.strs[0].as_deref(), Some(&b"/etc/shadow"[..]));
        assert_eq!(r.strs[1], None);
        assert_eq!(r.strs[2].as_deref(), Some(&b"x"[..]));
    }

    #[test]
    fn a_batch_decodes_record_by_record() {
        let rec = |tgid: u32, path: &[u8]| {
            let hdr = Header {
                kind: KIND_SYSCALL,
                tgid,
                ..Default::default()
            };
            encode::sys(&hdr, &[Some(path), None, None, None])
        };
        // Three records, each padded to 8 bytes but the last, as the
        // kernel side lays out a batch.
        let mut batch = Vec::new();
        for (tgid, path) in [(1, &b"/a"[..]), (2, b"/etc/shadow"), (3, b"/usr/bin/x")] {
            let r = rec(tgid, path);
            assert_ne!(r.len() % 8, 0, "the test wants padding to matter");
            batch.extend_from_slice(&r);
            if tgid != 3 {
                batch.resize(batch.len().next_multiple_of(8), 0xAA);
            }
        }
        let got: Vec<(u32, Vec<u8>)> = decode_all(&batch)
            .map(|r| match r.unwrap() {
                Record::Sys(s) => (s.hdr.tgid, s.strs[0].clone().unwrap()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            got,
            [
                (1, b"/a".to_vec()),
                (2, b"/etc/shadow".to_vec()),
                (3, b"/usr/bin/x".to_vec())
            ]
        );
        // A single record is a batch of one.
        assert_eq!(decode_all(&rec(9, b"/x")).count(), 1);
        // A size that does not fit ends the batch with an error, and the
        // records before it are kept.
        let mut bad = batch.clone();
        let second = rec(1, b"/a").len().next_multiple_of(8);
        bad[second + 12..second + 16].copy_from_slice(&4096u32.to_ne_bytes());
        let items: Vec<bool> = decode_all(&bad).map(|r| r.is_ok()).collect();
        assert_eq!(items, [true, false]);
        bad[second + 12..second + 16].copy_from_slice(&0u32.to_ne_bytes());
        let items: Vec<bool> = decode_all(&bad).map(|r| r.is_ok()).collect();
        assert_eq!(items, [true, false]);
        // Trailing bytes too short for a header are an error, not a panic.
        let mut tail = rec(5, b"/y");
        tail.resize(tail.len().next_multiple_of(8) + 5, 0);
        let items: Vec<bool> = decode_all(&tail).map(|r| r.is_ok()).collect();
        assert_eq!(items, [true, false]);
    }

    #[test]
    fn truncated_and_garbage_records_are_errors() {
        let hdr = Header {
            kind: KIND_SYSCALL,
            ..Default::default()
        };
        let b = encode::sys(&hdr, &[Some(b"/etc/shadow"), None, None, None]);
        // Every prefix that cuts into the string (the final NUL is not
        // needed) is too short for what the record declares.
        for n in 0..b.len() - 1 {
            assert!(decode(&b[..n]).is_err(), "prefix {n} decoded");
        }
        let mut bad = b.clone();
        bad[8] = 99;
        assert!(decode(&bad).is_err());
        // Arbitrary bytes never panic.
        let mut x: u32 = 1;
        for _ in 0..2000 {
            let len = (x % 600) as usize;
            let buf: Vec<u8> = (0..len)
                .map(|i| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u8 ^ i as u8
                })
                .collect();
            let _ = decode(&buf);
        }
    }
}
