package claims

import (
	"github.com/sangamhealth/sangam/sharedtest"
	"os"
	"testing"
)

func TestReadClaimResponse(t *testing.T) {
	for _, tc := range []struct {
		name, payload                string
		status                       CaseStatus
		requested, approved, errCode string
	}{
		{"benefit below submitted", `{"resourceType":"ClaimResponse","outcome":"complete","total":[
			{"category":{"coding":[{"code":"submitted"}]},"amount":{"value":70000,"currency":"INR"}},
			{"category":{"coding":[{"code":"benefit"}]},"amount":{"value":"40000.5","currency":"INR"}}]}`,
			StatusPartiallyApproved, "70000.00", "40000.50", ""},
		{"NRCeS eligpercent carries the amount", `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"ClaimResponse",
			"outcome":"complete","total":[{"category":{"coding":[{"code":"submitted"}]},"amount":{"value":70000}},
			{"category":{"coding":[{"code":"eligpercent"}]},"amount":{"value":70000}}]}}]}`,
			StatusApproved, "70000.00", "70000.00", ""},
		{"no amounts", `{"resourceType":"ClaimResponse","outcome":"complete"}`, StatusApproved, "", "", ""},
		{"queued", `{"resourceType":"ClaimResponse","outcome":"queued"}`, StatusPended, "", "", ""},
		{"error outcome", `{"resourceType":"ClaimResponse","outcome":"error","error":[{"code":{"coding":[{"code":"a001","display":"Missing"}]}}]}`,
			StatusRejected, "", "", "a001"},
		{"nothing approved", `{"resourceType":"ClaimResponse","outcome":"complete","total":[
			{"category":{"coding":[{"code":"benefit"}]},"amount":{"value":0}}]}`, StatusRejected, "", "0.00", ""},
		{"payment amount as a last resort", `{"resourceType":"ClaimResponse","outcome":"complete","total":[
			{"category":{"coding":[{"code":"submitted"}]},"amount":{"value":100}}],"payment":{"amount":{"value":60}}}`,
			StatusPartiallyApproved, "100.00", "60.00", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := readClaimResponse([]byte(tc.payload), StagePreauth)
			got := func(p *string) string {
				if p == nil {
					return ""
				}
				return *p
			}
			if r.status != tc.status || got(amountText(r.requested)) != tc.requested ||
				got(amountText(r.approved)) != tc.approved || r.errorCode != tc.errCode {
				t.Errorf("got %s requested %q approved %q error %q", r.status, got(amountText(r.requested)),
					got(amountText(r.approved)), r.errorCode)
			}
		})
	}
	if r := readClaimResponse([]byte(`{"resourceType":"Bundle","entry":[]}`), StageClaim); r.status != "" || r.unread == "" {
		t.Errorf("no ClaimResponse: %+v", r)
	}
}

func TestReadPaymentNoticeAndCommunication(t *testing.T) {
	pn := readPaymentNotice([]byte(`{"resourceType":"Bundle","entry":[
		{"resource":{"resourceType":"PaymentNotice","amount":{"value":180000,"currency":"INR"},"paymentDate":"2025-03-07"}},
		{"resource":{"resourceType":"PaymentReconciliation","paymentIdentifier":{"value":"UTRNUMBER2920287229"}}}]}`))
	if pn.status != StatusPaid || *amountText(pn.paid) != "180000.00" || pn.utr != "UTRNUMBER2920287229" || pn.paidOn != "2025-03-07" {
		t.Errorf("payment notice %+v", pn)
	}
	cr := readCommunicationRequest([]byte(`{"resourceType":"Bundle","entry":[
		{"resource":{"resourceType":"Task","description":"from the task"}},
		{"resource":{"resourceType":"CommunicationRequest","payload":[{"contentString":"Send the angiography report"}]}}]}`))
	if cr.status != StatusNeedsDocuments || cr.note != "Send the angiography report" {
		t.Errorf("communication request %+v", cr)
	}
	el := readEligibility([]byte(`{"resourceType":"CoverageEligibilityResponse","outcome":"complete","insurance":[{"inforce":false}]}`))
	if el.status != StatusNotEligible {
		t.Errorf("eligibility %+v", el)
	}
}

// The HCX specification's examples (old document bundles, but ClaimResponse
// and CoverageEligibilityResponse are plain FHIR R4) read as expected.
func TestReadSpecificationExamples(t *testing.T) {
	claim := readExample(t, "hcx-v0.x__Bundle-ClaimResponseDocument-example-01.json")
	r := readClaimResponse(claim, StageClaim)
	if r.status != StatusPartiallyApproved || *amountText(r.requested) != "500000.00" || *amountText(r.approved) != "360000.00" {
		t.Errorf("claim response %+v", r)
	}
	elig := readExample(t, "hcx-v0.x__Bundle-CoverageEligibilityResponseDocument-example-01.json")
	if e := readEligibility(elig); e.status != StatusEligible {
		t.Errorf("eligibility %+v", e)
	}
}

func readExample(t *testing.T, name string) []byte {
	t.Helper()
	path := sharedtest.Path(t, "nhcx", name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
