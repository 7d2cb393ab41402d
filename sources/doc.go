// Package sources reaches a hospital's own systems (HIS, LIMS, RIS/PACS,
// pharmacy, billing) without vendor-specific code and keeps track of what they
// hold.
//
// A Connector finds patients, lists a patient's care contexts in a date range
// and fetches one care context's clinical content as FHIR R4 resources. Two
// implementations exist: sqlmap, driven by a per-vendor mapping file, and
// fhirrest, for systems that already expose an R4 API. A Registry opens the
// connector each source_systems row asks for and wraps it in a Monitor, which
// times and counts every call and trips a circuit breaker when a source keeps
// failing, so a dead source fails fast instead of holding up discovery.
//
// Sangam learns of new care contexts in two ways: source systems push events
// to the Intake endpoint (authenticated per source with rotatable tokens;
// stored before they are acknowledged, processed by a River job), and a
// periodic job polls SQL sources for what changed since a watermark. Both
// write the care-context register (Register), keyed (facility, reference),
// from which the HIP side links, discovers and fetches.
package sources
