package main

// The -semantics mode: RocketMQ semantics the Go client has, on a fresh topic:
//   - an SQL92 subscription (consumer.MessageSelector{Type: SQL92}) gets exactly the messages whose user
//     properties match, nothing else;
//   - delay level 1 (WithDelayTimeLevel) is delivered no earlier than 1 s after the send;
//   - a timer (the TIMER_DELAY_MS property) is delivered no earlier than asked.

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

type seen struct {
	mu    sync.Mutex
	count map[string]int
	wait  map[string]int64 // store time of the delivered copy - born time, ms
}

func (s *seen) add(msgs ...*primitive.MessageExt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		s.count[m.GetKeys()]++
		s.wait[m.GetKeys()] = m.StoreTimestamp - m.BornTimestamp
	}
}

func (s *seen) has(keys []string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if s.count[k] == 0 {
			return false
		}
	}
	return true
}

func runSemantics(cfg config) (bool, string) {
	start := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(cfg.deadline))
	defer cancel()
	nsAddrs := primitive.NamesrvAddr(strings.Split(cfg.namesrv, ";"))
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := createTopic(ctx, start, cfg, nsAddrs); err != nil {
		return false, "topic creation: " + err.Error()
	}
	consumers := []rocketmq.PushConsumer{}
	defer func() {
		for _, c := range consumers {
			_ = c.Shutdown()
		}
	}()
	subscribe := func(name string, sel consumer.MessageSelector, s *seen) error {
		c, err := consumer.NewPushConsumer(
			consumer.WithNameServer(nsAddrs),
			consumer.WithGroupName(sanitize(cfg.topic+"_"+name)),
			consumer.WithInstance("fmqsem-"+name+"-"+runID),
			consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
		)
		if err != nil {
			return err
		}
		if err := c.Subscribe(cfg.topic, sel, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
			s.add(msgs...)
			return consumer.ConsumeSuccess, nil
		}); err != nil {
			return err
		}
		if err := c.Start(); err != nil {
			return err
		}
		consumers = append(consumers, c)
		return nil
	}
	sql := &seen{count: map[string]int{}, wait: map[string]int64{}}
	delayed := &seen{count: map[string]int{}, wait: map[string]int64{}}
	timers := &seen{count: map[string]int{}, wait: map[string]int64{}}
	if err := subscribe("sql", consumer.MessageSelector{Type: consumer.SQL92, Expression: "price >= 10 AND region IN ('eu')"}, sql); err != nil {
		return false, "sql92 consumer: " + err.Error()
	}
	if err := subscribe("delay", consumer.MessageSelector{Type: consumer.TAG, Expression: "delay"}, delayed); err != nil {
		return false, "delay consumer: " + err.Error()
	}
	if err := subscribe("timer", consumer.MessageSelector{Type: consumer.TAG, Expression: "timer"}, timers); err != nil {
		return false, "timer consumer: " + err.Error()
	}
	p, err := rocketmq.NewProducer(producer.WithNameServer(nsAddrs), producer.WithGroupName(sanitize(cfg.topic+"_pg")),
		producer.WithInstanceName("fmqsem-producer-"+runID), producer.WithRetry(2))
	if err != nil {
		return false, "new producer: " + err.Error()
	}
	if err := p.Start(); err != nil {
		return false, "producer start: " + err.Error()
	}
	defer func() { _ = p.Shutdown() }()
	send := func(m *primitive.Message) error {
		r, err := p.SendSync(ctx, m)
		if err != nil {
			return err
		}
		if r.Status != primitive.SendOK {
			return fmt.Errorf("status %v", r.Status)
		}
		return nil
	}
	var wantSQL, wantDelay, wantTimer []string
	for i := 0; i < 30; i++ {
		key := fmt.Sprintf("sql-%s-%d", runID, i)
		region := "us"
		if i%2 == 0 {
			region = "eu"
		}
		m := primitive.NewMessage(cfg.topic, []byte(key))
		m.WithKeys([]string{key})
		m.WithTag("sql")
		m.WithProperty("price", strconv.Itoa(i))
		m.WithProperty("region", region)
		if err := send(m); err != nil {
			return false, "send " + key + ": " + err.Error()
		}
		if i >= 10 && region == "eu" {
			wantSQL = append(wantSQL, key)
		}
	}
	for i := 0; i < 5; i++ {
		key := fmt.Sprintf("delay-%s-%d", runID, i)
		m := primitive.NewMessage(cfg.topic, []byte(key))
		m.WithKeys([]string{key})
		m.WithTag("delay")
		m.WithDelayTimeLevel(1)
		if err := send(m); err != nil {
			return false, "send " + key + ": " + err.Error()
		}
		wantDelay = append(wantDelay, key)
		key = fmt.Sprintf("timer-%s-%d", runID, i)
		m = primitive.NewMessage(cfg.topic, []byte(key))
		m.WithKeys([]string{key})
		m.WithTag("timer")
		m.WithProperty("TIMER_DELAY_MS", "2000")
		if err := send(m); err != nil {
			return false, "send " + key + ": " + err.Error()
		}
		wantTimer = append(wantTimer, key)
	}
	logf(start, "sent 30 messages with properties, 5 at delay level 1, 5 timers 2 s ahead")
	if err := waitFor(ctx, 100*time.Millisecond, func() bool {
		return sql.has(wantSQL) && delayed.has(wantDelay) && timers.has(wantTimer)
	}); err != nil {
		logf(start, "not everything arrived before the deadline")
	}
	time.Sleep(cfg.grace)
	var problems []string
	sql.mu.Lock()
	got := []string{}
	for k := range sql.count {
		got = append(got, k)
	}
	sql.mu.Unlock()
	sort.Strings(got)
	sort.Strings(wantSQL)
	if strings.Join(got, ",") != strings.Join(wantSQL, ",") {
		problems = append(problems, fmt.Sprintf("sql92 got %v, want %v", got, wantSQL))
	}
	check := func(what string, s *seen, want []string, atLeast int64) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, k := range want {
			switch {
			case s.count[k] == 0:
				problems = append(problems, what+" "+k+" never delivered")
			case s.count[k] > 1:
				problems = append(problems, fmt.Sprintf("%s %s delivered %d times", what, k, s.count[k]))
			case s.wait[k] < atLeast:
				problems = append(problems, fmt.Sprintf("%s %s delivered %d ms after the send (asked %d)", what, k, s.wait[k], atLeast))
			}
		}
	}
	check("delay level 1", delayed, wantDelay, 1000)
	check("timer", timers, wantTimer, 2000)
	if len(problems) > 0 {
		return false, strings.Join(problems, "; ")
	}
	return true, fmt.Sprintf("sql92 selector got exactly %d of 30, 5 delayed and 5 timers on time", len(wantSQL))
}
