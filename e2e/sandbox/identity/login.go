package identity

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// Paths the package serves itself, next to the library's endpoints.
const (
	loginPath     = "/login"
	loggedOutPath = "/logged-out"
)

// Login form field names. The auth request id also names the query
// parameter of the GET that shows the form.
const (
	loginFieldAuthRequest = "auth_request_id"
	loginFieldUsername    = "username"
	loginFieldPassword    = "password"
)

//go:embed login.html
var loginHTML string

var loginPage = template.Must(template.New("login").Parse(loginHTML))

// loginView is everything the login page shows.
type loginView struct {
	Title   string
	Message string // a page without a form: expired request, logged out

	Form          bool
	Action        string
	ClientID      string
	AuthRequestID string
	Username      string
	Error         string
}

// showLogin renders the form for an authorization request that is waiting
// for a user.
func (p *Provider) showLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get(loginFieldAuthRequest)
	req, ok := p.pendingAuthRequest(id)
	if !ok {
		p.renderExpired(w, r)
		return
	}
	p.render(w, r, http.StatusOK, loginView{
		Title:         "Sign in",
		Form:          true,
		Action:        p.prefix + loginPath,
		ClientID:      req.clientID,
		AuthRequestID: id,
		Username:      req.loginHint,
	})
}

// submitLogin checks the credentials. On success it completes the
// authorization request and sends the browser to the library's callback,
// which issues the code; on failure it shows the form again.
func (p *Provider) submitLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		http.Error(w, "The sign-in form could not be read.", http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get(loginFieldAuthRequest)
	username := r.PostForm.Get(loginFieldUsername)
	req, ok := p.pendingAuthRequest(id)
	if !ok {
		p.renderExpired(w, r)
		return
	}
	retry := loginView{
		Title:         "Sign in",
		Form:          true,
		Action:        p.prefix + loginPath,
		ClientID:      req.clientID,
		AuthRequestID: id,
		Username:      username,
	}
	user, ok := p.store.checkPassword(username, r.PostForm.Get(loginFieldPassword))
	if !ok {
		// The typed username is not logged: it may be a mistyped password.
		p.log.InfoContext(ctx, "identity: sign-in refused", "client_id", req.clientID)
		retry.Error = "The username or password is incorrect."
		p.render(w, r, http.StatusOK, retry)
		return
	}
	if err := p.store.completeLogin(id, user.Subject, time.Now()); err != nil {
		p.log.InfoContext(ctx, "identity: completing sign-in", "client_id", req.clientID, "error", err)
		p.renderExpired(w, r)
		return
	}
	p.log.InfoContext(ctx, "identity: signed in", "client_id", req.clientID, "user", user.Username)
	callback := op.AuthCallbackURL(p.op)(op.ContextWithIssuer(ctx, p.issuer), id)
	http.Redirect(w, r, callback, http.StatusSeeOther)
}

func (p *Provider) showLoggedOut(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, loginView{
		Title:   "Signed out",
		Message: "You have been signed out. You can close this window.",
	})
}

// pendingAuthRequest returns the authorization request with this id if it
// is live and still waiting for a user.
func (p *Provider) pendingAuthRequest(id string) (*authRequest, bool) {
	if id == "" {
		return nil, false
	}
	return p.store.pendingAuthRequest(id, time.Now())
}

func (p *Provider) renderExpired(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusBadRequest, loginView{
		Title:   "Sign-in link expired",
		Message: "This sign-in request has expired or was already used. Go back to the application and sign in again.",
	})
}

func (p *Provider) render(w http.ResponseWriter, r *http.Request, status int, v loginView) {
	var buf bytes.Buffer
	if err := loginPage.Execute(&buf, v); err != nil {
		p.log.ErrorContext(r.Context(), "identity: rendering login page", "error", err)
		http.Error(w, "The sign-in page could not be shown.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// No form-action directive: browsers apply it to the redirect chain
	// after the POST, which ends at the relying party.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
