package abdmtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/sangamhealth/sangam/abdm"
)

// NewCallbackRequest builds a gateway→bridge callback the way the gateway
// sends it: POST bridgeURL+route.Path with a fresh REQUEST-ID, TIMESTAMP,
// the route's addressing header (X-HIP-ID or X-HIU-ID) set to serviceID,
// Content-Type, and Authorization: Bearer <JWT signed by s>. No X-CM-ID: the
// gateway does not send it on callbacks. The request id is returned for
// matching the bridge's on-* answer.
func NewCallbackRequest(ctx context.Context, s *Signer, bridgeURL string, route abdm.CallbackRoute, serviceID string, body any) (*http.Request, string, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, "", fmt.Errorf("encoding callback body: %w", err)
	}
	token, err := s.CallbackToken(time.Now())
	if err != nil {
		return nil, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(bridgeURL, "/")+route.Path, bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("building callback request: %w", err)
	}
	id := uuid.NewString()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(abdm.HeaderRequestID, id)
	req.Header.Set(abdm.HeaderTimestamp, abdm.FormatTimestamp(time.Now()))
	req.Header.Set(route.Role.Header(), serviceID)
	req.Header.Set("Authorization", "Bearer "+token)
	return req, id, nil
}
