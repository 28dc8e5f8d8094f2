package syncapi

import (
	"testing"
	"unicode"
)

// FuzzSearchTerms: whatever a client types, the terms handed to the
// full-text engines are bounded, non-empty words of letters and digits
// only (no quotes or operators reach SQLite's MATCH syntax).
func FuzzSearchTerms(f *testing.F) {
	for _, s := range []string{"hello world", `"quoted" OR x*`, "naïve café 123", "a-b_c", "", "NEAR(a b)", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		terms := searchTerms(s)
		if len(terms) > maxSearchTerms {
			t.Fatalf("%d terms", len(terms))
		}
		for _, w := range terms {
			if w == "" || len(w) > 100 {
				t.Fatalf("term %q", w)
			}
			for _, r := range w {
				if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
					t.Fatalf("term %q has %q", w, r)
				}
			}
		}
	})
}
