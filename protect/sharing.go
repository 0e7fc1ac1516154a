package protect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/policy"
)

// SharingAnswer is the answer to "may these users share one device".
type SharingAnswer struct {
	Allowed    bool           `json:"allowed"`
	Usernames  []string       `json:"usernames"`
	DeviceKind sls.DeviceKind `json:"device_kind"`
	Condition  string         `json:"condition,omitempty"`
	Message    string         `json:"message,omitempty"`
	Detail     map[string]any `json:"detail,omitempty"`
	// Devices lists the device rows created by Share.
	Devices []*sls.Device `json:"devices,omitempty"`
}

func (s *Service) openIdentity(u *sls.User) (sls.Identity, error) {
	var id sls.Identity
	if len(u.SealedIdentity) == 0 {
		return id, nil
	}
	b, err := s.Sealer.Open(manage.IdentityPlace(u.ID), u.SealedIdentity)
	if err != nil {
		return id, fmt.Errorf("protect: identity of %s: %w", u.ID, err)
	}
	return id, json.Unmarshal(b, &id)
}

// sharingUsers loads what the sharing rule needs about each user.
func (s *Service) sharingUsers(ctx context.Context, tx sls.Tx, users []*sls.User, now time.Time) ([]policy.SharingUser, error) {
	out := make([]policy.SharingUser, 0, len(users))
	for _, u := range users {
		id, err := s.openIdentity(u)
		if err != nil {
			return nil, err
		}
		devs, err := tx.Devices(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		var kinds []sls.DeviceKind
		for _, d := range devs {
			if d.Usable(now) {
				kinds = append(kinds, d.Kind)
			}
		}
		out = append(out, policy.SharingUser{Username: u.Username, Identity: id, Devices: kinds, InSLS: inSLS(u)})
	}
	return out, nil
}

func sharingAnswer(names []string, kind sls.DeviceKind, err error) *SharingAnswer {
	a := &SharingAnswer{Allowed: err == nil, Usernames: names, DeviceKind: kind}
	var e *sls.Error
	if errors.As(err, &e) {
		a.Message = e.Message
		a.Condition, _ = e.Detail[policy.DetailCondition].(string)
		a.Detail = map[string]any{}
		for k, v := range e.Detail {
			if k != policy.DetailCondition {
				a.Detail[k] = v
			}
		}
	}
	return a
}

// CheckSharing answers whether the named users may share one physical
// device of kind (SPEC §5): the same person by identity data, no temporary
// device among them, and the shared device the highest protection any of
// them holds. A refusal names the condition that failed.
func (s *Service) CheckSharing(ctx context.Context, usernames []string, kind sls.DeviceKind) (*SharingAnswer, error) {
	names := normUsernames(usernames)
	if len(names) < 2 || len(names) > 20 {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "Name 2 to 20 distinct users.")
	}
	now := s.now()
	var out *SharingAnswer
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var users []*sls.User
		for _, n := range names {
			u, err := manage.LookupUser(ctx, tx, n)
			if err != nil {
				return err
			}
			users = append(users, u)
		}
		su, err := s.sharingUsers(ctx, tx, users, now)
		if err != nil {
			return err
		}
		out = sharingAnswer(usernamesOf(users), kind, policy.CanShareDevice(su, kind))
		return nil
	})
	return out, err
}

func usernamesOf(us []*sls.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Username
	}
	return out
}

// shareable kinds keep their whole secret sealed per device row, so a copy
// for another user answers exactly like the original.
func shareable(k sls.DeviceKind) bool { return k == sls.KindDSCPlus || k == sls.KindCodeCard }

// Share lets the named users use the physical device deviceID too, after
// CheckSharing's conditions: each gets its own device row with the same
// serial and a copy of the secret sealed for that row, activated through
// package manage (audit, hooks). Operators only: they verified that the
// usernames belong to one person.
func (s *Service) Share(ctx context.Context, actor, deviceID string, usernames []string) (*SharingAnswer, error) {
	names := normUsernames(usernames)
	if len(names) < 1 || len(names) > 20 {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "Name 1 to 20 users to share the device with.")
	}
	if s.Devices == nil {
		return nil, sls.Errorf(sls.CodeUnavailable, "Device sharing is not available.")
	}
	now := s.now()
	var out *SharingAnswer
	var refused error
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		out, refused = nil, nil
		d, err := tx.Device(ctx, deviceID)
		if errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "No device %q.", deviceID)
		}
		if err != nil {
			return err
		}
		if !d.Usable(now) {
			return sls.Errorf(sls.CodeConflict, "Only an active device can be shared; this one is %s.", d.State)
		}
		owner, err := tx.User(ctx, d.UserID)
		if err != nil {
			return err
		}
		users := []*sls.User{owner}
		for _, n := range names {
			u, err := manage.LookupUser(ctx, tx, n)
			if err != nil {
				return err
			}
			if u.ID == owner.ID {
				return sls.Errorf(sls.CodeInvalidArgument, "%s already holds this device.", u.Username)
			}
			users = append(users, u)
		}
		// Lock in id order so that two operators sharing among the same
		// users cannot deadlock.
		locked := slices.Clone(users)
		slices.SortFunc(locked, func(a, b *sls.User) int { return strings.Compare(a.ID, b.ID) })
		for i, u := range locked {
			if locked[i], err = tx.UserForUpdate(ctx, u.ID); err != nil {
				return err
			}
		}
		su, err := s.sharingUsers(ctx, tx, users, now)
		if err != nil {
			return err
		}
		if err := policy.CanShareDevice(su, d.Kind); err != nil {
			out, refused = sharingAnswer(usernamesOf(users), d.Kind, err), err
			return nil
		}
		if !shareable(d.Kind) {
			return sls.Errorf(sls.CodeNotEligible, "A %s cannot be shared by this system (only the Digital Security Card+ and the Security Code Card).", d.Kind.Title()).
				WithDetail(policy.DetailCondition, policy.CondNotShareable)
		}
		plain, err := factor.OpenSecret(s.Sealer, d)
		if err != nil {
			return err
		}
		out = sharingAnswer(usernamesOf(users), d.Kind, nil)
		for _, u := range users[1:] {
			for _, l := range locked {
				if l.ID == u.ID {
					u = l
				}
			}
			nd := &sls.Device{ID: sls.NewID("dev"), UserID: u.ID, Kind: d.Kind, State: sls.StatePending, Serial: d.Serial,
				Label: "shared with " + owner.Username, CreatedAt: now}
			if nd.Secret, err = s.Sealer.Seal(factor.SecretPlace(nd.ID), plain); err != nil {
				return err
			}
			if err := tx.CreateDevice(ctx, nd); err != nil {
				return err
			}
			if err := sls.Audit(ctx, tx, now, actor, EventDeviceShared, u.ID, nd.ID,
				map[string]any{"kind": d.Kind, "serial": d.Serial, "source_device": d.ID, "owner": owner.Username}); err != nil {
				return err
			}
			if err := s.Devices.ActivateInTx(ctx, tx, actor, u, nd, now); err != nil {
				return err
			}
			out.Devices = append(out.Devices, nd)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, refused
}
