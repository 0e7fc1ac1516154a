package e2e

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// slsctlLogin runs "slsctl login" as an operator at a terminal would:
// the password, then the DSC+ answer to the challenge slsctl prints,
// computed with the card emulator. It returns slsctl's output.
func slsctlLogin(t *testing.T, n *node, tokenFile, name, password, card, pin string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin["slsctl"], "--server", n.url, "--token-file", tokenFile, "login", name)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	var out bytes.Buffer
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, password+"\n")
	r := bufio.NewReader(io.TeeReader(stdout, &out))
	challenge := regexp.MustCompile(`Challenge: (\d+)`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		line, err := r.ReadString('\n')
		if m := challenge.FindStringSubmatch(line); m != nil {
			io.WriteString(stdin, dscRespond(t, card, pin, m[1])+"\n")
			break
		}
		if err != nil {
			break
		}
	}
	stdin.Close()
	io.Copy(io.Discard, r)
	err := cmd.Wait()
	return out.String(), err
}

// TestOperatorsJourney: named operators with their own second factor and
// roles, and dual control, through slsctl as operators use it, on both
// engines.
func TestOperatorsJourney(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		cfg := filepath.Join(t.TempDir(), "ops.json")
		// Dual control on (the defaults), with a short token lifetime.
		os.WriteFile(cfg, []byte(`{"operators": {"token_ttl": "2h"}}`), 0o600)
		n := startNode(t, db, withArgs("--config", cfg))
		// The bootstrap operator (every role, the harness's) adds Client
		// Services agent alice with her own DSC+: alone, that needs no
		// approval (there is nobody else yet).
		card := filepath.Join(t.TempDir(), "alice.json")
		out := n.mustCtl("agent passphrase one\n", "operator", "add", "alice", "--roles", "client-services", "--pin", "4321", "--out", card)
		if !strings.Contains(out, "card file written by the server to") {
			t.Fatalf("add: %s", out)
		}
		// A client to work on.
		n.mustCtl("", "account", "create", "--id", "OPS1", "--currency", "USD", "--equity", "1000.00", "--jurisdiction", "US")
		n.mustCtl("bob's long password\n", "user", "create", "--username", "bob", "--account", "OPS1")

		// alice logs in: password, then her DSC+.
		aliceTok := filepath.Join(t.TempDir(), "alice.token")
		if out, err := slsctlLogin(t, n, aliceTok, "alice", "agent passphrase one", card, "4321"); err != nil || !strings.Contains(out, "Logged in as alice (client-services)") {
			t.Fatalf("alice login: %v\n%s", err, out)
		}
		if st, err := os.Stat(aliceTok); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("token file: %v %v", st, err)
		}
		alice := func(stdin string, args ...string) (string, error) {
			cmd := exec.Command(bin["slsctl"], append([]string{"--server", n.url, "--token-file", aliceTok}, args...)...)
			cmd.Stdin = strings.NewReader(stdin)
			b, err := cmd.CombinedOutput()
			return string(b), err
		}
		if out, _ := alice("", "whoami"); !strings.Contains(out, "alice (client-services)") {
			t.Fatalf("whoami: %s", out)
		}
		// A wrong DSC+ answer gets no token.
		if out, err := slsctlLogin(t, n, filepath.Join(t.TempDir(), "x.token"), "alice", "wrong password!", card, "4321"); err == nil {
			t.Fatalf("login with a wrong password: %s", out)
		}
		// Outside her role: refused, and the refusal names the roles.
		if out, err := alice("", "operator", "list"); err == nil || !strings.Contains(out, "auditor, admin") {
			t.Fatalf("operator list as client-services: %v %s", err, out)
		}
		if out, err := alice("", "orders", "ship", "ord_x", "--carrier", "DHL", "--tracking", "1"); err == nil || !strings.Contains(out, "shipping") {
			t.Fatalf("orders as client-services: %s", out)
		}
		// Another operator's credentials are not a client's.
		if out, err := alice("", "unlock", "tester"); err == nil || !strings.Contains(out, "not_found") {
			t.Fatalf("unlocking an operator: %v %s", err, out)
		}
		// Dual control: the temporary passcode waits for a second
		// operator, then works once for exactly that request.
		out, err := alice("", "temppasscode", "issue", "bob", "--verified", "called back on the number on file")
		m := regexp.MustCompile(`approval (apr_\S+) is waiting`).FindStringSubmatch(out)
		if err == nil || m == nil {
			t.Fatalf("temppasscode without approval: %v %s", err, out)
		}
		if out, err := alice("", "approval", "approve", m[1]); err == nil {
			t.Fatalf("self-approval: %s", out)
		}
		if out := n.mustCtl("", "approval", "list"); !strings.Contains(out, m[1]) || !strings.Contains(out, "alice") {
			t.Fatalf("pending approvals: %s", out)
		}
		n.mustCtl("", "approval", "approve", m[1])
		if out, err := alice("", "--approval", m[1], "temppasscode", "issue", "bob", "--verified", "someone else"); err == nil {
			t.Fatalf("approval used for another request: %s", out)
		}
		// (--approval is a global flag: before the command.)
		out, err = alice("", "--approval", m[1], "temppasscode", "issue", "bob", "--verified", "called back on the number on file")
		if err != nil || !strings.Contains(out, "passcode") {
			t.Fatalf("approved passcode: %v %s", err, out)
		}
		if out, err := alice("", "--approval", m[1], "temppasscode", "issue", "bob", "--verified", "called back on the number on file"); err == nil {
			t.Fatalf("approval used twice: %s", out)
		}
		// Now that there are two operators, the only admin cannot add a
		// third alone: nobody could approve, so it is refused.
		if out, err := n.ctl("agent passphrase two\n", "operator", "add", "carol", "--roles", "admin", "--pin", "1111"); err == nil || !strings.Contains(out, "no other operator") {
			t.Fatalf("solo operator add: %v %s", err, out)
		}
		// Disabling alice ends her token at once.
		n.mustCtl("", "operator", "disable", "alice")
		if out, err := alice("", "whoami"); err == nil {
			t.Fatalf("disabled operator: %s", out)
		}
		// Every action names its operator in the audit trail.
		list := n.mustCtl("", "audit", "list", "--limit", "1000")
		for _, want := range []string{"approval.requested", "approval.granted", "temppasscode.issued", "operator.login", "operator.refused", "operator.disabled"} {
			if !strings.Contains(list, want) {
				t.Errorf("audit lacks %s", want)
			}
		}
		if !regexp.MustCompile(`temppasscode.issued\s+operator:alice`).MatchString(list) {
			t.Errorf("the passcode is not audited as alice's:\n%s", list)
		}
	})
}

// TestAdminListenerJourney: with --admin-listen the operator API is only
// on that listener.
func TestAdminListenerJourney(t *testing.T) {
	addrFile := filepath.Join(t.TempDir(), "admin.addr")
	n := startNode(t, "", withArgs("--admin-listen", "127.0.0.1:0", "--admin-addr-file", addrFile))
	var admin string
	for range 100 {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			admin = "http://" + strings.TrimSpace(string(b))
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if admin == "" {
		t.Fatal("no admin address")
	}
	public := n.url
	n.url = admin // the harness's slsctl talks to the admin listener
	n.opToken()
	if r := call(t, "GET", public+"/api/v1/ops/me", n.opToken(), nil); r.Status != 404 {
		t.Fatalf("operator API on the public listener: %d", r.Status)
	}
	if r := call(t, "GET", admin+"/api/v1/ops/me", n.opToken(), nil); r.Status != 200 {
		t.Fatalf("operator API on the admin listener: %d %s", r.Status, r.Raw)
	}
	// An operator logs in on the admin listener alone.
	if out, err := slsctlLogin(t, n, filepath.Join(t.TempDir(), "tok"), testOperator, testOperatorPassword, n.opCardFile(), "2468"); err != nil {
		t.Fatalf("slsctl login on the admin listener: %v\n%s", err, out)
	}
	n.url = public
}
