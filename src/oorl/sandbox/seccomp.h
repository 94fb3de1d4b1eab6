/* The seccomp filter of every run (included by init.c, whose `fail` it reports through). */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <stddef.h>

/* The seccomp filters every program runs under (the server's no_new_privs lets an unprivileged
 * process attach them). Modelled on Docker's default profile, but a deny list: what no judged program
 * needs and what has been the road to kernel privilege escalations. Denied calls fail (EPERM; ENOSYS
 * where a runtime falls back on it), never kill, so that a runtime probing for a feature carries on
 * without it. Only the native ABI is allowed: an i386 (int 0x80) or x32 call would bypass a list of
 * native numbers.
 *
 * Two filters, because attaching one costs in proportion to its length (the kernel runs it once per
 * syscall number to cache the always-allowed ones: about 0.15 ms for the whole list here), and runs
 * are meant to cost little more than an exec:
 *   - the run server attaches the whole list once, at start (`install_seccomp`); every init, runner
 *     and program inherits it, a reference to the same filter, for nothing;
 *   - the three calls that the server, each run's init and its runner make themselves (new
 *     namespaces, entering them, mounts) are left out of it, and a filter of those three alone is
 *     attached by each runner just before exec (`deny_namespaces`). */
#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "the sandbox's seccomp filter knows x86-64 and aarch64"
#endif
/* clone()'s namespace flags (its low byte is the exit signal: CLONE_NEWTIME is clone3's only) */
#define NAMESPACE_FLAGS                                                                             \
    (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |   \
     CLONE_NEWNET)
#define AF_VSOCK_ 40
#define ARG_LOW(n) (offsetof(struct seccomp_data, args[n])) /* the low 32 bits, little-endian */
#define RET(action) BPF_STMT(BPF_RET | BPF_K, (action))

/* Denied outright, by the server's filter: what no judged program needs (most also need a capability
 * the run lacks). */
static const struct {
    int nr, error;
} denied[] = {
    /* every other namespace or mount call (unshare, setns and mount: see `run_only`) */
    {SYS_umount2, EPERM}, {SYS_pivot_root, EPERM}, {SYS_fsopen, EPERM}, {SYS_fsconfig, EPERM},
    {SYS_fsmount, EPERM}, {SYS_fspick, EPERM}, {SYS_move_mount, EPERM}, {SYS_open_tree, EPERM},
    {SYS_mount_setattr, EPERM},
    {SYS_clone3, ENOSYS}, /* its flags are behind a pointer: glibc falls back to clone() on ENOSYS */
    /* large kernel attack surface */
    {SYS_io_uring_setup, ENOSYS}, {SYS_io_uring_enter, ENOSYS}, {SYS_io_uring_register, ENOSYS},
    {SYS_perf_event_open, EPERM}, {SYS_bpf, EPERM}, {SYS_userfaultfd, EPERM}, {SYS_add_key, EPERM},
    {SYS_keyctl, EPERM}, {SYS_request_key, EPERM}, {SYS_open_by_handle_at, EPERM},
    {SYS_name_to_handle_at, EPERM}, {SYS_fanotify_init, EPERM}, {SYS_kcmp, EPERM},
    {SYS_process_vm_readv, EPERM}, {SYS_process_vm_writev, EPERM},
    /* the machine's, never a program's */
    {SYS_init_module, EPERM}, {SYS_finit_module, EPERM}, {SYS_delete_module, EPERM},
    {SYS_kexec_load, EPERM}, {SYS_kexec_file_load, EPERM}, {SYS_reboot, EPERM}, {SYS_swapon, EPERM},
    {SYS_swapoff, EPERM}, {SYS_acct, EPERM}, {SYS_syslog, EPERM}, {SYS_quotactl, EPERM},
    {SYS_settimeofday, EPERM}, {SYS_clock_settime, EPERM}, {SYS_clock_adjtime, EPERM},
    {SYS_adjtimex, EPERM}, {SYS_vhangup, EPERM},
#ifdef __x86_64__
    {SYS_iopl, EPERM}, {SYS_ioperm, EPERM}, {SYS_uselib, EPERM}, {SYS_lookup_dcookie, EPERM},
#endif
};
#define N_DENIED (int)(sizeof denied / sizeof denied[0])

/* Denied by each runner's own filter, just before exec: nested user namespaces, and every other
 * namespace or mount. The server, the inits and the runners call them to set runs up. */
static const int run_only[] = {SYS_unshare, SYS_setns, SYS_mount};
#define N_RUN_ONLY (int)(sizeof run_only / sizeof run_only[0])

/* SPEC_ALLOW: kernels that force speculation mitigations on seccomp'd tasks would slow every run;
 * they guard a process against itself, and the run is its only tenant. */
static int attach(struct sock_filter *filter, int n) {
    struct sock_fprog program = {(unsigned short)n, filter};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &program) == 0)
        return 0;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program);
}

/* The whole list, attached by the run server once: 0, or -1 with errno set. */
static int install_seccomp(void) {
    /* The common syscalls leave after a range check: the kernel runs the filter on every call
     * (and on every syscall number when it is attached, to cache the always-allowed ones). */
    int low = denied[0].nr, high = denied[0].nr, n = 0;
    for (int i = 1; i < N_DENIED; i++) {
        if (denied[i].nr < low) low = denied[i].nr;
        if (denied[i].nr > high) high = denied[i].nr;
    }
    struct sock_filter filter[32 + 2 * N_DENIED];
    struct sock_filter head[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
        RET(SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __x86_64__
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000 /* __X32_SYSCALL_BIT */, 0, 1),
        RET(SECCOMP_RET_ERRNO | ENOSYS),
#endif
        /* clone() with namespace flags */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(0)),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NAMESPACE_FLAGS, 0, 1),
        RET(SECCOMP_RET_ERRNO | EPERM),
        RET(SECCOMP_RET_ALLOW),
        /* sockets: no AF_VSOCK (the network namespace does not isolate it), no AF_PACKET, and of
         * netlink only NETLINK_ROUTE (what getaddrinfo and `ip` use) */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 8),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(0)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_VSOCK_, 5, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_PACKET, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 2),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(2)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NETLINK_ROUTE, 0, 1),
        RET(SECCOMP_RET_ALLOW),
        RET(SECCOMP_RET_ERRNO | EAFNOSUPPORT),
        /* everything outside the denied numbers' range */
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (unsigned)low, 1, 0),
        RET(SECCOMP_RET_ALLOW),
        BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (unsigned)high, 0, 1),
        RET(SECCOMP_RET_ALLOW),
    };
    memcpy(filter, head, sizeof head);
    n = (int)(sizeof head / sizeof head[0]);
    for (int i = 0; i < N_DENIED; i++) {
        filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[i].nr, 0, 1);
        filter[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | (unsigned)denied[i].error);
    }
    filter[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
    return attach(filter, n);
}

/* The runner's own filter, just before exec: `run_only` (the server's filter already refuses other
 * ABIs, so the numbers are the native ones). */
static void deny_namespaces(void) {
    struct sock_filter filter[2 + 2 * N_RUN_ONLY];
    int n = 0;
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (int i = 0; i < N_RUN_ONLY; i++) {
        filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)run_only[i], 0, 1);
        filter[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | EPERM);
    }
    filter[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
    if (attach(filter, n) != 0) fail("seccomp", "filter");
}
