package cm

import (
	"slices"
	"strings"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/abha"
)

// Accounts is what the consent manager reads from the ABHA service: its
// accounts are the patients.
type Accounts interface {
	Accounts() []abha.Account
	Residents() []abha.Resident
}

// Patient is a person the consent manager knows by ABHA address: what the
// PHR app shares and what discovery and link tokens are checked against.
type Patient struct {
	ABHAAddress string `json:"abha_address"`
	// ABHANumber is 91-xxxx-xxxx-xxxx; empty for an address-only ABHA.
	ABHANumber   string `json:"abha_number,omitempty"`
	Name         string `json:"name"`
	Gender       string `json:"gender"` // M, F, O, ...
	DayOfBirth   int    `json:"day_of_birth,omitempty"`
	MonthOfBirth int    `json:"month_of_birth,omitempty"`
	YearOfBirth  int    `json:"year_of_birth"`
	// Mobile is ten digits, without +91.
	Mobile   string `json:"mobile,omitempty"`
	Address  string `json:"address,omitempty"`
	District string `json:"district,omitempty"`
	State    string `json:"state,omitempty"`
	Pincode  string `json:"pincode,omitempty"`
}

// abhaDigits is the ABHA number without dashes, as generate-token and the
// link token carry it.
func (p Patient) abhaDigits() string { return strings.ReplaceAll(p.ABHANumber, "-", "") }

func normAddress(a string) string { return strings.ToLower(strings.TrimSpace(a)) }

// Patients lists every known patient: the configured ones, then one per
// ABHA address of every ABHA account.
func (c *CM) Patients() []Patient {
	out := slices.Clone(c.cfg.Patients)
	seen := make(map[string]bool, len(out))
	for _, p := range out {
		seen[normAddress(p.ABHAAddress)] = true
	}
	if c.cfg.ABHA == nil {
		return out
	}
	residents := make(map[string]abha.Resident)
	for _, r := range c.cfg.ABHA.Residents() {
		residents[r.Aadhaar] = r
	}
	for _, a := range c.cfg.ABHA.Accounts() {
		r := residents[a.Aadhaar]
		for _, addr := range a.Addresses {
			if seen[normAddress(addr)] {
				continue
			}
			seen[normAddress(addr)] = true
			out = append(out, Patient{
				ABHAAddress: addr, ABHANumber: a.ABHANumber, Name: a.Name, Gender: r.Gender,
				DayOfBirth: r.BirthDay, MonthOfBirth: r.BirthMonth, YearOfBirth: r.BirthYear,
				Mobile: a.Mobile, Address: r.Address, District: r.District, State: r.State, Pincode: r.Pincode,
			})
		}
	}
	return out
}

// Patient finds a patient by ABHA address, ignoring case.
func (c *CM) Patient(abhaAddress string) (Patient, bool) {
	want := normAddress(abhaAddress)
	for _, p := range c.Patients() {
		if normAddress(p.ABHAAddress) == want {
			return p, true
		}
	}
	return Patient{}, false
}

// identifiers are what the PHR app knows verified about the patient: the
// mobile (+91) and the ABHA number.
func (p Patient) verifiedIdentifiers() []abdm.Identifier {
	var ids []abdm.Identifier
	if p.Mobile != "" {
		ids = append(ids, abdm.Identifier{Type: abdm.IdentifierMobile, Value: "+91" + p.Mobile})
	}
	if p.ABHANumber != "" {
		ids = append(ids, abdm.Identifier{Type: abdm.IdentifierABHANumber, Value: p.ABHANumber})
	}
	return ids
}

// sameName compares names the lenient way demographic matching must:
// case, dots and repeated spaces do not matter.
func sameName(a, b string) bool {
	norm := func(s string) string {
		return strings.Join(strings.Fields(strings.ReplaceAll(strings.ToLower(s), ".", " ")), " ")
	}
	return norm(a) == norm(b)
}
