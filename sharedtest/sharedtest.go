// Package sharedtest finds the public example data that tests read from the
// shared folder next to the repository clone (../shared/testdata: FHIR
// bundles, the NRCeS IG, Fidelius vectors, NHCX examples). The data is never
// copied into the repository; where the folder is absent, tests that need it
// skip and say why.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Path returns ../shared/testdata/<elem...> relative to the repository root
// (the directory holding go.mod). When it does not exist the test is
// skipped with a message naming the path.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("sharedtest: no go.mod above the test directory")
		}
		dir = parent
	}
	path := filepath.Join(append([]string{dir, "..", "shared", "testdata"}, elem...)...)
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("shared test data not found at %s (the shared folder sits next to the repository clone): %v", path, err)
	}
	return path
}

// Read returns the contents of Path(tb, elem...).
func Read(tb testing.TB, elem ...string) []byte {
	tb.Helper()
	path := Path(tb, elem...)
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("reading %s: %v", path, err)
	}
	return data
}
