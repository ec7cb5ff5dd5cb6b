package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// requireKey refuses requests without the API key with 401. The key comes
// as "Authorization: Bearer KEY", or as the password of HTTP Basic auth
// (any user name): that is how A1111 clients such as Open WebUI send
// credentials (A1111's --api-auth), and how a browser asks for them on the
// web page.
func requireKey(key string, next http.Handler) http.Handler {
	if key == "" {
		return next
	}
	want := sha256.Sum256([]byte(key))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := presentedKey(r)
		h := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(h[:], want[:]) != 1 {
			w.Header().Add("WWW-Authenticate", `Bearer realm="gosdxl"`)
			w.Header().Add("WWW-Authenticate", `Basic realm="gosdxl"`)
			detail := "missing API key: send Authorization: Bearer <key>"
			if ok {
				detail = "wrong API key"
			}
			writeError(w, errorf(http.StatusUnauthorized, "%s", detail))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func presentedKey(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, rest, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		return strings.TrimSpace(rest), true
	case "basic":
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return "", true
		}
		_, pass, _ := strings.Cut(string(b), ":")
		return pass, true
	}
	return "", false
}

// cors answers preflight requests and sets Access-Control-Allow-Origin for
// the configured origins ("*" allows any). Preflights carry no
// credentials, so this runs before requireKey.
func cors(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	allowed := func(origin string) string {
		for _, o := range origins {
			if o == "*" {
				return "*"
			}
			if strings.EqualFold(o, origin) {
				return origin
			}
		}
		return ""
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allow := ""
		if origin != "" {
			allow = allowed(origin)
		}
		if allow != "" {
			w.Header().Set("Access-Control-Allow-Origin", allow)
			w.Header().Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if allow == "" {
				writeError(w, errorf(http.StatusForbidden, "origin %q is not allowed (--cors-origin)", origin))
				return
			}
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
