package server

import (
	"slices"
	"strings"

	"github.com/sangamhealth/sangam/views"
)

// role is a staff role as it appears in the ID token's "roles" claim.
type role string

const (
	roleFrontDesk role = "front-desk"
	roleDoctor    role = "doctor"
	roleBilling   role = "billing"
	roleAdmin     role = "admin"
)

// allRoles lists the roles in the order the navigation shows them; a user
// with several roles starts at the home of the first.
func allRoles() []role { return []role{roleFrontDesk, roleDoctor, roleBilling, roleAdmin} }

// label is how a role is named on screen.
func (r role) label() string {
	switch r {
	case roleFrontDesk:
		return "Front desk"
	case roleDoctor:
		return "Doctor"
	case roleBilling:
		return "Billing"
	case roleAdmin:
		return "Administration"
	}
	return string(r)
}

// home is the role's start page.
func (r role) home() string { return "/" + string(r) }

// parseRoles keeps the roles Sangam knows, in navigation order, and drops
// the rest: identity providers often put unrelated groups in the claim.
func parseRoles(claim []string) []role {
	var out []role
	for _, r := range allRoles() {
		if slices.Contains(claim, string(r)) {
			out = append(out, r)
		}
	}
	return out
}

func roleNames(rs []role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

func roleLabels(rs []role) string {
	labels := make([]string, len(rs))
	for i, r := range rs {
		labels[i] = r.label()
	}
	return strings.Join(labels, ", ")
}

// homeOf is where "/" sends a user.
func homeOf(rs []role) string {
	if len(rs) == 0 {
		return loginPath
	}
	return rs[0].home()
}

// sections are the pages of a role's daily work that the navigation
// lists after the role's home, so that they are one click from anywhere.
func (r role) sections() []views.NavLink {
	switch r {
	case roleDoctor:
		return []views.NavLink{{Label: "Patients", Href: patientsPath}, {Label: "Consent requests", Href: consentsPath}}
	}
	return nil
}

// navFor is the navigation of a user with roles rs on page current: per
// role they hold, its home and then its sections. A page two roles share
// is listed once, under the first.
func navFor(rs []role, current string) []views.NavLink {
	links := make([]views.NavLink, 0, len(rs))
	add := func(l views.NavLink) {
		if slices.ContainsFunc(links, func(have views.NavLink) bool { return have.Href == l.Href }) {
			return
		}
		l.Current = l.Href == current
		links = append(links, l)
	}
	for _, r := range rs {
		add(views.NavLink{Label: r.label(), Href: r.home()})
		for _, l := range r.sections() {
			add(l)
		}
	}
	return links
}

// navCurrent is what a page at href marks as current in the navigation
// of a user with roles rs: href when the navigation lists it, else
// fallback (e.g. the home of the role the page belongs to).
func navCurrent(rs []role, href, fallback string) string {
	for _, l := range navFor(rs, "") {
		if l.Href == href {
			return href
		}
	}
	return fallback
}

// access is the set of roles a route allows.
type access struct{ roles []role }

// allow makes the access rule for a route; a user needs one of roles.
func allow(roles ...role) access { return access{roles: roles} }

// anyStaff allows every signed-in user, whatever their role.
func anyStaff() access { return allow(allRoles()...) }

// permits reports whether a user with roles rs may use the route.
func (a access) permits(rs []role) bool {
	for _, r := range rs {
		if slices.Contains(a.roles, r) {
			return true
		}
	}
	return false
}

// refusal is the message of a 403 for a user with roles rs. It names
// roles as the "roles" claim spells them, since that is what an identity
// administrator has to change.
func (a access) refusal(rs []role) string {
	msg := "This page needs the " + joinOr(quoted(a.roles)) + " role."
	if len(rs) > 0 {
		msg += " You are signed in with the " + joinAnd(quoted(rs)) + " role."
	}
	return msg + " If you need access, ask your identity administrator to add the role to your account."
}

func quoted(rs []role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = "“" + string(r) + "”"
	}
	return out
}

func joinOr(s []string) string  { return joinWith(s, " or ") }
func joinAnd(s []string) string { return joinWith(s, " and ") }

func joinWith(s []string, last string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + last + s[len(s)-1]
}
