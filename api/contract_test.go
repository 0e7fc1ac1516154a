package api

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestDocumentValid loads the document as a client generator would and
// checks what typed clients need: a valid OpenAPI document, and for every
// operation a unique operationId, a described success (a schema, or no
// content) and its errors in the shared Error shape.
func TestDocumentValid(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("api/openapi.json is not a valid OpenAPI document: %v", err)
	}
	errSchema := doc.Components.Schemas["Error"]
	if errSchema == nil {
		t.Fatal("components/schemas/Error is missing")
	}
	ids := map[string]string{}
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			n++
			name := method + " " + path
			switch prev, dup := ids[op.OperationID]; {
			case op.OperationID == "":
				t.Errorf("%s has no operationId", name)
			case dup:
				t.Errorf("%s and %s share the operationId %q", prev, name, op.OperationID)
			default:
				ids[op.OperationID] = name
			}
			var success, failure int
			for status, ref := range op.Responses.Map() {
				code, err := strconv.Atoi(status)
				if err != nil {
					t.Errorf("%s: response %q: give each status, not a range or default", name, status)
					continue
				}
				resp := ref.Value
				switch {
				case code >= 200 && code < 300:
					if code == 204 {
						if len(resp.Content) > 0 {
							t.Errorf("%s: 204 with content", name)
						}
						success++
						continue
					}
					if len(resp.Content) == 0 {
						t.Errorf("%s: %d has no content", name, code)
						continue
					}
					for mt, c := range resp.Content {
						if strings.HasSuffix(mt, "json") && c.Schema == nil {
							t.Errorf("%s: %d %s has no schema", name, code, mt)
						}
					}
					success++
				case code >= 400:
					c := resp.Content.Get("application/json")
					if c == nil || c.Schema == nil || c.Schema.Value != errSchema.Value {
						t.Errorf("%s: %d is not the shared Error", name, code)
					}
					failure++
				}
			}
			if success == 0 {
				t.Errorf("%s: no success response", name)
			}
			if failure == 0 {
				t.Errorf("%s: no error response", name)
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d operations", n)
	}
	// camelCase verbs, as generators turn them into method names.
	var bad []string
	for id := range ids {
		if id == "" || !(id[0] >= 'a' && id[0] <= 'z') || strings.ContainsAny(id, "_- ./") {
			bad = append(bad, id)
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("operationIds not in camelCase: %v", bad)
	}
}
