package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	apiclient "github.com/secure-login-system/sls/client"
	"github.com/secure-login-system/sls/ibkey"
)

// newClient is the API client of the app instance (package client).
func newClient(base, token string) *apiclient.Client {
	c := apiclient.New(base, token)
	c.HTTP = &http.Client{Timeout: 30 * time.Second}
	return c
}

// maxEventLine bounds one line of the event stream.
const maxEventLine = 64 << 10

// readEvents reads server-sent events until the stream ends, calling fn
// for each event's data. It returns nil when the server closed the stream.
func readEvents(r io.Reader, fn func(ibkey.Event) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxEventLine)
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() > 0 {
				var ev ibkey.Event
				if err := json.Unmarshal([]byte(data.String()), &ev); err != nil {
					return fmt.Errorf("event stream: %w", err)
				}
				data.Reset()
				if err := fn(ev); err != nil {
					return err
				}
			}
		case strings.HasPrefix(line, ":"), strings.HasPrefix(line, "event:"), strings.HasPrefix(line, "id:"), strings.HasPrefix(line, "retry:"):
		case strings.HasPrefix(line, "data:"):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
			if data.Len() > maxEventLine {
				return errors.New("event stream: event too large")
			}
		default:
			return fmt.Errorf("event stream: unexpected line %q", truncate(line, 40))
		}
	}
	return sc.Err()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// stream opens the instance's event connection.
func stream(ctx context.Context, c *apiclient.Client) (io.ReadCloser, error) {
	return c.Stream(ctx, "/api/v1/ibkey/app/events", "text/event-stream")
}
