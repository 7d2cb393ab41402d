package server

import (
	"strings"
	"testing"

	"github.com/sangamhealth/sangam/hip"
)

// The drawn matrix has the three finder patterns where scanners look for
// them (top left, top right, bottom left, none bottom right), a QR size,
// and the SVG draws exactly its dark modules.
func TestQRBitmapShape(t *testing.T) {
	url := shareURL(DefaultShareProfileURL, hip.Counter{HIPID: "KAVERI-HIP-1", Code: "OPD1"})
	if url != "https://phrsbx.abdm.gov.in/share-profile?hip-id=KAVERI-HIP-1&counter-id=OPD1" {
		t.Errorf("share URL %q", url)
	}
	bits, err := qrBitmap(url)
	if err != nil {
		t.Fatal(err)
	}
	n := len(bits)
	if n < 21 || (n-17)%4 != 0 {
		t.Fatalf("matrix is %d modules wide; want 17+4v", n)
	}
	finder := func(x0, y0 int) bool {
		for y := range 7 {
			for x := range 7 {
				ring := x == 0 || x == 6 || y == 0 || y == 6
				core := x >= 2 && x <= 4 && y >= 2 && y <= 4
				if bits[y0+y][x0+x] != (ring || core) {
					return false
				}
			}
		}
		return true
	}
	if !finder(0, 0) || !finder(n-7, 0) || !finder(0, n-7) || finder(n-7, n-7) {
		t.Errorf("finder patterns misplaced in a %d×%d matrix", n, n)
	}
	dark := 0
	for _, row := range bits {
		for _, b := range row {
			if b {
				dark++
			}
		}
	}
	if got := strings.Count(qrSVG(bits), "h1v1h-1z"); got != dark {
		t.Errorf("SVG draws %d modules; the matrix has %d dark", got, dark)
	}
	img := qrImage(bits)
	if got, want := img.Bounds().Dx(), (n+2*qrQuiet)*qrModule; got != want {
		t.Errorf("PNG is %d px wide, want %d", got, want)
	}
}
