package ibkey

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/notify/webhook"
)

// GatewayEvent is the body posted to the push gateway for each new push:
// only what the gateway needs to wake the right phones. No number, no
// login id, no user name: the app fetches the details over its own
// authenticated connection.
type GatewayEvent struct {
	Type      string    `json:"type"` // "ibkey.push"
	PushID    string    `json:"push_id"`
	Instances []string  `json:"instances"`
	ExpiresAt time.Time `json:"expires_at"`
}

// runGateway hands each new push to the gateway once, whichever node
// claims it first (best effort, like the notification it stands for: the
// app also learns of the push on its own connection).
func (s *Service) runGateway(ctx context.Context) {
	client := &http.Client{Timeout: s.cfg.Gateway.Timeout.D(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t := time.NewTicker(s.cfg.PollInterval.D())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.gatewayOnce(ctx, client); err != nil && ctx.Err() == nil {
			s.log.Warn("ibkey: push gateway", "err", err)
		}
	}
}

func (s *Service) gatewayOnce(ctx context.Context, client *http.Client) error {
	now := s.now()
	var todo []*sls.IBKeyPush
	if err := s.d.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		todo, err = tx.IBKeyPushesForGateway(ctx, now, 50)
		return err
	}); err != nil {
		return err
	}
	for _, p := range todo {
		var won bool
		ev := GatewayEvent{Type: "ibkey.push", PushID: p.ID, ExpiresAt: p.ExpiresAt, Instances: []string{}}
		err := s.d.Store.Update(ctx, func(tx sls.Tx) error {
			var err error
			if won, err = tx.ClaimIBKeyPushGateway(ctx, p.ID, now); err != nil || !won {
				return err
			}
			devs, err := tx.Devices(ctx, p.UserID)
			if err != nil {
				return err
			}
			for _, d := range devs {
				if d.Kind == sls.KindIBKey && d.Usable(now) {
					ev.Instances = append(ev.Instances, d.Serial)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if won {
			if err := s.postGateway(ctx, client, ev); err != nil {
				s.log.Warn("ibkey: push gateway delivery failed", "push_id", p.ID, "err", err)
			}
		}
	}
	return nil
}

func (s *Service) postGateway(ctx context.Context, client *http.Client, ev GatewayEvent) error {
	body, _ := json.Marshal(ev)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.Gateway.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", ev.PushID)
	req.Header.Set("User-Agent", "SLS-ibkey/1")
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(s.cfg.Gateway.secret, time.Now(), body))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("ibkey: gateway answered %d", resp.StatusCode)
	}
	return nil
}
