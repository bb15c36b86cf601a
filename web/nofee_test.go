package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"hrss-backoffice/internal/feewords"
)

// C2.4: online services are free. No page asks for a fee or a payment: no
// form field, label or control of any template, and no text a page can
// show (in either language), names a fee, a price or a payment (the API's
// operations and fields: api TestNoOperationOrFieldAsksForAFee_C2_4).
func TestNoPageAsksForAFee_C2_4(t *testing.T) {
	attr := regexp.MustCompile(`\b(?:name|id|for|action|href|value|placeholder|aria-label)="([^"{]*)"`)
	pages := 0
	err := fs.WalkDir(files, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") {
			return err
		}
		pages++
		b, err := fs.ReadFile(files, path)
		if err != nil {
			return err
		}
		for _, m := range attr.FindAllStringSubmatch(string(b), -1) {
			if w := feewords.In(m[1]); len(w) > 0 {
				t.Errorf("%s: %s names a fee or payment (%v)", path, m[0], w)
			}
		}
		if w := feewords.In(string(b)); len(w) > 0 {
			t.Errorf("%s: text names a fee or payment (%v)", path, w)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pages < 40 {
		t.Fatalf("read only %d templates", pages)
	}
	for key, text := range messages {
		for _, s := range []string{key, text[0], text[1]} {
			if w := feewords.In(s); len(w) > 0 {
				t.Errorf("message %s names a fee or payment (%v): %q", key, w, s)
			}
		}
	}
}
