package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
)

// openAPIBody is what api/openapi.json says about one operation that may
// take a body.
type openAPIBody struct {
	method, path string
	access       string // x-sls-access: "anyone", "client, …", "operator", "app"
	mediaType    string // "" when the operation declares no body
	schema       jsonSchema
}

type jsonSchema struct {
	Type       string                `json:"type"`
	Properties map[string]jsonSchema `json:"properties"`
	Required   []string              `json:"required"`
}

// bodyOperations reads every POST, PUT, PATCH and DELETE of the OpenAPI
// file: the description clients are written against, so a route added
// there is swept without touching this test.
func bodyOperations(t *testing.T) []openAPIBody {
	t.Helper()
	raw, err := os.ReadFile("../api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Access      string `json:"x-sls-access"`
			RequestBody *struct {
				Content map[string]struct {
					Schema jsonSchema `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var out []openAPIBody
	for path, ops := range doc.Paths {
		for method, op := range ops {
			method = strings.ToUpper(method)
			switch method {
			case "POST", "PUT", "PATCH", "DELETE":
			default:
				continue
			}
			b := openAPIBody{method: method, path: path, access: op.Access}
			if op.RequestBody != nil {
				if len(op.RequestBody.Content) != 1 {
					t.Errorf("%s %s: %d media types; the sweep knows one per operation", method, path, len(op.RequestBody.Content))
				}
				for mt, c := range op.RequestBody.Content {
					b.mediaType, b.schema = mt, c.Schema
				}
			}
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].method+out[i].path < out[j].method+out[j].path })
	return out
}

// plausible is a JSON value of the schema's type.
func plausible(s jsonSchema) string {
	switch s.Type {
	case "integer", "number":
		return `1`
	case "boolean":
		return `true`
	case "array":
		return `[]`
	case "object":
		return `{}`
	}
	return `"x"`
}

// wrongType is a JSON value of another type than the schema's.
func wrongType(s jsonSchema) string {
	switch s.Type {
	case "string":
		return `12345`
	case "integer", "number":
		return `"12"`
	case "boolean":
		return `"true"`
	case "array":
		return `"10.0.0.0/8"`
	case "object":
		return `["x"]`
	}
	return ""
}

// TestSchemaBodiesChangeNothing derives bodies from each operation's
// schema in api/openapi.json and sends them with the right caller: the
// empty object where fields are required, each required field left out
// or null while the others are there, each field with a value of the
// wrong type. None may act: the answer is
// a refusal (400, or 401 for app routes, which need an instance
// signature before the body is read) and neither the audit
// trail nor the outbox grows. An operation whose caller or body the test
// cannot classify fails it, so a new route is covered or noticed.
func TestSchemaBodiesChangeNothing(t *testing.T) {
	sw := newSweep(t)
	ops := bodyOperations(t)
	if len(ops) < 50 {
		t.Fatalf("only %d operations with a body method in api/openapi.json", len(ops))
	}
	sent := 0
	for _, op := range ops {
		auth := ""
		caller, _, _ := strings.Cut(op.access, ",")
		caller, _, _ = strings.Cut(caller, " ") // "operator (roles…)"
		switch caller {
		case "anyone", "app":
		case "client":
			auth = sw.client()
		case "operator":
			auth = sw.operator
		default:
			t.Errorf("%s %s: caller %q unknown to the sweep", op.method, op.path, op.access)
			continue
		}
		var bodies []string
		switch op.mediaType {
		case "":
			continue // no body: the garbage sweep covers it (TestMalformedBodiesChangeNothing)
		case "application/json":
		case "application/pgp-keys", "application/octet-stream", "multipart/form-data":
			continue // not JSON: checked with its feature (sftp, diagnostics tests)
		default:
			t.Errorf("%s %s: media type %q unknown to the sweep", op.method, op.path, op.mediaType)
			continue
		}
		if op.schema.Type != "object" {
			t.Errorf("%s %s: a JSON body that is not an object (%q)", op.method, op.path, op.schema.Type)
			continue
		}
		if len(op.schema.Required) > 0 {
			bodies = append(bodies, `{}`)
		}
		for _, f := range op.schema.Required {
			// Every other required field present, f left out or null.
			others := map[string]json.RawMessage{}
			for _, g := range op.schema.Required {
				if g != f {
					others[g] = json.RawMessage(plausible(op.schema.Properties[g]))
				}
			}
			without, _ := json.Marshal(others)
			others[f] = json.RawMessage("null")
			asNull, _ := json.Marshal(others)
			bodies = append(bodies, string(without), string(asNull))
		}
		names := make([]string, 0, len(op.schema.Properties))
		for name := range op.schema.Properties {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if v := wrongType(op.schema.Properties[name]); v != "" {
				bodies = append(bodies, fmt.Sprintf(`{%q:%s}`, name, v))
			}
		}
		path := pathParam.ReplaceAllString(op.path, "x")
		for _, body := range bodies {
			a0, m0 := sw.state()
			status, raw := sendBody(t, op.method, sw.base+path, auth, body)
			sent++
			want := http.StatusBadRequest
			if strings.HasPrefix(op.access, "app") {
				want = http.StatusUnauthorized // no instance signature: refused before the body
			}
			if status != want {
				t.Errorf("%s %s with %s: %d %s, want %d", op.method, op.path, body, status, raw, want)
			}
			if a1, m1 := sw.state(); a1 != a0 || m1 != m0 {
				t.Errorf("%s %s with %s changed state: %d audit entries, %d messages added (%d %s)", op.method, op.path, body, a1-a0, m1-m0, status, raw)
			}
		}
	}
	if sent < 100 {
		t.Fatalf("only %d bodies sent: did api/openapi.json lose its schemas?", sent)
	}
}
