package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
)

// ABDMAdmin is what the ABDM connection page and the operations console
// need from the ABDM bridge; *bridge.Bridge implements it. Tenants are
// tenant ids (UUIDs), as in the staff session.
type ABDMAdmin interface {
	BridgeURL(slug string) string
	OnboardingStatus(ctx context.Context, tenant string) (*bridge.TenantStatus, error)
	FacilityRegistrations(ctx context.Context, tenant string) ([]bridge.Registration, error)
	SetCredentials(ctx context.Context, tenant, clientID string, secret []byte) error
	Onboard(ctx context.Context, tenant string) (*bridge.Onboarding, error)
	CheckRegistrations(ctx context.Context, tenant string) (*bridge.Onboarding, error)
	Timeline(ctx context.Context, tenant string, f bridge.Filter) ([]bridge.Exchange, error)
	Exchange(ctx context.Context, tenant string, id int64) (*bridge.ExchangeDetail, error)
	Replay(ctx context.Context, tenant string, id int64) error
}

// CheckCredentialsFunc opens a gateway session with a candidate client id
// and secret, so that a mistyped secret is refused rather than stored. The
// error is an *abdm.Error when the gateway answered.
type CheckCredentialsFunc func(ctx context.Context, tenant, clientID string, secret []byte) error

// GatewayCredentialCheck checks candidate credentials with the gateway cfg
// names (GatewayURL, CMID, HTTPClient; Credentials is ignored) by listing
// bridge-services with a client of their own, which never touches the
// session cache of the client the bridge uses.
func GatewayCredentialCheck(cfg abdm.Config) CheckCredentialsFunc {
	return func(ctx context.Context, tenant, clientID string, secret []byte) error {
		trial := cfg
		trial.Credentials = abdm.CredentialsFunc(func(context.Context, string) (abdm.ClientCredentials, error) {
			return abdm.ClientCredentials{ClientID: clientID, ClientSecret: string(secret)}, nil
		})
		c, err := abdm.New(trial)
		if err != nil {
			return fmt.Errorf("building a gateway client to check credentials: %w", err)
		}
		if _, err := c.BridgeServices(ctx, tenant); err != nil {
			return fmt.Errorf("checking ABDM credentials of client %s: %w", clientID, err)
		}
		return nil
	}
}

// abdmOnly guards the ABDM admin pages of a deployment without a bridge.
func (s *Server) abdmOnly(h fiber.Handler) fiber.Handler {
	return servingOnlyIf(func() bool { return s.abdm != nil }, "ABDM is not set up here",
		"This Sangam runs without its ABDM bridge, so there is no ABDM connection or operations console to show. Ask whoever runs Sangam to configure the ABDM gateway.", h)
}

// audit records an administrator's action in the tenant's audit log, with
// who, from where and in which request. detail must hold no secrets and no
// patient data.
func (s *Server) audit(c *fiber.Ctx, action string, detail map[string]any) error {
	ctx := c.UserContext()
	st := staffFrom(ctx)
	if detail == nil {
		detail = map[string]any{}
	}
	detail["username"] = st.Username
	detail["ip"] = c.IP()
	detail["request_id"] = RequestID(ctx)
	return database.InTenant(ctx, s.pool, st.TenantID, func(tx pgx.Tx) error {
		return recordAudit(ctx, tx, st.TenantID, st.Subject, action, detail)
	})
}

// tenantSlug names the tenant in its bridge URL.
func (s *Server) tenantSlug(ctx context.Context, tenant string) (string, error) {
	var slug string
	if err := s.pool.QueryRow(ctx, "SELECT slug FROM tenants WHERE id = $1::uuid", tenant).Scan(&slug); err != nil {
		return "", fmt.Errorf("reading the slug of tenant %s: %w", tenant, err)
	}
	return slug, nil
}

// facilityName is how the ABDM pages name a facility.
type facilityName struct {
	Name  string
	HFRID string
}

// facilityNames maps every facility id of the tenant to its name and HFR
// id. These pages are about the whole organisation's connection, so they
// are not limited to the administrator's own facilities.
func (s *Server) facilityNames(ctx context.Context, tenant string) (map[string]facilityName, error) {
	out := make(map[string]facilityName)
	err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT id::text, name, hfr_id FROM facilities")
		if err != nil {
			return err
		}
		var (
			id string
			f  facilityName
		)
		_, err = pgx.ForEachRow(rows, []any{&id, &f.Name, &f.HFRID}, func() error {
			out[id] = f
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading facility names: %w", err)
	}
	return out, nil
}

// statusForGateway is the HTTP status of a page that reports a gateway
// failure: the gateway refused what was sent (422) or could not be reached
// (502).
func statusForGateway(err error) int {
	if abdm.Retryable(err) {
		return http.StatusBadGateway
	}
	return http.StatusUnprocessableEntity
}
