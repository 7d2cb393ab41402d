package identity

import (
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Custom claim names, in the ID token and the userinfo response.
const (
	ClaimRoles      = "roles"
	ClaimFacilities = "facilities"
)

// setUserinfo fills info for u. Profile and email claims follow the granted
// scopes (OIDC Core §5.4); roles and facilities are authorisation data the
// relying party always needs, so they come with every token.
func setUserinfo(info *oidc.UserInfo, u *User, scopes []string) {
	info.Subject = u.Subject
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name = u.Name
		info.PreferredUsername = u.Username
	}
	if slices.Contains(scopes, oidc.ScopeEmail) && u.Email != "" {
		info.Email = u.Email
		// Demo addresses are configured, not self-asserted.
		info.EmailVerified = true
	}
	// Non-nil copies, so an empty list is sent as [] rather than null.
	info.AppendClaims(ClaimRoles, append([]string{}, u.Roles...))
	info.AppendClaims(ClaimFacilities, append([]string{}, u.Facilities...))
}
