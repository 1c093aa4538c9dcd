#!/usr/bin/env python3
"""Starts an e2e cluster for a program in another language (a C++ test fixture, a shell session) and keeps it up
until SIGTERM/SIGINT, or until its standard input closes when --stdin-eof is given (so a parent that dies takes
the cluster with it).

    tests/e2e/run_cluster.py [--no-pods] [--bin-dir DIR ...] [--ready-file F] [--stdin-eof]

--no-pods starts only etcd + kube-apiserver + kube-controller-manager (no pod runner, no root needed for
networking). Once up it prints one line `READY <json>` on stdout and writes the same JSON to --ready-file:
{"kubeconfig", "server", "ca", "admin_cert", "admin_key", "audit_log", "workdir", "gateway" (pods only),
"node" (pods only)}. Tools come from scripts/install_e2e_tools.sh (FMQ_TOOLS_DIR). The work directory is removed
on a clean stop unless FMQ_E2E_KEEP=1.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lib.cluster import Cluster, tools_bin  # noqa: E402
from lib.controlplane import ControlPlane  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-pods", action="store_true", help="control plane only")
    ap.add_argument("--bin-dir", action="append", default=[], help="image programs (repeatable or a:b)")
    ap.add_argument("--ready-file")
    ap.add_argument("--stdin-eof", action="store_true", help="stop when standard input closes")
    args = ap.parse_args()
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.stdin_eof:
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

    keep = os.environ.get("FMQ_E2E_KEEP") == "1"
    if args.no_pods:
        root = os.environ.get("FMQ_E2E_WORKDIR_ROOT") or tempfile.gettempdir()
        workdir = tempfile.mkdtemp(prefix="fmq-e2e-cp-", dir=root)
        cp = ControlPlane(workdir, tools_bin(), log=log).start()
        info = {"workdir": workdir}
        stopper = cp.stop
    else:
        bins = [d for a in (args.bin_dir or [os.environ.get("FMQ_BIN_DIR", "")]) for d in a.split(":") if d]
        cluster = Cluster(bin_dirs=bins, log=log).start()
        cp = cluster.cp
        info = {"workdir": cluster.workdir, "gateway": cluster.gateway, "node": cluster.node_name}
        stopper = lambda: cluster.stop(ok=True)  # noqa: E731
    info.update({"kubeconfig": cp.kubeconfig, "server": cp.server, "ca": cp.pki.ca_crt, "admin_cert": cp.admin_crt,
                 "admin_key": cp.admin_key, "audit_log": cp.audit_log})
    line = json.dumps(info)
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as f:
            f.write(line)
        os.replace(args.ready_file + ".tmp", args.ready_file)
    print("READY " + line, flush=True)
    try:
        while not stop.wait(1.0):
            cp.check_alive()
    finally:
        stopper()
        if args.no_pods and not keep:
            import shutil
            shutil.rmtree(info["workdir"], ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
