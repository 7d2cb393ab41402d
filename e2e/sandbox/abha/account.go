package abha

import (
	"fmt"
	"net/http"
	"strconv"
)

// accountFor resolves the X-token of a profile call to its account.
func (s *Service) accountFor(c *call, kind tokenKind) (*Account, *reply) {
	t, rep := s.userTokenFrom(c, "X-token", "X-token", kind)
	if rep != nil {
		return nil, rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[t.number]
	if a == nil {
		return nil, &errXTokenInvalid
	}
	return a, nil
}

func authMethods(a *Account) []string {
	if a.Mobile == "" {
		return []string{"AADHAAR_OTP", "DEMOGRAPHICS"}
	}
	return []string{"AADHAAR_OTP", "MOBILE_OTP", "DEMOGRAPHICS"}
}

// showProfile answers GET /v3/profile/account.
func (s *Service) showProfile(c *call) reply {
	a, rep := s.accountFor(c, tokenProfile)
	if rep != nil {
		return *rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := a.resident
	return ok(map[string]any{
		"ABHANumber": a.ABHANumber, "preferredAbhaAddress": a.Preferred, "mobile": a.Mobile,
		"firstName": r.FirstName, "middleName": r.MiddleName, "lastName": r.LastName, "name": r.Name(),
		"yearOfBirth": strconv.Itoa(r.BirthYear), "monthOfBirth": fmt.Sprintf("%02d", r.BirthMonth),
		"dayOfBirth": fmt.Sprintf("%02d", r.BirthDay), "gender": r.Gender, "profilePhoto": "",
		"status": a.Status, "stateCode": r.StateCode, "districtCode": r.DistrictCode, "pincode": r.Pincode,
		"address": r.Address, "kycPhoto": "", "stateName": r.State, "districtName": r.District,
		"subdistrictName": r.SubDistrict, "townName": r.Town, "authMethods": authMethods(a),
		"tags": map[string]string{}, "kycVerified": true, "localizedDetails": map[string]string{},
		"createdDate": a.CreatedAt.Format("02-01-2006"),
	})
}

// showCard answers GET /v3/profile/account/abha-card. care_abdm expects
// 202 here, so that is what the sandbox answers.
func (s *Service) showCard(c *call) reply {
	a, rep := s.accountFor(c, tokenProfile)
	if rep != nil {
		return *rep
	}
	s.mu.Lock()
	card := cardData(a, a.Preferred)
	s.mu.Unlock()
	if s.cfg.CardFormat == CardPDF {
		return reply{status: http.StatusAccepted, raw: card.pdf(), contentType: "application/pdf"}
	}
	png, err := card.png()
	if err != nil {
		s.log.Error("abha sandbox card not drawn", "error", err)
		return errInternal
	}
	return reply{status: http.StatusAccepted, raw: png, contentType: "image/png"}
}

// refreshToken answers GET /v3/profile/account/request/token (R-token).
func (s *Service) refreshToken(c *call) reply {
	t, rep := s.userTokenFrom(c, "R-token", "R-token", tokenRefresh)
	if rep != nil {
		return *rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kind := tokenProfile
	if t.address != "" {
		kind = tokenPHR
	}
	p := s.issuePairLocked(c, kind, t.number, t.address)
	return reply{status: http.StatusOK, body: p}
}

// addressAccount resolves the X-token of an ABHA-address login.
func (s *Service) addressAccount(c *call) (*Account, string, *reply) {
	t, rep := s.userTokenFrom(c, "X-token", "X-token", tokenPHR)
	if rep != nil {
		return nil, "", rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.addresses[t.address]
	if a == nil {
		return nil, "", &errXTokenInvalid
	}
	return a, t.address, nil
}

// showAddressProfile answers GET /v3/phr/web/login/profile/abha-profile.
// The field names are inferred: the reference does not record this body.
func (s *Service) showAddressProfile(c *call) reply {
	a, addr, rep := s.addressAccount(c)
	if rep != nil {
		return *rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := a.resident
	return ok(map[string]any{
		"abhaAddress": addr, "fullName": r.Name(), "firstName": r.FirstName, "middleName": r.MiddleName,
		"lastName": r.LastName, "dayOfBirth": strconv.Itoa(r.BirthDay), "monthOfBirth": strconv.Itoa(r.BirthMonth),
		"yearOfBirth": strconv.Itoa(r.BirthYear), "gender": r.Gender, "mobile": a.Mobile, "email": "",
		"address": r.Address, "stateName": r.State, "stateCode": r.StateCode, "districtName": r.District,
		"districtCode": r.DistrictCode, "pinCode": r.Pincode, "abhaNumber": a.ABHANumber,
		"status": a.Status, "kycStatus": "VERIFIED", "profilePhoto": "",
	})
}

// showAddressCard answers GET /v3/phr/web/login/profile/abha/phr-card with
// a PDF.
func (s *Service) showAddressCard(c *call) reply {
	a, addr, rep := s.addressAccount(c)
	if rep != nil {
		return *rep
	}
	s.mu.Lock()
	card := cardData(a, addr)
	s.mu.Unlock()
	return reply{status: http.StatusOK, raw: card.pdf(), contentType: "application/pdf"}
}
