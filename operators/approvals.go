package operators

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
)

// NeedsApproval reports whether action is under dual control: as the
// configuration says, else as DefaultDualControl says.
func (s *Service) NeedsApproval(action string) bool {
	if action == "" {
		return false
	}
	if on, ok := s.Config.DualControl[action]; ok {
		return on
	}
	return DefaultDualControl[action]
}

// Request is one operator request to an action under dual control.
type Request struct {
	Operator   *sls.Operator
	Action     string
	Roles      []sls.Role // the roles the route admits: approvers hold one
	Method     string
	Path       string // with the query
	Body       []byte
	ApprovalID string // the approval the operator presents (header X-SLS-Approval)
}

// Gate lets an operator's request through dual control. Without an
// approval it records a request for one and refuses with
// approval_required (the detail names the approval); with an approved
// approval of the same operator for the same request, it spends the
// approval and lets the request through (nil). A single operator with
// nobody who could approve is refused (fail closed), except while they
// are the only operator there has ever been and the action is on
// operators: the bootstrap, when there is nobody else yet. (Disabling
// everyone else does not bring that back: disabled operators count.)
func (s *Service) Gate(ctx context.Context, r Request) error {
	if !s.NeedsApproval(r.Action) {
		return nil
	}
	hash := RequestHash(r.Method, r.Path, r.Body)
	var refusal error
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		refusal = nil
		now := s.now()
		actor := Actor(r.Operator.Name)
		if r.ApprovalID != "" {
			a, err := tx.ApprovalForUpdate(ctx, r.ApprovalID)
			if errors.Is(err, sls.ErrNotFound) {
				refusal = sls.Errorf(sls.CodeNotFound, "No approval %q.", r.ApprovalID)
				return nil
			}
			if err != nil {
				return err
			}
			if subtle.ConstantTimeCompare([]byte(a.MAC), []byte(s.approvalMAC(a))) != 1 {
				return fmt.Errorf("%w: approval %s", errTampered, a.ID)
			}
			switch {
			case a.RequestedBy != r.Operator.Name:
				refusal = sls.Errorf(sls.CodeForbidden, "Approval %s was asked for by another operator.", a.ID)
			case a.Action != r.Action || subtle.ConstantTimeCompare([]byte(a.RequestHash), []byte(hash)) != 1:
				refusal = sls.Errorf(sls.CodeForbidden, "Approval %s was given for a different request; send exactly the request that was approved.", a.ID)
			case a.State == sls.ApprovalPending:
				refusal = sls.Errorf(sls.CodeApprovalRequired, "Approval %s is still waiting for a second operator.", a.ID).
					WithDetail("approval_id", a.ID).WithDetail("action", a.Action)
			case a.State != sls.ApprovalApproved:
				refusal = sls.Errorf(sls.CodeConflict, "Approval %s is %s.", a.ID, a.State)
			case !now.Before(a.ExpiresAt):
				refusal = sls.Errorf(sls.CodeConflict, "Approval %s expired; ask again.", a.ID)
			}
			if refusal != nil {
				return nil
			}
			a.State, a.UsedAt = sls.ApprovalUsed, now
			a.MAC = s.approvalMAC(a)
			if err := tx.PutApproval(ctx, a); err != nil {
				return err
			}
			return sls.Audit(ctx, tx, now, actor, EventApprovalUsed, "", "",
				map[string]any{"approval": a.ID, "action": a.Action, "path": a.Path, "approved_by": a.DecidedBy})
		}
		approvers, total, err := s.approvers(ctx, tx, r.Operator.Name, r.Roles)
		if err != nil {
			return err
		}
		if approvers == 0 {
			if total == 1 && strings.HasPrefix(r.Action, "operator.") {
				return sls.Audit(ctx, tx, now, actor, EventApprovalUsed, "", "",
					map[string]any{"action": r.Action, "path": r.Path, "approved_by": "", "reason": "only operator"})
			}
			refusal = sls.Errorf(sls.CodeForbidden, "This needs a second operator's approval, and no other operator holds one of the roles %s.", sls.RolesText(r.Roles))
			return nil
		}
		a := &sls.Approval{ID: sls.NewID("apr"), Action: r.Action, Method: r.Method, Path: r.Path, RequestHash: hash, Roles: r.Roles,
			RequestedBy: r.Operator.Name, CreatedAt: now, ExpiresAt: now.Add(s.Config.ApprovalWindow), State: sls.ApprovalPending}
		a.MAC = s.approvalMAC(a)
		if err := tx.CreateApproval(ctx, a); err != nil {
			return err
		}
		refusal = sls.Errorf(sls.CodeApprovalRequired, "This needs a second operator's approval: approval %s is waiting until %s.", a.ID, a.ExpiresAt.Format(time.RFC3339)).
			WithDetail("approval_id", a.ID).WithDetail("action", a.Action).WithDetail("expires_at", a.ExpiresAt.Format(time.RFC3339))
		return sls.Audit(ctx, tx, now, actor, EventApprovalAsked, "", "", map[string]any{"approval": a.ID, "action": a.Action, "path": a.Path})
	})
	if err != nil {
		return err
	}
	return refusal
}

// approvers counts the enabled operators other than name who hold one of
// roles, and all operators, disabled ones too.
func (s *Service) approvers(ctx context.Context, tx sls.Tx, name string, roles []sls.Role) (approvers, total int, err error) {
	list, err := tx.Operators(ctx)
	if err != nil {
		return 0, 0, err
	}
	total = len(list)
	for _, o := range list {
		if o.Disabled() || s.checkRow(o) != nil {
			continue
		}
		if o.Name != name && slices.ContainsFunc(o.Roles, func(r sls.Role) bool { return slices.Contains(roles, r) }) {
			approvers++
		}
	}
	return approvers, total, nil
}

// Decide approves or denies a pending approval. The approver must be
// another operator holding one of the roles of the request; the operator
// who asked may deny (withdraw) their own request.
func (s *Service) Decide(ctx context.Context, by *sls.Operator, id string, approve bool) (*sls.Approval, error) {
	var a *sls.Approval
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		now := s.now()
		var err error
		if a, err = tx.ApprovalForUpdate(ctx, id); errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "No approval %q.", id)
		} else if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(a.MAC), []byte(s.approvalMAC(a))) != 1 {
			return fmt.Errorf("%w: approval %s", errTampered, a.ID)
		}
		own := a.RequestedBy == by.Name
		switch {
		case a.State != sls.ApprovalPending:
			return sls.Errorf(sls.CodeConflict, "Approval %s is %s already.", a.ID, a.State)
		case !now.Before(a.ExpiresAt):
			return sls.Errorf(sls.CodeConflict, "Approval %s expired.", a.ID)
		case own && approve:
			// Dual control: two different people (OWASP ASVS 4.0.3 V1.11.3 / NIST SP 800-53 AC-5).
			return sls.Errorf(sls.CodeForbidden, "An operator cannot approve their own request.")
		case !own && !slices.ContainsFunc(by.Roles, func(r sls.Role) bool { return slices.Contains(a.Roles, r) }):
			return sls.Errorf(sls.CodeForbidden, "Approving this needs one of the roles %s.", sls.RolesText(a.Roles))
		}
		event := EventApprovalGranted
		a.State = sls.ApprovalApproved
		if !approve {
			event, a.State = EventApprovalDenied, sls.ApprovalDenied
		}
		a.DecidedBy, a.DecidedAt = by.Name, now
		// The approval may be used for the rest of its window, at least a
		// few minutes after it is given.
		if min := now.Add(5 * time.Minute); approve && a.ExpiresAt.Before(min) {
			a.ExpiresAt = min
		}
		a.MAC = s.approvalMAC(a)
		if err := tx.PutApproval(ctx, a); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, Actor(by.Name), event, "", "",
			map[string]any{"approval": a.ID, "action": a.Action, "path": a.Path, "requested_by": a.RequestedBy})
	})
	return a, err
}

// Approvals lists the newest approvals in state (empty: pending; "all":
// every state).
func (s *Service) Approvals(ctx context.Context, state sls.ApprovalState) ([]*sls.Approval, error) {
	switch state {
	case "":
		state = sls.ApprovalPending
	case "all":
		state = ""
	case sls.ApprovalPending, sls.ApprovalApproved, sls.ApprovalDenied, sls.ApprovalUsed:
	default:
		return nil, sls.Errorf(sls.CodeInvalidArgument, "Unknown approval state %q (pending, approved, denied, used, all).", state)
	}
	var list []*sls.Approval
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		list, err = tx.Approvals(ctx, state, 200)
		return err
	})
	if list == nil {
		list = []*sls.Approval{}
	}
	return list, err
}
