package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateDistributedWorker: replicate validate knows the distributed
// worker keys and names every bad one.
func TestValidateDistributedWorker(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.properties")
	os.WriteFile(good, []byte(`bootstrap.servers=k:9092
group.id=c
config.storage.topic=cfg
offset.storage.topic=offs
status.storage.topic=stat
session.timeout.ms=10000
heartbeat.interval.ms=3000
rebalance.timeout.ms=60000
scheduled.rebalance.max.delay.ms=30000
connect.protocol=sessioned
inter.worker.key.ttl.ms=600000
inter.worker.signature.algorithm=HmacSHA512
inter.worker.verification.algorithms=HmacSHA256,HmacSHA512
`), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"validate", good}, &out, &errb); code != 0 || strings.Contains(out.String(), "warning") {
		t.Fatalf("valid distributed worker: exit %d\n%s%s", code, out.String(), errb.String())
	}
	bad := filepath.Join(dir, "bad.properties")
	os.WriteFile(bad, []byte(`bootstrap.servers=k:9092
group.id=c
config.storage.topic=same
offset.storage.topic=same
session.timeout.ms=ten
inter.worker.key.generation.algorithm=Blowfish
`), 0o644)
	out.Reset()
	if code := run([]string{"validate", bad}, &out, &errb); code == 0 {
		t.Fatal("bad distributed worker accepted")
	}
	for _, key := range []string{"status.storage.topic", "session.timeout.ms", "inter.worker.key.generation.algorithm"} {
		if !strings.Contains(out.String(), key) {
			t.Errorf("validate output does not name %s:\n%s", key, out.String())
		}
	}
	// distributed refuses a bad worker config with the key named.
	errb.Reset()
	if code := run([]string{"distributed", bad}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "status.storage.topic") {
		t.Errorf("replicate distributed with a bad config: exit %d\n%s", code, errb.String())
	}
}
