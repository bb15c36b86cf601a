package web_test

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// unlabelledFields lists the form fields of a page that have no label (a
// <label for> naming their id, or a <label> around them) or that name in
// aria-describedby an element the page does not have. Every page an agent
// reads in these tests goes through it, so a new page cannot ship an
// unlabelled field.
func unlabelledFields(body string) []string {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return []string{"not HTML: " + err.Error()}
	}
	ids, labelFor := map[string]bool{}, map[string]bool{}
	type field struct {
		desc        string
		id          string
		inLabel     bool
		describedBy string
	}
	var fields []field
	var walk func(n *html.Node, inLabel bool)
	walk = func(n *html.Node, inLabel bool) {
		if n.Type == html.ElementNode {
			a := map[string]string{}
			for _, at := range n.Attr {
				a[at.Key] = at.Val
			}
			if id := a["id"]; id != "" {
				ids[id] = true
			}
			switch n.Data {
			case "label":
				if f := a["for"]; f != "" {
					labelFor[f] = true
				}
				inLabel = true
			case "input", "select", "textarea":
				switch a["type"] {
				case "hidden", "submit", "button", "reset":
				default:
					fields = append(fields, field{desc: n.Data + " name=" + a["name"], id: a["id"], inLabel: inLabel, describedBy: a["aria-describedby"]})
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inLabel)
		}
	}
	walk(doc, false)
	var problems []string
	for _, f := range fields {
		if !f.inLabel && (f.id == "" || !labelFor[f.id]) {
			problems = append(problems, f.desc+" has no label")
		}
		for _, ref := range strings.Fields(f.describedBy) {
			if !ids[ref] {
				problems = append(problems, f.desc+" is described by #"+ref+", which the page does not have")
			}
		}
	}
	return problems
}

func TestLabelCheckFindsUnlabelledFields(t *testing.T) {
	if p := unlabelledFields(`<form><label for="a">A</label><input id="a" name="a"><label><input type="checkbox" name="b"> B</label>
		<input type="hidden" name="csrf"></form>`); len(p) > 0 {
		t.Fatalf("labelled fields were refused: %v", p)
	}
	for _, bad := range []string{
		`<form><input id="a" name="a"></form>`,
		`<form><textarea name="t"></textarea></form>`,
		`<form><label for="s">S</label><select id="s" name="s" aria-describedby="s-error"></select></form>`,
	} {
		if len(unlabelledFields(bad)) == 0 {
			t.Errorf("not caught: %s", bad)
		}
	}
}
