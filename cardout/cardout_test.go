package cardout

import (
	"os"
	"testing"
)

func TestWriteNeverOverwritesAndKeepsFilesPrivate(t *testing.T) {
	d := Dir{Path: t.TempDir() + "/cards"}
	p, err := d.WriteDSCPlus("dev_1", map[string]string{"key": "k"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", st.Mode(), err)
	}
	if _, err := d.WriteDSCPlus("dev_1", map[string]string{"key": "other"}); err == nil {
		t.Fatal("overwrote a card file")
	}
	if _, err := d.WriteCodeCard("../etc", "x"); err == nil {
		t.Fatal("a path in the device id was accepted")
	}
	if _, err := (Dir{}).WriteCodeCard("dev_2", "x"); err == nil {
		t.Fatal("wrote with no directory")
	}
}
