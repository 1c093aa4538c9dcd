#include "broker/filter/sql92.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fmq::filter {
namespace {

class MapSource : public PropertySource {
 public:
  explicit MapSource(std::map<std::string, std::string> m) : m_(std::move(m)) {}
  std::optional<std::string_view> Get(std::string_view name) const override {
    auto it = m_.find(std::string(name));
    if (it == m_.end()) return std::nullopt;
    return std::string_view(it->second);
  }

 private:
  std::map<std::string, std::string> m_;
};

EvalResult Eval(std::string_view sql, std::map<std::string, std::string> props) {
  auto e = Sql92Expression::Compile(sql);
  EXPECT_TRUE(e.ok()) << sql << ": " << e.status().ToString();
  if (!e.ok()) return EvalResult::kError;
  return (*e)->Evaluate(MapSource(std::move(props)));
}

std::string CompileError(std::string_view sql) {
  auto e = Sql92Expression::Compile(sql);
  EXPECT_FALSE(e.ok()) << sql << " compiled to " << (e.ok() ? (*e)->ToString() : "");
  return e.ok() ? "" : std::string(e.status().message());
}

// The class part of a Java exception's toString ("java.lang.RuntimeException: ...").
std::string JavaClass(const std::string& message) { return message.substr(0, message.find(':')); }

// Every selector of testdata/sql92_cases.jsonl gives the answer Apache RocketMQ 4.9.7's own filter gives
// (testdata/sql92_golden.jsonl, written by tests/compat/run_sql92_golden.sh from rocketmq-filter-4.9.7.jar):
// the same TRUE/FALSE/NULL/ERROR on each property set, or a compile error of the same Java class; the
// messages of semantic checks and the position of syntax errors are Java's too.
TEST(Sql92GoldenTest, AnswersAsRocketMqFilterDoes) {
  const std::string dir = FMQ_FILTER_TESTDATA;
  std::ifstream cases(dir + "/sql92_cases.jsonl");
  std::ifstream golden(dir + "/sql92_golden.jsonl");
  ASSERT_TRUE(cases && golden);
  std::string line;
  ASSERT_TRUE(std::getline(cases, line));
  std::vector<MapSource> sets;
  for (const auto& set : nlohmann::json::parse(line)) {
    sets.emplace_back(set.get<std::map<std::string, std::string>>());
  }
  int checked = 0, errors = 0;
  while (std::getline(golden, line)) {
    auto row = nlohmann::json::parse(line);
    const std::string sql = row["sql"];
    SCOPED_TRACE(sql);
    auto e = Sql92Expression::Compile(sql);
    if (row.contains("error")) {
      const std::string want = row["error"];
      ASSERT_FALSE(e.ok()) << "compiled to " << (*e)->ToString() << "; Java: " << want;
      const std::string got(e.status().message());
      EXPECT_EQ(JavaClass(got), JavaClass(want)) << got;
      if (JavaClass(want) == "org.apache.rocketmq.filter.parser.ParseException") {
        // Position and found token; the expected-token list is ours.
        EXPECT_EQ(got.substr(0, got.find('\n')), want.substr(0, want.find('\n')));
      } else if (JavaClass(want) != "org.apache.rocketmq.filter.parser.TokenMgrError") {
        EXPECT_EQ(got, want);
      }
      ++errors;
    } else {
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      const auto& results = row["results"];
      ASSERT_EQ(results.size(), sets.size());
      for (size_t i = 0; i < sets.size(); ++i) {
        EXPECT_EQ(EvalResultName((*e)->Evaluate(sets[i])), results[i].get<std::string>())
            << "property set " << i;
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, 190);
  EXPECT_GT(errors, 30);
}

TEST(Sql92Test, ComparesPropertiesAsNumbersAgainstNumericLiterals) {
  EXPECT_EQ(Eval("price > 20", {{"price", "30"}}), EvalResult::kTrue);
  EXPECT_EQ(Eval("price > 20", {{"price", "10"}}), EvalResult::kFalse);
  EXPECT_EQ(Eval("price > 20", {}), EvalResult::kNull);
  EXPECT_EQ(Eval("price > 20", {{"price", "20.5"}}), EvalResult::kError);  // Integer.valueOf("20.5")
  EXPECT_EQ(Eval("price > 20.0", {{"price", "20.5"}}), EvalResult::kTrue);
  EXPECT_EQ(Eval("price = 3000000000", {{"price", "3000000000"}}), EvalResult::kTrue);
}

TEST(Sql92Test, BetweenInAndNullTests) {
  const std::map<std::string, std::string> m{{"price", "30"}, {"regionId", "cn-hangzhou"}};
  EXPECT_EQ(Eval("(price BETWEEN 10 AND 100) AND regionId IS NOT NUll", m), EvalResult::kTrue);
  EXPECT_EQ(Eval("price NOT BETWEEN 10 AND 100", m), EvalResult::kFalse);
  EXPECT_EQ(Eval("regionId IN ('eu', 'cn-hangzhou')", m), EvalResult::kTrue);
  EXPECT_EQ(Eval("regionId NOT IN ('eu')", m), EvalResult::kTrue);
  EXPECT_EQ(Eval("product IS NULL", m), EvalResult::kTrue);
  EXPECT_EQ(Eval("product = 'MQ'", m), EvalResult::kNull);
}

TEST(Sql92Test, LogicIsThreeValuedAndShortCircuits) {
  EXPECT_EQ(Eval("x = 1 OR a = 1", {{"a", "1"}}), EvalResult::kTrue);
  EXPECT_EQ(Eval("x = 1 OR a = 2", {{"a", "1"}}), EvalResult::kNull);
  EXPECT_EQ(Eval("x = 1 AND a = 2", {{"a", "1"}}), EvalResult::kFalse);
  // An error on the left ends the evaluation, as the Java exception does; on the right it is not reached.
  EXPECT_EQ(Eval("a > 1 OR b = 1", {{"a", "x"}, {"b", "1"}}), EvalResult::kError);
  EXPECT_EQ(Eval("b = 1 OR a > 1", {{"a", "x"}, {"b", "1"}}), EvalResult::kTrue);
}

TEST(Sql92Test, RefusesWhatApacheRefusesWithItsMessages) {
  EXPECT_EQ(CompileError("a > 'x'"), "java.lang.RuntimeException: Value ''x'' cannot be compared.");
  EXPECT_EQ(CompileError("a = NULL"), "java.lang.RuntimeException: 'NULL' cannot be compared.");
  EXPECT_EQ(
      CompileError("price BETWEEN 100 AND 10"),
      "java.lang.RuntimeException: Illegal values of between, left value(100) must less than or equal to "
      "right value(10)");
  EXPECT_EQ(
      CompileError("5"),
      "org.apache.rocketmq.filter.parser.ParseException: Expression will not result in a boolean value: 5");
  const std::string unexpected = CompileError("a ==");
  EXPECT_EQ(
      unexpected.substr(0, unexpected.find('\n')),
      "org.apache.rocketmq.filter.parser.ParseException: Encountered \" \"=\" \"= \"\" at line 1, column 4.");
  EXPECT_EQ(JavaClass(CompileError("a != 1")), "org.apache.rocketmq.filter.parser.TokenMgrError");
  EXPECT_EQ(JavaClass(CompileError("")), "org.apache.rocketmq.filter.parser.ParseException");
}

TEST(Sql92Test, ToStringIsJavas) {
  auto e = Sql92Expression::Compile("(price BETWEEN 10 AND 100) AND regionId IS NOT NULL OR s IN ('a','b')");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->ToString(),
            "((((price >= 10) && (price <= 100)) && (NOT (regionId == NULL))) || s IN ( a, b ))");
  e = Sql92Expression::Compile("d > 2.5 AND e < 1.0E10 AND f > -0.001");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->ToString(), "(((d > 2.5) && (e < 1.0E10)) && (f > (- 0.001)))");
}

TEST(Sql92Test, BoundsNesting) {
  std::string deep(Sql92Expression::kMaxDepth + 10, '(');
  deep += "a = 1";
  deep += std::string(Sql92Expression::kMaxDepth + 10, ')');
  EXPECT_NE(CompileError(deep).find("nested deeper than"), std::string::npos);
  std::string chain = "a = 1";
  for (int i = 0; i < Sql92Expression::kMaxDepth + 10; ++i) chain += " AND a = 1";
  EXPECT_NE(CompileError(chain).find("nested deeper than"), std::string::npos);
  std::string minus(Sql92Expression::kMaxDepth + 10, '-');
  EXPECT_FALSE(Sql92Expression::Compile(minus + "1 = a").ok());
  // Well within the bound is fine.
  std::string ok = "a = 1";
  for (int i = 0; i < 100; ++i) ok = "(" + ok + ") AND a = 1";
  EXPECT_EQ(Eval(ok, {{"a", "1"}}), EvalResult::kTrue);
}

TEST(Sql92Test, RandomInputNeverCrashes) {
  const std::string alphabet = "ab1 2.5e'()=<>-+,NOTANDORISNULLBETWEENINtruefalse$_*/\n\t!\"";
  std::mt19937 rng(42);
  MapSource props({{"a", "1"}, {"b", "x"}});
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    size_t len = rng() % 40;
    for (size_t k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
    auto e = Sql92Expression::Compile(s);
    if (e.ok()) (void)(*e)->Evaluate(props);
  }
}

}  // namespace
}  // namespace fmq::filter
