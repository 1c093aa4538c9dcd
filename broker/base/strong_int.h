#pragma once

// StrongInt<Tag, T>: an integer that does not mix with integers of another tag. Offsets, queue ids, broker
// ids and epochs are distinct types (CONVENTIONS.md rule 4): passing a physical commit-log offset where a
// logical queue offset is expected does not compile.
//
// Arithmetic with the same type and with a plain integer delta is allowed; comparison only within the type.

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

namespace fmq {

template <typename Tag, typename T>
class StrongInt {
 public:
  using ValueType = T;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(T v) : v_(v) {}

  constexpr T value() const { return v_; }

  constexpr auto operator<=>(const StrongInt&) const = default;

  constexpr StrongInt operator+(T delta) const { return StrongInt(v_ + delta); }
  constexpr StrongInt operator-(T delta) const { return StrongInt(v_ - delta); }
  constexpr T operator-(StrongInt other) const { return v_ - other.v_; }
  constexpr StrongInt& operator+=(T delta) {
    v_ += delta;
    return *this;
  }
  constexpr StrongInt& operator++() {
    ++v_;
    return *this;
  }

 private:
  T v_{};
};

template <typename Tag, typename T>
std::ostream& operator<<(std::ostream& os, StrongInt<Tag, T> v) {
  return os << v.value();
}

}  // namespace fmq

template <typename Tag, typename T>
struct std::hash<fmq::StrongInt<Tag, T>> {
  size_t operator()(fmq::StrongInt<Tag, T> v) const noexcept { return std::hash<T>()(v.value()); }
};
