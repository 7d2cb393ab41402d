package server

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/views"
)

// OTP resends (CRT_ABHA_106, VRFY_ABHA_305): a new OTP only 60 seconds
// after the last one, and at most twice per step. The Aadhaar OTP cannot
// be resent here, because Sangam does not keep the Aadhaar number; the
// desk starts again instead.

const (
	resendAfter = 60 * time.Second
	maxResends  = 2
)

// resendRefusal says why an OTP cannot be resent yet, or nil when it can.
func resendRefusal(sentAt, now time.Time, resends int) *views.ABHAProblem {
	if resends >= maxResends {
		return &views.ABHAProblem{Explanation: "The OTP has already been sent again twice.",
			Advice: "Ask the patient to check their messages once more, or start again with another patient later."}
	}
	if wait := sentAt.Add(resendAfter).Sub(now); wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		return &views.ABHAProblem{Explanation: "A new OTP can be sent 60 seconds after the last one.",
			Advice: "Wait " + strconv.Itoa(secs) + " more seconds, then ask again."}
	}
	return nil
}

func (s *Server) enrolResendMobile(c *fiber.Ctx) error {
	ctx := c.UserContext()
	es, err := s.loadEnrol(c, enrolStepMobileOTP)
	if err != nil {
		return err
	}
	if pr := resendRefusal(es.OTPSentAt, time.Now(), es.Resends); pr != nil {
		return s.renderEnrol(c, fiber.StatusOK, enrolView(es), pr)
	}
	sent, err := s.abha.RequestMobileOTP(ctx, staffFrom(ctx).TenantID, es.TxnID, es.Mobile)
	if err != nil {
		if pr, ok := problemOf(err); ok {
			return s.renderEnrol(c, fiber.StatusOK, enrolView(es), pr)
		}
		return fmt.Errorf("resending the mobile OTP: %w", err)
	}
	es.MaskedMobile, es.OTPSentAt, es.Resends = sent.MaskedMobile, sent.SentAt, es.Resends+1
	return s.saveEnrolAndShow(c, es)
}

func (s *Server) verifyResend(c *fiber.Ctx) error {
	ctx := c.UserContext()
	vs, err := s.loadVerify(c, views.ABHAVerifyOTP)
	if err != nil {
		return err
	}
	if pr := resendRefusal(vs.LoginOTP.SentAt, time.Now(), vs.Resends); pr != nil {
		return s.renderVerify(c, verifyView(vs, "", "", ""), pr)
	}
	sent, err := s.abha.RequestLoginOTP(ctx, staffFrom(ctx).TenantID, vs.Request)
	if err != nil {
		if pr, ok := problemOf(err); ok {
			return s.renderVerify(c, verifyView(vs, "", "", ""), pr)
		}
		return fmt.Errorf("resending a login OTP: %w", err)
	}
	vs.LoginOTP, vs.Resends = *sent, vs.Resends+1
	return s.saveVerifyAndShow(c, vs)
}
