package server_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/hiu"
	"github.com/sangamhealth/sangam/server"
	"github.com/sangamhealth/sangam/server/servertest"
	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/sources/mappings"
	"github.com/sangamhealth/sangam/sources/sqlmap"
)

// recordEnv is Sangam for the indexed demo group with the HIU service
// (over a real bridge and the sandbox gateway) and the demo source
// systems wired as `sangam serve` wires them.
type recordEnv struct {
	*servertest.Env
	HIU    *hiu.Service
	Tenant string
}

func startRecordEnv(t *testing.T) *recordEnv {
	t.Helper()
	ctx := context.Background()
	db := databasetest.New(t)
	indexOnce.Do(func() { indexTenant, indexErr = loadIndexed(db) })
	if indexErr != nil {
		t.Fatalf("loading the indexed demo group: %v", indexErr)
	}
	g := indexedGroup()
	var hips []string
	for _, f := range g.Facilities {
		hips = append(hips, f.HIPID)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sangamURL := "http://" + ln.Addr().String()
	issuer := startIdentity(t, sangamURL, identity.DemoUsers(g.HFRIDs()))
	_, gatewayURL := startGateway(t, hips)
	var secrets keyStoreSecrets
	b := newTestBridge(t, db, gatewayURL, sangamURL, nil, &secrets)
	svc, err := hiu.New(hiu.Config{Pool: db.App, Bridge: b, Keys: secrets.store, PublicURL: sangamURL, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	opener := sqlmap.NewOpener(sqlmap.OpenerConfig{
		Mappings: mappings.FS,
		LookupEnvFunc: func(k string) (string, bool) {
			if k == "DATABASE_URL" {
				return db.URL, true
			}
			return "", false
		},
	})
	t.Cleanup(opener.Close)
	reg, err := sources.NewRegistry(sources.RegistryConfig{Pool: db.App, Openers: map[string]sources.OpenFunc{"sql": opener.Open}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)

	srv, err := server.New(ctx, server.Config{
		Pool: db.App, Logger: testLogger(), Metrics: prometheus.NewRegistry(), Version: "test",
		PublicURL:     sangamURL,
		OIDC:          server.OIDCConfig{Issuer: issuer, ClientID: servertest.ClientID, ClientSecret: servertest.ClientSecret},
		SessionIdle:   30 * time.Minute,
		SessionMax:    12 * time.Hour,
		DefaultTenant: g.Slug,
		Bridge:        b,
		HIU:           svc,
		Sources:       reg,
	})
	if err != nil {
		ln.Close()
		t.Fatalf("server.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	})
	return &recordEnv{
		Env:    &servertest.Env{URL: sangamURL, Issuer: issuer, Server: srv, DB: db, TenantID: indexTenant},
		HIU:    svc,
		Tenant: indexTenant,
	}
}

// fetchPage fetches a page and returns its status and body.
func fetchPage(t *testing.T, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, sb.String(), resp.Header
}
