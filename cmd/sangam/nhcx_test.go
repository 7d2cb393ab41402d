package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/sangamhealth/sangam/claims/hcx"
	"github.com/sangamhealth/sangam/sharedtest"
)

// runNHCXCLI runs `sangam nhcx args...` with stdin and returns what it wrote.
func runNHCXCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = runNHCX(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// nhcxShared returns the path of a shared NHCX interop file, skipping when
// ../shared is not next to the repository.
func nhcxShared(t *testing.T, name string) string {
	t.Helper()
	path := sharedtest.Path(t, "nhcx", "interop", name)
	return path
}

// nhcxOutput is what decrypt prints.
type nhcxOutput struct {
	Headers map[string]any  `json:"headers"`
	Payload json.RawMessage `json:"payload"`
}

func decodeNHCXOutput(t *testing.T, stdout string) nhcxOutput {
	t.Helper()
	var out nhcxOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("decrypt output is not JSON: %v\n%s", err, stdout)
	}
	return out
}

func jsonEqual(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("JSON differs (-want +got):\n%s", diff)
	}
}

func TestNHCXDecryptSwasthVector(t *testing.T) {
	keyFile := nhcxShared(t, "swasth-java-sdk-PUBLIC-TEST-private-key.pem")
	jwe, err := os.ReadFile(nhcxShared(t, "swasth-java-sdk-readme-sample.jwe"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(nhcxShared(t, "swasth-java-sdk-readme-sample.decrypted.json"))
	if err != nil {
		t.Fatal(err)
	}
	compact := strings.TrimSpace(string(jwe))
	wantHeaders := map[string]any{
		"alg": "RSA-OAEP-256", "enc": "A256GCM",
		"x-hcx-sender_code":    "testprovider1.apollo@swasth-hcx-dev",
		"x-hcx-recipient_code": "testprovider1.apollo@swasth-hcx-dev",
		"x-hcx-api_call_id":    "1e1797bd-dbed-4192-b0c9-cef772724be5",
		"x-hcx-correlation_id": "d4f56d79-4908-4a99-a8dd-a3b733fde8d6",
		"x-hcx-timestamp":      "2022-10-27T11:07:48+0530",
	}
	for name, stdin := range map[string]string{
		"compact":       string(jwe),
		"request body":  `{"payload":"` + compact + `"}`,
		"callback body": `{"type":"JWEPayload","payload":"` + compact + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, err := runNHCXCLI(t, stdin, "decrypt", "--private-key", keyFile)
			if err != nil {
				t.Fatalf("decrypt: %v (stderr %q)", err, stderr)
			}
			out := decodeNHCXOutput(t, stdout)
			if diff := cmp.Diff(wantHeaders, out.Headers); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			jsonEqual(t, want, out.Payload)
		})
	}
}

type nhcxKeyFiles struct {
	dir                           string
	pkcs8, pkcs1, privJWK         string
	cert, pkix, pubJWK, otherCert string
	key                           *rsa.PrivateKey
}

func writeNHCXKeys(t *testing.T) nhcxKeyFiles {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := nhcxKeyFiles{dir: t.TempDir(), key: key}
	write := func(name string, data []byte) string {
		path := filepath.Join(f.dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pkix, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	privJWK, err := json.Marshal(jose.JSONWebKey{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	pubJWK, err := json.Marshal(jose.JSONWebKey{Key: &key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	f.pkcs8 = write("key.pk8.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	f.pkcs1 = write("key.pk1.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	f.privJWK = write("key.jwk", privJWK)
	f.cert = write("cert.pem", nhcxCert(t, key))
	f.pkix = write("pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}))
	f.pubJWK = write("pub.jwk", pubJWK)
	f.otherCert = write("other.pem", nhcxCert(t, other))
	return f
}

func nhcxCert(t *testing.T, key *rsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "payer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func nhcxHeadersJSON(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(hcx.NewRequest("1000004604@hcx", "1000003538@hcx", "12", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNHCXEncryptDecryptRoundTrip(t *testing.T) {
	f := writeNHCXKeys(t)
	headers := nhcxHeadersJSON(t)
	headersFile := filepath.Join(f.dir, "headers.json")
	if err := os.WriteFile(headersFile, []byte(headers), 0o600); err != nil {
		t.Fatal(err)
	}
	payload := `{"resourceType":"Bundle","type":"collection","note":"<b>a & b</b>"}` + "\n"

	for _, tt := range []struct{ name, cert, key, headers string }{
		{"X.509 and PKCS#8", f.cert, f.pkcs8, headers},
		{"PKIX and PKCS#1", f.pkix, f.pkcs1, headers},
		{"JWK both", f.pubJWK, f.privJWK, headers},
		{"headers from a file", f.cert, f.privJWK, "@" + headersFile},
	} {
		t.Run(tt.name, func(t *testing.T) {
			compact, stderr, err := runNHCXCLI(t, payload, "encrypt", "--certificate", tt.cert, "--headers", tt.headers)
			if err != nil {
				t.Fatalf("encrypt: %v (stderr %q)", err, stderr)
			}
			if strings.Count(strings.TrimSpace(compact), ".") != 4 || !strings.HasSuffix(compact, "\n") {
				t.Fatalf("encrypt printed %q, want one compact JWE line", compact)
			}
			stdout, stderr, err := runNHCXCLI(t, compact, "decrypt", "--private-key", tt.key)
			if err != nil {
				t.Fatalf("decrypt: %v (stderr %q)", err, stderr)
			}
			out := decodeNHCXOutput(t, stdout)
			var sent map[string]any
			if err := json.Unmarshal([]byte(headers), &sent); err != nil {
				t.Fatal(err)
			}
			sent["alg"], sent["enc"] = "RSA-OAEP-256", "A256GCM"
			if diff := cmp.Diff(sent, out.Headers); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if !bytes.Contains(out.Payload, []byte(`"<b>a & b</b>"`)) {
				t.Errorf("payload text was rewritten: %s", out.Payload)
			}
			jsonEqual(t, []byte(payload), out.Payload)
		})
	}

	t.Run("payload that is not JSON", func(t *testing.T) {
		compact, _, err := runNHCXCLI(t, "plain text", "encrypt", "--certificate", f.cert, "--headers", headers)
		if err != nil {
			t.Fatal(err)
		}
		stdout, _, err := runNHCXCLI(t, compact, "decrypt", "--private-key", f.pkcs8)
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeNHCXOutput(t, stdout).Payload; string(got) != `"plain text"` {
			t.Errorf("payload: got %s, want a JSON string", got)
		}
	})
	t.Run("unchecked headers", func(t *testing.T) {
		h := `{"x-hcx-sender_code":"a","x-hcx-recipient_code":"a"}`
		if _, _, err := runNHCXCLI(t, "{}", "encrypt", "--certificate", f.cert, "--headers", h); err == nil {
			t.Fatal("checked headers accepted sender = recipient")
		}
		compact, _, err := runNHCXCLI(t, "{}", "encrypt", "--certificate", f.cert, "--headers", h, "--check=false")
		if err != nil {
			t.Fatal(err)
		}
		stdout, _, err := runNHCXCLI(t, compact, "decrypt", "--private-key", f.pkcs8)
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeNHCXOutput(t, stdout).Headers; len(got) != 4 || got["x-hcx-sender_code"] != "a" {
			t.Errorf("headers: %v", got)
		}
	})
}

func TestNHCXFailures(t *testing.T) {
	f := writeNHCXKeys(t)
	headers := nhcxHeadersJSON(t)
	compact, _, err := runNHCXCLI(t, `{"a":1}`, "encrypt", "--certificate", f.cert, "--headers", headers)
	if err != nil {
		t.Fatal(err)
	}
	forOther, _, err := runNHCXCLI(t, `{"a":1}`, "encrypt", "--certificate", f.otherCert, "--headers", headers)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(strings.TrimSpace(compact), ".")
	parts[3] = strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, parts[3][:4]) + parts[3][4:]
	tampered := strings.Join(parts, ".")

	rsa15 := func() string {
		enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA1_5, Key: &f.key.PublicKey}, nil)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := enc.Encrypt([]byte(`{"a":1}`))
		if err != nil {
			t.Fatal(err)
		}
		s, err := obj.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}()
	missingAPICall := strings.Replace(headers, `"x-hcx-api_call_id"`, `"x-hcx-api_call_idX"`, 1)

	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string // part of the one-line reason
	}{
		{"encrypt without certificate", "{}", []string{"encrypt", "--headers", headers}, "--certificate"},
		{"encrypt without headers", "{}", []string{"encrypt", "--certificate", f.cert}, "--headers"},
		{"certificate file missing", "{}", []string{"encrypt", "--certificate", filepath.Join(f.dir, "nope.pem"), "--headers", headers}, "nope.pem"},
		{"private key as certificate", "{}", []string{"encrypt", "--certificate", f.pkcs8, "--headers", headers}, "private key"},
		{"headers not JSON", "{}", []string{"encrypt", "--certificate", f.cert, "--headers", "x-hcx-sender_code=a"}, "JSON object"},
		{"headers with alg", "{}", []string{"encrypt", "--certificate", f.cert, "--headers", `{"alg":"RSA1_5"}`}, `"alg"`},
		{"missing mandatory header", "{}", []string{"encrypt", "--certificate", f.cert, "--headers", missingAPICall}, "x-hcx-api_call_id is missing"},
		{"empty payload", "", []string{"encrypt", "--certificate", f.cert, "--headers", headers}, "no payload"},
		{"decrypt without key", compact, []string{"decrypt"}, "--private-key"},
		{"certificate as private key", compact, []string{"decrypt", "--private-key", f.cert}, "PRIVATE KEY"},
		{"public JWK as private key", compact, []string{"decrypt", "--private-key", f.pubJWK}, "public key"},
		{"empty input", "", []string{"decrypt", "--private-key", f.pkcs8}, "no message"},
		{"encrypted for someone else", forOther, []string{"decrypt", "--private-key", f.pkcs8}, "cannot decrypt"},
		{"tampered", tampered, []string{"decrypt", "--private-key", f.pkcs8}, "cannot decrypt"},
		{"RSA1_5", rsa15, []string{"decrypt", "--private-key", f.pkcs8}, "RSA1_5"},
		{"not a JWE", "hello", []string{"decrypt", "--private-key", f.pkcs8}, "compact JWE"},
		{"protocol response", `{"type":"ProtocolResponse","x-hcx-status":"response.error"}`, []string{"decrypt", "--private-key", f.pkcs8}, "plain protocol response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, err := runNHCXCLI(t, tt.stdin, tt.args...)
			if err == nil {
				t.Fatal("succeeded")
			}
			if stdout != "" {
				t.Errorf("printed %q on stdout despite failing", stdout)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, tt.want) {
				t.Errorf("reason %q: want one line containing %q", msg, tt.want)
			}
		})
	}
}

func TestNHCXUsage(t *testing.T) {
	if _, stderr, err := runNHCXCLI(t, ""); !errors.Is(err, errUsage) || !strings.Contains(stderr, "encrypt") {
		t.Errorf("no command: %v, %q", err, stderr)
	}
	if _, stderr, err := runNHCXCLI(t, "", "sign"); !errors.Is(err, errUsage) || !strings.Contains(stderr, `"sign"`) {
		t.Errorf("unknown command: %v, %q", err, stderr)
	}
	if _, _, err := runNHCXCLI(t, "", "--help"); err != nil {
		t.Errorf("--help: %v", err)
	}
	if _, stderr, err := runNHCXCLI(t, "", "decrypt", "-h"); !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr, "NHCX_PRIVATE_KEY") {
		t.Errorf("decrypt -h: %v, %q", err, stderr)
	}
}
