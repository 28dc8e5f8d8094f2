package gomatrixserverlib

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// TestSortJSONFastPathMatches: whenever sortedJSON lets an input through
// unchanged, the full sort gives the same bytes; and canonical inputs
// (sorted, compact) do take the fast path.
func TestSortJSONFastPathMatches(t *testing.T) {
	cases := []string{
		`{}`, `[]`, `""`, `0`, `-1`, `true`, `null`, `1.5e+3`,
		`{"a":1,"b":2}`, `{"b":1,"a":2}`, `{"a":1,"a":2}`,
		`{"a\"b":1,"a":2}`, `{"a":1,"a\"b":2}`, `{"\u00e9":1,"a":2}`,
		`{"a":{"d":[1,{"z":1,"y":2}],"c":"x\"y"},"b":[]}`,
		`{"a":{"c":1,"d":2},"b":{"f":1,"e":2}}`,
		`{"é":1,"z":2}`, `{"z":1,"é":2}`, `{"a":"\\","b":"\n"}`,
		`{"content":{"body":"hi","msgtype":"m.text"},"type":"m.room.message"}`,
		`[{"b":1,"a":2},3]`, `{"a" :1}`, `{"a":1,}`, `[1,]`, `{"a":}`,
	}
	rng := rand.New(rand.NewSource(1))
	for range 2000 {
		cases = append(cases, randomJSON(rng, 0))
	}
	for _, c := range cases {
		in := []byte(c)
		full := referenceSort(gjson.ParseBytes(in), nil)
		if sortedJSON(in) && !bytes.Equal(in, full) {
			t.Fatalf("fast path kept %s, full sort gives %s", c, full)
		}
		if !json.Valid(in) {
			continue
		}
		got := CanonicalJSONAssumeValid(in)
		want := referenceSort(gjson.ParseBytes(CompactJSON(in, nil)), nil)
		if !bytes.Equal(got, want) {
			t.Fatalf("CanonicalJSONAssumeValid(%s) = %s, want %s", c, got, want)
		}
		if json.Valid(got) && !sortedJSON(got) && !strings.Contains(string(got), `\`) && uniqueKeys(got) {
			t.Errorf("canonical %s missed the fast path", got)
		}
	}
}

// referenceSort is SortJSON without the fast path: every object
// rebuilt with its keys sorted, as gomatrixserverlib does.
func referenceSort(input gjson.Result, output []byte) []byte {
	switch {
	case input.IsArray():
		output = append(output, '[')
		i := 0
		input.ForEach(func(_, v gjson.Result) bool {
			if i > 0 {
				output = append(output, ',')
			}
			i++
			output = referenceSort(v, output)
			return true
		})
		return append(output, ']')
	case input.IsObject():
		type entry struct {
			key string
			val gjson.Result
		}
		var entries []entry
		input.ForEach(func(k, v gjson.Result) bool {
			entries = append(entries, entry{k.String(), v})
			return true
		})
		slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
		output = append(output, '{')
		for i, e := range entries {
			if i > 0 {
				output = append(output, ',')
			}
			output = append(output, '"')
			output = append(output, e.key...)
			output = append(output, '"', ':')
			output = referenceSort(e.val, output)
		}
		return append(output, '}')
	}
	return append(output, input.Raw...)
}

// uniqueKeys: no object of js has a key twice.
func uniqueKeys(js []byte) bool {
	ok := true
	var walk func(r gjson.Result)
	walk = func(r gjson.Result) {
		if !r.IsObject() && !r.IsArray() {
			return
		}
		seen := map[string]bool{}
		r.ForEach(func(k, v gjson.Result) bool {
			if r.IsObject() {
				ok = ok && !seen[k.Str]
				seen[k.Str] = true
			}
			walk(v)
			return true
		})
	}
	walk(gjson.ParseBytes(js))
	return ok
}

// randomJSON builds a value with keys in random order, sometimes
// repeated or escaped, and sometimes spaces.
func randomJSON(rng *rand.Rand, depth int) string {
	keys := []string{"a", "b", "ab", "B", "é", "a\\\"", "z", "\\u0041", "aa", ""}
	sp := ""
	if rng.Intn(8) == 0 {
		sp = " "
	}
	switch n := rng.Intn(6); {
	case depth < 4 && n < 2:
		var parts []string
		for range rng.Intn(4) {
			parts = append(parts, fmt.Sprintf(`"%s"%s:%s`, keys[rng.Intn(len(keys))], sp, randomJSON(rng, depth+1)))
		}
		return "{" + strings.Join(parts, ","+sp) + "}"
	case depth < 4 && n < 3:
		var parts []string
		for range rng.Intn(4) {
			parts = append(parts, randomJSON(rng, depth+1))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case n < 4:
		return fmt.Sprintf(`"%s"`, keys[rng.Intn(len(keys))])
	default:
		return []string{"0", "-12", "3.5", "true", "false", "null", "-0"}[rng.Intn(7)]
	}
}
