package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Error body shapes the real gateway was seen to use (reference §5.1).
const (
	// ShapeNested: {"error":{"code":"ABDM-1006","message":"..."}}.
	ShapeNested = "nested"
	// ShapeArray: [{"error":{"code":..,"message":..}}].
	ShapeArray = "array"
	// ShapeArrayFlat: [{"code":..,"message":..}].
	ShapeArrayFlat = "array_flat"
	// ShapeFlat: {"code":..,"message":..}.
	ShapeFlat = "flat"
	// ShapeSpring: Spring's {"timestamp","path","status","error","requestId"},
	// which carries no ABDM code at all.
	ShapeSpring = "spring"
	// ShapeEmpty: no body.
	ShapeEmpty = "empty"
	// ShapeText: the message as text/plain.
	ShapeText = "text"
)

var errorShapes = []string{ShapeNested, ShapeArray, ShapeArrayFlat, ShapeFlat, ShapeSpring, ShapeEmpty, ShapeText}

// apiError is an ABDM-coded refusal. Its natural shape is the one the real
// gateway uses for it; the error_shape fault overrides it.
type apiError struct {
	status  int
	code    string // as the gateway writes it, sometimes with a trailing ": "
	message string
	shape   string // "" = ShapeNested
}

func (e apiError) isZero() bool { return e.status == 0 }

// Errors the gateway answers with. Codes and messages follow NHA's
// published error tables; where the sandbox was seen to write a code with a
// trailing ": " that is kept.
var (
	errMissingAuth = apiError{status: http.StatusUnauthorized, code: "ABDM-2500", message: "Authorization header is missing"}
	errRequestID   = apiError{status: http.StatusBadRequest, code: "ABDM-2404", message: "Invalid Request Id"}
	errTimestamp   = apiError{status: http.StatusBadRequest, code: "ABDM-2402", message: "Invalid Timestamp"}
	errCMID        = apiError{status: http.StatusBadRequest, code: "ABDM-2403", message: "Invalid X-CM-ID"}
	errHeader      = apiError{status: http.StatusBadRequest, code: "ABDM-1032", message: "Invalid header"}
	errDuplicateID = apiError{status: http.StatusBadRequest, code: "ABDM-1064", message: "request with this request id already exists"}
	errMissingBody = apiError{status: http.StatusBadRequest, code: "ABDM-1064", message: "Request body was missing"}
	errInvalidBody = apiError{status: http.StatusBadRequest, code: "ABDM-1006: ", message: "Bad Request, invalid request Body"}
	errInvalidHIP  = apiError{status: http.StatusBadRequest, code: "ABDM-1035", message: "Invalid HIP ID"}
	errInvalidHIU  = apiError{status: http.StatusBadRequest, code: "ABDM-1040", message: "Invalid HIU ID"}
	errNoMapping   = apiError{status: http.StatusBadRequest, code: "ABDM-2500", message: "No mapping found for response.requestId"}
	errMediaType   = apiError{status: http.StatusBadRequest, code: "ABDM-9999: ", message: `415 UNSUPPORTED_MEDIA_TYPE "Content type '%s' not supported"`}
	errInternal    = apiError{status: http.StatusInternalServerError, code: "ABDM-9999", message: "Unknown exception"}
	// The spec gives 503 bodies the flat shape.
	errUnavailable = apiError{status: http.StatusServiceUnavailable, code: "ABDM-1024", message: "Dependent service unavailable", shape: ShapeFlat}
)

// injectedError is the body of a fault-injected failure with this status.
func injectedError(status int) apiError {
	switch status {
	case http.StatusServiceUnavailable:
		return errUnavailable
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return apiError{status: status, code: "ABDM-1007", message: "Connection failed due to timeout"}
	case http.StatusTooManyRequests:
		return apiError{status: status, code: "ABDM-1022", message: "Too many requests"}
	}
	e := errInternal
	e.status = status
	return e
}

// render writes e in the shape shape (natural shape when ""), appending
// ": " to the code when colon is set.
func (e apiError) render(w http.ResponseWriter, r *http.Request, now time.Time, shape string, colon bool) {
	code := e.code
	if shape == "" {
		shape = e.shape
	} else {
		code = strings.TrimSuffix(code, ": ")
	}
	if colon && !strings.HasSuffix(code, ": ") {
		code += ": "
	}
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	d := detail{Code: code, Message: e.message}
	var body any
	switch shape {
	case ShapeEmpty:
		w.WriteHeader(e.status)
		return
	case ShapeText:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.status)
		_, _ = w.Write([]byte(e.message))
		return
	case ShapeArray:
		body = []map[string]detail{{"error": d}}
	case ShapeArrayFlat:
		body = []detail{d}
	case ShapeFlat:
		body = d
	case ShapeSpring:
		body = map[string]any{
			"timestamp": now.UnixMilli(),
			"path":      r.URL.Path,
			"status":    e.status,
			"error":     http.StatusText(e.status),
			"requestId": r.Header.Get("REQUEST-ID"),
		}
	default:
		body = map[string]detail{"error": d}
	}
	writeJSON(w, e.status, body)
}

// API-manager bodies sit in front of the gateway service: their shape does
// not follow the error_shape fault.
var (
	invalidCredentialsBody = map[string]string{
		"code":        "900901",
		"message":     "Invalid Credentials",
		"description": "Invalid Credentials. Make sure you have provided the correct security credentials",
	}
	noRouteBody = map[string]string{
		"code":        "404",
		"type":        "Status report",
		"message":     "Runtime Error",
		"description": "No matching resource found for given API Request",
	}
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
