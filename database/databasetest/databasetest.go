// Package databasetest gives each test package its own freshly migrated
// PostgreSQL database.
//
// A package that needs the database calls Main from its TestMain:
//
//	func TestMain(m *testing.M) { databasetest.Main(m) }
//
// and New(t) in each test. The server comes from SANGAM_TEST_DATABASE_URL
// (default postgres://postgres@127.0.0.1:5432/postgres); `make test` starts a
// private cluster and sets it when no server answers there. The database is
// created once per test binary, migrated, and dropped when the tests end.
package databasetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/database"
)

// DefaultServerURL is used when SANGAM_TEST_DATABASE_URL is unset.
const DefaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// DB is one test package's database.
type DB struct {
	// URL connects to the test database as the migrating (owner) user.
	URL string
	// App is the application pool: row-level security applies to it.
	App *pgxpool.Pool
	// Owner bypasses nothing by itself but can create and load across
	// tenants, as `sangam migrate` and `sangam demo` do.
	Owner *pgxpool.Pool
}

// state is per test binary: Main creates it, New hands it out. Test helpers
// are the one place where package state is the simplest honest design,
// because a test binary is one process with one database.
var state struct {
	mu      sync.Mutex
	mainRan bool
	db      *DB
	err     error
	name    string
	server  string
}

// Main runs the tests and drops the package's database afterwards.
func Main(m *testing.M) {
	state.mu.Lock()
	state.mainRan = true
	state.mu.Unlock()
	code := m.Run()
	drop()
	os.Exit(code)
}

// New returns the package's database, creating and migrating it on first
// use. It fails the test (never skips) when PostgreSQL is unreachable,
// because a silently skipped database test hides real breakage.
func New(t testing.TB) *DB {
	t.Helper()
	state.mu.Lock()
	defer state.mu.Unlock()
	if !state.mainRan {
		t.Fatal("databasetest.New: call databasetest.Main(m) from TestMain so the database is dropped afterwards")
	}
	if state.db == nil && state.err == nil {
		state.db, state.err = create()
	}
	if state.err != nil {
		t.Fatalf("test database: %v\n(set SANGAM_TEST_DATABASE_URL, or run `make test`, which starts PostgreSQL when none answers on 127.0.0.1:5432)", state.err)
	}
	return state.db
}

// ServerURL is the maintenance connection used to create test databases.
func ServerURL() string {
	if u := os.Getenv("SANGAM_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultServerURL
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9]+`)

func create() (*DB, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	server := ServerURL()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", redacted(server), err)
	}
	defer admin.Close(ctx)

	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	pkg := unsafeChars.ReplaceAllString(strings.ToLower(strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")), "_")
	name := fmt.Sprintf("sangam_test_%s_%s", pkg, hex.EncodeToString(suffix))
	if len(name) > 63 {
		name = name[len(name)-63:]
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("creating database %s: %w", name, err)
	}
	state.name, state.server = name, server

	dbURL, err := withDatabase(server, name)
	if err != nil {
		return nil, err
	}
	owner, err := database.OpenOwner(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := database.Migrate(ctx, owner, quiet); err != nil {
		owner.Close()
		return nil, err
	}
	app, err := database.Open(ctx, dbURL)
	if err != nil {
		owner.Close()
		return nil, err
	}
	return &DB{URL: dbURL, App: app, Owner: owner}, nil
}

func drop() {
	state.mu.Lock()
	defer state.mu.Unlock()
	if state.db != nil {
		state.db.App.Close()
		state.db.Owner.Close()
	}
	if state.name == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, state.server)
	if err != nil {
		fmt.Fprintf(os.Stderr, "databasetest: could not drop %s: %v\n", state.name, err)
		return
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{state.name}.Sanitize()+" WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "databasetest: could not drop %s: %v\n", state.name, err)
	}
}

func withDatabase(server, name string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("SANGAM_TEST_DATABASE_URL must be a postgres:// URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

func redacted(server string) string {
	u, err := url.Parse(server)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Tenant creates a tenant with a unique slug through the owner pool and
// returns its id. Tests use it to set up isolated data.
func (db *DB) Tenant(t testing.TB, name string) string {
	t.Helper()
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	slug := unsafeChars.ReplaceAllString(strings.ToLower(name), "-") + "-" + hex.EncodeToString(suffix)
	slug = strings.Trim(slug, "-")
	var id string
	err := db.Owner.QueryRow(context.Background(),
		"INSERT INTO tenants (slug, name) VALUES ($1, $2) RETURNING id::text", slug, name).Scan(&id)
	if err != nil {
		t.Fatalf("creating tenant %q: %v", name, err)
	}
	return id
}
