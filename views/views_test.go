package views

import (
	"context"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

func renderString(t *testing.T, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatalf("render: %v", err)
	}
	return b.String()
}

func TestLayout(t *testing.T) {
	staff := &StaffBar{Name: "Asha <b>", Roles: "Front desk", TenantName: "Kaveri", CSRFToken: "tok\"en",
		Nav: []NavLink{{Label: "Front desk", Href: "/front-desk", Current: true}, {Label: "Doctor", Href: "/doctor"}}}
	got := renderString(t, FrontDeskPage(Page{Title: "Front desk", Staff: staff}, FrontDeskHome{}))
	for _, want := range []string{
		`<a class="skip-link" href="#main">`,
		`<header class="site-header">`,
		`<nav aria-label="Main">`,
		`<a href="/front-desk" aria-current="page">Front desk</a>`,
		`<a href="/doctor">Doctor</a>`,
		`<main id="main" tabindex="-1">`,
		`<title>Front desk · Sangam</title>`,
		`Asha &lt;b&gt;`,
		`<input type="hidden" name="csrf_token" value="tok&#34;en">`,
		`hx-headers="{&#34;X-CSRF-Token&#34;:&#34;tok\&#34;en&#34;}"`,
		`href="/static/sangam.css?v=`,
		`src="/static/htmx.min.js?v=`,
		"is not assigned to any facility",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(got, "<b>") {
		t.Error("the staff name is not escaped")
	}

	signedOut := renderString(t, LoginPage(Page{Title: "Sign in"}, Login{Next: "/admin", Error: "refused"}))
	for _, unwanted := range []string{"<nav", "hx-headers", "csrf_token", "Sign out"} {
		if strings.Contains(signedOut, unwanted) {
			t.Errorf("the sign-in page has %s", unwanted)
		}
	}
	for _, want := range []string{`<main id="main"`, `role="alert" id="login-error">refused</p>`, `<input type="hidden" name="next" value="/admin">`} {
		if !strings.Contains(signedOut, want) {
			t.Errorf("sign-in page lacks %s", want)
		}
	}
}

func TestComingLaterIsNotAButton(t *testing.T) {
	pages := map[string]string{
		"admin": renderString(t, AdminPage(Page{Title: "Administration"}, AdminHome{})),
	}
	for name, html := range pages {
		if !strings.Contains(html, "Coming in a later release") {
			t.Errorf("%s page does not say what is not built yet", name)
		}
		// Without a signed-in user there is no sign-out form, so any button
		// here would be a feature pretending to work.
		if strings.Contains(html, "<button") || strings.Contains(html, "hx-post") {
			t.Errorf("%s page has a button for an unbuilt feature", name)
		}
	}
}
