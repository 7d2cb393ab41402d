package abha_test

import (
	"errors"
	"testing"

	"github.com/sangamhealth/sangam/abdm/abha"
)

func TestNormalizeAadhaar(t *testing.T) {
	for in, want := range map[string]string{
		"9999 0000 0016": "999900000016",
		"999941057058":   "999941057058", // one of UIDAI's published test residents
		"9999-0000-0028": "999900000028",
		"999900000017":   "", // check digit
		"099900000016":   "", // cannot start with 0
		"19990000001":    "",
		"9999000000166":  "",
		"99990000001a":   "",
		"":               "",
	} {
		got, err := abha.NormalizeAadhaar(in)
		if got != want || (want == "") != errors.Is(err, abha.ErrInvalidAadhaar) {
			t.Errorf("NormalizeAadhaar(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestNormalizeMobile(t *testing.T) {
	for in, want := range map[string]string{
		"9000000001":      "9000000001",
		"+91 90000 00001": "9000000001",
		"09000000001":     "9000000001",
		"6123456789":      "6123456789",
		"5123456789":      "",
		"900000000":       "",
		"90000000012":     "",
	} {
		got, err := abha.NormalizeMobile(in)
		if got != want || (want == "") != errors.Is(err, abha.ErrInvalidMobile) {
			t.Errorf("NormalizeMobile(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestNormalizeABHANumber(t *testing.T) {
	for in, want := range map[string]string{
		"91-0000-0000-0037": "91-0000-0000-0037",
		"91000000000037":    "91-0000-0000-0037",
		"91 0000 0000 0037": "91-0000-0000-0037",
		"9100000000003":     "", // 13 digits (portal check)
		"910000000000371":   "",
		"91-0000-0000-003x": "",
	} {
		got, err := abha.NormalizeABHANumber(in)
		if got != want || (want == "") != errors.Is(err, abha.ErrInvalidABHANumber) {
			t.Errorf("NormalizeABHANumber(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestValidateAddressName(t *testing.T) {
	for name, ok := range map[string]bool{
		"ravi.kumar": true, "ravi_kumar1985": true, "r.avi_kumar": true, "12345678": true,
		"ravikum": false, "ravi.ku.mar": false, "ravi__kumar": false, "_ravikumar": false, "ravikumar.": false,
		"ravi kumar": false, "ravi-kumar": false, "ravikumar@sbx": false, "abcdefghijklmnopqrs": false,
	} {
		if err := abha.ValidateAddressName(name); (err == nil) != ok {
			t.Errorf("ValidateAddressName(%q) = %v; want ok=%v", name, err, ok)
		}
	}
}
