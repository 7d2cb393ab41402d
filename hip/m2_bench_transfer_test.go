package hip

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abdmtest"
	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/sources"
)

// benchDeliver posts a signed gateway callback to the harness's bridge
// (the abdmtest gateway) and returns its REQUEST-ID.
func (h *m2Harness) benchDeliver(b testing.TB, routeName string, body any) string {
	b.Helper()
	var route abdm.CallbackRoute
	for _, r := range abdm.CallbackRoutes() {
		if r.Name == routeName {
			route = r
		}
	}
	req, id, err := abdmtest.NewCallbackRequest(context.Background(), h.signer, h.bridge.BridgeURL(h.slug), route, h.hipID, body)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(resp.Body)
		b.Fatalf("%s: bridge answered %d %s", routeName, resp.StatusCode, msg)
	}
	return id
}

// benchWait polls cond until it holds or a minute has passed.
func benchWait(b testing.TB, what string, cond func() bool) {
	b.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	b.Fatalf("timed out waiting for %s", what)
}

// benchReceiver is an HIU's data push endpoint that counts what arrives.
type benchReceiver struct {
	srv           *httptest.Server
	pages, bytes  atomic.Int64
	entries       atomic.Int64
	contentLength atomic.Int64 // encrypted entry bytes
}

func newBenchReceiver(b testing.TB) *benchReceiver {
	r := &benchReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var p abdm.DataPushRequest
		body, err := io.ReadAll(req.Body)
		if err == nil {
			err = json.Unmarshal(body, &p)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.pages.Add(1)
		r.bytes.Add(int64(len(body)))
		r.entries.Add(int64(len(p.Entries)))
		for _, e := range p.Entries {
			r.contentLength.Add(int64(len(e.Content)))
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	b.Cleanup(r.srv.Close)
	return r
}

// BenchmarkTransfer1000 serves one health-information request for 1,000
// OP consultation care contexts of one patient held in the demo HIS (a
// SQL source on the test's PostgreSQL): load the transfer, fetch every
// context from the source, adapt, build and gate the NRCeS bundle,
// encrypt, push in pages to an httptest HIU and record the outcome. The
// River job scheduling around it is left out. Target: < 2 s per 1,000 on
// two cores.
func BenchmarkTransfer1000(b *testing.B) {
	const n = 1000
	h := newM2Harness(b)
	ctx := context.Background()
	seed := h.registerContexts(b, "his", sources.OPConsultation, 1)[0]

	// Give the seed visit's patient 999 more visits like it, with their
	// diagnoses and vitals, so the source holds 1,000 contexts for them.
	for _, q := range []string{
		`INSERT INTO demo_medisoft.opd_visit (visit_no, site_code, mrn, visit_dt, dept, consultant, chief_complaint, modified_on)
		 SELECT visit_no || '-B' || g, site_code, mrn, visit_dt - g * interval '1 day', dept, consultant, chief_complaint, modified_on
		 FROM demo_medisoft.opd_visit, generate_series(1, $2::int) g WHERE visit_no = $1`,
		`INSERT INTO demo_medisoft.visit_diagnosis (visit_no, seq, icd10, diagnosis_desc)
		 SELECT visit_no || '-B' || g, seq, icd10, diagnosis_desc
		 FROM demo_medisoft.visit_diagnosis, generate_series(1, $2::int) g WHERE visit_no = $1`,
		`INSERT INTO demo_medisoft.vitals (visit_no, param_code, value, unit, recorded_at)
		 SELECT visit_no || '-B' || g, param_code, value, unit, recorded_at - g * interval '1 day'
		 FROM demo_medisoft.vitals, generate_series(1, $2::int) g WHERE visit_no = $1`,
	} {
		if _, err := h.db.Owner.Exec(ctx, q, seed.LocalID, n-1); err != nil {
			b.Fatal(err)
		}
	}
	sys := h.systems["his"]
	mon, err := h.srcs.reg.Source(ctx, h.tenant, sys.ID)
	if err != nil {
		b.Fatal(err)
	}
	all, err := mon.CareContexts(ctx, seed.PatientID, time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().Add(24*time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	var ccs []sources.CareContext
	for _, c := range all {
		if c.HIType == sources.OPConsultation && len(ccs) < n {
			ccs = append(ccs, c)
		}
	}
	if len(ccs) != n {
		b.Fatalf("%d OP consultations in the source, want %d", len(ccs), n)
	}
	err = database.InTenant(ctx, h.db.App, h.tenant, func(tx pgx.Tx) error {
		for _, c := range ccs {
			if _, _, err := sources.UpsertCareContext(ctx, tx, sys.ID, c, sources.FoundViaPoll); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	from, to := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().Add(24*time.Hour)
	h.benchDeliver(b, routeConsentNotify, consentBody("c-bench", "GRANTED", ccs, from, to, time.Now().Add(24*time.Hour)))
	benchWait(b, "the consent", func() bool {
		var k int
		_ = database.InTenant(ctx, h.db.App, h.tenant, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM hip_consents WHERE consent_id = 'c-bench'`).Scan(&k)
		})
		return k == 1
	})

	// A transfer runner with the production page size (the harness's M2
	// uses small pages to test paging).
	builder, err := nrces.NewBuilder(nrces.Config{})
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewM2(M2Config{Pool: h.db.App, Bridge: h.bridge, Sources: h.srcs, Builder: builder, Patients: h.index, Queue: "hip_m2_bench"})
	if err != nil {
		b.Fatal(err)
	}
	recv := newBenchReceiver(b)
	hiuKey, err := fidelius.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}

	var pushed int64
	var cpu time.Duration // the process's CPU time inside the timed part
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		txn := "txn-bench-" + time.Now().Format("150405.000000") + "-" + string(rune('a'+i%26))
		req := abdm.HIPHealthInformationRequest{TransactionID: txn, HIRequest: abdm.HIRequest{
			Consent: abdm.Ref{ID: "c-bench"}, DateRange: abdm.DateRange{From: abdm.NewTime(from), To: abdm.NewTime(to)},
			DataPushURL: recv.srv.URL + "/data/push",
			KeyMaterial: abdm.KeyMaterial{CryptoAlg: "ECDH", Curve: "Curve25519", Nonce: fidelius.NewNonce().String(),
				DHPublicKey: abdm.DHPublicKey{Expiry: abdm.NewTime(time.Now().Add(time.Hour)), Parameters: "Curve25519/32byte random key",
					KeyValue: hiuKey.PublicKey().Raw()}},
		}}
		body, err := json.Marshal(req)
		if err != nil {
			b.Fatal(err)
		}
		var id int64
		err = database.InTenant(ctx, h.db.App, h.tenant, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO hip_transfers (tenant_id, facility_id, hip_id, transaction_id, consent_id, request_id, request)
				VALUES ($1, $2, $3, $4, 'c-bench', $4, $5) RETURNING id`, h.tenant, h.facility, h.hipID, txn, body).Scan(&id)
		})
		if err != nil {
			b.Fatal(err)
		}
		before := recv.entries.Load()
		bytesBefore := recv.contentLength.Load()
		cpuBefore := processCPU(b)
		b.StartTimer()

		if err := m.transfer(ctx, TransferArgs{Tenant: h.tenant, Transfer: id}); err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		cpu += processCPU(b) - cpuBefore
		if got := recv.entries.Load() - before; got != n {
			var state string
			_ = database.InTenant(ctx, h.db.App, h.tenant, func(tx pgx.Tx) error {
				return tx.QueryRow(ctx, `SELECT state FROM hip_transfers WHERE id = $1`, id).Scan(&state)
			})
			b.Fatalf("%d of %d entries pushed (transfer %s)", got, n, state)
		}
		pushed += recv.contentLength.Load() - bytesBefore
		b.StartTimer()
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds() / float64(b.N)
	mb := float64(pushed) / float64(b.N) / 1e6
	b.ReportMetric(secs, "s/1000cc")
	b.ReportMetric(mb, "MB/op")
	b.ReportMetric(mb/secs, "MB/s")
	// Wall time on a shared two-core machine moves with whatever else
	// runs; the CPU a transfer takes does not (PostgreSQL's own share,
	// in its processes, is not counted).
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/1000cc")
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestTransferMemo checks what the transfer shares between its care
// contexts: one call per key however many ask at once, and a failure not
// kept, so the next context tries again as it would have alone.
func TestTransferMemo(t *testing.T) {
	var memo transferMemo[int]
	var calls atomic.Int64
	release := make(chan struct{})
	var wg sync.WaitGroup
	got := make([]int, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := memo.do("a", func() (int, error) {
				calls.Add(1)
				<-release
				return 7, nil
			})
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}()
	}
	for calls.Load() == 0 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls for one key, want 1", n)
	}
	for i, v := range got {
		if v != 7 {
			t.Errorf("caller %d got %d, want 7", i, v)
		}
	}
	if v, _ := memo.do("a", func() (int, error) { return 8, nil }); v != 7 {
		t.Errorf("a later caller got %d, want the kept 7", v)
	}

	fail := errors.New("source down")
	if _, err := memo.do("b", func() (int, error) { return 0, fail }); !errors.Is(err, fail) {
		t.Fatalf("err = %v, want %v", err, fail)
	}
	if v, err := memo.do("b", func() (int, error) { return 9, nil }); err != nil || v != 9 {
		t.Errorf("after a failure: %d, %v; want a new call's 9", v, err)
	}
}
