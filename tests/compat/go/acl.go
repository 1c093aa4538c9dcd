package main

// The -acl mode: the Go client with ACL credentials (producer.WithCredentials / consumer.WithCredentials,
// primitive.Credentials) against a broker with aclEnable. The topic argument is a topic the account may
// publish to and consume with -acl-group; -acl-denied-topic is one it may not use. Checks:
//   - every message sent to the permitted topic is acknowledged and then consumed by a push consumer with the
//     same credentials (nothing lost, nothing extra; messages other checks left on the topic are ignored);
//   - a send to the denied topic fails, and so does a send signed with a wrong secret;
//   - a consumer with the wrong secret receives nothing.
// The topics exist already (the ACL script creates them with the admin account).

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	rocketmq "github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

type aclConfig struct {
	accessKey, secretKey, deniedTopic, group string
}

func runACL(cfg config, acl aclConfig) (bool, string) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.deadline)
	defer cancel()
	nsAddrs := primitive.NamesrvAddr(strings.Split(cfg.namesrv, ";"))
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	creds := primitive.Credentials{AccessKey: acl.accessKey, SecretKey: acl.secretKey}
	wrong := primitive.Credentials{AccessKey: acl.accessKey, SecretKey: acl.secretKey + "-wrong"}

	var mu sync.Mutex
	got := map[string]int{}
	c, err := consumer.NewPushConsumer(consumer.WithNameServer(nsAddrs), consumer.WithGroupName(acl.group),
		consumer.WithInstance("fmqacl-"+runID), consumer.WithCredentials(creds),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset))
	if err != nil {
		return false, "new consumer: " + err.Error()
	}
	if err := c.Subscribe(cfg.topic, consumer.MessageSelector{}, func(_ context.Context,
		msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			got[string(m.Body)]++
		}
		return consumer.ConsumeSuccess, nil
	}); err != nil {
		return false, "subscribe: " + err.Error()
	}
	if err := c.Start(); err != nil {
		return false, "consumer start: " + err.Error()
	}
	defer c.Shutdown()

	newProducer := func(name string, cr primitive.Credentials) (rocketmq.Producer, error) {
		p, err := rocketmq.NewProducer(producer.WithNameServer(nsAddrs), producer.WithGroupName("fmqacl_pg"),
			producer.WithInstanceName("fmqacl-"+name+"-"+runID), producer.WithCredentials(cr), producer.WithRetry(1))
		if err != nil {
			return nil, err
		}
		return p, p.Start()
	}
	p, err := newProducer("ok", creds)
	if err != nil {
		return false, "producer: " + err.Error()
	}
	defer p.Shutdown()
	sent := map[string]bool{}
	for i := 0; i < cfg.count; i++ {
		key := fmt.Sprintf("acl-%s-%d", runID, i)
		r, err := p.SendSync(ctx, primitive.NewMessage(cfg.topic, []byte(key)))
		if err != nil || r.Status != primitive.SendOK {
			return false, fmt.Sprintf("send %d to the permitted topic %s failed: %v", i, cfg.topic, err)
		}
		sent[key] = true
	}
	logf(start, "%d messages sent to %s with credentials %s", len(sent), cfg.topic, acl.accessKey)

	if _, err := p.SendSync(ctx, primitive.NewMessage(acl.deniedTopic, []byte("denied"))); err == nil {
		return false, "a send to the denied topic " + acl.deniedTopic + " succeeded"
	} else {
		logf(start, "send to %s refused as it should be: %v", acl.deniedTopic, err)
	}
	bad, err := newProducer("wrong", wrong)
	if err != nil {
		return false, "producer with the wrong secret: " + err.Error()
	}
	defer bad.Shutdown()
	if _, err := bad.SendSync(ctx, primitive.NewMessage(cfg.topic, []byte("wrong-secret"))); err == nil {
		return false, "a send signed with a wrong secret succeeded"
	} else {
		logf(start, "send with a wrong secret refused as it should be: %v", err)
	}

	for {
		mu.Lock()
		done := 0
		for k := range sent {
			if got[k] > 0 {
				done++
			}
		}
		extra := 0 // what a refused send would have stored; other checks' messages on the topic are not counted
		for k := range got {
			if k == "wrong-secret" || (strings.HasPrefix(k, "acl-"+runID+"-") && !sent[k]) {
				extra++
			}
		}
		mu.Unlock()
		if extra > 0 {
			return false, fmt.Sprintf("%d unexpected messages consumed (a refused send was stored?)", extra)
		}
		if done == len(sent) {
			return true, fmt.Sprintf("acl: sent=%d consumed=%d denied-topic refused, wrong secret refused", len(sent), done)
		}
		select {
		case <-ctx.Done():
			return false, fmt.Sprintf("only %d of %d messages consumed before the deadline", done, len(sent))
		case <-time.After(200 * time.Millisecond):
		}
	}
}
