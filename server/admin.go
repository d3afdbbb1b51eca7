package server

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// admin.go guards the HTTP administration endpoints (membership changes,
// profiles) (issue 14): /healthz, /readyz and /status stay open.
//
//   - With Config.AdminTokenFile, a request must carry
//     "Authorization: Bearer <token>" (pgraft remove sends it from
//     --admin-token-file).
//   - Without it, administration is only for the node's own host: the HTTP
//     address must be loopback; elsewhere it is refused.
//   - Either way a request with an Origin or a Referer header is refused:
//     no browser page, whatever site it came from, can change the cluster
//     (a plain cross-site POST needs no CORS preflight).

// loadAdminToken reads the administration token; "" without a file.
func loadAdminToken(file string) (string, error) {
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 16 {
		return "", errors.New("admin token: the file must hold at least 16 characters")
	}
	return tok, nil
}

// admin wraps an administration handler with the checks above.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" || r.Header.Get("Referer") != "" {
			s.refuseAdmin(w, r, http.StatusForbidden, "administration requests from web pages are refused")
			return
		}
		if s.adminToken != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.adminToken)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="pgraft"`)
				s.refuseAdmin(w, r, http.StatusUnauthorized, "a valid administration token is required")
				return
			}
		} else if !s.httpLoopback() {
			s.refuseAdmin(w, r, http.StatusForbidden,
				"administration is disabled on a non-loopback HTTP address without --admin-token-file")
			return
		}
		h(w, r)
	}
}

func (s *Server) refuseAdmin(w http.ResponseWriter, r *http.Request, code int, why string) {
	s.log.Warn("administration request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "why", why)
	writeJSON(w, code, map[string]string{"error": why})
}

// httpLoopback reports whether the HTTP address listens on loopback only.
func (s *Server) httpLoopback() bool {
	return s.httpLn != nil && isLoopback(s.httpLn.Addr().String())
}
