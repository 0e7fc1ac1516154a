package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secure-login-system/sls/client"
)

// nginxProxyAddr is the address nginx connects to slsd from: the one
// slsd is told to trust. Clients connect from other loopback addresses,
// so every address in the test is told apart on one machine.
const nginxProxyAddr = "127.0.0.2"

// startNginx runs nginx in front of upstream (host:port): TLS with a
// fresh self-signed certificate, the forwarding headers a typical
// deployment sets, and Host rewritten to a public name so that the
// answers are those a browser on the Internet gets. It returns the
// proxy's https:// URL; nginx stops with the test.
func startNginx(t *testing.T, upstream string) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nginx", "/sbin/nginx"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		t.Skip("nginx not installed (scripts/test installs it)")
	}
	dir := t.TempDir()
	writeSelfSigned(t, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := fmt.Sprintf(`
error_log %[1]s/error.log;
pid %[1]s/nginx.pid;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen %[2]s ssl;
		ssl_certificate %[1]s/cert.pem;
		ssl_certificate_key %[1]s/key.pem;
		location / {
			proxy_pass http://%[3]s;
			proxy_bind %[4]s;
			proxy_set_header Host sls.example;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto $scheme;
		}
	}
}
`, dir, addr, upstream, nginxProxyAddr)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-g", "daemon off; master_process off;")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return "https://" + addr
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not start: %s %s", out.String(), log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeSelfSigned writes a throwaway certificate and key for the proxy.
func writeSelfSigned(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sls.example"}, DNSNames: []string{"sls.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// fromAddr is an API client whose connections leave from the loopback
// address local, so the server (or proxy) sees that address.
type fromAddr struct {
	base, local string
	header      http.Header
}

// send sends body (nil: none) to path from f's local address.
func (f fromAddr) send(t *testing.T, method, path, token string, body any) (apiResult, http.Header) {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(f.local)}, Timeout: 5 * time.Second}
	c := client.New("", token)
	c.Header = f.header
	c.HTTP = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext:     dialer.DialContext,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the test's own self-signed proxy
	}}
	r := callWith(t, c, method, f.base+path, body)
	return r, r.Header
}

// TestBehindReverseProxy: slsd behind a real nginx that terminates TLS,
// trusted with --trusted-proxies. The client's own address (not the
// proxy's, not one the client writes into X-Forwarded-For) is the one in
// the audit trail, the one IP restrictions judge and the one notices
// name; HSTS is sent because the client used HTTPS at the proxy, and not
// when an untrusted caller merely claims it.
func TestBehindReverseProxy(t *testing.T) {
	n := startNode(t, "", withArgs("--config", polConfigFile(t), "--trusted-proxies", nginxProxyAddr))
	proxy := startNginx(t, strings.TrimPrefix(n.url, "http://"))
	values := polUser(t, n, "rhea", "U8101", "300000.00", "US", false)
	spoof := http.Header{"X-Forwarded-For": {"198.51.100.66"}, "X-Forwarded-Proto": {"https"}}

	// A code card login through the proxy, from 127.0.0.5, with a forged
	// forwarding header the proxy appends to.
	alice := fromAddr{base: proxy, local: "127.0.0.5", header: spoof}
	login := map[string]any{"username": "rhea", "password": pw, "platform": "portal"}
	r, h := alice.send(t, "POST", "/api/v1/login", "", login)
	if r.Status != 200 {
		t.Fatalf("login through the proxy: %d %s", r.Status, r.Raw)
	}
	if hsts := h.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("no HSTS through the TLS proxy: %q", hsts)
	}
	if id := r.str("login_id"); r.str("state") != "challenged" || r.str("prompt", "kind") != "codecard" {
		r, _ = alice.send(t, "POST", "/api/v1/login/device", "", map[string]any{"login_id": id, "device_id": firstDevice(t, r, "codecard")})
	}
	ix := r.Body["prompt"].(map[string]any)["indices"].([]any)
	done, _ := alice.send(t, "POST", "/api/v1/login/answer", "", map[string]any{"login_id": r.str("login_id"), "response": values[fmtNum(ix[0])] + " " + values[fmtNum(ix[1])]})
	if done.Status != 201 {
		t.Fatalf("code card answer through the proxy: %d %s", done.Status, done.Raw)
	}
	polWait(t, "the login in the audit trail with the client's address", func() bool {
		out := n.mustCtl("", "audit", "list", "--limit", "10000")
		return strings.Contains(out, "127.0.0.5")
	})
	if out := n.mustCtl("", "audit", "list", "--limit", "10000"); strings.Contains(out, "198.51.100.66") || strings.Contains(out, " "+nginxProxyAddr) {
		t.Errorf("the audit trail names the forged or the proxy's address:\n%s", lastLines(out, 20))
	}

	// IP restrictions judge the client's address behind the proxy.
	n.mustCtl("", "ip-restrictions", "rhea", "127.0.0.5")
	trading := map[string]any{"username": "rhea", "password": pw, "platform": "trading"}
	if r, _ := alice.send(t, "POST", "/api/v1/login", "", trading); r.Status != 200 {
		t.Fatalf("trading login from the allowed address through the proxy: %d %s", r.Status, r.Raw)
	}
	bob := fromAddr{base: proxy, local: "127.0.0.6", header: http.Header{"X-Forwarded-For": {"127.0.0.5"}}}
	if r, _ := bob.send(t, "POST", "/api/v1/login", "", trading); r.Status != 401 || r.code() != "invalid_credentials" {
		t.Fatalf("trading login from another address naming the allowed one: %d %s", r.Status, r.Raw)
	}
	// The notice names the address the login really came from.
	var named bool
	for _, m := range n.waitSink("rhea@example.test", "login_refused_ip", 1) {
		named = named || strings.Contains(m.Body, "127.0.0.6")
	}
	if !named {
		t.Errorf("the refusal notice does not name 127.0.0.6")
	}

	// Straight to slsd, the same headers prove nothing: the peer is not a
	// trusted proxy, so the address is the peer's and there is no HSTS.
	direct := fromAddr{base: n.url, local: "127.0.0.7", header: http.Header{"X-Forwarded-For": {"127.0.0.5"}, "X-Forwarded-Proto": {"https"}}}
	r, h = direct.send(t, "POST", "/api/v1/login", "", trading)
	if r.Status != 401 || r.code() != "invalid_credentials" {
		t.Fatalf("direct trading login claiming the allowed address: %d %s", r.Status, r.Raw)
	}
	if hsts := h.Get("Strict-Transport-Security"); hsts != "" {
		t.Errorf("HSTS on plain HTTP for an untrusted X-Forwarded-Proto: %q", hsts)
	}
}

// firstDevice is the id of the first device of kind a login offers.
func firstDevice(t *testing.T, r apiResult, kind string) any {
	t.Helper()
	devs, _ := r.Body["devices"].([]any)
	for _, d := range devs {
		if m := d.(map[string]any); m["kind"] == kind {
			return m["id"]
		}
	}
	t.Fatalf("no %s device offered: %s", kind, r.Raw)
	return nil
}
