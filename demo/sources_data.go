package demo

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ist is the demo's local time: the vendors store clinic times without a
// zone, CareWare with one.
var ist = time.FixedZone("IST", 5*3600+1800)

// siteCodes are each vendor's code for a facility, as its installation
// params in source_systems.config carry them.
var siteCodes = map[string]map[string]string{
	"medisoft":  {"IN2910000231": "KCH", "IN2910000944": "KHN"},
	"labtrack":  {"IN2910000231": "BLR01", "IN2910000587": "MYS01"},
	"pharmaone": {"IN2910000231": "ST-BLR", "IN2910000944": "ST-HSN"},
}

// vendorData is one vendor schema's rows, by table, in column order.
type vendorData map[string][][]any

// dataBuilder turns people into vendor rows. Counters make every id; the
// people and their records are walked in a fixed order, so the same ids
// come out every time.
type dataBuilder struct {
	data     map[string]vendorData // by vendor
	counters map[string]int
}

func (b *dataBuilder) add(vendor, table string, row ...any) {
	if b.data[vendor] == nil {
		b.data[vendor] = vendorData{}
	}
	b.data[vendor][table] = append(b.data[vendor][table], row)
}

func (b *dataBuilder) next(name string) int {
	b.counters[name]++
	return b.counters[name]
}

// buildVendorData generates every vendor's rows for people.
func buildVendorData(people []Person) map[string]vendorData {
	b := &dataBuilder{data: map[string]vendorData{}, counters: map[string]int{}}
	for _, p := range people {
		if p.ID == ClaimsPersonID {
			b.claimsCase(p)
			continue
		}
		conditions := personConditions(p)
		for _, hfr := range facilitiesOf(p) {
			rng := rand.New(rand.NewPCG(demoSeed, hash(p.ID+hfr)))
			b.facility(rng, p, hfr, conditions)
		}
	}
	return b.data
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func facilitiesOf(p Person) []string {
	var out []string
	for _, r := range p.Records {
		if !slices.Contains(out, r.FacilityHFRID) {
			out = append(out, r.FacilityHFRID)
		}
	}
	return out
}

// personConditions picks one or two conditions that fit the person.
func personConditions(p Person) []diagnosis {
	rng := rand.New(rand.NewPCG(demoSeed, hash(p.ID)))
	age := demoAnchor.Year() - p.BirthDate.Year()
	fits := func(d diagnosis) bool {
		switch d.icd10 {
		case "O24.4":
			return p.Gender == "F" && age >= 20 && age <= 40
		case "E11.9", "I10", "I21.9":
			return age >= 30
		case "M54.5":
			return age >= 18
		}
		return true
	}
	n := 1 + rng.IntN(2)
	var out []diagnosis
	for len(out) < n {
		total := 0
		for _, d := range diagnoses {
			total += d.weight
		}
		k := rng.IntN(total)
		for _, d := range diagnoses {
			if k < d.weight {
				if fits(d) && !slices.ContainsFunc(out, func(o diagnosis) bool { return o.icd10 == d.icd10 }) {
					out = append(out, d)
				}
				break
			}
			k -= d.weight
		}
	}
	return out
}

// encounter is a vendor-neutral visit or admission.
type encounter struct {
	// id is the HIS's number for it when fixed in advance (the claims
	// case); empty means the next of the vendor's sequence.
	id         string
	at, end    time.Time
	dept, doc  string
	dx         []diagnosis
	complaint  string
	inpatient  bool
	summary    string
	vitalsRead []float64 // in vitals order; temperature in °F
	procs      []procedure
}

func (b *dataBuilder) facility(rng *rand.Rand, p Person, hfr string, conditions []diagnosis) {
	recs := map[string]PersonRecord{}
	for _, r := range p.Records {
		if r.FacilityHFRID == hfr {
			recs[r.SourceCode] = r
		}
	}
	his := recs["his"]
	age := demoAnchor.Year() - p.BirthDate.Year()
	var encs []encounter
	for range 1 + rng.IntN(4) {
		d := conditions[rng.IntN(len(conditions))]
		at := demoAnchor.AddDate(0, 0, -rng.IntN(1000)).Add(time.Duration(9*60+rng.IntN(8*60)) * time.Minute)
		at = time.Date(at.Year(), at.Month(), at.Day(), at.Hour(), at.Minute(), 0, 0, ist)
		e := encounter{at: at, dept: d.depts[rng.IntN(len(d.depts))], doc: pick(rng, doctors[hfr]), dx: []diagnosis{d}, complaint: d.complaint}
		if len(conditions) > 1 && rng.IntN(3) == 0 {
			e.dx = conditions
		}
		for _, v := range vitals {
			x := v.low + rng.Float64()*(v.high-v.low)
			if v.msCode == "WT" {
				x = weightFor(age, rng)
			}
			e.vitalsRead = append(e.vitalsRead, round(x, v.decimals))
		}
		encs = append(encs, e)
		if d.inpatient && rng.IntN(10) < 7 || rng.IntN(100) < 4 {
			adm := e
			adm.inpatient = true
			adm.at = at.Add(2 * time.Hour)
			adm.end = adm.at.AddDate(0, 0, 2+rng.IntN(5))
			adm.summary = dischargeSummary(adm, rng)
			if pr, ok := proceduresFor[d.icd10]; ok {
				adm.procs = []procedure{pr}
			}
			encs = append(encs, adm)
		}
	}
	slices.SortStableFunc(encs, func(a, c encounter) int { return a.at.Compare(c.at) })

	var hisIDs []string // the HIS's id of each encounter
	switch his.Vendor {
	case "medisoft":
		hisIDs = b.medisoft(his, p, encs)
	case "careware":
		hisIDs = b.careware(his, p, encs)
	}
	var labs map[int][]string
	if r, ok := recs["lims"]; ok {
		labs = b.labtrack(rng, r, his, encs, p)
	}
	if r, ok := recs["ris"]; ok {
		b.radview(rng, r, encs)
	}
	if r, ok := recs["pharmacy"]; ok {
		b.pharmaone(rng, r, encs)
	}
	if r, ok := recs["billing"]; ok {
		// Its own random stream: billing came later, and adding it must
		// not change what the other systems hold.
		brng := rand.New(rand.NewPCG(demoSeed, hash(p.ID+hfr+"billdesk")))
		b.billdesk(brng, r, p, encs, hisIDs, labs)
	}
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func round(x float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(x*p) / p
}

func weightFor(age int, rng *rand.Rand) float64 {
	switch {
	case age < 2:
		return 8 + rng.Float64()*4
	case age < 12:
		return 12 + float64(age)*2.5 + rng.Float64()*4
	}
	return 48 + rng.Float64()*40
}

func fmtNum(x float64, decimals int) string { return strconv.FormatFloat(x, 'f', decimals, 64) }

func dischargeSummary(e encounter, rng *rand.Rand) string {
	var dx []string
	for _, d := range e.dx {
		dx = append(dx, d.icd10Text)
	}
	var meds []string
	for _, code := range drugsFor[e.dx[0].icd10] {
		for _, d := range drugs {
			if d.code == code {
				meds = append(meds, d.name)
			}
		}
	}
	outcome := pick(rng, []string{"stable", "stable and afebrile", "improved, ambulant"})
	return fmt.Sprintf("Admitted on %s with %s. Diagnosis: %s. Treated with %s and supportive care. "+
		"Condition at discharge: %s. Advised review in OPD after one week, or earlier if symptoms recur.",
		e.at.Format("02 Jan 2006"), strings.ToLower(e.complaint), strings.Join(dx, "; "), strings.Join(meds, ", "), outcome)
}

// splitName splits a name as a three-box registration form does.
func splitName(name string) (first, middle, last string) {
	parts := strings.Fields(name)
	switch len(parts) {
	case 1:
		return parts[0], "", ""
	case 2:
		return parts[0], "", parts[1]
	}
	return parts[0], strings.Join(parts[1:len(parts)-1], " "), parts[len(parts)-1]
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func dateOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// wall drops the zone: the vendors storing "timestamp" keep clinic time.
func wall(t time.Time) time.Time {
	t = t.In(ist)
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
}

// medisoft writes the person's MediSoft rows and returns each encounter's
// visit or admission number.
func (b *dataBuilder) medisoft(r PersonRecord, p Person, encs []encounter) []string {
	site := siteCodes["medisoft"][r.FacilityHFRID]
	letter := site[1:2]
	first, middle, last := splitName(r.Name)
	sex := map[string]string{"M": "Male", "F": "Female"}[r.Gender]
	created := wall(encs[0].at.Add(-20 * time.Minute))
	b.add("medisoft", "patient_master", r.LocalID, site, first, nullable(middle), nullable(last), sex, dateOrNil(r.BirthDate),
		nullable(r.Mobile), nullable(r.ABHANumber), nullable(r.ABHAAddress), p.Address, p.PinCode, created, created)
	ids := make([]string, len(encs))
	for k, e := range encs {
		if e.inpatient {
			ip := e.id
			if ip == "" {
				ip = fmt.Sprintf("IP%s%05d", letter, b.next("medisoft-ip"))
			}
			ids[k] = ip
			b.add("medisoft", "ipd_admission", ip, site, r.LocalID, wall(e.at), wall(e.end), pickWard(e), e.doc, e.summary, wall(e.end.Add(3*time.Hour)))
			for i, d := range e.dx {
				b.add("medisoft", "admission_diagnosis", ip, i+1, d.icd10, d.icd10Text)
			}
			for i, pr := range e.procs {
				start := e.at.Add(pr.after)
				b.add("medisoft", "ipd_procedure", ip, i+1, pr.msCode, pr.msName, wall(start), wall(start.Add(pr.takes)), e.doc, nullable(pr.anaesthesia))
			}
			continue
		}
		v := e.id
		if v == "" {
			v = fmt.Sprintf("V%s%06d", letter, b.next("medisoft-visit"))
		}
		ids[k] = v
		b.add("medisoft", "opd_visit", v, site, r.LocalID, wall(e.at), e.dept, e.doc, e.complaint, wall(e.at.Add(40*time.Minute)))
		for i, d := range e.dx {
			b.add("medisoft", "visit_diagnosis", v, i+1, d.icd10, d.icd10Text)
		}
		for i, vt := range vitals {
			b.add("medisoft", "vitals", v, vt.msCode, e.vitalsRead[i], vt.msUnit, wall(e.at.Add(-10*time.Minute)))
		}
	}
	return ids
}

func pickWard(e encounter) string {
	switch e.dept {
	case "Paediatrics":
		return "Paediatric ward"
	case "Cardiology":
		return "CCU"
	case "General Surgery", "Orthopaedics":
		return "Surgical ward"
	case "Obstetrics and Gynaecology":
		return "Maternity ward"
	}
	return "Medical ward"
}

// careware writes the person's CareWare rows and returns each encounter's
// id. Medical records codes inpatient stays in ICD-10 too.
func (b *dataBuilder) careware(r PersonRecord, p Person, encs []encounter) []string {
	person := 1000 + b.next("careware-person")
	gender := map[string]int16{"M": 1, "F": 2}[r.Gender]
	var birth, phone, health any
	if !r.BirthDate.IsZero() {
		birth = r.BirthDate.Format("02-01-2006")
	}
	if r.Mobile != "" {
		phone = "+91 " + r.Mobile[:5] + " " + r.Mobile[5:]
	}
	if r.ABHANumber != "" {
		health = strings.ReplaceAll(r.ABHANumber, "-", "")
	}
	b.add("careware", "persons", int64(person), r.LocalID, r.Name, gender, birth, phone, health, nullable(r.ABHAAddress),
		p.Address, p.PinCode, encs[0].at.Add(-20*time.Minute))
	ids := make([]string, len(encs))
	for k, e := range encs {
		var enc int64
		if e.id == "" {
			enc = int64(700000 + b.next("careware-enc"))
		} else {
			var err error
			if enc, err = strconv.ParseInt(e.id, 10, 64); err != nil {
				panic("demo: CareWare encounter ids are numbers, got " + e.id)
			}
		}
		ids[k] = strconv.FormatInt(enc, 10)
		typ, end := "OP", e.at.Add(25*time.Minute)
		if e.inpatient {
			typ, end = "IP", e.end
		}
		b.add("careware", "encounters", enc, int64(person), typ, e.at, end, e.dept, e.doc, e.complaint, end.Add(time.Hour))
		for i, d := range e.dx {
			var icd any
			if e.inpatient {
				icd = d.icd10
			}
			b.add("careware", "problems", enc, i+1, d.cwCode, d.cwText, icd)
		}
		if e.inpatient {
			for _, pr := range e.procs {
				start := e.at.Add(pr.after)
				b.add("careware", "procedures_done", int64(b.next("careware-proc")), enc, pr.snomed, pr.msName, start, start.Add(pr.takes), e.doc)
			}
			b.add("careware", "discharge_notes", enc, e.summary, e.doc, e.end)
			continue
		}
		for i, vt := range vitals {
			x, dec := e.vitalsRead[i], vt.decimals
			if vt.msCode == "TEMP" {
				x = round((x-32)*5/9, 1)
			}
			b.add("careware", "observations", int64(b.next("careware-obs")), enc, vt.cwName, fmtNum(x, dec), vt.cwUnit, e.at.Add(-10*time.Minute))
		}
	}
	return ids
}

// labtrack writes the person's LabTrack rows and returns the panels
// ordered at each encounter (by index), for the bill.
func (b *dataBuilder) labtrack(rng *rand.Rand, r, his PersonRecord, encs []encounter, p Person) map[int][]string {
	branch := siteCodes["labtrack"][r.FacilityHFRID]
	var contact, hospMRN any
	if r.Mobile != "" {
		contact = r.Mobile
		if rng.IntN(3) == 0 {
			contact = "0" + r.Mobile
		}
	}
	if rng.IntN(2) == 0 {
		hospMRN = his.LocalID
	}
	age := demoAnchor.Year() - p.BirthDate.Year()
	b.add("labtrack", "lab_patient", r.LocalID, branch, strings.ToUpper(r.Name), r.Gender, dateOrNil(r.BirthDate), age, contact, hospMRN,
		wall(encs[0].at.Add(30*time.Minute)))
	ordered := map[int][]string{}
	for k, e := range encs {
		if e.inpatient || rng.IntN(10) >= 7 {
			continue
		}
		ordered[k] = panelsFor[e.dx[0].icd10]
		for _, pc := range panelsFor[e.dx[0].icd10] {
			pn := panelByCode(pc)
			order := fmt.Sprintf("ORD-%06d", 100000+b.next("labtrack-order"))
			collected := e.at.Add(time.Hour)
			reported := collected.Add(time.Duration(3+rng.IntN(5)) * time.Hour)
			b.add("labtrack", "lab_order", order, r.LocalID, branch, pn.code, pn.name, wall(collected), wall(reported), "FINAL",
				e.doc, pick(rng, pathologists), wall(reported.Add(5*time.Minute)))
			for i, tc := range pn.tests {
				t := labTests[tc]
				value, flag := labValue(rng, t, e.dx[0])
				var low, high any
				if t.text == nil {
					high = t.refHigh
					if t.refLow > 0 {
						low = t.refLow
					}
				}
				b.add("labtrack", "lab_result", order, i+1, t.code, t.name, value, nullable(t.units), low, high, flag)
			}
		}
	}
	return ordered
}

func panelByCode(code string) panel {
	for _, p := range panels {
		if p.code == code {
			return p
		}
	}
	panic("demo: unknown panel " + code)
}

// labValue draws a result around the test's mean; conditions push their
// marker out of range (diabetes raises sugar, dengue drops platelets).
func labValue(rng *rand.Rand, t labTest, d diagnosis) (string, string) {
	if t.text != nil {
		v := pick(rng, t.text)
		if d.icd10 == "A90" && t.code == "DENGNS1" {
			v = "Positive"
		}
		return v, ""
	}
	x := t.mean + (rng.Float64()*2-1)*t.spread
	switch {
	case d.icd10 == "E11.9" || d.icd10 == "O24.4":
		if t.code == "FBS" || t.code == "PPBS" || t.code == "HBA1C" {
			x *= 1.35
		}
	case d.icd10 == "A90" && t.code == "PLT":
		x = 40 + rng.Float64()*80
	case d.icd10 == "D50.9" && t.code == "HB":
		x = 7.5 + rng.Float64()*3
	case d.icd10 == "E03.9" && t.code == "TSH":
		x = 6 + rng.Float64()*8
	}
	x = math.Max(round(x, t.decimals), 0)
	flag := ""
	switch {
	case x < t.refLow:
		flag = "L"
	case x > t.refHigh:
		flag = "H"
	}
	return fmtNum(x, t.decimals), flag
}

func (b *dataBuilder) radview(rng *rand.Rand, r PersonRecord, encs []encounter) {
	parts := strings.Fields(strings.ToUpper(r.Name))
	pn := parts[len(parts)-1] + "^" + strings.Join(parts[:len(parts)-1], " ")
	var birth any
	if !r.BirthDate.IsZero() {
		birth = r.BirthDate.Format("20060102")
	}
	b.add("radview", "ris_patient", r.LocalID, pn, birth, r.Gender, nullable(r.Mobile), wall(encs[0].at))
	for n := range 1 + rng.IntN(2) {
		e := encs[rng.IntN(len(encs))]
		kind := pick(rng, imagingKinds)
		if e.dx[0].icd10 == "J18.9" {
			kind = imagingKinds[0]
		}
		abnormal := rng.IntN(100) < 35 || e.dx[0].icd10 == "J18.9" && kind.code == "XRCHPA"
		report, impression := kind.normal, kind.impressionNormal
		if abnormal {
			report, impression = kind.abnormal, kind.impressionAb
		}
		seq := b.next("radview-study")
		at := e.at.Add(time.Duration(90+n*30) * time.Minute)
		final := rng.IntN(10) > 0
		status, finalised := "P", any(nil)
		if final {
			status, finalised = "F", wall(at.Add(4*time.Hour))
		}
		b.add("radview", "study", fmt.Sprintf("ACC%d%05d", at.Year(), seq), r.LocalID, fmt.Sprintf("1.2.826.0.1.3680043.10.1011.%d", 500000+seq),
			kind.code, kind.modality, kind.desc, kind.bodyPart, at.Format("20060102"), at.Format("150405"), status,
			report, impression, pick(rng, radiologists), finalised, wall(at.Add(5*time.Hour)))
	}
}

func (b *dataBuilder) pharmaone(rng *rand.Rand, r PersonRecord, encs []encounter) {
	store := siteCodes["pharmaone"][r.FacilityHFRID]
	var mobile any
	if r.Mobile != "" {
		mobile = "+91-" + r.Mobile
	}
	gender := map[string]string{"M": "male", "F": "female"}[r.Gender]
	b.add("pharmaone", "customer", r.LocalID, store, r.Name, mobile, r.BirthYear, gender, wall(encs[0].at.Add(time.Hour)))
	for _, e := range encs {
		if rng.IntN(10) >= 7 {
			continue
		}
		rx := fmt.Sprintf("RX-%s-%05d", store[3:], b.next("pharmaone-rx"))
		at := e.at.Add(50 * time.Minute)
		if e.inpatient {
			at = e.end.Add(time.Hour)
		}
		b.add("pharmaone", "rx_order", rx, r.LocalID, store, wall(at), e.doc, "DISPENSED", wall(at.Add(10*time.Minute)))
		for i, code := range drugsFor[e.dx[0].icd10] {
			for _, d := range drugs {
				if d.code == code {
					qty := d.days * perDay(d.frequency)
					b.add("pharmaone", "rx_line", rx, i+1, d.code, d.name, d.dose, d.frequency, d.days, qty)
				}
			}
		}
	}
}

// perDay reads how many doses a frequency means, for the dispensed
// quantity.
func perDay(frequency string) int {
	switch {
	case strings.Contains(frequency, "three times"):
		return 3
	case strings.Contains(frequency, "twice"):
		return 2
	}
	return 1
}
