// Package sqlmap connects to a source system's SQL database through a
// mapping file, so that a new vendor schema is a new file, not new Go code.
//
// A mapping file (YAML, or JSON) says how the vendor's tables hold patients
// and care contexts, and how their rows become FHIR R4 resources:
//
//	format: 1
//	vendor: labtrack
//	connection:
//	  schema: labtrack          # search_path; queries name bare tables
//	  query_timeout: 3s
//	  timezone: Asia/Kolkata    # for timestamps stored without a zone
//	  params: [branch]          # installation parameters (source config)
//	patients:
//	  fields:
//	    local_id: lab_pid                       # a column of the result
//	    gender: {column: sex, map: {Male: M, Female: F}}
//	    birth_date: {column: dob_text, format: "02-01-2006"}
//	  search:
//	    - name: by_mobile
//	      params: [mobile, branch, limit]       # bound to $1, $2, $3
//	      query: SELECT ... WHERE right(contact, 10) = $1 AND branch = $2 LIMIT $3
//	care_contexts:
//	  - type: order
//	    hi_type: DiagnosticReport
//	    fields: {local_id: order_no, patient_id: lab_pid, display: display, date: reported_at}
//	    list: {params: [patient_id, from, to], query: SELECT ...}
//	    get:  {params: [local_id], query: SELECT ...}
//	    content:
//	      - resource: Observation
//	        params: [local_id]
//	        query: SELECT ...
//	        fields:
//	          key: line_no
//	          code: {column: test_code, map: lab_tests}   # local code → LOINC
//	          value: result
//	          unit: {column: units, map: ucum}
//	code_maps:
//	  lab_tests:
//	    system: http://loinc.org
//	    codes: {HB: {code: 718-7, display: Hemoglobin [Mass/volume] in Blood}}
//
// A coded field may list several codings of one concept, each from its own
// column or constant, e.g. a problem code mapped to SNOMED CT next to the
// ICD-10 code the records department added:
//
//	code: [{column: problem_cd, map: problems}, {column: icd10, system: "http://hl7.org/fhir/sid/icd-10"}]
//
// Bills are an Invoice row per bill and a ChargeItem row per line, in a
// care context of hi_type Invoice. A line names its bill by the Invoice
// row's key (invoice: bill_no), or belongs to the only bill; its amount (or
// quantity times unit_price), discount, CGST and SGST become the price
// components of its Invoice line, and the bill's totals are summed from
// the lines unless total_net and total_gross are mapped:
//
//	content:
//	  - resource: Invoice
//	    fields: {key: bill_no, number: bill_no, date: bill_dt, type: {column: bill_type, map: bill_types}}
//	  - resource: ChargeItem
//	    fields: {key: line_no, invoice: bill_no, code: {column: grp, map: groups}, quantity: qty, unit_price: rate}
//
// Queries are parameterised only: values are bound to $1..$n in the order of
// params, never spliced into the text; each query must be a single SELECT,
// and the connection is read-only with a statement timeout. Parse rejects a
// file with every problem listed at its line; Connector.Check prepares the
// queries against the live database and reports missing columns the same
// way.
package sqlmap
