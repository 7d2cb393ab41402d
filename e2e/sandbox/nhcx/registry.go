package nhcx

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// serveRegistry answers the participant service (reference §7): POST
// /fetch/certs {"participantid"} and POST /participant/search
// {"participant_code"} (or the HCX form {"filters":{"participant_code":
// {"eq":...}}}), both behind the same bearer_auth token as the switch.
func (s *Switch) serveRegistry(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": Detail{Code: "405", Message: "use POST"}})
		return
	}
	token, found := strings.CutPrefix(r.Header.Get("bearer_auth"), "Bearer ")
	if !found {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": Detail{Code: "NHCX-401", Message: "bearer_auth is missing"}})
		return
	}
	if _, err := s.cfg.VerifyToken(strings.TrimSpace(token)); err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": Detail{Code: "NHCX-401", Message: "Sender is not authorized to execute the operation"}})
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var q struct {
		ParticipantID   string `json:"participantid"`
		ParticipantCode string `json:"participant_code"`
		Filters         struct {
			ParticipantCode struct {
				Eq string `json:"eq"`
			} `json:"participant_code"`
		} `json:"filters"`
	}
	if err := json.Unmarshal(body, &q); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": Detail{Code: "SBX-010", Message: "the body is not JSON"}})
		return
	}
	code := q.ParticipantID
	for _, c := range []string{q.ParticipantCode, q.Filters.ParticipantCode.Eq} {
		if code == "" {
			code = c
		}
	}
	p, ok := s.participant(code)
	if r.URL.Path == PathFetchCerts {
		if !ok || p.EncryptionCert == "" {
			// What the real registry answers, as plain text.
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, "Invalid Certificate Found")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"encryption_cert": p.EncryptionCert})
		return
	}
	list := []map[string]any{}
	if ok {
		roles := []any{p.Role, roleCode(p.Role)}
		list = append(list, map[string]any{
			"participant_code": p.Code, "participant_name": p.Name, "status": p.Status,
			"endpoint_url": p.EndpointURL, "roles": roles, "encryption_cert": p.EncryptionCert,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"participants": list})
}

// roleCode is NHA's numeric role code (reference §7).
func roleCode(role string) int {
	if role == RolePayer {
		return 10002
	}
	return 10001
}
