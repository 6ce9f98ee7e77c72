// Command brokerd runs the embedded Kafka broker of runtime/kafka (franz-go's
// kfake, persisted to a data directory) in a process of its own, so the
// distributed-mode integration tests can run workers as separate processes
// against one cluster and kill them without touching the broker.
//
//	brokerd -port 9092 -data-dir /tmp/broker
//
// It prints "listening <addr>" once the broker accepts connections and runs
// until SIGTERM or SIGINT.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/tributary-cdc/tributary/runtime/kafka"
)

func main() {
	port := flag.Int("port", 0, "port on 127.0.0.1 (0: any free port)")
	dataDir := flag.String("data-dir", "", "data directory (empty: in memory)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	e, err := kafka.StartEmbedded(kafka.EmbeddedConfig{Port: *port, DataDir: *dataDir, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "brokerd:", err)
		os.Exit(1)
	}
	fmt.Printf("listening %s\n", e.Addrs()[0])
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	e.Close()
}
