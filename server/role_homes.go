package server

import (
	"github.com/gofiber/fiber/v2"
	"net/url"

	"github.com/sangamhealth/sangam/views"
)

// Each role's home page reads the user's facilities and shows what the
// role can do there.

func (s *Server) showFrontDeskHome(c *fiber.Ctx) error {
	fs, err := s.facilitiesOf(c.UserContext(), staffFrom(c.UserContext()))
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.FrontDeskPage(s.pageFor(c, "Front desk", roleFrontDesk.home()), frontDeskModel(fs)))
}

func (s *Server) showDoctorHome(c *fiber.Ctx) error {
	fs, err := s.facilitiesOf(c.UserContext(), staffFrom(c.UserContext()))
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.DoctorPage(s.pageFor(c, "Doctor", roleDoctor.home()), views.DoctorHome{Facilities: facilityRefs(fs)}))
}

func (s *Server) showAdminHome(c *fiber.Ctx) error {
	fs, err := s.facilitiesOf(c.UserContext(), staffFrom(c.UserContext()))
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.AdminPage(s.pageFor(c, "Administration", roleAdmin.home()), adminModel(fs)))
}

func facilityRefs(fs []facility) []views.FacilityRef {
	out := make([]views.FacilityRef, len(fs))
	for i, f := range fs {
		out[i] = views.FacilityRef{Name: f.Name, HFRID: f.HFRID}
	}
	return out
}

func counterViews(cs []counter) []views.Counter {
	out := make([]views.Counter, len(cs))
	for i, c := range cs {
		out[i] = views.Counter{Code: c.Code, Name: c.Name, QueueURL: queuePath + "?counter=" + url.QueryEscape(c.ID), QRURL: counterQRURL(c.ID)}
	}
	return out
}

func frontDeskModel(fs []facility) views.FrontDeskHome {
	var v views.FrontDeskHome
	for _, f := range fs {
		v.Facilities = append(v.Facilities, views.CounterGroup{
			Facility: views.FacilityRef{Name: f.Name, HFRID: f.HFRID},
			Counters: counterViews(f.Counters),
		})
	}
	return v
}

func adminModel(fs []facility) views.AdminHome {
	var v views.AdminHome
	for _, f := range fs {
		af := views.AdminFacility{Name: f.Name, HFRID: f.HFRID, HIPID: f.HIPID, Address: f.Address, Counters: counterViews(f.Counters)}
		for _, src := range f.Sources {
			af.Sources = append(af.Sources, views.SourceSystem{Code: src.Code, Name: src.Name, Kind: src.Kind, Vendor: src.Vendor})
		}
		v.Facilities = append(v.Facilities, af)
	}
	return v
}
