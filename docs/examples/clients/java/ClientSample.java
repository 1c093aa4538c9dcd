// FerryMQ client sample (Java, rocketmq-client 4.9.x): credentials and the name-server address come from the
// files of a FerryMQ User Secret mounted at $FERRYMQ_USER_DIR (default /etc/ferrymq/user): accessKey, secretKey,
// namesrvAddr. Sends <count> messages to <topic>, then consumes them with consumer group <group>.
//
//   java -cp <rocketmq-client and rocketmq-acl jars> ClientSample.java <topic> <group> <count>
//
// Prints "sent N" and "consumed N" and exits 0, or exits 1 with the reason.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragely;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

public class ClientSample {
  static String read(Path dir, String key) throws Exception {
    return Files.readString(dir.resolve(key), StandardCharsets.UTF_8).trim();
  }

  public static void main(String[] args) {
    try {
      run(args);
    } catch (Exception e) {
      // The reason is in the cause: "CODE: 16 DESC: No default permission for topic:<t>" for a refusal.
      StringBuilder why = new StringBuilder("failed: " + e);
      for (Throwable c = e.getCause(); c != null; c = c.getCause()) why.append(" caused by: ").append(c);
      System.out.println(why);  // the client's threads would keep the JVM alive
      System.exit(1);
    }
  }

  static void run(String[] args) throws Exception {
    String topic = args[0], group = args[1];
    int count = Integer.parseInt(args[2]);
    Path dir = Path.of(System.getenv().getOrDefault("FERRYMQ_USER_DIR", "/etc/ferrymq/user"));
    SessionCredentials credentials = new SessionCredentials(read(dir, "accessKey"), read(dir, "secretKey"));
    String namesrv = read(dir, "namesrvAddr");

    DefaultMQProducer producer = new DefaultMQProducer(group + "-producer", new AclClientRPCHook(credentials));
    producer.setNamesrvAddr(namesrv);
    producer.start();
    Set<String> sent = ConcurrentHashMap.newKeySet();
    for (int i = 0; i < count; i++) {
      String body = "sample-" + System.nanoTime() + "-" + i;
      producer.send(new Message(topic, body.getBytes(StandardCharsets.UTF_8)));
      sent.add(body);
    }
    System.out.println("sent " + sent.size());

    Set<String> consumed = ConcurrentHashMap.newKeySet();
    DefaultMQPushConsumer consumer =
        new DefaultMQPushConsumer(group, new AclClientRPCHook(credentials), new AllocateMessageQueueAveragely());
    consumer.setNamesrvAddr(namesrv);
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, context) -> {
      for (MessageExt m : msgs) consumed.add(new String(m.getBody(), StandardCharsets.UTF_8));
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    long deadline = System.currentTimeMillis() + 60_000;
    while (!consumed.containsAll(sent) && System.currentTimeMillis() < deadline) Thread.sleep(100);
    consumer.shutdown();
    producer.shutdown();
    sent.removeAll(consumed);
    if (!sent.isEmpty()) {
      System.out.println("missing " + sent.size());
      System.exit(1);
    }
    System.out.println("consumed " + count);
    System.exit(0);
  }
}
