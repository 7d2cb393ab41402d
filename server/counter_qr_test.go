package server_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestCounterQR serves a counter's QR code as a printable page, a PNG and
// an SVG to admins and the front desk, encoding the PHR share URL with the
// facility's HIP id and the counter code.
func TestCounterQR(t *testing.T) {
	e := startABHA(t, "https://phr.example.test/share-profile/")
	ctx := context.Background()
	var id, code, hipID string
	if err := e.DB.Owner.QueryRow(ctx, `SELECT c.id, c.code, f.hip_id FROM counters c JOIN facilities f ON f.id = c.facility_id
		WHERE c.tenant_id = $1 ORDER BY c.code LIMIT 1`, e.TenantID).Scan(&id, &code, &hipID); err != nil {
		t.Fatalf("finding a counter: %v", err)
	}
	base := e.URL + "/admin/counters/" + id + "/qr"

	for _, user := range []string{"admin", "frontdesk"} {
		client, _ := e.signInAs(t, user)
		resp, page := get(t, client, base, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: QR page %d", user, resp.StatusCode)
		}
		mustContain(t, "QR page", page, "https://phr.example.test/share-profile?hip-id="+hipID+"&amp;counter-id="+code, "/qr.png", "/qr.svg")

		resp, body := get(t, client, base+".png", nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: PNG %d %q", user, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		img, err := png.Decode(strings.NewReader(body))
		if err != nil {
			t.Fatalf("PNG does not decode: %v", err)
		}
		if b := img.Bounds(); b.Dx() != b.Dy() || b.Dx() < 21*8 {
			t.Errorf("PNG is %v; want a square of at least 21 modules", b)
		}

		resp, body = get(t, client, base+".svg", nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" {
			t.Fatalf("%s: SVG %d %q", user, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if err := wellFormed(body); err != nil || !strings.Contains(body, "<svg") {
			t.Errorf("SVG is not well-formed XML: %v", err)
		}
	}

	doctor, _ := e.signInAs(t, "doctor")
	if resp, _ := get(t, doctor, base+".png", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("doctor gets the QR: %d", resp.StatusCode)
	}
	admin, _ := e.signInAs(t, "admin")
	if resp, _ := get(t, admin, e.URL+"/admin/counters/00000000-0000-0000-0000-000000000000/qr.svg", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown counter: %d, want 404", resp.StatusCode)
	}
}

func wellFormed(doc string) error {
	d := xml.NewDecoder(bytes.NewReader([]byte(doc)))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
