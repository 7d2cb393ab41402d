package server

import (
	"strings"
	"testing"
	"time"
)

func TestResendRefusal(t *testing.T) {
	sent := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		after   time.Duration
		resends int
		want    string // "" allowed
	}{
		{0, 0, "Wait 60 more seconds"},
		{59*time.Second + 100*time.Millisecond, 0, "Wait 1 more seconds"},
		{60 * time.Second, 0, ""},
		{5 * time.Minute, 1, ""},
		{5 * time.Minute, 2, "already been sent again twice"},
	} {
		pr := resendRefusal(sent, sent.Add(c.after), c.resends)
		switch {
		case c.want == "" && pr != nil:
			t.Errorf("after %s with %d resends: refused (%s)", c.after, c.resends, pr.Explanation)
		case c.want != "" && (pr == nil || !strings.Contains(pr.Explanation+" "+pr.Advice, c.want)):
			t.Errorf("after %s with %d resends: %+v, want %q", c.after, c.resends, pr, c.want)
		}
	}
}
