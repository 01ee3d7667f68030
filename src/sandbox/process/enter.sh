# Run by `sh -c` as pid 1 of fresh pid, mount, ipc and uts namespaces (index.ts builds the command line).
# It joins the sandbox's cgroups, mounts a minimal root filesystem by following WHIRL_PLAN (one step per
# line, built in mounts.ts on top of a prepared skeleton), pivots into it, drops every privilege and stays
# pid 1 as a reaping shell that runs "$@", the runtime proxy. Anything failing here aborts the sandbox before
# user code ever runs.
set -eu

# Join the cgroups first so that every later process, and its memory, is accounted. "0" means "this process".
for cg in $WHIRL_CGROUPS; do echo 0 > "$cg/cgroup.procs"; done

# Tell Whirl our pid as the host sees it (/proc is still the host's here): this process stays the namespace's
# pid 1 and its only child will be the runtime proxy; both must outlive every activation. With a network namespace,
# Whirl then plugs a network link into it; wait until it has (fd 4) and configure our side.
read -r hostpid _ < /proc/self/stat
echo "pid $hostpid" >&3
if [ -n "${WHIRL_NET:-}" ]; then
  read -r _ <&4
  printf '%s' "$WHIRL_NET" | ip -batch -
fi
exec 4<&-

# Mounts made below must never propagate back to the host.
mount --make-rprivate /
R="$WHIRL_ROOT"

echo "$WHIRL_PLAN" | while read -r op a b; do
  case "$op" in
    ro) mount -o bind,ro,nosuid "$a" "$R${b%/}" ;;
    rw) mount -o bind,nosuid "$a" "$R$b" ;;
    tmpfs) mount -t tmpfs -o "$b" tmpfs "$R$a" ;;
    devices)
      # A tmpfs /dev holding only harmless devices, bound from the host's.
      for d in null zero full random urandom; do : > "$R$a/$d"; mount -o bind "/dev/$d" "$R$a/$d"; done
      ln -s /proc/self/fd "$R$a/fd"; ln -s /proc/self/fd/0 "$R$a/stdin"
      ln -s /proc/self/fd/1 "$R$a/stdout"; ln -s /proc/self/fd/2 "$R$a/stderr"
      mkdir "$R$a/shm"
      mount -t tmpfs -o mode=1777,size=16m,nosuid,nodev,noexec tmpfs "$R$a/shm"
      mount -o remount,ro,bind "$R$a"
      ;;
    *) echo "whirl sandbox: unknown plan step '$op'" >&2; exit 1 ;;
  esac
done

cd "$R"
# pivot_root parks the old root on an empty directory of the new one (.old), from where it is detached.
pivot_root . .old
cd /
mount -t proc -o nosuid,nodev,noexec proc /proc
umount -l /.old

ulimit -n "${WHIRL_NOFILE:-1024}"
ulimit -c 0
unset WHIRL_CGROUPS WHIRL_PLAN WHIRL_ROOT WHIRL_NOFILE WHIRL_NET
# 65534 is `nobody`: the action owns nothing outside its private /tmp. Changing the uid clears the
# parent-death signal `unshare --kill-child` set, so it is set again: when unshare dies, this pid 1 dies,
# and with it every process of the namespace.
# pid 1 stays a shell that runs the proxy in the foreground: orphans of the namespace are re-parented to pid 1,
# and the shell's wait for the proxy reaps them too, where a runtime (Node) as pid 1 would leave them as
# zombies that fill the pids limit of a long-lived sandbox. The trailing `exit` keeps the shell from exec'ing
# the proxy in its place; when the proxy ends, so does pid 1 and with it the namespace. The shell's own
# stderr goes to /dev/null, the proxy keeps the real one (fd 9, restored in a subshell: dash applies a
# simple command's redirections in the parent), so a killed proxy adds no "Killed" to the action's logs.
exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \
  --pdeathsig KILL -- /bin/sh -c 'exec 9>&2 2>/dev/null; (exec "$@" 2>&9 9>&-); exit $?' whirl-init "$@"
