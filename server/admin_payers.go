package server

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/views"
)

// The payers page: hospital IT records the insurers, TPAs and schemes the
// organisation bills through NHCX, and which of its facilities is
// empanelled with which scheme. The claims workflow refuses a claim from
// a facility not empanelled with the payer, so this is where billing's
// setup starts.

const adminPayersPath = "/admin/payers"

// showAdminPayers lists payers and empanelments; ?payer=<code> puts that
// payer in the form to change it.
func (s *Server) showAdminPayers(c *fiber.Ctx) error {
	v, err := s.adminPayersModel(c.UserContext(), views.PayerForm{Active: true}, views.EmpanelmentForm{}, strings.Clone(c.Query("payer")))
	if err != nil {
		return err
	}
	switch c.Query("saved") {
	case "payer":
		v.Notice = "The payer was saved."
	case "empanelment":
		v.Notice = "The empanelment was saved."
	}
	return s.renderAdminPayers(c, fiber.StatusOK, v)
}

func (s *Server) renderAdminPayers(c *fiber.Ctx, status int, v views.AdminPayers) error {
	return render(c, status, views.AdminPayersPage(s.pageFor(c, "Payers and empanelment", roleAdmin.home()), v))
}

// adminPayersModel reads what the page lists, with the forms as given;
// edit, when it names a payer, puts that payer in the payer form instead.
func (s *Server) adminPayersModel(ctx context.Context, pf views.PayerForm, ef views.EmpanelmentForm, edit string) (views.AdminPayers, error) {
	st := staffFrom(ctx)
	fs, err := s.facilitiesOf(ctx, st)
	if err != nil {
		return views.AdminPayers{}, err
	}
	payers, err := s.billing.Payers(ctx, st.TenantID)
	if err != nil {
		return views.AdminPayers{}, err
	}
	emps, err := s.billing.Empanelments(ctx, st.TenantID, "")
	if err != nil {
		return views.AdminPayers{}, err
	}
	for _, p := range payers {
		if edit != "" && p.Code == edit {
			pf = views.PayerForm{Code: p.Code, Name: p.Name, SchemeKind: string(p.SchemeKind), Active: p.Active}
		}
	}
	return adminPayersView(fs, payers, emps, pf, ef, time.Now()), nil
}

// adminPayersView shapes the page: every payer, and the empanelments of
// the administrator's own facilities as of now.
func adminPayersView(fs []facility, payers []claims.Payer, emps []claims.Empanelment, pf views.PayerForm, ef views.EmpanelmentForm, now time.Time) views.AdminPayers {
	v := views.AdminPayers{
		PayerForm: pf, EmpanelmentForm: ef, SchemeKinds: schemeKindChoices(pf.SchemeKind),
		PayerAction: adminPayersPath, EmpanelmentAction: adminPayersPath + "/empanelments",
	}
	for _, p := range payers {
		v.Payers = append(v.Payers, views.AdminPayerRow{Code: p.Code, Name: p.Name, Scheme: labelOr(schemeLabelsText, string(p.SchemeKind)),
			Active: p.Active, EditURL: adminPayersPath + "?payer=" + url.QueryEscape(p.Code) + "#payer-form-heading"})
		label := p.Name + " (" + p.Code + ")"
		if !p.Active {
			label += " – inactive"
		}
		v.PayerChoices = append(v.PayerChoices, views.Choice{Value: p.Code, Label: label, Checked: p.Code == ef.Payer})
	}
	byFacility := map[string][]views.AdminEmpanelmentRow{}
	for _, e := range emps {
		byFacility[e.FacilityID] = append(byFacility[e.FacilityID], views.AdminEmpanelmentRow{
			Payer: e.PayerName, PayerCode: e.PayerCode, SchemeName: e.SchemeName, SchemeCode: e.SchemeCode,
			ValidFrom: dateText(e.ValidFrom), ValidTo: dateText(e.ValidTo), InForce: e.InForce(now),
		})
	}
	for _, f := range fs {
		v.Facilities = append(v.Facilities, views.AdminPayerFacility{Name: f.Name, HFRID: f.HFRID, Rows: byFacility[f.ID]})
		v.FacilityChoices = append(v.FacilityChoices, views.Choice{Value: f.ID, Label: f.Name + " (HFR " + f.HFRID + ")", Checked: f.ID == ef.Facility})
	}
	return v
}

var schemeKindOrder = []claims.SchemeKind{claims.SchemePMJAY, claims.SchemeState, claims.SchemePrivateInsurer, claims.SchemeTPA}

func schemeKindChoices(selected string) []views.Choice {
	out := make([]views.Choice, len(schemeKindOrder))
	for i, k := range schemeKindOrder {
		out[i] = views.Choice{Value: string(k), Label: schemeLabels[k], Checked: string(k) == selected}
	}
	return out
}

// placeFieldErrors puts each of the claims package's field errors in err
// beside its field (slots, by FieldError.Field, naming it in words too);
// what belongs to no field goes to general. It reports whether err was
// the user's to fix at all.
func placeFieldErrors(err error, slots map[string]fieldSlot, general *string) bool {
	if !errors.Is(err, claims.ErrInvalid) {
		return false
	}
	var rest []string
	for _, e := range unjoin(err) {
		var fe *claims.FieldError
		if errors.As(e, &fe) {
			if slot, ok := slots[fe.Field]; ok {
				if *slot.msg == "" {
					*slot.msg = sentence(slot.label + " " + fe.Problem)
				}
				continue
			}
			rest = append(rest, sentence(fe.Field+" "+fe.Problem))
			continue
		}
		msg := e.Error()
		if i := strings.LastIndex(msg, claims.ErrInvalid.Error()+": "); i >= 0 {
			msg = msg[i+len(claims.ErrInvalid.Error())+2:]
		}
		rest = append(rest, sentence(msg))
	}
	if len(rest) > 0 && *general == "" {
		*general = "Nothing was saved: " + strings.Join(rest, " ")
	}
	return true
}

// fieldSlot is where a field's message goes and how to name the field.
type fieldSlot struct {
	msg   *string
	label string
}
