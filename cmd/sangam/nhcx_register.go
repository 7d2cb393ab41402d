package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/server"
)

type nhcxRegisterConfig struct {
	databaseURL  string
	tenant       string
	facility     string
	code         string
	name         string
	keyFile      string
	certOut      string
	publicURL    string
	gatewayURL   string
	cmID         string
	sandboxURL   string
	sandboxOwner string
	nhcx         nhcxSettings
	keys         keyStoreOptions
	logging      logOptions
}

const nhcxRegisterSynopsis = `Make a facility an NHCX participant: keep its private key in the key store,
record which tenant and facility the participant code belongs to, and print
what the NHCX registry needs: the encryption certificate and the endpoint URL
(<public-url>/nhcx; NHCX appends /v1/...).

NHA issues participant codes when the hospital registers on the NHCX portal
with that certificate and endpoint URL. The key is taken from --private-key,
else the one already stored for this code is kept, else a new RSA-2048 key is
made; the certificate is self-signed by it. Running again is safe.

--sandbox-url registers the participant with Sangam's own sandbox switch
(its control API) instead of the portal, for local use.`

func (c *nhcxRegisterConfig) register(o *options) {
	o.String(&c.databaseURL, "database-url", "DATABASE_URL", "", "PostgreSQL URL (required)")
	o.String(&c.tenant, "tenant", "SANGAM_TENANT", "", "slug of the tenant (required)")
	o.String(&c.facility, "facility", "NHCX_FACILITY", "", "HFR id of the facility the participant code is for (required)")
	o.String(&c.code, "participant-code", "NHCX_PARTICIPANT_CODE", "", "the facility's NHCX participant code, e.g. 1000004604@hcx (required)")
	o.String(&c.name, "name", "NHCX_PARTICIPANT_NAME", "", "participant name (default: the facility's name)")
	o.String(&c.keyFile, "private-key", "NHCX_PRIVATE_KEY", "", "our private key file (PEM or JWK); default: keep the stored key or make one")
	o.String(&c.certOut, "certificate-out", "", "", "write the encryption certificate (PEM) to this file instead of standard output")
	o.String(&c.publicURL, "public-url", "SANGAM_PUBLIC_URL", "http://localhost:8080", "URL at which NHCX reaches Sangam")
	o.String(&c.gatewayURL, "gateway-url", "ABDM_GATEWAY_URL", defaultGatewayURL, "ABDM gateway base URL")
	o.String(&c.cmID, "cm-id", "ABDM_CM_ID", "sbx", "X-CM-ID: sbx (sandbox) or abdm (production)")
	o.String(&c.sandboxURL, "sandbox-url", "", "", "register with the Sangam sandbox's NHCX switch at this URL (local use only)")
	o.String(&c.sandboxOwner, "sandbox-client-id", "ABDM_CLIENT_ID", "", "with --sandbox-url: the ABDM client id allowed to send as this participant")
	c.nhcx.register(o)
	c.keys.register(o)
	c.logging.register(o)
}

func (c *nhcxRegisterConfig) validate() error {
	var errs []error
	for _, r := range []struct{ v, name string }{
		{c.databaseURL, "DATABASE_URL (--database-url)"}, {c.tenant, "SANGAM_TENANT (--tenant)"},
		{c.facility, "NHCX_FACILITY (--facility)"}, {c.code, "NHCX_PARTICIPANT_CODE (--participant-code)"},
	} {
		if strings.TrimSpace(r.v) == "" {
			errs = append(errs, fmt.Errorf("%s is required", r.name))
		}
	}
	if u, err := url.Parse(c.publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("SANGAM_PUBLIC_URL (--public-url) %q is not an absolute http(s) URL", c.publicURL))
	}
	return errors.Join(errs...)
}

func runNHCXRegister(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c nhcxRegisterConfig
	o := newOptions("nhcx register", nhcxRegisterSynopsis, stderr)
	c.register(o)
	if err := o.parse(args); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	c.code = strings.ToLower(strings.TrimSpace(c.code))
	log, err := c.logging.logger(stderr)
	if err != nil {
		return err
	}
	pool, tenant, err := openTenantPool(ctx, c.databaseURL, c.tenant)
	if err != nil {
		return err
	}
	defer pool.Close()
	facility, facilityName, err := facilityByHFR(ctx, pool, tenant, c.facility)
	if err != nil {
		return err
	}
	if c.name == "" {
		c.name = facilityName
	}
	store, err := keys.Open(ctx, c.keys.config(log), pool)
	if err != nil {
		return err
	}
	_, gateway, err := openBridge(pool, store, bridgeSettings{gatewayURL: c.gatewayURL, cmID: c.cmID, publicURL: c.publicURL}, log, nil)
	if err != nil {
		return err
	}
	svc, err := claims.New(claims.Config{Pool: pool, Keys: store, Tokens: gateway,
		SwitchURL: c.nhcx.switchURL, RegistryURL: c.nhcx.registryURL, Logger: log})
	if err != nil {
		return fmt.Errorf("NHCX: %w", err)
	}

	ref := claims.PrivateKeyRef(tenant, facility, c.code)
	key, made, err := participantKey(ctx, store, ref, c.keyFile)
	if err != nil {
		return err
	}
	if err := svc.SetParticipant(ctx, claims.Participant{Tenant: tenant, Facility: facility, Code: c.code, Name: c.name}); err != nil {
		return err
	}
	certPEM, err := selfSignedCertificate(key, c.code, c.name)
	if err != nil {
		return err
	}
	endpoint := strings.TrimRight(c.publicURL, "/") + server.NHCXPath
	if c.sandboxURL != "" {
		if err := registerWithSandbox(ctx, c.sandboxURL, sandboxParticipant{Code: c.code, Name: c.name, Role: "provider",
			EndpointURL: endpoint, EncryptionCert: string(certPEM), ClientID: c.sandboxOwner, Status: "Active"}); err != nil {
			return err
		}
	}

	if c.certOut != "" {
		if err := os.WriteFile(c.certOut, certPEM, 0o644); err != nil {
			return fmt.Errorf("--certificate-out: %w", err)
		}
	}
	keyNote := "kept the stored private key"
	if made {
		keyNote = "made a new RSA-2048 private key"
	} else if c.keyFile != "" {
		keyNote = "stored the private key from " + c.keyFile
	}
	fmt.Fprintf(stderr, "participant %s is facility %s (%s) of tenant %s; %s (in the key store)\n", c.code, c.facility, c.name, c.tenant, keyNote)
	fmt.Fprintf(stderr, "endpoint URL: %s\n", endpoint)
	if c.sandboxURL != "" {
		fmt.Fprintf(stderr, "registered with the sandbox NHCX switch at %s\n", c.sandboxURL)
	} else {
		fmt.Fprintln(stderr, "register this certificate and endpoint URL for the participant on the NHCX portal")
	}
	if c.certOut == "" {
		_, err = stdout.Write(certPEM)
	}
	return err
}

// facilityByHFR returns the id and name of the tenant's facility with the
// HFR id.
func facilityByHFR(ctx context.Context, pool *pgxpool.Pool, tenant, hfrID string) (id, name string, err error) {
	err = database.InTenant(ctx, pool, tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT id::text, name FROM facilities WHERE hfr_id = $1`, hfrID).Scan(&id, &name)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", fmt.Errorf("tenant has no facility with HFR id %q (check --facility)", hfrID)
	}
	if err != nil {
		return "", "", fmt.Errorf("looking up facility %q: %w", hfrID, err)
	}
	return id, name, nil
}

// participantKey returns the key to register: the file's, else the stored
// one, else a new one. Whatever is used ends up in the key store.
func participantKey(ctx context.Context, store keys.Store, ref keys.Ref, keyFile string) (key *rsa.PrivateKey, made bool, err error) {
	if keyFile != "" {
		data, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, false, fmt.Errorf("--private-key: %w", err)
		}
		if err := claims.SavePrivateKey(ctx, store, ref, data); err != nil {
			return nil, false, err
		}
		key, err = claims.LoadPrivateKey(ctx, store, ref)
		return key, false, err
	}
	key, err = claims.LoadPrivateKey(ctx, store, ref)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, keys.ErrNotFound) {
		return nil, false, err
	}
	key, err = rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, false, fmt.Errorf("making a private key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, false, fmt.Errorf("encoding the private key: %w", err)
	}
	if err := claims.SavePrivateKey(ctx, store, ref, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// selfSignedCertificate wraps the public key in the X.509 certificate the
// registry publishes for senders to encrypt to. Its subject names the
// participant; NHCX checks nothing else in it.
func selfSignedCertificate(key *rsa.PrivateKey, code, name string) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, fmt.Errorf("making a certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: code, Organization: []string{name}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("making the certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// sandboxParticipant is the sandbox switch's registry entry.
type sandboxParticipant struct {
	Code           string `json:"participant_code"`
	Name           string `json:"participant_name"`
	Role           string `json:"role"`
	EndpointURL    string `json:"endpoint_url"`
	EncryptionCert string `json:"encryption_cert"`
	ClientID       string `json:"client_id,omitempty"`
	Status         string `json:"status"`
}

func registerWithSandbox(ctx context.Context, sandboxURL string, p sandboxParticipant) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	u := strings.TrimRight(sandboxURL, "/") + "/_sandbox/nhcx/participants/" + url.PathEscape(p.Code)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("--sandbox-url: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("registering with the sandbox NHCX switch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("the sandbox NHCX switch refused the participant: %s %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
