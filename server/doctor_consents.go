package server

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/hiu"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/views"
)

// The doctor's consent requests: ask a patient, through ABDM, for their
// records at other hospitals, and follow each request.

const (
	consentsPath  = "/doctor/consents"
	consentsShown = 100
)

// HIU is what the doctor pages need from the HIU service (*hiu.Service).
type HIU interface {
	CreateConsentRequest(ctx context.Context, tenant, facility string, req hiu.Request) (string, error)
	ConsentRequests(ctx context.Context, tenant string, f hiu.Filter) ([]hiu.ConsentRequest, error)
	PatientRecords(ctx context.Context, tenant, patient string, f hiu.RecordFilter) ([]hiu.RecordEntry, error)
	Attachment(ctx context.Context, tenant string, id int64) (contentType string, data []byte, err error)
}

// doctorAccess is who may ask for consent and read the whole record.
func doctorAccess() access { return allow(roleDoctor, roleAdmin) }

// hiuOnly answers 503 with an explanation when Sangam runs without an HIU.
func (s *Server) hiuOnly(h fiber.Handler) fiber.Handler {
	return servingOnlyIf(func() bool { return s.hiu != nil }, "Records from other hospitals are not set up here",
		"This Sangam runs without its ABDM health information user service, so it cannot ask for consent. Ask whoever runs Sangam to configure ABDM.", h)
}

// showConsents shows the form (with patient matches when q is given) and
// the requests made so far.
func (s *Server) showConsents(c *fiber.Ctx) error {
	ctx := c.UserContext()
	st := staffFrom(ctx)
	now := time.Now()
	v := views.ConsentsPage{
		Query:   strings.Clone(strings.TrimSpace(c.Query("q"))),
		Created: c.Query("created") == "1",
		Form:    defaultConsentForm(now),
	}
	if v.Query != "" && len([]rune(v.Query)) <= maxSearchChars {
		results, err := s.patientsReader().Search(ctx, st.TenantID, patients.ParseSearch(v.Query), searchResults)
		if err != nil && !errors.Is(err, patients.ErrInvalid) {
			return err
		}
		v.Matches = patientChoices(results)
	}
	return s.renderConsents(c, fiber.StatusOK, v, now)
}

// showConsentTable is the table alone, for htmx to poll.
func (s *Server) showConsentTable(c *fiber.Ctx) error {
	t, err := s.consentTable(c.UserContext(), time.Now())
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.ConsentTableView(t))
}

func (s *Server) renderConsents(c *fiber.Ctx, status int, v views.ConsentsPage, now time.Time) error {
	t, err := s.consentTable(c.UserContext(), now)
	if err != nil {
		return err
	}
	v.Table = t
	v.Purposes = purposeChoices(v.Form.Purpose)
	if v.HITypes == nil {
		v.HITypes = hiTypeChoicesFrom(nil)
	}
	pg := s.pageFor(c, "Consent requests", navCurrent(staffFrom(c.UserContext()).Roles, consentsPath, roleDoctor.home()))
	return render(c, status, views.ConsentsPageView(pg, v))
}

func (s *Server) consentTable(ctx context.Context, now time.Time) (views.ConsentTable, error) {
	reqs, err := s.hiu.ConsentRequests(ctx, staffFrom(ctx).TenantID, hiu.Filter{Limit: consentsShown})
	if err != nil {
		return views.ConsentTable{}, err
	}
	return consentTableModel(reqs, now), nil
}

func attachmentNotFound(err error) error {
	if errors.Is(err, hiu.ErrNotFound) {
		return &problem{status: fiber.StatusNotFound, title: "Not found", message: "There is no such document, or it was erased when its consent ended.", err: err}
	}
	return err
}
