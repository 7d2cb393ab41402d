package abha

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
)

// card holds what an ABHA card prints: number, address, name, date of
// birth, gender and address (CRT_ABHA_114).
type card struct {
	number, address, name, dob, gender, postal, mobile string
}

func cardData(a *Account, abhaAddress string) card {
	r := a.resident
	return card{
		number: a.ABHANumber, address: abhaAddress, name: r.Name(), dob: r.dob(), gender: r.Gender,
		postal: fmt.Sprintf("%s, %s, %s, %s %s", r.Address, r.Town, r.District, r.State, r.Pincode),
		mobile: maskMobile(a.Mobile),
	}
}

var (
	cardNavy    = color.RGBA{0x1a, 0x3c, 0x6e, 0xff}
	cardSaffron = color.RGBA{0xf4, 0x8b, 0x29, 0xff}
	cardInk     = color.RGBA{0x20, 0x20, 0x20, 0xff}
	cardWhite   = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// png draws the card at 856×540 (a credit card at 10 px/mm): a header, the
// ABHA number, date of birth and gender in a small built-in font, and a
// block pattern standing in for the QR code. It is a sandbox picture, not
// a scannable card.
func (c card) png() ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, 856, 540))
	fill(img, img.Bounds(), cardWhite)
	fill(img, image.Rect(0, 0, 856, 90), cardNavy)
	fill(img, image.Rect(0, 90, 856, 100), cardSaffron)
	drawText(img, 30, 24, 6, "ABHA", cardWhite)
	drawText(img, 30, 150, 5, c.number, cardInk)
	drawText(img, 30, 260, 4, c.dob, cardInk)
	drawText(img, 30, 340, 4, c.gender, cardInk)
	drawPattern(img, 600, 190, 10, c.number+" "+c.address)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("encoding card PNG: %w", err)
	}
	return b.Bytes(), nil
}

func fill(img *image.RGBA, r image.Rectangle, col color.RGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, col)
		}
	}
}

// glyphs is a 5×7 font for what the card prints.
var glyphs = map[rune][7]string{
	'0': {" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "},
	'1': {"  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "},
	'2': {" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"},
	'3': {"#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "},
	'4': {"   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "},
	'5': {"#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "},
	'6': {"  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "},
	'7': {"#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "},
	'8': {" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "},
	'9': {" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "},
	'-': {"     ", "     ", "     ", "#####", "     ", "     ", "     "},
	'A': {" ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"},
	'B': {"#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### "},
	'H': {"#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"},
	'M': {"#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #"},
	'F': {"#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    "},
	'O': {" ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "},
}

// drawText writes s at (x, y) with each font pixel scale×scale; characters
// the font lacks are left blank.
func drawText(img *image.RGBA, x, y, scale int, s string, col color.RGBA) {
	for _, ch := range s {
		if g, ok := glyphs[ch]; ok {
			for row, line := range g {
				for i := range len(line) {
					if line[i] == '#' {
						px, py := x+i*scale, y+row*scale
						fill(img, image.Rect(px, py, px+scale, py+scale), col)
					}
				}
			}
		}
		x += 6 * scale
	}
}

// drawPattern draws 21×21 modules from a hash of seed, with the three
// corner squares of a QR code so the card reads as one at a glance.
func drawPattern(img *image.RGBA, x, y, module int, seed string) {
	sum := sha256.Sum256([]byte(seed))
	const n = 21
	on := func(i, j int) bool {
		for _, c := range [][2]int{{0, 0}, {0, n - 7}, {n - 7, 0}} {
			di, dj := i-c[0], j-c[1]
			if di >= 0 && di < 7 && dj >= 0 && dj < 7 {
				return di == 0 || di == 6 || dj == 0 || dj == 6 || (di >= 2 && di <= 4 && dj >= 2 && dj <= 4)
			}
		}
		bit := (i*n + j) % 256
		return sum[bit/8]>>(bit%8)&1 == 1
	}
	for i := range n {
		for j := range n {
			if on(i, j) {
				fill(img, image.Rect(x+j*module, y+i*module, x+(j+1)*module, y+(i+1)*module), cardInk)
			}
		}
	}
}

// pdf writes a one-page PDF 1.4 by hand: catalog, page tree, page,
// Helvetica and one content stream, with an exact cross-reference table.
func (c card) pdf() []byte {
	lines := []struct {
		size int
		text string
	}{
		{16, "Ayushman Bharat Health Account"},
		{9, "SANDBOX - not a real ABHA card"},
		{12, "Name: " + c.name},
		{12, "ABHA Number: " + c.number},
		{11, "ABHA Address: " + c.address},
		{11, "Date of Birth: " + c.dob + "    Gender: " + c.gender},
		{9, "Address: " + c.postal},
		{9, "Mobile: " + c.mobile},
	}
	var content strings.Builder
	y := 230
	for _, l := range lines {
		fmt.Fprintf(&content, "BT /F1 %d Tf 20 %d Td (%s) Tj ET\n", l.size, y, pdfString(l.text))
		y -= l.size + 12
	}
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 260] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// pdfString escapes text for a PDF literal string, replacing what
// Helvetica's encoding cannot show.
func pdfString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
