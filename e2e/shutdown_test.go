package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/secure-login-system/sls/client"
)

// TestGracefulShutdownKeepsCommittedWrites sends SIGTERM while writes are
// in flight: every write the server acknowledged must be there after a
// restart (requests in flight finish; new connections are refused).
func TestGracefulShutdownKeepsCommittedWrites(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db)
		token := n.opToken()
		var mu sync.Mutex
		var acked []string
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("G%dX%d", w, i)
					r, err := tryCall(n.url+"/api/v1/ops/accounts", token, map[string]any{"id": id, "base_currency": "USD", "jurisdiction": "US"})
					if err != nil {
						return // the server stopped accepting
					}
					if r == 201 {
						mu.Lock()
						acked = append(acked, id)
						mu.Unlock()
					}
				}
			}(w)
		}
		time.Sleep(500 * time.Millisecond)
		n.cmd.Process.Signal(os.Interrupt)
		<-n.done
		n.cmd = nil
		close(stop)
		wg.Wait()
		if len(acked) == 0 {
			t.Fatal("no write was acknowledged before the shutdown")
		}
		n.start()
		for _, id := range acked {
			// Creating it again must conflict: it exists.
			r := call(t, "POST", n.url+"/api/v1/ops/accounts", token, map[string]any{"id": id, "base_currency": "USD", "jurisdiction": "US"})
			if r.code() != "conflict" {
				t.Fatalf("acknowledged account %s lost over a graceful shutdown: %s", id, r.Raw)
			}
		}
		t.Logf("%d acknowledged writes all survived", len(acked))
	})
}

// tryCall posts JSON and returns the status, or an error when the server
// cannot be reached (used while it shuts down).
func tryCall(url, token string, body any) (int, error) {
	raw, _ := json.Marshal(body)
	c := client.New("", token)
	c.HTTP = &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Send(context.Background(), "POST", url, "application/json", bytes.NewReader(raw))
	if err != nil {
		return 0, err
	}
	return resp.Status, nil
}
