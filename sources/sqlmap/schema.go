package sqlmap

import "slices"

// kind is what a mapped field holds once read from a row.
type kind int

const (
	kindText    kind = iota // a string
	kindTime                // a date or date-time
	kindDecimal             // a number, kept as its decimal text
	kindInt                 // a whole number
	kindCode                // one of a fixed set of codes (gender, status, ...)
	kindCoding              // a coded concept: system + code + display
)

func (k kind) String() string {
	return [...]string{"text", "time", "decimal", "integer", "code", "coding"}[k]
}

// fieldDef describes one field a part of the mapping may set.
type fieldDef struct {
	kind     kind
	required bool
	// codes are the allowed values of a kindCode field; the first is the
	// default when the field is not mapped.
	codes []string
}

// The fields each part of a mapping file may map, by name.
var (
	patientFields = map[string]fieldDef{
		"local_id":     {kind: kindText, required: true},
		"name":         {kind: kindText},
		"gender":       {kind: kindCode, codes: []string{"U", "M", "F", "O"}},
		"birth_date":   {kind: kindTime},
		"birth_year":   {kind: kindInt},
		"mobile":       {kind: kindText},
		"address":      {kind: kindText},
		"pin_code":     {kind: kindText},
		"abha_number":  {kind: kindText},
		"abha_address": {kind: kindText},
	}
	contextFields = map[string]fieldDef{
		"local_id":   {kind: kindText, required: true},
		"patient_id": {kind: kindText, required: true},
		"display":    {kind: kindText, required: true},
		"date":       {kind: kindTime, required: true},
		"updated":    {kind: kindTime},
	}
	// resourceFields lists, per FHIR resource type, the fields its rows may
	// map. key identifies the row within the care context (it seeds the
	// resource id); practitioner names become Practitioner resources.
	resourceFields = map[string]map[string]fieldDef{
		"Encounter": {
			"key":          {kind: kindText, required: true},
			"status":       {kind: kindCode, codes: []string{"finished", "planned", "arrived", "triaged", "in-progress", "onleave", "cancelled", "entered-in-error", "unknown"}},
			"class":        {kind: kindCode, codes: []string{"AMB", "IMP", "EMER", "HH", "VR", "SS", "ACUTE", "NONAC", "OBSENC", "PRENC", "FLD"}},
			"type":         {kind: kindCoding},
			"start":        {kind: kindTime, required: true},
			"end":          {kind: kindTime},
			"reason":       {kind: kindCoding},
			"practitioner": {kind: kindText},
			// identifier is the source's number for the visit or stay (an
			// admission number), so that other systems' records of it can
			// be matched; identifier_system is its namespace (a URI).
			"identifier":        {kind: kindText},
			"identifier_system": {kind: kindText},
		},
		"Condition": {
			"key":             {kind: kindText, required: true},
			"code":            {kind: kindCoding, required: true},
			"category":        {kind: kindCode, codes: []string{"encounter-diagnosis", "problem-list-item"}},
			"clinical_status": {kind: kindCode, codes: []string{"active", "recurrence", "relapse", "inactive", "remission", "resolved"}},
			"recorded":        {kind: kindTime},
			"onset":           {kind: kindTime},
			"note":            {kind: kindText},
		},
		"Observation": {
			"key":            {kind: kindText, required: true},
			"code":           {kind: kindCoding, required: true},
			"category":       {kind: kindCode, codes: []string{"laboratory", "vital-signs", "exam", "imaging", "social-history", "survey", "procedure", "therapy", "activity"}},
			"status":         {kind: kindCode, codes: []string{"final", "preliminary", "amended", "corrected", "registered", "cancelled", "entered-in-error", "unknown"}},
			"value":          {kind: kindDecimal},
			"value_text":     {kind: kindText},
			"unit":           {kind: kindCoding},
			"ref_low":        {kind: kindDecimal},
			"ref_high":       {kind: kindDecimal},
			"ref_text":       {kind: kindText},
			"interpretation": {kind: kindCode, codes: []string{"", "N", "L", "H", "LL", "HH", "A", "AA", "POS", "NEG"}},
			"effective":      {kind: kindTime},
			"issued":         {kind: kindTime},
			"report":         {kind: kindText},
			"practitioner":   {kind: kindText},
		},
		"DiagnosticReport": {
			"key":          {kind: kindText, required: true},
			"code":         {kind: kindCoding, required: true},
			"category":     {kind: kindCode, codes: []string{"LAB", "RAD", "HM", "CH", "MB", "PAT", "SP", "OTH"}},
			"status":       {kind: kindCode, codes: []string{"final", "preliminary", "partial", "amended", "corrected", "registered", "cancelled", "entered-in-error", "unknown"}},
			"effective":    {kind: kindTime},
			"issued":       {kind: kindTime},
			"conclusion":   {kind: kindText},
			"study":        {kind: kindText},
			"practitioner": {kind: kindText},
		},
		"ImagingStudy": {
			"key":          {kind: kindText, required: true},
			"status":       {kind: kindCode, codes: []string{"available", "registered", "cancelled", "entered-in-error", "unknown"}},
			"uid":          {kind: kindText},
			"accession":    {kind: kindText},
			"modality":     {kind: kindCoding},
			"description":  {kind: kindText},
			"started":      {kind: kindTime},
			"practitioner": {kind: kindText},
		},
		"MedicationRequest": {
			"key":           {kind: kindText, required: true},
			"medication":    {kind: kindCoding, required: true},
			"status":        {kind: kindCode, codes: []string{"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"}},
			"intent":        {kind: kindCode, codes: []string{"order", "proposal", "plan", "original-order", "reflex-order", "filler-order", "instance-order", "option"}},
			"authored":      {kind: kindTime, required: true},
			"dosage":        {kind: kindText},
			"route":         {kind: kindCoding},
			"duration_days": {kind: kindDecimal},
			"quantity":      {kind: kindDecimal},
			"note":          {kind: kindText},
			"practitioner":  {kind: kindText},
		},
		"Procedure": {
			"key":       {kind: kindText, required: true},
			"code":      {kind: kindCoding, required: true},
			"status":    {kind: kindCode, codes: []string{"completed", "in-progress", "preparation", "not-done", "on-hold", "stopped", "entered-in-error", "unknown"}},
			"category":  {kind: kindCoding},
			"performed": {kind: kindTime},
			// performed_end makes performed a period (start to end).
			"performed_end": {kind: kindTime},
			"body_site":     {kind: kindCoding},
			"reason":        {kind: kindCoding},
			"outcome":       {kind: kindCoding},
			"note":          {kind: kindText},
			"practitioner":  {kind: kindText},
		},
		// An Invoice is one bill; its lines are the care context's
		// ChargeItems that name it (invoice: the Invoice row's key), or all
		// of them when the care context has one Invoice.
		"Invoice": {
			"key":    {kind: kindText, required: true},
			"number": {kind: kindText, required: true},
			// number_system is the namespace of the bill numbers (a URI).
			"number_system": {kind: kindText},
			"status":        {kind: kindCode, codes: []string{"issued", "draft", "balanced", "cancelled", "entered-in-error"}},
			"type":          {kind: kindCoding},
			"date":          {kind: kindTime, required: true},
			"currency":      {kind: kindText},
			// total_net and total_gross are computed from the lines when not
			// mapped: net is base less discounts, gross adds the taxes.
			"total_net":    {kind: kindDecimal},
			"total_gross":  {kind: kindDecimal},
			"note":         {kind: kindText},
			"practitioner": {kind: kindText},
		},
		// A ChargeItem is one line of a bill. Its amount (or quantity times
		// unit_price) is the ChargeItem's priceOverride and the base price
		// component of its Invoice line; discount and taxes are further
		// components of that line.
		"ChargeItem": {
			"key":     {kind: kindText, required: true},
			"invoice": {kind: kindText},
			"code":    {kind: kindCoding, required: true},
			"product": {kind: kindCoding},
			"status":  {kind: kindCode, codes: []string{"billed", "billable", "not-billable", "planned", "aborted", "entered-in-error", "unknown"}},
			// quantity is the number of units; unit is its text (day, test).
			"quantity":     {kind: kindDecimal, required: true},
			"unit":         {kind: kindText},
			"unit_price":   {kind: kindDecimal},
			"amount":       {kind: kindDecimal},
			"discount":     {kind: kindDecimal},
			"cgst":         {kind: kindDecimal},
			"sgst":         {kind: kindDecimal},
			"occurrence":   {kind: kindTime},
			"entered":      {kind: kindTime},
			"note":         {kind: kindText},
			"practitioner": {kind: kindText},
		},
		"DocumentReference": {
			"key":          {kind: kindText, required: true},
			"type":         {kind: kindCoding, required: true},
			"status":       {kind: kindCode, codes: []string{"current", "superseded", "entered-in-error"}},
			"date":         {kind: kindTime},
			"title":        {kind: kindText},
			"description":  {kind: kindText},
			"text":         {kind: kindText, required: true},
			"practitioner": {kind: kindText},
		},
	}
)

// Query parameters the connector supplies, by the part of the mapping that
// runs the query. A mapping may add installation parameters (e.g. a site
// code shared by several facilities' rows) in connection.params.
var (
	searchParams  = []string{"local_id", "abha_number", "abha_number_dashed", "abha_address", "mobile", "name", "name_like", "gender", "birth_year", "limit"}
	listParams    = []string{"after", "limit"}
	ccListParams  = []string{"patient_id", "from", "to"}
	ccGetParams   = []string{"local_id"}
	changedParams = []string{"since", "limit"}
	contentParams = []string{"local_id", "patient_id"}
)

func resourceTypes() []string {
	names := make([]string, 0, len(resourceFields))
	for n := range resourceFields {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
