package io.ferrymq.compat;

import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.common.protocol.ResponseCode;

/**
 * Retries a send the broker turned away with SYSTEM_BUSY (its flow control, e.g. "[TIMEOUT_CLEAN_QUEUE]broker
 * busy" when a request waited too long in the send queue). Such a request was never stored, so sending it again
 * cannot duplicate it, and the Java client does not retry this code itself. A loaded machine makes the Apache
 * broker answer so; the checks count these retries instead of failing on them.
 */
final class BusyRetry {
  static final int MAX_ATTEMPTS = 20;

  private BusyRetry() {}

  static boolean isBusy(Throwable e) {
    return e instanceof MQBrokerException
        && ((MQBrokerException) e).getResponseCode() == ResponseCode.SYSTEM_BUSY;
  }

  /** Backoff before attempt {@code attempt + 1}: 50 ms, 100 ms, ... at most 1 s. */
  static long backoffMs(int attempt) {
    return Math.min(1000L, 50L * attempt);
  }

  static <T> T call(Callable<T> send, AtomicInteger retries) throws Exception {
    for (int attempt = 1; ; attempt++) {
      try {
        return send.call();
      } catch (Exception e) {
        if (!isBusy(e) || attempt >= MAX_ATTEMPTS) {
          throw e;
        }
        retries.incrementAndGet();
        Thread.sleep(backoffMs(attempt));
      }
    }
  }
}
