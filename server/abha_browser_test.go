package server_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
)

const chromium = "/usr/bin/chromium"

// TestABHAEnrolmentInBrowser is a front-desk user creating Farhan's ABHA
// in a real browser: home page link, consent, Aadhaar, the OTP read from
// the sandbox, a suggested address, the result.
func TestABHAEnrolmentInBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: CI must install chromium", chromium)
		}
		t.Skipf("%s not found: install chromium (make test does)", chromium)
	}
	e := startABHA(t, "")
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()))
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(browser, chromedp.EmulateViewport(1366, 768)); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()

	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(css string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
		if err != nil {
			t.Fatalf("reading %s: %v", css, err)
		}
		return strings.TrimSpace(s)
	}
	run("signing in",
		chromedp.Navigate(e.URL+"/"),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "frontdesk"),
		chromedp.SendKeys(chromedp.ID("password"), identity.DemoPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="abha-create-link"]`)),
	)
	run("consent and Aadhaar",
		chromedp.Click(chromedp.CSS(`[data-testid="abha-create-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="consent-text"]`)),
		chromedp.Click(chromedp.CSS(`input[name="consent"]`)),
		chromedp.SendKeys(chromedp.ID("aadhaar"), aadhaarFarhan),
		chromedp.Click(chromedp.CSS(`[data-testid="abha-start"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="abha-aadhaar-otp"]`)),
	)
	prompt := text(`[data-testid="otp-sent"]`)
	if !strings.Contains(prompt, "******0006") {
		t.Errorf("OTP prompt %q does not name the masked Aadhaar mobile", prompt)
	}
	run("OTP and mobile",
		chromedp.SendKeys(chromedp.ID("otp"), e.newestOTP(t, "9000000006")),
		chromedp.SendKeys(chromedp.ID("mobile"), "9000000006"),
		chromedp.Click(chromedp.CSS(`[data-testid="abha-aadhaar-otp"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="abha-address"]`)),
	)
	run("address",
		chromedp.Click(chromedp.CSS(`[data-testid="abha-address"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="abha-result"]`)),
	)
	number, name := text(`[data-testid="abha-number"]`), text(`[data-testid="abha-name"]`)
	if !strings.HasPrefix(number, "91-") || len(number) != 17 || name == "" {
		t.Errorf("result shows ABHA Number %q for %q", number, name)
	}
}
