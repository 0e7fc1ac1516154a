// Package sls holds the domain of the Secure Login System: accounts, users,
// security devices, login transactions, sessions and the audit trail, the
// interfaces the rest of the program implements, and the stable error codes
// every caller sees.
//
// The root package has no dependencies on databases, HTTP or any other
// technology; those live in sub-packages (sqlstore, httpapi, portal, sftpd, …)
// that implement or consume what is declared here.
package sls
