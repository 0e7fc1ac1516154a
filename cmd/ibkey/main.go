// Command ibkey is the reference IB Key authenticator: a command-line
// program that behaves like the phone app, so that every IB Key flow can
// be run and tested without a phone. Its state (one app instance holding
// one or more users) lives in a local file.
//
//	ibkey [--state FILE] <command> [flags]
//
// Run "ibkey help" for the commands. The protocol is package sls/ibkey;
// docs/ibkey.md describes it.
package main

import (
	"bufio"
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"golang.org/x/term"

	"github.com/secure-login-system/sls/ibkey"
)

const usage = `ibkey — the reference IB Key authenticator (behaves like the phone app)

Global flags (before the command):
  --state FILE     the app's state file (env IBKEY_STATE, default ./ibkey-state.json)

Commands:
  activate --server URL [--platform android|ios] (--qr FILE.png | --code STRING) [--label L]
                                  set up IB Key on this (new) instance; choose the PIN
                                  (android: 4-6 characters) or the device-unlock secret (ios)
  migrate  --server URL ...       the same, on a new phone: the old instance stops working
                                  for that user
  add-user (--qr FILE.png | --code STRING)
                                  add another user with the QR/string from the portal;
                                  confirm with this instance's PIN
  add-user --username NAME        add a user with username and password (first line of
                                  standard input with --password-stdin); an activation code
                                  is sent by SMS to the user's verified number; then:
  add-user --sms-code CODE        finish with the code and this instance's PIN
  users [--remote]                list the users this instance holds
  pushes                          list the login requests waiting for an answer
  listen [--approve-number-from FILE | --deny [--not-me] | --ignore] [--count N] [--timeout D] [--json]
                                  keep the push connection open and answer requests; by
                                  default asks for the number and the PIN interactively.
                                  FILE holds lines "PUSH_ID NUMBER" (or just "NUMBER")
  approve --push ID --number N    approve one request
  deny --push ID [--not-me]       deny one request; --not-me: "this wasn't me", which locks
                                  the account until Client Services unlocks it
  respond --challenge CODE [--user NAME]
                                  offline challenge/response: prints the response string
  respond --code C --payee DDDD --amount N [--user NAME]
                                  confirm a withdrawal offline (SIGN): type the code, the payee's
                                  last four digits and the amount the screen shows
  reauth [--user NAME]            re-authenticate (ios biometric: extends trading access)

Unlocking: --pin-stdin reads the PIN (or ios unlock secret) from the next line of
standard input; otherwise it is asked on the terminal. On ios, --passcode marks an
unlock by passcode rather than biometrics.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ibkey:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

// app is one run of the program.
type app struct {
	ctx       context.Context
	statePath string
	in        *bufio.Reader
	stdin     io.Reader
	out       io.Writer
	pinStdin  bool
	passcode  bool
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	g := flag.NewFlagSet("ibkey", flag.ContinueOnError)
	g.SetOutput(io.Discard)
	statePath := g.String("state", envOr("IBKEY_STATE", "./ibkey-state.json"), "")
	if err := g.Parse(args); err != nil {
		fmt.Fprint(stdout, usage)
		return usageError{err}
	}
	rest := g.Args()
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	a := &app{ctx: ctx, statePath: *statePath, in: bufio.NewReader(stdin), stdin: stdin, out: stdout}
	cmd, sub := rest[0], rest[1:]
	switch cmd {
	case "activate":
		return a.activate(sub, false)
	case "migrate":
		return a.activate(sub, true)
	case "add-user":
		return a.addUser(sub)
	case "users":
		return a.users(sub)
	case "pushes":
		return a.pushes(sub)
	case "listen":
		return a.listen(sub)
	case "approve":
		return a.answerOne(sub, ibkey.DecisionApprove)
	case "deny":
		return a.answerOne(sub, ibkey.DecisionDeny)
	case "respond":
		return a.respond(sub)
	case "reauth":
		return a.reauth(sub)
	}
	fmt.Fprint(stdout, usage)
	return usageError{fmt.Errorf("unknown command %q", cmd)}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// flags parses a command's flags, refusing positional arguments.
func (a *app) flags(name string, args []string, define func(*flag.FlagSet)) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&a.pinStdin, "pin-stdin", false, "")
	fs.BoolVar(&a.passcode, "passcode", false, "")
	define(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Errorf("%s: %w", name, err)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))}
	}
	return nil
}

// line reads the next line of standard input.
func (a *app) line(what string) (string, error) {
	s, err := a.in.ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || s == "") {
		return "", fmt.Errorf("reading the %s from standard input: %w", what, err)
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// secret reads the PIN / unlock secret: from standard input with
// --pin-stdin, else from the terminal without echo.
func (a *app) secret(prompt string) (string, error) {
	if a.pinStdin {
		return a.line("PIN")
	}
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("no terminal to ask the PIN on: use --pin-stdin")
	}
	fmt.Fprint(os.Stderr, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(os.Stderr)
	return string(b), err
}

func (a *app) printJSON(v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintln(a.out, string(b))
}

// readQR decodes the QR code in an image file.
func readQR(path string) (ibkey.Code, error) {
	f, err := os.Open(path)
	if err != nil {
		return ibkey.Code{}, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return ibkey.Code{}, fmt.Errorf("reading %s: %w", path, err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return ibkey.Code{}, fmt.Errorf("reading %s: %w", path, err)
	}
	// A photo needs the detector; a clean image (a screenshot, the portal's
	// PNG) decodes surely as a "pure" barcode, where the detector misses a
	// few codes in a thousand.
	var res *gozxing.Result
	for _, hints := range []map[gozxing.DecodeHintType]any{nil, {gozxing.DecodeHintType_PURE_BARCODE: true}, {gozxing.DecodeHintType_TRY_HARDER: true}} {
		if res, err = qrcode.NewQRCodeReader().Decode(bmp, hints); err == nil {
			break
		}
	}
	if err != nil {
		return ibkey.Code{}, fmt.Errorf("no QR code found in %s: %w", path, err)
	}
	return ibkey.ParseQR(res.GetText())
}

func codeFrom(qrFile, code string) (ibkey.Code, error) {
	switch {
	case qrFile != "" && code != "":
		return ibkey.Code{}, usageError{errors.New("give --qr or --code, not both")}
	case qrFile != "":
		return readQR(qrFile)
	case code != "":
		return ibkey.ParseCode(code)
	}
	return ibkey.Code{}, usageError{errors.New("give --qr FILE or --code STRING")}
}

// activate sets up a new instance with its first user (or migrates a user
// to this new instance).
func (a *app) activate(args []string, migrate bool) error {
	var server, platform, qrFile, codeStr, label string
	name := "activate"
	if migrate {
		name = "migrate"
	}
	if err := a.flags(name, args, func(fs *flag.FlagSet) {
		fs.StringVar(&server, "server", os.Getenv("SLS_SERVER"), "")
		fs.StringVar(&platform, "platform", ibkey.PlatformAndroid, "")
		fs.StringVar(&qrFile, "qr", "", "")
		fs.StringVar(&codeStr, "code", "", "")
		fs.StringVar(&label, "label", "", "")
	}); err != nil {
		return err
	}
	if server == "" {
		return usageError{errors.New("--server URL is required")}
	}
	if _, err := os.Stat(a.statePath); err == nil {
		return fmt.Errorf("%s already holds an SLS Key instance: use add-user, or another --state for a new phone", a.statePath)
	}
	code, err := codeFrom(qrFile, codeStr)
	if err != nil {
		return err
	}
	pin, err := a.secret("Create a PIN (4-6 characters): ")
	if err != nil {
		return err
	}
	if err := ibkey.ValidPIN(platform, pin); err != nil {
		return err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	dh, err := ibkey.NewDHKey(nil)
	if err != nil {
		return err
	}
	req := ibkey.ActivateRequest{Code: code.String(), Platform: platform, SignPub: pub, Label: label, AppDH: dh.PublicKey().Bytes()}
	var resp ibkey.ActivateResponse
	if err := newClient(server, "").Do(a.ctx, "POST", "/api/v1/ibkey/activate", req, &resp); err != nil {
		return err
	}
	key, err := agree(dh, code.Hash(), &resp)
	if err != nil {
		return err
	}
	st := &State{Format: stateFormat, Server: strings.TrimRight(server, "/"), Platform: platform, InstanceID: resp.InstanceID,
		Token: resp.Token, KDF: ibkey.DefaultKDF, SignSalt: salt()}
	pad, err := ibkey.Pad(pin, st.SignSalt, st.KDF, ed25519.SeedSize)
	if err != nil {
		return err
	}
	st.SignSeed = ibkey.XOR(priv.Seed(), pad)
	u := User{UserID: resp.UserID, Username: resp.Username, DeviceID: resp.DeviceID, ActivatedAt: time.Now().UTC()}
	if err := st.wrapUser(&u, key, pin); err != nil {
		return err
	}
	st.Users = append(st.Users, u)
	if err := st.save(a.statePath); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "SLS Key activated for %s on this %s instance (%s).\n", resp.Username, platform, resp.InstanceID)
	if len(resp.MigratedFrom) > 0 {
		fmt.Fprintf(a.out, "The previous instance (%s) no longer works for %s.\n", strings.Join(resp.MigratedFrom, ", "), resp.Username)
	}
	return nil
}

// agree finishes the key agreement and checks the server's confirmation:
// nothing is stored unless both sides derived the same key.
func agree(dh *ecdh.PrivateKey, binding string, resp *ibkey.ActivateResponse) ([]byte, error) {
	tr := ibkey.Transcript{Binding: binding, InstanceID: resp.InstanceID, UserID: resp.UserID, DeviceID: resp.DeviceID,
		AppDH: dh.PublicKey().Bytes(), ServerDH: resp.ServerDH}
	key, confirm, err := ibkey.Agree(dh, resp.ServerDH, tr)
	if err != nil {
		return nil, err
	}
	if err := ibkey.CheckConfirm(confirm, resp.Confirm); err != nil {
		return nil, err
	}
	return key, nil
}
