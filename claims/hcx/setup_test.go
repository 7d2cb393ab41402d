package hcx_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"github.com/sangamhealth/sangam/sharedtest"
	"math/big"
	"os"
	"sync"
	"testing"
	"time"
)

// Keys are slow to make, so the tests share a few per test binary.
var testKeys struct {
	mu   sync.Mutex
	keys map[string]*rsa.PrivateKey
}

// rsaKey returns the test binary's 2048-bit key with that name.
func rsaKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	testKeys.mu.Lock()
	defer testKeys.mu.Unlock()
	if k, ok := testKeys.keys[name]; ok {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if testKeys.keys == nil {
		testKeys.keys = map[string]*rsa.PrivateKey{}
	}
	testKeys.keys[name] = k
	return k
}

// selfSigned returns a PEM certificate for key valid from notBefore to
// notAfter, as participants register in the sandbox.
func selfSigned(t testing.TB, key *rsa.PrivateKey, cn string, notBefore, notAfter time.Time) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// validCert is a certificate for key valid for a year around now.
func validCert(t testing.TB, key *rsa.PrivateKey, cn string) []byte {
	return selfSigned(t, key, cn, time.Now().Add(-24*time.Hour), time.Now().Add(365*24*time.Hour))
}

// interopFile reads a file of the Swasth SDK vector from
// ../shared/testdata/nhcx/interop next to the repository root, skipping
// the test when the shared directory is absent.
func interopFile(t *testing.T, name string) []byte {
	t.Helper()
	path := sharedtest.Path(t, "nhcx", "interop", name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func rsaGenerate(bits int) (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, bits) }
