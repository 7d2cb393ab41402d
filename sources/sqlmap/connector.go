package sqlmap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

// Connector reads one source system through its vendor's mapping. It
// implements sources.Connector and sources.Poller.
type Connector struct {
	m      *Mapping
	pool   *pgxpool.Pool
	sys    sources.System
	params map[string]string // installation parameters
	// closeFunc releases the pool (shared pools are reference counted).
	closeFunc func()

	checkOnce sync.Once
	checkErr  error
}

// New returns a connector reading pool through m for sys. params supplies
// every installation parameter m.Connection.Params names. The pool should
// come from OpenPool (read-only, search_path and role set).
func New(m *Mapping, pool *pgxpool.Pool, sys sources.System, params map[string]string) (*Connector, error) {
	for _, p := range m.Connection.Params {
		if params[p] == "" {
			return nil, fmt.Errorf("source system %s: mapping %s needs installation parameter %q in the source's config (params)", sys.Code, m.File, p)
		}
	}
	return &Connector{m: m, pool: pool, sys: sys, params: params, closeFunc: func() {}}, nil
}

// Mapping returns the connector's mapping.
func (c *Connector) Mapping() *Mapping { return c.m }

// Close implements sources.Connector.
func (c *Connector) Close() { c.closeFunc() }

// run executes q with the named values (plus installation parameters)
// bound in order, under the mapping's timeout.
func (c *Connector) run(ctx context.Context, q *Query, vals map[string]any) ([]row, error) {
	args := make([]any, len(q.Params))
	for i, p := range q.Params {
		if v, ok := vals[p]; ok {
			args[i] = v
		} else if v, ok := c.params[p]; ok {
			args[i] = v
		}
		if t, ok := args[i].(time.Time); ok {
			// A column without a zone is compared by its wall clock, which
			// is the vendor's local time.
			args[i] = t.In(c.m.Connection.Location)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.m.Connection.QueryTimeout)
	defer cancel()
	rows, err := c.pool.Query(ctx, q.SQL, args...)
	if err != nil {
		return nil, c.queryError(ctx, q, err)
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	oids := make(map[string]uint32, len(fds))
	for _, fd := range fds {
		oids[fd.Name] = fd.DataTypeOID
	}
	var out []row
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, c.queryError(ctx, q, err)
		}
		r := row{vals: make(map[string]any, len(vals)), oids: oids}
		for i, v := range vals {
			r.vals[fds[i].Name] = v
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, c.queryError(ctx, q, err)
	}
	return out, nil
}

// queryError names the query and classifies the failure. Every database
// failure is the source's: a connection or a timeout, or a mapping that no
// longer fits the schema.
func (c *Connector) queryError(ctx context.Context, q *Query, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "57014" {
		// statement_timeout on the server.
		err = fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	return fmt.Errorf("%s %s (%s:%d): %w: %w", c.sys.Code, q.Name, c.m.File, q.Line, sources.ErrUnavailable, err)
}

// FindPatients implements sources.Connector: every search query whose
// parameters the query can fill runs, and their rows are merged by local id.
func (c *Connector) FindPatients(ctx context.Context, q sources.PatientQuery) ([]patients.SourceRecord, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 200)
	vals := searchValues(q)
	vals["limit"] = limit
	var out []patients.SourceRecord
	seen := map[string]bool{}
	ran := 0
	for _, sq := range c.m.Patients.Search {
		if !c.canRun(sq, vals) {
			continue
		}
		ran++
		rows, err := c.run(ctx, sq, vals)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			rec := c.patient(r)
			if rec.LocalID == "" || seen[rec.LocalID] {
				continue
			}
			seen[rec.LocalID] = true
			out = append(out, rec)
		}
	}
	if ran == 0 {
		return nil, fmt.Errorf("%s: none of the mapping's patient searches can use the identifiers given: %w", c.sys.Code, sources.ErrInvalidInput)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LocalID < out[j].LocalID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (c *Connector) canRun(q *Query, vals map[string]any) bool {
	for _, p := range q.Params {
		if _, ok := vals[p]; ok {
			continue
		}
		if _, ok := c.params[p]; ok {
			continue
		}
		return false
	}
	return true
}

// searchValues turns a query into the search parameters, normalised so that
// a mapping compares like with like: ABHA numbers as 14 digits (and dashed),
// mobiles as their last 10 digits, names trimmed (and as a LIKE pattern
// with the wildcards of the input escaped).
func searchValues(q sources.PatientQuery) map[string]any {
	vals := map[string]any{}
	if s := strings.TrimSpace(q.LocalID); s != "" {
		vals["local_id"] = s
	}
	if d := digits(q.ABHANumber); len(d) == 14 {
		vals["abha_number"] = d
		vals["abha_number_dashed"] = d[:2] + "-" + d[2:6] + "-" + d[6:10] + "-" + d[10:]
	}
	if s := strings.ToLower(strings.TrimSpace(q.ABHAAddress)); s != "" {
		vals["abha_address"] = s
	}
	if d := digits(q.Mobile); len(d) >= 10 {
		vals["mobile"] = d[len(d)-10:]
	}
	if s := strings.Join(strings.Fields(q.Name), " "); s != "" {
		vals["name"] = s
		vals["name_like"] = "%" + likeEscaper.Replace(strings.ToLower(s)) + "%"
	}
	switch g := strings.ToUpper(strings.TrimSpace(q.Gender)); g {
	case "M", "F", "O", "U":
		vals["gender"] = g
	}
	if q.BirthYear > 1850 && q.BirthYear < 2200 {
		vals["birth_year"] = q.BirthYear
	}
	return vals
}

// likeEscaper escapes LIKE's wildcards (with the default escape character)
// so that a search for "%" matches a percent sign, not everyone.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func (c *Connector) patient(rw row) patients.SourceRecord {
	r := resolver{m: c.m, row: rw}
	fs := c.m.Patients.Fields
	rec := patients.SourceRecord{
		FacilityID:     c.sys.FacilityID,
		SourceSystemID: c.sys.ID,
		LocalID:        r.text(fs, "local_id"),
		Name:           strings.Join(strings.Fields(r.text(fs, "name")), " "),
		Gender:         r.code(fs, "gender", patientFields["gender"]),
		Mobile:         r.text(fs, "mobile"),
		Address:        r.text(fs, "address"),
		PinCode:        r.text(fs, "pin_code"),
		ABHANumber:     r.text(fs, "abha_number"),
		ABHAAddress:    r.text(fs, "abha_address"),
	}
	if s, ok := r.time(fs, "birth_date"); ok {
		rec.BirthDate = time.Date(s.t.Year(), s.t.Month(), s.t.Day(), 0, 0, 0, 0, time.UTC)
		rec.BirthYear = s.t.Year()
	}
	if y, ok := r.integer(fs, "birth_year"); ok && rec.BirthYear == 0 {
		rec.BirthYear = y
	}
	return rec
}

// ListPatients implements sources.Connector.
func (c *Connector) ListPatients(ctx context.Context, after string, limit int) ([]patients.SourceRecord, error) {
	if c.m.Patients.List == nil {
		return nil, fmt.Errorf("%s: mapping %s has no patients.list query: %w", c.sys.Code, c.m.File, sources.ErrUnsupported)
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := c.run(ctx, c.m.Patients.List, map[string]any{"after": after, "limit": limit})
	if err != nil {
		return nil, err
	}
	out := make([]patients.SourceRecord, 0, len(rows))
	for _, r := range rows {
		out = append(out, c.patient(r))
	}
	return out, nil
}

// CareContexts implements sources.Connector. Contexts come newest first.
func (c *Connector) CareContexts(ctx context.Context, patientID string, from, to time.Time) ([]sources.CareContext, error) {
	if patientID == "" {
		return nil, fmt.Errorf("%s: care contexts of an empty patient id: %w", c.sys.Code, sources.ErrInvalidInput)
	}
	if to.IsZero() {
		to = time.Now().AddDate(1, 0, 0)
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("%s: date range %s to %s is empty: %w", c.sys.Code, from.Format(time.DateOnly), to.Format(time.DateOnly), sources.ErrInvalidInput)
	}
	vals := map[string]any{"patient_id": patientID, "from": from, "to": to}
	var out []sources.CareContext
	for _, cm := range c.m.Contexts {
		rows, err := c.run(ctx, cm.List, vals)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if cc, ok := c.careContext(cm, r); ok {
				out = append(out, cc)
			}
		}
	}
	sortNewestFirst(out)
	return out, nil
}

func sortNewestFirst(ccs []sources.CareContext) {
	sort.SliceStable(ccs, func(i, j int) bool {
		if !ccs[i].Date.Equal(ccs[j].Date) {
			return ccs[i].Date.After(ccs[j].Date)
		}
		return ccs[i].Reference < ccs[j].Reference
	})
}

func (c *Connector) careContext(cm *Context, rw row) (sources.CareContext, bool) {
	r := resolver{m: c.m, row: rw}
	cc := sources.CareContext{
		Type:      cm.Type,
		LocalID:   r.text(cm.Fields, "local_id"),
		PatientID: r.text(cm.Fields, "patient_id"),
		Display:   r.text(cm.Fields, "display"),
		HIType:    cm.HIType,
	}
	if cc.LocalID == "" || cc.PatientID == "" {
		return cc, false
	}
	cc.Reference = sources.Reference(c.sys.Code, cc.Ref())
	if s, ok := r.time(cm.Fields, "date"); ok {
		cc.Date = s.t
	}
	if s, ok := r.time(cm.Fields, "updated"); ok {
		cc.Updated = s.t
	}
	return cc, true
}

func (c *Connector) context(typ string) (*Context, error) {
	for _, cm := range c.m.Contexts {
		if cm.Type == typ {
			return cm, nil
		}
	}
	return nil, fmt.Errorf("%s: no care-context type %q in mapping %s: %w", c.sys.Code, typ, c.m.File, sources.ErrNotFound)
}

// Fetch implements sources.Connector.
func (c *Connector) Fetch(ctx context.Context, ref sources.ContextRef) (*sources.Content, error) {
	cm, err := c.context(ref.Type)
	if err != nil {
		return nil, err
	}
	rows, err := c.run(ctx, cm.Get, map[string]any{"local_id": ref.LocalID})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: care context %s: %w", c.sys.Code, sources.Reference(c.sys.Code, ref), sources.ErrNotFound)
	}
	cc, ok := c.careContext(cm, rows[0])
	if !ok {
		return nil, fmt.Errorf("%s %s: the row has no local_id or patient_id: %w", c.sys.Code, cm.Get.Name, sources.ErrUnavailable)
	}
	patientID := sources.ResourceID(c.sys.FacilityHFRID, c.sys.Code, "Patient", cc.PatientID)
	b := newBuilder(c.m, []string{c.sys.FacilityHFRID, c.sys.Code, cc.Type, cc.LocalID}, patientID)
	vals := map[string]any{"local_id": cc.LocalID, "patient_id": cc.PatientID}
	for _, res := range cm.Content {
		rows, err := c.run(ctx, res.Query, vals)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if err := b.add(res, r); err != nil {
				return nil, fmt.Errorf("%s: %w: %w", c.sys.Code, sources.ErrUnavailable, err)
			}
		}
	}
	return &sources.Content{CareContext: cc, PatientID: patientID, Resources: b.finish()}, nil
}

// ChangedSince implements sources.Poller over every context type with a
// changed query.
func (c *Connector) ChangedSince(ctx context.Context, since time.Time, limit int) ([]sources.CareContext, error) {
	if limit <= 0 {
		limit = 500
	}
	var out []sources.CareContext
	polled := false
	for _, cm := range c.m.Contexts {
		if cm.Changed == nil {
			continue
		}
		polled = true
		rows, err := c.run(ctx, cm.Changed, map[string]any{"since": since, "limit": limit})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if cc, ok := c.careContext(cm, r); ok && !cc.Updated.IsZero() {
				out = append(out, cc)
			}
		}
	}
	if !polled {
		return nil, fmt.Errorf("%s: mapping %s has no changed queries: %w", c.sys.Code, c.m.File, sources.ErrUnsupported)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Updated.Before(out[j].Updated) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Ping implements sources.Connector. The first successful ping also checks
// the mapping against the live schema, so a mapping that no longer fits
// shows up in the source's health rather than at the first patient.
func (c *Connector) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.m.Connection.QueryTimeout)
	defer cancel()
	if err := c.pool.Ping(ctx); err != nil {
		return fmt.Errorf("%s: %w: %w", c.sys.Code, sources.ErrUnavailable, err)
	}
	c.checkOnce.Do(func() { c.checkErr = c.Check(ctx) })
	if c.checkErr != nil {
		return fmt.Errorf("%s: %w: %w", c.sys.Code, sources.ErrUnavailable, c.checkErr)
	}
	return nil
}

// Check prepares every query of the mapping against the database and
// verifies that each mapped column is in its results. Problems come back as
// a *ValidationError with the mapping file's lines.
func (c *Connector) Check(ctx context.Context) error {
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("checking mapping %s: %w", c.m.File, err)
	}
	defer conn.Release()
	ve := &ValidationError{File: c.m.File}
	check := func(q *Query, sets ...Fields) {
		if q == nil {
			return
		}
		desc, err := conn.Conn().Prepare(ctx, "", q.SQL)
		if err != nil {
			reason := err.Error()
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) {
				reason = pgErr.Message
			}
			ve.Problems = append(ve.Problems, Problem{Line: q.Line, Path: q.Name, Reason: "the database refuses the query: " + reason})
			return
		}
		cols := make([]string, len(desc.Fields))
		for i, f := range desc.Fields {
			cols[i] = f.Name
		}
		for _, fs := range sets {
			for name, field := range fs {
				for _, f := range append([]*Field{field}, field.Also...) {
					for _, col := range []string{f.Column, f.DisplayColumn} {
						if col != "" && !slices.Contains(cols, col) {
							ve.Problems = append(ve.Problems, Problem{Line: f.Line, Path: q.Name + " → " + name,
								Reason: fmt.Sprintf("column %q is not in the query's result (it returns %s)", col, strings.Join(cols, ", "))})
						}
					}
				}
			}
		}
	}
	for _, q := range c.m.Patients.Search {
		check(q, c.m.Patients.Fields)
	}
	check(c.m.Patients.List, c.m.Patients.Fields)
	for _, cm := range c.m.Contexts {
		check(cm.List, cm.Fields)
		check(cm.Get, cm.Fields)
		check(cm.Changed, cm.Fields)
		for _, res := range cm.Content {
			check(res.Query, res.Fields)
		}
	}
	if len(ve.Problems) > 0 {
		sort.SliceStable(ve.Problems, func(i, j int) bool { return ve.Problems[i].Line < ve.Problems[j].Line })
		return ve
	}
	return nil
}

// OpenPool connects to dsn for a mapping's connection: read-only
// transactions, the mapping's schema as search_path, its role assumed, and
// a server-side statement timeout as a backstop to the client's. Nothing
// connects until the first query.
func OpenPool(ctx context.Context, dsn string, conn Connection) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("source database URL is not a valid PostgreSQL URL")
	}
	rp := cfg.ConnConfig.RuntimeParams
	rp["default_transaction_read_only"] = "on"
	rp["statement_timeout"] = fmt.Sprint((conn.QueryTimeout + time.Second).Milliseconds())
	rp["application_name"] = "sangam-source"
	rp["timezone"] = postgresZone(conn.TimeZone)
	if conn.Schema != "" {
		rp["search_path"] = conn.Schema
	}
	cfg.MaxConns = int32(conn.MaxConns)
	cfg.MinConns = 0
	if conn.Role != "" {
		role := pgx.Identifier{conn.Role}.Sanitize()
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, "SET ROLE "+role)
			return err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("source database: %w", err)
	}
	return pool, nil
}

// postgresZone writes a time zone for PostgreSQL's TimeZone setting. Names
// pass as they are; an offset such as +05:30 becomes the POSIX form
// <+0530>-05:30, because PostgreSQL reads a bare "+05:30" as POSIX, where
// the sign means the opposite.
func postgresZone(tz string) string {
	if len(tz) == 6 && (tz[0] == '+' || tz[0] == '-') && tz[3] == ':' {
		inverted := map[byte]byte{'+': '-', '-': '+'}[tz[0]]
		return "<" + tz[:3] + tz[4:] + ">" + string(inverted) + tz[1:]
	}
	return tz
}
