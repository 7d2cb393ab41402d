package abha

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"
)

// OTP channels: who sends the OTP.
const (
	channelAadhaar = "aadhaar" // UIDAI, to the Aadhaar-linked mobile
	channelABDM    = "abdm"    // ABDM, to the mobile or the ABHA's mobile
)

type txnKind int

const (
	txnEnrol txnKind = iota
	txnLogin
	txnAddressLogin
)

// txn is one OTP transaction (txnId).
type txn struct {
	id       string
	clientID string
	kind     txnKind
	expires  time.Time
	otp      *otpRecord

	// Enrolment: the resident whose Aadhaar OTP was requested, and the
	// ABHA once the OTP is verified.
	resident Resident
	account  *Account
	// mobile to verify (enrolment mobile OTP).
	mobile string

	// Logins.
	hint     string   // abha-number, aadhaar, mobile, abha-address
	accounts []string // ABHA number digits the login may end in
	address  string
	done     bool // verified: the OTP cannot be verified again
}

// otpRecord is one OTP sent. Only the control API shows the code.
type otpRecord struct {
	txnID     string
	channel   string
	purpose   string
	to        string // mobile it was "sent" to
	identity  string // what a block applies to
	code      string
	sentAt    time.Time
	expiresAt time.Time
	wrong     int
	used      bool
	blocked   bool
}

// OTP is an OTP as the control API shows it.
type OTP struct {
	TxnID        string    `json:"txn_id"`
	Channel      string    `json:"channel"` // aadhaar or abdm
	Purpose      string    `json:"purpose"`
	SentTo       string    `json:"sent_to"`
	OTP          string    `json:"otp"`
	SentAt       time.Time `json:"sent_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	Status       string    `json:"status"` // pending, used, expired, blocked
	AttemptsLeft int       `json:"attempts_left"`
}

// OTPFilter selects OTPs; empty fields match everything.
type OTPFilter struct {
	TxnID  string
	Mobile string
}

// OTPs lists the OTPs sent, newest first.
func (s *Service) OTPs(f OTPFilter) []OTP {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	var out []OTP
	for _, o := range slices.Backward(s.otps) {
		if (f.TxnID != "" && o.txnID != f.TxnID) || (f.Mobile != "" && o.to != f.Mobile) {
			continue
		}
		status := "pending"
		switch {
		case o.used:
			status = "used"
		case o.blocked:
			status = "blocked"
		case !now.Before(o.expiresAt):
			status = "expired"
		}
		out = append(out, OTP{
			TxnID: o.txnID, Channel: o.channel, Purpose: o.purpose, SentTo: o.to, OTP: o.code,
			SentAt: o.sentAt, ExpiresAt: o.expiresAt, Status: status,
			AttemptsLeft: max(s.cfg.MaxOTPAttempts-o.wrong, 0),
		})
	}
	return out
}

// newTxnLocked starts a transaction for the calling client.
func (s *Service) newTxnLocked(c *call, kind txnKind) *txn {
	t := &txn{id: uuid.NewString(), clientID: c.clientID, kind: kind, expires: c.now.Add(s.cfg.TxnTTL)}
	s.txns[t.id] = t
	return t
}

// txnLocked finds a live transaction of the calling client.
func (s *Service) txnLocked(c *call, id string, kind txnKind) *txn {
	t := s.txns[id]
	if t == nil || t.clientID != c.clientID || t.kind != kind || !c.now.Before(t.expires) {
		return nil
	}
	return t
}

// sendOTPLocked "sends" a fresh OTP for t, unless the identity is blocked
// or has asked too often; then it answers ABDM-1100.
func (s *Service) sendOTPLocked(c *call, t *txn, channel, purpose, to, identity string) *reply {
	if until, ok := s.blocked[identity]; ok && c.now.Before(until) {
		return &errBlocked
	}
	recent := slices.DeleteFunc(s.sends[identity], func(at time.Time) bool {
		return !c.now.Before(at.Add(s.cfg.BlockFor))
	})
	if len(recent) >= s.cfg.MaxOTPRequests {
		s.blocked[identity] = c.now.Add(s.cfg.BlockFor)
		s.sends[identity] = recent
		return &errBlocked
	}
	s.sends[identity] = append(recent, c.now)
	if t.otp != nil && !t.otp.used {
		t.otp.used = true // a new OTP replaces the old one
	}
	t.otp = &otpRecord{
		txnID: t.id, channel: channel, purpose: purpose, to: to, identity: identity,
		code: newOTP(), sentAt: c.now, expiresAt: c.now.Add(s.cfg.OTPTTL),
	}
	s.otps = append(s.otps, t.otp)
	return nil
}

func newOTP() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // cannot happen since Go 1.24
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// otpOutcome is the result of one OTP entry.
type otpOutcome int

const (
	otpOK otpOutcome = iota
	otpWrong
	otpExpired
	otpBlocked
)

// checkOTPLocked applies one entry of given against t's OTP.
func (s *Service) checkOTPLocked(c *call, t *txn, purpose, given string) (otpOutcome, int) {
	o := t.otp
	if o == nil || o.purpose != purpose || o.used {
		return otpExpired, 0
	}
	if o.blocked {
		return otpBlocked, 0
	}
	if !c.now.Before(o.expiresAt) {
		return otpExpired, 0
	}
	if given == o.code {
		o.used = true
		return otpOK, 0
	}
	o.wrong++
	left := s.cfg.MaxOTPAttempts - o.wrong
	if left <= 0 {
		o.blocked = true
		s.blocked[o.identity] = c.now.Add(s.cfg.BlockFor)
		return otpBlocked, 0
	}
	return otpWrong, left
}

// aadhaarOTPFailure renders a failed Aadhaar OTP the way UIDAI failures
// come back: 422 ABDM-1204 with the UIDAI code in the message.
func aadhaarOTPFailure(outcome otpOutcome, left int) reply {
	switch outcome {
	case otpWrong:
		return abdmError(http.StatusUnprocessableEntity, "ABDM-1204",
			"UIDAI Error code : 400 : Invalid Aadhaar OTP value. "+attemptsLeft(left))
	case otpExpired:
		return abdmError(http.StatusUnprocessableEntity, "ABDM-1204",
			"UIDAI Error code : 403 : OTP expired or not generated. Please generate a fresh OTP and try to authenticate again.")
	default:
		return errBlocked
	}
}

// abdmOTPFailure renders a failed ABDM (mobile) OTP: a 200 carrying
// authResult "failed" (reference §2.3), except a block.
func abdmOTPFailure(t *txn, outcome otpOutcome, left int) reply {
	switch outcome {
	case otpWrong:
		return ok(map[string]any{"txnId": t.id, "authResult": "failed",
			"message": "Entered OTP is incorrect. Kindly re-enter valid OTP. " + attemptsLeft(left)})
	case otpExpired:
		return ok(map[string]any{"txnId": t.id, "authResult": "failed",
			"message": "OTP expired. Please request a new OTP."})
	default:
		return errBlocked
	}
}

// otpFailure renders a failure for the channel the OTP went through.
func otpFailure(t *txn, outcome otpOutcome, left int) reply {
	if t.otp != nil && t.otp.channel == channelAadhaar {
		return aadhaarOTPFailure(outcome, left)
	}
	return abdmOTPFailure(t, outcome, left)
}
