package remote

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
)

// Linking at start (Config.LinkAtStart). A real hospital links a patient's
// care contexts when it registers the visit, so the patient finds them in
// the PHR app without looking for them. The sandbox's gateway is usually
// not listening yet when New returns (its server starts after the sandbox
// is built), so the hospital first waits for the gateway to answer, then
// links one patient after another, retrying only what did not get through.
const (
	// startPatience bounds the wait for the gateway; after it the
	// hospital gives up and logs why.
	startPatience = 2 * time.Minute
	// startBackoffMin and startBackoffMax bound the pause between tries.
	startBackoffMin = 50 * time.Millisecond
	startBackoffMax = 2 * time.Second
	// linkSettle is how long one link may take from generate-token to
	// on_carecontext before it counts as lost.
	linkSettle = 30 * time.Second
	// linkTries is how often a patient's link is tried when the gateway
	// call did not get through or no answer came.
	linkTries = 4
)

// codeAlreadyLinked is the consent manager's answer when every care
// context of a link request is linked already.
const codeAlreadyLinked = "ABDM-1056"

// startLinking links every patient's records in the background, stopping
// a run in progress first (after Reset, the links are made anew).
func (h *Hospital) startLinking() {
	h.mu.Lock()
	if h.stopLinking != nil {
		h.stopLinking()
	}
	ctx, cancel := context.WithCancel(h.ctx)
	h.stopLinking = cancel
	h.mu.Unlock()
	h.spawn(func(context.Context) { h.linkEveryPatient(ctx) })
}

// linkEveryPatient waits for the gateway, then links each patient's
// unlinked records. Failures are logged; nothing is returned, as nobody
// waits for it.
func (h *Hospital) linkEveryPatient(ctx context.Context) {
	if err := h.awaitGateway(ctx); err != nil {
		if ctx.Err() == nil {
			h.log.ErrorContext(ctx, "remote hospital: not linking patients' records at start", "error", err)
		}
		return
	}
	linked, failed := 0, 0
	for _, addr := range h.patientsWithRecords() {
		err := h.linkAtStart(ctx, addr)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failed++
			h.log.WarnContext(ctx, "remote hospital: linking a patient's records at start failed", "abha_address", addr, "error", err)
			continue
		}
		linked++
	}
	h.log.InfoContext(ctx, "remote hospital: patients' records linked at start", "hip_id", h.cfg.HIPID, "patients", linked, "failed", failed)
}

// awaitGateway returns once the gateway gives the hospital a session,
// which means it is serving and knows the hospital's credentials.
func (h *Hospital) awaitGateway(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startPatience)
	defer cancel()
	for pause := startBackoffMin; ; pause = min(2*pause, startBackoffMax) {
		_, err := h.client.Token(ctx, h.cfg.ClientID)
		switch {
		case err == nil:
			return nil
		case !abdm.Retryable(err):
			return fmt.Errorf("the gateway refused the hospital a session: %w", err)
		}
		if err := sleep(ctx, pause); err != nil {
			return fmt.Errorf("the gateway did not answer within %s: %w", startPatience, err)
		}
	}
}

// linkAtStart links a patient's unlinked records, trying again when the
// gateway call did not get through or no answer came.
func (h *Hospital) linkAtStart(ctx context.Context, addr string) error {
	pause := startBackoffMin
	for try := 1; ; try++ {
		l, err := h.LinkPatient(ctx, addr)
		if errors.Is(err, cm.ErrConflict) {
			return nil // nothing left to link
		}
		if err != nil {
			return err
		}
		l, err = h.settled(ctx, l.ID)
		switch {
		case err == nil && l.Status == LinkLinked:
			return nil
		case err == nil && l.Error != nil && l.Error.Code == codeAlreadyLinked:
			// The consent manager kept the links across a Reset of the
			// hospital alone: they are linked.
			h.markLinked(l)
			return nil
		case err == nil && !l.retry:
			return fmt.Errorf("link refused: %s %s", l.Error.Code, l.Error.Message)
		case try == linkTries:
			if err != nil {
				return fmt.Errorf("after %d tries: %w", try, err)
			}
			return fmt.Errorf("after %d tries: %s", try, l.Error.Message)
		}
		if err := sleep(ctx, pause); err != nil {
			return err
		}
		pause = min(2*pause, startBackoffMax)
	}
}

// settled waits for a link to be linked or failed.
func (h *Hospital) settled(ctx context.Context, id string) (HIPLink, error) {
	ctx, cancel := context.WithTimeout(ctx, linkSettle)
	defer cancel()
	var l HIPLink
	err := h.Wait(ctx, func() bool {
		for _, cur := range h.HIPLinks() {
			if cur.ID == id {
				l = cur
				return cur.Status == LinkLinked || cur.Status == LinkFailed
			}
		}
		return false
	})
	if err != nil {
		return l, fmt.Errorf("no answer to the link: %w", err)
	}
	if l.Status == LinkFailed && l.Error == nil {
		l.Error = &abdm.ErrorDetail{Message: "failed without an error"}
	}
	return l, nil
}

// markLinked records a link's records as linked.
func (h *Hospital) markLinked(l HIPLink) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range l.Records {
		h.linked[linkKey(l.ABHAAddress, r.CareContextReference)] = true
	}
	h.changedLocked()
}

// sleep pauses for d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
