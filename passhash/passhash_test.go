package passhash

import (
	"errors"
	"testing"
)

var fast = Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1} // tests only; Validate rejects it

func TestHashCheck(t *testing.T) {
	h, err := Hash([]byte("correct horse"), fast)
	if err != nil {
		t.Fatal(err)
	}
	ok, _, err := Check([]byte("correct horse"), h, fast)
	if err != nil || !ok {
		t.Fatalf("Check(right) = %v, %v", ok, err)
	}
	ok, _, err = Check([]byte("wrong"), h, fast)
	if err != nil || ok {
		t.Fatalf("Check(wrong) = %v, %v", ok, err)
	}
	_, rehash, _ := Check([]byte("correct horse"), h, Default)
	if !rehash {
		t.Error("weaker hash not flagged for rehash")
	}
}

func TestDefaultsMeetOWASP(t *testing.T) {
	if err := Default.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []Params{fast, {MemoryKiB: 19456, Iterations: 1, Parallelism: 1}, {MemoryKiB: 19456, Iterations: 2}} {
		if p.Validate() == nil {
			t.Errorf("Validate(%+v) accepted weak parameters", p)
		}
	}
}

func TestMalformed(t *testing.T) {
	for _, s := range []string{"", "$argon2id$", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5", "$argon2id$v=19$m=999999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$x=1$c2FsdHNhbHQ$a2V5"} {
		if _, _, err := Check([]byte("x"), s, fast); !errors.Is(err, ErrMalformed) {
			t.Errorf("Check(%q) err = %v", s, err)
		}
	}
}

func FuzzCheck(f *testing.F) {
	h, _ := Hash([]byte("pw"), fast)
	f.Add(h)
	f.Add("$argon2id$v=19$m=64,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, s string) {
		_, _, _ = Check([]byte("pw"), s, fast)
	})
}
