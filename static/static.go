// Package static holds the files the web app serves under /static/: the
// vendored htmx and Sangam's stylesheet, embedded in the binary so a
// deployment is one file. See README.md for where htmx comes from.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"
)

//go:embed htmx.min.js sangam.css
var files embed.FS

// Asset is one embedded file.
type Asset struct {
	Body []byte
	// Hash is a short content hash: URLs carry it so browsers may cache
	// an asset for ever and still get a new one after an upgrade.
	Hash string
}

// assets is computed once from the embedded files, which never change
// while the process runs.
var assets = sync.OnceValue(func() map[string]Asset {
	m := map[string]Asset{}
	entries, _ := fs.ReadDir(files, ".") // embedded: cannot fail
	for _, e := range entries {
		b, _ := files.ReadFile(e.Name())
		sum := sha256.Sum256(b)
		m[e.Name()] = Asset{Body: b, Hash: hex.EncodeToString(sum[:6])}
	}
	return m
})

// Lookup returns the asset called name (e.g. "sangam.css").
func Lookup(name string) (Asset, bool) {
	a, ok := assets()[name]
	return a, ok
}

// URL is the path at which the server serves name, with its content hash as
// the version. It panics on an unknown name: that is a typo in a template,
// which the tests render.
func URL(name string) string {
	a, ok := Lookup(name)
	if !ok {
		panic("static: no embedded file " + name)
	}
	return "/static/" + name + "?v=" + a.Hash
}
