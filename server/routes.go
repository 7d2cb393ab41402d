package server

import (
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NHCXPath is where NHCX deliveries arrive: a participant's endpoint_url
// in the NHCX registry is the public URL followed by this path.
const NHCXPath = "/nhcx"

// routes is the site map: every route Sangam serves is listed here.
func (s *Server) routes(reg *prometheus.Registry) {
	// Every request gets an id, a log line and metrics, then the security
	// headers (set before handlers run, so error pages carry them too).
	s.app.Use(s.requestLog)
	s.app.Use(s.securityHeaders())

	// Operations.
	s.app.Get("/healthz", s.healthz)
	s.app.Get("/readyz", s.readyz)
	s.app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))

	// Static files: vendored htmx and the stylesheet.
	s.app.Get("/static/:name", serveStatic)

	// Sign-in and sign-out (OpenID Connect). These are reachable without a
	// session; /logout needs one and a CSRF token.
	s.app.Get("/", s.showHome)
	s.app.Get(loginPath, s.showLoginPage)
	s.app.Get(signedOutPath, s.showSignedOut)
	s.app.Get(loginStart, s.startLogin)
	s.app.Get(callbackPath, s.finishLogin)
	s.action(logoutPath, anyStaff(), s.logout)

	// Staff pages: one home per role.
	s.page(roleFrontDesk.home(), allow(roleFrontDesk), s.showFrontDeskHome)
	s.page(roleDoctor.home(), allow(roleDoctor), s.showDoctorHome)
	s.page(roleBilling.home(), allow(roleBilling), s.showBillingDesk)
	s.page(roleAdmin.home(), allow(roleAdmin), s.showAdminHome)

	// Scan-and-share counter queue; /table is the fragment htmx polls every 3 s.
	s.page(queuePath, allow(roleFrontDesk, roleAdmin), s.showCounterQueue)
	s.poll(queuePath+"/table", allow(roleFrontDesk, roleAdmin), s.showCounterQueueTable)
	s.action(queuePath+"/:id/accept", allow(roleFrontDesk, roleAdmin), s.acceptQueueToken)
	s.action(queuePath+"/:id/complete", allow(roleFrontDesk, roleAdmin), s.completeQueueToken)

	// Patient review: near-duplicates to merge or keep apart, merges to undo.
	s.page(reviewPath, allow(roleFrontDesk, roleAdmin), s.showReviewQueue)
	s.action(reviewPath+"/:id", allow(roleFrontDesk, roleAdmin), s.decideReview)
	s.action("/patients/:id/unmerge", allow(roleFrontDesk, roleAdmin), s.unmergePatient)

	// Patient index: the list and search, and one patient with their ids in
	// every system. /patients/:id comes after /patients/review so that the
	// review page keeps its path.
	s.page(patientsPath, patientsAccess(), s.showPatients)
	s.page(patientsPath+"/:id", patientsAccess(), s.showPatient)

	// ABHA at the front desk: create with Aadhaar OTP step by step (the
	// page shows the current step; each step posts), the card, attaching
	// the ABHA to a master-index patient.
	s.page(abhaEnrolPath, allow(roleFrontDesk), s.abhaOnly(s.showABHAEnrol))
	s.action(abhaEnrolPath+"/aadhaar", allow(roleFrontDesk), s.abhaOnly(s.enrolAadhaar))
	s.action(abhaEnrolPath+"/otp", allow(roleFrontDesk), s.abhaOnly(s.enrolOTP))
	s.action(abhaEnrolPath+"/mobile", allow(roleFrontDesk), s.abhaOnly(s.enrolMobile))
	s.action(abhaEnrolPath+"/mobile/resend", allow(roleFrontDesk), s.abhaOnly(s.enrolResendMobile))
	s.action(abhaEnrolPath+"/address", allow(roleFrontDesk), s.abhaOnly(s.enrolAddress))
	s.action(abhaEnrolPath+"/restart", allow(roleFrontDesk), s.abhaOnly(s.enrolRestart))
	s.action(abhaEnrolPath+"/attach", allow(roleFrontDesk), s.abhaOnly(s.enrolAttach))
	s.page(abhaEnrolPath+"/card", allow(roleFrontDesk), s.abhaOnly(s.enrolCard))
	// Verify an existing ABHA: start, OTP, account chooser, then the same
	// card and attach as above.
	s.page(abhaVerifyPath, allow(roleFrontDesk), s.abhaOnly(s.showABHAVerify))
	s.action(abhaVerifyPath+"/start", allow(roleFrontDesk), s.abhaOnly(s.verifyStart))
	s.action(abhaVerifyPath+"/otp", allow(roleFrontDesk), s.abhaOnly(s.verifyOTP))
	s.action(abhaVerifyPath+"/otp/resend", allow(roleFrontDesk), s.abhaOnly(s.verifyResend))
	s.action(abhaVerifyPath+"/account", allow(roleFrontDesk), s.abhaOnly(s.verifyAccount))
	s.action(abhaVerifyPath+"/restart", allow(roleFrontDesk), s.abhaOnly(s.verifyRestart))
	s.action(abhaVerifyPath+"/attach", allow(roleFrontDesk), s.abhaOnly(s.verifyAttach))
	s.page(abhaVerifyPath+"/card", allow(roleFrontDesk), s.abhaOnly(s.verifyCard))

	// Counter QR codes for scan and share: a printable page, PNG and SVG.
	s.page(countersPath+"/:id/qr", allow(roleAdmin, roleFrontDesk), s.showCounterQR)
	s.page(countersPath+"/:id/qr.png", allow(roleAdmin, roleFrontDesk), s.counterQRPNG)
	s.page(countersPath+"/:id/qr.svg", allow(roleAdmin, roleFrontDesk), s.counterQRSVG)

	// Consent requests to other hospitals (doctor); /table is the fragment
	// htmx polls every 5 s.
	s.page(consentsPath, doctorAccess(), s.hiuOnly(s.showConsents))
	s.poll(consentsPath+"/table", doctorAccess(), s.hiuOnly(s.showConsentTable))
	s.action(consentsPath, doctorAccess(), s.hiuOnly(s.createConsentRequest))

	// The whole record of a patient, and the documents in it.
	s.page(patientsPath+"/:id/record", doctorAccess(), s.showRecord)
	s.page(recordAttachmentPath+"/:id", doctorAccess(), s.hiuOnly(s.showRecordAttachment))

	// Billing (NHCX): a patient's stays, coverage and evidence; sending a
	// coverage check, pre-authorisation or claim for a stay; a case with
	// the payer's decision (/status is the fragment htmx polls every 3 s),
	// its answers to the payer's queries and payment notices.
	s.page(billingPath+"/patients/:id", billingAccess(), s.billingOnly(s.showBillingPatient))
	s.action(billingPath+"/patients/:id/coverage", billingAccess(), s.billingOnly(s.saveBillingCoverage))
	s.page(billingPath+"/patients/:id/claim", billingAccess(), s.billingOnly(s.showBillingEncounter))
	s.action(billingPath+"/patients/:id/claim", billingAccess(), s.billingOnly(s.sendBillingRequest))
	s.page(billingPath+"/cases/:id", billingAccess(), s.billingOnly(s.showBillingCase))
	s.poll(billingPath+"/cases/:id/status", billingAccess(), s.billingOnly(s.showBillingCaseStatus))
	s.action(billingPath+"/cases/:id/claim", billingAccess(), s.billingOnly(s.submitBillingClaim))
	s.action(billingPath+"/cases/:id/enhancement", billingAccess(), s.billingOnly(s.requestBillingEnhancement))
	s.action(billingPath+"/cases/:id/answer", billingAccess(), s.billingOnly(s.answerBillingQuery))
	s.action(billingPath+"/cases/:id/acknowledge", billingAccess(), s.billingOnly(s.acknowledgeBillingPayment))
	s.action(billingPath+"/cases/:id/messages/:mid/replay", billingAccess(), s.billingOnly(s.replayBillingMessage))

	// Source systems: health per system, and a new event token shown once.
	s.page(sourcesPath, allow(roleAdmin), s.showSourceHealth)
	s.action(sourcesPath+"/:id/token", allow(roleAdmin), s.issueSourceToken)

	// NHCX payers and each facility's empanelment with their schemes.
	s.page(adminPayersPath, allow(roleAdmin), s.billingOnly(s.showAdminPayers))
	s.action(adminPayersPath, allow(roleAdmin), s.billingOnly(s.saveAdminPayer))
	s.action(adminPayersPath+"/empanelments", allow(roleAdmin), s.billingOnly(s.saveAdminEmpanelment))

	// ABDM connection: credentials, bridge URL, facility registrations.
	s.page("/admin/abdm", allow(roleAdmin), s.abdmOnly(s.showABDMPage))
	s.action("/admin/abdm/credentials", allow(roleAdmin), s.abdmOnly(s.saveABDMCredentials))
	s.action("/admin/abdm/register", allow(roleAdmin), s.abdmOnly(s.registerBridge))
	s.action("/admin/abdm/check", allow(roleAdmin), s.abdmOnly(s.checkRegistrations))

	// Operations console: the bridge's exchanges (the table is also the
	// htmx-polled fragment), one exchange, its audited body, replay.
	s.page("/admin/ops", allow(roleAdmin), s.abdmOnly(s.showOpsConsole))
	s.poll(opsLivePath, allow(roleAdmin), s.abdmOnly(s.showOpsConsole))
	s.page("/admin/ops/:id", allow(roleAdmin), s.abdmOnly(s.showExchange))
	s.action("/admin/ops/:id/body", allow(roleAdmin), s.abdmOnly(s.showExchangeBody))
	s.action("/admin/ops/:id/replay", allow(roleAdmin), s.abdmOnly(s.replayExchange))

	// ABDM bridge callbacks (/bridge/<tenant>/...) authenticate with the
	// gateway's JWT, not a staff session, and so are exempt from CSRF.
	if s.bridge != nil {
		s.bridge.Register(s.app)
	}

	// Health records pushed to us as an HIU: authenticated by the
	// unguessable request id, the transaction and our decryption key.
	if s.dataPush != nil {
		s.dataPush.Register(s.app)
	}

	// NHCX deliveries: the participant's registered endpoint URL is
	// PublicURL + NHCXPath, and the switch appends /v1/....
	if s.nhcx != nil {
		s.nhcx.Register(s.app.Group(NHCXPath))
	}

	// Events from source systems (visit created, report finalised, ...)
	// authenticate with each system's own bearer token.
	if s.sourceEvents != nil {
		s.sourceEvents.Register(s.app)
	}
}
