package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/codecard"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/manage"
)

// DemoUsername is the user --demo creates.
const DemoUsername = "demo"

// Demo creates, on a database without the demo user, an account and a
// user with a Digital Security Card+ and a Security Code Card, writes the
// card file and the printable card into the data directory, and tells w
// how to log in. With the demo user already there it only says so.
func (s *Server) Demo(ctx context.Context, w io.Writer) error {
	const actor = "operator:demo"
	if _, err := s.Manage.UserByName(ctx, DemoUsername); err == nil {
		fmt.Fprintf(w, "Demo user %q exists already; its card files are in %s.\n", DemoUsername, s.Opts.DataDir)
		return nil
	} else if !errors.Is(err, sls.ErrNotFound) && sls.ErrorCode(err) != sls.CodeNotFound {
		return err
	}
	if _, err := s.Manage.CreateAccount(ctx, actor, manage.NewAccount{ID: "DEMO1", BaseCurrency: "USD",
		EquityMinor: 2_000_000_00, Jurisdiction: "US"}); err != nil && sls.ErrorCode(err) != sls.CodeConflict {
		return err
	}
	password := sls.NewToken("demo")[5:25]
	if _, err := s.Manage.CreateUser(ctx, actor, manage.NewUser{Username: DemoUsername, Password: password, AccountID: "DEMO1",
		Email: "demo@example.invalid", Mobile: "+12015550100", CanChangeSecurity: true, Lang: "en",
		Identity: sls.Identity{DateOfBirth: "1980-01-01", Citizenship: "US", Residence: "US", IDType: "passport", IDNumber: "X0000000"}}); err != nil {
		return err
	}
	pin, err := factor.Digits(nil, 4)
	if err != nil {
		return err
	}
	dsc, err := s.Manage.IssueDSCPlus(ctx, actor, DemoUsername, "", pin, true)
	if err != nil {
		return err
	}
	cardPath := filepath.Join(s.Opts.DataDir, "demo-dscplus.json")
	cardJSON, _ := json.MarshalIndent(dsc.Card, "", "  ")
	if err := os.WriteFile(cardPath, append(cardJSON, '\n'), 0o600); err != nil {
		return err
	}
	scc, err := s.Manage.IssueCodeCard(ctx, actor, DemoUsername)
	if err != nil {
		return err
	}
	txtPath := filepath.Join(s.Opts.DataDir, "demo-codecard.txt")
	if err := os.WriteFile(txtPath, []byte(codecard.RenderText(scc.Card, codecard.SecurityCodeCard.Name, scc.Device.Serial)), 0o600); err != nil {
		return err
	}
	htmlPath := filepath.Join(s.Opts.DataDir, "demo-codecard.html")
	f, err := os.OpenFile(htmlPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := errors.Join(codecard.RenderHTML(f, scc.Card, codecard.SecurityCodeCard.Name, scc.Device.Serial), f.Close()); err != nil {
		return err
	}
	scheme := "http"
	if s.Opts.TLSCert != "" || s.Opts.TLSSelfSigned {
		scheme = "https"
	}
	fmt.Fprintf(w, `Demo account DEMO1 created. Log in at %s://%s/ (Client Portal) or through the API.
  username: %s
  password: %s
  Digital Security Card+: %s (PIN %s)
      respond to a challenge with: go run ./cmd/dsccard --card %s
  Security Code Card: %s (printable: %s)
These secrets are shown once; the card files are readable only by you.
`, scheme, s.Opts.Listen, DemoUsername, password, cardPath, pin, cardPath, txtPath, htmlPath)
	return nil
}
