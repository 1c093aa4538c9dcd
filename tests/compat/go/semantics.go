package main

// The -semantics mode: RocketMQ semantics the Go client has, on a fresh topic:
//   - an SQL92 subscription (consumer.MessageSelector{Type: SQL92}) gets exactly the messages whose user
//     properties match, nothing else;
//   - delay level 1 (WithDelayTimeLevel) is delivered no earlier than 1 s after the send;
//   - a timer (the TIMER_DELAY_MS property) is delivered no earlier than asked;
//   - transactions (NewTransactionProducer): committed messages are delivered once, rolled-back ones never, and
//     ones left unknown are checked back (CHECK_TRANSACTION_STATE to this producer), committed then, and
//     delivered once. The broker's transactionCheckInterval must be short (run_all.sh sets 1 s).

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// txListener decides by key prefix: txc- commit, txr- roll back, txu- unknown until checked back (then commit).
// Its producer needs an instance name of its own: a producer sharing a consumer's instance name shares that
// client, whose CHECK_TRANSACTION_STATE handler has no producer to call (check-backs are silently dropped).
type txListener struct {
	checks int64
}

func (l *txListener) ExecuteLocalTransaction(m *primitive.Message) primitive.LocalTransactionState {
	switch {
	case strings.HasPrefix(m.GetKeys(), "txc-"):
		return primitive.CommitMessageState
	case strings.HasPrefix(m.GetKeys(), "txr-"):
		return primitive.RollbackMessageState
	default:
		return primitive.UnknowState
	}
}

func (l *txListener) CheckLocalTransaction(m *primitive.MessageExt) primitive.LocalTransactionState {
	if strings.HasPrefix(m.GetKeys(), "txu-") {
		atomic.AddInt64(&l.checks, 1)
		return primitive.CommitMessageState
	}
	return l.ExecuteLocalTransaction(&m.Message)
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
	txs := &seen{count: map[string]int{}, wait: map[string]int64{}}
	if err := subscribe("tx", consumer.MessageSelector{Type: consumer.TAG, Expression: "tx"}, txs); err != nil {
		return false, "transaction consumer: " + err.Error()
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
	listener := &txListener{}
	tp, err := rocketmq.NewTransactionProducer(listener, producer.WithNameServer(nsAddrs),
		producer.WithGroupName(sanitize(cfg.topic+"_txpg")), producer.WithInstanceName("fmqsem-txproducer-"+runID),
		producer.WithRetry(2))
	if err != nil {
		return false, "new transaction producer: " + err.Error()
	}
	if err := tp.Start(); err != nil {
		return false, "transaction producer start: " + err.Error()
	}
	defer func() { _ = tp.Shutdown() }()
	var wantTx, rolledBack []string
	for i := 0; i < 3; i++ {
		for _, kind := range []string{"txc", "txr", "txu"} {
			key := fmt.Sprintf("%s-%s-%d", kind, runID, i)
			m := primitive.NewMessage(cfg.topic, []byte(key))
			m.WithKeys([]string{key})
			m.WithTag("tx")
			r, err := tp.SendMessageInTransaction(ctx, m)
			if err != nil {
				return false, "transactional send " + key + ": " + err.Error()
			}
			if r.Status != primitive.SendOK {
				return false, fmt.Sprintf("transactional send %s: status %v", key, r.Status)
			}
			if kind == "txr" {
				rolledBack = append(rolledBack, key)
			} else {
				wantTx = append(wantTx, key)
			}
		}
	}
	logf(start, "sent 30 messages with properties, 5 at delay level 1, 5 timers 2 s ahead, 9 transactional (3 committed, 3 rolled back, 3 left unknown)")
	if err := waitFor(ctx, 100*time.Millisecond, func() bool {
		return sql.has(wantSQL) && delayed.has(wantDelay) && timers.has(wantTimer) && txs.has(wantTx)
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
	check("transaction", txs, wantTx, 0)
	txs.mu.Lock()
	for _, k := range rolledBack {
		if txs.count[k] > 0 {
			problems = append(problems, "rolled-back transaction "+k+" was delivered")
		}
	}
	txs.mu.Unlock()
	checks := atomic.LoadInt64(&listener.checks)
	if checks < 3 {
		problems = append(problems, fmt.Sprintf("%d check-backs for the 3 unknown transactions", checks))
	}
	if len(problems) > 0 {
		return false, strings.Join(problems, "; ")
	}
	return true, fmt.Sprintf("sql92 selector got exactly %d of 30, 5 delayed and 5 timers on time, 6 transactions "+
		"committed (3 after %d check-backs) and delivered once, 3 rolled back never delivered", len(wantSQL), checks)
}
