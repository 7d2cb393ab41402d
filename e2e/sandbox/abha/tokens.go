package abha

import (
	"net/http"
	"strings"
	"time"
)

type tokenKind int

const (
	tokenProfile  tokenKind = iota // X-token for /v3/profile/account...
	tokenPHR                       // X-token of an ABHA-address login
	tokenTransfer                  // T-token of a mobile login
	tokenRefresh                   // R-token
)

// userToken is what a token value stands for. Values are opaque random
// strings; they mean something only to this service.
type userToken struct {
	kind     tokenKind
	clientID string
	number   string   // ABHA number digits
	address  string   // ABHA address (PHR tokens)
	txnID    string   // transfer tokens
	accounts []string // transfer tokens: ABHA numbers to choose from
	expires  time.Time
}

// tokenPair is the {token, expiresIn, refreshToken, refreshExpiresIn}
// answer.
type tokenPair struct {
	Token            string `json:"token"`
	ExpiresIn        int    `json:"expiresIn"`
	RefreshToken     string `json:"refreshToken,omitempty"`
	RefreshExpiresIn int    `json:"refreshExpiresIn,omitempty"`
}

// issueLocked stores t under a fresh value and returns the value.
func (s *Service) issueLocked(t *userToken) string {
	v := newID()
	s.tokens[v] = t
	return v
}

// issuePairLocked issues an X-token of kind and its refresh token.
func (s *Service) issuePairLocked(c *call, kind tokenKind, number, address string) tokenPair {
	x := s.issueLocked(&userToken{kind: kind, clientID: c.clientID, number: number, address: address,
		expires: c.now.Add(s.cfg.XTokenTTL)})
	r := s.issueLocked(&userToken{kind: tokenRefresh, clientID: c.clientID, number: number, address: address,
		expires: c.now.Add(s.cfg.RefreshTokenTTL)})
	return tokenPair{Token: x, ExpiresIn: int(s.cfg.XTokenTTL / time.Second),
		RefreshToken: r, RefreshExpiresIn: int(s.cfg.RefreshTokenTTL / time.Second)}
}

// userTokenFrom reads a user token header (X-token, T-token, R-token). The
// "Bearer " prefix is required: the sandbox answered a bare X-token with
// 400 {"message":"Invalid X-token"} [OBS]. label is the name in messages.
func (s *Service) userTokenFrom(c *call, header, label string, kind tokenKind) (*userToken, *reply) {
	raw := c.r.Header.Get(header)
	v, found := strings.CutPrefix(raw, "Bearer ")
	if !found || strings.TrimSpace(v) == "" {
		rep := messageError(c.now, http.StatusBadRequest, "Invalid "+label)
		return nil, &rep
	}
	s.mu.Lock()
	t := s.tokens[strings.TrimSpace(v)]
	s.mu.Unlock()
	if t == nil || t.kind != kind || t.clientID != c.clientID {
		var rep reply
		switch kind {
		case tokenTransfer:
			rep = messageError(c.now, http.StatusBadRequest, "Invalid T-token")
		case tokenRefresh:
			rep = errRTokenInvalid
		default:
			rep = errXTokenInvalid
		}
		return nil, &rep
	}
	if !c.now.Before(t.expires) {
		rep := errXTokenExpired
		if kind == tokenTransfer {
			rep = errTTokenExpired
		}
		return nil, &rep
	}
	return t, nil
}
