// Package e2e holds Sangam's browser and end-to-end tests. They start the
// sandbox (e2e/sandbox) and Sangam in-process on loopback listeners,
// against a test database with the demo data, and drive them as users and
// the ABDM gateway would: headless Chromium through chromedp for the web
// app, real HTTP for the rest.
package e2e
