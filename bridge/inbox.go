package bridge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/abdm"
)

// maxRequestIDLen bounds the REQUEST-ID we store; the gateway sends UUIDs.
const maxRequestIDLen = 128

// Register mounts every callback route of abdm.CallbackRoutes for every
// tenant on r, as POST /bridge/:tenant/<callback path>. The routes
// authenticate with the gateway's JWT, so they must sit outside staff
// sign-in and CSRF checks. Each handler writes its own response, an empty
// acknowledgement or a JSON {"error":{"code","message"}}, and never returns
// an error to Fiber's error handler.
func (b *Bridge) Register(r fiber.Router) {
	for _, route := range abdm.CallbackRoutes() {
		r.Post("/bridge/:tenant"+route.Path, b.receive(route))
	}
}

// callback is a parsed, not yet stored, inbound callback.
type callback struct {
	route       abdm.CallbackRoute
	tenant      string // id
	slug        string
	requestID   string
	serviceID   string
	correlation string // response.requestId
	body        []byte
	sum         []byte
}

// receive is the handler of one callback route.
func (b *Bridge) receive(route abdm.CallbackRoute) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		// Params and headers are borrowed from fasthttp's buffers; copy.
		in := callback{route: route, slug: strings.Clone(c.Params("tenant"))}
		log := b.log.With("tenant", in.slug, "route", route.Name)

		tenant, err := b.tenantBySlug(ctx, in.slug)
		if errors.Is(err, ErrNotFound) {
			return reject(c, fiber.StatusNotFound, "unknown_tenant", fmt.Sprintf("no tenant %q has a bridge here", in.slug))
		}
		if err != nil {
			return b.serverError(c, log, err)
		}
		in.tenant = tenant

		if _, err := b.verifier.Verify(ctx, tenant, c.Get(fiber.HeaderAuthorization)); err != nil {
			if errors.Is(err, abdm.ErrInvalidCallbackToken) {
				log.InfoContext(ctx, "bridge callback refused: invalid token", "error", err)
				return reject(c, fiber.StatusUnauthorized, "invalid_token", "the Authorization bearer token is not a valid gateway callback token")
			}
			// The keys could not be fetched: ask the gateway to come back.
			log.WarnContext(ctx, "bridge callback deferred: gateway keys unavailable", "error", err)
			c.Set(fiber.HeaderRetryAfter, "30")
			return reject(c, fiber.StatusServiceUnavailable, "keys_unavailable", "the gateway's signing keys cannot be fetched right now; retry later")
		}

		if status, code, msg := b.parse(c, &in); status != 0 {
			log.InfoContext(ctx, "bridge callback refused: bad request", "request_id", in.requestID, "reason", code)
			return reject(c, status, code, msg)
		}

		out, err := b.store(ctx, &in)
		if err != nil {
			return b.serverError(c, log.With("request_id", in.requestID), err)
		}
		switch out.kind {
		case outcomeUnknownService:
			log.WarnContext(ctx, "bridge callback refused: service id is not a facility of the tenant",
				"request_id", in.requestID, "service_id", in.serviceID, "exchange", out.exchange)
			return reject(c, out.status, "unknown_service_id", fmt.Sprintf("%s %q is not a facility of tenant %q",
				route.Role.Header(), in.serviceID, in.slug))
		case outcomeConflict:
			log.WarnContext(ctx, "bridge callback refused: REQUEST-ID reused with a different body",
				"request_id", in.requestID, "exchange", out.exchange)
			return reject(c, fiber.StatusConflict, "request_id_reused",
				"REQUEST-ID "+in.requestID+" was already received with a different body")
		}
		// An empty acknowledgement, as the gateway's own answers are.
		c.Status(out.status)
		return nil
	}
}

// parse reads the REQUEST-ID, the addressing header and the body into in.
// It returns a non-zero status with a code and a message naming the
// problem when the callback is malformed.
func (b *Bridge) parse(c *fiber.Ctx, in *callback) (status int, code, msg string) {
	in.requestID = strings.TrimSpace(c.Get(abdm.HeaderRequestID))
	switch {
	case in.requestID == "":
		return fiber.StatusBadRequest, "missing_request_id", "the REQUEST-ID header is missing"
	case len(in.requestID) > maxRequestIDLen:
		return fiber.StatusBadRequest, "invalid_request_id", fmt.Sprintf("the REQUEST-ID header is longer than %d characters", maxRequestIDLen)
	}
	in.requestID = strings.Clone(in.requestID)
	header := in.route.Role.Header()
	in.serviceID = strings.Clone(strings.TrimSpace(c.Get(header)))
	if in.serviceID == "" {
		return fiber.StatusBadRequest, "missing_service_id", "the " + header + " header is missing"
	}

	body := c.Body()
	if len(body) > b.cfg.MaxBodyBytes {
		return fiber.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("the body is %d bytes; callbacks are limited to %d", len(body), b.cfg.MaxBodyBytes)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return fiber.StatusBadRequest, "empty_body", "the body is empty; a JSON object is expected"
	}
	if trimmed[0] != '{' {
		return fiber.StatusBadRequest, "invalid_json", "the body is not a JSON object"
	}
	if err := json.Unmarshal(trimmed, in.route.NewBody()); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return fiber.StatusBadRequest, "invalid_json", fmt.Sprintf("the body is not valid JSON: %v (at byte %d)", err, syntax.Offset)
		}
		return fiber.StatusBadRequest, "invalid_body", fmt.Sprintf("the body is not a valid %s message: %v", in.route.Name, err)
	}
	var ref struct {
		Response *abdm.ResponseRef `json:"response"`
	}
	_ = json.Unmarshal(trimmed, &ref) // the body decoded above, so this does too
	if ref.Response != nil {
		in.correlation = strings.TrimSpace(ref.Response.RequestID)
	}
	if in.route.ResultOf != "" && in.correlation == "" {
		return fiber.StatusBadRequest, "missing_response_request_id",
			"the body has no response.requestId; a result callback must name the request it answers"
	}
	if len(in.correlation) > maxRequestIDLen {
		return fiber.StatusBadRequest, "invalid_response_request_id",
			fmt.Sprintf("response.requestId is longer than %d characters", maxRequestIDLen)
	}
	in.body = body
	sum := sha256.Sum256(body)
	in.sum = sum[:]
	return 0, "", ""
}

// reject answers a callback with an error body the gateway (and whoever
// reads its logs) can understand.
func reject(c *fiber.Ctx, status int, code, msg string) error {
	return c.Status(status).JSON(fiber.Map{"error": fiber.Map{"code": code, "message": msg}})
}

// serverError answers 500 and logs the cause once, without the body.
func (b *Bridge) serverError(c *fiber.Ctx, log *slog.Logger, err error) error {
	log.ErrorContext(c.UserContext(), "bridge callback failed", "error", err)
	return reject(c, fiber.StatusInternalServerError, "internal_error", "the callback could not be stored; retry later")
}

func shortSum(sum []byte) string {
	return hex.EncodeToString(sum)[:16]
}
