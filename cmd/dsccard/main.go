// Command dsccard emulates a Digital Security Card+ as its holder uses it:
// it asks "PIN>" then "CHALLNG>" and shows the 8-digit response to type
// into the login screen.
//
//	dsccard --card card.json                          # interactive
//	dsccard --card card.json --pin 1234 --challenge 123456   # for scripts
//	echo "1234 123456" | dsccard --card card.json --stdin
//
// A withdrawal confirmation uses the card's SIGN mode: the holder types
// the code, the last four digits of the payee's account and the amount
// shown on the screen, and the response signs them (dynamic linking):
//
//	dsccard --card card.json --sign                   # interactive: CODE>, PAYEE>, AMOUNT>
//	dsccard --card card.json --pin 1234 --sign --code 4821 --payee 3000 --amount 1500
//
// The card file (written by slsctl or slsd --demo) holds the card's key but
// not its PIN: a wrong PIN gives a wrong response, which the server counts
// as a failed attempt, exactly as with the physical card.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/secure-login-system/sls/factor/dscplus"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dsccard:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dsccard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cardPath := fs.String("card", "", "card file (JSON)")
	pin := fs.String("pin", "", "PIN (scripts; interactive use asks for it)")
	challenge := fs.String("challenge", "", "challenge code shown on the login screen")
	fromStdin := fs.Bool("stdin", false, "read 'PIN CHALLENGE' from standard input without prompts")
	sign := fs.Bool("sign", false, "SIGN mode, to confirm a withdrawal: code, payee digits and amount instead of a challenge")
	code := fs.String("code", "", "SIGN: the 4-digit code shown on the screen")
	payee := fs.String("payee", "", "SIGN: the last four digits of the payee's account")
	amount := fs.String("amount", "", "SIGN: the amount in whole units")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cardPath == "" {
		return errors.New("--card is required")
	}
	raw, err := os.ReadFile(*cardPath)
	if err != nil {
		return err
	}
	card, key, err := dscplus.ParseCardFile(raw)
	if err != nil {
		return err
	}
	if *sign {
		return signMode(card, key, *pin, *code, *payee, *amount, stdin, stdout)
	}
	switch {
	case *fromStdin:
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("reading PIN and challenge: %w", err)
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return errors.New("standard input must hold 'PIN CHALLENGE'")
		}
		*pin, *challenge = f[0], f[1]
	case *pin == "" || *challenge == "":
		fmt.Fprintf(stdout, "Digital Security Card+ %s\n", card.Serial)
		in := bufio.NewReader(stdin)
		if *pin == "" {
			if *pin, err = prompt(stdout, in, "PIN> ", true); err != nil {
				return err
			}
		}
		if *challenge == "" {
			if *challenge, err = prompt(stdout, in, "CHALLNG> ", false); err != nil {
				return err
			}
		}
	}
	resp, err := dscplus.Respond(key, *pin, *challenge)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, resp)
	return nil
}

// prompt reads one line; a secret is not echoed when stdin is a terminal.
func prompt(out io.Writer, in *bufio.Reader, label string, secret bool) (string, error) {
	fmt.Fprint(out, label)
	if secret && term.IsTerminal(int(os.Stdin.Fd())) {
		b, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(out)
		return strings.TrimSpace(string(b)), err
	}
	line, err := in.ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading %s: %w", strings.TrimSuffix(label, "> "), err)
	}
	return strings.TrimSpace(line), nil
}

// signMode asks for what a withdrawal confirmation shows and signs it.
func signMode(card *dscplus.CardFile, key []byte, pin, code, payee, amount string, stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewReader(stdin)
	// From flags, no --amount is a new banking instruction (the account
	// alone); interactively AMOUNT> takes an empty line for it.
	interactive := pin == "" || code == "" || payee == ""
	if interactive {
		fmt.Fprintf(stdout, "Digital Security Card+ %s — SIGN\n", card.Serial)
	}
	for _, f := range []struct {
		v      *string
		label  string
		secret bool
	}{{&pin, "PIN> ", true}, {&code, "CODE> ", false}, {&payee, "PAYEE> ", false}, {&amount, "AMOUNT> ", false}} {
		if *f.v == "" && (interactive || f.v != &amount) {
			var err error
			if *f.v, err = prompt(stdout, in, f.label, f.secret); err != nil {
				return err
			}
		}
	}
	resp, err := dscplus.RespondSign(key, pin, code, payee, amount)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, resp)
	return nil
}
