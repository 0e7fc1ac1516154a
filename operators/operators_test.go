package operators

import (
	"testing"
	"time"
)

func TestConfigChecks(t *testing.T) {
	c, err := Config{}.WithDefaults()
	if err != nil || c.TokenTTL != 8*time.Hour || c.ApprovalWindow != 30*time.Minute {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	for _, bad := range []Config{
		{TokenTTL: 13 * time.Hour},
		{TokenTTL: time.Second},
		{ApprovalWindow: 25 * time.Hour},
		{DualControl: map[string]bool{"user.delete_everything": false}},
	} {
		if _, err := bad.WithDefaults(); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

func TestDualControlDefaults(t *testing.T) {
	s := &Service{}
	for _, a := range Actions {
		if got := s.NeedsApproval(a); got != DefaultDualControl[a] {
			t.Errorf("%s: %v", a, got)
		}
	}
	if s.NeedsApproval("") {
		t.Error("a route with no action needs approval")
	}
	s.Config.DualControl = map[string]bool{ActionUnlock: false, ActionOperatorOff: true}
	if s.NeedsApproval(ActionUnlock) || !s.NeedsApproval(ActionOperatorOff) || !s.NeedsApproval(ActionTempPasscode) {
		t.Error("configuration not applied")
	}
}

func TestRequestHashBindsEverything(t *testing.T) {
	base := RequestHash("POST", "/api/v1/ops/users/a/unlock", []byte(`{}`))
	for _, other := range []string{
		RequestHash("PUT", "/api/v1/ops/users/a/unlock", []byte(`{}`)),
		RequestHash("POST", "/api/v1/ops/users/b/unlock", []byte(`{}`)),
		RequestHash("POST", "/api/v1/ops/users/a/unlock", []byte(`{ }`)),
		RequestHash("POST", "/api/v1/ops/users/a/unlock\x00", []byte(`{}`)),
	} {
		if other == base {
			t.Fatal("two requests share a hash")
		}
	}
}
