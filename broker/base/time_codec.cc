#include "broker/base/time_codec.h"

#include <charconv>
#include <ctime>

#include <fmt/format.h>

namespace fmq {
namespace {

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm), so no timegm/locale is involved.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ParseInt(std::string_view s, int* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string FormatSeconds(int64_t secs) {
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::string FormatRfc3339(int64_t unix_millis) { return FormatSeconds(FloorDiv(unix_millis, 1000)) + "Z"; }

std::string FormatRfc3339Micros(int64_t unix_micros) {
  int64_t secs = FloorDiv(unix_micros, 1'000'000);
  return fmt::format("{}.{:06}Z", FormatSeconds(secs), unix_micros - secs * 1'000'000);
}

Result<int64_t> ParseRfc3339Micros(std::string_view text) {
  auto bad = [&] { return Status::InvalidArgument("not an RFC 3339 time: '" + std::string(text) + "'"); };
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') ||
      text[13] != ':' || text[16] != ':') {
    return bad();
  }
  int y, mo, d, h, mi, s;
  if (!ParseInt(text.substr(0, 4), &y) || !ParseInt(text.substr(5, 2), &mo) ||
      !ParseInt(text.substr(8, 2), &d) || !ParseInt(text.substr(11, 2), &h) ||
      !ParseInt(text.substr(14, 2), &mi) || !ParseInt(text.substr(17, 2), &s)) {
    return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return bad();
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) micros = micros * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (int i = digits; i < 6; ++i) micros *= 10;
  }
  int64_t offset_secs = 0;
  if (pos >= text.size()) return bad();
  if (text[pos] == 'Z' || text[pos] == 'z') {
    if (pos + 1 != text.size()) return bad();
  } else if (text[pos] == '+' || text[pos] == '-') {
    int oh, om;
    if (text.size() != pos + 6 || text[pos + 3] != ':' || !ParseInt(text.substr(pos + 1, 2), &oh) ||
        !ParseInt(text.substr(pos + 4, 2), &om)) {
      return bad();
    }
    offset_secs = (oh * 3600 + om * 60) * (text[pos] == '+' ? 1 : -1);
  } else {
    return bad();
  }
  int64_t secs = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
                 mi * 60 + s - offset_secs;
  return secs * 1'000'000 + micros;
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || n < 0)
    return Status::InvalidArgument("not a duration: '" + std::string(text) + "' (e.g. 15s, 500ms)");
  const std::string_view unit(p, static_cast<size_t>(text.data() + text.size() - p));
  if (unit.empty() || unit == "s") return std::chrono::milliseconds(n * 1000);
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "m") return std::chrono::milliseconds(n * 60'000);
  if (unit == "h") return std::chrono::milliseconds(n * 3'600'000);
  return Status::InvalidArgument("not a duration: '" + std::string(text) + "' (units: ms, s, m, h)");
}

}  // namespace fmq
