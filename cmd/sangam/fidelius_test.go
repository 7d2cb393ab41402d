package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/sharedtest"
)

// runFideliusCLI runs `sangam fidelius args...` with stdin and returns what it wrote.
func runFideliusCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = runFidelius(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

type fideliusVectorKey struct {
	PrivateKey    string `json:"privateKey"`
	PublicKey     string `json:"publicKey"`
	X509PublicKey string `json:"x509PublicKey"`
}

type fideliusVector struct {
	ID             string            `json:"id"`
	ExpectedResult string            `json:"expected_result"`
	Sender         fideliusVectorKey `json:"sender"`
	Requester      fideliusVectorKey `json:"requester"`
	SenderNonce    string            `json:"senderNonce"`
	RequesterNonce string            `json:"requesterNonce"`
	Plaintext      string            `json:"plaintext"`
	Ciphertext     string            `json:"ciphertext"`
}

// loadFideliusVectors reads the Java reference's vectors from
// ../shared/testdata/fidelius relative to the repository root, skipping when
// the shared directory is absent.
func loadFideliusVectors(t *testing.T) []fideliusVector {
	t.Helper()
	path := sharedtest.Path(t, "fidelius", "vectors.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []fideliusVector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	if len(f.Vectors) == 0 {
		t.Fatalf("%s has no vectors", path)
	}
	return f.Vectors
}

// checkFideliusFailure asserts the CLI's failure contract: an error of one line and
// nothing on stdout.
func checkFideliusFailure(t *testing.T, name, stdout string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", name)
	}
	if stdout != "" {
		t.Errorf("%s: wrote %q to stdout despite failing", name, stdout)
	}
	if strings.ContainsAny(err.Error(), "\r\n") {
		t.Errorf("%s: error spans lines: %q", name, err)
	}
}

func TestFideliusCLIVectors(t *testing.T) {
	for _, v := range loadFideliusVectors(t) {
		t.Run(v.ID, func(t *testing.T) {
			for _, senderKey := range []string{v.Sender.PublicKey, v.Sender.X509PublicKey} {
				stdout, _, err := runFideliusCLI(t, v.Ciphertext, "decrypt",
					"--requester-private-key", v.Requester.PrivateKey, "--sender-public-key", senderKey,
					"--sender-nonce", v.SenderNonce, "--requester-nonce", v.RequesterNonce)
				switch v.ExpectedResult {
				case "decrypts":
					if err != nil {
						t.Fatalf("decrypt: %v", err)
					}
					if stdout != v.Plaintext {
						t.Errorf("decrypt printed %q, want %q", stdout, v.Plaintext)
					}
				default:
					checkFideliusFailure(t, "decrypt of a tampered vector", stdout, err)
					if !errors.Is(err, fidelius.ErrAuthentication) {
						t.Errorf("decrypt of a tampered vector: err = %v, want ErrAuthentication", err)
					}
				}
			}
			if v.ExpectedResult != "decrypts" {
				return
			}
			for _, requesterKey := range []string{v.Requester.PublicKey, v.Requester.X509PublicKey} {
				stdout, _, err := runFideliusCLI(t, v.Plaintext, "encrypt",
					"--sender-private-key", v.Sender.PrivateKey, "--requester-public-key", requesterKey,
					"--sender-nonce", v.SenderNonce, "--requester-nonce", v.RequesterNonce)
				if err != nil {
					t.Fatalf("encrypt: %v", err)
				}
				if stdout != v.Ciphertext+"\n" {
					t.Errorf("encrypt printed %q, want %q", stdout, v.Ciphertext+"\n")
				}
			}
		})
	}
}

func fideliusKeygen(t *testing.T) fideliusKeys {
	t.Helper()
	stdout, _, err := runFideliusCLI(t, "", "keygen")
	if err != nil {
		t.Fatalf("keygen: %v", err)
	}
	var k fideliusKeys
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil {
		t.Fatalf("keygen printed %q: %v", stdout, err)
	}
	if len(k.PublicKey) != 88 || len(k.X509PublicKey) != 412 || len(k.Nonce) != 44 || k.PrivateKey == "" {
		t.Fatalf("keygen printed %+v, want an 88-character raw key, a 412-character X.509 key and a 44-character nonce", k)
	}
	return k
}

func TestFideliusCLIKeygenRoundTrip(t *testing.T) {
	hiu, hip := fideliusKeygen(t), fideliusKeygen(t)
	if hiu == hip {
		t.Fatal("two keygen runs printed the same keys")
	}
	plaintext := "{\"resourceType\":\"Bundle\",\"note\":\"रमेश ₹ ✓\"}\n"
	for _, keys := range [][2]string{{hiu.PublicKey, hip.X509PublicKey}, {hiu.X509PublicKey, hip.PublicKey}} {
		ciphertext, _, err := runFideliusCLI(t, plaintext, "encrypt",
			"--sender-private-key", hip.PrivateKey, "--requester-public-key", keys[0],
			"--sender-nonce", hip.Nonce, "--requester-nonce", hiu.Nonce)
		if err != nil {
			t.Fatalf("encrypt: %v", err)
		}
		got, _, err := runFideliusCLI(t, ciphertext, "decrypt",
			"--requester-private-key", hiu.PrivateKey, "--sender-public-key", keys[1],
			"--sender-nonce", hip.Nonce, "--requester-nonce", hiu.Nonce)
		if err != nil {
			t.Fatalf("decrypt: %v", err)
		}
		if got != plaintext {
			t.Errorf("round trip gave %q, want %q", got, plaintext)
		}

		// Any altered ciphertext fails and prints nothing.
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(ciphertext))
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, len(raw) / 2, len(raw) - 1} {
			bad := bytes.Clone(raw)
			bad[i] ^= 0x40
			stdout, _, err := runFideliusCLI(t, base64.StdEncoding.EncodeToString(bad), "decrypt",
				"--requester-private-key", hiu.PrivateKey, "--sender-public-key", keys[1],
				"--sender-nonce", hip.Nonce, "--requester-nonce", hiu.Nonce)
			checkFideliusFailure(t, "altered ciphertext", stdout, err)
			if !errors.Is(err, fidelius.ErrAuthentication) {
				t.Errorf("altered byte %d: err = %v, want ErrAuthentication", i, err)
			}
		}
	}

	// The private key can come from the environment instead of argv.
	ciphertext, _, err := runFideliusCLI(t, plaintext, "encrypt",
		"--sender-private-key", hip.PrivateKey, "--requester-public-key", hiu.PublicKey,
		"--sender-nonce", hip.Nonce, "--requester-nonce", hiu.Nonce)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FIDELIUS_REQUESTER_PRIVATE_KEY", hiu.PrivateKey)
	got, _, err := runFideliusCLI(t, ciphertext, "decrypt", "--sender-public-key", hip.X509PublicKey,
		"--sender-nonce", hip.Nonce, "--requester-nonce", hiu.Nonce)
	if err != nil || got != plaintext {
		t.Errorf("decrypt with FIDELIUS_REQUESTER_PRIVATE_KEY: got %q, %v", got, err)
	}
}

func TestFideliusCLIErrors(t *testing.T) {
	hiu, hip := fideliusKeygen(t), fideliusKeygen(t)
	ciphertext, _, err := runFideliusCLI(t, "hello", "encrypt",
		"--sender-private-key", hip.PrivateKey, "--requester-public-key", hiu.PublicKey,
		"--sender-nonce", hip.Nonce, "--requester-nonce", hiu.Nonce)
	if err != nil {
		t.Fatal(err)
	}
	decrypt := func(priv, pub, sn, rn string) []string {
		return []string{"decrypt", "--requester-private-key", priv, "--sender-public-key", pub, "--sender-nonce", sn, "--requester-nonce", rn}
	}
	rawKey, err := base64.StdEncoding.DecodeString(hip.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		stdin string
		args  []string
		want  string // in the error message
		is    error
	}{
		{"missing private key", ciphertext, []string{"decrypt", "--sender-public-key", hip.PublicKey, "--sender-nonce", hip.Nonce, "--requester-nonce", hiu.Nonce},
			"--requester-private-key (FIDELIUS_REQUESTER_PRIVATE_KEY) is required", nil},
		{"private key not base64", ciphertext, decrypt("AY*=", hip.PublicKey, hip.Nonce, hiu.Nonce), "--requester-private-key", fidelius.ErrInvalidBase64},
		{"public key of 64 bytes", ciphertext, decrypt(hiu.PrivateKey, base64.StdEncoding.EncodeToString(rawKey[1:]), hip.Nonce, hiu.Nonce), "64 bytes", fidelius.ErrInvalidKey},
		{"public key not base64", ciphertext, decrypt(hiu.PrivateKey, "BA-_", hip.Nonce, hiu.Nonce), "--sender-public-key", fidelius.ErrInvalidBase64},
		{"uuid nonce", ciphertext, decrypt(hiu.PrivateKey, hip.PublicKey, "0f8fad5b-d9cb-469f-a165-70867728950e", hiu.Nonce), "--sender-nonce", fidelius.ErrInvalidNonce},
		{"wrong nonce", ciphertext, decrypt(hiu.PrivateKey, hip.PublicKey, hiu.Nonce, hiu.Nonce), "authentication failed", fidelius.ErrAuthentication},
		{"wrong key pair", ciphertext, decrypt(hip.PrivateKey, hip.PublicKey, hip.Nonce, hiu.Nonce), "authentication failed", fidelius.ErrAuthentication},
		{"ciphertext not base64", "not base64!", decrypt(hiu.PrivateKey, hip.PublicKey, hip.Nonce, hiu.Nonce), "ciphertext", fidelius.ErrInvalidBase64},
		{"truncated ciphertext", ciphertext[:len(ciphertext)-6], decrypt(hiu.PrivateKey, hip.PublicKey, hip.Nonce, hiu.Nonce), "", nil},
		{"empty stdin", "", decrypt(hiu.PrivateKey, hip.PublicKey, hip.Nonce, hiu.Nonce), "no ciphertext", nil},
		{"unknown command", "", []string{"sign"}, "", errUsage},
		{"unknown flag", "", []string{"encrypt", "--key", "x"}, "", errUsage},
		{"stray argument", "", []string{"keygen", "extra"}, "", errUsage},
		{"no command", "", nil, "", errUsage},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, err := runFideliusCLI(t, c.stdin, c.args...)
			checkFideliusFailure(t, c.name, stdout, err)
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %q, want it to mention %q", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("err = %v, want errors.Is %v", err, c.is)
			}
			if errors.Is(err, errUsage) && !strings.Contains(stderr, "Usage: sangam fidelius") {
				t.Errorf("usage error without usage on stderr: %q", stderr)
			}
		})
	}
}

func TestFideliusCLIHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"keygen", "-h"}, {"encrypt", "-h"}, {"decrypt", "--help"}} {
		stdout, stderr, err := runFideliusCLI(t, "", args...)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%v: err = %v, want nil or flag.ErrHelp", args, err)
		}
		if stdout != "" || !strings.Contains(stderr, "Usage: sangam fidelius") {
			t.Errorf("%v: stdout %q, stderr %q; want help on stderr only", args, stdout, stderr)
		}
	}
	_, stderr, _ := runFideliusCLI(t, "", "decrypt", "-h")
	for _, option := range []string{"-requester-private-key", "-sender-public-key", "-sender-nonce", "-requester-nonce", "FIDELIUS_REQUESTER_PRIVATE_KEY"} {
		if !strings.Contains(stderr, option) {
			t.Errorf("decrypt help does not describe %s:\n%s", option, stderr)
		}
	}
}
