package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MasterKeySize is the length of a master key and of a data key: AES-256.
const MasterKeySize = 32

// MasterKeyConfig says where the embedded store's master keys come from.
// Exactly one of File and Key names the current master key.
type MasterKeyConfig struct {
	// File holds the current master key as base64 text. It is created, with
	// mode 0600, when missing; a file that group or others may read is
	// refused.
	File string
	// Key is the current master key in base64, for deployments that inject
	// secrets through the environment.
	Key string
	// PreviousFiles and Previous are older master keys. They are only used
	// to open data keys still sealed under them, during a rotation; new data
	// keys are always sealed under the current key.
	PreviousFiles []string
	Previous      []string
}

// MasterKeys is the current master key plus any previous ones.
type MasterKeys struct {
	current *masterKey
	byID    map[string]*masterKey
}

type masterKey struct {
	id   string
	aead cipher.AEAD
}

// LoadMasterKeys reads the keys cfg names. created reports whether the
// current key's file did not exist and was made, which the operator must
// hear about: losing that file loses every secret.
func LoadMasterKeys(cfg MasterKeyConfig) (keys *MasterKeys, created bool, err error) {
	var current []byte
	switch {
	case cfg.File != "" && cfg.Key != "":
		return nil, false, errors.New("master key: set SANGAM_MASTER_KEY_FILE or SANGAM_MASTER_KEY, not both")
	case cfg.Key != "":
		if current, err = decodeMasterKey(cfg.Key); err != nil {
			return nil, false, fmt.Errorf("SANGAM_MASTER_KEY: %w", err)
		}
	case cfg.File != "":
		if current, created, err = readOrCreateMasterKeyFile(cfg.File); err != nil {
			return nil, false, err
		}
	default:
		return nil, false, errors.New("master key: set SANGAM_MASTER_KEY_FILE (created on first run) or SANGAM_MASTER_KEY")
	}
	var previous [][]byte
	for _, path := range cfg.PreviousFiles {
		k, err := ReadMasterKeyFile(path)
		if err != nil {
			return nil, false, fmt.Errorf("previous master key: %w", err)
		}
		previous = append(previous, k)
	}
	for i, s := range cfg.Previous {
		k, err := decodeMasterKey(s)
		if err != nil {
			return nil, false, fmt.Errorf("previous master key #%d: %w", i+1, err)
		}
		previous = append(previous, k)
	}
	keys, err = NewMasterKeys(current, previous...)
	return keys, created, err
}

// NewMasterKeys builds a key ring from raw 32-byte keys. Repeating the
// current key among the previous ones is harmless, which lets operators
// leave configuration in place across a rotation.
func NewMasterKeys(current []byte, previous ...[]byte) (*MasterKeys, error) {
	cur, err := newMasterKey(current)
	if err != nil {
		return nil, fmt.Errorf("current master key: %w", err)
	}
	m := &MasterKeys{current: cur, byID: map[string]*masterKey{cur.id: cur}}
	for i, raw := range previous {
		k, err := newMasterKey(raw)
		if err != nil {
			return nil, fmt.Errorf("previous master key #%d: %w", i+1, err)
		}
		m.byID[k.id] = k
	}
	return m, nil
}

// CurrentID is the fingerprint of the key that seals new data keys.
func (m *MasterKeys) CurrentID() string { return m.current.id }

// IDs lists the fingerprints of every key in the ring.
func (m *MasterKeys) IDs() []string {
	ids := make([]string, 0, len(m.byID))
	for id := range m.byID {
		ids = append(ids, id)
	}
	return ids
}

func newMasterKey(raw []byte) (*masterKey, error) {
	if len(raw) != MasterKeySize {
		return nil, fmt.Errorf("must be %d bytes, got %d", MasterKeySize, len(raw))
	}
	aead, err := newGCM(raw)
	if err != nil {
		return nil, err
	}
	return &masterKey{id: MasterKeyID(raw), aead: aead}, nil
}

// MasterKeyID is a public fingerprint of a master key: 8 bytes of an HMAC
// keyed by it, so the stored id reveals nothing about the key yet tells keys
// apart.
func MasterKeyID(raw []byte) string {
	mac := hmac.New(sha256.New, raw)
	mac.Write([]byte("sangam master key id v1"))
	return hex.EncodeToString(mac.Sum(nil)[:8])
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating AES cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating AES-GCM: %w", err)
	}
	return aead, nil
}

func decodeMasterKey(text string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil || len(raw) != MasterKeySize {
		return nil, fmt.Errorf("a master key must be the base64 of %d random bytes (make one with `sangam keys new-master-key` or `openssl rand -base64 32`)", MasterKeySize)
	}
	return raw, nil
}

// ReadMasterKeyFile reads a master key file, refusing one that anybody but
// its owner may read or write: the key opens every tenant's secrets.
func ReadMasterKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening master key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("master key file %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("master key file %s has mode %04o, which lets other users read or change it; refusing to use it (run `chmod 600 %s`)", path, perm, path)
	}
	text, err := readLimited(f, 1024)
	if err != nil {
		return nil, fmt.Errorf("reading master key file %s: %w", path, err)
	}
	raw, err := decodeMasterKey(string(text))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return raw, nil
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes; is this a master key file?", limit)
	}
	return b, nil
}

func readOrCreateMasterKeyFile(path string) (key []byte, created bool, err error) {
	key, err = ReadMasterKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	created, err = WriteNewMasterKeyFile(path)
	if err != nil {
		return nil, false, err
	}
	// Read it back rather than trusting what was generated: another process
	// may have won the race to create it.
	key, err = ReadMasterKeyFile(path)
	return key, created, err
}

// WriteNewMasterKeyFile writes a new random master key to path with mode
// 0600. It never replaces an existing file: created is false when path
// already existed. The key is written to a temporary file first and linked
// into place, so a crash or a concurrent start never leaves a half-written
// key behind.
func WriteNewMasterKeyFile(path string) (created bool, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("creating directory for master key file: %w", err)
	}
	raw := make([]byte, MasterKeySize)
	if _, err := rand.Read(raw); err != nil {
		return false, fmt.Errorf("generating master key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".master-key-*")
	if err != nil {
		return false, fmt.Errorf("creating master key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp already uses 0600; Chmod states the requirement and guards
	// against a platform that does not.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return false, fmt.Errorf("creating master key file: %w", err)
	}
	if _, err := tmp.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n"); err != nil {
		tmp.Close()
		return false, fmt.Errorf("writing master key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, fmt.Errorf("writing master key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("writing master key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("creating master key file %s: %w", path, err)
	}
	return true, nil
}
