package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Person is one real person of the demo with every record the group's
// systems hold about them: the ground truth the patient index's matching is
// measured against. Two records belong to one person only if they are in
// the same Person; family members may share a mobile number and are still
// different people.
type Person struct {
	ID          string // P001 ... P200, and P201 the claims case
	Name        string
	Gender      string // M or F
	BirthDate   time.Time
	Mobile      string // 10 digits
	ABHANumber  string // 91-xxxx-xxxx-xxxx, or "" without ABHA
	ABHAAddress string // name@sbx, or ""
	Address     string
	PinCode     string
	Region      string
	Records     []PersonRecord
}

// PersonRecord is one system's record of a person, with the demographics
// that system holds. Name is as typed at that desk; vendor storage formats
// (LabTrack's upper case, RadView's DICOM "FAMILY^GIVEN") are applied on
// loading and undone by the mapping files.
type PersonRecord struct {
	FacilityHFRID string
	SourceCode    string // the source_systems code: his, lims, ris, pharmacy, billing
	Vendor        string
	LocalID       string
	Name          string
	Gender        string
	BirthDate     time.Time // zero when the system keeps only the year
	BirthYear     int
	Mobile        string // "" when the system has none
	ABHANumber    string
	ABHAAddress   string
	// Differences names what was planted against the person's true
	// details: spelling, initials, dob-swapped, mobile-digit, no-mobile.
	Differences []string
}

// demoAnchor is "today" for the demo data, fixed so that every run
// generates the same dates.
var demoAnchor = time.Date(2025, 10, 31, 0, 0, 0, 0, time.UTC)

// demoSeed seeds every random choice of the demo data.
const demoSeed = 20241124

// PeopleCount is how many people the demo holds: the generated ones and
// the claims case (ClaimsPersonID).
const PeopleCount = generatedPeople + 1

// generatedPeople is how many people are drawn at random.
const generatedPeople = 200

// demoSystem is one system of one facility that holds patient records.
type demoSystem struct {
	hfr, code, vendor string
	idPrefix          string
	next              int
}

func (s *demoSystem) newID() string {
	s.next++
	switch s.vendor {
	case "careware":
		return fmt.Sprintf("CW/%d/%06d", 2019+s.next%6, 1000+s.next*7)
	}
	return fmt.Sprintf("%s%05d", s.idPrefix, s.next)
}

// demoFacilities lists, per facility of KaveriHealth, the systems holding
// patients, HIS first.
func demoFacilities() map[string][]*demoSystem {
	return map[string][]*demoSystem{
		"IN2910000231": {
			{hfr: "IN2910000231", code: "his", vendor: "medisoft", idPrefix: "MRN-1", next: 2344},
			{hfr: "IN2910000231", code: "lims", vendor: "labtrack", idPrefix: "LAB-6", next: 7889},
			{hfr: "IN2910000231", code: "ris", vendor: "radview", idPrefix: "RAD-1", next: 1110},
			{hfr: "IN2910000231", code: "pharmacy", vendor: "pharmaone", idPrefix: "PHB-", next: 40},
		},
		"IN2910000587": {
			{hfr: "IN2910000587", code: "his", vendor: "careware"},
			{hfr: "IN2910000587", code: "lims", vendor: "labtrack", idPrefix: "LAB-8", next: 120},
		},
		"IN2910000944": {
			{hfr: "IN2910000944", code: "his", vendor: "medisoft", idPrefix: "MRN-5", next: 17},
			{hfr: "IN2910000944", code: "pharmacy", vendor: "pharmaone", idPrefix: "PHH-", next: 5},
		},
	}
}

// People returns the demo's people, the same on every call: ~200 people
// over the three facilities, about one in five seen at two of them with a
// small difference in spelling, date of birth or mobile, about four in ten
// with ABHA; and last, the claims case (see Claims).
func People() []Person {
	rng := rand.New(rand.NewPCG(demoSeed, 1))
	facilities := demoFacilities()
	hfrs := []string{"IN2910000231", "IN2910000587", "IN2910000944"}
	var people []Person
	reviewCases := 0
	for i := range generatedPeople {
		p := newPerson(rng, i+1)
		if i > 0 && rng.IntN(100) < 4 {
			// Spouses and parents share a phone.
			p.Mobile = people[i-1].Mobile
		}
		home := pickHome(rng, p)
		visited := []string{home}
		if rng.IntN(100) < 21 {
			other := hfrs[rng.IntN(len(hfrs))]
			for other == home {
				other = hfrs[rng.IntN(len(hfrs))]
			}
			visited = append(visited, other)
		}
		for n, hfr := range visited {
			registerAt(rng, &p, facilities[hfr], n > 0)
		}
		if len(visited) > 1 && reviewCases < reviewCaseCount {
			plantReviewCase(&p, visited[1])
			reviewCases++
		}
		addBillingRecord(&p)
		people = append(people, p)
	}
	return append(people, claimsPerson())
}

// addBillingRecord gives everyone registered at the Mysuru hospital a
// record in its billing system, which registers patients by the HIS's UHID
// and name as the HIS has them, and keeps no ABHA. It draws no random
// numbers, so the other systems' records are as they were before billing
// joined the demo.
func addBillingRecord(p *Person) {
	for _, r := range p.Records {
		if r.FacilityHFRID != billingHFRID || r.SourceCode != "his" {
			continue
		}
		rec := r
		rec.SourceCode, rec.Vendor = "billing", "billdesk"
		rec.ABHANumber, rec.ABHAAddress = "", ""
		rec.Differences = append([]string(nil), r.Differences...)
		p.Records = append(p.Records, rec)
		return
	}
}

func newPerson(rng *rand.Rand, n int) Person {
	r := pickRegion(rng)
	p := Person{ID: fmt.Sprintf("P%03d", n), Region: r.name, Gender: "M"}
	if rng.IntN(2) == 0 {
		p.Gender = "F"
	}
	given := r.male
	if p.Gender == "F" {
		given = r.female
	}
	first := given[rng.IntN(len(given))]
	surnames := r.surnames
	if p.Gender == "F" && len(r.femaleSurnames) > 0 {
		surnames = r.femaleSurnames
	}
	last := surnames[rng.IntN(len(surnames))]
	if r.initialStyle {
		p.Name = string(surnames[rng.IntN(len(surnames))][0]) + ". " + first
	} else {
		p.Name = first + " " + last
	}
	age := 1 + rng.IntN(84)
	if rng.IntN(10) < 6 {
		age = 18 + rng.IntN(50)
	}
	p.BirthDate = demoAnchor.AddDate(-age, 0, -rng.IntN(365))
	p.Mobile = fmt.Sprintf("%d%09d", 6+rng.IntN(4), rng.IntN(1_000_000_000))
	if rng.IntN(100) < 40 {
		d := fmt.Sprintf("91%012d", rng.Int64N(1_000_000_000_000))
		p.ABHANumber = d[:2] + "-" + d[2:6] + "-" + d[6:10] + "-" + d[10:]
		handle := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(first, " ", ""), ".", ""))
		p.ABHAAddress = fmt.Sprintf("%s.%s%d@sbx", handle, strings.ToLower(last), 10+rng.IntN(90))
	}
	k := rng.IntN(len(r.pins))
	p.PinCode = r.pins[k]
	p.Address = fmt.Sprintf("%d, %d%s Cross, %s", 1+rng.IntN(400), 1+rng.IntN(12), ordinal(1+rng.IntN(12)), r.cities[k])
	return p
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "st"
	case 2:
		return "nd"
	case 3:
		return "rd"
	}
	return "th"
}

func pickRegion(rng *rand.Rand) region {
	total := 0
	for _, r := range regions {
		total += r.weight
	}
	n := rng.IntN(total)
	for _, r := range regions {
		if n < r.weight {
			return r
		}
		n -= r.weight
	}
	return regions[0]
}

// pickHome chooses the facility a person mostly uses: the women and child
// hospital in Mysuru draws mothers and children, Hassan is small.
func pickHome(rng *rand.Rand, p Person) string {
	age := demoAnchor.Year() - p.BirthDate.Year()
	mys := 25
	if age < 12 || p.Gender == "F" && age >= 18 && age <= 40 {
		mys = 55
	}
	switch n := rng.IntN(100); {
	case n < mys:
		return "IN2910000587"
	case n < mys+(100-mys)*7/10:
		return "IN2910000231"
	}
	return "IN2910000944"
}

// registerAt adds the person's records at one facility: always the HIS, and
// some of its LIMS, RIS and pharmacy. A second facility's front desk types
// the person a little differently most of the time.
func registerAt(rng *rand.Rand, p *Person, systems []*demoSystem, second bool) {
	his := PersonRecord{
		Name: p.Name, Gender: p.Gender, BirthDate: p.BirthDate, BirthYear: p.BirthDate.Year(), Mobile: p.Mobile,
		ABHANumber: p.ABHANumber, ABHAAddress: p.ABHAAddress,
	}
	if second {
		plantDifference(rng, &his)
		if his.ABHANumber != "" && rng.IntN(100) < 35 {
			// Registered here before they had ABHA.
			his.ABHANumber, his.ABHAAddress = "", ""
		}
	}
	for i, s := range systems {
		rec := his
		rec.Differences = append([]string(nil), his.Differences...)
		if i > 0 {
			chance := map[string]int{"lims": 60, "ris": 25, "pharmacy": 50}[s.code]
			if rng.IntN(100) >= chance {
				continue
			}
			// Departmental systems keep no ABHA.
			rec.ABHANumber, rec.ABHAAddress = "", ""
			if rng.IntN(100) < 12 {
				plantSpelling(rng, &rec)
			}
			if s.vendor == "pharmaone" {
				rec.BirthDate = time.Time{}
			}
			if s.vendor == "radview" && rng.IntN(100) < 30 {
				rec.Mobile = ""
				rec.Differences = append(rec.Differences, "no-mobile")
			}
		}
		rec.FacilityHFRID, rec.SourceCode, rec.Vendor, rec.LocalID = s.hfr, s.code, s.vendor, s.newID()
		p.Records = append(p.Records, rec)
	}
}

// reviewCaseCount is how many people get a second registration that a
// careful index should not link on its own (see plantReviewCase).
const reviewCaseCount = 6

// plantReviewCase changes a person's records at their second facility the
// way a registration months later often looks: a new mobile number, and the
// birth date entered as 1 January of the year because only the age was
// asked. Name, gender and year still agree, so the master
// index should put the pair in front of a person rather than link it or
// keep it apart silently. It draws no random numbers, so the rest of the
// demo data is the same with or without it.
func plantReviewCase(p *Person, hfr string) {
	for i := range p.Records {
		r := &p.Records[i]
		if r.FacilityHFRID != hfr {
			continue
		}
		d := []byte(p.Mobile)
		for k := 1; k < len(d); k++ {
			d[k] = '0' + (d[k]-'0'+5)%10
		}
		if r.Mobile != "" {
			r.Mobile = string(d)
		}
		if !r.BirthDate.IsZero() {
			r.BirthDate = time.Date(r.BirthDate.Year(), time.January, 1, 0, 0, 0, 0, time.UTC)
		}
		r.ABHANumber, r.ABHAAddress = "", ""
		r.Differences = append(r.Differences, "new-mobile", "dob-default")
	}
}

// plantDifference makes the small error a second registration often has.
func plantDifference(rng *rand.Rand, r *PersonRecord) {
	switch n := rng.IntN(100); {
	case n < 35:
		plantSpelling(rng, r)
	case n < 55:
		plantInitials(r)
	case n < 70 && r.BirthDate.Day() <= 12 && r.BirthDate.Day() != int(r.BirthDate.Month()):
		// Day and month swapped: 04-07 read as 07-04.
		b := r.BirthDate
		r.BirthDate = time.Date(b.Year(), time.Month(b.Day()), int(b.Month()), 0, 0, 0, 0, time.UTC)
		r.Differences = append(r.Differences, "dob-swapped")
	case n < 85:
		d := []byte(r.Mobile)
		k := 2 + rng.IntN(8)
		d[k] = '0' + (d[k]-'0'+1+byte(rng.IntN(8)))%10
		r.Mobile = string(d)
		r.Differences = append(r.Differences, "mobile-digit")
	}
}

// plantSpelling respells the given name.
func plantSpelling(rng *rand.Rand, r *PersonRecord) {
	for _, vs := range firstNameVariantsSorted() {
		if strings.Contains(r.Name, vs.name) {
			v := vs.variants[rng.IntN(len(vs.variants))]
			if v != vs.name {
				r.Name = strings.Replace(r.Name, vs.name, v, 1)
				r.Differences = append(r.Differences, "spelling")
				return
			}
		}
	}
	parts := strings.Fields(r.Name)
	i := 0
	if strings.HasSuffix(parts[0], ".") && len(parts) > 1 {
		i = 1
	}
	parts[i] = transliterate(parts[i])
	r.Name = strings.Join(parts, " ")
	r.Differences = append(r.Differences, "spelling")
}

// plantInitials shortens the given name to its initial: "Ravi Kumar"
// becomes "R. Kumar"; "S. Karthik" becomes "Karthik S." instead.
func plantInitials(r *PersonRecord) {
	parts := strings.Fields(r.Name)
	if strings.HasSuffix(parts[0], ".") {
		r.Name = strings.Join(append(parts[1:], parts[0]), " ")
	} else if len(parts) > 1 {
		r.Name = parts[0][:1] + ". " + strings.Join(parts[1:], " ")
	}
	r.Differences = append(r.Differences, "initials")
}

type variantSet struct {
	name     string
	variants []string
}

// firstNameVariantsSorted lists the variant table longest name first, so
// "Mohammed Irfan" is tried before a shorter name inside it, in a fixed
// order (map order would make the demo differ between runs).
func firstNameVariantsSorted() []variantSet {
	out := make([]variantSet, 0, len(firstNameVariants))
	for k, v := range firstNameVariants {
		out = append(out, variantSet{k, v})
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && less(out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func less(a, b variantSet) bool {
	if len(a.name) != len(b.name) {
		return len(a.name) > len(b.name)
	}
	return a.name < b.name
}
