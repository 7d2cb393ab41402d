package abdm_test

import (
	"errors"
	"fmt"

	"github.com/sangamhealth/sangam/abdm"
)

// The gateway's error bodies come in many shapes; ParseError turns each into
// one *Error that callers branch on and staff can read.
func ExampleParseError() {
	err := abdm.ParseError(400, []byte(`{"error":{"code":"ABDM-1092: ","message":"duplicate link token request"}}`))
	fmt.Println(err)
	fmt.Println(errors.Is(err, abdm.ErrDuplicate), abdm.Retryable(err))
	fmt.Println(err.Advice)
	// Output:
	// abdm: HTTP 400: ABDM-1092: duplicate link token request
	// true false
	// Do not resend straight away. Check the ABHA address, name, gender and year of birth, then try again after a few minutes.
}
