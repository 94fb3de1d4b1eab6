/* The run server of a slot's house, and each run's init.
 *
 * The house is one bwrap sandbox per worker slot, started once (see isolation.py): the slot's
 * unprivileged uid, new user, network, PID, IPC, UTS and mount namespaces, only system directories
 * read-only, the compile cache bound at /.oorl/cache. This server is its only process of ours. It
 * keeps two capabilities inside the house's user namespace (CAP_SYS_ADMIN for namespaces and
 * mounts, CAP_SETPCAP for bounding sets) and none outside it.
 *
 * Each run is prepared before its request comes, so that a request costs little more than an exec.
 * The server forks, into a new PID namespace, the run's init: PID 1 of that namespace. The init
 * gives the run new mount, IPC and UTS namespaces (a fresh /proc, a size-capped /tmp and /dev/shm,
 * the hostname "sandbox", the compile cache hidden under an empty mount), forks the run's first
 * process, the runner, drops its own capabilities and waits. The runner makes a user namespace
 * mapping only the run's uid (so that no per-user kernel state, such as the user keyring, is shared
 * with the slot's other runs) and waits for the request. Once it comes from our process (the
 * program's stdin, stdout and stderr come with it), the runner binds /box from the compile cache,
 * enters that user namespace, sets the rlimits, drops every capability, starts its own session, adds
 * its seccomp filter to the server's (seccomp.h) and execs the program. When the program exits, the
 * init kills and reaps whatever it left in the namespace, then answers our process itself (see
 * Messages below: the run's status and CPU time, or why the program could not start): a run whose
 * status we report has no process left. As a namespace's init it ignores every signal the program
 * may send it, and being undumpable it cannot be traced or read.
 *
 * Meanwhile the server watches: kill requests from our process and a backstop clock, either of
 * which kills the init (and with it the namespace); it answers for an init that died before
 * answering. Once the init has answered, the server prepares the next run while the init's
 * namespaces are torn down, and reaps it. Runs share (one after another) the house's network
 * namespace, which holds nothing but loopback.
 *
 * Messages, the one place they are written down (house.py's `House` encodes them, clients.py's
 * `Run` decodes the answers). One SOCK_SEQPACKET packet each, on fd 0 (CLIENT):
 *   our process -> server
 *     run:   "run" ID WALL_MS N_ARGS ARGS... ENV..., every field a NUL-terminated string; the
 *            program's stdin, stdout and stderr come with it as 3 fds (SCM_RIGHTS). ARGS are
 *                oorl-init DISK_BYTES CWD BOX|- BOX_WRITABLE N_RLIMITS [RESOURCE SOFT HARD]...
 *                          -- PROGRAM [ARG]...
 *            (BOX relative to the cache, RESOURCE a RLIMIT_* number); ENV are "KEY=VALUE" strings.
 *     kill:  "kill" ID: SIGKILL that run if it is still the current one.
 *   server -> our process: JSON objects
 *     {"ready": 1}                                       once, when the server is up
 *     {"id": ID, "status": WAIT_STATUS, "cpu_us": US}    the run is over and nothing of it is left;
 *                                                        US is the CPU time of all its processes
 *                                                        together (-1: unknown, the init was killed)
 *     {"id": ID, "error": WHY}                           the program could not be started
 * Closing the socket ends the server, and every run with it.
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
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CACHE "/.oorl/cache"
#define CLIENT 0 /* the socket to our process, in the server and the init */
#define MAX_REQUEST (1 << 20)
#define MAX_STRINGS 8192
#define BACKSTOP_MS 10000 /* beyond the run's own wall limit, which our process enforces first */
#define FIRST_DISK (64LL << 20) /* the first run's /tmp and /dev/shm; later ones take the last run's */

/* What a run's processes tell each other and the server: a page shared by the three, written by
 * the runner before it execs (the program has none of it) and by the init. */
static struct run {
    int took;            /* the runner took a request */
    long long id;        /* its id */
    long long wall_ms;   /* its wall limit: the server's backstop */
    long long disk;      /* its disk budget: the next run's /tmp is prepared with it */
    int answered;        /* the init sent our process the run's answer */
    int gone;            /* our process closed the socket: the server exits */
    char error[1024];    /* why the run (or its preparation) failed, when it did */
} *run;

static int own_pid_ns = -1; /* the server's PID namespace, which it returns to after forking an init */
/* The last run's init, which has answered and is tearing its namespaces down: the server reaps it
 * while it prepares and serves the next run. */
static pid_t old_init = -1;
static int old_pidfd = -1;

static void fail(const char *what, const char *arg) {
    if (run->error[0] == '\0')
        snprintf(run->error, sizeof run->error, "%s %s: %s", what, arg, strerror(errno));
    _exit(127);
}

static void do_mount(const char *source, const char *target, const char *type, unsigned long flags,
                     const char *data) {
    if (mount(source, target, type, flags, data) != 0) fail("mount", target);
}

/* The compile cache, opened by each run's init before it hides the cache under an empty mount: the
 * runner binds the request's box through it. */
static int cache_dir = -1;

static void bind_cached(const char *relative, const char *target, int writable) {
    char source[4096];
    int length = snprintf(source, sizeof source, "/proc/self/fd/%d/%s", cache_dir, relative);
    if (length >= (int)sizeof source) {
        errno = ENAMETOOLONG;
        fail("bind", relative);
    }
    do_mount(source, target, NULL, MS_BIND | MS_REC, NULL);
    do_mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (writable ? 0 : MS_RDONLY),
             NULL);
}

/* The writable file systems share the disk budget: /dev/shm an eighth, /tmp the rest. */
static void mount_scratch(long long disk, unsigned long remount) {
    char options[64];
    snprintf(options, sizeof options, "size=%lld,mode=0755", disk - disk / 8);
    do_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | remount, options);
    snprintf(options, sizeof options, "size=%lld,mode=1777", disk / 8);
    do_mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | remount, options);
}

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) fail("write", path);
    close(fd);
}

/* A user namespace of the run's own, mapping only its uid and gid: what the house's user namespace
 * holds per user (the kernel's user keyring) is not shared with the slot's other runs, and the
 * run's mounts belong to a namespace it has no capability over. The runner enters it (setns) after
 * the request's mounts, which need its capabilities over the init's mount namespace; it is made
 * before the request comes, by a helper that only unshares it and waits: a clone that shares the
 * runner's memory and fds (a fork, which copies them, cost 0.4 ms here), of which the runner writes
 * the maps and keeps an fd. */
static int helper_notes[2], helper_exit[2];

static int unshare_user_namespace(void *unused) {
    char note = 'u';
    (void)unused;
    if (unshare(CLONE_NEWUSER) != 0) fail("unshare", "user namespace");
    if (write(helper_notes[1], &note, 1) != 1 || read(helper_exit[0], &note, 1) < 0) _exit(127);
    _exit(0);
}

static void write_proc(pid_t pid, const char *name, const char *text) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    write_file(path, text);
}

static int prepare_user_namespace(void) {
    static char stack[16384] __attribute__((aligned(16)));
    if (pipe2(helper_notes, O_CLOEXEC) != 0 || pipe2(helper_exit, O_CLOEXEC) != 0)
        fail("pipe", "user namespace");
    pid_t helper =
        clone(unshare_user_namespace, stack + sizeof stack, CLONE_VM | CLONE_FILES | SIGCHLD, NULL);
    if (helper < 0) fail("clone", "user namespace");
    char note, map[64], path[64];
    if (read(helper_notes[0], &note, 1) != 1) fail("user namespace", "not made"); /* its reason first */
    write_proc(helper, "setgroups", "deny");
    snprintf(map, sizeof map, "%u %u 1\n", getuid(), getuid());
    write_proc(helper, "uid_map", map);
    snprintf(map, sizeof map, "%u %u 1\n", getgid(), getgid());
    write_proc(helper, "gid_map", map);
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)helper);
    int userns = open(path, O_RDONLY | O_CLOEXEC);
    if (userns < 0) fail("open", path);
    close(helper_exit[1]); /* the helper sees EOF and exits */
    while (waitpid(helper, NULL, 0) < 0 && errno == EINTR) {
    }
    close(helper_exit[0]);
    close(helper_notes[0]);
    close(helper_notes[1]);
    return userns;
}

static void drop_capabilities(void) {
    int cap = 0;
    while (prctl(PR_CAPBSET_DROP, cap) == 0) /* a new user namespace filled it */
        cap++;
    if (errno != EINVAL || cap == 0) fail("prctl", "bounding set"); /* EINVAL: past the last one */
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct none[2];
    memset(none, 0, sizeof none);
    if (syscall(SYS_capset, &header, none) != 0) fail("capset", "");
}

#include "seccomp.h"

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
    ssize_t size;
    while ((size = recvmsg(CLIENT, &message, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
    }
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

static void answer(const char *text) {
    send(CLIENT, text, strlen(text), MSG_NOSIGNAL); /* our process is gone: nobody to tell */
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

/* cpu_us: the CPU time of every process of the run together (-1: unknown) */
static void answer_status(long long id, long long status, long long cpu_us) {
    char text[96];
    snprintf(text, sizeof text, "{\"id\": %lld, \"status\": %lld, \"cpu_us\": %lld}", id, status, cpu_us);
    answer(text);
}

/* The next run request ("run" messages only: a kill request for a run already over is stale). Its
 * strings are the runner's for good: the program's arguments and environment point into them. */
static int next_request(char **strings, int *n_strings, int *fds, int *n_fds) {
    static char buffer[MAX_REQUEST + 1];
    for (;;) {
        if (!receive(buffer, strings, n_strings, fds, n_fds)) return 0;
        if (*n_strings > 0 && strcmp(strings[0], "run") == 0) return 1;
        for (int i = 0; i < *n_fds; i++) close(fds[i]);
    }
}

/* The runner: takes the next request, tells the server (a 't' on `notes`), sets the run up and execs
 * the program. `disk` is the size /tmp was prepared with. */
static void run_program(int notes, long long disk) {
    static char *strings[MAX_STRINGS + 1], *env[MAX_STRINGS + 1];
    int n_strings, fds[3], n_fds;
    int userns = prepare_user_namespace();
    if (!next_request(strings, &n_strings, fds, &n_fds)) {
        run->gone = 1;
        _exit(0);
    }
    run->took = 1;
    long long n_args;
    if (n_strings < 4 || !parse(strings[1], &run->id) || !parse(strings[2], &run->wall_ms) ||
        !parse(strings[3], &n_args) || n_args < 8 || n_args > n_strings - 4 || n_fds != 3) {
        snprintf(run->error, sizeof run->error, "malformed run request");
        run->wall_ms = 0;
        if (write(notes, "t", 1) < 0) _exit(127);
        _exit(127);
    }
    char **argv = strings + 4;
    int n_env = n_strings - 4 - (int)n_args;
    memmove(env, strings + 4 + n_args, sizeof(char *) * (size_t)n_env);
    env[n_env] = NULL;
    run->disk = number(argv[1]);
    if (write(notes, "t", 1) != 1) fail("write", "notes");

    const char *cwd = argv[2], *box = argv[3];
    int box_writable = strcmp(argv[4], "1") == 0;
    int arg = 5;
    errno = EINVAL;
    if (arg >= n_args) fail("usage", "rlimits");
    long long n_rlimits = number(argv[arg++]);
    char **rlimits = argv + arg;
    if (n_rlimits < 0 || n_rlimits > (n_args - arg) / 3) fail("usage", "rlimits");
    arg += 3 * n_rlimits;
    if (arg + 1 >= n_args || strcmp(argv[arg], "--") != 0) fail("usage", "--");
    char **program = argv + arg + 1;
    argv[n_args] = NULL; /* the first environment string's slot, copied above */

    if (run->disk != disk) mount_scratch(run->disk, MS_REMOUNT);
    if (strcmp(box, "-") != 0) bind_cached(box, "/box", box_writable);
    if (chdir(cwd) != 0) fail("chdir", cwd);
    if (setns(userns, CLONE_NEWUSER) != 0) fail("setns", "user namespace");

    int mine[3];
    for (int i = 0; i < 3; i++) mine[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
    for (int i = 0; i < 3; i++) dup2(mine[i], i); /* also closes our socket */
    close_range(3, ~0U, 0); /* and the cache's, the user namespace's and every other fd of ours */
    for (long long i = 0; i < n_rlimits; i++) {
        struct rlimit limit = {(rlim_t)number(rlimits[3 * i + 1]), (rlim_t)number(rlimits[3 * i + 2])};
        if (setrlimit((int)number(rlimits[3 * i]), &limit) != 0) fail("setrlimit", rlimits[3 * i]);
    }
    drop_capabilities();
    setsid();
    deny_namespaces();
    execve(program[0], program, env);
    fail("cannot start", program[0]);
}

/* A run's init (PID 1 of a new PID namespace): prepares the run, forks its runner, and answers our
 * process once the runner (the program) and everything it left are gone; then tells the server (an
 * 'a' on `notes`), which prepares the next run while this one's namespaces are torn down. */
static void run_init(int notes, long long disk) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* the server died: so does the run */
    prctl(PR_SET_DUMPABLE, 1); /* our /proc/self files are ours again, until the program starts */
    close(own_pid_ns); /* the server's, like the last run's pidfd: nothing of ours to keep */
    if (old_pidfd >= 0) close(old_pidfd);
    if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) != 0) fail("unshare", "");
    do_mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL); /* nothing we mount reaches the house */
    do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_scratch(disk, 0);
    /* No other program's files: the cache's mount is hidden under an empty one (it cannot be
     * unmounted: it came from the house's mount namespace, which belongs to bwrap's user namespace). */
    cache_dir = open(CACHE, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cache_dir < 0) fail("open", CACHE);
    do_mount("tmpfs", "/.oorl", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0");
    if (sethostname("sandbox", 7) != 0) fail("sethostname", "");
    int oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    /* the memory cgroup's OOM killer takes the run, never the house */
    if (oom < 0 || write(oom, "1000", 4) != 4) fail("oom_score_adj", "");
    close(oom);
    if (prctl(PR_SET_DUMPABLE, 0) != 0) fail("prctl", "dumpable");

    pid_t runner = fork();
    if (runner < 0) fail("fork", "");
    if (runner == 0) {
        prctl(PR_SET_DUMPABLE, 1); /* for its user namespace's maps; execve decides for the program */
        run_program(notes, disk);
    }
    close(cache_dir);
    drop_capabilities();
    int status = 0, other;
    for (;;) { /* reap orphans until the runner (the program) itself exits */
        pid_t pid = wait(&other);
        if (pid == runner) {
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
    if (!run->took) _exit(0); /* no request came: our process is gone */
    /* every process of the run was reaped by its parent or, orphaned, by us: their CPU time is ours */
    struct rusage usage;
    long long cpu_us = -1;
    if (getrusage(RUSAGE_CHILDREN, &usage) == 0)
        cpu_us = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000LL + usage.ru_utime.tv_usec +
                 usage.ru_stime.tv_usec;
    if (run->error[0] != '\0') answer_error(run->id, run->error);
    else answer_status(run->id, status, cpu_us);
    run->answered = 1;
    if (write(notes, "a", 1) < 0) _exit(1);
    _exit(0);
}


static void reap_old(void) {
    if (old_init < 0) return;
    while (waitpid(old_init, NULL, 0) < 0 && errno == EINTR) {
    }
    close(old_pidfd);
    old_init = old_pidfd = -1;
}

/* Forks the next run's init into a new PID namespace; -1 if it cannot. */
static pid_t prepare(int notes[2], long long disk) {
    if (pipe2(notes, O_CLOEXEC) != 0) return -1;
    pid_t init = -1;
    if (unshare(CLONE_NEWPID) == 0) { /* for our next child only */
        init = fork();
        if (init == 0) {
            close(notes[0]);
            run_init(notes[1], disk);
        }
        int error = errno;
        if (setns(own_pid_ns, CLONE_NEWPID) != 0) _exit(1); /* back to ours, for the next run */
        errno = error;
    }
    int error = errno;
    close(notes[1]);
    if (init < 0) close(notes[0]);
    errno = error;
    return init;
}

/* Waits for a prepared init to take a request and answer it (1), or to exit (0); meanwhile serves
 * kill requests for it, keeps the backstop clock, and reaps the last run's init. */
static int watch(pid_t init, int pidfd, int notes) {
    int running = 0, listening = 0;
    long long deadline = 0;
    for (;;) {
        struct pollfd fds[4] = {{.fd = pidfd, .events = POLLIN},
                                {.fd = notes, .events = POLLIN},
                                {.fd = listening ? CLIENT : -1, .events = POLLIN},
                                {.fd = old_pidfd, .events = POLLIN}};
        long long wait_ms = running ? deadline - now_ms() : -1;
        int ready = poll(fds, 4, wait_ms < 0 ? (running ? 0 : -1) : wait_ms > 3600000 ? 3600000 : (int)wait_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0 || fds[0].revents) return 0;
        if (fds[3].revents) reap_old();
        if (ready == 0) { /* the backstop: our process stopped watching this run */
            kill(init, SIGKILL);
            deadline = now_ms() + 3600000;
        }
        if (fds[1].revents) {
            char note;
            ssize_t size = read(notes, &note, 1);
            if (size == 1 && note == 'a') return 1;
            if (size == 1 && note == 't') { /* the runner took a request: the socket is ours to watch */
                running = listening = 1;
                deadline = now_ms() + run->wall_ms + BACKSTOP_MS;
            } else if (size <= 0) {
                notes = -1; /* the init is exiting */
            }
        }
        if (fds[2].revents) {
            /* Only kill requests are ours: a run request comes once this run is answered, and it
             * is the next runner's. */
            char head[32];
            ssize_t size = recv(CLIENT, head, sizeof head - 1, MSG_PEEK | MSG_DONTWAIT);
            if (size == 0) { /* our process is gone: take the run down with us */
                run->gone = 1;
                kill(init, SIGKILL);
                listening = 0;
            } else if (size > 5 && memcmp(head, "kill", 5) == 0) {
                recv(CLIENT, head, sizeof head - 1, 0);
                head[sizeof head - 1] = '\0';
                long long target;
                if (parse(head + 5, &target) && target == run->id) kill(init, SIGKILL);
            } else if (size > 0) {
                listening = 0;
            }
        }
    }
}

/* The server: CLIENT is a SOCK_SEQPACKET socket to our process, which sends run requests (each
 * taken by a prepared runner) and kill requests, one run at a time. */
int main(void) {
    /* Every run inherits no_new_privs; the bounding set is emptied here and again in each run's user
     * namespace. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 1;
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
        if (prctl(PR_CAPBSET_DROP, cap) != 0) return 1;
    if (install_seccomp() != 0) { /* inherited by every run (seccomp.h) */
        perror("oorl-init: seccomp");
        return 1;
    }
    /* bwrap's PID namespace belongs to a user namespace above ours, where we have no capability: the
     * server proper is the init of a PID namespace of our own, so that it may return to it (setns)
     * after creating each run's. */
    if (unshare(CLONE_NEWPID) != 0) return 1;
    pid_t server = fork();
    if (server < 0) return 1;
    if (server > 0) {
        close(CLIENT);
        int status;
        while (waitpid(server, &status, 0) < 0)
            if (errno != EINTR) return 1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_DUMPABLE, 0);
    own_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    run = mmap(NULL, sizeof *run, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (own_pid_ns < 0 || run == MAP_FAILED) return 1;
    answer("{\"ready\": 1}");
    long long disk = FIRST_DISK;
    for (;;) {
        memset(run, 0, sizeof *run);
        int notes[2];
        pid_t init = prepare(notes, disk);
        if (init < 0 && old_init >= 0) { /* the last run's init may hold what a new one needs */
            reap_old();
            init = prepare(notes, disk);
        }
        if (init < 0) {
            snprintf(run->error, sizeof run->error, "fork: %s", strerror(errno));
        } else {
            int pidfd = (int)syscall(SYS_pidfd_open, init, 0);
            int answered = watch(init, pidfd, notes[0]);
            close(notes[0]);
            if (answered) {
                reap_old();
                old_init = init;
                old_pidfd = pidfd;
            } else {
                close(pidfd);
                while (waitpid(init, NULL, 0) < 0 && errno == EINTR) {
                }
                if (run->took && !run->answered) { /* the init died first (killed, or out of memory) */
                    if (run->error[0] != '\0') answer_error(run->id, run->error);
                    else answer_status(run->id, SIGKILL, -1);
                }
            }
            if (run->disk > 0) disk = run->disk;
        }
        if (run->gone) return 0;
        if (!run->took && run->error[0] != '\0') {
            if (old_init >= 0) { /* perhaps for want of what it holds: try again without it */
                reap_old();
                continue;
            }
            /* The run could not be prepared: the next request gets the reason. */
            static char *strings[MAX_STRINGS + 1];
            int n_strings, fds[3], n_fds;
            long long id = 0;
            if (!next_request(strings, &n_strings, fds, &n_fds)) return 0;
            for (int i = 0; i < n_fds; i++) close(fds[i]);
            if (n_strings > 1) parse(strings[1], &id);
            answer_error(id, run->error);
        }
    }
}
