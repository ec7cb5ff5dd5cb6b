package server

import (
	"encoding/base64"
	"net/http"
	"testing"
)

// TestAPIKey: with --api-key every endpoint but /healthz refuses a
// missing or wrong key with 401, and takes the right one as a bearer token
// or as HTTP Basic auth's password.
func TestAPIKey(t *testing.T) {
	_, hs := startServer(t, Config{Runner: newFakeRunner(), APIKey: "k3y"})
	endpoints := []struct{ method, path, body string }{
		{"POST", "/sdapi/v1/txt2img", `{"prompt": "a", "steps": 2}`},
		{"POST", "/sdapi/v1/img2img", `{}`},
		{"GET", "/sdapi/v1/progress", ""},
		{"POST", "/sdapi/v1/interrupt", ""},
		{"POST", "/sdapi/v1/skip", ""},
		{"GET", "/sdapi/v1/options", ""},
		{"POST", "/sdapi/v1/options", `{}`},
		{"GET", "/sdapi/v1/sd-models", ""},
		{"GET", "/sdapi/v1/samplers", ""},
		{"GET", "/sdapi/v1/schedulers", ""},
		{"GET", "/sdapi/v1/loras", ""},
		{"GET", "/sdapi/v1/embeddings", ""},
		{"POST", "/sdapi/v1/png-info", `{}`},
		{"POST", "/sdapi/v1/refresh-checkpoints", ""},
		{"GET", "/sdapi/v1/scripts", ""},
		{"GET", "/sdapi/v1/no-such-endpoint", ""},
		{"GET", "/metrics", ""},
		{"GET", "/", ""},
		{"GET", "/app.js", ""},
	}
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	for _, e := range endpoints {
		for _, bad := range []string{"", "Bearer wrong", "Bearer ", "Bearer k3y0", basic("u", "wrong"), "Token k3y", basic("k3y", "")} {
			var hdr []string
			if bad != "" {
				hdr = []string{"Authorization", bad}
			}
			code, h, body := call(t, e.method, hs.URL+e.path, e.body, hdr...)
			if code != http.StatusUnauthorized {
				t.Errorf("%s %s with %q: %d, want 401", e.method, e.path, bad, code)
				continue
			}
			decodeError(t, body)
			if h.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", e.method, e.path)
			}
		}
		for _, good := range []string{"Bearer k3y", basic("anyone", "k3y")} {
			if code, _, body := call(t, e.method, hs.URL+e.path, e.body, "Authorization", good); code == http.StatusUnauthorized {
				t.Errorf("%s %s with %q: 401: %s", e.method, e.path, good, body)
			}
		}
	}
	if code, _, _ := call(t, "GET", hs.URL+"/healthz", nil); code != http.StatusOK {
		t.Errorf("/healthz without a key: %d, want 200", code)
	}
}

// TestCORS: allowed origins get the header and their preflight answered;
// others get neither.
func TestCORS(t *testing.T) {
	_, hs := startServer(t, Config{Runner: newFakeRunner(), APIKey: "k", CORSOrigins: []string{"http://127.0.0.1:3000"}})
	code, h, _ := call(t, "OPTIONS", hs.URL+"/sdapi/v1/txt2img", nil,
		"Origin", "http://127.0.0.1:3000", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type")
	if code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:3000" ||
		h.Get("Access-Control-Allow-Headers") == "" {
		t.Errorf("preflight: %d %v", code, h)
	}
	code, h, _ = call(t, "GET", hs.URL+"/sdapi/v1/options", nil, "Origin", "http://127.0.0.1:3000", "Authorization", "Bearer k")
	if code != 200 || h.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:3000" {
		t.Errorf("allowed origin: %d %v", code, h)
	}
	code, h, _ = call(t, "OPTIONS", hs.URL+"/sdapi/v1/txt2img", nil, "Origin", "http://127.0.0.2:9999", "Access-Control-Request-Method", "POST")
	if code != http.StatusForbidden || h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin's preflight: %d %v", code, h)
	}
}
