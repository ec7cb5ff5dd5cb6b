package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// httpError is an error with the HTTP status it is answered with.
type httpError struct {
	status     int
	detail     string
	retryAfter int // seconds; 0: no Retry-After header
}

func (e *httpError) Error() string { return e.detail }

func errorf(status int, format string, args ...any) *httpError {
	return &httpError{status: status, detail: fmt.Sprintf(format, args...)}
}

// writeError answers in A1111's shape: {"error", "detail", "body",
// "errors"}, with "error" the kind of failure.
func writeError(w http.ResponseWriter, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{status: http.StatusInternalServerError, detail: err.Error()}
	}
	if he.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(he.retryAfter))
	}
	kind := "HTTPException"
	if he.status >= 500 && he.status != http.StatusServiceUnavailable && he.status != http.StatusGatewayTimeout {
		kind = "RuntimeError"
	}
	writeJSON(w, he.status, apiError{Error: kind, Detail: he.detail, Errors: he.detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
