package io.ferrymq.compat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;

/**
 * A running application during a key rotation: reads accessKey, secretKey and namesrvAddr once at start from the
 * files of a User Secret in {@code dir} (as a mounted Secret), then sends one message to {@code topic} every
 * {@code intervalMs} for {@code seconds}, never re-reading them. Prints one line per send, "T ok" or "T fail
 * reason" with T the send's start in Unix milliseconds, and "done ok=N fail=M" at the end; exits 0 (the caller
 * judges the timeline). Any TLS comes from the JVM's system properties (-Dtls.enable=true).
 *
 * <p>Arguments: dir topic intervalMs seconds
 */
public final class SteadySender {
  static String read(Path dir, String key) throws Exception {
    return Files.readString(dir.resolve(key), StandardCharsets.UTF_8).trim();
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    String topic = args[1];
    long interval = Long.parseLong(args[2]);
    long seconds = Long.parseLong(args[3]);
    SessionCredentials credentials = new SessionCredentials(read(dir, "accessKey"), read(dir, "secretKey"));
    DefaultMQProducer producer = new DefaultMQProducer("steady_sender_pg", new AclClientRPCHook(credentials));
    producer.setNamesrvAddr(read(dir, "namesrvAddr"));
    producer.setInstanceName("steady-sender-" + System.nanoTime());
    producer.setSendMsgTimeout(3000);
    producer.setRetryTimesWhenSendFailed(0);
    producer.start();
    long start = System.currentTimeMillis();
    long ok = 0, fail = 0;
    for (long i = 0; System.currentTimeMillis() - start < seconds * 1000; i++) {
      long t = System.currentTimeMillis();
      try {
        SendResult r = producer.send(new Message(topic, ("steady-" + i).getBytes(StandardCharsets.UTF_8)));
        if (r.getSendStatus() == SendStatus.SEND_OK) {
          ok++;
          System.out.println(t + " ok");
        } else {
          fail++;
          System.out.println(t + " fail " + r.getSendStatus());
        }
      } catch (Exception e) {
        fail++;
        System.out.println(t + " fail " + String.valueOf(e.getMessage()).replace('\n', ' '));
      }
      System.out.flush();
      Thread.sleep(interval);
    }
    System.out.println("done ok=" + ok + " fail=" + fail);
    System.out.flush();
    System.exit(0);  // the client's threads would keep the JVM alive
  }
}
