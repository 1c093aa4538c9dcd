"""Child processes of the harness: each in its own process group, output to a log file, and killed by the
kernel (PR_SET_PDEATHSIG) if the harness process dies first, so a killed test leaves no control plane behind.

PR_SET_PDEATHSIG fires when the *thread* that forked the child exits: spawn() from the main thread or from a
thread that outlives the child.
"""

import ctypes
import os
import signal
import subprocess

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent(sig=signal.SIGTERM):
    def fn():
        _libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    return fn


def spawn(cmd, log_path, env=None, cwd=None, pdeathsig=signal.SIGTERM):
    """Starts cmd with stdout+stderr appended to log_path; returns the Popen."""
    log = open(log_path, "ab", buffering=0)
    try:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=cwd, start_new_session=True, preexec_fn=_die_with_parent(pdeathsig))
    finally:
        log.close()


def stop_process(p, grace=10.0):
    """SIGTERM to the process group, then SIGKILL after `grace` seconds; reaps the process."""
    if p.poll() is not None:
        return p.returncode
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        return p.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return p.wait()
