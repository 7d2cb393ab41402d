package patients

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// A generated population with known truth, for measuring the matcher.
// People come in households (shared surname, PIN code, often a shared
// mobile), with twins and fathers and sons of one name planted among
// them. Each person has one to four records in different source systems,
// each a noisy copy: transliteration variants, initials, swapped name
// order, typing errors, swapped day and month, year-only or missing birth
// dates, a digit off in the mobile, missing fields. The generator is
// seeded, so a run is reproducible.

type region struct {
	male, female, surnames []string
	pinPrefix              string
}

var regions = []region{
	{ // North
		male:      []string{"Rahul", "Amit", "Rajesh", "Sanjay", "Vikas", "Deepak", "Rakesh", "Manoj", "Ajay", "Vijay", "Ashok", "Sunil", "Anil", "Pankaj", "Rohit", "Gaurav", "Vivek", "Naveen", "Harish", "Mukesh", "Dinesh", "Yogesh", "Pradeep", "Sachin", "Abhishek", "Ankit", "Nitin", "Shyam", "Mohan", "Ram"},
		female:    []string{"Pooja", "Neha", "Priya", "Sunita", "Anita", "Kavita", "Rekha", "Suman", "Geeta", "Seema", "Meena", "Asha", "Usha", "Nisha", "Preeti", "Sapna", "Jyoti", "Anjali", "Shalini", "Ritu", "Deepika", "Aarti", "Sarita", "Kiran", "Mamta"},
		surnames:  []string{"Sharma", "Verma", "Gupta", "Singh", "Yadav", "Chaudhary", "Mishra", "Pandey", "Tiwari", "Srivastava", "Agarwal", "Saxena", "Tripathi", "Dubey", "Shukla", "Joshi", "Rastogi", "Bhatnagar", "Malhotra", "Kapoor", "Khanna", "Chauhan", "Rathore", "Thakur"},
		pinPrefix: "110",
	},
	{ // South
		male:      []string{"Srinivas", "Venkatesh", "Ramesh", "Suresh", "Rajesh", "Krishna", "Ganesh", "Mahesh", "Prakash", "Karthik", "Arun", "Senthil", "Murugan", "Balaji", "Vijayakumar", "Raghavendra", "Subramanian", "Nagaraj", "Manjunath", "Srikanth", "Harish", "Anand", "Sathish", "Prasad", "Ravi"},
		female:    []string{"Lakshmi", "Saraswathi", "Padma", "Revathi", "Kavitha", "Deepa", "Divya", "Priya", "Meenakshi", "Sujatha", "Radha", "Shanthi", "Vasantha", "Geetha", "Anitha", "Jayanthi", "Bhavani", "Uma", "Sowmya", "Swathi", "Pavithra", "Gayathri", "Nandini", "Sandhya", "Kamala"},
		surnames:  []string{"Reddy", "Naidu", "Iyer", "Iyengar", "Rao", "Nair", "Menon", "Pillai", "Gowda", "Shetty", "Hegde", "Krishnan", "Raman", "Subramaniam", "Venkataraman", "Rajagopal", "Narayanan", "Murthy", "Sastry", "Chettiar", "Kurup", "Nambiar", "Bhat", "Kamath"},
		pinPrefix: "560",
	},
	{ // East
		male:      []string{"Subhash", "Debashis", "Sourav", "Arindam", "Partha", "Biswajit", "Prasenjit", "Tapas", "Abhijit", "Sanjib", "Bikash", "Prabir", "Amitava", "Sudip", "Ranjan", "Pranab", "Subrata", "Dipankar", "Manas", "Tanmay"},
		female:    []string{"Mousumi", "Sharmila", "Rina", "Mitali", "Suchitra", "Madhumita", "Sangita", "Tanushree", "Payel", "Rupa", "Moumita", "Arpita", "Sudeshna", "Jhuma", "Tanima", "Paromita", "Ananya", "Ishita", "Soma", "Chandana"},
		surnames:  []string{"Banerjee", "Chatterjee", "Mukherjee", "Ghosh", "Bose", "Das", "Dutta", "Sen", "Roy", "Chowdhury", "Mitra", "Sarkar", "Bhattacharya", "Chakraborty", "Ganguly", "Majumdar", "Mohanty", "Patnaik", "Nayak", "Behera"},
		pinPrefix: "700",
	},
	{ // West
		male:      []string{"Sachin", "Ganesh", "Prashant", "Sandeep", "Nilesh", "Mahesh", "Hitesh", "Jignesh", "Bhavesh", "Kalpesh", "Paresh", "Mukund", "Vinayak", "Sagar", "Tushar", "Rohan", "Omkar", "Aniket", "Chirag", "Dhaval"},
		female:    []string{"Snehal", "Manisha", "Swati", "Pallavi", "Vaishali", "Ashwini", "Rupali", "Komal", "Hetal", "Falguni", "Bhavna", "Nirali", "Trupti", "Madhuri", "Sayali", "Shital", "Varsha", "Jayshree", "Darshana", "Mitali"},
		surnames:  []string{"Patil", "Deshmukh", "Kulkarni", "Joshi", "Pawar", "Shinde", "Jadhav", "Gaikwad", "Patel", "Shah", "Mehta", "Desai", "Parikh", "Trivedi", "Bhatt", "Dave", "Modi", "Thakkar", "Zaveri", "Kale"},
		pinPrefix: "411",
	},
	{ // Muslim names, across regions
		male:      []string{"Mohammed Irfan", "Mohammed Salim", "Abdul Rahman", "Imran", "Faisal", "Arif", "Javed", "Rashid", "Mohammed Asif", "Shahid", "Tariq", "Zubair", "Nadeem", "Sameer", "Wasim", "Aftab", "Iqbal", "Khalid"},
		female:    []string{"Fatima", "Ayesha", "Zainab", "Shabana", "Nazia", "Rukhsana", "Farida", "Nasreen", "Sultana", "Yasmin", "Shazia", "Rehana", "Salma", "Parveen", "Naseem", "Tabassum"},
		surnames:  []string{"Khan", "Shaikh", "Ansari", "Qureshi", "Siddiqui", "Syed", "Pathan", "Mirza", "Baig", "Hussain", "Ahmed", "Sheikh", "Malik", "Rizvi"},
		pinPrefix: "500",
	},
}

// variants are spellings of one name that people and clerks use
// interchangeably. Generic rules (spell below) add more.
var variants = map[string][]string{
	"Mohammed": {"Muhammad", "Mohd", "Mohamed", "Md"}, "Lakshmi": {"Laxmi", "Lakshmee"},
	"Srinivas": {"Shrinivas", "Sreenivas", "Srinivasa"}, "Chaudhary": {"Choudhary", "Chowdhury", "Chaudhari"},
	"Chowdhury": {"Choudhury", "Chaudhuri", "Chowdhary"}, "Saraswathi": {"Saraswati"}, "Geetha": {"Gita", "Geeta"},
	"Geeta": {"Gita", "Geetha"}, "Shanthi": {"Shanti", "Santhi"}, "Kavitha": {"Kavita"}, "Kavita": {"Kavitha"},
	"Anitha": {"Anita"}, "Anita": {"Anitha"}, "Sujatha": {"Sujata"}, "Revathi": {"Revati"}, "Swathi": {"Swati"},
	"Gayathri": {"Gayatri"}, "Pavithra": {"Pavitra"}, "Jayanthi": {"Jayanti"}, "Vasantha": {"Vasanta"},
	"Bikash": {"Vikash", "Bikas"}, "Debashis": {"Debasish", "Debasis"}, "Biswajit": {"Vishwajit", "Biswajeet"},
	"Abhijit": {"Abhijeet"}, "Prasenjit": {"Prosenjit"}, "Sourav": {"Saurav", "Saurabh"}, "Subhash": {"Subash", "Shubhash"},
	"Banerjee": {"Banerji", "Bannerjee"}, "Chatterjee": {"Chatterji"}, "Mukherjee": {"Mukherji"},
	"Bhattacharya": {"Bhattacharjee"}, "Chakraborty": {"Chakravarty", "Chakrabarti"}, "Patnaik": {"Pattnaik"},
	"Srivastava": {"Shrivastava", "Srivastav"}, "Agarwal": {"Agrawal", "Aggarwal"}, "Tiwari": {"Tiwary"},
	"Yadav": {"Yadava"}, "Reddy": {"Reddi"}, "Iyengar": {"Ayyangar"}, "Subramanian": {"Subramaniam", "Subrahmanyam"},
	"Subramaniam": {"Subramanian"}, "Venkatesh": {"Venkatesha"}, "Raghavendra": {"Ragavendra"},
	"Shaikh": {"Sheikh", "Shaik"}, "Sheikh": {"Shaikh", "Shekh"}, "Qureshi": {"Kureshi", "Quraishi"}, "Syed": {"Sayed", "Saiyed"},
	"Hussain": {"Husain", "Hussein"}, "Ahmed": {"Ahmad"}, "Zainab": {"Jainab"}, "Ayesha": {"Aisha"},
	"Zaveri": {"Javeri"}, "Thakkar": {"Thakar"}, "Dave": {"Davey"},
	"Vijay": {"Vijai"}, "Sanjay": {"Sanjai"}, "Vivek": {"Vivekh"}, "Deepak": {"Dipak"}, "Pradeep": {"Pradip"},
	"Rakesh": {"Rakeesh"}, "Mukesh": {"Mukeesh"}, "Dinesh": {"Dineesh"}, "Deepika": {"Dipika"}, "Preeti": {"Priti"},
	"Pooja": {"Puja"}, "Jyoti": {"Jyothi"}, "Ritu": {"Ritoo"}, "Usha": {"Ushaa"},
}

// spell applies one generic transliteration change, if one fits.
func spell(r *rand.Rand, w string) string {
	rules := [][2]string{
		{"aa", "a"}, {"a", "aa"}, {"ee", "i"}, {"i", "ee"}, {"oo", "u"}, {"u", "oo"}, {"v", "w"}, {"w", "v"},
		{"ph", "f"}, {"sh", "s"}, {"th", "t"}, {"t", "th"}, {"esh", "eesh"}, {"dh", "d"}, {"bh", "b"},
	}
	lower := strings.ToLower(w)
	for range 4 {
		rule := rules[r.IntN(len(rules))]
		// Change a vowel only inside the word, as variant spellings do.
		i := strings.Index(lower[1:], rule[0])
		if i < 0 {
			continue
		}
		i++
		out := lower[:i] + rule[1] + lower[i+len(rule[0]):]
		return strings.ToUpper(out[:1]) + out[1:]
	}
	return w
}

// typo makes one typing error: a letter dropped, doubled, replaced or two
// swapped. One in ten hits the first letter.
func typo(r *rand.Rand, w string) string {
	if len(w) < 4 {
		return w
	}
	i := 1 + r.IntN(len(w)-2)
	if r.IntN(10) == 0 {
		i = 0
	}
	letters := "abcdefghijklmnoprstuvy"
	switch r.IntN(4) {
	case 0:
		return w[:i] + w[i+1:]
	case 1:
		return w[:i+1] + w[i:]
	case 2:
		c := string(letters[r.IntN(len(letters))])
		if i == 0 {
			c = strings.ToUpper(c)
		}
		return w[:i] + c + w[i+1:]
	default:
		return w[:i] + string(w[i+1]) + string(w[i]) + w[i+2:]
	}
}

// truePerson is one generated person.
type truePerson struct {
	id        int
	given     []string
	surname   string
	gender    string
	birth     time.Time
	mobile    string
	pin       string
	abha      string
	household int
}

func sharesGivenName(household []truePerson, p truePerson) bool {
	for _, o := range household {
		if o.given[0] == p.given[0] {
			return true
		}
	}
	return false
}

// population is the generated people and their records; truth maps a
// record's (source, local id) to its person.
type population struct {
	people  []truePerson
	records []SourceRecord
	truth   map[string]int
}

func recordKey(r SourceRecord) string { return r.SourceSystemID + "/" + r.LocalID }

func randomMobile(r *rand.Rand) string {
	return fmt.Sprintf("%d%09d", 6+r.IntN(4), r.IntN(1_000_000_000))
}

// generatePopulation makes about n people and their records in sources
// (each person has at most one record per source), in shuffled order.
func generatePopulation(seed uint64, n int, sources []string) population {
	r := rand.New(rand.NewPCG(seed, seed^0x5a17))
	var pop population
	pop.truth = map[string]int{}
	abhaSeq := 0
	newPerson := func(reg region, surname, gender, mobile, pin string, birth time.Time, hh int) truePerson {
		pool := reg.male
		if gender == "F" {
			pool = reg.female
		}
		p := truePerson{
			id: len(pop.people), given: strings.Fields(pool[r.IntN(len(pool))]), surname: surname,
			gender: gender, birth: birth, mobile: mobile, pin: pin, household: hh,
		}
		if r.IntN(10) < 3 {
			abhaSeq++
			p.abha = fmt.Sprintf("91%012d", 100000000000+abhaSeq*7919)
		}
		return p
	}
	randomBirth := func(from, to int) time.Time {
		return time.Date(from+r.IntN(to-from), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	}
	gender := func() string {
		if r.IntN(2) == 0 {
			return "M"
		}
		return "F"
	}
	for hh := 0; len(pop.people) < n; hh++ {
		reg := regions[r.IntN(len(regions))]
		surname := reg.surnames[r.IntN(len(reg.surnames))]
		pin := fmt.Sprintf("%s%03d", reg.pinPrefix, r.IntN(100))
		home := randomMobile(r)
		size := 1 + r.IntN(4)
		start := len(pop.people)
		for i := range size {
			mobile := home
			if i > 0 && r.IntN(10) < 4 {
				mobile = randomMobile(r)
			}
			// Two members of a household rarely share a given name; the
			// father and son planted below do.
			p := newPerson(reg, surname, gender(), mobile, pin, randomBirth(1940, 2020), hh)
			for tries := 0; tries < 20 && sharesGivenName(pop.people[start:], p); tries++ {
				p = newPerson(reg, surname, p.gender, mobile, pin, p.birth, hh)
			}
			pop.people = append(pop.people, p)
		}
		head := pop.people[len(pop.people)-size]
		switch k := r.IntN(100); {
		case k < 6: // twins: same birth date, often the same gender, different names
			b := randomBirth(1980, 2022)
			g := gender()
			first := newPerson(reg, surname, g, home, pin, b, hh)
			for tries := 0; tries < 20 && sharesGivenName(pop.people[start:], first); tries++ {
				first = newPerson(reg, surname, g, home, pin, b, hh)
			}
			pop.people = append(pop.people, first)
			second := newPerson(reg, surname, g, home, pin, b, hh)
			for tries := 0; tries < 20 && sharesGivenName(pop.people[start:], second); tries++ {
				second = newPerson(reg, surname, g, home, pin, b, hh)
			}
			pop.people = append(pop.people, second)
		case k < 10: // a son named after his father, sharing the home mobile
			if head.gender == "M" && head.birth.Year() < 1985 {
				son := newPerson(reg, surname, "M", home, pin, randomBirth(head.birth.Year()+20, min(head.birth.Year()+40, 2020)), hh)
				son.given = head.given
				pop.people = append(pop.people, son)
			}
		}
	}

	type slot struct {
		rec   SourceRecord
		truth int
	}
	var slots []slot
	for _, p := range pop.people {
		k := 1 + r.IntN(4) // 2.5 records a person on average
		perm := r.Perm(len(sources))
		for i := 0; i < k && i < len(sources); i++ {
			rec := noisyRecord(r, p)
			rec.SourceSystemID = sources[perm[i]]
			rec.LocalID = fmt.Sprintf("P%05d-%d", p.id, i)
			slots = append(slots, slot{rec, p.id})
		}
	}
	r.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })
	for i, s := range slots {
		// Local ids say nothing about the person.
		s.rec.LocalID = fmt.Sprintf("L%06d", i)
		pop.records = append(pop.records, s.rec)
		pop.truth[recordKey(s.rec)] = s.truth
	}
	return pop
}

// noisyRecord is one system's copy of a person.
func noisyRecord(r *rand.Rand, p truePerson) SourceRecord {
	words := append([]string{}, p.given...)
	for i, w := range words {
		words[i] = variantOf(r, w)
	}
	surname := variantOf(r, p.surname)
	switch k := r.IntN(100); {
	case k < 8: // first given name as an initial
		words[0] = words[0][:1] + "."
	case k < 12 && len(words) > 1: // a second given name left out
		words = words[:1]
	}
	var name []string
	if r.IntN(100) < 15 {
		name = append([]string{surname}, words...) // family name first
	} else {
		name = append(words, surname)
	}
	if r.IntN(100) < 8 {
		i := r.IntN(len(name))
		if !strings.HasSuffix(name[i], ".") {
			name[i] = typo(r, name[i])
		}
	}
	rec := SourceRecord{Name: strings.Join(name, " "), Gender: p.gender}
	if r.IntN(100) < 4 {
		rec.Gender = ""
	}

	b := p.birth
	switch k := r.IntN(100); {
	case k < 72:
		rec.BirthDate, rec.BirthYear = b, b.Year()
	case k < 80 && b.Day() <= 12 && b.Day() != int(b.Month()):
		rec.BirthDate = time.Date(b.Year(), time.Month(b.Day()), int(b.Month()), 0, 0, 0, 0, time.UTC)
		rec.BirthYear = b.Year()
	case k < 90:
		rec.BirthYear = b.Year()
	case k < 93:
		// One digit of the day mistyped (a valid date all the same).
		day := b.Day()
		for day == b.Day() {
			day = b.Day()/10*10 + r.IntN(10)
			if day == 0 || day > 28 {
				day = b.Day()
			}
		}
		rec.BirthDate = time.Date(b.Year(), b.Month(), day, 0, 0, 0, 0, time.UTC)
		rec.BirthYear = b.Year()
	case k < 96:
		// missing
	default:
		rec.BirthDate, rec.BirthYear = b, b.Year()
	}

	switch k := r.IntN(100); {
	case k < 68:
		rec.Mobile = p.mobile
		if r.IntN(3) == 0 {
			rec.Mobile = "+91 " + p.mobile[:5] + " " + p.mobile[5:]
		}
	case k < 73:
		m := []byte(p.mobile)
		i := 1 + r.IntN(9)
		m[i] = byte('0' + (int(m[i]-'0')+1+r.IntN(8))%10)
		rec.Mobile = string(m)
	case k < 78:
		rec.Mobile = randomMobile(r) // a changed number
	}
	if r.IntN(100) < 70 {
		rec.PinCode = p.pin
	}
	if p.abha != "" && r.IntN(100) < 35 {
		rec.ABHANumber = p.abha
	}
	return rec
}

// variantOf returns w or, often, another spelling of it.
func variantOf(r *rand.Rand, w string) string {
	switch k := r.IntN(100); {
	case k < 20:
		if vs, ok := variants[w]; ok {
			return vs[r.IntN(len(vs))]
		}
		return spell(r, w)
	case k < 30:
		return spell(r, w)
	}
	return w
}
