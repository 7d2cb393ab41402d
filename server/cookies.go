package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Cookie base names. Over https they get the __Host- prefix, which makes
// browsers insist on Secure, Path=/ and no Domain.
const (
	sessionCookie = "sangam_session"
	loginCookie   = "sangam_login"
)

// cookiePolicy sets Sangam's cookies: HttpOnly, SameSite=Lax (the sign-in
// callback and links from e-mail are top-level cross-site GETs that must
// carry them), Secure when the public URL is https.
type cookiePolicy struct{ secure bool }

func (p cookiePolicy) name(base string) string {
	if p.secure {
		return "__Host-" + base
	}
	return base
}

func (p cookiePolicy) set(c *fiber.Ctx, base, value string, maxAge time.Duration) {
	c.Cookie(&fiber.Cookie{
		Name:     p.name(base),
		Value:    value,
		Path:     "/",
		MaxAge:   int(maxAge.Seconds()),
		Secure:   p.secure,
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

func (p cookiePolicy) clear(c *fiber.Ctx, base string) {
	c.Cookie(&fiber.Cookie{
		Name:     p.name(base),
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		Expires:  time.Unix(0, 0),
		Secure:   p.secure,
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// get returns a copy of the cookie's value: Fiber's strings are only valid
// during the handler.
func (p cookiePolicy) get(c *fiber.Ctx, base string) string {
	return string([]byte(c.Cookies(p.name(base))))
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// equalSecret compares secrets in constant time.
func equalSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
