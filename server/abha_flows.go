package server

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sangamhealth/sangam/abdm/abha"
)

// ABHAService is what the front desk's ABHA pages need from the ABHA
// service client (*abha.Client).
type ABHAService interface {
	RequestAadhaarOTP(ctx context.Context, tenant, aadhaar string, consent abha.Consent) (*abha.OTPSent, error)
	EnrolByAadhaar(ctx context.Context, tenant string, r abha.EnrolRequest) (*abha.Enrolment, error)
	RequestMobileOTP(ctx context.Context, tenant, txnID, mobile string) (*abha.OTPSent, error)
	VerifyMobileOTP(ctx context.Context, tenant, txnID, otp string) (*abha.MobileVerified, error)
	AddressSuggestions(ctx context.Context, tenant, txnID string) ([]string, error)
	CreateAddress(ctx context.Context, tenant, txnID, name string) (*abha.AddressCreated, error)
	Card(ctx context.Context, tenant string, tok abha.UserToken) (*abha.Card, error)
	RequestLoginOTP(ctx context.Context, tenant string, r abha.LoginRequest) (*abha.LoginOTP, error)
	VerifyLoginOTP(ctx context.Context, tenant string, l *abha.LoginOTP, otp string) (*abha.Login, error)
	SelectAccount(ctx context.Context, tenant string, login *abha.Login, abhaNumber string) (abha.UserToken, error)
	Profile(ctx context.Context, tenant string, tok abha.UserToken) (*abha.Profile, error)
}

// abhaFlowTTL bounds an ABHA journey: ABDM's transactions and X-tokens
// live for minutes, and a half-finished journey must not linger.
const abhaFlowTTL = 15 * time.Minute

// Steps of the Aadhaar-OTP enrolment.
const (
	enrolStepAadhaarOTP = "aadhaar-otp"
	enrolStepMobileOTP  = "mobile-otp"
	enrolStepAddress    = "address"
	enrolStepDone       = "done"
)

// enrolState is one staff session's enrolment in progress. It holds the
// ABDM transaction id and the patient's X-token, and so is only ever kept
// sealed, server-side. The Aadhaar number and OTPs are never part of it.
type enrolState struct {
	Step         string
	Consent      abha.Consent
	TxnID        string
	MaskedMobile string
	OTPSentAt    time.Time
	Resends      int // of the mobile OTP
	Mobile       string
	Existing     bool // the Aadhaar already had an ABHA
	Token        abha.UserToken
	Profile      abha.Profile
	Suggestions  []string
	Attached     string // patient id, once attached
}

// abhaFlows keeps each staff session's ABHA journey in memory, sealed
// with AES-GCM under a key that lives only in this process: a journey
// lasts minutes, so losing it on restart costs a patient one new OTP,
// while nothing readable is ever written to disk. With several replicas
// the load balancer must keep a session on one replica (sticky sessions).
type abhaFlows struct {
	seal *sealer
	now  func() time.Time

	mu    sync.Mutex
	flows map[string]sealedFlow
}

type sealedFlow struct {
	sealed  string
	expires time.Time
}

func newABHAFlows() (*abhaFlows, error) {
	seal, err := newSealer(nil)
	if err != nil {
		return nil, fmt.Errorf("ABHA journey key: %w", err)
	}
	return &abhaFlows{seal: seal, now: time.Now, flows: map[string]sealedFlow{}}, nil
}

// flowKey names a staff session's journey of one kind; the session's id
// hash, never the session cookie itself.
func flowKey(st *staff, kind string) string {
	return kind + ":" + hex.EncodeToString(st.idHash)
}

var errNoFlow = errors.New("no ABHA journey in progress")

func (f *abhaFlows) load(st *staff, kind string, v any) error {
	key := flowKey(st, kind)
	f.mu.Lock()
	sf, ok := f.flows[key]
	if ok && !f.now().Before(sf.expires) {
		delete(f.flows, key)
		ok = false
	}
	f.mu.Unlock()
	if !ok {
		return errNoFlow
	}
	if err := f.seal.open("abha "+kind, sf.sealed, v); err != nil {
		return fmt.Errorf("opening ABHA journey: %w", err)
	}
	return nil
}

func (f *abhaFlows) save(st *staff, kind string, v any) error {
	sealed, err := f.seal.seal("abha "+kind, v)
	if err != nil {
		return fmt.Errorf("sealing ABHA journey: %w", err)
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	// Drop expired journeys here rather than in a background goroutine.
	for k, sf := range f.flows {
		if !now.Before(sf.expires) {
			delete(f.flows, k)
		}
	}
	f.flows[flowKey(st, kind)] = sealedFlow{sealed: sealed, expires: now.Add(abhaFlowTTL)}
	return nil
}

func (f *abhaFlows) drop(st *staff, kind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.flows, flowKey(st, kind))
}
