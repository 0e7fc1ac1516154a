package sls

import (
	"fmt"
	"slices"
	"strings"
)

// Role is what an operator may do. Operator routes name the roles that
// admit them (ForRoles), so each operator holds only the rights their work
// needs (least privilege, OWASP ASVS 4.0.3 V1.4.3 and V4.1.3).
type Role string

// Roles.
const (
	// RoleClientServices: identity-verified actions for a client on the
	// phone: temporary passcodes, unlocking, sessions, messages, users.
	RoleClientServices Role = "client-services"
	// RoleSecurityTeam: devices, sharing, withdrawal limits and rates,
	// IP restrictions.
	RoleSecurityTeam Role = "security-team"
	// RoleShipping: device orders, shipping, deliveries and returns.
	RoleShipping Role = "shipping"
	// RoleReporting: statement delivery (SFTP/FTP clients, keys,
	// statements).
	RoleReporting Role = "reporting-integration"
	// RoleAuditor: reads only, and the audit trail and its export.
	RoleAuditor Role = "auditor"
	// RoleAdmin: operators, keys and the audit trail's signing.
	RoleAdmin Role = "admin"
)

// AllRoles lists every role, in the order documents show them.
var AllRoles = []Role{RoleClientServices, RoleSecurityTeam, RoleShipping, RoleReporting, RoleAuditor, RoleAdmin}

// ParseRoles reads a comma-separated list of roles ("all" is every role),
// refusing an unknown one and returning them deduplicated in AllRoles
// order.
func ParseRoles(s string) ([]Role, error) {
	var out []Role
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
			continue
		case f == "all":
			return slices.Clone(AllRoles), nil
		case !slices.Contains(AllRoles, Role(f)):
			return nil, Errorf(CodeInvalidArgument, "Unknown role %q (roles: %s).", f, rolesText(AllRoles))
		}
		out = append(out, Role(f))
	}
	if len(out) == 0 {
		return nil, Errorf(CodeInvalidArgument, "Name at least one role (roles: %s).", rolesText(AllRoles))
	}
	return NormalizeRoles(out), nil
}

// NormalizeRoles returns roles deduplicated in AllRoles order, dropping
// unknown ones.
func NormalizeRoles(roles []Role) []Role {
	var out []Role
	for _, r := range AllRoles {
		if slices.Contains(roles, r) {
			out = append(out, r)
		}
	}
	return out
}

func rolesText(roles []Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// RolesString is the roles joined by commas (the stored form).
func RolesString(roles []Role) string {
	n := NormalizeRoles(roles)
	s := make([]string, len(n))
	for i, r := range n {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// RolesText is the roles for people: joined by ", ".
func RolesText(roles []Role) string { return rolesText(NormalizeRoles(roles)) }

// MustRoles is ParseRoles for constants; it panics on a bad list.
func MustRoles(s string) []Role {
	r, err := ParseRoles(s)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return r
}
