package sqlmap

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/sources"
)

// SystemConfig is what a SQL source's source_systems.config holds:
//
//	{"connector": "sql", "mapping": "medisoft.yaml", "dsn_env": "MEDISOFT_DATABASE_URL",
//	 "schema": "medisoft", "params": {"site": "BLR"}}
//
// The database URL is read from the environment variable dsn_env names, so
// no credential is ever stored in the database.
type SystemConfig struct {
	Connector string `json:"connector"`
	// Mapping names the mapping file in the opener's Mappings.
	Mapping string `json:"mapping"`
	DSNEnv  string `json:"dsn_env"`
	// Schema and Role override the mapping's, for an installation that
	// named them differently.
	Schema string            `json:"schema"`
	Role   string            `json:"role"`
	Params map[string]string `json:"params"`
}

// OpenerConfig configures NewOpener.
type OpenerConfig struct {
	// Mappings holds the mapping files by name: the embedded demo mappings,
	// os.DirFS of an operator's directory, or both behind a small fs.FS.
	Mappings fs.FS
	// LookupEnvFunc reads environment variables (os.LookupEnv in serve).
	LookupEnvFunc func(string) (string, bool)
	Logger        *slog.Logger
}

// Opener opens SQL connectors for source systems. Source systems reading
// the same database with the same settings (one vendor database holding
// several facilities' rows) share one pool.
type Opener struct {
	cfg OpenerConfig

	mu    sync.Mutex
	pools map[poolKey]*sharedPool
}

type poolKey struct {
	dsn    string
	conn   string
	schema string
	role   string
}

type sharedPool struct {
	pool *pgxpool.Pool
	refs int
}

// NewOpener returns an Opener; pass its Open to sources.RegistryConfig
// under the connector name "sql".
func NewOpener(cfg OpenerConfig) *Opener {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Opener{cfg: cfg, pools: map[poolKey]*sharedPool{}}
}

// LoadMapping reads and validates one mapping file from fsys.
func LoadMapping(fsys fs.FS, name string) (*Mapping, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("reading mapping file: %w", err)
	}
	return Parse(name, data)
}

// Open implements sources.OpenFunc.
func (o *Opener) Open(ctx context.Context, sys sources.System) (sources.Connector, error) {
	var sc SystemConfig
	if err := json.Unmarshal(sys.Config, &sc); err != nil {
		return nil, fmt.Errorf("source system %s: config is not valid JSON: %w", sys.Code, err)
	}
	if sc.Mapping == "" || sc.DSNEnv == "" {
		return nil, fmt.Errorf("source system %s: config needs mapping and dsn_env", sys.Code)
	}
	if o.cfg.Mappings == nil {
		return nil, fmt.Errorf("source system %s: no mapping files are configured", sys.Code)
	}
	m, err := LoadMapping(o.cfg.Mappings, sc.Mapping)
	if err != nil {
		return nil, fmt.Errorf("source system %s: %w", sys.Code, err)
	}
	if sc.Schema != "" {
		if !identRE.MatchString(sc.Schema) {
			return nil, fmt.Errorf("source system %s: schema %q is not a plain lower-case identifier", sys.Code, sc.Schema)
		}
		m.Connection.Schema = sc.Schema
	}
	if sc.Role != "" {
		if !identRE.MatchString(sc.Role) {
			return nil, fmt.Errorf("source system %s: role %q is not a plain lower-case identifier", sys.Code, sc.Role)
		}
		m.Connection.Role = sc.Role
	}
	lookup := o.cfg.LookupEnvFunc
	if lookup == nil {
		return nil, fmt.Errorf("source system %s: no environment lookup configured", sys.Code)
	}
	dsn, ok := lookup(sc.DSNEnv)
	if !ok || dsn == "" {
		return nil, fmt.Errorf("source system %s: environment variable %s (dsn_env) is not set", sys.Code, sc.DSNEnv)
	}
	pool, release, err := o.pool(ctx, dsn, m.Connection)
	if err != nil {
		return nil, fmt.Errorf("source system %s: %w", sys.Code, err)
	}
	c, err := New(m, pool, sys, sc.Params)
	if err != nil {
		release()
		return nil, err
	}
	c.closeFunc = release
	return c, nil
}

func (o *Opener) pool(ctx context.Context, dsn string, conn Connection) (*pgxpool.Pool, func(), error) {
	key := poolKey{dsn: dsn, conn: fmt.Sprint(conn.QueryTimeout, conn.MaxConns), schema: conn.Schema, role: conn.Role}
	o.mu.Lock()
	defer o.mu.Unlock()
	sp, ok := o.pools[key]
	if !ok {
		pool, err := OpenPool(ctx, dsn, conn)
		if err != nil {
			return nil, nil, err
		}
		sp = &sharedPool{pool: pool}
		o.pools[key] = sp
	}
	sp.refs++
	var once sync.Once
	release := func() {
		once.Do(func() {
			o.mu.Lock()
			defer o.mu.Unlock()
			sp.refs--
			if sp.refs == 0 {
				sp.pool.Close()
				delete(o.pools, key)
			}
		})
	}
	return sp.pool, release, nil
}

// Close closes every pool the opener still holds.
func (o *Opener) Close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, sp := range o.pools {
		sp.pool.Close()
		delete(o.pools, k)
	}
}
