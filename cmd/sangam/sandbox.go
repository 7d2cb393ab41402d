package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
	"github.com/sangamhealth/sangam/e2e/sandbox/remote"
)

type sandboxConfig struct {
	addr          string
	publicURL     string
	sangamURL     string
	oidcClientID  string
	oidcSecret    string
	abdmClientID  string
	abdmSecret    string
	remoteRecords string
	logging       logOptions
}

func runSandbox(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c sandboxConfig
	o := newOptions("sandbox", "Run the local stand-in for ABDM: the V3 gateway (sessions, signed callbacks,\nbridge URL and services, fault knobs under /_sandbox/) and an OpenID Connect\nprovider at /oidc with one demo staff user per role (password "+identity.DemoPassword+").\nFor local use and tests only: it listens on loopback by default and its\ncontrol API has no authentication.", stderr)
	o.String(&c.addr, "addr", "SANDBOX_ADDR", "127.0.0.1:8081", "address to listen on")
	o.String(&c.publicURL, "public-url", "SANDBOX_PUBLIC_URL", "http://localhost:8081", "URL at which Sangam and browsers reach the sandbox")
	o.String(&c.sangamURL, "sangam-url", "SANGAM_PUBLIC_URL", "http://localhost:8080", "Sangam's public URL, for the sign-in redirect")
	o.String(&c.oidcClientID, "oidc-client-id", "OIDC_CLIENT_ID", "sangam", "client id Sangam signs in with")
	o.String(&c.oidcSecret, "oidc-client-secret", "OIDC_CLIENT_SECRET", "sangam-demo-secret", "client secret Sangam signs in with")
	o.String(&c.abdmClientID, "abdm-client-id", "ABDM_CLIENT_ID", demoABDMClientID, "ABDM client id the demo tenant uses at the gateway")
	o.String(&c.abdmSecret, "abdm-client-secret", "ABDM_CLIENT_SECRET", demoABDMClientSecret, "ABDM client secret the demo tenant uses at the gateway")
	o.String(&c.remoteRecords, "remote-records", "SANDBOX_REMOTE_RECORDS", "../shared/testdata/fhir", "folder of FHIR bundles that \"another hospital\" serves as its patients' records (missing: it serves none and says so)")
	c.logging.register(o)
	if err := o.parse(args); err != nil {
		return err
	}
	log, err := c.logging.logger(stderr)
	if err != nil {
		return err
	}
	public := strings.TrimSuffix(c.publicURL, "/")
	sangam := strings.TrimSuffix(c.sangamURL, "/")

	group := demo.KaveriHealth()
	idp, err := identity.New(identity.Config{
		Issuer: public + sandbox.IdentityPath,
		Clients: []identity.Client{{
			ID:                     c.oidcClientID,
			Secret:                 c.oidcSecret,
			RedirectURIs:           []string{sangam + "/auth/callback"},
			PostLogoutRedirectURIs: []string{sangam + "/signed-out"},
		}},
		Users:  identity.DemoUsers(group.HFRIDs()),
		Logger: log.With("part", "identity"),
	})
	if err != nil {
		return fmt.Errorf("sandbox identity provider: %w", err)
	}

	// The demo tenant's ABDM client owns one HIP (and HIU) service per
	// facility, as the real registry would after the facilities' HFR
	// onboarding. The bridge URL starts empty: Sangam registers it.
	services := make([]gateway.Service, 0, len(group.Facilities))
	for _, f := range group.Facilities {
		services = append(services, gateway.Service{ID: f.HIPID, Name: f.Name, Types: []string{"HIP", "HIU"}})
	}
	sb, err := sandbox.New(sandbox.Config{
		PublicURL: public,
		Logger:    log,
		Gateway: gateway.Config{
			Clients: []gateway.Client{{ID: c.abdmClientID, Secret: c.abdmSecret, Name: group.Name, Services: services}},
		},
		Identity: idp,
		// The demo group's patients who have ABHA are ABDM users too: they
		// can scan a counter, and the consent manager knows them when
		// Sangam links their care contexts.
		CM: cm.Config{Patients: demoABHAPatients()},
		// City Hospital links its records of those patients once the
		// gateway answers, as a hospital links a visit when it registers
		// it: patients find them linked in the PHR app.
		Remote: &remote.Config{RecordsDir: c.remoteRecords, LinkAtStart: true},
		// The insurers the demo group bills answer as the sandbox payer.
		NHCX: nhcx.Config{Payers: demoPayers()},
	})
	if err != nil {
		return err
	}
	defer sb.Close()

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("SANDBOX_ADDR (--addr) %s: %w", c.addr, err)
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.InfoContext(ctx, "sandbox is serving", "addr", ln.Addr().String(), "public_url", public, "oidc_issuer", public+sandbox.IdentityPath)

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("sandbox: %w", err)
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// The demo tenant's sandbox credentials. They are public on purpose: they
// exist only in the sandbox, which listens on loopback.
const (
	demoABDMClientID     = "kaveri-demo"
	demoABDMClientSecret = "kaveri-demo-secret"
)

// demoPayers registers the demo group's payers with the sandbox switch.
func demoPayers() []nhcx.Participant {
	var out []nhcx.Participant
	for _, p := range demo.Payers() {
		out = append(out, nhcx.Participant{Code: p.Code, Name: p.Name, Role: nhcx.RolePayer, Status: "Active"})
	}
	return out
}

// demoABHAPatients lists the demo people who have an ABHA as the consent
// manager's patients, with the details ABDM holds for them.
func demoABHAPatients() []cm.Patient {
	var out []cm.Patient
	for _, p := range demo.People() {
		if p.ABHAAddress == "" {
			continue
		}
		out = append(out, cm.Patient{
			ABHAAddress: p.ABHAAddress, ABHANumber: p.ABHANumber, Name: p.Name, Gender: p.Gender,
			DayOfBirth: p.BirthDate.Day(), MonthOfBirth: int(p.BirthDate.Month()), YearOfBirth: p.BirthDate.Year(),
			Mobile: p.Mobile, Address: p.Address, Pincode: p.PinCode,
		})
	}
	return out
}
