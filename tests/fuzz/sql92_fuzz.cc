// libFuzzer target for the SQL92 selector parser and evaluator (broker/filter): the input's first line is a
// selector (what a consumer's heartbeat or pull request carries), the rest "name=value" lines are a message's
// properties. Nothing may crash, hang or recurse without bound; a compiled selector evaluates to the same
// answer twice and prints without crashing.

#include <cstdint>
#include <map>
#include <string>

#include "broker/base/check.h"
#include "broker/filter/sql92.h"

using namespace fmq;

namespace {
class Props : public filter::PropertySource {
 public:
  std::map<std::string, std::string, std::less<>> m;
  std::optional<std::string_view> Get(std::string_view name) const override {
    auto it = m.find(name);
    if (it == m.end()) return std::nullopt;
    return std::string_view(it->second);
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t nl = text.find('\n');
  std::string_view sql = text.substr(0, nl);
  Props props;
  props.m = {{"a", "1"}, {"price", "30"}, {"s", "abc"}, {"d", "2.5"}};
  if (nl != std::string_view::npos) {
    std::string_view rest = text.substr(nl + 1);
    while (!rest.empty()) {
      size_t end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      if (size_t eq = line.find('='); eq != std::string_view::npos) {
        props.m[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
      }
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
  auto e = filter::Sql92Expression::Compile(sql);
  if (!e.ok()) {
    FMQ_CHECK(!e.status().message().empty());
    return 0;
  }
  auto first = (*e)->Evaluate(props);
  FMQ_CHECK(first == (*e)->Evaluate(props));
  (void)(*e)->ToString();
  return 0;
}
