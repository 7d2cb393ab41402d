// Package claimstest holds what other packages' tests need to start a
// billing world against the sandbox: participant keys and certificates,
// NHCX tokens from the sandbox gateway, a copy of the demo group in a
// tenant of its own, the claims workflow and its jobs over it, the claims
// case's patient, and waiting for a case to reach a state.
//
// It is for tests only: every helper fails the test it is given rather
// than return an error.
package claimstest

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
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/e2e/sandbox/nhcx"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/sources/mappings"
	"github.com/sangamhealth/sangam/sources/sqlmap"
)

// RSA keys are slow to make, so a test binary makes each named one once.
var rsaKeys struct {
	sync.Mutex
	keys map[string]*rsa.PrivateKey
}

// RSAKey returns the test binary's 2048-bit key called name, making it on
// first use.
func RSAKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	rsaKeys.Lock()
	defer rsaKeys.Unlock()
	if k := rsaKeys.keys[name]; k != nil {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if rsaKeys.keys == nil {
		rsaKeys.keys = map[string]*rsa.PrivateKey{}
	}
	rsaKeys.keys[name] = k
	return k
}

// PrivateKeyPEM is key as the PKCS #8 PEM block `sangam nhcx register`
// stores.
func PrivateKeyPEM(t testing.TB, key *rsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// CertificatePEM is a self-signed encryption certificate for key, valid
// for a year from an hour ago, as a participant registers it.
func CertificatePEM(t testing.TB, key *rsa.PrivateKey, cn string) string {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// Tokens is a claims.TokenSource that takes the NHCX token from the
// sandbox gateway's session API at URL, as production takes it from
// ABDM's, and keeps it until dropped.
type Tokens struct {
	URL, ClientID, Secret string

	mu    sync.Mutex
	token string
}

// ErrNoSession is Tokens' error when the gateway gives no token.
var ErrNoSession = errors.New("the sandbox gateway gave no session token")

// Token returns the kept token, or a new session's.
func (s *Tokens) Token(ctx context.Context, _ string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" {
		return s.token, nil
	}
	body, _ := json.Marshal(map[string]string{"clientId": s.ClientID, "clientSecret": s.Secret, "grantType": "client_credentials"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/gateway/v3/sessions", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("REQUEST-ID", uuid.NewString())
	req.Header.Set("TIMESTAMP", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
	req.Header.Set("X-CM-ID", "sbx")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		return "", ErrNoSession
	}
	s.token = out.AccessToken
	return s.token, nil
}

// Drop forgets token if it is the kept one, so that the next Token asks
// for a new session. It is not named InvalidateToken so that tests choose
// whether their source is a claims.TokenInvalidator.
func (s *Tokens) Drop(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == token {
		s.token = ""
	}
}

// DemoPayers are the demo's payers as participants of the sandbox switch,
// each with its key.
func DemoPayers(t testing.TB) ([]nhcx.Participant, map[string]*rsa.PrivateKey) {
	t.Helper()
	var payers []nhcx.Participant
	payerKeys := map[string]*rsa.PrivateKey{}
	for _, p := range demo.Payers() {
		payers = append(payers, nhcx.Participant{Code: p.Code, Name: p.Name})
		payerKeys[p.Code] = RSAKey(t, "payer "+p.Code)
	}
	return payers, payerKeys
}

// Participant is one of our NHCX participants.
type Participant struct {
	Tenant, Facility, Code, Name string
	Key                          *rsa.PrivateKey
	// EndpointURL is where the switch calls the participant back; ClientID
	// the gateway client it belongs to.
	EndpointURL, ClientID string
}

// Register does what `sangam nhcx register` does for p: its private key
// into store, the participant into svc, and the participant with its
// certificate into the sandbox switch sw.
func Register(t testing.TB, store claims.SecretPutter, svc *claims.Service, sw *nhcx.Switch, p Participant) {
	t.Helper()
	ctx := context.Background()
	if err := claims.SavePrivateKey(ctx, store, claims.PrivateKeyRef(p.Tenant, p.Facility, p.Code), PrivateKeyPEM(t, p.Key)); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetParticipant(ctx, claims.Participant{Tenant: p.Tenant, Facility: p.Facility, Code: p.Code, Name: p.Name}); err != nil {
		t.Fatal(err)
	}
	if err := sw.RegisterParticipant(nhcx.Participant{Code: p.Code, Name: p.Name, EndpointURL: p.EndpointURL,
		EncryptionCert: CertificatePEM(t, p.Key, p.Code), ClientID: p.ClientID}); err != nil {
		t.Fatal(err)
	}
}

// Demo is a copy of a demo group loaded into a tenant of its own: its
// vendors' databases loaded and read through their mappings, its patients
// indexed, its payers, empanelments and coverage on file.
type Demo struct {
	Tenant     string
	Sources    *sources.Registry
	Patients   *patients.Index
	Facilities map[string]string // facility id by HFR id
}

// sourcesLoad serialises loading the demo vendors' databases:
// demo.LoadSources replaces the shared vendor schemas, which must not
// happen while another demo of the same test binary reads them.
var sourcesLoad sync.Mutex

// LoadDemo loads g into db as a tenant of its own. g's slug and HIP ids
// must differ from any other copy in db.
func LoadDemo(t testing.TB, db *databasetest.DB, g demo.Group) *Demo {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	res, err := demo.Load(ctx, db.Owner, g)
	must(err)
	d := &Demo{Tenant: res.TenantID, Facilities: map[string]string{}}
	sourcesLoad.Lock()
	_, err = demo.LoadSources(ctx, db.Owner, g, "DATABASE_URL")
	sourcesLoad.Unlock()
	must(err)
	opener := sqlmap.NewOpener(sqlmap.OpenerConfig{Mappings: mappings.FS, LookupEnvFunc: func(k string) (string, bool) {
		return db.URL, k == "DATABASE_URL"
	}})
	t.Cleanup(opener.Close)
	d.Sources, err = sources.NewRegistry(sources.RegistryConfig{Pool: db.App, Openers: map[string]sources.OpenFunc{"sql": opener.Open}})
	must(err)
	t.Cleanup(d.Sources.Close)
	d.Patients = patients.New(db.App, patients.Config{})
	_, err = sources.IndexAll(ctx, d.Sources, d.Tenant, d.Patients)
	must(err)
	_, err = demo.LoadCoverage(ctx, db.Owner, g)
	must(err)
	must(database.InTenant(ctx, db.App, d.Tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT hfr_id, id::text FROM facilities`)
		if err != nil {
			return err
		}
		var hfr, id string
		_, err = pgx.ForEachRow(rows, []any{&hfr, &id}, func() error { d.Facilities[hfr] = id; return nil })
		return err
	}))
	return d
}

// NewWorkflow is the billing workflow over d as serve wires it: cfg with
// an evidence gatherer over d's patients and sources and the NRCeS
// builder. cfg.Service and cfg.Logger must be set.
func NewWorkflow(t testing.TB, d *Demo, cfg claims.WorkflowConfig) *claims.Workflow {
	t.Helper()
	gatherer, err := claims.NewGatherer(claims.GathererConfig{Patients: d.Patients, Sources: d.Sources, Coverage: cfg.Service,
		WindowBefore: 180 * 24 * time.Hour, Logger: cfg.Logger})
	if err != nil {
		t.Fatal(err)
	}
	builder, err := nrces.NewBuilder(nrces.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Evidence, cfg.Builder = gatherer, builder
	wf, err := claims.NewWorkflow(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return wf
}

// StartJobs runs svc's jobs on queue with River until the test ends.
func StartJobs(t testing.TB, db *databasetest.DB, svc *claims.Service, queue string, maxWorkers int, logger *slog.Logger) {
	t.Helper()
	workers := river.NewWorkers()
	if err := svc.RegisterJobs(workers); err != nil {
		t.Fatal(err)
	}
	jobs, err := river.NewClient(riverpgxv5.New(db.App), &river.Config{
		Queues:  map[string]river.QueueConfig{queue: {MaxWorkers: maxWorkers}},
		Workers: workers, FetchCooldown: 10 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
		Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = jobs.Stop(ctx)
	})
}

// Kavya is the demo claims case's patient as a tenant's workflow sees her.
type Kavya struct {
	ID         string
	Encounters []claims.BillableEncounter
	Problems   []claims.Problem // from listing her encounters
	// Stays are her inpatient encounters that are demo.Claims().Stays, in
	// that order.
	Stays     []Stay
	Coverages []claims.Coverage
}

// Stay is one of Kavya's stays.
type Stay struct {
	HFRID string // the hospital's
	Ref   string // the workflow's encounter reference
}

// Coverage is Kavya's coverage with payerCode (the last, if several), or
// the zero Coverage.
func (k Kavya) Coverage(payerCode string) claims.Coverage {
	var out claims.Coverage
	for _, c := range k.Coverages {
		if c.PayerCode == payerCode {
			out = c
		}
	}
	return out
}

// FindKavya finds the claims case's patient in the tenant by her ABHA
// number (failing unless exactly one patient has it), her stays and her
// coverage.
func FindKavya(t testing.TB, wf *claims.Workflow, index *patients.Index, tenant string) Kavya {
	t.Helper()
	ctx := context.Background()
	person := demo.Claims().Person
	found, err := index.Search(ctx, tenant, patients.ParseSearch(person.ABHANumber), 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 {
		t.Fatalf("%d patients with the claims case's ABHA number %s", len(found), person.ABHANumber)
	}
	k := Kavya{ID: found[0].Patient.ID}
	k.Encounters, k.Problems, err = wf.Encounters(ctx, tenant, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range demo.Claims().Stays {
		for _, e := range k.Encounters {
			if e.FacilityHFRID == s.HFRID && e.Inpatient && strings.HasSuffix(e.Reference, ":"+s.Admission) {
				k.Stays = append(k.Stays, Stay{HFRID: s.HFRID, Ref: e.Ref})
			}
		}
	}
	k.Coverages, err = wf.Coverages(ctx, tenant, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Coverages) == 0 {
		// demo.LoadCoverage finds people by ABHA number across every
		// tenant the (superuser) owner sees, so in a database holding
		// several copies of the demo it gives them none; add hers as the
		// demo defines it.
		for _, pc := range demo.Coverage(person) {
			c, err := wf.SetCoverage(ctx, tenant, claims.Coverage{PatientID: k.ID, PayerCode: pc.PayerCode,
				PlanName: pc.PlanName, PolicyNumber: pc.PolicyNumber, MemberID: pc.MemberID,
				Relationship: claims.Relationship(pc.Relationship), ValidFrom: pc.ValidFrom, UpdatedBy: "demo"})
			if err != nil {
				t.Fatal(err)
			}
			k.Coverages = append(k.Coverages, c)
		}
	}
	return k
}

// Cases is what WaitCase reads a case from: claims.Service and
// claims.Workflow are.
type Cases interface {
	Case(ctx context.Context, tenant, id string) (claims.Case, error)
}

// WaitCase waits up to 30 s until the case satisfies ok, then fails the
// test, with the case's ledger when cases is a *claims.Service.
func WaitCase(t testing.TB, cases Cases, tenant, id string, ok func(claims.Case) bool) claims.Case {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := cases.Case(context.Background(), tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(c) {
			return c
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			if svc, isSvc := cases.(*claims.Service); isSvc {
				ms, _ := svc.Ledger(context.Background(), tenant, claims.LedgerFilter{CaseID: id})
				for _, m := range ms {
					b.WriteString("  " + string(m.Direction) + " " + m.Path + " " + string(m.State) + " " + m.ErrorCode + " " + m.ErrorMessage + "\n")
				}
			}
			t.Fatalf("case %s stuck at %s/%s (%s %s); ledger:\n%s", id, c.Stage, c.Status, c.ErrorCode, c.ErrorMessage, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
