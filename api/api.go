// Package api holds the OpenAPI description of slsd's JSON API
// (openapi.json, see docs/api.md) and tests that keep it complete and true:
// every route of the server's declared route table must be documented with
// the access it declares (x-sls-access), every documented route must exist,
// and the document must be a valid contract for generating clients.
package api

import _ "embed"

// Document is api/openapi.json, for tests that check answers against it
// (package apitest).
//
//go:embed openapi.json
var Document []byte
