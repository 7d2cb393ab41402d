package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/claims/hcx"
)

const nhcxUsage = `Usage: sangam nhcx <command> [options]

Encrypt and decrypt NHCX messages exactly as Sangam sends and reads them:
compact JWE, RSA-OAEP-256 + A256GCM, every x-hcx-* header in the protected
header. Use it to check an insurer or TPA integration by hand.

Commands:
  encrypt   encrypt the payload on stdin to a certificate; print the compact JWE
  decrypt   decrypt a compact JWE (or a {"payload": ...} body) from stdin;
            print {"headers": {...}, "payload": ...}
  register  make a facility an NHCX participant: its key in the key store,
            its code recorded, its certificate and endpoint URL printed

Keys and certificates are files in PEM (PKCS#1, PKCS#8, X.509 certificate,
PKIX public key), base64 DER, or JWK.

Example:
  sangam nhcx encrypt --certificate payer-cert.pem \
    --headers '{"x-hcx-sender_code":"1000004604@hcx","x-hcx-recipient_code":"1000003538@hcx",
                "x-hcx-api_call_id":"…","x-hcx-correlation_id":"…","x-hcx-request_id":"…",
                "x-hcx-timestamp":"2026-01-05T10:00:00+0530","x-hcx-status":"request.initiated"}' \
    < bundle.json > message.jwe
  sangam nhcx decrypt --private-key payer-key.pem < message.jwe | jq .headers

Run "sangam nhcx <command> -h" for a command's options.
`

// runNHCX is `sangam nhcx`. Every failure is one line, and nothing reaches
// stdout unless the whole command succeeded.
func runNHCX(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runSubcommands(ctx, "nhcx", nhcxUsage, args, stderr, map[string]func([]string) error{
		"encrypt":  func(args []string) error { return runNHCXEncrypt(args, stdin, stdout, stderr) },
		"decrypt":  func(args []string) error { return runNHCXDecrypt(args, stdin, stdout, stderr) },
		"register": func(args []string) error { return runNHCXRegister(ctx, args, stdout, stderr) },
	})
}

func runNHCXEncrypt(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o := newOptions("nhcx encrypt", `Encrypt stdin (the FHIR bundle, taken byte for byte) to the recipient's
certificate and print the compact JWE, the value of the body's "payload".

--headers is a JSON object of x-hcx-* headers (or @FILE to read one). alg
and enc are set by Sangam. Unless --check=false, the headers must be what
the switch accepts: all mandatory headers, UUID ids, a timestamp like
2026-01-05T10:00:00+0530, and request.initiated on a request or a
response.* status on a callback.`, stderr)
	var certFile, headersArg string
	var check bool
	o.String(&certFile, "certificate", "NHCX_CERTIFICATE", "", "the recipient's certificate or public key file (required)")
	o.String(&headersArg, "headers", "NHCX_HEADERS", "", "the x-hcx-* headers as a JSON object, or @FILE (required)")
	o.Bool(&check, "check", "NHCX_CHECK", true, "refuse headers the switch would refuse")
	if err := o.parse(args); err != nil {
		return err
	}
	if certFile == "" {
		return errors.New("--certificate (NHCX_CERTIFICATE) is required")
	}
	if headersArg == "" {
		return errors.New("--headers (NHCX_HEADERS) is required")
	}
	key, err := readPublicKeyFile(certFile)
	if err != nil {
		return err
	}
	h, err := parseHeadersArg(headersArg)
	if err != nil {
		return err
	}
	if check {
		kind := hcx.KindRequest
		if strings.HasPrefix(string(h.Status), "response.") {
			kind = hcx.KindCallback
		}
		if err := h.Validate(kind); err != nil {
			return fmt.Errorf("%w (use --check=false to encrypt anyway)", err)
		}
	}
	payload, err := io.ReadAll(stdin)
	if err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	if len(bytes.TrimSpace(payload)) == 0 {
		return errors.New("no payload on stdin")
	}
	if key.Expired(time.Now()) {
		fmt.Fprintf(stderr, "warning: the certificate is not valid now (valid %s to %s); the recipient may refuse the message\n",
			key.Certificate.NotBefore.Format(time.DateOnly), key.Certificate.NotAfter.Format(time.DateOnly))
	}
	compact, err := hcx.Seal(payload, h, key.Public)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, compact+"\n")
	return err
}

// parseHeadersArg reads --headers: a JSON object whose members are all
// x-hcx-* headers.
func parseHeadersArg(arg string) (hcx.Headers, error) {
	data := []byte(arg)
	if name, ok := strings.CutPrefix(arg, "@"); ok {
		var err error
		if data, err = os.ReadFile(name); err != nil {
			return hcx.Headers{}, fmt.Errorf("--headers: %w", err)
		}
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil || members == nil {
		return hcx.Headers{}, errors.New("--headers: not a JSON object")
	}
	for k := range members {
		if !strings.HasPrefix(k, "x-hcx-") {
			return hcx.Headers{}, fmt.Errorf("--headers: %q is not an x-hcx-* header (alg and enc are set by sangam)", k)
		}
	}
	var h hcx.Headers
	if err := json.Unmarshal(data, &h); err != nil {
		return hcx.Headers{}, fmt.Errorf("--headers: %w", err)
	}
	return h, nil
}

func runNHCXDecrypt(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o := newOptions("nhcx decrypt", `Decrypt the message on stdin with our private key and print
{"headers": {...the protected header, alg and enc included...}, "payload": ...}.
stdin is a compact JWE or a whole body ({"payload": ...}, with or without
"type"). A payload that is not JSON is printed as a JSON string. Only
RSA-OAEP-256 and RSA-OAEP with A256GCM are accepted; if the message does not
decrypt, nothing is printed and the exit status is 1.`, stderr)
	var keyFile string
	o.String(&keyFile, "private-key", "NHCX_PRIVATE_KEY", "", "our private key file (required)")
	if err := o.parse(args); err != nil {
		return err
	}
	if keyFile == "" {
		return errors.New("--private-key (NHCX_PRIVATE_KEY) is required")
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("--private-key: %w", err)
	}
	key, err := hcx.ParsePrivateKey(data)
	if err != nil {
		return fmt.Errorf("--private-key %s: %w", keyFile, err)
	}
	in, err := io.ReadAll(stdin)
	if err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	compact, err := compactFromInput(in)
	if err != nil {
		return err
	}
	msg, err := hcx.Open(compact, key)
	if err != nil {
		return err
	}
	payload := json.RawMessage(msg.Payload)
	if !json.Valid(msg.Payload) {
		s, err := json.Marshal(string(msg.Payload))
		if err != nil {
			return fmt.Errorf("encoding payload: %w", err)
		}
		payload = s
	}
	// An Encoder, not MarshalIndent, so that <, > and & in the payload are
	// not rewritten as \u003c and friends.
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Headers json.RawMessage `json:"headers"`
		Payload json.RawMessage `json:"payload"`
	}{msg.Protected, payload}); err != nil {
		return fmt.Errorf("encoding output: %w", err)
	}
	_, err = stdout.Write(out.Bytes())
	return err
}

// compactFromInput accepts a compact JWE or a body around one.
func compactFromInput(in []byte) (string, error) {
	in = bytes.TrimSpace(in)
	if len(in) == 0 {
		return "", errors.New("no message on stdin")
	}
	if in[0] != '{' {
		return string(in), nil
	}
	r, err := hcx.ParseBody(in)
	if err != nil {
		return "", err
	}
	if r.Protocol != nil {
		return "", hcx.ErrProtocolResponse
	}
	return r.Payload, nil
}

func readPublicKeyFile(name string) (hcx.EncryptionKey, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return hcx.EncryptionKey{}, fmt.Errorf("--certificate: %w", err)
	}
	key, err := hcx.ParsePublicKey(data)
	if err != nil {
		return hcx.EncryptionKey{}, fmt.Errorf("--certificate %s: %w", name, err)
	}
	return key, nil
}
