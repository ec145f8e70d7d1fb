//! Syscall events as the rules engine sees them: the `syscall` source's
//! fields (`evt.*`, `proc.*`, `fd.*`, `user.*`, `container.*`, `k8s.*`) computed from a
//! record and the process table, with libsinsp's meanings.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use palisade_detect::{BoundField, Event, FieldSource, SyscallSource, Value};

use crate::container::{join_labels, ContainerMeta};
use crate::process::{absolute, Process, ProcessTable};
use crate::syscalls::{self, Param, Syscall};
use crate::users::User;
use crate::wire::{ExecRecord, Header, SysRecord};

/// What the event is.
#[derive(Debug, Clone, Copy)]
pub enum Kind<'a> {
    /// A syscall exit.
    Sys(&'a SysRecord, &'static Syscall),
    /// A successful execve/execveat.
    Exec(&'a ExecRecord),
}

/// Network endpoints of an fd.
#[derive(Debug, Clone, PartialEq)]
pub struct NetView {
    /// Client address and port.
    pub cip: IpAddr,
    /// Client port.
    pub cport: u16,
    /// Server address.
    pub sip: IpAddr,
    /// Server port.
    pub sport: u16,
    /// Whether the local end is the server (accepted connections).
    pub is_server: bool,
    /// `tcp`, `udp`, `icmp`, `raw`.
    pub l4proto: &'static str,
    /// Connected.
    pub connected: bool,
    /// The fd's name was set by this event (connect, sendto with an address).
    pub name_changed: bool,
}

/// The fd an event is about.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FdView {
    /// Its number (-1: the open failed).
    pub num: i64,
    /// `fd.typechar`.
    pub typechar: char,
    /// `fd.type`.
    pub ftype: &'static str,
    /// `fd.sockfamily` (`ip`, `unix`).
    pub family: Option<&'static str>,
    /// `fd.name`.
    pub name: Option<String>,
    /// `fd.nameraw`: the path as given.
    pub nameraw: Option<String>,
    /// Endpoints, for IP sockets.
    pub net: Option<NetView>,
    /// Inode.
    pub ino: Option<u64>,
}

/// Identity of the event's user, resolved by the caller.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// The effective user.
    pub user: Option<std::sync::Arc<User>>,
    /// The effective group's name.
    pub group: Option<String>,
    /// The login user's name.
    pub loginname: Option<String>,
}

/// One event of the `syscall` source.
#[derive(Debug)]
pub struct SyscallEvent<'a> {
    /// The record.
    pub kind: Kind<'a>,
    /// Its process, if known.
    pub proc: Option<&'a Process>,
    /// The table, for ancestors.
    pub table: &'a ProcessTable,
    /// Event number (`evt.num`), from 1.
    pub num: u64,
    /// Time, ns since the epoch.
    pub ts: u64,
    /// The fd, when the event has one.
    pub fd: Option<FdView>,
    /// User and group names.
    pub identity: Identity,
    /// Host name (`evt.hostname`).
    pub hostname: &'a str,
    /// What the runtime said about the process's container, once it did.
    pub meta: Option<&'a ContainerMeta>,
}

impl<'a> SyscallEvent<'a> {
    fn hdr(&self) -> &'a Header {
        match self.kind {
            Kind::Sys(r, _) => &r.hdr,
            Kind::Exec(r) => &r.hdr,
        }
    }

    /// `evt.type`.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Sys(_, sc) => sc.name,
            Kind::Exec(r) => match syscalls::by_number(r.hdr.nr) {
                Some(s) if s.name == "execveat" => "execveat",
                _ => "execve",
            },
        }
    }

    fn params(&self) -> &'static [(&'static str, Param)] {
        match self.kind {
            Kind::Sys(_, sc) => sc.params,
            Kind::Exec(_) => EXEC_PARAMS,
        }
    }

    /// The value of a parameter as `evt.arg` shows it.
    pub fn param(&self, p: Param) -> Option<String> {
        let h = self.hdr();
        let arg = |i: u8| h.args.get(usize::from(i)).copied().unwrap_or(0);
        let Kind::Sys(r, _) = self.kind else {
            return match p {
                Param::Res => Some(res_string(0)),
                Param::Path(_) | Param::Str(_) => self.proc.map(|p| p.exepath.clone()),
                _ => None,
            };
        };
        let slot = |i: u8| {
            r.strs
                .get(usize::from(i))
                .and_then(|s| s.as_ref())
                .map(|s| String::from_utf8_lossy(s).into_owned())
        };
        Some(match p {
            Param::Res => res_string(h.ret),
            Param::RetFd => h.ret.to_string(),
            Param::Int(i) => (arg(i) as i64).to_string(),
            Param::Uint(i) => arg(i).to_string(),
            Param::Fd(i) => {
                let v = arg(i) as i32;
                if v == -100 {
                    "AT_FDCWD".to_string()
                } else {
                    v.to_string()
                }
            }
            Param::Path(i) => {
                let raw = slot(i)?;
                absolute(&raw, self.proc.and_then(|p| p.cwd.as_deref()))
            }
            Param::Str(i) => slot(i)?,
            Param::OpenFlags(i) => syscalls::open_flags(arg(i)),
            Param::OpenHowFlags => syscalls::open_flags(r.x[0]),
            Param::Mode(i) => format!("0{:o}", arg(i)),
            Param::PtraceRequest(i) => syscalls::ptrace_request(arg(i))
                .map(str::to_string)
                .unwrap_or_else(|| arg(i).to_string()),
            Param::SocketFamily(i) => syscalls::socket_family(arg(i))
                .map(str::to_string)
                .unwrap_or_else(|| arg(i).to_string()),
            Param::SocketType(i) => syscalls::socket_type(arg(i))
                .map(str::to_string)
                .unwrap_or_else(|| arg(i).to_string()),
            Param::Tuple => self.fd.as_ref()?.name.clone()?,
            Param::Addr => user_addr(r)?,
        })
    }

    /// A `container.*` or `k8s.*` field, as Falco's container plugin gives
    /// it: the host is a container named `host` with empty image fields and
    /// no pod; in a container, the id and type come from the cgroup path and
    /// the rest from the runtime, `<NA>` until (or unless) it answered.
    fn container_field(&self, f: F, key: Option<&str>) -> Option<Value<'a>> {
        let p = self.proc?;
        let borrowed = |v: &'a str| Some(Value::Str(Cow::Borrowed(v)));
        if matches!(f, F::ContainerStartTs | F::ContainerDuration) {
            // libsinsp's: the start of the pid namespace's init process,
            // never for the host.
            let start = p.pidns_init_start_ns;
            if p.container.is_none() || start == 0 {
                return None;
            }
            return Some(Value::Uint(match f {
                F::ContainerStartTs => start,
                _ => self.ts.saturating_sub(start),
            }));
        }
        let Some(c) = &p.container else {
            return match f {
                F::ContainerId | F::ContainerFullId | F::ContainerName | F::ContainerType => {
                    borrowed("host")
                }
                F::ContainerPrivileged
                | F::ContainerHostPid
                | F::ContainerHostNetwork
                | F::ContainerHostIpc => Some(Value::Bool(false)),
                F::ContainerLabel
                | F::K8sPodName
                | F::K8sNsName
                | F::K8sPodUid
                | F::K8sPodLabel => None,
                _ => borrowed(""),
            };
        };
        match f {
            F::ContainerId => return borrowed(c.id()),
            F::ContainerFullId => return borrowed(&c.full_id),
            _ => {}
        }
        let Some(m) = self.meta else {
            return match f {
                F::ContainerType => borrowed(c.runtime.name()),
                // The pod uid is in the kubelet's cgroup path.
                F::K8sPodUid => c.pod_uid.as_deref().and_then(borrowed),
                _ => None,
            };
        };
        let container_only = matches!(
            f,
            F::ContainerName
                | F::ContainerImage
                | F::ContainerImageId
                | F::ContainerImageRepository
                | F::ContainerImageTag
                | F::ContainerImageDigest
                | F::ContainerPrivileged
        );
        if m.is_sandbox && container_only {
            // A pod's pause process: the runtime tells of the pod only.
            return None;
        }
        match f {
            F::ContainerType => borrowed(m.runtime.unwrap_or(c.runtime.name())),
            F::ContainerName => borrowed(&m.name),
            F::ContainerImage => borrowed(&m.image),
            F::ContainerImageId => borrowed(&m.image_id),
            F::ContainerImageRepository => borrowed(&m.image_repository),
            F::ContainerImageTag => borrowed(&m.image_tag),
            F::ContainerImageDigest => borrowed(&m.image_digest),
            F::ContainerPrivileged => Some(Value::Bool(m.privileged)),
            F::ContainerIp | F::K8sPodIp => borrowed(&m.ip),
            F::ContainerHostPid => Some(Value::Bool(m.host_pid)),
            F::ContainerHostNetwork => Some(Value::Bool(m.host_network)),
            F::ContainerHostIpc => Some(Value::Bool(m.host_ipc)),
            F::ContainerLabel => m.label(key?).and_then(borrowed),
            F::ContainerLabels => Some(s(join_labels(&m.labels))),
            F::K8sPodName => m.pod_name().and_then(borrowed),
            F::K8sNsName => m.pod_namespace().and_then(borrowed),
            F::K8sPodUid => m.pod_uid().or(c.pod_uid.as_deref()).and_then(borrowed),
            F::K8sPodSandboxId => borrowed(m.pod_sandbox_id.get(..12).unwrap_or(&m.pod_sandbox_id)),
            F::K8sPodFullSandboxId => borrowed(&m.pod_sandbox_id),
            F::K8sPodLabel => m
                .pod_labels
                .get(key?)
                .map(String::as_str)
                .and_then(borrowed),
            F::K8sPodLabels => Some(s(join_labels(&m.pod_labels))),
            _ => None,
        }
    }

    fn open_flags(&self) -> Option<u64> {
        let Kind::Sys(r, sc) = self.kind else {
            return None;
        };
        match sc.name {
            "open" => Some(r.hdr.args[1]),
            "openat" => Some(r.hdr.args[2]),
            "openat2" => Some(r.x[0]),
            // creat() is open(O_CREAT|O_WRONLY|O_TRUNC).
            "creat" => Some(0o1101),
            _ => None,
        }
    }
}

const EXEC_PARAMS: &[(&str, Param)] = &[("res", Param::Res), ("exe", Param::Path(0))];

/// `evt.res`: `SUCCESS`, or the error's name.
pub fn res_string(ret: i64) -> String {
    if ret >= 0 {
        return "SUCCESS".to_string();
    }
    syscalls::errno_name(-ret)
        .map(str::to_string)
        .unwrap_or_else(|| ret.to_string())
}

fn ip_of(family: u16, addr: &[u8; 16]) -> Option<IpAddr> {
    match family {
        2 => Some(IpAddr::V4(Ipv4Addr::new(
            addr[0], addr[1], addr[2], addr[3],
        ))),
        10 => {
            let v6 = Ipv6Addr::from(*addr);
            // libsinsp reports IPv4-mapped peers of dual-stack sockets as IPv6.
            Some(IpAddr::V6(v6))
        }
        _ => None,
    }
}

fn user_addr(r: &SysRecord) -> Option<String> {
    if r.ua_family == 1 {
        return r.strs[3]
            .as_ref()
            .map(|s| String::from_utf8_lossy(s).into_owned());
    }
    let ip = ip_of(r.ua_family, &r.ua_addr)?;
    Some(format!("{ip}:{}", r.ua_port))
}

fn l4proto(fd: &crate::wire::FdInfo) -> &'static str {
    match (fd.proto, fd.sock_type) {
        (6, _) => "tcp",
        (17, _) => "udp",
        (1, _) | (58, _) => "icmp",
        (_, 3) => "raw",
        (_, 1) => "tcp",
        (_, 2) => "udp",
        _ => "unknown",
    }
}

/// Works out the fd an event is about: the file an open names, or the socket
/// behind a network syscall, as libsinsp's fd table would describe it.
pub fn fd_view(r: &SysRecord, sc: &Syscall, proc: Option<&Process>) -> Option<FdView> {
    let cwd = proc.and_then(|p| p.cwd.as_deref());
    match sc.name {
        "open" | "openat" | "openat2" | "creat" => {
            let raw = r.strs[0]
                .as_ref()
                .map(|s| String::from_utf8_lossy(s).into_owned())?;
            let dirfd = r.hdr.args[0] as i32;
            let uses_dirfd = matches!(sc.name, "openat" | "openat2") && dirfd != -100;
            let name = if raw.starts_with('/') || !uses_dirfd {
                absolute(&raw, cwd)
            } else {
                // Relative to a directory fd: where it points is only known
                // from /proc while the process lives.
                let dir = proc.and_then(|p| {
                    std::fs::read_link(format!("/proc/{}/fd/{dirfd}", p.pid))
                        .ok()
                        .map(|d| d.to_string_lossy().into_owned())
                });
                match dir {
                    Some(d) => absolute(&raw, Some(&d)),
                    None => raw.clone(),
                }
            };
            let flags = match sc.name {
                "open" => r.hdr.args[1],
                "openat" => r.hdr.args[2],
                "openat2" => r.x[0],
                _ => 0,
            };
            let dir = flags & 0o200000 != 0;
            Some(FdView {
                num: if r.hdr.ret >= 0 { r.hdr.ret } else { -1 },
                typechar: if dir { 'd' } else { 'f' },
                ftype: if dir { "directory" } else { "file" },
                family: None,
                name: Some(name),
                nameraw: Some(raw),
                net: None,
                ino: (r.fd.valid && r.hdr.ret >= 0).then_some(r.fd.ino),
            })
        }
        _ if sc.fd_arg != syscalls::NONE => {
            let num = if sc.fd_arg == syscalls::FD_RET {
                r.hdr.ret
            } else {
                i64::from(r.hdr.args[usize::from(sc.fd_arg)] as i32)
            };
            if !r.fd.valid {
                // The socket of a failed accept, a failed socket(): nothing to describe.
                return match sc.name {
                    "connect" | "sendto" | "sendmsg" => socket_from_args(r, sc, num),
                    _ => None,
                };
            }
            Some(describe_fd(r, sc, num))
        }
        _ => None,
    }
}

/// A failed connect on an fd the kernel could not look at: the target
/// address is still known.
fn socket_from_args(r: &SysRecord, sc: &Syscall, num: i64) -> Option<FdView> {
    let sip = ip_of(r.ua_family, &r.ua_addr)?;
    let unspecified = match sip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let v4 = r.ua_family == 2;
    Some(FdView {
        num,
        typechar: if v4 { '4' } else { '6' },
        ftype: if v4 { "ipv4" } else { "ipv6" },
        family: Some("ip"),
        name: Some(tuple(unspecified, 0, sip, r.ua_port)),
        nameraw: None,
        net: Some(NetView {
            cip: unspecified,
            cport: 0,
            sip,
            sport: r.ua_port,
            is_server: false,
            l4proto: "unknown",
            connected: false,
            name_changed: sc.name != "connect",
        }),
        ino: None,
    })
}

fn tuple(cip: IpAddr, cport: u16, sip: IpAddr, sport: u16) -> String {
    // libsinsp's format: "cip:cport->sip:sport", IPv6 addresses unbracketed.
    format!("{cip}:{cport}->{sip}:{sport}")
}

fn describe_fd(r: &SysRecord, sc: &Syscall, num: i64) -> FdView {
    let fd = &r.fd;
    let file_type = fd.mode & 0o170000;
    let mut v = FdView {
        num,
        ino: Some(fd.ino),
        ..Default::default()
    };
    let (c, t) = match file_type {
        0o140000 => match fd.family {
            2 => ('4', "ipv4"),
            10 => ('6', "ipv6"),
            1 => ('u', "unix"),
            16 => ('n', "netlink"),
            _ => ('o', "unknown"),
        },
        0o100000 => ('f', "file"),
        0o040000 => ('d', "directory"),
        0o010000 => ('p', "pipe"),
        _ => ('o', "unknown"),
    };
    v.typechar = c;
    v.ftype = t;
    if file_type != 0o140000 {
        return v;
    }
    if fd.family == 1 {
        v.family = Some("unix");
        v.name = r.strs[3]
            .as_ref()
            .map(|s| String::from_utf8_lossy(s).into_owned());
        return v;
    }
    let (Some(lip), Some(mut rip)) = (ip_of(fd.family, &fd.laddr), ip_of(fd.family, &fd.raddr))
    else {
        return v;
    };
    v.family = Some("ip");
    let mut rport = fd.rport;
    let mut name_changed = false;
    // The address the caller gave wins over the socket's peer: an
    // unconnected datagram socket has none, and a non-blocking connect may
    // not have set it yet.
    if let Some(ua) = ip_of(r.ua_family, &r.ua_addr) {
        rip = ua;
        rport = r.ua_port;
        name_changed = true;
    }
    let accepted = matches!(sc.name, "accept" | "accept4");
    let listening = matches!(sc.name, "bind" | "listen");
    let connected = match sc.name {
        "connect" => r.hdr.ret >= 0 || r.hdr.ret == -115,
        "accept" | "accept4" => r.hdr.ret >= 0,
        // TCP_ESTABLISHED, TCP_SYN_SENT.
        _ => matches!(fd.state, 1 | 2),
    };
    let net = if accepted || listening {
        NetView {
            cip: rip,
            cport: rport,
            sip: lip,
            sport: fd.lport,
            is_server: true,
            l4proto: l4proto(fd),
            connected,
            name_changed,
        }
    } else {
        NetView {
            cip: lip,
            cport: fd.lport,
            sip: rip,
            sport: rport,
            is_server: false,
            l4proto: l4proto(fd),
            connected,
            name_changed,
        }
    };
    v.name = Some(tuple(net.cip, net.cport, net.sip, net.sport));
    v.net = Some(net);
    v
}

/// The fields this source computes, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum F {
    EvtNum,
    EvtTime,
    EvtTimeIso,
    EvtRawtime,
    EvtRawtimeS,
    EvtRawtimeNs,
    EvtType,
    EvtDir,
    EvtCpu,
    EvtArgs,
    EvtArg,
    EvtRawarg,
    EvtRes,
    EvtRawres,
    EvtFailed,
    EvtIsOpenRead,
    EvtIsOpenWrite,
    EvtIsOpenExec,
    EvtIsOpenCreate,
    EvtSource,
    EvtHostname,
    EvtCategory,
    ProcExe,
    ProcPexe,
    ProcAexe,
    ProcExepath,
    ProcPexepath,
    ProcAexepath,
    ProcName,
    ProcPname,
    ProcAname,
    ProcArgs,
    ProcCmdline,
    ProcPcmdline,
    ProcAcmdline,
    ProcCmdnargs,
    ProcCmdlenargs,
    ProcExeline,
    ProcCwd,
    ProcTty,
    ProcPid,
    ProcPpid,
    ProcApid,
    ProcVpid,
    ProcSid,
    ProcSname,
    ProcPgid,
    ProcDuration,
    ProcPidnsInitStartTs,
    ProcIsExeFromMemfd,
    ProcExeIno,
    ProcIsSidLeader,
    ProcIsPgidLeader,
    ThreadTid,
    ThreadIsmain,
    ThreadCapEffective,
    ThreadCapPermitted,
    UserUid,
    UserName,
    UserHomedir,
    UserShell,
    UserLoginuid,
    UserLoginname,
    GroupGid,
    GroupName,
    FdNum,
    FdType,
    FdTypechar,
    FdName,
    FdDirectory,
    FdFilename,
    FdNameraw,
    FdIp,
    FdCip,
    FdSip,
    FdLip,
    FdRip,
    FdPort,
    FdCport,
    FdSport,
    FdLport,
    FdRport,
    FdL4proto,
    FdSockfamily,
    FdIsServer,
    FdConnected,
    FdNameChanged,
    FdIno,
    ContainerId,
    ContainerFullId,
    ContainerType,
    ContainerName,
    ContainerImage,
    ContainerImageId,
    ContainerImageRepository,
    ContainerImageTag,
    ContainerImageDigest,
    ContainerPrivileged,
    ContainerIp,
    ContainerHostPid,
    ContainerHostNetwork,
    ContainerHostIpc,
    ContainerStartTs,
    ContainerDuration,
    ContainerLabel,
    ContainerLabels,
    K8sPodName,
    K8sNsName,
    K8sPodUid,
    K8sPodSandboxId,
    K8sPodFullSandboxId,
    K8sPodLabel,
    K8sPodLabels,
    K8sPodIp,
}

fn field_of(name: &str) -> Option<F> {
    use F::*;
    Some(match name {
        "evt.num" => EvtNum,
        "evt.time" => EvtTime,
        "evt.time.iso8601" | "evt.datetime" => EvtTimeIso,
        "evt.rawtime" | "evt.rawtime.ns" => EvtRawtime,
        "evt.rawtime.s" => EvtRawtimeS,
        "evt.time.s" => EvtRawtimeNs,
        "evt.type" | "syscall.type" => EvtType,
        "evt.dir" => EvtDir,
        "evt.cpu" => EvtCpu,
        "evt.args" => EvtArgs,
        "evt.arg" => EvtArg,
        "evt.rawarg" => EvtRawarg,
        "evt.res" => EvtRes,
        "evt.rawres" => EvtRawres,
        "evt.failed" => EvtFailed,
        "evt.is_open_read" => EvtIsOpenRead,
        "evt.is_open_write" => EvtIsOpenWrite,
        "evt.is_open_exec" => EvtIsOpenExec,
        "evt.is_open_create" => EvtIsOpenCreate,
        "evt.source" => EvtSource,
        "evt.hostname" => EvtHostname,
        "evt.category" => EvtCategory,
        "proc.exe" => ProcExe,
        "proc.pexe" => ProcPexe,
        "proc.aexe" => ProcAexe,
        "proc.exepath" => ProcExepath,
        "proc.pexepath" => ProcPexepath,
        "proc.aexepath" => ProcAexepath,
        "proc.name" => ProcName,
        "proc.pname" => ProcPname,
        "proc.aname" => ProcAname,
        "proc.args" => ProcArgs,
        "proc.cmdline" => ProcCmdline,
        "proc.pcmdline" => ProcPcmdline,
        "proc.acmdline" => ProcAcmdline,
        "proc.cmdnargs" => ProcCmdnargs,
        "proc.cmdlenargs" => ProcCmdlenargs,
        "proc.exeline" => ProcExeline,
        "proc.cwd" => ProcCwd,
        "proc.tty" => ProcTty,
        "proc.pid" => ProcPid,
        "proc.ppid" => ProcPpid,
        "proc.apid" => ProcApid,
        "proc.vpid" => ProcVpid,
        "proc.sid" => ProcSid,
        "proc.sname" => ProcSname,
        "proc.pgid" => ProcPgid,
        "proc.duration" => ProcDuration,
        "proc.pidns_init_start_ts" => ProcPidnsInitStartTs,
        "proc.is_exe_from_memfd" => ProcIsExeFromMemfd,
        "proc.exe_ino" => ProcExeIno,
        "proc.is_sid_leader" => ProcIsSidLeader,
        "proc.is_pgid_leader" => ProcIsPgidLeader,
        "thread.tid" => ThreadTid,
        "thread.ismain" => ThreadIsmain,
        "thread.cap_effective" => ThreadCapEffective,
        "thread.cap_permitted" => ThreadCapPermitted,
        "user.uid" => UserUid,
        "user.name" => UserName,
        "user.homedir" => UserHomedir,
        "user.shell" => UserShell,
        "user.loginuid" => UserLoginuid,
        "user.loginname" => UserLoginname,
        "group.gid" => GroupGid,
        "group.name" => GroupName,
        "fd.num" => FdNum,
        "fd.type" => FdType,
        "fd.typechar" => FdTypechar,
        "fd.name" => FdName,
        "fd.directory" => FdDirectory,
        "fd.filename" => FdFilename,
        "fd.nameraw" => FdNameraw,
        "fd.ip" => FdIp,
        "fd.cip" => FdCip,
        "fd.sip" => FdSip,
        "fd.lip" => FdLip,
        "fd.rip" => FdRip,
        "fd.net" => FdIp,
        "fd.cnet" => FdCip,
        "fd.snet" => FdSip,
        "fd.lnet" => FdLip,
        "fd.rnet" => FdRip,
        "fd.port" => FdPort,
        "fd.cport" => FdCport,
        "fd.sport" => FdSport,
        "fd.lport" => FdLport,
        "fd.rport" => FdRport,
        "fd.l4proto" => FdL4proto,
        "fd.sockfamily" => FdSockfamily,
        "fd.is_server" => FdIsServer,
        "fd.connected" => FdConnected,
        "fd.name_changed" => FdNameChanged,
        "fd.ino" => FdIno,
        "container.id" => ContainerId,
        "container.full_id" => ContainerFullId,
        "container.type" => ContainerType,
        "container.name" => ContainerName,
        "container.image" => ContainerImage,
        "container.image.id" => ContainerImageId,
        "container.image.repository" => ContainerImageRepository,
        "container.image.tag" => ContainerImageTag,
        "container.image.digest" => ContainerImageDigest,
        "container.privileged" => ContainerPrivileged,
        "container.start_ts" => ContainerStartTs,
        "container.duration" => ContainerDuration,
        "container.ip" => ContainerIp,
        "container.host_pid" => ContainerHostPid,
        "container.host_network" => ContainerHostNetwork,
        "container.host_ipc" => ContainerHostIpc,
        "container.label" => ContainerLabel,
        "container.labels" => ContainerLabels,
        "k8s.pod.name" => K8sPodName,
        "k8s.ns.name" => K8sNsName,
        // The legacy name of the pod uid (Falco's container plugin).
        "k8s.pod.uid" | "k8s.pod.id" => K8sPodUid,
        "k8s.pod.sandbox_id" => K8sPodSandboxId,
        "k8s.pod.full_sandbox_id" => K8sPodFullSandboxId,
        "k8s.pod.label" => K8sPodLabel,
        "k8s.pod.labels" => K8sPodLabels,
        "k8s.pod.ip" => K8sPodIp,
        _ => return None,
    })
}

/// Extractors by field id of the `syscall` catalogue.
fn table() -> &'static [Option<F>] {
    static TABLE: OnceLock<Vec<Option<F>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let source = SyscallSource::default();
        source
            .catalogue()
            .iter()
            .map(|f| field_of(&f.name))
            .collect()
    })
}

/// Field names of the `syscall` source this sensor fills (the rest have no
/// value: comparisons on them are false and outputs show `<NA>`).
pub fn supported_fields() -> Vec<String> {
    let source = SyscallSource::default();
    source
        .catalogue()
        .iter()
        .filter(|f| field_of(&f.name).is_some())
        .map(|f| f.name.clone())
        .collect()
}

/// Linux capability names by bit, as libsinsp prints them.
const CAPS: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Capability names of a mask, space separated.
pub fn cap_names(mask: u64) -> String {
    let mut s = String::new();
    for (bit, name) in CAPS.iter().enumerate() {
        if mask & (1 << bit) != 0 {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(name);
        }
    }
    s
}

fn s(v: impl Into<String>) -> Value<'static> {
    Value::Str(Cow::Owned(v.into()))
}

impl Event for SyscallEvent<'_> {
    fn source(&self) -> &str {
        "syscall"
    }

    fn timestamp_ns(&self) -> u64 {
        self.ts
    }

    fn event_type(&self) -> Option<&str> {
        Some(self.type_name())
    }

    fn extract<'b>(&'b self, field: &BoundField, out: &mut Vec<Value<'b>>) -> bool {
        let Some(Some(f)) = table().get(field.id as usize) else {
            return false;
        };
        let h = self.hdr();
        let p = self.proc;
        let idx = field.arg.index.map(|i| i as usize);
        let table = self.table;
        let ancestor = |n: usize| p.and_then(|p| table.ancestor(p, n));
        let fd = self.fd.as_ref();
        let net = fd.and_then(|f| f.net.as_ref());
        let v: Value<'b> = match f {
            F::EvtNum => Value::Uint(self.num),
            F::EvtTime => s(palisade_detect::output::clock_time(self.ts)),
            F::EvtTimeIso => s(palisade_detect::output::iso8601(self.ts)),
            F::EvtRawtime => Value::Uint(self.ts),
            F::EvtRawtimeS => Value::Uint(self.ts / 1_000_000_000),
            F::EvtRawtimeNs => Value::Uint(self.ts % 1_000_000_000),
            F::EvtType => Value::Str(Cow::Borrowed(self.type_name())),
            // Only exit events are captured.
            F::EvtDir => Value::Str(Cow::Borrowed("<")),
            F::EvtCpu => Value::Int(i64::from(h.cpu)),
            F::EvtSource => Value::Str(Cow::Borrowed("syscall")),
            F::EvtHostname => Value::Str(Cow::Borrowed(self.hostname)),
            F::EvtCategory => Value::Str(Cow::Borrowed(match self.kind {
                Kind::Exec(_) => "process",
                Kind::Sys(_, sc) => match sc.category {
                    syscalls::CAT_FILE => "file",
                    syscalls::CAT_NET => "net",
                    syscalls::CAT_PROC => "process",
                    _ => "other",
                },
            })),
            F::EvtArgs => {
                let mut text = String::new();
                for (name, param) in self.params() {
                    if let Some(val) = self.param(*param) {
                        if !text.is_empty() {
                            text.push(' ');
                        }
                        let _ = write!(text, "{name}={val}");
                    }
                }
                s(text)
            }
            F::EvtArg | F::EvtRawarg => {
                let params = self.params();
                let param = match (idx, field.arg.text.as_deref()) {
                    (Some(i), _) => params.get(i).map(|(_, p)| *p),
                    (None, Some(name)) => params.iter().find(|(n, _)| *n == name).map(|(_, p)| *p),
                    _ => None,
                };
                let Some(param) = param else { return false };
                if *f == F::EvtRawarg {
                    let raw = match param {
                        Param::Res | Param::RetFd => Some(h.ret.to_string()),
                        Param::Int(i) | Param::Fd(i) => {
                            h.args.get(usize::from(i)).map(|a| (*a as i64).to_string())
                        }
                        Param::Uint(i)
                        | Param::Mode(i)
                        | Param::OpenFlags(i)
                        | Param::PtraceRequest(i)
                        | Param::SocketFamily(i)
                        | Param::SocketType(i) => h.args.get(usize::from(i)).map(|a| a.to_string()),
                        _ => self.param(param),
                    };
                    match raw {
                        Some(r) => s(r),
                        None => return false,
                    }
                } else {
                    match self.param(param) {
                        Some(r) => s(r),
                        None => return false,
                    }
                }
            }
            F::EvtRes => s(res_string(h.ret)),
            F::EvtRawres => Value::Int(h.ret),
            F::EvtFailed => Value::Bool(h.ret < 0),
            F::EvtIsOpenRead => Value::Bool(self.open_flags().is_some_and(|f| f & 3 != 1)),
            F::EvtIsOpenWrite => Value::Bool(self.open_flags().is_some_and(|f| f & 3 != 0)),
            // Linux has no O_EXEC; libsinsp sets it from the file's exec bits
            // on open_by_handle_at only.
            F::EvtIsOpenExec => Value::Bool(false),
            F::EvtIsOpenCreate => Value::Bool(self.open_flags().is_some_and(|f| f & 0o100 != 0)),
            F::ProcExe => s(p
                .map(|p| p.exe.clone())
                .filter(|e| !e.is_empty())
                .unwrap_or_default()),
            F::ProcPexe => match ancestor(1) {
                Some(a) => s(a.exe.clone()),
                None => return false,
            },
            F::ProcAexe | F::ProcAexepath | F::ProcAname | F::ProcAcmdline | F::ProcApid => {
                let get = |a: &Process| -> Value<'static> {
                    match f {
                        F::ProcAexe => s(a.exe.clone()),
                        F::ProcAexepath => s(a.exepath.clone()),
                        F::ProcAname => s(a.comm.clone()),
                        F::ProcAcmdline => s(a.cmdline()),
                        _ => Value::Int(i64::from(a.pid)),
                    }
                };
                match idx {
                    Some(n) => match ancestor(n) {
                        Some(a) => get(a),
                        None => return false,
                    },
                    None => {
                        // Without an index: every ancestor, so that `=` and
                        // `in` hold when any of them matches (libsinsp).
                        let mut n = 1;
                        while let Some(a) = ancestor(n) {
                            out.push(get(a));
                            n += 1;
                            if n > 64 {
                                break;
                            }
                        }
                        return !out.is_empty();
                    }
                }
            }
            F::ProcExepath => match p.filter(|p| !p.exepath.is_empty()) {
                Some(p) => Value::Str(Cow::Borrowed(&p.exepath)),
                None => return false,
            },
            F::ProcPexepath => match ancestor(1).filter(|a| !a.exepath.is_empty()) {
                Some(a) => s(a.exepath.clone()),
                None => return false,
            },
            F::ProcName => match p.filter(|p| !p.comm.is_empty()) {
                Some(p) => Value::Str(Cow::Borrowed(&p.comm)),
                None => return false,
            },
            F::ProcPname => match ancestor(1) {
                Some(a) => s(a.comm.clone()),
                None => return false,
            },
            F::ProcArgs => match p {
                Some(p) => match idx {
                    Some(i) => match p.args.get(i) {
                        Some(a) => Value::Str(Cow::Borrowed(a)),
                        None => return false,
                    },
                    None => s(p.args.join(" ")),
                },
                None => return false,
            },
            F::ProcCmdline => match p {
                Some(p) => s(p.cmdline()),
                None => return false,
            },
            F::ProcPcmdline => match ancestor(1) {
                Some(a) => s(a.cmdline()),
                None => return false,
            },
            F::ProcCmdnargs => Value::Uint(p.map_or(0, |p| p.args.len() as u64)),
            F::ProcCmdlenargs => {
                Value::Uint(p.map_or(0, |p| p.args.iter().map(|a| a.len() as u64).sum()))
            }
            F::ProcExeline => match p {
                Some(p) => {
                    let mut line = p.exe.clone();
                    for a in &p.args {
                        line.push(' ');
                        line.push_str(a);
                    }
                    s(line)
                }
                None => return false,
            },
            F::ProcCwd => match p.and_then(|p| p.cwd.as_deref()) {
                // libsinsp's cwd always ends with a slash.
                Some(c) if c.ends_with('/') => Value::Str(Cow::Borrowed(c)),
                Some(c) => s(format!("{c}/")),
                None => return false,
            },
            F::ProcTty => Value::Uint(p.map_or(0, |p| u64::from(p.tty))),
            F::ProcPid => Value::Int(i64::from(h.tgid)),
            F::ProcPpid => match p {
                Some(p) => Value::Int(i64::from(p.ppid)),
                None => return false,
            },
            F::ProcVpid => match p.filter(|p| p.vpid != 0) {
                Some(p) => Value::Int(i64::from(p.vpid)),
                None => return false,
            },
            F::ProcSid => match p {
                Some(p) => Value::Int(i64::from(p.sid)),
                None => return false,
            },
            F::ProcSname => match p.and_then(|p| table.get(p.sid)) {
                Some(leader) => s(leader.comm.clone()),
                None => return false,
            },
            F::ProcPgid => match p {
                Some(p) => Value::Int(i64::from(p.pgid)),
                None => return false,
            },
            F::ProcIsSidLeader => Value::Bool(p.is_some_and(|p| p.sid == p.pid)),
            F::ProcIsPgidLeader => Value::Bool(p.is_some_and(|p| p.pgid == p.pid)),
            F::ProcDuration => match p.filter(|p| p.start_ns != 0) {
                Some(p) => Value::Uint(self.ts.saturating_sub(p.start_ns)),
                None => return false,
            },
            F::ProcPidnsInitStartTs => match p.filter(|p| p.pidns_init_start_ns != 0) {
                Some(p) => Value::Uint(p.pidns_init_start_ns),
                None => return false,
            },
            F::ProcIsExeFromMemfd => Value::Bool(p.is_some_and(|p| p.exe_from_memfd)),
            F::ProcExeIno => match p.filter(|p| p.exe_ino != 0) {
                Some(p) => Value::Int(p.exe_ino as i64),
                None => return false,
            },
            F::ThreadTid => Value::Int(i64::from(h.tid)),
            F::ThreadIsmain => Value::Bool(h.tid == h.tgid),
            F::ThreadCapEffective => s(cap_names(h.cap_eff)),
            F::ThreadCapPermitted => s(cap_names(h.cap_prm)),
            F::UserUid => Value::Uint(u64::from(h.uid)),
            F::UserName => match &self.identity.user {
                Some(u) => Value::Str(Cow::Borrowed(&u.name)),
                None => return false,
            },
            F::UserHomedir => match &self.identity.user {
                Some(u) => Value::Str(Cow::Borrowed(&u.home)),
                None => return false,
            },
            F::UserShell => match &self.identity.user {
                Some(u) => Value::Str(Cow::Borrowed(&u.shell)),
                None => return false,
            },
            F::UserLoginuid => Value::Int(if h.loginuid == u32::MAX {
                -1
            } else {
                i64::from(h.loginuid)
            }),
            F::UserLoginname => match &self.identity.loginname {
                Some(n) => Value::Str(Cow::Borrowed(n)),
                None => return false,
            },
            F::GroupGid => Value::Uint(u64::from(h.gid)),
            F::GroupName => match &self.identity.group {
                Some(g) => Value::Str(Cow::Borrowed(g)),
                None => return false,
            },
            F::FdNum => match fd {
                Some(fd) => Value::Int(fd.num),
                None => return false,
            },
            F::FdType => match fd {
                Some(fd) => Value::Str(Cow::Borrowed(fd.ftype)),
                None => return false,
            },
            F::FdTypechar => match fd {
                Some(fd) => s(fd.typechar.to_string()),
                None => return false,
            },
            F::FdName => match fd.and_then(|f| f.name.as_deref()) {
                Some(n) => Value::Str(Cow::Borrowed(n)),
                None => return false,
            },
            F::FdNameraw => match fd.and_then(|f| f.nameraw.as_deref().or(f.name.as_deref())) {
                Some(n) => Value::Str(Cow::Borrowed(n)),
                None => return false,
            },
            F::FdDirectory | F::FdFilename => {
                let Some(fd) = fd.filter(|f| f.net.is_none() && matches!(f.typechar, 'f' | 'd'))
                else {
                    return false;
                };
                let Some(name) = fd.name.as_deref() else {
                    return false;
                };
                if fd.typechar == 'd' {
                    // A directory is its own fd.directory (libsinsp).
                    if *f == F::FdFilename {
                        return false;
                    }
                    Value::Str(Cow::Borrowed(name))
                } else {
                    let (dir, file) = match name.rfind('/') {
                        Some(0) => ("/", &name[1..]),
                        Some(i) => (&name[..i], &name[i + 1..]),
                        None => return false,
                    };
                    Value::Str(Cow::Borrowed(if *f == F::FdDirectory { dir } else { file }))
                }
            }
            F::FdIp => match net {
                Some(n) => {
                    out.push(Value::Ip(n.cip));
                    out.push(Value::Ip(n.sip));
                    return true;
                }
                None => return false,
            },
            F::FdPort => match net {
                Some(n) => {
                    out.push(Value::Uint(u64::from(n.cport)));
                    out.push(Value::Uint(u64::from(n.sport)));
                    return true;
                }
                None => return false,
            },
            F::FdCip | F::FdSip | F::FdLip | F::FdRip => match net {
                Some(n) => Value::Ip(match (f, n.is_server) {
                    (F::FdCip, _) => n.cip,
                    (F::FdSip, _) => n.sip,
                    (F::FdLip, true) | (F::FdRip, false) => n.sip,
                    _ => n.cip,
                }),
                None => return false,
            },
            F::FdCport | F::FdSport | F::FdLport | F::FdRport => match net {
                Some(n) => Value::Uint(u64::from(match (f, n.is_server) {
                    (F::FdCport, _) => n.cport,
                    (F::FdSport, _) => n.sport,
                    (F::FdLport, true) | (F::FdRport, false) => n.sport,
                    _ => n.cport,
                })),
                None => return false,
            },
            F::FdL4proto => match net {
                Some(n) => Value::Str(Cow::Borrowed(n.l4proto)),
                None => return false,
            },
            F::FdSockfamily => match fd.and_then(|f| f.family) {
                Some(fam) => Value::Str(Cow::Borrowed(fam)),
                None => return false,
            },
            F::FdIsServer => match net {
                Some(n) => Value::Bool(n.is_server),
                None => return false,
            },
            F::FdConnected => match net {
                Some(n) => Value::Bool(n.connected),
                None => return false,
            },
            F::FdNameChanged => match net {
                Some(n) => Value::Bool(n.name_changed),
                None => Value::Bool(false),
            },
            F::FdIno => match fd.and_then(|f| f.ino) {
                Some(i) => Value::Int(i as i64),
                None => return false,
            },
            F::ContainerId
            | F::ContainerFullId
            | F::ContainerType
            | F::ContainerName
            | F::ContainerImage
            | F::ContainerImageId
            | F::ContainerImageRepository
            | F::ContainerImageTag
            | F::ContainerImageDigest
            | F::ContainerPrivileged
            | F::ContainerIp
            | F::ContainerHostPid
            | F::ContainerHostNetwork
            | F::ContainerHostIpc
            | F::ContainerStartTs
            | F::ContainerDuration
            | F::ContainerLabel
            | F::ContainerLabels
            | F::K8sPodName
            | F::K8sNsName
            | F::K8sPodUid
            | F::K8sPodSandboxId
            | F::K8sPodFullSandboxId
            | F::K8sPodLabel
            | F::K8sPodLabels
            | F::K8sPodIp => match self.container_field(*f, field.arg.text.as_deref()) {
                Some(v) => v,
                None => return false,
            },
        };
        out.push(v);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_detect::Engine;

    fn open_record(path: &str, flags: u64, ret: i64) -> SysRecord {
        let mut r = SysRecord::default();
        r.hdr.nr = 257;
        r.hdr.tgid = 42;
        r.hdr.tid = 42;
        r.hdr.ret = ret;
        r.hdr.args = [(-100i64) as u64, 0, flags, 0, 0, 0];
        r.strs[0] = Some(path.as_bytes().to_vec());
        r
    }

    fn proc42() -> Process {
        Process {
            pid: 42,
            ppid: 1,
            comm: "reader".into(),
            exe: "./reader".into(),
            exepath: "/opt/reader".into(),
            args: vec!["--all".into()],
            cwd: Some("/etc".into()),
            known: true,
            ..Default::default()
        }
    }

    #[test]
    fn open_read_rules_see_fd_and_proc_fields() {
        let mut table = ProcessTable::new("/nonexistent");
        table.insert(proc42());
        table.insert(Process {
            pid: 1,
            comm: "init".into(),
            known: true,
            ..Default::default()
        });
        let rules = "- macro: open_read\n  condition: (evt.type in (open,openat,openat2) and evt.is_open_read=true and fd.typechar='f' and fd.num>=0)\n- rule: r\n  desc: d\n  condition: open_read and fd.name=/etc/shadow and proc.pname=init and proc.aname in (init)\n  output: \"%proc.name %proc.cmdline %fd.name %user.name %container.id %evt.arg.flags %fd.directory\"\n  priority: WARNING\n";
        let engine = Engine::builder().rules_text("r.yaml", rules).build();
        assert!(!engine.has_errors(), "{:?}", engine.diagnostics());
        let sc = syscalls::by_name("openat").unwrap();
        let rec = open_record("shadow", 0o2000000, 3);
        let p = table.get(42).unwrap();
        let evt = SyscallEvent {
            kind: Kind::Sys(&rec, sc),
            proc: Some(p),
            table: &table,
            num: 1,
            ts: 1,
            fd: fd_view(&rec, sc, Some(p)),
            identity: Identity {
                user: Some(std::sync::Arc::new(User {
                    name: "root".into(),
                    home: "/root".into(),
                    shell: "/bin/sh".into(),
                })),
                ..Default::default()
            },
            hostname: "h",
            meta: None,
        };
        let alerts = engine.evaluate(&evt);
        assert_eq!(alerts.len(), 1);
        assert_eq!(
            alerts[0].message,
            "reader reader --all /etc/shadow root host O_RDONLY|O_CLOEXEC /etc"
        );
        // A write-only open is not open_read.
        let rec = open_record("/etc/shadow", 1, 3);
        let evt = SyscallEvent {
            kind: Kind::Sys(&rec, sc),
            fd: fd_view(&rec, sc, Some(p)),
            ..evt
        };
        assert!(engine.evaluate(&evt).is_empty());
    }

    #[test]
    fn container_start_is_the_pid_namespace_init_start() {
        let rules = "- rule: r\n  desc: d\n  condition: evt.type=openat\n  output: \"%container.start_ts %container.duration %proc.pidns_init_start_ts\"\n  priority: INFO\n";
        let engine = Engine::builder().rules_text("r.yaml", rules).build();
        assert!(!engine.has_errors(), "{:?}", engine.diagnostics());
        let sc = syscalls::by_name("openat").unwrap();
        let rec = open_record("/etc/hosts", 0, 3);
        let table = ProcessTable::new("/nonexistent");
        let id = "e2e0c6e1a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e";
        let in_container = Process {
            pidns_init_start_ns: 1_000,
            container: crate::container::from_cgroup_path(&format!("/docker/{id}")),
            ..proc42()
        };
        assert!(in_container.container.is_some());
        let message = |p: &Process| {
            let evt = SyscallEvent {
                kind: Kind::Sys(&rec, sc),
                proc: Some(p),
                table: &table,
                num: 1,
                ts: 5_000,
                fd: fd_view(&rec, sc, Some(p)),
                identity: Identity::default(),
                hostname: "h",
                meta: None,
            };
            engine.evaluate(&evt)[0].message.clone()
        };
        assert_eq!(message(&in_container), "1000 4000 1000");
        // The host has no container start (as libsinsp), though its pid
        // namespace has an init; unknown stays <NA>.
        let host = Process {
            container: None,
            ..in_container.clone()
        };
        assert_eq!(message(&host), "<NA> <NA> 1000");
        let unknown = Process {
            pidns_init_start_ns: 0,
            ..in_container
        };
        assert_eq!(message(&unknown), "<NA> <NA> <NA>");
    }

    #[test]
    fn either_end_ip_semantics() {
        let table = ProcessTable::new("/nonexistent");
        let sc = syscalls::by_name("connect").unwrap();
        let mut rec = SysRecord::default();
        rec.hdr.nr = 42;
        rec.hdr.ret = -115;
        rec.fd = crate::wire::FdInfo {
            valid: true,
            mode: 0o140777,
            family: 2,
            sock_type: 1,
            proto: 6,
            lport: 40000,
            laddr: [127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ..Default::default()
        };
        rec.ua_family = 2;
        rec.ua_port = 4444;
        rec.ua_addr[..4].copy_from_slice(&[198, 51, 100, 7]);
        let fdv = fd_view(&rec, sc, None).unwrap();
        assert_eq!(
            fdv.name.as_deref(),
            Some("127.0.0.1:40000->198.51.100.7:4444")
        );
        let rules = "- rule: any\n  desc: d\n  condition: evt.type=connect and fd.ip=198.51.100.7 and fd.net != \"10.0.0.0/8\" and fd.typechar=4 and fd.l4proto=tcp and fd.sport=4444 and evt.res=EINPROGRESS\n  output: o\n  priority: INFO\n- rule: neither\n  desc: d\n  condition: evt.type=connect and fd.ip != 127.0.0.1\n  output: o\n  priority: INFO\n";
        let engine = Engine::builder()
            .rules_text("r.yaml", rules)
            .rule_matching(palisade_detect::RuleMatching::All)
            .build();
        assert!(!engine.has_errors(), "{:?}", engine.diagnostics());
        let evt = SyscallEvent {
            kind: Kind::Sys(&rec, sc),
            proc: None,
            table: &table,
            num: 1,
            ts: 1,
            fd: Some(fdv),
            identity: Identity::default(),
            hostname: "h",
            meta: None,
        };
        let fired: Vec<String> = engine.evaluate(&evt).into_iter().map(|a| a.rule).collect();
        assert_eq!(fired, vec!["any".to_string()]);
    }

    #[test]
    fn capability_names() {
        assert_eq!(cap_names(0), "");
        assert_eq!(cap_names((1 << 21) | 1), "CAP_CHOWN CAP_SYS_ADMIN");
        let fields = supported_fields();
        assert!(fields.iter().any(|f| f == "proc.aname"));
        // Every name the extractor knows is in the catalogue.
        assert!(fields.len() >= 90, "{}", fields.len());
    }
}
