package cm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// LinkToken is a link token the consent manager issued (the token itself
// is never shown).
type LinkToken struct {
	ID          string    `json:"id"` // jti
	HIPID       string    `json:"hip_id"`
	ABHAAddress string    `json:"abha_address"`
	ABHANumber  string    `json:"abha_number,omitempty"` // digits
	IssuedAt    time.Time `json:"issued_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	RequestID   string    `json:"request_id"` // the generate-token REQUEST-ID
}

// Block is an ABDM-1027 block of generate-token for one patient at one HIP.
type Block struct {
	HIPID       string    `json:"hip_id"`
	ABHAAddress string    `json:"abha_address"`
	Until       time.Time `json:"until"`
}

// linkTokenClaims is the payload of a link token. The reference only
// records abhaNumber (the wrapper decodes it); the rest is what a token
// bound to one patient at one HIP needs.
type linkTokenClaims struct {
	jwt.Claims
	HIPID       string `json:"hipId"`
	ABHAAddress string `json:"abhaAddress"`
	ABHANumber  string `json:"abhaNumber,omitempty"`
}

const linkTokenIssuer = "sandbox-consent-manager"

func pairKey(hipID, abhaAddress string) string { return hipID + "|" + normAddress(abhaAddress) }

// tokenRequestKey identifies "the same" generate-token request for the
// ABDM-1092 window: same HIP and same demographics.
func tokenRequestKey(hipID string, body []byte) string {
	var req abdm.GenerateTokenRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return hipID + "|" + string(body)
	}
	req.ABHAAddress = normAddress(req.ABHAAddress)
	canon, _ := json.Marshal(struct {
		N *abdm.NumericID
		A string
		M string
		G abdm.Gender
		Y int
	}{req.ABHANumber, req.ABHAAddress, strings.ToLower(req.Name), req.Gender, req.YearOfBirth})
	return hipID + "|" + string(canon)
}

// onGenerateToken answers /v3/token/generate-token with on-generate-token.
func (c *CM) onGenerateToken(ctx context.Context, m gateway.Message) {
	if c.takePreflight(m.RequestID).refused {
		return
	}
	var req abdm.GenerateTokenRequest
	res := abdm.OnGenerateTokenRequest{Response: abdm.ResponseRef{RequestID: m.RequestID}}
	if err := json.Unmarshal(m.Body, &req); err != nil {
		res.Error = errDetail("ABDM-1006", "Bad Request, invalid request Body")
	} else {
		res.ABHAAddress = req.ABHAAddress
		res.LinkToken, res.Error = c.issueLinkToken(m.HIPID, m.RequestID, req)
	}
	if res.Error != nil {
		c.mu.Lock()
		c.tokenRefused[tokenRequestKey(m.HIPID, m.Body)] = c.now()
		c.mu.Unlock()
	}
	c.answer(ctx, m, gateway.CallbackOnGenerateToken, res)
}

// issueLinkToken checks a generate-token request against the patient
// register and signs a token, or explains the refusal. Refusals for one
// (HIP, patient) count towards an ABDM-1027 block.
func (c *CM) issueLinkToken(hipID, requestID string, req abdm.GenerateTokenRequest) (string, *abdm.ErrorDetail) {
	if req.ABHAAddress == "" || req.Name == "" || req.Gender == "" || req.YearOfBirth == 0 {
		return "", errDetail("ABDM-1006", "abhaAddress, name, gender and yearOfBirth are required")
	}
	now := c.now()
	key := pairKey(hipID, req.ABHAAddress)
	c.mu.Lock()
	if b, ok := c.blocks[key]; ok && now.Before(b.Until) {
		c.mu.Unlock()
		return "", errDetail("ABDM-1027", "Too many failed attempts. Please retry after 24 hours")
	}
	c.mu.Unlock()

	p, ok := c.Patient(req.ABHAAddress)
	var refusal *abdm.ErrorDetail
	switch {
	case !ok:
		refusal = errDetail("ABDM-1051", "Invalid ABHA Number or ABHA Address")
	case req.ABHANumber != nil && string(*req.ABHANumber) != p.abhaDigits():
		refusal = errDetail("ABDM-1051", "Invalid ABHA Number or ABHA Address")
	case !sameName(req.Name, p.Name) || !strings.EqualFold(string(req.Gender), p.Gender) || req.YearOfBirth != p.YearOfBirth:
		// The real gateway's code for a demographic mismatch is not recorded.
		refusal = errDetail("ABDM-9999", "Demographic details do not match the ABHA")
	}
	if refusal != nil {
		c.countRefusal(key, hipID, req.ABHAAddress, now)
		return "", refusal
	}

	claims := linkTokenClaims{
		Claims: jwt.Claims{
			ID: uuid.NewString(), Issuer: linkTokenIssuer, Subject: p.ABHAAddress,
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(c.cfg.LinkTokenTTL)),
		},
		HIPID: hipID, ABHAAddress: p.ABHAAddress, ABHANumber: p.abhaDigits(),
	}
	token, err := jwt.Signed(c.signer).Claims(claims).Serialize()
	if err != nil {
		c.log.Error("cm: signing link token", "error", err)
		return "", errDetail("ABDM-9999", "Unknown exception")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.tokenFails, key)
	c.tokens = append(c.tokens, &LinkToken{
		ID: claims.ID, HIPID: hipID, ABHAAddress: p.ABHAAddress, ABHANumber: claims.ABHANumber,
		IssuedAt: now, ExpiresAt: claims.Expiry.Time().UTC(), RequestID: requestID,
	})
	c.changedLocked()
	return token, nil
}

func (c *CM) countRefusal(key, hipID, abhaAddress string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fails := slices.DeleteFunc(append(c.tokenFails[key], now), func(t time.Time) bool { return now.Sub(t) >= c.cfg.BlockFor })
	c.tokenFails[key] = fails
	if c.cfg.MaxTokenRefusals > 0 && len(fails) >= c.cfg.MaxTokenRefusals {
		c.blocks[key] = Block{HIPID: hipID, ABHAAddress: normAddress(abhaAddress), Until: now.Add(c.cfg.BlockFor)}
		delete(c.tokenFails, key)
	}
	c.changedLocked()
}

// verifyLinkToken checks a token's signature, issuer and expiry.
func (c *CM) verifyLinkToken(token string) (linkTokenClaims, error) {
	var cl linkTokenClaims
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS512})
	if err != nil {
		return cl, fmt.Errorf("parsing link token: %w", err)
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID != c.kid {
		return cl, fmt.Errorf("link token not signed with key %s", c.kid)
	}
	if err := tok.Claims(&c.cfg.LinkTokenKey.PublicKey, &cl); err != nil {
		return cl, fmt.Errorf("verifying link token: %w", err)
	}
	if err := cl.ValidateWithLeeway(jwt.Expected{Issuer: linkTokenIssuer, Time: c.now()}, 0); err != nil {
		return cl, fmt.Errorf("validating link token: %w", err)
	}
	return cl, nil
}

// LinkTokens lists the link tokens issued, oldest first.
func (c *CM) LinkTokens() []LinkToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]LinkToken, 0, len(c.tokens))
	for _, t := range c.tokens {
		out = append(out, *t)
	}
	return out
}

// BlockPatient blocks generate-token for a patient at an HIP for
// Config.BlockFor, as repeated refusals would.
func (c *CM) BlockPatient(hipID, abhaAddress string) Block {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := Block{HIPID: hipID, ABHAAddress: normAddress(abhaAddress), Until: c.now().Add(c.cfg.BlockFor)}
	c.blocks[pairKey(hipID, abhaAddress)] = b
	c.changedLocked()
	return b
}

// Unblock lifts a block.
func (c *CM) Unblock(hipID, abhaAddress string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.blocks, pairKey(hipID, abhaAddress))
	c.changedLocked()
}

// Blocks lists the blocks in force.
func (c *CM) Blocks() []Block {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	out := []Block{}
	for _, b := range c.blocks {
		if now.Before(b.Until) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b Block) int { return strings.Compare(a.HIPID+a.ABHAAddress, b.HIPID+b.ABHAAddress) })
	return out
}
