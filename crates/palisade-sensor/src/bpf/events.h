/* SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only */
/*
 * Records the sensor's BPF programs send to user space. Every record starts
 * with struct pal_hdr; its `kind` says which struct follows. Variable parts
 * (strings) follow the fixed struct back to back, in the order of their
 * length fields, without terminators. A ring record holds one record or
 * several back to back, each starting at an 8-byte boundary of the ring
 * record: `size` says where the next one starts. src/wire.rs decodes these layouts: keep
 * both in step (the Rust side checks sizes against the constants below).
 */
#ifndef PALISADE_EVENTS_H
#define PALISADE_EVENTS_H

#define PAL_MAX_SYSCALLS 512
#define PAL_RING_BYTES (8 * 1024 * 1024)
#define PAL_SCRATCH_BYTES 32768
#define PAL_SCRATCH_HALF 16384
#define PAL_MAX_STR 4096
/* String space of a syscall record built in place in the ring. */
#define PAL_INLINE_STR 256
/* Bytes of syscall records gathered per CPU before they are sent (see struct batch). */
#define PAL_BATCH_BYTES 4096
#define PAL_MAX_CGROUP_NAME 256
#define PAL_CGROUP_LEVELS 6
/* CPUs whose batching user space can switch on (see batching_cpu). */
#define PAL_MAX_CPUS 4096

/* Record kinds. */
#define PAL_KIND_SYSCALL 1
#define PAL_KIND_EXEC 2
#define PAL_KIND_FORK 3
#define PAL_KIND_EXIT 4

/* Categories for the sent/dropped counters. */
#define PAL_CAT_FILE 0
#define PAL_CAT_NET 1
#define PAL_CAT_PROC 2
#define PAL_CAT_OTHER 3
#define PAL_CAT_COUNT 4

/* pal_sc_spec.special */
#define PAL_SPECIAL_NONE 0
#define PAL_SPECIAL_EXEC 1
#define PAL_SPECIAL_OPENAT2 2
#define PAL_SPECIAL_MSGHDR 3

/* pal_sc_spec.fd_arg: the returned value is the fd. */
#define PAL_FD_RET 0xfe
#define PAL_NONE 0xff

/* String slots of a syscall record: three arguments, then a unix socket path. */
#define PAL_STR_UNIX 3

/* pal_exec.flags */
#define PAL_EXEC_MEMFD 1

struct pal_sc_spec {
	__u8 enabled;
	__u8 category;
	__u8 special;
	__u8 fd_arg;       /* argument holding an fd to describe, PAL_FD_RET, or PAL_NONE */
	__u8 str_arg[3];   /* arguments that are user strings, or PAL_NONE */
	__u8 addr_arg;     /* argument that is a user sockaddr (or msghdr), or PAL_NONE */
	__u8 addr_len_arg; /* argument holding the sockaddr's length, or PAL_NONE */
	__u8 state_change; /* changes what other threads' records are read against (the cwd) */
	__u8 pad[6];
};

struct pal_hdr {
	__u64 ts;      /* CLOCK_BOOTTIME, ns; a syscall record may reuse an earlier reading (pal_time) */
	__u16 kind;
	__u16 flags;
	__u32 size;    /* whole record, bytes */
	__u32 tgid;
	__u32 tid;
	__u32 uid;     /* effective */
	__u32 gid;     /* effective */
	__u32 loginuid;
	__u32 nr;      /* syscall number */
	__s64 ret;
	__u64 args[6];
	__u64 cap_eff;
	__u64 cap_prm;
	__u32 cpu;
	__u32 pad;
};

struct pal_fd {
	__u8 valid;
	__u8 state;
	__u16 mode;      /* inode mode: file type and permissions */
	__u16 family;
	__u16 sock_type;
	__u16 proto;
	__u16 lport;     /* host order */
	__u16 rport;     /* host order */
	__u16 pad;
	__u64 ino;
	__u8 laddr[16];
	__u8 raddr[16];
};

struct pal_sys {
	struct pal_hdr hdr;
	struct pal_fd fd;
	__u64 x[2];        /* decoded extras (openat2: flags, mode) */
	__u16 ua_family;   /* user sockaddr */
	__u16 ua_port;
	__u8 ua_addr[16];
	__u16 str_len[4];
	__u32 pad;
};

struct pal_exec {
	struct pal_hdr hdr;
	__u32 ppid;
	__u32 tty;
	__u32 sid;
	__u32 pgid;
	__u32 vpid;
	__u32 flags;
	__u64 start_ns;
	__u64 exe_ino;
	char comm[16];
	__u16 filename_len;
	__u16 args_len;
	__u8 cg2_levels;
	__u8 cg1_levels;
	__u16 cg2_len[PAL_CGROUP_LEVELS];
	__u16 cg1_len[PAL_CGROUP_LEVELS];
	__u16 pad;
	__u64 pidns_init_start_ns; /* start of its pid namespace's init, CLOCK_BOOTTIME ns */
};

struct pal_fork {
	struct pal_hdr hdr;
	__u32 child;
	__u32 ppid;
	__u64 start_ns;
	__u64 pidns_init_start_ns; /* the child's, as in pal_exec */
};

#endif
