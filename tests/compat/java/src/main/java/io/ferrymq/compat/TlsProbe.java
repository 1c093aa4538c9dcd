package io.ferrymq.compat;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * One producer and one push consumer of the Java client 4.9.7 with whatever TLS the JVM's system properties ask
 * for (-Dtls.enable=true, -Dtls.test.mode.enable=false, -Dtls.client.certPath=... as the client reads them):
 * sends {@code count} messages to {@code topic}, then consumes them from the first offset. Prints "PASS sent=N
 * consumed=N" and exits 0, or "FAIL <why>" and exits 1 (a send that fails, or messages missing at the deadline).
 *
 * <p>Arguments: namesrvAddr topic count deadlineSeconds
 */
public final class TlsProbe {
  public static void main(String[] args) throws Exception {
    String namesrv = args[0];
    String topic = args[1];
    int count = Integer.parseInt(args[2]);
    long deadline = System.currentTimeMillis() + Long.parseLong(args[3]) * 1000;
    DefaultMQProducer producer = new DefaultMQProducer("tls_probe_pg");
    producer.setNamesrvAddr(namesrv);
    producer.setInstanceName("tls-probe-" + System.nanoTime());
    producer.setSendMsgTimeout(5000);
    producer.start();
    Set<String> sent = ConcurrentHashMap.newKeySet();
    Set<String> got = ConcurrentHashMap.newKeySet();
    try {
      for (int i = 0; i < count; i++) {
        String body = topic + "-" + i;
        SendResult r = producer.send(new Message(topic, body.getBytes(StandardCharsets.UTF_8)));
        if (r.getSendStatus() != SendStatus.SEND_OK) {
          System.out.println("FAIL send " + i + ": " + r.getSendStatus());
          System.exit(1);
        }
        sent.add(body);
      }
    } catch (Exception e) {
      System.out.println("FAIL send: " + e);
      System.exit(1);
    }
    DefaultMQPushConsumer consumer = new DefaultMQPushConsumer("tls_probe_cg_" + topic);
    consumer.setNamesrvAddr(namesrv);
    consumer.setInstanceName("tls-probe-c-" + System.nanoTime());
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        got.add(new String(m.getBody(), StandardCharsets.UTF_8));
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    while (System.currentTimeMillis() < deadline && !got.containsAll(sent)) {
      Thread.sleep(100);
    }
    consumer.shutdown();
    producer.shutdown();
    if (!got.containsAll(sent)) {
      System.out.printf("FAIL consumed %d of %d before the deadline%n", got.size(), sent.size());
      System.exit(1);
    }
    System.out.printf("PASS sent=%d consumed=%d%n", sent.size(), got.size());
    System.exit(0);
  }

  private TlsProbe() {}
}
