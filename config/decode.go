package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/secure-login-system/sls/config/field"
)

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// decodeValue reads raw into v, strictly: an unknown field, a wrong type
// or an unreadable value is a problem at its path
// ("sftp.retention_days", "audit.streams[1].type"). Unlike encoding/json
// it goes on after a problem, so that one run reports every one of them;
// fields it could read are set.
func decodeValue(path string, raw json.RawMessage, v reflect.Value, errs *field.Errors) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" { // null is the default, whatever the type
		return
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
			errs.Addf(path, "%s", describe(err, v.Type()))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		before := len(*errs)
		decodeValue(path, raw, elem.Elem(), errs)
		if len(*errs) == before {
			v.Set(elem)
		}
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			errs.Addf(path, "must be an object")
			return
		}
		fields := jsonFields(v.Type())
		for _, key := range sortedKeys(obj) {
			i, ok := fields[key]
			if !ok {
				errs.Addf(field.Join(path, key), "unknown field (known: %s)", strings.Join(sortedKeys(fields), ", "))
				continue
			}
			decodeValue(field.Join(path, key), obj[key], v.Field(i), errs)
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			decodePlain(path, raw, v, errs)
			return
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			errs.Addf(path, "must be an object")
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(obj))
		for _, key := range sortedKeys(obj) {
			elem := reflect.New(v.Type().Elem()).Elem()
			decodeValue(field.Join(path, key), obj[key], elem, errs)
			m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
		}
		v.Set(m)
	case reflect.Slice:
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			errs.Addf(path, "must be a list")
			return
		}
		s := reflect.MakeSlice(v.Type(), len(list), len(list))
		for i, item := range list {
			decodeValue(fmt.Sprintf("%s[%d]", path, i), item, s.Index(i), errs)
		}
		v.Set(s)
	default:
		decodePlain(path, raw, v, errs)
	}
}

func decodePlain(path string, raw json.RawMessage, v reflect.Value, errs *field.Errors) {
	if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
		errs.Addf(path, "%s", describe(err, v.Type()))
	}
}

// describe turns a decoding error into what the field must be.
func describe(err error, t reflect.Type) string {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ) || errors.As(err, &syn):
		switch t.Kind() {
		case reflect.Bool:
			return "must be true or false"
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return "must be a whole number"
		case reflect.Float32, reflect.Float64:
			return "must be a number"
		case reflect.String:
			return "must be a string"
		}
		return "has the wrong type"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonFields maps the JSON names of t's fields to their indexes.
func jsonFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		if name := jsonName(t.Field(i)); name != "" {
			out[name] = i
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
