package preview

import (
	"io"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxValueBytes bounds each metadata value kept.
const maxValueBytes = 2000

// maxProperties bounds how many og: properties are kept.
const maxProperties = 50

// Meta parses an HTML page and returns its OpenGraph properties (og:*),
// with og:title and og:description filled from <title> and <meta
// name=description> when the page has none.
func Meta(r io.Reader) map[string]string {
	og := map[string]string{}
	var title, description string
	finish := func() map[string]string {
		if _, ok := og["og:title"]; !ok && title != "" {
			og["og:title"] = clip(title)
		}
		if _, ok := og["og:description"]; !ok && description != "" {
			og["og:description"] = clip(description)
		}
		return og
	}
	z := html.NewTokenizer(r)
	inTitle := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return finish()
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch atom.Lookup(name) {
			case atom.Title:
				inTitle = tt == html.StartTagToken && title == ""
			case atom.Meta:
				if !hasAttr {
					continue
				}
				attrs := map[string]string{}
				for {
					k, v, more := z.TagAttr()
					attrs[strings.ToLower(string(k))] = string(v)
					if !more {
						break
					}
				}
				prop := strings.ToLower(attrs["property"])
				if prop == "" {
					prop = strings.ToLower(attrs["name"])
				}
				content := strings.TrimSpace(attrs["content"])
				switch {
				case content == "":
				case strings.HasPrefix(prop, "og:"):
					if _, dup := og[prop]; !dup && len(og) < maxProperties {
						og[prop] = clip(content)
					}
				case prop == "description" && description == "":
					description = content
				}
			case atom.Body:
				// Metadata lives in <head>; stop reading early on big pages
				// once it is done (a <title> may still come late, rarely).
				if len(og) > 0 || title != "" {
					return finish()
				}
			}
		case html.TextToken:
			if inTitle {
				title = strings.Join(strings.Fields(string(z.Text())), " ")
				inTitle = false
			}
		case html.EndTagToken:
			inTitle = false
		}
	}
}

// clip cuts s to maxValueBytes on a rune boundary.
func clip(s string) string {
	if len(s) <= maxValueBytes {
		return s
	}
	cut := maxValueBytes
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
