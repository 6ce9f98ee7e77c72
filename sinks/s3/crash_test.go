package s3

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestCrashReplayExactlyOnce abandons the task 12 times mid-stream, right
// after Put handed files to the uploader and without a last PreCommit (as
// kill -9 would: uploads in flight die with the process), restarts from the
// committed offsets and replays. The bucket must end with every record
// exactly once, only the expected object names, and replayed objects
// byte-identical to a clean run's.
func TestCrashReplayExactlyOnce(t *testing.T) {
	const parts = 3
	n := max(int64(rowsEnv(100_000)/10/parts), 3000) / 350 * 350 // ~10k in all by default, whole files
	for _, format := range []string{FormatJSON, FormatAvro, FormatParquet} {
		t.Run(format[strings.LastIndexByte(format, '.')+1:], func(t *testing.T) {
			crashed := newFakeS3(t)
			cfg := crashed.config(KeyFormatClass, format, KeyFlushSize, "350", KeyUploadConcurrency, "3")
			d := newDriver(t, cfg, parts, n)
			d.batch = 150
			rng := rand.New(rand.NewPCG(7, 11))
			crashes := 0
			for crashes < 12 {
				// Each run gets a few batches in, PreCommits every 7th batch.
				if d.run(context.Background(), 2+rng.IntN(12)) {
					break
				}
				crashes++
			}
			for !d.run(context.Background(), 0) {
			}
			if crashes < 10 {
				t.Fatalf("only %d crashes before the end; make the run longer", crashes)
			}
			keys := verifyExactlyOnce(t, crashed, "topics/", d.topic, parts, n)

			// A run that never crashed writes the same objects, byte for byte.
			clean := newFakeS3(t)
			cd := newDriver(t, clean.config(KeyFormatClass, format, KeyFlushSize, "350"), parts, n)
			cd.run(context.Background(), 0)
			cleanKeys := clean.list(t, "topics/")
			if !slices.Equal(keys, cleanKeys) {
				t.Fatalf("crashed run objects differ from a clean run's:\n%v\n%v", keys, cleanKeys)
			}
			for _, k := range keys {
				if !bytes.Equal(crashed.get(t, k), clean.get(t, k)) {
					t.Fatalf("%s differs between the crashed and the clean run", k)
				}
			}
			t.Log(fmt.Sprintf("%d crashes, %d objects, all identical to a clean run", crashes, len(keys)))
		})
	}
}
