// Package messages is the message center: secure messages to a client,
// whose body is kept sealed and shown only in the message center, while
// email and SMS carry a summary and nothing more (SPEC §8). The rule is
// enforced by types: the notice is built from a notify.SecureMessage,
// whose body no outbound path can read.
package messages

import (
	"context"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/seal"
)

// Service sends and lists secure messages.
type Service struct {
	Store    sls.Store
	Sealer   *seal.Sealer
	Notifier sls.Notifier
	Clock    sls.Clock
}

func bodyPlace(id string) seal.Place {
	return seal.Place{Table: "secure_messages", Column: "body_sealed", Row: id}
}

// Message is a message as the message center shows it.
type Message struct {
	ID        string    `json:"id"`
	Summary   string    `json:"summary"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// EventSecureMessage is the audit event of a message sent.
const EventSecureMessage = "message.sent"

// Send stores a secure message for the user and notifies the user through
// the preferred channels with its summary only.
func (s *Service) Send(ctx context.Context, actor, userID, summary, body string) (*Message, error) {
	summary, body = strings.TrimSpace(summary), strings.TrimSpace(body)
	if summary == "" || len([]rune(summary)) > 160 {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "A summary of 1 to 160 characters is required.")
	}
	if body == "" || len(body) > 32<<10 {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "A body of 1 byte to 32 KiB is required.")
	}
	now := s.Clock.Now()
	id := sls.NewID("smsg")
	msg := notify.NewSecureMessage(id, summary, body)
	sealed, err := s.Sealer.Seal(bodyPlace(id), []byte(msg.BodyForMessageCenter()))
	if err != nil {
		return nil, err
	}
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		if err := tx.CreateSecureMessage(ctx, &sls.SecureMessage{ID: id, UserID: userID, Summary: summary, SealedBody: sealed, CreatedAt: now}); err != nil {
			return err
		}
		if err := s.Notifier.Notify(ctx, tx, Notice(userID, msg)); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, EventSecureMessage, userID, "", map[string]any{"message_id": id})
	})
	if err != nil {
		return nil, err
	}
	return &Message{ID: id, Summary: summary, Body: body, CreatedAt: now}, nil
}

// Notice is the notification of a secure message: its summary, never its
// body (a notify.SecureMessage does not give the body to anything but the
// message center).
func Notice(userID string, msg notify.SecureMessage) sls.Notification {
	return sls.Notification{UserID: userID, Kind: sls.NoteSecureMessage, Data: map[string]string{"Summary": msg.Summary}}
}

// List returns the user's messages with their bodies, for the message
// center.
func (s *Service) List(ctx context.Context, userID string) ([]Message, error) {
	var out []Message
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		list, err := tx.SecureMessages(ctx, userID)
		if err != nil {
			return err
		}
		for _, m := range list {
			body, err := s.Sealer.Open(bodyPlace(m.ID), m.SealedBody)
			if err != nil {
				return err
			}
			out = append(out, Message{ID: m.ID, Summary: m.Summary, Body: string(body), CreatedAt: m.CreatedAt})
		}
		return nil
	})
	return out, err
}
