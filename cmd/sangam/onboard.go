package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/keys"
)

// Settings shared by onboard and (for the lead to wire) serve.
const (
	defaultGatewayURL = "https://dev.abdm.gov.in/api/hiecm"
	// clientSecretEnv holds the ABDM client secret when it is not piped in.
	// There is deliberately no flag for it: flag values end up in shell
	// history and process listings.
	clientSecretEnv = "ABDM_CLIENT_SECRET"
)

type onboardConfig struct {
	databaseURL string
	tenant      string
	clientID    string
	secretStdin bool
	publicURL   string
	gatewayURL  string
	cmID        string
	checkOnly   bool
	keys        keyStoreOptions
	logging     logOptions
}

const onboardSynopsis = `Connect a tenant to the ABDM gateway: store its client id and secret (the
secret goes to the key store, never into a plain database column), register
its bridge URL <public-url>/bridge/<tenant> with PATCH /gateway/v3/bridge/url,
then list /gateway/v3/bridge-services and say, per facility, whether its HIP
id is registered under the bridge. A facility that is not cannot serve M2.

The secret is read from the first line of standard input with
--client-secret-stdin, or else from ABDM_CLIENT_SECRET. Without --client-id
the credentials stored earlier are used.

Sandbox or production is configuration only: --gateway-url and --cm-id
(sbx: https://dev.abdm.gov.in/api/hiecm; abdm: https://apis.abdm.gov.in/api/hiecm).`

func (c *onboardConfig) register(o *options) {
	o.String(&c.databaseURL, "database-url", "DATABASE_URL", "", "PostgreSQL URL (required)")
	o.String(&c.tenant, "tenant", "SANGAM_TENANT", "", "slug of the tenant to onboard (required)")
	o.String(&c.clientID, "client-id", "ABDM_CLIENT_ID", "", "ABDM gateway client id to store (e.g. SBX_000123)")
	o.Bool(&c.secretStdin, "client-secret-stdin", "", false, "read the client secret from the first line of standard input instead of "+clientSecretEnv)
	o.String(&c.publicURL, "public-url", "SANGAM_PUBLIC_URL", "http://localhost:8080", "URL at which the ABDM gateway reaches Sangam")
	o.String(&c.gatewayURL, "gateway-url", "ABDM_GATEWAY_URL", defaultGatewayURL, "ABDM gateway base URL")
	o.String(&c.cmID, "cm-id", "ABDM_CM_ID", abdm.CMSandbox, "X-CM-ID: sbx (sandbox) or abdm (production)")
	o.Bool(&c.checkOnly, "check-only", "", false, "only check facility registrations; do not register the bridge URL")
	c.keys.register(o)
	c.logging.register(o)
}

func runOnboard(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c onboardConfig
	o := newOptions("onboard", onboardSynopsis, stderr)
	c.register(o)
	if err := o.parse(args); err != nil {
		return err
	}
	secret, err := c.secret(stdin)
	if err != nil {
		return err
	}
	log, err := c.logging.logger(stderr)
	if err != nil {
		return err
	}

	pool, tenant, err := openTenantPool(ctx, c.databaseURL, c.tenant)
	if err != nil {
		return err
	}
	defer pool.Close()
	kc := c.keys.config(log)
	store, err := keys.Open(ctx, kc, pool)
	if err != nil {
		return err
	}

	b, _, err := openBridge(pool, store, bridgeSettings{gatewayURL: c.gatewayURL, cmID: c.cmID, publicURL: c.publicURL}, log, nil)
	if err != nil {
		return err
	}

	if c.clientID != "" {
		if err := checkCredentials(ctx, c, tenant, secret); err != nil {
			return explain(fmt.Errorf("the gateway did not accept client id %s with this secret; nothing was stored: %w", c.clientID, err))
		}
		if err := b.SetCredentials(ctx, tenant, c.clientID, secret); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "stored ABDM client id %s for tenant %s (secret in the %s key store)\n", c.clientID, c.tenant, keysBackendName(kc.Backend))
	}
	var ob *bridge.Onboarding
	if c.checkOnly {
		ob, err = b.CheckRegistrations(ctx, tenant)
	} else {
		ob, err = b.Onboard(ctx, tenant)
	}
	if err != nil {
		return explain(err)
	}
	if !c.checkOnly {
		fmt.Fprintf(stdout, "registered bridge URL %s with %s (X-CM-ID %s)\n", ob.BridgeURL, c.gatewayURL, c.cmID)
	}
	printOnboarding(stdout, ob)
	return nil
}

// checkCredentials opens a gateway session with the new credentials before
// they replace the stored ones, so a mistyped secret is refused rather than
// stored.
func checkCredentials(ctx context.Context, c onboardConfig, tenant string, secret []byte) error {
	trial, err := abdm.New(abdm.Config{
		GatewayURL: c.gatewayURL, CMID: c.cmID, HTTPClient: &http.Client{Timeout: 30 * time.Second},
		Credentials: abdm.CredentialsFunc(func(context.Context, string) (abdm.ClientCredentials, error) {
			return abdm.ClientCredentials{ClientID: c.clientID, ClientSecret: string(secret)}, nil
		}),
	})
	if err != nil {
		return err
	}
	_, err = trial.BridgeServices(ctx, tenant)
	return err
}

// secret reads the client secret, which is needed exactly when a client id
// is being stored.
func (c *onboardConfig) secret(stdin io.Reader) ([]byte, error) {
	var secret string
	if c.secretStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("reading the client secret from standard input: %w", err)
		}
		secret = strings.TrimRight(line, "\r\n")
	} else {
		secret = os.Getenv(clientSecretEnv)
	}
	var errs []error
	if c.databaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL (--database-url) is required"))
	}
	if c.tenant == "" {
		errs = append(errs, errors.New("SANGAM_TENANT (--tenant) is required: the slug of the tenant to onboard"))
	}
	switch {
	case c.clientID != "" && secret == "":
		errs = append(errs, fmt.Errorf("a client id needs its secret: pipe it in with --client-secret-stdin or set %s", clientSecretEnv))
	case c.clientID == "" && c.secretStdin:
		errs = append(errs, errors.New("--client-secret-stdin needs --client-id (ABDM_CLIENT_ID)"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return []byte(secret), nil
}

func keysBackendName(b string) string {
	if b == "" {
		return keys.BackendEmbedded
	}
	return b
}

// explain adds the plain-language explanation of a gateway refusal.
func explain(err error) error {
	var ae *abdm.Error
	if errors.As(err, &ae) && ae.Explanation != "" {
		return fmt.Errorf("%w\n%s %s", err, ae.Explanation, ae.Advice)
	}
	if errors.Is(err, bridge.ErrNoCredentials) {
		return fmt.Errorf("%w: pass --client-id with the secret on standard input (--client-secret-stdin)", err)
	}
	return err
}

func printOnboarding(w io.Writer, ob *bridge.Onboarding) {
	fmt.Fprintf(w, "gateway reports bridge URL %s\n", orNone(ob.ReportedURL))
	if !ob.URLMatches() {
		fmt.Fprintf(w, "WARNING: the gateway sends this bridge's callbacks to %s, not to %s.\n"+
			"Another system using client id %s registered last (the URL is last-writer-wins); run without --check-only to take it back.\n",
			orNone(ob.ReportedURL), ob.BridgeURL, ob.ClientID)
	}
	ready := 0
	fmt.Fprintln(w, "facilities:")
	for _, r := range ob.Facilities {
		state := "NOT registered under the bridge: cannot serve M2 until its HIP id is added as a service of this bridge"
		switch {
		case r.CanServeM2():
			state = "registered under the bridge (" + strings.Join(r.Types, ", ") + ")"
			ready++
		case r.Registered:
			state = "registered under the bridge but INACTIVE at the gateway: cannot serve M2"
		}
		fmt.Fprintf(w, "  %-16s %-36s %s\n", r.HIPID, r.FacilityName, state)
	}
	fmt.Fprintf(w, "%d of %d facilities can serve M2\n", ready, len(ob.Facilities))
	if len(ob.OtherServices) > 0 {
		fmt.Fprintln(w, "services under the bridge that are no facility in Sangam:")
		for _, s := range ob.OtherServices {
			fmt.Fprintf(w, "  %-16s %-36s %s\n", s.ID, s.Name, strings.Join(s.Types, ", "))
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// keyStoreSecrets keeps ABDM client secrets in the key store, for
// bridge.Credentials.
type keyStoreSecrets struct{ store keys.Store }

// clientSecretName is the key-store name of a tenant's one client secret.
const clientSecretName = "gateway"

func clientSecretRef(tenant string) keys.Ref {
	return keys.Ref{Tenant: tenant, Purpose: keys.PurposeABDMClientSecret, Name: clientSecretName}
}

func (s keyStoreSecrets) PutClientSecret(ctx context.Context, tenant string, secret []byte) error {
	return s.store.Put(ctx, keys.Secret{Ref: clientSecretRef(tenant), Value: secret})
}

func (s keyStoreSecrets) ClientSecret(ctx context.Context, tenant string) ([]byte, error) {
	sec, err := s.store.Get(ctx, clientSecretRef(tenant))
	if errors.Is(err, keys.ErrNotFound) {
		return nil, fmt.Errorf("%w (no secret in the key store)", bridge.ErrNoCredentials)
	}
	if err != nil {
		return nil, err
	}
	return sec.Value, nil
}
