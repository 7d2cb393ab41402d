package demo

import (
	"strconv"
	"strings"
	"time"
)

// The claims case: one person treated as an inpatient at two of the
// group's facilities, so that an NHCX claim can be assembled from what the
// systems already hold (diagnoses and procedures from the HIS, lab and
// imaging evidence from LIMS and RIS, line items and amounts from
// billing). Unlike everyone else in the demo, her records are written by
// hand, with fixed ids that the generated ones never reach.
//
// Kavya Shetty, 29, lives in Mysuru and works in Bengaluru. At 22 weeks of
// pregnancy she came to Kaveri City Hospital, Bengaluru, with acute
// appendicitis: blood counts, an abdominal ultrasound and a laparoscopic
// appendicectomy, three days in the surgical ward. She went home to Mysuru
// for the birth: an antenatal visit at Kaveri Women and Child Hospital found
// gestational diabetes, and at 38 weeks, with the baby in breech
// presentation, she was admitted for a caesarean section. Bengaluru has no
// billing system in the demo, so only the Mysuru visit and stay are billed.

// ClaimsPersonID is the demo person of the claims case (see Claims).
const ClaimsPersonID = "P201"

// billingHFRID is the facility whose billing system the demo fills: Kaveri
// Women and Child Hospital, Mysuru.
const billingHFRID = "IN2910000587"

// ClaimsCase is the claims walkthrough's patient and her two stays.
type ClaimsCase struct {
	Person Person
	// Stays are the Bengaluru stay, then the Mysuru one.
	Stays []ClaimsStay
}

// ClaimsStay is one inpatient stay of the claims case and the records
// about it, by the ids its facility's systems use (care-context references
// are "<source code>:<type>:<id>", e.g. "his:admission:IPC90001",
// "billing:bill:MYS-IP-2025-90001").
type ClaimsStay struct {
	HFRID string
	// PatientID is the patient's HIS id there: a MediSoft MRN or a
	// CareWare UHID (which Billdesk uses too).
	PatientID string
	// Admission is the HIS's number for the stay: a MediSoft IP number or
	// a CareWare encounter id.
	Admission            string
	Admitted, Discharged time.Time
	Diagnoses            []string // ICD-10
	Procedures           []string // SNOMED CT
	// Visits are the HIS's OPD visits around the stay.
	Visits    []string
	LabOrders []string // LabTrack order ids, at the visits and the stay
	Studies   []string // RadView accessions
	// Bills are Billdesk bill numbers: the stay's bill and its visits'.
	Bills []string
}

// Claims describes the claims case. Its person is People()'s last.
func Claims() ClaimsCase {
	c := ClaimsCase{Person: claimsPerson()}
	first, second := claimsFirstStay(), claimsSecondStay()
	stay := func(hfr, patient string, encs []encounter, labs []claimsLab, studies, bills []string) ClaimsStay {
		s := ClaimsStay{HFRID: hfr, PatientID: patient, Studies: studies, Bills: bills}
		for _, e := range encs {
			if !e.inpatient {
				s.Visits = append(s.Visits, e.id)
				continue
			}
			s.Admission, s.Admitted, s.Discharged = e.id, e.at, e.end
			for _, d := range e.dx {
				s.Diagnoses = append(s.Diagnoses, d.icd10)
			}
			for _, p := range e.procs {
				s.Procedures = append(s.Procedures, p.snomed)
			}
		}
		for _, l := range labs {
			s.LabOrders = append(s.LabOrders, l.order)
		}
		return s
	}
	var bills []string
	for _, b := range claimsBills() {
		bills = append(bills, b.no)
	}
	c.Stays = []ClaimsStay{
		stay("IN2910000231", "MRN-109001", first, claimsFirstLabs, []string{claimsStudy.accession}, nil),
		stay(billingHFRID, "CW/2025/009001", second, claimsSecondLabs, nil, bills),
	}
	return c
}

func claimsPerson() Person {
	p := Person{
		ID: ClaimsPersonID, Name: "Kavya Shetty", Gender: "F", BirthDate: time.Date(1996, 3, 14, 0, 0, 0, 0, time.UTC),
		Mobile: "9741203386", ABHANumber: "91-7760-4312-8845", ABHAAddress: "kavya.shetty96@sbx",
		Address: "112, 4th Cross, Mysuru", PinCode: "570017", Region: "kannada",
	}
	rec := func(hfr, code, vendor, id string) PersonRecord {
		return PersonRecord{FacilityHFRID: hfr, SourceCode: code, Vendor: vendor, LocalID: id, Name: p.Name, Gender: p.Gender,
			BirthDate: p.BirthDate, BirthYear: p.BirthDate.Year(), Mobile: p.Mobile}
	}
	// Bengaluru registered her ABHA card; Mysuru's desk typed the ABHA
	// number from it but not the address. Departmental systems keep no
	// ABHA.
	his := rec("IN2910000231", "his", "medisoft", "MRN-109001")
	his.ABHANumber, his.ABHAAddress = p.ABHANumber, p.ABHAAddress
	cw := rec(billingHFRID, "his", "careware", "CW/2025/009001")
	cw.ABHANumber = p.ABHANumber
	p.Records = []PersonRecord{
		his,
		rec("IN2910000231", "lims", "labtrack", "LAB-609001"),
		rec("IN2910000231", "ris", "radview", "RAD-109001"),
		cw,
		rec(billingHFRID, "lims", "labtrack", "LAB-809001"),
		rec(billingHFRID, "billing", "billdesk", "CW/2025/009001"),
	}
	return p
}

func claimsDiagnosis(icd10 string) diagnosis {
	for _, d := range diagnoses {
		if d.icd10 == icd10 {
			return d
		}
	}
	panic("demo: no diagnosis " + icd10)
}

// Conditions of the claims case that the generated people do not have
// (kept out of the weighted list, whose draws they would change).
var (
	pregnantIncidental = diagnosis{icd10: "Z33", icd10Text: "Pregnant state, incidental"}
	surgeryFollowUp    = diagnosis{icd10: "Z09.0", icd10Text: "Follow-up examination after surgery for other conditions"}
	breech             = diagnosis{icd10: "O32.1", icd10Text: "Maternal care for breech presentation", cwCode: "BRCH", cwText: "Breech presentation"}
)

func at(day string, clock string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+clock, ist)
	if err != nil {
		panic(err)
	}
	return t
}

// claimsFirstStay is Bengaluru: the emergency visit, the stay and the
// review a week after.
func claimsFirstStay() []encounter {
	app := claimsDiagnosis("K35.8")
	return []encounter{
		{id: "VC900001", at: at("2025-06-16", "09:40"), dept: "General Surgery", doc: "Dr. Prashanth Shetty", dx: []diagnosis{app},
			complaint: "Pain in right lower abdomen since morning; 22 weeks pregnant", vitalsRead: []float64{118, 76, 104, 100.4, 98, 62.5}},
		{id: "IPC90001", at: at("2025-06-16", "11:40"), end: at("2025-06-19", "11:00"), dept: "General Surgery", doc: "Dr. Prashanth Shetty",
			dx: []diagnosis{app, pregnantIncidental}, complaint: app.complaint, inpatient: true,
			procs: []procedure{proceduresFor["K35.8"]},
			summary: "Admitted on 16 Jun 2025 with pain in the right lower abdomen since morning, at 22 weeks of pregnancy. " +
				"Ultrasound showed acute appendicitis and a live intrauterine pregnancy. Laparoscopic appendicectomy under " +
				"general anaesthesia on 16 Jun 2025: inflamed, unperforated appendix removed. Obstetric review: fetal heart " +
				"sounds normal before and after surgery. Treated with intravenous ceftriaxone and paracetamol. Diagnosis: " +
				"Acute appendicitis; Pregnant state, incidental. Condition at discharge: stable, wound healthy, tolerating " +
				"diet. Advised review in surgical OPD after one week and continued antenatal care."},
		{id: "VC900002", at: at("2025-06-26", "10:15"), dept: "General Surgery", doc: "Dr. Prashanth Shetty", dx: []diagnosis{surgeryFollowUp},
			complaint: "Review after appendicectomy; wound check", vitalsRead: []float64{116, 74, 84, 98.4, 99, 63.0}},
	}
}

// claimsSecondStay is Mysuru: the antenatal visit and the stay for the
// caesarean section.
func claimsSecondStay() []encounter {
	gdm := claimsDiagnosis("O24.4")
	lscs := procedure{"OBS-LSCS", "Lower segment caesarean section", "11466000", "Cesarean section", "SA", 2*time.Hour + 30*time.Minute, 55 * time.Minute}
	return []encounter{
		{id: "790001", at: at("2025-09-22", "10:30"), dept: "Obstetrics and Gynaecology", doc: "Dr. Shalini Gowda", dx: []diagnosis{gdm},
			complaint: "Antenatal check-up at 36 weeks", vitalsRead: []float64{124, 80, 88, 98.2, 99, 71.0}},
		{id: "790002", at: at("2025-10-06", "08:30"), end: at("2025-10-10", "11:00"), dept: "Obstetrics and Gynaecology", doc: "Dr. Shalini Gowda",
			dx: []diagnosis{breech, gdm}, complaint: "Breech presentation at 38 weeks, for caesarean section", inpatient: true,
			procs: []procedure{lscs},
			summary: "Admitted on 06 Oct 2025 at 38 weeks of gestation with breech presentation; gestational diabetes " +
				"controlled on metformin. Past history: laparoscopic appendicectomy at 22 weeks (Kaveri City Hospital, " +
				"June 2025). Lower segment caesarean section under spinal anaesthesia on 06 Oct 2025: live female baby, " +
				"2.9 kg, Apgar 8 and 9. Post-operative period uneventful. Diagnosis: Breech presentation; Gestational " +
				"diabetes mellitus. Condition at discharge: stable, wound healthy, breastfeeding well. Advised suture " +
				"removal on day 7, blood sugar monitoring and review in OPD after six weeks."},
	}
}

// claimsLab is one LabTrack order of the claims case with its results.
type claimsLab struct {
	order, panel        string
	collected, reported time.Time
	doctor, pathologist string
	results             []string // in the panel's test order
}

var (
	claimsFirstLabs = []claimsLab{
		{"ORD-900001", "CBC", at("2025-06-16", "10:05"), at("2025-06-16", "11:20"), "Dr. Prashanth Shetty", "Dr. Sunil Pai", []string{"11.0", "14.2", "268"}},
		{"ORD-900002", "RFT", at("2025-06-16", "10:05"), at("2025-06-16", "11:45"), "Dr. Prashanth Shetty", "Dr. Sunil Pai", []string{"0.62", "18"}},
	}
	claimsSecondLabs = []claimsLab{
		{"ORD-900003", "DIAB", at("2025-09-22", "11:00"), at("2025-09-22", "15:30"), "Dr. Shalini Gowda", "Dr. Archana Kulkarni", []string{"108", "168", "6.1"}},
		{"ORD-900004", "CBC", at("2025-10-06", "09:00"), at("2025-10-06", "10:30"), "Dr. Shalini Gowda", "Dr. Archana Kulkarni", []string{"10.8", "9.6", "232"}},
	}
)

// claimsStudy is the Bengaluru ultrasound.
var claimsStudy = struct {
	accession, uid, code, modality, desc, bodyPart string
	at, finalised                                  time.Time
	report, impression, radiologist                string
}{
	"ACC202590001", "1.2.826.0.1.3680043.10.1011.590001", "USGABD", "US", "USG ABDOMEN AND PELVIS", "ABDOMEN",
	at("2025-06-16", "10:15"), at("2025-06-16", "10:50"),
	"Non-compressible, blind-ending tubular structure in the right iliac fossa, 9 mm in diameter, with periappendiceal " +
		"fat stranding and a little free fluid. Gravid uterus with a single live intrauterine fetus of about 22 weeks; " +
		"fetal heart activity present.",
	"Acute appendicitis. Single live intrauterine pregnancy of about 22 weeks.", "Dr. Harini Subramanian",
}

// claimsBills are the Mysuru bills: the antenatal visit's and the stay's,
// which the insurer is claimed for.
func claimsBills() []bill {
	visit, stay := claimsSecondStay()[0], claimsSecondStay()[1]
	op := bill{no: "MYS-OP-2025-90001", typ: "OP", admNo: visit.id, admit: visit.at, at: visit.at.Add(35 * time.Minute),
		status: "F", payer: "SELF", consultant: visit.doc}
	cons := line("CONS-OP", visit.at, 1)
	cons.name = "OPD consultation, " + visit.dept
	op.lines = []billLine{cons, labLine("DIAB", claimsSecondLabs[0].collected)}

	day := stay.at
	ip := bill{no: "MYS-IP-2025-90001", typ: "IP", admNo: stay.id, admit: stay.at, discharge: stay.end, at: stay.end.Add(-30 * time.Minute),
		status: "F", payer: "INSURANCE", consultant: stay.doc}
	surgery := stay.at.Add(stay.procs[0].after)
	drug := func(code string) drug {
		for _, d := range drugs {
			if d.code == code {
				return d
			}
		}
		panic("demo: no drug " + code)
	}
	ip.lines = []billLine{
		line("MO024A", surgery, 1),
		line("CS-SURG", surgery, 1),
		line("RM-GEN", stay.end, 4),
		line("NS-DAY", stay.end, 4),
		line("CONS-IPV", stay.end, 4),
		labLine("CBC", claimsSecondLabs[1].collected),
		line("RAD-USGO", day.Add(time.Hour), 1),
		line("PH-CEFT", surgery, 3),
		drugLine(drug("PCM500"), stay.end, 12),
		drugLine(drug("MET500"), stay.end, 8),
		line("PH-NS500", stay.end, 6),
		line("CS-IVSET", stay.at, 1),
		line("CS-CANN", stay.at, 1),
	}
	return []bill{op, ip}
}

// claimsCase writes the claims case's rows into every system that holds
// her.
func (b *dataBuilder) claimsCase(p Person) {
	recs := map[string]PersonRecord{}
	for _, r := range p.Records {
		recs[r.FacilityHFRID+"/"+r.SourceCode] = r
	}
	b.medisoft(recs["IN2910000231/his"], p, claimsFirstStay())
	b.claimsLabTrack(recs["IN2910000231/lims"], recs["IN2910000231/his"], p, claimsFirstLabs)
	b.claimsRadView(recs["IN2910000231/ris"])
	second := claimsSecondStay()
	b.careware(recs[billingHFRID+"/his"], p, second)
	b.claimsLabTrack(recs[billingHFRID+"/lims"], recs[billingHFRID+"/his"], p, claimsSecondLabs)
	uhid := recs[billingHFRID+"/billing"]
	b.billdeskPatient(uhid, second[0].at)
	for _, bl := range claimsBills() {
		b.addBill(uhid.LocalID, bl)
	}
}

func (b *dataBuilder) claimsLabTrack(r, his PersonRecord, p Person, orders []claimsLab) {
	branch := siteCodes["labtrack"][r.FacilityHFRID]
	age := orders[0].collected.Year() - p.BirthDate.Year()
	b.add("labtrack", "lab_patient", r.LocalID, branch, strings.ToUpper(r.Name), r.Gender, r.BirthDate, age, r.Mobile, his.LocalID,
		wall(orders[0].collected.Add(-10*time.Minute)))
	for _, o := range orders {
		pn := panelByCode(o.panel)
		b.add("labtrack", "lab_order", o.order, r.LocalID, branch, pn.code, pn.name, wall(o.collected), wall(o.reported), "FINAL",
			o.doctor, o.pathologist, wall(o.reported.Add(5*time.Minute)))
		for i, tc := range pn.tests {
			t := labTests[tc]
			flag := ""
			x := mustFloat(o.results[i])
			switch {
			case x < t.refLow:
				flag = "L"
			case x > t.refHigh:
				flag = "H"
			}
			var low any
			if t.refLow > 0 {
				low = t.refLow
			}
			b.add("labtrack", "lab_result", o.order, i+1, t.code, t.name, o.results[i], nullable(t.units), low, t.refHigh, flag)
		}
	}
}

func (b *dataBuilder) claimsRadView(r PersonRecord) {
	s := claimsStudy
	parts := strings.Fields(strings.ToUpper(r.Name))
	b.add("radview", "ris_patient", r.LocalID, parts[len(parts)-1]+"^"+strings.Join(parts[:len(parts)-1], " "), r.BirthDate.Format("20060102"),
		r.Gender, r.Mobile, wall(s.at.Add(-15*time.Minute)))
	b.add("radview", "study", s.accession, r.LocalID, s.uid, s.code, s.modality, s.desc, s.bodyPart, s.at.Format("20060102"), s.at.Format("150405"),
		"F", s.report, s.impression, s.radiologist, wall(s.finalised), wall(s.finalised.Add(5*time.Minute)))
}

func mustFloat(s string) float64 {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic("demo: " + err.Error())
	}
	return x
}
