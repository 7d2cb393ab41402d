package claims

import (
	"slices"
	"testing"

	"github.com/sangamhealth/sangam/claims/hcx"
)

func TestClaimNumbersOf(t *testing.T) {
	for _, tc := range []struct {
		name, path, payload string
		want                []string
	}{
		{"basedOn identifier without a system", hcx.PathCommunicationRequest,
			`{"entry":[{"resource":{"resourceType":"CommunicationRequest","basedOn":[{"identifier":{"value":"IN1:adm-1"}}]}}]}`,
			[]string{"IN1:adm-1"}},
		{"about, ours and another system's", hcx.PathCommunicationRequest,
			`{"entry":[{"resource":{"resourceType":"CommunicationRequest","about":[
				{"identifier":{"system":"urn:sangam:claim","value":"IN1:adm-2"}},
				{"identifier":{"system":"https://payer.example/claims","value":"PAYER-77"}}]}}]}`,
			[]string{"IN1:adm-2"}},
		{"a reference to a Claim in the bundle, by fullUrl and by type/id", hcx.PathCommunicationRequest,
			`{"entry":[
				{"fullUrl":"urn:uuid:c1","resource":{"resourceType":"Claim","id":"c1","identifier":[{"system":"urn:sangam:claim","value":"IN1:adm-3"}]}},
				{"fullUrl":"urn:uuid:c2","resource":{"resourceType":"Claim","id":"c2","identifier":[{"value":"IN1:adm-4"}]}},
				{"resource":{"resourceType":"CommunicationRequest","basedOn":[{"reference":"urn:uuid:c1"}],"about":[{"reference":"Claim/c2"},{"reference":"Claim/missing"}]}}]}`,
			[]string{"IN1:adm-3", "IN1:adm-4"}},
		{"a payment notice's request", hcx.PathPaymentNoticeRequest,
			`{"entry":[{"resource":{"resourceType":"PaymentNotice","request":{"identifier":{"value":"IN1:adm-5"}}}}]}`,
			[]string{"IN1:adm-5"}},
		{"a payment notice read on another path", hcx.PathClaimOnSubmit,
			`{"entry":[{"resource":{"resourceType":"PaymentNotice","request":{"identifier":{"value":"IN1:adm-5"}}}}]}`,
			nil},
		{"not a bundle", hcx.PathPaymentNoticeRequest, `[1,2]`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := claimNumbersOf(tc.path, []byte(tc.payload)); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
