package ibkey

import (
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"time"

	"github.com/skip2/go-qrcode"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/factor/sms"
	proto "github.com/secure-login-system/sls/ibkey"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/ratelimit"
	"github.com/secure-login-system/sls/seal"
)

// maxSMSAttempts is how many wrong SMS activation codes one Add User
// request takes before it is dead (each also counts toward the user's
// lockout).
const maxSMSAttempts = 3

func ticketPlace(idHash string) seal.Place {
	return seal.Place{Table: "ibkey_tickets", Column: "sealed", Row: idHash}
}

// Ticket returns the activation ticket of a portal session: the one shown
// before while it is unused and unexpired, else a fresh one. Tickets are
// bound to the user and the session; logging out and in gives a new one.
func (s *Service) Ticket(ctx context.Context, ss *sls.Session) (*proto.Ticket, proto.Code, error) {
	now := s.now()
	var code proto.Code
	var expires time.Time
	var has bool
	err := s.d.Store.Update(ctx, func(tx sls.Tx) error {
		code, has = proto.Code{}, false
		if _, err := tx.UserForUpdate(ctx, ss.UserID); err != nil { // one ticket at a time per user
			return err
		}
		devs, err := tx.Devices(ctx, ss.UserID)
		if err != nil {
			return err
		}
		for _, d := range devs {
			has = has || (d.Kind == sls.KindIBKey && d.Usable(now))
		}
		list, err := tx.IBKeyTicketsBySession(ctx, ss.ID)
		if err != nil {
			return err
		}
		for _, t := range list {
			if t.UsedAt.IsZero() && now.Before(t.ExpiresAt) && t.UserID == ss.UserID {
				plain, err := s.d.Sealer.Open(ticketPlace(t.IDHash), t.Sealed)
				if err != nil {
					break // unreadable: issue a fresh one
				}
				if code, err = proto.ParseCode(string(plain)); err == nil {
					expires = t.ExpiresAt
					return nil
				}
				break
			}
		}
		if code, err = proto.NewCode(s.d.Rand); err != nil {
			return err
		}
		t := &sls.IBKeyTicket{IDHash: code.Hash(), Kind: sls.IBKeyTicketQR, UserID: ss.UserID, SessionID: ss.ID,
			CreatedAt: now, ExpiresAt: now.Add(s.cfg.TicketTTL.D())}
		if t.Sealed, err = s.d.Sealer.Seal(ticketPlace(t.IDHash), []byte(code.String())); err != nil {
			return err
		}
		if err := tx.CreateIBKeyTicket(ctx, t); err != nil {
			return err
		}
		expires = t.ExpiresAt
		return sls.Audit(ctx, tx, now, sls.ActorUser(ss.UserID), EventTicketIssued, ss.UserID, "",
			map[string]any{"session_id": ss.ID, "expires_at": t.ExpiresAt})
	})
	if err != nil {
		return nil, proto.Code{}, err
	}
	qr, err := qrcode.New(code.QRPayload(), qrcode.Medium)
	if err != nil {
		return nil, proto.Code{}, err
	}
	return &proto.Ticket{Code: code.Grouped(), QRPayload: code.QRPayload(), QRText: qr.ToSmallString(false), ExpiresAt: expires, HasIBKey: has}, code, nil
}

// QRPNG renders the QR code of an activation string as a PNG image.
func QRPNG(code proto.Code, size int) ([]byte, error) {
	return qrcode.Encode(code.QRPayload(), qrcode.Medium, size)
}

// activation is what Activate learned, for the response.
type activation struct {
	resp proto.ActivateResponse
}

// Activate activates a user on an app instance: a new instance (first
// activation, or migration to a new phone), or an existing one (Add User,
// proven with the instance's key, that is with its PIN). It agrees the
// offline key with the app by X25519 with a fresh server key; the shared
// secret never travels. Refusals are "An error has occurred. Please try
// again." with the reason in the error detail.
func (s *Service) Activate(ctx context.Context, req proto.ActivateRequest, clientIP string) (*proto.ActivateResponse, error) {
	if err := checkActivateRequest(&req); err != nil {
		return nil, err
	}
	// Tickets are guessed online from somewhere: limit per address (NIST
	// SP 800-63B §5.2.2) before the ticket is looked up.
	if err := s.d.Limiter.Take(ctx, ratelimit.ActivationAddress, ratelimit.AddressKey(clientIP)); err != nil {
		return nil, err
	}
	var binding, via string
	if req.Code != "" {
		code, err := proto.ParseCode(req.Code)
		if err != nil {
			return nil, activationFailed("malformed_code")
		}
		binding, via = code.Hash(), sls.IBKeyTicketQR
	} else {
		binding, via = proto.PendingHash(req.PendingID), sls.IBKeyTicketSMS
	}
	// The server's key for this activation; a peer key that cannot agree
	// (low order) is refused before anything changes.
	srv, err := proto.NewDHKey(s.d.Rand)
	if err != nil {
		return nil, err
	}
	if pub, err := ecdh.X25519().NewPublicKey(req.AppDH); err != nil {
		return nil, activationFailed("bad_key")
	} else if _, err := srv.ECDH(pub); err != nil {
		return nil, activationFailed("bad_key")
	}
	now := s.now()
	var out *activation
	var outcome error
	err = s.d.Store.Update(ctx, func(tx sls.Tx) error {
		out, outcome = nil, nil
		refuse := func(reason, userID string) error {
			outcome = activationFailed(reason)
			return sls.Audit(ctx, tx, now, sls.ActorSystem, EventActivationFailed, userID, "",
				map[string]any{"reason": reason, "via": via, "instance_id": req.InstanceID, "ip": clientIP})
		}
		t, err := tx.IBKeyTicketForUpdate(ctx, binding)
		if errors.Is(err, sls.ErrNotFound) || (err == nil && t.Kind != via) {
			return refuse("unknown_ticket", "")
		}
		if err != nil {
			return err
		}
		switch {
		case !t.UsedAt.IsZero():
			return refuse("ticket_used", t.UserID)
		case !now.Before(t.ExpiresAt):
			return refuse("ticket_expired", t.UserID)
		}
		u, err := tx.UserForUpdate(ctx, t.UserID)
		if err != nil {
			return err
		}
		if u.Locked(now) {
			t.UsedAt = now
			if err := tx.PutIBKeyTicket(ctx, t); err != nil {
				return err
			}
			return refuse("locked", u.ID)
		}
		if via == sls.IBKeyTicketSMS {
			if t.InstanceID != req.InstanceID {
				return refuse("unknown_ticket", "")
			}
			if s.d.Codes == nil || !s.d.Codes.Matches(t.CodeHash, req.SMSCode) {
				t.Attempts++
				if t.Attempts >= maxSMSAttempts {
					t.UsedAt = now
				}
				if err := tx.PutIBKeyTicket(ctx, t); err != nil {
					return err
				}
				if _, err := s.countFailure(ctx, tx, u, "", sls.PurposeActivation, "add_user_sms_code", now); err != nil {
					return err
				}
				return refuse("wrong_code", u.ID)
			}
		}
		// From here on the ticket has been used to attempt an activation.
		t.UsedAt = now
		if err := tx.PutIBKeyTicket(ctx, t); err != nil {
			return err
		}
		if via == sls.IBKeyTicketQR {
			ss, err := tx.Session(ctx, t.SessionID)
			if err != nil || !ss.Live(now) {
				return refuse("session_ended", u.ID)
			}
		}
		var in *sls.IBKeyInstance
		var token string
		if req.InstanceID != "" {
			if in, err = tx.IBKeyInstance(ctx, req.InstanceID); errors.Is(err, sls.ErrNotFound) {
				return refuse("unknown_instance", u.ID)
			} else if err != nil {
				return err
			}
			if err := proto.VerifyActivation(ed25519.PublicKey(in.SignPub), in.ID, binding, req.AppDH, req.Signature); err != nil {
				// A wrong PIN on the instance: counted against the users the PIN protects.
				if err := s.countInstanceFailure(ctx, tx, in, now); err != nil {
					return err
				}
				return refuse("bad_unlock", u.ID)
			}
		} else {
			token = sls.NewToken("ibk")
			in = &sls.IBKeyInstance{ID: sls.NewID("ibi"), TokenHash: sls.TokenHash(token), SignPub: req.SignPub,
				Platform: req.Platform, Label: req.Label, CreatedAt: now}
			if err := tx.CreateIBKeyInstance(ctx, in); err != nil {
				return err
			}
		}
		devs, err := tx.Devices(ctx, u.ID)
		if err != nil {
			return err
		}
		var older []*sls.Device
		for _, d := range devs {
			if d.Kind != sls.KindIBKey || (d.State != sls.StateActive && d.State != sls.StateSuspended) {
				continue
			}
			if d.Serial == in.ID {
				return refuse("already_active", u.ID)
			}
			older = append(older, d)
		}
		// Migration: the old instances stop working for this user.
		var migrated []string
		for _, d := range older {
			d.State = sls.StateRevoked
			if err := tx.PutDevice(ctx, d); err != nil {
				return err
			}
			migrated = append(migrated, d.Serial)
			if err := sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventMigrated, u.ID, d.ID,
				map[string]any{"from_instance": d.Serial, "to_instance": in.ID}); err != nil {
				return err
			}
			// The old phone may be lost or sold: what it opened closes.
			if _, err := sls.EndSessions(ctx, tx, sls.SessionFilter{DeviceID: d.ID}, sls.EndDeviceMigrated, sls.ActorUser(u.ID), now); err != nil {
				return err
			}
		}
		pend, err := tx.IBKeyPendingPushes(ctx, []string{u.ID})
		if err != nil {
			return err
		}
		for _, p := range pend {
			if err := s.closePush(ctx, tx, p, sls.PushCancelled, nil, now); err != nil {
				return err
			}
			if err := setLoginPush(ctx, tx, p, false); err != nil {
				return err
			}
		}

		d := &sls.Device{ID: sls.NewID("dev"), UserID: u.ID, Kind: sls.KindIBKey, State: sls.StatePending, Serial: in.ID,
			Label: "SLS Key (" + in.Platform + ")", CreatedAt: now}
		tr := proto.Transcript{Binding: binding, InstanceID: in.ID, UserID: u.ID, DeviceID: d.ID, AppDH: req.AppDH, ServerDH: srv.PublicKey().Bytes()}
		key, confirm, err := proto.Agree(srv, req.AppDH, tr)
		if err != nil {
			return err // checked above: cannot happen
		}
		plain, _ := json.Marshal(secret{Key: key})
		if d.Secret, err = s.d.Sealer.Seal(factor.SecretPlace(d.ID), plain); err != nil {
			return err
		}
		writeDevState(d, devState{})
		if err := tx.CreateDevice(ctx, d); err != nil {
			return err
		}
		if err := s.d.Activate(ctx, tx, sls.ActorUser(u.ID), u, d, now); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventActivated, u.ID, d.ID,
			map[string]any{"instance_id": in.ID, "platform": in.Platform, "via": via, "add_user": req.InstanceID != "", "ip": clientIP}); err != nil {
			return err
		}
		out = &activation{resp: proto.ActivateResponse{InstanceID: in.ID, Token: token, UserID: u.ID, Username: u.Username,
			DeviceID: d.ID, ServerDH: srv.PublicKey().Bytes(), Confirm: confirm, MigratedFrom: migrated}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if outcome != nil {
		return nil, outcome
	}
	// Wake the connections of the instances the user joined and left.
	topics := []string{out.resp.UserID, instanceTopic(out.resp.InstanceID)}
	for _, id := range out.resp.MigratedFrom {
		topics = append(topics, instanceTopic(id))
	}
	s.hub.Poke(topics...)
	return &out.resp, nil
}

func checkActivateRequest(r *proto.ActivateRequest) error {
	bad := func(msg string) error { return sls.Errorf(sls.CodeInvalidArgument, "%s", msg) }
	switch {
	case (r.Code == "") == (r.PendingID == ""):
		return bad("Give either the activation string (code) or the Add User request (pending_id and sms_code).")
	case r.PendingID != "" && (r.SMSCode == "" || r.InstanceID == "" || len(r.PendingID) > 128 || len(r.SMSCode) > 16):
		return bad("Add User by SMS needs pending_id, sms_code and instance_id.")
	case len(r.AppDH) != 32:
		return bad("app_dh must be a 32-byte X25519 public key.")
	case len(r.Label) > 64:
		return bad("The label is too long.")
	}
	if r.InstanceID != "" {
		if len(r.Signature) != ed25519.SignatureSize || len(r.InstanceID) > 64 || r.Platform != "" || r.SignPub != nil {
			return bad("Adding a user to an instance needs the instance's signature, and no new keys.")
		}
		return nil
	}
	if r.Platform != proto.PlatformAndroid && r.Platform != proto.PlatformIOS {
		return bad(`platform must be "android" or "ios".`)
	}
	if len(r.SignPub) != ed25519.PublicKeySize {
		return bad("sign_pub must be a 32-byte Ed25519 public key.")
	}
	return nil
}

// countInstanceFailure counts a wrong PIN on an instance against every
// user whose keys the PIN protects there.
func (s *Service) countInstanceFailure(ctx context.Context, tx sls.Tx, in *sls.IBKeyInstance, now time.Time) error {
	devs, err := tx.IBKeyDevices(ctx, in.ID)
	if err != nil {
		return err
	}
	for _, d := range devs {
		if d.State != sls.StateActive {
			continue
		}
		u, err := tx.UserForUpdate(ctx, d.UserID)
		if err != nil {
			return err
		}
		if _, err := s.countFailure(ctx, tx, u, d.ID, sls.PurposeActivation, "instance_unlock", now); err != nil {
			return err
		}
	}
	return nil
}

// AddUser starts Add User with username and password (SPEC §3 (b)): it
// checks the password like a login does (an unknown user and a wrong
// password look the same, after the same work) and sends an activation
// code by SMS to the user's verified mobile number. The app then
// activates with the pending id, the code and its PIN.
func (s *Service) AddUser(ctx context.Context, in *sls.IBKeyInstance, r proto.AddUserRequest, clientIP string) (*proto.AddUserResponse, error) {
	user, err := s.d.Login().CheckPassword(ctx, r.Username, r.Password, clientIP,
		map[string]any{"via": "ibkey_add_user", "instance_id": in.ID, "ip": clientIP})
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *proto.AddUserResponse
	err = s.d.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, user.ID)
		if err != nil {
			return err
		}
		if u.Locked(now) {
			return sls.ErrLocked
		}
		if u.Mobile == "" || u.MobileVerifiedAt.IsZero() {
			return sls.Errorf(sls.CodeNotEligible, "This user has no verified mobile number. Add the user with the QR code shown in the Client Portal instead.")
		}
		if s.d.Codes == nil {
			return sls.Errorf(sls.CodeUnavailable, "Text messages cannot be sent now. Add the user with the QR code shown in the Client Portal instead.")
		}
		// The SMS rules apply: caps per user, number and country against
		// SMS pumping; a capped request sends nothing. The resend interval
		// counts from the last Add User code (its ticket), so asking again
		// within it sends nothing (SPEC §1).
		last, err := tx.LastIBKeyTicketAt(ctx, u.ID, sls.IBKeyTicketSMS)
		if err != nil {
			return err
		}
		hash, err := s.d.Codes.Send(ctx, tx, u, clientIP, u.Mobile, notify.ChannelSMS, notify.KindIBKeyActivationCode, last, now)
		if err != nil {
			return err
		}
		pendingID := sls.NewToken("ibpend")
		t := &sls.IBKeyTicket{IDHash: proto.PendingHash(pendingID), Kind: sls.IBKeyTicketSMS, UserID: u.ID, InstanceID: in.ID,
			CodeHash: hash, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SMSCodeTTL.D())}
		if err := tx.CreateIBKeyTicket(ctx, t); err != nil {
			return err
		}
		out = &proto.AddUserResponse{PendingID: pendingID, SentTo: sms.MaskNumber(u.Mobile), ExpiresAt: t.ExpiresAt}
		return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventAddUserCodeSent, u.ID, "",
			map[string]any{"instance_id": in.ID, "to": sms.MaskNumber(u.Mobile), "ip": clientIP})
	})
	return out, err
}
