// ferrymq-operator: the composition root of the operator (ARCHITECTURE.md section 5).
//
// Builds, in order: the Kubernetes client, the metrics registry and the two HTTP endpoints (/metrics;
// /healthz and /readyz), the informers (caches of Clusters, Topics and the objects Clusters own), the
// reconcilers and their controllers, and the Lease elector. Informers start at once, so a standby replica has
// warm caches; controllers start only when this replica leads. Losing the Lease exits the process (exit code
// 1) rather than racing the new leader; SIGTERM stops controllers, releases the Lease and exits 0.

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>

#include "broker/base/clock.h"
#include "broker/base/logging.h"
#include "broker/base/metrics.h"
#include "operator/api/types.h"
#include "operator/cmd/options.h"
#include "operator/controllers/admin_pool.h"
#include "operator/controllers/cluster_controller.h"
#include "operator/controllers/consumer_group_controller.h"
#include "operator/controllers/object_reader.h"
#include "operator/controllers/topic_controller.h"
#include "operator/controllers/user_controller.h"
#include "operator/kube/client.h"
#include "operator/kube/config.h"
#include "operator/kube/events.h"
#include "operator/runtime/admin_server.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/leader_election.h"

namespace fmq::op::cmd {
namespace {

using nlohmann::json;
namespace kinds = kube::kinds;

// The controllers' view of the informer caches.
class InformerReader final : public controllers::ObjectReader {
 public:
  void Add(runtime::Informer* informer) { informers_.push_back(informer); }

  std::optional<json> Get(const kube::ResourceKind& kind, std::string_view ns,
                          std::string_view name) const override {
    runtime::Informer* inf = Find(kind);
    if (inf == nullptr) return std::nullopt;
    runtime::ObjectPtr obj = inf->Get(std::string(ns), std::string(name));
    if (!obj) return std::nullopt;
    return *obj;
  }

  std::vector<json> List(const kube::ResourceKind& kind, std::string_view ns,
                         const std::map<std::string, std::string>& labels) const override {
    std::vector<json> out;
    runtime::Informer* inf = Find(kind);
    if (inf == nullptr) return out;
    auto objects = ns.empty() ? inf->List() : inf->ByIndex(runtime::kNamespaceIndex, std::string(ns));
    for (const auto& obj : objects) {
      const json* have = nullptr;
      if (auto md = obj->find("metadata"); md != obj->end()) {
        if (auto l = md->find("labels"); l != md->end()) have = &*l;
      }
      bool match = true;
      for (const auto& [k, v] : labels) {
        if (have == nullptr || !have->contains(k) || (*have)[k] != v) {
          match = false;
          break;
        }
      }
      if (match) out.push_back(*obj);
    }
    return out;
  }

 private:
  runtime::Informer* Find(const kube::ResourceKind& kind) const {
    for (runtime::Informer* inf : informers_) {
      if (inf->kind() == kind) return inf;
    }
    return nullptr;
  }
  std::vector<runtime::Informer*> informers_;
};

// The main thread sleeps in sigwait: SIGINT/SIGTERM stop the operator; the elector's callbacks (on its own
// thread) wake it with SIGUSR2 when this replica starts leading and SIGUSR1 when it lost the Lease. Every
// thread has these signals blocked (set in main before any thread starts), so they stay pending until sigwait
// takes them.
constexpr int kLeadingSignal = SIGUSR2;
constexpr int kLostSignal = SIGUSR1;

int WaitForSignal() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, kLeadingSignal, kLostSignal}) sigaddset(&set, s);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "ferrymq-operator";
  return buf;
}

int Run(const Options& o) {
  auto log = GetLogger("operator");
  auto config = kube::DefaultConfig(o.kubeconfig, o.context);
  if (!config.ok()) {
    std::cerr << "ferrymq-operator: no Kubernetes configuration: " << config.status().message() << "\n";
    return 2;
  }
  MetricRegistry registry;
  auto client = kube::Client::New(*config, {.metrics = &registry});
  if (!client.ok()) {
    std::cerr << "ferrymq-operator: " << client.status().message() << "\n";
    return 2;
  }
  kube::Client* kube = client->get();
  if (auto version = kube->ServerVersion(); version.ok()) {
    log->info("connected to Kubernetes {} at {}", version->value("gitVersion", "?"), config->server);
  } else {
    log->warn("cannot read the apiserver version yet: {}", version.status().message());
  }

  std::string identity = o.identity;
  if (identity.empty()) {
    const char* pod = std::getenv("POD_NAME");
    std::random_device rd;
    char suffix[16];
    std::snprintf(suffix, sizeof(suffix), "_%08x", rd());
    identity = (pod && *pod ? std::string(pod) : HostName()) + suffix;
  }
  kube::EventRecorder events(kube, {.reporting_instance = identity});
  controllers::AdminPool admins;

  // Informers: the custom resources, and what Clusters own (filtered by label so a big cluster's ConfigMaps
  // and pods stay out of the cache).
  runtime::InformerOptions all{.namespaces = o.namespaces, .metrics = &registry};
  runtime::InformerOptions owned = all;
  owned.label_selector = "app.kubernetes.io/managed-by=ferrymq-operator";
  runtime::InformerOptions pods = all;
  pods.label_selector = "app.kubernetes.io/name=ferrymq";
  runtime::Informer clusters(kube, kinds::kFerryCluster, all);
  runtime::Informer topics(kube, kinds::kFerryTopic, all);
  runtime::Informer groups(kube, kinds::kFerryConsumerGroup, all);
  runtime::Informer users(kube, kinds::kFerryUser, all);
  runtime::Informer statefulsets(kube, kinds::kStatefulSet, owned);
  runtime::Informer services(kube, kinds::kService, owned);
  runtime::Informer configmaps(kube, kinds::kConfigMap, owned);
  runtime::Informer pdbs(kube, kinds::kPodDisruptionBudget, owned);
  runtime::Informer pod_cache(kube, kinds::kPod, pods);
  std::vector<runtime::Informer*> informers = {&clusters, &topics,     &groups, &users,    &statefulsets,
                                               &services, &configmaps, &pdbs,   &pod_cache};
  InformerReader reader;
  for (runtime::Informer* inf : informers) reader.Add(inf);
  topics.AddIndex("clusterRef", runtime::IndexByClusterRef);
  groups.AddIndex("clusterRef", runtime::IndexByClusterRef);
  users.AddIndex("clusterRef", runtime::IndexByClusterRef);

  controllers::Deps deps{.kube = kube,
                         .events = &events,
                         .reader = &reader,
                         .admins = &admins,
                         .clock = &SystemClock(),
                         .options = {.default_image = o.broker_image}};
  // spec.probe's dial tests; a changed outcome enqueues its Cluster (the controller exists below).
  runtime::Controller* cluster_queue = nullptr;
  controllers::ProbeRunner probes(&registry, [&cluster_queue](const std::string& key) {
    if (cluster_queue != nullptr) cluster_queue->Enqueue(key);
  });
  controllers::ClusterReconciler cluster_reconciler(
      deps, {.detection = {},
             .metrics = &registry,
             .exit_after_failover_claim = o.fault == "exit-after-failover-claim",
             .probes = &probes});
  controllers::TopicReconciler topic_reconciler(deps, {.drift_check = o.topic_drift_check});
  controllers::ConsumerGroupReconciler group_reconciler(
      deps, {.status_refresh = o.group_status_refresh, .metrics = &registry});
  controllers::UserReconciler user_reconciler(deps, {});
  auto adapt = [](controllers::Outcome out) {
    return runtime::ReconcileResult{out.status, out.requeue_after};
  };
  runtime::Controller cluster_controller(
      {.name = "cluster", .workers = o.workers, .metrics = &registry},
      [&](const std::string& key) { return adapt(cluster_reconciler.Reconcile(key)); });
  cluster_queue = &cluster_controller;
  runtime::Controller topic_controller(
      {.name = "topic", .workers = o.workers, .metrics = &registry},
      [&](const std::string& key) { return adapt(topic_reconciler.Reconcile(key)); });
  runtime::Controller group_controller(
      {.name = "consumergroup", .workers = o.workers, .metrics = &registry},
      [&](const std::string& key) { return adapt(group_reconciler.Reconcile(key)); });
  runtime::Controller user_controller(
      {.name = "user", .workers = o.workers, .metrics = &registry},
      [&](const std::string& key) { return adapt(user_reconciler.Reconcile(key)); });

  clusters.AddEventHandler(cluster_controller.EnqueueObjectHandler());
  for (runtime::Informer* inf : {&statefulsets, &services, &configmaps, &pdbs}) {
    inf->AddEventHandler(cluster_controller.EnqueueOwnerHandler("Cluster"));
  }
  pod_cache.AddEventHandler(cluster_controller.EnqueueMappedHandler([](const json& pod) {
    const json& md = pod.value("metadata", json::object());
    const json& labels = md.value("labels", json::object());
    std::vector<std::string> keys;
    if (auto c = labels.find(std::string(api::kClusterLabel)); c != labels.end() && c->is_string()) {
      keys.push_back(md.value("namespace", "") + "/" + c->get<std::string>());
    }
    return keys;
  }));
  topics.AddEventHandler(topic_controller.EnqueueObjectHandler());
  clusters.AddEventHandler(topic_controller.EnqueueMappedHandler([&](const json& cluster) {
    std::vector<std::string> keys;
    for (const auto& t : topics.ByIndex("clusterRef", controllers::KeyOf(cluster)))
      keys.push_back(controllers::KeyOf(*t));
    return keys;
  }));
  groups.AddEventHandler(group_controller.EnqueueObjectHandler());
  users.AddEventHandler(user_controller.EnqueueObjectHandler());
  clusters.AddEventHandler(user_controller.EnqueueMappedHandler([&](const json& cluster) {
    std::vector<std::string> keys;
    for (const auto& u : users.ByIndex("clusterRef", controllers::KeyOf(cluster)))
      keys.push_back(controllers::KeyOf(*u));
    return keys;
  }));
  clusters.AddEventHandler(group_controller.EnqueueMappedHandler([&](const json& cluster) {
    std::vector<std::string> keys;
    for (const auto& g : groups.ByIndex("clusterRef", controllers::KeyOf(cluster)))
      keys.push_back(controllers::KeyOf(*g));
    return keys;
  }));

  // Endpoints.
  std::unique_ptr<runtime::LeaderElector> elector;
  runtime::AdminServer metrics_server(o.metrics_bind_address);
  metrics_server.ServeMetrics(&registry);
  runtime::AdminServer probe_server(o.health_probe_bind_address);
  probe_server.AddHealthCheck("leader-election", [&]() {
    return elector == nullptr || elector->Healthy() ? Status::Ok() : Status::Unavailable("leadership lost");
  });
  probe_server.AddReadyCheck("informers", [&]() {
    for (runtime::Informer* inf : informers) {
      if (!inf->HasSynced()) return Status::Unavailable(inf->kind().Resource() + " cache not synced");
    }
    return Status::Ok();
  });
  for (runtime::AdminServer* s : {&metrics_server, &probe_server}) {
    if (Status st = s->Start(); !st.ok()) {
      std::cerr << "ferrymq-operator: " << st.message() << "\n";
      return 2;
    }
  }

  for (runtime::Informer* inf : informers) {
    if (Status st = inf->Start(); !st.ok()) {
      std::cerr << "ferrymq-operator: " << st.message() << "\n";
      return 2;
    }
  }

  if (o.leader_elect) {
    if (o.lease_namespace.empty()) {
      std::cerr << "ferrymq-operator: --lease-namespace is required with --leader-elect=true (or set "
                   "POD_NAMESPACE)\n";
      return 2;
    }
    elector = std::make_unique<runtime::LeaderElector>(
        *config,
        runtime::LeaderElectionConfig{.lease_namespace = o.lease_namespace,
                                      .lease_name = o.lease_name,
                                      .identity = identity,
                                      .lease_duration = o.lease_duration,
                                      .renew_deadline = o.renew_deadline,
                                      .retry_period = o.retry_period,
                                      .metrics = &registry},
        runtime::LeaderCallbacks{
            .on_started_leading = [] { kill(getpid(), kLeadingSignal); },
            .on_stopped_leading = [] { kill(getpid(), kLostSignal); },
            .on_new_leader = [&](const std::string& who) { log->info("leader is now {}", who); }});
    if (Status st = elector->Start(); !st.ok()) {
      std::cerr << "ferrymq-operator: " << st.message() << "\n";
      return 2;
    }
    log->info("identity={} waiting for Lease {}/{}", identity, o.lease_namespace, o.lease_name);
  } else {
    kill(getpid(), kLeadingSignal);
  }

  int sig = WaitForSignal();
  if (sig == kLeadingSignal) {
    for (runtime::Informer* inf : informers) {
      if (!inf->WaitForSync(std::chrono::seconds(60))) {
        log->warn("{} cache not synced after 60 s; starting anyway", inf->kind().Resource());
      }
    }
    log->info("identity={} leading: starting controllers (workers={})", identity, o.workers);
    probes.Start();
    (void)cluster_controller.Start();
    (void)topic_controller.Start();
    (void)group_controller.Start();
    (void)user_controller.Start();
    do {
      sig = WaitForSignal();
    } while (sig == kLeadingSignal);
  }
  if (sig == kLostSignal) {
    // Exit at once, as controller-runtime does: a graceful stop would let running reconciles (which may wait
    // for timeouts) act after another replica took over.
    log->error("identity={} lost the Lease: exiting so that the new leader acts alone", identity);
    spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
    std::_Exit(1);
  } else {
    log->info("stopping on signal {}", sig);
  }
  cluster_controller.Stop();
  probes.Stop();
  topic_controller.Stop();
  group_controller.Stop();
  user_controller.Stop();
  if (elector) elector->Stop();
  for (runtime::Informer* inf : informers) inf->Stop();
  probe_server.Stop();
  metrics_server.Stop();
  return 0;
}

}  // namespace
}  // namespace fmq::op::cmd

int main(int argc, char** argv) {
  // Every thread inherits these blocked signals; the main thread takes them with sigwait.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const char* level = std::getenv("FMQ_LOG_LEVEL");
  fmq::SetLogLevel(level && *level ? level : "info");

  auto options = fmq::op::cmd::ParseOptions(std::vector<std::string>(argv + 1, argv + argc));
  if (!options.ok()) {
    if (options.status().IsNotFound()) {
      std::cout << fmq::op::cmd::Usage();
      return 0;
    }
    std::cerr << "ferrymq-operator: " << options.status().message()
              << "\nRun `ferrymq-operator --help` for usage.\n";
    return 2;
  }
  return fmq::op::cmd::Run(*options);
}
