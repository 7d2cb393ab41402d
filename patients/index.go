package patients

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/database"
)

// Errors callers tell apart with errors.Is.
var (
	// ErrNotFound: no such patient, link, review item or merge in the tenant.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the record, query or request cannot be used as given;
	// the wrapping message says why.
	ErrInvalid = errors.New("invalid")
	// ErrConflict: the change does not apply to the current state (the
	// patient is already merged, the review was already decided).
	ErrConflict = errors.New("conflict")
)

// Default thresholds, on the score scale of compare.go. A score alone
// never links: the pair must also have nothing vetoing it (genders, ABHA
// numbers or names in conflict), a name that agrees at least word for
// word, and a birth date or mobile that agrees (see comparison.linkable
// and the namesake guard in ingest.go). At these values the generated
// population of quality_test.go (2,000 people, 5,000 records) gets
// automatic links with precision 0.998 and recall 0.96; see
// BenchmarkMatching.
const (
	DefaultAutoLink = 8.0
	DefaultReview   = 4.0
)

// Config adjusts the index; the zero value uses the defaults.
type Config struct {
	// AutoLink is the score at or above which a record joins an existing
	// master without review (when nothing vetoes it). Default DefaultAutoLink.
	AutoLink float64
	// Review is the score at or above which a pair goes to the review
	// queue. Default DefaultReview.
	Review float64
	// MaxCandidates bounds how many linked records one match compares
	// with; keys shared by more (a very common name in one birth year)
	// are cut there. Default 500.
	MaxCandidates int
}

// Index is the patient master index of every tenant, on the application
// pool; each call names its tenant and runs under that tenant's row-level
// security. It holds no state besides its configuration, so making one
// per request is fine.
type Index struct {
	pool          *pgxpool.Pool
	autoLink      float64
	review        float64
	maxCandidates int
}

// New returns the index on pool.
func New(pool *pgxpool.Pool, cfg Config) *Index {
	ix := &Index{pool: pool, autoLink: cfg.AutoLink, review: cfg.Review, maxCandidates: cfg.MaxCandidates}
	if ix.autoLink == 0 {
		ix.autoLink = DefaultAutoLink
	}
	if ix.review == 0 {
		ix.review = DefaultReview
	}
	if ix.maxCandidates <= 0 {
		ix.maxCandidates = 500
	}
	return ix
}

// inTenant runs fn in a transaction of tenant.
func (ix *Index) inTenant(ctx context.Context, tenant string, fn func(pgx.Tx) error) error {
	if tenant == "" {
		return fmt.Errorf("%w: no tenant", ErrInvalid)
	}
	return database.InTenant(ctx, ix.pool, tenant, fn)
}
