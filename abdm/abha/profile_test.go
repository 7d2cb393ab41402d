package abha_test

import (
	"bytes"
	"image/png"
	"regexp"
	"strconv"
	"testing"

	"github.com/sangamhealth/sangam/abdm/abha"
	sbabha "github.com/sangamhealth/sangam/e2e/sandbox/abha"
)

func TestCardPNG(t *testing.T) {
	h := setup(t)
	enr := h.enrol(t, aadhaarAsha, "9000000001")
	card, err := h.client.Card(t.Context(), tenant, enr.Token)
	if err != nil {
		t.Fatalf("Card: %v", err)
	}
	if card.ContentType != "image/png" {
		t.Errorf("content type %q", card.ContentType)
	}
	img, err := png.Decode(bytes.NewReader(card.Data))
	if err != nil {
		t.Fatalf("card does not decode as PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 856 || b.Dy() != 540 {
		t.Errorf("card is %v; want 856×540", b)
	}
	if r := h.sent(abha.PathCard); len(r) != 1 || r[0].Header.Get("X-token") != "Bearer "+enr.Token.Value {
		t.Errorf("card call did not carry X-token: Bearer <token>")
	}
}

func TestCardPDF(t *testing.T) {
	h := setup(t, func(o *options) { o.abha.CardFormat = sbabha.CardPDF })
	login := h.login(t, abha.LoginRequest{Method: abha.LoginAadhaar, ID: aadhaarSunita})
	card, err := h.client.Card(t.Context(), tenant, login.Token)
	if err != nil {
		t.Fatalf("Card: %v", err)
	}
	checkPDF(t, card, "91-0000-0000-0037")

	// The ABHA-address card comes from the PHR endpoint.
	login = h.login(t, abha.LoginRequest{Method: abha.LoginABHAAddress, ID: "meena.iyer", Via: abha.ViaAadhaar})
	card, err = h.client.Card(t.Context(), tenant, login.Token)
	if err != nil {
		t.Fatalf("address Card: %v", err)
	}
	checkPDF(t, card, "meena.iyer@sbx")
	if len(h.sent(abha.PathAddressCard)) != 1 {
		t.Error("address card not fetched from the PHR card endpoint")
	}
}

// checkPDF checks a PDF's header, that its cross-reference table points
// at its objects, and that it prints want.
func checkPDF(t *testing.T, card *abha.Card, want string) {
	t.Helper()
	d := card.Data
	if card.ContentType != "application/pdf" || !bytes.HasPrefix(d, []byte("%PDF-")) || !bytes.HasSuffix(bytes.TrimSpace(d), []byte("%%EOF")) {
		t.Fatalf("not a PDF: %s %q", card.ContentType, d[:min(len(d), 16)])
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(d)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(d[xref:], []byte("xref\n")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	entries := regexp.MustCompile(`(\d{10}) 00000 n `).FindAllSubmatch(d[xref:], -1)
	if len(entries) == 0 {
		t.Fatal("empty xref table")
	}
	for i, e := range entries {
		off, _ := strconv.Atoi(string(e[1]))
		if wantObj := strconv.Itoa(i+1) + " 0 obj"; !bytes.HasPrefix(d[off:], []byte(wantObj)) {
			t.Errorf("xref entry %d points at %q; want %q", i+1, d[off:off+8], wantObj)
		}
	}
	if !bytes.Contains(d, []byte(want)) {
		t.Errorf("card does not print %q", want)
	}
}
