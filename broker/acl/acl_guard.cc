#include "broker/acl/acl_guard.h"
#include "broker/acl/signature.h"

#include "broker/base/logging.h"
#include "broker/protocol/codes.h"

namespace fmq::acl {

class AclGuard::Reloader : public ServiceThread {
 public:
  explicit Reloader(AclGuard* guard) : ServiceThread("fmq-acl-reload"), guard_(guard) {}

 protected:
  void Run() override {
    while (!IsStopped()) {
      WaitForRunning(guard_->options_.reload_interval);
      if (!IsStopped()) guard_->Reload();
    }
  }

 private:
  AclGuard* guard_;
};

AclGuard::AclGuard(io::FileSystem& fs, const Clock& clock, Options options)
    : options_(std::move(options)), clock_(clock), store_(fs, clock, options_.path) {}

AclGuard::~AclGuard() { Stop(); }

Status AclGuard::Start() {
  FMQ_RETURN_IF_ERROR(store_.Load());
  GetLogger("acl")->info("ACL on: file={} accounts={} globalWhiteRemoteAddresses={}", store_.path(),
                         store_.rules()->account_count(),
                         store_.rules()->global_white_remote_addresses().size());
  reloader_ = std::make_unique<Reloader>(this);
  return reloader_->Start();
}

void AclGuard::Stop() {
  if (reloader_) reloader_->Stop();
}

void AclGuard::Reload() {
  auto changed = store_.ReloadIfChanged();
  if (!changed.ok()) {
    GetLogger("acl")->error("ACL file not reloaded, the previous rules stay: {}",
                            changed.status().ToString());
  } else if (*changed) {
    GetLogger("acl")->info("ACL file reloaded: file={} accounts={}", store_.path(),
                           store_.rules()->account_count());
  }
}

std::optional<protocol::RemotingCommand> AclGuard::Filter(const std::string& remote_address,
                                                          const protocol::RemotingCommand& request) {
  const std::shared_ptr<const AclRules> rules = store_.rules();
  Status verdict = Authorize(*rules, options_.endpoint, HostOf(remote_address), request);
  if (verdict.ok()) return std::nullopt;
  refused_.fetch_add(1, std::memory_order_relaxed);
  const int64_t now = clock_.NowMillis();
  int64_t last = last_refusal_log_ms_.load(std::memory_order_relaxed);
  if (now - last >= 1000 && last_refusal_log_ms_.compare_exchange_strong(last, now)) {
    auto ak = request.ext_fields.find(std::string(kAccessKeyField));
    GetLogger("acl")->warn(
        "request refused remote={} code={} accessKey={} reason=\"{}\" (+{} more refused since)",
        remote_address, request.code, ak == request.ext_fields.end() ? "-" : ak->second, verdict.message(),
        unlogged_refusals_.exchange(0));
  } else {
    unlogged_refusals_.fetch_add(1, std::memory_order_relaxed);
  }
  return protocol::RemotingCommand::Answer(protocol::response_code::kNoPermission,
                                           std::string(verdict.message()));
}

}  // namespace fmq::acl
