package abha

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/sangamhealth/sangam/abdm"
)

// Date is a date of birth; a zero part is unknown.
type Date struct {
	Year, Month, Day int
}

// String writes the date as dd-mm-yyyy, the way ABHA cards print it.
func (d Date) String() string {
	if d == (Date{}) {
		return ""
	}
	return fmt.Sprintf("%02d-%02d-%04d", d.Day, d.Month, d.Year)
}

// parseDate reads dd-MM-yyyy (the enrolment profile) or yyyy-MM-dd.
func parseDate(s string) Date {
	parts := strings.FieldsFunc(strings.TrimSpace(s), func(r rune) bool { return r == '-' || r == '/' })
	if len(parts) != 3 {
		return Date{}
	}
	n := make([]int, 3)
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return Date{}
		}
		n[i] = v
	}
	if len(parts[0]) == 4 {
		return Date{Year: n[0], Month: n[1], Day: n[2]}
	}
	return Date{Day: n[0], Month: n[1], Year: n[2]}
}

func dateOf(year, month, day abdm.FlexString) Date {
	atoi := func(s abdm.FlexString) int { v, _ := strconv.Atoi(strings.TrimSpace(string(s))); return v }
	return Date{Year: atoi(year), Month: atoi(month), Day: atoi(day)}
}

// Profile is an ABHA profile, whichever endpoint it came from. After
// Aadhaar KYC, name, date of birth and gender are not editable.
type Profile struct {
	ABHANumber string
	// Address is the preferred ABHA address; Addresses all known ones.
	Address    string
	Addresses  []string
	Name       string
	FirstName  string
	MiddleName string
	LastName   string
	Gender     string // M, F, O, ...
	BirthDate  Date
	Mobile     string
	Email      string
	// Postal address.
	PostalAddress string
	Town          string
	SubDistrict   string
	District      string
	DistrictCode  string
	State         string
	StateCode     string
	Pincode       string
	// Photo is base64 image data as the service sent it ("" when none).
	Photo       string
	Status      string // ACTIVE, ...
	KYCVerified bool
	ABHAType    string // STANDARD, CHILD, ...
}

func fullName(first, middle, last string) string {
	return strings.Join(strings.Fields(first+" "+middle+" "+last), " ")
}

// flexBool decodes true, "true" or "VERIFIED".
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("decoding flag: %w", err)
	}
	switch v := v.(type) {
	case bool:
		*b = flexBool(v)
	case string:
		*b = flexBool(strings.EqualFold(v, "true") || strings.EqualFold(v, "verified"))
	default:
		*b = false
	}
	return nil
}

// enrolledABHA is the ABHAProfile of the enrolment answer.
type enrolledABHA struct {
	ABHANumber   string          `json:"ABHANumber"`
	PHRAddress   []string        `json:"phrAddress"`
	FirstName    string          `json:"firstName"`
	MiddleName   string          `json:"middleName"`
	LastName     string          `json:"lastName"`
	DOB          string          `json:"dob"`
	Gender       string          `json:"gender"`
	Mobile       string          `json:"mobile"`
	Email        string          `json:"email"`
	Photo        string          `json:"photo"`
	Address      string          `json:"address"`
	DistrictCode abdm.FlexString `json:"districtCode"`
	DistrictName string          `json:"districtName"`
	StateCode    abdm.FlexString `json:"stateCode"`
	StateName    string          `json:"stateName"`
	PinCode      abdm.FlexString `json:"pinCode"`
	Pincode      abdm.FlexString `json:"pincode"` // the other spelling, seen elsewhere
	ABHAType     string          `json:"abhaType"`
	ABHAStatus   string          `json:"abhaStatus"`
}

func (e enrolledABHA) profile() Profile {
	p := Profile{
		ABHANumber: e.ABHANumber, Addresses: e.PHRAddress,
		Name: fullName(e.FirstName, e.MiddleName, e.LastName), FirstName: e.FirstName, MiddleName: e.MiddleName,
		LastName: e.LastName, Gender: e.Gender, BirthDate: parseDate(e.DOB), Mobile: e.Mobile, Email: e.Email,
		PostalAddress: e.Address, District: e.DistrictName, DistrictCode: string(e.DistrictCode),
		State: e.StateName, StateCode: string(e.StateCode), Pincode: string(e.PinCode), Photo: e.Photo,
		Status: e.ABHAStatus, KYCVerified: true, ABHAType: e.ABHAType,
	}
	if p.Pincode == "" {
		p.Pincode = string(e.Pincode)
	}
	if len(e.PHRAddress) > 0 {
		p.Address = e.PHRAddress[0]
	}
	return p
}

// accountBody is GET /v3/profile/account.
type accountBody struct {
	ABHANumber           string          `json:"ABHANumber"`
	PreferredABHAAddress string          `json:"preferredAbhaAddress"`
	PHRAddress           []string        `json:"phrAddress"`
	Mobile               string          `json:"mobile"`
	Email                string          `json:"email"`
	FirstName            string          `json:"firstName"`
	MiddleName           string          `json:"middleName"`
	LastName             string          `json:"lastName"`
	Name                 string          `json:"name"`
	YearOfBirth          abdm.FlexString `json:"yearOfBirth"`
	MonthOfBirth         abdm.FlexString `json:"monthOfBirth"`
	DayOfBirth           abdm.FlexString `json:"dayOfBirth"`
	Gender               string          `json:"gender"`
	ProfilePhoto         string          `json:"profilePhoto"`
	Status               string          `json:"status"`
	StateCode            abdm.FlexString `json:"stateCode"`
	DistrictCode         abdm.FlexString `json:"districtCode"`
	Pincode              abdm.FlexString `json:"pincode"`
	Address              string          `json:"address"`
	StateName            string          `json:"stateName"`
	DistrictName         string          `json:"districtName"`
	SubdistrictName      string          `json:"subdistrictName"`
	TownName             string          `json:"townName"`
	KYCVerified          flexBool        `json:"kycVerified"`
	ABHAType             string          `json:"abhaType"`
}

func (a accountBody) profile() Profile {
	p := Profile{
		ABHANumber: a.ABHANumber, Address: a.PreferredABHAAddress, Addresses: a.PHRAddress, Name: a.Name,
		FirstName: a.FirstName, MiddleName: a.MiddleName, LastName: a.LastName, Gender: a.Gender,
		BirthDate: dateOf(a.YearOfBirth, a.MonthOfBirth, a.DayOfBirth), Mobile: a.Mobile, Email: a.Email,
		PostalAddress: a.Address, Town: a.TownName, SubDistrict: a.SubdistrictName, District: a.DistrictName,
		DistrictCode: string(a.DistrictCode), State: a.StateName, StateCode: string(a.StateCode),
		Pincode: string(a.Pincode), Photo: a.ProfilePhoto, Status: a.Status, KYCVerified: bool(a.KYCVerified),
		ABHAType: a.ABHAType,
	}
	if p.Name == "" {
		p.Name = fullName(a.FirstName, a.MiddleName, a.LastName)
	}
	if len(p.Addresses) == 0 && p.Address != "" {
		p.Addresses = []string{p.Address}
	}
	return p
}

// addressProfileBody is GET /v3/phr/web/login/profile/abha-profile. The
// reference does not record this body; the names follow the PHR search
// and verify answers and are read leniently.
type addressProfileBody struct {
	ABHAAddress  string          `json:"abhaAddress"`
	FullName     string          `json:"fullName"`
	FirstName    string          `json:"firstName"`
	MiddleName   string          `json:"middleName"`
	LastName     string          `json:"lastName"`
	DayOfBirth   abdm.FlexString `json:"dayOfBirth"`
	MonthOfBirth abdm.FlexString `json:"monthOfBirth"`
	YearOfBirth  abdm.FlexString `json:"yearOfBirth"`
	Gender       string          `json:"gender"`
	Mobile       string          `json:"mobile"`
	Email        string          `json:"email"`
	Address      string          `json:"address"`
	StateName    string          `json:"stateName"`
	StateCode    abdm.FlexString `json:"stateCode"`
	DistrictName string          `json:"districtName"`
	DistrictCode abdm.FlexString `json:"districtCode"`
	PinCode      abdm.FlexString `json:"pinCode"`
	ABHANumber   string          `json:"abhaNumber"`
	Status       string          `json:"status"`
	KYCStatus    string          `json:"kycStatus"`
	ProfilePhoto string          `json:"profilePhoto"`
}

func (a addressProfileBody) profile() Profile {
	p := Profile{
		ABHANumber: a.ABHANumber, Address: a.ABHAAddress, Name: a.FullName, FirstName: a.FirstName,
		MiddleName: a.MiddleName, LastName: a.LastName, Gender: a.Gender,
		BirthDate: dateOf(a.YearOfBirth, a.MonthOfBirth, a.DayOfBirth), Mobile: a.Mobile, Email: a.Email,
		PostalAddress: a.Address, District: a.DistrictName, DistrictCode: string(a.DistrictCode),
		State: a.StateName, StateCode: string(a.StateCode), Pincode: string(a.PinCode), Photo: a.ProfilePhoto,
		Status: a.Status, KYCVerified: strings.EqualFold(a.KYCStatus, "verified"),
	}
	if p.Name == "" {
		p.Name = fullName(a.FirstName, a.MiddleName, a.LastName)
	}
	if p.Address != "" {
		p.Addresses = []string{p.Address}
	}
	return p
}

var (
	stepProfile = step{name: "fetch ABHA profile"}
	stepCard    = step{name: "download ABHA card"}
	stepRefresh = step{name: "refresh ABHA token"}
)

// usable refuses tokens that cannot open a profile, without a call.
func (c *Client) usable(st step, tok UserToken) error {
	if tok.Kind == TokenTransfer {
		return fmt.Errorf("abha %s: a transfer token opens no profile; call SelectAccount first", st.name)
	}
	if tok.Kind != TokenProfile && tok.Kind != TokenPHR {
		return fmt.Errorf("abha %s: unknown token kind %q", st.name, tok.Kind)
	}
	if tok.Expired(c.now()) {
		return newError(st, ErrTokenExpired)
	}
	return nil
}

// Profile fetches the patient's ABHA profile with an X-token from an
// enrolment or a login.
func (c *Client) Profile(ctx context.Context, tenant string, tok UserToken) (*Profile, error) {
	if err := c.usable(stepProfile, tok); err != nil {
		return nil, err
	}
	req := abdm.Request{Method: http.MethodGet, Header: header("X-token", bearer(tok.Value))}
	if tok.Kind == TokenPHR {
		req.Path = PathAddressProfile
		var out addressProfileBody
		if _, err := c.call(ctx, tenant, stepProfile, req, &out); err != nil {
			return nil, err
		}
		p := out.profile()
		return &p, nil
	}
	req.Path = PathProfile
	var out accountBody
	if _, err := c.call(ctx, tenant, stepProfile, req, &out); err != nil {
		return nil, err
	}
	p := out.profile()
	return &p, nil
}

// Card is an ABHA card file as the service produced it.
type Card struct {
	Data        []byte
	ContentType string // image/png, application/pdf, ...
}

// Card downloads the patient's ABHA card (CRT_ABHA_114): the ABHA number
// card for profile tokens, the ABHA-address card for tokens from an
// address login. The format is the service's choice.
func (c *Client) Card(ctx context.Context, tenant string, tok UserToken) (*Card, error) {
	if err := c.usable(stepCard, tok); err != nil {
		return nil, err
	}
	path := PathCard
	if tok.Kind == TokenPHR {
		path = PathAddressCard
	}
	resp, err := c.call(ctx, tenant, stepCard, abdm.Request{
		Method: http.MethodGet, Path: path,
		Header: header("X-token", bearer(tok.Value), "Accept", "image/png, image/jpeg, application/pdf, */*"),
	}, nil)
	if err != nil {
		return nil, err
	}
	if len(resp.Body) == 0 {
		return nil, newError(stepCard, ErrUnexpectedAnswer)
	}
	ct, _, perr := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if perr != nil || ct == "" || ct == "application/octet-stream" {
		ct, _, _ = mime.ParseMediaType(http.DetectContentType(resp.Body))
	}
	return &Card{Data: resp.Body, ContentType: ct}, nil
}

// Refresh gets a new X-token with the token's refresh token (R-token), so
// the patient's 30-minute session can continue without a new OTP (portal
// check: "user token refreshed after 30 min without an error"). Only
// profile tokens can be refreshed: the reference documents no refresh call
// for ABHA-address (PHR) logins, whose patients log in again.
func (c *Client) Refresh(ctx context.Context, tenant string, tok UserToken) (UserToken, error) {
	if tok.Kind != TokenProfile {
		e := newError(stepRefresh, ErrNotAvailable)
		e.Explanation = "This ABHA login cannot be extended."
		e.Advice = "Verify the patient again with an OTP."
		return UserToken{}, e
	}
	if tok.RefreshValue == "" || !c.now().Before(tok.RefreshExpiresAt) {
		return UserToken{}, newError(stepRefresh, ErrTokenExpired)
	}
	var out tokensBody
	_, err := c.call(ctx, tenant, stepRefresh, abdm.Request{
		Method: http.MethodGet, Path: PathRefreshToken, Header: header("R-token", bearer(tok.RefreshValue)),
	}, &out)
	if err != nil {
		return UserToken{}, err
	}
	nt := out.userToken(tok.Kind, c.now())
	nt.ABHANumber, nt.Address = tok.ABHANumber, tok.Address
	if nt.RefreshValue == "" { // the old refresh token stays valid
		nt.RefreshValue, nt.RefreshExpiresAt = tok.RefreshValue, tok.RefreshExpiresAt
	}
	return nt, nil
}
