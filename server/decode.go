package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
)

// decodeJSON reads a JSON object into v (which holds the defaults), and
// returns the names of the fields v does not declare: A1111 clients send
// many, and they are accepted. Every failure is a 4xx naming the problem.
func decodeJSON(r *http.Request, maxBytes int64, v any) (unknown []string, err error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errorf(http.StatusRequestEntityTooLarge,
				"request body is larger than this server accepts (%d bytes; see --max-body)", maxBytes)
		}
		return nil, errorf(http.StatusBadRequest, "reading the request body: %v", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, jsonError(err, body)
	}
	if fields == nil {
		return nil, errorf(http.StatusUnprocessableEntity, "request body must be a JSON object")
	}
	if t := reflect.TypeOf(v).Elem(); t.Kind() == reflect.Struct {
		known := jsonFieldNames(t)
		for k := range fields {
			if !known[k] {
				unknown = append(unknown, k)
			}
		}
	}
	sort.Strings(unknown)
	if err := json.Unmarshal(body, v); err != nil {
		return nil, jsonError(err, body)
	}
	return unknown, nil
}

// jsonError turns a decoding error into a 422 (FastAPI's status for a
// body that does not validate) naming the field or the position.
func jsonError(err error, body []byte) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return errorf(http.StatusUnprocessableEntity, "request body must be a JSON object, not %s", typeErr.Value)
		}
		return errorf(http.StatusUnprocessableEntity, "field %q: expected %s, got %s", field, typeName(typeErr.Type), typeErr.Value)
	case errors.As(err, &syntaxErr):
		line := 1 + bytes.Count(body[:min(int(syntaxErr.Offset), len(body))], []byte("\n"))
		return errorf(http.StatusUnprocessableEntity, "malformed JSON at line %d (byte %d): %v", line, syntaxErr.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF) || len(bytes.TrimSpace(body)) == 0:
		return errorf(http.StatusUnprocessableEntity, "malformed JSON: the body is empty or ends early")
	}
	return errorf(http.StatusUnprocessableEntity, "malformed JSON: %v", err)
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return typeName(t.Elem())
	}
	return t.String()
}

// jsonFieldNames lists the JSON names a struct type declares.
func jsonFieldNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}

// fieldList formats names for a log line.
func fieldList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return fmt.Sprintf("%q", names)
}
