package natsqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gosdxl/gosdxl/server"
)

var errCancelled = errors.New("cancelled by the front end")

// Worker pulls jobs for one model and runs them, one at a time.
type Worker struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	runner server.Runner
	info   WorkerInfo
	opts   Options
	log    *slog.Logger
	// loras, when set, lists the LoRA names again for each advertisement
	// (files added to the folder are used by the next job).
	loras func() []string
}

// AdvertiseLoRAs makes the worker advertise list's names, asked again
// before each refresh of its entry, instead of the fixed list it was
// made with. Call it before Run.
func (w *Worker) AdvertiseLoRAs(list func() []string) { w.loras = list }

// NewWorker prepares a worker that runs jobs for model on runner.
func NewWorker(nc *nats.Conn, runner server.Runner, model server.ModelInfo, device string, loras []string, opts Options) (*Worker, error) {
	opts = opts.withDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	id := fmt.Sprintf("%s-%d-%s", modelToken(host), os.Getpid(), nuidish()[:6])
	return &Worker{nc: nc, js: js, runner: runner, opts: opts, log: opts.Logger,
		info: WorkerInfo{ID: id, Model: model, Device: device, LoRAs: loras, Since: time.Now()}}, nil
}

// ID names this worker.
func (w *Worker) ID() string { return w.info.ID }

// Run pulls and runs jobs until ctx ends. A job running then is handed
// back (nak) for another worker; NATS outages are waited out.
func (w *Worker) Run(ctx context.Context) error {
	var images jetstream.ObjectStore
	var kv jetstream.KeyValue
	var cons jetstream.Consumer
	err := retry(ctx, func(ctx context.Context) error {
		var err error
		if images, kv, err = setup(ctx, w.js); err != nil {
			return err
		}
		token := modelToken(w.info.Model.Name)
		cons, err = w.js.CreateOrUpdateConsumer(ctx, jobsStream, jetstream.ConsumerConfig{
			Durable:       "workers-" + token,
			FilterSubject: jobSubject(w.info.Model.Name),
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       w.opts.AckWait,
			MaxDeliver:    w.opts.MaxDeliver,
			MaxAckPending: 10000,
		})
		return err
	})
	if err != nil {
		return err
	}
	go w.advertise(ctx, kv)
	w.log.Info("worker ready", "worker", w.info.ID, "model", w.info.Model.Title(), "subject", jobSubject(w.info.Model.Name))
	for ctx.Err() == nil {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			w.log.Debug("fetch", "err", err)
			sleep(ctx, 250*time.Millisecond)
			continue
		}
		for m := range batch.Messages() {
			w.handle(ctx, m, images)
		}
	}
	return nil
}

// advertise keeps this worker's entry in the workers bucket fresh (the
// bucket forgets entries after 15 s).
func (w *Worker) advertise(ctx context.Context, kv jetstream.KeyValue) {
	for {
		info := w.info
		if w.loras != nil {
			info.LoRAs = w.loras()
		}
		b, _ := json.Marshal(info)
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		kv.Put(pctx, w.info.ID, b)
		cancel()
		if !sleep(ctx, 5*time.Second) {
			dctx, cancel := context.WithTimeout(context.Background(), time.Second)
			kv.Delete(dctx, w.info.ID)
			cancel()
			return
		}
	}
}

func (w *Worker) handle(ctx context.Context, m jetstream.Msg, images jetstream.ObjectStore) {
	md, err := m.Metadata()
	if err != nil {
		m.Term()
		return
	}
	var job jobMsg
	if err := json.Unmarshal(m.Data(), &job); err != nil {
		w.deadLetter(m, jobMsg{}, md.NumDelivered, fmt.Sprintf("unreadable job: %v", err))
		return
	}
	log := w.log.With("job", job.Spec.ID, "delivery", md.NumDelivered)
	if !job.Deadline.IsZero() && time.Now().After(job.Deadline) {
		log.Info("job expired before it ran; dropping it")
		m.Term()
		return
	}
	jobCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if !job.Deadline.IsZero() {
		var c2 context.CancelFunc
		jobCtx, c2 = context.WithDeadline(jobCtx, job.Deadline)
		defer c2()
	}
	ctl := &server.Control{}
	sub, err := w.nc.Subscribe(job.Control, func(cm *nats.Msg) {
		switch string(cm.Data) {
		case "skip":
			ctl.Skip()
		case "interrupt":
			ctl.Interrupt()
		case "cancel":
			cancel(errCancelled)
		}
	})
	if err == nil {
		defer sub.Unsubscribe()
	}
	if job.InitObject != "" {
		if job.Spec.InitImage, err = images.GetBytes(jobCtx, job.InitObject); err != nil {
			log.Warn("init image unavailable; handing the job back", "err", err)
			m.NakWithDelay(time.Second)
			return
		}
	}
	if job.MaskObject != "" && job.Spec.Inpaint != nil {
		if job.Spec.Inpaint.Mask, err = images.GetBytes(jobCtx, job.MaskObject); err != nil {
			log.Warn("inpainting mask unavailable; handing the job back", "err", err)
			m.NakWithDelay(time.Second)
			return
		}
	}

	// Tell JetStream the job is alive while it runs.
	stop := make(chan struct{})
	var beats sync.WaitGroup
	beats.Add(1)
	go func() {
		defer beats.Done()
		t := time.NewTicker(w.opts.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				m.InProgress()
			}
		}
	}()
	log.Info("running job")
	out, err := w.runner.Run(jobCtx, &job.Spec, ctl, func(p server.Progress) {
		if b, err := json.Marshal(p); err == nil {
			w.nc.Publish(job.Progress, b)
		}
	})
	close(stop)
	beats.Wait()

	switch {
	case errors.Is(context.Cause(jobCtx), errCancelled):
		log.Info("job cancelled by the front end")
		m.Term()
	case ctx.Err() != nil:
		log.Info("worker stopping; handing the job back")
		m.Nak()
	case err != nil && !job.Deadline.IsZero() && time.Now().After(job.Deadline):
		log.Info("job ran past its deadline")
		m.Term()
	case isRequestError(err):
		// Another worker would refuse it too: answer now, no retry.
		status, _ := server.RequestStatus(err)
		log.Info("job refused", "status", status, "err", err)
		w.refuse(m, job, md.NumDelivered, status, err.Error())
	case err != nil && int(md.NumDelivered) < w.opts.MaxDeliver:
		log.Warn("job failed; handing it back for another try", "err", err)
		m.NakWithDelay(time.Second)
	case err != nil:
		w.deadLetter(m, job, md.NumDelivered, err.Error())
	default:
		if err := w.reply(ctx, job, out, md.NumDelivered, images); err != nil {
			log.Error("could not send the result; the job will be redelivered", "err", err)
			m.Nak()
			return
		}
		// Ack only now: a worker that dies before this point leaves the job
		// to be redelivered.
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := m.DoubleAck(actx); err != nil {
			log.Warn("ack not confirmed", "err", err)
		}
		log.Info("job done", "images", len(out.Images))
	}
}

// reply stores the images and publishes the result (both acknowledged
// by JetStream).
func (w *Worker) reply(ctx context.Context, job jobMsg, out *server.Output, deliveries uint64, images jetstream.ObjectStore) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	r := resultMsg{ID: job.Spec.ID, Worker: w.info.ID, Deliveries: deliveries}
	meta := *out
	meta.Images = nil
	r.Output = &meta
	for i, png := range out.Images {
		name := fmt.Sprintf("%s/%d.png", job.Spec.ID, i)
		if err := retry(ctx, func(ctx context.Context) error { _, err := images.PutBytes(ctx, name, png); return err }); err != nil {
			return err
		}
		r.ImageObjects = append(r.ImageObjects, name)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return retry(ctx, func(ctx context.Context) error { _, err := w.js.Publish(ctx, job.Reply, b); return err })
}

// deadLetter gives up on a job: it is kept with its error on
// gosdxl.dead.<model>, its client is told, and it leaves the queue.
func (w *Worker) deadLetter(m jetstream.Msg, job jobMsg, deliveries uint64, reason string) {
	w.log.Error("job dead-lettered", "job", job.Spec.ID, "deliveries", deliveries, "err", reason)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	job.Spec.InitImage = nil
	if job.Spec.Inpaint != nil {
		ip := *job.Spec.Inpaint
		ip.Mask = nil
		job.Spec.Inpaint = &ip
	}
	dl, _ := json.Marshal(deadLetter{ID: job.Spec.ID, Spec: job.Spec, Error: reason, Deliveries: deliveries, Time: time.Now()})
	w.js.Publish(ctx, "gosdxl.dead."+modelToken(job.Spec.Model), dl)
	if job.Reply != "" {
		b, _ := json.Marshal(resultMsg{ID: job.Spec.ID, Worker: w.info.ID, Deliveries: deliveries,
			Error: fmt.Sprintf("job failed %d times, last on worker %s: %s", deliveries, w.info.ID, reason)})
		w.js.Publish(ctx, job.Reply, b)
	}
	m.TermWithReason(reason)
}

func isRequestError(err error) bool {
	_, ok := server.RequestStatus(err)
	return ok
}

// refuse answers a job the request's own fault stopped and takes it off
// the queue.
func (w *Worker) refuse(m jetstream.Msg, job jobMsg, deliveries uint64, status int, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, _ := json.Marshal(resultMsg{ID: job.Spec.ID, Worker: w.info.ID, Deliveries: deliveries, Error: reason, Status: status})
	if err := retry(ctx, func(ctx context.Context) error { _, err := w.js.Publish(ctx, job.Reply, b); return err }); err != nil {
		w.log.Error("could not send the refusal; the job will be redelivered", "job", job.Spec.ID, "err", err)
		m.Nak()
		return
	}
	m.TermWithReason(reason)
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
