package policy

import (
	"fmt"
	"strings"
)

// Region is a return region; each has one return address (SPEC §6:
// "regional return addresses (US/Canada, Europe, Hong Kong, Australia,
// Japan) are configuration").
type Region string

// Regions.
const (
	RegionUSCanada  Region = "us_canada"
	RegionEurope    Region = "europe"
	RegionHongKong  Region = "hong_kong"
	RegionAustralia Region = "australia"
	RegionJapan     Region = "japan"
)

// Regions lists every return region.
var Regions = []Region{RegionUSCanada, RegionEurope, RegionHongKong, RegionAustralia, RegionJapan}

// Valid reports whether r is a known region.
func (r Region) Valid() bool {
	for _, k := range Regions {
		if k == r {
			return true
		}
	}
	return false
}

// defaultRegions sends each country's returns to the nearest of the five
// offices. The SPEC names only the regions; this table is a starting point
// that ReturnAddresses.Countries overrides, and countries not in it go to
// ReturnAddresses.Fallback.
var defaultRegions = func() map[string]Region {
	m := map[string]Region{}
	add := func(r Region, codes string) {
		for _, c := range strings.Fields(codes) {
			m[c] = r
		}
	}
	add(RegionUSCanada, "US CA PR VI GU AS MP UM")
	// EU, EEA, United Kingdom, Switzerland and the other European states.
	add(RegionEurope, "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "+
		"IS LI NO GB CH AD MC SM VA GI GG JE IM FO AX AL BA ME MK RS MD UA")
	add(RegionHongKong, "HK MO CN TW KR SG MY TH PH ID VN IN")
	add(RegionAustralia, "AU NZ")
	add(RegionJapan, "JP")
	return m
}()

// ReturnAddresses is the configuration of where devices are returned.
type ReturnAddresses struct {
	// Addresses holds the postal address (lines separated by "\n") of each
	// region's return desk.
	Addresses map[Region]string
	// Countries overrides the built-in region of a country (ISO 3166-1
	// alpha-2, upper case).
	Countries map[string]Region
	// Fallback is the region of countries that no table names; "" means
	// RegionUSCanada, where the brokerage is headquartered.
	Fallback Region
}

// Validate checks the configuration: known regions with non-empty
// addresses, valid country codes, a known fallback whose address is set.
func (c ReturnAddresses) Validate() error {
	for r, a := range c.Addresses {
		if !r.Valid() {
			return fmt.Errorf("policy: return address for unknown region %q", string(r))
		}
		if strings.TrimSpace(a) == "" {
			return fmt.Errorf("policy: return address for %s is empty", r)
		}
	}
	for code, r := range c.Countries {
		if n, ok := normCountry(code); !ok || n != code {
			return fmt.Errorf("policy: return region for %q: want an upper-case ISO 3166-1 alpha-2 code", code)
		}
		if !r.Valid() {
			return fmt.Errorf("policy: return region for %s: unknown region %q", code, string(r))
		}
	}
	fb := c.fallback()
	if !fb.Valid() {
		return fmt.Errorf("policy: unknown fallback return region %q", string(fb))
	}
	if strings.TrimSpace(c.Addresses[fb]) == "" {
		return fmt.Errorf("policy: no return address for the fallback region %s", fb)
	}
	return nil
}

func (c ReturnAddresses) fallback() Region {
	if c.Fallback == "" {
		return RegionUSCanada
	}
	return c.Fallback
}

// RegionFor returns the return region of a client resident in country
// (ISO 3166-1 alpha-2, any case).
func (c ReturnAddresses) RegionFor(country string) (Region, error) {
	code, ok := normCountry(country)
	if !ok {
		return "", fmt.Errorf("policy: country %q: want an ISO 3166-1 alpha-2 code", country)
	}
	if r, ok := c.Countries[code]; ok {
		return r, nil
	}
	if r, ok := defaultRegions[code]; ok {
		return r, nil
	}
	return c.fallback(), nil
}

// ReturnAddressFor returns the region and return address for a client
// resident in country. A region without a configured address is an error
// rather than a guess: a device sent to the wrong desk is a device lost.
func (c ReturnAddresses) ReturnAddressFor(country string) (Region, string, error) {
	r, err := c.RegionFor(country)
	if err != nil {
		return "", "", err
	}
	a := c.Addresses[r]
	if strings.TrimSpace(a) == "" {
		return r, "", fmt.Errorf("policy: no return address configured for region %s", r)
	}
	return r, a, nil
}
