#include "broker/filter/sql92.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include <fmt/format.h>

namespace fmq::filter {

std::string_view EvalResultName(EvalResult r) {
  switch (r) {
    case EvalResult::kTrue:
      return "TRUE";
    case EvalResult::kFalse:
      return "FALSE";
    case EvalResult::kNull:
      return "NULL";
    case EvalResult::kError:
      return "ERROR";
  }
  return "?";
}

namespace internal {

// A Java value as the evaluator sees it: null, Boolean, Integer, Long, Double or String; kError stands for an
// exception in flight.
struct Value {
  enum class Kind : uint8_t { kNull, kBool, kInt, kLong, kDouble, kString, kError };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;  // kInt (within int32) and kLong
  double d = 0;
  std::string_view s;

  static Value Null() { return {}; }
  static Value Error() { return Of(Kind::kError); }
  static Value Bool(bool v) {
    Value r = Of(Kind::kBool);
    r.b = v;
    return r;
  }
  static Value String(std::string_view v) {
    Value r = Of(Kind::kString);
    r.s = v;
    return r;
  }
  static Value Of(Kind k) {
    Value r;
    r.kind = k;
    return r;
  }
  bool is_null() const { return kind == Kind::kNull; }
  bool is_error() const { return kind == Kind::kError; }
};

enum class Op : uint8_t {
  kConstant,         // ConstantExpression: string or number literal
  kBooleanConstant,  // BooleanConstantExpression: TRUE, FALSE, NULL
  kProperty,
  kNegate,
  kBooleanCast,  // a bare property used as a condition
  kNot,
  kAnd,
  kOr,
  kEqual,
  kGreater,
  kGreaterEqual,
  kLess,
  kLessEqual,
  kIn,
  kNotIn,
};

struct Node {
  Op op = Op::kConstant;
  int32_t left = -1;                      // operand of unary nodes, left of binary ones
  int32_t right = -1;                     // right of binary nodes
  Value::Kind kind = Value::Kind::kNull;  // constants
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string text;               // string constant, property name
  std::vector<std::string> list;  // IN
  int depth = 1;

  static Node Of(Op op, int32_t left = -1, int32_t right = -1) {
    Node n;
    n.op = op;
    n.left = left;
    n.right = right;
    return n;
  }
  static Node Constant(Op op, Value::Kind kind) {
    Node n = Of(op);
    n.kind = kind;
    return n;
  }

  bool IsConstant() const { return op == Op::kConstant || op == Op::kBooleanConstant; }
  // Java's `instanceof BooleanExpression`.
  bool IsBoolean() const { return op != Op::kConstant && op != Op::kProperty && op != Op::kNegate; }
  Value ConstantValue() const {
    Value v;
    v.kind = kind;
    v.b = b;
    v.i = i;
    v.d = d;
    v.s = text;
    return v;
  }
};

}  // namespace internal

using internal::Node;
using internal::Op;
using internal::Value;
using Kind = Value::Kind;

namespace {

// ---- Java conversions -------------------------------------------------------------------------------------

// Integer.parseInt / Long.parseLong (radix 10): optional sign, ASCII digits, range-checked.
bool ParseJavaInteger(std::string_view s, int64_t min, int64_t max, int64_t* out) {
  if (s.empty()) return false;
  bool negative = false;
  size_t pos = 0;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    pos = 1;
    if (s.size() == 1) return false;
  }
  // Accumulate negatively, as Java does, so that min fits.
  int64_t acc = 0;
  for (; pos < s.size(); ++pos) {
    char c = s[pos];
    if (c < '0' || c > '9') return false;
    int digit = c - '0';
    if (acc < (std::numeric_limits<int64_t>::min() + digit) / 10) return false;
    acc = acc * 10 - digit;
  }
  if (!negative) {
    if (acc == std::numeric_limits<int64_t>::min()) return false;
    acc = -acc;
  }
  if (acc < min || acc > max) return false;
  *out = acc;
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Double.valueOf(String): surrounding characters <= ' ' trimmed, optional sign, "NaN", "Infinity", a decimal
// with optional exponent, or a hex float with its mandatory binary exponent; an optional f/F/d/D suffix.
bool ParseJavaDouble(std::string_view s, double* out) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.remove_suffix(1);
  if (s.empty()) return false;
  bool negative = false;
  std::string_view body = s;
  if (body[0] == '+' || body[0] == '-') {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (body == "Infinity") {
    *out = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  if (!body.empty() &&
      (body.back() == 'f' || body.back() == 'F' || body.back() == 'd' || body.back() == 'D')) {
    body.remove_suffix(1);
  }
  size_t p = 0;
  const bool hex = body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X');
  if (hex) {
    p = 2;
    size_t digits = 0;
    while (p < body.size() && IsHexDigit(body[p])) ++p, ++digits;
    if (p < body.size() && body[p] == '.') {
      ++p;
      while (p < body.size() && IsHexDigit(body[p])) ++p, ++digits;
    }
    if (digits == 0 || p >= body.size() || (body[p] != 'p' && body[p] != 'P')) return false;
    ++p;
  } else {
    size_t digits = 0;
    while (p < body.size() && IsDigit(body[p])) ++p, ++digits;
    if (p < body.size() && body[p] == '.') {
      ++p;
      while (p < body.size() && IsDigit(body[p])) ++p, ++digits;
    }
    if (digits == 0) return false;
    if (p == body.size()) goto convert;
    if (body[p] != 'e' && body[p] != 'E') return false;
    ++p;
  }
  // The exponent: [+-]?digits, to the end.
  if (p < body.size() && (body[p] == '+' || body[p] == '-')) ++p;
  if (p == body.size()) return false;
  while (p < body.size()) {
    if (!IsDigit(body[p])) return false;
    ++p;
  }
convert:
  std::string text(body);
  double v = std::strtod(text.c_str(), nullptr);  // overflow gives inf and underflow 0, as Java's
  *out = negative ? -v : v;
  return true;
}

// Boolean.valueOf(String).
bool ParseJavaBoolean(std::string_view s) {
  return s.size() == 4 && (s[0] | 0x20) == 't' && (s[1] | 0x20) == 'r' && (s[2] | 0x20) == 'u' &&
         (s[3] | 0x20) == 'e';
}

// Double.compare.
int CompareDouble(double a, double b) {
  if (a < b) return -1;
  if (a > b) return 1;
  auto bits = [](double v) {
    if (std::isnan(v)) return int64_t{0x7ff8000000000000};
    int64_t r;
    std::memcpy(&r, &v, sizeof r);
    return r;
  };
  int64_t x = bits(a), y = bits(b);
  return x == y ? 0 : (x < y ? -1 : 1);
}

int CompareInt(int64_t a, int64_t b) { return a == b ? 0 : (a < b ? -1 : 1); }

// Decodes one UTF-8 code point (U+FFFD for a malformed sequence), as Java decodes property text.
uint32_t NextCodePoint(std::string_view s, size_t* pos) {
  const uint8_t c = static_cast<uint8_t>(s[*pos]);
  const int extra = c < 0x80             ? 0
                    : (c & 0xe0) == 0xc0 ? 1
                    : (c & 0xf0) == 0xe0 ? 2
                    : (c & 0xf8) == 0xf0 ? 3
                                         : -1;
  if (extra == 0) {
    ++*pos;
    return c;
  }
  if (extra < 0 || *pos + static_cast<size_t>(extra) >= s.size()) {
    ++*pos;
    return 0xfffd;
  }
  uint32_t cp = c & (0x3fu >> extra);
  for (size_t k = 1; k <= static_cast<size_t>(extra); ++k) {
    const uint8_t cc = static_cast<uint8_t>(s[*pos + k]);
    if ((cc & 0xc0) != 0x80) {
      ++*pos;
      return 0xfffd;
    }
    cp = (cp << 6) | (cc & 0x3fu);
  }
  *pos += static_cast<size_t>(extra) + 1;
  return cp;
}

// String.compareTo: UTF-16 code unit order (supplementary characters sort below U+E000..U+FFFF).
int CompareJavaString(std::string_view a, std::string_view b) {
  auto key = [](uint32_t cp) -> uint32_t { return cp >= 0xe000 && cp <= 0xffff ? cp + 0x200000 : cp; };
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    uint32_t x = key(NextCodePoint(a, &i)), y = key(NextCodePoint(b, &j));
    if (x != y) return x < y ? -1 : 1;
  }
  if (i < a.size()) return 1;
  if (j < b.size()) return -1;
  return 0;
}

// Object.equals between two non-null values.
bool JavaEquals(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kBool:
      return a.b == b.b;
    case Kind::kInt:
    case Kind::kLong:
      return a.i == b.i;
    case Kind::kDouble:
      return CompareDouble(a.d, b.d) == 0;
    case Kind::kString:
      return a.s == b.s;
    default:
      return false;
  }
}

// ComparisonExpression.__compare with string conversion on: nullopt where Java throws.
std::optional<int> JavaCompare(const Value& l, const Value& r) {
  if (l.kind == r.kind) {
    switch (l.kind) {
      case Kind::kBool:
        return l.b == r.b ? 0 : (l.b ? 1 : -1);
      case Kind::kInt:
      case Kind::kLong:
        return CompareInt(l.i, r.i);
      case Kind::kDouble:
        return CompareDouble(l.d, r.d);
      case Kind::kString:
        return CompareJavaString(l.s, r.s);
      default:
        return std::nullopt;
    }
  }
  int64_t n = 0;
  double d = 0;
  switch (l.kind) {
    case Kind::kBool:
      if (r.kind == Kind::kString)
        return std::nullopt;  // Java casts the Boolean to String: ClassCastException
      return -1;
    case Kind::kInt:
    case Kind::kLong:
      if (r.kind == Kind::kInt || r.kind == Kind::kLong) return CompareInt(l.i, r.i);
      if (r.kind == Kind::kDouble) return CompareDouble(static_cast<double>(l.i), r.d);
      if (r.kind == Kind::kString) {
        const bool as_int = l.kind == Kind::kInt;
        if (!ParseJavaInteger(r.s, as_int ? INT32_MIN : INT64_MIN, as_int ? INT32_MAX : INT64_MAX, &n)) {
          return std::nullopt;
        }
        return CompareInt(l.i, n);
      }
      return -1;
    case Kind::kDouble:
      if (r.kind == Kind::kInt || r.kind == Kind::kLong) return CompareDouble(l.d, static_cast<double>(r.i));
      if (r.kind == Kind::kString) {
        if (!ParseJavaDouble(r.s, &d)) return std::nullopt;
        return CompareDouble(l.d, d);
      }
      return -1;
    case Kind::kString:
      switch (r.kind) {
        case Kind::kBool: {
          bool v = ParseJavaBoolean(l.s);
          return v == r.b ? 0 : (v ? 1 : -1);
        }
        case Kind::kInt:
        case Kind::kLong: {
          const bool as_int = r.kind == Kind::kInt;
          if (!ParseJavaInteger(l.s, as_int ? INT32_MIN : INT64_MIN, as_int ? INT32_MAX : INT64_MAX, &n)) {
            return std::nullopt;
          }
          return CompareInt(n, r.i);
        }
        case Kind::kDouble:
          if (!ParseJavaDouble(l.s, &d)) return std::nullopt;
          return CompareDouble(d, r.d);
        default:
          return -1;
      }
    default:
      return std::nullopt;
  }
}

// Double.toString.
std::string JavaDoubleToString(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // d[.ddd]e±XX
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, 1) + (e > 1 ? sci.substr(2, e - 2) : "");
  int exp = std::atoi(sci.c_str() + e + 1);
  double mag = std::fabs(v);
  if (mag >= 1e-3 && mag < 1e7) {
    std::string out;
    if (exp >= 0) {
      std::string intpart = digits.substr(0, std::min<size_t>(digits.size(), static_cast<size_t>(exp) + 1));
      while (intpart.size() < static_cast<size_t>(exp) + 1) intpart += '0';
      std::string frac =
          digits.size() > static_cast<size_t>(exp) + 1 ? digits.substr(static_cast<size_t>(exp) + 1) : "0";
      out = intpart + "." + frac;
    } else {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    }
    return sign + out;
  }
  std::string mant = digits.substr(0, 1) + "." + (digits.size() > 1 ? digits.substr(1) : "0");
  return sign + mant + "E" + std::to_string(exp);
}

// ConstantExpression.encodeString.
std::string QuoteString(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

// ---- Lexer
// --------------------------------------------------------------------------------------------------

enum class Tok : uint8_t {
  kEof,
  kNot,
  kAnd,
  kOr,
  kBetween,
  kIn,
  kTrue,
  kFalse,
  kNull,
  kIs,
  kDecimal,
  kFloat,
  kString,
  kId,
  kEqual,
  kNotEqual,
  kGreater,
  kGreaterEqual,
  kLess,
  kLessEqual,
  kLParen,
  kRParen,
  kComma,
  kPlus,
  kMinus,
  kLexicalError,
};

// SelectorParserConstants.tokenImage, used in ParseException messages.
std::string_view TokenImage(Tok t) {
  switch (t) {
    case Tok::kEof:
      return "<EOF>";
    case Tok::kNot:
      return "\"NOT\"";
    case Tok::kAnd:
      return "\"AND\"";
    case Tok::kOr:
      return "\"OR\"";
    case Tok::kBetween:
      return "\"BETWEEN\"";
    case Tok::kIn:
      return "\"IN\"";
    case Tok::kTrue:
      return "\"TRUE\"";
    case Tok::kFalse:
      return "\"FALSE\"";
    case Tok::kNull:
      return "\"NULL\"";
    case Tok::kIs:
      return "\"IS\"";
    case Tok::kDecimal:
      return "<DECIMAL_LITERAL>";
    case Tok::kFloat:
      return "<FLOATING_POINT_LITERAL>";
    case Tok::kString:
      return "<STRING_LITERAL>";
    case Tok::kId:
      return "<ID>";
    case Tok::kEqual:
      return "\"=\"";
    case Tok::kNotEqual:
      return "\"<>\"";
    case Tok::kGreater:
      return "\">\"";
    case Tok::kGreaterEqual:
      return "\">=\"";
    case Tok::kLess:
      return "\"<\"";
    case Tok::kLessEqual:
      return "\"<=\"";
    case Tok::kLParen:
      return "\"(\"";
    case Tok::kRParen:
      return "\")\"";
    case Tok::kComma:
      return "\",\"";
    case Tok::kPlus:
      return "\"+\"";
    case Tok::kMinus:
      return "\"-\"";
    case Tok::kLexicalError:
      return "<ERROR>";
  }
  return "?";
}

struct Token {
  Tok kind = Tok::kEof;
  std::string_view image;
  int line = 1;
  int column = 1;
  std::string error;  // kLexicalError: the TokenMgrError message
};

// JavaCC's escaping of token images in messages (ParseException.add_escapes).
std::string AddEscapes(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case 0:
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '"':
        out += "\\\"";
        continue;
      case '\'':
        out += "\\'";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

bool IdStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$'; }
bool IdPart(char c) { return IdStart(c) || IsDigit(c); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k) {
    char x = a[k], y = b[k];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

// Tokens on demand, longest match first, as JavaCC's token manager (a lexical error surfaces only when the
// parser reaches it).
class Lexer {
 public:
  explicit Lexer(std::string_view in) : in_(in) {}

  Token Next() {
    SkipIgnored();
    Token t;
    t.line = line_;
    t.column = column_;
    if (pos_ >= in_.size()) {
      // JavaCC places <EOF> at the last character read.
      t.line = last_line_;
      t.column = last_column_;
      return t;
    }
    const size_t start = pos_;
    const char c = in_[pos_];
    auto take = [&](size_t n, Tok kind) {
      Advance(n);
      t.kind = kind;
      t.image = in_.substr(start, n);
      return t;
    };
    if (c == '\'') {
      size_t p = pos_ + 1;
      while (true) {
        if (p >= in_.size()) return LexicalError(t, in_.size(), in_.substr(start));
        if (in_[p] == '\'') {
          if (p + 1 < in_.size() && in_[p + 1] == '\'') {
            p += 2;
            continue;
          }
          return take(p + 1 - start, Tok::kString);
        }
        ++p;
      }
    }
    if (IsDigit(c) || (c == '.' && pos_ + 1 < in_.size() && IsDigit(in_[pos_ + 1]))) {
      const size_t n = NumberLength();  // sets kind_
      return take(n, kind_);
    }
    if (IdStart(c)) {
      size_t p = pos_ + 1;
      while (p < in_.size() && IdPart(in_[p])) ++p;
      std::string_view word = in_.substr(start, p - start);
      static constexpr std::pair<std::string_view, Tok> kKeywords[] = {
          {"NOT", Tok::kNot},         {"AND", Tok::kAnd},   {"OR", Tok::kOr},
          {"BETWEEN", Tok::kBetween}, {"IN", Tok::kIn},     {"TRUE", Tok::kTrue},
          {"FALSE", Tok::kFalse},     {"NULL", Tok::kNull}, {"IS", Tok::kIs}};
      Tok kind = Tok::kId;
      for (const auto& [name, k] : kKeywords) {
        if (EqualsIgnoreCase(word, name)) kind = k;
      }
      return take(word.size(), kind);
    }
    auto next_is = [&](char x) { return pos_ + 1 < in_.size() && in_[pos_ + 1] == x; };
    switch (c) {
      case '=':
        return take(1, Tok::kEqual);
      case '<':
        if (next_is('>')) return take(2, Tok::kNotEqual);
        if (next_is('=')) return take(2, Tok::kLessEqual);
        return take(1, Tok::kLess);
      case '>':
        if (next_is('=')) return take(2, Tok::kGreaterEqual);
        return take(1, Tok::kGreater);
      case '(':
        return take(1, Tok::kLParen);
      case ')':
        return take(1, Tok::kRParen);
      case ',':
        return take(1, Tok::kComma);
      case '+':
        return take(1, Tok::kPlus);
      case '-':
        return take(1, Tok::kMinus);
      default:
        return LexicalError(t, pos_, "");
    }
  }

 private:
  void Advance(size_t n) {
    for (size_t k = 0; k < n && pos_ < in_.size(); ++k, ++pos_) {
      last_line_ = line_;
      last_column_ = column_;
      if (in_[pos_] == '\n' || (in_[pos_] == '\r' && !(pos_ + 1 < in_.size() && in_[pos_ + 1] == '\n'))) {
        ++line_;
        column_ = 1;
      } else {
        ++column_;
      }
    }
  }

  // Whitespace (space, tab, CR, LF, FF), "--" comments ended by a line break, "/* */" comments.
  void SkipIgnored() {
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        Advance(1);
        continue;
      }
      if (c == '-' && pos_ + 1 < in_.size() && in_[pos_ + 1] == '-') {
        size_t eol = in_.find_first_of("\r\n", pos_ + 2);
        if (eol == std::string_view::npos) return;  // no line break: two minus signs, as JavaCC reads it
        Advance(eol + 1 - pos_);
        continue;
      }
      if (c == '/' && pos_ + 1 < in_.size() && in_[pos_ + 1] == '*') {
        size_t end = in_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) return;  // "/" is then a lexical error
        Advance(end + 2 - pos_);
        continue;
      }
      return;
    }
  }

  // DECIMAL_LITERAL "0" | [1-9][0-9]* [lL]?, or FLOATING_POINT_LITERAL digits "." digits? exp? | "." digits
  // exp? | digits exp: the longer wins. Sets kind_.
  size_t NumberLength() {
    size_t p = pos_;
    auto digits = [&](size_t q) {
      while (q < in_.size() && IsDigit(in_[q])) ++q;
      return q;
    };
    auto exponent = [&](size_t q) -> size_t {  // end of "E[+-]digits" at q, or q if none
      if (q < in_.size() && (in_[q] == 'e' || in_[q] == 'E')) {
        size_t r = q + 1;
        if (r < in_.size() && (in_[r] == '+' || in_[r] == '-')) ++r;
        size_t s = digits(r);
        if (s > r) return s;
      }
      return q;
    };
    size_t float_end = pos_;
    if (in_[p] == '.') {
      float_end = exponent(digits(p + 1));
    } else {
      size_t d = digits(p);
      if (d < in_.size() && in_[d] == '.') {
        float_end = exponent(digits(d + 1));
      } else {
        size_t e = exponent(d);
        if (e > d) float_end = e;
      }
    }
    size_t decimal_end = pos_;
    if (in_[p] == '0') {
      decimal_end = p + 1;
    } else if (IsDigit(in_[p])) {
      decimal_end = digits(p);
    }
    if (decimal_end > pos_ && decimal_end < in_.size() &&
        (in_[decimal_end] == 'l' || in_[decimal_end] == 'L')) {
      ++decimal_end;
    }
    if (float_end > decimal_end) {
      kind_ = Tok::kFloat;
      return float_end - pos_;
    }
    kind_ = Tok::kDecimal;
    return decimal_end - pos_;
  }

  Token LexicalError(Token t, size_t at, std::string_view after) {
    t.kind = Tok::kLexicalError;
    // TokenMgrError.LexicalError's text.
    std::string encountered;
    if (at >= in_.size()) {
      encountered = "<EOF> ";
    } else {
      unsigned char ch = static_cast<unsigned char>(in_[at]);
      encountered = fmt::format("\"{}\" ({}), ", AddEscapes(std::string_view(in_.data() + at, 1)), ch);
    }
    t.error = fmt::format(
        "org.apache.rocketmq.filter.parser.TokenMgrError: Lexical error at line {}, column {}.  Encountered: "
        "{}after : \"{}\"",
        t.line, t.column + static_cast<int>(at - pos_), encountered, AddEscapes(after));
    pos_ = in_.size();
    return t;
  }

  std::string_view in_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  int last_line_ = 0;
  int last_column_ = 0;
  Tok kind_ = Tok::kDecimal;
};

}  // namespace

// ---- Parser -----------------------------------------------------------------------------------------------

// Recursive descent over SelectorParser.jj, building the same expression objects its actions build, with the
// same checks (ComparisonExpression.create*, asBooleanExpression) and their messages.
class Parser {
 public:
  explicit Parser(std::string_view sql) : lexer_(sql), expr_(new Sql92Expression()) {}

  Result<std::shared_ptr<const Sql92Expression>> Parse() {
    int32_t left = OrExpression(0);
    if (left >= 0) left = AsBoolean(left);
    if (left < 0) Fail("org.apache.rocketmq.filter.parser.ParseException: invalid selector");
    if (!error_.empty()) return Status::InvalidArgument(error_);
    expr_->root_ = left;
    return std::shared_ptr<const Sql92Expression>(std::move(expr_));
  }

 private:
  static constexpr int32_t kFail = -1;

  // ---- tokens
  const Token& Peek(size_t k = 0) {
    while (ahead_.size() <= k) ahead_.push_back(lexer_.Next());
    return ahead_[k];
  }
  Token Take() {
    Token t = Peek();
    ahead_.erase(ahead_.begin());
    return t;
  }
  // Fails on a lexical error among the next k+1 tokens; returns the kind of token k.
  std::optional<Tok> Look(size_t k = 0) {
    for (size_t j = 0; j <= k; ++j) {
      if (Peek(j).kind == Tok::kLexicalError) {
        Fail(Peek(j).error);
        return std::nullopt;
      }
    }
    return Peek(k).kind;
  }
  bool Expect(Tok kind, std::initializer_list<Tok> expected_context = {}) {
    auto t = Look();
    if (!t) return false;
    if (*t != kind) {
      // push_back, not insert of the initializer_list: GCC 12 at -O1 with -fsanitize=thread reports a bogus
      // -Warray-bounds on the one-element vector's insert.
      std::vector<Tok> expected;
      expected.reserve(1 + expected_context.size());
      expected.push_back(kind);
      for (Tok t2 : expected_context) expected.push_back(t2);
      Unexpected(expected);
      return false;
    }
    Take();
    return true;
  }

  // ---- errors
  void Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }
  void Unexpected(const std::vector<Tok>& expected) {
    const Token& t = Peek();
    std::string found =
        t.kind == Tok::kEof ? "<EOF>" : fmt::format(" {} \"{} \"", TokenImage(t.kind), AddEscapes(t.image));
    std::string was = expected.size() == 1 ? "Was expecting:" : "Was expecting one of:";
    std::string list;
    for (Tok e : expected) list += fmt::format("\n    {} ...", TokenImage(e));
    Fail(fmt::format(
        "org.apache.rocketmq.filter.parser.ParseException: Encountered \"{}\" at line {}, column {}.\n{}{}",
        found, t.line, t.column, was, list));
  }
  void ParseError(std::string message) {
    Fail("org.apache.rocketmq.filter.parser.ParseException: " + std::move(message));
  }
  void RuntimeError(std::string message) { Fail("java.lang.RuntimeException: " + std::move(message)); }
  bool failed() const { return !error_.empty(); }

  // ---- nodes
  int32_t Add(Node n) {
    if (n.left >= 0) n.depth = std::max(n.depth, nodes()[n.left].depth + 1);
    if (n.right >= 0) n.depth = std::max(n.depth, nodes()[n.right].depth + 1);
    if (n.depth > Sql92Expression::kMaxDepth) {
      ParseError(fmt::format("the expression is nested deeper than {} levels", Sql92Expression::kMaxDepth));
      return kFail;
    }
    nodes().push_back(std::move(n));
    return static_cast<int32_t>(nodes().size() - 1);
  }
  std::vector<Node>& nodes() { return expr_->nodes_; }
  const Node& node(int32_t i) { return nodes()[static_cast<size_t>(i)]; }
  std::string Str(int32_t i) { return NodeToString(nodes(), i); }

  int32_t Unary(Op op, int32_t operand) { return Add(Node::Of(op, operand)); }
  int32_t Binary(Op op, int32_t l, int32_t r) { return Add(Node::Of(op, l, r)); }
  int32_t BooleanConstant(Kind kind, bool b) {
    Node n = Node::Constant(Op::kBooleanConstant, kind);
    n.b = b;
    return Add(std::move(n));
  }

  // SelectorParser.asBooleanExpression.
  int32_t AsBoolean(int32_t e) {
    if (e < 0) return kFail;
    if (node(e).IsBoolean()) return e;
    if (node(e).op == Op::kProperty) return Unary(Op::kBooleanCast, e);
    ParseError("Expression will not result in a boolean value: " + Str(e));
    return kFail;
  }

  // ComparisonExpression.checkLessThanOperand.
  bool CheckLessThanOperand(int32_t e) {
    const Node& n = node(e);
    if (n.IsConstant()) {
      if (n.kind == Kind::kInt || n.kind == Kind::kLong || n.kind == Kind::kDouble) return true;
      RuntimeError("Value '" + Str(e) + "' cannot be compared.");
      return false;
    }
    if (n.IsBoolean()) {
      RuntimeError("Value '" + Str(e) + "' cannot be compared.");
      return false;
    }
    return true;
  }
  int32_t Comparison(Op op, int32_t l, int32_t r) {
    if (!CheckLessThanOperand(l) || !CheckLessThanOperand(r)) return kFail;
    return Binary(op, l, r);
  }
  // ComparisonExpression.createEqual (checkEqualOperand, checkEqualOperandCompatability).
  int32_t Equal(int32_t l, int32_t r) {
    for (int32_t e : {l, r}) {
      if (node(e).IsConstant() && node(e).kind == Kind::kNull) {
        RuntimeError("'" + Str(e) + "' cannot be compared.");
        return kFail;
      }
    }
    if (node(l).IsConstant() && node(r).IsConstant() && node(l).IsBoolean() && !node(r).IsBoolean()) {
      RuntimeError("'" + Str(l) + "' cannot be compared with '" + Str(r) + "'");
      return kFail;
    }
    return Binary(Op::kEqual, l, r);
  }
  int32_t Between(int32_t value, int32_t low, int32_t high, bool negated) {
    if (!negated && node(low).IsConstant() && node(high).IsConstant()) {
      Value lv = node(low).ConstantValue(), rv = node(high).ConstantValue();
      if (lv.is_null() || rv.is_null()) {
        RuntimeError("Illegal values of between, values can not be null!");
        return kFail;
      }
      auto cmp = JavaCompare(rv, lv);
      if (!cmp) {
        RuntimeError(fmt::format("cannot compare the values of between, {} and {}", Str(low), Str(high)));
        return kFail;
      }
      if (*cmp < 0) {
        RuntimeError(fmt::format(
            "Illegal values of between, left value({}) must less than or equal to right value({})",
            ConstantText(lv), ConstantText(rv)));
        return kFail;
      }
    }
    if (negated) {
      int32_t a = Comparison(Op::kLess, value, low);
      if (a < 0) return kFail;
      int32_t b = Comparison(Op::kGreater, value, high);
      if (b < 0) return kFail;
      return Binary(Op::kOr, a, b);
    }
    int32_t a = Comparison(Op::kGreaterEqual, value, low);
    if (a < 0) return kFail;
    int32_t b = Comparison(Op::kLessEqual, value, high);
    if (b < 0) return kFail;
    return Binary(Op::kAnd, a, b);
  }
  // String.format("%s", value) of a constant.
  static std::string ConstantText(const Value& v) {
    switch (v.kind) {
      case Kind::kBool:
        return v.b ? "true" : "false";
      case Kind::kInt:
      case Kind::kLong:
        return std::to_string(v.i);
      case Kind::kDouble:
        return JavaDoubleToString(v.d);
      case Kind::kString:
        return std::string(v.s);
      default:
        return "null";
    }
  }

  // ---- grammar
  int32_t OrExpression(int depth) {
    if (depth > Sql92Expression::kMaxDepth) {
      ParseError(fmt::format("the expression is nested deeper than {} levels", Sql92Expression::kMaxDepth));
      return kFail;
    }
    int32_t left = AndExpression(depth);
    while (left >= 0) {
      auto t = Look();
      if (!t || *t != Tok::kOr) break;
      Take();
      int32_t right = AndExpression(depth);
      if (right < 0) return kFail;
      int32_t l = AsBoolean(left), r = l < 0 ? kFail : AsBoolean(right);
      if (r < 0) return kFail;
      left = Binary(Op::kOr, l, r);
    }
    return failed() ? kFail : left;
  }

  int32_t AndExpression(int depth) {
    int32_t left = EqualityExpression(depth);
    while (left >= 0) {
      auto t = Look();
      if (!t || *t != Tok::kAnd) break;
      Take();
      int32_t right = EqualityExpression(depth);
      if (right < 0) return kFail;
      int32_t l = AsBoolean(left), r = l < 0 ? kFail : AsBoolean(right);
      if (r < 0) return kFail;
      left = Binary(Op::kAnd, l, r);
    }
    return failed() ? kFail : left;
  }

  int32_t EqualityExpression(int depth) {
    int32_t left = ComparisonExpression(depth);
    while (left >= 0) {
      auto t = Look();
      if (!t) return kFail;
      if (*t == Tok::kEqual || *t == Tok::kNotEqual) {
        Take();
        int32_t right = ComparisonExpression(depth);
        if (right < 0) return kFail;
        left = Equal(left, right);
        if (*t == Tok::kNotEqual && left >= 0) left = Unary(Op::kNot, left);
      } else if (*t == Tok::kIs) {
        auto second = Look(1);
        if (!second) return kFail;
        Take();
        bool negated = false;
        if (*second == Tok::kNot) {
          Take();
          negated = true;
        } else if (*second != Tok::kNull) {
          Unexpected({Tok::kNull, Tok::kNot});
          return kFail;
        }
        if (!Expect(Tok::kNull)) return kFail;
        int32_t null = BooleanConstant(Kind::kNull, false);
        left = null < 0 ? kFail : Binary(Op::kEqual, left, null);
        if (negated && left >= 0) left = Unary(Op::kNot, left);
      } else {
        break;
      }
    }
    return failed() ? kFail : left;
  }

  int32_t ComparisonExpression(int depth) {
    int32_t left = UnaryExpression(depth);
    while (left >= 0) {
      auto t = Look();
      if (!t) return kFail;
      Op op;
      switch (*t) {
        case Tok::kGreater:
          op = Op::kGreater;
          break;
        case Tok::kGreaterEqual:
          op = Op::kGreaterEqual;
          break;
        case Tok::kLess:
          op = Op::kLess;
          break;
        case Tok::kLessEqual:
          op = Op::kLessEqual;
          break;
        case Tok::kBetween:
        case Tok::kIn:
        case Tok::kNot:
          op = Op::kIn;  // decided below
          break;
        default:
          return failed() ? kFail : left;
      }
      if (op != Op::kIn) {
        Take();
        int32_t right = UnaryExpression(depth);
        if (right < 0) return kFail;
        left = Comparison(op, left, right);
        continue;
      }
      bool negated = false;
      if (*t == Tok::kNot) {
        auto second = Look(1);
        if (!second) return kFail;
        if (*second != Tok::kBetween && *second != Tok::kIn) {
          Unexpected({Tok::kBetween, Tok::kIn});
          return kFail;
        }
        Take();
        negated = true;
        t = second;
      }
      Take();
      if (*t == Tok::kBetween) {
        int32_t low = UnaryExpression(depth);
        if (low < 0 || !Expect(Tok::kAnd)) return kFail;
        int32_t high = UnaryExpression(depth);
        if (high < 0) return kFail;
        left = Between(left, low, high, negated);
        continue;
      }
      // IN ( 'a', 'b', ... )
      if (!Expect(Tok::kLParen)) return kFail;
      std::vector<std::string> list;
      while (true) {
        auto s = Look();
        if (!s) return kFail;
        if (*s != Tok::kString) {
          Unexpected({Tok::kString});
          return kFail;
        }
        list.push_back(DecodeString(Take().image));
        auto sep = Look();
        if (!sep) return kFail;
        if (*sep == Tok::kComma) {
          Take();
          continue;
        }
        if (!Expect(Tok::kRParen, {Tok::kComma})) return kFail;
        break;
      }
      if (node(left).op != Op::kProperty) {
        RuntimeError("Expected a property for In expression, got: " + Str(left));
        return kFail;
      }
      Node in = Node::Of(negated ? Op::kNotIn : Op::kIn, left);
      in.list = std::move(list);
      left = Add(std::move(in));
    }
    return kFail;
  }

  int32_t UnaryExpression(int depth) {
    if (depth > Sql92Expression::kMaxDepth) {
      ParseError(fmt::format("the expression is nested deeper than {} levels", Sql92Expression::kMaxDepth));
      return kFail;
    }
    auto t = Look();
    if (!t) return kFail;
    switch (*t) {
      case Tok::kPlus:
        Take();
        return UnaryExpression(depth + 1);
      case Tok::kMinus: {
        Take();
        int32_t operand = UnaryExpression(depth + 1);
        return operand < 0 ? kFail : Unary(Op::kNegate, operand);
      }
      case Tok::kNot: {
        Take();
        int32_t operand = AsBoolean(UnaryExpression(depth + 1));
        return operand < 0 ? kFail : Unary(Op::kNot, operand);
      }
      default:
        return PrimaryExpression(depth);
    }
  }

  int32_t PrimaryExpression(int depth) {
    auto t = Look();
    if (!t) return kFail;
    switch (*t) {
      case Tok::kString: {
        Node n = Node::Constant(Op::kConstant, Kind::kString);
        n.text = DecodeString(Take().image);
        return Add(std::move(n));
      }
      case Tok::kDecimal:
        return DecimalLiteral(Take().image);
      case Tok::kFloat:
        return FloatLiteral(Take().image);
      case Tok::kTrue:
        Take();
        return BooleanConstant(Kind::kBool, true);
      case Tok::kFalse:
        Take();
        return BooleanConstant(Kind::kBool, false);
      case Tok::kNull:
        Take();
        return BooleanConstant(Kind::kNull, false);
      case Tok::kId: {
        Node n = Node::Of(Op::kProperty);
        n.text = std::string(Take().image);
        return Add(std::move(n));
      }
      case Tok::kLParen: {
        Take();
        int32_t inner = OrExpression(depth + 1);
        if (inner < 0 || !Expect(Tok::kRParen)) return kFail;
        return inner;
      }
      default:
        Unexpected({Tok::kPlus, Tok::kMinus, Tok::kNot, Tok::kTrue, Tok::kFalse, Tok::kNull, Tok::kDecimal,
                    Tok::kFloat, Tok::kString, Tok::kId, Tok::kLParen});
        return kFail;
    }
  }

  static std::string DecodeString(std::string_view image) {
    std::string out;
    for (size_t k = 1; k + 1 < image.size(); ++k) {
      out += image[k];
      if (image[k] == '\'') ++k;
    }
    return out;
  }

  // ConstantExpression.createFromDecimal: a Long, an Integer when it fits.
  int32_t DecimalLiteral(std::string_view text) {
    if (!text.empty() && (text.back() == 'l' || text.back() == 'L')) text.remove_suffix(1);
    int64_t v = 0;
    if (!ParseJavaInteger(text, INT64_MIN, INT64_MAX, &v)) {
      Fail(fmt::format("java.lang.NumberFormatException: For input string: \"{}\"", text));
      return kFail;
    }
    const bool fits_int = v >= INT32_MIN && v <= INT32_MAX;
    Node n = Node::Constant(Op::kConstant, fits_int ? Kind::kInt : Kind::kLong);
    n.i = v;
    return Add(std::move(n));
  }

  // ConstantExpression.createFloat: a Double, refused when infinite or below Double.MIN_VALUE (zero
  // included).
  int32_t FloatLiteral(std::string_view text) {
    double v = 0;
    if (!ParseJavaDouble(text, &v)) {
      Fail(fmt::format("java.lang.NumberFormatException: For input string: \"{}\"", text));
      return kFail;
    }
    if (v > std::numeric_limits<double>::max()) {
      RuntimeError(fmt::format("{} is greater than 1.7976931348623157E308", text));
      return kFail;
    }
    if (v < std::numeric_limits<double>::denorm_min()) {
      RuntimeError(fmt::format("{} is less than 4.9E-324", text));
      return kFail;
    }
    Node n = Node::Constant(Op::kConstant, Kind::kDouble);
    n.d = v;
    return Add(std::move(n));
  }

 public:
  // Java's toString of the expression objects.
  static std::string NodeToString(const std::vector<Node>& nodes, int32_t i) {
    const Node& n = nodes[static_cast<size_t>(i)];
    auto bin = [&](std::string_view symbol) {
      return "(" + NodeToString(nodes, n.left) + " " + std::string(symbol) + " " +
             NodeToString(nodes, n.right) + ")";
    };
    switch (n.op) {
      case Op::kConstant:
      case Op::kBooleanConstant:
        switch (n.kind) {
          case Kind::kNull:
            return "NULL";
          case Kind::kBool:
            return n.b ? "TRUE" : "FALSE";
          case Kind::kString:
            return QuoteString(n.text);
          case Kind::kDouble:
            return JavaDoubleToString(n.d);
          default:
            return std::to_string(n.i);
        }
      case Op::kProperty:
        return n.text;
      case Op::kNegate:
        return "(- " + NodeToString(nodes, n.left) + ")";
      case Op::kBooleanCast:
        return NodeToString(nodes, n.left);
      case Op::kNot:
        return "(NOT " + NodeToString(nodes, n.left) + ")";
      case Op::kAnd:
        return bin("&&");
      case Op::kOr:
        return bin("||");
      case Op::kEqual:
        return bin("==");
      case Op::kGreater:
        return bin(">");
      case Op::kGreaterEqual:
        return bin(">=");
      case Op::kLess:
        return bin("<");
      case Op::kLessEqual:
        return bin("<=");
      case Op::kIn:
      case Op::kNotIn: {
        std::string out = NodeToString(nodes, n.left) + (n.op == Op::kIn ? " IN" : " NOT IN") + " ( ";
        for (size_t k = 0; k < n.list.size(); ++k) out += (k ? ", " : "") + n.list[k];
        return out + " )";
      }
    }
    return "?";
  }

 private:
  Lexer lexer_;
  std::vector<Token> ahead_;
  std::unique_ptr<Sql92Expression> expr_;
  std::string error_;
};

// ---- Evaluation -------------------------------------------------------------------------------------------

namespace {

Value Eval(const std::vector<Node>& nodes, int32_t i, const PropertySource& props) {
  const Node& n = nodes[static_cast<size_t>(i)];
  switch (n.op) {
    case Op::kConstant:
    case Op::kBooleanConstant:
      return n.ConstantValue();
    case Op::kProperty: {
      auto v = props.Get(n.text);
      if (!v) return Value::Null();
      return Value::String(*v);
    }
    case Op::kNegate: {
      Value v = Eval(nodes, n.left, props);
      switch (v.kind) {
        case Kind::kError:
          return v;
        case Kind::kInt:
        case Kind::kLong:
          v.i = static_cast<int64_t>(0 - static_cast<uint64_t>(v.i));  // Java's wrap-around
          if (v.kind == Kind::kInt) v.i = static_cast<int32_t>(v.i);
          return v;
        case Kind::kDouble:
          v.d = -v.d;
          return v;
        default:
          return Value::Null();
      }
    }
    case Op::kBooleanCast: {
      Value v = Eval(nodes, n.left, props);
      if (v.is_error() || v.is_null()) return v;
      return Value::Bool(v.kind == Kind::kBool && v.b);
    }
    case Op::kNot: {
      Value v = Eval(nodes, n.left, props);
      if (v.is_error() || v.is_null()) return v;
      if (v.kind != Kind::kBool) return Value::Error();
      return Value::Bool(!v.b);
    }
    case Op::kAnd:
    case Op::kOr: {
      // Short-circuits as LogicExpression: AND stops at FALSE, OR at TRUE; otherwise null wins.
      const bool stop_at = n.op == Op::kOr;
      Value l = Eval(nodes, n.left, props);
      if (l.is_error()) return l;
      if (l.kind == Kind::kBool && l.b == stop_at) return Value::Bool(stop_at);
      Value r = Eval(nodes, n.right, props);
      if (r.is_error()) return r;
      if (r.kind == Kind::kBool && r.b == stop_at) return Value::Bool(stop_at);
      if (l.kind != Kind::kBool || r.kind != Kind::kBool) return Value::Null();
      return Value::Bool(!stop_at);
    }
    case Op::kEqual: {
      Value l = Eval(nodes, n.left, props);
      if (l.is_error()) return l;
      Value r = Eval(nodes, n.right, props);
      if (r.is_error()) return r;
      if (l.is_null() != r.is_null()) return l.is_null() ? Value::Null() : Value::Bool(false);
      if (l.is_null()) return Value::Bool(true);
      if (JavaEquals(l, r)) return Value::Bool(true);
      auto cmp = JavaCompare(l, r);
      if (!cmp) return Value::Error();
      return Value::Bool(*cmp == 0);
    }
    case Op::kGreater:
    case Op::kGreaterEqual:
    case Op::kLess:
    case Op::kLessEqual: {
      Value l = Eval(nodes, n.left, props);
      if (l.is_error() || l.is_null()) return l;
      Value r = Eval(nodes, n.right, props);
      if (r.is_error() || r.is_null()) return r;
      std::optional<int> cmp;
      if (l.kind == Kind::kString && r.kind == Kind::kString) {
        double x = 0, y = 0;  // comparing strings is refused unless both are numbers
        if (ParseJavaDouble(l.s, &x) && ParseJavaDouble(r.s, &y)) cmp = CompareDouble(x, y);
      } else {
        cmp = JavaCompare(l, r);
      }
      if (!cmp) return Value::Error();
      switch (n.op) {
        case Op::kGreater:
          return Value::Bool(*cmp > 0);
        case Op::kGreaterEqual:
          return Value::Bool(*cmp >= 0);
        case Op::kLess:
          return Value::Bool(*cmp < 0);
        default:
          return Value::Bool(*cmp <= 0);
      }
    }
    case Op::kIn:
    case Op::kNotIn: {
      Value v = Eval(nodes, n.left, props);
      if (v.is_error()) return v;
      if (v.kind != Kind::kString) return Value::Null();
      bool found = false;
      for (const auto& s : n.list) found = found || s == v.s;
      return Value::Bool(found != (n.op == Op::kNotIn));
    }
  }
  return Value::Error();
}

}  // namespace

Sql92Expression::Sql92Expression() = default;
Sql92Expression::~Sql92Expression() = default;

Result<std::shared_ptr<const Sql92Expression>> Sql92Expression::Compile(std::string_view sql) {
  return Parser(sql).Parse();
}

EvalResult Sql92Expression::Evaluate(const PropertySource& properties) const {
  Value v = Eval(nodes_, root_, properties);
  switch (v.kind) {
    case Kind::kError:
      return EvalResult::kError;
    case Kind::kNull:
      return EvalResult::kNull;
    case Kind::kBool:
      return v.b ? EvalResult::kTrue : EvalResult::kFalse;
    default:
      return EvalResult::kError;  // not a Boolean: Java's `(Boolean) ret` check fails; never delivered
  }
}

std::string Sql92Expression::ToString() const { return Parser::NodeToString(nodes_, root_); }

}  // namespace fmq::filter
