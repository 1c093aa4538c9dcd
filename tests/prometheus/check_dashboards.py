#!/usr/bin/env python3
"""Checks FerryMQ's Grafana dashboards (charts/ferrymq-operator/files/dashboards/*.json).

  check_dashboards.py --lint
      Structure: valid JSON, uid = file name, every panel on the `datasource` variable with at least one query,
      every variable a query uses is defined, every metric a query names is documented in docs/metrics.md.
  check_dashboards.py --prometheus http://127.0.0.1:9090 [--uid ferrymq-broker ...] [--wait S]
      Every panel query and every variable query of the chosen dashboards (default: all) returns at least one
      series from that Prometheus (variables replaced by ".*", $__rate_interval by 1m); a query without series
      is asked again for up to S seconds (default 30: a rate needs two scrapes in its window). Prints PASS/FAIL
      lines and "dashboards: N passed, M failed"; exit 0 only when all passed.
"""
import argparse
import glob
import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DIR = os.path.join(ROOT, "charts", "ferrymq-operator", "files", "dashboards")
METRIC = re.compile(r"\b((?:rocketmq|ferrymq_operator)_[a-z0-9_]+)")
VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
BUILTIN = {"__rate_interval", "__interval", "__range"}
# Histogram and counter series are documented by their family name.
SUFFIXES = ("_bucket", "_count", "_sum")


def load():
    out = []
    for path in sorted(glob.glob(os.path.join(DIR, "*.json"))):
        with open(path) as f:
            out.append((path, json.load(f)))
    return out


def queries(d):
    """(where, expr) of every panel target and variable query."""
    for p in d.get("panels", []):
        for t in p.get("targets", []):
            yield "panel %r" % p.get("title"), t.get("expr", "")
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            yield "variable %r" % v.get("name"), q.get("query", "") if isinstance(q, dict) else (q or "")


def lint(dashboards):
    errors = []
    with open(os.path.join(ROOT, "docs", "metrics.md")) as f:
        documented = set(METRIC.findall(f.read()))
    uids = set()
    for path, d in dashboards:
        name = os.path.basename(path)
        uid = d.get("uid")
        if uid + ".json" != name:
            errors.append("%s: uid %r is not the file name" % (name, uid))
        if uid in uids:
            errors.append("%s: uid %r twice" % (name, uid))
        uids.add(uid)
        if not d.get("title"):
            errors.append("%s: no title" % name)
        variables = {v["name"] for v in d.get("templating", {}).get("list", [])}
        if "datasource" not in variables:
            errors.append("%s: no datasource variable" % name)
        if not d.get("panels"):
            errors.append("%s: no panels" % name)
        for p in d.get("panels", []):
            where = "%s: panel %r" % (name, p.get("title"))
            if p.get("datasource", {}).get("uid") != "${datasource}":
                errors.append(where + ": not on the datasource variable")
            if not p.get("targets"):
                errors.append(where + ": no query")
            if "gridPos" not in p:
                errors.append(where + ": no gridPos")
        for where, expr in queries(d):
            if not expr.strip():
                errors.append("%s: %s: empty query" % (name, where))
            for var in VAR.findall(expr):
                if var not in variables and var not in BUILTIN:
                    errors.append("%s: %s uses undefined variable $%s" % (name, where, var))
            for m in METRIC.findall(expr):
                family = next((m[: -len(s)] for s in SUFFIXES if m.endswith(s) and m[: -len(s)] in documented), m)
                if family not in documented:
                    errors.append("%s: %s names %s, not in docs/metrics.md" % (name, where, m))
    return errors


def substitute(expr):
    expr = expr.replace("$__rate_interval", "1m").replace("$__interval", "15s").replace("$__range", "1h")
    return VAR.sub(".*", expr)


def run_query(base, expr):
    m = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", expr)
    if m:
        url = base + "/api/v1/series?" + urllib.parse.urlencode({"match[]": m.group(1)})
        with urllib.request.urlopen(url, timeout=10) as r:
            data = json.load(r)["data"]
        return len({s.get(m.group(2)) for s in data if s.get(m.group(2))})
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as r:
        return len(json.load(r)["data"]["result"])


def check_against(base, dashboards, uids, wait):
    passed = failed = 0
    deadline = time.time() + wait
    for path, d in dashboards:
        if uids and d["uid"] not in uids:
            continue
        for where, expr in queries(d):
            q = substitute(expr)
            while True:
                try:
                    n = run_query(base, q)
                    why = "%d series" % n
                except Exception as e:  # an invalid query is answered 400
                    n, why = 0, "error: %s" % e
                if n > 0 or time.time() >= deadline:
                    break
                time.sleep(1)
            if n > 0:
                passed += 1
                print("PASS %s %s: %s" % (d["uid"], where, why))
            else:
                failed += 1
                print("FAIL %s %s: %s returned %s" % (d["uid"], where, q, why))
    print("dashboards: %d passed, %d failed" % (passed, failed))
    return failed == 0 and passed > 0


def main():
    ap = argparse.ArgumentParser(description="Checks FerryMQ's Grafana dashboards.")
    ap.add_argument("--lint", action="store_true")
    ap.add_argument("--prometheus", help="base URL of a Prometheus that scraped FerryMQ")
    ap.add_argument("--uid", action="append", default=[], help="only this dashboard (repeatable)")
    ap.add_argument("--wait", type=float, default=30, help="seconds to ask a query without series again")
    args = ap.parse_args()
    dashboards = load()
    if not dashboards:
        print("check_dashboards: no dashboards in %s" % DIR)
        return 1
    if args.lint:
        errors = lint(dashboards)
        for e in errors:
            print("check_dashboards: " + e)
        if errors:
            return 1
        print("check_dashboards: %d dashboards, %d queries: lint clean"
              % (len(dashboards), sum(len(list(queries(d))) for _, d in dashboards)))
    if args.prometheus:
        return 0 if check_against(args.prometheus.rstrip("/"), dashboards, set(args.uid), args.wait) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
