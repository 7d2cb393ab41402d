package server

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/hiu"
	"github.com/sangamhealth/sangam/views"
)

// The unified record: one patient's entries from the group's own systems
// and from other hospitals, with lab trends and documents.

const (
	recordAttachmentPath = "/records/attachments"
	// recordMaxExternal is what the HIU service returns at most.
	recordMaxExternal = 5000
	// recordReadTimeout bounds the live reads of the group's own systems.
	recordReadTimeout = 15 * time.Second
)

// showRecord renders the whole record of a patient.
func (s *Server) showRecord(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "A patient is named by an id like 0b6f7c1e-5d8a-4c1e-9a43-2f0e6d1b7a55; this one is not.")
	}
	q, err := recordQueryFrom(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	st := staffFrom(ctx)
	p, err := s.patientsReader().Patient(ctx, st.TenantID, id.String())
	if err != nil {
		return patientNotFound(err)
	}
	var items []recordItem
	var notes []string
	if s.sources != nil {
		rctx, cancel := context.WithTimeout(ctx, recordReadTimeout)
		items, notes = s.ownItems(rctx, st.TenantID, p, time.Now())
		cancel()
	} else {
		notes = append(notes, "This Sangam is not connected to the group's source systems, so only records from other hospitals are shown.")
	}
	if s.hiu != nil {
		ext, err := s.hiu.PatientRecords(ctx, st.TenantID, p.ID, hiu.RecordFilter{Limit: recordMaxExternal})
		if err != nil {
			return err
		}
		items = append(items, externalItems(ext)...)
	}
	v := recordPageModel(p.ID, p.Summary.Name, items, q, notes)
	return render(c, fiber.StatusOK, views.RecordPageView(s.pageFor(c, p.Summary.Name+" · record", navCurrent(st.Roles, patientsPath, patientsNavCurrent(st))), v))
}

func recordQueryFrom(c *fiber.Ctx) (recordQuery, error) {
	q := recordQuery{
		Kind:     strings.Clone(c.Query("kind")),
		Facility: strings.Clone(c.Query("facility")),
		Source:   strings.Clone(c.Query("source")),
		Page:     1,
	}
	if p := c.Query("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > maxPatientsPages {
			return q, fiber.NewError(fiber.StatusBadRequest, "The page number must be a whole number from 1.")
		}
		q.Page = n
	}
	return q, nil
}

// showRecordAttachment streams a document received from another hospital
// for the browser to show in place; it is never cached.
func (s *Server) showRecordAttachment(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id < 1 {
		return fiber.NewError(fiber.StatusBadRequest, "A document is named by a number; this one is not.")
	}
	ctx := c.UserContext()
	contentType, data, err := s.hiu.Attachment(ctx, staffFrom(ctx).TenantID, id)
	if err != nil {
		return attachmentNotFound(err)
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, "inline")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	// A document from elsewhere may be HTML or SVG: keep any scripts in it
	// inert. PDFs and raster images are left out because browsers will not
	// open their PDF viewer in a sandbox.
	if !inlineSafe[strings.ToLower(contentType)] {
		c.Set(fiber.HeaderContentSecurityPolicy, "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'")
	}
	return c.Send(data)
}

// inlineSafe are the content types a browser shows without running
// anything from the document.
var inlineSafe = map[string]bool{
	"application/pdf": true, "image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
}
