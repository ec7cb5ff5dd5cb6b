package natsqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gosdxl/gosdxl/server"
)

// Client is the front end's server.Runner: it publishes jobs and waits
// for their results.
type Client struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	images jetstream.ObjectStore
	kv     jetstream.KeyValue
	id     string
	opts   Options
	log    *slog.Logger

	mu      sync.Mutex
	waiting map[string]*pending // by job ID
	bySeq   map[uint64]string   // stream sequence → job ID, for max-delivery advisories

	subs    []*nats.Subscription
	results jetstream.ConsumeContext
}

type pending struct {
	result   chan resultMsg // buffered; the first result wins
	progress func(server.Progress)
}

// NewClient sets up the streams and starts listening for results,
// progress and dead jobs. Close it when done.
func NewClient(ctx context.Context, nc *nats.Conn, opts Options) (*Client, error) {
	opts = opts.withDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	c := &Client{nc: nc, js: js, opts: opts, log: opts.Logger, id: nuidish(),
		waiting: map[string]*pending{}, bySeq: map[uint64]string{}}
	if err := retry(ctx, func(ctx context.Context) error {
		var err error
		c.images, c.kv, err = setup(ctx, js)
		return err
	}); err != nil {
		return nil, err
	}
	// Results come through the stream, so one published while this front
	// end was reconnecting is still delivered.
	cons, err := js.OrderedConsumer(ctx, resultsStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"gosdxl.results." + c.id + ".>"},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return nil, err
	}
	if c.results, err = cons.Consume(c.onResult); err != nil {
		return nil, err
	}
	sub, err := nc.Subscribe("gosdxl.progress."+c.id+".*", c.onProgress)
	if err != nil {
		return nil, err
	}
	c.subs = append(c.subs, sub)
	sub, err = nc.Subscribe("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."+jobsStream+".*", c.onMaxDeliveries)
	if err != nil {
		return nil, err
	}
	c.subs = append(c.subs, sub)
	return c, nil
}

// Close stops listening.
func (c *Client) Close() {
	c.results.Stop()
	for _, s := range c.subs {
		s.Unsubscribe()
	}
}

// Run publishes the job to gosdxl.jobs.<model> and waits for its result.
// When ctx ends first (client gone, timeout) the job is taken off the
// queue if no worker has it yet, and cancelled if one has.
func (c *Client) Run(ctx context.Context, spec *server.Spec, ctl *server.Control, progress func(server.Progress)) (*server.Output, error) {
	p := &pending{result: make(chan resultMsg, 1), progress: progress}
	c.mu.Lock()
	c.waiting[spec.ID] = p
	c.mu.Unlock()
	var seq uint64
	defer func() {
		c.mu.Lock()
		delete(c.waiting, spec.ID)
		delete(c.bySeq, seq)
		c.mu.Unlock()
	}()

	msg := jobMsg{
		Spec:     *spec,
		Reply:    "gosdxl.results." + c.id + "." + spec.ID,
		Progress: "gosdxl.progress." + c.id + "." + spec.ID,
		Control:  "gosdxl.control." + spec.ID,
	}
	if d, ok := ctx.Deadline(); ok {
		msg.Deadline = d
	}
	if spec.InitImage != nil {
		msg.Spec.InitImage = nil
		msg.InitObject = spec.ID + "/init"
		if err := retry(ctx, func(ctx context.Context) error {
			_, err := c.images.PutBytes(ctx, msg.InitObject, spec.InitImage)
			return err
		}); err != nil {
			return nil, err
		}
		defer c.images.Delete(context.Background(), msg.InitObject)
	}
	if spec.Inpaint != nil && spec.Inpaint.Mask != nil {
		ip := *spec.Inpaint
		ip.Mask = nil
		msg.Spec.Inpaint = &ip
		msg.MaskObject = spec.ID + "/mask"
		if err := retry(ctx, func(ctx context.Context) error {
			_, err := c.images.PutBytes(ctx, msg.MaskObject, spec.Inpaint.Mask)
			return err
		}); err != nil {
			return nil, err
		}
		defer c.images.Delete(context.Background(), msg.MaskObject)
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	// The job ID is the message ID: a publish retried across a reconnect
	// is stored once. Each attempt runs to its end even when ctx ends
	// meanwhile, so a stored job's sequence is always known and the job
	// can be taken off the queue again.
	for {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		ack, err := c.js.Publish(pctx, jobSubject(spec.Model), data, jetstream.WithMsgID(spec.ID), jetstream.WithExpectStream(jobsStream))
		cancel()
		if err == nil {
			seq = ack.Sequence
			c.mu.Lock()
			c.bySeq[seq] = spec.ID
			c.mu.Unlock()
			break
		}
		if !sleep(ctx, 250*time.Millisecond) {
			return nil, fmt.Errorf("%w (publishing the job: %v)", context.Cause(ctx), err)
		}
	}
	if ctl != nil {
		ctl.Watch(func(action string) { c.nc.Publish(msg.Control, []byte(action)) })
	}

	select {
	case r := <-p.result:
		return c.output(ctx, r)
	case <-ctx.Done():
		c.nc.Publish(msg.Control, []byte("cancel"))
		if s, err := c.js.Stream(context.Background(), jobsStream); err == nil {
			if err := s.DeleteMsg(context.Background(), seq); err != nil { // fails harmlessly once a worker holds it
				c.log.Debug("job not taken off the queue", "job", spec.ID, "err", err)
			}
		}
		return nil, context.Cause(ctx)
	}
}

// output fetches the result's images from the object store.
func (c *Client) output(ctx context.Context, r resultMsg) (*server.Output, error) {
	if r.Error != "" && r.Status != 0 {
		return nil, server.RequestError(r.Status, r.Error)
	}
	if r.Error != "" {
		return nil, fmt.Errorf("%s", r.Error)
	}
	if r.Output == nil {
		return nil, errors.New("worker sent an empty result")
	}
	out := *r.Output
	for _, name := range r.ImageObjects {
		var png []byte
		if err := retry(ctx, func(ctx context.Context) error {
			var err error
			png, err = c.images.GetBytes(ctx, name)
			return err
		}); err != nil {
			return nil, fmt.Errorf("image %s: %v", name, err)
		}
		out.Images = append(out.Images, png)
		c.images.Delete(context.Background(), name)
	}
	return &out, nil
}

func (c *Client) onResult(m jetstream.Msg) {
	var r resultMsg
	if err := json.Unmarshal(m.Data(), &r); err != nil {
		c.log.Error("bad result message", "subject", m.Subject(), "err", err)
		return
	}
	c.deliver(r)
}

// deliver hands a result to its waiting request, once; results for jobs
// nobody waits for any more (answered, client gone) are dropped.
func (c *Client) deliver(r resultMsg) {
	c.mu.Lock()
	p := c.waiting[r.ID]
	c.mu.Unlock()
	if p == nil {
		return
	}
	select {
	case p.result <- r:
	default: // already answered (a redelivered job finished twice)
	}
}

func (c *Client) onProgress(m *nats.Msg) {
	id := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
	var pr server.Progress
	if json.Unmarshal(m.Data, &pr) != nil {
		return
	}
	c.mu.Lock()
	p := c.waiting[id]
	c.mu.Unlock()
	if p != nil && p.progress != nil {
		p.progress(pr)
	}
}

// onMaxDeliveries answers a job that no worker finished in MaxDeliver
// deliveries (each worker died or timed out holding it), dead-letters it
// and takes it off the queue.
func (c *Client) onMaxDeliveries(m *nats.Msg) {
	var adv struct {
		StreamSeq  uint64 `json:"stream_seq"`
		Deliveries uint64 `json:"deliveries"`
	}
	if json.Unmarshal(m.Data, &adv) != nil {
		return
	}
	c.mu.Lock()
	id, ok := c.bySeq[adv.StreamSeq]
	c.mu.Unlock()
	if !ok {
		return // another front end's job
	}
	reason := fmt.Sprintf("no worker finished the job in %d deliveries (each one stopped answering)", adv.Deliveries)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s, err := c.js.Stream(ctx, jobsStream); err == nil {
		if raw, err := s.GetMsg(ctx, adv.StreamSeq); err == nil {
			var job jobMsg
			if json.Unmarshal(raw.Data, &job) == nil {
				dl, _ := json.Marshal(deadLetter{ID: id, Spec: job.Spec, Error: reason, Deliveries: adv.Deliveries, Time: time.Now()})
				c.js.Publish(ctx, "gosdxl.dead."+modelToken(job.Spec.Model), dl)
			}
		}
		s.DeleteMsg(ctx, adv.StreamSeq)
	}
	c.log.Error("job dead-lettered", "job", id, "deliveries", adv.Deliveries)
	c.deliver(resultMsg{ID: id, Error: reason, Deliveries: adv.Deliveries})
}

// Workers lists the workers advertising themselves now.
func (c *Client) Workers(ctx context.Context) ([]WorkerInfo, error) {
	keys, err := c.kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []WorkerInfo
	for k := range keys.Keys() {
		e, err := c.kv.Get(ctx, k)
		if err != nil {
			continue
		}
		var w WorkerInfo
		if json.Unmarshal(e.Value(), &w) == nil {
			out = append(out, w)
		}
	}
	return out, nil
}

// LoRAs lists the LoRA names the live workers of model advertise, each
// once, sorted: what a front end without a LoRA folder of its own offers.
func (c *Client) LoRAs(ctx context.Context, model string) ([]string, error) {
	ws, err := c.Workers(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, w := range ws {
		if w.Model.Name != model {
			continue
		}
		for _, n := range w.LoRAs {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// nuidish is a unique, subject-safe ID for this process.
func nuidish() string {
	return strconv.FormatInt(time.Now().UnixNano(), 36) + nats.NewInbox()[len(nats.InboxPrefix):][:8]
}
