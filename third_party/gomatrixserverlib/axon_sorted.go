package gomatrixserverlib

// Axon patch 12: SortJSON rebuilt every object of its input, even when
// the input was canonical already, which is what well-behaved servers
// send (every PDU of a /send transaction, and the transaction a server
// signs from them). sortedJSON checks in one pass, without allocating,
// that a compact value needs no reordering; SortJSON then copies it (the
// whole input, or any object or array within it) as it is. Anything it is unsure of (a key with an escape, equal keys,
// anything not compact) takes the full sort, so the output is the same
// bytes either way (TestSortJSONFastPathMatches).

// sortedJSON: is b one compact JSON value whose object keys are in
// strictly ascending byte order, with no escape in any key?
func sortedJSON[T string | []byte](b T) bool {
	i, ok := skipSorted(b, 0)
	return ok && i == len(b)
}

// skipSorted checks the value at b[i:] and returns where it ends.
func skipSorted[T string | []byte](b T, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '{':
		return skipSortedObject(b, i+1)
	case '[':
		i++
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = skipSorted(b, i); !ok || i >= len(b) {
				return i, false
			}
			switch b[i] {
			case ',':
				i++
			case ']':
				return i + 1, true
			default:
				return i, false
			}
		}
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch c := b[j]; {
			case c == '\\':
				j++
			case c == '"':
				return j + 1, true
			case c < ' ':
				return j, false
			}
		}
		return len(b), false
	default:
		// A number, true, false or null: plain characters up to the
		// next delimiter.
		j := i
		for ; j < len(b); j++ {
			c := b[j]
			if c == ',' || c == '}' || c == ']' {
				break
			}
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-' || c == '+' || c == '.' || c == 'E') {
				return j, false
			}
		}
		return j, j > i
	}
}

// skipSortedObject checks an object's members from b[i:] (after its '{').
func skipSortedObject[T string | []byte](b T, i int) (int, bool) {
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	prevStart, prevEnd := -1, -1
	for {
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		end := i + 1
		for end < len(b) && b[end] != '"' {
			if b[end] == '\\' || b[end] < ' ' {
				return end, false
			}
			end++
		}
		if end >= len(b) {
			return end, false
		}
		if prevStart >= 0 && !keyBefore(b, prevStart, prevEnd, i+1, end) {
			return end, false
		}
		prevStart, prevEnd = i+1, end
		i = end + 1
		if i >= len(b) || b[i] != ':' {
			return i, false
		}
		var ok bool
		if i, ok = skipSorted(b, i+1); !ok || i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// keyBefore: does b[s1:e1] sort strictly before b[s2:e2] (bytes)?
func keyBefore[T string | []byte](b T, s1, e1, s2, e2 int) bool {
	for ; s1 < e1 && s2 < e2; s1, s2 = s1+1, s2+1 {
		if b[s1] != b[s2] {
			return b[s1] < b[s2]
		}
	}
	return s1 == e1 && s2 < e2
}
