package views

import (
	"net/http"
	"strconv"
	"strings"
)

// noFacilities explains an empty facility scope and who can fix it.
const noFacilities = "Your account is not assigned to any facility of this organisation. Ask your identity administrator to add the facility's HFR id to your account's facilities."

// laterID makes a stable element id from a section title.
func laterID(title string) string {
	return "later-" + strings.ToLower(strings.Join(strings.Fields(title), "-"))
}

func statusText(code int) string {
	return strconv.Itoa(code) + " " + http.StatusText(code)
}
