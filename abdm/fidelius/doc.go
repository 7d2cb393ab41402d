// Package fidelius implements "Fidelius", the end-to-end encryption ABDM uses
// for health data in transit between an HIP and an HIU, byte for byte as the
// Java reference (mgrmtech/fidelius-cli on BouncyCastle, which the NHA
// wrapper and ProjectEKA share) does it.
//
// # The scheme in one paragraph
//
// Each side makes a key pair on BouncyCastle's "curve25519" (Curve25519
// written in short Weierstrass form) and 32 random bytes, its nonce, and
// sends both in a keyMaterial object. The shared secret is the
// x-coordinate of ECDH, as exactly 32 big-endian bytes. The two nonces are
// XORed: the first 20 bytes salt HKDF-SHA256, which turns the secret into an
// AES-256 key, and the last 12 are the GCM IV. The message is encrypted with
// AES-256-GCM (no AAD) and sent as base64 of ciphertext‖tag.
//
// # Roles
//
// The requester is the HIU. In hiRequest.keyMaterial it sends its public key
// in raw form (PublicKey.Raw) and its nonce, and it keeps its private key
// until the data arrives. The sender is the HIP. It makes a fresh key pair
// and nonce for each data push, encrypts with them, and sends its public key
// in X.509 form (PublicKey.X509) with its nonce in the push's keyMaterial. Those forms are what each side's reference code can parse;
// this package reads every form in both directions.
//
// # Requester (HIU)
//
//	key, err := fidelius.GenerateKey()
//	if err != nil { ... }
//	nonce := fidelius.NewNonce()
//	req.KeyMaterial = fidelius.NewKeyMaterial(key.PublicKey().Raw(), nonce, consentExpiry)
//	store(key.Encode(), nonce.String()) // the private key is a secret: keep it in the key store
//
// When the push arrives:
//
//	senderKey, senderNonce, err := push.KeyMaterial.Parse()
//	if err != nil { ... }
//	session, err := fidelius.NewSession(key, senderKey, senderNonce, nonce)
//	if err != nil { ... }
//	for _, entry := range push.Entries {
//		bundle, err := session.Open(entry.Content)
//		if errors.Is(err, fidelius.ErrAuthentication) { ... } // altered, or not for us
//	}
//
// # Sender (HIP)
//
//	requesterKey, requesterNonce, err := hiRequest.KeyMaterial.Parse()
//	if err != nil { ... }
//	key, err := fidelius.GenerateKey() // fresh for every push
//	if err != nil { ... }
//	nonce := fidelius.NewNonce()
//	content, err := fidelius.Encrypt(key, requesterKey, nonce, requesterNonce, bundleJSON)
//	if err != nil { ... }
//	push.KeyMaterial = fidelius.NewKeyMaterial(key.PublicKey().X509(), nonce, expiry)
//
// The AES key and IV depend only on the two key pairs and nonces, so
// everything encrypted under one keyMaterial shares one GCM IV, which GCM
// does not survive. Encrypt one plaintext per sender key pair (one entry per
// push page); see Session.
//
// # Keys
//
// Private keys are stored as the reference stores them: base64 of a
// big-endian two's-complement integer (PrivateKey.Encode,
// ParsePrivateKey), so keys move freely between this package and the Java
// tools. Keys we generate are X25519 keys, and every operation on them runs
// in constant time through crypto/ecdh; the Weierstrass form only appears in
// the encodings, by the shift x = u + 486662/3 mod p. Keys imported from
// other implementations work too, and almost all of them take the same
// constant-time path; PrivateKey describes the exception.
//
// # Errors
//
// Errors about inputs wrap ErrInvalidKey, ErrInvalidNonce, ErrInvalidBase64,
// ErrAuthentication or ErrInvalidKeyMaterial, and their messages say which
// input was wrong and how, on one line. Open never returns plaintext with an error.
package fidelius
