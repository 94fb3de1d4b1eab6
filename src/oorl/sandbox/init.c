/* The run server of a slot's house, and each run's init.
 *
 * The house is one bwrap sandbox per worker slot, started once (see isolation.py): the slot's
 * unprivileged uid, new user, network, PID, IPC, UTS and mount namespaces, only system directories
 * read-only, the compile cache bound at /.oorl/cache. This server is its only process of ours. It
 * keeps two capabilities inside the house's user namespace (CAP_SYS_ADMIN for namespaces and
 * mounts, CAP_SETPCAP for bounding sets) and none outside it.
 *
 * For each run it forks, into a new PID namespace, the run's init: PID 1 of that namespace, with the
 * program's stdin, stdout and stderr as 0, 1, 2 and a report pipe as 3. The init gives the run new
 * mount, IPC, UTS and user namespaces: a fresh /proc, a size-capped /tmp and /dev/shm, /box bound
 * from the compile cache (the rest of the cache hidden under an empty mount), the hostname
 * "sandbox", a user namespace mapping only the run's uid (so that no per-user kernel state, such as
 * the user keyring, is shared with the slot's other runs). Then it sets the rlimits, drops every
 * capability, makes itself undumpable (the program cannot ptrace it), forks the program in its own
 * session and waits for it. When the program exits it kills and reaps whatever the program left in
 * the namespace and reports on fd 3 (`status <wait status>` or `error <what failed>`); the server
 * answers once it has reaped the init, so a run whose status we report has no process left. As a
 * namespace's init it ignores every signal the program may send it. The runs share (one after
 * another) the house's network namespace, which holds nothing but loopback.
 *
 * The init's arguments:
 *     oorl-init DISK_BYTES CWD BOX|- BOX_WRITABLE N_BINDS [SOURCE TARGET]... N_RLIMITS
 *               [RESOURCE SOFT HARD]... -- PROGRAM [ARG]...
 * BOX and each SOURCE are relative to the cache; each TARGET lies under /tmp.
 *
 * C, and one process per slot: bwrap per run cost about 3 ms of set-up; a fork and exit of a Python
 * process about a millisecond of CPU, an exec another half. Forking this one costs a fraction.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
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
#include <time.h>
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

static int parse(const char *text, long long *value) {
    char *end;
    errno = 0;
    *value = strtoll(text, &end, 10);
    return errno == 0 && *text != '\0' && *end == '\0';
}

static long long number(const char *text) {
    long long value;
    if (!parse(text, &value)) {
        errno = EINVAL;
        fail("bad number", text);
    }
    return value;
}

static void run_init(int argc, char **argv, char **env) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* the server died: so does the run */
    prctl(PR_SET_DUMPABLE, 1); /* our /proc/self files are ours again, until the program starts */
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
#define BACKSTOP_MS 10000 /* beyond the run's own wall limit, which our process enforces first */

static int connected = 1; /* our process is still there */

static void answer(const char *text) {
    if (connected && send(0, text, strlen(text), MSG_NOSIGNAL) < 0) connected = 0;
}

static void answer_error(long long id, const char *message) {
    char text[1200];
    int n = snprintf(text, sizeof text, "{\"id\": %lld, \"error\": \"", id);
    for (const char *c = message; *c != '\0' && n < (int)sizeof text - 16; c++) {
        if (*c == '"' || *c == '\\') {
            text[n++] = '\\';
            text[n++] = *c;
        } else if ((unsigned char)*c < 0x20) {
            n += snprintf(text + n, sizeof text - (size_t)n, "\\u%04x", *c);
        } else {
            text[n++] = *c;
        }
    }
    snprintf(text + n, sizeof text - (size_t)n, "\"}");
    answer(text);
}

static long long now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000LL + now.tv_nsec / 1000000;
}

/* One message from our process: its NUL-terminated strings, and up to 3 fds. 0 when it is gone. */
static int receive(char *buffer, char **strings, int *n_strings, int *fds, int *n_fds) {
    union {
        struct cmsghdr header;
        char space[CMSG_SPACE(8 * sizeof(int))];
    } control;
    struct iovec iov = {buffer, MAX_REQUEST};
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
                             .msg_controllen = sizeof control.space};
    ssize_t size = recvmsg(0, &message, MSG_CMSG_CLOEXEC);
    if (size <= 0) return 0;
    *n_fds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c != NULL; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int)), received[8];
        memcpy(received, CMSG_DATA(c), sizeof(int) * (size_t)count);
        for (int i = 0; i < count; i++) {
            if (*n_fds < 3) fds[(*n_fds)++] = received[i];
            else close(received[i]);
        }
    }
    buffer[size] = '\0';
    *n_strings = 0;
    for (char *p = buffer; p < buffer + size && *n_strings < MAX_STRINGS; p += strlen(p) + 1)
        strings[(*n_strings)++] = p;
    if (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) *n_strings = 0; /* not a request we can read */
    return 1;
}

/* A run request: "run", ID, WALL_MS, N_ARGS, the init's N_ARGS arguments, then the program's
 * environment, with its stdin, stdout and stderr. Answers with the program's wait status (SIGKILL
 * when its init was killed first: our process's kill request, the backstop, the OOM killer) once
 * the init is reaped, i.e. once nothing of the run is left; or why it could not start. */
static void serve_run(char **strings, int n_strings, int *fds, int n_fds, int own_pid_ns) {
    static char *args[MAX_STRINGS + 1], *env[MAX_STRINGS + 1];
    long long id = 0, wall_ms, n_args;
    if (n_strings < 4 || !parse(strings[1], &id) || !parse(strings[2], &wall_ms) ||
        !parse(strings[3], &n_args) || n_args < 1 || n_args > n_strings - 4 || n_fds != 3) {
        for (int i = 0; i < n_fds; i++) close(fds[i]);
        answer_error(id, "malformed run request");
        return;
    }
    memcpy(args, strings + 4, sizeof(char *) * (size_t)n_args);
    args[n_args] = NULL;
    int n_env = n_strings - 4 - (int)n_args;
    memcpy(env, strings + 4 + n_args, sizeof(char *) * (size_t)n_env);
    env[n_env] = NULL;

    int report[2] = {-1, -1};
    pid_t init = -1;
    if (pipe2(report, O_CLOEXEC) == 0) {
        if (unshare(CLONE_NEWPID) == 0) { /* for our next child only */
            init = fork();
            if (init == 0) {
                int mine[4] = {fds[0], fds[1], fds[2], report[1]};
                for (int i = 0; i < 4; i++) mine[i] = fcntl(mine[i], F_DUPFD_CLOEXEC, 10);
                for (int i = 0; i < 4; i++) dup2(mine[i], i); /* also closes our socket */
                close_range(4, ~0U, 0);
                run_init((int)n_args, args, env);
            }
            int error = errno;
            if (setns(own_pid_ns, CLONE_NEWPID) != 0) _exit(1); /* back to ours, for the next run */
            errno = error;
        }
        close(report[1]);
    }
    int error = errno;
    for (int i = 0; i < 3; i++) close(fds[i]);
    if (init < 0) {
        if (report[0] >= 0) close(report[0]);
        answer_error(id, strerror(error));
        return;
    }
    int pidfd = (int)syscall(SYS_pidfd_open, init, 0);
    long long deadline = now_ms() + wall_ms + BACKSTOP_MS;
    for (;;) {
        struct pollfd watch[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
        long long wait_ms = deadline - now_ms();
        int ready = poll(watch, connected ? 2 : 1, (int)(wait_ms < 0 ? 0 : wait_ms > 3600000 ? 3600000 : wait_ms));
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) { /* the backstop: our process stopped watching this run */
            kill(init, SIGKILL);
            deadline = now_ms() + 3600000;
            continue;
        }
        if (watch[0].revents) break;
        if (connected && watch[1].revents) {
            static char buffer[MAX_REQUEST + 1];
            static char *message[MAX_STRINGS + 1];
            int n_message, other[3], n_other;
            long long target;
            if (!receive(buffer, message, &n_message, other, &n_other)) {
                connected = 0; /* our process died: take the run down with us */
                kill(init, SIGKILL);
                continue;
            }
            for (int i = 0; i < n_other; i++) close(other[i]);
            if (n_message == 2 && strcmp(message[0], "kill") == 0 && parse(message[1], &target) && target == id)
                kill(init, SIGKILL);
        }
    }
    int status;
    while (waitpid(init, &status, 0) < 0)
        if (errno != EINTR) break;
    close(pidfd);
    char text[1024];
    ssize_t size = read(report[0], text, sizeof text - 1);
    close(report[0]);
    text[size > 0 ? size : 0] = '\0';
    char *line = strstr(text, "error ");
    if (line == text || (line != NULL && line[-1] == '\n')) {
        line += strlen("error ");
        line[strcspn(line, "\n")] = '\0';
        answer_error(id, line);
        return;
    }
    long long program = WIFSIGNALED(status) ? SIGKILL : status; /* the init died first */
    if (strncmp(text, "status ", 7) == 0) parse(strtok(text + 7, "\n"), &program);
    char reply[64];
    snprintf(reply, sizeof reply, "{\"id\": %lld, \"status\": %lld}", id, program);
    answer(reply);
}

/* The server: fd 0 is a SOCK_SEQPACKET socket to our process, which sends run requests (see
 * serve_run) and kill requests ("kill", ID), one run at a time. */
int main(void) {
    /* Every run inherits no_new_privs; the bounding set is emptied here and again in each run's user
     * namespace. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 1;
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
        if (prctl(PR_CAPBSET_DROP, cap) != 0) return 1;
    /* bwrap's PID namespace belongs to a user namespace above ours, where we have no capability: the
     * server proper is the init of a PID namespace of our own, so that it may return to it (setns)
     * after creating each run's. */
    if (unshare(CLONE_NEWPID) != 0) return 1;
    pid_t server = fork();
    if (server < 0) return 1;
    if (server > 0) {
        close(0);
        int status;
        while (waitpid(server, &status, 0) < 0)
            if (errno != EINTR) return 1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_DUMPABLE, 0);
    int own_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (own_pid_ns < 0) return 1;
    answer("{\"ready\": 1}");
    static char buffer[MAX_REQUEST + 1];
    static char *strings[MAX_STRINGS + 1];
    int n_strings, fds[3], n_fds;
    while (connected && receive(buffer, strings, &n_strings, fds, &n_fds)) {
        if (n_strings > 0 && strcmp(strings[0], "run") == 0) {
            serve_run(strings, n_strings, fds, n_fds, own_pid_ns);
        } else {
            for (int i = 0; i < n_fds; i++) close(fds[i]);
        }
    }
    return 0;
}
