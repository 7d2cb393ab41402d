package server

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/views"
)

// The patient pages: the master index as a paged list or a search, and
// one patient with every record in every system and the merge history.

const (
	patientsPath     = "/patients"
	patientsPerPage  = 25
	searchResults    = 50
	maxSearchChars   = 200
	maxPatientsPages = 10000
)

// patientsReader is what the patient pages need from the index.
type patientsReader interface {
	List(ctx context.Context, tenant string, limit, offset int) ([]patients.Patient, error)
	Search(ctx context.Context, tenant string, q patients.Query, limit int) ([]patients.SearchResult, error)
	Patient(ctx context.Context, tenant, id string) (patients.Patient, error)
	History(ctx context.Context, tenant, patientID string) ([]patients.MergeEvent, error)
}

func (s *Server) patientsReader() patientsReader { return patients.New(s.pool, patients.Config{}) }

// patientsAccess is who may see the patient pages; unmerging stays with
// the roles of the review page.
func patientsAccess() access { return allow(roleFrontDesk, roleDoctor, roleAdmin) }

// showPatients lists the index a page at a time, or searches it when the
// request has a q parameter.
func (s *Server) showPatients(c *fiber.Ctx) error {
	ctx := c.UserContext()
	tenant := staffFrom(ctx).TenantID
	pg := s.pageFor(c, "Patients", patientsNavCurrent(staffFrom(ctx)))
	if q := strings.TrimSpace(c.Query("q")); q != "" {
		return s.searchPatients(c, pg, tenant, strings.Clone(q))
	}
	page := 1
	if p := c.Query("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > maxPatientsPages {
			return fiber.NewError(fiber.StatusBadRequest, "The page number must be a whole number from 1.")
		}
		page = n
	}
	// One more than a page tells whether there is a next page.
	ps, err := s.patientsReader().List(ctx, tenant, patientsPerPage+1, (page-1)*patientsPerPage)
	if err != nil {
		return err
	}
	v := views.Patients{Page: strconv.Itoa(page)}
	if len(ps) > patientsPerPage {
		ps = ps[:patientsPerPage]
		v.NextURL = patientsPath + "?page=" + strconv.Itoa(page+1)
	}
	if page > 1 {
		v.PrevURL = patientsPath + "?page=" + strconv.Itoa(page-1)
	}
	for _, p := range ps {
		v.Rows = append(v.Rows, patientRow(p, time.Now()))
	}
	return render(c, fiber.StatusOK, views.PatientsPage(pg, v))
}

// searchPatients answers the search box; a query the index cannot use is
// a 400 with the page and its message.
func (s *Server) searchPatients(c *fiber.Ctx, pg views.Page, tenant, text string) error {
	v := views.Patients{Query: text, Searching: true}
	if len([]rune(text)) > maxSearchChars {
		v.Error = "Keep the search under " + strconv.Itoa(maxSearchChars) + " characters."
		return render(c, fiber.StatusBadRequest, views.PatientsPage(pg, v))
	}
	results, err := s.patientsReader().Search(c.UserContext(), tenant, patients.ParseSearch(text), searchResults)
	if errors.Is(err, patients.ErrInvalid) {
		v.Error = "Give an ABHA number or address, a mobile number, or a name with the year of birth (for example “Ravi Sharma 1968”)."
		return render(c, fiber.StatusBadRequest, views.PatientsPage(pg, v))
	}
	if err != nil {
		return err
	}
	for _, r := range results {
		row := patientRow(r.Patient, time.Now())
		row.MatchedBy = matchedByText(r)
		v.Rows = append(v.Rows, row)
	}
	return render(c, fiber.StatusOK, views.PatientsPage(pg, v))
}

// showPatient shows one patient; a malformed id is a 400, an unknown one
// a 404.
func (s *Server) showPatient(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "A patient is named by an id like 0b6f7c1e-5d8a-4c1e-9a43-2f0e6d1b7a55; this one is not.")
	}
	ctx := c.UserContext()
	st := staffFrom(ctx)
	ix := s.patientsReader()
	p, err := ix.Patient(ctx, st.TenantID, id.String())
	if err != nil {
		return patientNotFound(err)
	}
	hist, err := ix.History(ctx, st.TenantID, p.ID)
	if err != nil {
		return patientNotFound(err)
	}
	canUnmerge := allow(roleFrontDesk, roleAdmin).permits(st.Roles)
	v := patientDetailModel(p, hist, canUnmerge, time.Now())
	if allow(roleDoctor, roleAdmin).permits(st.Roles) {
		v.RecordURL = patientURL(p.ID) + "/record"
	}
	return render(c, fiber.StatusOK, views.PatientDetailPage(s.pageFor(c, p.Summary.Name, patientsNavCurrent(st)), v))
}

func patientNotFound(err error) error {
	if errors.Is(err, patients.ErrNotFound) {
		return &problem{status: fiber.StatusNotFound, title: "Not found", message: "There is no such patient in this organisation. Search the patient list instead.", err: err}
	}
	return err
}

// patientsNavCurrent marks, in the navigation, the home of the user's
// first role that may see the patient pages.
func patientsNavCurrent(st *staff) string {
	home := ""
	for _, r := range st.Roles {
		if slices.Contains(patientsAccess().roles, r) {
			home = r.home()
			break
		}
	}
	return navCurrent(st.Roles, patientsPath, home)
}

func patientURL(id string) string { return patientsPath + "/" + url.PathEscape(id) }
