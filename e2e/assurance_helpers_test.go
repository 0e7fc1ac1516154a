package e2e

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"testing"
)

var onlineCardCell = regexp.MustCompile(`id="n(\d+)"[^>]*>\d+</th><td[^>]*>(\d{3})</td>`)

// printOnlineCard fetches the session's online card for printing and reads
// its values, as a client reads the printout.
func printOnlineCard(t *testing.T, n *node, token string) map[string]string {
	t.Helper()
	req, _ := http.NewRequest("GET", n.url+"/api/v1/onlinecard/print?format=html", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := checkAnswer("GET", req.URL.String(), resp.StatusCode, resp.Header, b); err != nil {
		t.Errorf("answer does not match the API document: %v", err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("print online card: %d %s", resp.StatusCode, b)
	}
	vals := map[string]string{}
	for _, m := range onlineCardCell.FindAllStringSubmatch(string(b), -1) {
		vals[m[1]] = m[2]
	}
	if len(vals) == 0 {
		t.Fatalf("no values in the printed card: %.300s", b)
	}
	return vals
}

// onlineCardSession is how a client without a permanent device gets a
// session that proved a device (SPEC §6): Client Services issues a
// temporary passcode, the client prints and activates an Online Security
// Code Card with it, then logs in with the card. It returns the card's
// values and the new session's token.
func onlineCardSession(t *testing.T, n *node, user string) (map[string]string, string) {
	t.Helper()
	tmp := tempPasscodeSession(t, n, user)
	if r := call(t, "POST", n.url+"/api/v1/onlinecard", tmp, nil); r.Status != 201 {
		t.Fatalf("request online card: %s", r.Raw)
	}
	info := call(t, "GET", n.url+"/api/v1/onlinecard", tmp, nil)
	vals := printOnlineCard(t, n, tmp)
	pair, _ := info.Body["activation_indices"].([]any)
	if len(pair) != 2 {
		t.Fatalf("activation indices: %s", info.Raw)
	}
	values := vals[fmt.Sprint(pair[0])] + " " + vals[fmt.Sprint(pair[1])]
	if r := call(t, "POST", n.url+"/api/v1/onlinecard/activate", tmp, map[string]any{"device_id": info.str("device_id"), "values": values}); r.Status != 200 {
		t.Fatalf("activate online card: %s", r.Raw)
	}
	return vals, cardLogin(t, n, user, "portal", "onlinecard", vals)
}

// cardLogin logs user in with a code card or online card whose values
// are vals, and returns the session token.
func cardLogin(t *testing.T, n *node, user, platform, kind string, vals map[string]string) string {
	t.Helper()
	r := chooseDevice(t, n, startLogin(t, n, user, platform), kind)
	idx, _ := r.Body["prompt"].(map[string]any)["indices"].([]any)
	if len(idx) != 2 {
		t.Fatalf("card challenge: %s", r.Raw)
	}
	done := answer(t, n, r.str("login_id"), vals[fmt.Sprint(idx[0])]+" "+vals[fmt.Sprint(idx[1])])
	if done.Status != 201 {
		t.Fatalf("%s login: %s", kind, done.Raw)
	}
	return done.str("session", "token")
}
