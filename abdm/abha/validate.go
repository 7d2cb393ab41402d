package abha

import (
	"strings"
)

// AddressPolicy is the ABHA address rule, to print beside a free-text
// address field (CRT_ABHA_112).
const AddressPolicy = "8 to 18 characters: letters and digits, with at most one dot (.) and one underscore (_), neither first nor last."

// Verhoeff tables (the Aadhaar check digit).
var (
	verhoeffD = [10][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
		{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
		{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verhoeffP = [8][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
		{4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
		{7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
)

// stripSeparators removes the spaces and dashes people type in numbers.
func stripSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// NormalizeAadhaar checks an Aadhaar number as typed (spaces allowed): 12
// digits, not starting with 0 or 1, with a valid Verhoeff check digit. It
// returns the 12 digits, or ErrInvalidAadhaar. The number is never part
// of the error.
func NormalizeAadhaar(s string) (string, error) {
	d := stripSeparators(s)
	if len(d) != 12 || !allDigits(d) || d[0] < '2' {
		return "", ErrInvalidAadhaar
	}
	var c byte
	for i := range len(d) {
		c = verhoeffD[c][verhoeffP[i%8][d[len(d)-1-i]-'0']]
	}
	if c != 0 {
		return "", ErrInvalidAadhaar
	}
	return d, nil
}

// NormalizeMobile checks an Indian mobile number (optionally written with
// +91 or a leading 0) and returns its 10 digits, or ErrInvalidMobile.
func NormalizeMobile(s string) (string, error) {
	d := stripSeparators(s)
	d = strings.TrimPrefix(d, "+91")
	if len(d) == 11 && d[0] == '0' {
		d = d[1:]
	}
	if len(d) != 10 || !allDigits(d) || d[0] < '6' {
		return "", ErrInvalidMobile
	}
	return d, nil
}

// NormalizeABHANumber checks a 14-digit ABHA number, with or without
// dashes, and returns it dashed (91-1234-5678-9012), the form the ABHA
// service expects as a login id; or ErrInvalidABHANumber.
func NormalizeABHANumber(s string) (string, error) {
	d := stripSeparators(s)
	if len(d) != 14 || !allDigits(d) {
		return "", ErrInvalidABHANumber
	}
	return d[:2] + "-" + d[2:6] + "-" + d[6:10] + "-" + d[10:], nil
}

// ValidateAddressName checks the part of a new ABHA address before the @
// against AddressPolicy.
func ValidateAddressName(name string) error {
	if len(name) < 8 || len(name) > 18 {
		return ErrInvalidAddress
	}
	dots, unders := 0, 0
	for i := range len(name) {
		switch ch := name[i]; {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		case ch == '.':
			dots++
		case ch == '_':
			unders++
		default:
			return ErrInvalidAddress
		}
	}
	edge := func(b byte) bool { return b == '.' || b == '_' }
	if dots > 1 || unders > 1 || edge(name[0]) || edge(name[len(name)-1]) {
		return ErrInvalidAddress
	}
	return nil
}

// normalizeAddress lower-cases an existing ABHA address and adds domain
// when only the name was typed. It checks the characters only: addresses
// made under older rules must still log in.
func normalizeAddress(s, domain string) (string, error) {
	a := strings.ToLower(strings.TrimSpace(s))
	name, dom, hasDomain := strings.Cut(a, "@")
	if !hasDomain {
		if domain == "" {
			return "", ErrInvalidAddress
		}
		dom = domain
	}
	if name == "" || dom == "" || strings.ContainsAny(dom, "@ ") {
		return "", ErrInvalidAddress
	}
	for i := range len(name) {
		ch := name[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_') {
			return "", ErrInvalidAddress
		}
	}
	return name + "@" + dom, nil
}

// validOTP checks an OTP as typed: six digits.
func validOTP(s string) (string, bool) {
	s = strings.TrimSpace(s)
	return s, len(s) == 6 && allDigits(s)
}
