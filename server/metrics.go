package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus series, on a registry of its own
// (several servers can live in one test process).
type metrics struct {
	registry   *prometheus.Registry
	queueDepth prometheus.Gauge
	running    prometheus.Gauge
	rejected   prometheus.Counter
	jobs       *prometheus.CounterVec
	steps      prometheus.Counter
	duration   prometheus.Histogram
	requests   *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gosdxl_queue_depth", Help: "Jobs waiting in the queue.",
		}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gosdxl_jobs_running", Help: "Jobs being generated.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gosdxl_jobs_rejected_total", Help: "Jobs refused with 503 because the queue was full.",
		}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gosdxl_jobs_total", Help: "Jobs finished, by outcome (ok, interrupted, cancelled, timeout, shutdown, error).",
		}, []string{"outcome"}),
		steps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gosdxl_steps_total", Help: "Denoising steps run; rate() of it is the step rate.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "gosdxl_job_duration_seconds", Help: "Time jobs spent generating.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gosdxl_http_requests_total", Help: "HTTP requests answered, by status code class.",
		}, []string{"code"}),
	}
	m.registry.MustRegister(m.queueDepth, m.running, m.rejected, m.jobs, m.steps, m.duration, m.requests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// finished counts a job by how it ended.
func (m *metrics) finished(err error, took time.Duration) { m.finishedOutput(nil, err, took) }

func (m *metrics) finishedOutput(out *Output, err error, took time.Duration) {
	outcome := "ok"
	switch {
	case err == nil && out != nil && out.Interrupted:
		outcome = "interrupted"
	case err == nil:
		m.duration.Observe(took.Seconds())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, errTimeout):
		outcome = "timeout"
	case errors.Is(err, context.Canceled):
		outcome = "cancelled"
	case errors.Is(err, ErrShuttingDown):
		outcome = "shutdown"
	default:
		outcome = "error"
	}
	m.jobs.WithLabelValues(outcome).Inc()
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
