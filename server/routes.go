package server

import (
	"io/fs"
	"net/http"
)

func (s *Server) routes() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("POST /sdapi/v1/txt2img", s.handleGenerate(false))
	api.HandleFunc("POST /sdapi/v1/img2img", s.handleGenerate(true))
	api.HandleFunc("GET /sdapi/v1/progress", s.handleProgress)
	api.HandleFunc("POST /sdapi/v1/interrupt", s.handleInterrupt)
	api.HandleFunc("POST /sdapi/v1/skip", s.handleSkip)
	api.HandleFunc("GET /sdapi/v1/options", s.handleGetOptions)
	api.HandleFunc("POST /sdapi/v1/options", s.handleSetOptions)
	api.HandleFunc("GET /sdapi/v1/sd-models", s.handleModels)
	api.HandleFunc("GET /sdapi/v1/samplers", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, samplerItems()) })
	api.HandleFunc("GET /sdapi/v1/schedulers", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, scheduleItems()) })
	api.HandleFunc("GET /sdapi/v1/loras", s.handleLoras)
	api.HandleFunc("GET /sdapi/v1/embeddings", s.handleEmbeddings)
	api.HandleFunc("POST /sdapi/v1/png-info", s.handlePNGInfo)
	api.HandleFunc("POST /sdapi/v1/refresh-checkpoints", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, nil) })
	// The LoRA and embedding folders are read on every listing and before
	// every job: a refresh has nothing left to do.
	api.HandleFunc("POST /sdapi/v1/refresh-loras", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, nil) })
	api.HandleFunc("POST /sdapi/v1/refresh-embeddings", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, nil) })
	api.HandleFunc("GET /sdapi/v1/scripts", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string][]string{"txt2img": {}, "img2img": {}})
	})
	api.HandleFunc("GET /sdapi/v1/memory", s.handleMemory)
	api.HandleFunc("POST /free", s.handleFree) // ComfyUI's convention: memory.go
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(http.StatusNotFound, "Not Found: %s %s", r.Method, r.URL.Path))
	}
	api.HandleFunc("GET /sdapi/", notFound)
	api.HandleFunc("POST /sdapi/", notFound)
	api.Handle("GET /metrics", s.m.handler())
	web, _ := fs.Sub(webFiles, "web")
	api.Handle("GET /", http.FileServerFS(web))

	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", s.handleHealth)
	root.Handle("/", requireKey(s.cfg.APIKey, api))
	return cors(s.cfg.CORSOrigins, s.countRequests(root))
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "model": s.cfg.Model.Title()})
}
