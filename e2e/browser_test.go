package e2e

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/e2e/sandbox/identity"
	"github.com/sangamhealth/sangam/server/servertest"
)

func TestMain(m *testing.M) { databasetest.Main(m) }

const chromiumPath = "/usr/bin/chromium"

// screenWidth and screenHeight are the smallest screen the web app is
// designed for: a common hospital desktop.
const (
	screenWidth  = 1366
	screenHeight = 768
)

// newBrowser starts headless Chromium for t, or skips (fails in CI) when it
// is not installed.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: CI must install chromium", chromiumPath)
		}
		t.Skipf("%s not found: install chromium (make test does)", chromiumPath)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(screenWidth, screenHeight),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// Start the browser now, on a context without a deadline: the first
	// action's context owns the browser process.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(screenWidth, screenHeight)); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// staffJourney is what one demo user should see.
type staffJourney struct {
	username string
	home     string
	heading  string
	// forbidden is another role's page and the role it needs.
	forbidden     string
	forbiddenRole string
}

// TestStaffSignInInBrowser signs each demo user in through the identity
// provider's login form, checks their home page, checks that another
// role's page is refused with the role it needs, and signs out.
func TestStaffSignInInBrowser(t *testing.T) {
	browser := newBrowser(t)
	env := servertest.Start(t, servertest.Options{})
	shots := t.TempDir()
	if dir := os.Getenv("SANGAM_SCREENSHOT_DIR"); dir != "" {
		shots = dir // to keep the screenshots for a look
	}

	journeys := []staffJourney{
		{"frontdesk", "/front-desk", "Front desk", "/doctor", "doctor"},
		{"doctor", "/doctor", "Doctor", "/billing", "billing"},
		{"billing", "/billing", "Billing", "/admin", "admin"},
		{"admin", "/admin", "Administration", "/front-desk", "front-desk"},
	}
	// The front door: the sign-in page, before anyone has signed in.
	if err := chromedp.Do(browser, chromedp.Navigate(env.URL+"/"), chromedp.WaitVisible(chromedp.ID("sign-in"))); err != nil {
		t.Fatalf("opening Sangam: %v", err)
	}
	screenshot(t, browser, filepath.Join(shots, "login.png"))

	for _, j := range journeys {
		t.Run(j.username, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(browser, 60*time.Second)
			defer cancel()

			signIn(t, ctx, env.URL, j.username)
			if got := pathOf(t, ctx); got != j.home {
				t.Fatalf("after sign-in the browser is at %s, want %s", got, j.home)
			}
			if got := text(t, ctx, "h1"); got != j.heading {
				t.Errorf("home heading %q, want %q", got, j.heading)
			}
			screenshot(t, ctx, filepath.Join(shots, j.username+"-home.png"))

			// Another role's page is refused, naming the role it needs.
			if err := chromedp.Do(ctx,
				chromedp.Navigate(env.URL+j.forbidden),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid="problem"]`)),
			); err != nil {
				t.Fatalf("opening %s: %v", j.forbidden, err)
			}
			if got := text(t, ctx, "h1"); got != "You can't open this page" {
				t.Errorf("refusal heading %q", got)
			}
			if got, want := text(t, ctx, `[data-testid="problem"]`), "needs the “"+j.forbiddenRole+"” role"; !strings.Contains(got, want) {
				t.Errorf("refusal %q does not say %q", got, want)
			}
			screenshot(t, ctx, filepath.Join(shots, j.username+"-refused.png"))

			// Sign out: through the provider and back to Sangam.
			if err := chromedp.Do(ctx,
				chromedp.Click(chromedp.CSS(`form.sign-out button`)),
				chromedp.WaitVisible(chromedp.CSS(`p.message.notice`)),
			); err != nil {
				t.Fatalf("signing out: %v", err)
			}
			if got := pathOf(t, ctx); got != "/signed-out" {
				t.Errorf("after sign-out the browser is at %s, want /signed-out", got)
			}
			if got := text(t, ctx, `p.message.notice`); got != "You have signed out." {
				t.Errorf("sign-out notice %q", got)
			}
			// The home page now asks to sign in again.
			if err := chromedp.Do(ctx,
				chromedp.Navigate(env.URL+j.home),
				chromedp.WaitVisible(chromedp.ID("sign-in")),
			); err != nil {
				t.Fatalf("opening %s after sign-out: %v", j.home, err)
			}
			if got := pathOf(t, ctx); got != "/login" {
				t.Errorf("%s after sign-out is at %s, want /login", j.home, got)
			}
		})
	}
	t.Logf("screenshots in %s", shots)
}

// signIn goes from Sangam's front door through the provider's login form
// and waits for a signed-in page.
func signIn(t *testing.T, ctx context.Context, sangamURL, username string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(sangamURL+"/"),
		chromedp.WaitVisible(chromedp.ID("sign-in")),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), identity.DemoPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label="Main"]`)),
	)
	if err != nil {
		t.Fatalf("signing in as %s: %v", username, err)
	}
}

// screenshot saves what the browser shows (the 1366x768 viewport) to path.
func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("reading %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

func pathOf(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("reading the location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}
