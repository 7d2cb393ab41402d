package abha

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// TokenKind says what a UserToken opens.
type TokenKind string

// Token kinds.
const (
	// TokenProfile is an X-token for /v3/profile/account (profile, card).
	TokenProfile TokenKind = "profile"
	// TokenPHR is the X-token of an ABHA-address login, for the
	// /v3/phr/web/login/profile endpoints.
	TokenPHR TokenKind = "phr"
	// TokenTransfer is the short-lived T-token of a mobile login: it only
	// buys the chosen account's X-token (SelectAccount).
	TokenTransfer TokenKind = "transfer"
)

// UserToken is a patient's ABHA token. It is a bearer credential for the
// patient's ABHA profile: keep it server-side, store it only encrypted,
// and drop it when it expires. It prints and logs as REDACTED; Value and
// RefreshValue are exported only so the caller can encrypt and store them.
type UserToken struct {
	Kind      TokenKind
	Value     string
	ExpiresAt time.Time
	// RefreshValue and RefreshExpiresAt are empty for T-tokens (the
	// service's rule: "has a refresh token ⇒ final").
	RefreshValue     string
	RefreshExpiresAt time.Time
	// ABHANumber and Address identify whose token it is, when known.
	ABHANumber string
	Address    string
}

// Expired reports whether the token can no longer be used at now.
func (t UserToken) Expired(now time.Time) bool {
	return t.Value == "" || !now.Before(t.ExpiresAt)
}

// String implements fmt.Stringer without the token values.
func (t UserToken) String() string {
	return fmt.Sprintf("{Kind:%s Value:REDACTED ExpiresAt:%s ABHANumber:%s Address:%s}",
		t.Kind, t.ExpiresAt.Format(time.RFC3339), t.ABHANumber, t.Address)
}

// GoString implements fmt.GoStringer, so %#v is safe too.
func (t UserToken) GoString() string { return t.String() }

// LogValue implements slog.LogValuer without the token values.
func (t UserToken) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", string(t.Kind)), slog.Time("expires_at", t.ExpiresAt))
}

// seconds decodes a duration in seconds sent as a number or a string.
type seconds int

func (s *seconds) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("decoding seconds: %w", err)
	}
	switch v := v.(type) {
	case float64:
		*s = seconds(v)
	case string:
		if v == "" {
			*s = 0
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("decoding seconds %q: %w", v, err)
		}
		*s = seconds(n)
	case nil:
		*s = 0
	default:
		return fmt.Errorf("decoding seconds: unexpected %T", v)
	}
	return nil
}

// tokensBody is the {token, expiresIn, refreshToken, refreshExpiresIn}
// object of several answers.
type tokensBody struct {
	Token            string  `json:"token"`
	ExpiresIn        seconds `json:"expiresIn"`
	RefreshToken     string  `json:"refreshToken"`
	RefreshExpiresIn seconds `json:"refreshExpiresIn"`
}

// userToken turns a token answer received at now into a UserToken.
func (b tokensBody) userToken(kind TokenKind, now time.Time) UserToken {
	life := time.Duration(b.ExpiresIn) * time.Second
	if life <= 0 {
		// No usable expiresIn: assume the documented lifetimes (X-token
		// 1800 s, T-token 300 s) rather than an already-expired token.
		life = 1800 * time.Second
		if kind == TokenTransfer {
			life = 300 * time.Second
		}
	}
	t := UserToken{Kind: kind, Value: b.Token, ExpiresAt: now.Add(life)}
	if b.RefreshToken != "" {
		t.RefreshValue = b.RefreshToken
		t.RefreshExpiresAt = now.Add(time.Duration(b.RefreshExpiresIn) * time.Second)
	}
	return t
}

// bearer is the header value for a user token: the sandbox refuses a bare
// X-token with 400 "Invalid X-token" [OBS].
func bearer(v string) string { return "Bearer " + v }
