// Command gen rebuilds passrules/passwords.txt.gz, the blocklist of common
// and breached passwords that package passrules embeds, from the npm
// tarballs of the zxcvbn projects (MIT licensed; see passrules/NOTICE.md):
//
//	npm pack zxcvbn@4.4.2 @zxcvbn-ts/language-common@4.1.3
//	go run ./passrules/internal/gen -o passrules/passwords.txt.gz \
//	    zxcvbn-4.4.2.tgz zxcvbn-ts-language-common-4.1.3.tgz
//
// It reads the "passwords" frequency list of each tarball
// (package/src/frequency_lists.coffee in zxcvbn, package/src/passwords.json
// in @zxcvbn-ts/language-common), normalizes every entry exactly as
// passrules.Normalize does (NFKC, then lower case), drops entries shorter
// than four code points (they can never match: see passrules.Check), and
// writes the union sorted, one per line, gzip-compressed with a zero
// modification time so that the output is reproducible byte for byte.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/secure-login-system/sls/passrules"
)

func main() {
	out := flag.String("o", "passrules/passwords.txt.gz", "output file")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: gen [-o passwords.txt.gz] package.tgz...")
		os.Exit(2)
	}
	set := map[string]struct{}{}
	for _, name := range flag.Args() {
		words, err := readTarball(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "%s: %d entries\n", name, len(words))
		for _, w := range words {
			w = passrules.Normalize(w)
			if utf8.RuneCountInString(w) < passrules.MinListedLength || strings.Contains(w, "\n") {
				continue
			}
			set[w] = struct{}{}
		}
	}
	list := make([]string, 0, len(set))
	for w := range set {
		list = append(list, w)
	}
	slices.Sort(list)

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		panic(err)
	}
	// Header left zero (no name, no time): the same input gives the same bytes.
	for _, w := range list {
		zw.Write([]byte(w))
		zw.Write([]byte{'\n'})
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%s: %d entries, %d bytes\n", *out, len(list), buf.Len())
}

// coffeePasswords finds the passwords list in zxcvbn's frequency_lists.coffee:
//
//	passwords: "123456,password,..."
var coffeePasswords = regexp.MustCompile(`(?m)^\s*passwords:\s*"([^"]*)"`)

func readTarball(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: no package/src/passwords.json or package/src/frequency_lists.coffee", name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		switch h.Name {
		case "package/src/passwords.json": // @zxcvbn-ts/language-common
			var words []string
			if err := json.NewDecoder(tr).Decode(&words); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", name, h.Name, err)
			}
			return words, nil
		case "package/src/frequency_lists.coffee": // zxcvbn
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			m := coffeePasswords.FindSubmatch(b)
			if m == nil {
				return nil, fmt.Errorf("%s: %s: no passwords list", name, h.Name)
			}
			return strings.Split(string(m[1]), ","), nil
		}
	}
}
