package claims

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/nrces"
)

// PayerRequestKind says what a payer asked for.
type PayerRequestKind string

// Kinds of payer requests.
const (
	// PayerQuery is a communication request: the payer wants more
	// information or documents before it decides.
	PayerQuery PayerRequestKind = "query"
	// PayerPayment is a payment notice, to be acknowledged.
	PayerPayment PayerRequestKind = "payment"
)

// PayerRequest is a request a payer sent on a case, as read from its
// payload, with our answers.
type PayerRequest struct {
	Kind    PayerRequestKind
	Message Message
	// Question is what the payer asked (a query). It may describe the
	// patient's condition: show it, never log it.
	Question string
	// Identifier is the CommunicationRequest's or PaymentNotice's
	// business id, which the answer names.
	Identifier string
	// Amount, Currency, PaidOn (YYYY-MM-DD) and UTR describe a payment.
	Amount   string
	Currency string
	PaidOn   string
	UTR      string
	// Answers are our replies to it, oldest first.
	Answers []Message
}

// Answered reports whether a reply to the request was accepted by the
// switch, or is on its way.
func (r PayerRequest) Answered() bool {
	for _, a := range r.Answers {
		if a.State != StateDeadLettered {
			return true
		}
	}
	return false
}

// CaseDetail is a case with its ledger and the payer's requests, for the
// case page.
type CaseDetail struct {
	Case
	Ledger   []Message
	Requests []PayerRequest
	// Claimed is the total of the last pre-authorisation or claim sent
	// (decimal text), before the payer has said what it read.
	Claimed string
}

// CaseDetail reads a case, its messages and the payer's requests on it.
func (w *Workflow) CaseDetail(ctx context.Context, tenant, id string) (CaseDetail, error) {
	c, err := w.svc.Case(ctx, tenant, id)
	if err != nil {
		return CaseDetail{}, err
	}
	ms, err := w.svc.Ledger(ctx, tenant, LedgerFilter{CaseID: c.ID, Limit: 500})
	if err != nil {
		return CaseDetail{}, err
	}
	d := CaseDetail{Case: c, Ledger: ms}
	for _, m := range ms {
		switch {
		case m.Direction == Inbound && (m.Path == hcx.PathCommunicationRequest || m.Path == hcx.PathPaymentNoticeRequest) &&
			m.HasPayload && m.State != StateRefused:
			payload, err := w.svc.Payload(ctx, tenant, m.ID)
			if err != nil {
				return CaseDetail{}, err
			}
			r := readPayerRequest(m, payload)
			for _, a := range ms {
				if a.Direction == Outbound && a.RespondsTo == m.ID {
					r.Answers = append(r.Answers, a)
				}
			}
			d.Requests = append(d.Requests, r)
		case m.Direction == Outbound && (m.Path == hcx.PathPreauthSubmit || m.Path == hcx.PathClaimSubmit):
			payload, err := w.svc.Payload(ctx, tenant, m.ID)
			if err != nil {
				return CaseDetail{}, err
			}
			var claim struct {
				Total money `json:"total"`
			}
			if first(resources(payload), "Claim", &claim) {
				if a := claim.Total.amount(); a != nil {
					d.Claimed = a.FloatString(2)
				}
			}
		}
	}
	return d, nil
}

// readPayerRequest reads a communication request or payment notice.
func readPayerRequest(m Message, payload []byte) PayerRequest {
	rs := resources(payload)
	type ident struct {
		Value string `json:"value"`
	}
	if m.Path == hcx.PathCommunicationRequest {
		r := PayerRequest{Kind: PayerQuery, Message: m, Question: readCommunicationRequest(payload).note}
		var cr struct {
			Identifier []ident `json:"identifier"`
		}
		if first(rs, "CommunicationRequest", &cr) && len(cr.Identifier) > 0 {
			r.Identifier = cr.Identifier[0].Value
		}
		return r
	}
	r := PayerRequest{Kind: PayerPayment, Message: m}
	pn := readPaymentNotice(payload)
	if pn.paid != nil {
		r.Amount = pn.paid.FloatString(2)
	}
	r.Currency, r.PaidOn, r.UTR = pn.currency, pn.paidOn, pn.utr
	var notice struct {
		Identifier []ident `json:"identifier"`
	}
	if first(rs, "PaymentNotice", &notice) && len(notice.Identifier) > 0 {
		r.Identifier = notice.Identifier[0].Value
	}
	return r
}

// EvidenceDocument is a document of the gathered evidence that can be
// attached to an answer.
type EvidenceDocument struct {
	// Key names it across gatherings: a hash of where it is and what it
	// holds.
	Key    string
	Kind   string // Discharge summary, Lab report, Imaging report, Document
	Title  string
	Origin Origin
	Date   time.Time
	// ContentType and Size are the file's.
	ContentType string
	Size        int
	file        nrces.File
}

// EvidenceDocuments lists the documents with content in ev, discharge
// summaries first.
func EvidenceDocuments(ev *Evidence) []EvidenceDocument {
	var out []EvidenceDocument
	add := func(kind, title string, o Origin, date time.Time, as []Attachment) {
		for _, a := range as {
			if len(a.Data) == 0 {
				continue
			}
			f := a.File()
			f.Title = cmp.Or(f.Title, title)
			h := sha256.New()
			fmt.Fprintf(h, "%s\x00%s\x00%s\x00", o.FacilityHFRID, o.Reference, f.Title)
			h.Write(a.Data)
			out = append(out, EvidenceDocument{Key: hex.EncodeToString(h.Sum(nil)[:12]), Kind: kind, Title: f.Title,
				Origin: o, Date: date, ContentType: f.ContentType, Size: len(a.Data), file: f})
		}
	}
	for _, d := range ev.DischargeSummaries {
		add("Discharge summary", cmp.Or(d.Title, "Discharge summary"), d.Origin, d.Date, d.Attachments)
	}
	for _, r := range ev.Reports {
		kind := map[ReportKind]string{ReportLab: "Lab report", ReportImaging: "Imaging report"}[r.Kind]
		add(cmp.Or(kind, "Document"), cmp.Or(r.Title, r.Code.Text, "Report"), r.Origin, cmp.Or(r.Issued, r.Effective), r.Attachments)
	}
	return out
}

// Upload is a file billing staff attached to an answer.
type Upload struct {
	// Name is the file's name as the browser gave it.
	Name string
	Data []byte
}

// uploadTypes are the files a payer can be sent: PDF and the two image
// formats scans come in, recognised by their first bytes, never by the
// name or the browser's word.
var uploadTypes = []struct {
	magic       []byte
	contentType string
}{
	{[]byte("%PDF-"), "application/pdf"},
	{[]byte{0xFF, 0xD8, 0xFF}, "image/jpeg"},
	{[]byte("\x89PNG\r\n\x1a\n"), "image/png"},
}

// checkUploads types and bounds the uploaded files; the error names the
// file and what is wrong with it.
func (w *Workflow) checkUploads(us []Upload) ([]nrces.File, error) {
	var fe fieldErrors
	var out []nrces.File
	total := 0
	if len(us) > w.limits.Files {
		fe.add("Uploads", "are too many (%d); attach at most %d to one answer", len(us), w.limits.Files)
	}
	for _, u := range us {
		name := uploadName(u.Name)
		if len(u.Data) == 0 {
			fe.add("Uploads", "include %s, which is empty", name)
			continue
		}
		if len(u.Data) > w.limits.PerFile {
			fe.add("Uploads", "include %s, which is larger than the limit of %s per file", name, sizeText(w.limits.PerFile))
			continue
		}
		ct := ""
		for _, t := range uploadTypes {
			if bytes.HasPrefix(u.Data, t.magic) {
				ct = t.contentType
			}
		}
		if ct == "" {
			fe.add("Uploads", "include %s, which is not a PDF, JPEG or PNG file", name)
			continue
		}
		total += len(u.Data)
		out = append(out, nrces.File{ContentType: ct, Data: u.Data, Title: name})
	}
	if total > w.limits.Total {
		fe.add("Uploads", "add up to %s; the limit for one answer is %s", sizeText(total), sizeText(w.limits.Total))
	}
	return out, fe.err()
}

// uploadName is the base name of an uploaded file, bounded, for titles
// and messages.
func uploadName(n string) string {
	n = path.Base(strings.ReplaceAll(strings.TrimSpace(n), `\`, "/"))
	if n == "." || n == "/" || n == "" {
		n = "unnamed file"
	}
	if utf8.RuneCountInString(n) > 120 {
		n = string([]rune(n)[:120])
	}
	return n
}

func sizeText(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// QueryAnswer answers a payer's query on a case with documents from the
// gathered evidence and uploaded files, and a note.
type QueryAnswer struct {
	CaseID string
	// MessageID is the payer's communication request (a ledger id).
	MessageID int64
	// Evidence are EvidenceDocument keys to attach.
	Evidence []string
	Uploads  []Upload
	Note     string
	Actor    Actor
}

// AnswerQuery sends the answer to a payer's query (/v1/communication/
// on_request) with the documents chosen. At least one document or a note
// is needed; uploads must be PDF, JPEG or PNG within the limits.
func (w *Workflow) AnswerQuery(ctx context.Context, tenant string, a QueryAnswer) (Message, error) {
	d, req, err := w.payerRequest(ctx, tenant, a.CaseID, a.MessageID, PayerQuery)
	if err != nil {
		return Message{}, err
	}
	files, err := w.checkUploads(a.Uploads)
	if err != nil {
		return Message{}, err
	}
	c := d.Case
	a.Note = strings.TrimSpace(a.Note)
	if utf8.RuneCountInString(a.Note) > 4000 {
		return Message{}, &FieldError{Field: "Note", Problem: "is longer than 4000 characters"}
	}
	var patient *nrces.Patient
	provider, err := w.facilityProvider(ctx, tenant, c.Facility)
	if err != nil {
		return Message{}, err
	}
	if len(a.Evidence) > 0 {
		ev, err := w.evidence.Gather(ctx, tenant, c.PatientRef, c.EncounterRef)
		if err != nil {
			return Message{}, fmt.Errorf("gathering the evidence: %w", err)
		}
		docs := EvidenceDocuments(&ev)
		for _, key := range a.Evidence {
			i := slices.IndexFunc(docs, func(d EvidenceDocument) bool { return d.Key == key })
			if i < 0 {
				return Message{}, &FieldError{Field: "Evidence", Problem: "include one that is no longer in the patient's records; reload the page and choose again"}
			}
			f := docs[i].file
			f.Title = docs[i].Title + " (" + where(docs[i].Origin) + ")"
			files = append(files, f)
		}
		p := bundlePatient(&ev)
		patient = &p
	}
	if len(files) == 0 && a.Note == "" {
		return Message{}, &FieldError{Field: "Evidence", Problem: "are missing: choose or upload at least one document, or write a note"}
	}
	payer, err := w.payer(ctx, tenant, c.PayerCode)
	if err != nil {
		return Message{}, err
	}
	reply := &nrces.CommunicationReply{
		Sent: w.now(), Provider: provider, Insurer: bundleInsurer(payer), Patient: patient,
		Request:     nrces.Identifier{Value: cmp.Or(req.Identifier, req.Message.CorrelationID)},
		Claim:       nrces.Identifier{System: claimNumberSystem, Value: c.EncounterRef},
		Message:     a.Note,
		Attachments: files,
	}
	built, err := w.builder.CommunicationResponse(ctx, reply)
	if err != nil {
		return Message{}, buildRefusal(err, "answer")
	}
	opts := ReplyOptions{WorkflowID: workflowCode(payer.SchemeKind, queryStep(d, req))}
	m, err := w.svc.ReplyWith(ctx, tenant, req.Message.ID, built.JSON, opts)
	if err != nil {
		return Message{}, err
	}
	w.log.InfoContext(ctx, "nhcx query answered", "case", c.ID, "documents", len(files))
	return m, nil
}

// AcknowledgePayment acknowledges a payer's payment notice on a case
// (/v1/paymentnotice/on_request).
func (w *Workflow) AcknowledgePayment(ctx context.Context, tenant, caseID string, messageID int64, actor Actor) (Message, error) {
	d, req, err := w.payerRequest(ctx, tenant, caseID, messageID, PayerPayment)
	if err != nil {
		return Message{}, err
	}
	c := d.Case
	if req.Answered() {
		return Message{}, nothingSent("this payment notice was already acknowledged")
	}
	provider, err := w.facilityProvider(ctx, tenant, c.Facility)
	if err != nil {
		return Message{}, err
	}
	payer, err := w.payer(ctx, tenant, c.PayerCode)
	if err != nil {
		return Message{}, err
	}
	ack := &nrces.PaymentAck{
		Authored: w.now(), Provider: provider, Insurer: bundleInsurer(payer),
		PaymentNotice: nrces.Identifier{Value: cmp.Or(req.Identifier, req.Message.CorrelationID)},
		Claim:         nrces.Identifier{System: claimNumberSystem, Value: c.EncounterRef},
		Description:   "Payment acknowledged by " + cmp.Or(actor.Name, "the billing desk"),
	}
	built, err := w.builder.PaymentAcknowledgement(ctx, ack)
	if err != nil {
		return Message{}, buildRefusal(err, "payment acknowledgement")
	}
	opts := ReplyOptions{WorkflowID: workflowCode(payer.SchemeKind, stepPaymentAck)}
	m, err := w.svc.ReplyWith(ctx, tenant, req.Message.ID, built.JSON, opts)
	if err != nil {
		return Message{}, err
	}
	w.log.InfoContext(ctx, "nhcx payment acknowledged", "case", c.ID)
	return m, nil
}

// payerRequest finds a payer's request of kind on a case.
func (w *Workflow) payerRequest(ctx context.Context, tenant, caseID string, messageID int64, kind PayerRequestKind) (CaseDetail, PayerRequest, error) {
	d, err := w.CaseDetail(ctx, tenant, caseID)
	if err != nil {
		return CaseDetail{}, PayerRequest{}, err
	}
	for _, r := range d.Requests {
		if r.Message.ID == messageID && r.Kind == kind {
			return d, r, nil
		}
	}
	what := map[PayerRequestKind]string{PayerQuery: "query", PayerPayment: "payment notice"}[kind]
	return CaseDetail{}, PayerRequest{}, &FieldError{Field: "MessageID", Problem: fmt.Sprintf("is not a %s the payer sent on this case", what)}
}

// queryStep says whether a payer's query is about the case's
// pre-authorisation (or an enhancement of it) or its claim, for the
// answer's PM-JAY code: the last of our submissions before the query
// arrived says which; without one, the case's stage does.
func queryStep(d CaseDetail, q PayerRequest) step {
	var last Message
	for _, m := range d.Ledger {
		if m.Direction == Outbound && m.ID < q.Message.ID && m.ID > last.ID &&
			(m.Path == hcx.PathPreauthSubmit || m.Path == hcx.PathClaimSubmit) {
			last = m
		}
	}
	switch {
	case last.Path == hcx.PathClaimSubmit:
		return stepClaimQueryResponse
	case last.Path == hcx.PathPreauthSubmit && last.WorkflowID == pmjayCodes[stepEnhancement]:
		// A PM-JAY enhancement is told apart by its code; for other payers
		// the step's code is the case's UUID either way.
		return stepEnhancementQueryResponse
	case last.Path == hcx.PathPreauthSubmit:
		return stepPreauthQueryResponse
	case d.Stage == StageClaim || d.Stage == StagePayment:
		return stepClaimQueryResponse
	}
	return stepPreauthQueryResponse
}

// payer reads one of the tenant's payers.
func (w *Workflow) payer(ctx context.Context, tenant, code string) (Payer, error) {
	ps, err := w.svc.Payers(ctx, tenant)
	if err != nil {
		return Payer{}, err
	}
	for _, p := range ps {
		if p.Code == code {
			return p, nil
		}
	}
	// A case's payer may have been removed from the list; its code still
	// identifies it.
	return Payer{Code: code, Name: code}, nil
}

// facilityProvider describes a facility of the tenant as the sender.
func (w *Workflow) facilityProvider(ctx context.Context, tenant, facilityID string) (nrces.Provider, error) {
	var p nrces.Provider
	err := w.svc.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT name, hfr_id FROM facilities WHERE id = $1::uuid`, facilityID).Scan(&p.Name, &p.HFRID)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("facility %s: %w", facilityID, ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("reading facility %s: %w", facilityID, err)
	}
	return p, nil
}
