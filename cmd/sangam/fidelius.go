package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sangamhealth/sangam/abdm/fidelius"
)

const fideliusUsage = `Usage: sangam fidelius <command> [options]

Make keys, encrypt and decrypt exactly as ABDM's Fidelius reference
(mgrmtech/fidelius-cli) does, to check an HIP or HIU integration by hand.

Commands:
  keygen    print a new key pair and nonce as JSON
  encrypt   encrypt stdin as the sender (HIP); print base64 ciphertext
  decrypt   decrypt base64 from stdin as the requester (HIU); print the plaintext

Public keys may be raw (base64 of 04||X||Y, 88 characters) or X.509 (412
characters); private keys are the reference's base64 form. Options given on
the command line are visible to other users of this machine: pass private
keys through the environment variables instead.

Example:
  sangam fidelius keygen > hiu.json; sangam fidelius keygen > hip.json
  echo -n '{"resourceType":"Bundle"}' | sangam fidelius encrypt \
    --sender-private-key "$(jq -r .privateKey hip.json)" \
    --requester-public-key "$(jq -r .publicKey hiu.json)" \
    --sender-nonce "$(jq -r .nonce hip.json)" --requester-nonce "$(jq -r .nonce hiu.json)"

Run "sangam fidelius <command> -h" for a command's options.
`

// runFidelius is `sangam fidelius`. Every failure is one line, and nothing
// reaches stdout unless the whole command succeeded.
func runFidelius(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runSubcommands(ctx, "fidelius", fideliusUsage, args, stderr, map[string]func([]string) error{
		"keygen":  func(args []string) error { return runFideliusKeygen(args, stdout, stderr) },
		"encrypt": func(args []string) error { return runFideliusEncrypt(args, stdin, stdout, stderr) },
		"decrypt": func(args []string) error { return runFideliusDecrypt(args, stdin, stdout, stderr) },
	})
}

// fideliusKeys is what keygen prints, with the reference CLI's field names.
type fideliusKeys struct {
	PrivateKey    string `json:"privateKey"`
	PublicKey     string `json:"publicKey"`
	X509PublicKey string `json:"x509PublicKey"`
	Nonce         string `json:"nonce"`
}

func runFideliusKeygen(args []string, stdout, stderr io.Writer) error {
	o := newOptions("fidelius keygen", `Print a new key pair and a nonce as JSON:
  privateKey     base64 scalar, the reference's storage form (a secret)
  publicKey      raw form, what an HIU sends in hiRequest.keyMaterial
  x509PublicKey  X.509 form, what an HIP sends in a data push
  nonce          32 random bytes in base64`, stderr)
	if err := o.parse(args); err != nil {
		return err
	}
	key, err := fidelius.GenerateKey()
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(fideliusKeys{
		PrivateKey:    key.Encode(),
		PublicKey:     key.PublicKey().Raw(),
		X509PublicKey: key.PublicKey().X509(),
		Nonce:         fidelius.NewNonce().String(),
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding keys: %w", err)
	}
	_, err = stdout.Write(append(out, '\n'))
	return err
}

// sessionFlags are the four inputs of either direction: our private key,
// the peer's public key and both nonces.
type sessionFlags struct {
	privateKey, publicKey, senderNonce, requesterNonce string
	privateName, publicName                            string
}

func (f *sessionFlags) register(o *options, own, peer string) {
	role := map[string]string{"sender": "sender's (HIP's)", "requester": "requester's (HIU's)"}
	f.privateName = own + "-private-key"
	f.publicName = peer + "-public-key"
	o.String(&f.privateKey, f.privateName, envName(f.privateName), "", "the "+role[own]+" private key, base64 as keygen prints it (required)")
	o.String(&f.publicKey, f.publicName, envName(f.publicName), "", "the "+role[peer]+" public key, raw or X.509 (required)")
	o.String(&f.senderNonce, "sender-nonce", envName("sender-nonce"), "", "the sender's (HIP's) nonce, base64 of 32 bytes (required)")
	o.String(&f.requesterNonce, "requester-nonce", envName("requester-nonce"), "", "the requester's (HIU's) nonce, base64 of 32 bytes (required)")
}

// envName maps a flag to its variable: sender-nonce → FIDELIUS_SENDER_NONCE.
func envName(flagName string) string {
	return "FIDELIUS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// session checks that every input is present and well-formed and derives
// the session; both directions derive it the same way from their own
// private key and the peer's public key.
func (f *sessionFlags) session() (*fidelius.Session, error) {
	for _, req := range []struct{ value, name string }{
		{f.privateKey, f.privateName}, {f.publicKey, f.publicName},
		{f.senderNonce, "sender-nonce"}, {f.requesterNonce, "requester-nonce"},
	} {
		if req.value == "" {
			return nil, fmt.Errorf("--%s (%s) is required", req.name, envName(req.name))
		}
	}
	priv, err := fidelius.ParsePrivateKey(f.privateKey)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", f.privateName, err)
	}
	pub, err := fidelius.ParsePublicKey(f.publicKey)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", f.publicName, err)
	}
	sn, err := fidelius.ParseNonce(f.senderNonce)
	if err != nil {
		return nil, fmt.Errorf("--sender-nonce: %w", err)
	}
	rn, err := fidelius.ParseNonce(f.requesterNonce)
	if err != nil {
		return nil, fmt.Errorf("--requester-nonce: %w", err)
	}
	return fidelius.NewSession(priv, pub, sn, rn)
}

func runFideliusEncrypt(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o := newOptions("fidelius encrypt", `Encrypt stdin as the sender (HIP) and print the base64 ciphertext, the value
of a data push's entries[].content. The input is taken byte for byte, trailing
newline included; it should be the UTF-8 FHIR bundle.`, stderr)
	var f sessionFlags
	f.register(o, "sender", "requester")
	if err := o.parse(args); err != nil {
		return err
	}
	session, err := f.session()
	if err != nil {
		return err
	}
	plaintext, err := io.ReadAll(stdin)
	if err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	_, err = io.WriteString(stdout, session.Seal(plaintext)+"\n")
	return err
}

func runFideliusDecrypt(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o := newOptions("fidelius decrypt", `Decrypt the base64 ciphertext on stdin as the requester (HIU) and print the
plaintext exactly. Whitespace around or inside the base64 is ignored. If the
ciphertext does not authenticate, nothing is printed and the exit status is 1.`, stderr)
	var f sessionFlags
	f.register(o, "requester", "sender")
	if err := o.parse(args); err != nil {
		return err
	}
	session, err := f.session()
	if err != nil {
		return err
	}
	ciphertext, err := io.ReadAll(stdin)
	if err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	if len(ciphertext) == 0 {
		return errors.New("no ciphertext on stdin")
	}
	plaintext, err := session.Open(string(ciphertext))
	if err != nil {
		return err
	}
	_, err = stdout.Write(plaintext)
	return err
}
