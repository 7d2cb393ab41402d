package hcx

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// The algorithms of NHCX messages (reference §6). We always send
// RSA-OAEP-256; RSA-OAEP (SHA-1) is accepted on receipt because the HCX
// specification text still names it.
const (
	KeyAlgorithm      = jose.RSA_OAEP_256
	ContentEncryption = jose.A256GCM
)

// acceptedKeyAlgorithms and acceptedContentEncryption are the explicit
// allow-list for Open. Nothing else (RSA1_5, dir, ECDH, CBC-HS, ...) is
// ever tried.
var (
	acceptedKeyAlgorithms     = []jose.KeyAlgorithm{jose.RSA_OAEP_256, jose.RSA_OAEP}
	acceptedContentEncryption = []jose.ContentEncryption{jose.A256GCM}
)

// Errors from reading and opening messages.
var (
	// ErrMalformed: not a compact JWE with a JSON protected header.
	ErrMalformed = errors.New("nhcx: not a compact JWE")
	// ErrAlgorithmNotAllowed: alg or enc is not on the allow-list, or the
	// header asks for something we do not do (zip, crit).
	ErrAlgorithmNotAllowed = errors.New("nhcx: JWE algorithm not allowed")
	// ErrDecrypt: the message could not be decrypted with our key: it was
	// encrypted for another key, or changed on the way.
	ErrDecrypt = errors.New("nhcx: cannot decrypt message")
)

// Message is an opened JWE.
type Message struct {
	Headers Headers
	// Protected is the protected header exactly as sent (alg and enc
	// included), as JSON.
	Protected json.RawMessage
	// Algorithm is the key algorithm it was encrypted with.
	Algorithm string
	// Payload is the plaintext, normally a FHIR Bundle in JSON. Never log it.
	Payload []byte
}

// Seal encrypts payload to the recipient's public key as a compact JWE
// (RSA-OAEP-256, A256GCM) whose protected header holds alg, enc and every
// header of h, nothing else: no kid, typ or cty, as NHA's header schema
// allows only alg, enc and x-hcx-*. Seal does not validate h; callers
// sending to the switch should call h.Validate first.
func Seal(payload []byte, h Headers, to *rsa.PublicKey) (string, error) {
	if to == nil {
		return "", errors.New("sealing nhcx message: no recipient key")
	}
	if n := to.N.BitLen(); n < minRSABits {
		return "", fmt.Errorf("sealing nhcx message: recipient key has %d bits; NHCX keys have at least %d", n, minRSABits)
	}
	members, err := h.Map()
	if err != nil {
		return "", fmt.Errorf("sealing nhcx message: %w", err)
	}
	opts := &jose.EncrypterOptions{}
	for k, v := range members {
		opts.WithHeader(jose.HeaderKey(k), v)
	}
	enc, err := jose.NewEncrypter(ContentEncryption, jose.Recipient{Algorithm: KeyAlgorithm, Key: to}, opts)
	if err != nil {
		return "", fmt.Errorf("sealing nhcx message: %w", err)
	}
	obj, err := enc.Encrypt(payload)
	if err != nil {
		return "", fmt.Errorf("sealing nhcx message: %w", err)
	}
	compact, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("sealing nhcx message: %w", err)
	}
	return compact, nil
}

// ReadHeaders returns the protocol headers and the raw protected header of
// a compact JWE without decrypting it, so a receiver can route and
// de-duplicate first. It checks the algorithms against the allow-list.
func ReadHeaders(compact string) (Headers, json.RawMessage, error) {
	compact = strings.TrimSpace(compact)
	if strings.Count(compact, ".") != 4 {
		return Headers{}, nil, fmt.Errorf("%w: want 5 dot-separated parts, got %d", ErrMalformed, strings.Count(compact, ".")+1)
	}
	first, _, _ := strings.Cut(compact, ".")
	raw, err := base64.RawURLEncoding.DecodeString(first)
	if err != nil {
		return Headers{}, nil, fmt.Errorf("%w: protected header is not base64url", ErrMalformed)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return Headers{}, nil, fmt.Errorf("%w: protected header is not a JSON object", ErrMalformed)
	}
	if err := checkAlgorithms(members); err != nil {
		return Headers{}, nil, err
	}
	var h Headers
	if err := h.fromMap(members); err != nil {
		return Headers{}, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return h, json.RawMessage(raw), nil
}

// checkAlgorithms applies the allow-list before any cryptography runs, so
// the refusal names what was asked for.
func checkAlgorithms(members map[string]json.RawMessage) error {
	var alg, enc string
	_ = json.Unmarshal(members["alg"], &alg)
	_ = json.Unmarshal(members["enc"], &enc)
	if !containsAlg(alg) {
		return fmt.Errorf("%w: alg %q (accepted: RSA-OAEP-256, RSA-OAEP)", ErrAlgorithmNotAllowed, clip(alg))
	}
	if enc != string(ContentEncryption) {
		return fmt.Errorf("%w: enc %q (accepted: A256GCM)", ErrAlgorithmNotAllowed, clip(enc))
	}
	// NHCX never compresses, and we understand no critical extension.
	for _, k := range []string{"zip", "crit"} {
		if _, ok := members[k]; ok {
			return fmt.Errorf("%w: header %q is not used by NHCX", ErrAlgorithmNotAllowed, k)
		}
	}
	return nil
}

func containsAlg(alg string) bool {
	for _, a := range acceptedKeyAlgorithms {
		if string(a) == alg {
			return true
		}
	}
	return false
}

// Open decrypts a compact JWE with our private key. Only RSA-OAEP-256 and
// RSA-OAEP with A256GCM are accepted.
func Open(compact string, key *rsa.PrivateKey) (*Message, error) {
	if key == nil {
		return nil, errors.New("opening nhcx message: no private key")
	}
	compact = strings.TrimSpace(compact)
	h, protected, err := ReadHeaders(compact)
	if err != nil {
		return nil, err
	}
	obj, err := jose.ParseEncryptedCompact(compact, acceptedKeyAlgorithms, acceptedContentEncryption)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	plaintext, err := obj.Decrypt(key)
	if err != nil {
		// go-jose deliberately says no more than this, to avoid an oracle.
		return nil, fmt.Errorf("%w: encrypted for another key, or changed on the way", ErrDecrypt)
	}
	return &Message{
		Headers:   h,
		Protected: bytes.Clone(protected),
		Algorithm: obj.Header.Algorithm,
		Payload:   plaintext,
	}, nil
}
