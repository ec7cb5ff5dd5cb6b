// Package server is `gen serve`: an HTTP server speaking the subset of
// AUTOMATIC1111's /sdapi/v1 API that front ends use, with one model
// resident, a bounded FIFO queue, progress, interrupt and skip, Prometheus
// metrics, optional bearer-key auth and a small embedded web page.
//
// The work itself goes through a Runner: Engine runs jobs on the local
// model; package server/natsqueue runs them on workers behind NATS
// JetStream. Either way a job is a Spec (validated, JSON-serialisable
// generation settings) and its answer an Output (PNG files carrying the
// same A1111 "parameters" text as the gen CLI writes).
package server
