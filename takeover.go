package sls

import (
	"context"
	"time"
)

// Account-takeover protection (docs/design.md, "After a security
// change"): a security change starts a cool-down during which money
// movement is held to a lower tier, and every notice of such a change
// carries a "this wasn't me" report link.

// Security changes that start a cool-down.
const (
	ChangeDeviceAdded   = "device_added"   // a device was activated beside others, or replaced one
	ChangePasswordReset = "password_reset" // the password was reset through Client Services
	ChangeMobileChanged = "mobile_changed" // the mobile number (SMS device) changed
)

// CoolDown holds a user's money movement to the cool-down tier after a
// security change until Until.
type CoolDown struct {
	UserID    string
	Reason    string // ChangeDeviceAdded, …
	StartedAt time.Time
	Until     time.Time
}

// Active reports whether the cool-down holds at now.
func (c *CoolDown) Active(now time.Time) bool { return c != nil && now.Before(c.Until) }

// CoolDownStore keeps cool-downs, one per user.
type CoolDownStore interface {
	// CoolDown returns the user's cool-down; ErrNotFound when there is none.
	CoolDown(ctx context.Context, userID string) (*CoolDown, error)
	// PutCoolDown creates or replaces the user's cool-down.
	PutCoolDown(ctx context.Context, c *CoolDown) error
	// DeleteCoolDown ends the user's cool-down (none: no error).
	DeleteCoolDown(ctx context.Context, userID string) error
}

// ReportLink is a single-use "this wasn't me" link sent in one security
// notice. Its token goes only to the user's own channels; the database
// keeps its keyed hash.
type ReportLink struct {
	TokenHash string
	UserID    string
	// Notice is the kind of notice that carried it.
	Notice    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// ReportLinkStore keeps report links.
type ReportLinkStore interface {
	CreateReportLink(ctx context.Context, l *ReportLink) error
	// ReportLinkForUpdate returns the link, its row locked; ErrNotFound
	// when there is none.
	ReportLinkForUpdate(ctx context.Context, tokenHash string) (*ReportLink, error)
	// SpendReportLink marks the link used at.
	SpendReportLink(ctx context.Context, tokenHash string, at time.Time) error
	// PurgeReportLinks deletes links that expired before.
	PurgeReportLinks(ctx context.Context, before time.Time) (int, error)
}

// Audit events of account-takeover protection.
const (
	EventCoolDownStarted  = "cool_down.started"
	EventCoolDownCleared  = "cool_down.cleared"
	EventTakeoverReported = "takeover.reported"
)

// EndTakeoverReported ends the sessions of a user who reported that a
// change or a login was not theirs.
const EndTakeoverReported SessionEndReason = "takeover_reported"
