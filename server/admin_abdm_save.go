package server

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/views"
)

// Limits of the credentials form; NHA's client ids are like SBX_000123.
const (
	maxClientIDLen = 200
	maxSecretLen   = 1024
)

// saveABDMCredentials checks a client id and secret with the gateway and
// stores them only if it accepts them.
func (s *Server) saveABDMCredentials(c *fiber.Ctx) error {
	ctx := c.UserContext()
	st := staffFrom(ctx)
	// Fiber's form values are borrowed: copy them before they outlive the handler.
	clientID := strings.Clone(strings.TrimSpace(c.FormValue("client_id")))
	secret := []byte(c.FormValue("client_secret")) // the conversion copies
	form := &views.CredentialsForm{ClientID: clientID, Error: credentialsFormError(clientID, secret)}
	if form.Error != "" {
		return s.showABDMProblem(c, fiber.StatusUnprocessableEntity, nil, form)
	}
	if s.checkCreds == nil {
		return s.showABDMProblem(c, fiber.StatusServiceUnavailable, &views.ABDMProblem{Message: saveDisabled}, form)
	}
	if err := s.checkCreds(ctx, st.TenantID, clientID, secret); err != nil {
		p := credentialsRefusal(err)
		if p == nil {
			return fmt.Errorf("checking ABDM credentials: %w", err)
		}
		if aerr := s.audit(c, "abdm.credentials_refused", map[string]any{"client_id": clientID, "error": refusalCode(err)}); aerr != nil {
			return aerr
		}
		return s.showABDMProblem(c, statusForGateway(err), p, form)
	}
	if err := s.abdm.SetCredentials(ctx, st.TenantID, clientID, secret); err != nil {
		return fmt.Errorf("storing ABDM credentials: %w", err)
	}
	if err := s.audit(c, "abdm.credentials_saved", map[string]any{"client_id": clientID}); err != nil {
		return err
	}
	return c.Redirect(abdmPagePath+"?notice=credentials-saved", fiber.StatusSeeOther)
}

// refusalCode is what the audit log keeps of a refusal: the status and
// code only, since a gateway's message might echo what was sent.
func refusalCode(err error) string {
	var ae *abdm.Error
	if errors.As(err, &ae) {
		return strings.TrimSpace(fmt.Sprintf("HTTP %d %s", ae.HTTPStatus, ae.Code))
	}
	return "gateway unavailable"
}

// credentialsFormError says what is wrong with the typed credentials, or
// "" when they may be sent to the gateway.
func credentialsFormError(clientID string, secret []byte) string {
	switch {
	case clientID == "" && len(secret) == 0:
		return "Enter the client id and the client secret."
	case clientID == "":
		return "Enter the client id."
	case len(secret) == 0:
		return "Enter the client secret. For your safety it is not kept in the form after an error."
	case len(clientID) > maxClientIDLen:
		return fmt.Sprintf("The client id is longer than %d characters; check that you pasted only the id.", maxClientIDLen)
	case strings.ContainsFunc(clientID, func(r rune) bool { return !isClientIDRune(r) }):
		return "The client id may contain only letters, digits, “_”, “-” and “.”; check that you pasted only the id."
	case len(secret) > maxSecretLen:
		return fmt.Sprintf("The client secret is longer than %d characters; check that you pasted only the secret.", maxSecretLen)
	case strings.ContainsFunc(string(secret), unicode.IsControl):
		return "The client secret contains a line break or another control character; paste it again without them."
	}
	return ""
}

func isClientIDRune(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '.')
}
