// Package abdm speaks the ABDM V3 wire protocol: the HIE-CM gateway client,
// the message types of every M1/M2/M3 flow, the gateway's error bodies and
// the check of the JWT the gateway puts on its callbacks.
//
// The facts behind this package are in the project's reference notes
// (reference/abdm-v3.md); where sources disagree the code follows what was
// observed against the real sandbox and says so in a comment.
//
// # Calling the gateway
//
// A [Client] is built once per gateway (sandbox or production) and shared by
// every tenant. Client secrets are never part of its configuration: they are
// looked up through [Credentials] when a session token is needed.
//
//	c, err := abdm.New(abdm.Config{
//		GatewayURL:  "https://dev.abdm.gov.in/api/hiecm",
//		CMID:        abdm.CMSandbox,
//		Credentials: keyStore, // anything with ClientCredentials(ctx, tenant)
//		HTTPClient:  httpClient,
//		Logger:      logger,
//	})
//	resp, err := c.Do(ctx, abdm.Request{
//		Path:      abdm.PathGenerateToken,
//		Tenant:    "acme",
//		HIPID:     "IN2810014366",
//		RequestID: job.RequestID, // reuse on retries so the gateway sees one request
//		Body:      abdm.GenerateTokenRequest{...},
//	})
//
// [Client.Do] adds the headers every call needs (REQUEST-ID, TIMESTAMP,
// X-CM-ID, Authorization, Content-Type), caches one session token per tenant,
// and retries exactly once when the API manager says the token was
// invalidated (code 900901). Anything else that goes wrong comes back as an
// [*Error] that can be tested with errors.Is against the sentinel categories
// ([ErrBadRequest], [ErrUnauthorized], [ErrGatewayUnavailable], ...) and
// shown to staff through its Explanation and Advice. [Retryable] tells the
// outbox whether sending the same request again later can help.
//
// # Receiving callbacks
//
// The gateway calls a tenant's bridge URL at the paths listed by
// [CallbackRoutes], each addressed to an HIP (X-HIP-ID) or an HIU (X-HIU-ID).
// Every callback carries an RS256 JWT; [Verifier] checks it against the
// gateway's key set from [Client.Certs]. The result of an asynchronous call
// arrives with response.requestId set to the REQUEST-ID of the call that
// caused it; gateway-initiated events are answered with an on-* call whose
// response.requestId is the REQUEST-ID header of the inbound event.
//
// # Message types
//
// Wire structs are grouped by flow (messages_share.go, messages_linking.go,
// messages_discovery.go, messages_consent.go, messages_dataflow.go) and use
// the exact JSON names the gateway uses. Where the gateway or other senders
// are inconsistent (numbers sent as strings, timestamps without a zone,
// hiType vs hiTypes) decoding is lenient and encoding follows what the
// sandbox accepts.
package abdm
