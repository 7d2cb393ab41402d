package server

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/sangamhealth/sangam/views"
)

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/doctor", "/doctor"},
		{"/admin?tab=1#x", "/admin?tab=1#x"},
		{"", ""},
		{"doctor", ""},
		{"//evil.example/x", ""},
		{"/\\evil.example", ""},
		{"https://evil.example/", ""},
		{"/" + strings.Repeat("a", 1100), ""},
	}
	for _, tc := range tests {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSessionValue(t *testing.T) {
	tenant := "3f1d5a9e-1c2b-4e8f-9a7d-6b5c4d3e2f1a"
	v := newSessionValue(tenant)
	gotTenant, hash, ok := parseSessionValue(v)
	if !ok || gotTenant != tenant || len(hash) != 32 {
		t.Fatalf("parseSessionValue(newSessionValue): %q, %d bytes, %t", gotTenant, len(hash), ok)
	}
	if v == newSessionValue(tenant) {
		t.Error("two session values are equal")
	}
	_, secret, _ := strings.Cut(v, ".")
	for _, bad := range []string{tenant, tenant + "." + secret[:10], "x." + secret, tenant + "." + secret + "=", tenant + ".." + secret} {
		if _, _, ok := parseSessionValue(bad); ok {
			t.Errorf("parseSessionValue(%q) accepted", bad)
		}
	}
}

func TestStringOrSet(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{`{"roles":["doctor","admin"]}`, []string{"doctor", "admin"}, false},
		{`{"roles":"doctor"}`, []string{"doctor"}, false},
		{`{"roles":""}`, nil, false},
		{`{"roles":null}`, nil, false},
		{`{}`, nil, false},
		{`{"roles":[1]}`, nil, true},
	}
	for _, tc := range tests {
		var c staffClaims
		err := json.Unmarshal([]byte(tc.in), &c)
		if (err != nil) != tc.err {
			t.Errorf("%s: error %v, want error %t", tc.in, err, tc.err)
			continue
		}
		if !tc.err && !slices.Equal(c.Roles, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.in, c.Roles, tc.want)
		}
	}
}

func TestRoles(t *testing.T) {
	if got, want := parseRoles([]string{"admin", "staff", "doctor", "Doctor"}), []role{roleDoctor, roleAdmin}; !slices.Equal(got, want) {
		t.Errorf("parseRoles: got %q, want %q", got, want)
	}
	if got := homeOf([]role{roleBilling, roleAdmin}); got != "/billing" {
		t.Errorf("homeOf: got %q", got)
	}
	if got := homeOf(nil); got != "/login" {
		t.Errorf("homeOf(nil): got %q", got)
	}
	a := allow(roleDoctor, roleAdmin)
	if !a.permits([]role{roleBilling, roleAdmin}) || a.permits([]role{roleFrontDesk, roleBilling}) || a.permits(nil) {
		t.Error("permits is wrong")
	}
	got := a.refusal([]role{roleFrontDesk})
	want := "This page needs the “doctor” or “admin” role. You are signed in with the “front-desk” role. If you need access, ask your identity administrator to add the role to your account."
	if got != want {
		t.Errorf("refusal:\n got %q\nwant %q", got, want)
	}
}

func TestPageModel(t *testing.T) {
	st := &staff{Username: "vdoctor", TenantName: "Kaveri", CSRFToken: "tok", Roles: []role{roleDoctor, roleAdmin}}
	got := pageModel(st, "Doctor", "/doctor")
	want := views.Page{Title: "Doctor", Staff: &views.StaffBar{
		Name: "vdoctor", Roles: "Doctor, Administration", TenantName: "Kaveri", CSRFToken: "tok",
		Nav: []views.NavLink{{Label: "Doctor", Href: "/doctor", Current: true}, {Label: "Patients", Href: "/patients"},
			{Label: "Consent requests", Href: "/doctor/consents"}, {Label: "Administration", Href: "/admin"}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pageModel (-want +got):\n%s", diff)
	}
	if p := pageModel(nil, "Sign in", ""); p.Staff != nil {
		t.Error("pageModel without staff has a staff bar")
	}
}

func TestHomeModels(t *testing.T) {
	fs := []facility{
		{Name: "City", HFRID: "H1", HIPID: "HIP-1", Address: "1 Road", Counters: []counter{{"c-1", "OPD-1", "OPD"}}, Sources: []sourceSystem{{"his", "HIS One", "HIS", "v1"}}},
		{Name: "Clinic", HFRID: "H2", HIPID: "HIP-2"},
	}
	wantDesk := views.FrontDeskHome{Facilities: []views.CounterGroup{
		{Facility: views.FacilityRef{Name: "City", HFRID: "H1"}, Counters: []views.Counter{{Code: "OPD-1", Name: "OPD", QueueURL: "/frontdesk/queue?counter=c-1", QRURL: counterQRURL("c-1")}}},
		{Facility: views.FacilityRef{Name: "Clinic", HFRID: "H2"}, Counters: []views.Counter{}},
	}}
	if diff := cmp.Diff(wantDesk, frontDeskModel(fs)); diff != "" {
		t.Errorf("frontDeskModel (-want +got):\n%s", diff)
	}
	wantAdmin := views.AdminHome{Facilities: []views.AdminFacility{
		{Name: "City", HFRID: "H1", HIPID: "HIP-1", Address: "1 Road", Counters: []views.Counter{{Code: "OPD-1", Name: "OPD", QueueURL: "/frontdesk/queue?counter=c-1", QRURL: counterQRURL("c-1")}},
			Sources: []views.SourceSystem{{Code: "his", Name: "HIS One", Kind: "HIS", Vendor: "v1"}}},
		{Name: "Clinic", HFRID: "H2", HIPID: "HIP-2", Counters: []views.Counter{}},
	}}
	if diff := cmp.Diff(wantAdmin, adminModel(fs)); diff != "" {
		t.Errorf("adminModel (-want +got):\n%s", diff)
	}
}

func TestPendingLoginCookie(t *testing.T) {
	s, err := newSealer(nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	p := newPendingLogin("/admin", now)
	sealed, err := s.seal(loginCookie, p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, p.Verifier) || strings.Contains(sealed, p.State) {
		t.Fatal("the sealed cookie shows its contents")
	}
	got, err := s.openPendingLogin(sealed, p.State, now.Add(time.Minute))
	if err != nil || got.Verifier != p.Verifier || got.Nonce != p.Nonce || got.Next != "/admin" {
		t.Fatalf("openPendingLogin: %+v, %v", got, err)
	}

	other, _ := newSealer(nil)
	otherSealed, _ := other.seal(loginCookie, p)
	wrongPurpose, _ := s.seal("something-else", p)
	tampered := []byte(sealed)
	tampered[len(tampered)/2] ^= 1
	refused := []struct {
		name, cookie, state string
		at                  time.Time
	}{
		{"wrong state", sealed, p.State + "x", now},
		{"no state", sealed, "", now},
		{"no cookie", "", p.State, now},
		{"expired", sealed, p.State, now.Add(loginTTL)},
		{"tampered", string(tampered), p.State, now},
		{"another key", otherSealed, p.State, now},
		{"another purpose", wrongPurpose, p.State, now},
	}
	for _, tc := range refused {
		if _, err := s.openPendingLogin(tc.cookie, tc.state, tc.at); !errors.Is(err, errBadLoginState) {
			t.Errorf("%s: got %v, want errBadLoginState", tc.name, err)
		}
	}
	if _, err := newSealer(make([]byte, 16)); err != nil {
		t.Errorf("a 16-byte key is valid AES: %v", err) // Config.validate demands 32
	}
}

func TestProblemFor(t *testing.T) {
	tests := []struct {
		err         error
		status      int
		wantMessage string
	}{
		{forbidden("needs admin"), 403, "needs admin"},
		{fiber.ErrNotFound, 404, "There is no page at this address"},
		{fiber.NewError(400, "bad date"), 400, "bad date"},
		{errors.New("pq: password=secret"), 500, internalMessage},
		{&problem{status: 502, title: "x", err: errors.New("upstream said secret")}, 502, internalMessage},
	}
	for _, tc := range tests {
		p := problemFor(tc.err)
		if p.status != tc.status || !strings.HasPrefix(p.message, tc.wantMessage) {
			t.Errorf("problemFor(%v): %d %q, want %d %q", tc.err, p.status, p.message, tc.status, tc.wantMessage)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	var c Config
	err := c.validate()
	for _, want := range []string{"Pool, Logger and Metrics", "PublicURL", "OIDC.Issuer", "OIDC.ClientID", "SessionIdle"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate of an empty Config does not mention %s: %v", want, err)
		}
	}
	c = Config{PublicURL: "https://sangam.example.org/app", SessionIdle: time.Hour, SessionMax: time.Minute, LoginKey: []byte("short")}
	err = c.validate()
	for _, want := range []string{"without a path", "no longer than SessionMax", "LoginKey must be 32 bytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate does not mention %q: %v", want, err)
		}
	}
}

func TestSecureCookies(t *testing.T) {
	app := fiber.New()
	app.Get("/", func(c *fiber.Ctx) error {
		cookiePolicy{secure: true}.set(c, sessionCookie, "v", time.Hour)
		return nil
	})
	resp, err := app.Test(httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ToLower(resp.Header.Get("Set-Cookie"))
	for _, want := range []string{"__host-sangam_session=v", "path=/", "secure", "httponly", "samesite=lax", "max-age=3600"} {
		if !strings.Contains(got, want) {
			t.Errorf("Set-Cookie %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "domain=") {
		t.Errorf("Set-Cookie %q has a Domain, which __Host- forbids", got)
	}
	if got := (cookiePolicy{}).name(sessionCookie); got != "sangam_session" {
		t.Errorf("http cookie name %q", got)
	}
}
