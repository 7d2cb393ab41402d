package fidelius_test

import (
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/sangamhealth/sangam/abdm/fidelius"
)

// Example walks one data flow: the HIU asks with its key material, the HIP
// encrypts a bundle for it, and the HIU decrypts the push.
func Example() {
	// HIU: a key pair and nonce for this health-information request.
	hiuKey, err := fidelius.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	hiuNonce := fidelius.NewNonce()
	expiry := time.Now().Add(24 * time.Hour)
	request, err := json.Marshal(fidelius.NewKeyMaterial(hiuKey.PublicKey().Raw(), hiuNonce, expiry))
	if err != nil {
		log.Fatal(err)
	}

	// HIP: read the HIU's key material, encrypt with a fresh key pair.
	var hiRequest fidelius.KeyMaterial
	if err := json.Unmarshal(request, &hiRequest); err != nil {
		log.Fatal(err)
	}
	hiuPublic, hiuNonceSeen, err := hiRequest.Parse()
	if err != nil {
		log.Fatal(err)
	}
	hipKey, err := fidelius.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	hipNonce := fidelius.NewNonce()
	content, err := fidelius.Encrypt(hipKey, hiuPublic, hipNonce, hiuNonceSeen, []byte(`{"resourceType":"Bundle"}`))
	if err != nil {
		log.Fatal(err)
	}
	pushKeyMaterial := fidelius.NewKeyMaterial(hipKey.PublicKey().X509(), hipNonce, expiry)

	// HIU: decrypt the entry with its stored key and nonce.
	hipPublic, hipNonceSeen, err := pushKeyMaterial.Parse()
	if err != nil {
		log.Fatal(err)
	}
	bundle, err := fidelius.Decrypt(hiuKey, hipPublic, hipNonceSeen, hiuNonce, content)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(bundle))
	// Output: {"resourceType":"Bundle"}
}

// ExampleParsePrivateKey shows that keys move between this package and the
// Java reference in the reference's own storage form.
func ExampleParsePrivateKey() {
	// The sender key from the fidelius-cli README.
	key, err := fidelius.ParsePrivateKey("AYhVZpbVeX4KS5Qm/W0+9Ye2q3rnVVGmqRICmseWni4=")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key.PublicKey().Raw())
	fmt.Println(key.Encode())
	// Output:
	// BABVt+mpRLMXiQpIfEq6bj8hlXsdtXIxLsspmMgLNI1SR5mHgDVbjHO2A+U4QlMddGzqyEidzm1AkhtSxSO2Ahg=
	// AYhVZpbVeX4KS5Qm/W0+9Ye2q3rnVVGmqRICmseWni4=
}
