// Package cardout writes what goes into a physical card — a DSC+ card
// file with its key, a Security Code Card's printed values — to the
// card personalisation output directory, where the shipping workflow
// picks it up. Card secrets never travel in an API answer: the answer
// names the file, and only the server's host (or a volume shared with
// the personalisation station) can read it.
package cardout

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// Dir is the output directory.
type Dir struct{ Path string }

var safeName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// write stores data as name (mode 0600) and returns its path; an existing
// file is never overwritten.
func (d Dir) write(name string, data []byte) (string, error) {
	if d.Path == "" {
		return "", errors.New("cardout: no output directory configured")
	}
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return "", fmt.Errorf("cardout: %w", err)
	}
	path := filepath.Join(d.Path, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("cardout: %w", err)
	}
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("cardout: %w", err)
	}
	return path, nil
}

// WriteDSCPlus writes a DSC+ card file for device id (the file the card
// is personalised from) and returns its path.
func (d Dir) WriteDSCPlus(deviceID string, card any) (string, error) {
	if !safeName.MatchString(deviceID) {
		return "", fmt.Errorf("cardout: bad device id %q", deviceID)
	}
	b, err := json.MarshalIndent(card, "", "  ")
	if err != nil {
		return "", err
	}
	return d.write("dscplus-"+deviceID+".json", append(b, '\n'))
}

// WriteCodeCard writes the printable text of a Security Code Card for
// device id and returns its path.
func (d Dir) WriteCodeCard(deviceID, text string) (string, error) {
	if !safeName.MatchString(deviceID) {
		return "", fmt.Errorf("cardout: bad device id %q", deviceID)
	}
	return d.write("codecard-"+deviceID+".txt", []byte(text))
}
