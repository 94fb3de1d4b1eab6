# The sandbox service: `oorl sandbox serve` on port 8080.
#
# UNTESTED HERE: the machine this project is developed on has neither Docker nor Kubernetes. The file
# follows what the sandbox needs on a plain Debian 12 host (where it is tested); check `oorl doctor`
# inside the container before trusting it.
#
#   docker build -t oorl-sandbox .
#   docker run --rm -p 8080:8080 \
#     --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
#     --security-opt systempaths=unconfined \
#     -v /path/to/token:/etc/oorl/token:ro oorl-sandbox
#   docker run --rm <same options> oorl-sandbox oorl doctor --run     # what isolation it gets
#
# What the container needs, and why:
# - root inside the container: every worker slot runs its programs as a uid of its own (taken from
#   60000+ and locked under /run/oorl-sandbox), which only root can switch to.
# - unprivileged user namespaces (kernel.unprivileged_userns_clone=1 on Debian kernels,
#   user.max_user_namespaces > 0; on Ubuntu 24.04 hosts also
#   kernel.apparmor_restrict_unprivileged_userns=0): bubblewrap builds each slot's "house" in a new
#   user namespace holding CAP_SYS_ADMIN and CAP_SETPCAP only inside it. No capability is needed on the
#   host side, but Docker's default seccomp profile refuses unshare/clone of namespaces and its
#   AppArmor profile refuses mount: hence seccomp=unconfined and apparmor=unconfined (or profiles
#   that allow unshare, clone3, mount, umount2, pivot_root, setns).
# - an unmasked /proc (systempaths=unconfined; in Kubernetes `procMount: Unmasked`): the kernel refuses
#   to mount a fresh procfs for a run's PID namespace while parts of the container's /proc are masked.
# - for cgroup memory and process limits, a writable cgroup tree (a privileged container, or a
#   delegated cgroup). Without one the sandbox still runs and says so in `oorl doctor`:
#   "memory limit: no memory cgroup: RLIMIT_AS where safe, else the runtime's heap flag".
# - no network for the programs is the sandbox's own doing (an empty network namespace per run);
#   the container needs network only for its port.
FROM debian:12

RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/oorl
COPY . /opt/oorl
# The same set-up as `bash run.sh`: the toolchains' Debian packages and the pinned Python environment.
RUN bash scripts/setup.sh && rm -rf /var/lib/apt/lists/* /root/.cache/pip

ENV PATH=/opt/oorl/.venv/bin:$PATH
EXPOSE 8080
# The compile cache lives here; mount a volume to keep it across restarts.
VOLUME /var/tmp/oorl-sandbox-cache
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/healthz')"
# Off loopback the server insists on a token: mount one at /etc/oorl/token.
CMD ["oorl", "sandbox", "serve", "--host", "0.0.0.0", "--port", "8080", "--token-file", "/etc/oorl/token"]
