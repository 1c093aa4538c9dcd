#include "broker/model/trace.h"

#include <charconv>

namespace fmq::model {

namespace {
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return out;
}
template <typename T>
bool Num(std::string_view s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}
bool Bool(std::string_view s) { return s == "true" || s == "TRUE" || s == "True"; }
}  // namespace

std::vector<TraceRecord> DecodeTraceBody(std::string_view body) {
  std::vector<TraceRecord> out;
  for (std::string_view context : Split(body, '\x02')) {
    auto f = Split(context, '\x01');
    TraceRecord r;
    r.type = std::string(f[0]);
    bool ok = true;
    if (r.type == "Pub" && f.size() >= 13) {
      ok = Num(f[1], &r.timestamp) && Num(f[9], &r.body_length) && Num(f[10], &r.cost_ms);
      r.region = std::string(f[2]);
      r.group = std::string(f[3]);
      r.topic = std::string(f[4]);
      r.msg_id = f[5];
      r.tags = f[6];
      r.keys = f[7];
      r.store_host = f[8];
      if (f.size() == 13) {
        r.success = Bool(f[12]);
      } else {
        r.offset_msg_id = f[12];
        r.success = Bool(f[13]);
        if (f.size() >= 15) r.client_host = f[14];
      }
    } else if (r.type == "SubBefore" && f.size() >= 8) {
      ok = Num(f[1], &r.timestamp) && Num(f[6], &r.retry_times);
      r.region = f[2];
      r.group = f[3];
      r.request_id = f[4];
      r.msg_id = f[5];
      r.keys = f[7];
      if (f.size() >= 9) r.client_host = f[8];
    } else if (r.type == "SubAfter" && f.size() >= 6) {
      r.request_id = f[1];
      r.msg_id = f[2];
      ok = Num(f[3], &r.cost_ms);
      r.success = Bool(f[4]);
      r.keys = f[5];
      if (f.size() >= 9) {
        ok = ok && Num(f[7], &r.timestamp);
        r.group = f[8];
      }
    } else if (r.type == "EndTransaction" && f.size() >= 13) {
      ok = Num(f[1], &r.timestamp);
      r.region = std::string(f[2]);
      r.group = std::string(f[3]);
      r.topic = std::string(f[4]);
      r.msg_id = f[5];
      r.tags = f[6];
      r.keys = f[7];
      r.store_host = f[8];
      r.transaction_id = f[10];
      r.transaction_state = f[11];
    } else {
      ok = false;
    }
    if (ok) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace fmq::model
