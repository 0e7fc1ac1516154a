package httpapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	sls "github.com/secure-login-system/sls"
)

// Required fields. A request field whose absence must not be read as
// its zero value ("no IP restrictions", "not damaged", "disabled") is
// tagged `required:"true"` next to its json tag; Decode then refuses a
// body that leaves it out or sets it to null, with 400 invalid_request
// naming the field. The zero value stays a valid answer when it is sent
// explicitly (`"ip_restrictions": []` clears the list on purpose). The
// tags follow the "required" lists of api/openapi.json, which
// server.TestSchemaBodiesChangeNothing holds the server to.

// requiredFields lists the JSON names of the fields of struct type t
// tagged required (embedded structs included), cached per type.
func requiredFields(t reflect.Type) []string {
	if v, ok := requiredCache.Load(t); ok {
		return v.([]string)
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			names = append(names, requiredFields(f.Type)...)
			continue
		}
		if f.Tag.Get("required") != "true" || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	requiredCache.Store(t, names)
	return names
}

var requiredCache sync.Map // reflect.Type -> []string

// checkRequired refuses raw, an object already decoded into v, when it
// leaves out a field of v tagged required or sends it as null.
func checkRequired(raw []byte, v any) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	names := requiredFields(t.Elem())
	if len(names) == 0 {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return sls.Errorf(sls.CodeInvalidRequest, "The body must be a JSON object.")
	}
	for _, name := range names {
		// encoding/json matches names case-insensitively, and the last of
		// several matching keys wins; so every matching key must be
		// non-null.
		found := false
		for k, v := range fields {
			if !strings.EqualFold(k, name) {
				continue
			}
			found = true
			if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
				found = false
				break
			}
		}
		if !found {
			return sls.Errorf(sls.CodeInvalidRequest, "The field %q is required.", name).WithDetail("field", name)
		}
	}
	return nil
}
