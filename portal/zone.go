package portal

import (
	"fmt"
	"html/template"
	"regexp"
	"sync"
	"time"
	_ "time/tzdata" // the zones of the tz cookie, whatever the host has installed

	"github.com/secure-login-system/sls/notify"
)

// cookieTZ holds the browser's IANA time zone ("Europe/Budapest"), set by
// static/localtime.js so that the next pages are rendered in local time
// without any script. It is not secret and not HttpOnly: the script
// writes it. Anything that is not a zone Go knows is ignored (UTC).
const cookieTZ = "sls_tz"

var tzNameRE = regexp.MustCompile(`^[A-Za-z0-9_+\-/]{1,64}$`)

// zones caches the locations of zone names seen; the tz database bounds
// its size (a name that does not load is not stored).
var zones sync.Map

// loadZone is the location of an IANA zone name, or nil.
func loadZone(name string) *time.Location {
	if name == "" || !tzNameRE.MatchString(name) {
		return nil
	}
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil // "Local" would be the server's zone, not the client's
	}
	zones.Store(name, l)
	return l
}

// zone is the request's time zone: the browser's, from the cookie, else
// UTC, which the pages then name.
func (q *req) zone() *time.Location {
	if l := loadZone(q.cookie(cookieTZ)); l != nil {
		return l
	}
	return time.UTC
}

func (v *view) zone() *time.Location {
	if v.loc == nil {
		return time.UTC
	}
	return v.loc
}

// Time is t as a <time> element: date, time and zone name in the page's
// zone ("5 Dec 2026 19:15 CET"), with how far it is when that helps ("in
// 2 minutes"). localtime.js renders it again in the browser's zone when
// the server did not know it yet.
func (v *view) Time(t time.Time) template.HTML { return v.timeElement(t, false) }

// Clock is Time without the date (deadlines minutes away on the login
// screens).
func (v *view) Clock(t time.Time) template.HTML { return v.timeElement(t, true) }

// TimeText is Time as plain text (attributes such as aria-label).
func (v *view) TimeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return notify.FormatTime(t.In(v.zone()), v.Lang)
}

func (v *view) timeElement(t time.Time, clockOnly bool) template.HTML {
	if t.IsZero() {
		return ""
	}
	lt := t.In(v.zone())
	text := notify.FormatTime(lt, v.Lang)
	style := "datetime"
	if clockOnly {
		text, style = lt.Format("15:04 MST"), "clock"
	}
	rel := ""
	if r := v.relative(t); r != "" {
		rel = ` <span class="rel" data-wrap="` + template.HTMLEscapeString(v.T("time.rel")) + `">` +
			template.HTMLEscapeString(v.T("time.rel", r)) + `</span>`
	}
	return template.HTML(fmt.Sprintf(`<time datetime="%s" data-tz="%s" data-now="%s" data-format="%s">%s%s</time>`,
		t.UTC().Format(time.RFC3339), template.HTMLEscapeString(v.zone().String()), v.now.UTC().Format(time.RFC3339), style,
		template.HTMLEscapeString(text), rel))
}

// relative says how far t is from now within a day ("in 2 minutes", "3
// hours ago"); further away the date says enough, so it is empty.
func (v *view) relative(t time.Time) string {
	if v.now.IsZero() {
		return ""
	}
	d := t.Sub(v.now)
	past := d < 0
	if past {
		d = -d
	}
	d = d.Round(time.Minute)
	var key string
	var n int
	switch {
	case d >= 24*time.Hour:
		return ""
	case d < time.Minute:
		if past || d == 0 {
			return v.T("time.just_now")
		}
		return v.T("time.in_moment")
	case d < time.Hour:
		key, n = "minute", int(d/time.Minute)
	default:
		key, n = "hour", int((d+30*time.Minute)/time.Hour)
		if n == 24 {
			return ""
		}
	}
	if n != 1 {
		key += "s"
	}
	if past {
		return v.T("time."+key+"_ago", n)
	}
	return v.T("time.in_"+key, n)
}
