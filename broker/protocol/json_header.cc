// The fast JSON header codec (internal/json_header.h). Every path that meets something it does not handle
// returns false, so the generic codec decides, and reports, everything unusual.

#include <charconv>
#include <cstring>
#include <optional>

#include "broker/protocol/internal/json_header.h"

namespace fmq::protocol::internal {
namespace {

// Names of LanguageCode values 0..12, as LanguageName gives them.
constexpr int64_t kLanguageCount = 13;

// ---------------------------------------------------------------------------------------------------------
// Writer

// Appends `s` as a JSON string the way nlohmann's dump (ensure_ascii off) writes it; false for a byte
// outside ASCII.
bool AppendString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) continue;
    if (c >= 0x80) return false;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
  return true;
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, static_cast<size_t>(end - buf));
}

// ---------------------------------------------------------------------------------------------------------
// Reader

struct Scalar {
  enum class Kind : uint8_t { kNull, kString, kInt, kBool };
  Kind kind = Kind::kNull;
  bool negative = false;  // an integer written with '-' (nlohmann: signed, not unsigned, even for -0)
  bool b = false;
  int64_t i = 0;
  std::string s;

  // The ext / remark text of the value (generic codec: ScalarText); nullopt for null.
  std::optional<std::string> Text() && {
    switch (kind) {
      case Kind::kString:
        return std::move(s);
      case Kind::kInt:
        return std::to_string(i);
      case Kind::kBool:
        return b ? "true" : "false";
      case Kind::kNull:
        break;
    }
    return std::nullopt;
  }
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Reader {
 public:
  explicit Reader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool AtEnd() const { return p_ == end_; }
  bool Peek(char c) const { return p_ < end_ && *p_ == c; }
  bool Eat(char c) {
    if (!Peek(c)) return false;
    ++p_;
    return true;
  }

  // A string (the opening quote is next), into `out`.
  bool String(std::string* out) {
    if (!Eat('"')) return false;
    out->clear();
    const char* run = p_;
    while (p_ < end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out->append(run, static_cast<size_t>(p_ - run));
        ++p_;
        return true;
      }
      if (c < 0x20 || c >= 0x80)
        return false;  // control characters are errors; UTF-8 is validated generically
      if (c != '\\') {
        ++p_;
        continue;
      }
      out->append(run, static_cast<size_t>(p_ - run));
      if (++p_ == end_) return false;
      switch (*p_) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {  // \u00XX of an ASCII character (the \u0001 and \u0002 property separators)
          int cp = 0;
          for (int k = 0; k < 4; ++k) {
            if (++p_ == end_) return false;
            const int h = HexValue(*p_);
            if (h < 0) return false;
            cp = cp * 16 + h;
          }
          if (cp >= 0x80) return false;  // UTF-8 and surrogate pairs are left to the generic codec
          out->push_back(static_cast<char>(cp));
          break;
        }
        default:
          return false;
      }
      run = ++p_;
    }
    return false;
  }

  // A key followed by ':'.
  bool Key(std::string* key) {
    if (!String(key)) return false;
    SkipSpace();
    if (!Eat(':')) return false;
    SkipSpace();
    return true;
  }

  // A string, an integer, true, false or null. Objects, arrays and fractions decline.
  bool Value(Scalar* v) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '"':
        v->kind = Scalar::Kind::kString;
        return String(&v->s);
      case 't':
        v->kind = Scalar::Kind::kBool;
        v->b = true;
        return Literal("true");
      case 'f':
        v->kind = Scalar::Kind::kBool;
        v->b = false;
        return Literal("false");
      case 'n':
        v->kind = Scalar::Kind::kNull;
        return Literal("null");
      default:
        v->kind = Scalar::Kind::kInt;
        return Integer(v);
    }
  }

 private:
  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0)
      return false;
    p_ += word.size();
    return true;
  }

  // -?(0|[1-9][0-9]*) of at most 18 digits (fits int64 whatever the digits), not followed by a fraction or
  // an exponent.
  bool Integer(Scalar* v) {
    v->negative = Eat('-');
    const char* digits = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    const size_t n = static_cast<size_t>(p_ - digits);
    if (n == 0 || n > 18 || (n > 1 && *digits == '0')) return false;
    if (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    int64_t x = 0;
    for (const char* d = digits; d < p_; ++d) x = x * 10 + (*d - '0');
    v->i = v->negative ? -x : x;
    return true;
  }

  const char* p_;
  const char* const end_;
};

// Generic codec's IntField: absent or null → fallback (or, if required, an error: decline); an integer in
// int32 range → its value; anything else is an error: decline.
bool IntField(const std::optional<Scalar>& v, bool required, int32_t fallback, int32_t* out) {
  if (!v || v->kind == Scalar::Kind::kNull) {
    *out = fallback;
    return !required;
  }
  if (v->kind != Scalar::Kind::kInt || v->i < INT32_MIN || v->i > INT32_MAX) return false;
  *out = static_cast<int32_t>(v->i);
  return true;
}

}  // namespace

bool EncodeJsonHeaderFast(const RemotingCommand& cmd, std::string* out) {
  const size_t start = out->size();
  out->append("{\"code\":");
  AppendInt(cmd.code, out);
  bool ok = true;
  if (!cmd.ext_fields.empty()) {
    out->append(",\"extFields\":{");
    bool first = true;
    for (const auto& [k, v] : cmd.ext_fields) {
      if (!first) out->push_back(',');
      first = false;
      ok = ok && AppendString(k, out);
      out->push_back(':');
      ok = ok && AppendString(v, out);
    }
    out->push_back('}');
  }
  out->append(",\"flag\":");
  AppendInt(cmd.flag, out);
  out->append(",\"language\":\"");
  out->append(LanguageName(cmd.language));
  out->append("\",\"opaque\":");
  AppendInt(cmd.opaque, out);
  if (cmd.remark) {
    out->append(",\"remark\":");
    ok = ok && AppendString(*cmd.remark, out);
  }
  out->append(cmd.serialize_type == SerializeType::kJson ? ",\"serializeTypeCurrentRPC\":\"JSON\""
                                                         : ",\"serializeTypeCurrentRPC\":\"ROCKETMQ\"");
  out->append(",\"version\":");
  AppendInt(cmd.version, out);
  out->push_back('}');
  if (!ok) out->resize(start);
  return ok;
}

bool DecodeJsonHeaderFast(std::string_view header, RemotingCommand* cmd) {
  Reader r(header);
  // The fields the decoder reads; a repeated key replaces the earlier value, as in nlohmann's object.
  std::optional<Scalar> code, version, opaque, flag, language, remark;
  std::map<std::string, std::string> ext;
  std::string key;
  Scalar value;
  r.SkipSpace();
  if (!r.Eat('{')) return false;
  r.SkipSpace();
  if (!r.Peek('}')) {
    while (true) {
      if (!r.Key(&key)) return false;
      if (key == "extFields") {
        ext.clear();  // a repeated extFields replaces the whole object
        if (r.Peek('{')) {
          r.Eat('{');
          r.SkipSpace();
          if (!r.Peek('}')) {
            std::string ext_key;
            while (true) {
              if (!r.Key(&ext_key) || !r.Value(&value)) return false;
              if (auto text = std::move(value).Text()) {
                ext.insert_or_assign(std::move(ext_key), std::move(*text));
              } else {
                ext.erase(ext_key);  // null: the generic codec drops it (and it replaced any earlier value)
              }
              r.SkipSpace();
              if (r.Eat(',')) {
                r.SkipSpace();
                continue;
              }
              break;
            }
          }
          if (!r.Eat('}')) return false;
        } else {
          if (!r.Value(&value) || value.kind != Scalar::Kind::kNull) return false;  // not an object: error
        }
      } else {
        if (!r.Value(&value)) return false;
        std::optional<Scalar>* slot = key == "code"       ? &code
                                      : key == "version"  ? &version
                                      : key == "opaque"   ? &opaque
                                      : key == "flag"     ? &flag
                                      : key == "language" ? &language
                                      : key == "remark"   ? &remark
                                                          : nullptr;  // unknown keys are ignored
        if (slot) *slot = std::move(value);
      }
      r.SkipSpace();
      if (r.Eat(',')) {
        r.SkipSpace();
        continue;
      }
      break;
    }
  }
  if (!r.Eat('}')) return false;
  r.SkipSpace();
  if (!r.AtEnd()) return false;

  RemotingCommand out;
  if (!IntField(code, true, 0, &out.code) || !IntField(version, false, 0, &out.version) ||
      !IntField(opaque, false, 0, &out.opaque) || !IntField(flag, false, 0, &out.flag)) {
    return false;
  }
  out.language = LanguageCode::kOther;
  if (language) {
    if (language->kind == Scalar::Kind::kString) {
      out.language = LanguageFromName(language->s).value_or(LanguageCode::kOther);
    } else if (language->kind == Scalar::Kind::kInt && !language->negative && language->i < kLanguageCount) {
      out.language = static_cast<LanguageCode>(language->i);
    }
  }
  if (remark) out.remark = std::move(*remark).Text();
  cmd->code = out.code;
  cmd->version = out.version;
  cmd->opaque = out.opaque;
  cmd->flag = out.flag;
  cmd->language = out.language;
  cmd->remark = std::move(out.remark);
  cmd->ext_fields = std::move(ext);
  return true;
}

}  // namespace fmq::protocol::internal
