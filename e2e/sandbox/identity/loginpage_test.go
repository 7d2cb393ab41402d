package identity

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// loginPageDoc is what a test reads from a page the provider served, the
// way a browser and a screen reader see it: by labels, not by field names.
type loginPageDoc struct {
	lang    string
	title   string
	alert   string // text of the role="alert" element
	scripts int
	form    *loginFormDoc
}

type loginFormDoc struct {
	action    string // absolute URL
	method    string
	hidden    map[string]string
	inputType map[string]string // by name
	values    map[string]string // by name
	labels    map[string]string // label text -> input name
}

// field returns the name of the input whose <label> reads text.
func (f *loginFormDoc) field(text string) string { return f.labels[text] }

func (f *loginFormDoc) value(name string) string { return f.values[name] }

func readLoginPage(t *testing.T, resp *http.Response) *loginPageDoc {
	t.Helper()
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		return &loginPageDoc{}
	}
	root, err := html.Parse(resp.Body)
	if err != nil {
		t.Fatalf("parsing HTML from %s: %v", resp.Request.URL, err)
	}
	doc := &loginPageDoc{}
	idToName := map[string]string{}
	labelFor := map[string]string{} // label text -> input id
	for n := range root.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "html":
			doc.lang = attr(n, "lang")
		case "title":
			doc.title = strings.TrimSpace(text(n))
		case "script":
			doc.scripts++
		case "form":
			action, err := resp.Request.URL.Parse(attr(n, "action"))
			if err != nil {
				t.Fatalf("form action %q: %v", attr(n, "action"), err)
			}
			doc.form = &loginFormDoc{
				action:    action.String(),
				method:    strings.ToUpper(attr(n, "method")),
				hidden:    map[string]string{},
				inputType: map[string]string{},
				values:    map[string]string{},
				labels:    map[string]string{},
			}
		case "input":
			if doc.form == nil {
				continue
			}
			name := attr(n, "name")
			doc.form.inputType[name] = attr(n, "type")
			doc.form.values[name] = attr(n, "value")
			if attr(n, "type") == "hidden" {
				doc.form.hidden[name] = attr(n, "value")
			}
			idToName[attr(n, "id")] = name
		case "label":
			labelFor[strings.TrimSpace(text(n))] = attr(n, "for")
		}
		if attr(n, "role") == "alert" {
			doc.alert = strings.TrimSpace(text(n))
		}
	}
	if doc.form != nil {
		for label, id := range labelFor {
			if name, ok := idToName[id]; ok {
				doc.form.labels[label] = name
			}
		}
	}
	return doc
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}
