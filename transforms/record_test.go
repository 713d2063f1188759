package transforms

import (
	"net/netip"
	"reflect"
	"testing"
	"unsafe"
)

// TestRecordHoldsNoRawField: the anonymized record has no field for what
// the policy drops, so no encoder can write one by mistake; Raw has them.
func TestRecordHoldsNoRawField(t *testing.T) {
	raw := []string{"Client", "Ident", "User", "XFF", "RawPath", "RawQuery", "Referer", "UserAgent"}
	rec, rawType := reflect.TypeFor[Record](), reflect.TypeFor[Raw]()
	for _, name := range raw {
		if _, ok := rec.FieldByName(name); ok {
			t.Errorf("Record has the raw field %s", name)
		}
		if _, ok := rawType.FieldByName(name); !ok {
			t.Errorf("Raw lacks %s", name)
		}
	}
	for i := range rec.NumField() {
		if f := rec.Field(i); f.Type == reflect.TypeFor[netip.Addr]() {
			t.Errorf("Record has a full address field %s", f.Name)
		}
	}
}

// TestCloneIntoCopiesEveryField: every field of Record is either copied by
// CloneInto or named here as one it leaves out on purpose (the worker's
// buffers). A field added to Record without deciding fails this test.
func TestCloneIntoCopiesEveryField(t *testing.T) {
	// page is the statistics' view, taken before the record is held.
	notCopied := map[string]bool{"scratch": true, "tmp": true, "page": true}
	var r Record
	v := reflect.ValueOf(&r).Elem()
	typ := v.Type()
	for i := range typ.NumField() {
		f := v.Field(i)
		f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem() // unexported too
		setNonZero(t, typ.Field(i).Name, f)
	}
	c, _ := r.CloneInto(nil)
	cv := reflect.ValueOf(&c).Elem()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		got := reflect.NewAt(cv.Field(i).Type(), unsafe.Pointer(cv.Field(i).UnsafeAddr())).Elem()
		want := reflect.NewAt(v.Field(i).Type(), unsafe.Pointer(v.Field(i).UnsafeAddr())).Elem()
		copied := reflect.DeepEqual(got.Interface(), want.Interface())
		switch {
		case notCopied[name] && copied:
			t.Errorf("CloneInto copies %s, which is listed as left out", name)
		case !notCopied[name] && !copied:
			t.Errorf("CloneInto does not copy %s: copy it, or list it as left out on purpose", name)
		}
	}
}

func setNonZero(t *testing.T, name string, f reflect.Value) {
	switch f.Kind() {
	case reflect.Slice:
		if f.Type().Elem().Kind() == reflect.Uint8 {
			f.SetBytes([]byte("v-" + name))
			return
		}
	case reflect.String:
		f.SetString("v-" + name)
		return
	case reflect.Int, reflect.Int32, reflect.Int64:
		f.SetInt(7)
		return
	case reflect.Uint8, reflect.Uint32, reflect.Uint64:
		f.SetUint(7)
		return
	case reflect.Bool:
		f.SetBool(true)
		return
	case reflect.Ptr:
		f.Set(reflect.New(f.Type().Elem()))
		return
	case reflect.Struct:
		switch f.Interface().(type) {
		case netip.Addr:
			f.Set(reflect.ValueOf(netip.MustParseAddr("192.0.2.7")))
			return
		case netip.Prefix:
			f.Set(reflect.ValueOf(netip.MustParsePrefix("192.0.2.0/24")))
			return
		case clfCache:
			f.Set(reflect.ValueOf(clfCache{base: 7, ok: true}))
			return
		case candidates:
			f.Set(reflect.ValueOf(candidates{n: 1, list: [MaxCandidates]Candidate{{Off: 1, Len: 2, Class: ClassID}}}))
			return
		}
	}
	t.Fatalf("field %s: kind %s not handled by the test", name, f.Kind())
}
