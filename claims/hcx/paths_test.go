package hcx_test

import (
	"testing"

	"github.com/sangamhealth/sangam/claims/hcx"
)

func TestRouteOf(t *testing.T) {
	for _, tt := range []struct {
		path   string
		kind   hcx.Kind
		entity string
	}{
		{hcx.PathCoverageEligibilityCheck, hcx.KindRequest, "coverageeligibility"},
		{hcx.PathCoverageEligibilityOnCheck, hcx.KindCallback, "coverageeligibility"},
		{hcx.PathPreauthSubmit, hcx.KindRequest, "preauth"},
		{hcx.PathClaimOnSubmit, hcx.KindCallback, "claim"},
		{hcx.PathPaymentNoticeOnRequest, hcx.KindCallback, "payment"},
		{hcx.PathCommunicationOnRequest, hcx.KindCallback, "communication"},
		{hcx.PathInsurancePlanRequest, hcx.KindRequest, "insuranceplan"},
		{hcx.PathSearchSubmit, hcx.KindRequest, "task"},
		{hcx.PathTaskOnSubmit, hcx.KindCallback, "task"},
		{hcx.PathStatus, hcx.KindRequest, "status"},
		{hcx.PathOnStatus, hcx.KindCallback, "status"},
	} {
		r, err := hcx.RouteOf(tt.path)
		if err != nil || r.Kind != tt.kind || r.EntityType != tt.entity || r.Path != tt.path {
			t.Errorf("RouteOf(%s) = %+v, %v; want %v %s", tt.path, r, err, tt.kind, tt.entity)
		}
	}
	for _, bad := range []string{"", hcx.PathError, "/v1/preauth/check", "/v1/claim", "/v2/claim/submit", "/v1/unknown/submit", "v1/claim/submit"} {
		if r, err := hcx.RouteOf(bad); err == nil {
			t.Errorf("RouteOf(%q) = %+v, want an error", bad, r)
		}
	}
}
