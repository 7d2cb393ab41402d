package server

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/yeqown/go-qrcode/v2"

	"github.com/sangamhealth/sangam/hip"
	"github.com/sangamhealth/sangam/views"
)

// Counter QR codes: the code a patient scans with their ABHA app to share
// their profile with one counter (scan and share). It encodes the PHR
// app's share-profile URL with the facility's HIP id and the counter code.

const (
	countersPath = "/admin/counters"
	// DefaultShareProfileURL is the ABDM sandbox PHR app's share page.
	DefaultShareProfileURL = "https://phrsbx.abdm.gov.in/share-profile"
	// qrModule is the size in pixels of one QR module in the PNG, and
	// qrQuiet the blank border in modules that scanners need.
	qrModule = 8
	qrQuiet  = 4
)

// counterQRURL is the printable QR page of a counter, for the counter tables.
func counterQRURL(counterID string) string {
	return countersPath + "/" + url.PathEscape(counterID) + "/qr"
}

// shareURL is what a counter's QR code encodes.
func shareURL(base string, ct hip.Counter) string {
	// Built by hand to keep ABDM's documented parameter order.
	return base + "?hip-id=" + url.QueryEscape(ct.HIPID) + "&counter-id=" + url.QueryEscape(ct.Code)
}

// findCounter returns the tenant's counter with the id in the path.
func (s *Server) findCounter(c *fiber.Ctx) (hip.Counter, error) {
	ctx := c.UserContext()
	id := c.Params("id")
	counters, err := s.queues().Counters(ctx, staffFrom(ctx).TenantID)
	if err != nil {
		return hip.Counter{}, fmt.Errorf("listing counters: %w", err)
	}
	for _, ct := range counters {
		if ct.ID == id {
			return ct, nil
		}
	}
	return hip.Counter{}, &problem{status: fiber.StatusNotFound, title: "Not found", message: "That counter does not exist. Go back to the list of counters."}
}

func (s *Server) showCounterQR(c *fiber.Ctx) error {
	ct, err := s.findCounter(c)
	if err != nil {
		return err
	}
	base := counterQRURL(ct.ID)
	v := views.CounterQR{
		FacilityName: ct.FacilityName, Code: ct.Code, Name: ct.Name, HIPID: ct.HIPID,
		ShareURL: shareURL(s.shareProfileURL, ct), PNGURL: base + ".png", SVGURL: base + ".svg",
	}
	return render(c, fiber.StatusOK, views.CounterQRPage(s.pageFor(c, "Counter "+ct.Code+" QR code", ""), v))
}

func (s *Server) counterQRPNG(c *fiber.Ctx) error {
	bits, err := s.counterBitmap(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, qrImage(bits)); err != nil {
		return fmt.Errorf("encoding counter QR PNG: %w", err)
	}
	c.Set(fiber.HeaderContentType, "image/png")
	return c.Send(buf.Bytes())
}

func (s *Server) counterQRSVG(c *fiber.Ctx) error {
	bits, err := s.counterBitmap(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	return c.SendString(qrSVG(bits))
}

func (s *Server) counterBitmap(c *fiber.Ctx) ([][]bool, error) {
	ct, err := s.findCounter(c)
	if err != nil {
		return nil, err
	}
	return qrBitmap(shareURL(s.shareProfileURL, ct))
}

// bitmapWriter keeps the QR matrix: the library's PNG and SVG writers are
// a separate module, and the matrix is all we need to draw both ourselves.
type bitmapWriter struct{ bits [][]bool }

func (w *bitmapWriter) Write(m qrcode.Matrix) error { w.bits = m.Bitmap(); return nil }
func (w *bitmapWriter) Close() error                { return nil }

// qrBitmap encodes text at error-correction level M (the library default
// is Q; M keeps the code small enough for a printed counter card).
func qrBitmap(text string) ([][]bool, error) {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("encoding QR code: %w", err)
	}
	w := &bitmapWriter{}
	if err := q.Save(w); err != nil {
		return nil, fmt.Errorf("drawing QR code: %w", err)
	}
	return w.bits, nil
}

// qrImage draws the bitmap black on white with a quiet zone.
func qrImage(bits [][]bool) image.Image {
	n := len(bits)
	size := (n + 2*qrQuiet) * qrModule
	img := image.NewGray(image.Rect(0, 0, size, size))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y, row := range bits {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := range qrModule {
				for dx := range qrModule {
					img.SetGray((x+qrQuiet)*qrModule+dx, (y+qrQuiet)*qrModule+dy, color.Gray{})
				}
			}
		}
	}
	return img
}

// qrSVG draws the bitmap as one path of unit squares, in module units, so
// it prints sharp at any size.
func qrSVG(bits [][]bool) string {
	n := len(bits) + 2*qrQuiet
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" shape-rendering="crispEdges">`,
		n, n, n*qrModule, n*qrModule)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bits {
		for x, dark := range row {
			if dark {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+qrQuiet, y+qrQuiet)
			}
		}
	}
	b.WriteString(`"/></svg>` + "\n")
	return b.String()
}
