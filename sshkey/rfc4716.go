package sshkey

import (
	"bytes"
	"fmt"
	"strings"
)

const (
	rfc4716Begin = "---- BEGIN SSH2 PUBLIC KEY ----"
	rfc4716End   = "---- END SSH2 PUBLIC KEY ----"
	// RFC 4716 §3: "Each line in the file MUST NOT be longer than 72 8-bit
	// bytes excluding line termination characters."
	rfc4716MaxLine = 72
	// RFC 4716 §3.3: header-tag at most 64 bytes, header-value at most 1024.
	rfc4716MaxTag   = 64
	rfc4716MaxValue = 1024
)

// parseRFC4716 reads the "SSH2 PUBLIC KEY" file format of RFC 4716, as
// written by puttygen -p (-O public) and ssh-keygen -e. The 72-byte line
// limit is enforced on the base64 body only: puttygen writes long Comment
// headers on one line, and a long comment is no reason to refuse a key.
func parseRFC4716(data []byte) (Key, error) {
	d := bytes.TrimSpace(bytes.TrimPrefix(data, utf8BOM))
	// RFC 4716 §3 allows any of the common line terminators.
	text := strings.ReplaceAll(string(d), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " \t")
	}
	if lines[0] != rfc4716Begin {
		return Key{}, malformed("rfc4716: the first line must be %q", rfc4716Begin)
	}
	end := -1
	for i := 1; i < len(lines); i++ {
		switch lines[i] {
		case rfc4716End:
			end = i
		case rfc4716Begin:
			return Key{}, malformed("rfc4716: line %d: a second BEGIN line before the END line", i+1)
		}
		if end >= 0 {
			break
		}
	}
	if end < 0 {
		return Key{}, malformed("rfc4716: the %q line is missing (truncated?)", rfc4716End)
	}
	if end != len(lines)-1 {
		for _, l := range lines[end+1:] {
			if l == rfc4716Begin {
				return Key{}, malformed("rfc4716: more than one key; send one key per file")
			}
		}
		return Key{}, malformed("rfc4716: line %d: unexpected data after the END line", end+2)
	}

	var comment string
	haveComment := false
	i := 1
	// Headers, RFC 4716 §3.3. A header line is recognised by its colon,
	// which the base64 alphabet does not contain.
	for i < end && strings.Contains(lines[i], ":") {
		first := i
		line := lines[i]
		i++
		// A value ending in a backslash continues on the next line.
		for strings.HasSuffix(line, "\\") {
			if i >= end {
				return Key{}, malformed("rfc4716: line %d: header continued past the last line", first+1)
			}
			line = line[:len(line)-1] + lines[i]
			i++
		}
		tag, value, _ := strings.Cut(line, ":")
		if err := checkHeaderTag(tag); err != nil {
			return Key{}, malformed("rfc4716: line %d: %v", first+1, err)
		}
		value = strings.TrimLeft(value, " \t")
		if len(value) > rfc4716MaxValue {
			return Key{}, malformed("rfc4716: line %d: header value is %d bytes; RFC 4716 allows at most %d",
				first+1, len(value), rfc4716MaxValue)
		}
		// Header tags are case-insensitive (§3.3); unknown ones, including
		// Subject and x- tags, MUST be ignored (§3.3).
		if strings.EqualFold(tag, "Comment") {
			if haveComment {
				return Key{}, malformed("rfc4716: line %d: a second Comment header", first+1)
			}
			haveComment = true
			comment = unquoteComment(value)
		}
	}
	if i == end {
		return Key{}, malformed("rfc4716: no key data between the headers and the END line")
	}
	var body strings.Builder
	for ; i < end; i++ {
		line := lines[i]
		switch {
		case line == "":
			return Key{}, malformed("rfc4716: line %d: empty line inside the key data", i+1)
		case strings.Contains(line, ":"):
			return Key{}, malformed("rfc4716: line %d: header line after the key data has started", i+1)
		case len(line) > rfc4716MaxLine:
			return Key{}, malformed("rfc4716: line %d is %d characters long; RFC 4716 §3 allows at most %d",
				i+1, len(line), rfc4716MaxLine)
		}
		body.WriteString(line)
	}
	blob, err := strictB64.DecodeString(body.String())
	if err != nil {
		return Key{}, malformed("rfc4716: the key data is not valid base64 (damaged in copying?)")
	}
	pub, err := parseWireKey(blob)
	if err != nil {
		return Key{}, withPrefix("rfc4716", err)
	}
	return newKey(pub, comment, FormatRFC4716)
}

// checkHeaderTag applies RFC 4716 §3.3: 1 to 64 bytes of printable US-ASCII
// other than colon and space.
func checkHeaderTag(tag string) error {
	if tag == "" || len(tag) > rfc4716MaxTag {
		return fmt.Errorf("header tag must be 1 to %d characters", rfc4716MaxTag)
	}
	for i := 0; i < len(tag); i++ {
		if c := tag[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("header tag %s contains a character RFC 4716 does not allow", quote(tag))
		}
	}
	return nil
}

// unquoteComment removes the double quotes that common practice puts around
// the Comment value (RFC 4716 §3.3.2 requires accepting both forms) and the
// backslash escapes that puttygen puts before '"' and '\' inside them.
func unquoteComment(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	v = v[1 : len(v)-1]
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && (v[i+1] == '"' || v[i+1] == '\\') {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
