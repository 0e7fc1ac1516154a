package ocra

import (
	"encoding/hex"
	"fmt"
	"testing"
)

// Keys and PIN of RFC 6287 Appendix C.
var (
	key20 = mustHex("3132333435363738393031323334353637383930")
	key32 = mustHex("3132333435363738393031323334353637383930" +
		"313233343536373839303132")
	key64 = mustHex("3132333435363738393031323334353637383930" +
		"3132333435363738393031323334353637383930" +
		"3132333435363738393031323334353637383930" +
		"31323334")
	// PIN "1234" hashed with SHA-1.
	pinSHA1 = mustHex("7110eda4d09e062aa5e4a390b0a572ac0d2c0220")
)

// The timestamp of the T1M vectors: "132d0b6" minutes since the epoch.
const rfcMinutes = 0x132d0b6

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

type vector struct {
	in   Input
	want string
}

func runVectors(t *testing.T, suite string, key []byte, vs []vector) {
	t.Helper()
	s, err := ParseSuite(suite)
	if err != nil {
		t.Fatalf("ParseSuite(%q): %v", suite, err)
	}
	for _, v := range vs {
		got, err := s.Compute(key, v.in)
		if err != nil {
			t.Errorf("%s %+v: %v", suite, v.in, err)
			continue
		}
		if got != v.want {
			t.Errorf("%s %+v = %s, want %s", suite, v.in, got, v.want)
		}
		ok, err := s.Verify(key, v.in, v.want)
		if err != nil || !ok {
			t.Errorf("%s Verify(%s) = %v, %v", suite, v.want, ok, err)
		}
	}
}

func TestKeysAndPIN(t *testing.T) {
	if len(key20) != 20 || len(key32) != 32 || len(key64) != 64 {
		t.Fatalf("key sizes %d %d %d", len(key20), len(key32), len(key64))
	}
	s := MustParseSuite("OCRA-1:HOTP-SHA256-8:QN08-PSHA1")
	h, err := s.HashPIN("1234")
	if err != nil || hex.EncodeToString(h) != hex.EncodeToString(pinSHA1) {
		t.Fatalf("HashPIN(1234) = %x, %v", h, err)
	}
}

// RFC 6287 Appendix C.1: one-way challenge-response.
func TestRFCOneWay(t *testing.T) {
	runVectors(t, "OCRA-1:HOTP-SHA1-6:QN08", key20, []vector{
		{Input{Question: "00000000"}, "237653"},
		{Input{Question: "11111111"}, "243178"},
		{Input{Question: "22222222"}, "653583"},
		{Input{Question: "33333333"}, "740991"},
		{Input{Question: "44444444"}, "608993"},
		{Input{Question: "55555555"}, "388898"},
		{Input{Question: "66666666"}, "816933"},
		{Input{Question: "77777777"}, "224598"},
		{Input{Question: "88888888"}, "750600"},
		{Input{Question: "99999999"}, "294470"},
	})

	runVectors(t, "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", key32, []vector{
		{Input{Counter: 0, Question: "12345678", PINHash: pinSHA1}, "65347737"},
		{Input{Counter: 1, Question: "12345678", PINHash: pinSHA1}, "86775851"},
		{Input{Counter: 2, Question: "12345678", PINHash: pinSHA1}, "78192410"},
		{Input{Counter: 3, Question: "12345678", PINHash: pinSHA1}, "71565254"},
		{Input{Counter: 4, Question: "12345678", PINHash: pinSHA1}, "10104329"},
		{Input{Counter: 5, Question: "12345678", PINHash: pinSHA1}, "65983500"},
		{Input{Counter: 6, Question: "12345678", PINHash: pinSHA1}, "70069104"},
		{Input{Counter: 7, Question: "12345678", PINHash: pinSHA1}, "91771096"},
		{Input{Counter: 8, Question: "12345678", PINHash: pinSHA1}, "75011558"},
		{Input{Counter: 9, Question: "12345678", PINHash: pinSHA1}, "08522129"},
	})

	runVectors(t, "OCRA-1:HOTP-SHA256-8:QN08-PSHA1", key32, []vector{
		{Input{Question: "00000000", PINHash: pinSHA1}, "83238735"},
		{Input{Question: "11111111", PINHash: pinSHA1}, "01501458"},
		{Input{Question: "22222222", PINHash: pinSHA1}, "17957585"},
		{Input{Question: "33333333", PINHash: pinSHA1}, "86776967"},
		{Input{Question: "44444444", PINHash: pinSHA1}, "86807031"},
	})

	runVectors(t, "OCRA-1:HOTP-SHA512-8:C-QN08", key64, []vector{
		{Input{Counter: 0, Question: "00000000"}, "07016083"},
		{Input{Counter: 1, Question: "11111111"}, "63947962"},
		{Input{Counter: 2, Question: "22222222"}, "70123924"},
		{Input{Counter: 3, Question: "33333333"}, "25341727"},
		{Input{Counter: 4, Question: "44444444"}, "33203315"},
		{Input{Counter: 5, Question: "55555555"}, "34205738"},
		{Input{Counter: 6, Question: "66666666"}, "44343969"},
		{Input{Counter: 7, Question: "77777777"}, "51946085"},
		{Input{Counter: 8, Question: "88888888"}, "20403879"},
		{Input{Counter: 9, Question: "99999999"}, "31409299"},
	})

	runVectors(t, "OCRA-1:HOTP-SHA512-8:QN08-T1M", key64, []vector{
		{Input{Question: "00000000", Timestamp: rfcMinutes}, "95209754"},
		{Input{Question: "11111111", Timestamp: rfcMinutes}, "55907591"},
		{Input{Question: "22222222", Timestamp: rfcMinutes}, "22048402"},
		{Input{Question: "33333333", Timestamp: rfcMinutes}, "24218844"},
		{Input{Question: "44444444", Timestamp: rfcMinutes}, "36209546"},
	})
}

type mutualVector struct {
	first, second string
	want          string
}

func runMutual(t *testing.T, suite string, key []byte, pin []byte, vs []mutualVector) {
	t.Helper()
	s := MustParseSuite(suite)
	for _, v := range vs {
		in := Input{PINHash: pin}
		got, err := s.ComputeMutual(key, v.first, v.second, in)
		if err != nil {
			t.Errorf("%s %s%s: %v", suite, v.first, v.second, err)
			continue
		}
		if got != v.want {
			t.Errorf("%s %s%s = %s, want %s", suite, v.first, v.second, got, v.want)
		}
		ok, err := s.VerifyMutual(key, v.first, v.second, in, v.want)
		if err != nil || !ok {
			t.Errorf("%s VerifyMutual(%s) = %v, %v", suite, v.want, ok, err)
		}
		// The order of the challenges matters: swapping them is the other
		// side's response.
		if ok, _ := s.VerifyMutual(key, v.second, v.first, in, v.want); ok {
			t.Errorf("%s: swapped challenges verified", suite)
		}
	}
}

// RFC 6287 Appendix C.2: mutual challenge-response. The RFC lists the
// question as the concatenation; the first 8 characters are the first
// challenge.
func TestRFCMutual(t *testing.T) {
	// Server computation: client challenge first.
	runMutual(t, "OCRA-1:HOTP-SHA256-8:QA08", key32, nil, []mutualVector{
		{"CLI22220", "SRV11110", "28247970"},
		{"CLI22221", "SRV11111", "01984843"},
		{"CLI22222", "SRV11112", "65387857"},
		{"CLI22223", "SRV11113", "03351211"},
		{"CLI22224", "SRV11114", "83412541"},
	})
	// Client computation: server challenge first.
	runMutual(t, "OCRA-1:HOTP-SHA256-8:QA08", key32, nil, []mutualVector{
		{"SRV11110", "CLI22220", "15510767"},
		{"SRV11111", "CLI22221", "90175646"},
		{"SRV11112", "CLI22222", "33777207"},
		{"SRV11113", "CLI22223", "95285278"},
		{"SRV11114", "CLI22224", "28934924"},
	})
	runMutual(t, "OCRA-1:HOTP-SHA512-8:QA08", key64, nil, []mutualVector{
		{"CLI22220", "SRV11110", "79496648"},
		{"CLI22221", "SRV11111", "76831980"},
		{"CLI22222", "SRV11112", "12250499"},
		{"CLI22223", "SRV11113", "90856481"},
		{"CLI22224", "SRV11114", "12761449"},
	})
	runMutual(t, "OCRA-1:HOTP-SHA512-8:QA08-PSHA1", key64, pinSHA1, []mutualVector{
		{"SRV11110", "CLI22220", "18806276"},
		{"SRV11111", "CLI22221", "70020315"},
		{"SRV11112", "CLI22222", "01600026"},
		{"SRV11113", "CLI22223", "18951020"},
		{"SRV11114", "CLI22224", "32528969"},
	})
}

// RFC 6287 Appendix C.3: plain signature, without and with timestamp.
func TestRFCSignature(t *testing.T) {
	runVectors(t, "OCRA-1:HOTP-SHA256-8:QA08", key32, []vector{
		{Input{Question: "SIG10000"}, "53095496"},
		{Input{Question: "SIG11000"}, "04110475"},
		{Input{Question: "SIG12000"}, "31331128"},
		{Input{Question: "SIG13000"}, "76028668"},
		{Input{Question: "SIG14000"}, "46554205"},
	})
	runVectors(t, "OCRA-1:HOTP-SHA512-8:QA10-T1M", key64, []vector{
		{Input{Question: "SIG1000000", Timestamp: rfcMinutes}, "77537423"},
		{Input{Question: "SIG1100000", Timestamp: rfcMinutes}, "31970405"},
		{Input{Question: "SIG1200000", Timestamp: rfcMinutes}, "10235557"},
		{Input{Question: "SIG1300000", Timestamp: rfcMinutes}, "95213541"},
		{Input{Question: "SIG1400000", Timestamp: rfcMinutes}, "65360607"},
	})
}

// The RFC's T1M timestamp is a minute of 2008-03-25 (UTC); TimeSteps must
// give it back from a time.Time.
func TestTimeSteps(t *testing.T) {
	s := MustParseSuite("OCRA-1:HOTP-SHA512-8:QN08-T1M")
	at := unixMinute(rfcMinutes).Add(59_999_999_999) // last ns of the minute
	n, err := s.TimeSteps(at)
	if err != nil || n != rfcMinutes {
		t.Fatalf("TimeSteps(%v) = %d, %v; want %d", at, n, err, rfcMinutes)
	}
	if got := fmt.Sprint(at.UTC().Format("2006-01-02")); got != "2008-03-25" {
		t.Fatalf("date %s", got)
	}
	s30 := MustParseSuite("OCRA-1:HOTP-SHA1-6:QN08-T30S")
	if n, _ := s30.TimeSteps(unixMinute(1)); n != 2 {
		t.Fatalf("T30S steps at 60s = %d", n)
	}
	if _, err := MustParseSuite("OCRA-1:HOTP-SHA1-6:QN08").TimeSteps(at); err == nil {
		t.Fatal("TimeSteps without T: no error")
	}
	if _, err := MustParseSuite("OCRA-1:HOTP-SHA1-6:QN08-T0H").TimeSteps(at); err == nil {
		t.Fatal("TimeSteps with T0H: no error")
	}
	if _, err := s.TimeSteps(unixMinute(0).Add(-1)); err == nil {
		t.Fatal("TimeSteps before 1970: no error")
	}
}
