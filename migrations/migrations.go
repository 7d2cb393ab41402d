// Package migrations holds Sangam's forward-only SQL migrations, embedded in
// the binary so that `sangam migrate` needs nothing but the executable.
//
// Files are named NNNN_what.sql and applied in order, each in its own
// transaction, by the database package. A file is never edited once it has
// landed: a change to the schema is a new file.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
