// Package views holds the web app's templ components: the page layout, the
// sign-in and error pages, and one home page per staff role. Each page takes
// a view model shaped like the screen (the structs in page.go and beside each
// page); components never touch the database, the server package fills the
// models.
//
// Run `go tool templ generate` after editing a .templ file and commit the
// generated *_templ.go files.
package views
