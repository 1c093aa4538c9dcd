#!/usr/bin/env bash
# Apache RocketMQ's own SQL92 filter (rocketmq-filter 4.9.7, Sql92Golden in java/) answers every selector of
# broker/filter/testdata/sql92_cases.jsonl on its property sets; broker/filter/sql92_test.cc holds FerryMQ's
# filter to those answers (broker/filter/testdata/sql92_golden.jsonl).
#
#   tests/compat/run_sql92_golden.sh           rewrite the golden file (after adding cases)
#   tests/compat/run_sql92_golden.sh --check   fail when the committed golden file is not Java's answer
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
data="$COMPAT_DIR/../../broker/filter/testdata"
cp=$(compat_java_classpath)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
java -cp "$cp" io.ferrymq.compat.Sql92Golden <"$data/sql92_cases.jsonl" >"$out"
if [[ "${1:-}" == "--check" ]]; then
  if diff -u "$data/sql92_golden.jsonl" "$out"; then
    echo "[PASS] sql92 golden: $(wc -l <"$out") selectors answer as rocketmq-filter does"
  else
    echo "[FAIL] sql92 golden: broker/filter/testdata/sql92_golden.jsonl is not rocketmq-filter's answer"
    exit 1
  fi
else
  cp "$out" "$data/sql92_golden.jsonl"
  echo "wrote $data/sql92_golden.jsonl ($(wc -l <"$out") selectors)"
fi
