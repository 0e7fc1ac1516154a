package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secure-login-system/sls/ibkey"
)

func TestReadEvents(t *testing.T) {
	in := "event: hello\ndata: {\"type\":\"hello\"}\n\n: ping\n\nevent: push\ndata: {\"type\":\"push\",\"push\":{\"push_id\":\"psh_1\"}}\n\nevent: closed\ndata: {\"type\":\"closed\",\n data: \"push_id\":\"psh_1\"}\n\n"
	var got []ibkey.Event
	err := readEvents(strings.NewReader(strings.Replace(in, "\n data:", "\ndata:", 1)), func(ev ibkey.Event) error {
		got = append(got, ev)
		return nil
	})
	if err != nil || len(got) != 3 || got[1].Push == nil || got[1].Push.ID != "psh_1" || got[2].ID != "psh_1" {
		t.Fatalf("%v %+v", err, got)
	}
	for _, bad := range []string{"data: {not json\n\n", "garbage line\n\n", "data: " + strings.Repeat("x", maxEventLine+10) + "\n\n"} {
		if err := readEvents(strings.NewReader(bad), func(ibkey.Event) error { return nil }); err == nil {
			t.Errorf("accepted %.40q", bad)
		}
	}
}

func FuzzReadEvents(f *testing.F) {
	f.Add([]byte("event: push\ndata: {\"type\":\"push\"}\n\n"))
	f.Add([]byte(": ping\n\n"))
	f.Add([]byte("data: {\"type\":\"closed\",\"push_id\":\"x\"}\n\ndata: \n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = readEvents(bytes.NewReader(b), func(ibkey.Event) error { return nil })
	})
}

// The state file holds nothing that tells a right PIN from a wrong one:
// every PIN unwraps to well-formed keys, and only the server can check.
func TestStateHasNoPINOracle(t *testing.T) {
	st := &State{Format: stateFormat, Platform: ibkey.PlatformAndroid, KDF: ibkey.KDF{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}, SignSalt: salt()}
	_, priv, _ := ed25519.GenerateKey(nil)
	pad, _ := ibkey.Pad("1234", st.SignSalt, st.KDF, 32)
	st.SignSeed = ibkey.XOR(priv.Seed(), pad)
	key := bytes.Repeat([]byte{7}, 32)
	u := User{UserID: "usr_1", Username: "alice", DeviceID: "dev_1"}
	if err := st.wrapUser(&u, key, "1234"); err != nil {
		t.Fatal(err)
	}
	st.Users = []User{u}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := st.save(path); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	loaded, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, pin := range []string{"1234", "1235", "zzzz"} {
		sk, err := loaded.signKey(pin)
		if err != nil {
			t.Fatal(err)
		}
		k, err := loaded.offlineKey(&loaded.Users[0], pin)
		if err != nil || len(k) != 32 || len(sk) != ed25519.PrivateKeySize {
			t.Fatalf("pin %s: %v", pin, err)
		}
		if right := pin == "1234"; bytes.Equal(k, key) != right || sk.Equal(priv) != right {
			t.Fatalf("pin %s unwrapped the wrong way", pin)
		}
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("1234")) || bytes.Contains(raw, priv.Public().(ed25519.PublicKey)) {
		t.Fatal("state file holds the PIN or the public key")
	}
}

func TestWaitNumber(t *testing.T) {
	p := filepath.Join(t.TempDir(), "n")
	os.WriteFile(p, []byte("psh_a 12\npsh_b 34\n"), 0o600)
	if n, err := waitNumber(context.Background(), p, "psh_b", time.Now().Add(time.Second)); err != nil || n != "34" {
		t.Fatalf("%q %v", n, err)
	}
	if _, err := waitNumber(context.Background(), p, "psh_c", time.Now().Add(-time.Hour)); err == nil {
		t.Fatal("missing number accepted")
	}
}

func TestUsage(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, strings.NewReader(""), &out); err != nil || !strings.Contains(out.String(), "add-user") {
		t.Fatalf("%v %s", err, out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, strings.NewReader(""), &out); err == nil {
		t.Fatal("unknown command accepted")
	}
	st := filepath.Join(t.TempDir(), "s.json")
	if err := run(context.Background(), []string{"--state", st, "respond", "--challenge", "12"}, strings.NewReader(""), &out); err == nil {
		t.Fatal("short challenge accepted")
	}
}
