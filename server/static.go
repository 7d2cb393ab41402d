package server

import (
	"mime"
	"path"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/static"
)

// serveStatic serves the embedded assets. A request carrying the asset's
// current hash (the URLs the pages use) may be cached for a year; any other
// must be revalidated, so an old page never pins an old file by accident.
func serveStatic(c *fiber.Ctx) error {
	name := c.Params("name")
	a, ok := static.Lookup(name)
	if !ok {
		return fiber.ErrNotFound
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = fiber.MIMEOctetStream
	}
	c.Set(fiber.HeaderContentType, ctype)
	c.Set(fiber.HeaderETag, `"`+a.Hash+`"`)
	if c.Query("v") == a.Hash {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	if c.Get(fiber.HeaderIfNoneMatch) == `"`+a.Hash+`"` {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.Send(a.Body)
}
