package cm_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm/cmtest"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

func TestScanAndShareDeliversTheProfileAndRecordsTheToken(t *testing.T) {
	w := newWorld(t, nil)
	w.sangam.ActAsHIP(&cmtest.HIP{HIPID: sangamHIP, ABHAAddress: sunita, TokenNumber: "17"})

	hip, counter, err := cm.ParseShareQR(cm.ShareQR(sangamHIP, "OPD1"))
	if err != nil || hip != sangamHIP || counter != "OPD1" {
		t.Fatalf("QR round trip: %q %q %v", hip, counter, err)
	}
	s, err := w.cm.Share(context.Background(), "Sunita.Rao@sbx", hip, counter)
	if err != nil {
		t.Fatalf("Share: %v", err)
	}
	if s.Delivery != gateway.StateDelivered {
		t.Fatalf("share delivery %q; want delivered", s.Delivery)
	}

	cb := w.sangam.WaitFor(abdm.CallbackPatientShare, nil)
	if cb.HIPID != sangamHIP || cb.RequestID != s.RequestID || cb.VerifyErr != nil {
		t.Errorf("share callback: X-HIP-ID %q, REQUEST-ID %q (want %q), JWT %v", cb.HIPID, cb.RequestID, s.RequestID, cb.VerifyErr)
	}
	var body abdm.PatientShareRequest
	cb.Decode(t, &body)
	p := body.Profile.Patient
	if body.Intent != abdm.IntentProfileShare || body.MetaData.HIPID != sangamHIP || body.MetaData.Context != "OPD1" ||
		p.ABHAAddress != sunita || p.Name != "Sunita Rao" || p.Gender != abdm.GenderFemale || p.YearOfBirth != "1978" ||
		p.ABHANumber == nil || *p.ABHANumber != "91-0000-0000-0037" || p.PhoneNumber != "9000000003" {
		t.Errorf("share body: %s", cb.Body)
	}

	w.waitFor("the on-share token", func() bool {
		s, _ := w.cm.ShareByRequestID(s.RequestID)
		return s.Status != cm.ShareSent
	})
	got, _ := w.cm.ShareByRequestID(s.RequestID)
	if got.Status != cm.ShareToken || got.TokenNumber != "17" || got.Expiry != "1800" || got.Error != nil {
		t.Errorf("share after on-share: %+v", got)
	}
	if shares := w.cm.Shares(sunita); len(shares) != 1 {
		t.Errorf("Shares(%s): %d; want 1", sunita, len(shares))
	}
}

func TestScanAndShareRefusesBadInput(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	for _, c := range []struct {
		name, addr, hip, counter string
		want                     error
	}{
		{"unknown patient", "nobody@sbx", sangamHIP, "OPD1", cm.ErrNotFound},
		{"unknown HIP", sunita, "NO_SUCH_HIP", "OPD1", cm.ErrNotFound},
		{"an HIU is not an HIP", sunita, sangamHIU, "OPD1", cm.ErrNotFound},
		{"counter with a dash", sunita, sangamHIP, "OPD-1", cm.ErrInvalid},
		{"counter too long", sunita, sangamHIP, "C123456789012345678901", cm.ErrInvalid},
	} {
		if _, err := w.cm.Share(ctx, c.addr, c.hip, c.counter); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v; want %v", c.name, err, c.want)
		}
	}
	if _, _, err := cm.ParseShareQR("https://phrsbx.abdm.gov.in/share-profile?hip-id=X"); !errors.Is(err, cm.ErrInvalid) {
		t.Errorf("QR without counter: %v", err)
	}
	if n := len(w.sangam.Received("")); n != 0 {
		t.Errorf("refused shares reached the bridge %d times", n)
	}
}

func TestScanAndShareMarksAnUnreachableHIP(t *testing.T) {
	w := newWorld(t, nil)
	w.sangam.AckWith(abdm.CallbackPatientShare, 500)
	s, err := w.cm.Share(context.Background(), sunita, sangamHIP, "OPD1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != cm.ShareFailed || s.Delivery != gateway.StateFailed {
		t.Errorf("share to a bridge answering 500: status %q delivery %q", s.Status, s.Delivery)
	}
}

// The gateway refuses an on-share that does not echo the share's
// REQUEST-ID, and the share stays unanswered.
func TestOnShareMustEchoTheShareRequestID(t *testing.T) {
	w := newWorld(t, nil)
	var answered = make(chan error, 1)
	w.sangam.On(abdm.CallbackPatientShare, func(ctx context.Context, cb cmtest.Callback) {
		_, err := w.sangam.Call(ctx, abdm.Request{Path: abdm.PathPatientOnShare, HIPID: sangamHIP, Body: abdm.PatientOnShareRequest{
			Acknowledgement: abdm.ShareAcknowledgement{Status: abdm.AckSuccess, ABHAAddress: sunita},
			Response:        abdm.ResponseRef{RequestID: "5b0cbb4e-0000-4000-8000-000000000000"},
		}})
		answered <- err
	})
	s, err := w.cm.Share(context.Background(), sunita, sangamHIP, "OPD1")
	if err != nil {
		t.Fatal(err)
	}
	if _, code := gatewayCode(t, <-answered); code != "ABDM-2500" {
		t.Errorf("on-share with a wrong echo: %s; want ABDM-2500", code)
	}
	if got, _ := w.cm.ShareByRequestID(s.RequestID); got.Status != cm.ShareSent {
		t.Errorf("share after a refused on-share: %+v", got)
	}
}
