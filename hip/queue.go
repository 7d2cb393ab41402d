package hip

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/database"
)

// Queue token statuses.
const (
	TokenWaiting   = "waiting"
	TokenAccepted  = "accepted"
	TokenCompleted = "completed"
)

// Counter is a scan-and-share desk of a facility; Code is the counter id
// in its QR.
type Counter struct {
	ID           string
	FacilityID   string
	FacilityName string
	HIPID        string
	Code         string
	Name         string
}

// QueueEntry is one queue token as the counter sees it.
type QueueEntry struct {
	ID          int64
	TokenNumber int
	PatientID   string // empty if the profile could not be filed
	Name        string
	Gender      string // M, F, O, ...
	// Age is in whole years on the queue's day; -1 when unknown.
	Age         int
	ABHAAddress string
	ABHANumber  string
	SharedAt    time.Time
	ExpiresAt   time.Time
	Status      string // waiting, accepted or completed
}

// Expired reports whether a waiting token has outlived its validity at t.
func (e QueueEntry) Expired(t time.Time) bool {
	return e.Status == TokenWaiting && !t.Before(e.ExpiresAt)
}

// QueueView is a counter's queue for one day, in token order.
type QueueView struct {
	Counter Counter
	// Day is the facility-local date (midnight UTC of that date).
	Day      time.Time
	Location *time.Location
	Entries  []QueueEntry
}

// Queues reads and moves the counters' queue tokens. It needs only the
// database, so pages can make one per request (NewQueues) without the
// rest of the Service.
type Queues struct {
	pool *pgxpool.Pool
	loc  *time.Location
	now  func() time.Time
}

// NewQueues returns the queues on pool; loc is the facilities' time zone
// (nil: IST).
func NewQueues(pool *pgxpool.Pool, loc *time.Location) *Queues {
	if loc == nil {
		loc = istLocation()
	}
	return &Queues{pool: pool, loc: loc, now: time.Now}
}

// Queues returns the Service's queues (same clock and time zone).
func (s *Service) Queues() *Queues {
	return &Queues{pool: s.cfg.Pool, loc: s.cfg.Location, now: s.cfg.Now}
}

// Counters lists the tenant's counters, by facility and code.
func (s *Queues) Counters(ctx context.Context, tenant string) ([]Counter, error) {
	var out []Counter
	err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+queueCounterColumns+` ORDER BY f.name, c.code`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, queueScanCounter)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing counters: %w", err)
	}
	return out, nil
}

const queueCounterColumns = `c.id::text, c.facility_id::text, f.name, f.hip_id, c.code, c.name
	FROM counters c JOIN facilities f ON f.id = c.facility_id`

func queueScanCounter(r pgx.CollectableRow) (Counter, error) {
	var c Counter
	err := r.Scan(&c.ID, &c.FacilityID, &c.FacilityName, &c.HIPID, &c.Code, &c.Name)
	return c, err
}

// Today is the facility-local date now, as Queue takes it.
func (s *Queues) Today() time.Time { return shareDay(s.now(), s.loc) }

// Queue lists the tokens issued at counterID on the facility-local date of
// day (Today's value, or any instant of that date).
func (s *Queues) Queue(ctx context.Context, tenant, counterID string, day time.Time) (QueueView, error) {
	v := QueueView{Day: shareDay(day, s.loc), Location: s.loc}
	err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+queueCounterColumns+` WHERE c.id::text = $1`, counterID)
		if err != nil {
			return err
		}
		v.Counter, err = pgx.CollectExactlyOneRow(rows, queueScanCounter)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: counter %s", ErrNotFound, counterID)
		}
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `
			SELECT id, token_number, coalesce(patient_id::text, ''), name, gender, birth_year, birth_date,
				abha_address, abha_number, shared_at, expires_at, status
			FROM hip_share_tokens WHERE counter_id = $1::uuid AND day = $2 ORDER BY token_number`, counterID, v.Day)
		if err != nil {
			return err
		}
		v.Entries, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (QueueEntry, error) {
			var (
				e     QueueEntry
				year  *int
				birth *time.Time
			)
			err := r.Scan(&e.ID, &e.TokenNumber, &e.PatientID, &e.Name, &e.Gender, &year, &birth,
				&e.ABHAAddress, &e.ABHANumber, &e.SharedAt, &e.ExpiresAt, &e.Status)
			e.Age = queueAge(v.Day, year, birth)
			return e, err
		})
		return err
	})
	if err != nil {
		return QueueView{}, fmt.Errorf("reading the queue of counter %s: %w", counterID, err)
	}
	return v, nil
}

// queueAge is the age in whole years on day; from the year alone it is
// the age reached during that year.
func queueAge(day time.Time, year *int, birth *time.Time) int {
	switch {
	case birth != nil:
		age := day.Year() - birth.Year()
		if day.Month() < birth.Month() || day.Month() == birth.Month() && day.Day() < birth.Day() {
			age--
		}
		return age
	case year != nil:
		return day.Year() - *year
	}
	return -1
}

// AcceptToken moves a waiting token to accepted (the patient is at the
// desk). It wraps ErrNotFound for an unknown token and ErrConflict for
// one that is not waiting.
func (s *Queues) AcceptToken(ctx context.Context, tenant string, id int64) error {
	return s.queueMove(ctx, tenant, id, TokenAccepted, []string{TokenWaiting}, "accepted_at")
}

// CompleteToken moves a waiting or accepted token to completed.
func (s *Queues) CompleteToken(ctx context.Context, tenant string, id int64) error {
	return s.queueMove(ctx, tenant, id, TokenCompleted, []string{TokenWaiting, TokenAccepted}, "completed_at")
}

func (s *Queues) queueMove(ctx context.Context, tenant string, id int64, to string, from []string, stamp string) error {
	err := database.InTenant(ctx, s.pool, tenant, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM hip_share_tokens WHERE id = $1 FOR UPDATE`, id).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: token %d", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		ok := false
		for _, f := range from {
			ok = ok || status == f
		}
		if !ok {
			return fmt.Errorf("%w: token %d is %s", ErrConflict, id, status)
		}
		// stamp is one of two constant column names, never input.
		_, err = tx.Exec(ctx, `UPDATE hip_share_tokens SET status = $2, `+stamp+` = $3 WHERE id = $1`, id, to, s.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("marking token %d %s: %w", id, to, err)
	}
	return nil
}
