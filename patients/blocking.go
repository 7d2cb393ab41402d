package patients

import (
	"slices"
	"strconv"
)

// blockingKeys are the keys under which a record is filed so that matching
// compares it only with records sharing at least one key, never with the
// whole index. A true duplicate usually shares several; the set is chosen
// so that one typing error, a swapped day and month, a missing birth date
// or a missing mobile still leaves one in common:
//
//	ny:<skeleton>:<birth year>   one per name word (spelling variants, word order)
//	nn:<skeleton>:<skeleton>     one per pair of name words (wrong or missing birth year)
//	np:<skeleton>:<pin code>     one per name word (no birth date, no mobile)
//	m:<mobile>                   the mobile number (name typed badly)
//	d:<birth date>               the date of birth (name typed badly, mobile changed)
//
// Initials and weak words (Kumar, Devi) are left out: they would put most
// of the index under a handful of keys.
func blockingKeys(p person) []string {
	var skels []string
	for _, t := range p.tokens {
		k := t.skel
		if len(k) < 2 {
			// Rao, Roy and Shah have one-letter keys; their canonical
			// spelling is the better key.
			k = t.canon
		}
		if t.initial || t.weak || len(k) < 2 || slices.Contains(skels, k) {
			continue
		}
		skels = append(skels, k)
	}
	var keys []string
	for _, s := range skels {
		if p.birthYear != 0 {
			keys = append(keys, "ny:"+s+":"+strconv.Itoa(p.birthYear))
		}
		if p.pin != "" {
			keys = append(keys, "np:"+s+":"+p.pin)
		}
	}
	for i := 0; i < len(skels) && i < 3; i++ {
		for j := i + 1; j < len(skels) && j < 3; j++ {
			a, b := skels[i], skels[j]
			if b < a {
				a, b = b, a
			}
			keys = append(keys, "nn:"+a+":"+b)
		}
	}
	if p.mobile != "" {
		keys = append(keys, "m:"+p.mobile)
	}
	if !p.birthDate.IsZero() {
		keys = append(keys, "d:"+p.birthDate.Format("20060102"))
	}
	return keys
}
