package io.ferrymq.compat;

import com.alibaba.fastjson.JSON;
import com.alibaba.fastjson.JSONArray;
import com.alibaba.fastjson.JSONObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.filter.FilterFactory;
import org.apache.rocketmq.filter.expression.EvaluationContext;
import org.apache.rocketmq.filter.expression.Expression;

/**
 * Golden answers of Apache RocketMQ's own SQL92 filter for FerryMQ's filter tests.
 *
 * Reads broker/filter/testdata/sql92_cases.jsonl on stdin (line 1: a JSON array of property sets; then one JSON
 * string per line: a selector) and writes, per selector, one JSON line: {"sql":...,"error":<the remark Apache's
 * broker answers to CHECK_CLIENT_CONFIG>} when it does not compile, else {"sql":...,"results":[...]} with
 * TRUE / FALSE / NULL / ERROR per property set, exactly as the broker's ExpressionMessageFilter sees the
 * evaluation (ERROR: it threw; the message is not delivered).
 */
public final class Sql92Golden {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, true, "UTF-8");
    JSONArray setsJson = JSON.parseArray(in.readLine());
    List<Map<String, String>> sets = new ArrayList<>();
    for (int i = 0; i < setsJson.size(); i++) {
      Map<String, String> m = new HashMap<>();
      JSONObject o = setsJson.getJSONObject(i);
      for (String k : o.keySet()) m.put(k, o.getString(k));
      sets.add(m);
    }
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isEmpty()) continue;
      String sql = JSON.parseObject(line, String.class);
      JSONObject row = new JSONObject(true);
      row.put("sql", sql);
      Expression expr;
      try {
        expr = FilterFactory.INSTANCE.get("SQL92").compile(sql);
      } catch (Exception e) {
        row.put("error", e.getMessage());  // what ClientManageProcessor.checkClientConfig answers
        out.println(row.toJSONString());
        continue;
      }
      JSONArray results = new JSONArray();
      for (Map<String, String> props : sets) {
        Object r;
        try {
          r = expr.evaluate(new EvaluationContext() {
            @Override public Object get(String name) { return props.get(name); }
            @Override public Map<String, Object> keyValues() { return new HashMap<>(props); }
          });
        } catch (Throwable t) {
          results.add("ERROR");
          continue;
        }
        results.add(r == null ? "NULL" : r instanceof Boolean ? ((Boolean) r ? "TRUE" : "FALSE") : "ERROR");
      }
      row.put("results", results);
      out.println(row.toJSONString());
    }
  }
}
