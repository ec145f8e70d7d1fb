// SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only
//
// Palisade's syscall sensor: hooks on syscall exit (one fexit program per
// captured syscall, or the generic sys_exit BTF tracepoint where fexit is
// unavailable) and BTF tracepoints on the scheduler's process lifecycle,
// emitting compact records into one ring buffer per CPU. The record layout
// is described in events.h and decoded by src/wire.rs; any change here must
// change both.
//
// Why syscall exit only: at exit both the arguments (still in the saved user
// registers) and the result are known, so one program per event suffices and
// no per-thread state has to be kept between enter and exit. execve is the
// exception (a successful exec replaces the registers): it is reported from
// sched_process_exec, where the new image's argv is in memory.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "events.h"

// kernfs_node's parent pointer was renamed __parent in 6.15.
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

// The layouts src/wire.rs decodes (HDR_SIZE, SYS_SIZE, EXEC_SIZE, FORK_SIZE).
_Static_assert(sizeof(struct pal_hdr) == 120, "src/wire.rs HDR_SIZE");
_Static_assert(sizeof(struct pal_sys) == 224, "src/wire.rs SYS_SIZE");
_Static_assert(sizeof(struct pal_exec) == 216, "src/wire.rs EXEC_SIZE");
_Static_assert(sizeof(struct pal_fork) == 144, "src/wire.rs FORK_SIZE");

// The kernel needs a GPL-compatible licence string to allow the probe-read
// helpers; this file is offered under GPL-2.0 as one of its two licences.
char LICENSE[] SEC("license") = "GPL";

// Set by user space before load.
const volatile __u32 ignore_tgid = 0;      // the sensor's own process
const volatile __s32 v1_subsys_id = -1;    // a cgroup v1 controller to report, or -1
const volatile __u64 wakeup_bytes = 1 << 20; // wake the consumer past this backlog

// Bumped by user space after each drain of the rings (see pal_time).
__u64 drain_gen = 0;
// Bumped by records that change process-wide state (see pal_time).
__u64 state_gen = 0;
// Set by user space where it is safe (the generic tracepoint, whose programs
// run with preemption off): syscall records may reuse a clock reading.
__u32 clock_reuse = 0;
// Set by user space per CPU once pal_flush_tick runs there (see struct batch).
__u8 batching_cpu[PAL_MAX_CPUS] = {};

// Per syscall number: what to capture (filled from user space, which knows
// each architecture's numbers and each syscall's arguments).
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PAL_MAX_SYSCALLS);
	__type(key, __u32);
	__type(value, struct pal_sc_spec);
} syscall_specs SEC(".maps");

struct ringbuf_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PAL_RING_BYTES);
};

// One ring buffer per CPU, so producers on different CPUs never contend.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1); // resized to the number of possible CPUs at load
	__type(key, __u32);
	__array(values, struct ringbuf_map);
} rings SEC(".maps");

// Counters per category: [2*c] events sent, [2*c+1] events dropped.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * PAL_CAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

// Scratch space where a record is assembled before it is copied out.
struct scratch {
	__u8 buf[PAL_SCRATCH_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

#if defined(__TARGET_ARCH_x86)
// `regs` is a BTF pointer (tp_btf and fexit arguments, bpf_task_pt_regs):
// plain loads, which the verifier turns into fault-safe reads, are cheaper
// than helper calls.
#define SC_NR(regs) ((regs)->orig_ax)
#define SYS_PREFIX "__x64_sys_"
static __always_inline __u64 sc_arg(struct pt_regs *regs, int i)
{
	switch (i) {
	case 0: return regs->di;
	case 1: return regs->si;
	case 2: return regs->dx;
	case 3: return regs->r10;
	case 4: return regs->r8;
	case 5: return regs->r9;
	}
	return 0;
}
#elif defined(__TARGET_ARCH_arm64)
#define SC_NR(regs) BPF_CORE_READ(regs, syscallno)
#define SYS_PREFIX "__arm64_sys_"
static __always_inline __u64 sc_arg(struct pt_regs *regs, int i)
{
	// x0 holds the return value at exit; the first argument is kept in orig_x0.
	if (i == 0)
		return BPF_CORE_READ(regs, orig_x0);
	if (i > 0 && i < 6)
		return BPF_CORE_READ(regs, regs[i]);
	return 0;
}
#else
#error "palisade-sensor supports x86_64 and arm64"
#endif

static __always_inline void count(__u32 cat, int dropped)
{
	__u32 key = 2 * (cat % PAL_CAT_COUNT) + (dropped ? 1 : 0);
	__u64 *v = bpf_map_lookup_elem(&counters, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
}

// A CPU's last clock reading, and what it is valid for (see pal_time).
struct cpu_clock {
	__u64 ts;
	__u64 task;    // the task that read it
	__u64 start;   // its start time (a freed task's memory can be reused)
	__u64 csw;     // that task's context switches then
	__u64 gen;     // drain_gen then
	__u64 sgen;    // state_gen then
	__u32 left;    // records that may still reuse it
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_clock);
} clocks SEC(".maps");

// Records that may share one clock reading.
#define PAL_CLOCK_REUSE 16

// A record's time (CLOCK_BOOTTIME). Reading the clock is a helper call, and
// on kernels with return-thunk mitigations that is a fifth of what an open
// costs the sensor, so a syscall record reuses the CPU's last reading while
// it is fresh: the same task (pointer and start time), no context switch of
// it since, no drain of the rings since (user space drains every 20 ms), no
// change of process-wide state by any task since, fewer than PAL_CLOCK_REUSE
// records ago. Exec, fork and exit records, and those that change
// process-wide state (chdir: another thread's relative path is read against
// it), read the clock (`exact`); the latter also make every CPU read it afresh.
//
// User space merges the CPUs' rings by this time (a stable sort, each ring in
// order, records held back long enough to all be there): a task's records on
// one CPU keep their ring order, a task that moved to another CPU was
// switched out on the way, so its first record there reads the clock afresh,
// after everything it did before; a forked child's first record is likewise
// a new task on its CPU.
static __always_inline __u64 pal_time(struct task_struct *task, int exact, int state_change)
{
	__u32 zero = 0;
	struct cpu_clock *c = bpf_map_lookup_elem(&clocks, &zero);
	if (!c)
		return bpf_ktime_get_boot_ns();
	__u64 csw = task->nvcsw + task->nivcsw;
	__u64 start = task->start_boottime;
	__u64 gen = drain_gen;
	__u64 sgen = state_gen;
	if (exact || !clock_reuse || c->left == 0 || c->task != (__u64)task || c->start != start ||
	    c->csw != csw || c->gen != gen || c->sgen != sgen) {
		c->ts = bpf_ktime_get_boot_ns();
		c->task = (__u64)task;
		c->start = start;
		c->csw = csw;
		c->gen = gen;
		c->sgen = sgen;
		c->left = PAL_CLOCK_REUSE;
	}
	c->left--;
	if (state_change)
		__sync_fetch_and_add(&state_gen, 1);
	return c->ts;
}

static __always_inline struct scratch *get_scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch_map, &zero);
}

// No wake-up per event: the consumer polls on a short timer and is only
// woken early when the backlog grows past wakeup_bytes.
static __always_inline __u64 wakeup_flags(void *rb)
{
	if (bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) > wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

// A syscall record with at most one string of fewer than PAL_INLINE_STR
// bytes (its NUL included), built in place in the CPU's batch: no zeroing
// and copying of a scratch record, for the frequent events (the open
// family). The header's `size` says how much of it is used.
struct pal_sys_inline {
	struct pal_sys sys;
	__u8 str[PAL_INLINE_STR];
};

// Syscall records gathered per CPU and sent to the ring as one ring record
// (records back to back, each at an 8-byte boundary): reserving and
// committing ring space costs two helper calls and a lock, once per batch
// instead of once per record. A batch is sent when it has less room left
// than one record, before any other record of its CPU (so the ring keeps
// the CPU's order), and by pal_flush_tick, which user space attaches to a
// timer on every CPU (`batching_cpu`; without it every record is sent at once).
struct batch {
	__u32 len;
	__u32 busy;                 // being written or sent: the tick keeps off
	__u32 cat[PAL_CAT_COUNT];   // records per counter category
	__u8 buf[PAL_BATCH_BYTES + sizeof(struct pal_sys_inline)];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct batch);
} batches SEC(".maps");

static __always_inline struct batch *get_batch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&batches, &zero);
}

// The tick runs in an interrupt that can land on its CPU in the middle of a
// program writing the batch: `busy` tells it to wait for its next turn.
// The barriers keep the compiler from moving the batch's writes across.
static __always_inline void batch_enter(struct batch *b)
{
	*(volatile __u32 *)&b->busy = 1;
	asm volatile("" ::: "memory");
}

static __always_inline void batch_leave(struct batch *b)
{
	asm volatile("" ::: "memory");
	*(volatile __u32 *)&b->busy = 0;
}

// Sends the batch to this CPU's ring and counts its records as sent or
// dropped. The caller holds `busy`.
static __always_inline void flush_batch(struct batch *b)
{
	// 64 bits: a 32-bit value is widened afresh at each use, and the
	// verifier would only know the bound of the copy that was checked.
	__u64 len = b->len;
	if (len == 0)
		return;
	__u32 cpu = bpf_get_smp_processor_id();
	void *rb = bpf_map_lookup_elem(&rings, &cpu);
	int dropped = 1;
	// At most PAL_BATCH_BYTES by construction; the check is for the verifier.
	if (rb && len <= PAL_BATCH_BYTES) {
		barrier_var(len);
		dropped = bpf_ringbuf_output(rb, b->buf, len, wakeup_flags(rb)) != 0;
	}
	for (int c = 0; c < PAL_CAT_COUNT; c++) {
		__u32 n = b->cat[c];
		if (!n)
			continue;
		__u32 key = 2 * c + dropped;
		__u64 *v = bpf_map_lookup_elem(&counters, &key);
		// A plain add (a locked one costs): the counter is this CPU's,
		// and the tick cannot run while `busy` is held.
		if (v)
			*v += n;
		b->cat[c] = 0;
	}
	b->len = 0;
}

// Sends this CPU's pending batch: before a record that goes to the ring
// directly, and from the tick. A busy batch is left alone: only the tick can
// find one (it interrupted the writer), and its next turn sends it.
static __always_inline void flush_cpu_batch(void)
{
	struct batch *b = get_batch();
	if (!b || b->len == 0 || b->busy)
		return;
	batch_enter(b);
	flush_batch(b);
	batch_leave(b);
}

// Copies `len` bytes of the scratch record to this CPU's ring.
static __always_inline void submit(struct scratch *s, __u32 len, __u32 cat)
{
	flush_cpu_batch();
	__u32 cpu = bpf_get_smp_processor_id();
	void *rb = bpf_map_lookup_elem(&rings, &cpu);
	if (!rb) {
		count(cat, 1);
		return;
	}
	__u64 flags = wakeup_flags(rb);
	len &= PAL_SCRATCH_BYTES - 1;
	if (len < sizeof(struct pal_hdr)) {
		count(cat, 1);
		return;
	}
	if (bpf_ringbuf_output(rb, s->buf, len, flags) != 0)
		count(cat, 1);
	else
		count(cat, 0);
}

static __always_inline void fill_hdr(struct pal_hdr *h, struct task_struct *task, __u16 kind,
				     __u64 pid_tgid, int state_change)
{
	h->ts = pal_time(task, kind != PAL_KIND_SYSCALL || state_change, state_change);
	h->kind = kind;
	h->flags = 0;
	h->tgid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	// `task` is a BTF pointer in every caller: the credentials are read
	// with plain (fault-safe) loads rather than one helper call per hop.
	const struct cred *cred = task->cred;
	h->uid = cred->euid.val;
	h->gid = cred->egid.val;
	h->loginuid = (__u32)-1;
	if (bpf_core_field_exists(task->loginuid))
		h->loginuid = task->loginuid.val;
	// kernel_cap_t is 64 bits wide on every kernel (two u32 before 6.3, one
	// u64 `val` since): a plain load where `val` exists, a copy otherwise.
	if (bpf_core_field_exists(cred->cap_effective.val)) {
		h->cap_eff = cred->cap_effective.val;
		h->cap_prm = cred->cap_permitted.val;
	} else {
		BPF_CORE_READ_INTO(&h->cap_eff, cred, cap_effective);
		BPF_CORE_READ_INTO(&h->cap_prm, cred, cap_permitted);
	}
	h->cpu = bpf_get_smp_processor_id();
	h->nr = 0;
	h->ret = 0;
	for (int i = 0; i < 6; i++)
		h->args[i] = 0;
}

// Appends a user or kernel string at `off`; returns the new offset. The
// length is written to `*len_out` (0 when unreadable). Offsets are masked so
// the verifier can prove every write stays inside the scratch buffer.
static __always_inline __u32 put_str_max(struct scratch *s, __u32 off, const void *src, int user,
					 __u16 *len_out, __u32 max)
{
	*len_out = 0;
	if (!src)
		return off;
	off &= PAL_SCRATCH_HALF - 1;
	long n;
	if (user)
		n = bpf_probe_read_user_str(&s->buf[off], max, src);
	else
		n = bpf_probe_read_kernel_str(&s->buf[off], max, src);
	if (n <= 0)
		return off;
	// The reported length is what was consumed, terminating NUL included,
	// so that user space can tell an empty string (1) from none (0).
	*len_out = (__u16)n;
	return off + (__u32)n;
}

static __always_inline __u32 put_str(struct scratch *s, __u32 off, const void *src, int user,
				     __u16 *len_out)
{
	return put_str_max(s, off, src, user, len_out, PAL_MAX_STR);
}

// The file behind `fd`, as a BTF pointer: `task` is one (tp_btf and fexit
// arguments, bpf_get_current_task_btf), so the walk to the fd table is plain
// fault-safe loads instead of one probe-read helper call per hop; helper
// calls are what an open costs most on kernels with return-thunk mitigations.
// Only the slot of the table itself (a pointer to pointers, which the
// verifier does not type) needs a probe read.
static __always_inline struct file *fd_file(struct task_struct *task, __s64 fd)
{
	if (fd < 0)
		return NULL;
	struct files_struct *files = task->files;
	if (!files)
		return NULL;
	struct fdtable *fdt = files->fdt;
	if (!fdt)
		return NULL;
	if ((__u64)fd >= fdt->max_fds)
		return NULL;
	struct file **fds = fdt->fd;
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return NULL;
	return bpf_core_cast(f, struct file);
}

// What the file behind `fd` is; for sockets, their addresses and protocol.
static __always_inline void fill_fd_info(struct pal_fd *o, struct task_struct *task, __s64 fd)
{
	struct file *f = fd_file(task, fd);
	if (!f)
		return;
	struct inode *inode = f->f_inode;
	if (!inode)
		return;
	__u16 mode = inode->i_mode;
	o->valid = 1;
	o->mode = mode;
	o->ino = inode->i_ino;
	if ((mode & 00170000) != 0140000)
		return;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (!sock)
		return;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return;
	o->sock_type = BPF_CORE_READ(sock, type);
	o->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	o->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	o->proto = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	o->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	o->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (o->family == 2 /* AF_INET */) {
		__u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(o->laddr, &l, 4);
		__builtin_memcpy(o->raddr, &r, 4);
	} else if (o->family == 10 /* AF_INET6 */) {
		BPF_CORE_READ_INTO(&o->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&o->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
}

// A sockaddr from user memory: family, port, address; unix paths go to a string.
static __always_inline __u32 fill_uaddr(struct pal_sys *e, struct scratch *s, __u32 off,
					const void *uaddr, __u64 ulen)
{
	if (!uaddr || ulen < 2)
		return off;
	__u16 family = 0;
	if (bpf_probe_read_user(&family, sizeof(family), uaddr))
		return off;
	e->ua_family = family;
	if (family == 2 && ulen >= 8) {
		struct sockaddr_in sin = {};
		bpf_probe_read_user(&sin, sizeof(sin), uaddr);
		e->ua_port = bpf_ntohs(sin.sin_port);
		__builtin_memcpy(e->ua_addr, &sin.sin_addr.s_addr, 4);
	} else if (family == 10 && ulen >= 24) {
		struct sockaddr_in6 sin6 = {};
		bpf_probe_read_user(&sin6, sizeof(sin6), uaddr);
		e->ua_port = bpf_ntohs(sin6.sin6_port);
		__builtin_memcpy(e->ua_addr, &sin6.sin6_addr.in6_u.u6_addr8, 16);
	} else if (family == 1 /* AF_UNIX */) {
		off = put_str(s, off, (const char *)uaddr + 2, 1, &e->str_len[PAL_STR_UNIX]);
	}
	return off;
}

// The fixed part of a syscall record: header, arguments, decoded extras
// and the fd; `e` must be zeroed.
static __always_inline void fill_sys(struct pal_sys *e, struct task_struct *task,
				     struct pal_sc_spec *spec, struct pt_regs *regs, __u32 nr,
				     long ret, __u64 pid_tgid)
{
	fill_hdr(&e->hdr, task, PAL_KIND_SYSCALL, pid_tgid, spec->state_change);
	e->hdr.nr = nr;
	e->hdr.ret = ret;
	for (int i = 0; i < 6; i++)
		e->hdr.args[i] = sc_arg(regs, i);
	if (spec->special == PAL_SPECIAL_OPENAT2) {
		// openat2(dirfd, path, struct open_how *how, size): flags live in `how`.
		__u64 how[2] = {};
		bpf_probe_read_user(&how, sizeof(how), (const void *)e->hdr.args[2]);
		e->x[0] = how[0];
		e->x[1] = how[1];
	}
	if (spec->fd_arg == PAL_FD_RET)
		fill_fd_info(&e->fd, task, ret);
	else if (spec->fd_arg < 6)
		fill_fd_info(&e->fd, task, (__s64)e->hdr.args[spec->fd_arg]);
}

// Appends a syscall record with at most one short string to this CPU's
// batch. Returns 0 when it does not fit (a longer string): the caller then
// builds it in the scratch buffer.
static __always_inline int sys_exit_inline(struct task_struct *task, struct pal_sc_spec *spec,
					   struct pt_regs *regs, __u32 nr, long ret,
					   __u64 pid_tgid)
{
	struct batch *b = get_batch();
	if (!b)
		return 0;
	batch_enter(b);
	// Below PAL_BATCH_BYTES by construction; the mask tells the verifier.
	__u32 off = b->len & (PAL_BATCH_BYTES - 1);
	struct pal_sys_inline *r = (struct pal_sys_inline *)&b->buf[off];
	__builtin_memset(&r->sys, 0, sizeof(r->sys));
	fill_sys(&r->sys, task, spec, regs, nr, ret, pid_tgid);
	__u32 size = sizeof(r->sys);
	__u8 a = spec->str_arg[0];
	const void *src = a < 6 ? (const void *)r->sys.hdr.args[a] : NULL;
	if (src) {
		long n = bpf_probe_read_user_str(r->str, PAL_INLINE_STR, src);
		// A full buffer may be a cut string: only a shorter one is whole.
		if (n >= PAL_INLINE_STR) {
			batch_leave(b);
			return 0;
		}
		if (n > 0) {
			r->sys.str_len[0] = (__u16)n;
			size += (__u32)n;
		}
	}
	r->sys.hdr.size = size;
	b->len = off + ((size + 7) & ~7u);
	b->cat[spec->category % PAL_CAT_COUNT]++;
	__u32 cpu = bpf_get_smp_processor_id();
	if (cpu >= PAL_MAX_CPUS || !batching_cpu[cpu] ||
	    b->len > PAL_BATCH_BYTES - sizeof(struct pal_sys_inline))
		flush_batch(b);
	batch_leave(b);
	return 1;
}

// One syscall's exit: `regs` are the task's saved user registers (the
// arguments and the syscall number), `ret` the result.
static __always_inline int on_sys_exit(struct pt_regs *regs, long ret)
{
	__u32 nr = (__u32)SC_NR(regs);
	if (nr >= PAL_MAX_SYSCALLS)
		return 0;
	struct pal_sc_spec *spec = bpf_map_lookup_elem(&syscall_specs, &nr);
	if (!spec || !spec->enabled)
		return 0;
	// Plain loads from the task rather than bpf_get_current_pid_tgid(): on
	// kernels with return-thunk mitigations every helper call costs.
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = task->tgid;
	if (tgid == ignore_tgid)
		return 0;
	__u64 pid_tgid = ((__u64)tgid << 32) | (__u32)task->pid;
	// A successful exec is reported by sched_process_exec with the new image.
	if (spec->special == PAL_SPECIAL_EXEC && ret == 0)
		return 0;
	if (spec->str_arg[1] == PAL_NONE && spec->str_arg[2] == PAL_NONE &&
	    spec->addr_arg == PAL_NONE && sys_exit_inline(task, spec, regs, nr, ret, pid_tgid))
		return 0;
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	struct pal_sys *e = (struct pal_sys *)s->buf;
	__builtin_memset(e, 0, sizeof(*e));
	fill_sys(e, task, spec, regs, nr, ret, pid_tgid);
	__u32 off = sizeof(*e);
	for (int i = 0; i < 3; i++) {
		__u8 a = spec->str_arg[i];
		if (a < 6)
			off = put_str(s, off, (const void *)e->hdr.args[a], 1, &e->str_len[i]);
	}
	if (spec->addr_arg < 6) {
		const void *ua = (const void *)e->hdr.args[spec->addr_arg];
		__u64 ulen = spec->addr_len_arg < 6 ? e->hdr.args[spec->addr_len_arg] : 128;
		if (spec->special == PAL_SPECIAL_MSGHDR) {
			// sendmsg: the destination is msg_name/msg_namelen of the msghdr.
			struct user_msghdr mh = {};
			if (ua && bpf_probe_read_user(&mh, sizeof(mh), ua) == 0) {
				ua = mh.msg_name;
				ulen = mh.msg_namelen;
			} else {
				ua = NULL;
			}
		}
		off = fill_uaddr(e, s, off, ua, ulen);
	}
	e->hdr.size = off;
	submit(s, off, spec->category);
	return 0;
}

// The generic hook, used when the per-syscall hooks below cannot be: it runs
// on the exit of every syscall of every task once attached (and puts every
// task on the kernel's slower syscall exit path).
SEC("tp_btf/sys_exit")
int BPF_PROG(pal_sys_exit, struct pt_regs *regs, long ret)
{
	return on_sys_exit(regs, ret);
}

// Per-syscall hooks: fexit on each syscall's entry point (`__x64_sys_NAME`,
// which takes the task's saved registers). Only those of the captured
// syscalls are loaded (user space turns autoload off for the others), so
// every other syscall costs nothing. The syscall table in src/syscalls.rs
// names these programs (`pal_fx_` + the Falco name) and their targets.
// Not here: clone, clone3, fork and vfork (the child returns to user space
// without passing through the function's exit, and the generic hook reports
// that return). When a captured syscall has no program here, or its entry
// point is missing from the kernel's BTF (fork, vfork and setsid on 6.18),
// user space uses the generic hook for all.
#define PAL_FEXIT(prog, func)                                        \
	SEC("fexit/" SYS_PREFIX #func)                               \
	int BPF_PROG(pal_fx_##prog, struct pt_regs *regs, long ret)  \
	{                                                            \
		return on_sys_exit(regs, ret);                       \
	}
#define PAL_FEXIT1(name) PAL_FEXIT(name, name)

PAL_FEXIT1(open)
PAL_FEXIT1(openat)
PAL_FEXIT1(openat2)
PAL_FEXIT1(creat)
PAL_FEXIT1(execve)
PAL_FEXIT1(execveat)
PAL_FEXIT1(chdir)
PAL_FEXIT1(fchdir)
PAL_FEXIT1(accept)
PAL_FEXIT1(accept4)
PAL_FEXIT1(bind)
PAL_FEXIT1(bpf)
PAL_FEXIT1(capset)
PAL_FEXIT1(chmod)
PAL_FEXIT1(chroot)
PAL_FEXIT1(connect)
PAL_FEXIT1(dup)
PAL_FEXIT1(dup2)
PAL_FEXIT1(dup3)
PAL_FEXIT1(fchmod)
PAL_FEXIT1(fchmodat)
PAL_FEXIT1(finit_module)
PAL_FEXIT1(init_module)
PAL_FEXIT1(kill)
PAL_FEXIT1(link)
PAL_FEXIT1(linkat)
PAL_FEXIT1(listen)
PAL_FEXIT1(memfd_create)
PAL_FEXIT1(mkdir)
PAL_FEXIT1(mkdirat)
PAL_FEXIT1(mount)
PAL_FEXIT1(pidfd_getfd)
PAL_FEXIT1(prctl)
PAL_FEXIT1(process_vm_writev)
PAL_FEXIT1(ptrace)
PAL_FEXIT1(rename)
PAL_FEXIT1(renameat)
PAL_FEXIT1(renameat2)
PAL_FEXIT1(rmdir)
PAL_FEXIT1(sendmsg)
PAL_FEXIT1(sendto)
PAL_FEXIT1(setfsgid)
PAL_FEXIT1(setfsuid)
PAL_FEXIT1(setgid)
PAL_FEXIT1(setns)
PAL_FEXIT1(setpgid)
PAL_FEXIT1(setregid)
PAL_FEXIT1(setresgid)
PAL_FEXIT1(setresuid)
PAL_FEXIT1(setreuid)
PAL_FEXIT1(setsid)
PAL_FEXIT1(setuid)
PAL_FEXIT1(socket)
PAL_FEXIT1(symlink)
PAL_FEXIT1(symlinkat)
PAL_FEXIT(umount2, umount)
PAL_FEXIT1(unlink)
PAL_FEXIT1(unlinkat)
PAL_FEXIT1(unshare)
PAL_FEXIT1(userfaultfd)

static __always_inline __u32 put_cgroup(struct scratch *s, __u32 off, struct kernfs_node *kn,
					__u8 *count_out, __u16 *lens)
{
	// Leaf first; user space reverses. Only the innermost levels matter to
	// recognise a container (its id is in the leaf, the pod uid just above).
	*count_out = 0;
	for (int i = 0; i < PAL_CGROUP_LEVELS; i++) {
		if (!kn)
			break;
		const char *name = BPF_CORE_READ(kn, name);
		off = put_str_max(s, off, name, 0, &lens[i], PAL_MAX_CGROUP_NAME);
		*count_out = i + 1;
		struct kernfs_node *parent = NULL;
		if (bpf_core_field_exists(kn->__parent))
			parent = BPF_CORE_READ(kn, __parent);
		else
			parent = BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
		kn = parent;
	}
	return off;
}

static __always_inline __u32 encode_tty(struct task_struct *task)
{
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	if (!tty)
		return 0;
	struct tty_driver *driver = BPF_CORE_READ(tty, driver);
	if (!driver)
		return 0;
	__u32 index = BPF_CORE_READ(tty, index);
	__u32 major = BPF_CORE_READ(driver, major);
	__u32 minor = BPF_CORE_READ(driver, minor_start) + index;
	// The kernel's new_encode_dev(), as /proc/PID/stat's tty_nr.
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

// When the init process of `p`'s pid namespace started (CLOCK_BOOTTIME):
// libsinsp's pidns_init_start_ts, behind container.start_ts.
static __always_inline __u64 pidns_init_start(struct task_struct *p)
{
	struct pid *pid = BPF_CORE_READ(p, thread_pid);
	if (!pid)
		return 0;
	// numbers[] is indexed by the pid's level at run time (see pal_exec).
	__u32 level = BPF_CORE_READ(pid, level) & 31;
	void *numbers = (void *)pid + bpf_core_field_offset(struct pid, numbers);
	struct pid_namespace *ns = NULL;
	bpf_probe_read_kernel(&ns, sizeof(ns),
			      numbers + level * bpf_core_type_size(struct upid) +
				      bpf_core_field_offset(struct upid, ns));
	if (!ns)
		return 0;
	struct task_struct *init = BPF_CORE_READ(ns, child_reaper);
	if (!init)
		return 0;
	return BPF_CORE_READ(init, start_boottime);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(pal_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	if (tgid == ignore_tgid)
		return 0;
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	struct pal_exec *e = (struct pal_exec *)s->buf;
	__builtin_memset(e, 0, sizeof(*e));
	fill_hdr(&e->hdr, p, PAL_KIND_EXEC, bpf_get_current_pid_tgid(), 0);
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(p);
	if (regs)
		e->hdr.nr = (__u32)SC_NR(regs);
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->tty = encode_tty(p);
	e->sid = BPF_CORE_READ(p, signal, pids[PIDTYPE_SID], numbers[0].nr);
	e->pgid = BPF_CORE_READ(p, signal, pids[PIDTYPE_PGID], numbers[0].nr);
	// The pid as seen in the task's own pid namespace.
	struct pid *pid = BPF_CORE_READ(p, thread_pid);
	if (pid) {
		// numbers[] is indexed by namespace level at run time, which CO-RE
		// cannot relocate: compute the address from the relocated offset.
		__u32 level = BPF_CORE_READ(pid, level) & 31;
		void *numbers = (void *)pid + bpf_core_field_offset(struct pid, numbers);
		int nr = 0;
		bpf_probe_read_kernel(&nr, sizeof(nr),
				      numbers + level * bpf_core_type_size(struct upid) +
					      bpf_core_field_offset(struct upid, nr));
		e->vpid = nr;
	}
	e->start_ns = BPF_CORE_READ(p, start_boottime);
	e->pidns_init_start_ns = pidns_init_start(p);
	struct file *exe = BPF_CORE_READ(p, mm, exe_file);
	if (exe) {
		e->exe_ino = BPF_CORE_READ(exe, f_inode, i_ino);
		struct dentry *d = BPF_CORE_READ(exe, f_path.dentry);
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		// memfd files are anonymous: their dentry is its own parent and is
		// named "memfd:...".
		if (d && parent == d) {
			char name[7] = {};
			bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(d, d_name.name));
			if (name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' &&
			    name[4] == 'd' && name[5] == ':')
				e->flags |= PAL_EXEC_MEMFD;
		}
	}
	BPF_CORE_READ_STR_INTO(&e->comm, p, comm);

	__u32 off = sizeof(*e);
	off = put_str(s, off, BPF_CORE_READ(bprm, filename), 0, &e->filename_len);
	// argv, NUL separated, straight from the new image's stack: what the
	// process was started with, not what /proc would show later.
	unsigned long arg_start = BPF_CORE_READ(p, mm, arg_start);
	unsigned long arg_end = BPF_CORE_READ(p, mm, arg_end);
	__u64 alen = arg_end > arg_start ? arg_end - arg_start : 0;
	if (alen > PAL_MAX_STR - 1)
		alen = PAL_MAX_STR - 1;
	off &= PAL_SCRATCH_HALF - 1;
	if (alen > 0 && bpf_probe_read_user(&s->buf[off], alen & (PAL_MAX_STR - 1), (const void *)arg_start) == 0) {
		e->args_len = alen & (PAL_MAX_STR - 1);
		off += e->args_len;
	}
	struct css_set *cgroups = BPF_CORE_READ(p, cgroups);
	struct kernfs_node *kn = BPF_CORE_READ(cgroups, dfl_cgrp, kn);
	off = put_cgroup(s, off, kn, &e->cg2_levels, e->cg2_len);
	if (v1_subsys_id >= 0 && v1_subsys_id < CGROUP_SUBSYS_COUNT) {
		struct cgroup_subsys_state *css = NULL;
		void *slot = (void *)cgroups + bpf_core_field_offset(struct css_set, subsys) +
			     (v1_subsys_id & 15) * sizeof(void *);
		bpf_probe_read_kernel(&css, sizeof(css), slot);
		struct kernfs_node *kn1 = BPF_CORE_READ(css, cgroup, kn);
		off = put_cgroup(s, off, kn1, &e->cg1_levels, e->cg1_len);
	}
	e->hdr.size = off;
	submit(s, off, PAL_CAT_PROC);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(pal_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 child_pid = BPF_CORE_READ(child, pid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	// Threads share their process's entry; only new processes are reported.
	if (child_pid != child_tgid)
		return 0;
	if (BPF_CORE_READ(parent, tgid) == ignore_tgid)
		return 0;
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	struct pal_fork *e = (struct pal_fork *)s->buf;
	__builtin_memset(e, 0, sizeof(*e));
	fill_hdr(&e->hdr, parent, PAL_KIND_FORK, bpf_get_current_pid_tgid(), 0);
	e->child = child_tgid;
	e->ppid = BPF_CORE_READ(child, real_parent, tgid);
	e->start_ns = BPF_CORE_READ(child, start_boottime);
	e->pidns_init_start_ns = pidns_init_start(child);
	e->hdr.size = sizeof(*e);
	submit(s, sizeof(*e), PAL_CAT_PROC);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(pal_exit, struct task_struct *p)
{
	// Only when the whole thread group is gone (its last thread exits).
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	__u32 tgid = BPF_CORE_READ(p, tgid);
	if (tgid == ignore_tgid)
		return 0;
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	struct pal_hdr *h = (struct pal_hdr *)s->buf;
	__builtin_memset(h, 0, sizeof(*h));
	fill_hdr(h, p, PAL_KIND_EXIT, bpf_get_current_pid_tgid(), 0);
	h->tgid = tgid;
	h->ret = BPF_CORE_READ(p, exit_code);
	h->size = sizeof(*h);
	submit(s, sizeof(*h), PAL_CAT_PROC);
	return 0;
}

// A CPU going idle sends its batch: its CPU-clock timer (below) does not run
// while the CPU is idle, so a record left there would wait for the CPU's next
// wake-up. The writers cannot be switched out mid-record (preemption is off).
SEC("tp_btf/sched_switch")
int BPF_PROG(pal_idle_flush, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	if (next->pid == 0)
		flush_cpu_batch();
	return 0;
}

// The periodic flush: user space attaches it to a CPU-clock timer on every
// CPU, so that on a busy CPU a record waits in its batch for one tick at most.
SEC("perf_event")
int pal_flush_tick(void *ctx)
{
	flush_cpu_batch();
	return 0;
}
