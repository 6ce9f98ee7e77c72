package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tributary-cdc/tributary/connector"
	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/internal/tlsstore"
)

// store is the S3 bucket the task writes to (minio-go client).
type store struct {
	cl       *minio.Client
	bucket   string
	partSize uint64
}

func newStore(s *settings) (*store, error) {
	endpoint, secure := "s3."+s.region+".amazonaws.com", true
	if s.region == "us-east-1" || s.region == "" {
		endpoint = "s3.amazonaws.com"
	}
	lookup := minio.BucketLookupAuto
	if s.storeURL != "" {
		u, err := url.Parse(s.storeURL)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KeyStoreURL, config.RedactURLError(err))
		}
		endpoint, secure = u.Host, u.Scheme == "https"
		lookup = minio.BucketLookupDNS
		if s.pathStyle {
			lookup = minio.BucketLookupPath
		}
	}
	var creds *credentials.Credentials
	if s.accessKey != "" {
		creds = credentials.NewStaticV4(s.accessKey, s.secretKey, "")
	} else {
		// DefaultAWSCredentialsProviderChain: environment, profile file, instance role.
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{},
			&credentials.IAM{},
		})
	}
	cl, err := minio.New(endpoint, &minio.Options{
		Creds:        creds,
		Secure:       secure,
		Region:       s.region,
		BucketLookup: lookup,
		MaxRetries:   s.partRetries + 1,
		Transport:    s.transport,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 client for %s: %w", endpoint, err)
	}
	return &store{cl: cl, bucket: s.bucket, partSize: uint64(s.partSize)}, nil
}

// check fails unless the bucket exists (Confluent's "Non-existent S3 bucket").
func (st *store) check(ctx context.Context) error {
	ok, err := st.cl.BucketExists(ctx, st.bucket)
	if err != nil && tlsstore.IsCertificateError(err) {
		return fmt.Errorf("check bucket %q (%s): %w", st.bucket, KeyBucket, err) // retrying will not help
	}
	if err != nil {
		return connector.Retriable(fmt.Errorf("check bucket %q (%s): %w", st.bucket, KeyBucket, err))
	}
	if !ok {
		return fmt.Errorf("non-existent S3 bucket %q (%s)", st.bucket, KeyBucket)
	}
	return nil
}

// put uploads one object; objects larger than s3.part.size go up as a
// multipart upload of parts of that size, which S3 makes visible only when
// it completes.
func (st *store) put(ctx context.Context, key string, data []byte) error {
	_, err := st.cl.PutObject(ctx, st.bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		PartSize:    st.partSize,
		ContentType: "application/octet-stream",
		// Content-MD5 per request instead of a SHA-256 payload signature:
		// the store still rejects corrupted bodies, at a fraction of the
		// CPU, and no aws-chunked framing (which some S3-compatible stores
		// mishandle in multipart parts).
		DisableContentSha256: true,
		SendContentMd5:       true,
	})
	return err
}

// permanent reports errors that retrying will not fix.
func permanent(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case "AccessDenied", "NoSuchBucket", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidBucketName", "AllAccessDisabled":
		return true
	}
	return false
}

// object is one file to upload.
type object struct {
	key  string
	data []byte
}

// group is the files one rotation of one Kafka partition committed; once
// all are uploaded, offset (the next offset to consume) may be committed.
type group struct {
	tp     connector.TopicPartition
	offset int64
	objs   []object
	bytes  int64
	left   int
	done   chan struct{}
	queued bool  // handed to the workers
	err    error // permanent failure
}

// uploaded reports whether every object of the group is stored.
func (g *group) uploaded() bool {
	if !g.queued {
		return false
	}
	select {
	case <-g.done:
		return g.err == nil
	default:
		return false
	}
}

// uploader uploads groups' objects with a fixed number of workers, retrying
// transient failures with backoff until they succeed or the task stops, and
// bounds the bytes waiting (Put waits past the bound).
type uploader struct {
	st      *store
	log     *slog.Logger
	backoff time.Duration
	limit   int64

	mu       sync.Mutex
	cond     *sync.Cond
	inflight int64
	failed   error // first permanent failure
	closed   bool

	jobs chan job
	wg   sync.WaitGroup
	ctx  context.Context
	stop context.CancelFunc
}

type job struct {
	g   *group
	obj object
}

func newUploader(st *store, log *slog.Logger, workers int, limit int64, backoff time.Duration) *uploader {
	ctx, cancel := context.WithCancel(context.Background())
	u := &uploader{st: st, log: log, backoff: backoff, limit: limit, jobs: make(chan job, 1024), ctx: ctx, stop: cancel}
	u.cond = sync.NewCond(&u.mu)
	for range workers {
		u.wg.Add(1)
		go u.work()
	}
	return u
}

func (u *uploader) work() {
	defer u.wg.Done()
	for {
		select {
		case <-u.ctx.Done():
			return
		case j := <-u.jobs:
			err := u.upload(j.obj)
			u.mu.Lock()
			if err != nil && j.g.err == nil {
				j.g.err = err
				if u.failed == nil {
					u.failed = err
				}
			}
			j.g.left--
			if j.g.left == 0 {
				u.inflight -= j.g.bytes
				close(j.g.done)
				u.cond.Broadcast()
			}
			u.mu.Unlock()
		}
	}
}

// upload retries transient failures until success, a permanent failure or
// the uploader's end.
func (u *uploader) upload(o object) error {
	delay := u.backoff
	for attempt := 1; ; attempt++ {
		err := u.st.put(u.ctx, o.key, o.data)
		if err == nil {
			return nil
		}
		if u.ctx.Err() != nil {
			return u.ctx.Err()
		}
		if permanent(err) {
			return fmt.Errorf("upload s3://%s/%s: %w", u.st.bucket, o.key, err)
		}
		u.log.Warn("upload failed; retrying", "key", o.key, "attempt", attempt, "in", delay, "err", err)
		select {
		case <-u.ctx.Done():
			return u.ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2+time.Millisecond, time.Minute)
	}
}

// prepare readies a group for submit.
func (u *uploader) prepare(g *group) {
	g.done = make(chan struct{})
	g.left = len(g.objs)
	for _, o := range g.objs {
		g.bytes += int64(len(o.data))
	}
	if g.left == 0 {
		g.queued = true
		close(g.done)
	}
}

// submit queues a prepared group, first waiting (until ctx ends) while more
// than the limit of bytes is waiting for upload.
func (u *uploader) submit(ctx context.Context, g *group) error {
	if g.queued {
		return nil
	}
	if err := u.reserve(ctx, g.bytes); err != nil {
		return err
	}
	g.queued = true
	for _, o := range g.objs {
		select {
		case u.jobs <- job{g: g, obj: o}:
		case <-u.ctx.Done():
			return u.ctx.Err()
		}
	}
	return nil
}

func (u *uploader) reserve(ctx context.Context, n int64) error {
	stop := context.AfterFunc(ctx, func() {
		u.mu.Lock()
		u.cond.Broadcast()
		u.mu.Unlock()
	})
	defer stop()
	u.mu.Lock()
	defer u.mu.Unlock()
	for u.inflight > 0 && u.inflight+n > u.limit && u.failed == nil && !u.closed {
		if err := ctx.Err(); err != nil {
			return err
		}
		u.cond.Wait()
	}
	if u.failed != nil {
		return u.failed
	}
	if u.closed {
		return errors.New("uploader closed")
	}
	u.inflight += n
	return nil
}

// err returns the first permanent upload failure.
func (u *uploader) err() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.failed
}

// close stops the workers; uploads in flight are abandoned (an unfinished
// multipart upload never becomes visible).
func (u *uploader) close() {
	u.mu.Lock()
	u.closed = true
	u.cond.Broadcast()
	u.mu.Unlock()
	u.stop()
	u.wg.Wait()
}
