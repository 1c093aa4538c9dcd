package io.ferrymq.compat;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;

/**
 * The replication loss test's client side (tests/compat/run_replication_loss.sh drives the brokers and the
 * failover): Jepsen-style total-queue accounting of a topic written through a master crash.
 *
 * <p>Modes:
 * <ul>
 *   <li>{@code produce <namesrvAddr> <topic> <runId> <sentFile> <stopFile>}: {@code -Dloss.threads} (8) threads,
 *       each with its own DefaultMQProducer ({@code pollNameServerInterval} 1000 ms so routes refresh quickly after
 *       a failover, {@code sendMsgTimeout} 3000 ms, the client's default retries), send synchronously and
 *       continuously until {@code stopFile} exists (or {@code -Dloss.maxSeconds}, 300, passed). Every message
 *       carries a unique id ({@code <runId>-<thread>-<seq>}) as key and at the start of its body. Prints
 *       {@code producing: first SEND_OK} once the first send was acknowledged and a progress line every second
 *       (with the SEND_OK count so far of each broker name);
 *       at the end writes one line per message to {@code sentFile}:
 *       {@code id TAB outcome TAB startMs TAB endMs TAB detail}, outcome {@code SEND_OK}, another send status
 *       (FLUSH_SLAVE_TIMEOUT, SLAVE_NOT_AVAILABLE, ...) or {@code EXCEPTION}.
 *   <li>{@code drain <namesrvAddr> <topic> <readFile>}: a fresh DefaultMQPullConsumer group reads every queue of the
 *       topic from its min to its max offset (from whichever broker the route and the broker's pull suggestion
 *       name) and writes the ids read, one a line, to {@code readFile}.
 *   <li>{@code consume <namesrvAddr> <topic> <group> <readFile> <stopFile>}: a DefaultMQPushConsumer of consumer
 *       group {@code group} (clustering, from the first offset, offsets committed every second) appends the id of
 *       every message it consumes to {@code readFile} until {@code stopFile} exists; then it shuts down, which
 *       commits its last offsets. Prints {@code consuming: started} and a progress line every second. Run it
 *       again to go on where the group stopped (the scale-in test stops it to leave a backlog).
 *   <li>{@code check <sentFile> <readFile> <killMs>}: the accounting, see below.
 *   <li>{@code verify <namesrvAddr> <topic> <sentFile> <readFile> <killMs>}: drain, then check, in one JVM. The
 *       drain reads each queue at least to just after the highest queue offset an acknowledgement named for it,
 *       waiting (up to {@code -Dloss.drainTimeoutSec}, 120) while the broker's max offset is still below it: a
 *       restarted master shows what its replicas have not confirmed again only once they reconnect.
 * </ul>
 *
 * <p>Accounting (Jepsen's total-queue checker): <b>lost</b> = acknowledged (SEND_OK) and never read;
 * <b>recovered</b> = send reported failed (another status or an exception) and read anyway; <b>duplicated</b> =
 * ids read more than once; <b>unexpected</b> = ids read that were never sent (or whose body does not match the
 * key). <b>unavailable</b> = the longest gap between two consecutive SEND_OK acknowledgements (any thread,
 * ordered by the time the answer arrived) whose later one came after {@code killMs}: the time without a
 * writable master, from the last acknowledgement before the kill on. The check prints a {@code RESULT} line and
 * exits 0 when lost and unexpected are 0, the drain read every queue to its end and some send was acknowledged
 * after the kill; 1 otherwise; 2 on bad usage.
 */
public final class ReplicationLossCheck {
  private static final int BODY_BYTES = 128;
  private static final int PULL_BATCH = 32;

  private ReplicationLossCheck() {}

  public static void main(String[] args) {
    int code;
    try {
      code = run(args);
    } catch (Throwable t) {
      t.printStackTrace(System.out);
      code = 1;
    }
    System.out.flush();
    System.exit(code);
  }

  private static int run(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "";
    if (mode.equals("produce") && args.length == 6) {
      return produce(args[1], args[2], args[3], Paths.get(args[4]), Paths.get(args[5]));
    }
    if (mode.equals("drain") && args.length == 4) {
      return drain(args[1], args[2], Paths.get(args[3]), Map.of()) ? 0 : 1;
    }
    if (mode.equals("consume") && args.length == 6) {
      return consume(args[1], args[2], args[3], Paths.get(args[4]), Paths.get(args[5]));
    }
    if (mode.equals("check") && args.length == 4) {
      return check(Paths.get(args[1]), Paths.get(args[2]), Long.parseLong(args[3]), true);
    }
    if (mode.equals("verify") && args.length == 6) {
      boolean complete = drain(args[1], args[2], Paths.get(args[4]), ackedEnds(Paths.get(args[3])));
      return check(Paths.get(args[3]), Paths.get(args[4]), Long.parseLong(args[5]), complete);
    }
    System.err.println("usage: ReplicationLossCheck produce <namesrvAddr> <topic> <runId> <sentFile> <stopFile>\n"
        + "       ReplicationLossCheck drain <namesrvAddr> <topic> <readFile>\n"
        + "       ReplicationLossCheck consume <namesrvAddr> <topic> <group> <readFile> <stopFile>\n"
        + "       ReplicationLossCheck check <sentFile> <readFile> <killMs>\n"
        + "       ReplicationLossCheck verify <namesrvAddr> <topic> <sentFile> <readFile> <killMs>");
    return 2;
  }

  // ---------------------------------------------------------------- produce

  private static int produce(String namesrv, String topic, String runId, Path sentFile, Path stopFile)
      throws Exception {
    int threads = Integer.getInteger("loss.threads", 8);
    long maxMs = Long.getLong("loss.maxSeconds", 300) * 1000L;
    long t0 = System.currentTimeMillis();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong sent = new AtomicLong();
    AtomicLong ok = new AtomicLong();
    AtomicLong firstOk = new AtomicLong();
    Map<String, AtomicLong> okByBroker = new java.util.concurrent.ConcurrentSkipListMap<>();
    List<List<String>> records = new ArrayList<>();
    List<DefaultMQProducer> producers = new ArrayList<>();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      DefaultMQProducer p = new DefaultMQProducer("loss_pg_" + runId);
      p.setNamesrvAddr(namesrv);
      p.setInstanceName("loss-producer-" + runId + "-" + t);
      p.setPollNameServerInterval(1000);
      p.setSendMsgTimeout(3000);
      p.start();
      producers.add(p);
    }
    // The topic exists (the script created it); wait until the client sees its route.
    long deadline = System.currentTimeMillis() + 30_000;
    while (true) {
      try {
        if (!producers.get(0).fetchPublishMessageQueues(topic).isEmpty()) {
          break;
        }
      } catch (MQClientException e) {
        if (System.currentTimeMillis() > deadline) {
          throw e;
        }
      }
      Thread.sleep(100);
    }
    for (int t = 0; t < threads; t++) {
      List<String> mine = new ArrayList<>();
      records.add(mine);
      DefaultMQProducer p = producers.get(t);
      String prefix = runId + "-" + t + "-";
      Thread w = new Thread(() -> {
        for (long seq = 0; !stop.get(); seq++) {
          String id = prefix + seq;
          Message msg = new Message(topic, body(id));
          msg.setKeys(id);
          long start = System.currentTimeMillis();
          String outcome;
          String detail;
          try {
            SendResult r = p.send(msg);
            outcome = r.getSendStatus().name();
            detail = r.getMessageQueue() == null ? "" : r.getMessageQueue().getBrokerName() + ":"
                + r.getMessageQueue().getQueueId() + "@" + r.getQueueOffset();
          } catch (Throwable e) {
            outcome = "EXCEPTION";
            detail = describe(e);
          }
          long end = System.currentTimeMillis();
          sent.incrementAndGet();
          if (outcome.equals("SEND_OK")) {
            ok.incrementAndGet();
            firstOk.compareAndSet(0, end);
            okByBroker.computeIfAbsent(detail.split(":", 2)[0], b -> new AtomicLong()).incrementAndGet();
          }
          synchronized (mine) {
            mine.add(id + "\t" + outcome + "\t" + start + "\t" + end + "\t" + detail);
          }
          if (!outcome.equals("SEND_OK")) {
            sleepQuietly(20); // no writable master: do not spin on fast connection errors
          }
        }
      }, "loss-producer-" + t);
      workers.add(w);
    }
    workers.forEach(Thread::start);
    boolean announced = false;
    long nextProgress = t0 + 1000;
    long lastSent = 0;
    long lastOk = 0;
    while (!Files.exists(stopFile) && System.currentTimeMillis() - t0 < maxMs) {
      Thread.sleep(50);
      if (!announced && firstOk.get() != 0) {
        System.out.printf("producing: first SEND_OK at %d, %d threads%n", firstOk.get(), threads);
        announced = true;
      }
      long now = System.currentTimeMillis();
      if (now >= nextProgress) {
        long s = sent.get();
        long k = ok.get();
        StringBuilder byBroker = new StringBuilder();
        okByBroker.forEach((b, n) -> byBroker.append(' ').append(b).append('=').append(n.get()));
        System.out.printf("progress %d: sent %d (+%d), SEND_OK %d (+%d); SEND_OK by broker:%s%n", now, s,
            s - lastSent, k, k - lastOk, byBroker);
        lastSent = s;
        lastOk = k;
        nextProgress += 1000;
      }
      System.out.flush();
    }
    long stopAt = System.currentTimeMillis();
    stop.set(true);
    for (Thread w : workers) {
      w.join(30_000); // a send in flight ends within sendMsgTimeout
    }
    boolean stuck = workers.stream().anyMatch(Thread::isAlive);
    try (BufferedWriter out = Files.newBufferedWriter(sentFile, StandardCharsets.UTF_8)) {
      for (List<String> mine : records) {
        synchronized (mine) {
          for (String line : mine) {
            out.write(line);
            out.write('\n');
          }
        }
      }
    }
    System.out.printf("stopped at %d: sent %d, SEND_OK %d, in %.1f s%s%n", stopAt, sent.get(), ok.get(),
        (stopAt - t0) / 1000.0, stuck ? " (a producer thread did not finish its send)" : "");
    for (DefaultMQProducer p : producers) {
      p.shutdown();
    }
    return stuck ? 1 : 0;
  }

  private static byte[] body(String id) {
    StringBuilder b = new StringBuilder(BODY_BYTES).append(id).append('|');
    while (b.length() < BODY_BYTES) {
      b.append((char) ('a' + b.length() % 26));
    }
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The outermost exception, its response code and its root cause, on one line without tabs. */
  private static String describe(Throwable e) {
    StringBuilder s = new StringBuilder(e.getClass().getSimpleName());
    if (e instanceof MQClientException) {
      s.append("(code ").append(((MQClientException) e).getResponseCode()).append(')');
    } else if (e instanceof MQBrokerException) {
      s.append("(code ").append(((MQBrokerException) e).getResponseCode()).append(')');
    }
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root != e) {
      s.append(" caused by ").append(root.getClass().getSimpleName());
      if (root instanceof MQBrokerException) {
        s.append("(code ").append(((MQBrokerException) root).getResponseCode()).append(')');
      }
    }
    String msg = root.getMessage() == null ? "" : root.getMessage();
    int nl = msg.indexOf('\n');
    msg = (nl >= 0 ? msg.substring(0, nl) : msg).replace('\t', ' ');
    if (msg.length() > 160) {
      msg = msg.substring(0, 160);
    }
    return s.append(": ").append(msg).toString();
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------- drain

  /**
   * Per {@code brokerName:queueId}, one past the highest queue offset a SEND_OK named (the sent file's detail is
   * {@code brokerName:queueId@queueOffset}).
   */
  private static Map<String, Long> ackedEnds(Path sentFile) throws IOException {
    Map<String, Long> ends = new HashMap<>();
    for (String line : Files.readAllLines(sentFile, StandardCharsets.UTF_8)) {
      String[] f = line.split("\t", 5);
      if (f.length < 5 || !f[1].equals("SEND_OK")) {
        continue;
      }
      int at = f[4].lastIndexOf('@');
      if (at < 0) {
        continue;
      }
      ends.merge(f[4].substring(0, at), Long.parseLong(f[4].substring(at + 1)) + 1, Math::max);
    }
    return ends;
  }

  /**
   * Reads every queue from min to max offset, and on to {@code ackedEnds} of the queue when that is further;
   * true when every queue was read to its end.
   */
  @SuppressWarnings("deprecation") // DefaultMQPullConsumer: the plain offset-addressed pull of the 4.x client
  private static boolean drain(String namesrv, String topic, Path readFile, Map<String, Long> ackedEnds)
      throws Exception {
    long t0 = System.currentTimeMillis();
    long deadline = t0 + Long.getLong("loss.drainTimeoutSec", 120) * 1000L;
    String group = "loss_drain_" + t0;
    DefaultMQPullConsumer c = new DefaultMQPullConsumer(group);
    c.setNamesrvAddr(namesrv);
    c.setInstanceName("loss-drain-" + t0);
    c.start();
    boolean complete = true;
    long read = 0;
    Map<String, String> perQueue = new TreeMap<>();
    try (BufferedWriter out = Files.newBufferedWriter(readFile, StandardCharsets.UTF_8)) {
      List<MessageQueue> queues = null;
      while (queues == null) {
        try {
          queues = new ArrayList<>(c.fetchSubscribeMessageQueues(topic));
        } catch (MQClientException e) {
          if (System.currentTimeMillis() > deadline) {
            throw e;
          }
          Thread.sleep(200);
        }
      }
      queues.sort(null);
      for (MessageQueue mq : queues) {
        long min = retry(() -> c.minOffset(mq), deadline);
        long max = retry(() -> c.maxOffset(mq), deadline);
        final long target = Math.max(max, ackedEnds.getOrDefault(mq.getBrokerName() + ":" + mq.getQueueId(), 0L));
        long offset = min;
        long n = 0;
        int misses = 0;
        long waitingSince = 0;
        while (offset < target) {
          if (System.currentTimeMillis() > deadline) {
            break;
          }
          if (offset >= max) {
            // Acknowledged messages the broker does not show yet: ask again until they appear.
            if (waitingSince == 0) {
              waitingSince = System.currentTimeMillis();
              System.out.printf("drain: %s shows max offset %d, below the acknowledged %d: waiting%n", mq, max,
                  target);
            }
            Thread.sleep(200);
            max = retry(() -> c.maxOffset(mq), deadline);
            continue;
          }
          if (waitingSince != 0) {
            System.out.printf("drain: %s shows max offset %d after %.1f s%n", mq, max,
                (System.currentTimeMillis() - waitingSince) / 1000.0);
            waitingSince = 0;
          }
          PullResult r;
          try {
            r = c.pull(mq, "*", offset, PULL_BATCH, 3000);
          } catch (Exception e) {
            System.out.printf("drain: pull %s at %d failed: %s%n", mq, offset, describe(e));
            Thread.sleep(200);
            continue;
          }
          if (r.getPullStatus() == PullStatus.FOUND) {
            for (MessageExt m : r.getMsgFoundList()) {
              out.write(idOf(m));
              out.write('\n');
              n++;
            }
            misses = 0;
            offset = r.getNextBeginOffset();
          } else if (r.getNextBeginOffset() > offset) {
            offset = r.getNextBeginOffset();
          } else if (++misses > 25) {
            System.out.printf("drain: %s stays %s at offset %d of %d%n", mq, r.getPullStatus(), offset, max);
            break;
          } else {
            Thread.sleep(200);
          }
        }
        if (offset < target) {
          complete = false;
        }
        read += n;
        perQueue.put(mq.getBrokerName() + ":" + mq.getQueueId(),
            n + " of [" + min + "," + target + ")" + (offset < target ? " INCOMPLETE" : ""));
      }
      System.out.printf("drain: group %s read %d messages from %d queues in %.1f s: %s%n", group, read,
          queues.size(), (System.currentTimeMillis() - t0) / 1000.0, perQueue);
    } finally {
      c.shutdown();
    }
    return complete;
  }

  private interface LongCall {
    long call() throws Exception;
  }

  private static long retry(LongCall call, long deadline) throws Exception {
    while (true) {
      try {
        return call.call();
      } catch (Exception e) {
        if (System.currentTimeMillis() > deadline) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
  }

  /** The message's id: its key when the body starts with it, else a marker that is never a sent id. */
  private static String idOf(MessageExt m) {
    String key = m.getKeys() == null ? "" : m.getKeys();
    String body = new String(m.getBody(), StandardCharsets.UTF_8);
    if (!key.isEmpty() && body.equals(new String(body(key), StandardCharsets.UTF_8))) {
      return key;
    }
    return "CORRUPT key=" + key + " offset=" + m.getQueueOffset() + " queue=" + m.getQueueId();
  }

  // ---------------------------------------------------------------- consume

  private static int consume(String namesrv, String topic, String group, Path readFile, Path stopFile)
      throws Exception {
    AtomicLong consumed = new AtomicLong();
    BufferedWriter out = Files.newBufferedWriter(readFile, StandardCharsets.UTF_8,
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
    c.setNamesrvAddr(namesrv);
    c.setInstanceName("loss-consumer-" + group + "-" + System.nanoTime());
    c.setPollNameServerInterval(1000);
    c.setPersistConsumerOffsetInterval(1000);
    c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    c.subscribe(topic, "*");
    c.registerMessageListener((MessageListenerConcurrently) (msgs, context) -> {
      try {
        synchronized (out) {
          for (MessageExt m : msgs) {
            out.write(idOf(m));
            out.write('\n');
          }
          out.flush();
        }
      } catch (IOException e) {
        return ConsumeConcurrentlyStatus.RECONSUME_LATER;
      }
      consumed.addAndGet(msgs.size());
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    c.start();
    System.out.println("consuming: started");
    long next = System.currentTimeMillis() + 1000;
    while (!Files.exists(stopFile)) {
      Thread.sleep(50);
      long now = System.currentTimeMillis();
      if (now >= next) {
        System.out.printf("progress %d: consumed %d%n", now, consumed.get());
        System.out.flush();
        next += 1000;
      }
    }
    c.shutdown();
    synchronized (out) {
      out.close();
    }
    System.out.printf("stopped: consumed %d%n", consumed.get());
    return 0;
  }

  // ---------------------------------------------------------------- check

  private static final class Sent {
    final String outcome;
    final long end;
    final String detail;

    Sent(String outcome, long end, String detail) {
      this.outcome = outcome;
      this.end = end;
      this.detail = detail;
    }
  }

  private static int check(Path sentFile, Path readFile, long killMs, boolean drainComplete) throws IOException {
    PrintStream o = System.out;
    Map<String, Sent> sent = new HashMap<>();
    Map<String, Integer> outcomes = new TreeMap<>();
    Map<String, Integer> exceptions = new TreeMap<>();
    List<Long> acks = new ArrayList<>();
    int resent = 0;
    for (String line : Files.readAllLines(sentFile, StandardCharsets.UTF_8)) {
      String[] f = line.split("\t", 5);
      if (f.length < 4) {
        continue;
      }
      Sent s = new Sent(f[1], Long.parseLong(f[3]), f.length > 4 ? f[4] : "");
      if (sent.put(f[0], s) != null) {
        resent++; // ids are unique by construction; counted to prove it
      }
      outcomes.merge(s.outcome, 1, Integer::sum);
      if (s.outcome.equals("EXCEPTION")) {
        exceptions.merge(s.detail.replaceAll("[0-9.:]+", "#"), 1, Integer::sum);
      }
      if (s.outcome.equals("SEND_OK")) {
        acks.add(s.end);
      }
    }
    Map<String, Integer> readCount = new HashMap<>();
    long readTotal = 0;
    for (String id : Files.readAllLines(readFile, StandardCharsets.UTF_8)) {
      if (!id.isEmpty()) {
        readCount.merge(id, 1, Integer::sum);
        readTotal++;
      }
    }
    List<String> lost = new ArrayList<>();
    int acked = 0;
    int recovered = 0;
    for (Map.Entry<String, Sent> e : sent.entrySet()) {
      boolean ok = e.getValue().outcome.equals("SEND_OK");
      boolean read = readCount.containsKey(e.getKey());
      if (ok) {
        acked++;
        if (!read) {
          lost.add(e.getKey());
        }
      } else if (read) {
        recovered++;
      }
    }
    int duplicated = 0;
    long extraCopies = 0;
    List<String> unexpected = new ArrayList<>();
    for (Map.Entry<String, Integer> e : readCount.entrySet()) {
      if (e.getValue() > 1) {
        duplicated++;
        extraCopies += e.getValue() - 1;
      }
      if (!sent.containsKey(e.getKey())) {
        unexpected.add(e.getKey());
      }
    }
    // Time without a writable master: the longest gap between consecutive acknowledgements, from the last one
    // before the kill on.
    Collections.sort(acks);
    long lastBefore = -1;
    long firstAfter = -1;
    long longestGap = -1;
    int ackedAfterKill = 0;
    for (int i = 0; i < acks.size(); i++) {
      long t = acks.get(i);
      if (t <= killMs) {
        lastBefore = t;
        continue;
      }
      ackedAfterKill++;
      if (firstAfter < 0) {
        firstAfter = t;
      }
      if (i > 0) {
        longestGap = Math.max(longestGap, t - acks.get(i - 1));
      }
    }
    o.printf("sent %d messages (%d ids sent twice), outcomes %s%n", sent.size(), resent, outcomes);
    if (!exceptions.isEmpty()) {
      o.printf("exceptions (digits masked): %s%n", exceptions);
    }
    o.printf("read %d messages, %d distinct ids; drain %s%n", readTotal, readCount.size(),
        drainComplete ? "complete" : "INCOMPLETE");
    o.printf("acknowledged %d (%d after the kill); lost %d, recovered %d, duplicated %d (%d extra copies), "
        + "unexpected %d%n", acked, ackedAfterKill, lost.size(), recovered, duplicated, extraCopies,
        unexpected.size());
    if (lastBefore > 0 && firstAfter > 0) {
      o.printf("kill at %d: last SEND_OK before it %+.3f s, first after it %+.3f s; longest gap from then on "
          + "%.3f s%n", killMs, (lastBefore - killMs) / 1000.0, (firstAfter - killMs) / 1000.0,
          longestGap / 1000.0);
    } else {
      o.printf("kill at %d: %s%n", killMs, lastBefore <= 0 ? "no SEND_OK before the kill"
          : "no SEND_OK after the kill: producers never found the new master");
    }
    Collections.sort(lost);
    for (String id : lost.subList(0, Math.min(20, lost.size()))) {
      Sent s = sent.get(id);
      o.printf("LOST %s acknowledged at %d (%+.3f s from the kill) %s%n", id, s.end, (s.end - killMs) / 1000.0,
          s.detail);
    }
    Collections.sort(unexpected);
    for (String id : unexpected.subList(0, Math.min(20, unexpected.size()))) {
      o.printf("UNEXPECTED %s%n", id);
    }
    boolean pass = lost.isEmpty() && unexpected.isEmpty() && drainComplete && ackedAfterKill > 0
        && lastBefore > 0;
    o.printf("RESULT %s sent=%d acked=%d lost=%d recovered=%d duplicated=%d unexpected=%d unavailable=%s "
        + "ackedAfterKill=%d drain=%s%n", pass ? "PASS" : "FAIL", sent.size(), acked, lost.size(), recovered,
        duplicated, unexpected.size(), longestGap >= 0 && lastBefore > 0 ? String.format("%.1fs", longestGap / 1000.0)
            : "n/a", ackedAfterKill, drainComplete ? "complete" : "incomplete");
    return pass ? 0 : 1;
  }
}
