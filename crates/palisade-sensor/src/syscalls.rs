//! The syscalls the sensor knows: their numbers on each architecture, what
//! the kernel side captures for them, and the names of their parameters as
//! Falco's event table gives them (for `evt.arg.NAME` and `evt.args`).

/// How a parameter's value is produced from a syscall record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// The return value, as an errno name when negative (`res`).
    Res,
    /// The return value as an fd (`fd` of open/socket/accept).
    RetFd,
    /// Raw argument `i`, signed.
    Int(u8),
    /// Raw argument `i`, unsigned.
    Uint(u8),
    /// Argument `i` as an fd number (`AT_FDCWD` shown as such).
    Fd(u8),
    /// String slot `i` as a path (made absolute when relative).
    Path(u8),
    /// String slot `i` as given.
    Str(u8),
    /// Open flags from argument `i` (`O_RDONLY|O_CLOEXEC`).
    OpenFlags(u8),
    /// Open flags from openat2's `struct open_how`.
    OpenHowFlags,
    /// File mode from argument `i` (octal).
    Mode(u8),
    /// ptrace request from argument `i` (`PTRACE_ATTACH`).
    PtraceRequest(u8),
    /// Socket family from argument `i` (`AF_INET`).
    SocketFamily(u8),
    /// Socket type from argument `i` (`SOCK_STREAM`).
    SocketType(u8),
    /// The connection as `fd.name` shows it.
    Tuple,
    /// The user sockaddr (`ip:port`, unix path).
    Addr,
}

/// Drop/sent counter categories (`PAL_CAT_*`).
pub const CAT_FILE: u8 = 0;
/// Network syscalls.
pub const CAT_NET: u8 = 1;
/// Process lifecycle.
pub const CAT_PROC: u8 = 2;
/// Everything else.
pub const CAT_OTHER: u8 = 3;
/// Category names, for metrics.
pub const CATEGORY_NAMES: [&str; 4] = ["file", "net", "proc", "other"];

/// `PAL_SPECIAL_*`.
pub const SPECIAL_EXEC: u8 = 1;
/// openat2: flags from `struct open_how`.
pub const SPECIAL_OPENAT2: u8 = 2;
/// sendmsg: the address is inside a `msghdr`.
pub const SPECIAL_MSGHDR: u8 = 3;
/// `PAL_FD_RET`.
pub const FD_RET: u8 = 0xfe;
/// `PAL_NONE`.
pub const NONE: u8 = 0xff;

/// One syscall.
#[derive(Debug, Clone, Copy)]
pub struct Syscall {
    /// Falco's event type name.
    pub name: &'static str,
    /// Number on x86_64 (-1: absent).
    pub x86_64: i32,
    /// Number on aarch64 (-1: absent).
    pub aarch64: i32,
    /// Counter category.
    pub category: u8,
    /// Special decoding (`SPECIAL_*`, 0 none).
    pub special: u8,
    /// Argument holding an fd to describe, `FD_RET`, or `NONE`.
    pub fd_arg: u8,
    /// Arguments that are user strings (up to 3), or `NONE`.
    pub str_args: [u8; 3],
    /// Argument that is a sockaddr (or msghdr), or `NONE`.
    pub addr_arg: u8,
    /// Argument holding the sockaddr length, or `NONE`.
    pub addr_len_arg: u8,
    /// Falco's parameter names and how to produce each.
    pub params: &'static [(&'static str, Param)],
}

const N: u8 = NONE;

const fn sc(
    name: &'static str,
    x86_64: i32,
    aarch64: i32,
    category: u8,
    params: &'static [(&'static str, Param)],
) -> Syscall {
    Syscall {
        name,
        x86_64,
        aarch64,
        category,
        special: 0,
        fd_arg: N,
        str_args: [N, N, N],
        addr_arg: N,
        addr_len_arg: N,
        params,
    }
}

const fn strs(mut s: Syscall, a: [u8; 3]) -> Syscall {
    s.str_args = a;
    s
}

const fn fd(mut s: Syscall, f: u8) -> Syscall {
    s.fd_arg = f;
    s
}

/// The open family: the fd's type comes from the flags (as libsinsp does), so
/// the kernel side need not look the new file up; this keeps the most
/// frequent event cheap.
const fn nofd(s: Syscall, _f: u8) -> Syscall {
    s
}

const fn addr(mut s: Syscall, a: u8, len: u8) -> Syscall {
    s.addr_arg = a;
    s.addr_len_arg = len;
    s
}

const fn special(mut s: Syscall, x: u8) -> Syscall {
    s.special = x;
    s
}

use Param::*;

/// Every syscall the sensor can report. Numbers from the kernel's syscall
/// tables (arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h).
pub static SYSCALLS: &[Syscall] = &[
    // Files.
    strs(
        nofd(
            sc(
                "open",
                2,
                -1,
                CAT_FILE,
                &[
                    ("fd", RetFd),
                    ("name", Path(0)),
                    ("flags", OpenFlags(1)),
                    ("mode", Mode(2)),
                ],
            ),
            FD_RET,
        ),
        [0, N, N],
    ),
    strs(
        nofd(
            sc(
                "openat",
                257,
                56,
                CAT_FILE,
                &[
                    ("fd", RetFd),
                    ("dirfd", Fd(0)),
                    ("name", Path(0)),
                    ("flags", OpenFlags(2)),
                    ("mode", Mode(3)),
                ],
            ),
            FD_RET,
        ),
        [1, N, N],
    ),
    special(
        strs(
            nofd(
                sc(
                    "openat2",
                    437,
                    437,
                    CAT_FILE,
                    &[
                        ("fd", RetFd),
                        ("dirfd", Fd(0)),
                        ("name", Path(0)),
                        ("flags", OpenHowFlags),
                    ],
                ),
                FD_RET,
            ),
            [1, N, N],
        ),
        SPECIAL_OPENAT2,
    ),
    strs(
        nofd(
            sc(
                "creat",
                85,
                -1,
                CAT_FILE,
                &[("fd", RetFd), ("name", Path(0)), ("mode", Mode(1))],
            ),
            FD_RET,
        ),
        [0, N, N],
    ),
    strs(
        sc(
            "unlink",
            87,
            -1,
            CAT_FILE,
            &[("res", Res), ("path", Path(0))],
        ),
        [0, N, N],
    ),
    strs(
        sc(
            "unlinkat",
            263,
            35,
            CAT_FILE,
            &[
                ("res", Res),
                ("dirfd", Fd(0)),
                ("name", Path(0)),
                ("flags", Uint(2)),
            ],
        ),
        [1, N, N],
    ),
    strs(
        sc(
            "rename",
            82,
            -1,
            CAT_FILE,
            &[("res", Res), ("oldpath", Path(0)), ("newpath", Path(1))],
        ),
        [0, 1, N],
    ),
    strs(
        sc(
            "renameat",
            264,
            38,
            CAT_FILE,
            &[
                ("res", Res),
                ("olddirfd", Fd(0)),
                ("oldpath", Path(0)),
                ("newdirfd", Fd(2)),
                ("newpath", Path(1)),
            ],
        ),
        [1, 3, N],
    ),
    strs(
        sc(
            "renameat2",
            316,
            276,
            CAT_FILE,
            &[
                ("res", Res),
                ("olddirfd", Fd(0)),
                ("oldpath", Path(0)),
                ("newdirfd", Fd(2)),
                ("newpath", Path(1)),
                ("flags", Uint(4)),
            ],
        ),
        [1, 3, N],
    ),
    strs(
        sc(
            "mkdir",
            83,
            -1,
            CAT_FILE,
            &[("res", Res), ("path", Path(0)), ("mode", Mode(1))],
        ),
        [0, N, N],
    ),
    strs(
        sc(
            "mkdirat",
            258,
            34,
            CAT_FILE,
            &[
                ("res", Res),
                ("dirfd", Fd(0)),
                ("path", Path(0)),
                ("mode", Mode(2)),
            ],
        ),
        [1, N, N],
    ),
    strs(
        sc(
            "rmdir",
            84,
            -1,
            CAT_FILE,
            &[("res", Res), ("path", Path(0))],
        ),
        [0, N, N],
    ),
    strs(
        sc(
            "chmod",
            90,
            -1,
            CAT_FILE,
            &[("res", Res), ("filename", Path(0)), ("mode", Mode(1))],
        ),
        [0, N, N],
    ),
    strs(
        sc(
            "fchmodat",
            268,
            53,
            CAT_FILE,
            &[
                ("res", Res),
                ("dirfd", Fd(0)),
                ("filename", Path(0)),
                ("mode", Mode(2)),
            ],
        ),
        [1, N, N],
    ),
    sc(
        "fchmod",
        91,
        52,
        CAT_FILE,
        &[("res", Res), ("fd", Fd(0)), ("mode", Mode(1))],
    ),
    strs(
        sc(
            "symlink",
            88,
            -1,
            CAT_FILE,
            &[("res", Res), ("target", Str(0)), ("linkpath", Path(1))],
        ),
        [0, 1, N],
    ),
    strs(
        sc(
            "symlinkat",
            266,
            36,
            CAT_FILE,
            &[
                ("res", Res),
                ("target", Str(0)),
                ("linkdirfd", Fd(1)),
                ("linkpath", Path(1)),
            ],
        ),
        [0, 2, N],
    ),
    strs(
        sc(
            "link",
            86,
            -1,
            CAT_FILE,
            &[("res", Res), ("oldpath", Path(0)), ("newpath", Path(1))],
        ),
        [0, 1, N],
    ),
    strs(
        sc(
            "linkat",
            265,
            37,
            CAT_FILE,
            &[
                ("res", Res),
                ("olddir", Fd(0)),
                ("oldpath", Path(0)),
                ("newdir", Fd(2)),
                ("newpath", Path(1)),
                ("flags", Uint(4)),
            ],
        ),
        [1, 3, N],
    ),
    strs(
        sc(
            "chdir",
            80,
            49,
            CAT_FILE,
            &[("res", Res), ("path", Path(0))],
        ),
        [0, N, N],
    ),
    sc("fchdir", 81, 50, CAT_FILE, &[("res", Res), ("fd", Fd(0))]),
    fd(
        sc("dup", 32, 23, CAT_FILE, &[("res", Res), ("oldfd", Fd(0))]),
        0,
    ),
    fd(
        sc(
            "dup2",
            33,
            -1,
            CAT_FILE,
            &[("res", Res), ("oldfd", Fd(0)), ("newfd", Fd(1))],
        ),
        0,
    ),
    fd(
        sc(
            "dup3",
            292,
            24,
            CAT_FILE,
            &[
                ("res", Res),
                ("oldfd", Fd(0)),
                ("newfd", Fd(1)),
                ("flags", Uint(2)),
            ],
        ),
        0,
    ),
    strs(
        fd(
            sc(
                "memfd_create",
                319,
                279,
                CAT_FILE,
                &[("fd", RetFd), ("name", Str(0)), ("flags", Uint(1))],
            ),
            FD_RET,
        ),
        [0, N, N],
    ),
    strs(
        sc(
            "mount",
            165,
            40,
            CAT_FILE,
            &[
                ("res", Res),
                ("dev", Str(0)),
                ("dir", Path(1)),
                ("type", Str(2)),
                ("flags", Uint(3)),
            ],
        ),
        [0, 1, 2],
    ),
    strs(
        sc(
            "umount2",
            166,
            39,
            CAT_FILE,
            &[("res", Res), ("name", Path(0)), ("flags", Uint(1))],
        ),
        [0, N, N],
    ),
    // Network.
    fd(
        sc(
            "socket",
            41,
            198,
            CAT_NET,
            &[
                ("fd", RetFd),
                ("domain", SocketFamily(0)),
                ("type", SocketType(1)),
                ("proto", Uint(2)),
            ],
        ),
        FD_RET,
    ),
    addr(
        fd(
            sc(
                "connect",
                42,
                203,
                CAT_NET,
                &[
                    ("res", Res),
                    ("tuple", Tuple),
                    ("fd", Fd(0)),
                    ("addr", Addr),
                ],
            ),
            0,
        ),
        1,
        2,
    ),
    fd(
        sc(
            "accept",
            43,
            202,
            CAT_NET,
            &[("fd", RetFd), ("tuple", Tuple)],
        ),
        FD_RET,
    ),
    fd(
        sc(
            "accept4",
            288,
            242,
            CAT_NET,
            &[("fd", RetFd), ("tuple", Tuple), ("flags", Uint(3))],
        ),
        FD_RET,
    ),
    addr(
        fd(
            sc(
                "bind",
                49,
                200,
                CAT_NET,
                &[("res", Res), ("addr", Addr), ("fd", Fd(0))],
            ),
            0,
        ),
        1,
        2,
    ),
    fd(
        sc(
            "listen",
            50,
            201,
            CAT_NET,
            &[("res", Res), ("fd", Fd(0)), ("backlog", Int(1))],
        ),
        0,
    ),
    addr(
        fd(
            sc(
                "sendto",
                44,
                206,
                CAT_NET,
                &[
                    ("res", Res),
                    ("fd", Fd(0)),
                    ("size", Uint(2)),
                    ("tuple", Tuple),
                ],
            ),
            0,
        ),
        4,
        5,
    ),
    special(
        addr(
            fd(
                sc(
                    "sendmsg",
                    46,
                    211,
                    CAT_NET,
                    &[("res", Res), ("fd", Fd(0)), ("tuple", Tuple)],
                ),
                0,
            ),
            1,
            N,
        ),
        SPECIAL_MSGHDR,
    ),
    // Processes and privileges.
    special(
        strs(
            sc(
                "execve",
                59,
                221,
                CAT_PROC,
                &[("res", Res), ("filename", Path(0))],
            ),
            [0, N, N],
        ),
        SPECIAL_EXEC,
    ),
    special(
        strs(
            sc(
                "execveat",
                322,
                281,
                CAT_PROC,
                &[
                    ("res", Res),
                    ("dirfd", Fd(0)),
                    ("pathname", Path(0)),
                    ("flags", Uint(4)),
                ],
            ),
            [1, N, N],
        ),
        SPECIAL_EXEC,
    ),
    sc(
        "ptrace",
        101,
        117,
        CAT_PROC,
        &[
            ("res", Res),
            ("addr", Uint(2)),
            ("data", Uint(3)),
            ("request", PtraceRequest(0)),
            ("pid", Int(1)),
        ],
    ),
    sc(
        "kill",
        62,
        129,
        CAT_PROC,
        &[("res", Res), ("pid", Int(0)), ("sig", Int(1))],
    ),
    sc(
        "setuid",
        105,
        146,
        CAT_PROC,
        &[("res", Res), ("uid", Uint(0))],
    ),
    sc(
        "setgid",
        106,
        144,
        CAT_PROC,
        &[("res", Res), ("gid", Uint(0))],
    ),
    sc(
        "setreuid",
        113,
        145,
        CAT_PROC,
        &[("res", Res), ("ruid", Uint(0)), ("euid", Uint(1))],
    ),
    sc(
        "setregid",
        114,
        143,
        CAT_PROC,
        &[("res", Res), ("rgid", Uint(0)), ("egid", Uint(1))],
    ),
    sc(
        "setresuid",
        117,
        147,
        CAT_PROC,
        &[
            ("res", Res),
            ("ruid", Uint(0)),
            ("euid", Uint(1)),
            ("suid", Uint(2)),
        ],
    ),
    sc(
        "setresgid",
        119,
        149,
        CAT_PROC,
        &[
            ("res", Res),
            ("rgid", Uint(0)),
            ("egid", Uint(1)),
            ("sgid", Uint(2)),
        ],
    ),
    sc(
        "setfsuid",
        122,
        151,
        CAT_PROC,
        &[("res", Res), ("uid", Uint(0))],
    ),
    sc(
        "setfsgid",
        123,
        152,
        CAT_PROC,
        &[("res", Res), ("gid", Uint(0))],
    ),
    sc("setsid", 112, 157, CAT_PROC, &[("res", Res)]),
    sc(
        "setpgid",
        109,
        154,
        CAT_PROC,
        &[("res", Res), ("pid", Int(0)), ("pgid", Int(1))],
    ),
    sc("capset", 126, 91, CAT_PROC, &[("res", Res)]),
    sc(
        "unshare",
        272,
        97,
        CAT_PROC,
        &[("res", Res), ("flags", Uint(0))],
    ),
    sc(
        "setns",
        308,
        268,
        CAT_PROC,
        &[("res", Res), ("fd", Fd(0)), ("nstype", Uint(1))],
    ),
    sc(
        "prctl",
        157,
        167,
        CAT_PROC,
        &[("res", Res), ("option", Int(0)), ("arg2_int", Int(1))],
    ),
    strs(
        sc(
            "chroot",
            161,
            51,
            CAT_PROC,
            &[("res", Res), ("path", Path(0))],
        ),
        [0, N, N],
    ),
    strs(
        sc(
            "init_module",
            175,
            105,
            CAT_OTHER,
            &[("res", Res), ("length", Uint(1)), ("uargs", Str(0))],
        ),
        [2, N, N],
    ),
    strs(
        sc(
            "finit_module",
            313,
            273,
            CAT_OTHER,
            &[
                ("res", Res),
                ("fd", Fd(0)),
                ("uargs", Str(0)),
                ("flags", Uint(2)),
            ],
        ),
        [1, N, N],
    ),
    sc(
        "bpf",
        321,
        280,
        CAT_OTHER,
        &[("fd", RetFd), ("cmd", Int(0))],
    ),
    sc(
        "userfaultfd",
        323,
        282,
        CAT_OTHER,
        &[("res", Res), ("flags", Uint(0))],
    ),
    sc(
        "process_vm_writev",
        311,
        271,
        CAT_OTHER,
        &[("res", Res), ("pid", Int(0))],
    ),
    sc(
        "pidfd_getfd",
        438,
        438,
        CAT_OTHER,
        &[
            ("fd", RetFd),
            ("pidfd", Fd(0)),
            ("targetfd", Fd(1)),
            ("flags", Uint(2)),
        ],
    ),
    sc(
        "clone",
        56,
        220,
        CAT_PROC,
        &[("res", Res), ("flags", Uint(0))],
    ),
    sc("clone3", 435, 435, CAT_PROC, &[("res", Res)]),
    sc("fork", 57, -1, CAT_PROC, &[("res", Res)]),
    sc("vfork", 58, -1, CAT_PROC, &[("res", Res)]),
];

/// The number of `s` on the architecture this binary was built for.
pub fn number(s: &Syscall) -> Option<u32> {
    let n = if cfg!(target_arch = "aarch64") {
        s.aarch64
    } else {
        s.x86_64
    };
    u32::try_from(n).ok()
}

/// The syscall with this Falco name.
pub fn by_name(name: &str) -> Option<&'static Syscall> {
    SYSCALLS.iter().find(|s| s.name == name)
}

/// The syscall with this number on this architecture.
pub fn by_number(nr: u32) -> Option<&'static Syscall> {
    SYSCALLS.iter().find(|s| number(s) == Some(nr))
}

/// How syscall exits are hooked in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExitHook {
    /// Per-syscall `fexit` programs when every captured syscall has one on
    /// this kernel, the generic tracepoint otherwise.
    #[default]
    Auto,
    /// One `fexit` program per captured syscall, on its entry point: the
    /// other syscalls pay nothing.
    Fexit,
    /// The generic `sys_exit` tracepoint: runs on every syscall's exit.
    Tracepoint,
}

impl std::fmt::Display for ExitHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ExitHook::Auto => "auto",
            ExitHook::Fexit => "fexit",
            ExitHook::Tracepoint => "tracepoint",
        })
    }
}

/// The kernel function whose exit reports this syscall in `fexit` mode
/// (without the architecture's `__x64_sys_`/`__arm64_sys_` prefix), or
/// `None` when it must be seen by the generic tracepoint: the clone family,
/// whose child returns to user space without leaving that function.
/// `sensor.bpf.c` has a program `pal_fx_NAME` for each `Some`.
pub fn fexit_function(s: &Syscall) -> Option<&'static str> {
    match s.name {
        "clone" | "clone3" | "fork" | "vfork" => None,
        "umount2" => Some("umount"),
        name => Some(name),
    }
}

/// The prefix of syscall entry points on this architecture.
pub const SYSCALL_PREFIX: &str = if cfg!(target_arch = "aarch64") {
    "__arm64_sys_"
} else {
    "__x64_sys_"
};

/// Syscalls always captured whatever the rules: the process table and the
/// working directories depend on them (as libsinsp's "state" syscalls).
pub const STATE_SYSCALLS: &[&str] = &["execve", "execveat", "chdir", "fchdir"];

/// Linux errno names, by number, for `evt.res`.
pub fn errno_name(e: i64) -> Option<&'static str> {
    Some(match e {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        7 => "E2BIG",
        8 => "ENOEXEC",
        9 => "EBADF",
        10 => "ECHILD",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        17 => "EEXIST",
        18 => "EXDEV",
        19 => "ENODEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        23 => "ENFILE",
        24 => "EMFILE",
        25 => "ENOTTY",
        26 => "ETXTBSY",
        27 => "EFBIG",
        28 => "ENOSPC",
        29 => "ESPIPE",
        30 => "EROFS",
        31 => "EMLINK",
        32 => "EPIPE",
        36 => "ENAMETOOLONG",
        38 => "ENOSYS",
        39 => "ENOTEMPTY",
        40 => "ELOOP",
        88 => "ENOTSOCK",
        95 => "EOPNOTSUPP",
        97 => "EAFNOSUPPORT",
        98 => "EADDRINUSE",
        99 => "EADDRNOTAVAIL",
        100 => "ENETDOWN",
        101 => "ENETUNREACH",
        103 => "ECONNABORTED",
        104 => "ECONNRESET",
        106 => "EISCONN",
        107 => "ENOTCONN",
        110 => "ETIMEDOUT",
        111 => "ECONNREFUSED",
        113 => "EHOSTUNREACH",
        114 => "EALREADY",
        115 => "EINPROGRESS",
        _ => return None,
    })
}

/// Open flags as libsinsp names them; access mode first.
pub fn open_flags(flags: u64) -> String {
    let mut names: Vec<&str> = Vec::new();
    names.push(match flags & 3 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        _ => "O_RDWR",
    });
    // Linux's generic (x86_64, aarch64) values.
    let table: [(u64, &str); 14] = [
        (0o100, "O_CREAT"),
        (0o200, "O_EXCL"),
        (0o400, "O_NOCTTY"),
        (0o1000, "O_TRUNC"),
        (0o2000, "O_APPEND"),
        (0o4000, "O_NONBLOCK"),
        (0o10000, "O_DSYNC"),
        (0o40000, "O_DIRECT"),
        (0o100000, "O_LARGEFILE"),
        (0o200000, "O_DIRECTORY"),
        (0o400000, "O_NOFOLLOW"),
        (0o1000000, "O_NOATIME"),
        (0o2000000, "O_CLOEXEC"),
        (0o10000000, "O_PATH"),
    ];
    for (bit, name) in table {
        if flags & bit != 0 {
            names.push(name);
        }
    }
    if flags & 0o20200000 == 0o20200000 {
        names.push("O_TMPFILE");
    }
    names.join("|")
}

/// ptrace request names.
pub fn ptrace_request(r: u64) -> Option<&'static str> {
    Some(match r {
        0 => "PTRACE_TRACEME",
        1 => "PTRACE_PEEKTEXT",
        2 => "PTRACE_PEEKDATA",
        3 => "PTRACE_PEEKUSR",
        4 => "PTRACE_POKETEXT",
        5 => "PTRACE_POKEDATA",
        6 => "PTRACE_POKEUSR",
        7 => "PTRACE_CONT",
        8 => "PTRACE_KILL",
        9 => "PTRACE_SINGLESTEP",
        12 => "PTRACE_GETREGS",
        13 => "PTRACE_SETREGS",
        14 => "PTRACE_GETFPREGS",
        15 => "PTRACE_SETFPREGS",
        16 => "PTRACE_ATTACH",
        17 => "PTRACE_DETACH",
        24 => "PTRACE_SYSCALL",
        0x4200 => "PTRACE_SETOPTIONS",
        0x4201 => "PTRACE_GETEVENTMSG",
        0x4202 => "PTRACE_GETSIGINFO",
        0x4203 => "PTRACE_SETSIGINFO",
        0x4204 => "PTRACE_GETREGSET",
        0x4205 => "PTRACE_SETREGSET",
        0x4206 => "PTRACE_SEIZE",
        0x4207 => "PTRACE_INTERRUPT",
        0x4208 => "PTRACE_LISTEN",
        _ => return None,
    })
}

/// Socket family names.
pub fn socket_family(f: u64) -> Option<&'static str> {
    Some(match f {
        0 => "AF_UNSPEC",
        1 => "AF_UNIX",
        2 => "AF_INET",
        10 => "AF_INET6",
        16 => "AF_NETLINK",
        17 => "AF_PACKET",
        _ => return None,
    })
}

/// Socket type names (flags masked off).
pub fn socket_type(t: u64) -> Option<&'static str> {
    Some(match t & 0xf {
        1 => "SOCK_STREAM",
        2 => "SOCK_DGRAM",
        3 => "SOCK_RAW",
        4 => "SOCK_RDM",
        5 => "SOCK_SEQPACKET",
        10 => "SOCK_PACKET",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_unique_per_architecture() {
        for arch in [0, 1] {
            let mut seen = std::collections::HashMap::new();
            for s in SYSCALLS {
                let n = if arch == 0 { s.x86_64 } else { s.aarch64 };
                if n < 0 {
                    continue;
                }
                assert!((n as usize) < 512, "{} out of range", s.name);
                if let Some(other) = seen.insert(n, s.name) {
                    panic!("{} and {other} share {n}", s.name);
                }
            }
        }
        assert_eq!(by_name("openat").map(|s| s.x86_64), Some(257));
        for name in STATE_SYSCALLS {
            assert!(by_name(name).is_some(), "{name}");
        }
    }

    #[test]
    fn fexit_programs_exist_for_every_hookable_syscall() {
        let source = include_str!("bpf/sensor.bpf.c");
        for s in SYSCALLS {
            let Some(func) = fexit_function(s) else {
                assert!(s.name.contains("fork") || s.name.starts_with("clone"));
                continue;
            };
            let decl = if func == s.name {
                format!("PAL_FEXIT1({})", s.name)
            } else {
                format!("PAL_FEXIT({}, {func})", s.name)
            };
            assert!(source.contains(&decl), "{decl} missing from sensor.bpf.c");
        }
        assert_eq!(by_name("umount2").and_then(fexit_function), Some("umount"));
        assert_eq!(by_name("clone").and_then(fexit_function), None);
    }

    #[test]
    fn params_refer_to_captured_strings() {
        for s in SYSCALLS {
            let captured = s.str_args.iter().filter(|&&a| a != NONE).count() as u8;
            for (name, p) in s.params {
                if let Param::Path(i) | Param::Str(i) = p {
                    assert!(*i < captured, "{}.{name} reads slot {i}", s.name);
                }
            }
        }
    }

    #[test]
    fn flag_names() {
        assert_eq!(open_flags(0), "O_RDONLY");
        assert_eq!(open_flags(0o1101), "O_WRONLY|O_CREAT|O_TRUNC");
        assert_eq!(open_flags(0o2000002), "O_RDWR|O_CLOEXEC");
        assert_eq!(ptrace_request(16), Some("PTRACE_ATTACH"));
        assert_eq!(socket_family(17), Some("AF_PACKET"));
        assert_eq!(errno_name(115), Some("EINPROGRESS"));
    }
}
