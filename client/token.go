package client

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultTokenFile is where the operator tools keep the operator token:
// the user's configuration directory, readable by the user alone
// (slsctl login writes it; slsbench reads it).
func DefaultTokenFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "operator.token"
	}
	return filepath.Join(dir, "sls", "operator.token")
}

// ReadTokenFile reads an operator token file.
func ReadTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("not logged in (no token at %s): run slsctl login NAME", path)
	}
	if err != nil {
		return "", fmt.Errorf("operator token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
