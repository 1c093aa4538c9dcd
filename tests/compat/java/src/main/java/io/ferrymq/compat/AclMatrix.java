package io.ferrymq.compat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageBatch;
import org.apache.rocketmq.common.message.MessageDecoder;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.ResponseCode;
import org.apache.rocketmq.common.protocol.body.LockBatchRequestBody;
import org.apache.rocketmq.common.protocol.heartbeat.ConsumeType;
import org.apache.rocketmq.common.protocol.heartbeat.ConsumerData;
import org.apache.rocketmq.common.protocol.heartbeat.HeartbeatData;
import org.apache.rocketmq.common.protocol.heartbeat.MessageModel;
import org.apache.rocketmq.common.protocol.heartbeat.SubscriptionData;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.subscription.SubscriptionGroupConfig;
import org.apache.rocketmq.remoting.RPCHook;
import org.apache.rocketmq.remoting.netty.NettyClientConfig;
import org.apache.rocketmq.remoting.netty.NettyRemotingClient;
import org.apache.rocketmq.remoting.protocol.RemotingCommand;

/**
 * The ACL matrix: every request code the Java client or mqadmin sends to a broker or name server, each sent six
 * ways through Apache's own remoting client and its AclClientRPCHook (rocketmq-acl 4.9.7):
 *
 * <pre>
 *   none      no signature at all                              must be refused (except name-server reads)
 *   wrong     a known access key signed with a wrong secret    must be refused (except name-server reads)
 *   unknown   an access key the broker does not know           must be refused (except name-server reads)
 *   without   the app's valid key, on a resource it may not use (admin codes: the app's key at all)
 *   with      the app's valid key on its own topic and group   must be served (not for admin codes)
 *   admin     the admin's key                                  must be served
 * </pre>
 *
 * "Refused" is NO_PERMISSION (16), FerryMQ's answer (RocketMQ 5's; Apache 4.9 answered SYSTEM_ERROR with the same
 * text). "Served" is any answer the request's processor gives (listed per code), never 16. Then every send that
 * was refused must have stored nothing: the permitted topic holds exactly the messages of the served sends and
 * the denied topic none. Prints a line per case and "acl-matrix: N cases, U unauthorized successes, W wrongly
 * refused, S stored-on-refusal"; exits 1 unless all three are 0.
 *
 * <p>Arguments: namesrvAddr brokerAddr appKey appSecret adminKey adminSecret permittedTopic deniedTopic
 * permittedGroup deniedGroup
 */
public final class AclMatrix {
  enum Need { OPEN, AUTH, RESOURCE, ADMIN }

  /** One request code: where it goes, what it needs, how to build it for a topic and group. */
  static final class Case {
    final String name;
    final int code;
    final boolean toNameServer;
    final Need need;
    final Set<Integer> served;
    final Function<String[], RemotingCommand> build; // {topic, group} -> request

    Case(String name, int code, boolean toNameServer, Need need, Integer[] served,
        Function<String[], RemotingCommand> build) {
      this.name = name;
      this.code = code;
      this.toNameServer = toNameServer;
      this.need = need;
      this.served = served == null ? null : new HashSet<>(Arrays.asList(served));
      this.build = build;
    }
  }

  static RemotingCommand req(int code, String... kv) {
    RemotingCommand r = RemotingCommand.createRequestCommand(code, null);
    for (int i = 0; i + 1 < kv.length; i += 2) {
      r.addExtField(kv[i], kv[i + 1]);
    }
    return r;
  }

  static RemotingCommand withBody(RemotingCommand r, byte[] body) {
    r.setBody(body);
    return r;
  }

  static String[] sendFields(String topic, boolean batch) {
    return new String[] {"a", "matrix_pg", "b", topic, "c", "TBW102", "d", "4", "e", "0", "f", "0",
      "g", Long.toString(System.currentTimeMillis()), "h", "0", "i", "", "j", "0", "k", "false",
      "m", Boolean.toString(batch)};
  }

  static byte[] heartbeat(String topic, String group) {
    HeartbeatData hb = new HeartbeatData();
    hb.setClientID("acl-matrix@1");
    ConsumerData c = new ConsumerData();
    c.setGroupName(group);
    c.setConsumeType(ConsumeType.CONSUME_PASSIVELY);
    c.setMessageModel(MessageModel.CLUSTERING);
    c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET);
    SubscriptionData s = new SubscriptionData();
    s.setTopic(topic);
    s.setSubString("*");
    s.setSubVersion(System.currentTimeMillis());
    c.getSubscriptionDataSet().add(s);
    hb.getConsumerDataSet().add(c);
    return hb.encode();
  }

  static byte[] lockBody(String topic, String group, String broker) {
    LockBatchRequestBody b = new LockBatchRequestBody();
    b.setConsumerGroup(group);
    b.setClientId("acl-matrix@1");
    b.setMqSet(new HashSet<>(Collections.singletonList(new MessageQueue(topic, broker, 0))));
    return b.encode();
  }

  static byte[] batchBody(String topic) throws Exception {
    List<Message> list = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Message m = new Message(topic, ("batch " + i).getBytes(StandardCharsets.UTF_8));
      list.add(m);
    }
    MessageBatch batch = MessageBatch.generateFromList(list);
    for (Message m : batch) {
      org.apache.rocketmq.common.message.MessageClientIDSetter.setUniqID(m);
    }
    batch.setBody(batch.encode());
    return batch.getBody();
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 10) {
      System.err.println("usage: AclMatrix namesrv broker appKey appSecret adminKey adminSecret permittedTopic"
          + " deniedTopic permittedGroup deniedGroup");
      System.exit(2);
    }
    final String namesrv = args[0];
    final String broker = args[1];
    final String okTopic = args[6];
    final String deniedTopic = args[7];
    final String okGroup = args[8];
    final String deniedGroup = args[9];
    final String brokerName = "broker-a";
    final String scratch = okTopic + "_scratch";

    Map<String, RPCHook> hooks = new LinkedHashMap<>();
    hooks.put("none", null);
    hooks.put("wrong", new AclClientRPCHook(new SessionCredentials(args[2], args[3] + "-wrong")));
    hooks.put("unknown", new AclClientRPCHook(new SessionCredentials("nobody-knows-me", "whatever-secret")));
    hooks.put("without", new AclClientRPCHook(new SessionCredentials(args[2], args[3])));
    hooks.put("with", new AclClientRPCHook(new SessionCredentials(args[2], args[3])));
    hooks.put("admin", new AclClientRPCHook(new SessionCredentials(args[4], args[5])));
    Map<String, NettyRemotingClient> clients = new LinkedHashMap<>();
    for (Map.Entry<String, RPCHook> e : hooks.entrySet()) {
      NettyRemotingClient c = new NettyRemotingClient(new NettyClientConfig());
      if (e.getValue() != null) {
        c.registerRPCHook(e.getValue());
      }
      c.start();
      clients.put(e.getKey(), c);
    }

    final byte[] batchOk = batchBody(okTopic);
    final byte[] batchDenied = batchBody(deniedTopic);
    Integer[] any = null; // any answer but 16
    Integer[] ok = {ResponseCode.SUCCESS};
    List<Case> cases = new ArrayList<>();
    // Producer and consumer requests.
    cases.add(new Case("SEND_MESSAGE", 10, false, Need.RESOURCE, ok,
        tg -> withBody(req(10, "producerGroup", "matrix_pg", "topic", tg[0], "defaultTopic", "TBW102",
            "defaultTopicQueueNums", "4", "queueId", "0", "sysFlag", "0", "bornTimestamp", "1",
            "flag", "0", "reconsumeTimes", "0", "unitMode", "false", "batch", "false"),
            "v1".getBytes(StandardCharsets.UTF_8))));
    cases.add(new Case("SEND_MESSAGE_V2", 310, false, Need.RESOURCE, ok,
        tg -> withBody(req(310, sendFields(tg[0], false)), "v2".getBytes(StandardCharsets.UTF_8))));
    cases.add(new Case("SEND_BATCH_MESSAGE", 320, false, Need.RESOURCE, ok,
        tg -> withBody(req(320, sendFields(tg[0], true)), tg[0].equals(okTopic) ? batchOk : batchDenied)));
    cases.add(new Case("PULL_MESSAGE", 11, false, Need.RESOURCE, new Integer[] {0, 19, 20, 21},
        tg -> req(11, "consumerGroup", tg[1], "topic", tg[0], "queueId", "0", "queueOffset", "0",
            "maxMsgNums", "1", "sysFlag", "4", "commitOffset", "0", "suspendTimeoutMillis", "0",
            "subscription", "*", "subVersion", "0", "expressionType", "TAG")));
    cases.add(new Case("QUERY_MESSAGE", 12, false, Need.RESOURCE, new Integer[] {0, 22},
        tg -> req(12, "topic", tg[0], "key", "k", "maxNum", "32", "beginTimestamp", "0",
            "endTimestamp", Long.toString(Long.MAX_VALUE), "_UNIQUE_KEY_QUERY", "false")));
    cases.add(new Case("QUERY_CONSUMER_OFFSET", 14, false, Need.RESOURCE, new Integer[] {0, 22},
        tg -> req(14, "consumerGroup", tg[1], "topic", tg[0], "queueId", "0")));
    cases.add(new Case("UPDATE_CONSUMER_OFFSET", 15, false, Need.RESOURCE, ok,
        tg -> req(15, "consumerGroup", tg[1], "topic", tg[0], "queueId", "0", "commitOffset", "0")));
    cases.add(new Case("HEART_BEAT", 34, false, Need.RESOURCE, ok,
        tg -> withBody(req(34), heartbeat(tg[0], tg[1]))));
    cases.add(new Case("UNREGISTER_CLIENT", 35, false, Need.RESOURCE, ok,
        tg -> req(35, "clientID", "acl-matrix@1", "consumerGroup", tg[1])));
    cases.add(new Case("CONSUMER_SEND_MSG_BACK", 36, false, Need.RESOURCE, any,
        tg -> req(36, "offset", "0", "group", tg[1], "delayLevel", "0", "originMsgId", "x",
            "originTopic", tg[0], "unitMode", "false", "maxReconsumeTimes", "16")));
    cases.add(new Case("GET_CONSUMER_LIST_BY_GROUP", 38, false, Need.RESOURCE, any,
        tg -> req(38, "consumerGroup", tg[1])));
    cases.add(new Case("LOCK_BATCH_MQ", 41, false, Need.RESOURCE, ok,
        tg -> withBody(req(41), lockBody(tg[0], tg[1], brokerName))));
    cases.add(new Case("UNLOCK_BATCH_MQ", 42, false, Need.RESOURCE, ok,
        tg -> withBody(req(42), lockBody(tg[0], tg[1], brokerName))));
    cases.add(new Case("SEARCH_OFFSET_BY_TIMESTAMP", 29, false, Need.AUTH, ok,
        tg -> req(29, "topic", tg[0], "queueId", "0", "timestamp", "0")));
    cases.add(new Case("GET_MAX_OFFSET", 30, false, Need.AUTH, ok, tg -> req(30, "topic", tg[0], "queueId", "0")));
    cases.add(new Case("GET_MIN_OFFSET", 31, false, Need.AUTH, ok, tg -> req(31, "topic", tg[0], "queueId", "0")));
    cases.add(new Case("GET_EARLIEST_MSG_STORETIME", 32, false, Need.AUTH, any,
        tg -> req(32, "topic", tg[0], "queueId", "0")));
    cases.add(new Case("VIEW_MESSAGE_BY_ID", 33, false, Need.AUTH, any, tg -> req(33, "offset", "0")));
    cases.add(new Case("END_TRANSACTION", 37, false, Need.AUTH, any,
        tg -> req(37, "producerGroup", "matrix_pg", "tranStateTableOffset", "0", "commitLogOffset", "0",
            "commitOrRollback", "0", "fromTransactionCheck", "false", "msgId", "none")));
    cases.add(new Case("CHECK_CLIENT_CONFIG", 46, false, Need.AUTH, any,
        tg -> withBody(req(46), ("{\"group\":\"" + tg[1] + "\",\"subscriptionData\":{\"topic\":\"" + tg[0]
            + "\",\"subString\":\"*\",\"expressionType\":\"TAG\"}}").getBytes(StandardCharsets.UTF_8))));
    // mqadmin's reads.
    cases.add(new Case("GET_ALL_TOPIC_CONFIG", 21, false, Need.AUTH, ok, tg -> req(21)));
    cases.add(new Case("GET_BROKER_RUNTIME_INFO", 28, false, Need.AUTH, ok, tg -> req(28)));
    cases.add(new Case("GET_ALL_CONSUMER_OFFSET", 43, false, Need.AUTH, ok, tg -> req(43)));
    cases.add(new Case("GET_ALL_DELAY_OFFSET", 45, false, Need.AUTH, ok, tg -> req(45)));
    cases.add(new Case("GET_ALL_SUBSCRIPTIONGROUP_CONFIG", 201, false, Need.AUTH, ok, tg -> req(201)));
    cases.add(new Case("GET_TOPIC_STATS_INFO", 202, false, Need.AUTH, ok, tg -> req(202, "topic", tg[0])));
    cases.add(new Case("GET_CONSUMER_CONNECTION_LIST", 203, false, Need.AUTH, any,
        tg -> req(203, "consumerGroup", tg[1])));
    cases.add(new Case("GET_PRODUCER_CONNECTION_LIST", 204, false, Need.AUTH, any,
        tg -> req(204, "producerGroup", "matrix_pg")));
    cases.add(new Case("GET_CONSUME_STATS", 208, false, Need.AUTH, any,
        tg -> req(208, "consumerGroup", tg[1], "topic", tg[0])));
    cases.add(new Case("QUERY_TOPIC_CONSUME_BY_WHO", 300, false, Need.AUTH, ok, tg -> req(300, "topic", tg[0])));
    cases.add(new Case("GET_CONSUMER_RUNNING_INFO", 307, false, Need.AUTH, any,
        tg -> req(307, "consumerGroup", tg[1], "clientId", "acl-matrix@1", "jstackEnable", "false")));
    cases.add(new Case("VIEW_BROKER_STATS_DATA", 315, false, Need.AUTH, any,
        tg -> req(315, "statsName", "TOPIC_PUT_NUMS", "statsKey", tg[0])));
    // Admin writes and secrets.
    cases.add(new Case("UPDATE_AND_CREATE_TOPIC", 17, false, Need.ADMIN, ok,
        tg -> req(17, "topic", scratch, "defaultTopic", "TBW102", "readQueueNums", "1", "writeQueueNums", "1",
            "perm", "6", "topicFilterType", "SINGLE_TAG", "topicSysFlag", "0", "order", "false")));
    cases.add(new Case("DELETE_TOPIC_IN_BROKER", 215, false, Need.ADMIN, ok, tg -> req(215, "topic", scratch)));
    cases.add(new Case("UPDATE_AND_CREATE_SUBSCRIPTIONGROUP", 200, false, Need.ADMIN, ok, tg -> {
      SubscriptionGroupConfig g = new SubscriptionGroupConfig();
      g.setGroupName(scratch + "_cg");
      return withBody(req(200), org.apache.rocketmq.remoting.protocol.RemotingSerializable.encode(g));
    }));
    cases.add(new Case("DELETE_SUBSCRIPTIONGROUP", 207, false, Need.ADMIN, ok,
        tg -> req(207, "groupName", scratch + "_cg", "removeOffset", "true")));
    cases.add(new Case("GET_BROKER_CONFIG", 26, false, Need.ADMIN, ok, tg -> req(26)));
    cases.add(new Case("UPDATE_BROKER_CONFIG", 25, false, Need.ADMIN, ok,
        tg -> withBody(req(25), "brokerPermission=6\n".getBytes(StandardCharsets.UTF_8))));
    cases.add(new Case("INVOKE_BROKER_TO_RESET_OFFSET", 222, false, Need.ADMIN, any,
        tg -> req(222, "topic", tg[0], "group", tg[1], "timestamp", "0", "isForce", "false")));
    cases.add(new Case("CONSUME_MESSAGE_DIRECTLY", 309, false, Need.ADMIN, any,
        tg -> req(309, "consumerGroup", tg[1], "clientId", "acl-matrix@1", "msgId", "none")));
    cases.add(new Case("UPDATE_AND_CREATE_ACL_CONFIG", 50, false, Need.ADMIN, ok,
        tg -> req(50, "accessKey", "acl-matrix-scratch", "secretKey", "scratch-secret", "admin", "false",
            "defaultTopicPerm", "DENY", "defaultGroupPerm", "DENY", "topicPerms", okTopic + "=SUB")));
    cases.add(new Case("GET_BROKER_CLUSTER_ACL_INFO", 52, false, Need.ADMIN, ok, tg -> req(52)));
    cases.add(new Case("GET_BROKER_CLUSTER_ACL_CONFIG", 54, false, Need.ADMIN, ok, tg -> req(54)));
    cases.add(new Case("UPDATE_GLOBAL_WHITE_ADDRS_CONFIG", 53, false, Need.ADMIN, ok,
        tg -> req(53, "globalWhiteAddrs", "10.255.255.254")));
    cases.add(new Case("DELETE_ACL_CONFIG", 51, false, Need.ADMIN, ok,
        tg -> req(51, "accessKey", "acl-matrix-scratch")));
    // Name server: reads open to everyone, writes need an admin.
    cases.add(new Case("GET_ROUTEINFO_BY_TOPIC", 105, true, Need.OPEN, ok, tg -> req(105, "topic", tg[0])));
    cases.add(new Case("GET_BROKER_CLUSTER_INFO", 106, true, Need.OPEN, ok, tg -> req(106)));
    cases.add(new Case("GET_ALL_TOPIC_LIST_FROM_NAMESERVER", 206, true, Need.OPEN, ok, tg -> req(206)));
    cases.add(new Case("GET_TOPICS_BY_CLUSTER", 224, true, Need.OPEN, ok, tg -> req(224, "cluster", "DefaultCluster")));
    cases.add(new Case("GET_KV_CONFIG", 101, true, Need.OPEN, any, tg -> req(101, "namespace", "acl", "key", "k")));
    cases.add(new Case("GET_KVLIST_BY_NAMESPACE", 219, true, Need.OPEN, any, tg -> req(219, "namespace", "acl")));
    cases.add(new Case("PUT_KV_CONFIG", 100, true, Need.ADMIN, ok,
        tg -> req(100, "namespace", "acl", "key", "k", "value", "v")));
    cases.add(new Case("DELETE_KV_CONFIG", 102, true, Need.ADMIN, ok,
        tg -> req(102, "namespace", "acl", "key", "k")));
    cases.add(new Case("WIPE_WRITE_PERM_OF_BROKER", 205, true, Need.ADMIN, ok,
        tg -> req(205, "brokerName", brokerName)));
    cases.add(new Case("ADD_WRITE_PERM_OF_BROKER", 327, true, Need.ADMIN, ok,
        tg -> req(327, "brokerName", brokerName)));
    cases.add(new Case("DELETE_TOPIC_IN_NAMESRV", 216, true, Need.ADMIN, ok, tg -> req(216, "topic", scratch)));

    int tried = 0;
    int unauthorized = 0;
    int wronglyRefused = 0;
    int servedSends = 0;
    for (Case c : cases) {
      for (String who : hooks.keySet()) {
        boolean mayPass;
        String[] tg = {okTopic, okGroup};
        switch (who) {
          case "none":
          case "wrong":
          case "unknown":
            mayPass = c.need == Need.OPEN;
            break;
          case "without":
            if (c.need == Need.RESOURCE) {
              tg = new String[] {deniedTopic, deniedGroup};
              // The group half alone is checked too: permitted topic, denied group (codes with a group).
              if (c.code == 36 || c.code == 35 || c.code == 38) {
                tg = new String[] {okTopic, deniedGroup};
              }
              mayPass = false;
            } else if (c.need == Need.ADMIN) {
              mayPass = false;
            } else {
              continue; // a valid key without a permission does not exist for these codes
            }
            break;
          case "with":
            if (c.need == Need.ADMIN) {
              continue; // only the admin has it
            }
            mayPass = true;
            break;
          default:
            mayPass = true;
        }
        RemotingCommand r = c.build.apply(tg);
        String addr = c.toNameServer ? namesrv : broker;
        int code;
        String remark;
        try {
          RemotingCommand resp = clients.get(who).invokeSync(addr, r, 10_000);
          code = resp.getCode();
          remark = resp.getRemark();
        } catch (Exception e) {
          code = -1;
          remark = e.toString();
        }
        tried++;
        String verdict;
        if (mayPass) {
          boolean good = code != ResponseCode.NO_PERMISSION && code != -1
              && (c.served == null || c.served.contains(code));
          if (!good) {
            wronglyRefused++;
          }
          if (good && (c.code == 10 || c.code == 310 || c.code == 320)) {
            servedSends += c.code == 320 ? 2 : 1;
          }
          verdict = good ? "PASS served" : "FAIL not served";
        } else {
          boolean good = code == ResponseCode.NO_PERMISSION;
          if (!good) {
            unauthorized++;
          }
          verdict = good ? "PASS refused" : "FAIL UNAUTHORIZED SUCCESS";
        }
        System.out.printf("[%s] %s (%d) as %s on %s/%s: code=%d remark=%s%n", verdict.startsWith("PASS") ? "PASS"
            : "FAIL", c.name, c.code, who, tg[0], tg[1], code, remark);
      }
    }

    // Nothing refused was stored: the permitted topic has exactly the served sends, the denied one nothing.
    NettyRemotingClient admin = clients.get("admin");
    long okCount = maxOffset(admin, broker, okTopic);
    long deniedCount = maxOffset(admin, broker, deniedTopic);
    int storedOnRefusal = 0;
    if (okCount != servedSends || deniedCount != 0) {
      storedOnRefusal = (int) Math.max(1, Math.abs(okCount - servedSends) + deniedCount);
    }
    System.out.printf("[%s] stored messages: %s has %d (served sends %d), %s has %d (expected 0)%n",
        storedOnRefusal == 0 ? "PASS" : "FAIL", okTopic, okCount, servedSends, deniedTopic, deniedCount);
    System.out.printf("acl-matrix: %d cases, %d unauthorized successes, %d wrongly refused, %d stored-on-refusal%n",
        tried, unauthorized, wronglyRefused, storedOnRefusal);
    for (NettyRemotingClient c : clients.values()) {
      c.shutdown();
    }
    System.exit(unauthorized == 0 && wronglyRefused == 0 && storedOnRefusal == 0 ? 0 : 1);
  }

  static long maxOffset(NettyRemotingClient admin, String broker, String topic) throws Exception {
    // The dispatcher builds queues shortly after the append: wait until two reads agree.
    long last = -2;
    for (int i = 0; i < 50; i++) {
      RemotingCommand r = admin.invokeSync(broker, req(30, "topic", topic, "queueId", "0"), 5_000);
      long v = r.getCode() == ResponseCode.SUCCESS ? Long.parseLong(r.getExtFields().get("offset")) : -1;
      if (v == last) {
        return v;
      }
      last = v;
      Thread.sleep(200);
    }
    return last;
  }

  private AclMatrix() {}
}
