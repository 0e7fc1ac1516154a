package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/secure-login-system/sls/client"
	"github.com/secure-login-system/sls/factor/dscplus"
)

// benchUser is one test user and what its client holds: the password,
// the card's key and PIN, and the known-client token of its last login.
type benchUser struct {
	name     string
	password string
	pin      string
	cardKey  []byte

	mu          sync.Mutex
	clientToken string
}

// population is the run's users, named prefix + number.
type population struct {
	prefix string
	users  []*benchUser
}

const removeReason = "slsbench load test user"

// createUsers makes n users through the operator API, each with an
// active DSC+ (a login's password step asks for a device). The card file
// is written by the server into its card output directory; when the
// flow answers challenges (readCards), slsbench reads it from the path
// the server gives, so that flow runs where that directory is readable.
func createUsers(ctx context.Context, ops *client.Client, n int, readCards bool) (*population, error) {
	run := randomHex(3)
	pop := &population{prefix: "slsbench-" + run + "-"}
	pop.users = make([]*benchUser, n)
	var mu sync.Mutex
	var first error
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(4, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				u, err := createUser(ctx, ops, pop.prefix, run, i, readCards)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				if u != nil {
					pop.users[i] = u
				}
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	made := pop.users[:0]
	for _, u := range pop.users {
		if u != nil {
			made = append(made, u)
		}
	}
	pop.users = made
	return pop, first
}

func createUser(ctx context.Context, ops *client.Client, prefix, run string, i int, readCard bool) (*benchUser, error) {
	u := &benchUser{name: fmt.Sprintf("%s%d", prefix, i), password: "Bench " + randomHex(12), pin: "7391"}
	account := fmt.Sprintf("SB%s%d", strings.ToUpper(run), i)
	// Equity above the DSC+ threshold (policy.DefaultDSCPlusThreshold),
	// so the card needs no eligibility override.
	if err := ops.Do(ctx, "POST", "/api/v1/ops/accounts", map[string]any{"id": account, "base_currency": "USD",
		"equity_minor": 5_000_000_00, "jurisdiction": "US"}, nil); err != nil {
		return nil, fmt.Errorf("creating account %s (POST /api/v1/ops/accounts needs the client-services role): %w", account, err)
	}
	body := map[string]any{"username": u.name, "password": u.password, "account_id": account}
	if err := ops.Do(ctx, "POST", "/api/v1/ops/users", body, nil); err != nil {
		return nil, fmt.Errorf("creating %s (POST /api/v1/ops/users needs the client-services role): %w", u.name, err)
	}
	var issued struct {
		CardFile string `json:"card_file"`
	}
	if err := ops.Do(ctx, "POST", "/api/v1/ops/users/"+url.PathEscape(u.name)+"/dscplus",
		map[string]any{"pin": u.pin, "activate": true}, &issued); err != nil {
		return u, fmt.Errorf("issuing %s a DSC+ (needs the security-team role): %w", u.name, err)
	}
	if !readCard {
		return u, nil
	}
	raw, err := os.ReadFile(issued.CardFile)
	if err != nil {
		return u, fmt.Errorf("the DSC+ card file is written on the server (%s) and cannot be read here: run slsbench where the "+
			"server's card output directory (operators.card_output) is readable, or use --flow password: %w", issued.CardFile, err)
	}
	if _, u.cardKey, err = dscplus.ParseCardFile(raw); err != nil {
		return u, fmt.Errorf("card file %s: %w", issued.CardFile, err)
	}
	os.Remove(issued.CardFile) // a test card's key has no use past the run
	return u, nil
}

// remove deletes the users: under dual control with the approver's
// token, else it disables them and says how to delete them.
func (p *population) remove(ctx context.Context, ops *client.Client, approverTokenFile string, log io.Writer) error {
	var approver *client.Client
	if approverTokenFile != "" {
		tok, err := client.ReadTokenFile(approverTokenFile)
		if err != nil {
			return err
		}
		approver = client.New(ops.Base, tok)
	}
	var disabled []string
	for _, u := range p.users {
		path := "/api/v1/ops/users/" + url.PathEscape(u.name)
		body := map[string]string{"reason": removeReason}
		err := ops.Do(ctx, "DELETE", path, body, nil)
		var e *client.Error
		if errors.As(err, &e) && e.Code == "approval_required" && approver != nil {
			id, _ := e.Detail["approval_id"].(string)
			if err = approver.Do(ctx, "POST", "/api/v1/ops/approvals/"+url.PathEscape(id)+"/approve", nil, nil); err == nil {
				second := *ops
				second.Approval = id
				err = second.Do(ctx, "DELETE", path, body, nil)
			}
		}
		// Refused for want of a second operator (approval_required, or
		// forbidden when no other operator could approve): disable.
		if errors.As(err, &e) && (e.Code == "approval_required" || e.Code == "forbidden") {
			if err = ops.Do(ctx, "POST", path+"/disable", body, nil); err == nil {
				disabled = append(disabled, u.name)
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("removing %s: %w", u.name, err)
		}
	}
	if len(disabled) > 0 {
		fmt.Fprintf(log, "slsbench: deleting users needs a second operator (dual control user.delete); %d test users are disabled. "+
			"Delete them with --approver-token-file next time, or:\n  slsctl user delete NAME --reason %q   (for %s0 … %s%d)\n",
			len(disabled), removeReason, p.prefix, p.prefix, len(p.users)-1)
	} else {
		fmt.Fprintf(log, "slsbench: removed %d test users\n", len(p.users))
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
