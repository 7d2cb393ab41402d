package hcx

import (
	"fmt"
	"strings"
)

// The NHCX use-case paths (reference §3). Senders POST to
// {useCaseBase}<path>; NHCX forwards the same path to the recipient's
// registered endpoint_url.
const (
	PathCoverageEligibilityCheck   = "/v1/coverageeligibility/check"
	PathCoverageEligibilityOnCheck = "/v1/coverageeligibility/on_check"
	PathPreauthSubmit              = "/v1/preauth/submit"
	PathPreauthOnSubmit            = "/v1/preauth/on_submit"
	PathPredeterminationSubmit     = "/v1/predetermination/submit"
	PathPredeterminationOnSubmit   = "/v1/predetermination/on_submit"
	PathClaimSubmit                = "/v1/claim/submit"
	PathClaimOnSubmit              = "/v1/claim/on_submit"
	PathPaymentNoticeRequest       = "/v1/paymentnotice/request"
	PathPaymentNoticeOnRequest     = "/v1/paymentnotice/on_request"
	PathCommunicationRequest       = "/v1/communication/request"
	PathCommunicationOnRequest     = "/v1/communication/on_request"
	PathInsurancePlanRequest       = "/v1/insuranceplan/request"
	PathInsurancePlanOnRequest     = "/v1/insuranceplan/on_request"
	PathTaskSubmit                 = "/v1/task/submit"
	PathTaskOnSubmit               = "/v1/task/on_submit"
	PathSearchSubmit               = "/v1/search/submit"
	PathSearchOnSubmit             = "/v1/search/on_submit"
	PathStatus                     = "/v1/status"
	PathOnStatus                   = "/v1/on_status"
	// PathError receives NHCX's plain-JSON delivery failure reports; it
	// carries no JWE.
	PathError = "/v1/error"
)

// entityTypes maps each path's resource to the entity_type of its
// acknowledgement. Payment notices are acknowledged as "payment" and
// searches as "task"; communication is not in NHA's list and follows the
// path.
var entityTypes = map[string]string{
	"coverageeligibility": "coverageeligibility",
	"preauth":             "preauth",
	"predetermination":    "predetermination",
	"claim":               "claim",
	"paymentnotice":       "payment",
	"communication":       "communication",
	"insuranceplan":       "insuranceplan",
	"task":                "task",
	"search":              "task",
}

// Kind says which way a message travels; it decides the mandatory headers
// and the body form.
type Kind int

// The kinds of message.
const (
	// KindRequest starts a cycle: check, submit, request, status. Its body
	// is {"payload": ...} with no type.
	KindRequest Kind = iota + 1
	// KindCallback answers one: the on_* paths. Its body carries
	// "type":"JWEPayload".
	KindCallback
)

func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindCallback:
		return "callback"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Route describes one use-case path.
type Route struct {
	Path string
	Kind Kind
	// EntityType is the entity_type of the switch's acknowledgement.
	EntityType string
}

// RouteOf describes path, which must be one of the Path constants other
// than PathError.
func RouteOf(path string) (Route, error) {
	switch path {
	case PathStatus:
		return Route{Path: path, Kind: KindRequest, EntityType: "status"}, nil
	case PathOnStatus:
		return Route{Path: path, Kind: KindCallback, EntityType: "status"}, nil
	}
	resource, action, ok := strings.Cut(strings.TrimPrefix(path, "/v1/"), "/")
	entity, known := entityTypes[resource]
	if !ok || !known || !strings.HasPrefix(path, "/v1/") || !validAction(resource, action) {
		return Route{}, fmt.Errorf("%q is not an NHCX use-case path", path)
	}
	kind := KindRequest
	if strings.HasPrefix(action, "on_") {
		kind = KindCallback
	}
	return Route{Path: path, Kind: kind, EntityType: entity}, nil
}

func validAction(resource, action string) bool {
	switch resource {
	case "coverageeligibility":
		return action == "check" || action == "on_check"
	case "paymentnotice", "communication", "insuranceplan":
		return action == "request" || action == "on_request"
	default:
		return action == "submit" || action == "on_submit"
	}
}
