package patients

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// The score of a candidate pair is a sum of per-field weights, in the
// spirit of Fellegi and Sunter: agreement on a field that rarely agrees by
// chance adds a lot, disagreement on a field that rarely disagrees for one
// person subtracts a lot, a missing field adds nothing. The weights below
// were set by hand from that reasoning and then checked against the
// generated population in quality_test.go, which also guards them.
const (
	wNameExact    = 8.0
	wNamePhonetic = 7.5
	wNameTypo     = 6.0
	wNameInitials = 4.0
	wNameSubset   = 5.0
	wNamePartial  = -2.0
	wNameConflict = -8.0
	wNameNone     = -10.0

	wBirthExact    = 5.0
	wBirthSwapped  = 3.5 // 05/08 against 08/05: a common entry error
	wBirthOneDigit = 1.5
	wBirthYear     = 1.5 // same year where one side knows only the year
	wBirthSameYear = -2.5
	wBirthDiffers  = -6.0

	wGenderSame    = 0.5
	wGenderDiffers = -8.0

	wMobileExact   = 4.0
	wMobileClose   = 2.0
	wMobileDiffers = -1.5

	wPinSame    = 0.5
	wPinDiffers = -0.5

	wABHANumberSame    = 15.0
	wABHANumberDiffers = -20.0
	wABHAAddressSame   = 10.0
)

// person is a record reduced to what matching compares.
type person struct {
	name        string // as received, for evidence
	tokens      []nameToken
	gender      string // M, F, O or ""
	birthDate   time.Time
	birthYear   int
	mobile      string
	pin         string
	abhaNumber  string
	abhaAddress string
}

func personOf(r SourceRecord) person {
	d, y := birthOf(r)
	return person{
		name:        r.Name,
		tokens:      nameTokens(r.Name),
		gender:      normGender(r.Gender),
		birthDate:   d,
		birthYear:   y,
		mobile:      normMobile(r.Mobile),
		pin:         normPin(r.PinCode),
		abhaNumber:  normABHANumber(r.ABHANumber),
		abhaAddress: normABHAAddress(r.ABHAAddress),
	}
}

func (p person) birthText() string {
	switch {
	case !p.birthDate.IsZero():
		return p.birthDate.Format("2006-01-02")
	case p.birthYear != 0:
		return strconv.Itoa(p.birthYear)
	}
	return ""
}

// Evidence is how one field of a candidate pair compared: what each side
// holds, the outcome and what it added to the score. Left is the patient
// already in the index, Right the record being matched.
type Evidence struct {
	Field   string  `json:"field"`
	Left    string  `json:"left"`
	Right   string  `json:"right"`
	Outcome string  `json:"outcome"`
	Weight  float64 `json:"weight"`
}

// Field names used in Evidence.
const (
	FieldName        = "name"
	FieldBirth       = "birth"
	FieldGender      = "gender"
	FieldMobile      = "mobile"
	FieldPinCode     = "pin_code"
	FieldABHANumber  = "abha_number"
	FieldABHAAddress = "abha_address"
)

// comparison is the outcome of comparing two persons.
type comparison struct {
	score    float64
	evidence []Evidence
	name     nameLevel
	// birth and mobile are those fields' outcomes.
	birth, mobile string
	pinSame       bool
	// veto names a disagreement that rules out an automatic link whatever
	// the score: different genders or ABHA numbers, or names in conflict.
	veto string
	// corroborated reports whether something besides the name agrees: a
	// birth date or year, or the mobile number. A name alone never links.
	corroborated bool
}

// linkable reports whether the comparison may link automatically at
// threshold.
func (c comparison) linkable(threshold float64) bool {
	return c.veto == "" && c.corroborated && c.name >= nameSubset && c.score >= threshold
}

// better reports whether c is a stronger match than o: a higher score, or
// an equal score with a better name (scores tie often, weights being few).
func (c comparison) better(o comparison) bool {
	if c.score != o.score {
		return c.score > o.score
	}
	return c.name > o.name
}

func compare(left, right person) comparison {
	var c comparison
	add := func(e Evidence) {
		c.score += e.Weight
		c.evidence = append(c.evidence, e)
	}

	c.name = compareNames(left.tokens, right.tokens)
	add(Evidence{Field: FieldName, Left: left.name, Right: right.name, Outcome: c.name.String(), Weight: c.name.weight()})
	if c.name == nameConflict || c.name == nameNone {
		c.veto = "names differ"
	}

	birth, bw := compareBirth(left, right)
	c.birth = birth
	add(Evidence{Field: FieldBirth, Left: left.birthText(), Right: right.birthText(), Outcome: birth, Weight: bw})
	if bw > 0 {
		c.corroborated = true
	}

	switch {
	case left.gender == "" || right.gender == "":
		add(Evidence{Field: FieldGender, Left: left.gender, Right: right.gender, Outcome: "missing"})
	case left.gender == right.gender:
		add(Evidence{Field: FieldGender, Left: left.gender, Right: right.gender, Outcome: "same", Weight: wGenderSame})
	default:
		add(Evidence{Field: FieldGender, Left: left.gender, Right: right.gender, Outcome: "differs", Weight: wGenderDiffers})
		c.veto = "genders differ"
	}

	switch {
	case left.mobile == "" || right.mobile == "":
		add(Evidence{Field: FieldMobile, Left: left.mobile, Right: right.mobile, Outcome: "missing"})
		c.mobile = "missing"
	case left.mobile == right.mobile:
		add(Evidence{Field: FieldMobile, Left: left.mobile, Right: right.mobile, Outcome: "same", Weight: wMobileExact})
		c.corroborated = true
		c.mobile = "same"
	case digitsApart(left.mobile, right.mobile) <= 2:
		// A slip of a digit in each of two records is still the same
		// phone; two unrelated numbers (a family's too) differ in more.
		add(Evidence{Field: FieldMobile, Left: left.mobile, Right: right.mobile, Outcome: "close", Weight: wMobileClose})
		c.corroborated = true
	default:
		add(Evidence{Field: FieldMobile, Left: left.mobile, Right: right.mobile, Outcome: "differs", Weight: wMobileDiffers})
	}

	switch {
	case left.pin == "" || right.pin == "":
	case left.pin == right.pin:
		add(Evidence{Field: FieldPinCode, Left: left.pin, Right: right.pin, Outcome: "same", Weight: wPinSame})
		c.pinSame = true
	default:
		add(Evidence{Field: FieldPinCode, Left: left.pin, Right: right.pin, Outcome: "differs", Weight: wPinDiffers})
	}

	switch {
	case left.abhaNumber == "" || right.abhaNumber == "":
	case left.abhaNumber == right.abhaNumber:
		add(Evidence{Field: FieldABHANumber, Left: FormatABHANumber(left.abhaNumber), Right: FormatABHANumber(right.abhaNumber), Outcome: "same", Weight: wABHANumberSame})
	default:
		add(Evidence{Field: FieldABHANumber, Left: FormatABHANumber(left.abhaNumber), Right: FormatABHANumber(right.abhaNumber), Outcome: "differs", Weight: wABHANumberDiffers})
		c.veto = "ABHA numbers differ"
	}
	switch {
	case left.abhaAddress == "" || right.abhaAddress == "":
	case left.abhaAddress == right.abhaAddress:
		add(Evidence{Field: FieldABHAAddress, Left: left.abhaAddress, Right: right.abhaAddress, Outcome: "same", Weight: wABHAAddressSame})
	default:
		// People hold several ABHA addresses: a different one is no
		// evidence either way.
		add(Evidence{Field: FieldABHAAddress, Left: left.abhaAddress, Right: right.abhaAddress, Outcome: "differs"})
	}
	return c
}

// compareBirth compares dates of birth, or years where only a year is known.
func compareBirth(a, b person) (string, float64) {
	switch {
	case a.birthYear == 0 || b.birthYear == 0:
		return "missing", 0
	case a.birthDate.IsZero() || b.birthDate.IsZero():
		if a.birthYear == b.birthYear {
			return "same_year", wBirthYear
		}
		return "differs", wBirthDiffers
	}
	da, db := a.birthDate, b.birthDate
	switch {
	case da.Equal(db):
		return "same", wBirthExact
	case da.Year() == db.Year() && da.Day() == int(db.Month()) && int(da.Month()) == db.Day():
		return "day_month_swapped", wBirthSwapped
	case oneDigitApart(da.Format("20060102"), db.Format("20060102")):
		return "one_digit", wBirthOneDigit
	case da.Year() == db.Year():
		return "same_year_other_date", wBirthSameYear
	}
	return "differs", wBirthDiffers
}

// oneDigitApart reports whether two digit strings of one length differ in
// exactly one position or by swapping two neighbouring digits: the usual
// slips when a number is typed.
func oneDigitApart(a, b string) bool {
	if len(a) != len(b) || a == b {
		return false
	}
	var diff []int
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			diff = append(diff, i)
			if len(diff) > 2 {
				return false
			}
		}
	}
	if len(diff) == 1 {
		return true
	}
	i, j := diff[0], diff[1]
	return j == i+1 && a[i] == b[j] && a[j] == b[i]
}

// digitsApart counts the positions where two digit strings of one length
// differ, an adjacent swap counting once; strings of different lengths
// are as far apart as their length.
func digitsApart(a, b string) int {
	if len(a) != len(b) {
		return max(len(a), len(b))
	}
	n := 0
	for i := 0; i < len(a); i++ {
		if a[i] == b[i] {
			continue
		}
		n++
		if i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] {
			i++ // a swap of neighbours is one slip
		}
	}
	return n
}

// nameLevel grades how two names agree, from worst to best.
type nameLevel int

const (
	nameMissing  nameLevel = iota // one side has no name
	nameNone                      // no word in common
	nameConflict                  // each side has a word the other lacks
	namePartial                   // one side has a word the other lacks
	nameSubset                    // two or more words of one side all match, the other has more
	nameInitials                  // every word matches, some only as an initial
	nameTypo                      // every word matches, some with a typing error
	namePhonetic                  // every word matches as a spelling variant
	nameExact                     // the same words, in any order
)

func (l nameLevel) String() string {
	switch l {
	case nameMissing:
		return "missing"
	case nameNone:
		return "none"
	case nameConflict:
		return "conflict"
	case namePartial:
		return "partial"
	case nameSubset:
		return "subset"
	case nameInitials:
		return "initials"
	case nameTypo:
		return "typo"
	case namePhonetic:
		return "spelling_variant"
	case nameExact:
		return "same"
	}
	return fmt.Sprintf("nameLevel(%d)", int(l))
}

func (l nameLevel) weight() float64 {
	switch l {
	case nameNone:
		return wNameNone
	case nameConflict:
		return wNameConflict
	case namePartial:
		return wNamePartial
	case nameSubset:
		return wNameSubset
	case nameInitials:
		return wNameInitials
	case nameTypo:
		return wNameTypo
	case namePhonetic:
		return wNamePhonetic
	case nameExact:
		return wNameExact
	}
	return 0
}

// tokenMatch grades one pair of name words.
type tokenMatch int

const (
	matchNone tokenMatch = iota
	matchInitial
	matchTypo
	matchPhonetic
	matchExact
)

func matchTokens(a, b nameToken) (tokenMatch, float64) {
	if a.initial || b.initial {
		if a.first == b.first || a.canon[0] == b.canon[0] {
			return matchInitial, 0.5
		}
		return matchNone, 0
	}
	if a.canon == b.canon {
		return matchExact, 1
	}
	jw := jaroWinkler(a.canon, b.canon)
	// Equal keys with little else in common are a collision of short keys
	// (Sri and Surya both give "sr"); longer keys need less support
	// (Saurabh and Sourav, "srb").
	if a.skel == b.skel && (jw >= 0.8 || len(a.skel) >= 3 && jw >= 0.7) {
		return matchPhonetic, jw
	}
	// A typing error rarely replaces the first letter, and names that
	// differ only there (Rohan and Sohan: twins' names often rhyme) are
	// usually different names. Dropping the first letter or swapping the
	// first two are slips of the hand, not other names.
	// Jaro-Winkler alone calls Moumita and Madhumita close; a typing
	// error also changes few letters.
	if jw >= 0.88 && a.canon[0] == b.canon[0] && len(a.canon) >= 3 && len(b.canon) >= 3 && editDistance(a.canon, b.canon) <= typoEdits(a.canon, b.canon) {
		return matchTypo, jw
	}
	if slipAtStart(a.canon, b.canon) || slipAtStart(b.canon, a.canon) {
		return matchTypo, 0.85
	}
	return matchNone, 0
}

// typoEdits is how many edits a typing error may make in words this long.
func typoEdits(a, b string) int {
	if min(len(a), len(b)) <= 6 {
		return 1
	}
	return 2
}

// slipAtStart reports whether typed is want with its first letter dropped
// or its first two letters swapped.
func slipAtStart(typed, want string) bool {
	if len(want) < 5 {
		return false
	}
	return typed == want[1:] || len(typed) == len(want) && typed[0] == want[1] && typed[1] == want[0] && typed[2:] == want[2:]
}

// compareNames aligns the words of two names, in any order (given and
// family names are swapped freely), pairing the best matches first, and
// grades the whole.
func compareNames(a, b []nameToken) nameLevel {
	if len(a) == 0 || len(b) == 0 {
		return nameMissing
	}
	type pair struct {
		i, j int
		kind tokenMatch
		sim  float64
	}
	var pairs []pair
	for i := range a {
		for j := range b {
			if k, s := matchTokens(a[i], b[j]); k != matchNone {
				pairs = append(pairs, pair{i, j, k, s})
			}
		}
	}
	slices.SortStableFunc(pairs, func(x, y pair) int {
		if c := cmp.Compare(y.kind, x.kind); c != 0 {
			return c
		}
		return cmp.Compare(y.sim, x.sim)
	})
	usedA := make([]bool, len(a))
	usedB := make([]bool, len(b))
	var counts [matchExact + 1]int
	strongFull := 0 // full-word matches on words that are not weak
	for _, p := range pairs {
		if usedA[p.i] || usedB[p.j] {
			continue
		}
		usedA[p.i], usedB[p.j] = true, true
		counts[p.kind]++
		if p.kind >= matchTypo && !a[p.i].weak && !b[p.j].weak {
			strongFull++
		}
	}
	matched := counts[matchInitial] + counts[matchTypo] + counts[matchPhonetic] + counts[matchExact]
	leftA, leftB := unmatchedStrong(a, usedA), unmatchedStrong(b, usedB)
	switch {
	case matched == 0:
		return nameNone
	case leftA > 0 && leftB > 0:
		return nameConflict
	case strongFull == 0:
		return namePartial
	case leftA > 0 || leftB > 0:
		// "Mohd Pathan" against "Mohammed Salim Pathan": every word of
		// the shorter name, two at least and none an initial, is in the
		// longer one. One word alone ("Priya" against "Priya Sharma") is
		// too little.
		if strongFull >= 2 && counts[matchInitial] == 0 {
			return nameSubset
		}
		return namePartial
	case counts[matchInitial] > 0:
		return nameInitials
	case counts[matchTypo] > 0:
		return nameTypo
	case counts[matchPhonetic] > 0:
		return namePhonetic
	}
	return nameExact
}

// unmatchedStrong counts the words left unmatched that are not weak.
func unmatchedStrong(ts []nameToken, used []bool) int {
	n := 0
	for i, t := range ts {
		if !used[i] && !t.weak {
			n++
		}
	}
	return n
}
