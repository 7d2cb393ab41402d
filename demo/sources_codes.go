package demo

import "time"

// The clinical vocabulary of the demo systems. Each vendor stores its own
// local codes; the mapping files in sources/mappings translate them to
// LOINC, SNOMED CT and UCUM. The standard codes were chosen for
// demonstration and should be checked against a terminology release before
// any real use.

// diagnosis is one condition as both HIS vendors record it: MediSoft by
// ICD-10, CareWare by its own problem code (mapped to SNOMED CT).
type diagnosis struct {
	icd10, icd10Text string
	cwCode, cwText   string
	weight           int
	inpatient        bool // serious enough to admit
	depts            []string
	complaint        string
}

var diagnoses = []diagnosis{
	{"E11.9", "Type 2 diabetes mellitus without complications", "DM2", "Diabetes mellitus type 2", 14, false, []string{"General Medicine", "Endocrinology"}, "Increased thirst and frequent urination"},
	{"I10", "Essential (primary) hypertension", "HTN", "Hypertension", 14, false, []string{"General Medicine", "Cardiology"}, "Headache and giddiness"},
	{"J06.9", "Acute upper respiratory infection, unspecified", "URTI", "Upper respiratory tract infection", 12, false, []string{"General Medicine", "Paediatrics", "ENT"}, "Fever, cough and sore throat for 3 days"},
	{"A09", "Infectious gastroenteritis and colitis, unspecified", "AGE", "Acute gastroenteritis", 6, false, []string{"General Medicine", "Paediatrics"}, "Loose stools and vomiting since yesterday"},
	{"K29.7", "Gastritis, unspecified", "GAST", "Gastritis", 6, false, []string{"General Medicine", "Gastroenterology"}, "Burning pain in upper abdomen"},
	{"M54.5", "Low back pain", "LBP", "Low back pain", 6, false, []string{"Orthopaedics"}, "Low back pain for two weeks"},
	{"J45.9", "Asthma, unspecified", "ASTH", "Asthma", 4, false, []string{"Pulmonology", "Paediatrics"}, "Wheezing and breathlessness at night"},
	{"N39.0", "Urinary tract infection, site not specified", "UTI", "Urinary tract infection", 5, false, []string{"General Medicine", "Obstetrics and Gynaecology"}, "Burning micturition"},
	{"A90", "Dengue fever [classical dengue]", "DENG", "Dengue fever", 4, true, []string{"General Medicine", "Paediatrics"}, "High fever with body ache and rash"},
	{"E03.9", "Hypothyroidism, unspecified", "HYPO", "Hypothyroidism", 4, false, []string{"Endocrinology", "General Medicine"}, "Tiredness and weight gain"},
	{"D50.9", "Iron deficiency anaemia, unspecified", "IDA", "Iron deficiency anaemia", 5, false, []string{"General Medicine", "Obstetrics and Gynaecology"}, "Weakness and breathlessness on exertion"},
	{"O24.4", "Diabetes mellitus arising in pregnancy", "GDM", "Gestational diabetes mellitus", 2, false, []string{"Obstetrics and Gynaecology"}, "Routine antenatal check-up"},
	{"K35.8", "Acute appendicitis, other and unspecified", "APP", "Acute appendicitis", 2, true, []string{"General Surgery"}, "Pain in right lower abdomen since morning"},
	{"J18.9", "Pneumonia, unspecified organism", "PNEU", "Pneumonia", 3, true, []string{"Pulmonology", "General Medicine", "Paediatrics"}, "Fever with cough and chest pain"},
	{"I21.9", "Acute myocardial infarction, unspecified", "AMI", "Acute myocardial infarction", 1, true, []string{"Cardiology"}, "Severe chest pain radiating to left arm"},
}

// vital is one vital sign: MediSoft stores a parameter code and °F,
// CareWare a name and °C.
type vital struct {
	msCode, msUnit string
	cwName, cwUnit string
	low, high      float64 // plausible range generated
	decimals       int
}

var vitals = []vital{
	{"BP_SYS", "mmHg", "Systolic BP", "mm Hg", 100, 165, 0},
	{"BP_DIA", "mmHg", "Diastolic BP", "mm Hg", 60, 100, 0},
	{"PULSE", "/min", "Pulse Rate", "bpm", 60, 110, 0},
	{"TEMP", "F", "Temperature", "C", 97.0, 102.2, 1},
	{"SPO2", "%", "SpO2", "%", 93, 100, 0},
	{"WT", "kg", "Weight", "kg", 8, 95, 1},
}

// labTest is one test as LabTrack codes it, with its reference range.
type labTest struct {
	code, name, units string
	refLow, refHigh   float64
	// mean and spread of generated values; values outside the range get
	// an H or L flag.
	mean, spread float64
	decimals     int
	text         []string // for tests reported as text
}

var labTests = map[string]labTest{
	"HB":       {"HB", "Haemoglobin", "gm/dl", 12.0, 16.0, 12.8, 2.4, 1, nil},
	"WBC":      {"WBC", "Total leucocyte count", "10^3/ul", 4.0, 11.0, 8.0, 3.5, 1, nil},
	"PLT":      {"PLT", "Platelet count", "10^3/ul", 150, 450, 240, 110, 0, nil},
	"FBS":      {"FBS", "Fasting blood sugar", "mg/dl", 70, 100, 108, 30, 0, nil},
	"PPBS":     {"PPBS", "Post-prandial blood sugar", "mg/dl", 70, 140, 150, 45, 0, nil},
	"HBA1C":    {"HBA1C", "Glycated haemoglobin", "%", 4.0, 5.6, 6.4, 1.4, 1, nil},
	"CREAT":    {"CREAT", "Serum creatinine", "mg/dl", 0.6, 1.2, 1.0, 0.4, 2, nil},
	"UREA":     {"UREA", "Blood urea", "mg/dl", 15, 40, 30, 12, 0, nil},
	"TSH":      {"TSH", "Thyroid stimulating hormone", "uIU/ml", 0.4, 4.0, 3.2, 2.5, 2, nil},
	"CHOL":     {"CHOL", "Total cholesterol", "mg/dl", 0, 200, 195, 40, 0, nil},
	"TG":       {"TG", "Triglycerides", "mg/dl", 0, 150, 150, 60, 0, nil},
	"HDL":      {"HDL", "HDL cholesterol", "mg/dl", 40, 60, 45, 10, 0, nil},
	"SGPT":     {"SGPT", "SGPT (ALT)", "U/L", 7, 56, 38, 22, 0, nil},
	"SGOT":     {"SGOT", "SGOT (AST)", "U/L", 10, 40, 32, 15, 0, nil},
	"TBIL":     {"TBIL", "Total bilirubin", "mg/dl", 0.3, 1.2, 0.9, 0.5, 1, nil},
	"DENGNS1":  {"DENGNS1", "Dengue NS1 antigen", "", 0, 0, 0, 0, 0, []string{"Negative", "Negative", "Positive"}},
	"MP-SMEAR": {"MP-SMEAR", "Malarial parasite (smear)", "", 0, 0, 0, 0, 0, []string{"Not seen", "Not seen", "Not seen", "P. vivax seen"}},
}

// panel is what a LabTrack order asks for.
type panel struct {
	code, name string
	tests      []string
}

var panels = []panel{
	{"CBC", "Complete blood count", []string{"HB", "WBC", "PLT"}},
	{"DIAB", "Diabetes profile", []string{"FBS", "PPBS", "HBA1C"}},
	{"RFT", "Renal function test", []string{"CREAT", "UREA"}},
	{"LIPID", "Lipid profile", []string{"CHOL", "TG", "HDL"}},
	{"LFT", "Liver function test", []string{"SGPT", "SGOT", "TBIL"}},
	{"TFT", "Thyroid profile", []string{"TSH"}},
	{"FEVER", "Fever panel", []string{"DENGNS1", "MP-SMEAR", "PLT"}},
}

// imaging is one kind of RadView study.
type imaging struct {
	code, modality, desc, bodyPart string
	normal, abnormal               string // report findings
	impressionNormal, impressionAb string
}

var imagingKinds = []imaging{
	{"XRCHPA", "DX", "XR CHEST PA VIEW", "CHEST",
		"Both lung fields are clear. Cardiac silhouette is normal. Costophrenic angles are clear.",
		"Patchy consolidation in the right lower zone. Cardiac silhouette is normal.",
		"Normal chest radiograph.", "Right lower zone consolidation, likely pneumonia."},
	{"CTBRPL", "CT", "CT BRAIN PLAIN", "HEAD",
		"No intracranial haemorrhage or mass effect. Ventricles are normal in size.",
		"Small chronic lacunar infarct in the left basal ganglia. No acute haemorrhage.",
		"Normal plain CT brain.", "Chronic lacunar infarct, left basal ganglia."},
	{"USGABD", "US", "USG ABDOMEN AND PELVIS", "ABDOMEN",
		"Liver, gall bladder, pancreas, spleen and kidneys are normal. No free fluid.",
		"Liver is enlarged with increased echogenicity. Gall bladder is normal.",
		"Normal abdominal ultrasound.", "Hepatomegaly with grade I fatty liver."},
	{"MRKNEL", "MR", "MRI KNEE LEFT", "KNEE",
		"Menisci and cruciate ligaments are intact. No joint effusion.",
		"Horizontal tear of the posterior horn of the medial meniscus. Mild joint effusion.",
		"Normal MRI of the left knee.", "Medial meniscus posterior horn tear."},
}

// drug is one PharmaOne item.
type drug struct {
	code, name, dose, frequency string
	days                        int
}

var drugs = []drug{
	{"PCM500", "Paracetamol 500 mg tablet", "1 tablet", "three times a day after food", 5},
	{"AMOX500", "Amoxicillin 500 mg capsule", "1 capsule", "three times a day", 5},
	{"MET500", "Metformin 500 mg tablet", "1 tablet", "twice a day with food", 30},
	{"AMLO5", "Amlodipine 5 mg tablet", "1 tablet", "once a day", 30},
	{"ATOR10", "Atorvastatin 10 mg tablet", "1 tablet", "once a day at night", 30},
	{"PAN40", "Pantoprazole 40 mg tablet", "1 tablet", "once a day before breakfast", 14},
	{"CETZ10", "Cetirizine 10 mg tablet", "1 tablet", "once a day at night", 5},
	{"AZI500", "Azithromycin 500 mg tablet", "1 tablet", "once a day", 3},
	{"THYX50", "Levothyroxine 50 mcg tablet", "1 tablet", "once a day on empty stomach", 30},
	{"FESO4", "Ferrous sulphate 200 mg tablet", "1 tablet", "once a day after food", 30},
	{"SALB", "Salbutamol 100 mcg inhaler", "2 puffs", "when needed", 30},
	{"IBU400", "Ibuprofen 400 mg tablet", "1 tablet", "twice a day after food", 5},
	{"ONDA4", "Ondansetron 4 mg tablet", "1 tablet", "when needed for vomiting", 3},
	{"TELM40", "Telmisartan 40 mg tablet", "1 tablet", "once a day", 30},
	{"FOLIC5", "Folic acid 5 mg tablet", "1 tablet", "once a day", 30},
	{"ORS", "Oral rehydration salts sachet", "1 sachet in 1 litre water", "sip through the day", 3},
}

// drugsFor names what is usually prescribed for a condition (by ICD-10).
var drugsFor = map[string][]string{
	"E11.9": {"MET500", "ATOR10"}, "I10": {"AMLO5", "TELM40"}, "J06.9": {"PCM500", "CETZ10", "AZI500"},
	"A09": {"ORS", "ONDA4"}, "K29.7": {"PAN40"}, "M54.5": {"IBU400", "PAN40"}, "J45.9": {"SALB"},
	"N39.0": {"AMOX500", "PCM500"}, "A90": {"PCM500", "ORS"}, "E03.9": {"THYX50"}, "D50.9": {"FESO4", "FOLIC5"},
	"O24.4": {"MET500", "FOLIC5"}, "K35.8": {"PCM500", "AMOX500"}, "J18.9": {"AMOX500", "PCM500"}, "I21.9": {"ATOR10"},
}

// panelsFor names the tests a condition sends people for.
var panelsFor = map[string][]string{
	"E11.9": {"DIAB", "RFT", "LIPID"}, "I10": {"RFT", "LIPID"}, "J06.9": {"CBC"}, "A09": {"CBC", "RFT"},
	"K29.7": {"LFT"}, "M54.5": {"CBC"}, "J45.9": {"CBC"}, "N39.0": {"CBC", "RFT"}, "A90": {"FEVER", "CBC"},
	"E03.9": {"TFT"}, "D50.9": {"CBC"}, "O24.4": {"DIAB", "CBC"}, "K35.8": {"CBC", "LFT"}, "J18.9": {"CBC"}, "I21.9": {"LIPID", "RFT"},
}

// doctors per facility and department.
var doctors = map[string][]string{
	"IN2910000231": {"Dr. Anand Rao", "Dr. Meera Krishnan", "Dr. Syed Rizwan", "Dr. Kavitha Hegde", "Dr. Prashanth Shetty"},
	"IN2910000587": {"Dr. Shalini Gowda", "Dr. Usha Rani", "Dr. Farida Begum", "Dr. Nikhil Bhat"},
	"IN2910000944": {"Dr. Ramesh Gowda", "Dr. Latha Murthy"},
}

var (
	pathologists = []string{"Dr. Sunil Pai", "Dr. Archana Kulkarni"}
	radiologists = []string{"Dr. Vivek Menon", "Dr. Harini Subramanian"}
)

// procedure is one procedure as both HIS vendors record it: MediSoft by
// its own code, CareWare by SNOMED CT concept id.
type procedure struct {
	msCode, msName     string
	snomed, snomedName string
	anaesthesia        string        // GA, SA, LA
	after              time.Duration // from admission to the start
	takes              time.Duration
}

// proceduresFor names the procedure an admission for a condition (by
// ICD-10) usually has; medical admissions have none.
var proceduresFor = map[string]procedure{
	"K35.8": {"SUR-APPX-LAP", "Laparoscopic appendicectomy", "6025007", "Laparoscopic appendectomy", "GA", 4 * time.Hour, 65 * time.Minute},
	"I21.9": {"CAR-PTCA", "Primary coronary angioplasty with stent", "41339005", "Coronary angioplasty", "LA", time.Hour, 80 * time.Minute},
}
