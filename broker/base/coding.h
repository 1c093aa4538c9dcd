#pragma once

// Big-endian coding (RocketMQ data is big-endian on the wire and on disk: CONVENTIONS.md rule 10).
//
// Encode*/Decode* work on raw pointers the caller has sized. ByteReader is a bounds-checked cursor for
// decoding untrusted input: every read reports failure instead of reading past the end. ByteWriter appends to
// a string. Never cast structs over buffers.

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace fmq {

inline void EncodeU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void EncodeU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline void EncodeU64(uint8_t* p, uint64_t v) {
  EncodeU32(p, static_cast<uint32_t>(v >> 32));
  EncodeU32(p + 4, static_cast<uint32_t>(v));
}
inline void EncodeI16(uint8_t* p, int16_t v) { EncodeU16(p, static_cast<uint16_t>(v)); }
inline void EncodeI32(uint8_t* p, int32_t v) { EncodeU32(p, static_cast<uint32_t>(v)); }
inline void EncodeI64(uint8_t* p, int64_t v) { EncodeU64(p, static_cast<uint64_t>(v)); }

inline uint16_t DecodeU16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t DecodeU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
inline uint64_t DecodeU64(const uint8_t* p) { return (uint64_t{DecodeU32(p)} << 32) | DecodeU32(p + 4); }
inline int16_t DecodeI16(const uint8_t* p) { return static_cast<int16_t>(DecodeU16(p)); }
inline int32_t DecodeI32(const uint8_t* p) { return static_cast<int32_t>(DecodeU32(p)); }
inline int64_t DecodeI64(const uint8_t* p) { return static_cast<int64_t>(DecodeU64(p)); }

// Appends big-endian values to a std::string used as a byte buffer.
class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}
  void PutU8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void PutI16(int16_t v) { Put<2>(&EncodeI16, v); }
  void PutI32(int32_t v) { Put<4>(&EncodeI32, v); }
  void PutI64(int64_t v) { Put<8>(&EncodeI64, v); }
  void PutBytes(std::string_view b) { out_->append(b); }
  void PutBytes(std::span<const uint8_t> b) {
    out_->append(reinterpret_cast<const char*>(b.data()), b.size());
  }

 private:
  template <size_t N, typename F, typename V>
  void Put(F f, V v) {
    uint8_t buf[N];
    f(buf, v);
    out_->append(reinterpret_cast<const char*>(buf), N);
  }
  std::string* out_;  // not owned; outlives the writer
};

// Bounds-checked big-endian reader over untrusted bytes. Each Read* returns false (and leaves the cursor
// where it was) when fewer bytes remain than asked for.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  explicit ByteReader(std::span<const uint8_t> s) : ByteReader(s.data(), s.size()) {}
  explicit ByteReader(std::string_view s)
      : ByteReader(reinterpret_cast<const uint8_t*>(s.data()), s.size()) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const uint8_t* cursor() const { return data_ + pos_; }

  bool ReadU8(uint8_t* v) {
    return Read<1>(v, [](const uint8_t* p) { return p[0]; });
  }
  bool ReadI8(int8_t* v) {
    return Read<1>(v, [](const uint8_t* p) { return static_cast<int8_t>(p[0]); });
  }
  bool ReadI16(int16_t* v) { return Read<2>(v, &DecodeI16); }
  bool ReadI32(int32_t* v) { return Read<4>(v, &DecodeI32); }
  bool ReadI64(int64_t* v) { return Read<8>(v, &DecodeI64); }
  bool ReadBytes(size_t n, std::string_view* out) {
    if (remaining() < n) return false;
    *out = std::string_view(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return true;
  }
  bool Skip(size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }

 private:
  template <size_t N, typename V, typename F>
  bool Read(V* v, F f) {
    if (remaining() < N) return false;
    *v = f(data_ + pos_);
    pos_ += N;
    return true;
  }
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace fmq
