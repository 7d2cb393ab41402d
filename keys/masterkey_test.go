package keys_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sangamhealth/sangam/keys"
)

func TestMasterKeyFileCreatedOnFirstRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "conf", "master.key")
	ring, created, err := keys.LoadMasterKeys(keys.MasterKeyConfig{File: path})
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("created = false for a missing file")
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("new master key file has mode %04o, want 0600", perm)
	}
	raw, err := keys.ReadMasterKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if keys.MasterKeyID(raw) != ring.CurrentID() {
		t.Errorf("file holds key %s, ring uses %s", keys.MasterKeyID(raw), ring.CurrentID())
	}

	again, created, err := keys.LoadMasterKeys(keys.MasterKeyConfig{File: path})
	if err != nil {
		t.Fatal(err)
	}
	if created || again.CurrentID() != ring.CurrentID() {
		t.Errorf("second load: created=%t id=%s, want false and %s", created, again.CurrentID(), ring.CurrentID())
	}
}

// TestMasterKeyFileCreationRace starts several "replicas" on one missing
// file at once: exactly one creates it and all end up with the same key.
func TestMasterKeyFileCreationRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	const n = 8
	ids := make([]string, n)
	creators := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var ring *keys.MasterKeys
			ring, creators[i], errs[i] = keys.LoadMasterKeys(keys.MasterKeyConfig{File: path})
			if ring != nil {
				ids[i] = ring.CurrentID()
			}
		})
	}
	wg.Wait()
	created := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("load %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("load %d got key %s, load 0 got %s", i, ids[i], ids[0])
		}
		if creators[i] {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d loads created the file, want 1", created)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".master-key-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestMasterKeyFileWithLoosePermissionsIsRefused(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o666} {
		path := filepath.Join(t.TempDir(), "master.key")
		if _, err := keys.WriteNewMasterKeyFile(path); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := keys.LoadMasterKeys(keys.MasterKeyConfig{File: path})
		if err == nil {
			t.Errorf("mode %04o: loaded, want a refusal", mode)
			continue
		}
		for _, want := range []string{path, "chmod 600"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("mode %04o: error %q does not mention %q", mode, err, want)
			}
		}
		// The same rule holds for previous keys.
		good := filepath.Join(t.TempDir(), "current.key")
		_, _, err = keys.LoadMasterKeys(keys.MasterKeyConfig{File: good, PreviousFiles: []string{path}})
		if err == nil {
			t.Errorf("mode %04o previous key: loaded, want a refusal", mode)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		path := filepath.Join(t.TempDir(), "master.key")
		if _, err := keys.WriteNewMasterKeyFile(path); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, _, err := keys.LoadMasterKeys(keys.MasterKeyConfig{File: path}); err != nil {
			t.Errorf("mode %04o: %v, want it accepted", mode, err)
		}
	}
}

func TestMasterKeyConfigErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.key")
	if err := os.WriteFile(garbage, []byte("not base64 at all!"), 0o600); err != nil {
		t.Fatal(err)
	}
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	good := base64.StdEncoding.EncodeToString(make([]byte, keys.MasterKeySize))
	cases := []struct {
		name string
		cfg  keys.MasterKeyConfig
		want string
	}{
		{"nothing set", keys.MasterKeyConfig{}, "SANGAM_MASTER_KEY_FILE"},
		{"both set", keys.MasterKeyConfig{File: filepath.Join(dir, "x.key"), Key: good}, "not both"},
		{"short key", keys.MasterKeyConfig{Key: short}, "32 random bytes"},
		{"garbage file", keys.MasterKeyConfig{File: garbage}, garbage},
		{"directory", keys.MasterKeyConfig{File: dir}, "not a regular file"},
		{"missing previous", keys.MasterKeyConfig{Key: good, PreviousFiles: []string{filepath.Join(dir, "gone.key")}}, "gone.key"},
		{"bad previous", keys.MasterKeyConfig{Key: good, Previous: []string{"zzz"}}, "previous master key #1"},
	}
	for _, tc := range cases {
		_, _, err := keys.LoadMasterKeys(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.key")); err == nil {
		t.Error("a refused configuration still created a key file")
	}
}

func TestMasterKeyFromEnvironmentValue(t *testing.T) {
	raw := randomKey(t)
	ring, created, err := keys.LoadMasterKeys(keys.MasterKeyConfig{Key: base64.StdEncoding.EncodeToString(raw) + "\n"})
	if err != nil {
		t.Fatal(err)
	}
	if created || ring.CurrentID() != keys.MasterKeyID(raw) {
		t.Errorf("got id %s created=%t, want %s and false", ring.CurrentID(), created, keys.MasterKeyID(raw))
	}
}

func TestWriteNewMasterKeyFileNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	if created, err := keys.WriteNewMasterKeyFile(path); err != nil || !created {
		t.Fatalf("first write: %t, %v", created, err)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if created, err := keys.WriteNewMasterKeyFile(path); err != nil || created {
		t.Fatalf("second write: created=%t, %v; want false, nil", created, err)
	}
	second, _ := os.ReadFile(path)
	if string(first) != string(second) {
		t.Error("existing master key file was overwritten")
	}
}
