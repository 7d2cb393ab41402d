package gateway

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Faults are misbehaviours switched on through the control API, for one
// client or for every client without its own set. Counts mean: 0 off, N > 0
// the next N matching calls or callbacks, -1 every one until changed.
type Faults struct {
	// Paths limits the set to these paths: bridge→gateway paths for the
	// answer faults (e.g. "/v3/token/generate-token"), callback paths for
	// the delivery faults (e.g. "/api/v3/hip/patient/share"). Empty: all.
	Paths []string `json:"paths,omitempty"`

	// AnswerDelayMS holds the gateway's answer to a bridge call this long
	// after processing it, so callbacks it triggers can overtake the ack.
	AnswerDelayMS int `json:"answer_delay_ms,omitempty"`
	// DropAnswers: the call gets no answer; the connection is closed when
	// the client gives up or after Config.DropHold.
	DropAnswers int `json:"drop_answers,omitempty"`
	// FailAnswers: the call is answered with FailStatus (default 500) and
	// the body the real gateway uses for it.
	FailAnswers int `json:"fail_answers,omitempty"`
	// FailStatus: 408, 429 or 5xx.
	FailStatus int `json:"fail_status,omitempty"`
	// ProcessFailed makes a dropped or failed call take effect first (its
	// REQUEST-ID is used up, it is recorded and hooks run): a lost
	// acknowledgement rather than a call that never arrived.
	ProcessFailed bool `json:"process_failed,omitempty"`
	// ErrorShape forces every ABDM-coded error body into one of the shapes
	// ShapeNested, ShapeArray, ShapeArrayFlat, ShapeFlat, ShapeSpring,
	// ShapeEmpty, ShapeText. Empty: each error's natural shape.
	ErrorShape string `json:"error_shape,omitempty"`
	// ErrorCodeColon appends ": " to error codes ("ABDM-1006: "), as the
	// sandbox sometimes does.
	ErrorCodeColon bool `json:"error_code_colon,omitempty"`

	// DeliveryDelayMS waits this long before each callback.
	DeliveryDelayMS int `json:"delivery_delay_ms,omitempty"`
	// DropDeliveries: the callback is recorded as dropped and never sent.
	DropDeliveries int `json:"drop_deliveries,omitempty"`
	// DuplicateDeliveries: the callback is sent twice with the same
	// REQUEST-ID and body.
	DuplicateDeliveries int `json:"duplicate_deliveries,omitempty"`
	// LateRedeliveries: Config.LateRedeliveryAfter after the first attempt
	// the callback is sent again, same REQUEST-ID and body, with a JWT that
	// has already expired.
	LateRedeliveries int `json:"late_redeliveries,omitempty"`
}

const maxFaultDelay = 10 * time.Minute

func (f Faults) validate() error {
	for _, c := range []struct {
		name string
		v    int
	}{
		{"drop_answers", f.DropAnswers}, {"fail_answers", f.FailAnswers},
		{"drop_deliveries", f.DropDeliveries}, {"duplicate_deliveries", f.DuplicateDeliveries},
		{"late_redeliveries", f.LateRedeliveries},
	} {
		if c.v < -1 {
			return fmt.Errorf("%s must be -1 (always), 0 (off) or a count", c.name)
		}
	}
	for _, d := range []struct {
		name string
		v    int
	}{{"answer_delay_ms", f.AnswerDelayMS}, {"delivery_delay_ms", f.DeliveryDelayMS}} {
		if d.v < 0 || time.Duration(d.v)*time.Millisecond > maxFaultDelay {
			return fmt.Errorf("%s must be between 0 and %d", d.name, maxFaultDelay.Milliseconds())
		}
	}
	if s := f.FailStatus; s != 0 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests && (s < 500 || s > 599) {
		return fmt.Errorf("fail_status %d must be 408, 429 or 5xx", s)
	}
	if f.ErrorShape != "" && !slices.Contains(errorShapes, f.ErrorShape) {
		return fmt.Errorf("error_shape %q must be one of %v", f.ErrorShape, errorShapes)
	}
	return nil
}

func (f *Faults) matches(path string) bool {
	return len(f.Paths) == 0 || slices.Contains(f.Paths, path)
}

// take consumes one use of a count fault.
func take(n *int) bool {
	switch {
	case *n == -1:
		return true
	case *n > 0:
		*n--
		return true
	}
	return false
}

// answerFaults is what happens to one bridge→gateway call.
type answerFaults struct {
	delay      time.Duration
	drop, fail bool
	failStatus int
	process    bool
	shape      string
	colon      bool
}

// deliveryFaults is what happens to one callback.
type deliveryFaults struct {
	delay                 time.Duration
	drop, duplicate, late bool
}

// faultSet returns the set governing clientID: its own, else the global
// one. The caller holds g.mu.
func (g *Gateway) faultSet(clientID string) *Faults {
	if f, ok := g.clientFaults[clientID]; ok {
		return f
	}
	return &g.globalFaults
}

// takeAnswerFaults decides, and counts, the faults for one call.
func (g *Gateway) takeAnswerFaults(clientID, path string) answerFaults {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.faultSet(clientID)
	if !f.matches(path) {
		return answerFaults{}
	}
	af := answerFaults{
		delay:   time.Duration(f.AnswerDelayMS) * time.Millisecond,
		process: f.ProcessFailed,
		shape:   f.ErrorShape,
		colon:   f.ErrorCodeColon,
	}
	switch {
	case take(&f.DropAnswers):
		af.drop = true
	case take(&f.FailAnswers):
		af.fail = true
		af.failStatus = f.FailStatus
		if af.failStatus == 0 {
			af.failStatus = http.StatusInternalServerError
		}
	}
	return af
}

// takeDeliveryFaults decides, and counts, the faults for one callback.
func (g *Gateway) takeDeliveryFaults(clientID, path string) deliveryFaults {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.faultSet(clientID)
	if !f.matches(path) {
		return deliveryFaults{}
	}
	df := deliveryFaults{delay: time.Duration(f.DeliveryDelayMS) * time.Millisecond}
	if take(&f.DropDeliveries) {
		df.drop = true
		return df
	}
	df.duplicate = take(&f.DuplicateDeliveries)
	df.late = take(&f.LateRedeliveries)
	return df
}
