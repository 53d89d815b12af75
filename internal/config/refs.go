package config

import (
	"bytes"
	"fmt"
	"strings"
)

// refs shields ${...} references from the YAML parser. CONTRACT.md's own
// example writes `ssh: {password: ${PVE1_SSH}}`, and in a flow mapping YAML
// reads those braces as structure. Before parsing, every reference that ends
// on its own line is swapped for a placeholder made of plain-scalar-safe
// characters; after parsing, restore puts the reference text back into the
// scalar, which Expand then resolves. Expanding after parsing also means a
// value can never change the document's structure.
type refs struct {
	prefix string
	texts  []string
}

func shieldRefs(data []byte) ([]byte, *refs) {
	r := &refs{prefix: "__lxcbot_ref"}
	for bytes.Contains(data, []byte(r.prefix)) {
		r.prefix += "_"
	}
	var out bytes.Buffer
	for i := 0; i < len(data); {
		switch {
		case bytes.HasPrefix(data[i:], []byte("$${")):
			out.WriteString("$${")
			i += 3
			continue
		case bytes.HasPrefix(data[i:], []byte("${")):
			line := data[i:]
			if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
				line = line[:nl]
			}
			if end := bytes.IndexByte(line, '}'); end >= 0 {
				fmt.Fprintf(&out, "%s%d__", r.prefix, len(r.texts))
				r.texts = append(r.texts, string(line[:end+1]))
				i += end + 1
				continue
			}
		}
		out.WriteByte(data[i])
		i++
	}
	return out.Bytes(), r
}

// restore puts the original reference text back in place of placeholders.
func (r *refs) restore(s string) string {
	if len(r.texts) == 0 || !strings.Contains(s, r.prefix) {
		return s
	}
	// Replace higher numbers first so ref1 does not clobber ref10.
	for i := len(r.texts) - 1; i >= 0; i-- {
		s = strings.ReplaceAll(s, fmt.Sprintf("%s%d__", r.prefix, i), r.texts[i])
	}
	return s
}
