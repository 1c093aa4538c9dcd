package io.ferrymq.compat;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * Gives a consumer group something to report: sends {@code count} messages to {@code topic} and consumes all of
 * them with a push consumer of {@code group}, then shuts the consumer down (which commits its offsets).
 * Used by tests/compat/run_mqadmin_compat.sh before {@code mqadmin consumerProgress}.
 *
 * <p>Usage: {@code SeedGroup <namesrvAddr> <topic> <group> <count>}; exit 0 when all were sent and consumed
 * within {@code -Dcompat.phaseTimeoutSec} (default 120), 1 otherwise, 2 on bad usage.
 */
public final class SeedGroup {
  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: SeedGroup <namesrvAddr> <topic> <group> <count>");
      System.exit(2);
    }
    String namesrv = args[0];
    String topic = args[1];
    String group = args[2];
    int count = Integer.parseInt(args[3]);
    long timeoutMs = Long.getLong("compat.phaseTimeoutSec", 120) * 1000L;
    String run = group + "-" + System.currentTimeMillis();

    DefaultMQProducer producer = new DefaultMQProducer(group + "_producer");
    producer.setNamesrvAddr(namesrv);
    producer.setInstanceName("seed-producer-" + run);
    producer.start();
    int sent = 0;
    AtomicInteger busyRetries = new AtomicInteger();
    for (int i = 0; i < count; i++) {
      Message msg = new Message(topic, "seed", run + "-" + i, ("seed " + i).getBytes(StandardCharsets.UTF_8));
      if (BusyRetry.call(() -> producer.send(msg), busyRetries).getSendStatus() == SendStatus.SEND_OK) {
        sent++;
      }
    }
    producer.shutdown();

    Set<String> received = ConcurrentHashMap.newKeySet();
    DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
    consumer.setNamesrvAddr(namesrv);
    consumer.setInstanceName("seed-consumer-" + run);
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        if (m.getKeys() != null && m.getKeys().startsWith(run + "-")) {
          received.add(m.getKeys());
        }
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (received.size() < sent && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
    }
    consumer.shutdown();
    boolean ok = sent == count && received.size() == sent;
    System.out.printf("SeedGroup: group %s on topic %s: sent %d/%d, consumed %d -> %s%n", group, topic, sent, count,
        received.size(), ok ? "PASS" : "FAIL");
    System.exit(ok ? 0 : 1);
  }
}
