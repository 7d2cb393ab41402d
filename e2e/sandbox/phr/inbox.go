package phr

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// SMS is a text message delivered to a sandbox phone.
type SMS struct {
	Seq   int       `json:"seq"`
	Phone string    `json:"phone"` // ten digits
	From  string    `json:"from"`
	Text  string    `json:"text"`
	At    time.Time `json:"at"`
}

// Inbox is every sandbox phone: where the consent manager's SMS deep links
// and the OTPs HIPs send to patients land, so the person acting as the
// patient can read them. It is safe for concurrent use.
type Inbox struct {
	now  func() time.Time
	mu   sync.Mutex
	seq  int
	msgs []SMS
}

// NewInbox returns an empty inbox. now nil means time.Now.
func NewInbox(now func() time.Time) *Inbox {
	if now == nil {
		now = time.Now
	}
	return &Inbox{now: now}
}

// NormalizePhone reduces an Indian mobile number to its ten digits
// (dropping +91, 91, a leading 0 and separators); "" when it is not one.
func NormalizePhone(s string) string {
	d := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	switch {
	case len(d) == 12 && strings.HasPrefix(d, "91"):
		d = d[2:]
	case len(d) == 11 && d[0] == '0':
		d = d[1:]
	}
	if len(d) != 10 {
		return ""
	}
	return d
}

// SendSMS delivers a message; a number that is not a mobile is dropped,
// as an SMS gateway would.
func (i *Inbox) SendSMS(phone, from, text string) {
	p := NormalizePhone(phone)
	if p == "" {
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.seq++
	i.msgs = append(i.msgs, SMS{Seq: i.seq, Phone: p, From: from, Text: text, At: i.now().UTC()})
}

// Messages lists the messages to a phone ("" for every phone), newest
// first.
func (i *Inbox) Messages(phone string) []SMS {
	p := NormalizePhone(phone)
	i.mu.Lock()
	defer i.mu.Unlock()
	out := []SMS{}
	for _, m := range i.msgs {
		if phone == "" || m.Phone == p {
			out = append(out, m)
		}
	}
	slices.Reverse(out)
	return out
}

// Reset empties every phone.
func (i *Inbox) Reset() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.msgs = nil
}
