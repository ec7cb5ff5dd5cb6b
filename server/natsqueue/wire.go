package natsqueue

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gosdxl/gosdxl/server"
)

// Names shared by front ends and workers.
const (
	jobsStream    = "GOSDXL_JOBS"
	resultsStream = "GOSDXL_RESULTS"
	deadStream    = "GOSDXL_DEAD"
	imagesBucket  = "gosdxl-images"
	workersBucket = "gosdxl-workers"
)

// Options tune delivery; the zero value gives the defaults.
type Options struct {
	// AckWait is how long a job may go without an ack or an in-progress
	// ack before JetStream redelivers it (default 30 s); workers send an
	// in-progress ack every AckWait/3.
	AckWait time.Duration
	// MaxDeliver is how many times a job is delivered before it is
	// dead-lettered (default 3).
	MaxDeliver int
	Logger     *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.AckWait <= 0 {
		o.AckWait = 30 * time.Second
	}
	if o.MaxDeliver <= 0 {
		o.MaxDeliver = 3
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// jobMsg is what a worker pulls.
type jobMsg struct {
	Spec server.Spec `json:"spec"`
	// InitObject names the init image in the object store (the image can
	// be larger than a NATS message).
	InitObject string    `json:"init_object,omitempty"`
	MaskObject string    `json:"mask_object,omitempty"` // the inpainting mask, likewise
	Reply      string    `json:"reply"`                 // result subject
	Progress   string    `json:"progress"`              // progress subject
	Control    string    `json:"control"`               // skip / interrupt / cancel subject
	Deadline   time.Time `json:"deadline,omitzero"`
}

// resultMsg answers a job: the output without its images, which are in
// the object store under ImageObjects; or the error.
type resultMsg struct {
	ID           string         `json:"id"`
	Output       *server.Output `json:"output,omitempty"`
	ImageObjects []string       `json:"image_objects,omitempty"`
	Error        string         `json:"error,omitempty"`
	// Status is the HTTP status of an error that is the request's fault
	// (an unknown LoRA): the front end answers it as it would locally.
	Status     int    `json:"status,omitempty"`
	Worker     string `json:"worker,omitempty"`
	Deliveries uint64 `json:"deliveries,omitempty"`
}

// deadLetter is what GOSDXL_DEAD keeps of a job given up on.
type deadLetter struct {
	ID         string      `json:"id"`
	Spec       server.Spec `json:"spec"`
	Error      string      `json:"error"`
	Deliveries uint64      `json:"deliveries"`
	Time       time.Time   `json:"time"`
}

// WorkerInfo is what a worker advertises.
type WorkerInfo struct {
	ID     string           `json:"id"`
	Model  server.ModelInfo `json:"model"`
	Device string           `json:"device"`
	LoRAs  []string         `json:"loras"`
	Since  time.Time        `json:"since"`
}

var subjectUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// modelToken is a model name as one subject token.
func modelToken(model string) string {
	if model == "" {
		return "_"
	}
	return subjectUnsafe.ReplaceAllString(model, "_")
}

func jobSubject(model string) string { return "gosdxl.jobs." + modelToken(model) }

// Connect dials NATS and keeps reconnecting for as long as the process
// lives: a NATS restart must not take the front end or workers down.
func Connect(url, name string, log *slog.Logger) (*nats.Conn, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("disconnected from NATS", "err", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("reconnected to NATS", "url", c.ConnectedUrl()) }),
	)
	if err != nil {
		return nil, fmt.Errorf("NATS %s: %v", url, err)
	}
	return nc, nil
}

// setup creates (or updates) the streams, buckets and object store.
func setup(ctx context.Context, js jetstream.JetStream) (jetstream.ObjectStore, jetstream.KeyValue, error) {
	streams := []jetstream.StreamConfig{
		{Name: jobsStream, Subjects: []string{"gosdxl.jobs.>"}, Retention: jetstream.WorkQueuePolicy,
			Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute},
		{Name: resultsStream, Subjects: []string{"gosdxl.results.>"}, Storage: jetstream.FileStorage, MaxAge: time.Hour},
		{Name: deadStream, Subjects: []string{"gosdxl.dead.>"}, Storage: jetstream.FileStorage, MaxAge: 7 * 24 * time.Hour},
	}
	for _, cfg := range streams {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return nil, nil, fmt.Errorf("JetStream stream %s: %v", cfg.Name, err)
		}
	}
	obs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: imagesBucket,
		Storage: jetstream.FileStorage, TTL: time.Hour})
	if err != nil {
		return nil, nil, fmt.Errorf("JetStream object store %s: %v", imagesBucket, err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: workersBucket, TTL: 15 * time.Second})
	if err != nil {
		return nil, nil, fmt.Errorf("JetStream key-value bucket %s: %v", workersBucket, err)
	}
	return obs, kv, nil
}

// retry calls f until it succeeds or ctx ends: JetStream calls fail for
// a moment while NATS restarts.
func retry(ctx context.Context, f func(context.Context) error) error {
	for {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := f(callCtx)
		cancel()
		if err == nil || ctx.Err() != nil {
			if err != nil {
				return fmt.Errorf("%w (%v)", context.Cause(ctx), err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}
