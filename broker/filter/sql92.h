#pragma once

// RocketMQ's SQL92 property filter: the selector language of `MessageSelector.bySql(...)`.
//
// The grammar and the meaning are those of Apache RocketMQ 4.9's filter module (SelectorParser.jj and the
// expression classes it builds), which its broker evaluates on every message of an SQL92 subscription:
//
//   selector   := or
//   or         := and ( OR and )*
//   and        := equality ( AND equality )*
//   equality   := comparison ( "=" comparison | "<>" comparison | IS NULL | IS NOT NULL )*
//   comparison := unary ( (">" | ">=" | "<" | "<=") unary | [NOT] BETWEEN unary AND unary
//                        | [NOT] IN "(" string ( "," string )* ")" )*
//   unary      := "+" unary | "-" unary | NOT unary | literal | property | "(" or ")"
//   literal    := 'string' ('' is a quote) | integer [lL] | float | TRUE | FALSE | NULL
//
// Keywords are case-insensitive; properties are [A-Za-z_$][A-Za-z0-9_$]*; "--" comments run to a line end,
// "/* */" comments anywhere. Like Apache's parser, the selector ends where the grammar can go no further:
// tokens after a complete expression are ignored ("a = 1 b" is "a = 1").
//
// Values are Java's: properties are strings (absent = null), integer literals Integer or Long, float literals
// Double. Comparisons convert a string to the other side's type (Integer.valueOf, Long.valueOf,
// Double.valueOf, Boolean.valueOf); "<", "<=", ">", ">=" between two strings compare them as doubles. Logic
// is three-valued (null = unknown); a message is delivered only when the selector is TRUE. What Java's
// evaluator throws on (a string that is not a number compared with a number, ...) is kError here and, as in
// RocketMQ, does not deliver the message.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/status.h"

namespace fmq::filter {

// Where a selector reads properties. Get returns nullopt for an absent property.
class PropertySource {
 public:
  virtual ~PropertySource() = default;
  virtual std::optional<std::string_view> Get(std::string_view name) const = 0;
};

enum class EvalResult { kTrue, kFalse, kNull, kError };
std::string_view EvalResultName(EvalResult r);  // "TRUE", "FALSE", "NULL", "ERROR"

namespace internal {
struct Node;
}

// A compiled selector. Immutable: Evaluate may run on any thread concurrently.
class Sql92Expression {
 public:
  // InvalidArgument when `sql` is not a selector. The message is the remark Apache's broker answers to
  // CHECK_CLIENT_CONFIG (the Java exception's toString), e.g.
  //   org.apache.rocketmq.filter.parser.ParseException: Encountered " <ID> "b "" at line 1, column 3. ...
  //   java.lang.RuntimeException: Value ''abc'' cannot be compared.
  // Nesting is bounded (kMaxDepth) where Java would overflow its stack.
  static Result<std::shared_ptr<const Sql92Expression>> Compile(std::string_view sql);
  static constexpr int kMaxDepth = 512;

  EvalResult Evaluate(const PropertySource& properties) const;
  bool Matches(const PropertySource& properties) const { return Evaluate(properties) == EvalResult::kTrue; }

  // The compiled tree as Java's toString prints it, e.g. "((price > 20) && (NOT (region == NULL)))".
  std::string ToString() const;

  ~Sql92Expression();
  Sql92Expression(const Sql92Expression&) = delete;
  Sql92Expression& operator=(const Sql92Expression&) = delete;

 private:
  Sql92Expression();
  friend class Parser;
  std::vector<internal::Node> nodes_;  // arena; children are indices into it
  int32_t root_ = -1;
};

}  // namespace fmq::filter
