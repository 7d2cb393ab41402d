package views

import (
	"encoding/json"

	"github.com/sangamhealth/sangam/static"
)

// Page is what the layout shows around every page.
type Page struct {
	// Title goes into <title>, after which " · Sangam" is added.
	Title string
	// Staff is the signed-in user's bar; nil on pages shown before sign-in.
	Staff *StaffBar
}

// StaffBar is the header of a signed-in user: who they are, where they can
// go and the token that state-changing requests must carry.
type StaffBar struct {
	Name string
	// Roles is a readable list, e.g. "Doctor" or "Front desk, Billing".
	Roles      string
	TenantName string
	CSRFToken  string
	Nav        []NavLink
}

// NavLink is one entry of the navigation.
type NavLink struct {
	Label   string
	Href    string
	Current bool
}

// CSRFField is the name of the hidden form field that carries the CSRF
// token; htmx requests send it in the X-CSRF-Token header instead.
const CSRFField = "csrf_token"

// csrfHeaders is the hx-headers value that makes every htmx request carry
// the token.
func csrfHeaders(token string) string {
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": token}) // cannot fail for a string map
	return string(b)
}

// assetURL is the cache-busting URL of an embedded static file.
func assetURL(name string) string { return static.URL(name) }
