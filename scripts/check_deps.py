#!/usr/bin/env python3
"""Checks the dependency rule of docs/architecture.md on #include lines.

One folder under broker/ or operator/ is one module; a module may include only the modules listed for it
below. Boost.Asio may appear only in broker/net and in .cc files of modules above it; cpprestsdk only in
operator/kube. Exits 1 and lists every violation.
"""
import os
import re
import sys

BROKER_LOW = {"base", "model", "io", "protocol", "net"}
ALLOWED = {
    "broker/base": {"broker/base"},
    "broker/model": {"broker/base", "broker/model"},
    "broker/filter": {"broker/base", "broker/model", "broker/filter"},
    "broker/acl": {"broker/base", "broker/model", "broker/protocol", "broker/io", "broker/acl"},
    "broker/io": {"broker/base", "broker/io"},
    "broker/protocol": {"broker/base", "broker/model", "broker/protocol"},
    "broker/net": {"broker/base", "broker/model", "broker/protocol", "broker/net"},
    "broker/store": {"broker/base", "broker/io", "broker/model", "broker/store"},
    "broker/ha": {"broker/base", "broker/io", "broker/model", "broker/store", "broker/protocol", "broker/net",
                  "broker/ha"},
    "broker/namesrv": {"broker/base", "broker/io", "broker/model", "broker/protocol", "broker/net", "broker/acl",
                       "broker/namesrv"},
    "broker/server": {"broker/" + m for m in ("base", "model", "io", "protocol", "net", "store", "ha", "filter",
                                              "acl", "server")},
    "broker/client": {"broker/base", "broker/model", "broker/protocol", "broker/net", "broker/acl", "broker/client"},
    "broker/cli": {"broker/base", "broker/model", "broker/protocol", "broker/net", "broker/acl", "broker/client",
                   "broker/cli"},
    "broker/cmd": None,  # composition roots may use everything in broker/
}
OPERATOR_BROKER = {"broker/base", "broker/model", "broker/protocol", "broker/net", "broker/acl", "broker/client"}
# Inside the operator: api and model are pure (no I/O), kube is the only place that talks HTTP to Kubernetes,
# runtime builds informers and controllers on kube, controllers use all of them plus the broker's admin client,
# cmd composes everything.
OPERATOR_ALLOWED = {
    "operator/api": {"broker/base"},
    "operator/model": {"broker/base", "operator/api"},
    "operator/kube": {"broker/base", "broker/net"},  # net: the in-process fake apiserver of its tests
    "operator/runtime": {"broker/base", "broker/net", "operator/kube"},
    "operator/controllers": OPERATOR_BROKER | {"operator/api", "operator/model", "operator/kube", "operator/runtime"},
    "operator/cmd": OPERATOR_BROKER | {"operator/api", "operator/model", "operator/kube", "operator/runtime",
                                       "operator/controllers"},
}
# operator/kube sits above net too: cpprestsdk's TLS hook hands its .cc files a boost::asio::ssl::context.
ASIO_OK = {"broker/net", "broker/server", "broker/namesrv", "broker/client", "broker/cli", "broker/cmd", "broker/ha",
           "operator/kube"}

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')


def module_of(path):
    parts = path.split(os.sep)
    if len(parts) >= 3 and parts[0] in ("broker", "operator"):
        return parts[0] + "/" + parts[1]
    return None


def main(root):
    errors = []
    for top in ("broker", "operator"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith((".h", ".cc", ".cpp")):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root)
                mod = module_of(rel)
                if mod is None:
                    continue
                is_test = name.endswith("_test.cc")
                with open(full, encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        inc = m.group(1)
                        where = f"{rel}:{lineno}"
                        if inc.startswith("boost/asio") or inc == "boost/asio.hpp":
                            if mod not in ASIO_OK or (mod != "broker/net" and name.endswith(".h")):
                                errors.append(f"{where}: Boost.Asio is allowed only in broker/net and .cc files above it")
                        if inc.startswith("cpprest/") and mod != "operator/kube":
                            errors.append(f"{where}: cpprestsdk is allowed only in operator/kube")
                        target = module_of(inc)
                        if target is None or target == mod or is_test:
                            continue
                        if mod.startswith("broker/"):
                            allowed = ALLOWED.get(mod, set())
                            if allowed is None:
                                if not target.startswith("broker/"):
                                    errors.append(f"{where}: broker code may not include {target}")
                                continue
                        else:
                            allowed = OPERATOR_ALLOWED.get(mod, OPERATOR_BROKER)
                        if target not in allowed:
                            errors.append(f"{where}: {mod} may not depend on {target} (docs/architecture.md)")
    for e in errors:
        print(e)
    print(f"dependency rule: {len(errors)} violation(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
