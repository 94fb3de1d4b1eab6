/* The server that starts every run of a slot's house, and each run's init (see zygote.py).
 *
 * The zygote starts the server once. For each run the server forks, into a new PID namespace, the
 * run's init: PID 1 of that namespace, with the program's stdin, stdout and stderr as 0, 1, 2 and a
 * report pipe as 3. The init gives the run new mount, IPC, UTS and user namespaces: a fresh /proc, a
 * size-capped /tmp and /dev/shm, /box bound from the compile cache (the rest of the cache hidden
 * under an empty mount), the hostname "sandbox". Then it sets the rlimits, drops every capability,
 * makes itself undumpable (the program cannot ptrace it), forks the program in its own session and
 * waits for it. When the program exits it kills and reaps whatever the program left in the
 * namespace, and reports on fd 3:
 *     status <wait status>      or      error <what failed>
 * As a namespace's init it ignores every signal the program may send it.
 *
 * The init's arguments:
 *     oorl-init DISK_BYTES CWD BOX|- BOX_WRITABLE N_BINDS [SOURCE TARGET]... N_RLIMITS
 *               [RESOURCE SOFT HARD]... -- PROGRAM [ARG]...
 * BOX and each SOURCE are relative to the cache; each TARGET lies under /tmp.
 *
 * C, and forked from a small server: on this kind of machine a fork and exit of the Python zygote
 * cost a run about a millisecond of CPU, and an exec another half.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPORT_FD 3
#define CACHE "/.oorl/cache"

static void fail(const char *what, const char *arg) {
    dprintf(REPORT_FD, "error %s %s: %s\n", what, arg, strerror(errno));
    _exit(127);
}

static void do_mount(const char *source, const char *target, const char *type, unsigned long flags,
                     const char *data) {
    if (mount(source, target, type, flags, data) != 0) fail("mount", target);
}

static void bind_cached(const char *relative, const char *target, int writable) {
    char source[4096];
    if (snprintf(source, sizeof source, "%s/%s", CACHE, relative) >= (int)sizeof source) {
        errno = ENAMETOOLONG;
        fail("bind", relative);
    }
    do_mount(source, target, NULL, MS_BIND | MS_REC, NULL);
    do_mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (writable ? 0 : MS_RDONLY),
             NULL);
}

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) fail("write", path);
    close(fd);
}

/* A user namespace of the run's own, mapping only its uid and gid: what the house's user namespace
 * holds per user (the kernel's user keyring) is not shared with the slot's other runs, and the
 * run's mounts belong to a namespace it has no capability over. */
static void own_user_namespace(void) {
    char map[64];
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER) != 0) fail("unshare", "user namespace");
    write_file("/proc/self/setgroups", "deny");
    snprintf(map, sizeof map, "%u %u 1\n", uid, uid);
    write_file("/proc/self/uid_map", map);
    snprintf(map, sizeof map, "%u %u 1\n", gid, gid);
    write_file("/proc/self/gid_map", map);
}

static long long number(const char *text) {
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || *text == '\0' || *end != '\0') {
        errno = EINVAL;
        fail("bad number", text);
    }
    return value;
}

static void run_init(int argc, char **argv, char **env) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* the server died: so does the run */
    fcntl(REPORT_FD, F_SETFD, FD_CLOEXEC);
    errno = EINVAL;
    if (argc < 9) fail("usage", argv[0]);
    long long disk = number(argv[1]), shm = disk / 8;
    const char *cwd = argv[2], *box = argv[3];
    int box_writable = strcmp(argv[4], "1") == 0;
    int arg = 5;
    long long n_binds = number(argv[arg++]);
    char **binds = argv + arg;
    if (n_binds < 0 || n_binds > (argc - arg) / 2) fail("usage", "binds");
    arg += 2 * n_binds;
    if (arg >= argc) fail("usage", "rlimits");
    long long n_rlimits = number(argv[arg++]);
    char **rlimits = argv + arg;
    if (n_rlimits < 0 || n_rlimits > (argc - arg) / 3) fail("usage", "rlimits");
    arg += 3 * n_rlimits;
    if (arg + 1 >= argc || strcmp(argv[arg], "--") != 0) fail("usage", "--");
    char **program = argv + arg + 1;

    if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) != 0) fail("unshare", "");
    do_mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL); /* nothing we mount reaches the house */
    do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    /* The writable file systems share the disk budget: /dev/shm an eighth, /tmp the rest. */
    char options[64];
    snprintf(options, sizeof options, "size=%lld,mode=0755", disk - shm);
    do_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, options);
    snprintf(options, sizeof options, "size=%lld,mode=1777", shm);
    do_mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, options);
    if (strcmp(box, "-") != 0) bind_cached(box, "/box", box_writable);
    for (long long i = 0; i < n_binds; i++) {
        if (mkdir(binds[2 * i + 1], 0755) != 0 && errno != EEXIST) fail("mkdir", binds[2 * i + 1]);
        bind_cached(binds[2 * i], binds[2 * i + 1], 1);
    }
    /* No other program's files: the cache's mount is hidden under an empty one (it cannot be
     * unmounted: it came from the house's mount namespace, which belongs to bwrap's user namespace). */
    do_mount("tmpfs", "/.oorl", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0");
    if (sethostname("sandbox", 7) != 0) fail("sethostname", "");
    if (chdir(cwd) != 0) fail("chdir", cwd);
    int oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    /* the memory cgroup's OOM killer takes the run, never the house */
    if (oom < 0 || write(oom, "1000", 4) != 4) fail("oom_score_adj", "");
    close(oom);
    own_user_namespace();
    for (long long i = 0; i < n_rlimits; i++) {
        struct rlimit limit = {(rlim_t)number(rlimits[3 * i + 1]), (rlim_t)number(rlimits[3 * i + 2])};
        if (setrlimit((int)number(rlimits[3 * i]), &limit) != 0) fail("setrlimit", rlimits[3 * i]);
    }
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; cap++) /* a new user namespace filled it */
        if (prctl(PR_CAPBSET_DROP, cap) != 0) fail("prctl", "bounding set");
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct none[2];
    memset(none, 0, sizeof none);
    if (syscall(SYS_capset, &header, none) != 0) fail("capset", "");
    if (prctl(PR_SET_DUMPABLE, 0) != 0) fail("prctl", "dumpable");

    pid_t child = fork();
    if (child < 0) fail("fork", "");
    if (child == 0) {
        setsid();
        execve(program[0], program, env);
        fail("cannot start", program[0]); /* the report pipe is still open: close-on-exec */
    }
    close(0); /* the program's pipes are its own now */
    close(1);
    close(2);
    int status = 0, other;
    for (;;) { /* reap orphans until the program itself exits */
        pid_t pid = wait(&other);
        if (pid == child) {
            status = other;
            break;
        }
        if (pid < 0 && errno != EINTR) fail("wait", "");
    }
    /* Then whatever it left (daemons, setsid children): every other process of this PID namespace,
     * each of them a child of ours once its parent is dead. When none is left, the run is over. */
    kill(-1, SIGKILL);
    while (wait(NULL) > 0 || errno == EINTR) {
    }
    dprintf(REPORT_FD, "status %d\n", status);
    _exit(0);
}

#define MAX_REQUEST (1 << 20)
#define MAX_STRINGS 8192

static void reply(const char *format, long value) {
    char text[128];
    int n = snprintf(text, sizeof text, format, value);
    if (send(0, text, (size_t)n, MSG_NOSIGNAL) != n) _exit(0); /* the zygote is gone */
}

/* The server: fd 0 is a SOCK_SEQPACKET socket to the zygote. Each request is one message: the
 * init's arguments, an empty string, the program's environment (all NUL-terminated), with the run's
 * stdin, stdout, stderr and report pipe as SCM_RIGHTS. It answers "pid N" (or "error N" with an
 * errno), then "exit S" with the init's wait status once the init is reaped, i.e. once nothing of
 * the run is left. One run at a time. */
int main(void) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* the zygote died: so does the server */
    int own_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (own_pid_ns < 0) return 1;
    static char request[MAX_REQUEST + 1];
    static char *strings[MAX_STRINGS + 1];
    for (;;) {
        union {
            struct cmsghdr header;
            char space[CMSG_SPACE(4 * sizeof(int))];
        } control;
        struct iovec iov = {request, MAX_REQUEST};
        struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
                                 .msg_controllen = sizeof control.space};
        ssize_t size = recvmsg(0, &message, MSG_CMSG_CLOEXEC);
        if (size <= 0) return 0; /* the zygote is gone */
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&message);
        int fds[4], n_fds = 0;
        if (cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
            n_fds = (int)((cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            memcpy(fds, CMSG_DATA(cmsg), sizeof(int) * (size_t)(n_fds < 4 ? n_fds : 4));
        }
        int n_strings = 0, split = -1;
        request[size] = '\0';
        for (char *p = request; p < request + size && n_strings < MAX_STRINGS; p += strlen(p) + 1) {
            if (*p == '\0' && split < 0) split = n_strings;
            strings[n_strings++] = p;
        }
        strings[n_strings] = NULL;
        if (n_fds != 4 || split < 0 || (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
            for (int i = 0; i < n_fds && i < 4; i++) close(fds[i]);
            reply("error %ld", EINVAL);
            continue;
        }
        strings[split] = NULL; /* argv, then the environment */
        pid_t init = -1;
        if (unshare(CLONE_NEWPID) == 0) { /* for our next child only */
            init = fork();
            if (init == 0) {
                for (int i = 0; i < 4; i++) fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
                for (int i = 0; i < 4; i++) dup2(fds[i], i); /* also closes our socket */
                close_range(4, ~0U, 0);
                run_init(split, strings, strings + split + 1);
            }
            int error = errno;
            if (setns(own_pid_ns, CLONE_NEWPID) != 0) return 1; /* back to ours for the next one */
            errno = error;
        }
        for (int i = 0; i < 4; i++) close(fds[i]);
        if (init < 0) {
            reply("error %ld", errno);
            continue;
        }
        reply("pid %ld", init);
        int status;
        while (waitpid(init, &status, 0) < 0)
            if (errno != EINTR) return 1;
        reply("exit %ld", status);
    }
}
