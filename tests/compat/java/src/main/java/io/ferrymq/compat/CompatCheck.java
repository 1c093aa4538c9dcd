package io.ferrymq.compat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.rocketmq.client.consumer.AllocateMessageQueueStrategy;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragely;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.constant.PermName;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.body.ClusterInfo;
import org.apache.rocketmq.common.protocol.heartbeat.MessageModel;
import org.apache.rocketmq.common.protocol.route.BrokerData;
import org.apache.rocketmq.common.protocol.route.QueueData;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * One run of the Java client compatibility check against a name server (and the brokers it lists).
 *
 * <p>Usage: {@code CompatCheck <namesrvAddr> <topicPrefix>}. Every run uses fresh topics and groups named
 * {@code <topicPrefix>_<timestamp>...}, so reruns never see earlier messages or offsets.
 *
 * <p>Phases, each bounded by {@code -Dcompat.phaseTimeoutSec} (default 120):
 * <ol>
 *   <li>topics: the main topic and the tag topic are created with 4 queues on every master through
 *       {@code DefaultMQAdminExt.createAndUpdateTopicConfig}; if that fails the run goes on and relies on the
 *       broker's auto-create (printed as a WARN line).
 *   <li>send: 10,000 messages to the main topic, 2,500 per mode: oneway, sync, async, and batch (50 x 50); each
 *       has a unique key {@code <run>-<mode>-<i>}, a mode property and a body derived from the key (every 50th is
 *       6,000 bytes, which the client compresses). 500 tagged messages go to the tag topic.
 *   <li>stored: the topic's queue offsets (GET_MAX_OFFSET / GET_MIN_OFFSET) until they stop moving.
 *   <li>push: two DefaultMQPushConsumer instances (distinct instanceName) in one CLUSTERING group. Their allocation
 *       strategy is the averaging one, but hands out no queue until both instances appear in the group's consumer
 *       list, so no queue changes owner mid-run and a clean run has no rebalance duplicates.
 *   <li>tags: a consumer subscribed to {@code TagA || TagB} over a mix of TagA, TagB, TagC, TagAB and untagged.
 *   <li>pull: a DefaultLitePullConsumer of a new group (CONSUME_FROM_FIRST_OFFSET) assigned all queues reads the
 *       main topic back.
 * </ol>
 *
 * <p>Expectations: every acknowledged message (sync, async, batch SEND_OK) arrives exactly once at the push group,
 * both instances get some, each queue is consumed by one instance only; nothing arrives that was not sent.
 * Oneway sends get no acknowledgement, so their loss is reported but tolerated; at least one must arrive and none
 * may arrive twice. The pull consumer reads exactly the stored messages, each once, with the keys the push group
 * saw. Sends the broker turns away with SYSTEM_BUSY (flow control on a loaded machine; nothing was stored) are
 * repeated and counted, not failed. After a phase's messages are all in, the check waits {@code -Dcompat.quietMs} (default 3000) for duplicates.
 *
 * <p>Output: a {@code [PASS]}/{@code [FAIL]} line per check, then {@code CompatCheck: N passed, M failed} and
 * {@code RESULT: PASS|FAIL}. Exit code 0 when all passed, 1 on any failure, 2 on bad usage.
 */
public final class CompatCheck {
  private static final int PER_MODE = 2500;
  private static final int BATCH_SIZE = 50;
  private static final int QUEUES = 4;
  private static final int TAG_PER_KIND = 100;
  private static final String[] TAG_KINDS = {"TagA", "TagB", "TagC", "TagAB", ""}; // "" = no tag
  private static final String TAG_EXPRESSION = "TagA || TagB";
  private static final String PROP_MODE = "fmqMode";
  private static final int BIG_BODY = 6000; // above the client's 4 KiB compression threshold
  private static final int SMALL_BODY = 120;

  private final String namesrv;
  private final String runId;
  private final String topic;
  private final String tagTopic;
  private final long phaseTimeoutMs = Long.getLong("compat.phaseTimeoutSec", 120) * 1000L;
  private final long quietMs = Long.getLong("compat.quietMs", 3000);
  private final long startNanos = System.nanoTime();

  private final List<Runnable> closers = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();
  private int passed;

  // Send outcomes. acked: keys whose send was answered SEND_OK; onewaySent: keys handed to sendOneway.
  private final Set<String> acked = ConcurrentHashMap.newKeySet();
  private final Set<String> onewaySent = ConcurrentHashMap.newKeySet();
  private final Set<String> tagExpected = ConcurrentHashMap.newKeySet();
  private final Set<String> tagSent = ConcurrentHashMap.newKeySet();
  private long storedTotal = -1;
  private Map<Integer, Long> storedPerQueue = new TreeMap<>();
  private Map<String, Integer> pushReceived = Collections.emptyMap();

  private DefaultMQProducer producer;
  private final AtomicInteger busyRetries = new AtomicInteger(); // sends repeated after SYSTEM_BUSY
  private final ScheduledExecutorService retryTimer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "compat-async-retry");
    t.setDaemon(true);
    return t;
  });

  private CompatCheck(String namesrv, String topicPrefix) {
    this.namesrv = namesrv;
    this.runId = topicPrefix + "_" + System.currentTimeMillis();
    this.topic = runId;
    this.tagTopic = runId + "_tags";
  }

  public static void main(String[] args) {
    if (args.length != 2 || args[0].isEmpty() || args[1].isEmpty()) {
      System.err.println("usage: CompatCheck <namesrvAddr> <topicPrefix>");
      System.exit(2);
    }
    CompatCheck check = new CompatCheck(args[0], args[1]);
    try {
      check.run();
    } catch (Throwable t) {
      check.fail("run", "aborted by " + t);
      t.printStackTrace(System.out);
    } finally {
      check.closeAll();
    }
    System.exit(check.summary());
  }

  private void run() throws Exception {
    log("name server %s, main topic %s, tag topic %s", namesrv, topic, tagTopic);
    createTopics();
    sendAll();
    countStored();
    pushClustering();
    tags();
    pullBack();
  }

  // ---------------------------------------------------------------- phase 1: topics

  private void createTopics() {
    phase("topics");
    DefaultMQAdminExt admin = new DefaultMQAdminExt();
    admin.setNamesrvAddr(namesrv);
    admin.setInstanceName("compat-admin-" + runId);
    try {
      admin.start();
      closers.add(admin::shutdown);
      ClusterInfo cluster = admin.examineBrokerClusterInfo();
      List<String> masters = new ArrayList<>();
      for (BrokerData broker : cluster.getBrokerAddrTable().values()) {
        String addr = broker.getBrokerAddrs().get(MixAll.MASTER_ID);
        if (addr != null) {
          masters.add(broker.getBrokerName() + "@" + addr);
          for (String t : Arrays.asList(topic, tagTopic)) {
            TopicConfig config = new TopicConfig(t, QUEUES, QUEUES, PermName.PERM_READ | PermName.PERM_WRITE);
            admin.createAndUpdateTopicConfig(addr, config);
          }
        }
      }
      if (masters.isEmpty()) {
        throw new IllegalStateException("cluster info lists no master broker");
      }
      int wanted = QUEUES * masters.size();
      for (String t : Arrays.asList(topic, tagTopic)) {
        boolean routed = waitFor("route of " + t, phaseTimeoutMs, () -> writeQueues(admin, t) >= wanted,
            () -> "waiting for the name server to route " + t);
        if (!routed) {
          throw new IllegalStateException("route of " + t + " never showed " + wanted + " write queues");
        }
      }
      log("created both topics with %d queues on %s; routes visible", QUEUES, masters);
    } catch (Exception e) {
      log("WARN explicit topic creation failed (%s); relying on the broker's auto-create", e);
    }
  }

  private static int writeQueues(DefaultMQAdminExt admin, String t) {
    try {
      TopicRouteData route = admin.examineTopicRouteInfo(t);
      int n = 0;
      for (QueueData q : route.getQueueDatas()) {
        n += q.getWriteQueueNums();
      }
      return n;
    } catch (Exception e) {
      return 0; // not routed yet
    }
  }

  // ---------------------------------------------------------------- phase 2: send

  private void sendAll() throws Exception {
    phase("send");
    producer = new DefaultMQProducer("compat_pg_" + runId);
    producer.setNamesrvAddr(namesrv);
    producer.setInstanceName("compat-producer-" + runId);
    producer.setSendMsgTimeout(10_000);
    producer.start();
    closers.add(producer::shutdown);

    // Oneway first: the acknowledged sends that follow on the same connection give the broker time to store them.
    long t0 = System.nanoTime();
    int onewayErrors = 0;
    String firstOnewayError = null;
    for (int i = 0; i < PER_MODE; i++) {
      Message msg = message(topic, "oneway", i);
      try {
        producer.sendOneway(msg);
        onewaySent.add(msg.getKeys());
      } catch (Exception e) {
        onewayErrors++;
        if (firstOnewayError == null) {
          firstOnewayError = e.toString();
        }
      }
    }
    rate("oneway", PER_MODE, t0);
    check(onewayErrors == 0, "send oneway",
        String.format("%d/%d handed to the client without error%s", onewaySent.size(), PER_MODE,
            firstOnewayError == null ? "" : ", first error: " + firstOnewayError));

    t0 = System.nanoTime();
    Map<String, Integer> syncStatus = new TreeMap<>();
    for (int i = 0; i < PER_MODE; i++) {
      Message msg = message(topic, "sync", i);
      String outcome;
      try {
        SendResult result = BusyRetry.call(() -> producer.send(msg), busyRetries);
        outcome = result.getSendStatus().name();
        if (result.getSendStatus() == SendStatus.SEND_OK) {
          acked.add(msg.getKeys());
        }
      } catch (Exception e) {
        outcome = e.getClass().getSimpleName() + ": " + firstLine(e.getMessage());
      }
      syncStatus.merge(outcome, 1, Integer::sum);
    }
    rate("sync", PER_MODE, t0);
    check(syncStatus.getOrDefault("SEND_OK", 0) == PER_MODE, "send sync",
        String.format("%d/%d SEND_OK %s", syncStatus.getOrDefault("SEND_OK", 0), PER_MODE, syncStatus));

    t0 = System.nanoTime();
    Map<String, Integer> asyncStatus = new ConcurrentHashMap<>();
    Semaphore inFlight = new Semaphore(256);
    CountDownLatch done = new CountDownLatch(PER_MODE);
    for (int i = 0; i < PER_MODE; i++) {
      Message msg = message(topic, "async", i);
      inFlight.acquire();
      sendAsync(msg, 1, asyncStatus, () -> {
        inFlight.release();
        done.countDown();
      });
    }
    boolean asyncDone = done.await(phaseTimeoutMs, TimeUnit.MILLISECONDS);
    rate("async", PER_MODE, t0);
    int asyncOk = asyncStatus.getOrDefault("SEND_OK", 0);
    check(asyncDone && asyncOk == PER_MODE, "send async",
        String.format("%d/%d SEND_OK, %d callbacks outstanding %s", asyncOk, PER_MODE, done.getCount(),
            new TreeMap<>(asyncStatus)));

    t0 = System.nanoTime();
    int batchesOk = 0;
    int batchesWithAllIds = 0;
    Map<String, Integer> batchStatus = new TreeMap<>();
    for (int b = 0; b < PER_MODE / BATCH_SIZE; b++) {
      List<Message> batch = new ArrayList<>();
      for (int j = 0; j < BATCH_SIZE; j++) {
        batch.add(message(topic, "batch", b * BATCH_SIZE + j));
      }
      String outcome;
      try {
        SendResult result = BusyRetry.call(() -> producer.send(batch), busyRetries);
        outcome = result.getSendStatus().name();
        if (result.getSendStatus() == SendStatus.SEND_OK) {
          batchesOk++;
          for (Message m : batch) {
            acked.add(m.getKeys());
          }
          // The broker answers a batch with one offset message id per message, comma separated.
          String ids = result.getOffsetMsgId();
          if (ids != null && ids.split(",").length == BATCH_SIZE) {
            batchesWithAllIds++;
          }
        }
      } catch (Exception e) {
        outcome = e.getClass().getSimpleName() + ": " + firstLine(e.getMessage());
      }
      batchStatus.merge(outcome, 1, Integer::sum);
    }
    rate("batch", PER_MODE, t0);
    int batches = PER_MODE / BATCH_SIZE;
    check(batchesOk == batches, "send batch",
        String.format("%d/%d batches of %d SEND_OK %s", batchesOk, batches, BATCH_SIZE, batchStatus));
    check(batchesWithAllIds == batchesOk && batchesOk > 0, "batch offset message ids",
        String.format("%d/%d acknowledged batches answered with %d offset message ids", batchesWithAllIds,
            batchesOk, BATCH_SIZE));

    // The tag mix, acknowledged one by one so the expected set is exact.
    t0 = System.nanoTime();
    int tagOk = 0;
    for (String tag : TAG_KINDS) {
      for (int i = 0; i < TAG_PER_KIND; i++) {
        String kind = tag.isEmpty() ? "untagged" : tag;
        String key = runId + "-" + kind + "-" + i;
        Message msg = new Message(tagTopic, body(key, i));
        if (!tag.isEmpty()) {
          msg.setTags(tag);
        }
        msg.setKeys(key);
        msg.putUserProperty(PROP_MODE, kind);
        try {
          if (BusyRetry.call(() -> producer.send(msg), busyRetries).getSendStatus() == SendStatus.SEND_OK) {
            tagOk++;
            tagSent.add(key);
            if (tag.equals("TagA") || tag.equals("TagB")) {
              tagExpected.add(key);
            }
          }
        } catch (Exception e) {
          log("tag send failed: %s", e);
        }
      }
    }
    rate("tagged sync", TAG_KINDS.length * TAG_PER_KIND, t0);
    check(tagOk == TAG_KINDS.length * TAG_PER_KIND, "send tagged",
        String.format("%d/%d SEND_OK (TagA, TagB, TagC, TagAB, untagged x %d)", tagOk,
            TAG_KINDS.length * TAG_PER_KIND, TAG_PER_KIND));
    log("acknowledged %d of %d main-topic messages; %d oneway sent unacknowledged; %d sends repeated after "
        + "SYSTEM_BUSY", acked.size(), 4 * PER_MODE, onewaySent.size(), busyRetries.get());
  }

  /**
   * Sends {@code msg} asynchronously, again (after a backoff, on a timer thread) when the broker answers
   * SYSTEM_BUSY; {@code finished} runs once with the final outcome recorded in {@code status}.
   */
  private void sendAsync(Message msg, int attempt, Map<String, Integer> status, Runnable finished) {
    SendCallback callback = new SendCallback() {
      @Override
      public void onSuccess(SendResult result) {
        if (result.getSendStatus() == SendStatus.SEND_OK) {
          acked.add(msg.getKeys());
        }
        status.merge(result.getSendStatus().name(), 1, Integer::sum);
        finished.run();
      }

      @Override
      public void onException(Throwable e) {
        if (BusyRetry.isBusy(e) && attempt < BusyRetry.MAX_ATTEMPTS) {
          busyRetries.incrementAndGet();
          retryTimer.schedule(() -> sendAsync(msg, attempt + 1, status, finished), BusyRetry.backoffMs(attempt),
              TimeUnit.MILLISECONDS);
          return;
        }
        status.merge(e.getClass().getSimpleName() + ": " + firstLine(e.getMessage()), 1, Integer::sum);
        finished.run();
      }
    };
    try {
      producer.send(msg, callback);
    } catch (Exception e) {
      callback.onException(e);
    }
  }

  // ---------------------------------------------------------------- phase 3: stored

  private void countStored() throws Exception {
    phase("stored");
    AtomicReference<Map<Integer, Long>> last = new AtomicReference<>(null);
    AtomicInteger stableRounds = new AtomicInteger();
    boolean settled = waitFor("stored offsets", phaseTimeoutMs, () -> {
      Map<Integer, Long> now = queueSizes(topic);
      long total = now.values().stream().mapToLong(Long::longValue).sum();
      if (now.equals(last.get()) && total >= acked.size()) {
        if (stableRounds.incrementAndGet() >= 2) {
          storedPerQueue = now;
          storedTotal = total;
          return true;
        }
      } else {
        stableRounds.set(0);
      }
      last.set(now);
      Thread.sleep(400);
      return false;
    }, () -> "queue sizes so far " + last.get());
    long upper = acked.size() + onewaySent.size();
    check(settled && storedTotal >= acked.size() && storedTotal <= upper, "stored count",
        String.format("%d messages in %d queues %s (acknowledged %d, at most %d)", storedTotal,
            storedPerQueue.size(), storedPerQueue, acked.size(), upper));
  }

  /** Messages per queue id of {@code t}, from the brokers' min and max offsets. */
  private Map<Integer, Long> queueSizes(String t) throws Exception {
    Map<Integer, Long> sizes = new TreeMap<>();
    for (MessageQueue mq : producer.fetchPublishMessageQueues(t)) {
      long size = producer.maxOffset(mq) - producer.minOffset(mq);
      sizes.merge(mq.getQueueId(), size, Long::sum);
    }
    return sizes;
  }

  // ---------------------------------------------------------------- phase 4: push, two instances

  private void pushClustering() throws Exception {
    phase("push");
    String group = "compat_cg_" + runId;
    Map<String, Integer> received = new ConcurrentHashMap<>();
    AtomicInteger[] perInstance = {new AtomicInteger(), new AtomicInteger()};
    List<Set<Integer>> queuesSeen = Arrays.asList(ConcurrentHashMap.newKeySet(), ConcurrentHashMap.newKeySet());
    AtomicInteger badMessages = new AtomicInteger();
    AtomicReference<String> firstBad = new AtomicReference<>();
    AtomicInteger consumersSeen = new AtomicInteger();
    List<DefaultMQPushConsumer> consumers = new ArrayList<>();
    for (int n = 0; n < 2; n++) {
      final int idx = n;
      DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
      consumer.setNamesrvAddr(namesrv);
      consumer.setInstanceName("compat-push-" + (char) ('A' + n) + "-" + runId);
      consumer.setMessageModel(MessageModel.CLUSTERING);
      consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
      consumer.setAllocateMessageQueueStrategy(new AllocateOnceAllPresent(2, consumersSeen));
      consumer.subscribe(topic, "*");
      consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
        for (MessageExt m : msgs) {
          received.merge(m.getKeys(), 1, Integer::sum);
          perInstance[idx].incrementAndGet();
          queuesSeen.get(idx).add(m.getQueueId());
          String problem = verify(m);
          if (problem != null) {
            badMessages.incrementAndGet();
            firstBad.compareAndSet(null, problem);
          }
        }
        return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
      });
      consumers.add(consumer);
    }
    for (DefaultMQPushConsumer c : consumers) {
      c.start();
      closers.add(c::shutdown);
    }
    long t0 = System.nanoTime();
    boolean complete = waitFor("push consumers", phaseTimeoutMs, () -> received.size() >= storedTotal,
        () -> String.format("received %d/%d (A=%d B=%d), consumer list size last seen %d", received.size(),
            storedTotal, perInstance[0].get(), perInstance[1].get(), consumersSeen.get()));
    rate("push consume", received.size(), t0);
    quiet();
    for (DefaultMQPushConsumer c : consumers) {
      c.shutdown();
    }
    pushReceived = new HashMap<>(received);

    int deliveries = pushReceived.values().stream().mapToInt(Integer::intValue).sum();
    List<String> dups = keysWhere(pushReceived, v -> v > 1);
    Set<String> missingAcked = new TreeSet<>(acked);
    missingAcked.removeAll(pushReceived.keySet());
    Set<String> unexpected = new TreeSet<>(pushReceived.keySet());
    unexpected.removeAll(acked);
    unexpected.removeAll(onewaySent);
    Set<String> onewayArrived = new HashSet<>(onewaySent);
    onewayArrived.retainAll(pushReceived.keySet());

    check(complete && pushReceived.size() == storedTotal, "push received all stored",
        String.format("%d distinct of %d stored", pushReceived.size(), storedTotal));
    check(missingAcked.isEmpty(), "push no loss",
        String.format("%d of %d acknowledged messages missing%s", missingAcked.size(), acked.size(),
            sample(missingAcked)));
    check(dups.isEmpty() && deliveries == pushReceived.size(), "push no duplicates",
        String.format("%d deliveries for %d keys, %d keys delivered more than once%s", deliveries,
            pushReceived.size(), dups.size(), sample(dups)));
    check(unexpected.isEmpty(), "push nothing unexpected",
        String.format("%d received keys were never sent%s", unexpected.size(), sample(unexpected)));
    check(!onewayArrived.isEmpty(), "oneway arrival",
        String.format("%d of %d oneway messages arrived, each once (loss is tolerated: unacknowledged)",
            onewayArrived.size(), onewaySent.size()));
    Set<Integer> overlap = new TreeSet<>(queuesSeen.get(0));
    overlap.retainAll(queuesSeen.get(1));
    check(perInstance[0].get() > 0 && perInstance[1].get() > 0 && overlap.isEmpty(), "push queues shared",
        String.format("instance A got %d from queues %s, instance B got %d from queues %s", perInstance[0].get(),
            queuesSeen.get(0), perInstance[1].get(), queuesSeen.get(1)));
    check(badMessages.get() == 0, "push bodies and properties intact",
        String.format("%d bad%s", badMessages.get(), firstBad.get() == null ? "" : ", first: " + firstBad.get()));
  }

  /**
   * The averaging strategy, except that it hands out nothing until {@code expected} consumers are in the group's
   * consumer list: every allocation made is then the final one, so no queue changes owner during the run.
   */
  private static final class AllocateOnceAllPresent implements AllocateMessageQueueStrategy {
    private final int expected;
    private final AtomicInteger lastSeen;
    private final AllocateMessageQueueAveragely averagely = new AllocateMessageQueueAveragely();

    AllocateOnceAllPresent(int expected, AtomicInteger lastSeen) {
      this.expected = expected;
      this.lastSeen = lastSeen;
    }

    @Override
    public List<MessageQueue> allocate(String group, String currentCid, List<MessageQueue> mqAll,
        List<String> cidAll) {
      lastSeen.set(cidAll.size());
      if (cidAll.size() < expected) {
        return Collections.emptyList();
      }
      return averagely.allocate(group, currentCid, mqAll, cidAll);
    }

    @Override
    public String getName() {
      return "AVG_ONCE_" + expected + "_PRESENT";
    }
  }

  // ---------------------------------------------------------------- phase 5: tags

  private void tags() throws Exception {
    phase("tags");
    Map<String, Integer> received = new ConcurrentHashMap<>();
    Map<String, Integer> byKind = new ConcurrentHashMap<>();
    DefaultMQPushConsumer consumer = new DefaultMQPushConsumer("compat_tag_" + runId);
    consumer.setNamesrvAddr(namesrv);
    consumer.setInstanceName("compat-tag-" + runId);
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(tagTopic, TAG_EXPRESSION);
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        received.merge(m.getKeys(), 1, Integer::sum);
        byKind.merge(m.getTags() == null ? "untagged" : m.getTags(), 1, Integer::sum);
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    closers.add(consumer::shutdown);
    boolean complete = waitFor("tag consumer", phaseTimeoutMs,
        () -> received.keySet().containsAll(tagExpected),
        () -> String.format("received %d of %d expected, by tag %s", received.size(), tagExpected.size(),
            new TreeMap<>(byKind)));
    quiet();
    consumer.shutdown();
    Set<String> missing = new TreeSet<>(tagExpected);
    missing.removeAll(received.keySet());
    Set<String> extra = new TreeSet<>(received.keySet());
    extra.removeAll(tagExpected);
    List<String> dups = keysWhere(received, v -> v > 1);
    check(complete && missing.isEmpty() && extra.isEmpty() && dups.isEmpty(), "tag filter " + TAG_EXPRESSION,
        String.format("received %d keys, by tag %s; expected exactly %d (TagA+TagB); missing %d, other tags %d, "
            + "duplicated %d%s", received.size(), new TreeMap<>(byKind), tagExpected.size(), missing.size(),
            extra.size(), dups.size(), sample(extra)));
  }

  // ---------------------------------------------------------------- phase 6: pull

  private void pullBack() throws Exception {
    phase("pull");
    DefaultLitePullConsumer consumer = new DefaultLitePullConsumer("compat_pull_" + runId);
    consumer.setNamesrvAddr(namesrv);
    consumer.setInstanceName("compat-pull-" + runId);
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.setAutoCommit(false);
    consumer.setPullBatchSize(32);
    consumer.start();
    closers.add(consumer::shutdown);
    Collection<MessageQueue> queues = consumer.fetchMessageQueues(topic);
    Map<Integer, Long> expected = new TreeMap<>(storedPerQueue);
    expected.values().removeIf(v -> v == 0); // an empty queue yields nothing to count
    // A brand-new group with CONSUME_FROM_FIRST_OFFSET starts every queue at its first message. (seekToBegin right
    // after assign would race the pull tasks that assign starts and can hand out the first batch twice.)
    consumer.assign(queues);
    Map<String, Integer> pulled = new HashMap<>();
    Map<Integer, Long> perQueue = new TreeMap<>();
    AtomicInteger bad = new AtomicInteger();
    AtomicReference<String> firstBad = new AtomicReference<>();
    long t0 = System.nanoTime();
    boolean complete = waitFor("pull consumer", phaseTimeoutMs, () -> {
      List<MessageExt> batch;
      do { // drain what the consumer has buffered before checking again
        batch = consumer.poll(500);
        for (MessageExt m : batch) {
          pulled.merge(m.getKeys(), 1, Integer::sum);
          perQueue.merge(m.getQueueId(), 1L, Long::sum);
          String problem = verify(m);
          if (problem != null) {
            bad.incrementAndGet();
            firstBad.compareAndSet(null, problem);
          }
        }
      } while (!batch.isEmpty() && !reached(perQueue, expected));
      return reached(perQueue, expected);
    }, () -> String.format("pulled %s of %s", perQueue, expected));
    rate("pull", pulled.size(), t0);
    // Anything beyond the stored messages would show up now.
    long quietEnd = System.currentTimeMillis() + quietMs;
    while (System.currentTimeMillis() < quietEnd) {
      for (MessageExt m : consumer.poll(200)) {
        pulled.merge(m.getKeys(), 1, Integer::sum);
        perQueue.merge(m.getQueueId(), 1L, Long::sum);
      }
    }
    consumer.shutdown();
    int reads = pulled.values().stream().mapToInt(Integer::intValue).sum();
    List<String> dups = keysWhere(pulled, v -> v > 1);
    check(complete && perQueue.equals(expected), "pull read all stored",
        String.format("read %d messages per queue %s, stored %s", reads, perQueue, storedPerQueue));
    check(dups.isEmpty(), "pull no duplicates",
        String.format("%d keys read more than once%s", dups.size(), sample(dups)));
    check(pulled.keySet().equals(pushReceived.keySet()), "pull matches push",
        String.format("pull read %d keys, push received %d keys; same set: %s", pulled.size(),
            pushReceived.size(), pulled.keySet().equals(pushReceived.keySet())));
    check(bad.get() == 0, "pull bodies and properties intact",
        String.format("%d bad%s", bad.get(), firstBad.get() == null ? "" : ", first: " + firstBad.get()));
  }

  /** Every queue of {@code target} has at least its count in {@code counts} (more means duplicates). */
  private static boolean reached(Map<Integer, Long> counts, Map<Integer, Long> target) {
    for (Map.Entry<Integer, Long> e : target.entrySet()) {
      if (counts.getOrDefault(e.getKey(), 0L) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- messages

  private Message message(String t, String mode, int i) {
    String key = runId + "-" + mode + "-" + i;
    Message msg = new Message(t, mode, key, body(key, i));
    msg.putUserProperty(PROP_MODE, mode);
    return msg;
  }

  private static byte[] body(String key, int i) {
    int size = i % 50 == 7 ? BIG_BODY : SMALL_BODY;
    StringBuilder sb = new StringBuilder(size).append(key).append('|');
    while (sb.length() < size) {
      sb.append((char) ('a' + sb.length() % 26));
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Null when the message's body, tag and mode property are what its key says; else what is wrong. */
  private static String verify(MessageExt m) {
    String key = m.getKeys();
    if (key == null) {
      return "message " + m.getMsgId() + " has no key";
    }
    int dash = key.lastIndexOf('-');
    int prev = key.lastIndexOf('-', dash - 1);
    String mode = key.substring(prev + 1, dash);
    int i = Integer.parseInt(key.substring(dash + 1));
    if (!Arrays.equals(m.getBody(), body(key, i))) {
      return key + ": body differs (" + m.getBody().length + " bytes)";
    }
    if (!mode.equals(m.getUserProperty(PROP_MODE))) {
      return key + ": property " + PROP_MODE + "=" + m.getUserProperty(PROP_MODE);
    }
    if (!mode.equals(m.getTags())) {
      return key + ": tag " + m.getTags();
    }
    return null;
  }

  // ---------------------------------------------------------------- reporting and waiting

  private interface Condition {
    boolean ok() throws Exception;
  }

  /** Polls {@code cond} until it holds or {@code timeoutMs} pass, printing progress every 5 s. */
  private boolean waitFor(String what, long timeoutMs, Condition cond, Supplier<String> progress)
      throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    long nextReport = System.currentTimeMillis() + 5000;
    while (true) {
      if (cond.ok()) {
        return true;
      }
      long now = System.currentTimeMillis();
      if (now >= deadline) {
        log("%s: deadline of %d s passed; %s", what, timeoutMs / 1000, progress.get());
        return false;
      }
      if (now >= nextReport) {
        log("%s: %s", what, progress.get());
        nextReport = now + 5000;
      }
      Thread.sleep(20);
    }
  }

  /** Waits out the quiet period during which late duplicates would still arrive. */
  private void quiet() throws InterruptedException {
    Thread.sleep(quietMs);
  }

  private static List<String> keysWhere(Map<String, Integer> counts, java.util.function.IntPredicate p) {
    List<String> keys = new ArrayList<>();
    counts.forEach((k, v) -> {
      if (p.test(v)) {
        keys.add(k);
      }
    });
    Collections.sort(keys);
    return keys;
  }

  private static String sample(Collection<String> keys) {
    if (keys.isEmpty()) {
      return "";
    }
    List<String> first = new ArrayList<>(keys).subList(0, Math.min(5, keys.size()));
    return ", e.g. " + first;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private void check(boolean ok, String name, String detail) {
    if (ok) {
      passed++;
    } else {
      failures.add(name);
    }
    System.out.printf("[%s] %-34s %s%n", ok ? "PASS" : "FAIL", name, detail);
  }

  private void fail(String name, String detail) {
    check(false, name, detail);
  }

  private void phase(String name) {
    log("== phase %s", name);
  }

  private void rate(String what, int count, long t0) {
    double secs = (System.nanoTime() - t0) / 1e9;
    log("%s: %d messages in %.2f s (%.0f msg/s)", what, count, secs, count / Math.max(secs, 1e-9));
  }

  private void log(String fmt, Object... args) {
    System.out.printf("%7.2fs %s%n", (System.nanoTime() - startNanos) / 1e9, String.format(fmt, args));
  }

  private void closeAll() {
    Collections.reverse(closers);
    for (Runnable r : closers) {
      try {
        r.run();
      } catch (Throwable ignored) {
        // shutting down twice or after a failed start is harmless here
      }
    }
  }

  private int summary() {
    boolean pass = failures.isEmpty() && passed > 0;
    System.out.printf("CompatCheck: %d passed, %d failed%n", passed, failures.size());
    if (!failures.isEmpty()) {
      System.out.println("failed checks: " + String.join(", ", failures));
    }
    System.out.printf("RESULT: %s (%.1f s, run %s)%n", pass ? "PASS" : "FAIL",
        (System.nanoTime() - startNanos) / 1e9, runId);
    return pass ? 0 : 1;
  }
}
