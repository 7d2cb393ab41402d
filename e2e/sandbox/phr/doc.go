// Package phr is the sandbox's PHR app: the patient's side of ABDM (the
// ABHA app), so tests and people running `make run` can act as a patient
// against Sangam. It drives the consent manager of package cm in-process;
// everything it does reaches Sangam the way the real gateway does it,
// as signed callbacks to the bridge.
//
//	inbox := phr.NewInbox(nil)
//	consent, _ := cm.New(cm.Config{..., SMS: inbox})
//	app, _ := phr.New(phr.Config{CM: consent, Inbox: inbox})
//	mux.Handle("/_sandbox/phr/", app)
//
// Patients are the consent manager's (the ABHA sandbox's accounts plus any
// configured in cm.Config.Patients), addressed by ABHA address.
//
// # Control API
//
// JSON, no token, snake_case. {addr} is an ABHA address such as
// sunita.rao@sbx. Every POST may add ?wait=<duration> (at most 30s): the
// answer then comes once the HIP has answered the step (on-share,
// on-discover, on-init, on-confirm) or the wait ran out, whichever is
// first. Errors are {"error": "..."} with 404 (unknown patient, HIP or
// object), 400 (bad input) or 409 (not allowed now, e.g. ABDM-1104 a
// second link init).
//
//	GET  /_sandbox/phr/                                  HTML page (forms; no JavaScript)
//	GET  /_sandbox/phr/patients                          {"patients":[cm.Patient],"hips":[cm.Facility]}
//	GET  /_sandbox/phr/patients/{addr}                   Overview {patient,shares,links,discoveries,consent_requests,consents,sms}
//	POST /_sandbox/phr/patients/{addr}/share             {"hip_id","counter_id"} | {"qr":"https://phrsbx.abdm.gov.in/share-profile?hip-id=..&counter-id=.."} → cm.Share
//	GET  /_sandbox/phr/patients/{addr}/shares            {"shares":[cm.Share]}
//	GET  /_sandbox/phr/patients/{addr}/links             {"links":[cm.LinkedCareContext]}
//	POST /_sandbox/phr/patients/{addr}/discover          {"hip_id","identifiers":[{"type":"MR","value":".."}]} → cm.Discovery
//	GET  /_sandbox/phr/patients/{addr}/discoveries       {"discoveries":[cm.Discovery]}
//	GET  /_sandbox/phr/patients/{addr}/discoveries/{txn} cm.Discovery
//	POST /_sandbox/phr/patients/{addr}/discoveries/{txn}/link     {"care_contexts":[{"patient_reference","care_context_reference"}]} (empty: all found) → cm.Discovery
//	POST /_sandbox/phr/patients/{addr}/discoveries/{txn}/confirm  {"otp":"123456"} → cm.Discovery
//	GET  /_sandbox/phr/patients/{addr}/consent-requests?status=   {"consent_requests":[cm.ConsentRequest]}
//	POST /_sandbox/phr/patients/{addr}/consent-requests/{id}/approve  cm.Grant {"care_contexts":[{"hip_id","patient_reference","care_context_reference"}],"hi_types","from","to","data_erase_at"} (all optional) → cm.ConsentRequest
//	POST /_sandbox/phr/patients/{addr}/consent-requests/{id}/deny     {"reason"} → cm.ConsentRequest
//	GET  /_sandbox/phr/patients/{addr}/consents          {"consents":[cm.Consent]}
//	POST /_sandbox/phr/patients/{addr}/consents/{id}/revoke       (consent request id or artefact id) → cm.ConsentRequest
//	GET  /_sandbox/phr/patients/{addr}/sms               {"messages":[SMS]} newest first, for the patient's mobile
//	POST /_sandbox/phr/sms                               {"phone","from","text"} → 202: the sandbox's SMS gateway
//	GET  /_sandbox/phr/sms?phone=                        {"messages":[SMS]}
//	POST /_sandbox/phr/reset                             204; empties the phones
//
// # OTPs for user-initiated linking
//
// In V3 the HIP, not ABDM, sends the link OTP to the mobile it holds for
// the patient (reference §3.2); on-init only says how it was sent. So the
// OTP reaches the app in one of two ways: the HIP's SMS sender posts it to
// POST /_sandbox/phr/sms (point a development SMS provider there) and the
// page shows it under the patient's messages, or the test that plays the
// HIP knows it and supplies it to confirm.
package phr
