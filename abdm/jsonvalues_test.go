package abdm_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
)

func TestFormatTimestamp(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 24, 10, 11, 12, 123456789, time.UTC), "2026-11-24T10:11:12.123Z"},
		{time.Date(2026, 11, 24, 10, 11, 12, 0, time.UTC), "2026-11-24T10:11:12.000Z"}, // millis even when zero
		{time.Date(2026, 11, 24, 15, 41, 12, 5e6, ist), "2026-11-24T10:11:12.005Z"},    // converted to UTC
	}
	for _, tt := range tests {
		if got := abdm.FormatTimestamp(tt.in); got != tt.want {
			t.Errorf("FormatTimestamp(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	want := time.Date(2024, 5, 9, 10, 34, 0, 387e6, time.UTC)
	for _, in := range []string{
		"2024-05-09T10:34:00.387Z",
		"2024-05-09T16:04:00.387+05:30",
		"2024-05-09T10:34:00.387", // production sometimes drops the Z
		" 2024-05-09T10:34:00.387Z ",
	} {
		got, err := abdm.ParseTimestamp(in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v UTC", in, got, err, want)
		}
	}
	if got, err := abdm.ParseTimestamp("2024-05-09T10:34:00Z"); err != nil || !got.Equal(want.Truncate(time.Second)) {
		t.Errorf("without fraction: %v, %v", got, err)
	}
	for _, bad := range []string{"", "yesterday", "09/05/2024"} {
		if _, err := abdm.ParseTimestamp(bad); err == nil {
			t.Errorf("ParseTimestamp(%q): want error", bad)
		}
	}
}

func TestTimeJSON(t *testing.T) {
	var v struct {
		A abdm.Time `json:"a"`
		B abdm.Time `json:"b"`
		C abdm.Time `json:"c"`
		D abdm.Time `json:"d,omitzero"`
	}
	if err := json.Unmarshal([]byte(`{"a":"2024-05-09T10:34:00.387Z","b":1715250840387,"c":null}`), &v); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 5, 9, 10, 34, 0, 387e6, time.UTC)
	if !v.A.Equal(want) || !v.B.Equal(want) || !v.C.IsZero() {
		t.Errorf("decoded %v %v %v", v.A, v.B, v.C)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), `{"a":"2024-05-09T10:34:00.387Z","b":"2024-05-09T10:34:00.387Z","c":null}`; got != want {
		t.Errorf("encoded %s, want %s", got, want)
	}
	if err := json.Unmarshal([]byte(`{"a":true}`), &v); err == nil {
		t.Error("bool time: want error")
	}
}

func TestNumericID(t *testing.T) {
	out, err := json.Marshal(struct {
		N abdm.NumericID `json:"n"`
	}{"91123456789012"})
	if err != nil || string(out) != `{"n":91123456789012}` {
		t.Errorf("got %s, %v", out, err)
	}
	for _, bad := range []abdm.NumericID{"", "91-1234-5678-9012", "9112345678901x"} {
		if _, err := json.Marshal(bad); err == nil {
			t.Errorf("Marshal(%q): want error", bad)
		}
	}
}
