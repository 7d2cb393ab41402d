package hip

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/nrces"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

// TransferArgs runs one health-information transfer.
type TransferArgs struct {
	Tenant   string `json:"tenant"`
	Transfer int64  `json:"transfer"`
}

// Kind implements river.JobArgs.
func (TransferArgs) Kind() string { return "hip_transfer" }

// transferRequest answers a health-information request: on-request with an
// error when the consent does not allow it (nothing is ever fetched), else
// ACKNOWLEDGED and a transfer job. The job validates again, since the
// consent may be revoked in between.
func (m *M2) transferRequest(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
	var req abdm.HIPHealthInformationRequest
	if err := cb.Decode(&req); err != nil {
		return river.JobCancel(err)
	}
	hr := req.HIRequest
	// The consent manager notifies the HIP and sends the HIU's request
	// close together, so the request can overtake the notify. Wait for it
	// (the bridge retries with backoff) before calling the consent unknown.
	if hr.Consent.ID != "" && cb.Attempt < transferConsentWaitAttempts {
		if _, err := consentLoad(ctx, tx, hr.Consent.ID); errors.Is(err, errConsentUnknown) {
			return fmt.Errorf("consent %s not notified yet (attempt %d); waiting for its notify before answering", hr.Consent.ID, cb.Attempt)
		}
	}
	reply := abdm.HealthInformationOnRequest{Response: abdm.ResponseRef{RequestID: cb.RequestID}}
	refusal := m.transferPrecheck(ctx, tx, cb.FacilityID, req)
	state := "requested"
	if refusal != nil {
		state = "refused"
	}
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO hip_transfers (tenant_id, facility_id, hip_id, transaction_id, consent_id, request_id, request, state, reason, finished_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $8 = 'refused' THEN now() END)
		ON CONFLICT (tenant_id, transaction_id) DO NOTHING RETURNING id`,
		cb.Tenant, cb.FacilityID, cb.ServiceID, req.TransactionID, hr.Consent.ID, cb.RequestID, []byte(cb.Body), state,
		transferReason(refusal)).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		refusal = &consentRefusal{Code: "ABDM-1101", Message: "Duplicate Health Information request"}
	case err != nil:
		return fmt.Errorf("storing health-information request: %w", err)
	}
	if refusal != nil {
		reply.Error = &abdm.ErrorDetail{Code: refusal.Code, Message: refusal.Message}
	} else {
		reply.HIRequest = &abdm.HIRequestAck{TransactionID: req.TransactionID, SessionStatus: abdm.SessionAcknowledged}
		if _, err := m.inserter.InsertTx(ctx, tx, TransferArgs{Tenant: cb.Tenant, Transfer: id},
			&river.InsertOpts{Queue: m.cfg.Queue, MaxAttempts: 3}); err != nil {
			return fmt.Errorf("queueing transfer: %w", err)
		}
	}
	_, err = m.cfg.Bridge.Send(ctx, tx, bridge.OutboundCall{
		Tenant: cb.Tenant, Path: abdm.PathHIPHealthInformationOnRequest, HIPID: cb.ServiceID, Body: reply, RespondsTo: cb.RequestID,
	})
	if err != nil {
		return fmt.Errorf("queueing health-information on-request: %w", err)
	}
	return nil
}

// transferConsentWaitAttempts is how many processing attempts of a
// health-information request wait for an unknown consent's notify; with the
// bridge's backoff that is tens of seconds, well inside the gateway's window.
const transferConsentWaitAttempts = 4

func transferReason(r *consentRefusal) string {
	if r == nil {
		return ""
	}
	return r.Error()
}

// transferPrecheck is the fast check made before acknowledging.
func (m *M2) transferPrecheck(ctx context.Context, tx pgx.Tx, facilityID string, req abdm.HIPHealthInformationRequest) *consentRefusal {
	hr := req.HIRequest
	if req.TransactionID == "" || hr.DataPushURL == "" {
		return &consentRefusal{Code: "ABDM-1006", Message: "transactionId and dataPushUrl are required"}
	}
	if _, _, err := transferPeerKey(hr.KeyMaterial).Parse(); err != nil {
		return &consentRefusal{Code: "ABDM-1006", Message: "invalid keyMaterial"}
	}
	a, err := consentLoad(ctx, tx, hr.Consent.ID)
	if err != nil && !errors.Is(err, errConsentUnknown) {
		return &consentRefusal{Code: "ABDM-9999", Message: "consent could not be read"}
	}
	if _, err := consentValidate(a, facilityID, hr.DateRange, m.cfg.Now()); err != nil {
		var r *consentRefusal
		if errors.As(err, &r) {
			return r
		}
		return &consentRefusal{Code: "ABDM-1112", Message: "Consent artefact invalid or expired"}
	}
	return nil
}

func transferPeerKey(k abdm.KeyMaterial) fidelius.KeyMaterial {
	return fidelius.KeyMaterial{
		CryptoAlg: k.CryptoAlg, Curve: k.Curve, Nonce: k.Nonce,
		DHPublicKey: fidelius.DHPublicKey{KeyValue: k.DHPublicKey.KeyValue, Parameters: k.DHPublicKey.Parameters},
	}
}

type transferWorker struct {
	river.WorkerDefaults[TransferArgs]
	m *M2
}

func (w *transferWorker) Work(ctx context.Context, job *river.Job[TransferArgs]) error {
	err := w.m.transfer(ctx, job.Args)
	if err == nil || job.Attempt < job.MaxAttempts {
		return err
	}
	// Last attempt: tell the HIU and the gateway it failed rather than
	// leave the transfer silently unanswered.
	if gerr := w.m.transferGiveUp(context.WithoutCancel(ctx), job.Args, err); gerr != nil {
		return errors.Join(err, gerr)
	}
	return nil
}

// transferGiveUp ends a transfer that kept failing: FAILED for every care
// context of its consent.
func (m *M2) transferGiveUp(ctx context.Context, args TransferArgs, cause error) error {
	return database.InTenant(ctx, m.cfg.Pool, args.Tenant, func(tx pgx.Tx) error {
		var j transferJob
		var body []byte
		err := tx.QueryRow(ctx, `SELECT state, hip_id, facility_id::text, transaction_id, consent_id, request
			FROM hip_transfers WHERE id = $1 FOR UPDATE`, args.Transfer,
		).Scan(&j.state, &j.hipID, &j.facilityID, &j.transactionID, &j.consentID, &body)
		if err != nil {
			return fmt.Errorf("loading transfer %d: %w", args.Transfer, err)
		}
		if j.state != "requested" {
			return nil
		}
		if a, err := consentLoad(ctx, tx, j.consentID); err == nil {
			j.grant = &consentGrant{contexts: a.CareContexts} // for the notify only; never fetched with
		}
		j.refusal = fmt.Errorf("transfer failed: %w", cause)
		return m.transferFinish(ctx, tx, args, &j, 0)
	})
}

// transferItem is one care context of a transfer and how it went.
type transferItem struct {
	reg      sources.Registered
	status   string // DELIVERED or ERRORED
	reason   string
	findings []nrces.Finding
	content  string // encrypted bundle
	checksum string
}

// transferJob is what the job reads in its first transaction.
type transferJob struct {
	state, hipID, facilityID, transactionID, consentID string
	req                                                abdm.HIPHealthInformationRequest
	grant                                              *consentGrant
	refusal                                            error
	org                                                nrces.Organization
	items                                              []*transferItem
}

func (m *M2) transfer(ctx context.Context, args TransferArgs) error {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.TransferTimeout)
	defer cancel()
	var j transferJob
	err := database.InTenant(ctx, m.cfg.Pool, args.Tenant, func(tx pgx.Tx) error {
		return m.transferLoad(ctx, tx, args.Transfer, &j)
	})
	if err != nil {
		return err
	}
	if j.state != "requested" {
		return nil // finished by an earlier run
	}
	if j.refusal == nil {
		m.transferFetchAll(ctx, args.Tenant, j.grant, j.org, j.items)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("transfer %d: %w", args.Transfer, err)
		}
	}
	pages := 0
	if j.refusal == nil {
		// Re-read the consent just before pushing: a revocation processed
		// while we fetched stops the push.
		err := database.InTenant(ctx, m.cfg.Pool, args.Tenant, func(tx pgx.Tx) error {
			a, err := consentLoad(ctx, tx, j.consentID)
			if err != nil {
				return err
			}
			_, j.refusal = consentValidate(a, j.facilityID, j.req.HIRequest.DateRange, m.cfg.Now())
			return nil
		})
		if err != nil && !errors.Is(err, errConsentUnknown) {
			return fmt.Errorf("transfer %d: re-checking consent: %w", args.Transfer, err)
		}
		if err != nil {
			j.refusal = err
		}
	}
	if j.refusal == nil {
		pages, err = m.transferPush(ctx, &j)
		if err != nil {
			return fmt.Errorf("transfer %d: %w", args.Transfer, err)
		}
	}
	return database.InTenant(ctx, m.cfg.Pool, args.Tenant, func(tx pgx.Tx) error {
		return m.transferFinish(ctx, tx, args, &j, pages)
	})
}

func (m *M2) transferLoad(ctx context.Context, tx pgx.Tx, id int64, j *transferJob) error {
	var body []byte
	err := tx.QueryRow(ctx, `
		SELECT t.state, t.hip_id, t.facility_id::text, t.transaction_id, t.consent_id, t.request, f.name, f.hfr_id
		FROM hip_transfers t JOIN facilities f ON f.id = t.facility_id WHERE t.id = $1 FOR UPDATE OF t`, id,
	).Scan(&j.state, &j.hipID, &j.facilityID, &j.transactionID, &j.consentID, &body, &j.org.Name, &j.org.HFRID)
	if err != nil {
		return fmt.Errorf("loading transfer %d: %w", id, err)
	}
	if j.state != "requested" {
		return nil
	}
	if err := json.Unmarshal(body, &j.req); err != nil {
		return river.JobCancel(fmt.Errorf("decoding transfer %d request: %w", id, err))
	}
	a, err := consentLoad(ctx, tx, j.consentID)
	if err != nil && !errors.Is(err, errConsentUnknown) {
		return err
	}
	j.grant, j.refusal = consentValidate(a, j.facilityID, j.req.HIRequest.DateRange, m.cfg.Now())
	if j.refusal != nil {
		return nil
	}
	for _, c := range j.grant.contexts {
		reg, err := sources.LookupCareContext(ctx, tx, j.facilityID, c.CareContextReference)
		if errors.Is(err, sources.ErrNotFound) {
			reg.Reference = c.CareContextReference
			j.items = append(j.items, &transferItem{reg: reg, status: abdm.HIStatusErrored, reason: "care context not known to this HIP"})
			continue
		}
		if err != nil {
			return err
		}
		// Contexts of a type or date the request does not cover are not
		// part of it.
		if !j.grant.allowsHIType(string(reg.HIType)) || !j.grant.allowsDate(reg.Date) {
			continue
		}
		j.items = append(j.items, &transferItem{reg: reg})
	}
	return nil
}

// transferFetchAll fetches, builds, gates and encrypts each item, at most
// FetchParallelism at a time. Failures are recorded on the item.
func (m *M2) transferFetchAll(ctx context.Context, tenant string, g *consentGrant, org nrces.Organization, items []*transferItem) {
	sh := &transferShared{}
	sem := make(chan struct{}, m.cfg.FetchParallelism)
	var wg sync.WaitGroup
	for _, it := range items {
		if it.status != "" {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			m.transferOne(ctx, tenant, g, org, sh, it)
		}()
	}
	wg.Wait()
}

// transferShared is what the items of one transfer look up once: the
// contexts of a consent come from one or two source systems and are all
// the same patient's, and opening a source or reading the patient costs
// database round trips per call.
type transferShared struct {
	sources  transferMemo[*sources.Monitor]
	patients transferMemo[nrces.Patient]
}

// transferMemo calls a function once per key for one transfer; callers
// asking for a key in flight wait for its answer. Failures are not kept,
// so a later item tries again as it did before.
type transferMemo[V any] struct {
	mu    sync.Mutex
	calls map[string]*transferCall[V]
}

type transferCall[V any] struct {
	done chan struct{}
	v    V
	err  error
}

func (c *transferMemo[V]) do(key string, fn func() (V, error)) (V, error) {
	c.mu.Lock()
	if e, ok := c.calls[key]; ok {
		c.mu.Unlock()
		<-e.done
		return e.v, e.err
	}
	if c.calls == nil {
		c.calls = map[string]*transferCall[V]{}
	}
	e := &transferCall[V]{done: make(chan struct{})}
	c.calls[key] = e
	c.mu.Unlock()
	e.v, e.err = fn()
	if e.err != nil {
		c.mu.Lock()
		delete(c.calls, key)
		c.mu.Unlock()
	}
	close(e.done)
	return e.v, e.err
}

func (m *M2) transferOne(ctx context.Context, tenant string, g *consentGrant, org nrces.Organization, sh *transferShared, it *transferItem) {
	fail := func(reason string, err error) {
		it.status, it.reason = abdm.HIStatusErrored, reason
		if err != nil {
			m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "care context not transferred",
				slog.String("reference", it.reg.Reference), slog.String("reason", reason), slog.String("error", err.Error()))
		}
	}
	mon, err := sh.sources.do(it.reg.SourceSystemID, func() (*sources.Monitor, error) {
		return m.cfg.Sources.Source(ctx, tenant, it.reg.SourceSystemID)
	})
	if err != nil {
		fail("source system not available", err)
		return
	}
	content, err := transferFetch(ctx, g, mon, it.reg)
	if err != nil {
		fail("source system unavailable or care context not found", err)
		return
	}
	patient, err := sh.patients.do(it.reg.SourceSystemID+"\x00"+it.reg.PatientID, func() (nrces.Patient, error) {
		return transferPatient(ctx, mon, it.reg, g.patientID, org.HFRID)
	})
	if err != nil {
		fail("patient not found in source system", err)
		return
	}
	patient.Identifiers = slices.Clone(patient.Identifiers) // each document its own
	doc, err := NewDocument(DocumentInput{Content: content, Patient: patient, Organization: org})
	if err != nil {
		fail("no document for this hiType", err)
		return
	}
	built, err := m.cfg.Builder.Build(ctx, doc)
	var rej *nrces.RejectedError
	switch {
	case errors.As(err, &rej):
		it.findings = rej.Findings
		fail("record did not pass the NRCeS quality gate; held for review", nil)
		return
	case errors.Is(err, nrces.ErrInvalidDocument):
		it.findings = []nrces.Finding{{Location: "Document", Rule: "invalid-document", Severity: nrces.SeverityError, Message: err.Error()}}
		fail("record cannot be expressed as an NRCeS document; held for review", nil)
		return
	case err != nil:
		fail("record could not be built", err)
		return
	}
	sum := md5.Sum(built.JSON)
	it.checksum = hex.EncodeToString(sum[:])
	it.content = string(built.JSON) // encrypted in transferPush with the transfer's key
	it.status = abdm.HIStatusDelivered
}

// transferFetch reads one care context from its source. It takes the grant
// consentValidate made and refuses anything else, and anything the grant
// does not cover.
func transferFetch(ctx context.Context, g *consentGrant, conn sources.Connector, reg sources.Registered) (*sources.Content, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	if !g.allowsHIType(string(reg.HIType)) || !g.allowsDate(reg.Date) {
		return nil, fmt.Errorf("care context %s is outside the consent", reg.Reference)
	}
	c, err := conn.Fetch(ctx, reg.Ref())
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", reg.Reference, err)
	}
	return c, nil
}

// transferPatient is the patient as the source holds them, with the
// consent's ABHA address.
func transferPatient(ctx context.Context, conn sources.Connector, reg sources.Registered, abhaAddress, hfrID string) (nrces.Patient, error) {
	recs, err := conn.FindPatients(ctx, sources.PatientQuery{LocalID: reg.PatientID, Limit: 5})
	if err != nil {
		return nrces.Patient{}, fmt.Errorf("finding patient: %w", err)
	}
	var rec *patients.SourceRecord
	for i := range recs {
		if recs[i].LocalID == reg.PatientID {
			rec = &recs[i]
		}
	}
	if rec == nil {
		return nrces.Patient{}, fmt.Errorf("patient of %s: %w", reg.Reference, sources.ErrNotFound)
	}
	p := nrces.Patient{
		Name: rec.Name, Gender: map[string]string{"M": "male", "F": "female", "O": "other"}[rec.Gender],
		Phone: rec.Mobile, ABHAAddress: abhaAddress,
		Identifiers: []nrces.Identifier{{
			Type:   nrces.Coding{System: systemV2IdentifierType, Code: "MR", Display: "Medical record number"},
			System: documentMRSystem, Value: hfrID + "/" + reg.PatientID,
		}},
	}
	if p.Gender == "" {
		p.Gender = "unknown"
	}
	if len(rec.ABHANumber) > 0 {
		p.ABHANumber = rec.ABHANumber
	}
	switch {
	case !rec.BirthDate.IsZero():
		p.BirthDate = rec.BirthDate.Format("2006-01-02")
	case rec.BirthYear > 0:
		p.BirthDate = fmt.Sprintf("%04d", rec.BirthYear)
	}
	return p, nil
}

// transferPush encrypts every built bundle with a fresh key pair and nonce
// and posts them to the HIU in pages. Entries of a page the HIU did not
// accept become ERRORED.
func (m *M2) transferPush(ctx context.Context, j *transferJob) (int, error) {
	peer, peerNonce, err := transferPeerKey(j.req.HIRequest.KeyMaterial).Parse()
	if err != nil {
		return 0, river.JobCancel(fmt.Errorf("HIU key material: %w", err))
	}
	key, err := fidelius.GenerateKey()
	if err != nil {
		return 0, fmt.Errorf("generating transfer key: %w", err)
	}
	nonce := fidelius.NewNonce()
	sess, err := fidelius.NewSession(key, peer, nonce, peerNonce)
	if err != nil {
		return 0, fmt.Errorf("deriving transfer key: %w", err)
	}
	expiry := j.req.HIRequest.KeyMaterial.DHPublicKey.Expiry.Time
	if expiry.IsZero() {
		expiry = m.cfg.Now().Add(24 * time.Hour)
	}
	km := fidelius.NewKeyMaterial(key.PublicKey().X509(), nonce, expiry)
	var ours abdm.KeyMaterial
	ours.CryptoAlg, ours.Curve, ours.Nonce = km.CryptoAlg, km.Curve, km.Nonce
	ours.DHPublicKey = abdm.DHPublicKey{Expiry: abdm.NewTime(expiry), Parameters: km.DHPublicKey.Parameters, KeyValue: km.DHPublicKey.KeyValue}

	// Page by encrypted size.
	var pages [][]*transferItem
	size := 0
	for _, it := range j.items {
		if it.status != abdm.HIStatusDelivered {
			continue
		}
		it.content = sess.Seal([]byte(it.content))
		if len(pages) == 0 || (size+len(it.content) > m.cfg.PushPageBytes && size > 0) {
			pages = append(pages, nil)
			size = 0
		}
		pages[len(pages)-1] = append(pages[len(pages)-1], it)
		size += len(it.content)
	}
	for i, page := range pages {
		body := abdm.DataPushRequest{
			PageNumber: i + 1, PageCount: len(pages), TransactionID: j.transactionID, KeyMaterial: ours,
			Entries: make([]abdm.DataEntry, len(page)),
		}
		for k, it := range page {
			body.Entries[k] = abdm.DataEntry{Content: it.content, Media: abdm.MediaFHIRJSON, Checksum: it.checksum, CareContextReference: it.reg.Reference}
		}
		if err := m.transferPost(ctx, j.req.HIRequest.DataPushURL, body); err != nil {
			m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "data push page failed",
				slog.String("transaction_id", j.transactionID), slog.Int("page", i+1), slog.String("error", err.Error()))
			for _, it := range page {
				it.status, it.reason = abdm.HIStatusErrored, "data push to the HIU failed"
			}
		}
		for _, it := range page {
			it.content = "" // drop ciphertext once sent
		}
	}
	return len(pages), nil
}

func (m *M2) transferPost(ctx context.Context, url string, body abdm.DataPushRequest) error {
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encoding data push: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("building data push: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := m.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("posting data push: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("data push answered %d", resp.StatusCode)
	}
	return nil
}

// transferFinish records the outcome and queues health-information/notify.
func (m *M2) transferFinish(ctx context.Context, tx pgx.Tx, args TransferArgs, j *transferJob, pages int) error {
	state, reason := "transferred", ""
	delivered, failed := 0, 0
	var statuses []abdm.CareContextStatus
	if j.refusal != nil {
		state, reason = "failed", j.refusal.Error()
		desc := "consent no longer valid"
		var r *consentRefusal
		if !errors.As(j.refusal, &r) {
			desc = "transfer failed"
		}
		for _, c := range j.grant.contextsOrNil() {
			statuses = append(statuses, abdm.CareContextStatus{CareContextReference: c.CareContextReference, HIStatus: abdm.HIStatusErrored, Description: desc})
		}
	}
	// One round trip for all the items' rows rather than one per row: a
	// thousand-context transfer otherwise spends a tenth of a second here.
	var rows pgx.Batch
	for _, it := range j.items {
		if j.refusal != nil {
			break
		}
		desc := "Delivered"
		if it.status == abdm.HIStatusDelivered {
			delivered++
		} else {
			failed++
			desc = it.reason
		}
		statuses = append(statuses, abdm.CareContextStatus{CareContextReference: it.reg.Reference, HIStatus: it.status, Description: desc})
		rows.Queue(`INSERT INTO hip_transfer_items (transfer_id, tenant_id, reference, status, description)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (transfer_id, reference) DO UPDATE SET status = EXCLUDED.status, description = EXCLUDED.description`,
			args.Transfer, args.Tenant, it.reg.Reference, it.status, desc)
		if len(it.findings) > 0 {
			fs, err := json.Marshal(it.findings)
			if err != nil {
				return fmt.Errorf("encoding findings: %w", err)
			}
			rows.Queue(`INSERT INTO hip_review (tenant_id, facility_id, reference, transfer_id, findings) VALUES ($1, $2, $3, $4, $5)`,
				args.Tenant, j.facilityID, it.reg.Reference, args.Transfer, fs)
		}
	}
	if rows.Len() > 0 {
		if err := tx.SendBatch(ctx, &rows).Close(); err != nil {
			return fmt.Errorf("recording transfer items: %w", err)
		}
	}
	if j.refusal == nil && delivered == 0 {
		state, reason = "failed", "no care context could be transferred"
	}
	partial := delivered > 0 && failed > 0
	if _, err := tx.Exec(ctx, `UPDATE hip_transfers SET state = $2, partial = $3, reason = $4, pages = $5, finished_at = now() WHERE id = $1`,
		args.Transfer, state, partial, reason, pages); err != nil {
		return fmt.Errorf("finishing transfer: %w", err)
	}
	session := abdm.SessionTransferred
	if state == "failed" {
		session = abdm.SessionFailed
	}
	notify := abdm.HealthInformationNotifyRequest{Notification: abdm.HealthInformationNotification{
		ConsentID: j.consentID, TransactionID: j.transactionID, DoneAt: abdm.NewTime(m.cfg.Now().UTC()),
		Notifier: abdm.Notifier{Type: abdm.RoleHIP, ID: j.hipID},
		StatusNotification: abdm.StatusNotification{
			SessionStatus: session, HIPID: j.hipID, StatusResponses: statuses,
		},
	}}
	if _, err := m.cfg.Bridge.Send(ctx, tx, bridge.OutboundCall{
		Tenant: args.Tenant, Path: abdm.PathHealthInformationNotify, HIPID: j.hipID, Body: notify,
	}); err != nil {
		return fmt.Errorf("queueing health-information notify: %w", err)
	}
	return nil
}

func (g *consentGrant) contextsOrNil() []abdm.CareContextRef {
	if g == nil {
		return nil
	}
	return g.contexts
}
