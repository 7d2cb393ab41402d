package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/abdm"
)

// OutboundCall is one call to the gateway, to be sent by a job.
type OutboundCall struct {
	// Tenant is the tenant id whose credentials the call uses.
	Tenant string
	// Method defaults to POST.
	Method string
	// Path is a gateway path, e.g. abdm.PathOnDiscover.
	Path string
	// HIPID or HIUID is sent as X-HIP-ID / X-HIU-ID; paths that require one
	// are refused without it.
	HIPID string
	HIUID string
	// LinkTokenName names the X-LINK-TOKEN in Config.LinkTokens; the token
	// is looked up at send time and never stored in the outbox.
	LinkTokenName string
	// Body is encoded as JSON; json.RawMessage and []byte are taken as
	// they are.
	Body any
	// RespondsTo is the REQUEST-ID of the inbound callback this on-* call
	// answers. The body must carry it as response.requestId; Send checks.
	RespondsTo string
	// MaxAttempts overrides Config.SendMaxAttempts when positive.
	MaxAttempts int
}

// Sent identifies a queued call. Correlate later callbacks by ExchangeID
// (Callback.RelatedID): a replay may give the call a new RequestID.
type Sent struct {
	ExchangeID int64
	RequestID  string
	JobID      int64
}

// Send stores call in the outbox and queues its job, both in tx. Nothing is
// sent unless tx commits. tx must run under the call's tenant
// (database.InTenant) because the outbox is row-secured.
func (b *Bridge) Send(ctx context.Context, tx pgx.Tx, call OutboundCall) (Sent, error) {
	body, err := b.checkCall(&call)
	if err != nil {
		return Sent{}, err
	}
	role, service := "", ""
	switch {
	case call.HIPID != "":
		role, service = string(abdm.RoleHIP), call.HIPID
	case call.HIUID != "":
		role, service = string(abdm.RoleHIU), call.HIUID
	}
	maxAttempts := b.cfg.SendMaxAttempts
	if call.MaxAttempts > 0 {
		maxAttempts = call.MaxAttempts
	}
	route := b.gatewayRouteName(call.Path)
	sent := Sent{RequestID: uuid.NewString()}
	sum := sha256.Sum256(body)

	var related *int64
	err = tx.QueryRow(ctx, `
		INSERT INTO bridge_exchanges (tenant_id, direction, route, method, path, request_id,
			service_role, service_id, facility_id, correlation_id, related_id, state,
			body, body_sha256, link_token_name, max_attempts, purge_after)
		VALUES ($1, 'outbound', $2, $3, $4, $5, $6, $7,
			(SELECT id FROM facilities WHERE $7 <> '' AND hip_id = $7), $8,
			(SELECT id FROM bridge_exchanges
			 WHERE $8 <> '' AND direction = 'inbound' AND request_id = $8 AND state <> 'refused'),
			'queued', $9, $10, $11, $12, $13)
		RETURNING id, related_id`,
		call.Tenant, route, call.Method, call.Path, sent.RequestID, role, service, call.RespondsTo,
		body, sum[:], call.LinkTokenName, maxAttempts, b.retentionDeadline(),
	).Scan(&sent.ExchangeID, &related)
	if err != nil {
		return Sent{}, fmt.Errorf("storing %s call: %w", route, err)
	}
	res, err := b.inserter.InsertTx(ctx, tx, OutboundArgs{Tenant: call.Tenant, Exchange: sent.ExchangeID, Route: route},
		&river.InsertOpts{Queue: b.cfg.Queue, MaxAttempts: maxAttempts, Tags: []string{jobTag(route)}})
	if err != nil {
		return Sent{}, fmt.Errorf("queueing %s call: %w", route, err)
	}
	sent.JobID = res.Job.ID
	detail := fmt.Sprintf("%s %s as job %d, at most %d attempts", call.Method, call.Path, res.Job.ID, maxAttempts)
	if call.RespondsTo != "" && related == nil {
		detail += "; the callback it answers (" + call.RespondsTo + ") is not in the inbox"
	}
	if err := addEvents(ctx, tx, call.Tenant, event{exchange: sent.ExchangeID, kind: EventQueued, detail: detail}); err != nil {
		return Sent{}, err
	}
	return sent, nil
}

// checkCall fills defaults and refuses calls that could never succeed, so
// the mistake surfaces in the caller rather than as a dead letter later.
// It returns the encoded body.
func (b *Bridge) checkCall(call *OutboundCall) ([]byte, error) {
	fail := func(format string, args ...any) ([]byte, error) {
		return nil, fmt.Errorf("%w: %s", ErrInvalidCall, fmt.Sprintf(format, args...))
	}
	if err := checkTenant(call.Tenant); err != nil {
		return fail("%v", err)
	}
	if call.Method == "" {
		call.Method = http.MethodPost
	}
	if !strings.HasPrefix(call.Path, "/") {
		return fail("path %q must start with /", call.Path)
	}
	if call.HIPID != "" && call.HIUID != "" {
		return fail("set HIPID or HIUID, not both")
	}
	switch b.gwRoutes[pathOnly(call.Path)].Requires {
	case abdm.HeaderHIPID:
		if call.HIPID == "" {
			return fail("%s needs HIPID (%s)", call.Path, abdm.HeaderHIPID)
		}
	case abdm.HeaderHIUID:
		if call.HIUID == "" {
			return fail("%s needs HIUID (%s)", call.Path, abdm.HeaderHIUID)
		}
	}
	if call.LinkTokenName != "" && b.cfg.LinkTokens == nil {
		return fail("LinkTokenName is set but the bridge has no LinkTokens source")
	}
	var body []byte
	switch v := call.Body.(type) {
	case nil:
	case json.RawMessage:
		body = v
	case []byte:
		body = v
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			return fail("encoding body: %v", err)
		}
	}
	if body != nil && !json.Valid(body) {
		return fail("body is not valid JSON")
	}
	if call.RespondsTo != "" {
		var ref struct {
			Response abdm.ResponseRef `json:"response"`
		}
		if err := json.Unmarshal(body, &ref); err != nil || ref.Response.RequestID != call.RespondsTo {
			return fail("an answer to %s must carry it as response.requestId", call.RespondsTo)
		}
	}
	return body, nil
}

// gatewayRouteName names a call for the timeline: the abdm route name, or
// the path for paths abdm does not list.
func (b *Bridge) gatewayRouteName(path string) string {
	if r, ok := b.gwRoutes[pathOnly(path)]; ok {
		return r.Name
	}
	return pathOnly(path)
}

func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

// Replay queues an exchange again: a dead-lettered call is sent again, a
// failed or unhandled callback processed again. See the package
// documentation for when a replayed call keeps its REQUEST-ID.
func (b *Bridge) Replay(ctx context.Context, tenant string, id int64) error {
	err := b.inTenant(ctx, tenant, func(tx pgx.Tx) error {
		x, err := getExchange(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if !x.IsReplayable() {
			return fmt.Errorf("%w (%s %s)", ErrNotReplayable, x.Direction, x.State)
		}
		if x.Direction == Inbound {
			return b.replayInbound(ctx, tx, tenant, x)
		}
		return b.replayOutbound(ctx, tx, tenant, x)
	})
	if err != nil {
		return fmt.Errorf("replaying exchange %d: %w", id, err)
	}
	return nil
}

func (b *Bridge) replayInbound(ctx context.Context, tx pgx.Tx, tenant string, x *Exchange) error {
	if _, err := tx.Exec(ctx, `
		UPDATE bridge_exchanges SET state = 'acknowledged', last_error = '', updated_at = now()
		WHERE id = $1`, x.ID); err != nil {
		return fmt.Errorf("requeueing callback: %w", err)
	}
	res, err := b.inserter.InsertTx(ctx, tx, InboundArgs{Tenant: tenant, Exchange: x.ID, Route: x.Route},
		&river.InsertOpts{Queue: b.cfg.Queue, MaxAttempts: b.cfg.ProcessMaxAttempts, Tags: []string{jobTag(x.Route)}})
	if err != nil {
		return fmt.Errorf("queueing callback processing: %w", err)
	}
	return addEvents(ctx, tx, tenant, event{exchange: x.ID, kind: EventReplayed,
		detail: fmt.Sprintf("processing queued again as job %d (was %s)", res.Job.ID, x.State)})
}

func (b *Bridge) replayOutbound(ctx context.Context, tx pgx.Tx, tenant string, x *Exchange) error {
	requestID := x.RequestID
	detail := "same REQUEST-ID: the gateway may have accepted an earlier send"
	// Only a refusal (4xx) proves the gateway saw and recorded this
	// REQUEST-ID; sending it again would be refused as a duplicate.
	if x.LastStatus >= 400 && x.LastStatus < 500 {
		requestID = uuid.NewString()
		detail = fmt.Sprintf("new REQUEST-ID %s: the gateway refused %s with HTTP %d", requestID, x.RequestID, x.LastStatus)
	}
	_, err := tx.Exec(ctx, `
		UPDATE bridge_exchanges
		SET state = 'queued', request_id = $2,
		    request_sends = CASE WHEN request_id = $2 THEN request_sends ELSE 0 END,
		    updated_at = now()
		WHERE id = $1`, x.ID, requestID)
	if err != nil {
		return fmt.Errorf("requeueing call: %w", err)
	}
	res, err := b.inserter.InsertTx(ctx, tx, OutboundArgs{Tenant: tenant, Exchange: x.ID, Route: x.Route},
		&river.InsertOpts{Queue: b.cfg.Queue, MaxAttempts: x.MaxAttempts, Tags: []string{jobTag(x.Route)}})
	if err != nil {
		return fmt.Errorf("queueing call: %w", err)
	}
	return addEvents(ctx, tx, tenant, event{exchange: x.ID, kind: EventReplayed,
		detail: fmt.Sprintf("queued again as job %d; %s", res.Job.ID, detail)})
}

// isPermanent reports whether sending the same call again cannot succeed
// without someone changing something: the gateway refused it, or the
// tenant has no credentials. Unknown errors are retried.
func isPermanent(err error) bool {
	if errors.Is(err, ErrNoCredentials) || errors.Is(err, ErrInvalidCall) {
		return true
	}
	var ae *abdm.Error
	return errors.As(err, &ae) && !abdm.Retryable(err)
}
