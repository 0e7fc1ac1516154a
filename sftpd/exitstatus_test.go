package sftpd

import (
	"net"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// TestExitStatusBeforeClose: when a client ends its SFTP session, the
// server sends exit-status 0 and then closes the channel (RFC 4254
// §6.10), so a client that waits for the status (a Go ssh.Session, a
// script) sees a clean end rather than a missing status.
func TestExitStatusBeforeClose(t *testing.T) {
	good, _ := testKeys(t)
	ts := startServer(t, aliceDirectory(good.Pub, "127.0.0.1/32"), nil)
	pem, err := os.ReadFile(good.OpenSSH)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := ssh.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ts.port)), &ssh.ClientConfig{User: "alice", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(testHostKey().PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, reqs, err := conn.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := ch.SendRequest("subsystem", true, ssh.Marshal(struct{ Name string }{"sftp"})); !ok || err != nil {
		t.Fatalf("subsystem sftp: %v %v", ok, err)
	}
	var requests []string // what the server sent on the channel until it closed it
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for r := range reqs {
			if r.Type == "exit-status" {
				var st struct{ Status uint32 }
				if ssh.Unmarshal(r.Payload, &st) == nil && st.Status != 0 {
					t.Errorf("exit-status %d, want 0", st.Status)
				}
			}
			requests = append(requests, r.Type)
		}
	}()
	client, err := sftp.NewClientPipe(ch, halfCloser{ch})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.ReadDir("/"); err != nil {
		t.Fatal(err)
	}
	client.Close() // EOF on our side only: the client is done
	<-ended        // the server closed the channel
	if !slices.Contains(requests, "exit-status") {
		t.Fatalf("the server closed the channel after %q, without exit-status", requests)
	}
}

// halfCloser closes only the client's side of the channel, as an SSH
// client ending its input does (EOF), so that the server's answer to it
// can be read.
type halfCloser struct{ ssh.Channel }

func (h halfCloser) Close() error { return h.CloseWrite() }
