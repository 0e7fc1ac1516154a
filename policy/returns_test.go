package policy

import (
	"strings"
	"testing"
)

var testAddresses = ReturnAddresses{
	Addresses: map[Region]string{
		RegionUSCanada:  "Returns\n1 Main St\nGreenwich CT 06830\nUSA",
		RegionEurope:    "Returns\nDublin\nIreland",
		RegionHongKong:  "Returns\nCentral\nHong Kong",
		RegionAustralia: "Returns\nSydney NSW\nAustralia",
		RegionJapan:     "Returns\nTokyo\nJapan",
	},
}

func TestReturnAddressFor(t *testing.T) {
	if err := testAddresses.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		country string
		region  Region
	}{
		{"US", RegionUSCanada},
		{"ca", RegionUSCanada},
		{"PR", RegionUSCanada},
		{"DE", RegionEurope},
		{"GB", RegionEurope},
		{"CH", RegionEurope},
		{"NO", RegionEurope},
		{"HK", RegionHongKong},
		{"SG", RegionHongKong},
		{"AU", RegionAustralia},
		{"NZ", RegionAustralia},
		{"JP", RegionJapan},
		{"BR", RegionUSCanada}, // not in the table: fallback
		{"ZA", RegionUSCanada},
	} {
		r, addr, err := testAddresses.ReturnAddressFor(tc.country)
		if err != nil || r != tc.region || addr != testAddresses.Addresses[tc.region] {
			t.Errorf("ReturnAddressFor(%s) = %s, %q, %v; want %s", tc.country, r, addr, err, tc.region)
		}
	}

	custom := testAddresses
	custom.Countries = map[string]Region{"BR": RegionEurope, "SG": RegionAustralia}
	custom.Fallback = RegionEurope
	for c, want := range map[string]Region{"BR": RegionEurope, "SG": RegionAustralia, "ZA": RegionEurope, "US": RegionUSCanada} {
		if r, err := custom.RegionFor(c); err != nil || r != want {
			t.Errorf("custom RegionFor(%s) = %s, %v; want %s", c, r, err, want)
		}
	}

	for _, bad := range []string{"", "USA", "1A", "U"} {
		if _, _, err := testAddresses.ReturnAddressFor(bad); err == nil {
			t.Errorf("ReturnAddressFor(%q) accepted", bad)
		}
	}
	partial := ReturnAddresses{Addresses: map[Region]string{RegionUSCanada: "x"}}
	if _, _, err := partial.ReturnAddressFor("JP"); err == nil || !strings.Contains(err.Error(), "no return address configured for region japan") {
		t.Errorf("missing address: %v", err)
	}
}

func TestReturnAddressesValidate(t *testing.T) {
	for _, tc := range []struct {
		c   ReturnAddresses
		err string
	}{
		{ReturnAddresses{}, "fallback"},
		{ReturnAddresses{Addresses: map[Region]string{"mars": "x", RegionUSCanada: "y"}}, "unknown region"},
		{ReturnAddresses{Addresses: map[Region]string{RegionUSCanada: "  "}}, "empty"},
		{ReturnAddresses{Addresses: map[Region]string{RegionUSCanada: "y"}, Countries: map[string]Region{"br": RegionUSCanada}}, "upper-case"},
		{ReturnAddresses{Addresses: map[Region]string{RegionUSCanada: "y"}, Countries: map[string]Region{"BR": "south"}}, "unknown region"},
		{ReturnAddresses{Addresses: map[Region]string{RegionUSCanada: "y"}, Fallback: "moon"}, "unknown fallback"},
		{ReturnAddresses{Addresses: map[Region]string{RegionUSCanada: "y"}, Fallback: RegionJapan}, "fallback region japan"},
	} {
		if err := tc.c.Validate(); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.c, err, tc.err)
		}
	}
	for _, r := range Regions {
		if !r.Valid() {
			t.Errorf("%s invalid", r)
		}
	}
}
