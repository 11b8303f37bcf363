"""Supervisor for a test Hub: ``launch_hub.py --cleanup-dir DIR -- ARGS...``

Runs ``python -m jupyterhub ARGS...`` as a child and owns everything the Hub starts, so that nothing
survives the test run, however it ends:

- It asks the kernel for SIGTERM when the process that started it (the test runner) dies
  (PR_SET_PDEATHSIG, Linux), so a crashed or killed test run still cleans up.
- On SIGTERM/SIGINT/SIGHUP it forwards SIGTERM to the Hub, whose own shutdown stops the proxy and
  the managed services; after a grace period it SIGKILLs whatever is left of its process tree
  (JupyterHub starts the proxy and the services in sessions of their own, so a process-group kill
  would miss them).
- If it was stopped because its parent died, it then removes DIR (the Hub's temp dir); otherwise
  the parent does that itself (after reading the log).
"""

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
GRACE_SECONDS = 5.0


def _stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2 :].split()
    # state, ppid, start time
    return fields[0], int(fields[1]), fields[19]


def descendants(root):
    """(pid, start time) of every live descendant of root (Linux /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _stat(int(entry))
        if st is None or st[0] in "ZX":
            continue
        children.setdefault(st[1], []).append((int(entry), st[2]))
    found = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def alive(proc):
    st = _stat(proc[0])
    return st is not None and st[0] not in "ZX" and st[2] == proc[1]


def kill_all(procs, sig):
    for proc in procs:
        if alive(proc):
            try:
                os.kill(proc[0], sig)
            except OSError:
                pass


def main():
    argv = sys.argv[1:]
    cleanup_dir = None
    if argv[:1] == ["--cleanup-dir"]:
        cleanup_dir = argv[1]
        argv = argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]

    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
            # orphans of the tree (the proxy, services) are re-parented to us, not to init,
            # so they stay findable as our descendants
            libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    stopping = []

    def on_signal(signum, _frame):
        stopping.append(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    if os.getppid() != parent:
        stopping.append(signal.SIGTERM)  # the parent died before prctl took effect

    hub = subprocess.Popen([sys.executable, "-m", "jupyterhub", *argv])
    while hub.poll() is None and not stopping:
        time.sleep(0.1)

    known = set(descendants(os.getpid()))
    if hub.poll() is None:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    known.update(descendants(os.getpid()))
    kill_all(known, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while any(alive(p) for p in known) and time.monotonic() < deadline:
        time.sleep(0.05)
    hub.poll()
    if cleanup_dir and os.getppid() != parent:
        shutil.rmtree(cleanup_dir, ignore_errors=True)
    code = hub.returncode
    sys.exit(code if isinstance(code, int) and code >= 0 else 1)


if __name__ == "__main__":
    main()
