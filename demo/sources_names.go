package demo

import "strings"

// region is a naming tradition: the demo's people come from across India,
// as a Bengaluru group's patients do, and are named the way each region
// names people (a South Indian initial, a Muslim "Mohammed", a Sikh
// "Kaur").
type region struct {
	name     string
	weight   int
	male     []string
	female   []string
	surnames []string
	// femaleSurnames replaces surnames for women when set (Kaur, Begum).
	femaleSurnames []string
	// initialStyle names people "K. Ravi": an initial (father's name or
	// village) before the given name, and no surname.
	initialStyle bool
	pins         []string
	cities       []string
}

var regions = []region{
	{name: "kannada", weight: 34,
		male:     []string{"Ravi", "Suresh", "Manjunath", "Nagaraj", "Prakash", "Shivakumar", "Mahesh", "Raghavendra", "Basavaraj", "Girish", "Venkatesh", "Srinivas", "Chandrashekar", "Harish", "Naveen", "Santosh"},
		female:   []string{"Lakshmi", "Savitha", "Kavya", "Shwetha", "Pooja", "Deepa", "Rekha", "Sumathi", "Geetha", "Bhagya", "Anitha", "Divya", "Jyothi", "Shobha", "Asha", "Nandini"},
		surnames: []string{"Gowda", "Hegde", "Shetty", "Rao", "Kumar", "Patil", "Naik", "Murthy", "Bhat", "Reddy", "Kulkarni", "Swamy"},
		pins:     []string{"560025", "560041", "560078", "570001", "570017", "573201", "573116"},
		cities:   []string{"Bengaluru", "Bengaluru", "Bengaluru", "Mysuru", "Mysuru", "Hassan", "Hassan"}},
	{name: "tamil", weight: 12, initialStyle: true,
		male:     []string{"Karthik", "Senthil", "Murugan", "Arun", "Vignesh", "Saravanan", "Rajesh", "Balaji", "Ganesan"},
		female:   []string{"Priya", "Meena", "Kavitha", "Selvi", "Revathi", "Anjali", "Lakshmi", "Malathi"},
		surnames: []string{"Iyer", "Pillai", "Subramanian", "Raman", "Natarajan", "Krishnan"},
		pins:     []string{"560034", "560095"}, cities: []string{"Bengaluru", "Bengaluru"}},
	{name: "telugu", weight: 10,
		male:     []string{"Venkata Ramana", "Srinivas", "Ramesh", "Naresh", "Chaitanya", "Sai Kiran"},
		female:   []string{"Padma", "Sirisha", "Lavanya", "Swathi", "Sravani"},
		surnames: []string{"Reddy", "Naidu", "Chowdary", "Rao", "Varma"},
		pins:     []string{"560037", "560066"}, cities: []string{"Bengaluru", "Bengaluru"}},
	{name: "malayalam", weight: 8,
		male:     []string{"Anil", "Biju", "Rajeev", "Sajan", "Thomas", "Jacob"},
		female:   []string{"Sreeja", "Anju", "Remya", "Bindu", "Mary"},
		surnames: []string{"Nair", "Menon", "Pillai", "Kurian", "Varghese", "George"},
		pins:     []string{"560017", "570020"}, cities: []string{"Bengaluru", "Mysuru"}},
	{name: "hindi", weight: 12,
		male:     []string{"Amit", "Rahul", "Sanjay", "Vikas", "Rajesh", "Manoj", "Deepak"},
		female:   []string{"Sunita", "Neha", "Pooja", "Anjali", "Rekha", "Kiran"},
		surnames: []string{"Sharma", "Verma", "Gupta", "Singh", "Yadav", "Mishra", "Tiwari"},
		pins:     []string{"560103", "560068"}, cities: []string{"Bengaluru", "Bengaluru"}},
	{name: "marathi", weight: 5,
		male:     []string{"Sachin", "Ganesh", "Prashant", "Nitin"},
		female:   []string{"Snehal", "Vaishali", "Ashwini", "Madhuri"},
		surnames: []string{"Patil", "Deshpande", "Joshi", "Kulkarni", "Pawar"},
		pins:     []string{"560010"}, cities: []string{"Bengaluru"}},
	{name: "bengali", weight: 5,
		male:     []string{"Arindam", "Sourav", "Debashis", "Subhajit"},
		female:   []string{"Moumita", "Rituparna", "Sreeparna", "Tanushree"},
		surnames: []string{"Banerjee", "Chatterjee", "Das", "Ghosh", "Mukherjee"},
		pins:     []string{"560043"}, cities: []string{"Bengaluru"}},
	{name: "muslim", weight: 10,
		male:           []string{"Mohammed Irfan", "Mohammed Rafiq", "Abdul Rahman", "Syed Imran", "Farhan", "Mohammed Salim"},
		female:         []string{"Ayesha", "Fathima", "Shabana", "Nazia", "Zainab"},
		surnames:       []string{"Khan", "Shaikh", "Ahmed", "Pasha", "Baig"},
		femaleSurnames: []string{"Begum", "Khanum", "Banu"},
		pins:           []string{"560045", "570021"}, cities: []string{"Bengaluru", "Mysuru"}},
	{name: "punjabi", weight: 2,
		male: []string{"Harpreet", "Gurpreet", "Manjeet"}, female: []string{"Simran", "Harleen"},
		surnames: []string{"Singh"}, femaleSurnames: []string{"Kaur"},
		pins: []string{"560008"}, cities: []string{"Bengaluru"}},
	{name: "assamese", weight: 2,
		male: []string{"Bhaskar", "Pranjal", "Dhruba"}, female: []string{"Nilakshi", "Barnali"},
		surnames: []string{"Bora", "Saikia", "Gogoi", "Baruah"},
		pins:     []string{"560029"}, cities: []string{"Bengaluru"}},
}

// firstNameVariants are spellings front desks really produce for the same
// name.
var firstNameVariants = map[string][]string{
	"Mohammed Irfan": {"Muhammad Irfan", "Mohd. Irfan"},
	"Mohammed Rafiq": {"Muhammad Rafiq", "Mohd Rafeeq"},
	"Mohammed Salim": {"Muhammad Saleem", "Md. Salim"},
	"Lakshmi":        {"Laxmi", "Lakshmy"},
	"Srinivas":       {"Shrinivas", "Sreenivas"},
	"Shivakumar":     {"Sivakumar", "Shiva Kumar"},
	"Jyothi":         {"Jyoti"},
	"Fathima":        {"Fatima", "FathimA"},
	"Venkatesh":      {"Venkatesha"},
	"Raghavendra":    {"Ragavendra"},
	"Shwetha":        {"Swetha", "Shweta"},
	"Savitha":        {"Savita"},
	"Kavitha":        {"Kavita"},
	"Chandrashekar":  {"Chandrasekhar"},
	"Sumathi":        {"Sumati"},
	"Geetha":         {"Gita", "Geeta"},
	"Venkata Ramana": {"Venkataramana", "V. Ramana"},
	"Sreeja":         {"Sreeja", "Srija"},
	"Ayesha":         {"Aisha"},
	"Syed Imran":     {"Sayed Imran"},
	"Nagaraj":        {"Nagaraja"},
	"Manjunath":      {"Manjunatha"},
}

// transliterate gives another common romanisation of an Indian name when no
// listed variant exists: th/t, sh/s, ee/i, aa/a, v/w.
func transliterate(name string) string {
	for _, r := range [][2]string{{"th", "t"}, {"ee", "i"}, {"sh", "s"}, {"aa", "a"}, {"v", "w"}, {"oo", "u"}, {"i", "ee"}} {
		if strings.Contains(name, r[0]) {
			return strings.Replace(name, r[0], r[1], 1)
		}
	}
	return name + "a"
}
