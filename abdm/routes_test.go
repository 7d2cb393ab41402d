package abdm_test

import (
	"strings"
	"testing"

	"github.com/sangamhealth/sangam/abdm"
)

func TestCallbackRoutes(t *testing.T) {
	gateway := map[string]abdm.GatewayRoute{}
	for _, r := range abdm.GatewayRoutes() {
		if _, dup := gateway[r.Path]; dup {
			t.Errorf("gateway path %s listed twice", r.Path)
		}
		gateway[r.Path] = r
		if r.Requires != "" && r.Requires != r.Role.Header() {
			t.Errorf("%s requires %s but is an %s call", r.Path, r.Requires, r.Role)
		}
	}

	routes := abdm.CallbackRoutes()
	if len(routes) != 15 {
		t.Errorf("%d callback routes, want the 15 of reference §1.7", len(routes))
	}
	paths, names := map[string]bool{}, map[string]bool{}
	for _, r := range routes {
		if paths[r.Path] || names[r.Name] {
			t.Errorf("duplicate route %s / %s", r.Name, r.Path)
		}
		paths[r.Path], names[r.Name] = true, true
		if !strings.HasPrefix(r.Path, "/api/v3/") {
			t.Errorf("%s: callback paths start with /api/v3/", r.Path)
		}
		wantHeader := map[abdm.Role]string{abdm.RoleHIP: "X-HIP-ID", abdm.RoleHIU: "X-HIU-ID"}[r.Role]
		if wantHeader == "" || r.Role.Header() != wantHeader {
			t.Errorf("%s: role %q addresses by %q", r.Path, r.Role, r.Role.Header())
		}
		if strings.Contains(r.Path, "/hiu/") != (r.Role == abdm.RoleHIU) {
			t.Errorf("%s: role %s does not match the path", r.Path, r.Role)
		}
		if r.AckStatus != 200 && r.AckStatus != 202 {
			t.Errorf("%s: ack status %d", r.Path, r.AckStatus)
		}
		if (r.AnsweredBy == "") == (r.ResultOf == "") {
			t.Errorf("%s: must be either an event (AnsweredBy) or a result (ResultOf)", r.Path)
		}
		if r.AnsweredBy != "" {
			if _, ok := gateway[r.AnsweredBy]; !ok {
				t.Errorf("%s: answered by unknown gateway path %s", r.Path, r.AnsweredBy)
			}
		}
		if r.ResultOf != "" {
			if g, ok := gateway[r.ResultOf]; !ok || g.Callback != r.Path {
				t.Errorf("%s: result of %s, whose callback is %q", r.Path, r.ResultOf, g.Callback)
			}
		}
		if r.NewBody == nil || r.NewBody() == nil {
			t.Errorf("%s: no body type", r.Path)
		}
	}
	for _, p := range []string{abdm.CallbackOnCareContext, abdm.CallbackPatientShare, abdm.CallbackDiscover, abdm.CallbackHIUConsentNotify} {
		if !paths[p] {
			t.Errorf("%s missing from CallbackRoutes", p)
		}
	}
	if abdm.CallbackOnCareContext != "/api/v3/link/on_carecontext" {
		t.Errorf("on_carecontext keeps its underscore")
	}

	// Callers get their own copy.
	routes[0].Path = "/changed"
	if abdm.CallbackRoutes()[0].Path == "/changed" {
		t.Error("CallbackRoutes shares state between callers")
	}
}

func TestPurposeOf(t *testing.T) {
	p, ok := abdm.PurposeOf(abdm.PurposeSelfRequested)
	if !ok || p.Text != "Self Requested" || p.RefURI == "" {
		t.Errorf("PurposeOf(PATRQT) = %+v, %v", p, ok)
	}
	if _, ok := abdm.PurposeOf("NOPE"); ok {
		t.Error("unknown purpose accepted")
	}
}
