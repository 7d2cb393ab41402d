package main

// The NHCX sandbox's addresses (production's are configuration: NHA's
// documents disagree on them).
const (
	nhcxSandboxURL         = "https://apisbx.abdm.gov.in/hcx"
	nhcxSandboxRegistryURL = "https://apisbx.abdm.gov.in/pmjay/sbxhcx/participanthcxservice"
)

// nhcxSettings say where the NHCX switch and its participant registry are.
// serve sends and receives through them; `sangam nhcx register` looks our
// participant up in the registry.
type nhcxSettings struct {
	switchURL     string
	registryURL   string
	acceptExpired bool
}

func (n *nhcxSettings) register(o *options) {
	o.String(&n.switchURL, "nhcx-url", "NHCX_URL", nhcxSandboxURL, "NHCX switch base URL (use-case API; the sandbox's /hcx for local use)")
	o.String(&n.registryURL, "nhcx-registry-url", "NHCX_REGISTRY_URL", nhcxSandboxRegistryURL, "NHCX participant registry base URL")
	o.Bool(&n.acceptExpired, "nhcx-accept-expired-certificates", "NHCX_ACCEPT_EXPIRED_CERTIFICATES", false, "use insurers' certificates outside their validity (sandbox participants often have such; never in production)")
}
