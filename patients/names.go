package patients

import (
	"slices"
	"strings"
)

// Indian names reach us in many Latin spellings of one spoken name:
// Lakshmi/Laxmi, Srinivas/Shrinivas/Sreenivas, Chaudhary/Choudhary/Chowdhury,
// Mohammed/Muhammad/Mohd. Generic phonetic codes (Soundex, Metaphone) are
// tuned for English and both over- and under-merge these. The index
// therefore compares names at three levels, each documented below:
//
//  1. canon: a canonical spelling of each token (canonical below) that
//     erases the transliteration choices that do not change the spoken
//     name, so Lakshmi and Laxmi both become "laksmi".
//  2. skeleton: a phonetic key (skeleton below) that also drops the vowels
//     after the first letter, so Chaudhary, Choudhary and Chowdhury share
//     "cdr" although their canons differ in a vowel. Blocking uses it.
//  3. Jaro-Winkler on canons, for typing errors that neither erases.

// nameToken is one word of a person's name.
type nameToken struct {
	canon   string
	skel    string
	first   byte // first letter as written, for initials (C. is Chandra, canon "candra")
	initial bool // a single letter, as in "R. Kumar"
	weak    bool // a word often left out (Kumar, Devi, Bhai): its absence is no evidence
}

// honorifics are dropped from the start of a name: they say nothing about
// who the person is and are typed inconsistently. Only leading ones go,
// because some (Shree) are also name parts.
var honorifics = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "miss": true, "mstr": true, "master": true,
	"dr": true, "smt": true, "shrimati": true, "shri": true, "late": true,
}

// relationMarkers start the part of a name that names someone else:
// "Ravi S/O Ramesh" is Ravi, son of Ramesh. Everything from the marker on
// is dropped. Punctuation is a separator, so "S/O" reads as "s o".
var relationMarkers = [][]string{{"s", "o"}, {"d", "o"}, {"w", "o"}, {"c", "o"}, {"so"}, {"do"}, {"wo"}}

// aliases are abbreviations and spellings too far apart for the rules
// below, mapped to one spelling before the rules run.
var aliases = map[string]string{
	"mohd": "muhammad", "md": "muhammad", "mohmd": "muhammad", "mohammad": "muhammad",
	"mohammed": "muhammad", "mohamed": "muhammad", "muhammed": "muhammad", "mohamad": "muhammad",
	"sk": "shaikh", "shaik": "shaikh", "sheikh": "shaikh", "shekh": "shaikh",
	"kr": "kumar", "kmr": "kumar",
	"pd": "prasad", "prashad": "prasad",
	"ayyangar": "iyengar", "aiyangar": "iyengar", "ayyar": "iyer", "aiyar": "iyer",
}

// canonAliases are the aliases in canonical spelling, so that a variant of
// an alias (Aayyangar, Mohammad) finds it too.
var canonAliases = func() map[string]string {
	m := make(map[string]string, len(aliases))
	for from, to := range aliases {
		if len(from) > 2 { // two-letter abbreviations only as written
			m[canonical(from)] = canonical(to)
		}
	}
	return m
}()

// weakWords are name parts people often leave out or add: the absence of
// one on one side is not evidence of two different people.
var weakWords = map[string]bool{
	"kumar": true, "kumari": true, "devi": true, "bai": true, "bhai": true, "ben": true, "begum": true,
}

// weakCanon are the weak words in canonical spelling (Kumaar, Devee).
var weakCanon = func() map[string]bool {
	m := make(map[string]bool, len(weakWords))
	for w := range weakWords {
		m[canonical(w)] = true
	}
	return m
}()

// nameTokens splits a name into tokens: lower-cased ASCII letters, with
// punctuation as separators, leading honorifics and relation parts dropped.
// Letters outside ASCII (a name in Devanagari, say) are dropped too: the
// index compares Latin spellings only.
func nameTokens(name string) []nameToken {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return r < 'a' || r > 'z' })
	for len(words) > 1 && honorifics[words[0]] {
		words = words[1:]
	}
	words = words[:relationStart(words)]
	out := make([]nameToken, 0, len(words))
	for _, w := range words {
		if a, ok := aliases[w]; ok {
			w = a
		}
		if len(w) > 6 {
			w = strings.TrimSuffix(w, "bhai") // Gujarati "Rameshbhai" is Ramesh
		}
		c := canonical(w)
		if a, ok := canonAliases[c]; ok {
			c = a // an alias spelled another way (Aayyangar)
		}
		out = append(out, nameToken{
			canon:   c,
			skel:    skeleton(c),
			first:   w[0],
			initial: len(w) == 1,
			weak:    weakWords[w] || weakCanon[c],
		})
	}
	return out
}

// relationStart is the index of the first relation marker after the first
// word, or len(words).
func relationStart(words []string) int {
	for i := 1; i < len(words); i++ {
		for _, m := range relationMarkers {
			if i+len(m) <= len(words) && slices.Equal(words[i:i+len(m)], m) {
				return i
			}
		}
	}
	return len(words)
}

// canonicalName is the name as canonical tokens joined by spaces; stored
// with each link for display of what the matcher saw.
func canonicalName(name string) string {
	toks := nameTokens(name)
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.canon
	}
	return strings.Join(parts, " ")
}

// Spelling rules rewrite transliteration choices to one spelling. Each
// runs in order over the whole word, so later rules see earlier output.
var (
	// lettersFirst run before hard c is decided.
	lettersFirst = []struct{ from, to string }{
		{"x", "ks"}, // Laxmi / Lakshmi
		{"q", "k"},  // Qureshi / Kureshi
		{"z", "j"},  // Zaveri / Javeri, as most Indian languages say it
		{"ph", "f"}, // Phani / Fani
		{"w", "v"},  // Vishwanath / Viswanath
		{"ck", "k"},
		{"chh", "ch"}, // Chhaya / Chaya
	}
	// lettersThen run after every c not before h became k, so the ch
	// rule's bare c is unambiguous.
	lettersThen = []struct{ from, to string }{
		{"ch", "c"},
		// Aspirated consonants are often written without their h.
		{"bh", "b"}, {"dh", "d"}, {"th", "t"}, {"kh", "k"}, {"gh", "g"}, {"jh", "j"},
		{"sh", "s"}, // Shrinivas / Srinivas, Lakshmi / Laksmi
		// Long vowels are written doubled or not (Sreenivas, Meena / Mina).
		{"ee", "i"}, {"ii", "i"}, {"oo", "u"}, {"uu", "u"}, {"aa", "a"},
		{"ou", "u"}, // Choudhary / Chudhary
		{"ei", "i"}, // Sheila / Shila
	}
)

// canonical applies the spelling rules to one lower-case ASCII word. A
// final y is the vowel i (Reddy / Reddi); a final h after a vowel is
// silent (Shah / Sha); doubled letters are written once (Mohammed /
// Mohamed, Siddharth / Sidharth).
func canonical(w string) string {
	for len(w) > 2 && w[0] == w[1] {
		w = w[1:] // a doubled first letter is a slip (Cchowdhury)
	}
	w = ovBeforeConsonant(w)
	for _, r := range lettersFirst {
		w = strings.ReplaceAll(w, r.from, r.to)
	}
	w = hardC(w)
	for _, r := range lettersThen {
		w = strings.ReplaceAll(w, r.from, r.to)
	}
	if len(w) > 1 && w[len(w)-1] == 'y' {
		w = w[:len(w)-1] + "i"
	}
	if len(w) > 2 && w[len(w)-1] == 'h' && isVowel(w[len(w)-2]) {
		w = w[:len(w)-1]
	}
	return collapse(w)
}

// ovBeforeConsonant writes "ow" or "ov" before a consonant, or at the end,
// as the vowel "au" it stands for (Chowdhury / Chaudhary, Gowda / Gauda);
// it runs before w becomes v. Before a vowel (Govind) it stays.
func ovBeforeConsonant(w string) string {
	if !strings.Contains(w, "ow") && !strings.Contains(w, "ov") {
		return w
	}
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		if w[i] == 'o' && i+1 < len(w) && (w[i+1] == 'w' || w[i+1] == 'v') && (i+2 == len(w) || !isVowel(w[i+2]) && w[i+2] != 'y') {
			b.WriteString("au")
			i++
			continue
		}
		b.WriteByte(w[i])
	}
	return b.String()
}

// hardC turns every c not followed by h into k.
func hardC(w string) string {
	if !strings.Contains(w, "c") {
		return w
	}
	b := []byte(w)
	for i := range b {
		if b[i] == 'c' && (i+1 >= len(b) || b[i+1] != 'h') {
			b[i] = 'k'
		}
	}
	return string(b)
}

// collapse writes each run of one letter once.
func collapse(w string) string {
	if len(w) < 2 {
		return w
	}
	b := make([]byte, 0, len(w))
	for i := 0; i < len(w); i++ {
		if i > 0 && w[i] == w[i-1] {
			continue
		}
		b = append(b, w[i])
	}
	return string(b)
}

func isVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u':
		return true
	}
	return false
}

// skeleton is the phonetic key of a canonical token: its first letter
// (a first vowel reduced to a, i or u, since Eshwar/Ishwar and Om/Um are
// the same names) followed by its consonants, without vowels, y and h,
// which carry most of the spelling variation left after canonical, and
// with v written b. Runs of one consonant are written once. Srinivas, Shreenivaas and Sreenivas all
// give "srnvs"; Chaudhary, Choudhary and Chowdhury give "cdr".
func skeleton(c string) string {
	if c == "" {
		return ""
	}
	b := make([]byte, 0, len(c))
	first := c[0]
	switch first {
	case 'e':
		first = 'i'
	case 'o':
		first = 'u'
	}
	if first == 'v' {
		first = 'b'
	}
	b = append(b, first)
	for i := 1; i < len(c); i++ {
		ch := c[i]
		if isVowel(ch) || ch == 'y' || ch == 'h' {
			continue
		}
		if ch == 'v' {
			ch = 'b' // Bengali and Odia write b for v: Bikash / Vikash, Biswajit / Vishwajit
		}
		if b[len(b)-1] == ch {
			continue
		}
		b = append(b, ch)
	}
	return string(b)
}
