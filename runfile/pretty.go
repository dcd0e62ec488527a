package runfile

import "bytes"

// pretty indents compact JSON (as encoding/json writes it) by two spaces per level, but keeps
// arrays that hold no objects on one line: server lists, partition groups and txn lists read
// better as [1, 2, 3] than as one number per line. The output is a pure function of the input
// and ends with a newline.
func pretty(src []byte) []byte {
	var out bytes.Buffer
	out.Grow(2 * len(src))
	writeValue(&out, src, 0, 0)
	out.WriteByte('\n')
	return out.Bytes()
}

func writeIndent(out *bytes.Buffer, depth int) {
	for range depth {
		out.WriteString("  ")
	}
}

// writeValue writes the value that starts at src[i] and returns the index just after it.
func writeValue(out *bytes.Buffer, src []byte, i, depth int) int {
	switch src[i] {
	case '{':
		if src[i+1] == '}' {
			out.WriteString("{}")
			return i + 2
		}
		out.WriteString("{\n")
		i++
		for {
			writeIndent(out, depth+1)
			end := valueEnd(src, i) // the key
			out.Write(src[i:end])
			out.WriteString(": ")
			i = writeValue(out, src, end+1, depth+1) // end+1 skips ':'
			if src[i] == ',' {
				out.WriteString(",\n")
				i++
				continue
			}
			out.WriteByte('\n')
			writeIndent(out, depth)
			out.WriteByte('}')
			return i + 1
		}
	case '[':
		end := valueEnd(src, i)
		if !hasObject(src[i:end]) {
			writeInline(out, src[i:end])
			return end
		}
		out.WriteString("[\n")
		i++
		for {
			writeIndent(out, depth+1)
			i = writeValue(out, src, i, depth+1)
			if src[i] == ',' {
				out.WriteString(",\n")
				i++
				continue
			}
			out.WriteByte('\n')
			writeIndent(out, depth)
			out.WriteByte(']')
			return i + 1
		}
	default:
		end := valueEnd(src, i)
		out.Write(src[i:end])
		return end
	}
}

// valueEnd returns the index just after the value that starts at src[i].
func valueEnd(src []byte, i int) int {
	depth := 0
	inString := false
	for j := i; j < len(src); j++ {
		c := src[j]
		if inString {
			switch c {
			case '\\':
				j++
			case '"':
				inString = false
				if depth == 0 {
					return j + 1
				}
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j // end of a scalar inside a container
			}
			depth--
			if depth == 0 {
				return j + 1
			}
		case ',':
			if depth == 0 {
				return j
			}
		}
	}
	return len(src)
}

// hasObject reports whether a JSON span contains an object outside string literals.
func hasObject(span []byte) bool {
	inString := false
	for j := 0; j < len(span); j++ {
		switch c := span[j]; {
		case inString && c == '\\':
			j++
		case c == '"':
			inString = !inString
		case !inString && c == '{':
			return true
		}
	}
	return false
}

// writeInline copies a compact span, adding a space after each comma outside strings.
func writeInline(out *bytes.Buffer, span []byte) {
	inString := false
	for j := 0; j < len(span); j++ {
		c := span[j]
		out.WriteByte(c)
		switch {
		case inString && c == '\\':
			j++
			out.WriteByte(span[j])
		case c == '"':
			inString = !inString
		case !inString && c == ',':
			out.WriteByte(' ')
		}
	}
}
