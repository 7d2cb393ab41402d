package hiu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/database"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/nrces"
)

// pageContext is what processing a page needs to know about its request.
type pageContext struct {
	pageID       int64
	body         []byte
	processed    bool
	dataRequest  string
	keyName      string
	nonce        string
	txn          string
	pageCount    int
	consentID    string
	artefactID   string
	hipID        string
	hiuID        string
	abhaAddress  string
	patientID    *string
	receivedAt   time.Time
	consentState string
}

// processPage decrypts and reads one stored page, stores its records and,
// when it was the last page, reports the transfer and deletes the key.
func (s *Service) processPage(ctx context.Context, tenant string, pageID int64) error {
	// The private key is read before the page's transaction: the key store
	// needs a connection of its own, and page jobs wait on each other's
	// locks while holding theirs, which could otherwise starve the pool.
	var keyName string
	err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT d.key_name FROM hiu_pages p JOIN hiu_data_requests d ON d.id = p.data_request_id
			WHERE p.id = $1`, pageID).Scan(&keyName)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // purged meanwhile
	}
	if err != nil {
		return fmt.Errorf("reading page's key name: %w", err)
	}
	var own *fidelius.PrivateKey
	secret, err := s.keys.Get(ctx, keys.Ref{Tenant: tenant, Purpose: keys.PurposeHIUPrivateKey, Name: keyName})
	switch {
	case errors.Is(err, keys.ErrNotFound):
		// Expired or deleted: nothing can be read; every entry fails.
	case err != nil:
		return fmt.Errorf("reading private key: %w", err)
	default:
		if own, err = fidelius.ParsePrivateKey(string(secret.Value)); err != nil {
			return river.JobCancel(fmt.Errorf("parsing private key: %w", err))
		}
	}

	var done *pageContext
	var statuses []abdm.CareContextStatus
	err = database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		p := pageContext{pageID: pageID}
		var processedAt *time.Time
		err := tx.QueryRow(ctx, `SELECT p.body, p.processed_at, p.received_at, d.id::text, d.key_name, d.nonce,
				d.transaction_id, coalesce(d.page_count, p.page_count), c.id::text, c.artefact_id, c.hip_id, c.status,
				r.hiu_id, r.patient_abha_address, r.patient_id::text
			FROM hiu_pages p JOIN hiu_data_requests d ON d.id = p.data_request_id
			JOIN hiu_consents c ON c.id = d.consent_id JOIN hiu_consent_requests r ON r.id = c.consent_request_id
			WHERE p.id = $1 FOR UPDATE OF p, d`, pageID).Scan(&p.body, &processedAt, &p.receivedAt, &p.dataRequest, &p.keyName,
			&p.nonce, &p.txn, &p.pageCount, &p.consentID, &p.artefactID, &p.hipID, &p.consentState,
			&p.hiuID, &p.abhaAddress, &p.patientID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // purged meanwhile
		}
		if err != nil {
			return fmt.Errorf("reading page: %w", err)
		}
		if processedAt != nil || p.consentState != StatusGranted {
			return nil
		}
		ok, failed, err := s.readPage(ctx, tx, tenant, &p, own)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE hiu_pages SET processed_at = now(), entries_ok = $2, entries_failed = $3
			WHERE id = $1`, pageID, ok, failed); err != nil {
			return fmt.Errorf("marking page processed: %w", err)
		}
		var pages int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM hiu_pages WHERE data_request_id = $1 AND processed_at IS NOT NULL`,
			p.dataRequest).Scan(&pages); err != nil {
			return fmt.Errorf("counting pages: %w", err)
		}
		if pages < p.pageCount {
			return nil
		}
		statuses, err = contextStatuses(ctx, tx, p.dataRequest)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE hiu_data_requests SET status = 'completed', completed_at = now(), updated_at = now()
			WHERE id = $1`, p.dataRequest); err != nil {
			return fmt.Errorf("completing data request: %w", err)
		}
		session := abdm.SessionTransferred
		allFailed := true
		for _, st := range statuses {
			if st.HIStatus == abdm.HIStatusOK {
				allFailed = false
			}
		}
		if allFailed {
			session = abdm.SessionFailed
		}
		if _, err := s.bridge.Send(ctx, tx, bridge.OutboundCall{
			Tenant: tenant, Path: abdm.PathHealthInformationNotify, HIUID: p.hiuID,
			Body: abdm.HealthInformationNotifyRequest{Notification: abdm.HealthInformationNotification{
				ConsentID: p.artefactID, TransactionID: p.txn, DoneAt: abdm.NewTime(s.now()),
				Notifier: abdm.Notifier{Type: abdm.RoleHIU, ID: p.hiuID},
				StatusNotification: abdm.StatusNotification{
					SessionStatus: session, HIPID: p.hipID, StatusResponses: statuses,
				},
			}},
		}); err != nil {
			return fmt.Errorf("queueing health-information notify: %w", err)
		}
		done = &p
		return nil
	})
	if err != nil {
		return err
	}
	if done != nil {
		// After the commit: a key deleted for a rolled-back completion
		// would make the retry unable to decrypt.
		return s.deleteKey(ctx, tenant, done.keyName)
	}
	return nil
}

// readPage decrypts each entry and stores what nrces reads from it. An
// entry that does not decrypt is counted as failed, not retried: retrying
// would not change the ciphertext.
func (s *Service) readPage(ctx context.Context, tx pgx.Tx, tenant string, p *pageContext, own *fidelius.PrivateKey) (ok, failed int, err error) {
	var body pushBody
	if err := json.Unmarshal(p.body, &body); err != nil {
		return 0, 0, river.JobCancel(fmt.Errorf("decoding stored page: %w", err))
	}
	if own == nil {
		for _, e := range body.Entries {
			if err := recordContext(ctx, tx, p, e.CareContextReference, false); err != nil {
				return 0, 0, err
			}
		}
		return 0, len(body.Entries), nil
	}
	ownNonce, err := fidelius.ParseNonce(p.nonce)
	if err != nil {
		return 0, 0, river.JobCancel(fmt.Errorf("parsing own nonce: %w", err))
	}
	peer, peerNonce, err := body.KeyMaterial.Parse()
	var session *fidelius.Session
	if err == nil {
		session, err = fidelius.NewSession(own, peer, peerNonce, ownNonce)
	}
	for i, e := range body.Entries {
		var plain []byte
		var openErr error = err
		if openErr == nil {
			if e.Content == "" {
				openErr = errors.New("entry has no content (links are not fetched)")
			} else {
				plain, openErr = session.Open(e.Content)
			}
		}
		if openErr != nil {
			s.log.WarnContext(ctx, "data push entry unreadable", "tenant", tenant, "entry", i, "err", openErr)
			failed++
			if err := recordContext(ctx, tx, p, e.CareContextReference, false); err != nil {
				return 0, 0, err
			}
			continue
		}
		rec, err := nrces.Read(ctx, plain, nrces.Provenance{
			HIP: p.hipID, CareContext: e.CareContextReference, Consent: p.artefactID, ReceivedAt: p.receivedAt,
		})
		if err != nil {
			return 0, 0, fmt.Errorf("reading entry: %w", err)
		}
		if err := storeRecord(ctx, tx, p, rec); err != nil {
			return 0, 0, err
		}
		if err := recordContext(ctx, tx, p, e.CareContextReference, true); err != nil {
			return 0, 0, err
		}
		ok++
	}
	return ok, failed, nil
}

// recordContext remembers a care context's outcome for the final notify in
// the page's own row set: a context fails if any of its entries failed.
func recordContext(ctx context.Context, tx pgx.Tx, p *pageContext, careContext string, ok bool) error {
	_, err := tx.Exec(ctx, `INSERT INTO hiu_context_results (tenant_id, data_request_id, care_context, ok)
		VALUES (app_tenant_id(), $1, $2, $3)
		ON CONFLICT (data_request_id, care_context) DO UPDATE SET ok = hiu_context_results.ok AND EXCLUDED.ok`,
		p.dataRequest, careContext, ok)
	if err != nil {
		return fmt.Errorf("recording care context outcome: %w", err)
	}
	return nil
}

func contextStatuses(ctx context.Context, tx pgx.Tx, dataRequest string) ([]abdm.CareContextStatus, error) {
	rows, err := tx.Query(ctx, `SELECT care_context, ok FROM hiu_context_results
		WHERE data_request_id = $1 ORDER BY care_context`, dataRequest)
	if err != nil {
		return nil, fmt.Errorf("reading care context outcomes: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (abdm.CareContextStatus, error) {
		var st abdm.CareContextStatus
		var ok bool
		err := r.Scan(&st.CareContextReference, &ok)
		st.HIStatus = abdm.HIStatusOK
		if !ok {
			st.HIStatus, st.Description = abdm.HIStatusErrored, "could not be decrypted"
		}
		return st, err
	})
}

// storeRecord writes a record, its entries and their attachments.
func storeRecord(ctx context.Context, tx pgx.Tx, p *pageContext, rec *nrces.Record) error {
	problems, err := json.Marshal(rec.Problems)
	if err != nil {
		return fmt.Errorf("encoding problems: %w", err)
	}
	var date *time.Time
	if !rec.Date.IsZero() {
		date = &rec.Date
	}
	var recordID string
	err = tx.QueryRow(ctx, `INSERT INTO hiu_records (tenant_id, consent_id, page_id, patient_abha_address, patient_id,
			hip_id, care_context, artefact_id, received_at, record_type, title, record_date, problems)
		VALUES (app_tenant_id(), $1, $2, $3, $4::uuid, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id::text`,
		p.consentID, p.pageID, p.abhaAddress, p.patientID, rec.Provenance.HIP, rec.Provenance.CareContext,
		rec.Provenance.Consent, rec.Provenance.ReceivedAt, rec.RecordType, rec.Title, date, problems).Scan(&recordID)
	if err != nil {
		return fmt.Errorf("storing record: %w", err)
	}
	for i := range rec.Entries {
		e := &rec.Entries[i]
		c := columnsOf(e)
		attachments := e.Attachments
		e.Attachments = nil // bytes go to hiu_attachments, not into detail
		detail, err := json.Marshal(e)
		e.Attachments = attachments
		if err != nil {
			return fmt.Errorf("encoding entry: %w", err)
		}
		var entryID int64
		err = tx.QueryRow(ctx, `INSERT INTO hiu_entries (tenant_id, record_id, position, kind, resource, code_system, code,
				display, summary, value, unit, range_low, range_high, range_text, status, effective_at, time_text, detail)
			VALUES (app_tenant_id(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
			RETURNING id`, recordID, i, string(e.Kind), e.Resource, c.system, c.code, c.display, e.Text,
			c.value, c.unit, c.low, c.high, c.rangeText, e.Status, c.effective, e.TimeText, detail).Scan(&entryID)
		if err != nil {
			return fmt.Errorf("storing entry: %w", err)
		}
		for _, a := range attachments {
			if _, err := tx.Exec(ctx, `INSERT INTO hiu_attachments (tenant_id, entry_id, content_type, title, url, size, data)
				VALUES (app_tenant_id(), $1, $2, $3, $4, $5, $6)`, entryID, a.ContentType, a.Title, a.URL, a.Size, a.Data); err != nil {
				return fmt.Errorf("storing attachment: %w", err)
			}
		}
	}
	return nil
}

// entryColumns are the queryable columns of an entry.
type entryColumns struct {
	system, code, display             string
	value, unit, low, high, rangeText string
	effective                         *time.Time
}

func columnsOf(e *nrces.Entry) entryColumns {
	var c entryColumns
	if len(e.Codes) > 0 {
		c.system, c.code, c.display = e.Codes[0].System, e.Codes[0].Code, e.Codes[0].Display
	}
	if !e.Time.IsZero() {
		t := e.Time
		c.effective = &t
	}
	if o := e.Observation; o != nil {
		switch {
		case o.Quantity != nil:
			c.value, c.unit = o.Quantity.Comparator+o.Quantity.Value.String(), o.Quantity.Unit
		case o.Text != "":
			c.value = o.Text
		case len(o.Codes) > 0:
			c.value = o.Codes[0].Display
			if c.value == "" {
				c.value = o.Codes[0].Code
			}
		case o.Boolean != nil:
			c.value = fmt.Sprint(*o.Boolean)
		}
		if len(o.ReferenceRange) > 0 {
			r := o.ReferenceRange[0]
			if r.Low != nil {
				c.low = r.Low.Value.String()
			}
			if r.High != nil {
				c.high = r.High.Value.String()
			}
			c.rangeText = r.Text
		}
	}
	return c
}
