package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	apiclient "github.com/secure-login-system/sls/client"
	"github.com/secure-login-system/sls/ibkey"
)

// addUser adds a user to this instance: with the QR code or string from
// the portal, or with username and password and then the SMS code.
func (a *app) addUser(args []string) error {
	var qrFile, codeStr, username, smsCode string
	var pwStdin bool
	if err := a.flags("add-user", args, func(fs *flag.FlagSet) {
		fs.StringVar(&qrFile, "qr", "", "")
		fs.StringVar(&codeStr, "code", "", "")
		fs.StringVar(&username, "username", "", "")
		fs.BoolVar(&pwStdin, "password-stdin", false, "")
		fs.StringVar(&smsCode, "sms-code", "", "")
	}); err != nil {
		return err
	}
	st, err := loadState(a.statePath)
	if err != nil {
		return err
	}
	c := newClient(st.Server, st.Token)
	if username != "" {
		pw, err := a.password(pwStdin)
		if err != nil {
			return err
		}
		var resp ibkey.AddUserResponse
		if err := c.Do(a.ctx, "POST", "/api/v1/ibkey/app/adduser", ibkey.AddUserRequest{Username: username, Password: pw}, &resp); err != nil {
			return err
		}
		st.Pending = &Pending{PendingID: resp.PendingID, Username: username, ExpiresAt: resp.ExpiresAt}
		if err := st.save(a.statePath); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "An activation code was sent by text message to %s. Finish with: ibkey add-user --sms-code CODE\n", resp.SentTo)
		return nil
	}
	var binding string
	req := ibkey.ActivateRequest{InstanceID: st.InstanceID}
	if smsCode != "" {
		if st.Pending == nil {
			return errors.New("no Add User request is waiting for a code: start with --username")
		}
		binding = ibkey.PendingHash(st.Pending.PendingID)
		req.PendingID, req.SMSCode = st.Pending.PendingID, strings.TrimSpace(smsCode)
	} else {
		code, err := codeFrom(qrFile, codeStr)
		if err != nil {
			return err
		}
		binding, req.Code = code.Hash(), code.String()
	}
	pin, err := a.secret("PIN of this SLS Key instance: ")
	if err != nil {
		return err
	}
	sk, err := st.signKey(pin)
	if err != nil {
		return err
	}
	dh, err := ibkey.NewDHKey(nil)
	if err != nil {
		return err
	}
	req.AppDH = dh.PublicKey().Bytes()
	req.Signature = ed25519.Sign(sk, ibkey.ActivationMessage(st.InstanceID, binding, req.AppDH))
	var resp ibkey.ActivateResponse
	err = c.Do(a.ctx, "POST", "/api/v1/ibkey/activate", req, &resp)
	if smsCode != "" {
		var ae *apiclient.Error
		if err == nil || (errors.As(err, &ae) && ae.Detail["reason"] != "wrong_code") {
			st.Pending = nil // used (or dead): a new request is needed
		}
	}
	if err != nil {
		_ = st.save(a.statePath)
		return err
	}
	key, err := agree(dh, binding, &resp)
	if err != nil {
		return err
	}
	u := User{UserID: resp.UserID, Username: resp.Username, DeviceID: resp.DeviceID, ActivatedAt: time.Now().UTC()}
	if err := st.wrapUser(&u, key, pin); err != nil {
		return err
	}
	kept := st.Users[:0]
	for _, old := range st.Users {
		if old.UserID != u.UserID { // re-activation replaces the old entry
			kept = append(kept, old)
		}
	}
	st.Users = append(kept, u)
	if err := st.save(a.statePath); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "SLS Key activated for %s on this instance (%s).\n", resp.Username, st.InstanceID)
	if len(resp.MigratedFrom) > 0 {
		fmt.Fprintf(a.out, "The previous instance (%s) no longer works for %s.\n", strings.Join(resp.MigratedFrom, ", "), resp.Username)
	}
	return nil
}

func (a *app) password(fromStdin bool) (string, error) {
	if fromStdin {
		return a.line("password")
	}
	saved := a.pinStdin
	a.pinStdin = false
	defer func() { a.pinStdin = saved }()
	return a.secret("Password: ")
}

func (a *app) users(args []string) error {
	var remote bool
	if err := a.flags("users", args, func(fs *flag.FlagSet) { fs.BoolVar(&remote, "remote", false, "") }); err != nil {
		return err
	}
	st, err := loadState(a.statePath)
	if err != nil {
		return err
	}
	if remote {
		var out map[string]any
		if err := newClient(st.Server, st.Token).Do(a.ctx, "GET", "/api/v1/ibkey/app/users", nil, &out); err != nil {
			return err
		}
		a.printJSON(out)
		return nil
	}
	fmt.Fprintf(a.out, "instance %s (%s) at %s\n", st.InstanceID, st.Platform, st.Server)
	for _, u := range st.Users {
		fmt.Fprintf(a.out, "  %-20s %s  device %s  since %s\n", u.Username, u.UserID, u.DeviceID, u.ActivatedAt.Format(time.RFC3339))
	}
	return nil
}

func (a *app) pushes(args []string) error {
	if err := a.flags("pushes", args, func(*flag.FlagSet) {}); err != nil {
		return err
	}
	st, err := loadState(a.statePath)
	if err != nil {
		return err
	}
	var out struct {
		Pushes []ibkey.Push `json:"pushes"`
	}
	if err := newClient(st.Server, st.Token).Do(a.ctx, "GET", "/api/v1/ibkey/app/pushes", nil, &out); err != nil {
		return err
	}
	for _, p := range out.Pushes {
		a.printJSON(p)
	}
	return nil
}

// keyring holds unlocked keys for one run (listen unlocks once).
type keyring struct {
	st   *State
	pin  string
	sign ed25519.PrivateKey
	off  map[string][]byte // device id → offline key
}

func (a *app) unlock(st *State, pin string) (*keyring, error) {
	sk, err := st.signKey(pin)
	if err != nil {
		return nil, err
	}
	k := &keyring{st: st, pin: pin, sign: sk, off: map[string][]byte{}}
	for i := range st.Users {
		key, err := st.offlineKey(&st.Users[i], pin)
		if err != nil {
			return nil, err
		}
		k.off[st.Users[i].DeviceID] = key
	}
	return k, nil
}

// answer signs and sends an answer to a push.
func (a *app) answer(k *keyring, c *apiclient.Client, p ibkey.Push, decision, number string, notMe bool) (*ibkey.AnswerResult, error) {
	key, ok := k.off[p.DeviceID]
	if !ok {
		// A user added since this run began (another ibkey command wrote
		// the state file): read it again.
		if st, err := loadState(a.statePath); err == nil && st.InstanceID == k.st.InstanceID {
			if fresh, err := a.unlock(st, k.pin); err == nil {
				*k = *fresh
				key, ok = k.off[p.DeviceID]
			}
		}
	}
	if !ok {
		return nil, fmt.Errorf("this instance does not hold the user of request %s", p.ID)
	}
	// A push that confirms a withdrawal is signed over the amount and
	// payee this app shows, not over what the server says alone.
	ap := ibkey.Approval{Version: ibkey.Version, PushID: p.ID, Tx: ibkey.TransactionTx(p.Tx, p.Transaction), DeviceID: p.DeviceID, Decision: decision,
		Number: number, NotMe: notMe, Unlock: k.st.unlockMethod(a.passcode), Time: time.Now().Unix()}
	ap.Sign(k.sign, key)
	var res ibkey.AnswerResult
	if err := c.Do(a.ctx, "POST", "/api/v1/ibkey/app/answer", ap, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

func (a *app) answerOne(args []string, decision string) error {
	var pushID, number string
	var notMe bool
	if err := a.flags(decision, args, func(fs *flag.FlagSet) {
		fs.StringVar(&pushID, "push", "", "")
		if decision == ibkey.DecisionApprove {
			fs.StringVar(&number, "number", "", "")
		} else {
			fs.BoolVar(&notMe, "not-me", false, "")
		}
	}); err != nil {
		return err
	}
	if pushID == "" || (decision == ibkey.DecisionApprove && number == "") {
		return usageError{errors.New("give --push ID (and --number N to approve)")}
	}
	st, err := loadState(a.statePath)
	if err != nil {
		return err
	}
	c := newClient(st.Server, st.Token)
	var list struct {
		Pushes []ibkey.Push `json:"pushes"`
	}
	if err := c.Do(a.ctx, "GET", "/api/v1/ibkey/app/pushes", nil, &list); err != nil {
		return err
	}
	var push *ibkey.Push
	for i := range list.Pushes {
		if list.Pushes[i].ID == pushID {
			push = &list.Pushes[i]
		}
	}
	if push == nil {
		return fmt.Errorf("no request %s is waiting for an answer", pushID)
	}
	pin, err := a.secret("PIN: ")
	if err != nil {
		return err
	}
	k, err := a.unlock(st, pin)
	if err != nil {
		return err
	}
	res, err := a.answer(k, c, *push, decision, number, notMe)
	if err != nil {
		return err
	}
	a.printJSON(res)
	return nil
}

// listen keeps the push connection open and answers requests.
func (a *app) listen(args []string) error {
	var numberFile string
	var deny, notMe, ignore, jsonOut bool
	var count int
	var timeout time.Duration
	if err := a.flags("listen", args, func(fs *flag.FlagSet) {
		fs.StringVar(&numberFile, "approve-number-from", "", "")
		fs.BoolVar(&deny, "deny", false, "")
		fs.BoolVar(&notMe, "not-me", false, "")
		fs.BoolVar(&ignore, "ignore", false, "")
		fs.BoolVar(&jsonOut, "json", false, "")
		fs.IntVar(&count, "count", 0, "")
		fs.DurationVar(&timeout, "timeout", 0, "")
	}); err != nil {
		return err
	}
	modes := 0
	for _, m := range []bool{numberFile != "", deny, ignore} {
		if m {
			modes++
		}
	}
	if modes > 1 {
		return usageError{errors.New("choose one of --approve-number-from, --deny and --ignore")}
	}
	interactive := modes == 0
	st, err := loadState(a.statePath)
	if err != nil {
		return err
	}
	var k *keyring
	if !ignore && (a.pinStdin || !interactive) {
		pin, err := a.secret("PIN: ")
		if err != nil {
			return err
		}
		if k, err = a.unlock(st, pin); err != nil {
			return err
		}
	}
	ctx := a.ctx
	if timeout > 0 {
		var cancel func()
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	a.ctx = ctx
	c := newClient(st.Server, st.Token)
	say := func(event string, fields map[string]any, human string) {
		if jsonOut {
			fields["event"] = event
			fields["at"] = time.Now().UTC().Format(time.RFC3339Nano)
			a.printJSON(fields)
		} else {
			fmt.Fprintln(a.out, human)
		}
	}
	handled := 0
	errDone := errors.New("done")
	backoff := 200 * time.Millisecond
	for {
		body, err := stream(ctx, c)
		if err != nil {
			var ae *apiclient.Error
			if errors.As(err, &ae) && ae.Status == 401 {
				return err
			}
			if ctx.Err() != nil {
				return nil
			}
			say("disconnected", map[string]any{"error": err.Error()}, "connection lost: "+err.Error())
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 10*time.Second)
			continue
		}
		backoff = 200 * time.Millisecond
		err = readEvents(body, func(ev ibkey.Event) error {
			switch ev.Type {
			case "hello":
				say("connected", map[string]any{"instance_id": st.InstanceID}, "connected; waiting for login requests")
			case "closed":
				say("closed", map[string]any{"push_id": ev.ID}, "request "+ev.ID+" is no longer waiting")
			case "push":
				p := ev.Push
				if p == nil {
					return nil
				}
				what := fmt.Sprintf("Login request for %s on %s from %s (%s)", p.Username, p.Platform, p.ClientIP, p.UserAgent)
				if tr := p.Transaction; tr != nil && tr.Currency != "" {
					what = fmt.Sprintf("Withdrawal of %s %s to %s for %s: approving signs this amount and payee", tr.Currency, tr.Amount, payeeText(tr.Payee), p.Username)
				} else if tr != nil {
					what = fmt.Sprintf("New banking instruction for %s: account %s; approving signs this account", p.Username, tr.Payee)
				}
				say("push", map[string]any{"push_id": p.ID, "username": p.Username, "platform": p.Platform, "client_ip": p.ClientIP,
					"user_agent": p.UserAgent, "expires_at": p.ExpiresAt, "transaction": p.Transaction}, what)
				if ignore {
					break
				}
				decision, number := ibkey.DecisionDeny, ""
				kr := k
				switch {
				case numberFile != "":
					n, err := waitNumber(ctx, numberFile, p.ID, p.ExpiresAt)
					if err != nil {
						say("error", map[string]any{"push_id": p.ID, "error": err.Error()}, err.Error())
						break
					}
					decision, number = ibkey.DecisionApprove, n
				case interactive:
					fmt.Fprint(a.out, "Type the number shown on the login screen to approve, or \"deny\": ")
					ln, err := a.line("number")
					if err != nil {
						return err
					}
					if ln = strings.TrimSpace(ln); !strings.EqualFold(ln, "deny") {
						decision, number = ibkey.DecisionApprove, ln
					}
					if kr == nil {
						pin, err := a.secret("PIN: ")
						if err != nil {
							return err
						}
						if kr, err = a.unlock(st, pin); err != nil {
							return err
						}
					}
				}
				if decision == ibkey.DecisionApprove && number == "" {
					break
				}
				res, err := a.answer(kr, c, *p, decision, number, notMe && decision == ibkey.DecisionDeny)
				if err != nil {
					code, reason := "", ""
					var ae *apiclient.Error
					if errors.As(err, &ae) {
						code = ae.Code
						if r, ok := ae.Detail["reason"].(string); ok {
							reason = r
						}
					}
					say("error", map[string]any{"push_id": p.ID, "error": err.Error(), "code": code, "reason": reason}, "answer refused: "+err.Error())
				} else {
					say("answered", map[string]any{"push_id": p.ID, "state": res.State}, "request "+p.ID+": "+res.State)
				}
			}
			if ev.Type == "push" {
				handled++
				if count > 0 && handled >= count {
					return errDone
				}
			}
			return nil
		})
		body.Close()
		if errors.Is(err, errDone) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			say("disconnected", map[string]any{"error": err.Error()}, "connection lost: "+err.Error())
		}
	}
}

// waitNumber waits until the number file names the number for a push (a
// line "PUSH_ID NUMBER"), or holds a bare number, or the push expires.
// Tests and benchmarks write the number the login screen showed.
func waitNumber(ctx context.Context, path, pushID string, expires time.Time) (string, error) {
	for {
		if f, err := os.Open(path); err == nil {
			bare := ""
			sc := bufio.NewScanner(f)
			found := ""
			for sc.Scan() {
				fields := strings.Fields(sc.Text())
				switch {
				case len(fields) == 2 && fields[0] == pushID:
					found = fields[1]
				case len(fields) == 1:
					bare = fields[0]
				}
			}
			f.Close()
			if found != "" {
				return found, nil
			}
			if bare != "" {
				return bare, nil
			}
		}
		if time.Now().After(expires.Add(5 * time.Second)) {
			return "", fmt.Errorf("no number for request %s in %s", pushID, path)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// respond computes a challenge/response string offline: no network is
// needed, only the PIN.
func (a *app) respond(args []string) error {
	var challenge, user, code, payee, amount string
	if err := a.flags("respond", args, func(fs *flag.FlagSet) {
		fs.StringVar(&challenge, "challenge", "", "")
		fs.StringVar(&user, "user", "", "")
		fs.StringVar(&code, "code", "", "")
		fs.StringVar(&payee, "payee", "", "")
		fs.StringVar(&amount, "amount", "", "")
	}); err != nil {
		return err
	}
	sign := code != "" || payee != "" || amount != ""
	switch {
	case sign && (challenge != "" || code == "" || payee == ""):
		return usageError{errors.New("to confirm a withdrawal give --code, --payee (its last four digits) and --amount (whole units) as the screen shows them; a new banking instruction needs no --amount")}
	case !sign && !ibkey.ValidChallenge(strings.Join(strings.Fields(challenge), "")):
		return usageError{fmt.Errorf("--challenge must be the %d-digit code shown on the login screen", ibkey.ChallengeDigits)}
	}
	st, err := loadState(a.statePath)
	if err != nil {
		return err
	}
	u, err := st.user(user)
	if err != nil {
		return err
	}
	pin, err := a.secret("PIN: ")
	if err != nil {
		return err
	}
	key, err := st.offlineKey(u, pin)
	if err != nil {
		return err
	}
	var r string
	if sign {
		r, err = ibkey.RespondSign(key, code, payee, amount)
	} else {
		r, err = ibkey.Respond(key, challenge)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(a.out, ibkey.FormatResponse(r))
	return nil
}

func payeeText(p string) string {
	if p == "" {
		return "the payee on file"
	}
	return "account " + p
}

// reauth re-authenticates a user (SPEC §2.5).
func (a *app) reauth(args []string) error {
	var user string
	if err := a.flags("reauth", args, func(fs *flag.FlagSet) { fs.StringVar(&user, "user", "", "") }); err != nil {
		return err
	}
	st, err := loadState(a.statePath)
	if err != nil {
		return err
	}
	u, err := st.user(user)
	if err != nil {
		return err
	}
	c := newClient(st.Server, st.Token)
	var n ibkey.ReauthNonce
	if err := c.Do(a.ctx, "POST", "/api/v1/ibkey/app/reauth/nonce", struct{}{}, &n); err != nil {
		return err
	}
	pin, err := a.secret("Unlock: ")
	if err != nil {
		return err
	}
	sk, err := st.signKey(pin)
	if err != nil {
		return err
	}
	key, err := st.offlineKey(u, pin)
	if err != nil {
		return err
	}
	unlock := st.unlockMethod(a.passcode)
	sig, mac := ibkey.SignReauth(sk, key, st.InstanceID, u.DeviceID, unlock, n.Nonce)
	var res ibkey.ReauthResult
	if err := c.Do(a.ctx, "POST", "/api/v1/ibkey/app/reauth", ibkey.ReauthRequest{DeviceID: u.DeviceID, Unlock: unlock,
		Nonce: n.Nonce, Signature: sig, MAC: mac}, &res); err != nil {
		return err
	}
	a.printJSON(res)
	return nil
}
