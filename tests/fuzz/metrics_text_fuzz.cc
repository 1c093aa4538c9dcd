// libFuzzer target for the broker's metric texts (broker/server/exporter_metrics.h, broker_metrics.h): the
// bytes become a metricsLabel setting, a GET_BROKER_RUNTIME_INFO table (values as the exporter family parses
// them: numbers, "<10s> <60s> <600s>" triples, "[bucket]:count" lists) and topic and group names (any bytes a
// client can put in a topic name before validation). Nothing may crash; every rendered line is a comment or
// "rocketmq_<name>{...} <value>" with its label values' quotes escaped, so a scrape can always be parsed.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/check.h"
#include "broker/server/broker_metrics.h"
#include "broker/server/exporter_metrics.h"

using namespace fmq;

namespace {
// Splits at '\x01' (fields); never empty.
std::vector<std::string> Fields(std::string_view in) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= in.size(); ++i) {
    if (i == in.size() || in[i] == '\x01') {
      out.emplace_back(in.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

void CheckExposition(const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    FMQ_CHECK(end != std::string::npos);  // every line ends with a newline
    const std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.starts_with("# ")) continue;
    FMQ_CHECK(line.starts_with("rocketmq_"));
    // Outside quoted label values there is exactly one space, before the value.
    bool quoted = false;
    int spaces = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if (quoted && line[i] == '\\') {
        ++i;
        continue;
      }
      if (line[i] == '"') quoted = !quoted;
      if (!quoted && line[i] == ' ') ++spaces;
    }
    FMQ_CHECK(!quoted);
    FMQ_CHECK(spaces == 1);
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> f = Fields(std::string_view(reinterpret_cast<const char*>(data), size));
  auto at = [&f](size_t i) { return f[i % f.size()]; };

  auto labels = server::ParseMetricsLabel(at(0));
  server::ExporterSnapshot s;
  s.cluster = at(1);
  s.broker_name = at(2);
  s.broker_addr = at(3);
  for (const char* key : {"putTps", "getTotalTps", "msgPutTotalTodayNow", "commitLogDiskRatio",
                          "putMessageDistributeTime", "brokerVersionDesc", "bootTimestamp"}) {
    s.runtime[key] = at(s.runtime.size() + 4);
  }
  s.topics.push_back({at(5), 1.5, 100, 3});
  s.topics.push_back({"%DLQ%" + at(6), 0, 0, 2});
  server::ExporterSnapshot::Group g;
  g.topic = at(7);
  g.group = at(8);
  g.diff = 4;
  s.groups.push_back(g);
  g.topic = "%DLQ%" + at(8);
  s.groups.push_back(g);
  s.producers[at(9)] = 2;
  CheckExposition(server::RenderExporterFamily(s));

  if (labels.ok()) {
    server::BrokerMetrics m(at(1), at(2), *labels);
    m.OnMessagesIn(at(5), "normal", 1, 10);
    m.OnMessagesOut(at(5), at(8), 1, 10);
    m.OnSendToDlq(at(5), at(8));
    server::MetricsSnapshot ms;
    ms.lag.push_back({at(5), at(8), 3, 5});
    ms.name_servers[at(3)] = true;
    CheckExposition(m.Collect(ms));
  }
  return 0;
}
