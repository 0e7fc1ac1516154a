package messages

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/seal"
)

// TicketView is a ticket as the Message Center shows it.
type TicketView struct {
	ID         string    `json:"id"`
	Subject    string    `json:"subject"`
	Body       string    `json:"body"`
	Diagnostic string    `json:"diagnostic_ref,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

func ticketPlace(id string) seal.Place {
	return seal.Place{Table: "tickets", Column: "body_sealed", Row: id}
}

// errNoSuchBundle answers a reference that is not the client's: unknown,
// purged and someone else's get the same words, so the ticket form
// reveals no one's bundles.
var errNoSuchBundle = sls.Errorf(sls.CodeNotFound,
	"No diagnostics bundle with this reference was uploaded under your username. Check the reference in the platform's confirmation.").
	WithDetail("field", "diagnostic_ref")

// OpenTicket opens a ticket to Client Services for u. A diagnostics
// reference, when given, must be a bundle u uploaded (from a session, or
// from the login screen under u's username); the bundle is then linked
// to the ticket, which is what gets an unmonitored upload noticed.
func (s *Service) OpenTicket(ctx context.Context, u *sls.User, subject, body, ref string) (*TicketView, error) {
	subject, body, ref = strings.TrimSpace(subject), strings.TrimSpace(body), strings.TrimSpace(ref)
	if subject == "" || utf8.RuneCountInString(subject) > 160 || !utf8.ValidString(subject) {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "A subject of 1 to 160 characters is required.").WithDetail("field", "subject")
	}
	if body == "" || len(body) > 32<<10 || !utf8.ValidString(body) {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "A message of 1 byte to 32 KiB is required.").WithDetail("field", "body")
	}
	if ref != "" {
		r, ok := sls.ParseDiagnosticRef(ref)
		if !ok {
			return nil, sls.Errorf(sls.CodeInvalidArgument, "A diagnostics reference looks like D-XXXX-XXXX.").WithDetail("field", "diagnostic_ref")
		}
		ref = r
	}
	now := s.Clock.Now()
	id := sls.NewID("tkt")
	sealed, err := s.Sealer.Seal(ticketPlace(id), []byte(body))
	if err != nil {
		return nil, err
	}
	username := strings.ToLower(strings.TrimSpace(u.Username))
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		if ref != "" {
			d, err := tx.DiagnosticForUpdate(ctx, ref)
			if errors.Is(err, sls.ErrNotFound) || (err == nil && !d.UploadedBy(u, username)) {
				return errNoSuchBundle
			}
			if err != nil {
				return err
			}
			d.TicketID = id
			if err := tx.PutDiagnostic(ctx, d); err != nil {
				return err
			}
		}
		if err := tx.CreateTicket(ctx, &sls.Ticket{ID: id, UserID: u.ID, Subject: subject, SealedBody: sealed, Diagnostic: ref, CreatedAt: now}); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), sls.EventTicketOpened, u.ID, "", map[string]any{"ticket_id": id, "diagnostic_ref": ref})
	})
	if err != nil {
		return nil, err
	}
	return &TicketView{ID: id, Subject: subject, Body: body, Diagnostic: ref, CreatedAt: now}, nil
}

// Tickets lists the user's tickets with their bodies, newest first.
func (s *Service) Tickets(ctx context.Context, userID string) ([]TicketView, error) {
	out := []TicketView{}
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		list, err := tx.Tickets(ctx, userID)
		if err != nil {
			return err
		}
		for _, t := range list {
			body, err := s.Sealer.Open(ticketPlace(t.ID), t.SealedBody)
			if err != nil {
				return err
			}
			out = append(out, TicketView{ID: t.ID, Subject: t.Subject, Body: string(body), Diagnostic: t.Diagnostic, CreatedAt: t.CreatedAt})
		}
		return nil
	})
	return out, err
}
