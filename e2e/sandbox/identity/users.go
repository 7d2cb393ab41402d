package identity

import "slices"

// Staff roles, as they appear in the "roles" claim.
const (
	RoleFrontDesk = "front-desk"
	RoleDoctor    = "doctor"
	RoleBilling   = "billing"
	RoleAdmin     = "admin"
)

// DemoPassword is the password of every user returned by DemoUsers.
const DemoPassword = "sangam-demo"

// User is a staff member who can sign in.
type User struct {
	// Subject is the stable "sub" claim; relying parties key accounts on it.
	Subject  string
	Username string
	Password string
	Name     string
	Email    string
	// Roles go into the "roles" claim.
	Roles []string
	// Facilities are the facility ids the user may act for ("facilities" claim).
	Facilities []string
}

// DemoUsers returns one user per staff role, all with DemoPassword. The
// front-desk user acts for the first facility; the doctor (visiting two
// hospitals of the group) and billing (the group's claims desk for its two
// hospitals) for the first two; the admin for all of them. The slice is
// fresh on every call.
func DemoUsers(facilities []string) []User {
	first := facilities[:min(1, len(facilities))]
	firstTwo := facilities[:min(2, len(facilities))]
	return []User{
		demoUser("frontdesk", "Asha Frontdesk", RoleFrontDesk, first),
		demoUser("doctor", "Vikram Doctor", RoleDoctor, firstTwo),
		demoUser("billing", "Priya Billing", RoleBilling, firstTwo),
		demoUser("admin", "Arjun Admin", RoleAdmin, facilities),
	}
}

func demoUser(username, name, role string, facilities []string) User {
	return User{
		Subject:    "demo-" + username,
		Username:   username,
		Password:   DemoPassword,
		Name:       name,
		Email:      username + "@sangam.example",
		Roles:      []string{role},
		Facilities: append([]string{}, facilities...),
	}
}

// clone returns a deep copy, so the provider never shares slices with its caller.
func (u User) clone() User {
	u.Roles = slices.Clone(u.Roles)
	u.Facilities = slices.Clone(u.Facilities)
	return u
}
