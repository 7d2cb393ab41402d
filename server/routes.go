package server

import (
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

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
	s.page(roleBilling.home(), allow(roleBilling), s.showBillingHome)
	s.page(roleAdmin.home(), allow(roleAdmin), s.showAdminHome)

	// Scan-and-share counter queue; /table is the fragment htmx polls every 3 s.
	s.page(queuePath, allow(roleFrontDesk, roleAdmin), s.showCounterQueue)
	s.page(queuePath+"/table", allow(roleFrontDesk, roleAdmin), s.showCounterQueueTable)
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

	// Source systems: health per system, and a new event token shown once.
	s.page(sourcesPath, allow(roleAdmin), s.showSourceHealth)
	s.action(sourcesPath+"/:id/token", allow(roleAdmin), s.issueSourceToken)

	// ABDM connection: credentials, bridge URL, facility registrations.
	s.page("/admin/abdm", allow(roleAdmin), s.abdmOnly(s.showABDMPage))
	s.action("/admin/abdm/credentials", allow(roleAdmin), s.abdmOnly(s.saveABDMCredentials))
	s.action("/admin/abdm/register", allow(roleAdmin), s.abdmOnly(s.registerBridge))
	s.action("/admin/abdm/check", allow(roleAdmin), s.abdmOnly(s.checkRegistrations))

	// Operations console: the bridge's exchanges (the table is also the
	// htmx-polled fragment), one exchange, its audited body, replay.
	s.page("/admin/ops", allow(roleAdmin), s.abdmOnly(s.showOpsConsole))
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

	// Events from source systems (visit created, report finalised, ...)
	// authenticate with each system's own bearer token.
	if s.sourceEvents != nil {
		s.sourceEvents.Register(s.app)
	}
}
