package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/phr"
	"github.com/sangamhealth/sangam/e2e/sandbox/remote"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sharedtest"
)

// TestDoctorReadsAnotherHospitalsRecords is issue 8's journey in the
// browser: a doctor asks a demo patient for consent on /doctor/consents,
// the patient, whose records City Hospital linked as it registered them,
// approves in the sandbox PHR app, the doctor's page shows the answer as
// it arrives, and the patient's whole record shows City Hospital's
// documents, with where they came from, next to this group's own lab
// results and trends.
func TestDoctorReadsAnotherHospitalsRecords(t *testing.T) {
	fhir := sharedtest.Path(t, "fhir") // the example bundles City Hospital serves
	browser := newBrowser(t)
	j := startJourney(t, fhir)
	shots := screenshotDir(t)
	p, addr, lims := labPatient(t, j)
	hospital := j.Sandbox.Remote
	if len(hospital.Records(addr)) == 0 {
		t.Fatalf("City Hospital holds no records for %s: %s", addr, hospital.Status().Records)
	}

	ctx, cancel := context.WithTimeout(browser, 3*time.Minute)
	defer cancel()
	signIn(t, ctx, j.URL, "doctor")

	// 1. The doctor goes from the navigation to the consent requests,
	// finds the patient and asks for City Hospital's records.
	consentsLink := `nav[aria-label="Main"] a[href="/doctor/consents"]`
	err := chromedp.Do(ctx,
		chromedp.Navigate(j.URL+"/doctor"),
		chromedp.WaitVisible(chromedp.CSS(consentsLink)),
	)
	if err != nil {
		t.Fatalf("opening the doctor's page: %v", err)
	}
	if got := texts(t, ctx, `nav[aria-label="Main"] a`); !slices.Equal(got, []string{"Doctor", "Patients", "Consent requests"}) {
		t.Errorf("the doctor's navigation offers %q", got)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(consentsLink)),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), addr),
		chromedp.Submit(chromedp.ID("q")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="patient"][value="`+p.ID+`|`+addr+`"]`)),
	)
	if err != nil {
		t.Fatalf("searching for %s: %v", addr, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name="patient"][value="`+p.ID+`|`+addr+`"]`)),
		chromedp.SendKeys(chromedp.ID("hip"), hospital.HIPID()),
		chromedp.Click(chromedp.CSS(`form[method="post"][action="/doctor/consents"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice[role="status"]`)),
	)
	if err != nil {
		t.Fatalf("sending the consent request: %v", err)
	}
	if got := text(t, ctx, `p.notice[role="status"]`); !strings.Contains(got, "on its way") {
		t.Errorf("after sending, the page says %q", got)
	}
	row := `#consent-requests tbody tr:first-child`
	waitForText(t, ctx, row, "Requested", "the request reaching the consent manager")
	if got := text(t, ctx, row); !strings.Contains(got, addr) || !strings.Contains(got, "No answer from the patient yet") {
		t.Errorf("request row %q: want the patient and that no answer came yet", got)
	}
	scrollTo(t, ctx, "#requests")
	screenshot(t, ctx, filepath.Join(shots, "consent-requested.png"))

	// 2. The patient, in the PHR app in another tab, finds the request
	// and approves: City Hospital linked its records of them when the
	// sandbox started, as a hospital does when it registers a visit, so
	// the request already lists them.
	if err := hospital.Wait(ctx, func() bool { return allLinked(hospital.Records(addr)) }); err != nil {
		t.Fatalf("City Hospital did not link its records of %s: %v; its links: %+v", addr, err, hospital.HIPLinks())
	}
	patientTab, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	phrPage := j.SandboxURL + phr.Prefix + "/?patient=" + url.QueryEscape(addr)
	err = chromedp.Do(patientTab,
		chromedp.Navigate(phrPage),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/approve"]`)),
	)
	if err != nil {
		t.Fatalf("opening the patient's PHR app: %v", err)
	}
	offered := texts(t, patientTab, fmt.Sprintf(`form[action$="/approve"] input[name="cc"][value^="%s|"]`, hospital.HIPID()))
	if len(offered) != len(hospital.Records(addr)) {
		t.Errorf("the approval offers %d City Hospital records, want the %d it linked", len(offered), len(hospital.Records(addr)))
	}
	scrollTo(t, patientTab, `form[action$="/approve"]`)
	screenshot(t, patientTab, filepath.Join(shots, "phr-approve.png"))
	err = chromedp.Do(patientTab,
		chromedp.Click(chromedp.CSS(`form[action$="/approve"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/revoke"]`)),
	)
	if err != nil {
		t.Fatalf("approving: %v", err)
	}
	artefact := grantedArtefact(t, j, addr, hospital.HIPID())

	// 3. The doctor's page, left open, shows the answer without a reload.
	waitForText(t, ctx, row, "Granted", "the consents page showing the patient's answer")
	scrollTo(t, ctx, "#requests")
	screenshot(t, ctx, filepath.Join(shots, "consent-granted.png"))

	// 4. The whole record, opened from the patient's page: City
	// Hospital's documents with their provenance next to the group's own
	// lab results and trends.
	err = chromedp.Do(ctx,
		chromedp.Navigate(j.URL+"/patients/"+p.ID),
		chromedp.Click(chromedp.CSS(`[data-testid="record-link"]`)),
		chromedp.WaitVisible(chromedp.ID("timeline")),
	)
	if err != nil {
		t.Fatalf("opening the whole record from the patient's page: %v", err)
	}
	if got := pathOf(t, ctx); got != "/patients/"+p.ID+"/record" {
		t.Fatalf("the record link leads to %s", got)
	}
	waitForRecordCount(t, ctx, j.URL+"/patients/"+p.ID+"/record", `.timeline .badge-external`, func(n int) bool { return n > 0 })
	screenshot(t, ctx, filepath.Join(shots, "record.png"))
	if got := text(t, ctx, "h1"); got != p.Summary.Name {
		t.Errorf("record heading %q, want %q", got, p.Summary.Name)
	}
	external := texts(t, ctx, `.timeline .badge-external`)
	cityHospital := hospital.Status().HIPName // as the consent artefact names it
	wantProvenance := "From " + cityHospital + " via ABDM · consent " + artefact + " · received "
	for _, b := range external {
		if !strings.HasPrefix(b, wantProvenance) {
			t.Errorf("external entry's provenance %q, want it to start %q", b, wantProvenance)
		}
	}
	scrollTo(t, ctx, `.timeline .badge-external`)
	screenshot(t, ctx, filepath.Join(shots, "record-from-city-hospital.png"))
	own := texts(t, ctx, `.timeline .badge-own`)
	shown, total := entryCounts(t, ctx)
	wantOwn := lims.FacilityName + " · " + lims.SourceName
	if !slices.Contains(own, wantOwn) {
		t.Errorf("no entry of the patient's own lab results (%q) among %d own entries", wantOwn, len(own))
	}
	trends := texts(t, ctx, `figure.trend figcaption`)
	if len(trends) == 0 {
		t.Error("the record shows no lab trend")
	}
	// Every chart's labels can be read: none overlaps another or a
	// point, and none is cut off.
	for _, problem := range chartLabelProblems(t, ctx) {
		t.Errorf("lab trend: %s", problem)
	}
	// The facility filter offers City Hospital next to the group's own.
	facilities := texts(t, ctx, `#f-facility option`)
	if !slices.Contains(facilities, cityHospital) || !slices.Contains(facilities, lims.FacilityName) {
		t.Errorf("facility filter offers %q, want %s and %s", facilities, cityHospital, lims.FacilityName)
	}
	t.Logf("%s: %d entries from City Hospital, %d own, %d trends; screenshots in %s", addr, len(external), len(own), len(trends), shots)

	// 5. The patient withdraws consent: what City Hospital sent is erased,
	// the group's own records stay, and the request says why.
	if err := chromedp.Do(patientTab, chromedp.Click(chromedp.CSS(`form[action$="/revoke"] button`)), chromedp.WaitNotPresent(chromedp.CSS(`form[action$="/revoke"]`))); err != nil {
		t.Fatalf("revoking: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(j.URL+"/patients/"+p.ID+"/record"), chromedp.WaitVisible(chromedp.ID("timeline"))); err != nil {
		t.Fatalf("opening the record again: %v", err)
	}
	waitForRecordCount(t, ctx, j.URL+"/patients/"+p.ID+"/record", `.timeline .badge-external`, func(n int) bool { return n == 0 })
	ownAfter := texts(t, ctx, `.timeline .badge-own`)
	if !slices.Contains(ownAfter, wantOwn) {
		t.Errorf("after revocation the record lost the patient's own lab results (%q)", wantOwn)
	}
	if _, totalAfter := entryCounts(t, ctx); shown == total && totalAfter != len(own) {
		// Everything was on one page before, so every own entry was counted.
		t.Errorf("after revocation the record has %d entries, want the %d own ones", totalAfter, len(own))
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(j.URL+"/doctor/consents"), chromedp.WaitVisible(chromedp.ID("consent-requests"))); err != nil {
		t.Fatalf("opening the consent requests: %v", err)
	}
	waitForText(t, ctx, row, "Revoked", "the consents page showing the revocation")
	if got := text(t, ctx, row); !strings.Contains(got, "erased") {
		t.Errorf("revoked request row %q does not say the records were erased", got)
	}
}

// labPatient picks a demo patient the doctor can ask through ABDM (an
// ABHA address known to the sandbox) whose own LIMS holds at least two
// numeric results of one test, so that the record has a lab trend.
func labPatient(t *testing.T, j *journey) (patients.Patient, string, patients.Link) {
	t.Helper()
	ctx := context.Background()
	rows, err := j.DB.Owner.Query(ctx, `SELECT DISTINCT o.lab_pid FROM demo_labtrack.lab_order o
		JOIN demo_labtrack.lab_result r USING (order_id)
		WHERE r.result_value ~ '^[0-9]+(\.[0-9]+)?$'
		GROUP BY o.lab_pid, r.test_code HAVING count(*) >= 2`)
	if err != nil {
		t.Fatal(err)
	}
	trending := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		trending[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, cp := range j.Sandbox.CM.Patients() {
		known[strings.ToLower(cp.ABHAAddress)] = true
	}
	all, err := j.Patients.List(ctx, j.Tenant, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		var addr string
		for _, id := range p.Identifiers {
			if id.Kind == "abha_address" && known[strings.ToLower(id.Value)] {
				addr = id.Value
			}
		}
		for _, l := range p.Links {
			if addr != "" && l.SourceKind == "LIMS" && trending[l.LocalID] {
				return p, addr, l
			}
		}
	}
	t.Fatal("no demo patient with an ABHA known to the sandbox has a lab result twice")
	return patients.Patient{}, "", patients.Link{}
}

// allLinked reports whether every record a hospital holds for a patient
// is linked (and there is at least one).
func allLinked(recs []remote.Record) bool {
	return len(recs) > 0 && !slices.ContainsFunc(recs, func(r remote.Record) bool { return !r.Linked })
}

// grantedArtefact is the consent artefact the consent manager made for
// the HIP, as the patient's app lists it.
func grantedArtefact(t *testing.T, j *journey, addr, hipID string) string {
	t.Helper()
	for _, c := range j.Sandbox.CM.Consents(cm.ConsentFilter{ABHAAddress: addr}) {
		if c.HIPID == hipID && c.Status == abdm.ConsentGranted {
			return c.ID
		}
	}
	t.Fatalf("the consent manager holds no granted consent of %s for %s", addr, hipID)
	return ""
}

// waitForText waits until the element's text contains want: the page
// changes by itself (htmx polls), so this waits for it, up to the
// context's deadline.
func waitForText(t *testing.T, ctx context.Context, css, want, what string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, css, want)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(200*time.Millisecond))); err != nil {
		got, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q)?.textContent ?? ""`, css)))
		t.Fatalf("waiting for %s (%q in %s): %v; it shows %q", what, want, css, err, got)
	}
}

// waitForRecordCount reloads the open record page, as a doctor would,
// until the number of elements matching css is what done wants: the HIU
// receives, decrypts and erases records in the background.
func waitForRecordCount(t *testing.T, ctx context.Context, recordURL, css string, done func(int) bool) {
	t.Helper()
	for {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, css)))
		if err != nil {
			t.Fatalf("reading the record: %v", err)
		}
		if done(n) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the record page still shows %d of %s", n, css)
		case <-time.After(300 * time.Millisecond):
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(recordURL), chromedp.WaitVisible(chromedp.ID("timeline"))); err != nil {
			t.Fatalf("reloading the record: %v", err)
		}
	}
}

// entryCounts reads "N of M entries" above the record's timeline.
func entryCounts(t *testing.T, ctx context.Context) (shown, total int) {
	t.Helper()
	line := text(t, ctx, `section[aria-labelledby="timeline"] > p`)
	if _, err := fmt.Sscanf(line, "%d of %d entries", &shown, &total); err != nil {
		t.Fatalf("reading the timeline's count %q: %v", line, err)
	}
	return shown, total
}

// scrollTo brings an element into the screenshot.
func scrollTo(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS(css))); err != nil {
		t.Fatalf("scrolling to %s: %v", css, err)
	}
}

// chartLabelProblems measures, as laid out in the browser, every text of
// every trend chart against the others, the data points and the chart's
// edges.
func chartLabelProblems(t *testing.T, ctx context.Context) []string {
	t.Helper()
	const js = `Array.from(document.querySelectorAll('figure.trend')).flatMap(f => {
		const name = f.querySelector('figcaption').textContent.trim().replace(/\s+/g, ' ');
		const svg = f.querySelector('svg'), box = svg.getBoundingClientRect();
		const texts = Array.from(svg.querySelectorAll('text'), e => ({what: 'label "' + e.textContent + '"', r: e.getBoundingClientRect()}));
		const dots = Array.from(svg.querySelectorAll('circle'), e => ({what: 'point ' + e.textContent, r: e.getBoundingClientRect()}));
		const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
		const out = [];
		texts.forEach((a, i) => {
			if (a.r.left < box.left || a.r.right > box.right || a.r.top < box.top || a.r.bottom > box.bottom) out.push(name + ': ' + a.what + ' is cut off');
			texts.slice(i + 1).forEach(b => { if (hit(a.r, b.r)) out.push(name + ': ' + a.what + ' overlaps ' + b.what); });
			dots.forEach(b => { if (hit(a.r, b.r)) out.push(name + ': ' + a.what + ' covers ' + b.what); });
		});
		return out;
	})`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
	if err != nil {
		t.Fatalf("measuring the trend charts: %v", err)
	}
	return out
}

// texts returns the trimmed text of every element that matches css.
func texts(t *testing.T, ctx context.Context, css string) []string {
	t.Helper()
	js := fmt.Sprintf(`Array.from(document.querySelectorAll(%q), e => e.textContent.trim())`, css)
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
	if err != nil {
		t.Fatalf("reading %s: %v", css, err)
	}
	return out
}

// screenshotDir is where a test saves what the browser showed:
// SANGAM_SCREENSHOT_DIR to keep them for a look, else a temporary folder.
func screenshotDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("SANGAM_SCREENSHOT_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}
