"""A real Prometheus (Debian's package, scripts/setup.sh) for e2e tests: scrapes static targets every second.

    prom = Prometheus(workdir, {"ferrymq": ["10.0.0.5:5557"], "ferrymq-exporter": (["10.0.0.5:5557"],
                                "/metrics/exporter")})
    prom.start()
    prom.value('sum(rocketmq_messages_in_total{topic="orders"})')   # float, or None without a single series
    prom.stop()
"""
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request


def available():
    return shutil.which("prometheus") is not None


class Prometheus:
    def __init__(self, workdir, jobs, rule_files=()):
        """jobs: name -> [targets] (path /metrics) or ([targets], path); rule_files: alerting rule files it
        evaluates every second (their alerts show in the ALERTS series, pending or firing)."""
        self.dir = os.path.join(workdir, "prometheus")
        self.jobs = jobs
        self.rule_files = list(rule_files)
        self.proc = None
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        lines = ["global: {scrape_interval: 1s, evaluation_interval: 1s}"]
        if self.rule_files:
            lines += ["rule_files:"] + [f"  - {json.dumps(os.path.abspath(f))}" for f in self.rule_files]
        lines += ["scrape_configs:"]
        for name, spec in self.jobs.items():
            targets, path = (spec, "/metrics") if isinstance(spec, list) else spec
            lines += [f"  - job_name: {name}", f"    metrics_path: {path}",
                      f"    static_configs: [{{targets: {json.dumps(targets)}}}]"]
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("\n".join(lines) + "\n")
        log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={self.dir}/tsdb",
             f"--web.listen-address=127.0.0.1:{self.port}"], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/-/ready", timeout=2)
                return self
            except Exception:
                time.sleep(0.3)
        raise AssertionError("prometheus did not become ready within 30 s (see %s/prometheus.log)" % self.dir)

    def query(self, expr):
        url = self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)["data"]["result"]

    def value(self, expr):
        r = self.query(expr)
        return float(r[0]["value"][1]) if len(r) == 1 else None

    def wait_value(self, expr, want, timeout=60):
        """Polls until `expr` has one series equal to `want`; returns the last value seen."""
        deadline = time.time() + timeout
        got = None
        while True:
            try:
                got = self.value(expr)
            except Exception as e:
                got = "error: %s" % e
            if got == want or time.time() > deadline:
                return got
            time.sleep(0.5)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def alerts(self, alertname, **labels):
        """The alert's ALERTS series (pending or firing) whose labels include `labels`."""
        return [r["metric"] for r in self.query(f'ALERTS{{alertname="{alertname}"}}')
                if all(r["metric"].get(k) == v for k, v in labels.items())]
