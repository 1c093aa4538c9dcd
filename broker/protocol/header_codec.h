#pragma once

// HeaderSpec: each command header declares its fields once (wire name, member, required) and this one codec
// reads and writes them (CONVENTIONS.md rule 11). Values travel as text in RemotingCommand::ext_fields.
//
// Decoding follows the Java broker: a missing required field is an error whose message is Java's own
// ("the custom field <topic> is null", sent as SYSTEM_ERROR); a number that does not parse is an error naming
// the field; unknown fields are ignored (they stay in ext_fields). Encoding writes every field except empty
// optionals, so responses always carry their complete header (Java clients NPE otherwise).
//
// Thread-safety: a HeaderSpec is immutable after construction and may be shared.

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "broker/base/status.h"

namespace fmq::protocol {

namespace internal {
template <typename T>
bool ParseHeaderValue(const std::string& text, T* out) {
  if constexpr (std::is_same_v<T, std::string>) {
    *out = text;
    return true;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (text == "true" || text == "1") {
      *out = true;
    } else if (text == "false" || text == "0" || text.empty()) {
      *out = false;
    } else {
      return false;
    }
    return true;
  } else {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
    return ec == std::errc() && p == text.data() + text.size();
  }
}

template <typename T>
std::string FormatHeaderValue(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return v;
  } else if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else {
    return std::to_string(v);
  }
}
}  // namespace internal

template <typename H>
class HeaderSpec {
 public:
  using Member =
      std::variant<std::string H::*, int32_t H::*, int64_t H::*, bool H::*, std::optional<std::string> H::*,
                   std::optional<int32_t> H::*, std::optional<int64_t> H::*, std::optional<bool> H::*>;
  struct Field {
    const char* name;
    Member member;
    bool required;
  };

  HeaderSpec(std::initializer_list<Field> fields) : fields_(fields) {}

  Status Decode(const std::map<std::string, std::string>& ext, H* out) const {
    for (const Field& f : fields_) {
      auto it = ext.find(f.name);
      if (it == ext.end()) {
        if (f.required)
          return Status::InvalidArgument(std::string("the custom field <") + f.name + "> is null");
        continue;
      }
      bool ok = std::visit(
          [&](auto member) {
            using T = std::remove_cvref_t<decltype(out->*member)>;
            if constexpr (IsOptional<T>::value) {
              typename T::value_type v{};
              if (!internal::ParseHeaderValue(it->second, &v)) return false;
              out->*member = v;
              return true;
            } else {
              return internal::ParseHeaderValue(it->second, &(out->*member));
            }
          },
          f.member);
      if (!ok) {
        return Status::InvalidArgument(std::string("header field ") + f.name + ": '" + it->second +
                                       "' is not a valid value");
      }
    }
    return Status::Ok();
  }

  Result<H> Decode(const std::map<std::string, std::string>& ext) const {
    H h{};
    FMQ_RETURN_IF_ERROR(Decode(ext, &h));
    return h;
  }

  // Not inlined: inlined into a caller whose header is a small local (QueryMessage's 16-byte
  // QueryMessageResponseHeader), GCC 12 at -O2/-O3 analyses the std::visit branches for member types that
  // header does not have and warns -Warray-bounds / -Wmaybe-uninitialized on it (the std::optional false
  // positives of GCC PR 80635); a call costs nothing next to the map inserts.
  [[gnu::noinline]] void Encode(const H& h, std::map<std::string, std::string>* ext) const {
    for (const Field& f : fields_) {
      std::visit(
          [&](auto member) {
            using T = std::remove_cvref_t<decltype(h.*member)>;
            if constexpr (IsOptional<T>::value) {
              if ((h.*member).has_value()) (*ext)[f.name] = internal::FormatHeaderValue(*(h.*member));
            } else {
              (*ext)[f.name] = internal::FormatHeaderValue(h.*member);
            }
          },
          f.member);
    }
  }

 private:
  template <typename T>
  struct IsOptional : std::false_type {};
  template <typename T>
  struct IsOptional<std::optional<T>> : std::true_type {};

  std::vector<Field> fields_;
};

}  // namespace fmq::protocol
