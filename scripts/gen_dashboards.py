#!/usr/bin/env python3
"""Writes FerryMQ's Grafana dashboards, charts/ferrymq-operator/files/dashboards/*.json (the chart ships them as
ConfigMaps for Grafana's dashboard sidecar, metrics.grafanaDashboards.enabled).

The panels are defined here, once; the JSON files are generated (Grafana's schema is verbose and easy to get
subtly wrong by hand). --check exits 1 when a file differs from what this script writes (ctest
dashboards_up_to_date). Every panel's query returns series against a Prometheus that scraped a running FerryMQ:
tests/prometheus/check_dashboards.py, run by tests/compat/run_prometheus_check.sh (broker dashboards) and
tests/e2e/operator_test.py (the operator's).

Variables: every dashboard has `datasource` (a Prometheus data source); broker dashboards `cluster` (multi,
"All" = .*) and their subject (`broker`, `topic`, `group`); matchers on them use =~ so "All" works.
"""
import argparse
import json
import os
import sys

OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "charts", "ferrymq-operator", "files", "dashboards")
DS = {"type": "prometheus", "uid": "${datasource}"}


def target(expr, legend="", instant=False, ref="A"):
    t = {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref}
    if instant:
        t.update({"instant": True, "range": False, "format": "table"})
    return t


def timeseries(title, exprs, unit="short", description="", w=12, h=8):
    """exprs: [(expr, legend)]."""
    return {
        "type": "timeseries", "title": title, "description": description, "datasource": DS,
        "targets": [target(e, l, ref=chr(ord("A") + i)) for i, (e, l) in enumerate(exprs)],
        "fieldConfig": {"defaults": {"unit": unit, "custom": {"fillOpacity": 10}}, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "_w": w, "_h": h,
    }


def stat(title, expr, unit="short", description="", w=6, h=4, thresholds=None):
    steps = thresholds or [{"color": "green", "value": None}]
    return {
        "type": "stat", "title": title, "description": description, "datasource": DS,
        "targets": [target(expr)],
        "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
                        "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "value", "graphMode": "area"},
        "_w": w, "_h": h,
    }


def table(title, exprs, description="", w=12, h=8):
    """exprs: [(expr, column title of its value)]; instant queries merged into one table by their labels."""
    targets = [target(e, ref=chr(ord("A") + i), instant=True) for i, (e, _) in enumerate(exprs)]
    renames = {("Value" if len(exprs) == 1 else "Value #" + chr(ord("A") + i)): name
               for i, (_, name) in enumerate(exprs)}
    return {
        "type": "table", "title": title, "description": description, "datasource": DS, "targets": targets,
        "transformations": [{"id": "merge", "options": {}},
                            {"id": "organize", "options": {"excludeByName": {"Time": True}, "renameByName": renames}}],
        "fieldConfig": {"defaults": {}, "overrides": []},
        "options": {"showHeader": True},
        "_w": w, "_h": h,
    }


def var_datasource():
    return {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
            "current": {}, "hide": 0, "refresh": 1, "options": []}


def var_query(name, label, definition, multi=True):
    v = {"name": name, "label": label, "type": "query", "datasource": DS, "definition": definition,
         "query": {"query": definition, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
         "refresh": 2, "sort": 1, "hide": 0, "current": {}, "options": []}
    if multi:
        v.update({"multi": True, "includeAll": True, "allValue": ".*"})
    return v


def dashboard(uid, title, description, variables, panels):
    laid, x, y, row_h, next_id = [], 0, 0, 0, 1
    for p in panels:
        w, h = p.pop("_w"), p.pop("_h")
        if x + w > 24:
            x, y, row_h = 0, y + row_h, 0
        p["gridPos"] = {"x": x, "y": y, "w": w, "h": h}
        p["id"] = next_id
        next_id += 1
        x += w
        row_h = max(row_h, h)
        laid.append(p)
    return {
        "uid": uid, "title": title, "description": description, "tags": ["ferrymq", "rocketmq"],
        "editable": True, "graphTooltip": 1, "schemaVersion": 39, "version": 1, "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"}, "timezone": "",
        "templating": {"list": variables}, "annotations": {"list": []}, "links": [], "panels": laid,
    }


C = 'cluster=~"$cluster"'
CLUSTER_VAR = lambda: var_query("cluster", "Cluster", "label_values(rocketmq_broker_permission, cluster)")


def cluster_dashboard():
    return dashboard(
        "ferrymq-cluster", "FerryMQ / Cluster",
        "Every broker of the selected clusters: traffic, the 20 largest backlogs, dead letters, storage.",
        [var_datasource(), CLUSTER_VAR()],
        [
            stat("Brokers", f"count(rocketmq_broker_permission{{{C}}})"),
            stat("Writable brokers", f"count(rocketmq_broker_permission{{{C}}} == 6) or vector(0)",
                 description="Permission 6 (read and write)."),
            stat("Topics", f"sum(rocketmq_topic_number{{{C}}})"),
            stat("Consumer groups", f"sum(rocketmq_consumer_group_number{{{C}}})"),
            timeseries("Messages in per second",
                       [(f'sum by (node_id) (rate(rocketmq_messages_in_total{{{C},is_system="false"}}[$__rate_interval]))',
                         "{{node_id}}")], unit="ops"),
            timeseries("Messages out per second",
                       [(f'sum by (node_id) (rate(rocketmq_messages_out_total{{{C},is_system="false"}}[$__rate_interval]))',
                         "{{node_id}}")], unit="ops"),
            timeseries("Bytes in and out per second",
                       [(f"sum(rate(rocketmq_throughput_in_total{{{C}}}[$__rate_interval]))", "in"),
                        (f"sum(rate(rocketmq_throughput_out_total{{{C}}}[$__rate_interval]))", "out")],
                       unit="Bps"),
            timeseries("Dead letters per minute",
                       [(f"sum by (topic, consumer_group) (rate(rocketmq_send_to_dlq_messages_total{{{C}}}"
                         "[$__rate_interval])) * 60", "{{consumer_group}} / {{topic}}")]),
            table("Largest backlogs (top 20)",
                  [(f'topk(20, sum by (topic, consumer_group) (rocketmq_consumer_lag_messages{{{C},is_system="false"}}))',
                    "Messages"),
                   (f'topk(20, max by (topic, consumer_group) (rocketmq_consumer_lag_latency_milliseconds{{{C},is_system="false"}}))',
                    "Oldest unconsumed (ms)")],
                  description="The console's 'lag top 20': messages not consumed and the age of the oldest."),
            timeseries("Disk use", [(f"max by (node_id) (rocketmq_storage_disk_used_ratio{{{C}}})", "{{node_id}}")],
                       unit="percentunit",
                       description="Above diskSpaceCleanForciblyRatio (0.85) old files go whatever their age; "
                                   "above diskSpaceWarningLevelRatio (0.90) sends are refused."),
            timeseries("Commit log size", [(f"sum by (node_id) (rocketmq_storage_size_bytes{{{C}}})", "{{node_id}}")],
                       unit="bytes"),
        ])


def broker_dashboard():
    B = f'{C},node_id=~"$broker"'
    return dashboard(
        "ferrymq-broker", "FerryMQ / Broker",
        "One broker: requests and their latency, store backlogs, disk, replication and name servers.",
        [var_datasource(), CLUSTER_VAR(),
         var_query("broker", "Broker", f"label_values(rocketmq_broker_permission{{{C}}}, node_id)")],
        [
            stat("Permission", f"max(rocketmq_broker_permission{{{B}}})",
                 description="6 read and write, 4 read only, 2 write only.",
                 thresholds=[{"color": "red", "value": None}, {"color": "green", "value": 6}]),
            stat("Master", f"max(rocketmq_replication_is_master{{{B}}})", description="1 master, 0 slave."),
            stat("Epoch", f"max(rocketmq_replication_epoch{{{B}}})"),
            stat("In-sync copies", f"max(rocketmq_replication_in_sync_replicas{{{B}}})",
                 description="On a master: copies in step with it, itself included."),
            timeseries("Requests per second",
                       [(f"sum by (request_code) (rate(rocketmq_rpc_latency_milliseconds_count{{{B}}}[$__rate_interval]))",
                         "{{request_code}}")], unit="reqps"),
            timeseries("Request latency p99 (long polls left out)",
                       [("histogram_quantile(0.99, sum by (le, request_code) (rate(rocketmq_rpc_latency_milliseconds_bucket"
                         f'{{{B},is_long_polling="false"}}[$__rate_interval])))', "{{request_code}}")], unit="ms"),
            timeseries("Answers per second by response code",
                       [(f"sum by (response_code) (rate(rocketmq_rpc_latency_milliseconds_count{{{B}}}[$__rate_interval]))",
                         "{{response_code}}")], unit="reqps",
                       description="pull_not_found is a long poll that ended without messages: normal. "
                                   "system_busy: a full request queue; service_not_available: a full disk or "
                                   "no master."),
            timeseries("Store backlogs",
                       [(f"sum(rocketmq_storage_flush_behind_bytes{{{B}}})", "not flushed"),
                        (f"sum(rocketmq_storage_dispatch_behind_bytes{{{B}}})", "not dispatched"),
                        (f"sum(rocketmq_replication_unconfirmed_bytes{{{B}}})", "not confirmed by replicas")],
                       unit="bytes"),
            timeseries("Disk use and thresholds",
                       [(f"max(rocketmq_storage_disk_used_ratio{{{B}}})", "used"),
                        (f"max(rocketmq_storage_disk_clean_ratio{{{B}}})", "cleans forcibly above"),
                        (f"max(rocketmq_storage_disk_full_ratio{{{B}}})", "refuses sends above")],
                       unit="percentunit"),
            timeseries("Oldest stored message",
                       [(f"max(rocketmq_storage_message_reserve_time_milliseconds{{{B}}})", "age")], unit="ms"),
            timeseries("Store latency p99",
                       [(f"histogram_quantile(0.99, sum by (le) (rate(rocketmq_storage_{op}_latency_milliseconds_bucket"
                         f"{{{B}}}[$__rate_interval])))", what)
                        for op, what in (("put", "put (a send's store part)"), ("get", "get (a pull's read)"),
                                         ("flush", "flush (one sync)"))],
                       unit="ms", description="FerryMQ's store histograms; alert FerryMQStoreSlow at a put p99 above "
                                              "400 ms (MQCloud's slow-store alert)."),
            table("Name servers", [(f"max by (node_id, nameserver) (rocketmq_broker_nameserver_registered{{{B}}})",
                                    "Registered")],
                  description="1: the name server holds this broker's registration."),
        ])


def topic_dashboard():
    T = f'{C},topic=~"$topic"'
    return dashboard(
        "ferrymq-topic", "FerryMQ / Topic",
        "One topic: traffic per broker and message type, consumers and their backlog, dead letters.",
        [var_datasource(), CLUSTER_VAR(),
         var_query("topic", "Topic", f'label_values(rocketmq_messages_in_total{{{C},is_system="false"}}, topic)')],
        [
            timeseries("Messages in per second by broker",
                       [(f"sum by (node_id) (rate(rocketmq_messages_in_total{{{T}}}[$__rate_interval]))", "{{node_id}}")],
                       unit="ops"),
            timeseries("Messages in per second by type",
                       [(f"sum by (message_type) (rate(rocketmq_messages_in_total{{{T}}}[$__rate_interval]))",
                         "{{message_type}}")], unit="ops"),
            timeseries("Messages out per second by consumer group",
                       [(f"sum by (consumer_group) (rate(rocketmq_messages_out_total{{{T}}}[$__rate_interval]))",
                         "{{consumer_group}}")], unit="ops"),
            timeseries("Backlog by consumer group",
                       [(f"sum by (consumer_group) (rocketmq_consumer_lag_messages{{{T}}})", "{{consumer_group}}")]),
            timeseries("Bytes in per second",
                       [(f"sum(rate(rocketmq_throughput_in_total{{{T}}}[$__rate_interval]))", "in")], unit="Bps"),
            timeseries("Dead letters in the last hour by consumer group",
                       [(f"sum by (consumer_group) (increase(rocketmq_send_to_dlq_messages_total{{{T}}}[1h]))",
                         "{{consumer_group}}")]),
        ])


def group_dashboard():
    G = f'{C},consumer_group=~"$group"'
    return dashboard(
        "ferrymq-consumer-group", "FerryMQ / Consumer group",
        "One consumer group: backlog in messages and time, consumption rate, retries and dead letters.",
        [var_datasource(), CLUSTER_VAR(),
         var_query("group", "Consumer group",
                   f'label_values(rocketmq_consumer_lag_messages{{{C},is_system="false"}}, consumer_group)')],
        [
            timeseries("Backlog by topic",
                       [(f'sum by (topic) (rocketmq_consumer_lag_messages{{{G},is_retry="false"}})', "{{topic}}")],
                       description="Messages stored but not consumed (committed)."),
            timeseries("Oldest unconsumed message by topic",
                       [(f"max by (topic) (rocketmq_consumer_lag_latency_milliseconds{{{G}}})", "{{topic}}")],
                       unit="ms"),
            timeseries("Consumed per second by topic",
                       [(f"sum by (topic) (rate(rocketmq_messages_out_total{{{G}}}[$__rate_interval]))", "{{topic}}")],
                       unit="ops"),
            timeseries("Retry backlog",
                       [(f'sum by (consumer_group) (rocketmq_consumer_lag_messages{{{G},is_retry="true"}})',
                         "{{consumer_group}}")],
                       description="Messages handed back by the group's consumers, waiting in %RETRY%<group>."),
            timeseries("Dead letters in the last hour",
                       [(f"sum by (topic) (increase(rocketmq_send_to_dlq_messages_total{{{G}}}[1h]))", "{{topic}}")]),
            timeseries("Handed back for a retry per minute",
                       [(f"60 * sum by (topic) (rate(rocketmq_consumer_retry_messages_total{{{G}}}[$__rate_interval]))",
                         "{{topic}}")],
                       description="Failed consumptions (RECONSUME_LATER or an exception); alert FerryMQConsumeFailures."),
            timeseries("Offsets moved in the last hour",
                       [(f"sum by (topic) (increase(rocketmq_consumer_offset_moved_total{{{G}}}[1h]))", "{{topic}}")],
                       description="Pulls at an offset outside the queue; alert FerryMQConsumerOffsetMoved."),
        ])


def operator_dashboard():
    return dashboard(
        "ferrymq-operator", "FerryMQ / Operator",
        "The operator: reconciles, work queues, Kubernetes writes, leadership, and its view of broker groups.",
        [var_datasource()],
        [
            stat("Leader", "max(ferrymq_operator_leader)", description="1 while a replica holds the Lease."),
            stat("Work queue depth", "sum(ferrymq_operator_workqueue_depth)"),
            stat("Broker groups taking writes", "sum(ferrymq_operator_broker_group_writable)"),
            stat("Failovers in the last day", "sum(increase(ferrymq_operator_failovers_total[1d])) or vector(0)"),
            timeseries("Reconciles per second",
                       [("sum by (controller, result) (rate(ferrymq_operator_reconcile_total[$__rate_interval]))",
                         "{{controller}}: {{result}}")], unit="ops"),
            timeseries("Reconcile time p99",
                       [("histogram_quantile(0.99, sum by (le, controller) "
                         "(rate(ferrymq_operator_reconcile_duration_seconds_bucket[$__rate_interval])))",
                         "{{controller}}")], unit="s"),
            timeseries("Kubernetes requests per second",
                       [("sum by (verb) (rate(ferrymq_operator_kube_requests_total[$__rate_interval]))", "{{verb}}")],
                       unit="reqps",
                       description="A converged operator reads (watches) but writes nothing."),
            timeseries("Work queue depth", [("ferrymq_operator_workqueue_depth", "{{name}}")]),
            table("Broker groups",
                  [("ferrymq_operator_broker_group_writable", "Writable"),
                   ("ferrymq_operator_broker_group_in_sync_replicas", "In sync"),
                   ("ferrymq_operator_broker_group_replicas", "Replicas"),
                   ("ferrymq_operator_broker_group_epoch", "Epoch")], w=24),
        ])


DASHBOARDS = [cluster_dashboard, broker_dashboard, topic_dashboard, group_dashboard, operator_dashboard]


def render():
    out = {}
    for make in DASHBOARDS:
        d = make()
        out[d["uid"] + ".json"] = json.dumps(d, indent=2, sort_keys=True) + "\n"
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a file is not what this script writes")
    args = ap.parse_args()
    files = render()
    stale = []
    for name, text in files.items():
        path = os.path.join(OUT_DIR, name)
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            stale.append(name)
            if not args.check:
                os.makedirs(OUT_DIR, exist_ok=True)
                with open(path, "w") as f:
                    f.write(text)
    extra = sorted(set(os.listdir(OUT_DIR)) - set(files)) if os.path.isdir(OUT_DIR) else []
    if args.check:
        if stale or extra:
            print("gen_dashboards: out of date: %s (run scripts/gen_dashboards.py)" % ", ".join(stale + extra))
            return 1
        print("gen_dashboards: %d dashboards up to date" % len(files))
        return 0
    for name in extra:
        os.remove(os.path.join(OUT_DIR, name))
    print("gen_dashboards: wrote %s" % (", ".join(stale) if stale else "nothing (up to date)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
