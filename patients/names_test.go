package patients

import (
	"math"
	"testing"
)

func skeletons(name string) []string {
	var out []string
	for _, t := range nameTokens(name) {
		out = append(out, t.skel)
	}
	return out
}

// TestSpellingVariantsShareAKey: the transliteration variants the brief
// lists must land under one phonetic key, or blocking would never compare
// them.
func TestSpellingVariantsShareAKey(t *testing.T) {
	groups := [][]string{
		{"Mohammed", "Muhammad", "Mohd", "Mohamed", "Md."},
		{"Lakshmi", "Laxmi", "Lakshmee", "Laksmi"},
		{"Srinivas", "Shrinivas", "Sreenivas", "Shreenivaas", "Srinivaas"},
		{"Chaudhary", "Choudhary", "Chowdhury", "Chaudhari", "Choudhury"},
		{"Ramesh", "Rameesh", "Ramesh"},
		{"Kumar", "Kumaar", "Kummar"},
		{"Geeta", "Gita", "Geetha"},
		{"Pooja", "Puja"},
		{"Vishwanath", "Viswanath", "Vishvanath"},
		{"Phani", "Fani"},
		{"Sharma", "Sarma"},
		{"Reddy", "Reddi"},
		{"Eshwar", "Ishwar", "Iswar"},
		{"Siddharth", "Sidharth", "Siddarth"},
		{"Zaveri", "Javeri"},
		{"Chhaya", "Chaya"},
		{"Rameshbhai", "Ramesh"},
	}
	for _, g := range groups {
		want := skeletons(g[0])
		for _, v := range g[1:] {
			got := skeletons(v)
			if len(got) != 1 || len(want) != 1 || got[0] != want[0] {
				t.Errorf("%s: key %v, want %v (as %s)", v, got, want, g[0])
			}
		}
	}
}

func TestDifferentNamesDifferentKeys(t *testing.T) {
	for _, pair := range [][2]string{
		{"Rohan", "Mohan"}, {"Usha", "Asha"}, {"Suresh", "Ramesh"}, {"Lakshmi", "Laxman"}, {"Anil", "Sunil"},
	} {
		a, b := skeletons(pair[0]), skeletons(pair[1])
		if a[0] == b[0] {
			t.Errorf("%s and %s share key %s", pair[0], pair[1], a[0])
		}
	}
}

func TestNameTokens(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"Mr. Ravi Kumar", "ravi kumar"},
		{"Smt. LAKSHMI  devi", "laksmi devi"},
		{"R.Kumar", "r kumar"},
		{"Ravi S/O Ramesh", "ravi"},
		{"Anita W/O Suresh Patel", "anita"},
		{"Shree Lakshmi", "sri laksmi"}, // Shree can be a name part, so it stays
		{"Mohd. Irfan", "muhamad irfan"},
		{"", ""},
		{"लक्ष्मी", ""},
	} {
		if got := canonicalName(tc.in); got != tc.want {
			t.Errorf("canonicalName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestJaroWinkler(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"martha", "marhta", 0.961},
		{"dwayne", "duane", 0.84},
		{"dixon", "dicksonx", 0.813},
		{"abc", "abc", 1},
		{"abc", "xyz", 0},
		{"", "abc", 0},
	} {
		if got := jaroWinkler(tc.a, tc.b); math.Abs(got-tc.want) > 0.001 {
			t.Errorf("jaroWinkler(%q, %q) = %.3f, want %.3f", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCompareNames(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want nameLevel
	}{
		{"Ravi Kumar", "Ravi Kumar", nameExact},
		{"Lakshmi Reddy", "Laxmi Reddi", nameExact},
		{"Srinivas Rao", "Rao Shreenivas", nameExact},        // order swapped
		{"Chaudhary Anil", "Anil Chowdhury", namePhonetic},   // canon differs in a vowel, key agrees
		{"Priyanka Sharma", "Priyanka Shrama", namePhonetic}, // transposed letters keep the key
		{"Priyanka Sharma", "Priyanka Sharna", nameTypo},
		{"R. Srinivasan", "Ramesh Srinivasan", nameInitials},
		{"R. Kumar", "Ravi Kumar", namePartial}, // Kumar is too common to carry an initial
		{"Ravi Kumar Sharma", "Ravi Sharma", nameExact},
		{"Priya", "Priya Sharma", namePartial},
		{"Rohan Sharma", "Mohan Sharma", nameConflict},
		{"Sita Verma", "Gita Verma", nameConflict},
		{"Anil Gupta", "Sunita Rao", nameNone},
		{"", "Ravi", nameMissing},
	} {
		if got := compareNames(nameTokens(tc.a), nameTokens(tc.b)); got != tc.want {
			t.Errorf("compareNames(%q, %q) = %s, want %s", tc.a, tc.b, got, tc.want)
		}
	}
}
