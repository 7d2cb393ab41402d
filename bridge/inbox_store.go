package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

type outcomeKind int

const (
	outcomeAccepted outcomeKind = iota
	outcomeDuplicate
	outcomeConflict
	outcomeUnknownService
)

// inboxOutcome is what storing a callback decided; status is the HTTP
// status to answer with.
type inboxOutcome struct {
	kind     outcomeKind
	status   int
	exchange int64
}

// store writes a verified, parsed callback and its processing job in one
// transaction, or records why it was refused. The caller answers only
// after it returns, i.e. after the commit.
//
// The common case costs one statement besides the job insert: the
// exchange, its facility (found in the same INSERT ... SELECT) and its
// first events go in together. Only when that inserts nothing does a second
// look tell an unknown service id from a redelivery.
func (b *Bridge) store(ctx context.Context, in *callback) (inboxOutcome, error) {
	var out inboxOutcome
	err := b.inTenant(ctx, in.tenant, func(tx pgx.Tx) error {
		out = inboxOutcome{}
		received := fmt.Sprintf("%s %s, %d bytes (sha256 %s)", in.route.Role.Header(), in.serviceID, len(in.body), shortSum(in.sum))
		answered := fmt.Sprintf("result arrived (%s)", in.route.Name)
		err := tx.QueryRow(ctx, `
			WITH x AS (
				INSERT INTO bridge_exchanges (tenant_id, direction, route, method, path, request_id,
					service_role, service_id, facility_id, correlation_id, related_id, state,
					body, body_sha256, ack_status, max_attempts, purge_after)
				SELECT $1, 'inbound', $2, 'POST', $3, $4, $5, $6, f.id, $7,
					(SELECT id FROM bridge_exchanges
					 WHERE $7 <> '' AND direction = 'outbound' AND request_id = $7 AND state <> 'refused'),
					'acknowledged', $8, $9, $10, $11, $12
				FROM facilities f WHERE f.hip_id = $6
				ON CONFLICT (tenant_id, direction, request_id) WHERE state <> 'refused' DO NOTHING
				RETURNING id, related_id
			), e AS (
				INSERT INTO bridge_events (tenant_id, exchange_id, kind, http_status, detail)
				SELECT $1, x.id, 'received', NULL, $13 FROM x
				UNION ALL SELECT $1, x.id, 'acknowledged', $10, 'stored; processing queued' FROM x
				UNION ALL SELECT $1, x.related_id, 'answered', NULL, $14 || ' as exchange ' || x.id
				          FROM x WHERE x.related_id IS NOT NULL
			)
			SELECT id FROM x`,
			in.tenant, in.route.Name, in.route.Path, in.requestID, string(in.route.Role), in.serviceID,
			in.correlation, in.body, in.sum, in.route.AckStatus, b.cfg.ProcessMaxAttempts,
			b.retentionDeadline(), received, answered,
		).Scan(&out.exchange)
		if errors.Is(err, pgx.ErrNoRows) {
			return b.notInserted(ctx, tx, in, &out)
		}
		if err != nil {
			return fmt.Errorf("storing callback: %w", err)
		}
		_, err = b.inserter.InsertTx(ctx, tx, InboundArgs{Tenant: in.tenant, Exchange: out.exchange, Route: in.route.Name},
			&river.InsertOpts{Queue: b.cfg.Queue, MaxAttempts: b.cfg.ProcessMaxAttempts, Tags: []string{jobTag(in.route.Name)}})
		if err != nil {
			return fmt.Errorf("queueing callback processing: %w", err)
		}
		out.kind, out.status = outcomeAccepted, in.route.AckStatus
		return nil
	})
	return out, err
}

// notInserted tells why a callback was not inserted: its service id is no
// facility of the tenant, or its REQUEST-ID is already in the inbox.
func (b *Bridge) notInserted(ctx context.Context, tx pgx.Tx, in *callback, out *inboxOutcome) error {
	_, err := facilityByService(ctx, tx, in.serviceID)
	if errors.Is(err, ErrNotFound) {
		out.kind, out.status = outcomeUnknownService, http.StatusNotFound
		out.exchange, err = b.storeRefused(ctx, tx, in, out.status)
		return err
	}
	if err != nil {
		return err
	}
	return b.redelivered(ctx, tx, in, out)
}

// redelivered handles a REQUEST-ID already in the inbox: the same body is a
// redelivery and gets the first acknowledgement again; a different body is
// refused. Either way the timeline shows it.
func (b *Bridge) redelivered(ctx context.Context, tx pgx.Tx, in *callback, out *inboxOutcome) error {
	var (
		sum    []byte
		status int
	)
	err := tx.QueryRow(ctx, `
		SELECT id, body_sha256, coalesce(ack_status, 0) FROM bridge_exchanges
		WHERE direction = 'inbound' AND request_id = $1 AND state <> 'refused'`, in.requestID,
	).Scan(&out.exchange, &sum, &status)
	if err != nil {
		return fmt.Errorf("reading earlier delivery of %s: %w", in.requestID, err)
	}
	if bytes.Equal(sum, in.sum) {
		out.kind, out.status = outcomeDuplicate, status
		return addEvents(ctx, tx, in.tenant, event{exchange: out.exchange, kind: EventDuplicate, status: status,
			detail: "redelivered with the same body; acknowledged again, not processed again"})
	}
	out.kind, out.status = outcomeConflict, http.StatusConflict
	return addEvents(ctx, tx, in.tenant, event{exchange: out.exchange, kind: EventConflict, status: http.StatusConflict,
		detail: fmt.Sprintf("a delivery with this REQUEST-ID and a different body (sha256 %s) was refused", shortSum(in.sum))})
}

// storeRefused keeps a refused callback, without its body, so operators see
// that the gateway addressed a service id this tenant does not have.
func (b *Bridge) storeRefused(ctx context.Context, tx pgx.Tx, in *callback, status int) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO bridge_exchanges (tenant_id, direction, route, method, path, request_id,
			service_role, service_id, correlation_id, state, body_sha256, ack_status, purge_after)
		VALUES ($1, 'inbound', $2, 'POST', $3, $4, $5, $6, $7, 'refused', $8, $9, now())
		RETURNING id`,
		in.tenant, in.route.Name, in.route.Path, in.requestID, string(in.route.Role), in.serviceID,
		in.correlation, in.sum, status,
	).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("recording refused callback: %w", err)
	}
	err = addEvents(ctx, tx, in.tenant, event{exchange: id, kind: EventRefused, status: status,
		detail: fmt.Sprintf("%s %q is not a facility of this tenant; body (%d bytes) not kept",
			in.route.Role.Header(), in.serviceID, len(in.body))})
	return id, err
}

// facilityByService finds the tenant's facility whose service id the
// gateway addressed. Row-level security limits the search to the tenant of
// the transaction, so another tenant's HIP id is "not found". HIU
// callbacks are matched on the same column: a facility's service id is
// registered with the types HIP and/or HIU under one id.
func facilityByService(ctx context.Context, tx pgx.Tx, serviceID string) (string, error) {
	var id string
	err := tx.QueryRow(ctx, "SELECT id::text FROM facilities WHERE hip_id = $1", serviceID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("service id %q: %w", serviceID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("looking up facility of service id %q: %w", serviceID, err)
	}
	return id, nil
}
