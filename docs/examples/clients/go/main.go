// FerryMQ client sample (Go, rocketmq-client-go v2): credentials and the name-server address come from the
// files of a FerryMQ User Secret mounted at $FERRYMQ_USER_DIR (default /etc/ferrymq/user): accessKey,
// secretKey, namesrvAddr. Sends <count> messages to <topic>, then consumes them with consumer group <group>.
//
//	go run . <topic> <group> <count>
//
// Prints "sent N" and "consumed N" and exits 0, or exits 1 with the reason.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	rocketmq "github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"
)

func read(dir, key string) string {
	b, err := os.ReadFile(filepath.Join(dir, key))
	if err != nil {
		fmt.Println("cannot read", key+":", err)
		os.Exit(1)
	}
	return strings.TrimSpace(string(b))
}

func main() {
	rlog.SetLogLevel("error")
	topic, group := os.Args[1], os.Args[2]
	count, _ := strconv.Atoi(os.Args[3])
	dir := os.Getenv("FERRYMQ_USER_DIR")
	if dir == "" {
		dir = "/etc/ferrymq/user"
	}
	creds := primitive.Credentials{AccessKey: read(dir, "accessKey"), SecretKey: read(dir, "secretKey")}
	namesrv := primitive.NamesrvAddr(strings.Split(read(dir, "namesrvAddr"), ";"))

	p, err := rocketmq.NewProducer(producer.WithNameServer(namesrv), producer.WithGroupName(group+"-producer"),
		producer.WithCredentials(creds))
	if err == nil {
		err = p.Start()
	}
	if err != nil {
		fmt.Println("producer:", err)
		os.Exit(1)
	}
	defer p.Shutdown()
	sent := map[string]bool{}
	for i := 0; i < count; i++ {
		body := fmt.Sprintf("sample-%d-%d", time.Now().UnixNano(), i)
		if _, err := p.SendSync(context.Background(), primitive.NewMessage(topic, []byte(body))); err != nil {
			fmt.Println("send:", err)
			os.Exit(1)
		}
		sent[body] = true
	}
	fmt.Println("sent", len(sent))

	var mu sync.Mutex
	consumed := map[string]bool{}
	c, err := rocketmq.NewPushConsumer(consumer.WithNameServer(namesrv), consumer.WithGroupName(group),
		consumer.WithCredentials(creds), consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset))
	if err == nil {
		err = c.Subscribe(topic, consumer.MessageSelector{}, func(_ context.Context,
			msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range msgs {
				consumed[string(m.Body)] = true
			}
			return consumer.ConsumeSuccess, nil
		})
	}
	if err == nil {
		err = c.Start()
	}
	if err != nil {
		fmt.Println("consumer:", err)
		os.Exit(1)
	}
	defer c.Shutdown()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		missing := 0
		for body := range sent {
			if !consumed[body] {
				missing++
			}
		}
		mu.Unlock()
		if missing == 0 {
			fmt.Println("consumed", count)
			return
		}
	}
	fmt.Println("not everything was consumed before the deadline")
	os.Exit(1)
}
