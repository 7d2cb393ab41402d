package cm_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
)

// generateToken asks for a link token at Sangam's HIP and returns either
// the on-generate-token result or the synchronous refusal.
func (w *world) generateToken(req abdm.GenerateTokenRequest) (abdm.OnGenerateTokenRequest, error) {
	w.t.Helper()
	resp, err := w.sangam.Call(context.Background(), abdm.Request{Path: abdm.PathGenerateToken, HIPID: sangamHIP, Body: req})
	if err != nil {
		return abdm.OnGenerateTokenRequest{}, err
	}
	var res abdm.OnGenerateTokenRequest
	w.sangam.ResultOf(abdm.CallbackOnGenerateToken, resp.RequestID).Decode(w.t, &res)
	return res, nil
}

func TestGenerateTokenRefusalsRepeatAsABDM1092AndBlockAsABDM1027(t *testing.T) {
	w := newWorld(t, func(c *cm.Config) { c.RefusalWindow = 70 * time.Second; c.MaxTokenRefusals = 2 })
	wrongYear := abdm.GenerateTokenRequest{ABHAAddress: sunita, Name: "Sunita Rao", Gender: abdm.GenderFemale, YearOfBirth: 1980}

	res, err := w.generateToken(wrongYear)
	if err != nil || res.Error == nil || res.LinkToken != "" {
		t.Fatalf("demographic mismatch: %+v %v", res, err)
	}
	// The same request inside the window: a synchronous ABDM-1092 that
	// hides the first cause.
	_, err = w.generateToken(wrongYear)
	if status, code := gatewayCode(t, err); status != http.StatusBadRequest || code != "ABDM-1092" {
		t.Fatalf("repeat within the window: %d %s; want 400 ABDM-1092", status, code)
	}
	// An unknown address is refused with ABDM-1051 (a different request,
	// so no ABDM-1092) and is the second refusal: the pair is now blocked.
	res, err = w.generateToken(abdm.GenerateTokenRequest{ABHAAddress: "nobody@sbx", Name: "X", Gender: "M", YearOfBirth: 1990})
	if err != nil || res.Error == nil || res.Error.Code != "ABDM-1051" {
		t.Fatalf("unknown address: %+v %v", res, err)
	}
	res, err = w.generateToken(abdm.GenerateTokenRequest{ABHAAddress: sunita, Name: "sunita  rao", Gender: "F", YearOfBirth: 1977})
	if err != nil || res.Error == nil {
		t.Fatalf("second mismatch: %+v %v", res, err)
	}
	if b := w.cm.Blocks(); len(b) != 1 || b[0].ABHAAddress != sunita || b[0].HIPID != sangamHIP {
		t.Fatalf("blocks after two refusals: %+v", b)
	}
	// Blocked: even the right demographics get ABDM-1027 in the callback.
	right := abdm.GenerateTokenRequest{ABHAAddress: sunita, Name: "Sunita Rao", Gender: "F", YearOfBirth: 1978}
	res, err = w.generateToken(right)
	if err != nil || res.Error == nil || res.Error.Code != "ABDM-1027" {
		t.Fatalf("blocked patient: %+v %v", res, err)
	}

	// Past the window the first request is answered again; past the block
	// the right one gets a token.
	w.clock.Advance(71 * time.Second)
	if res, err := w.generateToken(wrongYear); err != nil || res.Error == nil || res.Error.Code != "ABDM-1027" {
		t.Errorf("first request after the window while blocked: %+v %v", res, err)
	}
	w.clock.Advance(24 * time.Hour)
	if res, err := w.generateToken(right); err != nil || res.Error != nil || res.LinkToken == "" {
		t.Errorf("right request after the block: %+v %v", res, err)
	}
	if n := len(w.cm.LinkTokens()); n != 1 {
		t.Errorf("%d link tokens issued; want 1", n)
	}
}

func TestBlockPatientAndExpiredLinkTokens(t *testing.T) {
	w := newWorld(t, func(c *cm.Config) { c.LinkTokenTTL = time.Hour })
	token := w.sunitaToken()
	w.clock.Advance(2 * time.Hour)
	if res := w.link(token, opd("V-1")); res.Error == nil || res.Error.Code != "ABDM-1026" {
		t.Errorf("expired token: %+v", res.Error)
	}

	w.cm.BlockPatient(sangamHIP, sunita)
	res, err := w.generateToken(abdm.GenerateTokenRequest{ABHAAddress: sunita, Name: "Sunita Rao", Gender: "F", YearOfBirth: 1978})
	if err != nil || res.Error == nil || res.Error.Code != "ABDM-1027" {
		t.Errorf("after BlockPatient: %+v %v", res, err)
	}
	w.cm.Unblock(sangamHIP, sunita)
	if got := w.cm.Blocks(); len(got) != 0 {
		t.Errorf("blocks after Unblock: %+v", got)
	}
}

func TestContextNotifyRightAfterLinkingFailsWithinTheLag(t *testing.T) {
	w := newWorld(t, func(c *cm.Config) { c.ContextNotifyLag = 5 * time.Second })
	if res := w.link(w.sunitaToken(), opd("V-1")); res.Error != nil {
		t.Fatal(res.Error)
	}
	notify := func() abdm.AcknowledgementResult {
		id := w.sangam.MustCall(abdm.Request{Path: abdm.PathLinkContextNotify, HIPID: sangamHIP, Body: abdm.ContextNotifyRequest{
			Notification: abdm.ContextNotification{Patient: abdm.Ref{ID: sunita}, HIP: abdm.Ref{ID: sangamHIP},
				CareContext: abdm.CareContextRef{PatientReference: "PAT-1", CareContextReference: "V-1"},
				HITypes:     []abdm.HIType{abdm.HITypeOPConsultation}, Date: abdm.NewTime(time.Now())}}})
		var r abdm.AcknowledgementResult
		w.sangam.ResultOf(abdm.CallbackContextOnNotify, id).Decode(t, &r)
		return r
	}
	if r := notify(); r.Error == nil || r.Error.Code != "ABDM-1006" {
		t.Errorf("notify right after linking: %+v", r.Error)
	}
	w.clock.Advance(6 * time.Second)
	if r := notify(); r.Error != nil {
		t.Errorf("notify after the lag: %+v", r.Error)
	}
}

func TestSMSNotifyPutsTheDeepLinkOnThePhone(t *testing.T) {
	phone := &inbox{}
	w := newWorld(t, func(c *cm.Config) { c.SMS = phone })
	id := w.sangam.MustCall(abdm.Request{Path: abdm.PathSMSNotify, HIPID: sangamHIP, Body: abdm.SMSNotifyRequest{
		Notification: abdm.SMSNotification{PhoneNo: "9000000003", HIP: abdm.Party{ID: sangamHIP, Name: "Sangam OPD"}}}})
	var r abdm.AcknowledgementResult
	w.sangam.ResultOf(abdm.CallbackSMSOnNotify, id).Decode(t, &r)
	if r.Error != nil || r.Acknowledgement.Status != abdm.AckSuccess {
		t.Errorf("sms on-notify: %s", mustJSON(t, r))
	}
	if got := phone.sent(); len(got) != 1 || got[0] != "9000000003" {
		t.Errorf("SMS sent to %v", got)
	}
}

type inbox struct {
	mu     sync.Mutex
	phones []string
}

func (i *inbox) SendSMS(phone, _, _ string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.phones = append(i.phones, phone)
}

func (i *inbox) sent() []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]string(nil), i.phones...)
}
