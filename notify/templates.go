package notify

import (
	"fmt"
	"strings"
	"text/template"

	sls "github.com/secure-login-system/sls"
)

// text is one message in one language before rendering.
type text struct {
	subject string
	body    string
}

// catalogs holds the texts of every language, keyed by canonical tag. The
// texts live in texts_*.go, one file per language, so that a translator
// touches one file.
var catalogs = map[string]map[Kind]text{
	LangEnglish:   textsEN,
	LangSpanish:   textsES,
	LangChinese:   textsZH,
	LangHungarian: textsHU,
}

type compiled struct {
	subject *template.Template
	body    *template.Template
}

// parsed is built once from catalogs. A template that does not parse is a
// bug in this package, caught by the tests, hence the panic.
var parsed = func() map[string]map[Kind]compiled {
	out := make(map[string]map[Kind]compiled, len(catalogs))
	for lang, texts := range catalogs {
		funcs := template.FuncMap{
			"digits": spellDigits,
			"device": func(d string) string { return deviceName(d, lang) },
		}
		out[lang] = make(map[Kind]compiled, len(texts))
		for k, t := range texts {
			name := lang + "/" + string(k)
			out[lang][k] = compiled{
				subject: template.Must(template.New(name + "/subject").Option("missingkey=error").Funcs(funcs).Parse(t.subject)),
				body:    template.Must(template.New(name + "/body").Option("missingkey=error").Funcs(funcs).Parse(t.body)),
			}
		}
	}
	return out
}()

// HasTemplate reports whether lang (any form MatchLang accepts) has its own
// text for kind, without falling back to English.
func HasTemplate(kind Kind, lang string) bool {
	l, ok := MatchLang(lang)
	if !ok {
		return false
	}
	_, ok = parsed[l][kind]
	return ok
}

// TemplateLang returns the canonical language Render uses for kind and lang:
// lang itself when it has the text, English otherwise.
func TemplateLang(kind Kind, lang string) string {
	if l, ok := MatchLang(lang); ok {
		if _, ok := parsed[l][kind]; ok {
			return l
		}
	}
	return LangEnglish
}

// Render writes the subject and body of kind in lang, falling back to
// English when lang is unknown or has no text for kind. data must hold
// exactly the kind's Fields (all required, none extra); values are cleaned
// (one line, length-capped) before they are placed. The subject is for
// email and push; SMS and voice send the body only.
func Render(kind Kind, lang string, data map[string]string) (subject, body string, err error) {
	clean, err := cleanData(kind, data)
	if err != nil {
		return "", "", fmt.Errorf("notify: render %s: %w", kind, err)
	}
	l := TemplateLang(kind, lang)
	c, ok := parsed[l][kind]
	if !ok {
		return "", "", fmt.Errorf("notify: render %s: no template", kind)
	}
	var sb, bb strings.Builder
	if err := c.subject.Execute(&sb, clean); err != nil {
		return "", "", fmt.Errorf("notify: render %s subject: %w", kind, err)
	}
	if err := c.body.Execute(&bb, clean); err != nil {
		return "", "", fmt.Errorf("notify: render %s body: %w", kind, err)
	}
	subject, body = strings.TrimSpace(sb.String()), strings.TrimSpace(bb.String())
	if link, ok := clean[ReportURL]; ok {
		body += "\n\n" + reportLine(l) + " " + link
	}
	if strings.Contains(subject+body, "<no value>") {
		return "", "", fmt.Errorf("notify: render %s: unfilled placeholder", kind)
	}
	return subject, body, nil
}

// NewMessage renders kind for lang and returns a message ready to queue,
// with Lang set to the language actually used.
func NewMessage(id string, ch Channel, to string, kind Kind, lang string, data map[string]string) (Message, error) {
	subject, body, err := Render(kind, lang, data)
	if err != nil {
		return Message{}, err
	}
	m := Message{ID: id, Channel: ch, To: to, Subject: subject, Body: body, Lang: TemplateLang(kind, lang), Kind: kind}
	if err := m.Validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// spellDigits separates the characters of a code with ", " so that a speech
// engine reads "4, 8, 1" rather than "four hundred eighty-one", and pauses
// between them.
func spellDigits(code string) string {
	var b strings.Builder
	for i, r := range code {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteRune(r)
	}
	return b.String()
}

// deviceNames are the localised names of the device kinds, taken from the
// wording of the source articles.
var deviceNames = map[string]map[sls.DeviceKind]string{
	LangEnglish: {
		sls.KindDSCPlus: "Digital Security Card+", sls.KindIBKey: "IB Key",
		sls.KindCodeCard: "Security Code Card", sls.KindOnlineCard: "Online Security Code Card",
		sls.KindSMS: "SMS", sls.KindTempPasscode: "temporary passcode",
		sls.KindDSC: "Digital Security Card", sls.KindPlatinum: "Platinum token", sls.KindGold: "Gold token",
	},
	LangSpanish: {
		sls.KindDSCPlus: "Tarjeta de seguridad digital+", sls.KindIBKey: "IB Key",
		sls.KindCodeCard: "Tarjeta de códigos de seguridad", sls.KindOnlineCard: "Tarjeta de códigos de seguridad en línea",
		sls.KindSMS: "SMS", sls.KindTempPasscode: "código de acceso temporal",
		sls.KindDSC: "Tarjeta de seguridad digital", sls.KindPlatinum: "token Platinum", sls.KindGold: "token Gold",
	},
	LangChinese: {
		sls.KindDSCPlus: "数字安全卡+", sls.KindIBKey: "IB Key",
		sls.KindCodeCard: "安全码卡", sls.KindOnlineCard: "在线安全码卡",
		sls.KindSMS: "短信", sls.KindTempPasscode: "临时密码",
		sls.KindDSC: "数字安全卡", sls.KindPlatinum: "白金令牌", sls.KindGold: "黄金令牌",
	},
	LangHungarian: {
		sls.KindDSCPlus: "Digitális Biztonsági Kártya+", sls.KindIBKey: "IB Key",
		sls.KindCodeCard: "Biztonsági Kódkártya", sls.KindOnlineCard: "Online Biztonsági Kódkártya",
		sls.KindSMS: "SMS", sls.KindTempPasscode: "ideiglenes jelszó",
		sls.KindDSC: "Digitális Biztonsági Kártya", sls.KindPlatinum: "Platina", sls.KindGold: "Arany",
	},
}

func deviceName(d, lang string) string {
	if n, ok := deviceNames[lang][sls.DeviceKind(d)]; ok {
		return n
	}
	if n, ok := deviceNames[LangEnglish][sls.DeviceKind(d)]; ok {
		return n
	}
	return d
}
