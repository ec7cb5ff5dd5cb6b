package main

import (
	"log/slog"

	"github.com/gosdxl/gosdxl/server"
)

// newQueueRunner connects the front end to NATS (serve_nats.go).
var newQueueRunner = func(url, model string, logger *slog.Logger) (server.Runner, server.ModelInfo, func(), error) {
	return nil, server.ModelInfo{}, nil, usagef("--queue: not available in this build")
}

func runWorker(args []string) error { return usagef("worker: not available in this build") }
