package demo

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// Billdesk, the billing system of the Mysuru hospital: a bill per OPD
// visit and per inpatient stay, itemised from the hospital's tariff.

// tariffItem is one entry of the hospital's price list. Rates are in paise
// so that bills add up exactly.
type tariffItem struct {
	group, code, name, uom string
	rate                   int64
}

// tariff is Billdesk's price list. Package codes are written in the style
// of PM-JAY's Health Benefit Package codes (specialty letters, a number and
// a variant letter); they are demo values, not entries of the real HBP
// master, and must not be sent to a real payer.
var tariff = map[string]tariffItem{
	"RM-GEN":   {"ROOM", "RM-GEN", "General ward bed charges", "day", 1200_00},
	"RM-SPL":   {"ROOM", "RM-SPL", "Semi-private room charges", "day", 2800_00},
	"RM-PVT":   {"ROOM", "RM-PVT", "Private room charges", "day", 5500_00},
	"NS-DAY":   {"NURS", "NS-DAY", "Nursing charges", "day", 400_00},
	"CONS-OP":  {"CONS", "CONS-OP", "OPD consultation", "visit", 600_00},
	"CONS-IPV": {"CONS", "CONS-IPV", "Consultant visit (inpatient)", "visit", 600_00},
	"RAD-XRCH": {"RAD", "RAD-XRCH", "X-ray chest PA view", "study", 450_00},
	"RAD-USGO": {"RAD", "RAD-USGO", "USG obstetric growth scan", "study", 1200_00},
	"CS-IVSET": {"CONSUM", "CS-IVSET", "IV infusion set", "unit", 180_00},
	"CS-CANN":  {"CONSUM", "CS-CANN", "IV cannula 20G", "unit", 120_00},
	"CS-SURG":  {"CONSUM", "CS-SURG", "Surgical consumables kit", "kit", 3500_00},
	"PH-CEFT":  {"PHARM", "PH-CEFT", "Ceftriaxone 1 g injection", "vial", 65_00},
	"PH-NS500": {"PHARM", "PH-NS500", "Sodium chloride 0.9% 500 ml infusion", "bottle", 35_00},
	// Surgical packages: operation theatre, surgeon and anaesthetist.
	"SG039A": {"PKG", "SG039A", "Appendicectomy (laparoscopic) package", "package", 25000_00},
	"MO024A": {"PKG", "MO024A", "Caesarean section (LSCS) package", "package", 18000_00},
}

// labRates prices LabTrack's panels, in paise.
var labRates = map[string]int64{"CBC": 350_00, "DIAB": 650_00, "RFT": 550_00, "LIPID": 600_00, "LFT": 600_00, "TFT": 450_00, "FEVER": 1200_00}

// drugRates prices a unit (tablet, sachet, inhaler) of each PharmaOne item,
// in paise; the hospital pharmacy bills the same items.
var drugRates = map[string]int64{
	"PCM500": 2_00, "AMOX500": 8_50, "MET500": 3_00, "AMLO5": 4_00, "ATOR10": 9_00, "PAN40": 7_50, "CETZ10": 2_50,
	"AZI500": 24_00, "THYX50": 2_20, "FESO4": 1_50, "SALB": 145_00, "IBU400": 3_00, "ONDA4": 6_00, "TELM40": 8_00,
	"FOLIC5": 1_20, "ORS": 22_00,
}

// packageFor names the surgical package of a procedure (MediSoft code).
var packageFor = map[string]string{"SUR-APPX-LAP": "SG039A", "OBS-LSCS": "MO024A"}

// billLine is one line of a bill; amounts in paise.
type billLine struct {
	item             tariffItem
	name             string // when it differs from the tariff's
	date             time.Time
	qty              float64
	disc, cgst, sgst int64
}

func (l billLine) amount() int64 { return int64(math.Round(l.qty * float64(l.item.rate))) }

// bill is one Billdesk bill.
type bill struct {
	no, typ, admNo   string
	admit, discharge time.Time // discharge zero for OPD
	at               time.Time
	status, payer    string
	consultant       string
	lines            []billLine
}

func line(code string, date time.Time, qty float64) billLine {
	it, ok := tariff[code]
	if !ok {
		panic("demo: no tariff item " + code)
	}
	return billLine{item: it, date: date, qty: qty}
}

func labLine(panelCode string, date time.Time) billLine {
	p := panelByCode(panelCode)
	return billLine{item: tariffItem{"LAB", "LAB-" + p.code, p.name, "test", labRates[p.code]}, date: date, qty: 1}
}

func drugLine(d drug, date time.Time, qty float64) billLine {
	return billLine{item: tariffItem{"PHARM", "PH-" + d.code, d.name, "unit", drugRates[d.code]}, date: date, qty: qty}
}

// billdesk writes the bills of a person's encounters at the Mysuru
// hospital: its patient register entry, then one bill per OPD visit and
// one per stay. hisIDs are the HIS's encounter ids, labs the panels the
// lab ran at each OPD visit.
func (b *dataBuilder) billdesk(rng *rand.Rand, r PersonRecord, p Person, encs []encounter, hisIDs []string, labs map[int][]string) {
	b.billdeskPatient(r, encs[0].at)
	age := demoAnchor.Year() - p.BirthDate.Year()
	for k, e := range encs {
		var bl bill
		if e.inpatient {
			bl = inpatientBill(rng, e)
			bl.no = fmt.Sprintf("MYS-IP-%d-%05d", bl.at.Year(), b.next("billdesk-ip"))
		} else {
			bl = outpatientBill(e, labs[k], age)
			bl.no = fmt.Sprintf("MYS-OP-%d-%05d", bl.at.Year(), b.next("billdesk-op"))
		}
		bl.admNo = hisIDs[k]
		b.addBill(r.LocalID, bl)
	}
}

func (b *dataBuilder) billdeskPatient(r PersonRecord, first time.Time) {
	b.add("billdesk", "bd_patient", r.LocalID, r.Name, r.Gender, dateOrNil(r.BirthDate), nullable(r.Mobile), wall(first.Add(-15*time.Minute)))
}

// outpatientBill charges the consultation and the tests the lab ran; the
// hospital gives senior citizens 10% off the consultation.
func outpatientBill(e encounter, panels []string, age int) bill {
	bl := bill{typ: "OP", admit: e.at, at: e.at.Add(35 * time.Minute), status: "F", payer: "SELF", consultant: e.doc}
	cons := line("CONS-OP", e.at, 1)
	cons.name = "OPD consultation, " + e.dept
	if age >= 60 {
		cons.disc = cons.amount() / 10
	}
	bl.lines = append(bl.lines, cons)
	for _, pc := range panels {
		bl.lines = append(bl.lines, labLine(pc, e.at.Add(time.Hour)))
	}
	return bl
}

// inpatientBill itemises a stay: room, nursing and consultant visits per
// day, the tests and medicines for the condition, consumables, and the
// package of a surgical stay. Private rooms above Rs 5,000 a day carry 5%
// GST; the rest of a hospital bill is exempt.
func inpatientBill(rng *rand.Rand, e encounter) bill {
	bl := bill{typ: "IP", admit: e.at, discharge: e.end, at: e.end.Add(-30 * time.Minute), status: "F", payer: "SELF", consultant: e.doc}
	days := math.Max(1, math.Ceil(e.end.Sub(e.at).Hours()/24))
	room := "RM-GEN"
	switch n := rng.IntN(100); {
	case n < 10:
		room = "RM-PVT"
	case n < 30:
		room = "RM-SPL"
	}
	switch n := rng.IntN(100); {
	case room == "RM-GEN" && n < 35:
		bl.payer = "PMJAY"
	case n < 55:
		bl.payer = "INSURANCE"
	}
	day := e.at
	for _, pr := range e.procs {
		if pkg, ok := packageFor[pr.msCode]; ok {
			at := e.at.Add(pr.after)
			bl.lines = append(bl.lines, line(pkg, at, 1), line("CS-SURG", at, 1))
		}
	}
	rm := line(room, e.end, days)
	if rm.item.rate > 5000_00 {
		rm.cgst = rm.amount() * 25 / 1000
		rm.sgst = rm.cgst
	}
	bl.lines = append(bl.lines, rm, line("NS-DAY", e.end, days), line("CONS-IPV", e.end, days))
	for _, pc := range panelsFor[e.dx[0].icd10] {
		bl.lines = append(bl.lines, labLine(pc, day.Add(2*time.Hour)))
	}
	if e.dx[0].icd10 == "J18.9" {
		bl.lines = append(bl.lines, line("RAD-XRCH", day.Add(3*time.Hour), 1))
	}
	for _, code := range drugsFor[e.dx[0].icd10] {
		for _, d := range drugs {
			if d.code != code {
				continue
			}
			qty := math.Min(days, float64(d.days)) * float64(perDay(d.frequency))
			if d.code == "SALB" {
				qty = 1
			}
			bl.lines = append(bl.lines, drugLine(d, e.end, qty))
		}
	}
	bl.lines = append(bl.lines, line("PH-NS500", e.end, 2*days), line("CS-IVSET", e.at, 1), line("CS-CANN", e.at, 1))
	return bl
}

func (b *dataBuilder) addBill(uhid string, bl bill) {
	var gross, disc, tax int64
	for i, l := range bl.lines {
		name := l.item.name
		if l.name != "" {
			name = l.name
		}
		amt := l.amount()
		gross += amt
		disc += l.disc
		tax += l.cgst + l.sgst
		b.add("billdesk", "bill_line", bl.no, i+1, l.item.group, l.item.code, name, dateOnly(l.date), l.qty, nullable(l.item.uom),
			rupees(l.item.rate), rupees(amt), rupees(l.disc), rupees(l.cgst), rupees(l.sgst))
	}
	var discharge any
	if !bl.discharge.IsZero() {
		discharge = wall(bl.discharge)
	}
	b.add("billdesk", "bill_hdr", bl.no, uhid, bl.typ, bl.admNo, wall(bl.admit), discharge, wall(bl.at), bl.status, bl.payer,
		nullable(bl.consultant), rupees(gross), rupees(disc), rupees(tax), rupees(gross-disc+tax), wall(bl.at.Add(20*time.Minute)))
}

// rupees writes paise as an exact numeric with two decimals.
func rupees(paise int64) pgtype.Numeric {
	return pgtype.Numeric{Int: big.NewInt(paise), Exp: -2, Valid: true}
}

// dateOnly is the local calendar day of t, for a date column.
func dateOnly(t time.Time) time.Time {
	t = t.In(ist)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
