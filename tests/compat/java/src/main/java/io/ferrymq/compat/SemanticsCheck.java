package io.ferrymq.compat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.MessageSelector;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageClientExt;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.filter.FilterFactory;
import org.apache.rocketmq.filter.expression.EvaluationContext;
import org.apache.rocketmq.filter.expression.Expression;

/**
 * RocketMQ message semantics with the real Java client 4.9.7: retry and dead letters, ordered retry, delay levels.
 * The broker must run with the delay table {@link #LEVELS} (run_semantics.sh writes it), so the checks take seconds.
 *
 * <p>Modes:
 * <ul>
 *   <li>{@code retry <namesrv> <prefix>}: (1) a concurrent push consumer with maxReconsumeTimes 3 fails one
 *       message every time: it must be redelivered with reconsume times 1, 2, 3, each a new commit-log record
 *       (a new offset message id, same message id), each stored no earlier than its level's delay (3 + times - 1)
 *       after the previous delivery, then land in %DLQ%group once with reconsume times 4 and ORIGIN_MESSAGE_ID.
 *       (2) An orderly consumer with maxReconsumeTimes 2 suspends one message every time: 3 local deliveries,
 *       then the client's send-back puts it in %DLQ%group, and the queue moves on to the next message.
 *       (3) Delay levels 1..5 and 99 (clamped to the last): each message is delivered to its real topic no
 *       earlier than due and within 1.5 s after, carrying its (clamped) level in DELAY as Apache's do.
 *   <li>{@code sql92 <namesrv> <prefix>}: 60 messages with user properties price and regionId (some absent); a
 *       push consumer per SQL92 selector receives exactly the messages Apache's own evaluator (rocketmq-filter)
 *       accepts, nothing else; a selector the broker cannot compile makes the consumer's start() fail with
 *       SUBSCRIPTION_PARSE_FAILED (23) and the parser's message.
 *   <li>{@code reset-send <namesrv> <topic> <label> <count> <keysFile>}: sends messages, writes their keys (one per line);
 *       the first line of the file after all is the time just before the first send (for resets by time).
 *   <li>{@code reset-consume <namesrv> <topic> <group> <keysFile>}: a push consumer of the group (from its stored
 *       offsets) receives exactly the keys of the file, once each, and nothing else.
 *   <li>{@code reset-online <namesrv> <topic> <group> <allKeysFile> <redeliveredKeysFile>}: a consumer of the group
 *       consumes every key of allKeysFile, writes {@code <allKeysFile>.ready}, keeps running while mqadmin resets
 *       the group, and then receives exactly the keys of redeliveredKeysFile a second time.
 *   <li>{@code limits <namesrv> <prefix>}: bodies the client compresses (above 4 KiB) are stored compressed and
 *       consumed intact, a 6 MiB compressible body is accepted (the limit applies to what is stored), a 6 MiB
 *       incompressible one is refused with MESSAGE_ILLEGAL and Apache's remark, and nothing of it is stored.
 *   <li>{@code trace <namesrv> <prefix> <idsFile>}: a producer and a consumer with enableMsgTrace send and consume
 *       5 messages; their trace records reach the trace topic; the message ids are written for mqadmin
 *       queryMsgTraceById and ferryctl message trace.
 *   <li>{@code timers <namesrv> <prefix>}: 40 timer messages at arbitrary times 1-7 s ahead (TIMER_DELIVER_MS,
 *       TIMER_DELAY_MS and TIMER_DELAY_SEC, set with putUserProperty as 4.x clients can), each delivered no
 *       earlier than asked and within 1.5 s after; a time in the past delivered at once; a malformed time and one
 *       beyond timerMaxDelaySec refused with MESSAGE_ILLEGAL and nothing stored.
 *   <li>{@code send-timers <namesrv> <topic> <delayMs> <count> <keysFile>}: timer messages TIMER_DELAY_MS ahead,
 *       their keys written for {@code verify-delayed}.
 *   <li>{@code tx <namesrv> <prefix>}: transactions (the broker runs with transactionCheckInterval and
 *       transactionTimeOut of 1 s and transactionCheckMax 5): committed ones are delivered once, rolled-back ones
 *       never, ones whose local answer is UNKNOW (the commit is lost) are checked back and delivered once, ones
 *       that stay unknown are discarded to TRANS_CHECK_MAX_TIME_TOPIC; a 4,000,000-byte transactional message.
 *   <li>{@code tx-restart <namesrv> <dir>}: 20 transactions whose local answer is UNKNOW; writes {@code <dir>/tx-sent}
 *       and answers checks with UNKNOW until {@code <dir>/tx-restarted} exists (the script restarts the broker in
 *       between), then with COMMIT: every one must be delivered once, from half messages that survived the
 *       restart.
 *   <li>{@code send-delayed <namesrv> <topic> <level> <count> <keysFile>}: sends delayed messages and writes the
 *       acknowledged keys, one per line.
 *   <li>{@code verify-delayed <namesrv> <topic> <delayMs> <keysFile> <allowDuplicates>}: a new group reads the topic
 *       from the start: every key arrives, none early, nothing unexpected; duplicates fail unless allowed.
 * </ul>
 *
 * <p>Output: {@code [PASS]}/{@code [FAIL]} lines, then {@code RESULT: PASS|FAIL}; exit 0 only when all passed.
 */
public final class SemanticsCheck {
  /** messageDelayLevel of the broker under test: level 3 = 1 s, 4 = 2 s, 5 = 3 s, the rest 1-2 s. */
  static final String LEVELS = "1s 2s 1s 2s 3s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 2s";
  private static final long[] DELAY_MS = parseLevels(LEVELS);
  private static final long LATE_MS = 1500; // delivered at most this long after due
  private static final long TIMEOUT_MS = Long.getLong("compat.phaseTimeoutSec", 120) * 1000L;

  private final String namesrv;
  private final long start = System.nanoTime();
  private final List<Runnable> closers = new ArrayList<>();
  private int passed;
  private final List<String> failures = new ArrayList<>();

  private SemanticsCheck(String namesrv) {
    this.namesrv = namesrv;
  }

  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println("usage: SemanticsCheck retry|send-delayed|verify-delayed <namesrv> ...");
      System.exit(2);
    }
    SemanticsCheck c = new SemanticsCheck(args[1]);
    try {
      switch (args[0]) {
        case "retry":
          c.retry(args[2] + "_" + System.currentTimeMillis());
          break;
        case "sql92":
          c.sql92(args[2] + "_" + System.currentTimeMillis());
          break;
        case "reset-send":
          c.resetSend(args[2], args[3], Integer.parseInt(args[4]), args[5]);
          break;
        case "reset-consume":
          c.resetConsume(args[2], args[3], args[4], args[5]);
          break;
        case "reset-online":
          c.resetOnline(args[2], args[3], args[4], args[5], args[6]);
          break;
        case "tx":
          c.transactions(args[2] + "_" + System.currentTimeMillis());
          break;
        case "tx-restart":
          c.transactionsAcrossRestart(args[2], args[3]);
          break;
        case "send-delayed":
          c.sendDelayed(args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]), args[5]);
          break;
        case "limits":
          c.limits(args[2] + "_" + System.currentTimeMillis());
          break;
        case "trace":
          c.trace(args[2] + "_" + System.currentTimeMillis(), args[3]);
          break;
        case "timers":
          c.timers(args[2] + "_" + System.currentTimeMillis());
          break;
        case "send-timers":
          c.sendTimers(args[2], Long.parseLong(args[3]), Integer.parseInt(args[4]), args[5]);
          break;
        case "verify-delayed":
          c.verifyDelayed(args[2], Long.parseLong(args[3]), args[4], Boolean.parseBoolean(args[5]));
          break;
        case "dead-letters":
          c.deadLetters(args[2], args[3], Integer.parseInt(args[4]));
          break;
        default:
          System.err.println("unknown mode " + args[0]);
          System.exit(2);
      }
    } catch (Throwable t) {
      c.check(false, "run", "aborted by " + t);
      t.printStackTrace(System.out);
    } finally {
      Collections.reverse(c.closers);
      for (Runnable r : c.closers) {
        try {
          r.run();
        } catch (Throwable ignored) {
          // already stopped
        }
      }
    }
    boolean ok = c.failures.isEmpty() && c.passed > 0;
    System.out.printf("SemanticsCheck: %d passed, %d failed%nRESULT: %s%n", c.passed, c.failures.size(),
        ok ? "PASS" : "FAIL");
    System.exit(ok ? 0 : 1);
  }

  // ------------------------------------------------------------------ SQL92 property filters

  private void sql92(String run) throws Exception {
    String topic = run + "_sql";
    String[] selectors = {
      "price >= 20 AND regionId = 'eu'",
      "(price BETWEEN 10 AND 19) OR regionId IS NULL",
      "regionId IN ('us') AND NOT (price < 30)",
      "price > 50.5 OR TAGS = 'TagB'",
      "TRUE",
    };
    DefaultMQProducer producer = producer(run);
    Map<String, Map<String, String>> sent = new HashMap<>();  // key -> properties
    for (int i = 0; i < 60; i++) {
      Message m = new Message(topic, i % 7 == 0 ? "TagB" : "TagA", ("sql-" + i).getBytes(StandardCharsets.UTF_8));
      String key = run + "-" + i;
      m.setKeys(key);
      if (i % 10 != 9) m.putUserProperty("price", String.valueOf(i));
      if (i % 4 != 3) m.putUserProperty("regionId", i % 2 == 0 ? "eu" : "us");
      SendResult r = producer.send(m);
      if (r.getSendStatus() != SendStatus.SEND_OK) throw new IllegalStateException("send " + i + ": " + r);
      sent.put(key, m.getProperties());
    }
    for (int s = 0; s < selectors.length; s++) {
      String selector = selectors[s];
      Expression apache = FilterFactory.INSTANCE.get("SQL92").compile(selector);
      Set<String> want = new TreeSet<>();
      for (Map.Entry<String, Map<String, String>> e : sent.entrySet()) {
        Object r;
        try {
          r = apache.evaluate(context(e.getValue()));
        } catch (Exception ex) {
          r = null;
        }
        if (Boolean.TRUE.equals(r)) want.add(e.getKey());
      }
      Set<String> got = Collections.synchronizedSet(new TreeSet<>());
      List<String> dup = new CopyOnWriteArrayList<>();
      DefaultMQPushConsumer c = new DefaultMQPushConsumer(run + "_sg" + s);
      c.setNamesrvAddr(namesrv);
      c.setInstanceName("sem-" + System.nanoTime());
      c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
      c.subscribe(topic, MessageSelector.bySql(selector));
      c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
        for (MessageExt m : msgs) {
          if (!got.add(m.getKeys())) dup.add(m.getKeys());
        }
        return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
      });
      c.start();
      closers.add(c::shutdown);
      waitFor(() -> got.containsAll(want), "selector " + selector + " delivers " + want.size());
      Thread.sleep(1500);  // anything extra would have arrived with the rest
      Set<String> extra = new TreeSet<>(got);
      extra.removeAll(want);
      Set<String> missing = new TreeSet<>(want);
      missing.removeAll(got);
      check(extra.isEmpty() && missing.isEmpty() && dup.isEmpty() && !want.isEmpty(), "sql92 " + selector,
          String.format("expected %d (rocketmq-filter's answer), got %d, extra %s, missing %s, duplicates %s",
              want.size(), got.size(), extra, missing, dup));
      c.shutdown();
    }
    // A selector the broker cannot compile: start() fails with the broker's answer.
    DefaultMQPushConsumer bad = new DefaultMQPushConsumer(run + "_sgbad");
    bad.setNamesrvAddr(namesrv);
    bad.setInstanceName("sem-" + System.nanoTime());
    bad.subscribe(topic, MessageSelector.bySql("price > 'x'"));
    bad.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> ConsumeConcurrentlyStatus.CONSUME_SUCCESS);
    String outcome;
    int code = -1;
    try {
      bad.start();
      outcome = "started";
    } catch (MQClientException e) {
      code = e.getResponseCode();
      outcome = e.getErrorMessage();
    } finally {
      bad.shutdown();
    }
    check(code == 23 && outcome != null && outcome.contains("cannot be compared"), "sql92 invalid selector refused",
        "code " + code + ": " + outcome);
  }

  private static EvaluationContext context(Map<String, String> props) {
    return new EvaluationContext() {
      @Override
      public Object get(String name) {
        return props.get(name);
      }

      @Override
      public Map<String, Object> keyValues() {
        return new HashMap<>(props);
      }
    };
  }

  // ------------------------------------------------------------------ compression and limits

  private void limits(String run) throws Exception {
    String topic = run + "_limits";
    DefaultMQProducer producer = producer(run + "_limits");
    producer.setMaxMessageSize(8 * 1024 * 1024);  // let the broker's limit decide
    byte[] text = new byte[1 << 20];
    for (int i = 0; i < text.length; i++) text[i] = (byte) ('a' + (i * 7 + i / 1000) % 26);
    byte[] bigText = new byte[6 << 20];
    for (int i = 0; i < bigText.length; i++) bigText[i] = (byte) ('a' + i % 26);
    byte[] noise = new byte[6 << 20];
    new java.util.Random(3).nextBytes(noise);
    Map<String, byte[]> sent = new HashMap<>();
    sent.put(run + "-1mib", text);
    sent.put(run + "-small", "plain".getBytes(StandardCharsets.UTF_8));
    sent.put(run + "-6mib-compressible", bigText);
    for (Map.Entry<String, byte[]> e : sent.entrySet()) {
      SendResult r = producer.send(new Message(topic, "", e.getKey(), e.getValue()));
      check(r.getSendStatus() == SendStatus.SEND_OK, "limits: send " + e.getKey().substring(run.length() + 1),
          r.getSendStatus() + " " + e.getValue().length + " bytes");
    }
    int code = -1;
    String remark = "";
    try {
      producer.send(new Message(topic, "", run + "-noise", noise));
    } catch (org.apache.rocketmq.client.exception.MQBrokerException e) {
      code = e.getResponseCode();
      remark = e.getErrorMessage();
    }
    check(code == 13 && remark.startsWith("the message is illegal") && remark.contains("maxMessageSize"),
        "limits: 6 MiB incompressible body refused", "code " + code + ": " + remark);
    Map<String, MessageExt> got = new ConcurrentHashMap<>();
    for (MessageExt m : readAll(topic, 3, TIMEOUT_MS)) got.put(m.getKeys(), m);
    boolean intact = true;
    StringBuilder detail = new StringBuilder();
    for (Map.Entry<String, byte[]> e : sent.entrySet()) {
      MessageExt m = got.get(e.getKey());
      boolean same = m != null && java.util.Arrays.equals(m.getBody(), e.getValue());
      boolean compressed = m != null && (m.getSysFlag() & 0x1) != 0;
      boolean wantCompressed = e.getValue().length > 4096;
      intact &= same && compressed == wantCompressed;
      detail.append(e.getKey().substring(run.length() + 1)).append(same ? " intact" : " CHANGED")
          .append(compressed ? " (stored compressed, " + m.getStoreSize() + " bytes)" : " (stored as is)").append("; ");
    }
    check(intact && !got.containsKey(run + "-noise") && got.size() == 3, "limits: compressed bodies delivered as sent",
        detail + "refused one stored: " + got.containsKey(run + "-noise"));
  }

  // ------------------------------------------------------------------ message trace

  private void trace(String run, String idsFile) throws Exception {
    String topic = run + "_trace";
    DefaultMQProducer producer = new DefaultMQProducer(run + "_tp", true);  // enableMsgTrace
    producer.setNamesrvAddr(namesrv);
    producer.setInstanceName("sem-" + System.nanoTime());
    producer.start();
    closers.add(producer::shutdown);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      SendResult r = producer.send(new Message(topic, "TagT", run + "-k" + i, ("trace-" + i).getBytes(StandardCharsets.UTF_8)));
      if (r.getSendStatus() == SendStatus.SEND_OK) ids.add(r.getMsgId());
    }
    Map<String, Integer> seen = new ConcurrentHashMap<>();
    DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(run + "_tc", true);  // enableMsgTrace
    consumer.setNamesrvAddr(namesrv);
    consumer.setInstanceName("sem-" + System.nanoTime());
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) seen.merge(m.getMsgId(), 1, Integer::sum);
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    closers.add(consumer::shutdown);
    waitFor(() -> seen.keySet().containsAll(ids), "5 traced messages");
    Thread.sleep(3000);  // the trace dispatchers send their batches
    consumer.shutdown();
    producer.shutdown();  // flushes what is left
    Files.write(Paths.get(idsFile), ids, StandardCharsets.UTF_8);
    check(ids.size() == 5 && seen.keySet().containsAll(ids), "trace: send and consume with enableMsgTrace",
        ids.size() + " sent, " + seen.size() + " consumed");
  }

  // ------------------------------------------------------------------ timer messages

  private void timers(String run) throws Exception {
    String topic = run + "_timer";
    DefaultMQProducer producer = producer(run + "_timer");
    java.util.Random rnd = new java.util.Random(7);
    Map<String, Long> dueAt = new ConcurrentHashMap<>();
    Map<String, Long> arrived = new ConcurrentHashMap<>();
    Map<String, Integer> count = new ConcurrentHashMap<>();
    DefaultMQPushConsumer consumer = pushConsumer(run + "_tg", topic);
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      long now = System.currentTimeMillis();
      for (MessageExt m : msgs) {
        arrived.putIfAbsent(m.getKeys(), now);
        count.merge(m.getKeys(), 1, Integer::sum);
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    // The topic must exist before the consumer subscribes to its route.
    producer.send(new Message(topic, "", "warmup", new byte[] {1}));
    consumer.start();
    closers.add(consumer::shutdown);
    for (int i = 0; i < 40; i++) {
      String key = run + "-t" + i;
      Message m = new Message(topic, "", key, key.getBytes(StandardCharsets.UTF_8));
      long ahead = 1000 + rnd.nextInt(6000);
      long due;
      if (i % 3 == 0) {
        due = System.currentTimeMillis() + ahead;
        m.putUserProperty("TIMER_DELIVER_MS", Long.toString(due));
      } else if (i % 3 == 1) {
        due = System.currentTimeMillis() + ahead;
        m.putUserProperty("TIMER_DELAY_MS", Long.toString(ahead));
      } else {
        ahead = 1000 * (1 + rnd.nextInt(6));
        due = System.currentTimeMillis() + ahead;
        m.putUserProperty("TIMER_DELAY_SEC", Long.toString(ahead / 1000));
      }
      SendResult r = producer.send(m);
      if (r.getSendStatus() == SendStatus.SEND_OK) dueAt.put(key, due);
    }
    String pastKey = run + "-past";
    Message past = new Message(topic, "", pastKey, pastKey.getBytes(StandardCharsets.UTF_8));
    past.putUserProperty("TIMER_DELIVER_MS", Long.toString(System.currentTimeMillis() - 60_000));
    long pastSent = System.currentTimeMillis();
    producer.send(past);
    check(dueAt.size() == 40, "timer: sends", dueAt.size() + " of 40 acknowledged");
    waitFor(() -> count.keySet().containsAll(dueAt.keySet()) && count.containsKey(pastKey), "41 timer messages");
    Thread.sleep(1500);
    List<String> early = new ArrayList<>();
    List<String> late = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    int duplicated = 0;
    long worst = Long.MIN_VALUE;
    for (Map.Entry<String, Long> e : dueAt.entrySet()) {
      Long at = arrived.get(e.getKey());
      if (at == null) {
        missing.add(e.getKey());
        continue;
      }
      duplicated += count.get(e.getKey()) - 1;
      long d = at - e.getValue();
      worst = Math.max(worst, d);
      // The client's clock is the broker's here (one machine); 50 ms for the send's own latency.
      if (d < -50) early.add(e.getKey() + " " + d + " ms");
      if (d > LATE_MS) late.add(e.getKey() + " +" + d + " ms");
    }
    check(missing.isEmpty() && early.isEmpty() && late.isEmpty() && duplicated == 0, "timer: arbitrary times",
        String.format("40 timers: missing %d, early %s, late %s, duplicated %d; latest delivery +%d ms after due",
            missing.size(), early, late, duplicated, worst));
    Long pastAt = arrived.get(pastKey);
    check(pastAt != null && pastAt - pastSent < 1000, "timer: a time in the past is delivered at once",
        pastAt == null ? "never delivered" : "after " + (pastAt - pastSent) + " ms");
    // Bad input: refused, nothing stored.
    int illegal = 0;
    for (String[] bad : new String[][] {{"TIMER_DELIVER_MS", "tomorrow"}, {"TIMER_DELAY_SEC", "999999999"}}) {
      Message m = new Message(topic, "", run + "-bad", new byte[] {1});
      m.putUserProperty(bad[0], bad[1]);
      try {
        producer.send(m);
      } catch (org.apache.rocketmq.client.exception.MQBrokerException e) {
        if (e.getResponseCode() == 13) illegal++;
        log("refused %s=%s: %s", bad[0], bad[1], e.getErrorMessage());
      }
    }
    Thread.sleep(1000);
    check(illegal == 2 && !count.containsKey(run + "-bad"), "timer: bad times refused",
        illegal + " of 2 answered MESSAGE_ILLEGAL (13), stored: " + count.containsKey(run + "-bad"));
  }

  private void sendTimers(String topic, long delayMs, int count, String keysFile) throws Exception {
    DefaultMQProducer producer = producer(topic);
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String key = topic + "-" + i;
      Message m = new Message(topic, "", key, key.getBytes(StandardCharsets.UTF_8));
      m.putUserProperty("TIMER_DELAY_MS", Long.toString(delayMs));
      SendResult r = producer.send(m);
      if (r.getSendStatus() == SendStatus.SEND_OK) {
        keys.add(key);
      }
    }
    Files.write(Paths.get(keysFile), keys, StandardCharsets.UTF_8);
    check(keys.size() == count, "send-timers", keys.size() + " of " + count + " acknowledged " + delayMs + " ms ahead");
  }

  // ------------------------------------------------------------------ reset offset (mqadmin drives it)

  private void resetSend(String topic, String label, int count, String keysFile) throws Exception {
    DefaultMQProducer producer = producer(topic);
    List<String> lines = new ArrayList<>();
    // Stored strictly after the time written first: wait for the clock to move past it.
    long before = System.currentTimeMillis();
    while (System.currentTimeMillis() <= before) {
      Thread.sleep(1);
    }
    lines.add(Long.toString(before + 1));
    int ok = 0;
    for (int i = 0; i < count; i++) {
      String key = topic + "-" + label + "-" + i;
      SendResult r = producer.send(new Message(topic, "", key, key.getBytes(StandardCharsets.UTF_8)));
      if (r.getSendStatus() == SendStatus.SEND_OK) {
        lines.add(key);
        ok++;
      }
    }
    // The next batch's time must be after this one's messages.
    long last = System.currentTimeMillis();
    while (System.currentTimeMillis() <= last) {
      Thread.sleep(1);
    }
    Files.write(Paths.get(keysFile), lines, StandardCharsets.UTF_8);
    check(ok == count, "reset: send " + label, ok + " of " + count + " acknowledged");
  }

  private void resetConsume(String topic, String group, String keysFile, String label) throws Exception {
    List<String> want = readKeys(keysFile);
    want.remove(0);  // the time line
    Map<String, Integer> count = new ConcurrentHashMap<>();
    DefaultMQPushConsumer consumer = countingConsumer(group, topic, count);
    waitFor(() -> count.keySet().containsAll(want), want.size() + " messages of " + group);
    Thread.sleep(3000);  // anything unexpected arrives with the rest
    consumer.shutdown();  // persists the offsets
    reportExactly(label, want, count);
  }

  private void resetOnline(String topic, String group, String allKeysFile, String againKeysFile, String label)
      throws Exception {
    List<String> all = readKeys(allKeysFile);
    all.remove(0);
    Map<String, Integer> count = new ConcurrentHashMap<>();
    DefaultMQPushConsumer consumer = countingConsumer(group, topic, count);
    waitFor(() -> count.keySet().containsAll(all), all.size() + " messages before the reset");
    Thread.sleep(6000);  // the consumer commits its offsets (every 5 s) before the reset
    Map<String, Integer> before = new HashMap<>(count);
    Files.write(Paths.get(allKeysFile + ".ready"), new byte[0]);
    waitFor(() -> Files.exists(Paths.get(againKeysFile)), "the reset");
    List<String> again = readKeys(againKeysFile);
    waitFor(() -> again.stream().allMatch(k -> count.getOrDefault(k, 0) > before.getOrDefault(k, 0)),
        again.size() + " messages redelivered after the reset");
    Thread.sleep(3000);
    Map<String, Integer> after = new HashMap<>();
    for (Map.Entry<String, Integer> e : count.entrySet()) {
      int n = e.getValue() - before.getOrDefault(e.getKey(), 0);
      if (n > 0) {
        after.put(e.getKey(), n);
      }
    }
    boolean once = before.values().stream().allMatch(n -> n == 1) && before.size() == all.size();
    check(once, "reset: " + label + " consumed once before", before.size() + " of " + all.size());
    reportExactly(label, again, after);
  }

  /** A started push consumer of the group that counts deliveries per key into `count`. */
  private DefaultMQPushConsumer countingConsumer(String group, String topic, Map<String, Integer> count)
      throws Exception {
    DefaultMQPushConsumer consumer = pushConsumer(group, topic);
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        count.merge(m.getKeys(), 1, Integer::sum);
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    closers.add(consumer::shutdown);
    return consumer;
  }

  private void reportExactly(String label, List<String> want, Map<String, Integer> count) {
    List<String> missing = new ArrayList<>();
    int duplicated = 0;
    for (String k : want) {
      if (!count.containsKey(k)) {
        missing.add(k);
      } else {
        duplicated += count.get(k) - 1;
      }
    }
    List<String> unexpected = new ArrayList<>(count.keySet());
    unexpected.removeAll(want);
    Collections.sort(unexpected);
    check(missing.isEmpty() && unexpected.isEmpty() && duplicated == 0 && !want.isEmpty(), "reset: " + label,
        String.format("expected %d, missing %d, unexpected %d %s, duplicated %d", want.size(), missing.size(),
            unexpected.size(), unexpected.subList(0, Math.min(5, unexpected.size())), duplicated));
  }

  // ------------------------------------------------------------------ retry, ordered retry, delay levels

  private void retry(String run) throws Exception {
    DefaultMQProducer producer = producer(run);
    retryToDlq(producer, run + "_retry", run + "_cg");
    orderlyToDlq(producer, run + "_order", run + "_og");
    delayLevels(producer, run + "_delay", run + "_dg");
  }

  /**
   * {@code dead-letters <namesrv> <topic> <group> <count>}: sends {@code count} messages to {@code topic}; a push
   * consumer of {@code group} with maxReconsumeTimes 1 fails every delivery, so each message is delivered twice
   * (the second time from %RETRY%group) and then lands in %DLQ%group. Passes when all {@code count} are there.
   */
  private void deadLetters(String topic, String group, int count) throws Exception {
    log("== dead letters: topic %s group %s, %d messages", topic, group, count);
    DefaultMQProducer producer = producer(group);
    DefaultMQPushConsumer consumer = pushConsumer(group, topic);
    consumer.setMaxReconsumeTimes(1);
    AtomicInteger deliveries = new AtomicInteger();
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      deliveries.addAndGet(msgs.size());
      return ConsumeConcurrentlyStatus.RECONSUME_LATER;
    });
    consumer.start();
    closers.add(consumer::shutdown);
    for (int i = 0; i < count; i++) {
      SendResult sent =
          producer.send(new Message(topic, "", "dead-" + i, ("dead " + i).getBytes(StandardCharsets.UTF_8)));
      check(sent.getSendStatus() == SendStatus.SEND_OK, "dead letters: send " + i, sent.toString());
    }
    // Distinct keys: the lite pull reader may hand a message twice when its first pull races the seek (the broker's
    // own count of dead letters is what run_prometheus_check.sh then compares).
    Set<String> keys = new TreeSet<>();
    long deadline = System.currentTimeMillis() + 90_000;
    int read = 0;
    while (keys.size() < count && System.currentTimeMillis() < deadline) {
      List<MessageExt> dlq = readAll("%DLQ%" + group, count, 30_000);
      read = dlq.size();
      for (MessageExt m : dlq) {
        if (m.getKeys() != null && m.getKeys().startsWith("dead-")) keys.add(m.getKeys());
      }
    }
    check(keys.size() == count, "dead letters: all in %DLQ%" + group,
        keys.size() + " of " + count + " distinct (" + read + " read) after " + deliveries.get() + " failed deliveries");
    consumer.shutdown();
  }

  /** One delivery seen by a consumer. */
  private static final class Delivery {
    final int reconsumeTimes;
    final long storeTimestamp;
    final String offsetMsgId;
    final String msgId;
    final String topic;
    final long returnedAt;

    Delivery(MessageExt m, long returnedAt) {
      this.reconsumeTimes = m.getReconsumeTimes();
      this.storeTimestamp = m.getStoreTimestamp();
      this.offsetMsgId = m instanceof MessageClientExt ? ((MessageClientExt) m).getOffsetMsgId() : m.getMsgId();
      this.msgId = m.getMsgId();
      this.topic = m.getTopic();
      this.returnedAt = returnedAt;
    }

    @Override
    public String toString() {
      return "times=" + reconsumeTimes + " stored=" + storeTimestamp + " offsetMsgId=" + offsetMsgId;
    }
  }

  private void retryToDlq(DefaultMQProducer producer, String topic, String group) throws Exception {
    log("== retry to DLQ: topic %s group %s", topic, group);
    List<Delivery> deliveries = new CopyOnWriteArrayList<>();
    DefaultMQPushConsumer consumer = pushConsumer(group, topic);
    consumer.setMaxReconsumeTimes(3);
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        if ("fail-me".equals(m.getKeys())) {
          deliveries.add(new Delivery(m, System.currentTimeMillis()));
        }
      }
      return ConsumeConcurrentlyStatus.RECONSUME_LATER;
    });
    consumer.start();
    closers.add(consumer::shutdown);
    SendResult sent = producer.send(new Message(topic, "", "fail-me", "retry me".getBytes(StandardCharsets.UTF_8)));
    check(sent.getSendStatus() == SendStatus.SEND_OK, "retry: send", sent.toString());
    String firstOffsetId = sent.getOffsetMsgId();
    waitFor(() -> deliveries.size() >= 4, "4 deliveries");
    Thread.sleep(2500); // a fifth delivery would have come by now
    List<Delivery> d = new ArrayList<>(deliveries);
    StringBuilder timeline = new StringBuilder();
    boolean ok = d.size() == 4;
    for (int i = 0; i < d.size(); i++) {
      Delivery x = d.get(i);
      ok &= x.reconsumeTimes == i && x.topic.equals(topic) && x.msgId.equals(sent.getMsgId());
      if (i > 0) {
        long delay = DELAY_MS[3 + (i - 1) - 1];
        long gap = x.storeTimestamp - d.get(i - 1).returnedAt;
        ok &= !x.offsetMsgId.equals(d.get(i - 1).offsetMsgId);
        ok &= gap >= delay - 50 && gap <= delay + LATE_MS;
        timeline.append(String.format(" #%d after %d ms (level %d = %d ms)", i, gap, 3 + i - 1, delay));
      }
    }
    check(ok, "retry: redeliveries", d.size() + " deliveries, reconsume times " + times(d) + ";" + timeline);
    List<MessageExt> dlq = readAll("%DLQ%" + group, 1, 60_000);
    boolean dlqOk = dlq.size() == 1 && dlq.get(0).getReconsumeTimes() == 4
        && firstOffsetId.equals(dlq.get(0).getProperty("ORIGIN_MESSAGE_ID"))
        && topic.equals(dlq.get(0).getProperty("RETRY_TOPIC")) && "fail-me".equals(dlq.get(0).getKeys());
    check(dlqOk, "retry: dead-letter queue", dlq.isEmpty() ? "nothing in %DLQ%" + group
        : dlq.size() + " message(s); reconsumeTimes=" + dlq.get(0).getReconsumeTimes() + " ORIGIN_MESSAGE_ID="
        + dlq.get(0).getProperty("ORIGIN_MESSAGE_ID") + " (first store " + firstOffsetId + ") RETRY_TOPIC="
        + dlq.get(0).getProperty("RETRY_TOPIC"));
    consumer.shutdown();
  }

  private void orderlyToDlq(DefaultMQProducer producer, String topic, String group) throws Exception {
    log("== orderly retry to DLQ: topic %s group %s", topic, group);
    List<String> seen = new CopyOnWriteArrayList<>();
    DefaultMQPushConsumer consumer = pushConsumer(group, topic);
    consumer.setMaxReconsumeTimes(2);
    consumer.setSuspendCurrentQueueTimeMillis(200);
    consumer.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        seen.add(m.getKeys() + "@" + m.getReconsumeTimes());
        if ("poison".equals(m.getKeys())) {
          return ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
        }
      }
      return ConsumeOrderlyStatus.SUCCESS;
    });
    consumer.start();
    closers.add(consumer::shutdown);
    MessageQueue q0 = null;
    for (String key : new String[] {"poison", "after"}) {
      Message m = new Message(topic, "", key, key.getBytes(StandardCharsets.UTF_8));
      SendResult r = producer.send(m, (mqs, msg, arg) -> mqs.get(0), null); // one queue: the order matters
      q0 = r.getMessageQueue();
      check(r.getSendStatus() == SendStatus.SEND_OK, "orderly: send " + key, r.getMessageQueue().toString());
    }
    waitFor(() -> seen.contains("after@0"), "the message after the poison one");
    List<String> order = new ArrayList<>(seen);
    check(order.indexOf("poison@0") == 0 && order.contains("poison@1") && order.contains("poison@2")
        && order.indexOf("after@0") > order.indexOf("poison@2") && Collections.frequency(order, "after@0") == 1,
        "orderly: local retries, then on", "deliveries in order " + order + " on " + q0);
    List<MessageExt> dlq = readAll("%DLQ%" + group, 1, 60_000);
    check(dlq.size() == 1 && "poison".equals(dlq.get(0).getKeys()) && dlq.get(0).getReconsumeTimes() == 2,
        "orderly: dead-letter queue", dlq.size() + " message(s)"
        + (dlq.isEmpty() ? "" : ", key " + dlq.get(0).getKeys() + " reconsumeTimes=" + dlq.get(0).getReconsumeTimes()));
    consumer.shutdown();
  }

  private void delayLevels(DefaultMQProducer producer, String topic, String group) throws Exception {
    log("== delay levels: topic %s group %s", topic, group);
    int[] levels = {1, 2, 3, 4, 5, 99};
    Map<String, Long> due = new HashMap<>();
    Map<String, Integer> levelOf = new HashMap<>();
    for (int level : levels) {
      for (int i = 0; i < 3; i++) {
        String key = "L" + level + "-" + i;
        Message m = new Message(topic, "TagD", key, key.getBytes(StandardCharsets.UTF_8));
        m.setDelayTimeLevel(level);
        SendResult r = producer.send(m);
        if (r.getSendStatus() != SendStatus.SEND_OK) {
          check(false, "delay: send " + key, r.toString());
          return;
        }
        int effective = Math.min(level, DELAY_MS.length);
        due.put(key, DELAY_MS[effective - 1]);
        levelOf.put(key, effective);
      }
    }
    Map<String, MessageExt> got = new ConcurrentHashMap<>();
    Map<String, Integer> count = new ConcurrentHashMap<>();
    DefaultMQPushConsumer consumer = pushConsumer(group, topic);
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        got.put(m.getKeys(), m);
        count.merge(m.getKeys(), 1, Integer::sum);
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    closers.add(consumer::shutdown);
    waitFor(() -> got.size() >= due.size(), due.size() + " delayed messages");
    Thread.sleep(1500);
    List<String> bad = new ArrayList<>();
    StringBuilder seen = new StringBuilder();
    for (Map.Entry<String, Long> e : due.entrySet()) {
      MessageExt m = got.get(e.getKey());
      if (m == null) {
        bad.add(e.getKey() + " never delivered");
        continue;
      }
      long waited = m.getStoreTimestamp() - m.getBornTimestamp();
      if (waited < e.getValue() || waited > e.getValue() + LATE_MS || m.getDelayTimeLevel() != levelOf.get(e.getKey())
          || !topic.equals(m.getTopic()) || count.get(e.getKey()) != 1) {
        bad.add(e.getKey() + " waited " + waited + " ms for " + e.getValue() + " ms, DELAY=" + m.getProperty("DELAY")
            + " topic " + m.getTopic() + " x" + count.get(e.getKey()));
      }
      if (e.getKey().endsWith("-0")) {
        seen.append(String.format(" %s: %d ms (due %d, DELAY=%s);", e.getKey(), waited, e.getValue(),
            m.getProperty("DELAY")));
      }
    }
    check(bad.isEmpty(), "delay: each level on time", bad.isEmpty() ? seen.toString() : bad.toString());
    consumer.shutdown();
  }

  // ------------------------------------------------------------------ transactions

  private void transactions(String run) throws Exception {
    String topic = run + "_tx";
    log("== transactions: topic %s", topic);
    Map<String, Integer> checks = new ConcurrentHashMap<>();
    TransactionMQProducer producer = new TransactionMQProducer("PG_tx_" + Math.abs(run.hashCode()));
    producer.setNamesrvAddr(namesrv);
    producer.setInstanceName("sem-tx-" + System.nanoTime());
    producer.setSendMsgTimeout(10_000);
    producer.setTransactionListener(new TransactionListener() {
      @Override
      public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
        String k = msg.getKeys();
        return k.startsWith("commit") || k.startsWith("big") ? LocalTransactionState.COMMIT_MESSAGE
            : k.startsWith("rollback") ? LocalTransactionState.ROLLBACK_MESSAGE : LocalTransactionState.UNKNOW;
      }

      @Override
      public LocalTransactionState checkLocalTransaction(MessageExt msg) {
        checks.merge(msg.getKeys(), 1, Integer::sum);
        return msg.getKeys().startsWith("lost") ? LocalTransactionState.COMMIT_MESSAGE : LocalTransactionState.UNKNOW;
      }
    });
    producer.start();
    closers.add(producer::shutdown);
    List<String> expected = new ArrayList<>();
    List<String> never = new ArrayList<>();
    int sent = 0;
    for (String kind : new String[] {"commit", "rollback", "lost", "never", "big"}) {
      int n = kind.equals("never") ? 3 : kind.equals("big") ? 1 : 20;
      for (int i = 0; i < n; i++) {
        String key = kind + "-" + i;
        byte[] body = kind.equals("big") ? bigBody(4_000_000) : key.getBytes(StandardCharsets.UTF_8);
        TransactionSendResult r = producer.sendMessageInTransaction(new Message(topic, "", key, body), null);
        if (r.getSendStatus() != SendStatus.SEND_OK) {
          check(false, "tx: send " + key, r.toString());
          return;
        }
        sent++;
        if (kind.equals("commit") || kind.equals("lost") || kind.equals("big")) {
          expected.add(key);
        } else {
          never.add(key);
        }
      }
    }
    check(true, "tx: half messages sent", sent + " sent, " + expected.size() + " to be delivered");
    Map<String, Integer> count = new ConcurrentHashMap<>();
    Map<String, Integer> sizes = new ConcurrentHashMap<>();
    DefaultMQPushConsumer consumer = pushConsumer(run + "_txg", topic);
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        count.merge(m.getKeys(), 1, Integer::sum);
        sizes.put(m.getKeys(), m.getBody().length);
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    closers.add(consumer::shutdown);
    waitFor(() -> count.keySet().containsAll(expected), expected.size() + " committed messages");
    Thread.sleep(6000); // rolled-back and never-answered ones would have come by now; discards happen
    List<String> missing = new ArrayList<>(expected);
    missing.removeAll(count.keySet());
    List<String> dup = new ArrayList<>();
    count.forEach((k, v) -> {
      if (v > 1) {
        dup.add(k + " x" + v);
      }
    });
    List<String> leaked = new ArrayList<>(never);
    leaked.retainAll(count.keySet());
    int lostChecked = 0;
    for (String k : expected) {
      if (k.startsWith("lost") && checks.getOrDefault(k, 0) > 0) {
        lostChecked++;
      }
    }
    check(missing.isEmpty() && dup.isEmpty() && leaked.isEmpty(), "tx: committed once, rolled back never",
        String.format("delivered %d of %d, missing %s, duplicated %s, rolled back or unknown delivered %s",
            expected.size() - missing.size(), expected.size(), missing, dup, leaked));
    check(lostChecked == 20, "tx: lost commits checked back", lostChecked + " of 20 UNKNOW transactions were checked "
        + "back and delivered; checks per key e.g. lost-0=" + checks.get("lost-0"));
    check(Integer.valueOf(4_000_000).equals(sizes.get("big-0")), "tx: 4,000,000-byte transaction",
        "delivered body of " + sizes.get("big-0") + " bytes");
    List<MessageExt> discarded = readAll("TRANS_CHECK_MAX_TIME_TOPIC", 3, 30_000);
    int neverDiscarded = 0;
    for (MessageExt m : discarded) {
      if (m.getKeys() != null && m.getKeys().startsWith("never") && topic.equals(m.getProperty("REAL_TOPIC"))) {
        neverDiscarded++;
      }
    }
    check(neverDiscarded == 3, "tx: unknown ones discarded", neverDiscarded + " of 3 never-answered transactions in "
        + "TRANS_CHECK_MAX_TIME_TOPIC after " + checks.get("never-0") + " checks each (transactionCheckMax 5)");
  }

  private void transactionsAcrossRestart(String dir, String unused) throws Exception {
    String topic = "SemTxRestart_" + System.currentTimeMillis();
    java.nio.file.Path restarted = Paths.get(dir, "tx-restarted");
    Map<String, Integer> checks = new ConcurrentHashMap<>();
    TransactionMQProducer producer = new TransactionMQProducer("PG_txr_" + System.nanoTime());
    producer.setNamesrvAddr(namesrv);
    producer.setInstanceName("sem-txr-" + System.nanoTime());
    producer.setSendMsgTimeout(10_000);
    producer.setHeartbeatBrokerInterval(1000); // the restarted broker learns of this producer within 1 s
    producer.setPollNameServerInterval(1000);
    producer.setTransactionListener(new TransactionListener() {
      @Override
      public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
        return LocalTransactionState.UNKNOW;
      }

      @Override
      public LocalTransactionState checkLocalTransaction(MessageExt msg) {
        checks.merge(msg.getKeys(), 1, Integer::sum);
        return Files.exists(restarted) ? LocalTransactionState.COMMIT_MESSAGE : LocalTransactionState.UNKNOW;
      }
    });
    producer.start();
    closers.add(producer::shutdown);
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      String key = "txr-" + i;
      TransactionSendResult r = producer.sendMessageInTransaction(
          new Message(topic, "", key, key.getBytes(StandardCharsets.UTF_8)), null);
      if (r.getSendStatus() == SendStatus.SEND_OK) {
        keys.add(key);
      }
    }
    Files.write(Paths.get(dir, "tx-sent"), keys, StandardCharsets.UTF_8);
    log("sent %d transactions to %s; waiting for the broker's restart", keys.size(), topic);
    waitFor(() -> Files.exists(restarted), "the restart");
    Map<String, Integer> count = new ConcurrentHashMap<>();
    DefaultMQPushConsumer consumer = pushConsumer("SemTxRestartG_" + System.nanoTime(), topic);
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        count.merge(m.getKeys(), 1, Integer::sum);
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    closers.add(consumer::shutdown);
    waitFor(() -> count.keySet().containsAll(keys), keys.size() + " transactions committed by check-back");
    Thread.sleep(2000);
    List<String> missing = new ArrayList<>(keys);
    missing.removeAll(count.keySet());
    long dups = count.values().stream().filter(v -> v > 1).count();
    check(keys.size() == 20 && missing.isEmpty() && dups == 0, "tx: half messages survive a restart",
        String.format("%d sent, %d delivered once after the restart by check-back, missing %s, duplicated %d",
            keys.size(), count.size(), missing, dups));
  }

  private static byte[] bigBody(int n) {
    byte[] b = new byte[n];
    new java.util.Random(7).nextBytes(b); // incompressible, so the broker stores all of it
    return b;
  }

  // ------------------------------------------------------------------ delayed messages across a restart

  private void sendDelayed(String topic, int level, int count, String keysFile) throws Exception {
    DefaultMQProducer producer = producer(topic);
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String key = topic + "-" + i;
      Message m = new Message(topic, "", key, key.getBytes(StandardCharsets.UTF_8));
      m.setDelayTimeLevel(level);
      SendResult r = producer.send(m);
      if (r.getSendStatus() == SendStatus.SEND_OK) {
        keys.add(key);
      }
    }
    Files.write(Paths.get(keysFile), keys, StandardCharsets.UTF_8);
    check(keys.size() == count, "send-delayed", keys.size() + " of " + count + " acknowledged at level " + level);
  }

  private void verifyDelayed(String topic, long delayMs, String keysFile, boolean allowDuplicates) throws Exception {
    List<String> keys = readKeys(keysFile);
    Map<String, Integer> count = new ConcurrentHashMap<>();
    Map<String, Long> waited = new ConcurrentHashMap<>();
    DefaultMQPushConsumer consumer = pushConsumer(topic + "_verify_" + System.currentTimeMillis(), topic);
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        count.merge(m.getKeys(), 1, Integer::sum);
        waited.put(m.getKeys(), m.getStoreTimestamp() - m.getBornTimestamp());
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    closers.add(consumer::shutdown);
    waitFor(() -> count.keySet().containsAll(keys), keys.size() + " delayed messages");
    Thread.sleep(2000);
    List<String> lost = new ArrayList<>();
    List<String> early = new ArrayList<>();
    int duplicated = 0;
    for (String k : keys) {
      if (!count.containsKey(k)) {
        lost.add(k);
      } else {
        duplicated += count.get(k) - 1;
        if (waited.get(k) < delayMs) {
          early.add(k + " after " + waited.get(k) + " ms");
        }
      }
    }
    List<String> unexpected = new ArrayList<>(count.keySet());
    unexpected.removeAll(keys);
    long maxWait = waited.values().stream().mapToLong(Long::longValue).max().orElse(0);
    check(lost.isEmpty() && unexpected.isEmpty() && early.isEmpty() && (allowDuplicates || duplicated == 0),
        "verify-delayed", String.format("acked %d lost %d duplicated %d unexpected %d early %d (longest wait %d ms)%s",
            keys.size(), lost.size(), duplicated, unexpected.size(), early.size(), maxWait,
            lost.isEmpty() ? "" : " lost e.g. " + lost.subList(0, Math.min(5, lost.size()))));
  }

  // ------------------------------------------------------------------ helpers

  private DefaultMQProducer producer(String name) throws Exception {
    DefaultMQProducer p = new DefaultMQProducer("PG_" + Math.abs(name.hashCode()));
    p.setNamesrvAddr(namesrv);
    p.setInstanceName("sem-" + System.nanoTime());
    p.setSendMsgTimeout(10_000);
    p.start();
    closers.add(p::shutdown);
    return p;
  }

  private DefaultMQPushConsumer pushConsumer(String group, String topic) throws Exception {
    DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
    c.setNamesrvAddr(namesrv);
    c.setInstanceName("sem-" + System.nanoTime());
    c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    c.subscribe(topic, "*");
    return c;
  }

  /** Everything in a topic's queues from offset 0, read until `want` messages or the deadline. */
  private List<MessageExt> readAll(String topic, int want, long timeoutMs) throws Exception {
    DefaultLitePullConsumer c = new DefaultLitePullConsumer("sem_reader_" + System.nanoTime());
    c.setNamesrvAddr(namesrv);
    c.setInstanceName("sem-" + System.nanoTime());
    c.setAutoCommit(false);
    c.start();
    List<MessageExt> out = new ArrayList<>();
    try {
      long deadline = System.currentTimeMillis() + timeoutMs;
      List<MessageQueue> queues = null;
      while (queues == null && System.currentTimeMillis() < deadline) {
        try {
          queues = new ArrayList<>(c.fetchMessageQueues(topic));
        } catch (Exception e) {
          Thread.sleep(500); // the route appears when the broker created the topic
        }
      }
      if (queues == null) {
        return out;
      }
      c.assign(queues);
      for (MessageQueue q : queues) {
        c.seek(q, 0);
      }
      while (out.size() < want && System.currentTimeMillis() < deadline) {
        out.addAll(c.poll(500));
      }
      out.addAll(c.poll(1000)); // anything beyond `want` is reported too
    } finally {
      c.shutdown();
    }
    return out;
  }

  private static List<String> readKeys(String file) throws IOException {
    List<String> keys = new ArrayList<>();
    for (String line : Files.readAllLines(Paths.get(file), StandardCharsets.UTF_8)) {
      if (!line.isEmpty()) {
        keys.add(line);
      }
    }
    return keys;
  }

  private void waitFor(BooleanSupplier done, String what) throws InterruptedException {
    long deadline = System.currentTimeMillis() + TIMEOUT_MS;
    while (!done.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        log("waiting for %s: deadline passed", what);
        return;
      }
      Thread.sleep(50);
    }
  }

  private static String times(List<Delivery> d) {
    List<Integer> t = new ArrayList<>();
    for (Delivery x : d) {
      t.add(x.reconsumeTimes);
    }
    return t.toString();
  }

  private static long[] parseLevels(String text) {
    String[] parts = text.split(" ");
    long[] out = new long[parts.length];
    for (int i = 0; i < parts.length; i++) {
      long n = Long.parseLong(parts[i].substring(0, parts[i].length() - 1));
      out[i] = n * (parts[i].endsWith("m") ? 60_000 : parts[i].endsWith("h") ? 3_600_000 : 1000);
    }
    return out;
  }

  private void check(boolean ok, String name, String detail) {
    if (ok) {
      passed++;
    } else {
      failures.add(name);
    }
    System.out.printf("[%s] %-34s %s%n", ok ? "PASS" : "FAIL", name, detail);
  }

  private void log(String fmt, Object... args) {
    System.out.printf("%7.2fs %s%n", (System.nanoTime() - start) / 1e9, String.format(fmt, args));
  }
}
