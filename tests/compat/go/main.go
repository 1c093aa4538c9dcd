// Command gocompat checks a RocketMQ-4.x-compatible broker with the official Go client
// (github.com/apache/rocketmq-client-go/v2): it creates a fresh topic, starts a clustering
// push consumer, produces N messages with unique keys (sync sends from several goroutines,
// every k-th message async) and verifies that every acknowledged send is consumed exactly
// once, with its body and user property intact, before a deadline.
//
// Usage: gocompat [flags] <namesrvAddr> <topic>
//
// It prints progress lines and ends with one line starting with "PASS" or "FAIL"; the exit
// code is 0 on PASS, 1 on FAIL and 2 on usage errors.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/rocketmq-client-go/v2/admin"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"
)

const (
	propSeq = "fmqSeq" // user property carried by every message, checked on consumption
	tag     = "fmqcompat"
)

type config struct {
	namesrv      string
	topic        string
	count        int
	asyncEvery   int
	senders      int
	asyncWindow  int
	queues       int
	brokers      string
	createTopic  bool
	deadline     time.Duration
	grace        time.Duration
	bodySize     int
	maxSendFails int
	logLevel     string
}

func main() {
	var cfg config
	flag.IntVar(&cfg.count, "n", 10000, "messages to produce")
	flag.IntVar(&cfg.asyncEvery, "async-every", 10, "every k-th message is sent with SendAsync (0 = none)")
	flag.IntVar(&cfg.senders, "senders", 4, "goroutines doing sync sends")
	flag.IntVar(&cfg.asyncWindow, "async-window", 256, "max async sends in flight")
	flag.IntVar(&cfg.queues, "queues", 8, "read/write queue count of the created topic")
	flag.StringVar(&cfg.brokers, "broker", "", "comma-separated broker addresses to create the topic on (default: masters from the name server's cluster info)")
	flag.BoolVar(&cfg.createTopic, "create-topic", true, "create the topic explicitly with the admin API (false: rely on the broker's auto-create)")
	flag.DurationVar(&cfg.deadline, "deadline", 120*time.Second, "overall deadline")
	flag.DurationVar(&cfg.grace, "grace", 3*time.Second, "how long to keep consuming after everything arrived, to catch late duplicates")
	flag.IntVar(&cfg.bodySize, "body-size", 200, "approximate body size in bytes")
	flag.IntVar(&cfg.maxSendFails, "max-send-failures", 0, "send failures tolerated before the check fails")
	var acl aclConfig
	aclMode := flag.Bool("acl", false, "check ACL credentials instead (acl.go): -access-key, -secret-key, -acl-group, -acl-denied-topic")
	flag.StringVar(&acl.accessKey, "access-key", "", "ACL access key (-acl)")
	flag.StringVar(&acl.secretKey, "secret-key", "", "ACL secret key (-acl)")
	flag.StringVar(&acl.group, "acl-group", "", "consumer group the account may use (-acl)")
	flag.StringVar(&acl.deniedTopic, "acl-denied-topic", "", "a topic the account may not use (-acl)")
	semantics := flag.Bool("semantics", false, "check SQL92 subscriptions, delay levels and timer messages instead (semantics.go)")
	flag.StringVar(&cfg.logLevel, "client-log-level", "error", "log level of the Go client's own logger (debug, info, warn, error, fatal)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [flags] <namesrvAddr> <topic>\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	cfg.namesrv, cfg.topic = flag.Arg(0), flag.Arg(1)
	if cfg.count <= 0 || cfg.senders <= 0 || cfg.asyncWindow <= 0 || cfg.queues <= 0 {
		fmt.Fprintln(os.Stderr, "gocompat: -n, -senders, -async-window and -queues must be positive")
		os.Exit(2)
	}
	// The client logs every rebalance, heartbeat and pull at info level through logrus on
	// stderr; keep only what matters.
	rlog.SetLogLevel(cfg.logLevel)

	run := run
	if *semantics {
		run = runSemantics
	}
	if *aclMode {
		run = func(c config) (bool, string) { return runACL(c, acl) }
	}
	ok, summary := run(cfg)
	if ok {
		fmt.Println("PASS " + summary)
		os.Exit(0)
	}
	fmt.Println("FAIL " + summary)
	os.Exit(1)
}

func logf(start time.Time, format string, args ...interface{}) {
	fmt.Printf("[go-compat %6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
}

// Send outcome per message index.
const (
	sendPending int32 = iota
	sendOK
	sendFailed
)

type delivery struct {
	count  int
	msgIDs []string
}

type tracker struct {
	mu         sync.Mutex
	deliveries map[string]*delivery // key -> deliveries
	corrupt    []string             // descriptions of messages whose body/property did not match
	foreign    []string             // keys not produced by this run
	total      int64
}

func run(cfg config) (bool, string) {
	start := time.Now()
	deadline := start.Add(cfg.deadline)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	nsAddrs := primitive.NamesrvAddr(strings.Split(cfg.namesrv, ";"))
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	group := sanitize(cfg.topic + "_cg")
	logf(start, "client=rocketmq-client-go/v2 namesrv=%s topic=%s group=%s n=%d async_every=%d senders=%d deadline=%s",
		cfg.namesrv, cfg.topic, group, cfg.count, cfg.asyncEvery, cfg.senders, cfg.deadline)

	// 1. Topic.
	if cfg.createTopic {
		if err := createTopic(ctx, start, cfg, nsAddrs); err != nil {
			return false, "topic creation: " + err.Error()
		}
	} else {
		logf(start, "not creating the topic: relying on broker auto-create (the consumer starts after the first send)")
	}

	// 2. Consumer (started before producing when the topic exists: the Go push consumer
	// refuses to start on a topic without route).
	tr := &tracker{deliveries: make(map[string]*delivery, cfg.count)}
	prefix := "go-" + runID + "-"
	keys := make([]string, cfg.count)
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
	}
	body := func(i int) string {
		b := fmt.Sprintf("%s%d|", prefix, i)
		for len(b) < cfg.bodySize {
			b += "ferrymq-compat-"
		}
		return b
	}
	onMessages := func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		for _, m := range msgs {
			tr.total++
			key := m.GetKeys()
			if !strings.HasPrefix(key, prefix) {
				tr.foreign = append(tr.foreign, key)
				continue
			}
			d := tr.deliveries[key]
			if d == nil {
				d = &delivery{}
				tr.deliveries[key] = d
			}
			d.count++
			d.msgIDs = append(d.msgIDs, m.MsgId)
			i, err := strconv.Atoi(strings.TrimPrefix(key, prefix))
			switch {
			case err != nil:
				tr.corrupt = append(tr.corrupt, "bad key "+key)
			case string(m.Body) != body(i):
				tr.corrupt = append(tr.corrupt, fmt.Sprintf("key %s: body mismatch (%d bytes)", key, len(m.Body)))
			case m.GetProperty(propSeq) != strconv.Itoa(i):
				tr.corrupt = append(tr.corrupt, fmt.Sprintf("key %s: property %s=%q", key, propSeq, m.GetProperty(propSeq)))
			case m.GetTags() != tag:
				tr.corrupt = append(tr.corrupt, fmt.Sprintf("key %s: tag %q", key, m.GetTags()))
			}
		}
		return consumer.ConsumeSuccess, nil
	}
	pc, err := consumer.NewPushConsumer(
		consumer.WithNameServer(nsAddrs),
		consumer.WithGroupName(group),
		consumer.WithInstance("fmqcompat-consumer-"+runID),
		consumer.WithConsumerModel(consumer.Clustering),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
	)
	if err != nil {
		return false, "new push consumer: " + err.Error()
	}
	if err := pc.Subscribe(cfg.topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "*"}, onMessages); err != nil {
		return false, "subscribe: " + err.Error()
	}
	consumerStarted := false
	startConsumer := func() error {
		if err := pc.Start(); err != nil {
			return err
		}
		consumerStarted = true
		logf(start, "push consumer started (clustering, consume from first offset)")
		return nil
	}
	if cfg.createTopic {
		if err := startConsumer(); err != nil {
			return false, "start push consumer: " + err.Error()
		}
	}

	// 3. Producer.
	p, err := producer.NewDefaultProducer(
		producer.WithNameServer(nsAddrs),
		producer.WithGroupName(sanitize(cfg.topic+"_pg")),
		producer.WithInstanceName("fmqcompat-producer-"+runID),
		producer.WithRetry(2),
	)
	if err != nil {
		return false, "new producer: " + err.Error()
	}
	if err := p.Start(); err != nil {
		return false, "start producer: " + err.Error()
	}
	logf(start, "producer started")

	state := make([]int32, cfg.count)
	var syncOK, asyncOK, syncFail, asyncFail, asyncInFlight int64
	var firstErrMu sync.Mutex
	var firstErrs []string
	noteErr := func(kind string, i int, err error) {
		firstErrMu.Lock()
		if len(firstErrs) < 5 {
			firstErrs = append(firstErrs, fmt.Sprintf("%s #%d: %v", kind, i, err))
		}
		firstErrMu.Unlock()
	}
	newMsg := func(i int) *primitive.Message {
		m := primitive.NewMessage(cfg.topic, []byte(body(i)))
		m.WithTag(tag)
		m.WithKeys([]string{keys[i]})
		m.WithProperty(propSeq, strconv.Itoa(i))
		return m
	}
	asyncSlots := make(chan struct{}, cfg.asyncWindow)
	// The client may call an async callback twice for one send (error, then again); the
	// first outcome wins.
	resolve := func(i int, outcome int32) bool {
		return atomic.CompareAndSwapInt32(&state[i], sendPending, outcome)
	}

	// Message 0 goes alone, before the concurrent senders start. rocketmq-client-go v2.1.2
	// hands a new route to the producer before it records the broker's address, so sends
	// racing with the producer's first route lookup can fail at once, without retry, with
	// "topic=... route info not found" whatever the broker (apache/rocketmq-client-go#598,
	// #1173). Without an explicit topic this send also has the broker auto-create it, and
	// the consumer starts after it.
	res, err := p.SendSync(ctx, newMsg(0))
	if err != nil || res.Status != primitive.SendOK {
		return false, fmt.Sprintf("first send: %v %v", res, err)
	}
	resolve(0, sendOK)
	atomic.AddInt64(&syncOK, 1)
	next := int64(1)
	if !cfg.createTopic {
		if err := waitFor(ctx, 200*time.Millisecond, func() bool { return startConsumer() == nil }); err != nil {
			return false, "start push consumer after auto-create: " + err.Error()
		}
	}

	var senders sync.WaitGroup
	for s := 0; s < cfg.senders; s++ {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for {
				i := int(atomic.AddInt64(&next, 1) - 1)
				if i >= cfg.count || ctx.Err() != nil {
					return
				}
				if cfg.asyncEvery > 0 && i%cfg.asyncEvery == cfg.asyncEvery-1 {
					select {
					case asyncSlots <- struct{}{}:
					case <-ctx.Done():
						return
					}
					atomic.AddInt64(&asyncInFlight, 1)
					idx := i
					err := p.SendAsync(ctx, func(_ context.Context, res *primitive.SendResult, err error) {
						if err == nil && res != nil && res.Status == primitive.SendOK {
							if resolve(idx, sendOK) {
								atomic.AddInt64(&asyncOK, 1)
								atomic.AddInt64(&asyncInFlight, -1)
								<-asyncSlots
							}
							return
						}
						if err == nil {
							err = fmt.Errorf("status %v", res)
						}
						if resolve(idx, sendFailed) {
							noteErr("async", idx, err)
							atomic.AddInt64(&asyncFail, 1)
							atomic.AddInt64(&asyncInFlight, -1)
							<-asyncSlots
						}
					}, newMsg(i))
					if err != nil && resolve(idx, sendFailed) {
						noteErr("async submit", idx, err)
						atomic.AddInt64(&asyncFail, 1)
						atomic.AddInt64(&asyncInFlight, -1)
						<-asyncSlots
					}
					continue
				}
				res, err := p.SendSync(ctx, newMsg(i))
				if err == nil && res.Status == primitive.SendOK {
					resolve(i, sendOK)
					atomic.AddInt64(&syncOK, 1)
				} else {
					if err == nil {
						err = fmt.Errorf("status %v", res.Status)
					}
					resolve(i, sendFailed)
					noteErr("sync", i, err)
					atomic.AddInt64(&syncFail, 1)
				}
			}
		}()
	}
	sendersDone := make(chan struct{})
	go func() { senders.Wait(); close(sendersDone) }()

	// 4. Wait: all sends resolved and every acknowledged key consumed, then a grace period.
	ackedConsumed := func() (acked, consumed int) {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		for i := range state {
			if atomic.LoadInt32(&state[i]) == sendOK {
				acked++
				if tr.deliveries[keys[i]] != nil {
					consumed++
				}
			}
		}
		return
	}
	progress := func(tag string) {
		acked, consumed := ackedConsumed()
		tr.mu.Lock()
		total := tr.total
		tr.mu.Unlock()
		logf(start, "%s sent_ok=%d (sync=%d async=%d) send_failed=%d async_in_flight=%d consumed_unique=%d/%d deliveries=%d",
			tag, acked, atomic.LoadInt64(&syncOK), atomic.LoadInt64(&asyncOK),
			atomic.LoadInt64(&syncFail)+atomic.LoadInt64(&asyncFail), atomic.LoadInt64(&asyncInFlight),
			consumed, acked, total)
	}
	ticker := time.NewTicker(2 * time.Second)
	defer ticker.Stop()
	var produceTime time.Duration
	sendsDone := false
	timedOut := false
wait:
	for {
		if !sendsDone {
			select {
			case <-sendersDone:
				if atomic.LoadInt64(&asyncInFlight) == 0 {
					sendsDone = true
					produceTime = time.Since(start)
					progress("produced")
				}
			default:
			}
		}
		if sendsDone {
			acked, consumed := ackedConsumed()
			if consumed == acked {
				break wait
			}
		}
		select {
		case <-ctx.Done():
			timedOut = true
			break wait
		case <-ticker.C:
			progress("progress")
		case <-time.After(50 * time.Millisecond):
		}
	}
	consumeTime := time.Since(start)
	if !timedOut {
		logf(start, "all acknowledged messages consumed; waiting %s for late duplicates", cfg.grace)
		select {
		case <-time.After(cfg.grace):
		case <-ctx.Done():
		}
	}
	progress("final")

	// 5. Shut down (bounded: a stuck shutdown must not hide the verdict).
	shutdown(start, "producer", p.Shutdown)
	if consumerStarted {
		shutdown(start, "consumer", pc.Shutdown)
	}

	// 6. Verdict.
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var problems []string
	var acked, lost, dup, unackedArrived, pending int
	var lostSample, dupSample []string
	for i := range state {
		key := keys[i]
		d := tr.deliveries[key]
		switch atomic.LoadInt32(&state[i]) {
		case sendOK:
			acked++
			if d == nil {
				lost++
				if len(lostSample) < 5 {
					lostSample = append(lostSample, key)
				}
			} else if d.count > 1 {
				dup++
				if len(dupSample) < 5 {
					dupSample = append(dupSample, fmt.Sprintf("%s x%d ids=%v", key, d.count, d.msgIDs))
				}
			}
		case sendFailed:
			if d != nil {
				unackedArrived++
			}
		default:
			pending++
		}
	}
	failed := int(atomic.LoadInt64(&syncFail) + atomic.LoadInt64(&asyncFail))
	if timedOut {
		problems = append(problems, fmt.Sprintf("deadline %s exceeded", cfg.deadline))
	}
	if pending > 0 {
		problems = append(problems, fmt.Sprintf("%d sends never completed", pending))
	}
	if failed > cfg.maxSendFails {
		problems = append(problems, fmt.Sprintf("%d sends failed (first: %s)", failed, strings.Join(firstErrs, "; ")))
	}
	if lost > 0 {
		problems = append(problems, fmt.Sprintf("%d acknowledged messages lost (e.g. %s)", lost, strings.Join(lostSample, ", ")))
	}
	if dup > 0 {
		problems = append(problems, fmt.Sprintf("%d acknowledged messages delivered more than once (e.g. %s)", dup, strings.Join(dupSample, "; ")))
	}
	if len(tr.corrupt) > 0 {
		problems = append(problems, fmt.Sprintf("%d corrupt deliveries (e.g. %s)", len(tr.corrupt), tr.corrupt[0]))
	}
	if len(tr.foreign) > 0 {
		problems = append(problems, fmt.Sprintf("%d deliveries with foreign keys (e.g. %q)", len(tr.foreign), tr.foreign[0]))
	}
	if produceTime == 0 {
		produceTime = time.Since(start)
	}
	summary := fmt.Sprintf("go-client topic=%s produced=%d acked=%d (sync=%d async=%d) send_failed=%d consumed_unique=%d deliveries=%d lost=%d duplicated=%d unacked_but_delivered=%d produce=%.1fs consume=%.1fs",
		cfg.topic, cfg.count, acked, atomic.LoadInt64(&syncOK), atomic.LoadInt64(&asyncOK), failed,
		acked-lost, tr.total, lost, dup, unackedArrived, produceTime.Seconds(), consumeTime.Seconds())
	if len(problems) > 0 {
		return false, summary + " problems: " + strings.Join(problems, " | ")
	}
	return true, summary
}

func shutdown(start time.Time, what string, f func() error) {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			logf(start, "%s shutdown: %v", what, err)
		}
	case <-time.After(10 * time.Second):
		logf(start, "%s shutdown did not finish within 10s; continuing", what)
	}
}

// waitFor polls cond every interval until it holds or ctx ends.
func waitFor(ctx context.Context, interval time.Duration, cond func() bool) error {
	for {
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

func sanitize(s string) string {
	return regexp.MustCompile(`[^A-Za-z0-9_-]`).ReplaceAllString(s, "_")
}

// createTopic creates the topic on every master broker with the Go admin API and waits
// until the name server serves a route for it. admin.CreateTopic in v2.1.2 ignores the
// broker's response code, so the route check is what proves the creation worked.
func createTopic(ctx context.Context, start time.Time, cfg config, nsAddrs primitive.NamesrvAddr) error {
	var brokers []string
	if cfg.brokers != "" {
		brokers = strings.Split(cfg.brokers, ",")
	} else {
		var err error
		for _, ns := range nsAddrs {
			brokers, err = masterBrokers(ctx, ns)
			if err == nil {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("discovering brokers from the name server: %w", err)
		}
	}
	logf(start, "creating topic %s (%d queues) on broker(s) %v", cfg.topic, cfg.queues, brokers)
	adm, err := admin.NewAdmin(admin.WithResolver(primitive.NewPassthroughResolver(nsAddrs)))
	if err != nil {
		return fmt.Errorf("new admin: %w", err)
	}
	defer adm.Close()
	for _, b := range brokers {
		err := adm.CreateTopic(ctx,
			admin.WithTopicCreate(cfg.topic),
			admin.WithBrokerAddrCreate(b),
			admin.WithReadQueueNums(cfg.queues),
			admin.WithWriteQueueNums(cfg.queues))
		if err != nil {
			return fmt.Errorf("CreateTopic on %s: %w", b, err)
		}
	}
	var queues int
	err = waitFor(ctx, 250*time.Millisecond, func() bool {
		mqs, err := adm.FetchPublishMessageQueues(ctx, cfg.topic)
		queues = len(mqs)
		return err == nil && queues > 0
	})
	if err != nil {
		return fmt.Errorf("no route for %s on the name server: %w", cfg.topic, err)
	}
	logf(start, "topic %s has a route with %d writable queues", cfg.topic, queues)
	return nil
}

// masterBrokers asks a name server for its cluster info (GET_BROKER_CLUSTER_INFO, code
// 106) over the plain remoting protocol and returns the master (id 0) addresses. The Go
// client has this request only in its internal package, so it is spoken here directly.
func masterBrokers(ctx context.Context, namesrv string) ([]string, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", namesrv)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	header, _ := json.Marshal(map[string]interface{}{
		"code": 106, "language": "GO", "version": 317, "opaque": 1, "flag": 0, "extFields": map[string]string{},
	})
	frame := make([]byte, 8+len(header))
	binary.BigEndian.PutUint32(frame[0:4], uint32(4+len(header)))
	binary.BigEndian.PutUint32(frame[4:8], uint32(len(header))) // serialize type 0 = JSON
	copy(frame[8:], header)
	if _, err := conn.Write(frame); err != nil {
		return nil, err
	}
	var lenBuf [4]byte
	if _, err := io.ReadFull(conn, lenBuf[:]); err != nil {
		return nil, err
	}
	total := binary.BigEndian.Uint32(lenBuf[:])
	if total < 4 || total > 16<<20 {
		return nil, fmt.Errorf("bad frame length %d", total)
	}
	buf := make([]byte, total)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return nil, err
	}
	hdrLen := binary.BigEndian.Uint32(buf[0:4]) & 0xFFFFFF
	if buf[0] != 0 || 4+hdrLen > total {
		return nil, fmt.Errorf("unexpected response header (type %d, length %d)", buf[0], hdrLen)
	}
	var resp struct {
		Code   int    `json:"code"`
		Remark string `json:"remark"`
	}
	if err := json.Unmarshal(buf[4:4+hdrLen], &resp); err != nil {
		return nil, fmt.Errorf("response header: %w", err)
	}
	if resp.Code != 0 {
		return nil, fmt.Errorf("GET_BROKER_CLUSTER_INFO: code %d %s", resp.Code, resp.Remark)
	}
	body := string(buf[4+hdrLen:])
	// fastjson writes the broker id keys unquoted ({0:"host:port"}), so this is not JSON.
	var masters []string
	for _, m := range regexp.MustCompile(`"brokerAddrs"\s*:\s*\{([^}]*)\}`).FindAllStringSubmatch(body, -1) {
		for _, e := range regexp.MustCompile(`"?(\d+)"?\s*:\s*"([^"]+)"`).FindAllStringSubmatch(m[1], -1) {
			if e[1] == "0" {
				masters = append(masters, e[2])
			}
		}
	}
	if len(masters) == 0 {
		return nil, errors.New("no master broker registered: " + body)
	}
	sort.Strings(masters)
	return masters, nil
}
