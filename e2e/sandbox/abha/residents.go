package abha

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Resident is a demo Aadhaar holder: what UIDAI returns after a successful
// Aadhaar OTP. All of them are fictional (see the package documentation).
type Resident struct {
	Aadhaar      string `json:"aadhaar"`
	FirstName    string `json:"first_name"`
	MiddleName   string `json:"middle_name,omitempty"`
	LastName     string `json:"last_name"`
	Gender       string `json:"gender"` // M, F or O
	BirthDay     int    `json:"birth_day"`
	BirthMonth   int    `json:"birth_month"`
	BirthYear    int    `json:"birth_year"`
	Mobile       string `json:"mobile"` // the Aadhaar-linked mobile
	Address      string `json:"address"`
	Town         string `json:"town"`
	SubDistrict  string `json:"sub_district"`
	District     string `json:"district"`
	DistrictCode string `json:"district_code"`
	State        string `json:"state"`
	StateCode    string `json:"state_code"`
	Pincode      string `json:"pincode"`
	// Exercises says which flows the identity is meant for.
	Exercises string `json:"exercises"`
}

// Name is the full name as the ABHA service prints it.
func (r Resident) Name() string {
	return strings.Join(slices.DeleteFunc([]string{r.FirstName, r.MiddleName, r.LastName},
		func(s string) bool { return s == "" }), " ")
}

// dob is the dd-MM-yyyy form of the enrolment profile.
func (r Resident) dob() string {
	return fmt.Sprintf("%02d-%02d-%04d", r.BirthDay, r.BirthMonth, r.BirthYear)
}

// demoResidents are the Aadhaar identities the sandbox knows. The numbers
// start with 9999 (UIDAI's test range) and pass the Verhoeff check.
func demoResidents() []Resident {
	return []Resident{
		{
			Aadhaar: "999900000016", FirstName: "Asha", LastName: "Verma", Gender: "F",
			BirthDay: 14, BirthMonth: 2, BirthYear: 1992, Mobile: "9000000001",
			Address: "12 Lake View Road", Town: "Bhopal", SubDistrict: "Huzur", District: "Bhopal", DistrictCode: "434",
			State: "Madhya Pradesh", StateCode: "23", Pincode: "462001",
			Exercises: "enrolment with the Aadhaar-linked mobile (no mobile OTP step)",
		},
		{
			Aadhaar: "999900000028", FirstName: "Ravi", LastName: "Kumar", Gender: "M",
			BirthDay: 3, BirthMonth: 9, BirthYear: 1985, Mobile: "9000000002",
			Address: "44 Temple Street", Town: "Madurai", SubDistrict: "Madurai South", District: "Madurai", DistrictCode: "584",
			State: "Tamil Nadu", StateCode: "33", Pincode: "625001",
			Exercises: "enrolment with another mobile (9000000012): the mobile OTP step",
		},
		{
			Aadhaar: "999900000037", FirstName: "Sunita", LastName: "Rao", Gender: "F",
			BirthDay: 21, BirthMonth: 6, BirthYear: 1978, Mobile: "9000000003",
			Address: "7 MG Road", Town: "Pune", SubDistrict: "Haveli", District: "Pune", DistrictCode: "521",
			State: "Maharashtra", StateCode: "27", Pincode: "411001",
			Exercises: "has an ABHA: duplicate enrolment, login by ABHA number, ABHA address and Aadhaar",
		},
		{
			Aadhaar: "999900000044", FirstName: "Meena", LastName: "Iyer", Gender: "F",
			BirthDay: 2, BirthMonth: 11, BirthYear: 1981, Mobile: "9000000099",
			Address: "3 Church Lane", Town: "Kochi", SubDistrict: "Kanayannur", District: "Ernakulam", DistrictCode: "590",
			State: "Kerala", StateCode: "32", Pincode: "682011",
			Exercises: "mobile 9000000099 holds two ABHAs: account selection",
		},
		{
			Aadhaar: "999900000059", FirstName: "Arjun", LastName: "Iyer", Gender: "M",
			BirthDay: 9, BirthMonth: 4, BirthYear: 2012, Mobile: "9000000005",
			Address: "3 Church Lane", Town: "Kochi", SubDistrict: "Kanayannur", District: "Ernakulam", DistrictCode: "590",
			State: "Kerala", StateCode: "32", Pincode: "682011",
			Exercises: "second ABHA on his mother's mobile 9000000099",
		},
		{
			Aadhaar: "999900000063", FirstName: "Farhan", LastName: "Sheikh", Gender: "M",
			BirthDay: 30, BirthMonth: 1, BirthYear: 1999, Mobile: "9000000006",
			Address: "18 Station Road", Town: "Lucknow", SubDistrict: "Lucknow", District: "Lucknow", DistrictCode: "162",
			State: "Uttar Pradesh", StateCode: "9", Pincode: "226001",
			Exercises: "no ABHA: Aadhaar and mobile logins answer that nobody is registered",
		},
	}
}

// seed is an ABHA that exists when the sandbox starts.
type seed struct {
	aadhaar, number, address, mobile string
}

var seeds = []seed{
	{"999900000037", "91-0000-0000-0037", "sunita.rao", "9000000003"},
	{"999900000044", "91-0000-0000-0044", "meena.iyer", "9000000099"},
	{"999900000059", "91-0000-0000-0059", "arjun.iyer", "9000000099"},
}

// Account is an ABHA held by the sandbox.
type Account struct {
	ABHANumber string `json:"abha_number"` // 91-xxxx-xxxx-xxxx
	Aadhaar    string `json:"aadhaar"`
	Name       string `json:"name"`
	// Mobile is the verified communication mobile, empty until one is.
	Mobile    string    `json:"mobile"`
	Addresses []string  `json:"abha_addresses"` // full, with the @ suffix
	Preferred string    `json:"preferred_abha_address"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`

	resident Resident
}

func (a *Account) clone() Account {
	c := *a
	c.Addresses = slices.Clone(a.Addresses)
	return c
}

// digits strips the dashes of an ABHA number.
func digits(number string) string { return strings.ReplaceAll(number, "-", "") }

// dashed writes 14 digits as 91-xxxx-xxxx-xxxx.
func dashed(d string) string {
	if len(d) != 14 {
		return d
	}
	return d[:2] + "-" + d[2:6] + "-" + d[6:10] + "-" + d[10:]
}

func maskMobile(m string) string {
	if len(m) < 4 {
		return m
	}
	return "******" + m[len(m)-4:]
}
